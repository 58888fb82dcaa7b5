"""The assets' automation conditions, evaluated tick by tick against real runs on one instance:
a new file -> the scan -> only its shard -> the corpus step -> the warehouse; and nothing while
the folder is as the last scan saw it.

Each tick is `dg.evaluate_automation_conditions` (what the automation sensor evaluates); what it
requests is then run in process, on the same instance, as the sensor would launch it.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.warehouse import VIEWS
from pipelines.automation import folder_has_changed, shards_with_work
from pipelines.core.ids import doc_id_for
from pipelines.core.incremental import SHARDS
from pipelines.core.settings import Settings
from pipelines.definitions import defs
from pipelines.resources import NewsStorage

pytestmark = pytest.mark.slow

ARTICLES = {
    "a.txt": "Storm hits the coast\n\nA storm hit Wales on Monday, the Met Office said.\n",
    "b.txt": "Bank raises rates\n\nThe Bank of England raised rates by 0.25 percent.\n",
}
NEW = ("new/d.txt", "Ferry keeps routes\n\nStena Line will keep sailing from Rosslare.\n")
PARSE = {"documents", "sentences", "document_mentions", "document_claims"}
CORPUS = {"entities", "entity_mentions", "claims"}
# the story step and some of the warehouse's views: they wait on the checks of `sentences`
AFTER_SENTENCES = {"document_stories", "quote_groups", "top_entities", "quotes", "shared_quotes"}


def requested(result: dg.EvaluateAutomationConditionsResult) -> dict[str, set]:
    return {
        key.to_user_string(): set(result.get_requested_partitions(key))
        for key in defs.resolve_asset_graph().get_all_asset_keys()
        if result.get_num_requested(key)
    }


def run(
    instance: dg.DagsterInstance, keys: set[str], shards: tuple[str, str] | None = None
) -> dg.ExecuteInProcessResult:
    """Materialise what a tick asked for, as the sensor's run (or one-run backfill) would."""
    job = defs.resolve_implicit_global_asset_job_def()
    tags = {}
    if shards:
        tags = {
            "dagster/asset_partition_range_start": shards[0],
            "dagster/asset_partition_range_end": shards[1],
        }
    result = job.execute_in_process(
        instance=instance, asset_selection=[dg.AssetKey(k) for k in keys], tags=tags
    )
    assert result.success
    return result


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    seeds = tmp_path / "seeds"
    for name, text in ARTICLES.items():
        (seeds / name).parent.mkdir(parents=True, exist_ok=True)
        (seeds / name).write_text(text)
    monkeypatch.setenv("NEWS_SEEDS_DIR", str(seeds))
    monkeypatch.setenv("NEWS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("NEWS_PARQUET_URL", raising=False)
    monkeypatch.delenv("NEWS_WAREHOUSE_PATH", raising=False)
    return seeds


def test_a_new_file_flows_to_the_warehouse_one_step_at_a_time(folder: Path):
    instance = dg.DagsterInstance.ephemeral()
    settings = Settings.from_env()
    storage = NewsStorage()  # the pipeline's own resource, from the same environment
    assert folder_has_changed(storage)  # nothing scanned yet
    defs.resolve_job_def("news_etl").execute_in_process(instance=instance)
    assert not folder_has_changed(storage) and shards_with_work(storage) == set()

    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert not set(requested(tick)) & {"source_files", *PARSE}  # the folder is as scanned

    name, text = NEW
    (folder / name).parent.mkdir()
    (folder / name).write_text(text)
    shard = doc_id_for(name)[1]
    assert shard not in {doc_id_for(n)[1] for n in ARTICLES}

    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    asked = requested(tick)
    assert {"source_files", "rejected_files", "file_warnings"} <= set(asked)
    assert not set(asked) & PARSE  # the scan first: the shards' work is known after it
    run(instance, {"source_files", "rejected_files", "file_warnings"})

    assert shards_with_work(storage) == {shard}
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    asked = requested(tick)
    # the new file's shard only (the step's unpartitioned tables come along with it), and what
    # depends on it, in the same run (eager: an input that will be materialised counts) ...
    assert asked["documents"] == {shard} and set(asked) >= PARSE
    assert not set(asked) & {"source_files", "rejected_files", "file_warnings"}
    parsed = run(instance, set(asked), (shard, shard))
    # ... which parses that shard and nothing else
    worked = {
        e.event_specific_data.asset_observation.partition
        for e in parsed.get_asset_observation_events()
        if e.event_specific_data.asset_observation.partition
    }
    assert worked == {shard}
    assert shards_with_work(storage) == set()
    done = set(asked)

    # the rest follows tick by tick until the warehouse holds the new article
    for _ in range(4):
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
        asked = requested(tick)
        if not asked:
            break
        assert not set(asked) & ({"source_files", *PARSE}), asked  # nothing upstream again
        run(instance, set(asked))
        done |= set(asked)
    assert asked == {}  # everything is current: nothing more to do
    assert done >= {*PARSE, *CORPUS, "warehouse"}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        paths = {p for (p,) in con.execute("select source_path from documents").fetchall()}
    assert paths == {*ARTICLES, name}


def test_steps_after_the_parse_wait_for_their_inputs_blocking_checks():
    """Every asset downstream of a checked table is gated on its inputs' blocking checks."""
    for key in ("entities", "claims", "warehouse", "top_entities"):
        spec = next(s for s in defs.resolve_assets_def(key).specs if s.key.path == [key])
        labels = {c.get_label() for c in _walk(spec.automation_condition)}
        assert "all_deps_blocking_checks_passed" in labels, (key, labels)
        assert "eager" in labels, (key, labels)


def _walk(condition: dg.AutomationCondition):
    yield condition
    for child in condition.children:
        yield from _walk(child)


def test_a_folder_of_jsonl_articles_is_as_scanned_after_the_scan(folder: Path):
    """A `.jsonl` file is one row of `source_files` a line: compared as the one file it is."""
    lines = [
        '{"title": "Storm", "text": "A storm hit Wales on Monday, the Met Office said."}',
        '{"title": "Rates", "text": "The Bank of England raised rates by 0.25 percent."}',
    ]
    (folder / "feed.jsonl").write_text("\n".join(lines) + "\n")
    storage = NewsStorage()
    assert folder_has_changed(storage)
    run(dg.DagsterInstance.ephemeral(), {"source_files", "rejected_files", "file_warnings"})
    assert not folder_has_changed(storage)
    (folder / "feed.jsonl").write_text("\n".join(lines[:1]) + "\n")
    assert folder_has_changed(storage)


def _parsed_shards(result: dg.ExecuteInProcessResult) -> set[str]:
    """The shards a run's parse step did work in (it records an observation for each)."""
    return {
        e.event_specific_data.asset_observation.partition
        for e in result.get_asset_observation_events()
        if e.event_specific_data.asset_observation.partition
    }


def test_a_failing_blocking_check_stops_the_steps_after_it(folder: Path):
    """Bad rows in `sentences` (a sentence twice, its copy with text its offsets do not give,
    as a writer bug would leave them): the next run's blocking checks on `sentences` fail, and
    nothing that waits on those checks (the stories, the warehouse and its views) is
    materialised in that run, and the automation does not load the warehouse."""
    instance = dg.DagsterInstance.ephemeral()
    settings = Settings.from_env()
    job = defs.resolve_job_def("news_etl")
    assert job.execute_in_process(instance=instance).success
    built = settings.warehouse_path.stat().st_ino
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance)

    lake = NewsStorage().lake()
    copy = lake.read("sentences").head(1).with_columns(pl.col("text").str.to_uppercase())
    lake.append("sentences", copy)
    name, text = NEW
    (folder / name).parent.mkdir()
    (folder / name).write_text(text)  # something new, so the parse step materialises again
    assert copy["doc_id"][0][1] != doc_id_for(name)[1]  # the bad rows' shard is not re-parsed

    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    checks = {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for e in result.get_asset_check_evaluations()
    }
    assert checks[("sentences", "sentence_id_unique")] is False
    assert checks[("sentences", "offsets_give_span_text")] is False
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "sentences" in materialised  # the step ran and wrote the new file's rows ...
    # ... and no step that waits on the failed checks ran: not the story step (it waits on
    # `documents`' sentence check, which waits on them), not the load and its views (the
    # corpus step reads only the mentions and claims, whose checks passed: it ran)
    assert not materialised & {*AFTER_SENTENCES, "warehouse"}, materialised
    assert materialised >= CORPUS
    assert settings.warehouse_path.stat().st_ino == built  # the warehouse was not reloaded
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        paths = {p for (p,) in con.execute("select source_path from documents").fetchall()}
    assert paths == set(ARTICLES)

    # nor does the automation load the warehouse while the checks of an input fail
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
    assert not set(requested(tick)) & {"warehouse", *VIEWS}


def test_the_folder_sensor_asks_for_the_new_files_shard_only(folder: Path):
    """The sensor ticks on a real instance; each run it requests is launched there (as the
    daemon would, in process here); a new file's run is its shard's only."""
    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("news_etl")
    sensor = defs.resolve_sensor_def("seeds_folder_sensor")

    def tick(cursor: str | None) -> dg.SensorResult:
        with dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs) as ctx:
            return sensor(ctx)

    def launch(request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        result = job.execute_in_process(instance=instance, tags=request.tags)
        assert result.success
        return result

    first = tick(None)  # nothing seen yet: every shard
    [request] = first.run_requests
    assert request.tags["changed_shards"] == ",".join(SHARDS)
    launch(request)
    assert not tick(first.cursor).run_requests

    name, text = NEW
    (folder / name).parent.mkdir()
    (folder / name).write_text(text)
    shard = doc_id_for(name)[1]
    added = tick(first.cursor)
    [request] = added.run_requests
    assert request.tags["dagster/asset_partition_range_start"] == shard
    assert request.tags["dagster/asset_partition_range_end"] == shard
    result = launch(request)
    run = instance.get_run_by_id(result.run_id)
    assert run.tags["dagster/asset_partition_range_start"] == shard
    assert run.tags["dagster/asset_partition_range_end"] == shard
    assert _parsed_shards(result) == {shard}
    with duckdb.connect(str(Settings.from_env().warehouse_path), read_only=True) as con:
        paths = {p for (p,) in con.execute("select source_path from documents").fetchall()}
    assert paths == {*ARTICLES, name}
    assert not tick(added.cursor).run_requests  # nothing new since
