"""Ingest: the raw files in the seeds folder to an inventory of accepted and refused files."""

from collections import Counter
from datetime import UTC, datetime

import dagster as dg
import polars as pl
import pyarrow as pa

from assets.metadata import counts_markdown, table_metadata
from pipelines.core import incremental, inventory, migrate
from pipelines.core.store import Lake
from pipelines.resources import NewsStorage

OWNERS = ["team:news-data"]

raw_news_files = dg.AssetSpec(
    "raw_news_files",
    description="The raw articles under NEWS_SEEDS_DIR (default `seeds/`), searched "
    "recursively: one UTF-8 `.txt` file per article, `.json` (one article) and `.jsonl` (one "
    "per line) in news scrapers' field names, and `metadata.csv` / `metadata.jsonl` manifests "
    "giving `.txt` articles their dates and outlets. Written by people and feeds, not by Dagster.",
    group_name="ingest",
    kinds={"file"},
    owners=OWNERS,
)


def _previous_scan(lake: Lake, context: dg.AssetExecutionContext) -> pl.DataFrame | None:
    """The last scan's rows (none on a first run), to skip reading files that have not changed;
    None when it was written before file signatures were kept (then every file is read)."""
    try:
        return lake.read("source_files")
    except (pa.ArrowInvalid, ValueError, KeyError) as exc:
        context.log.info(f"reading every file: the last scan cannot be reused ({exc})")
        return None


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "source_files",
            deps=[raw_news_files],
            description="Every article file (a `.jsonl` line is a row of its own, "
            "`<path>#<line>`) and manifest found in the seeds folder with its doc_id, content "
            "hash, metadata and whether it was accepted (an extension of the contract).",
            group_name="ingest",
            kinds={"polars", "deltalake"},
            owners=OWNERS,
        ),
        dg.AssetSpec(
            "rejected_files",
            deps=[raw_news_files],
            description="Files that were not accepted, with a reason a person understands "
            "(empty, binary, not UTF-8 or cp1252, too large, a link out of the folder, ...).",
            group_name="ingest",
            kinds={"polars", "deltalake"},
            owners=OWNERS,
        ),
        dg.AssetSpec(
            "file_warnings",
            deps=[raw_news_files],
            description="What was read with a problem but still loaded: a date that is not a "
            "date, a manifest row for a missing file or whose path leaves its folder, ...",
            group_name="ingest",
            kinds={"polars", "deltalake"},
            owners=OWNERS,
        ),
    ],
)
def scan_seeds(context: dg.AssetExecutionContext, storage: NewsStorage):
    """Decode every file once; refuse the bad ones without stopping the others.

    A store of the earlier Parquet layout is moved into the lake first (nothing parsed again).
    A table is committed only when it changed, so an unchanged run leaves the lake's versions,
    and so the warehouse, as they were.
    """
    settings = storage.settings()
    lake = storage.lake(settings)
    migrate.migrate_parquet_store(settings.old_parquet_dir, lake, context.log.info)
    previous = _previous_scan(lake, context)
    files, refused = inventory.scan(
        settings.seeds_dir, settings.max_file_bytes, previous, settings.max_jsonl_bytes
    )
    committed = incremental.committed_documents(lake)
    now = datetime.now(UTC).replace(tzinfo=None)
    old_rejected = lake.read("rejected_files")
    rejected = inventory.rejected_frame(refused, old_rejected, now, committed)
    if previous is None or not lake.exists("source_files") or not files.equals(previous):
        lake.overwrite("source_files", files, {"op": "scan"})
    if not lake.exists("rejected_files") or not rejected.equals(old_rejected):
        lake.overwrite("rejected_files", rejected, {"op": "scan"})
    old_warned = lake.read("file_warnings")
    warned = inventory.warnings_frame(files, old_warned, now)
    if not lake.exists("file_warnings") or not warned.equals(old_warned):
        lake.overwrite("file_warnings", warned, {"op": "scan"})
    reasons = Counter(r.reason.split(":")[0].split(" (")[0] for r in refused)
    context.log.info(f"{files['accepted'].sum()} files accepted, {len(refused)} refused")
    yield dg.MaterializeResult(
        asset_key="source_files",
        metadata={
            **table_metadata("source_files", files),
            "accepted": int(files["accepted"].sum()),
            "rejected": len(refused),
            "with_published_at": int(files["published_at"].is_not_null().sum()),
            "with_publisher": int(files["publisher"].is_not_null().sum()),
            "seeds_dir": str(settings.seeds_dir),
        },
    )
    yield dg.MaterializeResult(
        asset_key="rejected_files",
        metadata={
            **table_metadata("rejected_files", rejected),
            "reasons": counts_markdown(dict(reasons.most_common()), "reason"),
        },
    )
    yield dg.MaterializeResult(
        asset_key="file_warnings",
        metadata={
            **table_metadata("file_warnings", warned),
            "files_with_warnings": warned["source_path"].n_unique(),
        },
    )
