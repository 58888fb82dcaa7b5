"""Doing only the new work: which documents to parse, which rows to drop, and committing both.

The documents are split into 16 shards by the first hex digit of their `doc_id` (which depends on
the file's path only, so a file stays in its shard for life). A shard is the unit a run can
select, redo or hand to another machine.

The lake tables `documents`, `sentences`, `document_mentions` and `document_claims` (each
document's own entity decisions, merged across the corpus by `corpus_entities`) hold every
document's rows; `committed_documents` says which version (`content_sha256`) of each document
all four hold. A batch of one shard's documents is committed table by table, each table in one
Delta commit that deletes the documents' old rows and adds their new ones, in the order that
keeps every foreign key resolving at every moment (what a child table points to is added before
it and removed after it):

1. `documents` replaced (new rows for the batch's documents),
2. `document_claims`, `document_mentions`: the old versions' rows deleted,
3. `sentences` replaced, then `document_mentions`, `document_claims` replaced,
4. `committed_documents` replaced: the commit point. A document is done only when this table
   and `documents` both hold its current content hash, so a run killed anywhere before it
   leaves the document to be parsed again by the next run (steps 1-3 are idempotent).

A deleted file's rows are deleted (children first, `committed_documents` last): the warehouse
mirrors the seeds folder, so that counts, entity frequencies and quotes describe the articles that
exist; history is the lake's time travel (`version=`, within NEWS_LAKE_RETENTION_HOURS) and the
job of whoever keeps the files. A file that was good and is now unreadable keeps its last good
rows, with the rejection recorded beside them (a half-written upload should not erase an article).

`update_documents` replaces rows of `documents` alone (metadata columns, say) without touching
the NLP tables.

**New code, same texts.** Each document's parse is kept (`document_parses`: spaCy DocBin bytes
and the parse version, NEWS_KEEP_PARSES) and the code its rows were made by is recorded
(`document_extractions.extracted_by`, see `pipelines.core.versions`); both are committed with the
batch, after its NLP tables and before the commit point. A document whose text is unchanged but
whose rows were made by other extraction code is extracted again: from its kept parse when that
was made by the current model and parse code (no parse), else parsed again. A document
extracted again whose rows come out as the lake holds them (`same_rows`: most documents, after a
change of a rule that few of them meet) has only its new extraction version recorded: none of
its rows is committed again, so the warehouse load after it has nothing to do for it. A lake
from before these tables has its committed documents recorded as made by the current code on
its first run (`adopt_extractions`): nothing says otherwise, and parsing it all again would be a
surprise.

**Copies, one parse.** Documents to parse whose content is the same (`content_sha256`: an
article saved under several names) go in one task, the first's, whatever their shards
(`ShardPlan.copies`), and the worker parses their text once; each still gets its own rows and
its own kept parse, committed with its batch.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl

from pipelines.core.documents import Document
from pipelines.core.metadata import Metadata
from pipelines.core.store import Lake, in_predicate
from pipelines.core.tables import SCHEMAS, polars_schema
from pipelines.core.workers import annotate_batches

if TYPE_CHECKING:
    from pipelines.core.annotate import Batch

SHARDS = tuple("0123456789abcdef")
NLP_TABLES = ("sentences", "document_mentions", "document_claims")  # from `annotate`
DOC_TABLES = ("documents", *NLP_TABLES)  # the tables with rows per document
COMMITTED = "committed_documents"  # the commit point: doc_id -> content_sha256
PARSES = "document_parses"  # each document's kept parse (DocBin bytes) and its parse version
EXTRACTIONS = "document_extractions"  # the extraction version each document's rows were made by
KEPT_PARSES_READ = 256  # kept parses read from the lake at a time (memory flat in the corpus)
# The corpus step's tables that point to a document's sentences (written whole by that step).
CORPUS_CHILDREN = ("claims", "entity_mentions")
# Children before parents: the order rows are deleted in (and the reverse, the order they are
# added in).
DELETE_ORDER = (
    *CORPUS_CHILDREN,
    "document_claims",
    "document_mentions",
    "sentences",
    "documents",
    PARSES,
    EXTRACTIONS,
    COMMITTED,
)
COMPACT_FILES = 24  # small files a table may gather (daily additions) before they are merged
SMALL_FILE_BYTES = 4 << 20  # what counts as small


@contextlib.contextmanager
def shard_locks(lake: Lake, shards: Iterable[str], timeout_s: float = 600.0) -> Iterator[None]:
    """Hold the shards' local locks (in shard order, so two runs never wait on each other in a
    circle): on one machine one run at a time parses a shard, so no work is done twice. Runs on
    other machines are not held back; the Delta commits keep the tables whole either way (each
    step replaces a document's rows, so two runs of the same shard leave what one leaves).
    Waits `timeout_s` (NEWS_SHARD_LOCK_TIMEOUT), then stops, naming the holder."""
    with contextlib.ExitStack() as stack:
        for shard in sorted(shards):
            stack.enter_context(lake.lock(f"shard-{shard}", timeout_s, f"parsing shard {shard}"))
        yield


def shard_of(doc_id: str) -> str:
    """The shard of a document: the first hex digit of its id (`d` + a SHA-256 digest)."""
    return doc_id[1]


def committed_state(lake: Lake) -> pl.DataFrame:
    """Every document the lake holds rows for: doc_id, the content its rows were committed for
    (`committed_sha`, null when a run was killed before its commit point) and the content in
    `documents` (`document_sha`)."""
    state = lake.read(COMMITTED, ["doc_id", "content_sha256"]).rename(
        {"content_sha256": "committed_sha"}
    )
    documents = lake.read("documents", ["doc_id", "content_sha256"]).rename(
        {"content_sha256": "document_sha"}
    )
    return state.join(documents, on="doc_id", how="full", coalesce=True)


def committed_documents(lake: Lake) -> set[str]:
    """The doc_ids whose rows are committed (for the inventory: a refused file that has them
    keeps them)."""
    return set(lake.read(COMMITTED, ["doc_id"])["doc_id"].to_list())


@dataclass(frozen=True)
class ShardPlan:
    """What a run must do in one shard, given the files found now and the lake."""

    shard: str
    to_parse: list[str]  # source paths
    to_drop: set[str]  # doc_ids whose rows must go (deleted, changed, or redone files)
    removed: set[str]  # of those, the documents whose file is gone
    unchanged: int
    # of `to_drop`, the unchanged documents made by other extraction code that have a kept
    # parse of the current parse version: extracted again from it, not parsed
    to_reextract: set[str] = field(default_factory=set)
    # of `to_parse`, a path -> the paths (of any shard of the run) of the other documents to
    # parse whose content is its content: copies, loaded with it so that one parse serves all
    copies: dict[str, list[str]] = field(default_factory=dict)

    @property
    def has_work(self) -> bool:
        return bool(self.to_parse or self.to_drop)


@dataclass(frozen=True)
class CodeVersions:
    """The code a run extracts with (`pipelines.core.versions`), and the lake's record of the
    code each document was made by (`extraction_state`)."""

    parsed_by: str
    extracted_by: str
    state: pl.DataFrame  # doc_id, extracted_sha, extracted_by, parse_sha, parsed_by


def extraction_state(lake: Lake) -> pl.DataFrame:
    """Per document: the content and code its rows were extracted from (`extracted_sha`,
    `extracted_by`) and its kept parse's content and parse version (`parse_sha`, `parsed_by`;
    null when none is kept). The parses' bytes are not read."""
    extracted = lake.read(EXTRACTIONS).rename({"content_sha256": "extracted_sha"})
    parses = lake.read(PARSES, ["doc_id", "content_sha256", "parsed_by"]).rename(
        {"content_sha256": "parse_sha"}
    )
    return extracted.join(parses, on="doc_id", how="full", coalesce=True)


def adopt_extractions(lake: Lake, extracted_by: str) -> int:
    """A lake from before `document_extractions`: record every committed document as made by
    the current code (one commit), so that upgrading does not parse the corpus again. Returns
    how many documents were recorded (0 when the table is there already)."""
    if lake.exists(EXTRACTIONS):
        return 0
    rows = lake.read(COMMITTED, ["doc_id", "content_sha256"]).with_columns(
        extracted_by=pl.lit(extracted_by)
    )
    if rows.is_empty():
        return 0
    lake.overwrite(EXTRACTIONS, rows, {"op": "adopt extractions"})
    return rows.height


def plan(
    files: pl.DataFrame,
    state: pl.DataFrame,
    shards: Iterable[str] = SHARDS,
    force: bool = False,
    code: CodeVersions | None = None,
) -> dict[str, ShardPlan]:
    """One plan per shard, from `source_files` (doc_id, source_path, content_sha256, accepted)
    and `committed_state`; `force` parses every accepted document of those shards again. With
    `code`, an unchanged document made by other extraction code is done again too: from its kept
    parse when that is of the current parse version (`to_reextract`), else parsed again."""
    shards = list(shards)
    found = files.select("doc_id", "source_path", "content_sha256", "accepted")
    both = (
        found.join(state, on="doc_id", how="full", coalesce=True)
        .with_columns(shard=pl.col("doc_id").str.slice(1, 1))
        .filter(pl.col("shard").is_in(shards))
        .with_columns(
            was=pl.col("committed_sha").is_not_null() | pl.col("document_sha").is_not_null(),
            fresh=(pl.col("committed_sha") != pl.col("content_sha256")).fill_null(True)
            | (pl.col("document_sha") != pl.col("content_sha256")).fill_null(True),
        )
    )
    if code is None:
        both = both.with_columns(stale=pl.lit(False), reusable=pl.lit(False))
    else:
        sha = pl.col("content_sha256")
        both = both.join(code.state, on="doc_id", how="left").with_columns(
            stale=~(
                (pl.col("extracted_by") == code.extracted_by) & (pl.col("extracted_sha") == sha)
            ).fill_null(False),
            reusable=((pl.col("parsed_by") == code.parsed_by) & (pl.col("parse_sha") == sha))
            .fill_null(False)
            .and_(~pl.lit(force)),
        )
    redo = pl.lit(force) | pl.col("fresh") | pl.col("stale")
    accepted = pl.col("accepted").fill_null(False)
    flags = both.select(
        "shard",
        "doc_id",
        "source_path",
        "content_sha256",
        parse=accepted & redo,
        drop=pl.col("was") & ((accepted & redo) | pl.col("accepted").is_null()),
        gone=pl.col("was") & pl.col("accepted").is_null(),
        unchanged=accepted & ~redo,
        reextract=accepted & pl.col("was") & ~pl.col("fresh") & pl.col("reusable") & redo,
    )
    unchanged = dict(flags.group_by("shard").agg(pl.col("unchanged").sum()).iter_rows())
    work = flags.filter(pl.col("parse") | pl.col("drop")).partition_by("shard", as_dict=True)
    copies = _copies(flags.filter(pl.col("parse") & ~pl.col("reextract")), shards)
    plans = {}
    for shard in shards:
        rows = work.get((shard,), flags.clear())
        plans[shard] = ShardPlan(
            shard,
            sorted(rows.filter("parse")["source_path"].to_list()),
            set(rows.filter("drop")["doc_id"].to_list()),
            set(rows.filter("gone")["doc_id"].to_list()),
            int(unchanged.get(shard) or 0),
            set(rows.filter("reextract")["doc_id"].to_list()),
            copies.get(shard, {}),
        )
    return plans


def _copies(to_parse: pl.DataFrame, shards: list[str]) -> dict[str, dict[str, list[str]]]:
    """shard -> {path: the paths of its copies}: of the documents to parse (shard,
    source_path, content_sha256), those of one content, the first in the order the run takes
    them (shard by shard, path by path) holding the others."""
    order = {shard: k for k, shard in enumerate(shards)}
    groups = (
        to_parse.group_by("content_sha256")
        .agg("shard", "source_path")
        .filter(pl.col("source_path").list.len() > 1)
    )
    copies: dict[str, dict[str, list[str]]] = {}
    for members in groups.select("shard", "source_path").iter_rows():
        (shard, first), *rest = sorted(
            zip(*members, strict=True), key=lambda m: (order[m[0]], m[1])
        )
        copies.setdefault(shard, {})[first] = [path for _shard, path in rest]
    return copies


def remove_documents(lake: Lake, doc_ids: set[str], why: str = "removed") -> None:
    """Delete the documents' rows from every table, children first, the commit point last."""
    if not doc_ids:
        return
    predicate = in_predicate("doc_id", doc_ids)
    for table in DELETE_ORDER:
        if lake.exists(table):
            lake.delete(table, predicate, {"op": why, "documents": str(len(doc_ids))})


def commit_batch(
    lake: Lake,
    documents: pl.DataFrame,
    tables: dict[str, pl.DataFrame],
    replaced: set[str],
    metadata: dict[str, str] | None = None,
    parses: pl.DataFrame | None = None,
    code: tuple[str, str] | None = None,
) -> None:
    """Commit one batch: its `documents` rows and its NLP `tables`, replacing whatever rows its
    documents had (`replaced`: those that had some), in the order of the module's docstring.
    `parses` (doc_id, parsed, parse) says which documents were parsed now: their kept parses
    are replaced (by `parse`, or removed when it is null: NEWS_KEEP_PARSES=off); `code`, the
    (parse version, extraction version), is recorded with them and for every document."""
    ids = set(documents["doc_id"].to_list())
    predicate = in_predicate("doc_id", ids)
    meta = {"op": "commit batch", "documents": str(len(ids)), **(metadata or {})}
    lake.replace("documents", predicate, documents, meta)
    if replaced:  # what points to the old sentences goes before them
        old = in_predicate("doc_id", replaced)
        for table in (*CORPUS_CHILDREN, "document_claims", "document_mentions"):
            if lake.exists(table):
                lake.delete(table, old, meta)
    for table in NLP_TABLES:
        lake.replace(table, predicate, tables[table], meta)
    if parses is not None and code is not None:
        commit_code(lake, documents, parses, code, meta)
    commit_point(lake, documents, meta)


def commit_point(lake: Lake, documents: pl.DataFrame, meta: dict[str, str]) -> None:
    """Record the documents as committed now, at their content: the commit point, and what tells
    the corpus step to link them again."""
    state = documents.select("doc_id", "content_sha256").with_columns(
        committed_at=pl.lit(datetime.now(UTC).replace(tzinfo=None))
    )
    lake.replace(COMMITTED, in_predicate("doc_id", state["doc_id"].to_list()), state, meta)


def same_rows(
    lake: Lake, documents: pl.DataFrame, tables: dict[str, pl.DataFrame], candidates: set[str]
) -> set[str]:
    """The `candidates` (documents extracted again from their kept parses: same text) whose
    rows in `documents` and every NLP table are the rows the lake holds for them, so that
    committing them would change nothing: a change of the rules that leaves a document's rows
    as they were then costs the lake, and the warehouse load after it, nothing for that
    document: only its extraction version and its commit point are committed (`process`)."""
    same = set(candidates)
    for table in DOC_TABLES:
        if not same:
            break
        rows = documents if table == "documents" else tables[table]
        new = rows.filter(pl.col("doc_id").is_in(pl.Series(sorted(same)).implode()))
        same -= _differing(lake.read(table, doc_ids=same), new)
    return same


def commit_code(
    lake: Lake,
    documents: pl.DataFrame,
    parses: pl.DataFrame,
    code: tuple[str, str],
    meta: dict[str, str],
) -> None:
    """The batch's kept parses (of the documents parsed now) and the code its rows were made by."""
    parsed_by, extracted_by = code
    fresh = parses.filter("parsed").join(documents.select("doc_id", "content_sha256"), on="doc_id")
    if not fresh.is_empty():
        kept = fresh.filter(pl.col("parse").is_not_null())
        predicate = in_predicate("doc_id", fresh["doc_id"].to_list())
        if not kept.is_empty():
            rows = kept.select(
                "doc_id", "content_sha256", parsed_by=pl.lit(parsed_by), parse=pl.col("parse")
            )
            lake.replace(PARSES, predicate, rows, meta)
        elif lake.exists(PARSES):
            lake.delete(PARSES, predicate, meta)
    rows = documents.select("doc_id", "content_sha256", extracted_by=pl.lit(extracted_by))
    lake.replace(EXTRACTIONS, in_predicate("doc_id", rows["doc_id"].to_list()), rows, meta)


def kept_parses(lake: Lake, doc_ids: Iterable[str]) -> dict[str, tuple[str, bytes]]:
    """The kept parses of some documents: doc_id -> (content_sha256, DocBin bytes)."""
    rows = lake.read(PARSES, ["doc_id", "content_sha256", "parse"], doc_ids=doc_ids)
    return {d: (sha, data) for d, sha, data in rows.iter_rows()}


def replace_changed_documents(
    lake: Lake,
    table: str,
    rows: pl.DataFrame,
    metadata: dict | None = None,
    documents: Collection[str] | None = None,
    held: pl.DataFrame | None = None,
) -> int:
    """Make a table keyed by document hold `rows` by committing only the documents whose rows
    differ from what it holds (one commit; none when nothing differs), so that a step that
    recomputes a whole table (the corpus step) costs the lake, and the warehouse load after it,
    what changed. Given `documents`, `rows` are those documents' rows only, and the others'
    stay unread; `held` are the rows the table holds for them, when the caller read them
    already (not read again). Returns how many documents were replaced."""
    if not lake.exists(table):
        lake.overwrite(table, rows, metadata)
        return rows["doc_id"].n_unique()
    if documents is not None and not documents:
        return 0
    if held is not None:
        old = held
    else:
        old = lake.read(table) if documents is None else lake.read(table, doc_ids=documents)
    old, new = _document_digests(old), _document_digests(rows)
    differ = old.join(new, on="doc_id", how="full", coalesce=True).filter(
        pl.col("digest").ne_missing(pl.col("digest_right"))
    )
    if differ.is_empty():
        return 0
    docs = differ["doc_id"].to_list()
    lake.replace(
        table,
        in_predicate("doc_id", docs),
        rows.filter(pl.col("doc_id").is_in(differ["doc_id"].implode())),
        metadata,
    )
    return len(docs)


def _document_digests(rows: pl.DataFrame) -> pl.DataFrame:
    """One digest per document of all its rows (in any order): equal digests, equal rows."""
    hashed = rows.select("doc_id", digest=pl.struct(pl.all()).hash())
    return hashed.group_by("doc_id").agg(pl.col("digest").sort().implode().hash())


def commit_corpus_tables(
    lake: Lake,
    parent: tuple[str, str, pl.DataFrame],
    children: list[tuple[str, pl.DataFrame]],
    metadata: dict | None = None,
    documents: Collection[str] | None = None,
) -> dict[str, int]:
    """Replace a parent table (whole) and the tables keyed by document that point to it,
    keeping every foreign key resolving at every moment: the parent first with its old rows
    still there, then the children, then the parent without the old rows no child needs any
    more. `parent` is (table, key column, rows). A child's rows are either the whole table or,
    given `documents`, exactly those documents' rows; either way only the documents whose rows
    differ from the table's are committed (a document re-extracted to the rows it had keeps
    its corpus rows too, so the warehouse has nothing to load for it). Returns the documents
    replaced in each child."""
    table, key, rows = parent
    old = lake.read(table)
    stale = old.filter(~pl.col(key).is_in(rows[key].implode()))
    if not rows.sort(key).equals(old.sort(key)):  # a Delta read keeps no row order
        lake.overwrite(table, pl.concat([rows, stale]) if stale.height else rows, metadata)
    replaced = {
        child: replace_changed_documents(lake, child, child_rows, metadata)
        if documents is None
        else replace_changed_documents(lake, child, child_rows, metadata, documents)
        for child, child_rows in children
    }
    if stale.height:
        lake.overwrite(table, rows, metadata)
    return replaced


def replace_documents(
    lake: Lake,
    table: str,
    documents: Collection[str],
    rows: pl.DataFrame,
    metadata: dict | None = None,
) -> int:
    """Make `rows` the rows of `documents` in a table keyed by document (one commit; none when
    there are no documents). When they are half the table's rows or more (a first run), the
    table is written whole from `rows` and the rows of the other documents it keeps (the row
    count is the log's: nothing is read to decide)."""
    if not documents:
        return 0
    present = lake.count(table)
    if present is None or len(documents) * 2 >= present:
        keep = (
            lake.read(table).filter(~pl.col("doc_id").is_in(pl.Series(list(documents)).implode()))
            if present is not None
            else rows.clear()
        )
        lake.overwrite(table, pl.concat([keep, rows]), metadata)
    else:
        lake.replace(table, in_predicate("doc_id", documents), rows, metadata)
    return len(documents)


# --- the corpus entity step -------------------------------------------------------------------
# The merge (handed in: `pipelines.core.corpus_entities`, the NLP core's) decides which corpus
# entity each document entity is, from each document's own entities and a few facts per name.
# What the step keeps is small or per document, so that a run costs what changed:
# `document_entities` (each document's entities as the merge reads them), `entity_names` (what
# the merge knows of each name: a function of the rows naming it), `entity_counts` (each
# document's linked mentions counted: its share of `entities`), `entity_links` (the decisions a
# document did not make itself) and `linked_documents` (for which commit each document was
# linked). A run reads the documents committed since (new or changed) and those gone, decides
# again the names they touch, and then only the documents that name a name whose verdict or
# full name moved, or a surname the corpus joins to a full name (their company and the
# corpus's size move with every document); it links again those whose counts moved and those
# naming an entity whose canonical name changed. Every other document's rows stay as they
# are, unread. The step records its state's versions when done (`step_inputs`, "corpus
# merge"); a lake whose state moved otherwise (a killed step, a lake from before these
# tables) is merged whole once, which is what a first run does.
LINKS = "entity_links"
LINKED = "linked_documents"
DOC_ENTITIES = "document_entities"
NAMES = "entity_names"
COUNTS = "entity_counts"
MERGE_STEP = "corpus merge"
MERGE_STATE = ("entities", DOC_ENTITIES, NAMES, COUNTS, LINKS, LINKED)
# The commit point's version the step last linked (recorded with its state): `linked_documents`
# then holds that version's rows, so what the step must link or drop next is what the commit
# point's commits since changed (`commit_point_changes`), not read from the two tables whole.
MERGE_READ = "corpus merge: commit point"
# Recorded with it: how many documents `document_entities` then held (the merge's corpus size),
# moved by the documents a step touches instead of counted over every document's rows.
ENTITY_DOCUMENTS = "documents in document_entities"


@dataclass
class CorpusReport:
    entities: pl.DataFrame  # the corpus's entities table, as committed
    alias: pl.DataFrame  # the entities of the documents decided by this run -> corpus entity
    linked: int = 0  # documents committed since the last link (new or changed)
    relinked: int = 0  # unchanged documents whose decisions or entity names changed
    removed: int = 0  # documents gone since the last link
    decisions: int = 0  # rows of `entity_links`
    merged: int = 0  # of those, document entities moved to another entity
    decided: int = 0  # documents whose entities this run decided again
    whole: bool = False  # merged whole (a first run, or the step's state moved otherwise)
    replaced: dict[str, int] = field(default_factory=dict)


def _ids(values: Iterable[str]) -> pl.Series:
    return pl.Series(sorted(set(values)), dtype=pl.String).implode()


@dataclass
class _Rows:
    """The lake's `document_entities` as they are once this run's documents are read again:
    the stored rows of every other document, and `new` (the documents committed since)."""

    stored: pl.LazyFrame
    touched: set[str]
    new: pl.DataFrame

    def where(self, column: str, values: Iterable[str]) -> pl.DataFrame:
        """The rows whose `column` is one of `values` (none read when there are none)."""
        values = sorted(set(values))
        if not values:
            return self.new.clear()
        condition = pl.col(column).is_in(pl.Series(values, dtype=pl.String).implode())
        kept = self.stored.filter(~pl.col("doc_id").is_in(_ids(self.touched)) & condition)
        return pl.concat([kept.collect(), self.new.filter(condition)])

    def documents(self) -> int:
        kept = self.stored.filter(~pl.col("doc_id").is_in(_ids(self.touched)))
        old = kept.select(pl.col("doc_id").n_unique()).collect().item()
        return int(old) + self.new["doc_id"].n_unique()


def _decide(merge, rows: _Rows, docs: set[str], stats: pl.DataFrame, n: int) -> pl.DataFrame:
    """The alias rows of some documents, with the context their surnames need."""
    chosen = rows.where("doc_id", docs)
    full = merge.full_names(stats).join(chosen.select("key").unique(), on="key", how="semi")
    naming = rows.where("key", full["full_key"])["doc_id"]
    return merge.decide(chosen, stats, n, rows.where("doc_id", naming))


def _differing(old: pl.DataFrame, new: pl.DataFrame) -> set[str]:
    """The documents whose rows differ between two frames of one table keyed by document."""
    both = _document_digests(old).join(
        _document_digests(new), on="doc_id", how="full", coalesce=True
    )
    return set(both.filter(pl.col("digest").ne_missing(pl.col("digest_right")))["doc_id"])


def _only_ours(lake: Lake, started: dict[str, int | None], run: str) -> bool:
    """Did every commit to these tables since the versions `started` come from this run (or
    keep every row: a creation, compaction, vacuum)? A corpus step on another machine that
    wrote meanwhile may have read the state before this one's commits."""
    for table, since in started.items():
        dt = lake.table(table)
        if dt is None or dt.version() == since:
            continue
        first = -1 if since is None else since
        for commit in dt.history(dt.version() - first):
            if commit["version"] <= first or commit.get("run") == run:
                continue
            if _keeps_rows(commit) or commit.get("operation", "").startswith("CREATE"):
                continue
            return False
    return True


def commit_point_changes(
    lake: Lake, since: int | None, point: int | None
) -> tuple[pl.DataFrame, set[str]] | None:
    """Since the commit point's version `since` (the one the corpus step last linked, recorded
    in `MERGE_READ`) up to `point`: (the rows of `committed_documents` (doc_id, committed_at)
    that are new or changed, the doc_ids that are gone), from the files its commits added and
    removed (`Lake.changes`). None when nothing was recorded or that version cannot be read
    any more: then the commit point and `linked_documents` are compared whole. Valid only
    while the step's state is unchanged since it recorded it (`linked_documents` is then that
    version's rows)."""
    if since is None or point is None or since > point:
        return None
    columns = ["doc_id", "committed_at"]
    diff = lake.changes(COMMITTED, since, point, columns)
    if diff is None:
        return None
    added, removed = diff
    arrived = added.join(removed, on=columns, how="anti")
    return arrived, set(removed["doc_id"]) - set(added["doc_id"])


def relink_corpus(lake: Lake, merge, metadata: dict | None = None) -> CorpusReport:
    """The corpus entity step over the lake, with `merge` the NLP core's merge
    (`pipelines.core.corpus_entities`): decide again what the documents changed since the last
    step touch, then link the mentions and claims of the documents that need it, committed in
    the order of `commit_corpus_tables` (`entities`, the children, the state, `entities`
    without what nothing points to), the step's own state after them."""
    run = uuid.uuid4().hex
    meta = {"op": "corpus entities", "run": run, **(metadata or {})}
    point = lake.version(COMMITTED)  # the commit point as this step reads it
    recorded = recorded_inputs(lake, [MERGE_STEP, MERGE_READ])
    kept, started = inputs_unchanged(lake, MERGE_STEP, MERGE_STATE, (), recorded)
    read_before = recorded.get(MERGE_READ, {}) if kept else {}
    changes = commit_point_changes(lake, read_before.get(COMMITTED), point)
    committed: pl.DataFrame | None = None
    if changes is None:  # the commit point and the links read whole
        committed = lake.read(COMMITTED, ["doc_id", "committed_at"], version=point)
        linked = lake.read(LINKED)
        arrived = committed.join(linked, on=["doc_id", "committed_at"], how="anti")
        gone = set(linked.join(committed, on="doc_id", how="anti")["doc_id"])
    else:
        arrived, gone = changes
    fresh = set(arrived["doc_id"])
    whole = not kept
    old_stats = lake.read(NAMES)
    mentions = pl.DataFrame(schema=polars_schema("document_mentions"))  # the fresh ones'
    held_entities = None  # the stored `document_entities` rows of the fresh and gone documents
    if whole:  # every document read again, every name and document decided
        rows = _Rows(
            pl.DataFrame(schema=polars_schema(DOC_ENTITIES)).lazy(),
            set(),
            merge.entity_rows(lake.scan("document_mentions")),
        )
        stats = merge.name_stats(rows.new)
        n = entity_documents = rows.new["doc_id"].n_unique()
        decide = set(rows.new["doc_id"])
        alias = merge.decide(rows.new, stats, n)
    elif not fresh | gone:  # nothing to decide again
        rows = _Rows(
            lake.scan(DOC_ENTITIES), set(), pl.DataFrame(schema=polars_schema(DOC_ENTITIES))
        )
        stats, n, decide = old_stats, 0, set()
        entity_documents = read_before.get(ENTITY_DOCUMENTS)
        decided_again, keys = old_stats.clear(), set()
        alias = merge.decide(rows.new)
    else:
        touched = fresh | gone
        if fresh:
            mentions = lake.read("document_mentions", doc_ids=fresh)
        rows = _Rows(lake.scan(DOC_ENTITIES), touched, merge.entity_rows(mentions.lazy()))
        old = held_entities = lake.read(DOC_ENTITIES, doc_ids=touched)
        keys = {*old["key"], *rows.new["key"]}
        decided_again = merge.name_stats(rows.where("key", keys))
        stats = pl.concat([old_stats.filter(~pl.col("key").is_in(_ids(keys))), decided_again])
        stats = stats.sort("key")
        # the corpus's documents with entities: the recorded count moved by the touched
        # documents' (a scan of every document's rows when nothing was recorded)
        known = read_before.get(ENTITY_DOCUMENTS)
        n = entity_documents = (
            rows.documents()
            if known is None
            else known - old["doc_id"].n_unique() + rows.new["doc_id"].n_unique()
        )
        # the names whose verdict or full name moved, and the surnames joined to a full name
        verdicts = old_stats.select("key", "corpus_label").join(
            stats.select("key", "corpus_label"), on="key", how="full", coalesce=True
        )
        moved = verdicts.filter(pl.col("corpus_label").ne_missing(pl.col("corpus_label_right")))
        full_old, full_new = merge.full_names(old_stats), merge.full_names(stats)
        surnames = full_old.join(full_new, on="key", how="full", coalesce=True)
        watch = {*moved["key"], *surnames["key"]}
        naming = rows.where("key", watch)["doc_id"]
        decide = (fresh | set(naming)) - gone
        alias = _decide(merge, rows, decide, stats, n)
    decided = merge.decisions(alias)
    # the decided documents' mentions, read once (the new ones' are read already)
    if whole:
        mentioned = lake.read("document_mentions")
    else:
        known_mentions = mentions.filter(pl.col("doc_id").is_in(_ids(decide)))
        unread = decide - fresh
        mentioned = (
            pl.concat([known_mentions, lake.read("document_mentions", doc_ids=unread)])
            if unread
            else known_mentions
        )
    counts = merge.entity_counts(mentioned.lazy(), alias)
    old_counts = (
        lake.read(COUNTS)
        if whole
        else lake.read(COUNTS, doc_ids=decide | gone)
        if decide | gone
        else lake.read(COUNTS).clear()
    )
    changed = _differing(old_counts, counts)  # documents whose share of `entities` moved
    is_changed = pl.col("doc_id").is_in(_ids(changed))
    old_entities = lake.read("entities")
    if whole:
        entities = merge.entities_from_counts(counts)
    else:
        affected = _ids(
            [*old_counts.filter(is_changed)["entity_id"], *counts.filter(is_changed)["entity_id"]]
        )
        named = pl.col("entity_id").is_in(affected)
        stored = lake.scan(COUNTS).filter(named & ~is_changed)
        counted = pl.concat(
            [
                stored.collect() if changed else old_counts.clear(),
                counts.filter(named & is_changed),
            ]
        )
        entities = pl.concat(
            [old_entities.filter(~named), merge.entities_from_counts(counted)]
        ).sort(["n_mentions", "entity_id"], descending=[True, False])
    names = old_entities.select("entity_id", "name").join(
        entities.select("entity_id", "name"), on="entity_id", how="full", coalesce=True
    )
    renamed = _ids(names.filter(pl.col("name").ne_missing(pl.col("name_right")))["entity_id"])
    relinked = set(changed)
    if renamed.list.len().item():
        is_renamed = pl.col("entity_id").is_in(renamed)
        naming = pl.concat(
            [
                lake.scan(COUNTS).filter(is_renamed & ~is_changed).select("doc_id").collect(),
                counts.filter(is_renamed & is_changed).select("doc_id"),
            ]
        )
        quoted = (
            lake.scan("document_claims")
            .filter(pl.col("speaker_entity_id").is_in(renamed))
            .select("doc_id")
            .collect()
        )
        relinked |= set(naming["doc_id"]) | set(quoted["doc_id"])
    relinked = relinked - fresh - gone
    redo = sorted(fresh | relinked)
    extra = set(redo) - decide  # named a renamed entity, not decided: their decisions stand
    linking = alias if not extra else pl.concat([alias, _decide(merge, rows, extra, stats, n)])
    to_link = mentioned.filter(pl.col("doc_id").is_in(_ids(redo)))
    if extra:
        to_link = pl.concat([to_link, lake.read("document_mentions", doc_ids=extra)])
    mentions, _ = merge.resolve_mentions(to_link.lazy(), linking, entities)
    claims = merge.resolve_speakers(
        lake.read("document_claims", doc_ids=redo).lazy(),
        linking,
        entities.lazy(),
    ).collect()
    replaced = commit_corpus_tables(
        lake,
        ("entities", "entity_id", entities),
        [("entity_mentions", mentions), ("claims", claims)],
        meta,
        documents=redo,
    )
    # the step's own state, then the commit point of its links, then the record of it all
    scope = None if whole else decide | gone
    replace_changed_documents(lake, LINKS, decided, meta, scope)
    # their stored rows, read above for the same documents
    replace_changed_documents(lake, COUNTS, counts, meta, scope, None if whole else old_counts)
    replace_changed_documents(
        lake, DOC_ENTITIES, rows.new, meta, None if whole else fresh | gone, held_entities
    )
    if whole:
        if not stats.equals(old_stats.sort("key")):
            lake.overwrite(NAMES, stats, meta)
    elif not decided_again.equals(old_stats.filter(pl.col("key").is_in(_ids(keys))).sort("key")):
        lake.replace(NAMES, in_predicate("key", keys), decided_again, meta)
    if committed is None:  # the relinked documents' commit point rows are as they were linked
        again = set(redo) - fresh
        state = pl.concat(
            [
                arrived,
                lake.read(COMMITTED, ["doc_id", "committed_at"], version=point, doc_ids=again)
                if again
                else arrived.clear(),
            ]
        )
    else:
        state = committed.filter(pl.col("doc_id").is_in(redo))
    if redo or gone:
        replace_documents(lake, LINKED, [*redo, *gone], state, meta)
    for table in MERGE_STATE:  # each there, even empty, so its version says what it holds
        lake.create(table)
    links = lake.read(LINKS, ["entity_id", "corpus_entity_id"])
    if _only_ours(lake, started, run):  # else another step wrote meanwhile: the next is whole
        read = {COMMITTED: point, ENTITY_DOCUMENTS: entity_documents}
        record_steps_inputs(lake, {MERGE_STEP: lake.versions(MERGE_STATE), MERGE_READ: read})
    return CorpusReport(
        entities,
        alias,
        linked=len(fresh),
        relinked=len(relinked),
        removed=len(gone),
        decisions=links.height,
        merged=links.filter(pl.col("entity_id") != pl.col("corpus_entity_id")).height,
        decided=len(decide),
        whole=whole,
        replaced=replaced,
    )


def update_documents(lake: Lake, rows: pl.DataFrame, metadata: dict | None = None) -> int:
    """Replace some documents' rows in `documents` only (one commit), e.g. new metadata for
    articles whose text did not change: the NLP tables are not touched, and a document not in
    the lake is not added (its rows would have no sentences). Returns the new version."""
    present = lake.read("documents", ["doc_id"])["doc_id"]
    rows = rows.filter(pl.col("doc_id").is_in(present.implode()))
    if rows.is_empty():
        return lake.version("documents") or 0
    predicate = in_predicate("doc_id", rows["doc_id"].to_list())
    return lake.replace(
        "documents", predicate, rows, {"op": "update documents", **(metadata or {})}
    )


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
    metadata = [d.metadata.columns() for d in documents]
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
            **{c: [found[c] for found in metadata] for c in Metadata().columns()},
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
    reextracted: int = 0  # extracted again from their kept parses (new extraction code)
    removed: int = 0
    unchanged: int = 0
    same_rows: int = 0  # extracted again and found to give the rows they had: none committed
    shared_parse: int = 0  # of `parsed`, copies given the parse of another document's same text
    batches: int = 0
    compacted: int = 0
    documents: int = 0
    metadata_updated: int = 0  # rows given new metadata without parsing (`refresh_metadata`)


@dataclass
class RunReport:
    shards: dict[str, ShardReport] = field(default_factory=dict)
    migrated: int = 0
    vacuumed: int = 0

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.shards.values())

    @property
    def changed(self) -> bool:
        touched = ("parsed", "reextracted", "removed", "compacted", "metadata_updated")
        return bool(self.migrated or any(self.total(n) for n in touched))


def upkeep(lake: Lake, tables: Iterable[str] = DOC_TABLES) -> tuple[int, int]:
    """Compact a table that gathered many small files, and vacuum what the retention no longer
    needs (the format's optimize and vacuum). Returns (files compacted, files vacuumed)."""
    compacted = vacuumed = 0
    for table in tables:
        dt = lake.table(table)
        if dt is None:
            continue
        sizes = dt.get_add_actions(flatten=True).column("size_bytes").to_pylist()
        if sum(1 for size in sizes if size < SMALL_FILE_BYTES) >= COMPACT_FILES:
            compacted += lake.compact(table)
        vacuumed += lake.vacuum(table)
    return compacted, vacuumed


def process(
    lake: Lake,
    plans: dict[str, ShardPlan],
    load: Callable[[str], Document | None],
    batch_size: int,
    n_workers: int,
    task_size: int = 16,
    log: Callable[[str], None] = lambda _m: None,
    migrated: int = 0,
    progress: Callable[[int, bool], None] = lambda _done, _committed: None,
    quote_model: bool = True,
    code: tuple[str, str] | None = None,
    keep_parses: bool = True,
) -> RunReport:
    """Apply the shards' plans: drop deleted files' rows, parse what is new, commit each batch.
    With `code` (the parse and extraction versions, `pipelines.core.versions`) each batch
    records it and its kept parses (`keep_parses`); the plans' `to_reextract` documents are
    extracted from their kept parses, read `KEPT_PARSES_READ` at a time.

    Documents go to the workers in tasks of `task_size` (small, so that both cores stay busy to
    the end), shard after shard; a batch gathers up to `batch_size` documents and is committed
    on its own, so a killed run loses at most the batches in flight.
    `progress(parsed, committed)` hears how many documents are parsed so far: after every task,
    and with `committed` true after every commit (see `pipelines.core.progress`).
    """
    report = RunReport(migrated=migrated)
    for shard, shard_plan in plans.items():
        report.shards[shard] = ShardReport(unchanged=shard_plan.unchanged)
        report.shards[shard].removed = len(shard_plan.removed)
    # deleted files: their rows go now, every shard's in one commit a table
    remove_documents(lake, set().union(*(p.removed for p in plans.values())))
    # changed (or redone) files: their old rows go in the commits that bring the new ones, so
    # a file that cannot be read after all (a half-finished upload) keeps its last rows
    replaced = {s: p.to_drop - p.removed for s, p in plans.items()}
    to_parse = {d for p in plans.values() for d in p.to_parse}
    previous: dict[str, tuple[str, datetime]] = {}
    if to_parse and any(replaced.values()):
        old = lake.read(
            "documents",
            ["doc_id", "content_sha256", "ingested_at"],
            doc_ids=set().union(*replaced.values()),
        )
        previous = {d: (sha, at) for d, sha, at in old.iter_rows()}

    def task(shard: str, documents: list[Document], parses: dict[str, tuple[str, bytes]]):
        """A task: its documents, and the kept parses of those whose content they are of."""
        found = {
            d.doc_id: parses.pop(d.doc_id)[1]
            for d in documents
            if d.doc_id in parses and parses[d.doc_id][0] == d.content_sha256
        }
        return (shard, documents), [(d.doc_id, d.text) for d in documents], found

    # copies go in the task of the first document of their content, where the worker parses
    # the text once (`annotate.parsed_docs`), not in their own shard's
    with_first = {path for p in plans.values() for paths in p.copies.values() for path in paths}

    def tasks() -> Iterator[tuple[tuple[str, list[Document]], Batch, dict[str, bytes]]]:
        for shard, shard_plan in plans.items():
            documents: list[Document] = []
            reuse = sorted(shard_plan.to_reextract)
            parses: dict[str, tuple[str, bytes]] = {}
            for path in shard_plan.to_parse:
                if path in with_first:
                    continue
                # the document and its copies (loaded even when it cannot be)
                for document in filter(None, map(load, [path, *shard_plan.copies.get(path, ())])):
                    if document.doc_id in shard_plan.to_reextract and document.doc_id not in parses:
                        # the next chunk of this shard's kept parses (in path order, as used)
                        at = reuse.index(document.doc_id)
                        parses.update(kept_parses(lake, reuse[at : at + KEPT_PARSES_READ]))
                    documents.append(document)
                if len(documents) >= task_size:
                    yield task(shard, documents, parses)
                    documents = []
            if documents:
                yield task(shard, documents, parses)

    held: list[Document] = []
    frames: list[dict[str, pl.DataFrame]] = []

    def commit() -> None:
        if not held:
            return
        now = datetime.now(UTC).replace(tzinfo=None)
        tables = {t: pl.concat([f[t] for f in frames]) for t in (*NLP_TABLES, "parses")}
        ids = {d.doc_id for d in held}
        shards = sorted({shard_of(d) for d in ids})
        meta = {"shards": "".join(shards)}
        rows = documents_frame(held, tables["sentences"], now, previous)
        parsed_now = dict(tables["parses"].select("doc_id", "parsed").iter_rows())
        same: set[str] = set()
        if code is not None:  # the kept rows are recorded as made by this code, nothing else
            same = same_rows(lake, rows, tables, {d for d in ids if not parsed_now.get(d, True)})
            if same:
                kept = pl.col("doc_id").is_in(pl.Series(sorted(same)).implode())
                info = {"op": "record extraction", "documents": str(len(same)), **meta}
                unchanged = rows.filter(kept)
                commit_code(lake, unchanged, tables["parses"].filter(kept), code, info)
                # the commit point moves too, so that the corpus step links them again: a run
                # killed after replacing their rows (which deletes the corpus rows pointing to
                # them) and before the commit point left rows the new code's, and no corpus rows
                commit_point(lake, unchanged, info)
                rows, tables = rows.filter(~kept), {t: f.filter(~kept) for t, f in tables.items()}
        if rows.height:
            commit_batch(
                lake,
                rows,
                tables,
                {d for s in shards for d in replaced[s] & (ids - same)},
                meta,
                tables["parses"],
                code,
            )
        for document in held:
            shard = shard_of(document.doc_id)
            replaced[shard].discard(document.doc_id)
            if parsed_now.get(document.doc_id, True):
                report.shards[shard].parsed += 1
            else:
                report.shards[shard].reextracted += 1
                report.shards[shard].same_rows += document.doc_id in same
        for shard in shards:
            report.shards[shard].batches += 1
        log(
            f"shards {','.join(shards)}: committed {len(held)} documents "
            f"({report.total('parsed') + report.total('reextracted')} so far)"
        )
        progress(report.total("parsed") + report.total("reextracted"), True)
        held.clear()
        frames.clear()

    if to_parse:
        # a batch takes documents of any shard (a small run commits once, not once a shard)
        for (_shard, documents), _batch, tables in annotate_batches(
            tasks(), n_workers, quote_model, keep_parses and code is not None
        ):
            if len(held) + len(documents) > batch_size:
                commit()
            held.extend(documents)
            frames.append(tables)
            for doc_id in tables["parses"].filter("shared")["doc_id"]:
                report.shards[shard_of(doc_id)].shared_parse += 1
            done = report.total("parsed") + report.total("reextracted")
            progress(done + len(held), False)
        commit()
    if any(p.has_work for p in plans.values()):
        compacted, report.vacuumed = upkeep(lake, [t for t in SCHEMAS if lake.exists(t)])
        if compacted:
            first = next(iter(report.shards.values()))
            first.compacted = compacted
    counts = (
        lake.read(COMMITTED, ["doc_id"])
        .group_by(pl.col("doc_id").str.slice(1, 1).alias("shard"))
        .len()
    )
    per_shard = dict(counts.iter_rows())
    for shard, shard_report in report.shards.items():
        shard_report.documents = int(per_shard.get(shard, 0))
    return report


# --- has anything a step reads changed? ----------------------------------------------------
# The one place the steps downstream of the parse (the corpus step, the asset checks) ask
# whether to do their work again: each records the versions of the tables it read when it last
# succeeded (`step_inputs`), and its inputs are unchanged when no commit since then changed rows
# it reads. A metadata update (`update_documents`, op "metadata") changes only the metadata
# columns of existing documents, so a step that reads no metadata column ignores it; compaction
# and vacuum keep every row.
STEP_INPUTS = "step_inputs"
METADATA_OP = "metadata"
_KEEPS_ROWS = ("compact",)


def _keeps_rows(commit: dict, ignore: Collection[str] = ()) -> bool:
    """A commit that changed no row (compaction, vacuum) or only by an op in `ignore`."""
    return commit.get("op") in (*_KEEPS_ROWS, *ignore) or commit.get("operation", "").startswith(
        "VACUUM"
    )


def _moved(lake: Lake, table: str, since: int | None, ignore: Collection[str]) -> bool:
    """Did the table get a commit after version `since` that changed rows (other than by an
    op in `ignore`)?"""
    dt = lake.table(table)
    now = None if dt is None else dt.version()
    if since is None or now is None or now < since:
        return now != since
    if now == since:
        return False
    for commit in dt.history(now - since):
        if commit["version"] <= since:
            continue
        if _keeps_rows(commit, ignore):
            continue
        return True
    return False


def inputs_unchanged(
    lake: Lake,
    step: str,
    tables: Iterable[str],
    ignore: Collection[str] = (METADATA_OP,),
    recorded: Mapping[str, dict[str, int | None]] | None = None,
) -> tuple[bool, dict[str, int | None]]:
    """(whether no row the step reads changed since it last recorded its inputs, the tables'
    versions now, to record when it succeeds). A step that never recorded has changed inputs."""
    return steps_unchanged(lake, {step: tables}, ignore, recorded)[step]


def recorded_inputs(lake: Lake, steps: Iterable[str]) -> dict[str, dict[str, int | None]]:
    """The tables' versions each of `steps` recorded when it last succeeded (none: absent)."""
    if not lake.exists(STEP_INPUTS):
        return {}
    rows = lake.read(STEP_INPUTS).filter(pl.col("step").is_in(list(steps)))
    return {step: json.loads(v) for step, v in rows.select("step", "versions").iter_rows()}


def steps_unchanged(
    lake: Lake,
    steps: Mapping[str, Iterable[str]],
    ignore: Collection[str] = (METADATA_OP,),
    recorded: Mapping[str, dict[str, int | None]] | None = None,
) -> dict[str, tuple[bool, dict[str, int | None]]]:
    """`inputs_unchanged` for several steps at once: one read of what they recorded (or
    `recorded`, the caller's `recorded_inputs`), each table's version and history looked at
    once (what a group of checks asks together)."""
    wanted = {step: sorted(set(tables)) for step, tables in steps.items()}
    versions = lake.versions(sorted({t for tables in wanted.values() for t in tables}))
    if recorded is None:
        recorded = recorded_inputs(lake, wanted)
    moved: dict[tuple[str, int | None], bool] = {}

    def has_moved(table: str, since: int | None) -> bool:
        if (table, since) not in moved:
            moved[table, since] = _moved(lake, table, since, ignore)
        return moved[table, since]

    found = {}
    for step, tables in wanted.items():
        now = {t: versions[t] for t in tables}
        last = recorded.get(step)
        unchanged = (
            last is not None
            and set(last) == set(now)
            and not any(has_moved(t, last[t]) for t in tables)
        )
        found[step] = (unchanged, now)
    return found


def record_inputs(lake: Lake, step: str, versions: dict[str, int | None]) -> None:
    """Record the versions of the tables a step read, once it succeeded (one commit)."""
    record_steps_inputs(lake, {step: versions})


def record_steps_inputs(lake: Lake, recorded: Mapping[str, dict[str, int | None]]) -> None:
    """`record_inputs` for several steps, in one commit (nothing to record: no commit)."""
    if not recorded:
        return
    row = pl.DataFrame(
        {
            "step": list(recorded),
            "versions": [json.dumps(v, sort_keys=True) for v in recorded.values()],
        }
    )
    lake.replace(STEP_INPUTS, in_predicate("step", list(recorded)), row, {"op": "step inputs"})


# --- metadata without a text change ---------------------------------------------------------
# A manifest row or a JSON record's fields may change while the text stays as it was: the
# article's documents row is rewritten with the new values (`update_documents`), its sentences,
# mentions and claims are kept as they are, and nothing is parsed.


def refresh_metadata(lake: Lake, files: pl.DataFrame, shards: Iterable[str]) -> dict[str, int]:
    """Give the shards' committed documents whose text is unchanged but whose metadata (or
    source path, for a JSON line that moved) differs from the scan's (`files`, `source_files`)
    their new values, in one commit of `documents`; returns how many per shard."""
    from pipelines.core.metadata import METADATA_COLUMNS, apply_changes, committed_changes

    columns = ["doc_id", "content_sha256", "source_path", *METADATA_COLUMNS]
    wanted = list(shards)
    committed = lake.read("documents", columns).filter(
        pl.col("doc_id").str.slice(1, 1).is_in(wanted)
    )
    changes = committed_changes(committed, files)
    if changes.is_empty():
        return {}
    rows = lake.read("documents", doc_ids=changes["doc_id"].to_list())
    update_documents(lake, apply_changes(rows, changes), {"op": "metadata"})
    counts = changes.group_by(shard=pl.col("doc_id").str.slice(1, 1)).len()
    return dict(counts.iter_rows())
