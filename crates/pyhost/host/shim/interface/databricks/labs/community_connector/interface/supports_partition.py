"""Partitioned-read mixins (lakeflow-rs bundled version)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterator, Sequence

from databricks.labs.community_connector.interface.lakeflow_connect import LakeflowConnect


def _declares_abstract(cls: type) -> bool:
    return any(getattr(v, "__isabstractmethod__", False) for v in vars(cls).values())


class SupportsPartition(ABC):
    """A connector whose table reads can be split into independent partitions.

    Combine with ``LakeflowConnect``: ``class C(LakeflowConnect, SupportsPartition)``.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Intermediate mixins (declaring abstract methods themselves) are exempt.
        if not _declares_abstract(cls) and not issubclass(cls, LakeflowConnect):
            raise TypeError(
                f"{cls.__name__} uses {SupportsPartition.__name__} but is not a "
                "LakeflowConnect subclass"
            )

    @abstractmethod
    def get_partitions(self, table_name: str, table_options: dict[str, str]) -> Sequence[dict]:
        """Partition descriptors (JSON-serialisable dicts) covering the table."""

    @abstractmethod
    def read_partition(
        self, table_name: str, partition: dict, table_options: dict[str, str]
    ) -> Iterator[dict]:
        """The records of one partition returned by ``get_partitions``."""


class SupportsPartitionedStream(SupportsPartition):
    """Partitioned reads of an offset-ordered stream (micro-batches)."""

    def is_partitioned(self, table_name: str) -> bool:
        """Whether the table is read as a partitioned stream (default True)."""
        return True

    @abstractmethod
    def latest_offset(
        self,
        table_name: str,
        table_options: dict[str, str],
        start_offset: dict | None = None,
    ) -> dict:
        """The newest offset available now (a dict of primitive values)."""

    @abstractmethod
    def get_partitions(
        self,
        table_name: str,
        table_options: dict[str, str],
        start_offset: dict | None = None,
        end_offset: dict | None = None,
    ) -> Sequence[dict]:
        """Partitions covering ``(start_offset, end_offset]``; both None for a
        whole-table batch read; empty when the two offsets are equal."""
