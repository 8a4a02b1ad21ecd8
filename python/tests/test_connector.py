"""The native `Connector` without Spark: what executors receive, and how batches arrive."""

from __future__ import annotations

import json
import pickle

import pyarrow as pa
import pytest

from lakeflow_connect import Connector, LakeflowError, sources


def test_a_connector_pickles_as_its_options_and_reads_the_same():
    options = {"source": "example", "tablename": "users", "max_records_per_batch": "11"}
    original = Connector(options)
    copy = pickle.loads(pickle.dumps(original))
    assert (copy.source, copy.table_name, copy.is_delete_flow) == ("example", "users", False)
    assert copy.schema().equals(original.schema())
    first, end = original.stream_read("{}")
    again, same_end = copy.stream_read("{}")
    assert json.loads(end) == json.loads(same_end)
    assert pa.Table.from_batches(first).equals(pa.Table.from_batches(again))
    assert sum(b.num_rows for b in first) == 11


def test_batches_are_pyarrow_record_batches_in_the_declared_schema():
    options = {"tableName": "items", "rows": "20000", "max_records_per_batch": "15000"}
    connector = Connector({"source": "memory", **options})
    schema = connector.schema()
    batches = list(connector.read_batch(None))
    assert all(isinstance(b, pa.RecordBatch) and b.schema.equals(schema) for b in batches)
    # Each connector read (15000 and 5000 records) is converted in chunks of at most 8192 rows.
    assert [b.num_rows for b in batches] == [8192, 6808, 5000]
    assert schema.field("tags").type == pa.list_(pa.field("element", pa.string()))


def test_the_iterator_reports_a_failed_read_as_a_lakeflow_error():
    connector = Connector({"source": "example", "tableName": "nope"})
    iterator = connector.read_batch(None)
    with pytest.raises(LakeflowError, match="unknown table `nope`"):
        next(iterator)
    # Once failed, the iterator is finished.
    assert list(iterator) == []


def test_offsets_must_be_json_objects():
    connector = Connector({"source": "example", "tableName": "events"})
    with pytest.raises(LakeflowError, match="invalid offset for table `events`: malformed JSON"):
        connector.stream_read("{cursor")
    with pytest.raises(LakeflowError, match="expected a JSON object"):
        connector.stream_read("[]")


def test_sources_describe_their_options():
    by_name = {s["name"]: s for s in sources()}
    example = by_name["example"]
    assert "seed" in [o["name"] for o in example["connection_options"]]
    api_key = next(o for o in example["connection_options"] if o["name"] == "api_key")
    assert api_key["secret"] is True
    category = next(o for o in example["table_options"] if o["name"] == "category")
    assert category["tables"] == ["products"]


def test_secrets_stay_out_of_errors():
    with pytest.raises(LakeflowError) as raised:
        Connector({"source": "example", "tableName": "orders", "api_key": "sk-secret", "x": "1"})
    assert "sk-secret" not in str(raised.value)
    assert "unknown option `x`" in str(raised.value)
