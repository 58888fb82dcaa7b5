"""The DuckDB warehouse: built from the Parquet tables into a new file, then swapped in.

Building a fresh file and renaming it over the old one means an analyst's open read-only session
keeps the snapshot it opened and never blocks a load, and nobody ever sees a half-loaded
warehouse. Loads are serialised by an exclusive file lock beside the warehouse; a second loader
waits for it. The file is written in DuckDB's v1.5.0 storage format, so the DuckDB 1.x tools
analysts already have can open it. Nothing here needs a DuckDB extension from the network:
remote Parquet is read through the store's fsspec filesystem.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.core.store import ParquetStore
from pipelines.core.tables import SCHEMAS

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
STORAGE_VERSION = "v1.5.0"
# Load order: a table comes after the tables its foreign keys point to.
LOAD_ORDER = ("documents", "rejected_files", "entities", "sentences", "entity_mentions", "claims")


class WarehouseBusy(RuntimeError):
    """Another load holds the warehouse lock for longer than we wait."""


@contextlib.contextmanager
def load_lock(warehouse: Path, timeout_s: float = 600.0) -> Iterator[None]:
    """Hold the warehouse's load lock; wait for another loader, up to `timeout_s`."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with open(warehouse.with_name(warehouse.name + ".lock"), "w") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WarehouseBusy(
                        f"another run has been loading {warehouse} for over {timeout_s:.0f} s"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sql_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    return [sql_dir / "schema.sql", sql_dir / "views.sql"]


def fingerprint(store: ParquetStore, sql_dir: Path = SQL_DIR) -> str:
    """What the warehouse is built from: every part file's name and size, and the SQL."""
    digest = hashlib.sha256()
    for table in LOAD_ORDER:
        for part in store.parts(table):
            size = store.fs.size(f"{store.table_dir(table)}/{part}.parquet")
            digest.update(f"{table}/{part}:{size}\n".encode())
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


def _part_urls(store: ParquetStore, table: str) -> list[str]:
    return [store.url(table, part) for part in store.parts(table)]


def build(store: ParquetStore, warehouse: Path, sql_dir: Path = SQL_DIR) -> LoadReport:
    """Build the warehouse from the Parquet tables unless it is already up to date."""
    started = time.monotonic()
    with load_lock(warehouse):
        wanted = fingerprint(store, sql_dir)
        if current_fingerprint(warehouse) == wanted:
            return LoadReport(warehouse, False, row_counts(warehouse), time.monotonic() - started)
        tmp = warehouse.with_name(f".{warehouse.name}.{uuid.uuid4().hex}.tmp")
        try:
            _write(store, tmp, wanted, sql_dir)
            os.replace(tmp, warehouse)
        finally:
            for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                leftover.unlink(missing_ok=True)
    return LoadReport(warehouse, True, row_counts(warehouse), time.monotonic() - started)


def _write(store: ParquetStore, path: Path, wanted: str, sql_dir: Path) -> None:
    con = duckdb.connect()
    try:
        if not store.is_local:
            con.register_filesystem(store.fs)
        con.execute(f"ATTACH '{path}' AS wh (STORAGE_VERSION '{STORAGE_VERSION}')")
        con.execute("USE wh")
        con.execute("BEGIN TRANSACTION")
        con.execute((sql_dir / "schema.sql").read_text())
        for table in LOAD_ORDER:
            urls = _part_urls(store, table)
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
