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
lake asks `incremental.steps_unchanged`."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import groupby

import dagster as dg
import polars as pl

from pipelines.core import incremental, integrity
from pipelines.core.store import Lake
from pipelines.core.tables import FOREIGN_KEYS, PRIMARY_KEYS, SPAN_COLUMNS
from pipelines.resources import NewsStorage


@dataclass(frozen=True)
class Check:
    """One invariant: the asset it belongs to, the tables it reads, and the rows breaking it."""

    asset: str
    name: str
    key: str  # unique over all checks: its passing inputs are recorded as `check:<key>`
    tables: tuple[str, ...]
    failures: Callable[[Lake], pl.DataFrame]
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


def _span(table: str) -> Check:
    return Check(
        table,
        "offsets_give_span_text",
        f"{table}_offsets_give_span_text",
        (table, "documents"),
        lambda lake: integrity.span_mismatches(lake.scan(table), lake.scan("documents")),
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
        f"{column} values with no {target} row",
        f"Every `{table}.{column}` is a `{target}.{key}`.",
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


def _result(check: Check, failures: pl.DataFrame) -> dg.AssetCheckResult:
    n = failures.height
    return dg.AssetCheckResult(
        asset_key=check.asset,
        check_name=check.name,
        passed=n == 0,
        metadata={"failures": n, "sample": dg.MetadataValue.md(str(failures.head(5)))},
        description=f"{n} {check.what}" if n else None,
    )


def _stage_checks(stage: str, checks: list[Check]) -> dg.AssetChecksDefinition:
    """One step for the checks of the tables `stage` writes: those whose tables are as they
    were when they last passed pass at once; the others look for failing rows; the ones that
    pass are recorded in one commit."""

    @dg.multi_asset_check(
        name=f"{stage}_checks",
        specs=[c.spec() for c in checks],
        description=f"The invariants of {', '.join(sorted({f'`{c.asset}`' for c in checks}))}.",
    )
    def run_checks(storage: NewsStorage) -> Iterator[dg.AssetCheckResult]:
        lake = storage.lake()
        unchanged = incremental.steps_unchanged(lake, {c.step: c.tables for c in checks})
        passed = {}
        try:
            for check in checks:
                same, versions = unchanged[check.step]
                if same:
                    yield dg.AssetCheckResult(
                        asset_key=check.asset,
                        check_name=check.name,
                        passed=True,
                        metadata={
                            "failures": 0,
                            "unchanged_since": dg.MetadataValue.json(versions),
                        },
                    )
                    continue
                failures = check.failures(lake)
                if failures.is_empty():
                    passed[check.step] = versions
                yield _result(check, failures)
        finally:
            incremental.record_steps_inputs(lake, passed)

    return run_checks


def _stage(check: Check) -> str:
    return STAGES[check.asset]


ALL_CHECKS = [
    _stage_checks(stage, list(checks))
    for stage, checks in groupby(sorted(CHECKS, key=_stage), key=_stage)
]
