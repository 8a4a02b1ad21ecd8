"""A directory connector whose import fails."""

import a_module_that_does_not_exist  # noqa: F401

from databricks.labs.community_connector.interface import LakeflowConnect


class BrokenImport(LakeflowConnect):
    def list_tables(self):
        return []
