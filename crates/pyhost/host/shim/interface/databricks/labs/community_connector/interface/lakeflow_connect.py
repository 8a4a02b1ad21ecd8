"""The ``LakeflowConnect`` base class (lakeflow-rs bundled version)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Iterator


class LakeflowConnect(ABC):
    """Base class of a source connector.

    A connector is constructed with its options (a dict of strings) and is
    asked for its tables, their schemas and metadata, and their records.
    """

    def __init__(self, options: dict[str, str]) -> None:
        """Keep nothing by default; subclasses read what they need from ``options``."""

    @abstractmethod
    def list_tables(self) -> list[str]:
        """Names of the tables this connector can read."""

    @abstractmethod
    def get_table_schema(self, table_name: str, table_options: dict[str, str]) -> Any:
        """The table's schema as a ``pyspark.sql.types.StructType``."""

    @abstractmethod
    def read_table_metadata(self, table_name: str, table_options: dict[str, str]) -> dict:
        """A dict with ``primary_keys``, ``cursor_field`` and ``ingestion_type``
        (one of ``snapshot``, ``cdc``, ``cdc_with_deletes``, ``append``)."""

    @abstractmethod
    def read_table(
        self, table_name: str, start_offset: dict, table_options: dict[str, str]
    ) -> tuple[Iterator[dict], dict]:
        """Return ``(records, end_offset)``.

        ``start_offset`` is None only on the very first call. The caller passes
        the returned offset back as the next ``start_offset`` and stops once the
        returned offset equals the one it passed (a snapshot may return None).
        Records are JSON-compatible dicts, not converted to the schema.
        """

    def read_table_deletes(
        self, table_name: str, start_offset: dict, table_options: dict[str, str]
    ) -> tuple[Iterator[dict], dict]:
        """Deleted records (keys and cursor at least), same offset protocol as
        ``read_table``. Needed only by ``cdc_with_deletes`` tables."""
        raise NotImplementedError(
            "read_table_deletes() is required for tables whose ingestion_type is "
            "'cdc_with_deletes'"
        )
