"""Stories and quote groups: the corpus-wide decisions on which articles are copies of one story
and which quotes are the same words, kept as small tables of their own (`document_stories`,
`quote_groups`) that the warehouse load joins into `documents.story_id` / `duplicate_of` and
`claims.quote_group_id`.

The step is incremental (see `pipelines.core.stories`): it keeps each article's MinHash signature
and the verified similar pairs (`story_signatures`, `story_pairs`), signs only new or changed
articles and compares them with their LSH candidates, never all pairs. It runs after the corpus
entity step and is skipped with it when nothing changed. The quote groups are computed again
only when a row they are made of moved (`claims`, or `documents` for the order of publication):
a change of the rules that leaves every claim as it was keeps them as they are.
"""

import dagster as dg
import polars as pl

from assets.extract import corpus_spec
from assets.metadata import markdown_table, table_metadata
from pipelines.core import incremental, quote_groups, stories
from pipelines.resources import NewsStorage

LOCK_TIMEOUT_S = 600.0
STATE_TABLES = ("story_signatures", "story_pairs")
# what the quote groups are made of: the claims, and the documents' publication dates and paths
# (metadata too, so no op is ignored)
QUOTE_GROUP_INPUTS = ("claims", "documents")


def _write_if_changed(lake, table: str, df: pl.DataFrame) -> bool:
    """Replace a table unless it holds exactly `df` already (an unchanged re-run commits
    nothing)."""
    if lake.exists(table) and lake.read(table).sort(df.columns[:2]).equals(df):
        return False
    lake.overwrite(table, df, {"op": "stories"})
    return True


@dg.multi_asset(
    specs=[
        corpus_spec(
            "document_stories",
            ["documents"],
            "Each article's story (the doc_id of its canonical article: earliest published, "
            "then first by source_path) and, for a copy, the canonical article. Exact copies "
            "and near-duplicates (word 5-shingle Jaccard >= 0.5, MinHash LSH candidates).",
            skippable=True,
        ),
        corpus_spec(
            "quote_groups",
            ["claims", "document_stories"],
            "Direct and indirect quotes with the same words across articles (marks, case, "
            "punctuation ignored; an excerpt of >= 8 words joins the longer quote's group).",
            skippable=True,
        ),
    ],
    can_subset=False,
)
def link_stories(context: dg.AssetExecutionContext, storage: NewsStorage):
    """Group copies into stories and quotes into quote groups, across the corpus."""
    lake = storage.lake()
    with lake.lock("stories", LOCK_TIMEOUT_S, "grouping the corpus's stories"):
        # asked before anything is read: a commit in between makes the next run compute again
        kept, inputs = incremental.inputs_unchanged(
            lake, "quote_groups", QUOTE_GROUP_INPUTS, ignore=()
        )
        kept = kept and lake.exists("quote_groups")
        version = lake.version("documents")  # both reads of one snapshot
        documents = lake.read(
            "documents", ["doc_id", "content_sha256", "source_path", "published_at"], version
        )
        result = stories.update(
            documents,
            lake.read("story_signatures"),
            lake.read("story_pairs"),
            texts=lambda ids: lake.read("documents", ["doc_id", "title", "text"], version, ids),
        )
        if kept:
            groups = lake.read("quote_groups")
        else:
            groups = quote_groups.quote_groups(
                lake.scan("claims")
                .select("claim_id", "doc_id", "claim_type", "text", "char_start")
                .collect(),
                documents,
            )
        outputs = [
            ("story_signatures", result.signatures),
            ("story_pairs", result.pairs),
            ("document_stories", result.stories),
        ]
        if not kept:
            outputs.append(("quote_groups", groups))
        written = [table for table, df in outputs if _write_if_changed(lake, table, df)]
        if not kept:
            incremental.record_inputs(lake, "quote_groups", inputs)
    context.log.info(
        f"signed {result.signed} articles, compared {result.compared} LSH candidates; "
        f"tables written: {', '.join(written) or 'none (unchanged)'}"
    )
    copies = result.stories.filter(pl.col("duplicate_of").is_not_null())
    yield dg.MaterializeResult(
        asset_key="document_stories",
        metadata={
            **table_metadata("document_stories", result.stories),
            "stories": result.stories["story_id"].n_unique(),
            "copies": copies.height,
            "similar_pairs": result.pairs.height,
            "articles_signed": result.signed,
            "lsh_candidates_compared": result.compared,
            "sample": dg.MetadataValue.md(markdown_table(copies.head(10))),
        },
    )
    sizes = groups.group_by("quote_group_id").len().filter(pl.col("len") > 1)
    yield dg.MaterializeResult(
        asset_key="quote_groups",
        metadata={
            **table_metadata("quote_groups", groups),
            "groups": groups["quote_group_id"].n_unique(),
            "groups_with_more_than_one_quote": sizes.height,
            "recomputed": not kept,  # false: no claim or document moved since they were made
        },
    )
