"""Asset checks: the invariants of every table, blocking where bad data must not reach the
warehouse (a failed blocking check stops the load in the same run).

The checks of the tables one step writes run as one step (a `multi_asset_check`: the parse
step's `documents` and `sentences`, the corpus step's `entities`, `entity_mentions` and
`claims`): each is still its own check in the UI, with its own result, but a run pays one
step's start, one read of what the checks recorded and one commit, not one per check — on
Celery or Kubernetes a step is a task or a pod, and on an object store every read is a request.
(One step per table would wait in a circle: the span checks of `sentences` read `documents`,
whose sentence check reads `sentences`.)

A check whose tables have had no row-changing commit since it last passed (a metadata-only
run rewrites `documents` rows but no id, text or child row) passes at once, saying so: the
lake asks `incremental.steps_unchanged`. Otherwise it looks only where the commits since it last
passed can have broken its invariant (`Check.changed`: the rows of the files they added, the
documents they touched, the keys they removed), so a run that adds 10 articles to a large corpus
checks those, not every row; with nothing recorded to start from (a first run, a version past
the log's retention, a vacuumed file, files that are not plain Parquet) it reads every row."""

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import groupby

import dagster as dg
import polars as pl

from pipelines.core import incremental, integrity
from pipelines.core.store import FileChanges, Lake
from pipelines.core.tables import FOREIGN_KEYS, PRIMARY_KEYS, SPAN_COLUMNS
from pipelines.resources import NewsStorage

Changes = Mapping[str, FileChanges]  # each table the check reads: its files since it passed


@dataclass(frozen=True)
class Check:
    """One invariant: the asset it belongs to, the tables it reads, and the rows breaking it."""

    asset: str
    name: str
    key: str  # unique over all checks: its passing inputs are recorded as `check:<key>`
    tables: tuple[str, ...]
    failures: Callable[[Lake], pl.DataFrame]
    # the same rows, looked for only where commits since the check passed could have put them
    changed: Callable[[Lake, Changes], pl.DataFrame]
    what: str  # "<n> <what>" describes a failure
    description: str
    blocking: bool = True

    @property
    def step(self) -> str:
        return f"check:{self.key}"

    def spec(self) -> dg.AssetCheckSpec:
        others = sorted(set(self.tables) - {self.asset})
        return dg.AssetCheckSpec(
            self.name,
            asset=self.asset,
            blocking=self.blocking,
            additional_deps=others,
            description=self.description,
        )


def _added(lake: Lake, changes: Changes, table: str) -> pl.LazyFrame:
    return lake.scan_files(table, changes[table].added)


def _removed(lake: Lake, changes: Changes, table: str) -> pl.LazyFrame:
    return lake.scan_files(table, changes[table].removed)


def _touched_documents(lake: Lake, changes: Changes, tables: tuple[str, ...]) -> list[str]:
    """The documents with a row in a file the commits added or removed, in any of `tables`."""
    frames = [
        frame(lake, changes, t).select("doc_id") for t in tables for frame in (_added, _removed)
    ]
    return pl.concat(frames).unique().collect()["doc_id"].sort().to_list()


def _of_documents(lake: Lake, table: str, doc_ids: list[str]) -> pl.LazyFrame:
    return lake.read(table, doc_ids=doc_ids).lazy()


def _values_in(lake: Lake, table: str, column: str, values: pl.LazyFrame) -> pl.LazyFrame:
    """The table's rows whose `column` is one of `values` (a one-column frame)."""
    wanted = values.collect().to_series()
    return lake.scan(table).filter(pl.col(column).is_in(wanted.implode()))


def _span(table: str) -> Check:
    return Check(
        table,
        "offsets_give_span_text",
        f"{table}_offsets_give_span_text",
        (table, "documents"),
        lambda lake: integrity.span_mismatches(lake.scan(table), lake.scan("documents")),
        lambda lake, changes: _span_changed(lake, changes, table),
        "rows whose offsets do not give their text",
        f"`substr(documents.text, char_start + 1, char_end - char_start)` equals "
        f"`{table}.text` for every row.",
    )


def _key(table: str, key: str) -> Check:
    return Check(
        table,
        f"{key}_unique",
        f"{table}_{key}_unique",
        (table,),
        lambda lake: integrity.duplicate_keys(lake.scan(table), key),
        lambda lake, changes: integrity.duplicate_keys(
            _values_in(lake, table, key, _added(lake, changes, table).select(key)), key
        ),
        f"duplicate {key} values",
        f"`{key}` is unique in `{table}`.",
    )


def _foreign_key(table: str, column: str, target: str, key: str) -> Check:
    # `entities` is built from the mentions, so checks that point at it belong to it.
    return Check(
        target if target == "entities" else table,
        f"{table}_{column}_resolves",
        f"{table}_{column}_resolves",
        tuple(sorted({table, target})),
        lambda lake: integrity.dangling_keys(lake.scan(table), column, lake.scan(target), key),
        lambda lake, changes: _dangling_changed(lake, changes, table, column, target, key),
        f"{column} values with no {target} row",
        f"Every `{table}.{column}` is a `{target}.{key}`.",
    )


def _span_changed(lake: Lake, changes: Changes, table: str) -> pl.DataFrame:
    """A span can only have gone wrong in a document whose text or rows a commit touched."""
    docs = _touched_documents(lake, changes, (table, "documents"))
    return integrity.span_mismatches(
        _of_documents(lake, table, docs), _of_documents(lake, "documents", docs)
    )


def _dangling_changed(
    lake: Lake, changes: Changes, table: str, column: str, target: str, key: str
) -> pl.DataFrame:
    """A reference can only dangle if its row was added, or if the row it points to left (a
    key in a removed file of the target and in none of its added files)."""
    gone = (
        _removed(lake, changes, target)
        .select(key)
        .join(_added(lake, changes, target).select(key), on=key, how="anti")
        .collect()
    )
    pointing = [_added(lake, changes, table).select(column)]
    if not gone.is_empty():
        pointing.append(_values_in(lake, table, column, gone.lazy()).select(column))
    values = pl.concat(pointing).drop_nulls().unique()
    return integrity.dangling_keys(values, column, _values_in(lake, target, key, values), key)


def _without_sentences_changed(lake: Lake, changes: Changes) -> pl.DataFrame:
    docs = _touched_documents(lake, changes, ("documents", "sentences"))
    return integrity.documents_without_sentences(
        _of_documents(lake, "documents", docs), _of_documents(lake, "sentences", docs)
    )


CHECKS = [
    *(_span(t) for t in SPAN_COLUMNS),
    *(_key(t, k) for t, k in PRIMARY_KEYS.items()),
    *(_foreign_key(t, c, tt, k) for (t, c), (tt, k) in FOREIGN_KEYS.items()),
    Check(
        "documents",
        "every_document_has_sentences",
        "every_document_has_sentences",
        ("documents", "sentences"),
        lambda lake: integrity.documents_without_sentences(
            lake.scan("documents"), lake.scan("sentences")
        ),
        lambda lake, changes: _without_sentences_changed(lake, changes),
        "documents without sentences",
        "No accepted document is without sentences.",
        blocking=False,
    ),
]


# The step that writes each checked table: its checks run together after it.
STAGES = {
    "documents": "parse",
    "sentences": "parse",
    "entities": "corpus",
    "entity_mentions": "corpus",
    "claims": "corpus",
}


@dataclass(frozen=True)
class Outcome:
    """What one check found: its failing rows (none when its tables had no row-changing commit
    since it passed: then `checked` is "unchanged"), what it read, and the versions it saw."""

    check: Check
    failures: pl.DataFrame
    checked: str
    versions: dict[str, int | None]


def evaluate(lake: Lake, checks: list[Check]) -> Iterator[Outcome]:
    """Run `checks` as one step does: a check whose tables are as they were when it last passed
    passes at once; the others look for failing rows where the commits since then can have put
    them (every row with nothing to start from). The ones that pass are recorded in one commit
    once all were seen."""
    last = incremental.recorded_inputs(lake, [c.step for c in checks])
    unchanged = incremental.steps_unchanged(lake, {c.step: c.tables for c in checks}, recorded=last)
    changes_since = functools.cache(lake.changed_files)  # checks passed together share versions
    passed = {}
    try:
        for check in checks:
            same, versions = unchanged[check.step]
            if same:
                yield Outcome(check, pl.DataFrame(), "unchanged", versions)
                continue
            since = last.get(check.step, {})
            changes = {t: changes_since(t, since.get(t)) for t in check.tables}
            failures, scope = None, "every row"
            if all(c is not None for c in changes.values()):
                try:
                    failures, scope = check.changed(lake, changes), "what changed since it passed"
                except (OSError, pl.exceptions.PolarsError):  # a removed file was vacuumed
                    failures = None
            if failures is None:
                failures = check.failures(lake)
            if failures.is_empty():
                passed[check.step] = versions
            yield Outcome(check, failures, scope, versions)
    finally:
        incremental.record_steps_inputs(lake, passed)


def _result(outcome: Outcome) -> dg.AssetCheckResult:
    check, n = outcome.check, outcome.failures.height
    if outcome.checked == "unchanged":
        metadata = {"failures": 0, "unchanged_since": dg.MetadataValue.json(outcome.versions)}
    else:
        metadata = {
            "failures": n,
            "checked": outcome.checked,
            "sample": dg.MetadataValue.md(str(outcome.failures.head(5))),
        }
    return dg.AssetCheckResult(
        asset_key=check.asset,
        check_name=check.name,
        passed=n == 0,
        metadata=metadata,
        description=f"{n} {check.what}" if n else None,
    )


def _stage_checks(stage: str, checks: list[Check]) -> dg.AssetChecksDefinition:
    """One step for the checks of the tables `stage` writes (`evaluate`)."""

    @dg.multi_asset_check(
        name=f"{stage}_checks",
        specs=[c.spec() for c in checks],
        description=f"The invariants of {', '.join(sorted({f'`{c.asset}`' for c in checks}))}.",
    )
    def run_checks(storage: NewsStorage) -> Iterator[dg.AssetCheckResult]:
        for outcome in evaluate(storage.lake(), checks):
            yield _result(outcome)

    return run_checks


def _stage(check: Check) -> str:
    return STAGES[check.asset]


ALL_CHECKS = [
    _stage_checks(stage, list(checks))
    for stage, checks in groupby(sorted(CHECKS, key=_stage), key=_stage)
]
