"""The Parquet tables: one folder per table, written atomically, on a local disk or through fsspec.

A table is every `*.parquet` file under `<root>/<table>/`. Files are written under a name that
does not end in `.parquet` (`.<name>.<pid>-<random>.tmp`), flushed to disk, and then renamed, so
a reader (or a crashed run) never sees half a file. A killed writer's temporary file is removed
by a later run once its process is gone. On object storage, where a put is already atomic, the
object is written in one put.

`file_lock` is the one locking primitive: an exclusive `flock` on a local file that the kernel
releases when its holder exits, even by `kill -9`, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import fsspec
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.core.tables import SCHEMAS, polars_schema, to_arrow

_TMP = re.compile(r"\.(?P<pid>\d+)-[0-9a-f]{32}\.tmp$")


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


def _tmp_path(final: str) -> str:
    """A temporary name beside `final` that no reader takes for a table file."""
    directory, _, name = final.rpartition("/")
    return f"{directory}/.{name}.{os.getpid()}-{uuid.uuid4().hex}.tmp"


def fsync_path(path: str | os.PathLike[str]) -> None:
    """Flush a file or a folder (a rename is durable once its folder is flushed)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace_durably(tmp: str, final: str) -> None:
    """Rename a written temporary file over `final`, with the file and the rename on disk."""
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, final)
    fsync_path(os.path.dirname(final) or ".")


def _writer_gone(name: str) -> bool:
    """Whether the process that wrote this temporary file has exited (so it is garbage)."""
    match = _TMP.search(name)
    if match is None:
        return name.endswith(".tmp")  # an older naming: no owner to wait for
    pid = int(match["pid"])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class ParquetStore:
    """Read and write the tables under `root` (a path or an fsspec URL such as s3://bucket/x)."""

    root: str

    def __post_init__(self) -> None:
        self.fs, self._base = fsspec.core.url_to_fs(self.root)
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        self.is_local = "file" in protocols or "local" in protocols

    def lock(self, name: str, timeout_s: float, purpose: str) -> contextlib.AbstractContextManager:
        """An exclusive lock named `name` on these tables (see `file_lock`), e.g. one per shard
        for the runs that write it. For a local store the lock file is `<root>/.locks/<name>`;
        for object storage it is a file on this machine (NEWS_LOCK_DIR, default the temporary
        folder), so it serialises the runs of one machine only: runs on several machines must
        not write the same shard at once (give each machine its own shards)."""
        if self.is_local:
            folder = Path(self._base) / ".locks"
        else:
            key = hashlib.sha256(self.root.encode()).hexdigest()[:16]
            folder = Path(os.environ.get("NEWS_LOCK_DIR") or tempfile.gettempdir()) / (
                f"news-locks-{key}"
            )
        return file_lock(folder / f"{name}.lock", timeout_s, purpose)

    def table_dir(self, table: str) -> str:
        return f"{self._base.rstrip('/')}/{table}"

    def url(self, table: str, part: str | None = None) -> str:
        """The table's (or one part's) address as given to `root`'s protocol."""
        path = self.table_dir(table) if part is None else f"{self.table_dir(table)}/{part}.parquet"
        return self.fs.unstrip_protocol(path) if not self.is_local else path

    def parts(self, table: str) -> list[str]:
        """The names (without `.parquet`) of the table's part files."""
        directory = self.table_dir(table)
        if not self.fs.exists(directory):
            return []
        names = [p.rsplit("/", 1)[-1] for p in self.fs.ls(directory, detail=False)]
        return sorted(n[: -len(".parquet")] for n in names if n.endswith(".parquet"))

    def write(self, table: str, part: str, df: pl.DataFrame) -> None:
        """Write one part atomically (temporary name, flushed to disk, then renamed)."""
        data = to_arrow(table, df)
        directory = self.table_dir(table)
        final = f"{directory}/{part}.parquet"
        if self.is_local:
            os.makedirs(directory, exist_ok=True)
            tmp = _tmp_path(final)
            try:
                pq.write_table(data, tmp, compression="zstd")
                _replace_durably(tmp, final)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        else:
            buffer = io.BytesIO()
            pq.write_table(data, buffer, compression="zstd")
            self.fs.pipe_file(final, buffer.getvalue())

    def put_atomic(self, name: str, data: bytes) -> None:
        """Replace the file `<root>/<name>` in one step (a reader sees the old or the new one)."""
        path = f"{self._base.rstrip('/')}/{name}"
        if self.is_local:
            os.makedirs(self._base, exist_ok=True)
            tmp = _tmp_path(path)
            try:
                with open(tmp, "wb") as handle:
                    handle.write(data)
                _replace_durably(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        else:
            self.fs.pipe_file(path, data)

    def get(self, name: str) -> bytes | None:
        """The file `<root>/<name>`, or None when there is none."""
        path = f"{self._base.rstrip('/')}/{name}"
        return self.fs.cat_file(path) if self.fs.exists(path) else None

    def delete(self, table: str, part: str) -> None:
        path = f"{self.table_dir(table)}/{part}.parquet"
        if self.fs.exists(path):
            self.fs.rm(path)

    def clean_temporaries(self, table: str | None = None) -> int:
        """Remove what killed writers left behind in a table's folder (or, with no table, beside
        the tables); returns how many. Never read anyway, since they do not end in `.parquet`;
        a temporary file whose writer is still running is left alone."""
        if not self.is_local:
            return 0  # one put per object: nothing temporary is ever written
        directory = self.table_dir(table) if table else self._base
        removed = 0
        if os.path.isdir(directory):
            for entry in os.scandir(directory):
                if entry.is_file() and _writer_gone(entry.name):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed += 1
        return removed

    def clean_all_temporaries(self) -> int:
        """`clean_temporaries` for every table folder and the root."""
        removed = self.clean_temporaries()
        if self.is_local and os.path.isdir(self._base):
            for entry in os.scandir(self._base):
                if entry.is_dir():
                    removed += self.clean_temporaries(entry.name)
        return removed

    def read_part(self, table: str, part: str) -> pl.DataFrame:
        with self.fs.open(f"{self.table_dir(table)}/{part}.parquet", "rb") as f:
            return pl.from_arrow(pq.read_table(f).cast(SCHEMAS[table]))  # type: ignore[return-value]

    def read(self, table: str, columns: list[str] | None = None) -> pl.DataFrame:
        """The whole table (empty, with its schema, when it has no part)."""
        frames = []
        for part in self.parts(table):
            with self.fs.open(f"{self.table_dir(table)}/{part}.parquet", "rb") as f:
                frames.append(pq.read_table(f, columns=columns))
        if not frames:
            empty = pl.DataFrame(schema=polars_schema(table))
            return empty.select(columns) if columns else empty
        data = pa.concat_tables(frames)
        schema = SCHEMAS[table]
        if columns:
            schema = pa.schema([schema.field(c) for c in columns])
        return pl.from_arrow(data.cast(schema))  # type: ignore[return-value]

    def scan(self, table: str, parts: Iterable[str] | None = None) -> pl.LazyFrame:
        """A lazy frame over the table (or the given parts), for aggregations that need not
        hold it in memory."""
        names = self.parts(table) if parts is None else list(parts)
        if not names:
            return pl.DataFrame(schema=polars_schema(table)).lazy()
        if self.is_local and parts is None:
            return pl.scan_parquet(f"{self.table_dir(table)}/*.parquet")
        if self.is_local:
            return pl.scan_parquet([f"{self.table_dir(table)}/{p}.parquet" for p in names])
        return pl.concat([self.read_part(table, p).lazy() for p in names])
