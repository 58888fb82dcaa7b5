"""The DuckDB warehouse: loaded from the lake into a new file, then swapped in.

Building a new file and renaming it over the old one means an analyst's open read-only session
keeps the snapshot it opened and never blocks a load, and nobody ever sees a half-loaded
warehouse: the new file is filled, flushed to disk, and only then renamed over the old one (a
killed build leaves a temporary file, removed by the next load, and the old warehouse as it was).

A load reads one version of every lake table (their latest when it starts) and records them in
`load_info` (`lake_version.<table>`): the lake as that warehouse saw it. DuckDB reads the Parquet
files that version's Delta log lists (`Lake.files`), never a glob of the folder. When the
warehouse was built from older versions of the same lake, the load is incremental: the old file
is copied, and for a table keyed by document only the documents in the files that the log added
or removed since are deleted and inserted again (cost: the changed documents, plus copying the
file); a table written whole is reloaded only when its version moved. Loads are serialised by an
exclusive file lock beside the warehouse; a second loader waits for it
(NEWS_WAREHOUSE_LOCK_TIMEOUT seconds, default 600) and then stops, naming the process in its
way. The file is written in DuckDB's v1.5.0 storage format, so the DuckDB 1.x tools analysts
already have can open it. Nothing here needs a DuckDB extension from the network: remote files
are read through fsspec.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.core.store import Lake, LockTimeout, file_lock, fsync_path
from pipelines.core.tables import SCHEMAS

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
STORAGE_VERSION = "v1.5.0"


@dataclass(frozen=True)
class TableLoad:
    """One warehouse table and how it is loaded from the lake: from the lake table `source`
    (default the same name) with `select` (SQL over `{files}`, a `read_parquet` of the table's
    current files, giving the table's columns; default every column). `by_document`: its rows
    are keyed by `doc_id`, so a load replaces the changed documents' rows only."""

    table: str
    by_document: bool = False
    source: str | None = None
    select: str | None = None

    @property
    def lake_table(self) -> str:
        return self.source or self.table

    def query(self, files: str) -> str:
        if self.select:
            return self.select.format(files=files)
        return f"SELECT {', '.join(SCHEMAS[self.table].names)} FROM read_parquet({files})"


# The one list of what the warehouse loads, in load order: a table comes after the tables its
# foreign keys point to. Add a lake table here (and its DDL to sql/schema.sql) to load it.
LOADS: tuple[TableLoad, ...] = (
    TableLoad("documents", by_document=True),
    TableLoad("rejected_files"),
    TableLoad("file_warnings"),
    TableLoad("entities"),
    TableLoad("sentences", by_document=True),
    TableLoad("entity_mentions"),
    TableLoad("claims"),
)
LOAD_ORDER = tuple(load.table for load in LOADS)
DEFAULT_LOCK_TIMEOUT_S = 600.0


class WarehouseBusy(LockTimeout):
    """Another load holds the warehouse lock for longer than we wait."""


class WarehouseLoadFailed(RuntimeError):
    """The new warehouse could not be built; the old one was left as it was."""


def lock_timeout() -> float:
    return float(os.environ.get("NEWS_WAREHOUSE_LOCK_TIMEOUT") or DEFAULT_LOCK_TIMEOUT_S)


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


@contextlib.contextmanager
def load_lock(warehouse: Path, timeout_s: float | None = None) -> Iterator[None]:
    """Hold the warehouse's load lock; wait for another loader, up to `timeout_s`."""
    timeout = lock_timeout() if timeout_s is None else timeout_s
    try:
        with file_lock(lock_path(warehouse), timeout, f"loading {warehouse}"):
            yield
    except LockTimeout as exc:
        if isinstance(exc, WarehouseBusy):
            raise
        raise WarehouseBusy(
            f"the warehouse {warehouse} is being loaded by another run, so this load stopped "
            f"without changing it: {exc}"
        ) from None


def sql_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    return [sql_dir / "schema.sql", sql_dir / "views.sql"]


def sql_digest(sql_dir: Path = SQL_DIR) -> str:
    digest = hashlib.sha256()
    for path in sql_files(sql_dir):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def lake_versions(lake: Lake) -> dict[str, int | None]:
    """The version of every lake table a load reads (None: never written)."""
    return lake.versions(dict.fromkeys(load.lake_table for load in LOADS))


def fingerprint(
    lake: Lake, sql_dir: Path = SQL_DIR, versions: dict[str, int | None] | None = None
) -> str:
    """What the warehouse is built from: the lake (its address and the version of each table
    read) and the SQL. A Delta version never changes once committed, so this is enough."""
    versions = lake_versions(lake) if versions is None else versions
    text = json.dumps({"lake": lake.root, "versions": versions, "sql": sql_digest(sql_dir)})
    return hashlib.sha256(text.encode()).hexdigest()


def load_info(warehouse: Path) -> dict[str, str]:
    """The existing warehouse's `load_info` (empty when there is none, or it cannot be read)."""
    if not warehouse.exists():
        return {}
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return dict(con.execute("select key, value from load_info").fetchall())
    except duckdb.Error:
        return {}


def current_fingerprint(warehouse: Path) -> str | None:
    """The fingerprint the existing warehouse was built from, if it can be read."""
    return load_info(warehouse).get("fingerprint")


@dataclass(frozen=True)
class LoadReport:
    path: Path
    rebuilt: bool
    row_counts: dict[str, int]
    seconds: float
    mode: str = "unchanged"  # "full", "incremental" or "unchanged"
    changed_documents: int = 0
    versions: dict[str, int | None] | None = None


def _sql_list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def _stale_builds(warehouse: Path) -> list[Path]:
    """Temporary files of builds that were killed (only a lock holder writes them)."""
    return sorted(warehouse.parent.glob(f".{warehouse.name}.*.tmp*"))


def _previous_versions(info: dict[str, str], lake: Lake, sql_dir: Path) -> dict[str, int] | None:
    """The versions the existing warehouse was built from, when it can be brought up to date
    from them (same lake, same SQL); None when it must be built anew."""
    if info.get("lake_url") != lake.root or info.get("sql_digest") != sql_digest(sql_dir):
        return None
    prefix = "lake_version."
    return {k[len(prefix) :]: int(v) for k, v in info.items() if k.startswith(prefix) and v}


def build(
    lake: Lake,
    warehouse: Path,
    sql_dir: Path = SQL_DIR,
    lock_timeout_s: float | None = None,
    full: bool = False,
) -> LoadReport:
    """Bring the warehouse up to the lake's latest versions unless it is there already:
    incrementally from the versions it was built from where it can (see the module), else in
    full (`full=True` forces that)."""
    started = time.monotonic()
    with load_lock(warehouse, lock_timeout_s):
        for leftover in _stale_builds(warehouse):
            leftover.unlink(missing_ok=True)
        versions = lake_versions(lake)
        wanted = fingerprint(lake, sql_dir, versions)
        info = load_info(warehouse)
        if info.get("fingerprint") == wanted:
            return LoadReport(
                warehouse, False, row_counts(warehouse), time.monotonic() - started,
                versions=versions,
            )
        previous = None if full else _previous_versions(info, lake, sql_dir)
        tmp = warehouse.with_name(f".{warehouse.name}.{uuid.uuid4().hex}.tmp")
        try:
            try:
                changed = None
                if previous is not None:
                    shutil.copyfile(warehouse, tmp)
                    changed = _update(lake, tmp, wanted, versions, previous)
                if changed is None:
                    tmp.unlink(missing_ok=True)
                    _write(lake, tmp, wanted, versions, sql_dir)
            except duckdb.Error as exc:
                raise WarehouseLoadFailed(
                    f"the new warehouse could not be built, so {warehouse} was left as it was: "
                    f"{exc}"
                ) from exc
            wal = tmp.with_name(tmp.name + ".wal")
            if wal.exists():  # every change must be in the file itself before it is renamed
                raise WarehouseLoadFailed(f"DuckDB left a write-ahead log {wal} after the build")
            fsync_path(tmp)
            os.replace(tmp, warehouse)
            fsync_path(warehouse.parent)
        finally:
            for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                leftover.unlink(missing_ok=True)
    return LoadReport(
        warehouse,
        True,
        row_counts(warehouse),
        time.monotonic() - started,
        mode="full" if changed is None else "incremental",
        changed_documents=changed or 0,
        versions=versions,
    )


def _connect(lake: Lake) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    if not lake.is_local:  # no extension from the network: remote files through fsspec
        import fsspec

        con.register_filesystem(fsspec.filesystem(lake.root.split("://", 1)[0]))
    return con


def _files(lake: Lake, table: str, version: int | None) -> list[str]:
    return [] if version is None else lake.files(table, version)


def _info_rows(
    lake: Lake, wanted: str, versions: dict[str, int | None], mode: str
) -> list[tuple[str, str]]:
    built_at = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    return [
        ("fingerprint", wanted),
        ("built_at", built_at),
        ("storage_version", STORAGE_VERSION),
        ("lake_url", lake.root),
        ("sql_digest", sql_digest()),
        ("load", mode),
        *((f"lake_version.{t}", "" if v is None else str(v)) for t, v in sorted(versions.items())),
    ]


def _write(
    lake: Lake, path: Path, wanted: str, versions: dict[str, int | None], sql_dir: Path
) -> None:
    con = _connect(lake)
    try:
        con.execute(f"ATTACH '{path}' AS wh (STORAGE_VERSION '{STORAGE_VERSION}')")
        con.execute("USE wh")
        con.execute("BEGIN TRANSACTION")
        con.execute((sql_dir / "schema.sql").read_text())
        for load in LOADS:
            files = _files(lake, load.lake_table, versions[load.lake_table])
            if not files:
                continue
            columns = ", ".join(SCHEMAS[load.table].names)
            con.execute(
                f"INSERT INTO {load.table} ({columns}) SELECT * FROM "
                f"({load.query(_sql_list(files))}) ORDER BY {columns.split(',')[0]}"
            )
        con.execute((sql_dir / "views.sql").read_text())
        con.executemany("INSERT INTO load_info VALUES (?, ?)", _info_rows(lake, wanted, versions, "full"))
        con.execute("COMMIT")
        con.execute("USE memory")
        con.execute("DETACH wh")
    finally:
        con.close()


def _update(
    lake: Lake,
    path: Path,
    wanted: str,
    versions: dict[str, int | None],
    previous: dict[str, int],
) -> int | None:
    """Bring the copy at `path` from the `previous` versions to `versions`: the changed
    documents' rows of the tables keyed by document, every row of a whole table whose version
    moved. Returns how many documents changed, or None when it cannot (a table went back, or a
    file the older version lists is gone: then the caller builds in full)."""
    plans: list[tuple[TableLoad, list[str], list[str]]] = []  # load, added, removed files
    for load in LOADS:
        source = load.lake_table
        new, old = versions[source], previous.get(source)
        if new == old:
            continue
        if new is None or (old is not None and old > new):
            return None
        try:
            before = set(_files(lake, source, old))
        except Exception:  # noqa: BLE001 - the old version's log is gone: build in full
            return None
        after = set(_files(lake, source, new))
        plans.append((load, sorted(after - before), sorted(before - after)))
    con = _connect(lake)
    changed: set[str] = set()
    try:
        con.execute(f"ATTACH '{path}' AS wh")
        con.execute("USE wh")
        con.execute("CREATE TEMP TABLE changed_docs (doc_id VARCHAR)")
        for load, added, removed in plans:
            if not load.by_document:
                continue
            if not all(_exists(lake, f) for f in removed):  # vacuumed: build in full
                return None
            for files in (added, removed):
                if files:
                    con.execute(
                        "INSERT INTO changed_docs SELECT DISTINCT doc_id FROM "
                        f"read_parquet({_sql_list(files)})"
                    )
        changed = {r[0] for r in con.execute("SELECT DISTINCT doc_id FROM changed_docs").fetchall()}
        con.execute("BEGIN TRANSACTION")
        for load, _added, _removed in reversed(plans):  # children first
            if load.by_document:
                con.execute(
                    f"DELETE FROM {load.table} WHERE doc_id IN (SELECT doc_id FROM changed_docs)"
                )
            else:
                con.execute(f"DELETE FROM {load.table}")
        con.execute("COMMIT")
        con.execute("BEGIN TRANSACTION")
        columns_of = {load.table: ", ".join(SCHEMAS[load.table].names) for load, _a, _r in plans}
        for load, added, _removed in plans:  # parents first
            files = added if load.by_document else _files(lake, load.lake_table, versions[load.lake_table])
            if not files:
                continue
            columns = columns_of[load.table]
            con.execute(
                f"INSERT INTO {load.table} ({columns}) SELECT * FROM "
                f"({load.query(_sql_list(files))}) ORDER BY {columns.split(',')[0]}"
            )
        con.execute("DELETE FROM load_info")
        con.executemany(
            "INSERT INTO load_info VALUES (?, ?)", _info_rows(lake, wanted, versions, "incremental")
        )
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
        con.execute("USE memory")
        con.execute("DETACH wh")
    finally:
        con.close()
    return len(changed)


def _exists(lake: Lake, uri: str) -> bool:
    if lake.is_local:
        return os.path.exists(uri)
    import fsspec

    fs, path = fsspec.core.url_to_fs(uri)
    return fs.exists(path)


def row_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in LOAD_ORDER}


def connect_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A session that can read the warehouse and never change it."""
    if not warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run `make run` first")
    return duckdb.connect(str(warehouse), read_only=True)
