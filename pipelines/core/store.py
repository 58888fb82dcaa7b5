"""The Parquet tables: one folder per table, written atomically, on a local disk or through fsspec.

A table is every `*.parquet` file under `<root>/<table>/`. Files are written under a name that
does not end in `.parquet` and then renamed, so a reader (or a crashed run) never sees half a
file. On object storage, where a put is already atomic, the object is written in one put.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import fsspec
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.core.tables import SCHEMAS, polars_schema, to_arrow


@dataclass
class ParquetStore:
    """Read and write the tables under `root` (a path or an fsspec URL such as s3://bucket/x)."""

    root: str

    def __post_init__(self) -> None:
        self.fs, self._base = fsspec.core.url_to_fs(self.root)
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        self.is_local = "file" in protocols or "local" in protocols

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
        """Write one part atomically (temporary name, then rename)."""
        data = to_arrow(table, df)
        directory = self.table_dir(table)
        final = f"{directory}/{part}.parquet"
        if self.is_local:
            self.fs.makedirs(directory, exist_ok=True)
            tmp = f"{directory}/.{part}.{uuid.uuid4().hex}.tmp"
            pq.write_table(data, tmp, compression="zstd")
            self.fs.mv(tmp, final)
        else:
            buffer = io.BytesIO()
            pq.write_table(data, buffer, compression="zstd")
            self.fs.pipe_file(final, buffer.getvalue())

    def put_atomic(self, name: str, data: bytes) -> None:
        """Replace the file `<root>/<name>` in one step (a reader sees the old or the new one)."""
        path = f"{self._base.rstrip('/')}/{name}"
        if self.is_local:
            self.fs.makedirs(self._base, exist_ok=True)
            tmp = f"{path}.{uuid.uuid4().hex}.tmp"
            self.fs.pipe_file(tmp, data)
            self.fs.mv(tmp, path)
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

    def clean_temporaries(self, table: str) -> None:
        """Remove what a crashed writer left behind (never read, since it is not `.parquet`)."""
        directory = self.table_dir(table)
        if self.fs.exists(directory):
            for path in self.fs.ls(directory, detail=False):
                if path.rsplit("/", 1)[-1].endswith(".tmp"):
                    self.fs.rm(path)

    def read_part(self, table: str, part: str) -> pl.DataFrame:
        with self.fs.open(f"{self.table_dir(table)}/{part}.parquet", "rb") as f:
            return pl.from_arrow(pq.read_table(f).cast(SCHEMAS[table]))  # type: ignore[return-value]

    def read(self, table: str, columns: list[str] | None = None) -> pl.DataFrame:
        """The whole table (empty, with its schema, when nothing was written yet)."""
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

    def scan(self, table: str) -> pl.LazyFrame:
        """A lazy frame over the table, for aggregations that need not hold it in memory."""
        if not self.parts(table):
            return pl.DataFrame(schema=polars_schema(table)).lazy()
        if self.is_local:
            return pl.scan_parquet(f"{self.table_dir(table)}/*.parquet")
        return pl.concat([self.read_part(table, p).lazy() for p in self.parts(table)])
