"""Declarative automation: what each asset waits for before the automation sensor runs it, and
how fresh the warehouse must be.

New files arrive -> the scan (`source_files`, `rejected_files`) -> the parse step for the shards
whose files changed, and only those (see `ShardHasWork`) -> the corpus step -> the warehouse and its
views; a step downstream of a table runs only once that table's blocking checks passed. The
conditions are set here, beside the definitions, rather than on each spec, so the assets stay
thin; `pipelines.definitions` applies them with `dg.map_asset_specs`.

Like the schedule and the folder sensor, the automation sensor starts off (NEWS_AUTOMATION=on
starts it with the code location; or turn it on in the UI under Automation).
"""

from __future__ import annotations

import os
import warnings
from datetime import timedelta

import dagster as dg

from pipelines.core import incremental
from pipelines.core.documents import file_of, find_raw_files, is_manifest
from pipelines.resources import NewsStorage
from pipelines.schedules import default_status

SCAN = {"source_files", "rejected_files", "file_warnings"}
PARSE = {"documents", "sentences", "document_mentions", "document_claims"}
# The warehouse is rebuilt at least daily by the schedule: a day and a bit is the limit.
FRESHNESS_WARN_HOURS = 24
FRESHNESS_FAIL_HOURS = 26


def folder_has_changed(storage: NewsStorage) -> bool:
    """Does the seeds folder differ from what the last scan recorded (an article file added,
    deleted, or with another signature)? Only the folder is listed; no file is read. Refused
    files are compared by name only (the scan keeps no signature for them), and manifests not at
    all (the folder sensor notices those)."""
    settings = storage.settings()
    found, refused = find_raw_files(settings.seeds_dir)
    now = {f.source_path: f.signature for f in found if not is_manifest(f.source_path)}
    now.update((file_of(r.source_path), None) for r in refused)
    lake = storage.lake(settings)
    if not lake.exists("source_files"):
        return True  # never scanned
    last = lake.read("source_files", ["source_path", "accepted", "file_signature"])
    seen: dict[str, str | None] = {}
    for path, accepted, signature in last.iter_rows():  # a `.jsonl` file has a row a line
        seen[file_of(path)] = signature if accepted else seen.get(file_of(path))
    if now.keys() != seen.keys():
        return True
    return any(seen[p] is not None and seen[p] != s for p, s in now.items())


def shards_with_work(storage: NewsStorage) -> set[str]:
    """The shards whose files, as the last scan found them, differ from what they committed."""
    lake = storage.lake()
    if not lake.exists("source_files"):
        return set()
    files = lake.read("source_files", ["doc_id", "source_path", "content_sha256", "accepted"])
    plans = incremental.plan(files, incremental.committed_state(lake))
    return {shard for shard, p in plans.items() if p.has_work}


class SeedsFolderChanged(dg.AutomationCondition):
    """True when the seeds folder no longer matches the last scan."""

    @property
    def name(self) -> str:
        return "seeds_folder_changed"

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        changed = folder_has_changed(NewsStorage())
        subset = context.candidate_subset if changed else context.get_empty_subset()
        return dg.AutomationResult(context, subset)


class ShardHasWork(dg.AutomationCondition):
    """True for the partitions of `documents` (the shards) that have files to parse or rows to
    drop, and for nothing else.

    The step's unpartitioned tables (sentences, mentions, claims) are never true on their own:
    Dagster requests a step's assets together, and an unpartitioned member that was true would
    map back to every partition of `documents`. False, they come along with the changed shards
    (the step writes them for exactly those shards), so a tick asks for the changed shards
    only; the backfill policy makes one run of each contiguous range of them.
    """

    @property
    def name(self) -> str:
        return "shard_has_work"

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        candidates = context.candidate_subset
        if not candidates.is_partitioned:
            return dg.AutomationResult(context, context.get_empty_subset())
        busy = shards_with_work(NewsStorage())
        subset = candidates.compute_intersection_with_partition_keys(busy)
        return dg.AutomationResult(context, subset)


def _idle() -> dg.AutomationCondition:
    """Neither this asset nor anything it reads from is being written, and its last run did
    not fail (a failed run waits for a person, not for the next tick)."""
    return (
        ~dg.AutomationCondition.in_progress()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.execution_failed()
    )


def scan_condition() -> dg.AutomationCondition:
    return (SeedsFolderChanged() & _idle()).with_label("seeds folder changed since the last scan")


def parse_condition() -> dg.AutomationCondition:
    return (ShardHasWork() & _idle()).with_label("a shard has new, changed or deleted files")


def downstream_condition() -> dg.AutomationCondition:
    """`eager()` (an input was updated, none is missing or in progress), and every blocking
    check of the inputs passed on their latest materialisation."""
    return (
        dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()
    ).with_label("inputs updated and their blocking checks passed")


def condition_for(key: str) -> dg.AutomationCondition | None:
    if key in SCAN:
        return scan_condition()
    if key in PARSE:
        return parse_condition()
    if key == "raw_news_files":
        return None  # written by people and feeds, not by Dagster
    return downstream_condition()


def warehouse_freshness() -> dg.FreshnessPolicy:
    """The warehouse must have been rebuilt within the last FRESHNESS_FAIL_HOURS (warn after
    FRESHNESS_WARN_HOURS): the daily schedule or the automation keep it so."""
    return dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=FRESHNESS_FAIL_HOURS),
        warn_window=timedelta(hours=FRESHNESS_WARN_HOURS),
    )


def with_automation(spec: dg.AssetSpec) -> dg.AssetSpec:
    """The spec with its automation condition, and the warehouse with its freshness policy."""
    key = spec.key.to_user_string()
    condition = condition_for(key)
    if condition is not None and spec.automation_condition is None:
        spec = spec.replace_attributes(automation_condition=condition)
    if key == "warehouse" and spec.freshness_policy is None:
        spec = spec.replace_attributes(freshness_policy=warehouse_freshness())
    return spec


with warnings.catch_warnings():  # `use_user_code_server` is beta: said once, here
    warnings.simplefilter("ignore", dg.BetaWarning)
    automation_sensor = dg.AutomationConditionSensorDefinition(
        "news_automation",
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus(default_status().value),
        minimum_interval_seconds=int(os.environ.get("NEWS_AUTOMATION_INTERVAL_S") or 30),
        # the conditions above are Python of this project: evaluated in its code server
        use_user_code_server=True,
        # several shards at once go into one backfill, run as `documents`' backfill policy says
        # (one run for all of them by default), not one run per shard
        emit_backfills=True,
        description="Evaluates the assets' automation conditions: new files -> scan -> changed "
        "shards -> corpus step -> warehouse. Off unless NEWS_AUTOMATION=on.",
    )
