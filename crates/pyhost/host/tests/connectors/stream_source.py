"""A SupportsPartitionedStream connector: table `ticks` is read as a
partitioned stream, table `plain` falls back to read_table."""

from databricks.labs.community_connector.interface import (
    LakeflowConnect,
    SupportsPartitionedStream,
)
from pyspark.sql.types import LongType, StringType, StructField, StructType

SCHEMA = StructType(
    [StructField("tick", LongType(), False), StructField("label", StringType(), True)]
)


def tick(i):
    return {"tick": i, "label": f"tick-{i}"}


class StreamSource(LakeflowConnect, SupportsPartitionedStream):
    def __init__(self, options):
        super().__init__(options)
        self.total = int(options.get("total", "10"))
        self.per_partition = int(options.get("per_partition", "4"))

    def list_tables(self):
        return ["ticks", "plain"]

    def _check(self, table_name):
        if table_name not in ("ticks", "plain"):
            raise ValueError(f"Unknown table: {table_name}")

    def get_table_schema(self, table_name, table_options):
        self._check(table_name)
        return SCHEMA

    def read_table_metadata(self, table_name, table_options):
        self._check(table_name)
        return {"primary_keys": ["tick"], "cursor_field": "tick", "ingestion_type": "append"}

    def read_table(self, table_name, start_offset, table_options):
        self._check(table_name)
        after = (start_offset or {}).get("tick", 0)
        end = min(self.total, after + 5)
        return (tick(i) for i in range(after + 1, end + 1)), {"tick": end}

    def is_partitioned(self, table_name):
        return table_name == "ticks"

    def latest_offset(self, table_name, table_options, start_offset=None):
        self._check(table_name)
        return {"tick": self.total}

    def get_partitions(self, table_name, table_options, start_offset=None, end_offset=None):
        self._check(table_name)
        lo = (start_offset or {}).get("tick", 0)
        hi = (end_offset or {}).get("tick", self.total)
        return [
            {"lo": a, "hi": min(a + self.per_partition, hi)}
            for a in range(lo, hi, self.per_partition)
        ]

    def read_partition(self, table_name, partition, table_options):
        self._check(table_name)
        return (tick(i) for i in range(partition["lo"] + 1, partition["hi"] + 1))
