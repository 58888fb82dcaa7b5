"""The tables' invariants as Polars queries, for asset checks and tests alike.

Each function returns the offending rows (empty when the invariant holds).
"""

from __future__ import annotations

import polars as pl


def span_mismatches(rows: pl.LazyFrame, documents: pl.LazyFrame) -> pl.DataFrame:
    """Rows whose `text` is not `documents.text[char_start:char_end]`."""
    return (
        rows.select("doc_id", "char_start", "char_end", pl.col("text").alias("span"))
        .join(documents.select("doc_id", "text"), on="doc_id", how="left")
        .filter(
            pl.col("text").is_null()
            | (
                pl.col("text").str.slice(
                    pl.col("char_start"), pl.col("char_end") - pl.col("char_start")
                )
                != pl.col("span")
            )
        )
        .select("doc_id", "char_start", "char_end", "span")
        .collect()
    )


def duplicate_keys(rows: pl.LazyFrame, key: str) -> pl.DataFrame:
    """Key values that occur more than once."""
    return rows.group_by(key).len().filter(pl.col("len") > 1).collect()


def dangling_keys(rows: pl.LazyFrame, column: str, target: pl.LazyFrame, key: str) -> pl.DataFrame:
    """Non-null values of `column` with no row in `target`."""
    return (
        rows.select(column)
        .drop_nulls()
        .unique()
        .join(target.select(pl.col(key).alias(column)), on=column, how="anti")
        .collect()
    )


def documents_without_sentences(documents: pl.LazyFrame, sentences: pl.LazyFrame) -> pl.DataFrame:
    return (
        documents.select("doc_id", "source_path")
        .join(sentences.select("doc_id").unique(), on="doc_id", how="anti")
        .collect()
    )
