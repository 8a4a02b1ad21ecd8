"""A connector that fails: `boom` raises after 3 records, `bad` has no schema."""

from databricks.labs.community_connector.interface import LakeflowConnect
from pyspark.sql.types import LongType, StructField, StructType


class RaisingSource(LakeflowConnect):
    def __init__(self, options):
        super().__init__(options)

    def list_tables(self):
        return ["boom", "bad"]

    def get_table_schema(self, table_name, table_options):
        if table_name == "bad":
            return {"bad": "schema"}[table_options["missing"]]  # raises KeyError
        return StructType([StructField("n", LongType(), False)])

    def read_table_metadata(self, table_name, table_options):
        return {"primary_keys": ["n"], "ingestion_type": "snapshot"}

    def read_table(self, table_name, start_offset, table_options):
        def rows():
            for n in range(1, 4):
                yield {"n": n}
            raise ValueError("boom at row 3")

        return rows(), None
