"""A deterministic in-memory connector covering every ingestion type.

Written the way a user of the original framework writes a connector. The data
is a pure function of the option ``rows`` (default 7).
"""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from databricks.labs.community_connector.interface import LakeflowConnect, SupportsPartition
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    ByteType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    MapType,
    ShortType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
    VariantType,
)

BASE = datetime(2024, 1, 1, tzinfo=timezone.utc)
BASE_NTZ = datetime(2024, 1, 1)

ADDRESS = StructType(
    [
        StructField("street", StringType(), True),
        StructField("city", StringType(), True),
        StructField("zip", StringType(), True),
    ]
)

SCHEMAS = {
    "users": StructType(
        [
            StructField("id", LongType(), False),
            StructField("name", StringType(), True),
            StructField("address", ADDRESS, True),
            StructField("tags", ArrayType(StringType(), True), True),
            StructField("attrs", MapType(StringType(), StringType(), True), True),
            StructField("balance", DecimalType(12, 2), True),
            StructField("birth_date", DateType(), True),
            StructField("avatar", BinaryType(), True),
            StructField("created_at", TimestampType(), True),
            StructField("active", BooleanType(), True),
        ]
    ),
    "events": StructType(
        [
            StructField("seq", LongType(), False),
            StructField("kind", StringType(), True),
            StructField("payload", VariantType(), True),
            StructField("score", DoubleType(), True),
            StructField("ok", BooleanType(), True),
            StructField("at", TimestampNTZType(), True),
        ]
    ),
    "orders": StructType(
        [
            StructField("id", LongType(), False),
            StructField("status", StringType(), True),
            StructField("amount", DecimalType(10, 2), True),
            StructField(
                "items",
                ArrayType(
                    StructType(
                        [
                            StructField("sku", StringType(), False),
                            StructField("qty", IntegerType(), True),
                        ]
                    ),
                    False,
                ),
                True,
            ),
            StructField("priority", ShortType(), True),
            StructField("flags", ByteType(), True),
            StructField("ratio", FloatType(), True),
            StructField("updated_at", TimestampType(), False),
        ]
    ),
    "accounts": StructType(
        [
            StructField("id", LongType(), False),
            StructField("owner", StringType(), True),
            StructField("limits", MapType(StringType(), LongType(), False), True),
            StructField("opened", DateType(), True),
            StructField("version", LongType(), False),
        ]
    ),
}

METADATA = {
    "users": {"primary_keys": ["id"], "ingestion_type": "snapshot"},
    "events": {"primary_keys": ["seq"], "cursor_field": "seq", "ingestion_type": "append"},
    "orders": {"primary_keys": ["id"], "cursor_field": "updated_at", "ingestion_type": "cdc"},
    "accounts": {
        "primary_keys": ["id"],
        "cursor_field": "version",
        "ingestion_type": "cdc_with_deletes",
    },
}

CITIES = ["Lyon", "Oslo", "Quito", "Perth"]


def users(n):
    out = []
    for i in range(1, n + 1):
        out.append(
            {
                "id": i,
                "name": None if i % 5 == 0 else f"user-{i}",
                "address": {"street": f"{i} Main St", "city": CITIES[i % 4], "zip": f"{10000 + i}"},
                "tags": [f"t{j}" for j in range(i % 3)],
                "attrs": {"tier": "gold" if i % 2 else "silver"},
                "balance": Decimal(i * 1000 + 25) / 100,
                "birth_date": date(1990, 1, 1) + timedelta(days=37 * i),
                "avatar": bytes([i % 256, 0, 255]),
                "created_at": BASE + timedelta(hours=i),
                "active": i % 2 == 1,
            }
        )
    return out


def events(n):
    return [
        {
            "seq": i,
            "kind": ["click", "view", "buy"][i % 3],
            "payload": {"n": i, "labels": ["a", "b"][: i % 3]},
            "score": i / 4,
            "ok": i % 4 != 0,
            "at": BASE_NTZ + timedelta(minutes=i),
        }
        for i in range(1, n + 1)
    ]


def orders(n):
    return [
        {
            "id": i,
            "status": ["new", "paid", "shipped"][i % 3],
            "amount": Decimal(f"{i * 3}.{i % 100:02d}"),
            "items": [{"sku": f"sku-{i}-{j}", "qty": j + 1} for j in range(1 + i % 2)],
            "priority": i % 7,
            "flags": i % 3,
            "ratio": 0.5 * i,
            "updated_at": BASE + timedelta(minutes=10 * i),
        }
        for i in range(1, n + 1)
    ]


def accounts(n):
    return [
        {
            "id": i,
            "owner": f"owner-{i}",
            "limits": {"daily": 100 * i, "monthly": 3000 * i},
            "opened": date(2020, 1, 1) + timedelta(days=i),
            "version": i,
        }
        for i in range(1, n + 1)
    ]


def account_deletes(n):
    # Every third account is deleted, at a version after all the upserts.
    return [{"id": i, "version": n + i} for i in range(1, n + 1) if i % 3 == 0]


class SampleSource(LakeflowConnect, SupportsPartition):
    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self.rows = int(options.get("rows", "7"))

    def list_tables(self) -> list[str]:
        return list(SCHEMAS)

    def _check(self, table_name):
        if table_name not in SCHEMAS:
            raise ValueError(f"Unknown table: {table_name}")

    def get_table_schema(self, table_name, table_options):
        self._check(table_name)
        return SCHEMAS[table_name]

    def read_table_metadata(self, table_name, table_options):
        self._check(table_name)
        return dict(METADATA[table_name])

    @staticmethod
    def _batch(table_options):
        return int(table_options.get("max_records_per_batch", "2"))

    def read_table(self, table_name, start_offset, table_options):
        self._check(table_name)
        n = self.rows
        if table_name == "users":
            return iter(users(n)), None
        if table_name == "events":
            return self._page(events(n), "seq", start_offset, table_options)
        if table_name == "orders":
            return self._page_ts(orders(n), start_offset, table_options)
        return self._page(accounts(n), "version", start_offset, table_options)

    def read_table_deletes(self, table_name, start_offset, table_options):
        self._check(table_name)
        if table_name != "accounts":
            raise ValueError(f"table {table_name} has no deletes")
        return self._page(account_deletes(self.rows), "version", start_offset, table_options)

    def _page(self, rows, cursor, start_offset, table_options):
        after = (start_offset or {}).get(cursor, 0)
        page = [r for r in rows if r[cursor] > after][: self._batch(table_options)]
        if not page:
            return iter([]), {cursor: after}
        return iter(page), {cursor: page[-1][cursor]}

    def _page_ts(self, rows, start_offset, table_options):
        after = (start_offset or {}).get("updated_at")
        after_ts = datetime.fromisoformat(after) if after else None
        page = [r for r in rows if after_ts is None or r["updated_at"] > after_ts]
        page = page[: self._batch(table_options)]
        if not page:
            return iter([]), start_offset
        return iter(page), {"updated_at": page[-1]["updated_at"].isoformat()}

    # SupportsPartition: users is split into 3 partitions by id; every other
    # table is one partition holding the whole table.
    def get_partitions(self, table_name, table_options):
        self._check(table_name)
        if table_name == "users":
            return [{"part": p, "of": 3} for p in range(3)]
        return [{"whole": table_name}]

    def read_partition(self, table_name, partition, table_options):
        self._check(table_name)
        if table_name == "users":
            return (r for r in users(self.rows) if r["id"] % partition["of"] == partition["part"])
        return iter({"events": events, "orders": orders, "accounts": accounts}[table_name](self.rows))
