"""The schedule and the seeds-folder sensor, evaluated for real against a folder."""

from __future__ import annotations

import dagster as dg

from pipelines.core.ids import doc_id_for
from pipelines.core.incremental import SHARDS
from pipelines.definitions import defs
from pipelines.sensors import seeds_folder_sensor


def test_schedule_runs_the_main_job_daily_and_starts_off():
    schedule = defs.resolve_schedule_def("daily_news_etl")
    assert schedule.job_name == "news_etl"
    assert schedule.cron_schedule == "0 5 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    with dg.build_schedule_context(scheduled_execution_time=None) as context:
        [request] = list(schedule.evaluate_tick(context).run_requests)
    assert request.job_name in (None, "news_etl")


def test_sensor_requests_a_run_only_when_the_folder_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWS_SEEDS_DIR", str(tmp_path))
    (tmp_path / "a.txt").write_text("One article.")
    first = seeds_folder_sensor(dg.build_sensor_context(cursor=None))
    assert len(first.run_requests) == 1
    same = seeds_folder_sensor(dg.build_sensor_context(cursor=first.cursor))
    assert not same.run_requests and "no change" in same.skip_reason.skip_message
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("A new article.")
    added = seeds_folder_sensor(dg.build_sensor_context(cursor=first.cursor))
    assert len(added.run_requests) == 1 and added.cursor != first.cursor
    assert shards_of(added) == [doc_id_for("sub/b.txt")[1]]  # the new file's shard only
    (tmp_path / "a.txt").unlink()
    deleted = seeds_folder_sensor(dg.build_sensor_context(cursor=added.cursor))
    assert len(deleted.run_requests) == 1
    assert shards_of(deleted) == [doc_id_for("a.txt")[1]]
    # a `.jsonl` file's articles take their ids from their lines: every shard
    (tmp_path / "feed.jsonl").write_text('{"text": "A line."}\n')
    fed = seeds_folder_sensor(dg.build_sensor_context(cursor=deleted.cursor))
    assert shards_of(fed) == list(SHARDS)


def shards_of(result: dg.SensorResult) -> list[str]:
    [request] = result.run_requests
    tags = request.tags
    assert tags["dagster/asset_partition_range_start"] == tags["changed_shards"][0]
    assert tags["dagster/asset_partition_range_end"] == tags["changed_shards"][-1]
    return tags["changed_shards"].split(",")


def test_sensor_skips_with_a_reason_when_the_folder_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWS_SEEDS_DIR", str(tmp_path / "nope"))
    result = seeds_folder_sensor(dg.build_sensor_context(cursor=None))
    assert not result.run_requests and "does not exist" in result.skip_reason.skip_message


def test_job_uses_the_in_process_executor_and_the_warehouse_step_a_pool():
    job = defs.resolve_job_def("news_etl")
    assert job.executor_def.name == "in_process"
    load = defs.resolve_assets_def("warehouse")
    assert load.op.pool == "duckdb_warehouse"
