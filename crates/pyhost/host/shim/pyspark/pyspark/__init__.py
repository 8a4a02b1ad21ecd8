"""Minimal pure-Python stand-in for the parts of pyspark that connectors use.

Bundled with lakeflow-rs and put at the END of ``sys.path`` by the host only
when a real pyspark is not importable. It provides ``pyspark.sql.types`` (the
schema types and ``Row``) and nothing else: no SparkSession, no DataFrames.
"""

__version__ = "0.0.0+lakeflow-rs-shim"
LAKEFLOW_RS_BUNDLED = True
