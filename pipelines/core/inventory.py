"""The seeds folder's inventory: every file found, accepted or refused, with its content hash."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from pipelines.core.documents import Document, Rejection, read_documents
from pipelines.core.ids import doc_id_for
from pipelines.core.tables import polars_schema


def scan(seeds_dir: Path, max_bytes: int) -> tuple[pl.DataFrame, list[Rejection]]:
    """`source_files` rows for every file, and the refusals."""
    rows: list[dict] = []
    refused: list[Rejection] = []
    for item in read_documents(seeds_dir, max_bytes):
        if isinstance(item, Document):
            rows.append(
                {
                    "source_path": item.source_path,
                    "doc_id": item.doc_id,
                    "content_sha256": item.content_sha256,
                    "n_bytes": item.n_bytes,
                    "encoding": item.encoding,
                    "accepted": True,
                    "reason": None,
                }
            )
        else:
            refused.append(item)
            rows.append(
                {
                    "source_path": item.source_path,
                    "doc_id": doc_id_for(item.source_path),
                    "content_sha256": None,
                    "n_bytes": None,
                    "encoding": None,
                    "accepted": False,
                    "reason": item.reason,
                }
            )
    return pl.DataFrame(rows, schema=polars_schema("source_files")), refused


def rejected_frame(
    refused: list[Rejection], previous: pl.DataFrame, now: datetime, kept: set[str]
) -> pl.DataFrame:
    """`rejected_files` rows; a refusal seen before keeps its first `detected_at`."""
    known = {
        (p, r): t for p, r, t in previous.select("source_path", "reason", "detected_at").iter_rows()
    }
    rows = []
    for item in refused:
        reason = item.reason
        if doc_id_for(item.source_path) in kept:
            reason += "; its last good version stays in the warehouse"
        rows.append(
            {
                "source_path": item.source_path,
                "reason": reason,
                "detected_at": known.get((item.source_path, reason), now),
            }
        )
    return pl.DataFrame(rows, schema=polars_schema("rejected_files"))
