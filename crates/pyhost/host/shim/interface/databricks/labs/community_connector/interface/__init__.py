"""Bundled stand-in for the original's connector interface package.

lakeflow-rs ships this package so that connectors written for the original
Lakeflow Community Connectors run unmodified when the original package is not
installed. The host only puts it on ``sys.path`` (at the end) when
``import databricks.labs.community_connector.interface`` fails, so an installed
original always wins.
"""

from databricks.labs.community_connector.interface.lakeflow_connect import LakeflowConnect
from databricks.labs.community_connector.interface.supports_namespaces import (
    SupportsNamespaces,
)
from databricks.labs.community_connector.interface.supports_partition import (
    SupportsPartition,
    SupportsPartitionedStream,
)

__all__ = [
    "LakeflowConnect",
    "SupportsNamespaces",
    "SupportsPartition",
    "SupportsPartitionedStream",
]

#: Marker the host reads to tell the bundled package from an installed one.
LAKEFLOW_RS_BUNDLED = True
