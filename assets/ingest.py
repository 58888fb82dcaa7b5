"""Ingest: the raw files in the seeds folder to an inventory of accepted and refused files."""

from collections import Counter
from datetime import UTC, datetime

import dagster as dg
import polars as pl
import pyarrow as pa

from assets.metadata import counts_markdown, table_metadata
from pipelines.core import inventory
from pipelines.core.incremental import load_manifest
from pipelines.core.store import ParquetStore
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


def _previous_scan(store: ParquetStore, context: dg.AssetExecutionContext) -> pl.DataFrame | None:
    """The last scan's rows (none on a first run), to skip reading files that have not changed;
    None when it was written before file signatures were kept (then every file is read)."""
    try:
        return store.read("source_files")
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
            kinds={"polars", "parquet"},
            owners=OWNERS,
        ),
        dg.AssetSpec(
            "rejected_files",
            deps=[raw_news_files],
            description="Files that were not accepted, with a reason a person understands "
            "(empty, binary, not UTF-8 or cp1252, too large, a link out of the folder, ...).",
            group_name="ingest",
            kinds={"polars", "parquet"},
            owners=OWNERS,
        ),
        dg.AssetSpec(
            "file_warnings",
            deps=[raw_news_files],
            description="What was read with a problem but still loaded: a date that is not a "
            "date, a manifest row for a missing file or whose path leaves its folder, ...",
            group_name="ingest",
            kinds={"polars", "parquet"},
            owners=OWNERS,
        ),
    ],
)
def scan_seeds(context: dg.AssetExecutionContext, storage: NewsStorage):
    """Decode every file once; refuse the bad ones without stopping the others.

    Temporary files that killed runs left in the Parquet store are removed first (a file whose
    writer is still running is left alone); they were never read.
    """
    settings = storage.settings()
    store = storage.store()
    leftovers = store.clean_all_temporaries()
    if leftovers:
        context.log.info(f"removed {leftovers} temporary files left by killed runs")
    files, refused = inventory.scan(
        settings.seeds_dir,
        settings.max_file_bytes,
        _previous_scan(store, context),
        settings.max_jsonl_bytes,
    )
    committed = set(load_manifest(store).documents())
    now = datetime.now(UTC).replace(tzinfo=None)
    rejected = inventory.rejected_frame(refused, store.read("rejected_files"), now, committed)
    warned = inventory.warnings_frame(files, store.read("file_warnings"), now)
    store.write("source_files", "source_files", files)
    store.write("rejected_files", "rejected_files", rejected)
    store.write("file_warnings", "file_warnings", warned)
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
