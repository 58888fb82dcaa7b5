"""Asset checks: the invariants of every table, blocking where bad data must not reach the
warehouse (a failed blocking check stops the load in the same run).

A check whose tables have had no row-changing commit since it last passed (a metadata-only
run rewrites `documents` rows but no id, text or child row) passes at once, saying so: the
lake asks `incremental.inputs_unchanged`."""

from collections.abc import Callable

import dagster as dg
import polars as pl

from pipelines.core import incremental, integrity
from pipelines.core.tables import FOREIGN_KEYS, PRIMARY_KEYS, SPAN_COLUMNS
from pipelines.resources import NewsStorage


def _checked(
    storage: NewsStorage,
    name: str,
    tables: list[str],
    failures: Callable[[], pl.DataFrame],
    what: str,
) -> dg.AssetCheckResult:
    """The check's result: at once when its tables are as they were when it last passed, else
    from `failures` (the rows breaking the invariant), recorded when there are none."""
    lake = storage.lake()
    step = f"check:{name}"
    unchanged, versions = incremental.inputs_unchanged(lake, step, tables)
    if unchanged:
        return dg.AssetCheckResult(
            passed=True,
            metadata={"failures": 0, "unchanged_since": dg.MetadataValue.json(versions)},
        )
    found = failures()
    if found.is_empty():
        incremental.record_inputs(lake, step, versions)
    return _result(found, what)


def _result(failures, what: str) -> dg.AssetCheckResult:
    n = failures.height
    return dg.AssetCheckResult(
        passed=n == 0,
        metadata={"failures": n, "sample": dg.MetadataValue.md(str(failures.head(5)))},
        description=f"{n} {what}" if n else None,
    )


def _span_check(table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=table,
        name="offsets_give_span_text",
        blocking=True,
        description=f"`substr(documents.text, char_start + 1, char_end - char_start)` "
        f"equals `{table}.text` for every row.",
    )
    def check(storage: NewsStorage) -> dg.AssetCheckResult:
        store = storage.store()
        return _checked(
            storage,
            f"{table}_offsets_give_span_text",
            [table, "documents"],
            lambda: integrity.span_mismatches(store.scan(table), store.scan("documents")),
            "rows whose offsets do not give their text",
        )

    return check


def _key_check(table: str, key: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=table,
        name=f"{key}_unique",
        blocking=True,
        description=f"`{key}` is unique in `{table}`.",
    )
    def check(storage: NewsStorage) -> dg.AssetCheckResult:
        return _checked(
            storage,
            f"{table}_{key}_unique",
            [table],
            lambda: integrity.duplicate_keys(storage.store().scan(table), key),
            f"duplicate {key} values",
        )

    return check


def _foreign_key_check(table: str, column: str, target: str, key: str) -> dg.AssetChecksDefinition:
    # `entities` is built from the mentions, so checks that point at it belong to it.
    owner, other = (target, table) if target == "entities" else (table, target)

    @dg.asset_check(
        asset=owner,
        name=f"{table}_{column}_resolves",
        blocking=True,
        additional_deps=[other] if other != owner else [],
        description=f"Every `{table}.{column}` is a `{target}.{key}`.",
    )
    def check(storage: NewsStorage) -> dg.AssetCheckResult:
        store = storage.store()
        return _checked(
            storage,
            f"{table}_{column}_resolves",
            sorted({table, target}),
            lambda: integrity.dangling_keys(store.scan(table), column, store.scan(target), key),
            f"{column} values with no {target} row",
        )

    return check


@dg.asset_check(
    asset="documents",
    name="every_document_has_sentences",
    additional_deps=["sentences"],
    description="No accepted document is without sentences.",
)
def every_document_has_sentences(storage: NewsStorage) -> dg.AssetCheckResult:
    store = storage.store()
    return _checked(
        storage,
        "every_document_has_sentences",
        ["documents", "sentences"],
        lambda: integrity.documents_without_sentences(
            store.scan("documents"), store.scan("sentences")
        ),
        "documents without sentences",
    )


ALL_CHECKS = [
    *(_span_check(t) for t in SPAN_COLUMNS),
    *(_key_check(t, k) for t, k in PRIMARY_KEYS.items()),
    *(_foreign_key_check(t, c, tt, k) for (t, c), (tt, k) in FOREIGN_KEYS.items()),
    every_document_has_sentences,
]
