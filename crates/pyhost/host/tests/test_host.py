"""Tests of lakeflow_host.py, driven as a real subprocess over its JSON-lines protocol.

The host runs under ``$LAKEFLOW_TEST_PYTHON`` if set, else the interpreter
running pytest. Run: ``python3 -m pytest crates/pyhost/host/tests``.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import marshal
import math
import os
import select
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HOST_DIR = Path(__file__).resolve().parent.parent
HOST = HOST_DIR / "lakeflow_host.py"
CONNECTORS = Path(__file__).resolve().parent / "connectors"
PYTHON = os.environ.get("LAKEFLOW_TEST_PYTHON", sys.executable)
SAMPLE = str(CONNECTORS / "sample_source.py")


def _can_import(mod: str) -> bool:
    r = subprocess.run([PYTHON, "-c", f"import {mod}"], capture_output=True, cwd="/")
    return r.returncode == 0


HAS_PYSPARK = _can_import("pyspark.sql.types")


def _as_json(v):
    """A marshal-loaded value as the Rust side turns it into JSON: bytes as base64, tuples and
    sets as lists, non-finite floats as strings, keys as strings."""
    if isinstance(v, dict):
        return {k if isinstance(k, str) else json.dumps(k): _as_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_as_json(x) for x in v]
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


class HostProc:
    """A running host: send(request) -> answer dict."""

    def __init__(self, pythonpath: list[str] | None = None, cwd: str | None = None):
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        if pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(pythonpath)
        self.p = subprocess.Popen(
            [PYTHON, "-u", str(HOST)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd or "/",
        )

    def send_raw(self, line: bytes, timeout: float = 30.0) -> dict | None:
        self.p.stdin.write(line)
        self.p.stdin.flush()
        return self.read(timeout)

    def read(self, timeout: float = 30.0) -> dict | None:
        ready, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.p.stdout.readline()
        assert line.endswith(b"\n"), line
        answer = json.loads(line)
        chunk = answer.get("ok")
        if isinstance(chunk, dict) and "marshal" in chunk:
            # A chunk in marshal format: read it as the Rust side does.
            payload = self.p.stdout.read(chunk["marshal"])
            records = _as_json(marshal.loads(payload))
            answer = {"ok": {"records": records, "done": chunk["done"]}}
        return answer

    def send(self, op: str, timeout: float = 30.0, **args) -> dict | None:
        return self.send_raw((json.dumps({"op": op, **args}) + "\n").encode(), timeout)

    def ok(self, op: str, **args):
        a = self.send(op, **args)
        assert "ok" in a, a
        return a["ok"]

    def err(self, op: str, **args) -> dict:
        a = self.send(op, **args)
        assert "error" in a, a
        e = a["error"]
        # Connector exceptions carry a full traceback; host-detected ones at
        # least the formatted exception line.
        assert e["type"] in e["traceback"] and e["method"] is None or e["method"], e
        return e

    def drain(self, table, max_records=3, method="read_table", **args):
        """Open a stream and pull it to the end; returns (offset, records, chunk sizes)."""
        off = self.ok(method, table=table, **args)["offset"]
        recs, sizes = [], []
        while True:
            r = self.ok("next", max_records=max_records)
            recs += r["records"]
            sizes.append(len(r["records"]))
            if r["done"]:
                return off, recs, sizes

    def close(self) -> int:
        if self.p.poll() is None:
            self.p.stdin.close()
            try:
                return self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                return -9
        return self.p.returncode

    def stderr(self) -> str:
        return self.p.stderr.read().decode()


@pytest.fixture
def host():
    hs = []

    def make(spec=SAMPLE, options=None, pythonpath=None, cwd=None, expect_ok=True):
        h = HostProc(pythonpath, cwd)
        hs.append(h)
        a = h.send("init", connector=spec, options=options or {})
        if expect_ok:
            assert "ok" in a, a
            h.init = a["ok"]
        else:
            h.init = a
        return h

    yield make
    for h in hs:
        if h.p.poll() is None:
            h.p.kill()
            h.p.wait()
        for f in (h.p.stdin, h.p.stdout, h.p.stderr):
            try:
                f.close()
            except Exception:
                pass


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


# ------------------------------------------------------------------------------------
# init and SPEC forms
# ------------------------------------------------------------------------------------


def test_init_answer(host):
    h = host()
    info = h.init
    assert info["class"] == "sample_source.SampleSource"
    assert info["mixins"] == ["SupportsPartition"]
    assert info["interface"] == "bundled"
    assert info["pyspark"] == ("installed" if HAS_PYSPARK else "bundled")
    assert info["python"].count(".") == 2
    assert h.close() == 0


def test_spec_file_with_class(host):
    assert host(SAMPLE + ":SampleSource").init["class"] == "sample_source.SampleSource"


def test_spec_module_forms(host):
    h = host("sample_source", pythonpath=[str(CONNECTORS)])
    assert h.init["class"] == "sample_source.SampleSource"
    h = host("stream_source:StreamSource", pythonpath=[str(CONNECTORS)])
    assert h.init["class"] == "stream_source.StreamSource"
    assert h.init["mixins"] == ["SupportsPartition", "SupportsPartitionedStream"]


def test_spec_module_found_from_cwd(host):
    assert host("misfit_source", cwd=str(CONNECTORS)).init["class"] == "misfit_source.MisfitSource"


def test_spec_directory_layouts(host, tmp_path):
    # <dir>/<dir>.py with a relative import of a sibling module.
    write(
        tmp_path / "acme" / "acme.py",
        """
        from databricks.labs.community_connector.interface import LakeflowConnect
        from .helpers import TABLES

        class Acme(LakeflowConnect):
            def list_tables(self): return list(TABLES)
            def get_table_schema(self, t, o): raise NotImplementedError
            def read_table_metadata(self, t, o): return {}
            def read_table(self, t, s, o): return iter([]), None
        """,
    )
    write(tmp_path / "acme" / "helpers.py", "TABLES = ['a', 'b']\n")
    h = host(str(tmp_path / "acme"))
    assert h.init["class"] == "acme.acme.Acme"
    assert h.ok("list_tables") == ["a", "b"]
    h = host(str(tmp_path / "acme") + ":Acme")
    assert h.init["class"] == "acme.acme.Acme"
    # <dir>/__init__.py
    write(
        tmp_path / "pkgconn" / "__init__.py",
        """
        from databricks.labs.community_connector.interface import LakeflowConnect

        class Base(LakeflowConnect):  # abstract: skipped in favour of the concrete one
            pass

        class PkgConn(Base):
            def __init__(self, options): self.options = options
            def list_tables(self): return [self.options["t"]]
            def get_table_schema(self, t, o): raise NotImplementedError
            def read_table_metadata(self, t, o): return {}
            def read_table(self, t, s, o): return iter([]), None
        """,
    )
    h = host(str(tmp_path / "pkgconn"), options={"t": "x"})
    assert h.init["class"] == "pkgconn.PkgConn"
    assert h.ok("list_tables") == ["x"]


def test_spec_class_lookup_errors(host, tmp_path):
    write(
        tmp_path / "two.py",
        """
        from databricks.labs.community_connector.interface import LakeflowConnect
        class A(LakeflowConnect):
            def list_tables(self): return []
            def get_table_schema(self, t, o): pass
            def read_table_metadata(self, t, o): pass
            def read_table(self, t, s, o): pass
        class B(A):
            pass
        """,
    )
    write(tmp_path / "none.py", "class NotAConnector:\n    pass\n")
    e = host(str(tmp_path / "two.py"), expect_ok=False).init["error"]
    assert e["type"] == "LookupError" and "A, B" in e["message"] and e["method"] == "import"
    assert host(str(tmp_path / "two.py:B")).init["class"] == "two.B"
    e = host(str(tmp_path / "none.py"), expect_ok=False).init["error"]
    assert e["type"] == "LookupError" and "no LakeflowConnect subclass" in e["message"]
    e = host(SAMPLE + ":Nope", expect_ok=False).init["error"]
    assert e["type"] == "LookupError" and "'Nope'" in e["message"]
    e = host(str(tmp_path / "missing.py"), expect_ok=False).init["error"]
    assert e["type"] == "FileNotFoundError"
    e = host("no_such_module_xyz", expect_ok=False).init["error"]
    assert e["type"] == "ModuleNotFoundError" and e["module"] == "no_such_module_xyz"


def test_merged_single_file_connector(host, tmp_path):
    # The original's merged deployable file carries its own LakeflowConnect copy.
    write(
        tmp_path / "merged.py",
        """
        class LakeflowConnect:
            def __init__(self, options): pass
        class Merged(LakeflowConnect):
            def list_tables(self): return ["m"]
        """,
    )
    h = host(str(tmp_path / "merged.py"))
    assert h.init["class"] == "merged.Merged"
    assert h.ok("list_tables") == ["m"]


def test_import_failure_names_module(host):
    a = host(str(CONNECTORS / "broken_import"), expect_ok=False).init
    e = a["error"]
    assert e["type"] == "ModuleNotFoundError"
    assert e["module"] == "a_module_that_does_not_exist"
    assert e["method"] == "import"
    assert "broken_import.py" in e["traceback"]


def test_constructor_error(host):
    e = host(SAMPLE, options={"rows": "many"}, expect_ok=False).init["error"]
    assert e["type"] == "ValueError" and e["method"] == "__init__"


# ------------------------------------------------------------------------------------
# tables, schemas, metadata
# ------------------------------------------------------------------------------------


def test_list_tables_schema_metadata(host):
    h = host()
    assert h.ok("list_tables") == ["users", "events", "orders", "accounts"]
    s = h.ok("get_table_schema", table="orders", table_options={})
    assert s["type"] == "struct"
    f = {x["name"]: x for x in s["fields"]}
    assert f["id"] == {"name": "id", "type": "long", "nullable": False, "metadata": {}}
    assert f["amount"]["type"] == "decimal(10,2)"
    assert f["priority"]["type"] == "short" and f["flags"]["type"] == "byte"
    assert f["ratio"]["type"] == "float"
    assert f["items"]["type"] == {
        "type": "array",
        "elementType": {
            "type": "struct",
            "fields": [
                {"name": "sku", "type": "string", "nullable": False, "metadata": {}},
                {"name": "qty", "type": "integer", "nullable": True, "metadata": {}},
            ],
        },
        "containsNull": False,
    }
    ev = {x["name"]: x["type"] for x in h.ok("get_table_schema", table="events")["fields"]}
    assert ev["payload"] == "variant" and ev["at"] == "timestamp_ntz" and ev["ok"] == "boolean"
    ac = {x["name"]: x["type"] for x in h.ok("get_table_schema", table="accounts")["fields"]}
    assert ac["limits"] == {
        "type": "map", "keyType": "string", "valueType": "long", "valueContainsNull": False,
    }
    us = {x["name"]: x["type"] for x in h.ok("get_table_schema", table="users")["fields"]}
    assert us["avatar"] == "binary" and us["birth_date"] == "date"
    assert us["created_at"] == "timestamp"
    assert h.ok("read_table_metadata", table="orders", table_options={}) == {
        "primary_keys": ["id"], "cursor_field": "updated_at", "ingestion_type": "cdc",
    }
    assert h.ok("read_table_metadata", table="accounts")["ingestion_type"] == "cdc_with_deletes"


def test_schema_errors(host):
    h = host(str(CONNECTORS / "raising_source.py"))
    e = h.err("get_table_schema", table="bad", table_options={})
    assert e["type"] == "KeyError" and e["method"] == "get_table_schema"
    assert e["table"] == "bad" and "raising_source.py" in e["traceback"]
    h2 = host(SAMPLE)
    e = h2.err("get_table_schema", table="nope")
    assert e["type"] == "ValueError" and e["message"] == "Unknown table: nope"


def test_schema_must_be_structtype(host, tmp_path):
    write(
        tmp_path / "dictschema.py",
        """
        from databricks.labs.community_connector.interface import LakeflowConnect
        class D(LakeflowConnect):
            def list_tables(self): return ["t"]
            def get_table_schema(self, t, o): return {"type": "struct"}
            def read_table_metadata(self, t, o): return ["not", "a", "dict"]
            def read_table(self, t, s, o): return iter([])
        """,
    )
    h = host(str(tmp_path / "dictschema.py"))
    e = h.err("get_table_schema", table="t")
    assert e["type"] == "TypeError" and "'t'" in e["message"] and "dict" in e["message"]
    e = h.err("read_table_metadata", table="t")
    assert e["type"] == "TypeError" and "list" in e["message"]
    e = h.err("read_table", table="t", start_offset=None)
    assert e["type"] == "TypeError" and "(records, offset)" in e["message"]


# ------------------------------------------------------------------------------------
# reads
# ------------------------------------------------------------------------------------


def read_all(h, table, method="read_table", batch="2"):
    """Call read_table until the offset reaches its fixed point."""
    start, out, calls = None, [], 0
    while True:
        off, recs, _ = h.drain(table, method=method, start_offset=start,
                               table_options={"max_records_per_batch": batch})
        out += recs
        calls += 1
        assert calls < 100
        if off == start or off is None:
            return out, off, calls
        start = off


def test_snapshot_read_and_encoding(host):
    h = host(options={"rows": "5"})
    off, recs, sizes = h.drain("users", max_records=2, table_options={})
    assert off is None and sizes == [2, 2, 1]
    assert [r["id"] for r in recs] == [1, 2, 3, 4, 5]
    u1 = recs[0]
    assert u1["balance"] == "10.25"
    assert u1["birth_date"] == "1990-02-07"
    assert u1["created_at"] == "2024-01-01T01:00:00+00:00"
    assert base64.b64decode(u1["avatar"]) == bytes([1, 0, 255])
    assert u1["address"] == {"street": "1 Main St", "city": "Oslo", "zip": "10001"}
    assert u1["tags"] == ["t0"] and u1["attrs"] == {"tier": "gold"}
    assert recs[4]["name"] is None


def test_exact_chunk_then_empty_done(host):
    h = host(options={"rows": "4"})
    off, recs, sizes = h.drain("users", max_records=2)
    assert sizes == [2, 2, 0] and len(recs) == 4


def test_append_pagination_fixed_point(host):
    h = host(options={"rows": "7"})
    recs, off, calls = read_all(h, "events")
    assert [r["seq"] for r in recs] == list(range(1, 8))
    assert off == {"seq": 7} and calls == 5  # 4 pages of <=2, then the fixed point
    assert recs[0]["at"] == "2024-01-01T00:01:00"  # naive stays naive
    assert recs[0]["payload"] == {"n": 1, "labels": ["a"]}
    # The same data whatever the batch size.
    assert read_all(h, "events", batch="3")[0] == recs


def test_cdc_timestamp_cursor(host):
    h = host(options={"rows": "5"})
    recs, off, _ = read_all(h, "orders")
    assert [r["id"] for r in recs] == [1, 2, 3, 4, 5]
    assert off == {"updated_at": "2024-01-01T00:50:00+00:00"}
    assert recs[0]["amount"] == "3.01" and recs[0]["ratio"] == 0.5


def test_cdc_with_deletes(host):
    h = host(options={"rows": "7"})
    recs, off, _ = read_all(h, "accounts")
    assert len(recs) == 7 and off == {"version": 7}
    assert recs[0]["limits"] == {"daily": 100, "monthly": 3000}
    dels, doff, _ = read_all(h, "accounts", method="read_table_deletes")
    assert dels == [{"id": 3, "version": 10}, {"id": 6, "version": 13}]
    assert doff == {"version": 13}
    e = h.err("read_table_deletes", table="events", start_offset=None, table_options={})
    assert e["method"] == "read_table_deletes" and "no deletes" in e["message"]


def test_default_read_table_deletes_not_implemented(host):
    h = host(str(CONNECTORS / "raising_source.py"))
    e = h.err("read_table_deletes", table="boom", start_offset=None, table_options={})
    assert e["type"] == "NotImplementedError" and e["method"] == "read_table_deletes"


def test_missing_method_is_not_implemented(host):
    h = host(str(CONNECTORS / "misfit_source.py"))
    for op, args in [
        ("get_partitions", {"table": "misfit"}),
        ("read_partition", {"table": "misfit", "partition": {}}),
        ("is_partitioned", {"table": "misfit"}),
        ("latest_offset", {"table": "misfit", "start_offset": None}),
        ("list_namespaces", {"prefix": None}),
        ("list_tables_in_namespace", {"namespace": None}),
    ]:
        e = h.err(op, **args)
        assert e["type"] == "NotImplementedError", e
        assert "MisfitSource" in e["message"] and e["method"] in e["message"]


def test_misfit_records_pass_through(host):
    h = host(str(CONNECTORS / "misfit_source.py"))
    _, recs, _ = h.drain("misfit")
    assert recs[1] == {"id": "not-a-number", "name": "misfit"}


# ------------------------------------------------------------------------------------
# partitions, partitioned streams, namespaces
# ------------------------------------------------------------------------------------


def test_partitioned_read(host):
    h = host(options={"rows": "8"})
    parts = h.ok("get_partitions", table="users", table_options={})
    assert len(parts) == 3
    ids = []
    for p in parts:
        off, recs, _ = h.drain("users", method="read_partition", partition=p, table_options={})
        assert off is None
        ids += [r["id"] for r in recs]
    assert sorted(ids) == list(range(1, 9))
    assert h.ok("get_partitions", table="events") == [{"whole": "events"}]


def test_partitioned_stream(host):
    h = host(str(CONNECTORS / "stream_source.py"), options={"total": "10"})
    assert h.ok("is_partitioned", table="ticks") is True
    assert h.ok("is_partitioned", table="plain") is False
    end = h.ok("latest_offset", table="ticks", table_options={}, start_offset=None)
    assert end == {"tick": 10}
    parts = h.ok("get_stream_partitions", table="ticks", table_options={},
                 start_offset={"tick": 2}, end_offset=end)
    assert parts == [{"lo": 2, "hi": 6}, {"lo": 6, "hi": 10}]
    assert h.ok("get_stream_partitions", table="ticks", start_offset=end, end_offset=end) == []
    got = []
    for p in parts:
        got += [r["tick"] for r in h.drain("ticks", method="read_partition", partition=p)[1]]
    assert got == list(range(3, 11))
    # Batch partitions: no offsets.
    assert len(h.ok("get_partitions", table="ticks")) == 3
    recs, off, _ = read_all(h, "plain")
    assert [r["tick"] for r in recs] == list(range(1, 11)) and off == {"tick": 10}


def test_namespaces(host, tmp_path):
    write(
        tmp_path / "ns.py",
        """
        from databricks.labs.community_connector.interface import (
            LakeflowConnect, SupportsNamespaces)
        TREE = {("org",): ["repo1", "repo2"]}
        class Ns(LakeflowConnect, SupportsNamespaces):
            def list_tables(self): return ["issues"]
            def get_table_schema(self, t, o): pass
            def read_table_metadata(self, t, o): pass
            def read_table(self, t, s, o): pass
            def list_namespaces(self, prefix=None):
                if not prefix: return [["org"]]
                return [list(prefix) + [r] for r in TREE.get(tuple(prefix), [])]
            def list_tables_in_namespace(self, namespace=None):
                return [(namespace or ["org", "repo1"], "issues")]
        """,
    )
    h = host(str(tmp_path / "ns.py"))
    assert h.init["mixins"] == ["SupportsNamespaces"]
    assert h.ok("list_namespaces", prefix=None) == [["org"]]
    assert h.ok("list_namespaces", prefix=["org"]) == [["org", "repo1"], ["org", "repo2"]]
    assert h.ok("list_tables_in_namespace", namespace=["org", "repo2"]) == [
        [["org", "repo2"], "issues"]
    ]


# ------------------------------------------------------------------------------------
# encoding of odd values
# ------------------------------------------------------------------------------------

ODD = """
import datetime as dt, decimal, math
from databricks.labs.community_connector.interface import LakeflowConnect
from pyspark.sql.types import Row, StructType

class Odd(LakeflowConnect):
    def list_tables(self): return ["odd", "rows", "weird", "notdict"]
    def get_table_schema(self, t, o): return StructType()
    def read_table_metadata(self, t, o): return {"primary_keys": []}
    def read_table(self, t, start, o):
        tz = dt.timezone(dt.timedelta(hours=2))
        if t == "odd":
            rec = {
                "aware": dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=tz),
                "naive": dt.datetime(2024, 5, 6, 7, 8, 9),
                "date": dt.date(2024, 2, 29),
                "time": dt.time(13, 14, 15, 500),
                "dec": decimal.Decimal("-12345678901234567890.000123"),
                "bytes": b"\\x00\\xffhi",
                "bytearray": bytearray(b"ab"),
                "memoryview": memoryview(b"xyz"),
                "tuple": (1, "a"),
                "set": {3},
                "frozenset": frozenset(["f"]),
                "nan": math.nan, "inf": math.inf, "ninf": -math.inf,
                "nested": {"l": [{"d": dt.date(2000, 1, 1)}, [math.inf]]},
                "unicode": "h\\u00e9llo \\u2603",
            }
            return iter([rec, {"plain": 1}]), {"at": dt.datetime(2024, 1, 1), "d": decimal.Decimal("1.5")}
        if t == "rows":
            inner = Row(x=1, y=Row(z="deep"))
            return iter([{"r": inner, "rs": [Row(a=1), Row(a=2)]}, Row(id=7, sub=Row(k="v"))]), None
        if t == "weird":
            return iter([{"ok": 1}, {"bad": object()}]), None
        return iter([{"ok": 1}, ["not", "a", "dict"]]), None
"""


def test_encoding_every_odd_type(host, tmp_path):
    write(tmp_path / "odd.py", ODD)
    h = host(str(tmp_path / "odd.py"))
    off, recs, _ = h.drain("odd", max_records=10)
    assert off == {"at": "2024-01-01T00:00:00", "d": "1.5"}
    r = recs[0]
    assert r["aware"] == "2024-05-06T07:08:09.123456+02:00"
    assert r["naive"] == "2024-05-06T07:08:09"
    assert r["date"] == "2024-02-29"
    assert r["time"] == "13:14:15.000500"
    assert r["dec"] == "-12345678901234567890.000123"
    assert r["bytes"] == base64.b64encode(b"\x00\xffhi").decode()
    assert r["bytearray"] == "YWI=" and r["memoryview"] == "eHl6"
    assert r["tuple"] == [1, "a"] and r["set"] == [3] and r["frozenset"] == ["f"]
    assert (r["nan"], r["inf"], r["ninf"]) == ("NaN", "Infinity", "-Infinity")
    assert r["nested"] == {"l": [{"d": "2000-01-01"}, ["Infinity"]]}
    assert r["unicode"] == "h\u00e9llo \u2603"
    assert recs[1] == {"plain": 1}


def test_encoding_rows(host, tmp_path):
    write(tmp_path / "odd.py", ODD)
    h = host(str(tmp_path / "odd.py"))
    _, recs, _ = h.drain("rows", max_records=10)
    assert recs == [
        {"r": {"x": 1, "y": {"z": "deep"}}, "rs": [{"a": 1}, {"a": 2}]},
        {"id": 7, "sub": {"k": "v"}},
    ]


def test_unencodable_value_and_non_dict_record(host, tmp_path):
    write(tmp_path / "odd.py", ODD)
    h = host(str(tmp_path / "odd.py"))
    h.ok("read_table", table="weird", start_offset=None)
    e = h.err("next", max_records=10)
    assert e["type"] == "EncodeError" and e["method"] == "read_table"
    assert "'weird'" in e["message"] and "builtins.object" in e["message"]
    h.ok("read_table", table="notdict", start_offset=None)
    e = h.err("next", max_records=10)
    assert e["type"] == "TypeError" and "'notdict'" in e["message"] and "list" in e["message"]
    # The host is still usable.
    assert h.ok("list_tables")[0] == "odd"


# ------------------------------------------------------------------------------------
# errors, noise, stream lifecycle, EOF, protocol errors
# ------------------------------------------------------------------------------------


def test_exception_while_iterating(host):
    h = host(str(CONNECTORS / "raising_source.py"))
    assert h.ok("read_table", table="boom", start_offset=None, table_options={}) == {
        "offset": None
    }
    r = h.ok("next", max_records=3)
    assert [x["n"] for x in r["records"]] == [1, 2, 3] and r["done"] is False
    e = h.err("next", max_records=3)
    assert e["type"] == "ValueError" and e["message"] == "boom at row 3"
    assert e["method"] == "read_table" and e["table"] == "boom"
    assert e["traceback"].startswith("Traceback") and "raising_source.py" in e["traceback"]
    # The stream is gone after the error.
    assert h.err("next", max_records=3)["type"] == "ProtocolError"
    # Failing mid-chunk also reports the error.
    h.ok("read_table", table="boom", start_offset=None)
    assert h.err("next", max_records=100)["message"] == "boom at row 3"


def test_stdout_noise_goes_to_stderr(host):
    h = host(str(CONNECTORS / "noisy_source.py"))
    assert h.ok("list_tables") == ["chatter"]
    assert h.ok("get_table_schema", table="chatter")["fields"][0]["name"] == "n"
    _, recs, _ = h.drain("chatter", max_records=2)
    assert [r["n"] for r in recs] == [0, 1, 2, 3, 4]
    assert h.close() == 0
    err = h.stderr()
    for s in ("hello from __init__", "sys.stdout.write", "raw fd 1", "child process",
              "list_tables", "yielding 4"):
        assert "noisy: " + s in err


def test_stream_dropped_by_other_request(host, tmp_path):
    marker = tmp_path / "closed"
    write(
        tmp_path / "closing.py",
        f"""
        from databricks.labs.community_connector.interface import LakeflowConnect
        class C(LakeflowConnect):
            def list_tables(self): return ["t"]
            def get_table_schema(self, t, o): pass
            def read_table_metadata(self, t, o): pass
            def read_table(self, t, s, o):
                def gen():
                    try:
                        for i in range(100):
                            yield {{"i": i}}
                    finally:
                        open({str(marker)!r}, "w").write("closed")
                return gen(), {{"o": 1}}
        """,
    )
    h = host(str(tmp_path / "closing.py"))
    h.ok("read_table", table="t", start_offset=None)
    assert h.ok("next", max_records=2)["records"] == [{"i": 0}, {"i": 1}]
    assert h.ok("list_tables") == ["t"]
    assert marker.read_text() == "closed"  # the generator was closed
    e = h.err("next", max_records=2)
    assert e["type"] == "ProtocolError" and "no open stream" in e["message"]
    # A new read opens a fresh stream; a second read replaces the first.
    h.ok("read_table", table="t", start_offset=None)
    h.ok("read_table", table="t", start_offset=None)
    assert h.ok("next", max_records=1)["records"] == [{"i": 0}]


def test_hanging_connector(host):
    h = host(str(CONNECTORS / "hanging_source.py"))
    h.ok("read_table", table="forever", start_offset=None)
    assert h.ok("next", max_records=1) == {"records": [{"n": 1}], "done": False}
    assert h.send("next", timeout=1.0, max_records=1) is None  # never answers
    h.p.kill()
    h.p.wait()


def test_eof_exits_zero(host):
    h = host()
    assert h.close() == 0
    h = host()
    h.ok("read_table", table="users", start_offset=None)
    assert h.close() == 0  # EOF with an open stream


def test_protocol_errors(host):
    p = HostProc()
    e = p.send("list_tables")["error"]
    assert e["type"] == "ProtocolError" and "init" in e["message"]
    assert p.send_raw(b"{not json\n")["error"]["type"] == "JSONDecodeError"
    assert p.send_raw(b"[1]\n")["error"]["type"] == "ProtocolError"
    assert p.send_raw(b"\n", timeout=0.5) is None  # blank lines are ignored
    assert p.send("frobnicate")["error"]["message"] == "unknown op 'frobnicate'"
    assert p.close() == 0
    h = host()
    assert h.err("next", max_records=1)["type"] == "ProtocolError"
    h.ok("read_table", table="users", start_offset=None)
    assert h.err("next", max_records=0)["type"] == "ProtocolError"
    assert h.err("get_table_schema")["message"] == "get_table_schema: missing argument 'table'"


def test_connector_sys_exit_is_an_error(host, tmp_path):
    write(
        tmp_path / "exits.py",
        """
        import sys
        from databricks.labs.community_connector.interface import LakeflowConnect
        class X(LakeflowConnect):
            def list_tables(self): sys.exit(3)
            def get_table_schema(self, t, o): pass
            def read_table_metadata(self, t, o): pass
            def read_table(self, t, s, o): pass
        """,
    )
    h = host(str(tmp_path / "exits.py"))
    e = h.err("list_tables")
    assert e["type"] == "SystemExit" and e["method"] == "list_tables"
    assert h.err("list_tables")["type"] == "SystemExit"  # still alive


# ------------------------------------------------------------------------------------
# installed packages win; namespace packages coexist
# ------------------------------------------------------------------------------------


def fake_installed_interface(root: Path):
    pkg = root / "databricks" / "labs" / "community_connector" / "interface"
    write(
        pkg / "__init__.py",
        """
        from abc import ABC
        INSTALLED_FAKE = True
        class LakeflowConnect(ABC):
            def __init__(self, options): pass
        class SupportsPartition(ABC): pass
        class SupportsPartitionedStream(SupportsPartition): pass
        class SupportsNamespaces(ABC): pass
        """,
    )


def test_installed_interface_wins(host, tmp_path):
    fake_installed_interface(tmp_path)
    h = host(SAMPLE, pythonpath=[str(tmp_path)])
    assert h.init["interface"] == "installed"
    assert h.init["mixins"] == ["SupportsPartition"]
    write(
        tmp_path / "probe.py",
        """
        import databricks.labs.community_connector.interface as i
        from databricks.labs.community_connector.interface import LakeflowConnect
        class P(LakeflowConnect):
            def list_tables(self): return [str(getattr(i, "INSTALLED_FAKE", False))]
        """,
    )
    assert host(str(tmp_path / "probe.py"), pythonpath=[str(tmp_path)]).ok("list_tables") == [
        "True"
    ]


@pytest.mark.parametrize("regular_parent", [False, True])
def test_other_databricks_packages_still_import(host, tmp_path, regular_parent):
    # Another distribution owns `databricks` (like databricks-sdk): as an implicit
    # namespace package, or as a regular package with its own __init__.py.
    site = tmp_path / "site"
    write(site / "databricks" / "sdk" / "__init__.py", "VERSION = 'fake-sdk'\n")
    if regular_parent:
        write(site / "databricks" / "__init__.py", "")
    write(
        tmp_path / "uses_sdk.py",
        """
        from databricks.sdk import VERSION
        from databricks.labs.community_connector.interface import LakeflowConnect
        class U(LakeflowConnect):
            def list_tables(self): return [VERSION]
            def get_table_schema(self, t, o): pass
            def read_table_metadata(self, t, o): pass
            def read_table(self, t, s, o): pass
        """,
    )
    h = host(str(tmp_path / "uses_sdk.py"), pythonpath=[str(site)])
    assert h.init["interface"] == "bundled"
    assert h.ok("list_tables") == ["fake-sdk"]


def test_shim_namespace_dirs_have_no_init():
    base = HOST_DIR / "shim" / "interface" / "databricks"
    assert not (base / "__init__.py").exists()
    assert not (base / "labs" / "__init__.py").exists()


# ------------------------------------------------------------------------------------
# the pyspark stand-in
# ------------------------------------------------------------------------------------


def load_shim_types():
    path = HOST_DIR / "shim" / "pyspark" / "pyspark" / "sql" / "types.py"
    spec = importlib.util.spec_from_file_location("lakeflow_shim_types", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def build_schema(T):
    return T.StructType(
        [
            T.StructField("s", T.StringType()),
            T.StructField("l", T.LongType(), False),
            T.StructField("i", T.IntegerType()),
            T.StructField("sh", T.ShortType()),
            T.StructField("b", T.ByteType()),
            T.StructField("bo", T.BooleanType()),
            T.StructField("d", T.DoubleType()),
            T.StructField("f", T.FloatType()),
            T.StructField("dec", T.DecimalType(10, 2)),
            T.StructField("dec0", T.DecimalType()),
            T.StructField("da", T.DateType()),
            T.StructField("ts", T.TimestampType()),
            T.StructField("ntz", T.TimestampNTZType()),
            T.StructField("bin", T.BinaryType()),
            T.StructField("v", T.VariantType()),
            T.StructField("n", T.NullType()),
            T.StructField("a", T.ArrayType(T.StringType(), False)),
            T.StructField("m", T.MapType(T.StringType(), T.ArrayType(T.LongType()))),
            T.StructField("st", T.StructType([T.StructField("x", T.DoubleType())]), True,
                          {"comment": "c"}),
        ]
    ).add("added", T.LongType()).add(T.StructField("added2", T.DateType(), False)).add(
        "byname", "long"
    ).add("bydec", "decimal(8,3)")


def test_shim_types_json():
    T = load_shim_types()
    s = build_schema(T)
    j = s.jsonValue()
    got = {f["name"]: f["type"] for f in j["fields"]}
    assert got["s"] == "string" and got["l"] == "long" and got["i"] == "integer"
    assert got["sh"] == "short" and got["b"] == "byte" and got["bo"] == "boolean"
    assert got["d"] == "double" and got["f"] == "float"
    assert got["dec"] == "decimal(10,2)" and got["dec0"] == "decimal(10,0)"
    assert got["da"] == "date" and got["ts"] == "timestamp" and got["ntz"] == "timestamp_ntz"
    assert got["bin"] == "binary" and got["v"] == "variant" and got["n"] == "void"
    assert got["a"] == {"type": "array", "elementType": "string", "containsNull": False}
    assert got["m"] == {
        "type": "map", "keyType": "string",
        "valueType": {"type": "array", "elementType": "long", "containsNull": True},
        "valueContainsNull": True,
    }
    assert j["fields"][-5] == {
        "name": "st",
        "type": {"type": "struct", "fields": [
            {"name": "x", "type": "double", "nullable": True, "metadata": {}}]},
        "nullable": True,
        "metadata": {"comment": "c"},
    }
    assert got["byname"] == "long"
    assert got["bydec"] == "decimal(8,3)"
    assert s.fieldNames()[-4:] == ["added", "added2", "byname", "bydec"]
    assert [f.name for f in s][:2] == ["s", "l"]
    assert s["l"].nullable is False and s[1].name == "l" and len(s) == 23
    assert s == build_schema(T) and s != T.StructType()
    assert T.DecimalType(5, 1) != T.DecimalType(5, 2) and T.LongType() == T.LongType()
    assert repr(T.DecimalType()) == "DecimalType(10,0)"
    r = T.Row(a=1, b=T.Row(c=[T.Row(d=2)]))
    assert r.asDict(True) == {"a": 1, "b": {"c": [{"d": 2}]}} and r.a == 1
    assert T.Row("x", "y")(1, 2).asDict() == {"x": 1, "y": 2}


def _real_pyspark_python():
    cands = [sys.executable, os.environ.get("LAKEFLOW_TEST_PYSPARK_PYTHON", ""),
             "/root/.cache/lakeflow-rs/venv/bin/python"]
    for c in cands:
        if c and Path(c).exists():
            r = subprocess.run([c, "-c", "import pyspark.sql.types"], capture_output=True)
            if r.returncode == 0:
                return c
    return None


def test_shim_matches_real_pyspark():
    py = _real_pyspark_python()
    if py is None:
        pytest.skip("no Python with pyspark available to compare against")
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "import pyspark.sql.types as T\n"
        "from test_host import build_schema\n"
        "print(json.dumps(build_schema(T).jsonValue()))\n"
    )
    r = subprocess.run([py, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == build_schema(load_shim_types()).jsonValue()
