"""Doing only the new work: which documents to parse, which rows to drop, and committing both.

The Parquet tables `documents`, `sentences`, `entity_mentions` and `claims` are stored in parts,
one per batch of documents. A manifest (`_manifest.json` beside the tables) lists the committed
parts and the (doc_id, content_sha256) each holds; it is replaced atomically after each batch, so
it is the commit point. Part files it does not list (left by a killed run) are deleted before
anything else happens, and a document is parsed again only when it is new or its content changed.
A deleted file's rows are deleted too (the warehouse mirrors the seeds folder); a file that was
good and is now unreadable keeps its last good rows, with the rejection recorded beside them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from pipelines.core.annotate import NLP_TABLES, Batch, annotate_batches
from pipelines.core.documents import Document
from pipelines.core.ids import short_hash
from pipelines.core.store import ParquetStore
from pipelines.core.tables import frame

PART_TABLES = ("documents", *NLP_TABLES)
MANIFEST = "_manifest.json"


@dataclass
class Manifest:
    """Committed parts: part name -> {doc_id: content_sha256}."""

    parts: dict[str, dict[str, str]] = field(default_factory=dict)

    def documents(self) -> dict[str, tuple[str, str]]:
        """doc_id -> (content_sha256, part)."""
        return {d: (sha, part) for part, docs in self.parts.items() for d, sha in docs.items()}


def load_manifest(store: ParquetStore) -> Manifest:
    data = store.get(MANIFEST)
    return Manifest(json.loads(data)["parts"]) if data else Manifest()


def save_manifest(store: ParquetStore, manifest: Manifest) -> None:
    data = json.dumps({"version": 1, "parts": manifest.parts}, sort_keys=True)
    store.put_atomic(MANIFEST, data.encode())


def remove_uncommitted(store: ParquetStore, manifest: Manifest) -> int:
    """Delete part files the manifest does not list; returns how many."""
    removed = 0
    for table in PART_TABLES:
        store.clean_temporaries(table)
        for part in store.parts(table):
            if part not in manifest.parts:
                store.delete(table, part)
                removed += 1
    return removed


@dataclass(frozen=True)
class Plan:
    """What a run must do, given the files found now and the committed manifest."""

    to_parse: list[str]  # source paths
    to_drop: set[str]  # doc_ids whose rows must go (deleted or changed files)
    unchanged: int
    kept_rejected: list[str]  # doc_ids whose file is unreadable now: last good rows kept


def plan(accepted: dict[str, tuple[str, str]], rejected_ids: set[str], manifest: Manifest) -> Plan:
    """`accepted`: doc_id -> (source_path, sha); `rejected_ids`: doc_ids of refused files."""
    committed = manifest.documents()
    to_parse = [path for d, (path, sha) in accepted.items() if committed.get(d, ("",))[0] != sha]
    changed = {
        d for d, (_path, sha) in accepted.items() if d in committed and committed[d][0] != sha
    }
    gone = {d for d in committed if d not in accepted and d not in rejected_ids}
    kept = sorted(d for d in committed if d in rejected_ids and d not in accepted)
    return Plan(sorted(to_parse), changed | gone, len(accepted) - len(to_parse), kept)


def drop_documents(store: ParquetStore, manifest: Manifest, doc_ids: set[str]) -> int:
    """Rewrite the parts that hold these documents without them; commit; delete the old parts."""
    affected = [p for p, docs in manifest.parts.items() if doc_ids & docs.keys()]
    for part in affected:
        keep = {d: sha for d, sha in manifest.parts[part].items() if d not in doc_ids}
        if keep:
            new_part = "part-" + short_hash(part, *sorted(keep))
            for table in PART_TABLES:
                rows = store.read_part(table, part).filter(pl.col("doc_id").is_in(list(keep)))
                store.write(table, new_part, rows)
            manifest.parts[new_part] = keep
        del manifest.parts[part]
    save_manifest(store, manifest)
    for part in affected:
        for table in PART_TABLES:
            store.delete(table, part)
    return len(affected)


def documents_frame(
    documents: list[Document], sentences: pl.DataFrame, ingested_at: datetime
) -> pl.DataFrame:
    """The documents rows of a batch, with their sentence counts."""
    counts = dict(sentences.group_by("doc_id").len().iter_rows())
    df = frame("documents", [])
    rows = pl.DataFrame(
        {
            "doc_id": [d.doc_id for d in documents],
            "source_path": [d.source_path for d in documents],
            "content_sha256": [d.content_sha256 for d in documents],
            "title": [d.title for d in documents],
            "text": [d.text for d in documents],
            "encoding": [d.encoding for d in documents],
            "n_chars": [d.n_chars for d in documents],
            "n_sentences": [counts.get(d.doc_id, 0) for d in documents],
            "ingested_at": [ingested_at] * len(documents),
        },
        schema=df.schema,
    )
    return rows


@dataclass
class RunReport:
    parsed: int = 0
    dropped: int = 0
    unchanged: int = 0
    parts_written: int = 0
    uncommitted_removed: int = 0
    kept_rejected: list[str] = field(default_factory=list)


def process(
    store: ParquetStore,
    plan_: Plan,
    load: Callable[[str], Document | None],
    batch_size: int,
    n_workers: int,
    log: Callable[[str], None] = lambda _m: None,
) -> RunReport:
    """Apply a plan: drop stale rows, parse what is new in batches, commit each batch."""
    manifest = load_manifest(store)
    report = RunReport(unchanged=plan_.unchanged, kept_rejected=plan_.kept_rejected)
    report.uncommitted_removed = remove_uncommitted(store, manifest)
    if plan_.to_drop:
        drop_documents(store, manifest, plan_.to_drop)
        report.dropped = len(plan_.to_drop)

    def batches() -> Iterator[list[Document]]:
        batch: list[Document] = []
        for path in plan_.to_parse:
            document = load(path)
            if document is None:
                continue
            batch.append(document)
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    by_id: dict[str, Document] = {}

    def texts() -> Iterator[Batch]:
        for batch in batches():
            by_id.update((d.doc_id, d) for d in batch)
            yield [(d.doc_id, d.text) for d in batch]

    for batch, tables in annotate_batches(texts(), n_workers):
        documents = [by_id.pop(doc_id) for doc_id, _text in batch]
        part = "part-" + short_hash(*(f"{d.doc_id}:{d.content_sha256}" for d in documents))
        now = datetime.now(UTC).replace(tzinfo=None)
        for table in NLP_TABLES:
            store.write(table, part, tables[table])
        store.write("documents", part, documents_frame(documents, tables["sentences"], now))
        manifest.parts[part] = {d.doc_id: d.content_sha256 for d in documents}
        save_manifest(store, manifest)
        report.parsed += len(documents)
        report.parts_written += 1
        log(f"committed {part}: {len(documents)} documents ({report.parsed} so far)")
    return report
