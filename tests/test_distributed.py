"""Past one machine, for real: the shards on two Celery workers over a Redis broker, and the lake's
Delta tables in S3 (a moto server), written by one run or by two machines at once (simulated: two
processes with separate lock folders), each compared with a plain single-process run.

Nothing here is mocked: `redis-server` (Debian's) and `moto_server` listen on loopback ports of
their own, the Celery workers are `dagster-celery worker start` processes, and the pipeline
chooses its executor and its storage from the environment only (NEWS_EXECUTOR, NEWS_LAKE_URL),
the way a deployment would.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.core.incremental import SHARDS
from pipelines.core.tables import PRIMARY_KEYS
from tests.conftest import ROOT, SHARED, materialize_all
from tests.helpers import assert_same_warehouse, free_port

pytestmark = pytest.mark.slow

BBC = SHARED / "corpora" / "bbc"
BIN = Path(sys.executable).parent
# The orchestration a backfill with NEWS_SHARDS_PER_RUN=4 performs: the scan, one run per four
# shards (runs side by side: four orchestrating processes here, one run each), then the usual
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


def wait_for(predicate, what: str, timeout_s: float = 60.0) -> None:
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


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Path:
    """40 BBC articles (every 50th file), in two folders."""
    if not BBC.is_dir():
        pytest.fail(f"the BBC corpus is missing at {BBC}")
    folder = tmp_path_factory.mktemp("distributed") / "seeds"
    for i, path in enumerate(sorted(BBC.glob("*.txt"))[::50][:40]):
        target = folder / ("a" if i % 2 else "b") / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return folder


@pytest.fixture(scope="module")
def reference(seeds, tmp_path_factory) -> Path:
    """The same files through one ordinary in-process run: the warehouse to compare with."""
    mp = pytest.MonkeyPatch()
    data = tmp_path_factory.mktemp("reference") / "data"
    materialize_all(seeds, data, mp)
    mp.undo()
    return data / "warehouse.duckdb"


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
    shutil.copy(ROOT / "pipelines" / "dagster.yaml", home / "dagster.yaml")
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


# Every S3 client here (boto3, so s3fs) retries a refused or dropped connection: a loaded moto
# server can refuse one for a moment (delta-rs's client retries of its own).
S3_RETRIES = {"AWS_MAX_ATTEMPTS": "10", "AWS_RETRY_MODE": "standard"}


# moto's S3 checks a conditional put (`If-None-Match: *`, which delta-rs uses to commit a
# version) and then writes it without a lock, so on its threaded server two writers racing for one
# version can both "win"; real S3 decides it atomically. moto's own app, served by werkzeug as
# `moto_server` serves it, but one request at a time, keeps that guarantee.
SERIAL_MOTO = """
import sys, threading
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication, MotoRequestHandler, create_backend_app)
app, lock = DomainDispatcherApplication(create_backend_app), threading.Lock()
def one_at_a_time(environ, start_response):
    with lock:
        return list(app(environ, start_response))
run_simple(sys.argv[1], int(sys.argv[2]), one_at_a_time, threaded=True,
           request_handler=MotoRequestHandler)
"""


@pytest.fixture(scope="module")
def moto(tmp_path_factory) -> Iterator[str]:
    """A moto server on loopback, once for the module; yields its endpoint once it answers."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "python"), "-c", SERIAL_MOTO, "127.0.0.1", str(port)],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if server.poll() is not None:
            raise AssertionError(f"moto_server ended:\n{log.read_text()[-3000:]}")
        try:  # moto's own page: the server is up and serving requests
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    wait_for(answers, "moto_server answering", 120)
    yield endpoint
    stop(server)


@pytest.fixture
def s3_url(moto, monkeypatch):
    """A bucket of its own on the module's moto server, and the environment that points at
    it: (lake URL, a boto3 client, the bucket)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto,  # botocore (so s3fs) and delta-rs send every call there
        "AWS_ALLOW_HTTP": "true",  # delta-rs: the loopback server speaks plain HTTP
        **S3_RETRIES,
    }.items():
        monkeypatch.setenv(name, value)
    import boto3
    from botocore.config import Config

    retries = Config(retries={"max_attempts": 10, "mode": "standard"})
    client = boto3.client("s3", endpoint_url=moto, config=retries)
    bucket = f"news-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    yield f"s3://{bucket}/warehouse/lake", client, bucket


# One machine's run: the whole job in process, on the lake NEWS_LAKE_URL names (not
# `scripts/run_pipeline.py`, which drops NEWS_LAKE_URL to write the local lake of its data folder).
TWO_WRITERS = """
import os, sys
import dagster as dg
os.environ["NEWS_SEEDS_DIR"], os.environ["NEWS_DATA_DIR"] = sys.argv[1], sys.argv[2]
from pipelines.definitions import defs
result = defs.resolve_job_def("news_etl").execute_in_process(
    instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
sys.exit(0 if result.success else 1)
"""


def test_two_machines_writing_one_lake_in_s3_leave_what_one_run_leaves(
    seeds, reference, s3_url, tmp_path, monkeypatch
):
    """Two runs started at once on "two machines": separate processes, data folders (so
    warehouses) and lock folders, so nothing local serialises them; only the Delta log in the
    one bucket (its commits are conditional puts) does. Both succeed, and a run after them
    parses nothing and gives the warehouse a single run gives, on a lake whose every document
    is committed once, whose tables are all in the bucket (none on disk), and which stays
    incremental there: a deleted file's rows go."""
    url, client, bucket = s3_url
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_")}
    procs = []
    for machine in ("a", "b"):
        (tmp_path / f"locks-{machine}").mkdir()
        machine_env = {
            **env,
            "PYTHONPATH": str(ROOT),
            "NEWS_LAKE_URL": url,
            "NEWS_LOCK_DIR": str(tmp_path / f"locks-{machine}"),
            "NEWS_WORKERS": "1",
            "NEWS_BATCH_SIZE": "10",  # four commits each, so the two interleave
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", TWO_WRITERS, str(seeds), str(tmp_path / f"data-{machine}")],
                cwd=ROOT,
                env=machine_env,
                stdout=(tmp_path / f"{machine}.log").open("w"),
                stderr=subprocess.STDOUT,
            )
        )
    for machine, proc in zip("ab", procs, strict=True):
        assert proc.wait(900) == 0, (tmp_path / f"{machine}.log").read_text()[-3000:]
    from pipelines.core import incremental
    from pipelines.core.store import Lake
    from pipelines.definitions import defs

    monkeypatch.setenv("NEWS_SEEDS_DIR", str(seeds))
    monkeypatch.setenv("NEWS_DATA_DIR", str(tmp_path / "data-after"))
    monkeypatch.setenv("NEWS_LAKE_URL", url)
    monkeypatch.delenv("NEWS_WAREHOUSE_PATH", raising=False)

    def run() -> dg.ExecuteInProcessResult:
        result = defs.resolve_job_def("news_etl").execute_in_process(
            instance=dg.DagsterInstance.ephemeral()
        )
        assert result.success
        return result

    after = run()
    parsed = [
        e.materialization.metadata["documents_parsed"].value
        for e in after.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("documents")
    ]
    assert parsed and set(parsed) == {0}  # the two machines parsed everything between them
    warehouse = tmp_path / "data-after" / "warehouse.duckdb"
    assert_same_warehouse(warehouse, reference)
    lake = Lake(url)
    committed = lake.read(incremental.COMMITTED).select("doc_id", "content_sha256").sort("doc_id")
    documents = lake.read("documents").select("doc_id", "content_sha256").sort("doc_id")
    assert committed.equals(documents) and committed.height == 40
    for table, key in PRIMARY_KEYS.items():
        assert lake.read(table)[key].is_duplicated().sum() == 0, table

    # the tables are in the bucket, Delta log and Parquet files, and nothing of them on disk
    objects = [
        o["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
    ]
    for table in ("documents", "document_claims", "claims", "committed_documents"):
        assert any(k.startswith(f"warehouse/lake/{table}/_delta_log/") for k in objects), table
        assert any(
            k.startswith(f"warehouse/lake/{table}/") and k.endswith(".parquet") for k in objects
        )
    for data in ("data-a", "data-b", "data-after"):
        assert not (tmp_path / data / "lake").exists(), data

    # incremental there too: a deleted file's rows go (an unchanged re-run that loads nothing is
    # pinned on the local lake, tests/test_incremental.py; each run here costs a minute of moto)
    gone = sorted(seeds.rglob("*.txt"))[0]
    saved = gone.read_bytes()
    gone.unlink()
    try:
        run()
        with duckdb.connect(str(warehouse), read_only=True) as con:
            paths = {r[0] for r in con.execute("select source_path from documents").fetchall()}
        assert gone.relative_to(seeds).as_posix() not in paths and len(paths) == 39
    finally:
        gone.write_bytes(saved)
