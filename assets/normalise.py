"""Normalise and extract: one spaCy pass over new documents gives sentences, and each
document's own entity mentions and claims (parsing twice would double the cost of the one step
the pipeline cannot avoid); `assets.extract` then merges the entities across the corpus.

The work is partitioned into 16 shards of files (the first hex digit of `doc_id`, see
`pipelines.core.incremental`), shown as the partitions of `documents`: the UI shows each shard's
last run and what it parsed and removed (an observation per shard that did work), a shard can be
re-run on its own (with `force` to parse it again, after a model upgrade say), and a backfill
redoes them all. Sentences, mentions and claims are written by the same step for the same shards
but are shown as whole tables: partitioning them too would only repeat the same 16 partitions
three more times, at a cost in events (about 10 ms each) that every run pays.

`news_etl` covers every shard in one run (a single-run backfill policy), so the daily run
starts the model once and keeps every core busy; a deployment that spreads the shards over
machines runs them as separate runs, or with another executor (see `pipelines.jobs`).

Only new or changed files are parsed; deleted files' rows are dropped; everything else is kept
as it is. When nothing changed at all, and the warehouse was built from exactly these tables, the
step records an observation of what it found and materialises nothing, so the checks, the entity
index, the corpus merge and the warehouse load are skipped and the warehouse file is left untouched.
"""

import contextlib
import os

import dagster as dg
import polars as pl
from pydantic import Field

from assets.metadata import table_metadata
from pipelines.core import incremental, metadata, versions, warehouse
from pipelines.core.documents import ArticleReader, Document, RejectedFile
from pipelines.core.progress import Progress, heartbeat
from pipelines.core.settings import extraction_salt
from pipelines.resources import DuckDBWarehouse, NewsStorage

OWNERS = ["team:news-data"]
SHARDS = dg.StaticPartitionsDefinition(list(incremental.SHARDS))
# What a run did, per shard and in all: metadata key -> `incremental.ShardReport` field.
_FIGURES = {
    "documents_parsed": "parsed",
    "documents_reextracted": "reextracted",
    "documents_reextracted_same_rows": "same_rows",
    "documents_sharing_a_parse": "shared_parse",
    "documents_removed": "removed",
    "documents_unchanged": "unchanged",
    "batches_committed": "batches",
    "files_compacted": "compacted",
    "documents_metadata_updated": "metadata_updated",
}


def backfill_policy() -> dg.BackfillPolicy:
    """One run for every shard (the default), or NEWS_SHARDS_PER_RUN shards per run."""
    per_run = int(os.environ.get("NEWS_SHARDS_PER_RUN") or 0)
    return dg.BackfillPolicy.multi_run(per_run) if per_run else dg.BackfillPolicy.single_run()


class AnnotateConfig(dg.Config):
    force: bool = Field(
        default=False,
        description="Parse every document of the selected shards again, changed or not "
        "(ids and ingested_at stay as they are for unchanged content).",
    )


def code_versions(salt: str | None = None) -> tuple[str, str]:
    """(parse version, extraction version) of the code and model a run has now (`salt`: the
    run's NEWS_EXTRACTION_SALT; the definitions, loaded before any run, read it themselves)."""
    model = versions.current_model()
    salt = extraction_salt() if salt is None else salt
    return versions.parse_version(model), versions.extraction_version(model, salt)


def _spec(
    key: str,
    group: str,
    deps: list[str],
    description: str,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.AssetSpec:
    # which code made the table (the extractors' source, the model): the UI shows it stale
    # when that changed, and a run extracts it again (from the kept parses)
    return dg.AssetSpec(
        key,
        code_version=code_versions()[1],
        deps=deps,
        description=description,
        group_name=group,
        kinds={"spacy", "polars", "deltalake"},
        owners=OWNERS,
        skippable=True,
        partitions_def=partitions_def,
    )


@dg.multi_asset(
    specs=[
        _spec(
            "documents",
            "normalise",
            ["source_files"],
            "One row per accepted article: its decoded text, title and sentence count. "
            "Partitioned into 16 shards of files (the first hex digit of doc_id): a shard's "
            "materialisation says what its last run parsed and removed.",
            partitions_def=SHARDS,
        ),
        _spec(
            "sentences",
            "normalise",
            ["documents"],
            "Paragraphs (non-blank lines) split into spaCy sentences, with exact character "
            "offsets; newsletter prompts and bylines flagged `is_boilerplate`.",
        ),
        _spec(
            "document_mentions",
            "extract",
            ["sentences"],
            "Named-entity mentions as each document decides them on its own: label corrected "
            "by the document's evidence and linked to a canonical name. `link_corpus_entities` "
            "merges them across the corpus into `entity_mentions`.",
        ),
        _spec(
            "document_claims",
            "extract",
            ["sentences", "document_mentions"],
            "Quotes (cue, speaker, outlet) and quantities, with speakers linked to the "
            "document's own entities; `claims` is this with speakers linked corpus-wide.",
        ),
    ],
    backfill_policy=backfill_policy(),
)
def annotate_documents(
    context: dg.AssetExecutionContext,
    config: AnnotateConfig,
    storage: NewsStorage,
    duckdb: DuckDBWarehouse,
):
    """Parse what is new in the run's shards, on every core; commit each batch (see
    `pipelines.core.incremental` for the order of its Delta commits)."""
    settings = storage.settings()
    lake = storage.lake(settings)
    partitioned = context.has_partition_key or context.has_partition_key_range
    shards = sorted(context.partition_keys) if partitioned else list(incremental.SHARDS)
    # one run at a time per shard, per machine
    with incremental.shard_locks(lake, shards, settings.shard_lock_timeout_s):
        files = lake.read("source_files")
        state = incremental.committed_state(lake)
        parsed_by, extracted_by = code_versions(settings.extraction_salt)
        adopted = incremental.adopt_extractions(lake, extracted_by)
        if adopted:
            context.log.info(
                f"{adopted} documents from before kept parses: recorded as made by this code"
            )
        code = incremental.CodeVersions(parsed_by, extracted_by, incremental.extraction_state(lake))
        plans = incremental.plan(files, state, shards, config.force, code)
        # metadata changed, text not: the documents rows are rewritten, nothing parsed
        refreshed = {} if config.force else incremental.refresh_metadata(lake, files, shards)
        to_parse = sum(len(p.to_parse) for p in plans.values())
        reextract = sum(len(p.to_reextract) for p in plans.values())
        context.log.info(
            f"shards {shards[0]}-{shards[-1]}: {to_parse - reextract} documents to parse, "
            f"{reextract} to extract again from their kept parses ({extracted_by}), "
            f"{sum(len(p.removed) for p in plans.values())} to remove, "
            f"{sum(p.unchanged for p in plans.values())} unchanged"
        )

        wanted = [path for p in plans.values() for path in p.to_parse]
        reader = ArticleReader(
            settings.seeds_dir, settings.max_file_bytes, settings.max_jsonl_bytes, wanted
        )
        found = {
            row["source_path"]: metadata.from_source_row(row)
            for row in files.filter(pl.col("source_path").is_in(wanted)).iter_rows(named=True)
        }

        def load(source_path: str) -> Document | None:
            try:
                document = reader.load(source_path)
            except (RejectedFile, OSError) as exc:
                context.log.warning(f"{source_path} changed or vanished during the run: {exc}")
                return None
            return metadata.with_metadata(document, found[source_path], document.title)

        workers = storage.workers() if to_parse >= storage.parallel_threshold() else 1
        progress = Progress(to_parse, "articles")

        def log_progress(done: int, committed: bool) -> None:
            if line := progress.update(done, force=committed):
                context.log.info(line)

        with heartbeat(progress, context.log.info) if to_parse else contextlib.nullcontext():
            report = incremental.process(
                lake,
                plans,
                load,
                storage.part_size(),
                workers,
                task_size=storage.task_docs(),
                log=context.log.info,
                progress=log_progress,
                quote_model=settings.quote_model,
                code=(parsed_by, extracted_by),
                keep_parses=settings.keep_parses,
            )
    for shard, n in refreshed.items():
        report.shards[shard].metadata_updated = n
    for shard, done in report.shards.items():
        if plans[shard].has_work or done.compacted or done.metadata_updated:
            context.log_event(
                dg.AssetObservation(
                    asset_key="documents",
                    partition=shard,
                    metadata={
                        **{key: getattr(done, name) for key, name in _FIGURES.items()},
                        "documents_in_shard": done.documents,
                    },
                )
            )
    run_figures = {
        "shards": f"{shards[0]}-{shards[-1]}" if len(shards) > 1 else shards[0],
        **{key: report.total(name) for key, name in _FIGURES.items()},
        "files_vacuumed": report.vacuumed,
        "lake_versions": dg.MetadataValue.json(lake.versions(incremental.DOC_TABLES)),
        "workers": workers,
        "spacy_model": _model_package() if to_parse else "not loaded (nothing new)",
        "extracted_by": extracted_by,
    }
    if not report.changed and _warehouse_is_current(lake, duckdb):
        context.log.info("nothing changed and the warehouse is current: nothing to materialise")
        context.log_event(dg.AssetObservation(asset_key="documents", metadata=run_figures))
        return
    yield from _materialisations(lake, run_figures)


def _model_package() -> str:
    """The spaCy model package the workers load, and its version (without loading it here)."""
    return versions.current_model()


def _warehouse_is_current(lake, duckdb: DuckDBWarehouse) -> bool:
    """Was the warehouse file built from exactly the lake's versions there are now?"""
    return warehouse.current_fingerprint(duckdb.file()) == warehouse.fingerprint(lake)


def _materialisations(store, run_figures: dict):  # store: the `Lake`
    documents = store.scan("documents")
    dated = documents.select(
        with_published_at=pl.col("published_at").is_not_null().sum(),
        with_publisher=pl.col("publisher").is_not_null().sum(),
    ).collect()
    yield dg.MaterializeResult(
        asset_key="documents",
        metadata={
            **table_metadata("documents", documents),
            **run_figures,
            # how much of the corpus can be put on a time line and by outlet
            "documents_with_published_at": int(dated["with_published_at"][0]),
            "documents_with_publisher": int(dated["with_publisher"][0]),
        },
    )
    sentences = store.scan("sentences")
    yield dg.MaterializeResult(
        asset_key="sentences",
        metadata={
            **table_metadata("sentences", sentences),
            "boilerplate_sentences": sentences.filter(pl.col("is_boilerplate"))
            .select(pl.len())
            .collect()
            .item(),
        },
    )
    for table in ("document_mentions", "document_claims"):
        yield dg.MaterializeResult(
            asset_key=table, metadata=table_metadata(table, store.scan(table))
        )
