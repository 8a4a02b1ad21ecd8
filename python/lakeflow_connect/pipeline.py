"""``ingest(spark, spec)``: a pipeline spec as Spark Declarative Pipelines datasets and flows.

It mirrors the original's orchestration, table by table:

============================  =====================================================================
ingestion type                what is defined
============================  =====================================================================
``cdc``                       a view streaming the table, a streaming table, an Auto CDC flow
                              (keys, ``sequence_by``, SCD type 1 or 2)
``cdc_with_deletes``          as ``cdc``, plus a view streaming the deletes feed
                              (``isDeleteFlow=true``); one Auto CDC flow applies the union of
                              both, the deletes as deletes
``snapshot``                  a view batch-reading the table and a snapshot CDC flow where the
                              pipelines module has one (Databricks); otherwise a materialized view
                              of the latest snapshot (SCD type 1 only)
``append`` (or APPEND_ONLY)   a view streaming the table, a streaming table and an append flow
============================  =====================================================================

Keys and the sequence column come from the spec when given, else from the connector's metadata
(read through the ``_community_table_metadata`` virtual table, as the original does);
``cluster_by`` goes to the destination table.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List, Mapping, Optional, Union

from lakeflow_connect import _lakeflow
from lakeflow_connect._lakeflow import LakeflowError
from lakeflow_connect.datasource import FORMAT

METADATA_TABLE = "_community_table_metadata"

#: The column marking deletes in the one change feed a cdc_with_deletes table is applied from.
DELETE_MARKER = "__lakeflow_is_delete"

#: The view name part for each ingestion type, as in the original.
_FLOW_TYPES = {
    "cdc": "upsert",
    "cdc_with_deletes": "upsert",
    "snapshot": "snapshot",
    "append": "append",
}

Spec = Union[Mapping[str, Any], str, os.PathLike]


def _load_spec(spec: Spec) -> tuple[dict, Optional[str]]:
    """The parsed spec (by the Rust spec parser, with its line-accurate errors) and the directory
    a connections file is looked for in."""
    if isinstance(spec, Mapping):
        # Indented, so an error's line number points into a readable rendering of the dict.
        text, origin, spec_dir = json.dumps(spec, indent=2), "<pipeline spec>", None
    elif isinstance(spec, os.PathLike) or (
        # One line ending like a spec file is a path; anything else is the spec's text.
        isinstance(spec, str)
        and "\n" not in spec
        and Path(spec).suffix in (".yaml", ".yml", ".json")
    ):
        path = Path(spec)
        text, origin, spec_dir = path.read_text(encoding="utf-8"), str(path), str(path.parent)
    elif isinstance(spec, str):
        text, origin, spec_dir = spec, "<pipeline spec>", None
    else:
        raise TypeError(f"spec must be a dict, YAML/JSON text or a path, got {type(spec).__name__}")
    return json.loads(_lakeflow.parse_pipeline_spec(text, origin)), spec_dir


def on_databricks() -> bool:
    """Whether this runs on a Databricks runtime (which sets ``DATABRICKS_RUNTIME_VERSION`` in
    the driver's environment), where a name is also a Unity Catalog connection."""
    return bool(os.environ.get("DATABRICKS_RUNTIME_VERSION"))


def _reader_options(
    connection_name: str,
    connection_options: Optional[Mapping[str, str]],
    connections_file: Optional[str],
    spec_dir: Optional[str],
) -> Dict[str, str]:
    """The data source options that select the source and carry its connection options.

    In order: ``connection_options`` when given; a connection of that name in a connections file
    (``lakeflow.toml``, found as the CLI finds it); a source of that name with no options; on
    Databricks, the name is taken for a Unity Catalog connection (``databricks.connection``),
    whose properties the runtime adds to the options (the original's only way). Anywhere else a
    name that resolves to none of these is an error saying where it was looked for.
    """
    if connection_options is not None:
        return {str(k): str(v) for k, v in connection_options.items()}
    resolved = _lakeflow.resolve_connection(connection_name, connections_file, spec_dir)
    if resolved is not None:
        return dict(resolved)
    sources = [s["name"] for s in json.loads(_lakeflow.sources_json())]
    if connection_name in sources:
        return {"source": connection_name}
    if on_databricks():
        return {"databricks.connection": connection_name}
    searched, found, defined = _lakeflow.connections_searched(connections_file, spec_dir)
    if found is not None:
        where = f"{found} defines {', '.join(defined) or 'no connections'}"
    else:
        where = "no connections file was found"
    raise LakeflowError(
        f"connection `{connection_name}` not found: {where} (looked for lakeflow.toml at: "
        f"{', '.join(searched) or 'nowhere: no spec directory, $LAKEFLOW_CONFIG or $HOME'}), "
        f"and it is not a source name (sources: {', '.join(sources)}). Define "
        f"[connections.{connection_name}] in a lakeflow.toml, pass connections_file= or "
        "connection_options=, or run on Databricks, where it names a Unity Catalog connection"
    )


def _pipelines_module() -> ModuleType:
    from pyspark import pipelines

    return pipelines


def _table_metadata(spark, options: Dict[str, str], objects: List[dict]) -> Dict[str, dict]:
    """Keys, cursor and ingestion type of every source table, through the metadata virtual
    table (one Spark read for all tables)."""
    tables = list(dict.fromkeys(o["source_table"] for o in objects))
    configs: Dict[str, Dict[str, str]] = {}
    for o in objects:
        configs.setdefault(o["source_table"], o["table_options"])
    rows = (
        spark.read.format(FORMAT)
        .options(**options)
        .option("tableName", METADATA_TABLE)
        .option("tableNameList", json.dumps(tables))
        .option("tableConfigs", json.dumps(configs))
        .load()
        .collect()
    )
    return {
        row["tableName"]: {
            "primary_keys": row["primary_keys"],
            "cursor_field": row["cursor_field"],
            "ingestion_type": row["ingestion_type"],
        }
        for row in rows
    }


def _first(module: ModuleType, *names: str):
    """The first of `names` the pipelines module has: OSS Spark, Databricks and older
    Databricks runtimes name some functions differently (`create_auto_cdc_flow` and
    `apply_changes`, `temporary_view` and `view`)."""
    for name in names:
        function = getattr(module, name, None)
        if function is not None:
            return function
    return None


class _Definer:
    """Defines the datasets and flows of one spec."""

    def __init__(self, spark, dp: ModuleType, options: Dict[str, str]) -> None:
        self.spark = spark
        self.dp = dp
        self.options = options
        self.views: set[str] = set()
        self.view = _first(dp, "temporary_view", "view")
        self.auto_cdc = _first(dp, "create_auto_cdc_flow", "apply_changes")
        self.snapshot_cdc = _first(
            dp, "create_auto_cdc_from_snapshot_flow", "apply_changes_from_snapshot"
        )

    def _view_name(self, source_table: str, flow_type: str) -> str:
        name = base = f"source_{source_table}_{flow_type}"
        n = 2
        while name in self.views:
            # The same source table listed twice (two destinations) needs two views.
            name, n = f"{base}_{n}", n + 1
        self.views.add(name)
        return name

    def _read_options(self, source_table: str, table_options: Dict[str, str], **extra: str):
        return {**self.options, **table_options, "tableName": source_table, **extra}

    def _define_view(self, name: str, options: Dict[str, str], streaming: bool) -> None:
        spark = self.spark

        def query():
            reader = spark.readStream if streaming else spark.read
            return reader.format(FORMAT).options(**options).load()

        query.__name__ = name
        self.view(name=name)(query)

    def table(self, obj: dict, meta: dict) -> None:
        source_table = obj["source_table"]
        destination = obj["destination"]
        ingestion_type = meta.get("ingestion_type") or "cdc"
        if obj["scd_type"] == "APPEND_ONLY":
            ingestion_type = "append"
        scd_type = 2 if obj["scd_type"] == "SCD_TYPE_2" else 1
        keys = obj["primary_keys"] or meta.get("primary_keys")
        sequence_by = obj["sequence_by"] or meta.get("cursor_field")
        cluster_by = obj["cluster_by"] or None
        view = self._view_name(source_table, _FLOW_TYPES.get(ingestion_type, "upsert"))
        options = self._read_options(source_table, obj["table_options"])

        if ingestion_type in ("cdc", "cdc_with_deletes"):
            if not keys or not sequence_by:
                raise LakeflowError(
                    f"table `{source_table}` ({ingestion_type}) needs primary keys and a "
                    f"sequence column: the connector gave keys={keys}, cursor={sequence_by}; "
                    "set primary_keys / sequence_by in its table_configuration"
                )
            self._define_view(view, options, streaming=True)
            self.dp.create_streaming_table(name=destination, cluster_by=cluster_by)
            if ingestion_type == "cdc":
                self.auto_cdc(
                    target=destination,
                    source=view,
                    keys=keys,
                    sequence_by=sequence_by,
                    stored_as_scd_type=scd_type,
                )
                return
            # The deletes feed, as in the original. Open-source Spark allows one Auto CDC flow
            # per target (the original used two), so one flow applies the union of both feeds,
            # deletes marked by a column that is left out of the target.
            delete_view = self._view_name(source_table, "delete")
            delete_options = self._read_options(
                source_table, obj["table_options"], isDeleteFlow="true"
            )
            self._define_view(delete_view, delete_options, streaming=True)
            changes = self._view_name(source_table, "changes")
            spark = self.spark

            def union():
                from pyspark.sql.functions import lit

                upserts = spark.readStream.table(view).withColumn(DELETE_MARKER, lit(False))
                deletes = spark.readStream.table(delete_view).withColumn(DELETE_MARKER, lit(True))
                return upserts.unionByName(deletes, allowMissingColumns=True)

            union.__name__ = changes
            self.view(name=changes)(union)
            self.auto_cdc(
                target=destination,
                source=changes,
                keys=keys,
                sequence_by=sequence_by,
                stored_as_scd_type=scd_type,
                apply_as_deletes=DELETE_MARKER,
                except_column_list=[DELETE_MARKER],
            )
        elif ingestion_type == "snapshot":
            self._snapshot(view, options, destination, keys, scd_type, cluster_by, source_table)
        elif ingestion_type == "append":
            self._define_view(view, options, streaming=True)
            self.dp.create_streaming_table(name=destination, cluster_by=cluster_by)
            spark = self.spark

            def append():
                return spark.readStream.table(view)

            append.__name__ = f"{view}_flow"
            self.dp.append_flow(target=destination, name=f"{view}_flow")(append)
        else:
            raise LakeflowError(
                f"table `{source_table}`: unknown ingestion type `{ingestion_type}`"
            )

    def _snapshot(self, view, options, destination, keys, scd_type, cluster_by, source_table):
        if self.snapshot_cdc is not None:
            # Databricks: apply each snapshot as changes (new, changed and vanished keys).
            if not keys:
                raise LakeflowError(
                    f"snapshot table `{source_table}` needs primary keys; set primary_keys in "
                    "its table_configuration"
                )
            self._define_view(view, options, streaming=False)
            self.dp.create_streaming_table(name=destination, cluster_by=cluster_by)
            self.snapshot_cdc(
                target=destination, source=view, keys=keys, stored_as_scd_type=scd_type
            )
            return
        if scd_type == 2:
            raise LakeflowError(
                f"snapshot table `{source_table}` with SCD_TYPE_2 needs a snapshot CDC flow "
                "(create_auto_cdc_from_snapshot_flow), which this pyspark.pipelines does not "
                "have (it is Databricks-only); use SCD_TYPE_1 or run on Databricks"
            )
        # Open-source Spark: the destination is a materialized view of the latest snapshot,
        # which is SCD type 1 of a snapshot table (rows whose key vanished disappear).
        self._define_view(view, options, streaming=False)
        spark = self.spark

        def snapshot():
            return spark.read.table(view)

        snapshot.__name__ = destination
        self.dp.materialized_view(name=destination, cluster_by=cluster_by)(snapshot)


def ingest(
    spark,
    spec: Spec,
    *,
    connection_options: Optional[Mapping[str, str]] = None,
    connections_file: Optional[str] = None,
    dp: Optional[ModuleType] = None,
) -> None:
    """Defines the datasets and flows that ingest every table of a pipeline spec.

    Call it from a pipeline's definitions file (``spark-pipelines run`` in open-source Spark, a
    Lakeflow Declarative Pipeline on Databricks), after ``register(spark)``.

    :param spec: the original's pipeline spec: a dict, YAML/JSON text, or the path of a file.
    :param connection_options: ``source`` and connection options, overriding what the spec's
        ``connection_name`` resolves to (a ``lakeflow.toml`` connection, a source of that name,
        or on Databricks a Unity Catalog connection).
    :param connections_file: the connections file to resolve ``connection_name`` in.
    :param dp: the pipelines module (default ``pyspark.pipelines``; pass ``dlt`` on older
        Databricks runtimes).
    """
    parsed, spec_dir = _load_spec(spec)
    dp = dp or _pipelines_module()
    options = _reader_options(
        parsed["connection_name"], connection_options, connections_file, spec_dir
    )
    objects = parsed["objects"]
    metadata = _table_metadata(spark, options, objects)
    definer = _Definer(spark, dp, options)
    for obj in objects:
        definer.table(obj, metadata.get(obj["source_table"], {}))
