"""Namespace mixin (lakeflow-rs bundled version)."""

from __future__ import annotations

from abc import ABC, abstractmethod


class SupportsNamespaces(ABC):
    """A connector whose tables live under hierarchical namespaces (paths of
    string segments). Combine with ``LakeflowConnect``."""

    @abstractmethod
    def list_namespaces(self, prefix: list[str] | None = None) -> list[list[str]]:
        """The direct child namespaces of ``prefix`` (None or [] is the root),
        each as a full path."""

    @abstractmethod
    def list_tables_in_namespace(
        self, namespace: list[str] | None = None
    ) -> list[tuple[list[str], str]]:
        """``(namespace, table_name)`` pairs; None means every namespace, []
        the root."""
