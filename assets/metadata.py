"""Metadata every materialisation carries: row count, column schema and a preview."""

from __future__ import annotations

from typing import Any

import dagster as dg
import polars as pl

from pipelines.core.tables import DESCRIPTIONS, SCHEMAS


def column_schema(table: str) -> dg.TableSchema:
    """The table's columns with their types and the contract's description of each."""
    described = DESCRIPTIONS.get(table, {})
    return dg.TableSchema(
        columns=[
            dg.TableColumn(f.name, str(f.type), description=described.get(f.name))
            for f in SCHEMAS[table]
        ]
    )


def markdown_table(df: pl.DataFrame, max_chars: int = 60) -> str:
    """A small Markdown table of the frame (long text cut), for the UI."""
    if df.is_empty():
        return "_no rows_"

    def cell(value: Any) -> str:
        text = "" if value is None else str(value)
        text = text.replace("\n", " ").replace("|", "\\|")
        return text if len(text) <= max_chars else text[: max_chars - 1] + "…"

    header = "| " + " | ".join(df.columns) + " |"
    rule = "| " + " | ".join("---" for _ in df.columns) + " |"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.iter_rows()]
    return "\n".join([header, rule, *rows])


def table_metadata(table: str, frame: pl.LazyFrame | pl.DataFrame, n_preview: int = 5) -> dict:
    """`dagster/row_count`, `dagster/column_schema` and a Markdown preview of a table."""
    lazy = frame.lazy()
    n_rows = lazy.select(pl.len()).collect().item()
    preview = lazy.head(n_preview).collect()
    if "text" in preview.columns and table == "documents":
        preview = preview.drop("text")
    return {
        "dagster/row_count": dg.MetadataValue.int(n_rows),
        "dagster/column_schema": column_schema(table),
        "preview": dg.MetadataValue.md(markdown_table(preview)),
    }


def counts_markdown(counts: dict[str, int], key: str = "value") -> dg.MetadataValue:
    frame = pl.DataFrame({key: list(counts), "n": list(counts.values())})
    return dg.MetadataValue.md(markdown_table(frame))


def column_counts(frame: pl.DataFrame, column: str) -> dg.MetadataValue:
    """How many rows hold each value of the column, most frequent first, as a Markdown table."""
    counts = frame.group_by(column).len().sort(["len", column], descending=[True, False])
    return counts_markdown(dict(counts.iter_rows()), column)
