"""A connector class written for the original, registered as the original does
(``register(spark, MyConnector)``), read through Spark: batch reads of every ingestion type,
deletes and partitions, checked against the `lakeflow` CLI's read of the same connector through
the ``python`` source."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import lakeflow_connect
from conftest import cli_rows, spark_rows

HOST = Path(__file__).resolve().parents[2] / "crates" / "pyhost" / "host"
CONNECTORS = HOST / "tests" / "connectors"
SAMPLE = f"class={CONNECTORS / 'sample_source.py'}"
KEYS = {"users": "id", "events": "seq", "orders": "id", "accounts": "id"}


@pytest.fixture
def sample_source(spark):
    """`SampleSource` imported as a user would (its module on sys.path; the original's interface
    package is not installed here, so our stand-in is), registered, and unregistered after."""
    added = [str(CONNECTORS), str(HOST / "shim" / "interface")]
    sys.path[:0] = added
    try:
        from sample_source import SampleSource

        lakeflow_connect.register(spark, SampleSource)
        yield SampleSource
    finally:
        lakeflow_connect.register(spark)
        for path in added:
            sys.path.remove(path)


def by_key(rows, key):
    return sorted(rows, key=lambda r: r[key])


def spark_side(table: str, row: dict) -> dict:
    """Spark's row in the CLI's notation: maps as objects, binary as hex."""
    for column in {"users": ["attrs"], "accounts": ["limits"]}.get(table, []):
        if row.get(column) is not None:
            row[column] = dict(row[column])
    if isinstance(row.get("avatar"), bytes):
        row["avatar"] = row["avatar"].hex()
    return row


def cli_side(table: str, row: dict) -> dict:
    """The CLI prints a TIMESTAMP_NTZ without a zone; Spark's is read as UTC by `canon`."""
    if table == "events" and row.get("at"):
        row["at"] += "Z"
    return row


@pytest.mark.parametrize("table", ["users", "events", "orders", "accounts"])
def test_a_registered_class_reads_like_the_cli(spark, sample_source, table):
    df = spark.read.format("lakeflow_connect").option("tableName", table).load()
    expected = [cli_side(table, row) for row in cli_rows("python", table, SAMPLE)]
    assert len(expected) == 7
    actual = [spark_side(table, row) for row in spark_rows(df)]
    assert by_key(actual, KEYS[table]) == by_key(expected, KEYS[table])


def test_deletes_and_partitions_of_a_registered_class(spark, sample_source):
    deletes = (
        spark.read.format("lakeflow_connect")
        .option("tableName", "accounts")
        .option("isDeleteFlow", "true")
        .load()
    )
    assert sorted(r["id"] for r in deletes.collect()) == [3, 6]
    users = spark.read.format("lakeflow_connect").option("tableName", "users").load()
    # SupportsPartition: three partitions, the rows of all of them.
    assert users.rdd.getNumPartitions() == 3
    assert sorted(r["id"] for r in users.collect()) == list(range(1, 8))


def test_an_exception_in_a_registered_class_names_connector_method_and_table(spark):
    sys.path[:0] = [str(CONNECTORS), str(HOST / "shim" / "interface")]
    try:
        from raising_source import RaisingSource

        lakeflow_connect.register(spark, RaisingSource)
        df = spark.read.format("lakeflow_connect").option("tableName", "boom").load()
        with pytest.raises(Exception) as failure:
            df.collect()
        assert "`read_table` of table `boom` raised ValueError: boom at row 3" in str(failure.value)
    finally:
        lakeflow_connect.register(spark)
        del sys.path[:2]


def test_a_registered_partitioned_stream_class_streams_every_row_once(spark):
    """`StreamSource` (SupportsPartitionedStream) read with Structured Streaming."""
    from test_stream import run_to_memory

    sys.path[:0] = [str(CONNECTORS), str(HOST / "shim" / "interface")]
    try:
        from stream_source import StreamSource

        lakeflow_connect.register(spark, StreamSource)
        df = (
            spark.readStream.format("lakeflow_connect")
            .option("tableName", "ticks")
            .option("total", "10")
            .option("per_partition", "4")
            .load()
        )
        table, batches = run_to_memory(df)
        assert sorted(r["tick"] for r in table.collect()) == list(range(1, 11))
        assert sum(batches) == 10
    finally:
        lakeflow_connect.register(spark)
        del sys.path[:2]
