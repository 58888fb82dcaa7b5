"""Helpers several test modules share: a free loopback port, comparing two warehouses, a real
Dagster webserver (`dg dev`, or `dagster dev -w workspace.yaml`) to ask over GraphQL, servers
started and stopped, and a sample of the BBC corpus."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import duckdb
import polars as pl

from pipelines.core.tables import PRIMARY_KEYS

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BIN = Path(sys.executable).parent  # the environment the tests run in: dagster, dg, duckdb
# `dg dev` as the README runs it (with the project's environment, as `make ui` does), and
# `dagster dev` on the workspace file the design fixes
DG_DEV = [str(BIN / "dg"), "dev"]
DAGSTER_DEV = [str(BIN / "dagster"), "dev", "-w", "workspace.yaml"]

# Columns that say when a run happened, not what it found: they differ between equal runs.
TIMESTAMPS = frozenset({"ingested_at", "detected_at"})


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def warehouse_tables(warehouse: Path, ignore: Iterable[str] = ()) -> dict[str, pl.DataFrame]:
    """Every contract table of a warehouse file, sorted by its key, without the `ignore`d
    columns."""
    dropped = set(ignore)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {
            table: pl.from_arrow(con.sql(f"select * from {table} order by {key}").to_arrow_table())
            for table, key in PRIMARY_KEYS.items()
        }
    return {t: df.drop([c for c in df.columns if c in dropped]) for t, df in tables.items()}


def assert_same_tables(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame]) -> None:
    """The same tables, none of them empty, equal row for row."""
    assert left.keys() == right.keys()
    for table in left:
        assert left[table].height > 0, table
        assert left[table].equals(right[table]), f"{table} differs"


def snapshot(warehouse: Path, ignore: Iterable[str] = TIMESTAMPS) -> dict[str, list[tuple]]:
    """Every table and view of a warehouse file, rows sorted, without the `ignore`d columns."""
    dropped = set(ignore)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        relations = con.execute(
            "select table_name, table_type from information_schema.tables "
            "where table_schema = 'main' order by table_name"
        ).fetchall()
        tables: dict[str, list[tuple]] = {"(relations)": [tuple(r) for r in relations]}
        for name, _kind in relations:
            if name == "load_info":  # when and from which part files: differs by design
                tables[name] = con.execute(
                    "select key, value from load_info where key = 'storage_version'"
                ).fetchall()
                continue
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_name = ? order by ordinal_position",
                    [name],
                ).fetchall()
                if c not in dropped
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            tables[name] = con.execute(f"select {select} from {name} order by all").fetchall()
    return tables


def assert_same_warehouse(got: Path, want: Path) -> None:
    """Two warehouse files hold the same relations with the same rows (load times aside), and
    every contract table of the expected one has rows."""
    mine, expected = snapshot(got), snapshot(want)
    assert mine["(relations)"] == expected["(relations)"]
    for name in expected:
        assert mine[name] == expected[name], f"{name} differs"
    for table in PRIMARY_KEYS:
        assert len(expected[table]) > 0, f"{table} is empty"


def news_etl():
    """The job, for `dg.reconstructable` in processes that rebuild it from this module."""
    from pipelines.definitions import defs

    return defs.resolve_job_def("news_etl")


def graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = json.load(response)
    assert "errors" not in payload, payload
    return payload["data"]


@contextlib.contextmanager
def dagster_dev(
    env: dict[str, str], log_path: Path, command: Sequence[str] = DG_DEV
) -> Iterator[str]:
    """Start a webserver and daemon (`command`: `dg dev` or `dagster dev -w workspace.yaml`)
    and yield its base URL once it answers."""
    port = free_port()
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "VIRTUAL_ENV": str(BIN.parent), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: dagster dev ignores SIGTERM otherwise
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                data = graphql(url, "{ repositoriesOrError { __typename } }")
                if data["repositoriesOrError"]["__typename"] == "RepositoryConnection":
                    break
            except (OSError, AssertionError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text()[-3000:]
                raise RuntimeError(f"dagster dev did not start: see {log_path}\n{tail}")
            time.sleep(1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        # `dagster dev` can exit before its code server, gRPC server, webserver and daemon
        # have: wait for the whole group to go, then kill whatever is left of it.
        _wait_for_group_to_end(process.pid, timeout=15)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)  # signal 0: only asks whether any process of the group exists
    except ProcessLookupError:
        return False
    return True


def _wait_for_group_to_end(pgid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _group_alive(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.2)


def wait_for(predicate, what: str, timeout_s: float = 60.0) -> None:
    """Wait until `predicate()` is true, or fail saying what did not happen."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout_s:.0f} s")


def stop(process: subprocess.Popen) -> None:
    """End a process we started, and its children (it leads its own session)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def bbc_sample(folder: Path, every: int, count: int) -> Path:
    """`count` BBC articles (every `every`th file), alternately in folders `a/` and `b/`."""
    bbc = SHARED / "corpora" / "bbc"
    if not bbc.is_dir():
        raise AssertionError(f"the BBC corpus is missing at {bbc}")
    for i, path in enumerate(sorted(bbc.glob("*.txt"))[::every][:count]):
        target = folder / ("a" if i % 2 else "b") / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return folder
