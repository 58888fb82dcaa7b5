"""The DuckDB warehouse: built from the Parquet tables into a new file, then swapped in.

Building a fresh file and renaming it over the old one means an analyst's open read-only session
keeps the snapshot it opened and never blocks a load, and nobody ever sees a half-loaded
warehouse: the new file is filled in one transaction, flushed to disk, and only then renamed over
the old one (a killed build leaves a temporary file, removed by the next load, and the old
warehouse as it was). Only committed Parquet parts are read: for the incremental tables, the
parts the manifests list (see `pipelines.core.incremental`), never a part a running or killed run
has written but not committed. Loads are serialised by an exclusive file lock beside the
warehouse; a second loader waits for it (NEWS_WAREHOUSE_LOCK_TIMEOUT seconds, default 600) and
then stops, naming the process in its way. The file is written in DuckDB's v1.5.0 storage format,
so the DuckDB 1.x tools analysts already have can open it. Nothing here needs a DuckDB extension
from the network: remote Parquet is read through the store's fsspec filesystem.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb

from pipelines.core.incremental import PART_TABLES, load_manifest
from pipelines.core.store import LockTimeout, ParquetStore, file_lock, fsync_path
from pipelines.core.tables import SCHEMAS

# The DDL is package data (the top-level `sql/` folder, installed as `pipelines.sql`): found
# through the package, so an installed copy run from any folder has it.
SQL_DIR = Path(str(resources.files("pipelines.sql")))
STORAGE_VERSION = "v1.5.0"
# Load order: a table comes after the tables its foreign keys point to.
LOAD_ORDER = (
    "documents",
    "rejected_files",
    "file_warnings",
    "entities",
    "sentences",
    "entity_mentions",
    "claims",
)
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


def committed_parts(store: ParquetStore) -> dict[str, list[str]]:
    """The part files a load reads, by table: for the incremental tables only the committed parts
    (those a manifest lists), for the others every part (each is one file, written atomically)."""
    committed = sorted(load_manifest(store).parts)
    return {
        table: list(committed) if table in PART_TABLES else store.parts(table)
        for table in LOAD_ORDER
    }


def _file_digest(store: ParquetStore, path: str) -> str:
    digest = hashlib.sha256()
    with store.fs.open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(
    store: ParquetStore, sql_dir: Path = SQL_DIR, parts: dict[str, list[str]] | None = None
) -> str:
    """What the warehouse is built from: the committed parts (named after their content, so a
    name and size stand for it), the content of the other tables' files, and the SQL."""
    parts = committed_parts(store) if parts is None else parts
    digest = hashlib.sha256()
    for table in LOAD_ORDER:
        for part in parts[table]:
            path = f"{store.table_dir(table)}/{part}.parquet"
            if table in PART_TABLES:
                stamp = str(store.fs.size(path)) if store.fs.exists(path) else "missing"
            else:
                stamp = _file_digest(store, path)
            digest.update(f"{table}/{part}:{stamp}\n".encode())
    for path in sql_files(sql_dir):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def current_fingerprint(warehouse: Path) -> str | None:
    """The fingerprint the existing warehouse was built from, if it can be read."""
    if not warehouse.exists():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            row = con.execute("select value from load_info where key = 'fingerprint'").fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


@dataclass(frozen=True)
class LoadReport:
    path: Path
    rebuilt: bool
    row_counts: dict[str, int]
    seconds: float


def _sql_list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def _check_parts_exist(store: ParquetStore, parts: dict[str, list[str]]) -> None:
    for table, names in parts.items():
        for part in names:
            if not store.fs.exists(f"{store.table_dir(table)}/{part}.parquet"):
                raise WarehouseLoadFailed(
                    f"part {part} of table {table} is committed but its file is missing from "
                    f"{store.table_dir(table)}: the Parquet store is damaged (was it written by "
                    "two runs at once, or edited by hand?); the warehouse was left as it was"
                )


def _stale_builds(warehouse: Path) -> list[Path]:
    """Temporary files of builds that were killed (only a lock holder writes them)."""
    return sorted(warehouse.parent.glob(f".{warehouse.name}.*.tmp*"))


def build(
    store: ParquetStore,
    warehouse: Path,
    sql_dir: Path = SQL_DIR,
    lock_timeout_s: float | None = None,
) -> LoadReport:
    """Build the warehouse from the committed Parquet tables unless it is already up to date."""
    started = time.monotonic()
    with load_lock(warehouse, lock_timeout_s):
        for leftover in _stale_builds(warehouse):
            leftover.unlink(missing_ok=True)
        parts = committed_parts(store)
        _check_parts_exist(store, parts)
        wanted = fingerprint(store, sql_dir, parts)
        if current_fingerprint(warehouse) == wanted:
            return LoadReport(warehouse, False, row_counts(warehouse), time.monotonic() - started)
        tmp = warehouse.with_name(f".{warehouse.name}.{uuid.uuid4().hex}.tmp")
        try:
            try:
                _write(store, tmp, wanted, parts, sql_dir)
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
    return LoadReport(warehouse, True, row_counts(warehouse), time.monotonic() - started)


def _write(
    store: ParquetStore, path: Path, wanted: str, parts: dict[str, list[str]], sql_dir: Path
) -> None:
    con = duckdb.connect()
    try:
        if not store.is_local:
            con.register_filesystem(store.fs)
        con.execute(f"ATTACH '{path}' AS wh (STORAGE_VERSION '{STORAGE_VERSION}')")
        con.execute("USE wh")
        con.execute("BEGIN TRANSACTION")
        con.execute((sql_dir / "schema.sql").read_text())
        for table in LOAD_ORDER:
            urls = [store.url(table, part) for part in parts[table]]
            if not urls:
                continue
            columns = ", ".join(SCHEMAS[table].names)
            con.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} "
                f"FROM read_parquet({_sql_list(urls)}) ORDER BY {columns.split(',')[0]}"
            )
        con.execute((sql_dir / "views.sql").read_text())
        built_at = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
        con.execute(
            "INSERT INTO load_info VALUES ('fingerprint', ?), ('built_at', ?), "
            "('storage_version', ?)",
            [wanted, built_at, STORAGE_VERSION],
        )
        con.execute("COMMIT")
        con.execute("USE memory")
        con.execute("DETACH wh")
    finally:
        con.close()


def row_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in LOAD_ORDER}


def connect_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A session that can read the warehouse and never change it."""
    if not warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run `make run` first")
    return duckdb.connect(str(warehouse), read_only=True)
