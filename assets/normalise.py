"""Normalise and extract: one spaCy pass over new documents gives sentences, entity mentions
and claims (parsing twice would double the cost of the one step the pipeline cannot avoid).

Only new or changed files are parsed; deleted files' rows are dropped; everything else is kept
as it is (see `pipelines.core.incremental`).
"""

import dagster as dg
import polars as pl

from assets.metadata import counts_markdown, table_metadata
from pipelines.core import incremental
from pipelines.core.documents import Document, RawFile, RejectedFile, read_document
from pipelines.core.nlp import load_nlp, model_label
from pipelines.resources import NewsStorage

OWNERS = ["team:news-data"]


def _spec(key: str, group: str, deps: list[str], description: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key,
        deps=deps,
        description=description,
        group_name=group,
        kinds={"spacy", "polars", "parquet"},
        owners=OWNERS,
    )


@dg.multi_asset(
    specs=[
        _spec(
            "documents",
            "normalise",
            ["source_files"],
            "One row per accepted article: its decoded text, title and sentence count.",
        ),
        _spec(
            "sentences",
            "normalise",
            ["documents"],
            "Paragraphs (non-blank lines) split into spaCy sentences, with exact character "
            "offsets; newsletter prompts and bylines flagged `is_boilerplate`.",
        ),
        _spec(
            "entity_mentions",
            "extract",
            ["sentences"],
            "Named-entity mentions (people, places, organisations, groups, ...), label "
            "corrected and linked to a canonical entity.",
        ),
        _spec(
            "claims",
            "extract",
            ["sentences", "entity_mentions"],
            "Direct, partial and reported quotes with cue, resolved speaker and outlet; "
            "quantities with value and unit.",
        ),
    ],
)
def annotate_documents(context: dg.AssetExecutionContext, storage: NewsStorage):
    """Parse what is new, in batches on every core; commit each batch atomically."""
    settings = storage.settings()
    store = storage.store()
    files = store.read("source_files")
    accepted = {
        d: (p, s)
        for d, p, s in files.filter(pl.col("accepted"))
        .select("doc_id", "source_path", "content_sha256")
        .iter_rows()
    }
    rejected_ids = set(files.filter(~pl.col("accepted"))["doc_id"].to_list())
    manifest = incremental.load_manifest(store)
    plan = incremental.plan(accepted, rejected_ids, manifest)
    context.log.info(
        f"{len(plan.to_parse)} documents to parse, {len(plan.to_drop)} to drop, "
        f"{plan.unchanged} unchanged"
    )

    def load(source_path: str) -> Document | None:
        raw_file = RawFile(source_path, settings.seeds_dir / source_path)
        try:
            return read_document(raw_file, settings.max_file_bytes)
        except (RejectedFile, OSError) as exc:
            context.log.warning(f"{source_path} changed or vanished during the run: {exc}")
            return None

    workers = storage.workers() if len(plan.to_parse) > storage.batch_size else 1
    report = incremental.process(
        store, plan, load, storage.batch_size, workers, log=context.log.info
    )
    run_figures = {
        "documents_parsed": report.parsed,
        "documents_dropped": report.dropped,
        "documents_unchanged": report.unchanged,
        "parts_written": report.parts_written,
        "uncommitted_parts_removed": report.uncommitted_removed,
        "workers": workers,
        "spacy_model": model_label(load_nlp()) if report.parsed else "not loaded (nothing new)",
    }
    yield dg.MaterializeResult(
        asset_key="documents",
        metadata={**table_metadata("documents", store.scan("documents")), **run_figures},
    )
    yield dg.MaterializeResult(
        asset_key="sentences",
        metadata={
            **table_metadata("sentences", store.scan("sentences")),
            "boilerplate_sentences": store.scan("sentences")
            .filter(pl.col("is_boilerplate"))
            .select(pl.len())
            .collect()
            .item(),
        },
    )
    mentions = store.scan("entity_mentions")
    labels = dict(
        mentions.group_by("label").len().sort("len", descending=True).collect().iter_rows()
    )
    yield dg.MaterializeResult(
        asset_key="entity_mentions",
        metadata={
            **table_metadata("entity_mentions", mentions),
            "labels": counts_markdown(labels, "label"),
        },
    )
    claims = store.scan("claims")
    types = dict(
        claims.group_by("claim_type").len().sort("len", descending=True).collect().iter_rows()
    )
    yield dg.MaterializeResult(
        asset_key="claims",
        metadata={
            **table_metadata("claims", claims),
            "claims_by_type": counts_markdown(types, "claim_type"),
        },
    )
