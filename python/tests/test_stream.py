"""Streaming reads with Trigger.AvailableNow: every row once, across micro-batches and restarts."""

from __future__ import annotations

import uuid

import pytest

from conftest import cli_rows, spark_rows

FORMAT = "lakeflow_connect"


def stream(spark, source: str, table: str, **options: str):
    return (
        spark.readStream.format(FORMAT)
        .option("source", source)
        .option("tableName", table)
        .options(**options)
        .load()
    )


def finished(query, timeout: int = 300) -> None:
    """Waits for an availableNow query; fails when it is still running after `timeout` seconds
    (awaitTermination returns False then) or ended with an error."""
    assert query.awaitTermination(timeout=timeout), f"the query did not finish in {timeout} s"
    assert query.exception() is None, query.exception()


def run_to_memory(df):
    """Runs `df` with availableNow into a fresh memory table; returns its rows and the rows of
    each micro-batch."""
    name = f"sink_{uuid.uuid4().hex[:8]}"
    query = df.writeStream.format("memory").queryName(name).trigger(availableNow=True).start()
    try:
        finished(query)
        batches = [p["numInputRows"] for p in query.recentProgress]
    finally:
        query.stop()
    return df.sparkSession.table(name), [n for n in batches if n]


def by_key(rows, key):
    return sorted(rows, key=lambda r: r[key])


def test_events_stream_in_several_micro_batches_each_row_once(spark):
    df = stream(spark, "example", "events", max_records_per_batch="20", limit="10")
    table, batches = run_to_memory(df)
    assert len(batches) >= 5, batches
    assert all(n <= 30 for n in batches), batches
    got = by_key(spark_rows(table), "event_id")
    assert got == by_key(cli_rows("example", "events"), "event_id")
    assert len({r["event_id"] for r in got}) == 100


def test_orders_upserts_and_deletes_stream_separately(spark):
    upserts, batches = run_to_memory(
        stream(spark, "example", "orders", max_records_per_batch="7")
    )
    assert len(batches) >= 9 and all(n <= 7 for n in batches), batches
    got = by_key(spark_rows(upserts), "order_id")
    assert got == by_key(cli_rows("example", "orders"), "order_id")
    assert len({r["order_id"] for r in got}) == 60

    deletes, batches = run_to_memory(
        stream(spark, "example", "orders", isDeleteFlow="true", max_records_per_batch="4")
    )
    assert batches == [4, 2]
    tombstones = by_key(spark_rows(deletes), "order_id")
    assert tombstones == by_key(cli_rows("example", "orders", deletes=True), "order_id")
    # A deleted order is not a live one.
    assert not {r["order_id"] for r in tombstones} & {r["order_id"] for r in got}


def test_a_restarted_query_resumes_from_its_checkpoint(spark, tmp_path):
    out, checkpoint = tmp_path / "out", tmp_path / "checkpoint"

    def run():
        query = (
            stream(spark, "example", "users", max_records_per_batch="9")
            .writeStream.format("parquet")
            .option("path", str(out))
            .option("checkpointLocation", str(checkpoint))
            .trigger(availableNow=True)
            .start()
        )
        try:
            finished(query)
            return sum(p["numInputRows"] for p in query.recentProgress)
        finally:
            query.stop()

    assert run() == 40
    # The second run starts from the checkpointed offset: the table is caught up.
    assert run() == 0
    got = by_key(spark_rows(spark.read.parquet(str(out))), "user_id")
    assert got == by_key(cli_rows("example", "users"), "user_id")


def test_partitioned_streams_read_in_one_micro_batch_of_partitions(spark):
    df = stream(spark, "memory", "items", rows="900", partition_rows="200")
    table, batches = run_to_memory(df)
    # The partitioned reader plans every partition up to the latest offset in one micro-batch
    # (the simple reader would take nine reads of 100).
    assert batches == [900]
    assert sorted(r.id for r in table.select("id").collect()) == list(range(900))


def test_tables_without_partitioned_streams_use_the_simple_reader(spark):
    table, batches = run_to_memory(stream(spark, "memory", "notes", rows="250"))
    assert batches == [100, 100, 50]
    assert table.count() == 250


@pytest.mark.parametrize(
    "table, message",
    [
        ("products", "is not supported for table `products`"),
        ("_community_tables", "is a virtual table"),
    ],
)
def test_what_cannot_be_streamed_says_so(spark, table, message):
    name = f"sink_{uuid.uuid4().hex[:8]}"
    query = None
    try:
        with pytest.raises(Exception) as raised:
            query = (
                stream(spark, "example", table)
                .writeStream.format("memory")
                .queryName(name)
                .trigger(availableNow=True)
                .start()
            )
            # Failing, the query raises here; finishing without an error would be a bug.
            assert query.awaitTermination(timeout=300), "the query did not finish in 300 s"
        assert message in str(raised.value)
    finally:
        if query is not None:
            query.stop()
