"""The `_community_*` virtual tables, their schemas, and option errors as users see them."""

from __future__ import annotations

import json

import pytest
from pyspark.errors import PySparkException
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

import lakeflow_connect
from conftest import cli

FORMAT = "lakeflow_connect"

# The original's schemas, written out independently of the implementation.
METADATA_SCHEMA = StructType(
    [
        StructField("tableName", StringType(), False),
        StructField("primary_keys", ArrayType(StringType()), True),
        StructField("cursor_field", StringType(), True),
        StructField("ingestion_type", StringType(), True),
    ]
)
NAMESPACES_SCHEMA = StructType([StructField("namespace", ArrayType(StringType()), False)])
TABLES_SCHEMA = StructType(
    [
        StructField("namespace", ArrayType(StringType()), False),
        StructField("tableName", StringType(), False),
    ]
)


def virtual(spark, table: str, source: str = "example", **options: str):
    return (
        spark.read.format(FORMAT)
        .option("source", source)
        .option("tableName", table)
        .options(**options)
        .load()
    )


def test_metadata_lists_the_tables_in_the_order_given(spark):
    order = ["users", "metrics", "events", "orders", "products"]
    df = virtual(
        spark,
        "_community_table_metadata",
        tableNameList=json.dumps(order),
        tableConfigs=json.dumps({"orders": {"status": "paid"}, "events": {"limit": 5}}),
    )
    assert df.schema == METADATA_SCHEMA
    rows = [r.asDict() for r in df.collect()]
    assert [r["tableName"] for r in rows] == order
    # The CLI's table listing (and its metadata for the hidden metrics table) as reference.
    listed = {t["name"]: t for t in json.loads(cli("tables", "example", "--format", "json"))}
    for row in rows:
        if row["tableName"] not in listed:
            continue
        reference = listed[row["tableName"]]
        assert row["ingestion_type"] == reference["ingestion_type"]
        assert (row["primary_keys"] or []) == reference["primary_keys"]
        assert row["cursor_field"] == reference.get("cursor_field")
    metrics = rows[1]
    assert (metrics["primary_keys"], metrics["cursor_field"], metrics["ingestion_type"]) == (
        ["metric_id"],
        "observed_at",
        "cdc",
    )
    assert rows[2]["primary_keys"] is None  # events: append, no keys


def test_metadata_table_checks_each_tables_options(spark):
    df = virtual(
        spark,
        "_community_table_metadata",
        tableNameList='["orders"]',
        tableConfigs='{"orders": {"colour": "red"}}',
    )
    with pytest.raises(Exception, match=r"unknown option `colour` for table `orders`"):
        df.collect()


def test_tables_of_a_flat_source(spark):
    df = virtual(spark, "_community_tables")
    assert df.schema == TABLES_SCHEMA
    rows = [(r.namespace, r.tableName) for r in df.collect()]
    listed = sorted(t["name"] for t in json.loads(cli("tables", "example", "--format", "json")))
    assert rows == [([], name) for name in listed]
    assert virtual(spark, "_community_namespaces").count() == 0
    with pytest.raises(Exception, match=r"source `example` has no namespaces"):
        virtual(spark, "_community_tables", namespace="[]").collect()


def test_namespaces_and_tables_of_a_nested_source(spark):
    df = virtual(spark, "_community_namespaces", source="memory")
    assert df.schema == NAMESPACES_SCHEMA
    assert [r.namespace for r in df.collect()] == [["shop"], ["warehouse"]]
    under = virtual(spark, "_community_namespaces", source="memory", namespacePrefix='["shop"]')
    assert [r.namespace for r in under.collect()] == [["shop", "eu"], ["shop", "us"]]
    tables = virtual(spark, "_community_tables", source="memory", namespace='["shop", "eu"]')
    assert [(r.namespace, r.tableName) for r in tables.collect()] == [(["shop", "eu"], "items")]
    root = virtual(spark, "_community_tables", source="memory", namespace="[]")
    assert [r.tableName for r in root.collect()] == ["items", "notes"]
    with pytest.raises(Exception, match=r"option `namespace`.*has namespaces"):
        virtual(spark, "_community_tables", source="memory").collect()


@pytest.mark.parametrize(
    "options, message",
    [
        (
            {"source": "example", "tableName": "_community_tablez"},
            "unknown table `_community_tablez`; available tables: _community_table_metadata, "
            "_community_namespaces, _community_tables",
        ),
        (
            {"source": "example", "tableName": "orders", "colour": "red"},
            "unknown option `colour`; known options: seed,",
        ),
        (
            {"source": "example", "tableName": "products", "max_records_per_batch": "5"},
            "unknown option `max_records_per_batch` for table `products`; known options: category",
        ),
        ({"tableName": "orders"}, "missing required option `source`"),
        ({"source": "nope", "tableName": "orders"}, "unknown source `nope`; available sources: "),
        (
            {"source": "example", "tableName": "orders", "page_size": "0"},
            "invalid value \"0\" for option `page_size`",
        ),
        ({"source": "example", "tableName": "orderz"}, "unknown table `orderz`"),
    ],
)
def test_bad_options_fail_the_load_with_the_rust_message(spark, options, message):
    with pytest.raises(PySparkException) as raised:
        spark.read.format(FORMAT).options(**options).load().collect()
    assert message in str(raised.value)


def test_errors_are_lakeflow_errors_in_python():
    with pytest.raises(lakeflow_connect.LakeflowError, match="unknown table `_community_x`"):
        lakeflow_connect.Connector({"source": "example", "tableName": "_community_x"})
    assert lakeflow_connect.VIRTUAL_TABLES == [
        "_community_table_metadata",
        "_community_namespaces",
        "_community_tables",
    ]


def test_a_registered_source_needs_no_source_option(spark):
    cls = lakeflow_connect.register(spark, "memory")
    try:
        df = spark.read.format(FORMAT).option("tableName", "notes").option("rows", "12").load()
        assert df.count() == 12
        # The `source` option still picks another connector.
        assert virtual(spark, "_community_tables").count() == 4
    finally:
        lakeflow_connect.register(spark)
    assert cls.default_source == "memory"
    with pytest.raises(lakeflow_connect.LakeflowError, match="unknown source `nope`"):
        lakeflow_connect.register(spark, "nope")


def test_namespaces_of_github_are_its_accounts_and_their_repositories(spark):
    # The GitHub connector against its simulator (`lakeflow simulate github`): the token's user
    # and organizations at the root, an account's repositories under it.
    import subprocess

    from conftest import cli_binary

    served = subprocess.Popen(
        [str(cli_binary()), "simulate", "github", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        base_url = served.stdout.readline().strip()
        github = {
            "source": "github",
            "token": "lakeflow-conformance-secret-7f3a",
            "base_url": base_url,
        }
        root = virtual(spark, "_community_namespaces", **github)
        assert sorted(r.namespace for r in root.collect()) == [
            ["acme-robotics"],
            ["mira-okafor"],
            ["open-lidar"],
            ["ros-rover-wg"],
        ]
        repos = virtual(
            spark, "_community_namespaces", namespacePrefix='["acme-robotics"]', **github
        ).collect()
        assert ["acme-robotics", "rover"] in [r.namespace for r in repos]
        tables = virtual(
            spark, "_community_tables", namespace='["acme-robotics", "rover"]', **github
        ).collect()
        names = [r.tableName for r in tables]
        assert "issues" in names and "repositories" not in names
    finally:
        served.kill()
        served.wait()
