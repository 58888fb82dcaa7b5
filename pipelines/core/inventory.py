"""The seeds folder's inventory: every file found, accepted or refused, with its content hash."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from pipelines.core.documents import Document, RawFile, Rejection, read_documents
from pipelines.core.ids import doc_id_for
from pipelines.core.tables import polars_schema


def scan(
    seeds_dir: Path, max_bytes: int, previous: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, list[Rejection]]:
    """`source_files` rows for every file, and the refusals. A file accepted by the previous
    scan (`previous`, the last `source_files`) whose signature is the same is not read again: a
    run over an unchanged folder of thousands of articles only lists it."""
    known: dict[str, dict] = {}
    if previous is not None:
        accepted = previous.filter(pl.col("accepted") & pl.col("file_signature").is_not_null())
        known = {row["source_path"]: row for row in accepted.iter_rows(named=True)}

    def unchanged(raw_file: RawFile) -> bool:
        row = known.get(raw_file.source_path)
        return (
            row is not None
            and row["file_signature"] == raw_file.signature
            and row["n_bytes"] <= max_bytes  # the limit may have been lowered since
        )

    rows: list[dict] = []
    refused: list[Rejection] = []
    for item in read_documents(seeds_dir, max_bytes, unchanged):
        if isinstance(item, RawFile):
            rows.append(known[item.source_path])
        elif isinstance(item, Document):
            rows.append(
                {
                    "source_path": item.source_path,
                    "doc_id": item.doc_id,
                    "content_sha256": item.content_sha256,
                    "n_bytes": item.n_bytes,
                    "encoding": item.encoding,
                    "accepted": True,
                    "reason": None,
                    "file_signature": item.signature,
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
                    "file_signature": None,
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
