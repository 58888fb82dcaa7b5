"""Extract: the corpus-wide entity index, and the mentions and claims linked to it.

Each document's own entity decisions (`document_mentions`, `document_claims`, written by
the parse step) are merged across the corpus here: one label per name where a document only had
the model's guess, surnames joined to the one person the corpus names in full (see
`pipelines.core.corpus_entities`). The three tables are written together by this one step, so an
entity id in a mention or a claim always has its `entities` row.
"""

import dagster as dg
import polars as pl

from assets.metadata import column_counts, markdown_table, table_metadata
from pipelines.core import corpus_entities, incremental
from pipelines.resources import NewsStorage

OWNERS = ["team:news-data"]
LOCK_TIMEOUT_S = 600.0
# What the corpus step reads: the documents' own entities and claims, and the commit point.
INPUTS = ("document_mentions", "document_claims", incremental.COMMITTED)


def corpus_spec(
    key: str, deps: list[str], description: str, skippable: bool = False
) -> dg.AssetSpec:
    """A lake table decided across the whole corpus (entities, stories, quote groups)."""
    return dg.AssetSpec(
        key,
        deps=deps,
        description=description,
        group_name="extract",
        kinds={"polars", "deltalake"},
        owners=OWNERS,
        skippable=skippable,
    )


@dg.multi_asset(
    specs=[
        corpus_spec(
            "entities",
            ["document_mentions"],
            "One row per real-world entity across the corpus: canonical name, label, country, "
            "and how many mentions and documents name it.",
        ),
        corpus_spec(
            "entity_mentions",
            ["document_mentions", "entities"],
            "Named-entity mentions (people, places, organisations, groups, ...), each linked to "
            "its corpus-wide entity, with that entity's label and canonical name.",
        ),
        corpus_spec(
            "claims",
            ["document_claims", "entities"],
            "Direct, partial and reported quotes with cue, resolved speaker (linked to its "
            "corpus-wide entity) and outlet; quantities with value and unit.",
        ),
    ]
)
def link_corpus_entities(context: dg.AssetExecutionContext, storage: NewsStorage):
    """Merge the documents' entities across the corpus; relink mentions and speakers to them."""
    lake = storage.lake()
    # One corpus step at a time, reading one version of the per-document tables: whichever step
    # runs last has seen every commit before it, so the tables never go back to an older state.
    with lake.lock("corpus_entities", LOCK_TIMEOUT_S, "merging the corpus's entities"):
        unchanged, versions = incremental.inputs_unchanged(lake, "corpus_entities", INPUTS)
        if unchanged:  # a metadata-only run: no mention, claim or commit point moved
            context.log.info(f"the documents' entities are as they were ({versions}): kept")
            for key in ("entities", "entity_mentions", "claims"):
                yield dg.MaterializeResult(
                    asset_key=key,
                    metadata={"unchanged_since": dg.MetadataValue.json(versions)},
                )
            return
        report = incremental.relink_corpus(lake, corpus_entities)
        incremental.record_inputs(lake, "corpus_entities", versions)
    alias, entities = report.alias, report.entities
    moved = alias.filter(pl.col("corpus_entity_id") != pl.col("entity_id"))
    merged = moved.select("document_name", "document_label", "name", "label").unique()
    top = entities.head(10).select("name", "label", "country", "n_mentions", "n_documents")
    yield dg.MaterializeResult(
        asset_key="entities",
        metadata={
            **table_metadata("entities", entities),
            "top_10": dg.MetadataValue.md(markdown_table(top)),
            "document_entities_merged": report.merged,
            "decisions_kept": report.decisions,
            "documents_decided": report.decided,
            "merged_whole": report.whole,
            "documents_linked": report.linked,
            "documents_relinked": report.relinked,
            "documents_replaced": dg.MetadataValue.json(report.replaced),
            # of the documents this run decided (all of them when merged whole)
            "merged_sample": dg.MetadataValue.md(
                markdown_table(merged.sort("name", "document_name").head(10))
            ),
        },
    )
    mentions = lake.scan("entity_mentions")
    claims = lake.scan("claims")
    yield dg.MaterializeResult(
        asset_key="entity_mentions",
        metadata={
            **table_metadata("entity_mentions", mentions),
            "labels": column_counts(mentions.select("label").collect(), "label"),
            "label_sources": column_counts(
                mentions.select("label_source").collect(), "label_source"
            ),
        },
    )
    yield dg.MaterializeResult(
        asset_key="claims",
        metadata={
            **table_metadata("claims", claims),
            "claims_by_type": column_counts(claims.select("claim_type").collect(), "claim_type"),
        },
    )
