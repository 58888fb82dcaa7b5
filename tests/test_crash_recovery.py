"""Crashes: real pipeline runs killed with SIGKILL at many points, then run again.

Every run here is a real process (`scripts/run_pipeline.py`: a whole in-process Dagster run) over
real files, killed with `kill -9` on its process group. A kill point is reached either blindly (the
test watches the data folder and kills the moment a file appears) or exactly: a small runner wraps
one storage function so that the run writes a marker and sleeps at that point, and the test kills
it there. Nothing is mocked: the run does all its real work up to the kill.

After each kill, every Delta reader sees, in the latest version of every lake table, rows whose
foreign keys resolve and keys that are unique; after the kills, a normal run must leave exactly
the warehouse a clean run leaves (every table and view, row by row, apart from the load
timestamps `ingested_at` and `detected_at`), and a lake in which every document is committed once.
While a run is dead, the warehouse that is there is always a whole one: the previous good load,
never a half-built file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pipelines.core import incremental
from pipelines.core.store import Lake
from pipelines.core.tables import FOREIGN_KEYS, PRIMARY_KEYS
from tests.helpers import assert_same_warehouse

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
RUN_PIPELINE = ROOT / "scripts" / "run_pipeline.py"

ARTICLES = {
    "world/storm.txt": (
        "Storm hits the coast\n\n"
        "A storm hit the coast of Wales on Monday, the Met Office said.\n"
        '"We urge people to stay at home tonight," said John Smith, a spokesman.\n'
        "About 2,000 homes lost power.\n"
    ),
    "business/rates.txt": (
        "Bank raises rates\n\n"
        "The Bank of England raised interest rates by 0.25 percent on Thursday.\n"
        "Its governor, Andrew Bailey, told the BBC that inflation was still too high.\n"
    ),
    "sport/cup.txt": (
        "United win the cup\n\n"
        "Manchester United beat Chelsea 2-1 at Wembley on Saturday.\n"
        '"It was a great day for the club," said Erik ten Hag after the match.\n'
    ),
    "tech/chips.txt": (
        "Chip maker opens plant\n\n"
        "Intel opened a 20 billion dollar factory in Ohio on Friday.\n"
        '"This is a great day for American manufacturing," said Pat Gelsinger.\n'
    ),
    "world/ferry.txt": (
        "Ferry operator cuts routes\n\n"
        "Stena Line will stop sailing between Rosslare and Fishguard in March.\n"
        "Chief executive Niclas Martensson told RTE that 120 jobs would go.\n"
    ),
    "health/flu.txt": (
        "Flu cases rise\n\n"
        "Flu cases in France rose by 30 percent last week, health officials in Paris said.\n"
    ),
    "broken.txt": "",  # refused: rejected_files must come through the kills too
}
# The update: a changed file (in the same shard as world/ferry.txt, so the shard's part is
# rewritten without it), a deleted file and a new one.
CHANGES = {
    "health/flu.txt": (
        "Flu cases fall\n\n"
        "Flu cases in France fell by 12 percent last week, Marie Dubois of the health "
        "ministry said.\n"
    ),
    "sport/cup.txt": None,
    "science/moon.txt": (
        "Probe lands on the Moon\n\n"
        "A Japanese probe landed on the Moon on Saturday, JAXA said in Tokyo.\n"
    ),
}

# Runs the real pipeline, pausing (marker file, then sleep) at one exact point so the test can
# kill it there, or let it carry on. Only the pause is added: every function does its real work.
RUNNER = r"""
import os, runpy, sys, time
from pathlib import Path

point, nth = os.environ["CRASH_POINT"], int(os.environ.get("CRASH_NTH", "1"))
marker = Path(os.environ["CRASH_MARKER"])
from pipelines.core import store, warehouse

hits = [0]

go = os.environ.get("CRASH_GO")  # set: wait for this file, then carry on (a slow run)

def pause():
    hits[0] += 1
    if hits[0] == nth:
        marker.write_text(point)
        while go is None or not Path(go).exists():
            time.sleep(0.02)

def building():  # a new warehouse file is being filled
    data = Path(os.environ["CRASH_DATA"])
    return any(p.name.endswith(".tmp") for p in data.glob(".warehouse.duckdb.*"))

table = point.partition(":")[2]
if point.startswith("commit:"):  # the nth commit of a table about to be made (files not yet)
    commit = store.Lake._commit
    def _commit(self, name, write):
        if name == table:
            pause()
        return commit(self, name, write)
    store.Lake._commit = _commit
elif point.startswith("committed:"):  # the nth commit of a table made, the next not begun
    commit = store.Lake._commit
    def _commit(self, name, write):
        version = commit(self, name, write)
        if name == table:
            pause()
        return version
    store.Lake._commit = _commit
elif point == "warehouse-mid":  # inside the load, between two tables
    query = warehouse.TableLoad.query
    def _query(self, files):
        if self.table == "sentences" and building():
            pause()
        return query(self, files)
    warehouse.TableLoad.query = _query
elif point == "warehouse-built":  # the new file committed and closed, not yet renamed
    write_db = warehouse._write
    def _write_db(*args, **kwargs):
        write_db(*args, **kwargs)
        pause()
    warehouse._write = _write_db
elif point == "after-scan":  # the folder read and checked, nothing parsed yet
    from pipelines.core import inventory
    scan = inventory.scan
    def _scan(*args, **kwargs):
        found = scan(*args, **kwargs)
        pause()
        return found
    inventory.scan = _scan
else:
    raise SystemExit(f"unknown crash point {point}")

sys.argv = ["run_pipeline.py", *sys.argv[1:]]
runpy.run_path(os.environ["CRASH_SCRIPT"], run_name="__main__")
"""


def write_articles(seeds: Path, articles: dict[str, str | None]) -> None:
    for name, text in articles.items():
        path = seeds / name
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def run_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_")}
    env.update({"PYTHONPATH": str(ROOT), "NEWS_WORKERS": "1"}, **extra)
    return env


def start_run(
    seeds: Path, data: Path, env: dict[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen:
    """A whole pipeline run in its own process group (so a kill takes all of it)."""
    out = open(log or data.parent / f"{data.name}-run.log", "ab")  # noqa: SIM115
    return subprocess.Popen(
        [PYTHON, str(RUN_PIPELINE), str(seeds), str(data)],
        cwd=ROOT,
        env=env or run_env(),
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


# How long a run may take before the test calls it hung: generous, as the machine is shared
# (a run here takes 5-30 s); a guard against hanging, not a speed goal.
RUN_TIMEOUT_S = 300


def finish(proc: subprocess.Popen, timeout: float = RUN_TIMEOUT_S) -> int:
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        kill(proc)
        raise


def kill(proc: subprocess.Popen) -> None:
    """kill -9 the run and everything it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)


def log_tail(data: Path) -> str:
    log = data.parent / f"{data.name}-run.log"
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def run_to_completion(seeds: Path, data: Path, **extra: str) -> None:
    code = finish(start_run(seeds, data, run_env(**extra)))
    assert code == 0, log_tail(data)


def run_until(
    seeds: Path, data: Path, point: str, nth: int = 1, go: Path | None = None, **extra: str
) -> subprocess.Popen:
    """Start a run that pauses at the exact point (until `go` exists, if given); return once it
    is there."""
    marker = data.parent / f"{data.name}-{point.replace(':', '-')}-{nth}.marker"
    marker.unlink(missing_ok=True)
    env = run_env(
        CRASH_POINT=point,
        CRASH_NTH=str(nth),
        CRASH_MARKER=str(marker),
        CRASH_DATA=str(data),
        CRASH_SCRIPT=str(RUN_PIPELINE),
        **({"CRASH_GO": str(go)} if go else {}),
        **extra,
    )
    out = open(data.parent / f"{data.name}-run.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [PYTHON, "-c", RUNNER, str(seeds), str(data)],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"run ended before {point} #{nth}:\n{log_tail(data)}")
        if time.monotonic() > deadline:
            kill(proc)
            raise AssertionError(f"{point} #{nth} never reached")
        time.sleep(0.01)
    return proc


def kill_at(seeds: Path, data: Path, point: str, nth: int = 1, **extra: str) -> None:
    """Run until the exact point, then kill -9 there."""
    proc = run_until(seeds, data, point, nth, **extra)
    kill(proc)
    assert proc.returncode == -signal.SIGKILL


def kill_when(seeds: Path, data: Path, seen: Callable[[], bool], what: str, **extra: str) -> None:
    """Run, and kill -9 the moment `seen()` is true (no pause: wherever the run is then)."""
    proc = start_run(seeds, data, run_env(**extra))
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while not seen():
        if proc.poll() is not None:
            raise AssertionError(f"run ended before {what} was seen:\n{log_tail(data)}")
        assert time.monotonic() < deadline, f"{what} never seen"
        time.sleep(0.002)
    kill(proc)
    assert proc.returncode == -signal.SIGKILL


# The lake's own tables that point to others, beside the contract's: the per-document stage.
LAKE_KEYS = {
    **FOREIGN_KEYS,
    ("document_mentions", "doc_id"): ("documents", "doc_id"),
    ("document_mentions", "sentence_id"): ("sentences", "sentence_id"),
    ("document_claims", "doc_id"): ("documents", "doc_id"),
    ("document_claims", "sentence_id"): ("sentences", "sentence_id"),
}


def assert_lake_resolves(data: Path) -> None:
    """What any Delta reader sees now (the latest version of every table): every foreign key
    resolves, every key is unique."""
    lake = Lake(str(data / "lake"))
    for (table, column), (target, key) in LAKE_KEYS.items():
        rows = lake.read(table).select(column).drop_nulls()
        dangling = rows.join(
            lake.read(target).select(key), left_on=column, right_on=key, how="anti"
        )
        assert dangling.is_empty(), f"{table}.{column}: {dangling.height} rows point nowhere"
    for table, key in PRIMARY_KEYS.items():
        assert lake.read(table)[key].is_duplicated().sum() == 0, table


def assert_lake_is_clean(data: Path) -> None:
    """No temporary file beside the warehouse; every document committed once, for the content
    `documents` holds; the lake's foreign keys resolve."""
    leftovers = [p for p in data.glob("*") if p.name.endswith((".tmp", ".wal"))]
    assert leftovers == []
    lake = Lake(str(data / "lake"))
    committed = lake.read(incremental.COMMITTED).select("doc_id", "content_sha256").sort("doc_id")
    documents = lake.read("documents").select("doc_id", "content_sha256").sort("doc_id")
    assert committed.equals(documents)
    assert_lake_resolves(data)


def data_files(data: Path) -> int:
    """The Parquet files in every lake table's folder (committed or not)."""
    return sum(1 for _ in (data / "lake").glob("*/*.parquet"))


def building_warehouse(data: Path) -> bool:
    return any(p.name.endswith(".tmp") for p in data.glob(".warehouse.duckdb.*"))


@pytest.fixture(scope="module")
def clean_runs(tmp_path_factory):
    """Clean runs to compare with: the articles, and the articles after the update."""
    base = tmp_path_factory.mktemp("clean")
    seeds_v1, seeds_v2 = base / "seeds-v1", base / "seeds-v2"
    write_articles(seeds_v1, ARTICLES)
    shutil.copytree(seeds_v1, seeds_v2)
    write_articles(seeds_v2, CHANGES)
    procs = [start_run(s, base / f"data-{v}") for v, s in (("v1", seeds_v1), ("v2", seeds_v2))]
    for v, proc in zip(("v1", "v2"), procs, strict=True):
        assert finish(proc) == 0, log_tail(base / f"data-{v}")
    return {
        "seeds_v1": seeds_v1,
        "seeds_v2": seeds_v2,
        "data_v1": base / "data-v1",
        "warehouse_v1": base / "data-v1" / "warehouse.duckdb",
        "warehouse_v2": base / "data-v2" / "warehouse.duckdb",
    }


def test_a_first_load_killed_seven_times_then_run_again_equals_a_clean_run(
    clean_runs, tmp_path: Path
):
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    shutil.copytree(clean_runs["seeds_v1"], seeds)
    one_batch_each = {"NEWS_BATCH_SIZE": "1", "NEWS_TASK_SIZE": "1"}
    warehouse = data / "warehouse.duckdb"

    # 1. The second batch's documents committed, its sentences not yet.
    kill_at(seeds, data, "commit:sentences", nth=2, **one_batch_each)
    assert_lake_resolves(data)
    assert not warehouse.exists()
    # 2. A batch's every table committed but its commit point, `committed_documents`.
    kill_at(seeds, data, "commit:committed_documents", nth=2, **one_batch_each)
    assert_lake_resolves(data)
    # 3. Between the corpus step's commits: entities (with the old ones kept) committed.
    kill_at(seeds, data, "committed:entities", nth=1, **one_batch_each)
    assert_lake_resolves(data)
    # 4. Blind: the moment one more data file appears in any table, wherever the run is then.
    before = data_files(data)
    kill_when(seeds, data, lambda: data_files(data) > before, "a new file", **one_batch_each)
    assert_lake_resolves(data)
    assert not warehouse.exists()
    # 5. Inside the warehouse load, between two tables.
    kill_at(seeds, data, "warehouse-mid", **one_batch_each)
    assert not warehouse.exists(), "a half-loaded warehouse was put in place"
    # 6. The new warehouse file complete and closed, but not yet renamed into place.
    kill_at(seeds, data, "warehouse-built", **one_batch_each)
    assert not warehouse.exists()
    # 7. Blind: the moment a new warehouse file is being built.
    kill_when(seeds, data, lambda: building_warehouse(data), "a warehouse build")
    assert not warehouse.exists()

    run_to_completion(seeds, data)
    assert_same_warehouse(warehouse, clean_runs["warehouse_v1"])
    assert_lake_is_clean(data)


def test_an_update_killed_four_times_keeps_the_old_warehouse_then_equals_a_clean_run(
    clean_runs, tmp_path: Path
):
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    shutil.copytree(clean_runs["seeds_v1"], seeds)
    shutil.copytree(clean_runs["data_v1"], data)
    warehouse = data / "warehouse.duckdb"
    write_articles(seeds, CHANGES)

    # 1. The deleted file's rows gone from the corpus tables and the stage, not yet from
    # `documents`: children go first.
    kill_at(seeds, data, "commit:documents")
    assert_lake_resolves(data)
    assert_same_warehouse(warehouse, clean_runs["warehouse_v1"])
    # 2. The changed file's old mentions deleted, its new sentences not yet committed.
    kill_at(seeds, data, "commit:sentences")
    assert_lake_resolves(data)
    assert_same_warehouse(warehouse, clean_runs["warehouse_v1"])
    # 3. The changed file's every table committed but the commit point.
    kill_at(seeds, data, "commit:committed_documents")
    assert_lake_resolves(data)
    # 4. Inside the new warehouse's load: the old warehouse stays whole and in place.
    kill_at(seeds, data, "warehouse-mid")
    assert_same_warehouse(warehouse, clean_runs["warehouse_v1"])

    run_to_completion(seeds, data)
    assert_same_warehouse(warehouse, clean_runs["warehouse_v2"])
    assert_lake_is_clean(data)


def test_the_warehouse_never_reads_a_file_the_log_does_not_list(clean_runs, tmp_path: Path):
    """What a killed (or still running) run wrote but did not commit is never loaded."""
    data = tmp_path / "data"
    shutil.copytree(clean_runs["data_v1"], data)
    (data / "warehouse.duckdb").unlink()
    lake = Lake(str(data / "lake"))
    for table in incremental.DOC_TABLES:
        files = lake.files(table)
        folder = data / "lake" / table
        # a copy of a committed file (its documents twice over), and a truncated file
        shutil.copy(files[0], folder / "part-00000-uncommitted-c000.zstd.parquet")
        raw = Path(files[-1]).read_bytes()
        (folder / "part-00001-halfwritten-c000.zstd.parquet").write_bytes(raw[: len(raw) // 2])
    from pipelines.core import warehouse

    report = warehouse.build(lake, data / "warehouse.duckdb")
    assert report.rebuilt
    assert_same_warehouse(data / "warehouse.duckdb", clean_runs["warehouse_v1"])
