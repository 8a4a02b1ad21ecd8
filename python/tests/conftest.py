"""Fixtures: one local Spark session for the run, and the `lakeflow` CLI as the reference reader.

The CLI reads a table through the same connectors and records crate; comparing what Spark
returns with what `lakeflow read ... --format ndjson` prints checks the whole path in between
(options, offsets, Arrow hand-over, Spark's type mapping).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, List

import pytest

# Spark's Python workers must run this interpreter, the one with pyarrow and the wheel.
os.environ["PYSPARK_PYTHON"] = sys.executable
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
os.environ.setdefault("TZ", "UTC")

# Below this many collected tests the run fails (see pytest_collection_finish): a test file
# that stopped being collected must not go unnoticed.
MIN_TESTS = int(os.environ.get("LAKEFLOW_MIN_PYTHON_TESTS", "40"))


def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    here = Path(__file__).parent.resolve()
    # Only a run of the whole suite is held to the minimum, not one of a file or a selection.
    whole_suite = all(
        (config.invocation_params.dir / arg).resolve() == here for arg in config.args
    )
    selected = config.getoption("-k") or config.getoption("-m")
    if whole_suite and not selected and len(session.items) < MIN_TESTS:
        raise pytest.UsageError(
            f"only {len(session.items)} tests collected, expected at least {MIN_TESTS}"
        )


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    import lakeflow_connect

    session = (
        SparkSession.builder.master("local[2]")
        .appName("lakeflow-connect-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    lakeflow_connect.register(session)
    yield session
    session.stop()


def cli_binary() -> Path:
    explicit = os.environ.get("LAKEFLOW_CLI")
    if explicit:
        return Path(explicit)
    target = os.environ.get("CARGO_TARGET_DIR", str(Path.home() / ".cache/lakeflow-rs/target"))
    return Path(target) / "debug" / "lakeflow"


def cli(*args: str) -> str:
    binary = cli_binary()
    if not binary.exists():
        pytest.fail(f"the lakeflow CLI is not built at {binary} (cargo build -p lakeflow-cli)")
    done = subprocess.run(
        [str(binary), *args], capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"lakeflow {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def cli_rows(source: str, table: str, *options: str, deletes: bool = False) -> List[dict]:
    """Every row of `table`, as `lakeflow read --format ndjson` prints them (decimals exact)."""
    args = ["read", source, table, "--format", "ndjson"]
    for option in options:
        args += ["-o", option]
    if deletes:
        args.append("--deletes")
    out = cli(*args)
    return [json.loads(line, parse_float=Decimal) for line in out.splitlines() if line.strip()]


def cli_schema(source: str, table: str) -> List[dict]:
    return json.loads(cli("schema", source, table, "--format", "json"))


def canon(value: Any) -> Any:
    """A value in one comparable form: nulls dropped from objects (the CLI leaves them out),
    instants as RFC 3339 UTC with `Z`, dates ISO, numbers as exact decimals."""
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items() if v is not None}
    if hasattr(value, "asDict"):
        return canon(value.asDict(recursive=True))
    if isinstance(value, (list, tuple)):
        return [canon(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        text = value.astimezone(dt.timezone.utc).isoformat()
        return text.replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        # The CLI's JSON is parsed with exact decimals; Decimal equality ignores trailing zeros.
        return Decimal(repr(value))
    return value


def spark_rows(df) -> List[dict]:
    """The rows of a DataFrame through Arrow (tz-aware instants), canonical."""
    return [canon(row) for row in df.toArrow().to_pylist()]
