"""Extract: the corpus-wide entity index built from every document's mentions."""

import dagster as dg

from assets.metadata import markdown_table, table_metadata
from pipelines.core.entities import entities_table
from pipelines.resources import NewsStorage


@dg.asset(
    deps=["entity_mentions"],
    group_name="extract",
    kinds={"polars", "parquet"},
    owners=["team:news-data"],
    description="One row per real-world entity across the corpus: canonical name, label, "
    "country, and how many mentions and documents name it.",
)
def entities(storage: NewsStorage) -> dg.MaterializeResult:
    store = storage.store()
    table = entities_table(store.scan("entity_mentions")).collect()
    store.write("entities", "entities", table)
    top = table.head(10).select("name", "label", "country", "n_mentions", "n_documents")
    return dg.MaterializeResult(
        metadata={
            **table_metadata("entities", table),
            "top_10": dg.MetadataValue.md(markdown_table(top)),
        }
    )
