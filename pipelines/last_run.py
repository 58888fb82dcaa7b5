"""The last run of a job and its steps' times, for `newsetl summary` (which `make run` calls).

On the instance's default storage (no `storage`, `run_storage` or `event_log_storage` in
`$DAGSTER_HOME/dagster.yaml`, or only the event log `pipelines.instance_settings` writes, which
keeps Dagster's own files in their own place) they are read straight from them, read-only:
milliseconds, where importing Dagster and opening a `DagsterInstance` costs about 3 s of CPU on
every `make run`. Any other storage (Postgres, ...) is asked through a `DagsterInstance`.
Both give the same figures: `DagsterInstance.get_run_step_stats` times a step from its last
STEP_START to its last STEP_SUCCESS, STEP_FAILURE or STEP_SKIPPED event, as `from_sqlite` does
(tests/test_last_run.py compares the two on real runs).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from pipelines.instance_settings import EVENT_LOG, event_log_dir

# settings that name another storage (`event_log_storage` too, unless it is the project's own
# event log in the instance's folder, see `default_storage`)
OTHER_STORAGE_KEYS = ("storage", "run_storage")
STEP_START = "STEP_START"
STEP_ENDS = ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED")


@dataclass(frozen=True)
class LastRun:
    run_id: str
    status: str  # a `DagsterRunStatus` value: "SUCCESS", "FAILURE", ...
    start_time: float | None
    end_time: float | None
    step_seconds: dict[str, float]  # the steps that started and ended, in order of start


def last_run(job_name: str) -> LastRun | None:
    """The job's last run in the instance of DAGSTER_HOME; None when there is no instance or
    no run of the job (nothing is created to find that out)."""
    home = os.environ.get("DAGSTER_HOME")
    if not home or not Path(home).is_dir():
        return None
    if default_storage(Path(home)):
        try:
            return from_sqlite(Path(home), job_name)
        except sqlite3.Error:
            pass  # a schema this code does not know: ask Dagster itself
    return from_instance(job_name)


def default_storage(home: Path) -> bool:
    """Does the instance keep its runs and events in the default SQLite files under `home`?"""
    config = home / "dagster.yaml"
    if not config.exists():
        return True
    import yaml

    settings = yaml.safe_load(config.read_text()) or {}
    if not isinstance(settings, dict):
        return False
    events = settings.get("event_log_storage")
    if events is not None and not (
        isinstance(events, dict)
        and all(events.get(k) == v for k, v in EVENT_LOG.items())
        and (events.get("config") or {}).get("base_dir") == str(event_log_dir(home))
    ):
        return False
    return not any(key in settings for key in OTHER_STORAGE_KEYS)


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)


def from_sqlite(home: Path, job_name: str) -> LastRun | None:
    """From `history/runs.db` (the runs) and `history/runs/<run id>.db` (the run's events)."""
    runs_db = home / "history" / "runs.db"
    if not runs_db.exists():
        return None
    with contextlib.closing(_read_only(runs_db)) as con:
        row = con.execute(
            "select run_id, status, start_time, end_time from runs "
            "where pipeline_name = ? order by id desc limit 1",
            (job_name,),
        ).fetchone()
    if row is None:
        return None
    run_id, status, start_time, end_time = row
    events_db = home / "history" / "runs" / f"{run_id}.db"
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    if events_db.exists():
        kinds = (STEP_START, *STEP_ENDS)
        marks = ",".join("?" * len(kinds))
        with contextlib.closing(_read_only(events_db)) as con:
            rows = con.execute(
                "select step_key, dagster_event_type, event from event_logs "
                f"where step_key is not null and dagster_event_type in ({marks}) order by id",
                kinds,
            ).fetchall()
        for step, kind, event in rows:
            # the event's own time, as Dagster's step stats take it (the column is rounded)
            (starts if kind == STEP_START else ends)[step] = json.loads(event)["timestamp"]
    steps = {s: ends[s] - started for s, started in starts.items() if s in ends}
    return LastRun(run_id, status, start_time, end_time, steps)


def from_instance(job_name: str) -> LastRun | None:
    """Through a `DagsterInstance` (any storage)."""
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(job_name=job_name), limit=1)
        if not runs:
            return None
        run = runs[0]
        stats = instance.get_run_step_stats(run.run_id)
        record = instance.get_run_record_by_id(run.run_id)
    steps = {s.step_key: s.end_time - s.start_time for s in stats if s.start_time and s.end_time}
    return LastRun(
        run.run_id,
        run.status.value,
        record.start_time if record else None,
        record.end_time if record else None,
        steps,
    )
