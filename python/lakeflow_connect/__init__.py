"""Lakeflow community connectors, compiled in Rust, as the PySpark data source ``lakeflow_connect``.

>>> from lakeflow_connect import register
>>> register(spark)                                     # doctest: +SKIP
>>> (spark.read.format("lakeflow_connect")              # doctest: +SKIP
...     .option("source", "example").option("tableName", "orders").load())
"""

from __future__ import annotations

import json
from typing import List, Optional, Type

from lakeflow_connect import _lakeflow
from lakeflow_connect._lakeflow import FRAMEWORK_OPTIONS, VIRTUAL_TABLES, Connector, LakeflowError
from lakeflow_connect.datasource import FORMAT, LakeflowDataSource
from lakeflow_connect.pipeline import ingest

__all__ = [
    "FORMAT",
    "FRAMEWORK_OPTIONS",
    "VIRTUAL_TABLES",
    "Connector",
    "LakeflowDataSource",
    "LakeflowError",
    "ingest",
    "register",
    "sources",
]


def sources() -> List[dict]:
    """The connectors in this build: name, description, connection and table options."""
    return json.loads(_lakeflow.sources_json())


def register(spark, source: Optional[str] = None) -> Type[LakeflowDataSource]:
    """Registers the ``lakeflow_connect`` format with ``spark`` and returns the registered class.

    With ``source``, reads use that connector unless their options name another (the original's
    ``register(spark, "github")``); without it, every read names one with the ``source`` option.
    """
    cls: Type[LakeflowDataSource] = LakeflowDataSource
    if source is not None:
        known = [s["name"] for s in sources()]
        if source not in known:
            raise LakeflowError(f"unknown source `{source}`; available sources: {', '.join(known)}")
        # A subclass carrying the default; PySpark pickles the class by value to its workers.
        cls = type(
            f"LakeflowDataSource_{source}",
            (LakeflowDataSource,),
            {"default_source": source, "__module__": LakeflowDataSource.__module__},
        )
    spark.dataSource.register(cls)
    return cls
