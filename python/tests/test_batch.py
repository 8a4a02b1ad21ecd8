"""Batch reads through Spark, checked against the `lakeflow` CLI's read of the same tables."""

from __future__ import annotations

import re
from typing import List

import pytest
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from conftest import cli_rows, cli_schema, spark_rows

FORMAT = "lakeflow_connect"
EXAMPLE_TABLES = ["products", "events", "users", "orders", "metrics"]
KEYS = {
    "products": "product_id",
    "events": "event_id",
    "users": "user_id",
    "orders": "order_id",
    "metrics": "metric_id",
}


def read(spark, table: str, **options: str):
    return (
        spark.read.format(FORMAT)
        .option("source", "example")
        .option("tableName", table)
        .options(**options)
        .load()
    )


def spark_type(field: dict) -> DataType:
    """The Spark type of an Arrow type as `lakeflow schema --format json` names it."""
    arrow = field["type"]
    simple = {
        "Int64": LongType(),
        "Utf8": StringType(),
        "Boolean": BooleanType(),
        "Float64": DoubleType(),
        "Date32": DateType(),
        "Timestamp(Microsecond, UTC)": TimestampType(),
    }
    if arrow in simple:
        return simple[arrow]
    decimal = re.fullmatch(r"Decimal128\((\d+), (\d+)\)", arrow)
    if decimal:
        return DecimalType(int(decimal[1]), int(decimal[2]))
    if arrow == "List":
        return ArrayType(spark_type(field["item"]), field["item"]["nullable"])
    if arrow == "Struct":
        return StructType([spark_field(f) for f in field["fields"]])
    raise AssertionError(f"no Spark type known for {arrow}")


def spark_field(field: dict) -> StructField:
    return StructField(field["name"], spark_type(field), field["nullable"])


def by_key(rows: List[dict], key: str) -> List[dict]:
    return sorted(rows, key=lambda r: r[key])


@pytest.mark.parametrize("table", EXAMPLE_TABLES)
def test_columns_have_the_types_of_the_connector_schema(spark, table):
    expected = StructType([spark_field(f) for f in cli_schema("example", table)])
    assert read(spark, table).schema == expected


@pytest.mark.parametrize("table", [t for t in EXAMPLE_TABLES if t != "metrics"])
def test_batch_read_returns_the_rows_the_cli_reads(spark, table):
    key = KEYS[table]
    got = by_key(spark_rows(read(spark, table)), key)
    expected = by_key(cli_rows("example", table), key)
    assert len(got) == len(expected) > 0
    assert got == expected


def test_metrics_rows_agree_with_the_cli(spark):
    # Metrics are generated around the moment the connector is built, and Spark and the CLI each
    # build their own: samples at the edges of the two-hour history can differ, the rest not.
    got = {r["metric_id"]: r for r in spark_rows(read(spark, "metrics"))}
    expected = {r["metric_id"]: r for r in cli_rows("example", "metrics")}
    common = got.keys() & expected.keys()
    assert len(common) >= 60
    assert abs(len(got) - len(expected)) <= 6
    for metric_id in common:
        assert got[metric_id] == expected[metric_id]


def test_connection_and_table_options_reach_the_connector(spark):
    df = read(spark, "products", seed="7", category="books")
    got = by_key(spark_rows(df), "product_id")
    expected = by_key(cli_rows("example", "products", "seed=7", "category=books"), "product_id")
    assert got == expected
    assert 0 < len(got) < 50
    assert {r["category"] for r in got} == {"books"}


def test_small_connector_batches_still_read_the_whole_table(spark):
    # A batch read follows offsets until caught up, whatever the connector's batch size.
    df = read(spark, "users", max_records_per_batch="7")
    assert df.count() == len(cli_rows("example", "users")) == 40


def test_the_delete_feed_reads_as_a_batch(spark):
    df = read(spark, "orders", isDeleteFlow="true")
    assert all(f.nullable for f in df.schema.fields)
    got = by_key(spark_rows(df), "order_id")
    assert got == by_key(cli_rows("example", "orders", deletes=True), "order_id")
    assert len(got) == 6


def test_one_spark_partition_per_connector_partition(spark):
    df = (
        spark.read.format(FORMAT)
        .option("source", "memory")
        .option("tableName", "items")
        .option("partition_rows", "300")
        .load()
    )
    assert df.rdd.getNumPartitions() == 4
    ids = [r.id for r in df.select("id").collect()]
    assert sorted(ids) == list(range(1000))
    # Each Spark partition holds one of the connector's ranges of 300 ids.
    from pyspark.sql import functions as F

    spans = sorted(
        (r["lo"], r["hi"])
        for r in df.groupBy(F.spark_partition_id())
        .agg(F.min("id").alias("lo"), F.max("id").alias("hi"))
        .collect()
    )
    assert spans == [(0, 299), (300, 599), (600, 899), (900, 999)]


def test_tables_without_partitions_read_in_one_spark_partition(spark):
    df = spark.read.format(FORMAT).option("source", "memory").option("tableName", "notes").load()
    assert df.rdd.getNumPartitions() == 1
    assert df.count() == 1000
