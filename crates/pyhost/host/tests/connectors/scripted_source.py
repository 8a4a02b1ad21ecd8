"""Serves one table, `items`, from a JSON script (option `script`: a file holding
{"ingestion_type", "upserts": [...], "deletes": [...]}), batch by batch from position offsets
{"pos": n}: the pipeline's model-based tests land it and compare the Delta table with their
reference models."""

import json

from databricks.labs.community_connector.interface import LakeflowConnect
from pyspark.sql.types import LongType, StringType, StructField, StructType

SCHEMA = StructType(
    [
        StructField("id", LongType(), False),
        StructField("seq", LongType(), True),
        StructField("value", StringType(), True),
        StructField(
            "meta",
            StructType([StructField("tag", StringType(), True), StructField("n", LongType(), True)]),
            True,
        ),
    ]
)


class ScriptedSource(LakeflowConnect):
    def __init__(self, options):
        super().__init__(options)
        with open(options["script"], encoding="utf-8") as f:
            self.script = json.load(f)

    def list_tables(self):
        return ["items"]

    def get_table_schema(self, table_name, table_options):
        return SCHEMA

    def read_table_metadata(self, table_name, table_options):
        return {
            "primary_keys": ["id"],
            "cursor_field": "seq",
            "ingestion_type": self.script["ingestion_type"],
        }

    def _serve(self, rows, start_offset, table_options):
        pos = (start_offset or {}).get("pos", 0)
        end = min(len(rows), pos + int(table_options.get("max_records_per_batch", "1000000")))
        if end == pos:
            return iter([]), start_offset
        return iter(rows[pos:end]), {"pos": end}

    def read_table(self, table_name, start_offset, table_options):
        return self._serve(self.script["upserts"], start_offset, table_options)

    def read_table_deletes(self, table_name, start_offset, table_options):
        return self._serve(self.script["deletes"], start_offset, table_options)
