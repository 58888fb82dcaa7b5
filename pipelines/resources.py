"""Dagster resources: where the pipeline reads and writes, and the warehouse.

Every field defaults to the environment (`NEWS_SEEDS_DIR`, `NEWS_DATA_DIR`, `NEWS_PARQUET_URL`,
`NEWS_WAREHOUSE_PATH`, `NEWS_MAX_FILE_BYTES`), so `make run`, `dagster dev` and the tests agree;
a deployment can also set them in the run config, without changing code.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.core import warehouse
from pipelines.core.settings import Settings
from pipelines.core.store import ParquetStore


class NewsStorage(dg.ConfigurableResource):
    """The seeds folder, the Parquet tables and the parallelism of the NLP step."""

    seeds_dir: str | None = None
    parquet_url: str | None = None
    max_file_bytes: int | None = None
    n_workers: int = int(os.environ.get("NEWS_WORKERS", "0") or 0)  # 0: one per core
    batch_size: int = int(os.environ.get("NEWS_BATCH_SIZE", "200") or 200)

    def settings(self) -> Settings:
        env = Settings.from_env()
        return Settings(
            seeds_dir=Path(self.seeds_dir) if self.seeds_dir else env.seeds_dir,
            data_dir=env.data_dir,
            parquet_url=self.parquet_url or env.parquet_url,
            warehouse_path=env.warehouse_path,
            max_file_bytes=self.max_file_bytes or env.max_file_bytes,
        )

    def store(self) -> ParquetStore:
        return ParquetStore(self.settings().parquet_url)

    def workers(self) -> int:
        return self.n_workers or max(1, min(2, os.cpu_count() or 1))


class DuckDBWarehouse(dg.ConfigurableResource):
    """The warehouse file: built by one step only, read by everyone else read-only."""

    path: str | None = None

    def file(self) -> Path:
        return Path(self.path) if self.path else Settings.from_env().warehouse_path

    def build(self, store: ParquetStore) -> warehouse.LoadReport:
        return warehouse.build(store, self.file())

    def connect_read_only(self) -> duckdb.DuckDBPyConnection:
        return warehouse.connect_read_only(self.file())
