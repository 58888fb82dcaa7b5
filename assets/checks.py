"""Asset checks: the invariants of every table, blocking where bad data must not reach the
warehouse (a failed blocking check stops the load in the same run)."""

import dagster as dg

from pipelines.core import integrity
from pipelines.core.tables import FOREIGN_KEYS, PRIMARY_KEYS, SPAN_COLUMNS
from pipelines.resources import NewsStorage


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
        failures = integrity.span_mismatches(store.scan(table), store.scan("documents"))
        return _result(failures, "rows whose offsets do not give their text")

    return check


def _key_check(table: str, key: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=table,
        name=f"{key}_unique",
        blocking=True,
        description=f"`{key}` is unique in `{table}`.",
    )
    def check(storage: NewsStorage) -> dg.AssetCheckResult:
        failures = integrity.duplicate_keys(storage.store().scan(table), key)
        return _result(failures, f"duplicate {key} values")

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
        failures = integrity.dangling_keys(store.scan(table), column, store.scan(target), key)
        return _result(failures, f"{column} values with no {target} row")

    return check


@dg.asset_check(
    asset="documents",
    name="every_document_has_sentences",
    additional_deps=["sentences"],
    description="No accepted document is without sentences.",
)
def every_document_has_sentences(storage: NewsStorage) -> dg.AssetCheckResult:
    store = storage.store()
    failures = integrity.documents_without_sentences(
        store.scan("documents"), store.scan("sentences")
    )
    return _result(failures, "documents without sentences")


ALL_CHECKS = [
    *(_span_check(t) for t in SPAN_COLUMNS),
    *(_key_check(t, k) for t, k in PRIMARY_KEYS.items()),
    *(_foreign_key_check(t, c, tt, k) for (t, c), (tt, k) in FOREIGN_KEYS.items()),
    every_document_has_sentences,
]
