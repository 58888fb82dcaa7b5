"""Moving a store of the earlier layout (`<data>/parquet/`, our own manifests) into the lake.

That layout kept each table as Parquet part files and, per shard, a `_manifest-<shard>.json`
listing the committed parts and the (doc_id, content_sha256) each held. Its committed rows are
exactly what the lake's tables hold, so they are copied over without parsing again: the
per-document tables from the parts the manifests list (a part no manifest lists was never
committed and is left behind), the whole tables from their one file each, and the manifests'
documents become `committed_documents`. Each lake table is written whole in one commit
(parents first), so a migration killed half-way is simply done again by the next run; the old
folder is renamed to `parquet.moved-to-lake` once every table is in the lake (delete it when
you are satisfied).

Older layouts still (one `_manifest.json` for every shard, or the parse step's mentions in
`entity_mentions` parts) are not moved: the run says so and parses the seeds again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from pipelines.core.incremental import COMMITTED, DOC_TABLES
from pipelines.core.store import Lake
from pipelines.core.tables import polars_schema

WHOLE_TABLES = (
    "source_files",
    "rejected_files",
    "file_warnings",
    "entities",
    "entity_mentions",
    "claims",
)
MOVED_SUFFIX = ".moved-to-lake"


def _conform(table: str, rows: pl.DataFrame) -> pl.DataFrame:
    """Rows written by an older version in today's columns: a column it did not have yet is
    empty (for `documents`: no authors, each article its own story)."""
    schema = polars_schema(table)
    missing = [c for c in schema.names() if c not in rows.columns]
    rows = rows.with_columns(pl.lit(None, schema[c]).alias(c) for c in missing)
    if table == "documents":
        rows = rows.with_columns(
            pl.col("authors").fill_null(pl.lit([], pl.List(pl.String))),
            pl.col("story_id").fill_null(pl.col("doc_id")),
        )
    return rows.select(pl.col(c).cast(t) for c, t in schema.items())


def migrate_parquet_store(old: Path, lake: Lake, log: Callable[[str], None]) -> int:
    """Copy a store of the Parquet layout at `old` into `lake` (see the module docstring);
    returns how many documents were moved (0 when there was nothing to move)."""
    if not old.is_dir():
        return 0
    manifests = sorted(old.glob("_manifest-*.json"))
    if not manifests:
        if (old / "_manifest.json").exists() or any(old.glob("*/part-*.parquet")):
            log(
                f"{old} holds a store older than the sharded layout, which cannot be moved to "
                "the lake: every article is parsed again (delete that folder afterwards)"
            )
        return 0
    if lake.exists(COMMITTED):
        log(f"{old} was moved to the lake before; rename or delete it")
        return 0
    parts: dict[str, dict[str, str]] = {}
    for path in manifests:
        parts.update(json.loads(path.read_text())["parts"])
    for table in DOC_TABLES:  # parents first
        frames = [
            _conform(table, pl.read_parquet(old / table / f"{part}.parquet"))
            for part in sorted(parts)
        ]
        rows = pl.concat(frames) if frames else pl.DataFrame(schema=polars_schema(table))
        lake.overwrite(table, rows, {"op": "moved from the Parquet layout"})
    for table in WHOLE_TABLES:
        path = old / table / f"{table}.parquet"
        if path.exists():
            lake.overwrite(table, _conform(table, pl.read_parquet(path)), {"op": "moved"})
    now = datetime.now(UTC).replace(tzinfo=None)
    state = pl.DataFrame(
        [(d, sha, now) for docs in parts.values() for d, sha in docs.items()],
        schema=polars_schema(COMMITTED),
        orient="row",
    )
    lake.overwrite(COMMITTED, state, {"op": "moved from the Parquet layout"})
    old.rename(old.with_name(old.name + MOVED_SUFFIX))
    log(f"moved {state.height} documents of {len(parts)} parts from {old} into the lake")
    return state.height
