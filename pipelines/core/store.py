"""The lake: every table a Delta Lake table under `<root>/<table>/`, local or on object storage.

A table is what its `_delta_log` says, never a glob of its folder: a writer adds Parquet files
and then commits one log entry naming the files it added and removed, so a reader (or a run
killed at any moment) sees the last committed version, whole, and a file a killed run wrote
but never committed is simply not part of the table (vacuum removes it later). Concurrent
writers are resolved by the format's optimistic concurrency: a commit that conflicts is
retried or refused by delta-rs, never half-applied. Every version stays readable for the
retention (NEWS_LAKE_RETENTION_HOURS, default 168): vacuum keeps every file a version of that
age still needs, so time travel (`version=`) works that far back.

Storage knows the tables' schemas (`pipelines.core.tables`) and nothing of NLP. `file_lock` is
the one local locking primitive: an exclusive `flock` that the kernel releases when its holder
exits, even by `kill -9`, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from pipelines.core.tables import SCHEMAS, polars_schema, to_arrow

DEFAULT_RETENTION_HOURS = 168
# Compacted files stay this small, so that replacing one document's rows (which rewrites the
# file that holds them) stays cheap however large the table grows.
COMPACT_TARGET_BYTES = 16 << 20
COMMIT_RETRIES = 20  # conflicting commits (two writers at once) are tried again this often
# A checkpoint every this many commits (the format's own, written by delta-rs after a commit):
# opening a table then reads one Parquet checkpoint and at most this many JSON commits, not its
# whole log (an open of a table with 30 commits took 28-35 ms without, 6-8 ms with).
CHECKPOINT_INTERVAL = 10
CHECKPOINT_KEY = "delta.checkpointInterval"
CHECKPOINTS = {CHECKPOINT_KEY: str(CHECKPOINT_INTERVAL)}


class LockTimeout(RuntimeError):
    """Another process held a lock for longer than we were willing to wait."""


@contextlib.contextmanager
def file_lock(path: Path, timeout_s: float, purpose: str) -> Iterator[None]:
    """Hold an exclusive lock on `path`, waiting up to `timeout_s` for the holder to finish.

    The lock file records who holds it (pid, since when, what for), so a waiter that gives up
    can say who is in the way.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise LockTimeout(
                        f"{holder} still holds {path} after {timeout_s:.0f} s of waiting"
                    ) from None
                time.sleep(0.1)
        try:
            handle.seek(0)
            handle.truncate()
            since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            handle.write(f"process {os.getpid()} ({purpose}, since {since})")
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


def fsync_path(path: str | os.PathLike[str]) -> None:
    """Flush a file or a folder (a rename is durable once its folder is flushed)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sql_strings(values: Iterable[str]) -> str:
    """Values as a SQL list of string literals, for a predicate (`doc_id IN (...)`)."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(values))


def in_predicate(column: str, values: Iterable[str]) -> str:
    values = list(values)
    return f"{column} IN ({sql_strings(values)})" if values else "false"


# Reader features a Delta version may need that reading its files as plain Parquet honours
# (anything else, such as deletion vectors or column mapping: read through the Delta reader).
PLAIN_READER_FEATURES = frozenset({"timestampNtz"})


def _plain_parquet(dt: DeltaTable) -> bool:
    """Are the version's rows exactly the rows of the files it lists (no deletion vectors, no
    column mapping, no partition columns kept only in the log)?"""
    protocol = dt.protocol()
    features = set(protocol.reader_features or [])
    if protocol.min_reader_version == 2 or not features <= PLAIN_READER_FEATURES:
        return False
    return not dt.metadata().partition_columns


def _in_range(dt: DeltaTable, ids: list[str]) -> list[str]:
    """The version's files whose doc_id range (the log's min and max statistics) can hold
    one of the sorted `ids`; a file without statistics (or not paired with its log entry)
    always can. A statistic may be a truncated prefix, so an id is compared by its prefix
    of the max's length."""
    uris = dt.file_uris()
    if not ids:
        return []
    actions = pl.DataFrame(dt.get_add_actions(flatten=True))
    if "min.doc_id" not in actions.columns:
        return list(uris)
    ranges = {
        path: (low, high)
        for path, low, high in actions.select("path", "min.doc_id", "max.doc_id").iter_rows()
    }
    root = dt.table_uri.removeprefix("file://").rstrip("/") + "/"
    found = pl.Series(ids, dtype=pl.String)
    kept = []
    for uri in uris:
        low, high = ranges.get(uri.removeprefix(root), (None, None))
        if low is None or high is None:
            kept.append(uri)
            continue
        at = int(found.search_sorted(low, side="left"))
        if at < len(ids) and ids[at][: len(high)] <= high:
            kept.append(uri)
    return kept


def _set_checkpoint_interval(dt: DeltaTable) -> None:
    """Give a table created before checkpoints were kept its checkpoint interval (one commit,
    once; another writer's conflicting commit leaves it to the next write)."""
    if CHECKPOINT_KEY in dt.metadata().configuration:
        return
    try:
        dt.alter.set_table_properties(CHECKPOINTS)
        dt.update_incremental()
    except CommitFailedError:
        pass


class LakeConflict(RuntimeError):
    """A commit kept conflicting with other writers' commits; nothing of it was committed."""


@dataclass(frozen=True)
class FileChanges:
    """What a table's commits since some version did to its files (`Lake.changed_files`)."""

    added: list[str]
    removed: list[str]


@dataclass
class Lake:
    """The Delta tables under `root` (a local path or an object-store URL such as s3://b/x).

    Every write is one commit (one new version of one table). `storage_options` go to
    delta-rs as they are (endpoint, credentials, `conditional_put`, ...); left empty, delta-rs
    reads the usual `AWS_*` variables.
    """

    root: str
    storage_options: dict[str, str] = field(default_factory=dict)
    retention_hours: int = DEFAULT_RETENTION_HOURS
    lock_dir: Path | None = None  # for an object-store lake: where this machine's locks are
    _handles: dict[str, DeltaTable] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.is_local = "://" not in self.root or self.root.startswith("file://")
        if self.is_local:
            self.root = str(Path(self.root.removeprefix("file://")).absolute())

    # -- where -------------------------------------------------------------------------------

    def uri(self, table: str) -> str:
        return f"{self.root.rstrip('/')}/{table}"

    def lock(self, name: str, timeout_s: float, purpose: str) -> contextlib.AbstractContextManager:
        """An exclusive local lock named `name` (see `file_lock`), e.g. one per shard for the
        runs of this machine. For a local lake the lock file is `<root>/.locks/<name>`; for
        object storage a file on this machine (`lock_dir`, default the temporary folder).
        Runs on other machines are not held back by it: there, the Delta log's own conflict
        detection keeps the tables whole (see `Lake.replace`)."""
        if self.is_local:
            folder = Path(self.root) / ".locks"
        else:
            key = hashlib.sha256(self.root.encode()).hexdigest()[:16]
            folder = (self.lock_dir or Path(tempfile.gettempdir())) / f"news-locks-{key}"
        return file_lock(folder / f"{name}.lock", timeout_s, purpose)

    # -- reading -----------------------------------------------------------------------------

    def table(self, table: str, version: int | str | datetime | None = None) -> DeltaTable | None:
        """The table's Delta handle at its latest version (or `version`: a number, an ISO time
        or a datetime: the version current then); None when it was never created.

        The latest version's handle is kept and brought up to date with the commits made since
        (read from the log after its version: another writer's commits too), several times
        cheaper than opening the table again, which a step does dozens of times; a handle of
        an older version is a fresh one, never kept."""
        if version is None and (kept := self._handles.pop(table, None)) is not None:
            with contextlib.suppress(DeltaError):  # else its log is not what it was: open it
                kept.update_incremental()
                if self._still_there(table, kept.version()):
                    self._handles[table] = kept
                    return kept
        try:
            dt = DeltaTable(self.uri(table), storage_options=self.storage_options or None)
        except TableNotFoundError:
            return None
        if version is not None:
            dt.load_as_version(version)
        else:
            self._handles[table] = dt
        return dt

    def _still_there(self, table: str, version: int) -> bool:
        """Is the commit of a kept handle's version still in the table's log? (A table removed,
        or removed and made again with fewer commits, is opened afresh. Checked for a local lake
        only: on object storage a table is not removed under a running step.)"""
        if not self.is_local:
            return True
        return (Path(self.uri(table)) / "_delta_log" / f"{version:020d}.json").is_file()

    def exists(self, table: str) -> bool:
        return self.table(table) is not None

    def version(self, table: str) -> int | None:
        dt = self.table(table)
        return None if dt is None else dt.version()

    def versions(self, tables: Iterable[str]) -> dict[str, int | None]:
        """Each table's latest version: together, "the lake as of now"."""
        return {t: self.version(t) for t in tables}

    def count(self, table: str) -> int | None:
        """The table's rows at its latest version, from its log's file statistics (no file
        read); None when it was never created."""
        dt = self.table(table)
        if dt is None:
            return None
        records = dt.get_add_actions(flatten=True).column("num_records").to_pylist()
        return sum(r or 0 for r in records)

    def files(self, table: str, version: int | str | datetime | None = None) -> list[str]:
        """The Parquet files (absolute URIs) that make the table at its latest (or `version`):
        what a reader without a Delta reader (DuckDB here) must read, and nothing else."""
        dt = self.table(table, version)
        return [] if dt is None else sorted(dt.file_uris())

    def changed_files(
        self, table: str, since: int | None, version: int | None = None
    ) -> FileChanges | None:
        """The files the table's commits after version `since` up to `version` (default: the
        latest) added and removed, net (a row that changed, moved or went is in one of them;
        rows of a file in neither are as they were then). None when that cannot be told from
        the files: the table or either version is not there (never written, past the log's
        retention) or either version's files are not plain Parquet (`_plain_parquet`)."""
        if since is None:
            return None
        try:
            then, now = self.table(table, since), self.table(table, version)
        except DeltaError:  # that version's log is gone
            return None
        if then is None or now is None or not (_plain_parquet(then) and _plain_parquet(now)):
            return None
        before, after = set(then.file_uris()), set(now.file_uris())
        return FileChanges(sorted(after - before), sorted(before - after))

    def scan_files(self, table: str, files: list[str]) -> pl.LazyFrame:
        """A lazy frame over some of the table's files (from `changed_files`), in its schema's
        types. A removed file may have been vacuumed since: reading it then fails (OSError)."""
        schema = polars_schema(table)
        if not files:
            return pl.DataFrame(schema=schema).lazy()
        return self._parquet(files).select(
            pl.col(name).cast(dtype) for name, dtype in schema.items()
        )

    def read(
        self,
        table: str,
        columns: list[str] | None = None,
        version: int | str | datetime | None = None,
        doc_ids: Iterable[str] | None = None,
    ) -> pl.DataFrame:
        """The table (or some columns, or the rows of some documents) in its schema's types;
        empty, with its schema, when it was never written."""
        schema = polars_schema(table)
        names = columns or schema.names()
        dt = self.table(table, version)
        if dt is None or not dt.file_uris():
            return pl.DataFrame(schema=schema).select(names)
        if doc_ids is not None and _plain_parquet(dt):
            return self._read_documents(dt, sorted(set(doc_ids)), names, schema).cast(
                {name: schema[name] for name in names}
            )
        frame = self._scan(dt).select(names)
        if doc_ids is not None:
            frame = frame.filter(pl.col("doc_id").is_in(sorted(doc_ids)))
        return frame.collect().cast({name: schema[name] for name in names})

    def changes(
        self, table: str, since: int, version: int, columns: list[str]
    ) -> tuple[pl.DataFrame, pl.DataFrame] | None:
        """What the commits after version `since` up to `version` changed, from the log's file
        lists, not the table: (the rows of the files `version` has and `since` had not, the rows
        of the files `since` had and `version` has not; see `changed_files`). A row is in one
        file of a version, so a row of `version` that `since` lacked is among the first and not
        the second, and a key of `since` that `version` lacks is among the second and not the
        first; a file that both have is not read. None when `changed_files` cannot tell or a
        removed file is gone (vacuumed)."""
        diff = self.changed_files(table, since, version)
        if diff is None:
            return None
        try:
            added = self.scan_files(table, diff.added).select(columns).collect()
            removed = self.scan_files(table, diff.removed).select(columns).collect()
        except (OSError, DeltaError, pl.exceptions.PolarsError):
            return None
        return added, removed

    def document_files(self, table: str, doc_ids: Iterable[str]) -> list[str]:
        """The files (absolute URIs) of the table's latest version that hold rows of these
        documents: those whose doc_id range in the log's statistics can hold one of them, then
        of those the ones whose `doc_id` column holds one (see `_read_documents`)."""
        dt = self.table(table)
        if dt is None or not dt.file_uris():
            return []
        ids = sorted(set(doc_ids))
        return sorted(self._holding(dt, _in_range(dt, ids), ids))

    def _read_documents(
        self, dt: DeltaTable, ids: list[str], names: list[str], schema: pl.Schema
    ) -> pl.DataFrame:
        """Some documents' rows, reading only the files that hold them. A table keyed by
        document gets small additions (a run's batch) in files of their own and is compacted
        without sorting, so most files' doc_id ranges span nearly every id and the log's
        statistics prune few: the `doc_id` column of the candidate files is read first (one
        narrow column), then every wanted column of the few files that hold the ids only.
        Skipped when there are as many ids as candidate files (each file likely holds one)."""
        candidates = _in_range(dt, ids)
        files = candidates if len(ids) >= len(candidates) else self._holding(dt, candidates, ids)
        if not files:
            return pl.DataFrame(schema=schema).select(names)
        wanted = pl.col("doc_id").is_in(pl.Series(ids, dtype=pl.String).implode())
        return self._parquet(files).filter(wanted).select(names).collect()

    def _holding(self, dt: DeltaTable, files: list[str], ids: list[str]) -> list[str]:
        """Of `files`, those whose `doc_id` column holds one of `ids` (that column read alone)."""
        if not files or not ids:
            return []
        wanted = pl.col("doc_id").is_in(pl.Series(ids, dtype=pl.String).implode())
        found = (
            self._parquet(files, include_file_paths="_file")
            .select("doc_id", "_file")
            .filter(wanted)
            .select(pl.col("_file").unique())
            .collect()
        )
        return found["_file"].to_list()

    def _parquet(self, files: list[str], **options) -> pl.LazyFrame:
        """A lazy frame over some of a version's files, read as Polars' Delta reader reads
        them (a column a file predates is null)."""
        return pl.scan_parquet(
            files,
            missing_columns="insert",
            extra_columns="ignore",
            storage_options=self.storage_options or None,
            **options,
        )

    def scan(self, table: str, version: int | str | datetime | None = None) -> pl.LazyFrame:
        """A lazy frame over the table, for aggregations that need not hold it in memory."""
        dt = self.table(table, version)
        if dt is None or not dt.file_uris():
            return pl.DataFrame(schema=polars_schema(table)).lazy()
        schema = polars_schema(table)
        return self._scan(dt).select(pl.col(name).cast(dtype) for name, dtype in schema.items())

    def _scan(self, dt: DeltaTable) -> pl.LazyFrame:
        """The handle's version: its files as plain Parquet when that is all they are (the
        handle already holds their list, where Polars' Delta reader would open the table again),
        else Polars' own Delta reader (given the address, not the handle: that is several times
        faster on a large table)."""
        if _plain_parquet(dt):
            return self._parquet(dt.file_uris())
        return pl.scan_delta(
            self.uri_of(dt), version=dt.version(), storage_options=self.storage_options or None
        )

    def uri_of(self, dt: DeltaTable) -> str:
        return dt.table_uri.removeprefix("file://") if self.is_local else dt.table_uri

    # -- writing: one commit each --------------------------------------------------------------

    def create(self, table: str) -> DeltaTable:
        """The table, created empty with its schema if it is not there yet."""
        dt = self.table(table)
        if dt is not None:
            return dt
        hours = f"interval {self.retention_hours} hours"
        try:
            self._handles[table] = DeltaTable.create(
                self.uri(table),
                schema=SCHEMAS[table],
                mode="ignore",
                configuration={
                    "delta.deletedFileRetentionDuration": hours,
                    "delta.logRetentionDuration": hours,
                    **CHECKPOINTS,
                },
                storage_options=self.storage_options or None,
            )
        except CommitFailedError:  # another writer created it first
            return self.table(table)  # type: ignore[return-value]
        return self._handles[table]

    def _commit(self, table: str, write: Callable[[DeltaTable], object]) -> int:
        """Run one write on the table's latest version, trying it again on a fresh version when
        another writer committed a conflicting version first; returns the version it made."""
        for attempt in range(COMMIT_RETRIES):
            dt = self.create(table)
            try:
                write(dt)
            except CommitFailedError as exc:
                if attempt == COMMIT_RETRIES - 1:
                    raise LakeConflict(
                        f"{table}: {COMMIT_RETRIES} commits in a row conflicted with other "
                        f"writers' ({exc}); nothing of this one was committed"
                    ) from exc
                time.sleep(0.05 * (attempt + 1))
                continue
            dt.update_incremental()
            _set_checkpoint_interval(dt)
            return dt.version()
        raise AssertionError("unreachable")

    def _properties(self, metadata: dict[str, str] | None, retries: int = 5) -> CommitProperties:
        return CommitProperties(custom_metadata=metadata or None, max_commit_retries=retries)

    def _write(self, table: str, df: pl.DataFrame, metadata: dict | None, **options) -> int:
        """Write the frame in the table's schema as one commit (`options` go to delta-rs's
        `write_deltalake`: mode, predicate, file size).

        A whole-table overwrite is never rebased by delta-rs: rebased onto a version another
        writer committed meanwhile, it removes only the files of the version it started from,
        so that writer's new files would stay beside the rows meant to replace them (duplicate
        keys). Without delta-rs's retries it fails instead, and `_commit` writes it again on the
        latest version, which it replaces whole."""
        data = to_arrow(table, df)
        whole = options.get("mode") == "overwrite" and "predicate" not in options
        properties = self._properties(metadata, retries=0 if whole else 5)
        return self._commit(
            table,
            lambda dt: write_deltalake(dt, data, commit_properties=properties, **options),
        )

    def overwrite(self, table: str, df: pl.DataFrame, metadata: dict | None = None) -> int:
        """Replace the whole table (one commit). Rows keyed by document are written in doc_id
        order in files of at most COMPACT_TARGET_BYTES, so that replacing some documents' rows
        later rewrites only the files their ids fall in (the log's statistics say which)."""
        if "doc_id" in df.columns:
            df = df.sort("doc_id")
        return self._write(
            table, df, metadata, mode="overwrite", target_file_size=COMPACT_TARGET_BYTES
        )

    def replace(
        self, table: str, predicate: str, df: pl.DataFrame, metadata: dict | None = None
    ) -> int:
        """Delete the rows matching `predicate` and add `df` (which must match it too), in one
        commit: a reader sees the old rows or the new ones, never neither."""
        if df.is_empty():
            return self.delete(table, predicate, metadata)
        return self._write(table, df, metadata, mode="overwrite", predicate=predicate)

    def append(self, table: str, df: pl.DataFrame, metadata: dict | None = None) -> int:
        return self._write(table, df, metadata, mode="append")

    def delete(self, table: str, predicate: str, metadata: dict | None = None) -> int:
        """Delete the rows matching `predicate` (one commit; none when no row matches)."""
        return self._commit(
            table,
            lambda dt: dt.delete(predicate, commit_properties=self._properties(metadata)),
        )

    # -- upkeep --------------------------------------------------------------------------------

    def compact(self, table: str) -> int:
        """Merge small files into larger ones (Delta's optimize; rows unchanged, one commit);
        returns how many files it replaced."""
        dt = self.table(table)
        if dt is None or len(dt.file_uris()) < 2:
            return 0
        metrics = dt.optimize.compact(
            target_size=COMPACT_TARGET_BYTES,
            commit_properties=self._properties({"op": "compact"}),
        )
        return int(metrics.get("numFilesRemoved", 0))

    def vacuum(self, table: str) -> int:
        """Delete the files no version younger than the retention needs (the format's vacuum);
        returns how many."""
        dt = self.table(table)
        if dt is None:
            return 0
        removed = dt.vacuum(
            retention_hours=self.retention_hours,
            dry_run=False,
            enforce_retention_duration=False,
        )
        return len(removed)
