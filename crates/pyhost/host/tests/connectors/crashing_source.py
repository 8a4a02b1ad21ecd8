"""A connector whose process dies in the middle of a read (`crash`), and one whose exception
message carries its API key (`leak`)."""

import os
import sys

from databricks.labs.community_connector.interface import LakeflowConnect
from pyspark.sql.types import LongType, StructField, StructType


class CrashingSource(LakeflowConnect):
    def __init__(self, options):
        super().__init__(options)
        self.api_key = options.get("api_key", "")

    def list_tables(self):
        return ["crash", "leak"]

    def get_table_schema(self, table_name, table_options):
        if table_name == "leak":
            raise RuntimeError(f"the server refused key {self.api_key}")
        return StructType([StructField("n", LongType(), False)])

    def read_table_metadata(self, table_name, table_options):
        return {"primary_keys": ["n"], "ingestion_type": "snapshot"}

    def read_table(self, table_name, start_offset, table_options):
        def rows():
            yield {"n": 1}
            print(f"fatal: segfault while using {self.api_key}", file=sys.stderr, flush=True)
            os._exit(7)

        return rows(), None
