"""A SupportsNamespaces connector: repositories under organizations, each with an `issues`
table."""

from databricks.labs.community_connector.interface import LakeflowConnect, SupportsNamespaces
from pyspark.sql.types import LongType, StructField, StructType

TREE = {"acme": ["rover", "lander"], "umbrella": ["hive"]}


class NamespacedSource(LakeflowConnect, SupportsNamespaces):
    def list_tables(self):
        return ["issues"]

    def get_table_schema(self, table_name, table_options):
        return StructType([StructField("id", LongType(), False)])

    def read_table_metadata(self, table_name, table_options):
        return {"primary_keys": ["id"], "ingestion_type": "snapshot"}

    def read_table(self, table_name, start_offset, table_options):
        return iter([{"id": 1}]), None

    def list_namespaces(self, prefix=None):
        if not prefix:
            return [[org] for org in TREE]
        return [[prefix[0], repo] for repo in TREE.get(prefix[0], [])]

    def list_tables_in_namespace(self, namespace=None):
        return [(namespace, "issues")]
