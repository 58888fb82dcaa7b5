"""The event log with kept connections writes what Dagster's own SQLite event log writes, where it
writes it, and a watcher of a run (the UI's live view) still sees each event as it comes."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEvent, DagsterEventType, EngineEventData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from pipelines import instance_settings
from pipelines.event_log_storage import KEPT_RUN_DATABASES, KeptConnectionSqliteEventLogStorage


def _event(run_id: str, message: str) -> EventLogEntry:
    event = DagsterEvent(
        DagsterEventType.ENGINE_EVENT.value,
        "job",
        message=message,
        event_specific_data=EngineEventData(),
    )
    return EventLogEntry(
        error_info=None,
        level=20,
        user_message=message,
        run_id=run_id,
        timestamp=time.time(),
        dagster_event=event,
        job_name="job",
    )


def _messages(storage: SqliteEventLogStorage, run_id: str) -> list[str]:
    return [r.event_log_entry.user_message for r in storage.get_records_for_run(run_id).records]


@dg.asset
def tiny() -> int:
    return 1


@dg.asset_check(asset=tiny)
def tiny_is_one(tiny: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=tiny == 1)


def test_the_projects_instance_stores_a_run_as_dagsters_own_storage_reads_it(tmp_path, monkeypatch):
    instance_settings.write(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, KeptConnectionSqliteEventLogStorage)
        result = dg.materialize([tiny, tiny_is_one], instance=instance)
        assert result.success
        run_id = result.run_id
        ours = [(e.dagster_event_type, e.user_message) for e in instance.all_logs(run_id)]
    # the stock class, on the stock place, reads the same run and the same asset records
    stock = SqliteEventLogStorage(str(tmp_path / "history" / "runs"))
    records = stock.get_records_for_run(run_id).records
    assert [
        (r.event_log_entry.dagster_event_type, r.event_log_entry.user_message) for r in records
    ] == ours
    kinds = {kind for kind, _message in ours}
    assert {
        DagsterEventType.ASSET_MATERIALIZATION,
        DagsterEventType.ASSET_CHECK_EVALUATION,
    } <= kinds
    assert DagsterEventType.RUN_SUCCESS in kinds
    latest = stock.get_latest_materialization_events([dg.AssetKey("tiny")])[dg.AssetKey("tiny")]
    assert latest is not None and latest.run_id == run_id
    stock.dispose()


def test_a_watcher_of_the_run_sees_every_event_as_it_is_stored(tmp_path):
    """The UI follows a live run by watching its database file; with a connection kept open the
    events would stay in SQLite's write-ahead log, out of the file, until the run ended."""
    writer = KeptConnectionSqliteEventLogStorage(str(tmp_path))
    watcher = SqliteEventLogStorage(str(tmp_path))  # as the webserver reads it
    run_id = "0" * 8 + "-0000-0000-0000-" + "0" * 12
    writer.store_event(_event(run_id, "first"))  # the run's database exists before the watch
    seen: list[str] = []
    arrived = threading.Event()

    def callback(entry, _cursor):
        seen.append(entry.user_message)
        arrived.set()

    watcher.watch(run_id, None, callback)
    try:
        for n in range(5):
            arrived.clear()
            writer.store_event(_event(run_id, f"event {n}"))
            deadline = time.monotonic() + 10
            while f"event {n}" not in seen and time.monotonic() < deadline:
                arrived.wait(0.1)
            assert f"event {n}" in seen, f"the watcher did not see event {n}: {seen}"
    finally:
        watcher.end_watch(run_id, callback)
        watcher.dispose()
        writer.dispose()


def test_connections_are_bounded_and_a_removed_database_is_opened_again(tmp_path):
    storage = KeptConnectionSqliteEventLogStorage(str(tmp_path))
    runs = [f"{n:08d}-0000-0000-0000-000000000000" for n in range(KEPT_RUN_DATABASES + 2)]
    for run_id in runs:
        storage.store_event(_event(run_id, "one"))
    kept_runs = [s for s in storage._kept if s != "index"]
    assert kept_runs == runs[-KEPT_RUN_DATABASES:]  # the most recent ones
    # an earlier run's database, dropped from the kept ones, is opened again and written
    storage.store_event(_event(runs[0], "two"))
    assert _messages(storage, runs[0]) == ["one", "two"]
    # another process removes a run's database (as `wipe` does): it is made again, not written
    # through the handle of the removed file
    last = runs[-1]
    for suffix in ("", "-wal", "-shm"):
        Path(storage.path_for_shard(last) + suffix).unlink(missing_ok=True)
    storage._initialized_dbs.discard(last)  # as a fresh process would know it
    storage.store_event(_event(last, "after"))
    fresh = SqliteEventLogStorage(str(tmp_path))
    assert _messages(fresh, last) == ["after"]
    # wipe: every connection goes with the files, and writing goes on
    storage.wipe()
    assert not [s for s in storage._kept if s != "index"]
    storage.store_event(_event(last, "again"))
    assert _messages(fresh, last) == ["again"]
    assert os.path.exists(storage.path_for_shard(last))
    fresh.dispose()
    storage.dispose()
    assert not storage._kept
