"""A connector that writes to stdout everywhere (print, fd 1, a child process)."""

import os
import subprocess
import sys

from databricks.labs.community_connector.interface import LakeflowConnect
from pyspark.sql.types import LongType, StructField, StructType


class NoisySource(LakeflowConnect):
    def __init__(self, options):
        super().__init__(options)
        print("noisy: hello from __init__")
        sys.stdout.write("noisy: sys.stdout.write\n")
        os.write(1, b"noisy: raw fd 1\n")
        subprocess.run([sys.executable, "-c", "print('noisy: child process')"], check=True)

    def list_tables(self):
        print("noisy: list_tables")
        return ["chatter"]

    def get_table_schema(self, table_name, table_options):
        print("noisy: schema", table_name)
        return StructType([StructField("n", LongType(), False)])

    def read_table_metadata(self, table_name, table_options):
        return {"primary_keys": ["n"], "ingestion_type": "snapshot"}

    def read_table(self, table_name, start_offset, table_options):
        print("noisy: read_table")

        def rows():
            for n in range(5):
                print(f"noisy: yielding {n}", flush=True)
                yield {"n": n}

        return rows(), None
