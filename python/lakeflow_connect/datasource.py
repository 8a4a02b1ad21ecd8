"""The ``lakeflow_connect`` PySpark data source.

The classes here only adapt PySpark's data source API to the native ``Connector``: options are
parsed, connectors built, records read and converted to Arrow in Rust, and the resulting
``pyarrow.RecordBatch`` objects go to Spark as they are. Offsets travel as JSON text.

Where the code runs:

- ``LakeflowDataSource.__init__`` and ``schema`` run on the driver and build the connector, so a
  bad option, an unknown source or table fails the ``load()`` call with the connector's message.
- Batch reads: ``partitions`` runs on the driver; each ``read`` runs on an executor, which rebuilds
  the connector from the options (a ``Connector`` pickles as its options).
- The simple stream reader runs on the driver, in the process that lives as long as the query,
  so one connector (and its construction time, which bounds every read) serves the whole run.
- The partitioned stream reader plans on the driver and reads each partition on an executor.
"""

from __future__ import annotations

import json
from typing import Dict, Iterator, Optional, Sequence

import pyarrow as pa
from pyspark.sql.datasource import (
    DataSource,
    DataSourceReader,
    DataSourceStreamReader,
    InputPartition,
    SimpleDataSourceStreamReader,
)
from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema
from pyspark.sql.streaming.datasource import (
    ReadAllAvailable,
    ReadLimit,
    SupportsTriggerAvailableNow,
)
from pyspark.sql.types import StructType

from lakeflow_connect._lakeflow import Connector, LakeflowError

FORMAT = "lakeflow_connect"


def _spark_schema(arrow_schema: pa.Schema) -> StructType:
    """The Spark schema of an Arrow schema the native module produced.

    Spark accepts Arrow batches from a data source only if their schema equals
    ``to_arrow_schema(schema, timezone="UTC")``; the native module shapes schemas for exactly that,
    and this check turns any remaining difference into a clear error at ``load()`` instead of a
    failed task.
    """
    schema = from_arrow_schema(arrow_schema, prefer_timestamp_ntz=False)
    round_trip = to_arrow_schema(schema, timezone="UTC")
    if not round_trip.equals(arrow_schema):
        raise LakeflowError(
            "the connector's Arrow schema does not survive Spark's type mapping: "
            f"{arrow_schema} became {round_trip}"
        )
    return schema


class LakeflowDataSource(DataSource):
    """Reads any registered Lakeflow connector (``format("lakeflow_connect")``).

    Options: ``source`` (the connector; optional when bound by ``register(spark, source)``), its
    connection options and table options, and the original's framework options ``tableName``,
    ``tableNameList``, ``tableConfigs``, ``isDeleteFlow``, ``namespace`` and ``namespacePrefix``.
    """

    #: The source used when the options name none; set by ``register(spark, source)``.
    default_source: Optional[str] = None
    #: Options of the default source (a Python connector's ``class``), under the read's own.
    default_options: Dict[str, str] = {}

    def __init__(self, options) -> None:
        super().__init__(options)
        given = dict(options)
        if self.default_options and not any(k.lower() == "source" for k in given):
            given = {**self.default_options, **given}
        self.connector = Connector(given, self.default_source)

    @classmethod
    def name(cls) -> str:
        return FORMAT

    def schema(self) -> StructType:
        return _spark_schema(self.connector.schema())

    def reader(self, schema: StructType) -> DataSourceReader:
        return LakeflowBatchReader(self.connector)

    def streamReader(self, schema: StructType) -> DataSourceStreamReader:
        if self.connector.supports_partitioned_stream():
            return LakeflowPartitionedStreamReader(self.connector)
        # PySpark falls back to simpleStreamReader when this raises PySparkNotImplementedError,
        # which the base class does.
        return super().streamReader(schema)

    def simpleStreamReader(self, schema: StructType) -> SimpleDataSourceStreamReader:
        if self.connector.is_virtual:
            raise LakeflowError(
                f"`{self.connector.table_name}` is a virtual table: read it with spark.read"
            )
        return LakeflowStreamReader(self.connector)


class LakeflowBatchReader(DataSourceReader):
    """One Spark partition per connector partition, or one reading the table until caught up."""

    def __init__(self, connector: Connector) -> None:
        self.connector = connector

    def partitions(self) -> Sequence[InputPartition]:
        return [InputPartition(p) for p in self.connector.batch_partitions()]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        return self.connector.read_batch(partition.value)


class LakeflowStreamReader(SimpleDataSourceStreamReader, SupportsTriggerAvailableNow):
    """Micro-batches of ``read_table`` (or ``read_table_deletes`` with ``isDeleteFlow=true``).

    Each micro-batch is one connector read from the previous end offset, so its size is the
    connector's ``max_records_per_batch``; the stream is caught up when a read ends where it
    started.
    """

    def __init__(self, connector: Connector) -> None:
        self.connector = connector

    def initialOffset(self) -> dict:
        # The original's initial offset; the native side reads `{}` as "from the beginning".
        return {}

    def read(self, start: dict):
        batches, end = self.connector.stream_read(json.dumps(start))
        # A list iterator, because PySpark copies the cached iterator (copy.copy) when it plans
        # the batch.
        return iter(batches), json.loads(end)

    def readBetweenOffsets(self, start: dict, end: dict) -> Iterator[pa.RecordBatch]:
        # Spark replays a planned micro-batch whose records it lost (a restart): as the batch was
        # made, one connector read from `start`. Never more, so a connector whose offsets are not
        # reproducible cannot deliver here rows of the micro-batches planned after `end`.
        return iter(self.connector.stream_read_between(json.dumps(start), json.dumps(end)))

    def prepareForTriggerAvailableNow(self) -> None:
        # Nothing to fix: the connector was built when the query started, and incremental reads
        # stop at its construction time, so reading until caught up reads what existed then.
        pass


class LakeflowPartitionedStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """Partitioned micro-batches for connectors with partitioned streams."""

    def __init__(self, connector: Connector) -> None:
        self.connector = connector
        self._target: Optional[dict] = None

    def initialOffset(self) -> dict:
        return {}

    def getDefaultReadLimit(self) -> ReadLimit:
        # Batch sizes are the connector's business (its table options), not the engine's.
        return ReadAllAvailable()

    def latestOffset(self, start: dict, limit: ReadLimit) -> dict:
        if not isinstance(limit, ReadAllAvailable):
            raise LakeflowError(
                f"the lakeflow_connect partitioned stream reader sizes micro-batches through "
                f"table options, not read limits; got {type(limit).__name__}"
            )
        if self._target is not None:
            return self._target
        return json.loads(self.connector.latest_offset())

    def prepareForTriggerAvailableNow(self) -> None:
        # Trigger.AvailableNow reads up to what exists now: fix the target once.
        self._target = json.loads(self.connector.latest_offset())

    def partitions(self, start: dict, end: dict) -> Sequence[InputPartition]:
        return [
            InputPartition(p)
            for p in self.connector.stream_partitions(json.dumps(start), json.dumps(end))
        ]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        return self.connector.read_stream_partition(partition.value)
