"""Dagster's SQLite event log, with its database connections kept open between events.

Dagster's `SqliteEventLogStorage` makes a new SQLAlchemy engine, opens the database file and
closes it again for every event it stores (and for the index database once more for an asset
event): about 5 ms an event on this project's machine, against 1.5-2 ms with the connection
kept, and a run of a few new files stores some 190 events, a full run some 210. This class keeps
one connection per database (the index and the last few runs'), and changes nothing else: the
same files, tables and schema, so the UI, the daemon and `dagster` commands read them as before,
and an instance may switch to it or back at any time.

Two things the stock class got for free from closing the file are kept:
- the UI follows a live run by watching its database file change; with a connection open,
  SQLite leaves new events in the write-ahead log until a checkpoint, so each write to a run's
  database ends with a passive checkpoint, which moves them into the file (and never waits for
  readers);
- a database file removed or replaced by another process (a wipe) is opened again, not written
  through a stale handle: the file's identity is checked before a kept connection is used.

Its configuration is the stock class's (`base_dir`); `pipelines.instance_settings` writes it
into an instance's `dagster.yaml` with Dagster's own place for it, `<instance>/history/runs`.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster._check as check
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS  # the stock class's wait
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

KEPT_RUN_DATABASES = 4  # run databases whose connection stays open, besides the index


class KeptConnectionSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with one open connection per database (see the module)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        # (engine, identity of the file it opened), most recently used last
        self._kept: OrderedDict[str, tuple[Engine, tuple[int, int]]] = OrderedDict()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> KeptConnectionSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)  # the stock class makes its own class

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:  # ty: ignore[invalid-method-override]
        with self._db_lock:  # one user at a time, as in the stock class: one connection is enough
            check.str_param(shard, "shard")
            engine = self._engine(shard)
            with engine.connect() as conn:
                sqlite = conn.connection.dbapi_connection
                changes = sqlite.total_changes
                with conn.begin():
                    yield conn
                # after a write to a run's database, its file changes now, for a watcher of the
                # run (a read, the UI's most frequent use, has nothing to move)
                if shard != INDEX_SHARD_NAME and sqlite.total_changes != changes:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def _engine(self, shard: str) -> Engine:
        """The kept engine of a database, made (and the database created) when there is none,
        or when its file is no longer the one it opened."""
        path = self.path_for_shard(shard)
        kept = self._kept.get(shard)
        if kept is not None:
            if kept[1] == _identity(path):
                self._kept.move_to_end(shard)
                return kept[0]
            self._forget(shard)
        engine = create_engine(
            self.conn_string_for_shard(shard),
            poolclass=StaticPool,  # one connection, reused; the lock above serialises its use
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        with engine.connect():  # opens the file, so that its identity is the one kept
            pass
        self._kept[shard] = (engine, _identity(path))
        runs = [s for s in self._kept if s != INDEX_SHARD_NAME]
        for old in runs[: max(0, len(runs) - KEPT_RUN_DATABASES)]:
            self._forget(old)
        return engine

    def _forget(self, shard: str) -> None:
        engine, _ = self._kept.pop(shard)
        engine.dispose()

    def _forget_all(self) -> None:
        with self._db_lock:
            for shard in list(self._kept):
                self._forget(shard)

    def wipe(self) -> None:
        self._forget_all()  # the files go: no connection may outlive them
        super().wipe()

    def dispose(self) -> None:
        self._forget_all()
        super().dispose()


def _identity(path: str) -> tuple[int, int]:
    """(device, inode) of a file, (-1, -1) when there is none."""
    try:
        stat = os.stat(path)
    except OSError:
        return (-1, -1)
    return (stat.st_dev, stat.st_ino)
