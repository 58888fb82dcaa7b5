"""Doing only the new work: which documents to parse, which rows to drop, and committing both.

The documents are split into 16 shards by the first hex digit of their `doc_id` (which depends on
the file's path only, so a file stays in its shard for life). A shard is the unit a run can
select, redo or hand to another machine: it owns its part files and its own manifest, so shards
never write the same file and can run in parallel anywhere.

The Parquet tables `documents`, `sentences`, `document_mentions` and `document_claims`
(each document's own entity decisions, merged across the corpus by `corpus_entities`) are stored
in parts `part-<shard>-<hash>`, each holding a batch of one shard's documents. A shard's manifest
(`_manifest-<shard>.json` beside the tables) lists its committed parts and the
(doc_id, content_sha256) each holds; it is replaced atomically after each batch, so it is the
commit point. Part files of a shard that its manifest does not list (left by a killed run) are
deleted before the shard is touched, and a document is parsed again only when it is new or its
content changed (or when a run is told to redo its shards). A changed document's old rows leave
in the same manifest write that commits its new ones, never before: a reader, a killed run or a
file that turns out unreadable when it is parsed never leaves the document without rows.

A deleted file's rows are deleted too: the warehouse mirrors the seeds folder, so that counts,
entity frequencies and quotes describe the articles that exist; history is the job of whoever
keeps the files (a backup or version control of the seeds folder), and a "deleted" flag would make
every analyst's query filter it. A file that was good and is now unreadable keeps its last good
rows, with the rejection recorded beside them (a half-written upload should not erase an article).
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl

from pipelines.core.documents import Document
from pipelines.core.ids import short_hash
from pipelines.core.store import ParquetStore
from pipelines.core.tables import polars_schema

if TYPE_CHECKING:
    from pipelines.core.annotate import Batch

SHARDS = tuple("0123456789abcdef")
NLP_TABLES = ("sentences", "document_mentions", "document_claims")  # from `annotate`
PART_TABLES = ("documents", *NLP_TABLES)
LEGACY_MANIFEST = "_manifest.json"  # one manifest for all documents, before shards
COMPACT_AFTER = 8  # small parts a shard may gather (daily additions) before they are merged


@contextlib.contextmanager
def shard_locks(store: ParquetStore, shards: Iterable[str]) -> Iterator[None]:
    """Hold the shards' locks (in shard order, so two runs never wait on each other in a
    circle): one run at a time plans and commits a shard, so no run takes another's parts in
    flight for a killed run's leftovers. Local stores only: `flock` needs a local file; on object
    storage one run per shard is Dagster's to ensure (a concurrency limit on the job or tag).
    Waits NEWS_SHARD_LOCK_TIMEOUT seconds (default 600), then stops, naming the holder."""
    if not store.is_local:
        yield
        return
    timeout = float(os.environ.get("NEWS_SHARD_LOCK_TIMEOUT") or 600)
    with contextlib.ExitStack() as stack:
        for shard in sorted(shards):
            stack.enter_context(store.lock(f"shard-{shard}", timeout, f"parsing shard {shard}"))
        yield


def shard_of(doc_id: str) -> str:
    """The shard of a document: the first hex digit of its id (`d` + a SHA-256 digest)."""
    return doc_id[1]


def manifest_name(shard: str) -> str:
    return f"_manifest-{shard}.json"


def part_prefix(shard: str) -> str:
    return f"part-{shard}-"


@dataclass
class Manifest:
    """Committed parts: part name -> {doc_id: content_sha256}."""

    parts: dict[str, dict[str, str]] = field(default_factory=dict)

    def documents(self) -> dict[str, tuple[str, str]]:
        """doc_id -> (content_sha256, part)."""
        return {d: (sha, part) for part, docs in self.parts.items() for d, sha in docs.items()}

    def n_documents(self) -> int:
        return sum(len(docs) for docs in self.parts.values())


def load_shard_manifest(store: ParquetStore, shard: str) -> Manifest:
    data = store.get(manifest_name(shard))
    return Manifest(json.loads(data)["parts"]) if data else Manifest()


def save_shard_manifest(store: ParquetStore, shard: str, manifest: Manifest) -> None:
    data = json.dumps({"version": 2, "shard": shard, "parts": manifest.parts}, sort_keys=True)
    store.put_atomic(manifest_name(shard), data.encode())


def load_manifests(store: ParquetStore, shards: Iterable[str] = SHARDS) -> dict[str, Manifest]:
    return {shard: load_shard_manifest(store, shard) for shard in shards}


def load_manifest(store: ParquetStore) -> Manifest:
    """Every shard's committed parts in one (read-only) view."""
    merged = Manifest()
    for manifest in load_manifests(store).values():
        merged.parts.update(manifest.parts)
    legacy = store.get(LEGACY_MANIFEST)
    if legacy:
        merged.parts.update(json.loads(legacy)["parts"])
    return merged


def _table_files(store: ParquetStore) -> dict[str, list[str]]:
    """The file names in each part table's folder (one listing per table)."""
    listing = {}
    for table in PART_TABLES:
        directory = store.table_dir(table)
        exists = store.fs.exists(directory)
        names = store.fs.ls(directory, detail=False) if exists else []
        listing[table] = [n.rsplit("/", 1)[-1] for n in names]
    return listing


def remove_uncommitted(
    store: ParquetStore,
    shard: str | None,
    manifest: Manifest,
    listing: dict[str, list[str]],
) -> int:
    """Delete the shard's part files (and temporaries) its manifest does not list. With
    `shard=None`, delete the files of the part tables that belong to no shard at all."""

    def owner(name: str) -> str | None:
        stem = name.removeprefix(".")
        if stem.startswith("part-") and stem[6:7] == "-" and stem[5] in SHARDS:
            return stem[5]
        return None

    removed = 0
    for table, names in listing.items():
        for name in names:
            if owner(name) != shard:
                continue
            if name.startswith(".") and name.endswith(".tmp"):
                store.fs.rm(f"{store.table_dir(table)}/{name}")
            elif name.endswith(".parquet") and name[: -len(".parquet")] not in manifest.parts:
                store.delete(table, name[: -len(".parquet")])
                removed += 1
    return removed


def migrate_legacy(store: ParquetStore, log: Callable[[str], None]) -> int:
    """Split the parts of the single pre-shard manifest by shard (rows kept as they are)."""
    data = store.get(LEGACY_MANIFEST)
    if data is None:
        return 0
    legacy = Manifest(json.loads(data)["parts"])
    manifests = load_manifests(store)
    for old_part, docs in legacy.parts.items():
        tables = {t: store.read_part(t, old_part) for t in PART_TABLES}
        for shard in sorted({shard_of(d) for d in docs}):
            keep = {d: sha for d, sha in docs.items() if shard_of(d) == shard}
            new_part = part_prefix(shard) + short_hash(old_part, *sorted(keep))
            for table, rows in tables.items():
                store.write(table, new_part, rows.filter(pl.col("doc_id").str.slice(1, 1) == shard))
            manifests[shard].parts[new_part] = keep
    for shard, manifest in manifests.items():
        save_shard_manifest(store, shard, manifest)
    store.fs.rm(store.table_dir(LEGACY_MANIFEST))
    for table, names in _table_files(store).items():
        for name in names:
            if name.endswith(".parquet") and not name[5:7].endswith("-"):  # part-<hash>
                store.delete(table, name[: -len(".parquet")])
    log(f"split {len(legacy.parts)} parts of the old single manifest into shards")
    return len(legacy.parts)


# Before the corpus-wide entity merge, the parse step wrote its mentions and claims straight into
# the contract's tables; they are its per-document stage now.
_STAGED_TABLES = {"entity_mentions": "document_mentions", "claims": "document_claims"}


def migrate_document_tables(store: ParquetStore, log: Callable[[str], None]) -> int:
    """Move parts written before the corpus merge into the per-document tables (rows kept; the
    label source, not recorded then, stays empty and counts as evidence). Each part is copied
    and then deleted, so a killed migration resumes where it stopped."""
    moved = 0
    for old, new in _STAGED_TABLES.items():
        for part in store.parts(old):
            if not part.startswith("part-"):
                continue
            if not store.fs.exists(f"{store.table_dir(new)}/{part}.parquet"):
                with store.fs.open(f"{store.table_dir(old)}/{part}.parquet", "rb") as handle:
                    rows = pl.read_parquet(handle)  # not read_part: it lacks today's columns
                missing = [c for c in polars_schema(new).names() if c not in rows.columns]
                rows = rows.with_columns(pl.lit(None, pl.String).alias(c) for c in missing)
                store.write(new, part, rows)
            store.delete(old, part)
            moved += 1
    if moved:
        log(f"moved {moved} parts of entity_mentions and claims to the per-document tables")
    return moved


@dataclass(frozen=True)
class ShardPlan:
    """What a run must do in one shard, given the files found now and its manifest."""

    shard: str
    to_parse: list[str]  # source paths
    to_drop: set[str]  # doc_ids whose rows must go (deleted, changed, or redone files)
    removed: set[str]  # of those, the documents whose file is gone
    unchanged: int

    @property
    def has_work(self) -> bool:
        return bool(self.to_parse or self.to_drop)


def plan(
    files: pl.DataFrame,
    manifests: dict[str, Manifest],
    force: bool = False,
) -> dict[str, ShardPlan]:
    """One plan per shard of `manifests`, from `source_files` (doc_id, source_path,
    content_sha256, accepted); `force` parses every accepted document of those shards again."""
    committed = pl.DataFrame(
        [(d, sha) for m in manifests.values() for d, (sha, _p) in m.documents().items()],
        schema={"doc_id": pl.String, "committed_sha": pl.String},
        orient="row",
    )
    found = (
        files.select("doc_id", "source_path", "content_sha256", "accepted")
        .with_columns(shard=pl.col("doc_id").str.slice(1, 1))
        .filter(pl.col("shard").is_in(list(manifests)))
    )
    both = found.join(committed, on="doc_id", how="full", coalesce=True).with_columns(
        shard=pl.col("doc_id").str.slice(1, 1),
        was=pl.col("committed_sha").is_not_null(),
        fresh=pl.col("committed_sha").is_null()
        | (pl.col("committed_sha") != pl.col("content_sha256")),
    )
    redo = pl.lit(force) | pl.col("fresh")
    flags = both.select(
        "shard",
        "doc_id",
        "source_path",
        parse=pl.col("accepted").fill_null(False) & redo,
        drop=pl.col("was")
        & ((pl.col("accepted").fill_null(False) & redo) | pl.col("accepted").is_null()),
        gone=pl.col("was") & pl.col("accepted").is_null(),
        unchanged=pl.col("accepted").fill_null(False) & ~redo,
    )
    plans = {}
    for shard in manifests:
        rows = flags.filter(pl.col("shard") == shard)
        plans[shard] = ShardPlan(
            shard,
            sorted(rows.filter("parse")["source_path"].to_list()),
            set(rows.filter("drop")["doc_id"].to_list()),
            set(rows.filter("gone")["doc_id"].to_list()),
            int(rows["unchanged"].sum()),
        )
    return plans


def drop_documents(
    store: ParquetStore, shard: str, manifest: Manifest, doc_ids: set[str], commit: bool = True
) -> tuple[dict[str, tuple[str, datetime]], list[str]]:
    """Rewrite the shard's parts that hold these documents without them, and take them out of
    `manifest`. With `commit`, save the manifest and delete the old parts' files; without, the
    caller commits (with more parts of its own) and then deletes the old parts it is given.
    Returns the dropped documents' (content_sha256, ingested_at), and the old parts."""
    affected = [p for p, docs in manifest.parts.items() if doc_ids & docs.keys()]
    dropped: dict[str, tuple[str, datetime]] = {}
    for part in affected:
        keep = {d: sha for d, sha in manifest.parts[part].items() if d not in doc_ids}
        documents = store.read_part("documents", part)
        gone = documents.filter(~pl.col("doc_id").is_in(list(keep)))
        dropped.update(
            (d, (sha, at))
            for d, sha, at in gone.select("doc_id", "content_sha256", "ingested_at").iter_rows()
        )
        if keep:
            new_part = part_prefix(shard) + short_hash(part, *sorted(keep))
            for table in PART_TABLES:
                rows = documents if table == "documents" else store.read_part(table, part)
                store.write(table, new_part, rows.filter(pl.col("doc_id").is_in(list(keep))))
            manifest.parts[new_part] = keep
        del manifest.parts[part]
    if commit:
        save_shard_manifest(store, shard, manifest)
        delete_parts(store, affected)
    return dropped, affected


def delete_parts(store: ParquetStore, parts: list[str]) -> None:
    for part in parts:
        for table in PART_TABLES:
            store.delete(table, part)


def compact(store: ParquetStore, shard: str, manifest: Manifest, batch_size: int) -> int:
    """Merge a shard's small parts (left by many small runs) into one; rows stay as they are."""
    small = sorted(p for p, docs in manifest.parts.items() if len(docs) < max(1, batch_size // 4))
    if len(small) < COMPACT_AFTER:
        return 0
    docs = {d: sha for p in small for d, sha in manifest.parts[p].items()}
    new_part = part_prefix(shard) + short_hash(*(f"{d}:{sha}" for d, sha in sorted(docs.items())))
    for table in PART_TABLES:
        store.write(table, new_part, pl.concat([store.read_part(table, p) for p in small]))
    for part in small:
        del manifest.parts[part]
    manifest.parts[new_part] = docs
    save_shard_manifest(store, shard, manifest)
    delete_parts(store, small)
    return len(small)


def documents_frame(
    documents: list[Document],
    sentences: pl.DataFrame,
    now: datetime,
    previous: dict[str, tuple[str, datetime]],
) -> pl.DataFrame:
    """The documents rows of a batch, with their sentence counts; a document parsed again with
    the same content keeps the `ingested_at` of its first load."""
    first_seen = [
        previous[d.doc_id][1] if previous.get(d.doc_id, ("",))[0] == d.content_sha256 else now
        for d in documents
    ]
    rows = pl.DataFrame(
        {
            "doc_id": [d.doc_id for d in documents],
            "source_path": [d.source_path for d in documents],
            "content_sha256": [d.content_sha256 for d in documents],
            "title": [d.title for d in documents],
            "text": [d.text for d in documents],
            "encoding": [d.encoding for d in documents],
            "n_chars": [d.n_chars for d in documents],
            "ingested_at": first_seen,
            "published_at": [d.published_at for d in documents],
            "publisher": [d.publisher for d in documents],
            "url": [d.url for d in documents],
            "authors": [list(d.authors) for d in documents],
            "section": [d.section for d in documents],
            "language": [d.language for d in documents],
            # every article is its own story until the corpus step joins copies
            "story_id": [d.doc_id for d in documents],
            "duplicate_of": [None for _ in documents],
        },
        schema={k: v for k, v in polars_schema("documents").items() if k != "n_sentences"},
    )
    counts = sentences.group_by("doc_id").agg(n_sentences=pl.len().cast(pl.Int32))
    return (
        rows.join(counts, on="doc_id", how="left")
        .with_columns(pl.col("n_sentences").fill_null(0))
        .select(polars_schema("documents").names())
    )


@dataclass
class ShardReport:
    parsed: int = 0
    removed: int = 0
    unchanged: int = 0
    parts_written: int = 0
    uncommitted_removed: int = 0
    compacted: int = 0
    documents: int = 0


@dataclass
class RunReport:
    shards: dict[str, ShardReport] = field(default_factory=dict)
    migrated: int = 0

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.shards.values())

    @property
    def changed(self) -> bool:
        touched = ("parsed", "removed", "uncommitted_removed", "compacted")
        return bool(self.migrated or any(self.total(n) for n in touched))


def process(
    store: ParquetStore,
    plans: dict[str, ShardPlan],
    manifests: dict[str, Manifest],
    load: Callable[[str], Document | None],
    batch_size: int,
    n_workers: int,
    task_size: int = 16,
    log: Callable[[str], None] = lambda _m: None,
    migrated: int = 0,
    quote_model: bool = True,
) -> RunReport:
    """Apply the shards' plans (made from `manifests`, which this updates as it commits): drop
    stale rows, parse what is new, commit each part.

    Documents go to the workers in tasks of `task_size` (small, so that both cores stay busy to
    the end); a part gathers up to `batch_size` documents of one shard and is committed on its
    own, so a killed run loses at most the parts in flight. (`migrate_legacy` must have run
    before the plans were made; `migrated` is what it returned, for the report.)
    """
    report = RunReport(migrated=migrated)
    listing = _table_files(store)
    previous: dict[str, tuple[str, datetime]] = {}
    replaced: dict[str, set[str]] = {}
    for shard, shard_plan in plans.items():
        manifest = manifests[shard]
        shard_report = ShardReport(unchanged=shard_plan.unchanged)
        report.shards[shard] = shard_report
        shard_report.uncommitted_removed = remove_uncommitted(store, shard, manifest, listing)
        if shard_plan.removed:  # deleted files: their rows go now
            drop_documents(store, shard, manifest, shard_plan.removed)
            shard_report.removed = len(shard_plan.removed)
        # changed (or redone) files: their old rows go in the commit that brings the new ones,
        # so a file that cannot be read after all (a half-finished upload) keeps its last rows
        replaced[shard] = shard_plan.to_drop - shard_plan.removed
    if set(plans) == set(SHARDS):  # a run over every shard also clears files of none
        stray = remove_uncommitted(store, None, Manifest(), listing)
        if stray:
            report.shards[SHARDS[0]].uncommitted_removed += stray

    def tasks() -> Iterator[tuple[tuple[str, list[Document]], Batch]]:
        for shard, shard_plan in plans.items():
            documents: list[Document] = []
            for path in shard_plan.to_parse:
                document = load(path)
                if document is None:
                    continue
                documents.append(document)
                if len(documents) >= task_size:
                    yield (shard, documents), [(d.doc_id, d.text) for d in documents]
                    documents = []
            if documents:
                yield (shard, documents), [(d.doc_id, d.text) for d in documents]

    open_shard: str | None = None
    held: list[Document] = []
    frames: list[dict[str, pl.DataFrame]] = []

    def commit() -> None:
        if not held:
            return
        shard = shard_of(held[0].doc_id)
        now = datetime.now(UTC).replace(tzinfo=None)
        # a new name on every write: the same documents parsed again (with `force`, after an
        # upgrade) may give other rows, and a part's name must stand for its content
        inputs = (f"{d.doc_id}:{d.content_sha256}" for d in held)
        part = part_prefix(shard) + short_hash(*inputs, now.isoformat(), uuid.uuid4().hex)
        tables = {t: pl.concat([f[t] for f in frames]) for t in NLP_TABLES}
        old_versions = replaced[shard] & {d.doc_id for d in held}
        old_parts: list[str] = []
        if old_versions:
            dropped, old_parts = drop_documents(
                store, shard, manifests[shard], old_versions, commit=False
            )
            previous.update(dropped)
            replaced[shard] -= old_versions
        for table in NLP_TABLES:
            store.write(table, part, tables[table])
        store.write("documents", part, documents_frame(held, tables["sentences"], now, previous))
        manifests[shard].parts[part] = {d.doc_id: d.content_sha256 for d in held}
        save_shard_manifest(store, shard, manifests[shard])  # old and new versions swap here
        delete_parts(store, old_parts)
        shard_report = report.shards[shard]
        shard_report.parsed += len(held)
        shard_report.parts_written += 1
        log(f"committed {part}: {len(held)} documents ({report.total('parsed')} so far)")
        held.clear()
        frames.clear()

    if any(p.to_parse for p in plans.values()):
        from pipelines.core.annotate import annotate_batches  # spaCy: only when there is work

        for (shard, documents), _batch, tables in annotate_batches(
            tasks(), n_workers, quote_model
        ):
            if shard != open_shard or len(held) + len(documents) > batch_size:
                commit()
                open_shard = shard
            held.extend(documents)
            frames.append(tables)
        commit()
    for shard, manifest in manifests.items():
        shard_report = report.shards[shard]
        if plans[shard].has_work:
            shard_report.compacted = compact(store, shard, manifest, batch_size)
        shard_report.documents = manifest.n_documents()
    return report
