"""The warehouse tables' Arrow schemas: one place that says what every column is."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

import polars as pl
import pyarrow as pa

TIMESTAMP = pa.timestamp("us")  # UTC, stored without a zone as DuckDB's TIMESTAMP

SCHEMAS: dict[str, pa.Schema] = {
    "documents": pa.schema(
        [
            ("doc_id", pa.string()),
            ("source_path", pa.string()),
            ("content_sha256", pa.string()),
            ("title", pa.string()),
            ("text", pa.string()),
            ("encoding", pa.string()),
            ("n_chars", pa.int32()),
            ("n_sentences", pa.int32()),
            ("ingested_at", TIMESTAMP),
            # the article's metadata (JSON fields or a manifest row); NULL or empty when unknown
            ("published_at", TIMESTAMP),
            ("publisher", pa.string()),
            ("url", pa.string()),
            ("authors", pa.list_(pa.string())),
            ("section", pa.string()),
            ("language", pa.string()),
            # the story the article belongs to (its canonical article's doc_id) and, for a copy,
            # the canonical article
            ("story_id", pa.string()),
            ("duplicate_of", pa.string()),
        ]
    ),
    "source_files": pa.schema(
        [  # extension: every file the last scan found
            ("source_path", pa.string()),
            ("doc_id", pa.string()),
            ("content_sha256", pa.string()),
            ("n_bytes", pa.int64()),
            ("encoding", pa.string()),
            ("accepted", pa.bool_()),
            ("reason", pa.string()),
            ("file_signature", pa.string()),  # size, times, inode: unchanged files are not read
            # the article's metadata as its documents row must hold it (`pipelines.core.metadata`),
            # a digest of it (an unchanged file with the same metadata is not read again) and what
            # could not be read (`file_warnings`; for a manifest, its own rows' problems)
            ("title", pa.string()),
            ("published_at", TIMESTAMP),
            ("publisher", pa.string()),
            ("url", pa.string()),
            ("authors", pa.list_(pa.string())),
            ("section", pa.string()),
            ("language", pa.string()),
            ("metadata_sha256", pa.string()),
            ("warnings", pa.list_(pa.string())),
        ]
    ),
    "rejected_files": pa.schema(
        [
            ("source_path", pa.string()),
            ("reason", pa.string()),
            ("detected_at", TIMESTAMP),
        ]
    ),
    "file_warnings": pa.schema(
        [
            ("source_path", pa.string()),
            ("warning", pa.string()),
            ("detected_at", TIMESTAMP),
        ]
    ),
    "sentences": pa.schema(
        [
            ("sentence_id", pa.string()),
            ("doc_id", pa.string()),
            ("paragraph_index", pa.int32()),
            ("sentence_index", pa.int32()),
            ("char_start", pa.int32()),
            ("char_end", pa.int32()),
            ("text", pa.string()),
            ("is_boilerplate", pa.bool_()),
        ]
    ),
    "entity_mentions": pa.schema(
        [
            ("mention_id", pa.string()),
            ("doc_id", pa.string()),
            ("sentence_id", pa.string()),
            ("entity_id", pa.string()),
            ("text", pa.string()),
            ("label", pa.string()),
            ("model_label", pa.string()),
            ("char_start", pa.int32()),
            ("char_end", pa.int32()),
            ("entity_name", pa.string()),  # the canonical name, also in `entities.name`
            ("country", pa.string()),  # this mention's country where it is a place or group
            # how the label was decided: "evidence" in the document (gazetteer, curated name,
            # title, appositive, organisation noun), the NER "model" alone, or the "corpus"
            # (the other documents' verdict on the same name)
            ("label_source", pa.string()),
        ]
    ),
    "entities": pa.schema(
        [
            ("entity_id", pa.string()),
            ("name", pa.string()),
            ("label", pa.string()),
            ("country", pa.string()),
            ("n_mentions", pa.int64()),
            ("n_documents", pa.int64()),
        ]
    ),
    "claims": pa.schema(
        [
            ("claim_id", pa.string()),
            ("doc_id", pa.string()),
            ("sentence_id", pa.string()),
            ("claim_type", pa.string()),
            ("text", pa.string()),
            ("char_start", pa.int32()),
            ("char_end", pa.int32()),
            ("speaker", pa.string()),
            ("speaker_text", pa.string()),
            ("speaker_start", pa.int32()),
            ("speaker_end", pa.int32()),
            ("speaker_entity_id", pa.string()),
            ("cue", pa.string()),
            ("cue_start", pa.int32()),
            ("cue_end", pa.int32()),
            ("outlet", pa.string()),
            ("confidence", pa.float64()),
            ("quote_group_id", pa.string()),
            ("in_quote_id", pa.string()),
            ("quantity_value", pa.float64()),
            ("quantity_value_to", pa.float64()),
            ("quantity_unit", pa.string()),
            ("quantity_currency", pa.string()),
            ("quantity_change", pa.string()),
            ("quantity_concept", pa.string()),
            ("quantity_si_value", pa.float64()),
            ("quantity_si_value_to", pa.float64()),
            ("quantity_si_unit", pa.string()),
        ]
    ),
}

# The lake's commit point (see `pipelines.core.incremental`): which content every document's rows
# in the per-document tables were committed for.
SCHEMAS["committed_documents"] = pa.schema(
    [("doc_id", pa.string()), ("content_sha256", pa.string()), ("committed_at", TIMESTAMP)]
)

# Corpus-wide decisions of the stories step (pipelines.core.stories, quote_groups), kept as
# small tables of their own and applied to documents and claims when the warehouse is loaded.
SCHEMAS["document_stories"] = pa.schema(
    [("doc_id", pa.string()), ("story_id", pa.string()), ("duplicate_of", pa.string())]
)
SCHEMAS["quote_groups"] = pa.schema([("claim_id", pa.string()), ("quote_group_id", pa.string())])
# the stories step's incremental state: each article's MinHash signature and the verified pairs
SCHEMAS["story_signatures"] = pa.schema(
    [
        ("doc_id", pa.string()),
        ("content_sha256", pa.string()),
        ("body_key", pa.string()),
        ("n_shingles", pa.int32()),
        ("signature", pa.list_(pa.int64())),  # 32-bit MinHash values (Delta has no unsigned)
    ]
)
SCHEMAS["story_pairs"] = pa.schema(
    [("doc_a", pa.string()), ("doc_b", pa.string()), ("similarity", pa.float64())]
)

# Each document's kept parse (spaCy's DocBin, see `pipelines.core.annotate`) and the code its
# rows were extracted by (`pipelines.core.versions`): after a change of the extraction code a run
# extracts again from the kept parses instead of parsing again (NEWS_KEEP_PARSES=off: none kept).
SCHEMAS["document_parses"] = pa.schema(
    [
        ("doc_id", pa.string()),
        ("content_sha256", pa.string()),
        ("parsed_by", pa.string()),
        ("parse", pa.binary()),
    ]
)
SCHEMAS["document_extractions"] = pa.schema(
    [("doc_id", pa.string()), ("content_sha256", pa.string()), ("extracted_by", pa.string())]
)

# The corpus entity step's state (pipelines.core.corpus_entities, incremental.relink_corpus): the
# decisions it made that a document did not (small), and for which commit of each document its
# rows of entity_mentions and claims were linked.
SCHEMAS["entity_links"] = pa.schema(
    [
        ("doc_id", pa.string()),
        ("entity_id", pa.string()),
        ("corpus_entity_id", pa.string()),
        ("label", pa.string()),
        ("label_source", pa.string()),
    ]
)
SCHEMAS["linked_documents"] = pa.schema([("doc_id", pa.string()), ("committed_at", TIMESTAMP)])
# What the merge reads and knows, kept so that a run re-decides only what its changed documents
# touch (corpus_entities.ENTITY_ROW_COLUMNS, NAME_COLUMNS, COUNT_COLUMNS).
SCHEMAS["document_entities"] = pa.schema(
    [
        ("doc_id", pa.string()),
        ("entity_id", pa.string()),
        ("name", pa.string()),
        ("label", pa.string()),
        ("label_source", pa.string()),
        ("key", pa.string()),
    ]
)
SCHEMAS["entity_names"] = pa.schema(
    [
        ("key", pa.string()),
        ("corpus_label", pa.string()),
        ("n_documents", pa.int64()),
        ("surname", pa.string()),
        ("n_people", pa.int64()),
        ("full_name", pa.string()),
        ("reads_as_full_name", pa.bool_()),
    ]
)
SCHEMAS["entity_counts"] = pa.schema(
    [
        ("doc_id", pa.string()),
        ("entity_id", pa.string()),
        ("label", pa.string()),
        ("label_source", pa.string()),
        ("entity_name", pa.string()),
        ("country", pa.string()),
        ("n_mentions", pa.int64()),
    ]
)

# What each step downstream of the parse read when it last succeeded (incremental.inputs_unchanged)
SCHEMAS["step_inputs"] = pa.schema([("step", pa.string()), ("versions", pa.string())])

# The per-document stage the corpus step reads: the same columns, with each document's own
# entity decisions (ids, labels, names) before the corpus-wide merge.
SCHEMAS["document_mentions"] = SCHEMAS["entity_mentions"]
SCHEMAS["document_claims"] = SCHEMAS["claims"]

PRIMARY_KEYS = {
    "documents": "doc_id",
    "sentences": "sentence_id",
    "entity_mentions": "mention_id",
    "entities": "entity_id",
    "claims": "claim_id",
}
# (table, column) -> (table it points to, key column)
FOREIGN_KEYS = {
    ("sentences", "doc_id"): ("documents", "doc_id"),
    ("entity_mentions", "doc_id"): ("documents", "doc_id"),
    ("entity_mentions", "sentence_id"): ("sentences", "sentence_id"),
    ("entity_mentions", "entity_id"): ("entities", "entity_id"),
    ("claims", "doc_id"): ("documents", "doc_id"),
    ("claims", "sentence_id"): ("sentences", "sentence_id"),
    ("claims", "speaker_entity_id"): ("entities", "entity_id"),
    ("claims", "in_quote_id"): ("claims", "claim_id"),
    ("documents", "duplicate_of"): ("documents", "doc_id"),
}
# Tables whose rows carry a span of documents.text.
SPAN_COLUMNS = {
    "sentences": ("char_start", "char_end", "text"),
    "entity_mentions": ("char_start", "char_end", "text"),
    "claims": ("char_start", "char_end", "text"),
}


def _load_descriptions() -> dict[str, dict[str, str]]:
    """Each column's description (data/columns.tsv, the contract's wording): shown in the
    Dagster UI's column schema and in DuckDB (`COMMENT ON COLUMN`)."""
    found: dict[str, dict[str, str]] = {}
    data = resources.files("pipelines.core") / "data" / "columns.tsv"  # package data
    for line in data.read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            table, column, text = line.split("\t")
            found.setdefault(table, {})[column] = text
    found["document_mentions"] = found["entity_mentions"]  # the per-document stage
    found["document_claims"] = found["claims"]
    return found


DESCRIPTIONS = _load_descriptions()


def polars_schema(table: str) -> pl.Schema:
    """The table's schema as Polars dtypes."""
    return pl.DataFrame(pa.table({f.name: pa.array([], f.type) for f in SCHEMAS[table]})).schema


def frame(table: str, rows: Sequence[object]) -> pl.DataFrame:
    """Dataclass rows to a frame with the table's exact columns and types."""
    schema = polars_schema(table)
    if not rows:
        return pl.DataFrame(schema=schema)
    names = schema.names()
    columns = {name: [getattr(r, name) for r in rows] for name in names}
    return pl.DataFrame(columns, schema=schema)


def to_arrow(table: str, df: pl.DataFrame) -> pa.Table:
    """The frame in the table's Arrow schema (column order and types enforced)."""
    return df.select(SCHEMAS[table].names).to_arrow().cast(SCHEMAS[table])
