"""`ingest(spark, spec)`: the Spark Declarative Pipelines graph it defines, the queries behind
it, and a real `spark-pipelines run` of the flows open-source Spark can run offline."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Dict, List

import pytest
from pyspark.pipelines.flow import AutoCdcFlow, Flow
from pyspark.pipelines.graph_element_registry import (
    GraphElementRegistry,
    graph_element_registration_context,
)
from pyspark.pipelines.output import MaterializedView, Output, StreamingTable, TemporaryView

from conftest import cli_rows, spark_rows
from lakeflow_connect import LakeflowError, ingest
from lakeflow_connect.pipeline import DELETE_MARKER


class Recorder(GraphElementRegistry):
    """Keeps what a definitions file registers, as the pipeline server would receive it."""

    def __init__(self) -> None:
        self.outputs: Dict[str, Output] = {}
        self.flows: Dict[str, Flow] = {}
        self.cdc: List[AutoCdcFlow] = []

    def register_output(self, output: Output) -> None:
        assert output.name not in self.outputs, f"{output.name} defined twice"
        self.outputs[output.name] = output

    def register_flow(self, flow: Flow) -> None:
        assert flow.name not in self.flows, f"flow {flow.name} defined twice"
        self.flows[flow.name] = flow

    def register_auto_cdc_flow(self, flow: AutoCdcFlow) -> None:
        self.cdc.append(flow)

    def register_sql(self, sql_text, file_path) -> None:
        raise AssertionError("ingest defines no SQL")


SPEC = {
    "connection_name": "example",
    "objects": [
        {
            "table": {
                "source_table": "products",
                "destination_schema": "shop",
                "table_configuration": {"cluster_by": "category"},
            }
        },
        {"table": {"source_table": "events", "table_configuration": {"max_records_per_batch": 30}}},
        {
            "table": {
                "source_table": "users",
                "destination_table": "users_history",
                "table_configuration": {"scd_type": "SCD_TYPE_2"},
            }
        },
        {
            "table": {
                "source_table": "orders",
                "table_configuration": {
                    "sequence_by": "created_at",
                    "cluster_by": ["status", "currency"],
                    "max_records_per_batch": 25,
                },
            }
        },
        {
            "table": {
                "source_table": "users",
                "destination_table": "users_log",
                "table_configuration": {"scd_type": "APPEND_ONLY"},
            }
        },
    ],
}


@pytest.fixture(scope="module")
def graph(spark) -> Recorder:
    recorder = Recorder()
    with graph_element_registration_context(recorder):
        ingest(spark, SPEC)
    return recorder


def names(columns) -> List[str]:
    """Column names of the Column objects an Auto CDC flow holds."""
    return [str(c).removeprefix("Column<'").removesuffix("'>") for c in columns]


def test_each_table_gets_its_kind_of_destination(graph):
    kinds = {name: type(o) for name, o in graph.outputs.items()}
    assert {n: k for n, k in kinds.items() if k is not TemporaryView} == {
        "shop.products": MaterializedView,
        "events": StreamingTable,
        "users_history": StreamingTable,
        "orders": StreamingTable,
        "users_log": StreamingTable,
    }
    assert sorted(n for n, k in kinds.items() if k is TemporaryView) == [
        "source_events_append",
        "source_orders_changes",
        "source_orders_delete",
        "source_orders_upsert",
        "source_products_snapshot",
        "source_users_append",
        "source_users_upsert",
    ]
    assert graph.outputs["shop.products"].cluster_by == ["category"]
    assert graph.outputs["orders"].cluster_by == ["status", "currency"]
    assert graph.outputs["events"].cluster_by is None


def test_cdc_tables_get_auto_cdc_flows_with_keys_and_sequence(graph):
    flows = {f.target: f for f in graph.cdc}
    assert sorted(flows) == ["orders", "users_history"]
    users = flows["users_history"]
    assert (users.source, names(users.keys), names([users.sequence_by])) == (
        "source_users_upsert",
        ["user_id"],
        ["updated_at"],
    )
    assert users.stored_as_scd_type == 2 and users.apply_as_deletes is None
    orders = flows["orders"]
    # sequence_by from the spec overrides the connector's cursor.
    assert (orders.source, names(orders.keys), names([orders.sequence_by])) == (
        "source_orders_changes",
        ["order_id"],
        ["created_at"],
    )
    assert orders.stored_as_scd_type == 1
    assert names([orders.apply_as_deletes]) == [DELETE_MARKER]
    assert names(orders.except_column_list) == [DELETE_MARKER]


def test_append_tables_get_append_flows(graph):
    views = {n for n, o in graph.outputs.items() if isinstance(o, TemporaryView)}
    # Flows into real destinations (a view's own query is registered as a flow into the view).
    into_tables = {f.name: f.target for f in graph.flows.values() if f.target not in views}
    assert into_tables == {
        "source_events_append_flow": "events",
        "source_users_append_flow": "users_log",
        "shop.products": "shop.products",
    }


def run_stream(df) -> list:
    name = f"sink_{uuid.uuid4().hex[:8]}"
    query = df.writeStream.format("memory").queryName(name).trigger(availableNow=True).start()
    try:
        assert query.awaitTermination(timeout=300), "the query did not finish in 300 s"
        assert query.exception() is None, query.exception()
    finally:
        query.stop()
    return spark_rows(df.sparkSession.table(name))


def test_the_views_read_what_the_spec_asks(spark, graph):
    """Runs each query function of the graph against local Spark, resolving the views they
    read as temporary views, as the pipeline server would."""
    view = lambda name: graph.flows[name].func()  # noqa: E731

    def define(name):
        df = view(name)
        df.createOrReplaceTempView(name)
        return df

    snapshot = define("source_products_snapshot")
    assert not snapshot.isStreaming
    mv = graph.flows["shop.products"].func()
    assert sorted(spark_rows(mv), key=lambda r: r["product_id"]) == sorted(
        cli_rows("example", "products"), key=lambda r: r["product_id"]
    )

    events = define("source_events_append")
    assert events.isStreaming
    appended = run_stream(graph.flows["source_events_append_flow"].func())
    assert len(appended) == len({r["event_id"] for r in appended}) == 100

    upserts, deletes = define("source_orders_upsert"), define("source_orders_delete")
    assert upserts.isStreaming and deletes.isStreaming
    changes = run_stream(graph.flows["source_orders_changes"].func())
    marked = sorted(r["order_id"] for r in changes if r[DELETE_MARKER])
    assert marked == sorted(r["order_id"] for r in cli_rows("example", "orders", deletes=True))
    assert len(changes) - len(marked) == len(cli_rows("example", "orders")) == 60


def test_connection_names_resolve_like_the_cli(spark):
    from lakeflow_connect.pipeline import _reader_options

    # A source name with no connection defined is that source, as `lakeflow run` treats it.
    assert _reader_options("memory", None, None, None) == {"source": "memory"}
    # On Databricks anything else is a Unity Catalog connection, whose properties it adds.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABRICKS_RUNTIME_VERSION", "16.4")
        uc = _reader_options("my_uc_conn", None, None, None)
    assert uc == {"databricks.connection": "my_uc_conn"}
    assert _reader_options("x", {"source": "example", "seed": 3}, None, None) == {
        "source": "example",
        "seed": "3",
    }
    recorder = Recorder()
    with graph_element_registration_context(recorder):
        items = {"table": {"source_table": "items"}}
        ingest(spark, {"connection_name": "memory", "objects": [items]})
    assert list(recorder.outputs) == ["source_items_append", "items"]


def test_an_unknown_connection_says_where_it_was_looked_for(spark, tmp_path, monkeypatch):
    from lakeflow_connect.pipeline import _reader_options

    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    monkeypatch.delenv("LAKEFLOW_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    (spec_dir / "lakeflow.toml").write_text('[connections.shop]\nsource = "example"\n')
    with pytest.raises(LakeflowError) as raised:
        _reader_options("my_uc_conn", None, None, str(spec_dir))
    message = str(raised.value)
    assert message.startswith("connection `my_uc_conn` not found: "), message
    assert f"{spec_dir / 'lakeflow.toml'} defines shop" in message, message
    assert "sources: example, github, hubspot, python, stripe, zendesk, memory" in message, message
    assert "Unity Catalog" in message, message

    # No file anywhere: every place searched is named.
    with pytest.raises(LakeflowError) as raised:
        _reader_options("my_uc_conn", None, None, str(tmp_path))
    message = str(raised.value)
    assert "no connections file was found" in message, message
    assert str(tmp_path / "lakeflow.toml") in message, message
    assert str(tmp_path / "xdg" / "lakeflow" / "lakeflow.toml") in message, message

    # ingest raises it before defining anything.
    recorder = Recorder()
    with graph_element_registration_context(recorder):
        with pytest.raises(LakeflowError, match=r"connection `my_uc_conn` not found"):
            spec = {"connection_name": "my_uc_conn", "objects": [{"table": {"source_table": "x"}}]}
            ingest(spark, spec)
    assert not recorder.outputs and not recorder.flows


def test_snapshot_history_needs_databricks(spark):
    spec = {
        "connection_name": "example",
        "objects": [
            {
                "table": {
                    "source_table": "products",
                    "table_configuration": {"scd_type": "SCD_TYPE_2"},
                }
            }
        ],
    }
    with pytest.raises(LakeflowError, match=r"SCD_TYPE_2 needs a snapshot CDC flow"):
        with graph_element_registration_context(Recorder()):
            ingest(spark, spec)


def test_spec_errors_name_the_line(spark):
    message = r"<pipeline spec>:\d+: objects\[0\]\.table: unknown key `sorce_table`"
    with pytest.raises(LakeflowError, match=message):
        ingest(spark, {"connection_name": "example", "objects": [{"table": {"sorce_table": "x"}}]})


PIPELINE = """\
name: lakeflow_ingest
storage: {storage}
libraries:
  - glob:
      include: transformations/**
configuration:
  spark.sql.session.timeZone: UTC
"""

DEFINITIONS = """\
from lakeflow_connect import ingest, register

register(spark)
ingest(spark, "{spec}")
"""

SPEC_YAML = """\
connection_name: local_example
objects:
  - table:
      source_table: events
      table_configuration:
        max_records_per_batch: 40
  - table:
      source_table: products
      destination_table: catalogue
      table_configuration:
        category: books
        cluster_by: [category]
"""


def test_spark_pipelines_run_lands_append_and_snapshot_tables(spark, tmp_path):
    """A real pipeline run: `spark-pipelines run` with a definitions file calling `ingest` on a
    YAML spec whose connection is defined in a lakeflow.toml beside it. Auto CDC flows need
    tables with MERGE (Delta), which open-source Spark cannot fetch offline, so this run covers
    the append and snapshot flows; the CDC graph is checked above."""
    (tmp_path / "transformations").mkdir()
    storage = (tmp_path / "storage").as_uri()
    (tmp_path / "spark-pipeline.yml").write_text(PIPELINE.format(storage=storage))
    (tmp_path / "pipeline.yaml").write_text(SPEC_YAML)
    (tmp_path / "lakeflow.toml").write_text(
        '[connections.local_example]\nsource = "example"\nseed = "${LAKEFLOW_TEST_SEED}"\n'
    )
    (tmp_path / "transformations" / "ingest.py").write_text(
        DEFINITIONS.format(spec=tmp_path / "pipeline.yaml")
    )
    env = {
        **os.environ,
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "LAKEFLOW_TEST_SEED": "7",
    }
    cli = Path(sys.executable).parent / "spark-pipelines"
    done = subprocess.run(
        [str(cli), "run", "--spec", str(tmp_path / "spark-pipeline.yml")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert "Run is COMPLETED" in output, output[-4000:]
    if done.returncode != 0:
        # pyspark 4.3.0's pipelines client fails on the Python accumulator metrics a Python data
        # source reports after the run has completed; anything else is a real failure.
        assert "UNKNOWN_RESPONSE" in output and "__python_accumulator__" in output, output[-4000:]

    warehouse = tmp_path / "spark-warehouse"
    events = spark_rows(spark.read.parquet(str(warehouse / "events")))
    assert sorted(events, key=lambda r: r["event_id"]) == sorted(
        cli_rows("example", "events", "seed=7"), key=lambda r: r["event_id"]
    )
    books = spark_rows(spark.read.parquet(str(warehouse / "catalogue")))
    assert sorted(books, key=lambda r: r["product_id"]) == sorted(
        cli_rows("example", "products", "seed=7", "category=books"), key=lambda r: r["product_id"]
    )
    assert books and {r["category"] for r in books} == {"books"}
