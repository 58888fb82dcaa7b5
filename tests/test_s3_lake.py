"""Past one machine, for real: the lake's Delta tables in S3 (a moto server), written by two
machines at once (simulated: two processes with separate lock folders), compared with a plain
single-process run.

Nothing here is mocked: `moto_server`'s app listens on a loopback port of its own, and the
pipeline chooses its storage from the environment only (NEWS_LAKE_URL), the way a deployment
would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.core.tables import PRIMARY_KEYS
from tests.conftest import ROOT
from tests.helpers import assert_same_warehouse, bbc_sample, free_port, stop, wait_for

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Path:
    """20 BBC articles (every 100th file), in two folders."""
    return bbc_sample(tmp_path_factory.mktemp("s3") / "seeds", every=100, count=20)


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
            "NEWS_BATCH_SIZE": "5",  # four commits each, so the two interleave
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
    assert committed.equals(documents) and committed.height == 20
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
        assert gone.relative_to(seeds).as_posix() not in paths and len(paths) == 19
    finally:
        gone.write_bytes(saved)
