"""A connector whose `misfit` records do not fit the schema it declares (`fine` does)."""

from databricks.labs.community_connector.interface import LakeflowConnect
from pyspark.sql.types import LongType, StringType, StructField, StructType


class MisfitSource(LakeflowConnect):
    def list_tables(self):
        return ["misfit", "fine"]

    def get_table_schema(self, table_name, table_options):
        return StructType(
            [StructField("id", LongType(), False), StructField("name", StringType(), True)]
        )

    def read_table_metadata(self, table_name, table_options):
        return {"primary_keys": ["id"], "ingestion_type": "snapshot"}

    def read_table(self, table_name, start_offset, table_options):
        if table_name == "fine":
            return iter([{"id": 1, "name": "ok"}, {"id": 2, "name": "also ok"}]), None
        return iter([{"id": 1, "name": "ok"}, {"id": "not-a-number", "name": "misfit"}]), None
