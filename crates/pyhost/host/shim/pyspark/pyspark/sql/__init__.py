"""Stand-in ``pyspark.sql``: only ``types`` and ``Row``."""

from pyspark.sql import types
from pyspark.sql.types import Row

__all__ = ["types", "Row"]
