#!/usr/bin/env python3
"""lakeflow-rs Python connector host.

Runs one connector written against the original Lakeflow Community Connectors
``LakeflowConnect`` interface and serves it over a JSON-lines protocol:
one request object per line on stdin, one answer object per line on the
process's original stdout. Connector output (``print``, logging, child
processes writing to fd 1) goes to stderr, so it cannot corrupt the protocol.

Every answer is ``{"ok": value}`` or ``{"error": {"type", "message", "method",
"traceback", ...}}``. See ``crates/pyhost`` for the Rust side.

Stdlib only; Python >= 3.10.
"""

from __future__ import annotations

import base64
import datetime as _dt
import decimal
import importlib
import importlib.util
import inspect
import itertools
import json
import marshal
import logging
import math
import os
import platform
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHIM = HERE / "shim"
INTERFACE_MODULE = "databricks.labs.community_connector.interface"
MIXIN_NAMES = ("SupportsPartition", "SupportsPartitionedStream", "SupportsNamespaces")

log = logging.getLogger("lakeflow_host")


class ProtocolError(Exception):
    """A malformed or out-of-order request (not the connector's fault)."""


class EncodeError(TypeError):
    """A value the protocol cannot carry."""


# --------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------


def _is_row(v) -> bool:
    return isinstance(v, tuple) and type(v).__name__ == "Row" and hasattr(v, "asDict")


def _default(o):
    # Only reached for values json cannot encode natively.
    if isinstance(o, (_dt.datetime, _dt.date, _dt.time)):
        return o.isoformat()
    if isinstance(o, decimal.Decimal):
        return str(o)
    if isinstance(o, (bytes, bytearray)):
        return base64.b64encode(o).decode("ascii")
    if isinstance(o, memoryview):
        return base64.b64encode(o.tobytes()).decode("ascii")
    if isinstance(o, (set, frozenset)):
        return list(o)
    raise EncodeError(o)


_encode_strict = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default
).encode


def _fix_floats(v):
    """Replace non-finite floats by strings (slow path, only when needed)."""
    t = type(v)
    if t is float:
        if math.isfinite(v):
            return v
        return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
    if t is dict or isinstance(v, dict):
        return {k: _fix_floats(x) for k, x in v.items()}
    if t is list or isinstance(v, (list, tuple, set, frozenset)):
        if _is_row(v):
            return _fix_floats(v.asDict(True))
        return [_fix_floats(x) for x in v]
    if isinstance(v, float):  # float subclass
        return _fix_floats(float(v))
    return v


def _rows_to_dicts(v):
    """Convert pyspark Rows anywhere in v into dicts (slow path)."""
    if _is_row(v):
        return _rows_to_dicts(v.asDict(True))
    if isinstance(v, dict):
        return {k: _rows_to_dicts(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_rows_to_dicts(x) for x in v]
    return v


def _contains_row(v) -> bool:
    if isinstance(v, dict):
        return any(_contains_row(x) for x in v.values())
    if isinstance(v, (list, tuple)):
        return _is_row(v) or any(_contains_row(x) for x in v)
    return False


def encode(value, where: str) -> str:
    """JSON text of value; ``where`` names the table/method for error messages."""
    try:
        return _encode_strict(value)
    except EncodeError as e:
        o = e.args[0]
        raise EncodeError(
            f"{where}: cannot encode a value of type "
            f"{type(o).__module__}.{type(o).__qualname__}"
        ) from None
    except ValueError as e:
        if "Circular reference" in str(e):
            raise ValueError(f"{where}: circular reference in value") from None
        # A non-finite float somewhere: fix and retry.
        return encode(_fix_floats(value), where)


# --------------------------------------------------------------------------------------
# Environment: installed packages or bundled shims
# --------------------------------------------------------------------------------------


def _use(module: str, shim_dir: Path) -> str:
    """Import module; if that fails, append shim_dir to sys.path and import again."""
    try:
        importlib.import_module(module)
        return "installed"
    except ImportError:
        pass
    sys.path.append(str(shim_dir))
    importlib.invalidate_caches()
    # A parent package that was imported as a regular package (e.g. a
    # `databricks/__init__.py` from some SDK) has a fixed __path__: extend it
    # so the bundled subpackages are found. Namespace packages recompute their
    # path from sys.path by themselves.
    parts = module.split(".")
    for i in range(1, len(parts)):
        name = ".".join(parts[:i])
        mod = sys.modules.get(name)
        if mod is None:
            continue
        sub = str(shim_dir.joinpath(*parts[:i]))
        path = getattr(mod, "__path__", None)
        if isinstance(path, list) and sub not in path and os.path.isdir(sub):
            path.append(sub)
    for name in list(sys.modules):
        if name == module or name.startswith(module + "."):
            del sys.modules[name]
    importlib.import_module(module)
    origin = getattr(sys.modules[module], "__file__", None) or ""
    if Path(origin).resolve().is_relative_to(shim_dir.resolve()):
        return "bundled"
    return "installed"


# --------------------------------------------------------------------------------------
# Loading a connector
# --------------------------------------------------------------------------------------


def _split_spec(spec: str) -> tuple[str, str | None]:
    left, sep, right = spec.rpartition(":")
    if sep and left and right.isidentifier():
        return left, right
    return spec, None


def _looks_like_path(s: str) -> bool:
    return s.endswith(".py") or os.sep in s or "/" in s or s.startswith(".") or os.path.exists(s)


def _import_path(target: str):
    p = Path(target).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"connector path {target!r} does not exist")
    p = p.resolve()
    if p.is_file():
        if p.suffix != ".py":
            raise ValueError(f"connector file {target!r} is not a .py file")
        parent = str(p.parent)
        if parent not in sys.path:
            sys.path.insert(0, parent)
        name = p.stem
        spec = importlib.util.spec_from_file_location(name, p)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return mod
    # A directory in the original's layout: <dir>/<dir>.py or <dir>/__init__.py.
    name = p.name
    if not name.isidentifier():
        raise ValueError(f"connector directory name {name!r} is not a valid module name")
    parent = str(p.parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    importlib.invalidate_caches()
    if (p / f"{name}.py").is_file():
        return importlib.import_module(f"{name}.{name}")
    if (p / "__init__.py").is_file():
        return importlib.import_module(name)
    raise FileNotFoundError(
        f"connector directory {target!r} holds neither {name}.py nor __init__.py"
    )


def _mro_names(cls) -> set[str]:
    return {c.__name__ for c in cls.__mro__}


def _find_class(mod, base):
    defined = [
        c
        for c in vars(mod).values()
        if inspect.isclass(c) and c.__module__ == mod.__name__ and c is not base
    ]
    cands = [c for c in defined if issubclass(c, base)]
    if not cands:
        # Single-file ("merged") connectors carry their own copy of the interface.
        cands = [
            c for c in defined if c.__name__ != "LakeflowConnect" and "LakeflowConnect" in _mro_names(c)
        ]
    if len(cands) > 1:
        concrete = [c for c in cands if not inspect.isabstract(c)]
        if concrete:
            cands = concrete
    if len(cands) == 1:
        return cands[0]
    if not cands:
        raise LookupError(f"module {mod.__name__!r} defines no LakeflowConnect subclass")
    names = ", ".join(sorted(c.__name__ for c in cands))
    raise LookupError(
        f"module {mod.__name__!r} defines several LakeflowConnect subclasses ({names}); "
        "name one as 'module:ClassName'"
    )


def load_class(spec: str):
    if not isinstance(spec, str) or not spec:
        raise ProtocolError("init: 'connector' must be a non-empty string")
    target, clsname = _split_spec(spec)
    if _looks_like_path(target):
        mod = _import_path(target)
    else:
        mod = importlib.import_module(target)
    if clsname:
        cls = getattr(mod, clsname, None)
        if not inspect.isclass(cls):
            raise LookupError(f"module {mod.__name__!r} has no class {clsname!r}")
        return cls
    base = getattr(sys.modules[INTERFACE_MODULE], "LakeflowConnect")
    return _find_class(mod, base)


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


# Chunks go out in marshal format (several times faster to write than JSON) unless this says
# "json"; a chunk marshal cannot write (dates, decimals, rows, dict subclasses) switches its
# stream to JSON.
USE_MARSHAL = os.environ.get("LAKEFLOW_PY_ENCODING", "marshal") != "json"


class Stream:
    __slots__ = ("it", "method", "table", "checked", "marshal")

    def __init__(self, it, method: str, table: str):
        self.it = it
        self.method = method
        self.table = table
        self.checked = False  # first chunk inspected for pyspark Rows?
        self.marshal = USE_MARSHAL

    def close(self):
        close = getattr(self.it, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # noqa: BLE001 - a failing cleanup must not kill the host
                log.warning("closing the %s stream of table %r failed", self.method, self.table,
                            exc_info=True)


class CallError(Exception):
    """Wraps an exception with the connector method (and table) it came from."""

    def __init__(self, exc: BaseException, method: str | None, table: str | None):
        super().__init__(str(exc))
        self.exc = exc
        self.method = method
        self.table = table


class Host:
    def __init__(self, out, env: dict):
        self.out = out
        self.env = env
        self.conn = None
        self.cls = None
        self.stream: Stream | None = None
        self.slow_rows = False

    # -- helpers ------------------------------------------------------------------

    def send(self, text: str):
        self.out.write(text.encode("utf-8"))
        self.out.flush()

    def send_marshal(self, payload: bytes, done: bool):
        """A chunk as a header line, then ``len(payload)`` bytes of marshal data."""
        header = b'{"ok":{"marshal":%d,"done":%s}}\n' % (len(payload), b"true" if done else b"false")
        self.out.write(header)
        self.out.write(payload)
        self.out.flush()

    def call(self, method: str, table: str | None, *args):
        if self.conn is None:
            raise ProtocolError("no connector: send 'init' first")
        fn = getattr(self.conn, method, None)
        if not callable(fn):
            raise CallError(
                NotImplementedError(f"connector {self.cls.__name__} has no method {method}()"),
                method,
                table,
            )
        try:
            return fn(*args)
        except (Exception, SystemExit) as e:
            raise CallError(e, method, table) from e

    def drop_stream(self):
        if self.stream is not None:
            s, self.stream = self.stream, None
            s.close()

    # -- request handling ---------------------------------------------------------

    def handle(self, req: dict) -> str:
        """Return the answer line (without newline) for one request."""
        op = req.get("op")
        if op != "next":
            self.drop_stream()
        h = getattr(self, "op_" + op, None) if isinstance(op, str) else None
        if h is None:
            raise ProtocolError(f"unknown op {op!r}")
        return h(req)

    @staticmethod
    def _arg(req, name, kind=None, default=...):
        if name not in req:
            if default is ...:
                raise ProtocolError(f"{req.get('op')}: missing argument {name!r}")
            return default
        v = req[name]
        if kind is not None and v is not None and not isinstance(v, kind):
            raise ProtocolError(f"{req.get('op')}: argument {name!r} has the wrong type")
        return v

    def _table(self, req):
        t = self._arg(req, "table", str)
        if t is None:
            raise ProtocolError(f"{req.get('op')}: 'table' must be a string")
        return t

    def _topts(self, req):
        o = self._arg(req, "table_options", dict, None)
        return {} if o is None else o

    def op_init(self, req):
        spec = self._arg(req, "connector", str)
        options = self._arg(req, "options", dict, None) or {}
        self.conn = self.cls = None
        try:
            cls = load_class(spec)
        except (Exception, SystemExit) as e:
            raise CallError(e, "import", None) from e
        try:
            conn = cls(options)
        except (Exception, SystemExit) as e:
            raise CallError(e, "__init__", None) from e
        self.conn, self.cls = conn, cls
        mro = _mro_names(cls)
        ok = {
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "mixins": [m for m in MIXIN_NAMES if m in mro],
            **self.env,
        }
        return '{"ok":' + encode(ok, "init") + "}"

    def _plain(self, value, method, table=None, as_list=False):
        where = method if table is None else f"{method} of table {table!r}"
        try:
            if as_list:
                value = list(value)
            return '{"ok":' + encode(value, where) + "}"
        except (TypeError, ValueError) as e:
            raise CallError(e, method, table) from e

    def op_list_tables(self, req):
        r = self.call("list_tables", None)
        return self._plain(r, "list_tables", as_list=True)

    def op_list_namespaces(self, req):
        r = self.call("list_namespaces", None, self._arg(req, "prefix", list, None))
        return self._plain(r, "list_namespaces", as_list=True)

    def op_list_tables_in_namespace(self, req):
        r = self.call("list_tables_in_namespace", None, self._arg(req, "namespace", list, None))
        return self._plain(r, "list_tables_in_namespace", as_list=True)

    def op_get_table_schema(self, req):
        t = self._table(req)
        s = self.call("get_table_schema", t, t, self._topts(req))
        if type(s).__name__ != "StructType" or not callable(getattr(s, "jsonValue", None)):
            raise CallError(
                TypeError(
                    f"get_table_schema of table {t!r} returned "
                    f"{type(s).__module__}.{type(s).__qualname__}, expected a StructType"
                ),
                "get_table_schema",
                t,
            )
        return self._plain(s.jsonValue(), "get_table_schema", t)

    def op_read_table_metadata(self, req):
        t = self._table(req)
        m = self.call("read_table_metadata", t, t, self._topts(req))
        if not isinstance(m, dict):
            raise CallError(
                TypeError(
                    f"read_table_metadata of table {t!r} returned "
                    f"{type(m).__qualname__}, expected a dict"
                ),
                "read_table_metadata",
                t,
            )
        return self._plain(m, "read_table_metadata", t)

    def _open(self, method, table, result, with_offset: bool):
        if with_offset:
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise CallError(
                    TypeError(
                        f"{method} of table {table!r} must return (records, offset), "
                        f"got {type(result).__qualname__}"
                    ),
                    method,
                    table,
                )
            records, offset = result
        else:
            records, offset = result, None
        try:
            it = iter(records)
        except TypeError:
            raise CallError(
                TypeError(
                    f"{method} of table {table!r} returned records of type "
                    f"{type(records).__qualname__}, which is not iterable"
                ),
                method,
                table,
            ) from None
        try:
            off = encode(offset, f"{method} of table {table!r} (offset)")
        except (TypeError, ValueError) as e:
            raise CallError(e, method, table) from e
        self.stream = Stream(it, method, table)
        return '{"ok":{"offset":' + off + "}}"

    def _read(self, req, method):
        t = self._table(req)
        r = self.call(method, t, t, self._arg(req, "start_offset", None, None), self._topts(req))
        return self._open(method, t, r, True)

    def op_read_table(self, req):
        return self._read(req, "read_table")

    def op_read_table_deletes(self, req):
        return self._read(req, "read_table_deletes")

    def op_get_partitions(self, req):
        t = self._table(req)
        r = self.call("get_partitions", t, t, self._topts(req))
        return self._plain(r, "get_partitions", t, as_list=True)

    def op_read_partition(self, req):
        t = self._table(req)
        part = self._arg(req, "partition", dict)
        r = self.call("read_partition", t, t, part, self._topts(req))
        return self._open("read_partition", t, r, False)

    def op_is_partitioned(self, req):
        t = self._table(req)
        return self._plain(bool(self.call("is_partitioned", t, t)), "is_partitioned", t)

    def op_latest_offset(self, req):
        t = self._table(req)
        r = self.call(
            "latest_offset", t, t, self._topts(req), self._arg(req, "start_offset", None, None)
        )
        return self._plain(r, "latest_offset", t)

    def op_get_stream_partitions(self, req):
        t = self._table(req)
        r = self.call(
            "get_partitions",
            t,
            t,
            self._topts(req),
            self._arg(req, "start_offset", None, None),
            self._arg(req, "end_offset", None, None),
        )
        return self._plain(r, "get_partitions", t, as_list=True)

    def op_next(self, req):
        s = self.stream
        if s is None:
            raise ProtocolError("next: no open stream")
        n = self._arg(req, "max_records", int)
        if n is None or n < 1:
            raise ProtocolError("next: 'max_records' must be a positive integer")
        try:
            chunk = list(itertools.islice(s.it, n))
        except (Exception, SystemExit) as e:
            self.stream = None
            raise CallError(e, s.method, s.table) from e
        done = len(chunk) < n
        # Only plain dicts go out as marshal: anything else (rows, subclasses, non-records) takes
        # the JSON path, which converts or rejects it.
        if s.marshal and all(type(r) is dict for r in chunk):
            try:
                payload = marshal.dumps(chunk, 4)
            except ValueError:
                s.marshal = False
            else:
                if done:
                    self.stream = None
                self.send_marshal(payload, done)
                return None
        try:
            text = self._encode_chunk(s, chunk)
        except (TypeError, ValueError) as e:
            self.stream = None
            s.close()
            raise CallError(e, s.method, s.table) from e
        if done:
            self.stream = None
        return '{"ok":{"records":' + text + (',"done":true}}' if done else ',"done":false}}')

    def _encode_chunk(self, s: Stream, chunk: list) -> str:
        where = f"{s.method} of table {s.table!r}"
        kinds = set(map(type, chunk))
        if kinds and kinds != {dict}:
            for i, r in enumerate(chunk):
                if type(r) is dict or isinstance(r, dict):
                    continue
                if _is_row(r):
                    chunk[i] = r.asDict(True)
                    continue
                raise TypeError(
                    f"{where}: a record is {type(r).__module__}.{type(r).__qualname__}, "
                    "expected a dict"
                )
        if not s.checked:
            # pyspark Rows are tuples, which json would silently encode as lists:
            # inspect the first chunk of each stream and switch to the slow path
            # for streams that carry Rows.
            s.checked = True
            if _contains_row(chunk):
                self.slow_rows = True
                s.checked = "rows"
        if s.checked == "rows":
            chunk = _rows_to_dicts(chunk)
        return encode(chunk, where)


def _error_answer(exc: BaseException, method, table) -> str:
    err = {
        "type": type(exc).__name__,
        "message": str(exc),
        "method": method,
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }
    if table is not None:
        err["table"] = table
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        err["module"] = exc.name
    return json.dumps({"error": err}, ensure_ascii=False, separators=(",", ":"), default=repr)


def _widen_pipe(fd: int) -> None:
    """Lets a whole chunk or two sit in the pipe (Linux: 1 MiB instead of 64 KiB), so the
    connector goes on producing while the reader decodes, rather than waiting on the pipe."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, not a pipe, or above the system's limit: the default works too


def main() -> int:
    # Keep private handles on the protocol streams; point fd 0 at /dev/null and
    # fd 1 at stderr so connector code (and its children) cannot touch them.
    proto_in = os.fdopen(os.dup(0), "rb", buffering=1 << 16)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=1 << 16)
    _widen_pipe(proto_out.fileno())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(
        stream=sys.stderr,
        level=os.environ.get("LAKEFLOW_PY_LOG_LEVEL", "WARNING").upper(),
        format="%(levelname)s %(name)s: %(message)s",
    )

    # The host's own directory must not shadow connector modules.
    if sys.path and sys.path[0] and Path(sys.path[0]).resolve() == HERE:
        sys.path.pop(0)
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.append(cwd)

    env = {"python": platform.python_version()}
    env["pyspark"] = _use("pyspark.sql.types", SHIM / "pyspark")
    env["interface"] = _use(INTERFACE_MODULE, SHIM / "interface")

    host = Host(proto_out, env)
    while True:
        line = proto_in.readline()
        if not line:
            break
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ProtocolError("a request must be a JSON object")
            answer = host.handle(req)
        except CallError as e:
            answer = _error_answer(e.exc, e.method, e.table)
        except (Exception, SystemExit) as e:  # protocol errors, host bugs
            answer = _error_answer(e, None, None)
        if answer is not None:  # a marshal chunk was sent already
            host.send(answer + "\n")
    host.drop_stream()
    return 0


if __name__ == "__main__":
    sys.exit(main())
