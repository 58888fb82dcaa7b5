"""The seeds folder's inventory: every file found, accepted or refused, with its content hash."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.core import metadata
from pipelines.core.documents import (
    DEFAULT_MAX_JSONL_BYTES,
    Document,
    RawFile,
    RejectedFile,
    Rejection,
    decode,
    file_of,
    find_raw_files,
    is_manifest,
    read_bytes,
    read_found,
)
from pipelines.core.ids import doc_id_for
from pipelines.core.metadata import Metadata
from pipelines.core.tables import polars_schema

_NO_METADATA = Metadata()


def read_manifest(raw_file: RawFile, max_bytes: int) -> tuple[metadata.ManifestRead, dict]:
    """A manifest's rows and its `source_files` row (never an article: `accepted` is false and
    `reason` empty unless it is refused). Limited by NEWS_MAX_JSONL_BYTES; decoded as an article
    is (a byte-order mark dropped, CRLF read as a line end)."""
    row: dict[str, Any] = {
        "source_path": raw_file.source_path,
        "doc_id": doc_id_for(raw_file.source_path),
        "accepted": False,
        "file_signature": raw_file.signature,
    }
    try:
        raw = read_bytes(raw_file, max_bytes)
        text, encoding = decode(raw, max_bytes)
    except (RejectedFile, OSError) as exc:
        reason = str(exc).replace("NEWS_MAX_FILE_BYTES", "NEWS_MAX_JSONL_BYTES")
        read = metadata.ManifestRead(raw_file.source_path, refusal=f"manifest not read: {reason}")
        return read, {**row, "reason": read.refusal, "file_signature": None}
    read = metadata.parse_manifest(raw_file.source_path, text)
    row.update(
        content_sha256=hashlib.sha256(raw).hexdigest(),
        n_bytes=len(raw),
        encoding=encoding,
        reason=read.refusal,
    )
    return read, row


def _document_row(document: Document, metadata_sha256: str) -> dict[str, Any]:
    return {
        "source_path": document.source_path,
        "doc_id": document.doc_id,
        "content_sha256": document.content_sha256,
        "n_bytes": document.n_bytes,
        "encoding": document.encoding,
        "accepted": True,
        "reason": None,
        "file_signature": document.signature,
        "title": document.title,
        **document.metadata.columns(),
        "metadata_sha256": metadata_sha256,
        "warnings": list(document.warnings),
    }


def scan(
    seeds_dir: Path,
    max_bytes: int,
    previous: pl.DataFrame | None = None,
    max_jsonl_bytes: int = DEFAULT_MAX_JSONL_BYTES,
) -> tuple[pl.DataFrame, list[Rejection]]:
    """`source_files` rows for every file (a JSON line is a row of its own, `<path>#<line>`), and
    the refusals. A file accepted by the previous scan (`previous`, the last `source_files`)
    whose signature is the same is not read again, nor is a `.txt` file whose manifest row says
    what it said then: a run over an unchanged folder of thousands of articles only lists it
    (and reads its manifests). A manifest's warnings are its own row's `warnings`."""
    if not seeds_dir.is_dir():
        raise FileNotFoundError(f"seeds folder {seeds_dir} does not exist (NEWS_SEEDS_DIR)")
    raw_files, refused = find_raw_files(seeds_dir)
    rows: list[dict] = [_refused_row(r, None) for r in refused]
    manifests = []
    for raw_file in raw_files:
        if is_manifest(raw_file.source_path):
            read, row = read_manifest(raw_file, max_jsonl_bytes)
            manifests.append(read)
            rows.append(row)
            if read.refusal:
                refused.append(Rejection(raw_file.source_path, read.refusal))
    texts = {f.source_path for f in raw_files if f.source_path.endswith(".txt")}
    from_manifests, problems = metadata.manifest_rows(manifests, texts)
    for row in rows:  # a manifest's warnings about rows for articles that are not there
        row["warnings"] = row.get("warnings", []) + [
            w for p, w in problems if p == row["source_path"]
        ]
    known: dict[str, list[dict]] = {}
    by_path: dict[str, dict] = {}
    if previous is not None:
        for row in previous.iter_rows(named=True):
            by_path[row["source_path"]] = row
            known.setdefault(file_of(row["source_path"]), []).append(row)

    def unchanged(raw_file: RawFile) -> bool:
        before = known.get(raw_file.source_path, [])
        if not before or any(r["file_signature"] != raw_file.signature for r in before):
            return False
        if any(r["accepted"] and r["n_bytes"] > max_bytes for r in before):
            return False  # the limit may have been lowered since
        if raw_file.source_path.endswith(".txt"):
            digest = metadata.row_digest(*from_manifests.get(raw_file.source_path, (None, "")))
            return before[0]["accepted"] and before[0]["metadata_sha256"] == digest
        size = int((raw_file.signature or "0").split(":")[0])
        return size <= max_jsonl_bytes

    for item in read_found(raw_files, max_bytes, unchanged, max_jsonl_bytes):
        if isinstance(item, RawFile):
            for row in known[item.source_path]:
                rows.append(row)
                if not row["accepted"]:
                    refused.append(Rejection(row["source_path"], row["reason"], row["doc_id"]))
        elif isinstance(item, Document):
            if item.source_path.endswith(".txt"):
                row, where = from_manifests.get(item.source_path, (None, ""))
                found = metadata.from_record(row, where) if row else _NO_METADATA
                item = metadata.with_metadata(item, found, item.title)
                item = _with_warnings(item, found.warnings)
                digest = metadata.row_digest(row, where)
            else:
                digest = replace(item.metadata, title=item.title, warnings=item.warnings).digest()
            rows.append(_document_row(item, digest))
        else:
            # a line that was an article and now is not keeps its doc_id, so its rows stay
            before = by_path.get(item.source_path)
            doc_id = item.doc_id or (before["doc_id"] if before and before["accepted"] else None)
            item = Rejection(item.source_path, item.reason, doc_id, item.signature)
            refused.append(item)
            rows.append(_refused_row(item, item.signature))
            if item.source_path.endswith(".jsonl"):  # a whole file refused: its lines' rows stay
                rows.extend(
                    _refused_row(Rejection(r["source_path"], item.reason, r["doc_id"]), None)
                    for r in known.get(item.source_path, [])
                    if r["accepted"]
                )
    return _one_row_per_doc(rows, refused)


def _one_row_per_doc(
    rows: list[dict], refused: list[Rejection]
) -> tuple[pl.DataFrame, list[Rejection]]:
    """A refused line given the doc_id of the article its line held before (so that article's
    rows stay) gets its own again when that article is still in the file, on another line."""
    accepted = {r["doc_id"] for r in rows if r["accepted"]}
    for row in rows:
        if not row["accepted"] and row["doc_id"] in accepted:
            row["doc_id"] = doc_id_for(row["source_path"])
    refused = [
        Rejection(r.source_path, r.reason, None, r.signature) if r.doc_id in accepted else r
        for r in refused
    ]
    return pl.DataFrame(rows, schema=polars_schema("source_files")), refused


def _with_warnings(document: Document, warnings: tuple[str, ...]) -> Document:
    return replace(document, warnings=document.warnings + warnings)


def _refused_row(item: Rejection, signature: str | None) -> dict[str, Any]:
    return {
        "source_path": item.source_path,
        "doc_id": item.doc_id or doc_id_for(item.source_path),
        "accepted": False,
        "reason": item.reason,
        "file_signature": signature,
        "warnings": [],
    }


def warnings_frame(files: pl.DataFrame, previous: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """`file_warnings` rows from the scan's `warnings`; a warning seen before keeps its first
    `detected_at`."""
    found = (
        files.select("source_path", warning=pl.col("warnings"))
        .explode("warning")
        .drop_nulls("warning")
        .unique(maintain_order=True)
    )
    seen = previous.select("source_path", "warning", pl.col("detected_at").alias("first_seen"))
    return (
        found.join(seen, on=["source_path", "warning"], how="left")
        .select(
            "source_path",
            "warning",
            detected_at=pl.col("first_seen").fill_null(pl.lit(now, pl.Datetime("us"))),
        )
        .cast(polars_schema("file_warnings"))  # type: ignore[arg-type]
    )


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
        if (item.doc_id or doc_id_for(item.source_path)) in kept:
            reason += "; its last good version stays in the warehouse"
        rows.append(
            {
                "source_path": item.source_path,
                "reason": reason,
                "detected_at": known.get((item.source_path, reason), now),
            }
        )
    return pl.DataFrame(rows, schema=polars_schema("rejected_files"))
