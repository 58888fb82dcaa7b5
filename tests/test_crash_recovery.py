"""Crashes: real pipeline runs killed with SIGKILL at many points, then run again.

Every run here is a real process (`scripts/run_pipeline.py`: a whole in-process Dagster run) over
real files, killed with `kill -9` on its process group. A kill point is reached either blindly (the
test watches the data folder and kills the moment a file appears) or exactly: a small runner wraps
one storage function so that the run writes a marker and sleeps at that point, and the test kills
it there. Nothing is mocked: the run does all its real work up to the kill.

After the kills, a normal run must leave exactly the warehouse a clean run leaves (every table and
view, row by row, apart from the load timestamps `ingested_at` and `detected_at`), and the Parquet
store must hold no temporary file and no part file that no manifest lists. While a run is dead, the
warehouse that is there is always a whole one: the previous good load, never a half-built file.
"""

from __future__ import annotations

import contextlib
import json
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
from pipelines.core.store import ParquetStore
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
if point.startswith("part-tmp:"):  # a part's temporary file written, not yet renamed
    replace = store._replace_durably
    def _replace(tmp, final):
        if f"/{table}/" in final:
            pause()
        return replace(tmp, final)
    store._replace_durably = _replace
elif point.startswith("part-written:"):  # a part renamed into place, its manifest not saved
    write = store.ParquetStore.write
    def _write(self, name, part, df):
        write(self, name, part, df)
        if name == table:
            pause()
    store.ParquetStore.write = _write
elif point == "manifest-tmp":  # a manifest's temporary file written, not yet renamed
    replace = store._replace_durably
    def _replace(tmp, final):
        if os.path.basename(final).startswith("_manifest"):
            pause()
        return replace(tmp, final)
    store._replace_durably = _replace
elif point == "part-delete":  # a manifest committed without a part, its files not yet deleted
    delete = store.ParquetStore.delete
    def _delete(self, name, part):
        pause()
        return delete(self, name, part)
    store.ParquetStore.delete = _delete
elif point == "warehouse-mid":  # inside the load transaction, between two tables
    url = store.ParquetStore.url
    def _url(self, name, part=None):
        if name == "sentences" and part is not None and building():
            pause()
        return url(self, name, part)
    store.ParquetStore.url = _url
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


def finish(proc: subprocess.Popen, timeout: float = 120) -> int:
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
    deadline = time.monotonic() + 120
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
    deadline = time.monotonic() + 120
    while not seen():
        if proc.poll() is not None:
            raise AssertionError(f"run ended before {what} was seen:\n{log_tail(data)}")
        assert time.monotonic() < deadline, f"{what} never seen"
        time.sleep(0.002)
    kill(proc)
    assert proc.returncode == -signal.SIGKILL


def assert_store_is_clean(data: Path) -> None:
    """No temporary file anywhere; every part file is committed; no document in two parts."""
    leftovers = [p for p in data.rglob("*") if p.name.endswith((".tmp", ".wal"))]
    assert leftovers == []
    store = ParquetStore(str(data / "parquet"))
    manifest = incremental.load_manifest(store)
    for table in incremental.PART_TABLES:
        assert sorted(store.parts(table)) == sorted(manifest.parts), table
    held = [d for docs in manifest.parts.values() for d in docs]
    assert len(held) == len(set(held))


def part_files(data: Path) -> int:
    directory = data / "parquet" / "documents"
    return sum(1 for p in directory.glob("*.parquet")) if directory.exists() else 0


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
    one_part_each = {"NEWS_BATCH_SIZE": "1", "NEWS_TASK_SIZE": "1"}
    warehouse = data / "warehouse.duckdb"

    # 1. Writing the second document's part: its temporary file is there, not yet renamed.
    kill_at(seeds, data, "part-tmp:documents", nth=2, **one_part_each)
    assert list((data / "parquet" / "documents").glob(".*.tmp")), "no temporary part left"
    assert not warehouse.exists()
    # 2. A part renamed into place, but the manifest that commits it never written.
    kill_at(seeds, data, "part-written:documents", nth=1, **one_part_each)
    # 3. The manifest's own temporary file written, not yet renamed over the old manifest.
    kill_at(seeds, data, "manifest-tmp", nth=2, **one_part_each)
    # 4. Blind: the moment one more part file appears, wherever the run is then.
    before = part_files(data)
    kill_when(seeds, data, lambda: part_files(data) > before, "a new part", **one_part_each)
    assert not warehouse.exists()
    # 5. Inside the warehouse load's transaction, between two tables.
    kill_at(seeds, data, "warehouse-mid", **one_part_each)
    assert not warehouse.exists(), "a half-loaded warehouse was put in place"
    # 6. The new warehouse file complete and closed, but not yet renamed into place.
    kill_at(seeds, data, "warehouse-built", **one_part_each)
    assert not warehouse.exists()
    # 7. Blind: the moment a new warehouse file is being built.
    kill_when(seeds, data, lambda: building_warehouse(data), "a warehouse build")
    assert not warehouse.exists()

    run_to_completion(seeds, data)
    assert_same_warehouse(warehouse, clean_runs["warehouse_v1"])
    assert_store_is_clean(data)


def test_an_update_killed_twice_keeps_the_old_warehouse_then_equals_a_clean_run(
    clean_runs, tmp_path: Path
):
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    shutil.copytree(clean_runs["seeds_v1"], seeds)
    shutil.copytree(clean_runs["data_v1"], data)
    warehouse = data / "warehouse.duckdb"
    write_articles(seeds, CHANGES)
    # the changed file's shard holds two documents in one part: the part is rewritten without it
    shard_a = json.loads((data / "parquet" / "_manifest-a.json").read_text())["parts"]
    assert [len(docs) for docs in shard_a.values()] == [2]

    # 1. The rewritten shard's manifest committed, the old part's files not yet deleted.
    kill_at(seeds, data, "part-delete")
    assert_same_warehouse(warehouse, clean_runs["warehouse_v1"])
    # 2. Inside the new warehouse's load: the old warehouse stays whole and in place.
    kill_at(seeds, data, "warehouse-mid")
    assert_same_warehouse(warehouse, clean_runs["warehouse_v1"])

    run_to_completion(seeds, data)
    assert_same_warehouse(warehouse, clean_runs["warehouse_v2"])
    assert_store_is_clean(data)


def test_the_warehouse_never_reads_a_part_that_no_manifest_lists(clean_runs, tmp_path: Path):
    """What a killed (or still running) run wrote but did not commit is never loaded."""
    data = tmp_path / "data"
    shutil.copytree(clean_runs["data_v1"], data)
    (data / "warehouse.duckdb").unlink()
    committed = sorted(incremental.load_manifest(ParquetStore(str(data / "parquet"))).parts)
    for table in incremental.PART_TABLES:
        folder = data / "parquet" / table
        # a copy of a committed part (its documents twice over), and a truncated file
        shutil.copy(folder / f"{committed[0]}.parquet", folder / "part-0-uncommitted00000.parquet")
        raw = (folder / f"{committed[-1]}.parquet").read_bytes()
        (folder / "part-1-halfwritten000000.parquet").write_bytes(raw[: len(raw) // 2])
    from pipelines.core import warehouse

    report = warehouse.build(ParquetStore(str(data / "parquet")), data / "warehouse.duckdb")
    assert report.rebuilt
    assert_same_warehouse(data / "warehouse.duckdb", clean_runs["warehouse_v1"])


def test_temporary_files_are_removed_only_once_their_writer_is_gone(tmp_path: Path):
    store = ParquetStore(str(tmp_path / "parquet"))
    folder = tmp_path / "parquet" / "entities"
    folder.mkdir(parents=True)
    finished = subprocess.Popen(["true"])
    finished.wait()
    running = subprocess.Popen(["sleep", "30"])
    try:
        dead = folder / f".entities.parquet.{finished.pid}-{'a' * 32}.tmp"
        alive = folder / f".entities.parquet.{running.pid}-{'b' * 32}.tmp"
        manifest_tmp = tmp_path / "parquet" / f"._manifest-a.json.{finished.pid}-{'c' * 32}.tmp"
        for path in (dead, alive, manifest_tmp):
            path.write_bytes(b"half a file")
        assert store.clean_all_temporaries() == 2
        assert alive.exists() and not dead.exists() and not manifest_tmp.exists()
    finally:
        running.kill()
        running.wait()
