"""Lakeflow community connectors, compiled in Rust, as the PySpark data source ``lakeflow_connect``.

>>> from lakeflow_connect import register
>>> register(spark)                                     # doctest: +SKIP
>>> (spark.read.format("lakeflow_connect")              # doctest: +SKIP
...     .option("source", "example").option("tableName", "orders").load())
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from typing import List, Optional, Type, Union

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


def register(spark, source: Union[str, type, None] = None) -> Type[LakeflowDataSource]:
    """Registers the ``lakeflow_connect`` format with ``spark`` and returns the registered class.

    With ``source``, reads use that connector unless their options name another (the original's
    ``register(spark, "github")``); without it, every read names one with the ``source`` option.
    ``source`` may also be a connector class written for the original (a ``LakeflowConnect``
    subclass), as the original's ``register(spark, MyConnector)`` takes: it then runs through
    the ``python`` source, in child processes of this interpreter.
    """
    cls: Type[LakeflowDataSource] = LakeflowDataSource
    if isinstance(source, type):
        defaults = {
            "class": _class_spec(source),
            "python": sys.executable,
            "pythonpath": os.pathsep.join(p for p in sys.path if p),
        }
        cls = type(
            f"LakeflowDataSource_{source.__name__}",
            (LakeflowDataSource,),
            {
                "default_source": "python",
                "default_options": defaults,
                "__module__": LakeflowDataSource.__module__,
            },
        )
    elif source is not None:
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


def _class_spec(cls: type) -> str:
    """What the ``python`` source imports for ``cls``: ``module:Class``, or for a class defined
    in a script (``__main__``) the script's path."""
    if cls.__module__ != "__main__":
        return f"{cls.__module__}:{cls.__qualname__}"
    try:
        path = inspect.getsourcefile(cls)
    except TypeError:
        path = None
    if not path:
        raise LakeflowError(
            f"connector class `{cls.__qualname__}` is defined interactively: define it in a "
            "module or a .py file so that Spark's workers can import it"
        )
    return f"{path}:{cls.__qualname__}"
