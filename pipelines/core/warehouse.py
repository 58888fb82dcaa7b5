"""The DuckDB warehouse: loaded from the lake into a new file, then swapped in.

Building a new file and renaming it over the old one means an analyst's open read-only session
keeps the snapshot it opened and never blocks a load, and nobody ever sees a half-loaded
warehouse: the new file is filled, flushed to disk, and only then renamed over the old one (a
killed build leaves a temporary file, removed by the next load, and the old warehouse as it was).

A load reads one version of every lake table (their latest when it starts) and records them in
`load_info` (`lake_version.<table>`): the lake as that warehouse saw it. DuckDB reads the Parquet
files that version's Delta log lists (`Lake.files`), never a glob of the folder. When the
warehouse was built from older versions of the same lake, the load is incremental: the old file
is copied, and for a table keyed by document only the documents whose rows differ between the
files that the log added and removed since are deleted and inserted again (cost: the changed
documents, plus reading those files and copying the warehouse file); a table written whole is
reloaded only when its version moved. Loads are serialised by an
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
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.core import search
from pipelines.core.store import Lake, LockTimeout, file_lock, fsync_path
from pipelines.core.tables import DESCRIPTIONS, SCHEMAS

# The DDL is package data (the top-level `sql/` folder, installed as `pipelines.sql`): found
# through the package, so an installed copy run from any folder has it.
SQL_DIR = Path(str(resources.files("pipelines.sql")))
STORAGE_VERSION = "v1.5.0"


@dataclass(frozen=True)
class TableLoad:
    """One warehouse table and how it is loaded from the lake: from the lake table `source`
    (default the same name) with `select` (SQL over `{files}`, a `read_parquet` of the table's
    current files, giving the table's columns; default every column).

    `by_document`: its rows are keyed by `doc_id` (in the lake too), so a load replaces the
    rows of the documents whose files changed only. `key`: other tables point to it by this
    column, so its rows are updated in place rather than deleted and inserted again. A table
    that is neither is dropped and loaded whole when its version moved."""

    table: str
    by_document: bool = False
    key: str | None = None
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
    TableLoad("documents", by_document=True, key="doc_id"),
    TableLoad("rejected_files"),
    TableLoad("file_warnings"),
    TableLoad("entities", key="entity_id"),
    TableLoad("sentences", by_document=True),
    TableLoad("entity_mentions", by_document=True),
    TableLoad("claims", by_document=True),
    # --- stories and quote groups (issue 14): corpus-wide decisions, applied by `_decide` ---
    TableLoad("document_stories"),
    TableLoad("quote_groups"),
)
LOAD_ORDER = tuple(load.table for load in LOADS)
# The tables the search index is made of (each loaded by document).
SEARCHED = frozenset(index.source for index in search.INDEXES)
# The columns the stories step decides for the whole corpus: (table, key, decision table,
# columns, default). A copy arriving can change the story of articles that did not change, so
# these are set for every row after each load, full or incremental.
DECISIONS = (
    ("documents", "doc_id", "document_stories", ("story_id", "duplicate_of"), "doc_id"),
    ("claims", "claim_id", "quote_groups", ("quote_group_id",), None),
)


DEFAULT_LOCK_TIMEOUT_S = 600.0


def _decide(con: duckdb.DuckDBPyConnection, index: bool = True, scope: str | None = None) -> None:
    """Set the decided columns from their decision tables (the default where none is there)
    on the rows where they differ, then bring the search index up to date with the rows loaded
    (`pipelines.core.search`: only the documents whose indexed text changed), unless `index` is
    false (the tables it is built from did not change); `scope` names the documents whose
    indexed rows a load may have changed (see `search.update_index`)."""
    for table, key, decision, columns, default in DECISIONS:
        values = [
            f"coalesce(d.{c}, t.{default}) AS {c}" if i == 0 and default else f"d.{c} AS {c}"
            for i, c in enumerate(columns)
        ]
        differs = " OR ".join(f"{table}.{c} IS DISTINCT FROM n.{c}" for c in columns)
        con.execute(
            f"UPDATE {table} SET {', '.join(f'{c} = n.{c}' for c in columns)} "
            f"FROM (SELECT t.{key}, {', '.join(values)} "
            f"FROM {table} t LEFT JOIN {decision} d USING ({key})) n "
            f"WHERE {table}.{key} = n.{key} AND ({differs})"
        )
    if index:
        search.update_index(con, scope)


class WarehouseBusy(LockTimeout):
    """Another load holds the warehouse lock for longer than we wait."""


class WarehouseLoadFailed(RuntimeError):
    """The new warehouse could not be built; the old one was left as it was."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


@contextlib.contextmanager
def load_lock(warehouse: Path, timeout_s: float | None = None) -> Iterator[None]:
    """Hold the warehouse's load lock; wait for another loader, up to `timeout_s`."""
    timeout = DEFAULT_LOCK_TIMEOUT_S if timeout_s is None else timeout_s
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
    """What a warehouse is built by besides the lake (a change builds it anew): its DDL, views,
    search macros and the words the search index leaves out."""
    names = ("schema.sql", "views.sql", "search.sql", search.STOP_WORDS_FILE.name)
    return [sql_dir / name for name in names]


def sql_digest(sql_dir: Path = SQL_DIR) -> str:
    digest = hashlib.sha256()
    for path in sql_files(sql_dir):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def table_ddl(sql_dir: Path = SQL_DIR) -> dict[str, str]:
    """Each table's `CREATE TABLE` statement in schema.sql, by table."""
    text = (sql_dir / "schema.sql").read_text()
    return {
        m.group(1): m.group(0) for m in re.finditer(r"CREATE TABLE (\w+) \((?:.|\n)*?\n\);", text)
    }


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
                warehouse,
                False,
                row_counts(warehouse),
                time.monotonic() - started,
                versions=versions,
            )
        previous = None if full else _previous_versions(info, lake, sql_dir)
        tmp = warehouse.with_name(f".{warehouse.name}.{uuid.uuid4().hex}.tmp")
        try:
            try:
                changed = None
                if previous is not None:
                    shutil.copyfile(warehouse, tmp)
                    changed = _update(lake, tmp, wanted, versions, previous, sql_dir)
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

        # a new instance: a cached one may hold an endpoint from before the environment changed
        protocol = lake.root.split("://", 1)[0]
        con.register_filesystem(fsspec.filesystem(protocol, skip_instance_cache=True))
    return con


def _describe(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """The contract's description of each column, so that `duckdb_columns()` lists it."""
    for column, text in DESCRIPTIONS.get(table, {}).items():
        if column in SCHEMAS[table].names:
            quoted = text.replace("'", "''")
            con.execute(f"COMMENT ON COLUMN {table}.{column} IS '{quoted}'")


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
            _describe(con, load.table)
            files = _files(lake, load.lake_table, versions[load.lake_table])
            if not files:
                continue
            columns = ", ".join(SCHEMAS[load.table].names)
            con.execute(
                f"INSERT INTO {load.table} ({columns}) SELECT * FROM "
                f"({load.query(_sql_list(files))}) ORDER BY {columns.split(',')[0]}"
            )
        _decide(con)
        con.execute((sql_dir / "views.sql").read_text())
        con.executemany(
            "INSERT INTO load_info VALUES (?, ?)", _info_rows(lake, wanted, versions, "full")
        )
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
    sql_dir: Path = SQL_DIR,
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
        except Exception:
            return None
        after = set(_files(lake, source, new))
        plans.append((load, sorted(after - before), sorted(before - after)))
    for load, _added, removed in plans:
        if load.by_document and not all(_exists(lake, f) for f in removed):
            return None  # vacuumed: build in full
    con = _connect(lake)
    try:
        con.execute(f"ATTACH '{path}' AS wh")
        con.execute("USE wh")
        try:
            changed = _apply(con, lake, plans, versions, table_ddl(sql_dir))
            # the index is words of sentences and claims: a metadata change keeps it
            indexed = [load.table for load, _a, _r in plans if load.table in SEARCHED]
            if indexed:  # the documents whose indexed rows may have changed
                con.execute(
                    "CREATE TEMP TABLE _search_scope AS "
                    + " UNION ".join(f"SELECT doc_id FROM changed_{t}" for t in indexed)
                )
            _decide(con, index=bool(indexed), scope="_search_scope")
        except duckdb.ConstraintException:
            # a key the change would leave dangling (the lake's tables were written by
            # something that does not keep their order): build in full, which checks them all
            return None
        con.execute("DELETE FROM load_info")
        con.executemany(
            "INSERT INTO load_info VALUES (?, ?)", _info_rows(lake, wanted, versions, "incremental")
        )
        con.execute("CHECKPOINT")
        con.execute("USE memory")
        con.execute("DETACH wh")
    finally:
        con.close()
    return changed


def _apply(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    plans: list[tuple[TableLoad, list[str], list[str]]],
    versions: dict[str, int | None],
    ddl: dict[str, str],
) -> int:
    """The changes, one statement a transaction (DuckDB checks a foreign key against what is
    committed; the copy is not the warehouse until it is renamed, so nobody sees it half done).
    A table keyed by document loses the rows of the documents whose rows differ between the
    files its log added and removed, and gets their rows from the added files; `documents`
    itself is updated in place (its rows are what every other table points to); a whole table
    is dropped and loaded again (far quicker than deleting every row). Returns how many
    documents changed."""
    changed: set[str] = set()
    for load, added, removed in plans:
        files = (
            added if load.by_document else _files(lake, load.lake_table, versions[load.lake_table])
        )
        empty = f"SELECT * FROM {load.table} LIMIT 0"
        con.execute(
            f"CREATE TEMP TABLE new_{load.table} AS "
            + (load.query(_sql_list(files)) if files else empty)
        )
        if load.by_document:
            _changed_documents(con, load, removed)
            found = con.execute(f"SELECT doc_id FROM changed_{load.table}").fetchall()
            changed |= {r[0] for r in found}
    for load, _added, _removed in reversed(plans):  # children first
        if load.key:  # the rows gone for good
            scope = (
                f" AND doc_id IN (SELECT doc_id FROM changed_{load.table})"
                if load.by_document
                else ""
            )
            con.execute(
                f"DELETE FROM {load.table} WHERE {load.key} NOT IN "
                f"(SELECT {load.key} FROM new_{load.table}){scope}"
            )
        elif load.by_document:
            con.execute(
                f"DELETE FROM {load.table} WHERE doc_id IN "
                f"(SELECT doc_id FROM changed_{load.table})"
            )
        else:
            con.execute(f"DROP TABLE {load.table}")
    for load, _added, _removed in plans:  # parents first
        names = SCHEMAS[load.table].names
        columns = ", ".join(names)
        if load.key:  # in place: what points to a row keeps pointing to it
            # DuckDB updates a list column by deleting and inserting the row, which the rows
            # pointing to it forbid: the other columns first, and a list column only where it
            # differs (a changed `authors` then builds the warehouse in full)
            others = [c for c in names if c != load.key]
            lists = {f.name for f in SCHEMAS[load.table] if pa.types.is_list(f.type)}
            for group in ([c for c in others if c not in lists], *([c] for c in sorted(lists))):
                if not group:
                    continue
                differs = " OR ".join(f"t.{c} IS DISTINCT FROM n.{c}" for c in group)
                con.execute(
                    f"UPDATE {load.table} t SET {', '.join(f'{c} = n.{c}' for c in group)} "
                    f"FROM new_{load.table} n WHERE t.{load.key} = n.{load.key} AND ({differs})"
                )
            con.execute(
                f"INSERT INTO {load.table} ({columns}) SELECT {columns} FROM new_{load.table} "
                f"WHERE {load.key} NOT IN (SELECT {load.key} FROM {load.table})"
            )
            continue
        if not load.by_document:
            con.execute(ddl[load.table])
            _describe(con, load.table)
        con.execute(f"INSERT INTO {load.table} ({columns}) SELECT {columns} FROM new_{load.table}")
    return len(changed)


def _changed_documents(con: duckdb.DuckDBPyConnection, load: TableLoad, removed: list[str]) -> None:
    """`changed_<table>`: the documents whose rows in the files the log added (`new_<table>`)
    differ from their rows in the files it removed, the only ones a load replaces; `new_<table>`
    keeps only their rows. Delta replaces files, not rows: a few documents' new mentions rewrite
    the file that held them with every other document it holds, unchanged."""
    table = load.table
    if not removed:
        con.execute(f"CREATE TEMP TABLE changed_{table} AS SELECT DISTINCT doc_id FROM new_{table}")
        return
    con.execute(f"CREATE TEMP TABLE old_{table} AS " + load.query(_sql_list(removed)))
    con.execute(
        f"CREATE TEMP TABLE changed_{table} AS "
        f"SELECT doc_id FROM (FROM new_{table} EXCEPT FROM old_{table}) "
        f"UNION SELECT doc_id FROM (FROM old_{table} EXCEPT FROM new_{table})"
    )
    con.execute(f"DELETE FROM new_{table} WHERE doc_id NOT IN (FROM changed_{table})")
    con.execute(f"DROP TABLE old_{table}")


def _exists(lake: Lake, uri: str) -> bool:
    if lake.is_local:
        return os.path.exists(uri)
    import fsspec

    fs, path = fsspec.core.url_to_fs(uri, skip_instance_cache=True)
    return fs.exists(path)


def row_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in LOAD_ORDER}


def parse_as_of(text: str) -> int | datetime:
    """`--as-of`: a version number, or a time (ISO 8601; without a zone, UTC)."""
    if text.strip().isdigit():
        return int(text)
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def lake_as_of(lake: Lake, as_of: int | datetime) -> dict[str, int | None]:
    """The version of every loaded lake table at `as_of`: at a time, each table's version
    current then; at a number N, the moment version N of `committed_documents` (the commit point
    of each batch, see `pipelines.core.incremental`) was committed. None: the table did not
    exist yet."""
    if isinstance(as_of, int):
        point = lake.table("committed_documents")
        if point is None:
            raise ValueError(f"the lake at {lake.root} has no committed documents yet")
        stamps = {c["version"]: c["timestamp"] for c in point.history()}
        if as_of not in stamps:
            raise ValueError(
                f"the lake has versions {min(stamps)} to {max(stamps)} (of committed_documents)"
            )
        as_of = datetime.fromtimestamp(stamps[as_of] / 1000, UTC)
    versions: dict[str, int | None] = {}
    for load in LOADS:
        try:
            dt = lake.table(load.lake_table, as_of)
        except Exception:
            dt = None
        versions[load.lake_table] = None if dt is None else dt.version()
    return versions


def connect_lake(lake: Lake, versions: dict[str, int | None]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session whose tables are views over these versions of the lake's
    tables (the files their logs list), and the warehouse's views over them."""
    con = _connect(lake)
    for load in LOADS:
        files = _files(lake, load.lake_table, versions[load.lake_table])
        if files:
            con.execute(f"CREATE VIEW {load.table} AS {load.query(_sql_list(files))}")
        else:  # not there yet: empty, with its columns
            nulls = ", ".join(
                f"NULL::{_duck_type(f.type)} AS {f.name}" for f in SCHEMAS[load.table]
            )
            con.execute(f"CREATE VIEW {load.table} AS SELECT {nulls} WHERE false")
    views = (SQL_DIR / "views.sql").read_text()
    con.execute(views)
    return con


def _duck_type(arrow_type) -> str:
    if pa.types.is_list(arrow_type):
        return "VARCHAR[]"
    return {
        "string": "VARCHAR",
        "int32": "INTEGER",
        "int64": "BIGINT",
        "double": "DOUBLE",
        "bool": "BOOLEAN",
        "timestamp[us]": "TIMESTAMP",
    }[str(arrow_type)]
