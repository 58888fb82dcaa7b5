"""`newsetl summary`'s last run, read from Dagster's SQLite files, against a `DagsterInstance`."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from pipelines import cli, instance_settings, last_run

ROOT = Path(__file__).resolve().parents[1]


@dg.op(out={"done": dg.Out(is_required=False)})
def scan_seeds():
    yield from ()  # no output: the step after it is skipped


@dg.op
def link_stories(done):
    return done


@dg.op
def annotate_documents():
    return 1


@dg.op
def load_warehouse(n):
    raise RuntimeError("the load fails")


@dg.job(name="news_etl")
def news_etl():
    link_stories(scan_seeds())
    load_warehouse(annotate_documents())


@dg.op
def other_step():
    return 1


@dg.job(name="other_job")
def other_job():
    other_step()


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A Dagster instance as `make run` has one (the project's dagster.yaml)."""
    instance_settings.write(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    return tmp_path


def run(job: dg.JobDefinition) -> dg.ExecuteInProcessResult:
    with dg.DagsterInstance.get() as instance:
        return job.execute_in_process(instance=instance, raise_on_error=False)


def test_the_sqlite_files_give_what_the_instance_gives(home):
    first = run(news_etl)
    assert not first.success
    from_files = last_run.from_sqlite(home, "news_etl")
    assert from_files == last_run.from_instance("news_etl")
    assert from_files.run_id == first.run_id and from_files.status == "FAILURE"
    # a skipped step never started; a failed one has its time
    assert set(from_files.step_seconds) == {"scan_seeds", "annotate_documents", "load_warehouse"}
    assert all(seconds > 0 for seconds in from_files.step_seconds.values())
    assert from_files.end_time > from_files.start_time
    second = run(news_etl)
    run(other_job)  # the last run of another job is not the job's
    assert last_run.last_run("news_etl").run_id == second.run_id
    assert last_run.last_run("news_etl") == last_run.from_instance("news_etl")
    assert last_run.last_run("other_job").step_seconds.keys() == {"other_step"}


def test_summary_lines_are_those_of_the_instance(home, monkeypatch):
    run(news_etl)
    lines = cli.stage_lines()
    monkeypatch.setattr(last_run, "default_storage", lambda home: False)
    assert cli.stage_lines() == lines
    assert lines[0].startswith("  last run ") and "(failure)" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["ingest", "normalise", "warehouse"]


def test_no_instance_or_no_run_gives_no_lines_and_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert cli.stage_lines() == []
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "missing"))
    assert cli.stage_lines() == []
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert cli.stage_lines() == []
    assert list(tmp_path.iterdir()) == []


def test_another_storage_is_asked_through_dagster(tmp_path):
    (tmp_path / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url: postgresql://db/dagster\n"
    )
    assert not last_run.default_storage(tmp_path)
    (tmp_path / "dagster.yaml").write_text((ROOT / "pipelines" / "dagster.yaml").read_text())
    assert last_run.default_storage(tmp_path)  # the shared settings alone: no storage named
    instance_settings.write(tmp_path)
    assert last_run.default_storage(tmp_path)  # the project's event log keeps Dagster's files
    elsewhere = instance_settings.instance_yaml(tmp_path / "another")
    (tmp_path / "dagster.yaml").write_text(elsewhere)
    assert not last_run.default_storage(tmp_path)  # its files in another folder
    other = "event_log_storage:\n  module: dagster_postgres\n  class: PostgresEventLogStorage\n"
    (tmp_path / "dagster.yaml").write_text(other)
    assert not last_run.default_storage(tmp_path)
