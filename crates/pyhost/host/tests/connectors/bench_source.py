"""A cheap in-memory connector for the throughput benchmark: `rows` records
(default 200000) of 10 fields, paged by `max_records_per_batch` (default 50000)."""

import json
import urllib.request

from databricks.labs.community_connector.interface import LakeflowConnect
from pyspark.sql.types import (
    BooleanType, DoubleType, LongType, StringType, StructField, StructType,
)

SCHEMA = StructType(
    [StructField("id", LongType(), False)]
    + [StructField(f"s{i}", StringType()) for i in range(4)]
    + [StructField("n1", LongType()), StructField("n2", LongType()),
       StructField("x", DoubleType()), StructField("b", BooleanType()),
       StructField("opt", StringType())]
)


PAGE = 100


class BenchSource(LakeflowConnect):
    def __init__(self, options):
        super().__init__(options)
        self.rows = int(options.get("rows", "200000"))
        # mode=api: records are decoded from JSON page bodies of 100, page by page as the
        # iteration goes, as a connector reading a REST API does (the bodies are prebuilt: no
        # network).
        self.api = options.get("mode") == "api"
        # mode=http: the same pages fetched from `url` (`<url>/items?page=N&per_page=100`,
        # served by the benchmark on 127.0.0.1), one request per page, as a REST connector does.
        self.url = options.get("url") if options.get("mode") == "http" else None
        self._pages = {}

    def list_tables(self):
        return ["bench"]

    def get_table_schema(self, table_name, table_options):
        return SCHEMA

    def read_table_metadata(self, table_name, table_options):
        return {"primary_keys": ["id"], "cursor_field": "id", "ingestion_type": "append"}

    def read_table(self, table_name, start_offset, table_options):
        after = (start_offset or {}).get("id", 0)
        end = min(self.rows, after + int(table_options.get("max_records_per_batch", "50000")))

        if self.url:
            def fetched():
                for first in range(after + 1, end + 1, PAGE):
                    page = (first - 1) // PAGE + 1
                    url = f"{self.url}/items?page={page}&per_page={PAGE}"
                    with urllib.request.urlopen(url) as response:
                        yield from json.loads(response.read())["data"]

            return fetched(), {"id": end}

        if self.api:
            # Pages of 100 records, each decoded from its JSON body when the iteration reaches
            # it, as a connector paging through a REST API does.
            def pages():
                for first in range(after + 1, end + 1, PAGE):
                    key = (first, min(end, first + PAGE - 1))
                    if key not in self._pages:
                        self._pages[key] = json.dumps(
                            {"data": [self._rec(i) for i in range(key[0], key[1] + 1)]}
                        )
                    yield from json.loads(self._pages[key])["data"]

            return pages(), {"id": end}

        def gen():
            for i in range(after + 1, end + 1):
                yield {
                    "id": i, "s0": "alpha", "s1": f"name-{i}", "s2": "2024-01-01T00:00:00Z",
                    "s3": "some longer descriptive text value", "n1": i * 7, "n2": -i,
                    "x": i * 0.5, "b": (i & 1) == 0, "opt": None,
                }

        return gen(), {"id": end}

    def corpus(self):
        """Every record, as the http mode's server serves them."""
        return json.dumps([self._rec(i) for i in range(1, self.rows + 1)])

    @staticmethod
    def _rec(i):
        return {
            "id": i, "s0": "alpha", "s1": f"name-{i}", "s2": "2024-01-01T00:00:00Z",
            "s3": "some longer descriptive text value", "n1": i * 7, "n2": -i,
            "x": i * 0.5, "b": (i & 1) == 0, "opt": None,
        }
