"""Concurrent use: analysts reading while a load runs, and runs that overlap. Real processes only.

With dagster-duckdb, one open read-only session makes a load retry for about 100 s and then fail
with "Conflicting lock is held" (dagster issue #18746). Here the load builds a new file and renames
it over the old one, so a session keeps the snapshot it opened and never blocks the load, and a
new session sees either the old warehouse or the new one, never a half-loaded one. Two loaders
queue on a lock; one that waits too long stops with a message naming the process in its way.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.core import incremental
from pipelines.core.store import Lake
from tests.test_crash_recovery import (
    ARTICLES,
    PYTHON,
    ROOT,
    assert_lake_is_clean,
    assert_same_warehouse,
    finish,
    log_tail,
    run_env,
    run_until,
    start_run,
    write_articles,
)

pytestmark = pytest.mark.slow

DUCKDB_CLI = Path(PYTHON).with_name("duckdb")
TABLES = ("documents", "sentences", "entity_mentions", "entities", "claims", "rejected_files")
NEW_ARTICLE = {
    "science/moon.txt": (
        "Probe lands on the Moon\n\n"
        "A Japanese probe landed on the Moon on Saturday, JAXA said in Tokyo.\n"
    )
}
STATE = f"""
def state(con):
    fp = con.execute("select value from load_info where key = 'fingerprint'").fetchone()[0]
    return {{"fingerprint": fp, **{{
        t: con.execute(f"select count(*) from {{t}}").fetchone()[0] for t in {TABLES!r}
    }}}}
"""
# An analyst's session: opened once, queried again on every line read from stdin.
HELD_SESSION = (
    "import json, sys, duckdb\n"
    + STATE
    + """
con = duckdb.connect(sys.argv[1], read_only=True)
print(json.dumps(state(con)), flush=True)
for _line in sys.stdin:
    print(json.dumps(state(con)), flush=True)
"""
)
# Someone opening a fresh session every few milliseconds during the load, noting what it saw.
POLLER = (
    "import json, os, sys, time, duckdb\n"
    + STATE
    + """
path, out, stop = sys.argv[1:4]
with open(out, "w") as f:
    while not os.path.exists(stop):
        try:
            with duckdb.connect(path, read_only=True) as con:
                seen = state(con)
        except Exception as exc:
            seen = {"error": f"{type(exc).__name__}: {exc}"}
        f.write(json.dumps(seen) + "\\n")
        f.flush()
        time.sleep(0.01)
"""
)
BUILD = r"""
import json, sys, time
from pathlib import Path
from pipelines.core import warehouse
from pipelines.core.store import Lake
started = time.monotonic()
try:
    report = warehouse.build(Lake(sys.argv[1]), Path(sys.argv[2]),
                             lock_timeout_s=float(sys.argv[3]))
except warehouse.WarehouseBusy as exc:
    print(json.dumps({"busy": str(exc)}), flush=True)
    sys.exit(3)
print(json.dumps({"rebuilt": report.rebuilt, "done_at": time.time()}), flush=True)
"""
HOLD_LOCK = r"""
import sys, time
from pathlib import Path
from pipelines.core.warehouse import load_lock
with load_lock(Path(sys.argv[1]), 10):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    print(time.time(), flush=True)  # when it lets go
"""


def state_of(warehouse: Path) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        fp = con.execute("select value from load_info where key = 'fingerprint'").fetchone()[0]
        return {
            "fingerprint": fp,
            **{t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES},
        }


def waits_for(pid: int, holder: int, lock_folder: Path) -> bool:
    """Does process `pid` have open a lock file (in `lock_folder`) that process `holder`
    holds? Then it is waiting for it (`store.file_lock` opens the file, then tries the lock)."""
    with contextlib.suppress(OSError):  # the process, or one of its files, just went away
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = Path(os.readlink(fd))
            held = target.parent == lock_folder and target.is_file()
            if held and target.read_text().startswith(f"process {holder} "):
                return True
    return False


def has_open(pid: int, path: Path, timeout_s: float = 60.0) -> bool:
    """Has process `pid` or one of its children (the `duckdb` command is a Python wrapper that
    starts the real binary) opened `path`? Waited for, so that a reader started just before a
    load reads the file before the load replaces it."""
    wanted = str(path.resolve())
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        family, k = [pid], 0
        while k < len(family):
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{family[k]}/task").iterdir():
                    family += [int(c) for c in (task / "children").read_text().split()]
            k += 1
        for member in family:
            with contextlib.suppress(OSError):
                if any(os.readlink(fd) == wanted for fd in Path(f"/proc/{member}/fd").iterdir()):
                    return True
        time.sleep(0.05)
    return False


def python(code: str, *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-c", code, *args],
        cwd=ROOT,
        env=run_env(),
        text=True,
        start_new_session=True,
        **popen,
    )


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """One clean run of the articles: the warehouse every other outcome is compared with."""
    base = tmp_path_factory.mktemp("clean")
    seeds, data = base / "seeds", base / "data"
    write_articles(seeds, ARTICLES)
    assert finish(start_run(seeds, data)) == 0, log_tail(data)
    return {"seeds": seeds, "data": data, "warehouse": data / "warehouse.duckdb"}


def test_a_read_only_session_never_blocks_a_load_and_keeps_its_snapshot(clean_run, tmp_path):
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    shutil.copytree(clean_run["seeds"], seeds)
    shutil.copytree(clean_run["data"], data)
    warehouse = data / "warehouse.duckdb"
    before = state_of(warehouse)

    session = python(HELD_SESSION, str(warehouse), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    cli = subprocess.Popen(  # the DuckDB command line an analyst would use, held open
        [str(DUCKDB_CLI), "-readonly", str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stop, seen_log = tmp_path / "stop", tmp_path / "seen.jsonl"
    poller = python(POLLER, str(warehouse), str(seen_log), str(stop))
    try:
        assert json.loads(session.stdout.readline()) == before
        # the command line opens the file at its start, which a loaded machine may delay past
        # the load's swap: the load begins once it has the file open
        assert has_open(cli.pid, warehouse), "the DuckDB command line never opened the file"
        write_articles(seeds, NEW_ARTICLE)
        load = start_run(seeds, data)
        # the readers' processes sit on the open file the whole time; a load that waited on
        # them (as with dagster-duckdb's retries) would fail or not finish at all
        assert finish(load) == 0, log_tail(data)
        assert session.poll() is None and cli.poll() is None, "a reader ended during the load"
        after = state_of(warehouse)
        time.sleep(0.2)  # a few more fresh sessions after the swap
    finally:
        stop.touch()
        poller.wait(30)
    assert after["documents"] == before["documents"] + 1

    # the session opened before the load still reads the snapshot it opened
    session.stdin.write("again\n")
    session.stdin.flush()
    assert json.loads(session.stdout.readline()) == before
    session.stdin.close()
    assert session.wait(30) == 0
    out, _ = cli.communicate("select 'documents=' || count(*) from documents;\n", timeout=30)
    assert f"documents={before['documents']}" in out, out

    # every fresh session saw a whole warehouse: the old one, then the new one, never a mix
    seen = [json.loads(line) for line in seen_log.read_text().splitlines()]
    assert [s for s in seen if s not in (before, after)] == []
    assert seen[0] == before and seen[-1] == after
    changes = sum(1 for a, b in itertools.pairwise(seen) if a != b)
    assert changes == 1


def test_two_whole_runs_started_at_once_leave_what_one_run_leaves(clean_run, tmp_path):
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    shutil.copytree(clean_run["seeds"], seeds)
    first = start_run(seeds, data, log=tmp_path / "first.log")
    second = start_run(seeds, data, log=tmp_path / "second.log")
    codes = [finish(first), finish(second)]
    logs = [(tmp_path / f"{n}.log").read_text(errors="replace") for n in ("first", "second")]
    assert 0 in codes, logs
    for code, log in zip(codes, logs, strict=True):
        # a run that did not finish must say why, in words: another run holds what it needs
        assert code == 0 or re.search(r"still holds .* after \d+ s of waiting", log), log[-3000:]
    assert_same_warehouse(data / "warehouse.duckdb", clean_run["warehouse"])
    assert_lake_is_clean(data)


def test_two_loaders_at_once_queue_and_the_second_finds_the_warehouse_current(clean_run, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(clean_run["data"], data)
    warehouse = data / "warehouse.duckdb"
    warehouse.unlink()
    holder = python(HOLD_LOCK, str(warehouse), "2", stdout=subprocess.PIPE)
    assert holder.stdout.readline().strip() == "held"
    store, timeout = str(data / "lake"), "60"
    loaders = [python(BUILD, store, str(warehouse), timeout, stdout=subprocess.PIPE) for _ in "ab"]
    results = [json.loads(p.communicate(timeout=90)[0]) for p in loaders]
    released_at = float(holder.communicate(timeout=30)[0])
    assert holder.returncode == 0
    assert sorted(r["rebuilt"] for r in results) == [False, True]  # one built, one found it done
    assert all(r["done_at"] >= released_at for r in results)  # both waited for the lock
    assert_same_warehouse(warehouse, clean_run["warehouse"])


def test_a_loader_that_waits_too_long_stops_with_a_clear_message(clean_run, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(clean_run["data"], data)
    warehouse = data / "warehouse.duckdb"
    before = (warehouse.stat().st_ino, warehouse.stat().st_mtime_ns)
    holder = python(HOLD_LOCK, str(warehouse), "30", stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "held"
        Lake(str(data / "lake")).delete("rejected_files", "true")  # a change: a new version
        loader = python(BUILD, str(data / "lake"), str(warehouse), "1", stdout=subprocess.PIPE)
        out, _ = loader.communicate(timeout=60)
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(30)
    assert loader.returncode == 3
    message = json.loads(out)["busy"]
    assert str(warehouse) in message and "stopped without changing it" in message
    assert f"process {holder.pid} (loading {warehouse}" in message
    assert (warehouse.stat().st_ino, warehouse.stat().st_mtime_ns) == before


def test_overlapping_runs_leave_the_lake_whole(clean_run, tmp_path):
    """A slow run (one document per batch) and a normal run over the same new folder: the slow
    run pauses in its second batch (after its `documents` commit), the other runs meanwhile (or
    waits), then the slow one ends.
    Afterwards a normal run must give the clean warehouse."""
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    shutil.copytree(clean_run["seeds"], seeds)
    go = tmp_path / "go"
    slow = run_until(
        seeds, data, "committed:documents", nth=2, go=go, NEWS_BATCH_SIZE="1", NEWS_TASK_SIZE="1"
    )
    other = start_run(seeds, data, log=tmp_path / "other.log")
    # it finishes, or it waits for a lock the paused run holds: then let the slow one go on
    lock_folder = data / "lake" / ".locks"
    deadline = time.monotonic() + 300
    while other.poll() is None and not waits_for(other.pid, slow.pid, lock_folder):
        assert time.monotonic() < deadline, "the other run neither finished nor waited"
        time.sleep(0.1)
    go.touch()
    finish(slow)
    finish(other)
    after = start_run(seeds, data, log=tmp_path / "after.log")
    assert finish(after) == 0, (tmp_path / "after.log").read_text()[-3000:]
    assert_same_warehouse(data / "warehouse.duckdb", clean_run["warehouse"])
    assert_lake_is_clean(data)
    committed = incremental.committed_documents(Lake(str(data / "lake")))
    assert len(committed) == len([t for t in ARTICLES.values() if t])
