"""Warehouse: the DuckDB file built from the lake, and its analytical views."""

import dagster as dg

from assets.metadata import counts_markdown
from pipelines.resources import DuckDBWarehouse, NewsStorage

OWNERS = ["team:news-data"]
VIEWS = {
    "top_entities": "Entities ranked by mentions: an index of the corpus.",
    "quotes_by_speaker": "Who is quoted, how often, in how many documents.",
    "claims_per_document": "Claims per document, by type.",
    "entity_cooccurrence": "Pairs of entities named in the same sentence.",
    "quotes": "Every quote with speaker, cue, outlet, document and sentence.",
    "quantities": "Every quantity with value, unit and sentence.",
    "entity_mentions_daily": "Mentions, documents and stories per entity per publication day.",
    "quotes_by_publisher": "Who each outlet quotes, how often, first and last time.",
    "shared_quotes": "The same quote in more than one story, with its first publication.",
}
TABLES = (
    "documents",
    "rejected_files",
    "file_warnings",
    "sentences",
    "entity_mentions",
    "entities",
    "claims",
)
# applied to documents and claims at load (issue 14)
DECISION_TABLES = ("document_stories", "quote_groups")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "warehouse",
            deps=[*TABLES, *DECISION_TABLES],
            description="`warehouse.duckdb`: the contract's tables loaded from the lake's "
            "Delta tables (only what changed, when it can), swapped in atomically (readers "
            "keep their snapshot); `load_info` names the lake versions it was built from.",
            group_name="warehouse",
            kinds={"duckdb"},
            owners=OWNERS,
        ),
        *(
            dg.AssetSpec(
                name,
                deps=["warehouse"],
                description=text,
                group_name="warehouse",
                kinds={"duckdb", "sql"},
                owners=OWNERS,
            )
            for name, text in VIEWS.items()
        ),
    ],
    pool="duckdb_warehouse",
)
def load_warehouse(
    context: dg.AssetExecutionContext, storage: NewsStorage, duckdb: DuckDBWarehouse
):
    """The only step that writes the DuckDB file (a pool of one, and a file lock)."""
    report = duckdb.build(storage.lake())
    done = {
        "full": "built whole",
        "incremental": f"brought up to date ({report.changed_documents} changed documents)",
    }
    context.log.info(f"warehouse {done.get(report.mode, 'already up to date')} at {report.path}")
    yield dg.MaterializeResult(
        asset_key="warehouse",
        metadata={
            "path": dg.MetadataValue.path(str(report.path)),
            "rebuilt": report.rebuilt,
            "load": report.mode,
            "changed_documents": report.changed_documents,
            "lake_versions": dg.MetadataValue.json(report.versions or {}),
            "seconds": round(report.seconds, 2),
            "rows": counts_markdown(report.row_counts, "table"),
            "dagster/row_count": sum(report.row_counts.values()),
        },
    )
    with duckdb.connect_read_only() as con:
        for name in VIEWS:
            n_rows = con.execute(f"select count(*) from {name}").fetchone()[0]
            yield dg.MaterializeResult(asset_key=name, metadata={"dagster/row_count": n_rows})
