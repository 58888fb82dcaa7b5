"""Past one machine, for real: the shards on two Celery workers over a Redis broker, compared
with a plain single-process run.

Nothing here is mocked: `redis-server` (Debian's) listens on a loopback port of its own, the
Celery workers are `dagster-celery worker start` processes, and the pipeline chooses its executor
from the environment only (NEWS_EXECUTOR), the way a deployment would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipelines import instance_settings
from pipelines.core.incremental import SHARDS
from tests.conftest import ROOT
from tests.helpers import assert_same_warehouse, bbc_sample, free_port, stop, wait_for

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
# The orchestration a backfill with NEWS_SHARDS_PER_RUN=4 performs: the scan, one run per four
# shards (runs side by side: four orchestrating processes here, one run each, so the two
# workers always have a queue and their steps overlap), then the usual
# run, which parses nothing more and checks and loads what the shards wrote. It runs in
# processes of its own, because NEWS_EXECUTOR is read when the code location loads.
DRIVER = """
import json, os, sys
import dagster as dg
from tests.helpers import news_etl

job = dg.reconstructable(news_etl)
instance = dg.DagsterInstance.get()
keys = lambda *names: {dg.AssetKey(n) for n in names}

def run(selection, shards=None):
    tags = {}
    if shards is not None:
        tags = {"dagster/asset_partition_range_start": shards[0],
                "dagster/asset_partition_range_end": shards[-1]}
    target = job if selection is None else job.get_subset(
        asset_selection=selection, asset_check_selection=set())
    result = dg.execute_job(target, instance, tags=tags)
    print("RESULT " + json.dumps({"run_id": result.run_id, "success": result.success,
                                  "shards": shards, "driver_pid": os.getpid()}), flush=True)

what = sys.argv[1]
if what == "scan":
    run(keys("source_files", "rejected_files", "file_warnings"))
elif what == "all":
    run(None)
else:  # a range of shards, e.g. "0-3"
    run(keys("documents", "sentences", "document_mentions", "document_claims"), what.split("-"))
"""
RANGES = [f"{SHARDS[i]}-{SHARDS[i + 3]}" for i in range(0, len(SHARDS), 4)]


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Path:
    """40 BBC articles (every 50th file), in two folders."""
    return bbc_sample(tmp_path_factory.mktemp("celery") / "seeds", every=50, count=40)


@pytest.fixture
def redis_url(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    wait_for(answers, "redis-server answering")
    yield f"redis://127.0.0.1:{port}/0"
    stop(server)


@pytest.mark.timeout(900)
def test_shards_run_in_parallel_on_two_celery_workers(seeds, reference, redis_url, tmp_path):
    home, data = tmp_path / "dagster_home", tmp_path / "data"
    home.mkdir()
    instance_settings.write(home)
    config = tmp_path / "celery.yaml"
    config.write_text(
        f"execution:\n  config:\n    broker: '{redis_url}'\n    backend: '{redis_url}'\n"
    )
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DAGSTER_HOME": str(home),
        "NEWS_SEEDS_DIR": str(seeds),
        "NEWS_DATA_DIR": str(data),
        "NEWS_EXECUTOR": "celery",
        "NEWS_CELERY_BROKER": redis_url,
        "NEWS_WORKERS": "1",  # a worker parses in its own process: the cluster is the pool
    }
    for name in ("NEWS_PARQUET_URL", "NEWS_LAKE_URL", "NEWS_WAREHOUSE_PATH", "NEWS_SHARDS_PER_RUN"):
        env.pop(name, None)
    # create the instance's storage once, before two workers race to create it
    dg.DagsterInstance.from_config(str(home)).dispose()
    workers, logs = [], []
    try:
        for name in ("w1", "w2"):
            log = tmp_path / f"{name}.log"
            logs.append(log)
            command = [
                *(str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app"),
                *("-y", str(config), "--name", f"{name}@%h", "--", "--concurrency=1"),
            ]
            workers.append(
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=log.open("w"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        for log in logs:
            wait_for(lambda log=log: " ready." in log.read_text(), f"worker {log.stem} ready", 90)

        def drive(*what: str) -> list[dict]:
            processes = [
                subprocess.Popen(
                    [sys.executable, "-c", DRIVER, w],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=(tmp_path / f"driver-{i}.log").open("w"),
                    text=True,
                )
                for i, w in enumerate(what)
            ]
            found = []
            for process in processes:
                out, _ = process.communicate(timeout=900)
                found += [
                    json.loads(line.removeprefix("RESULT "))
                    for line in out.splitlines()
                    if line.startswith("RESULT ")
                ]
            return found

        runs = drive("scan")
        runs += drive(*RANGES)
        runs += drive("all")
    finally:
        for worker in workers:
            stop(worker)
    assert len(runs) == 2 + len(RANGES), runs
    assert all(r["success"] for r in runs), runs

    # the warehouse is the single-process run's, row for row
    assert_same_warehouse(data / "warehouse.duckdb", reference)

    # every step ran in a Celery worker, never in the driver, and the shards' steps ran on both
    # workers at the same time
    drivers = {r["driver_pid"] for r in runs}
    instance = dg.DagsterInstance.from_config(str(home))
    spans: dict[str, list[tuple[int, float, float]]] = {}
    for run in runs:
        starts = {}
        for entry in instance.all_logs(run["run_id"]):
            event = entry.dagster_event
            if event is None or event.step_key is None:
                continue
            if event.event_type_value == "STEP_START":
                starts[event.step_key] = (event.pid, entry.timestamp)
                assert event.pid not in drivers
            elif event.event_type_value == "STEP_SUCCESS" and event.step_key in starts:
                pid, start = starts[event.step_key]
                spans.setdefault(event.step_key, []).append((pid, start, entry.timestamp))
    shard_steps = spans["annotate_documents"]
    assert len(shard_steps) == len(RANGES) + 1
    assert len({pid for pid, _s, _e in shard_steps}) >= 2
    overlapping = [
        (a, b)
        for a in shard_steps
        for b in shard_steps
        if a[0] != b[0] and a[1] < b[2] and b[1] < a[2]
    ]
    assert overlapping, "no two shards were parsed at the same time"
    received = [log.read_text().count("received") for log in logs]
    assert all(n > 0 for n in received), received
    instance.dispose()
