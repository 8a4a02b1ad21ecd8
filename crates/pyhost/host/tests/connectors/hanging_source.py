"""A connector whose read of `forever` never terminates after its first record (`fine`
ends)."""

import time

from databricks.labs.community_connector.interface import LakeflowConnect
from pyspark.sql.types import LongType, StructField, StructType


class HangingSource(LakeflowConnect):
    def list_tables(self):
        return ["forever", "fine"]

    def get_table_schema(self, table_name, table_options):
        return StructType([StructField("n", LongType(), False)])

    def read_table_metadata(self, table_name, table_options):
        return {"primary_keys": ["n"], "ingestion_type": "snapshot"}

    def read_table(self, table_name, start_offset, table_options):
        if table_name == "fine":
            return iter([{"n": 1}, {"n": 2}]), None

        def rows():
            yield {"n": 1}
            while True:
                time.sleep(0.05)

        return rows(), None
