"""Dagster resources: where the pipeline reads and writes, and the warehouse.

Every field defaults to the environment (`NEWS_SEEDS_DIR`, `NEWS_DATA_DIR`, `NEWS_LAKE_URL`,
`NEWS_WAREHOUSE_PATH`, `NEWS_MAX_FILE_BYTES`, `NEWS_LAKE_RETENTION_HOURS`), read once when a step
asks for its settings and handed down as values, so `make run`, `dagster dev` and the tests agree;
a deployment can also set them in the run config, without changing code.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from pipelines.core import sessions, warehouse
from pipelines.core.settings import Settings
from pipelines.core.store import Lake


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


class NewsStorage(dg.ConfigurableResource):
    """The seeds folder, the lake and the parallelism of the NLP step."""

    seeds_dir: str | None = None
    lake_url: str | None = None
    max_file_bytes: int | None = None
    n_workers: int | None = Field(
        default=None,
        description="Processes that parse (each loads the model once, about 0.5 GB); 0 or "
        "unset: one per core, at most 8 (env NEWS_WORKERS).",
    )
    batch_size: int | None = Field(
        default=None,
        description="Documents per committed batch: a killed run loses at most the batches in "
        "flight (env NEWS_BATCH_SIZE, default 500).",
    )
    task_size: int | None = Field(
        default=None,
        description="Documents handed to a worker at a time: small, so that every core stays "
        "busy to the end (env NEWS_TASK_SIZE, default 16).",
    )
    parallel_from: int | None = Field(
        default=None,
        description="Below this many documents to parse, parse in the run's own process: "
        "starting workers and their models costs more than it saves (env NEWS_PARALLEL_FROM, "
        "default 64).",
    )

    def settings(self) -> Settings:
        env = Settings.from_env()
        return Settings(
            seeds_dir=Path(self.seeds_dir) if self.seeds_dir else env.seeds_dir,
            data_dir=env.data_dir,
            lake_url=self.lake_url or env.lake_url,
            warehouse_path=env.warehouse_path,
            max_file_bytes=self.max_file_bytes or env.max_file_bytes,
            quote_model=env.quote_model,
            max_jsonl_bytes=env.max_jsonl_bytes,
            retention_hours=env.retention_hours,
            lock_dir=env.lock_dir,
            shard_lock_timeout_s=env.shard_lock_timeout_s,
            warehouse_lock_timeout_s=env.warehouse_lock_timeout_s,
            keep_parses=env.keep_parses,
            extraction_salt=env.extraction_salt,
        )

    def lake(self, settings: Settings | None = None) -> Lake:
        settings = settings or self.settings()
        return Lake(
            settings.lake_url, retention_hours=settings.retention_hours, lock_dir=settings.lock_dir
        )

    def store(self) -> Lake:  # the old name
        return self.lake()

    def workers(self) -> int:
        """How many processes parse (the env is read when the run starts, not at import)."""
        return self.n_workers or _env_int("NEWS_WORKERS", 0) or max(1, min(8, os.cpu_count() or 1))

    def part_size(self) -> int:
        return self.batch_size or _env_int("NEWS_BATCH_SIZE", 500)

    def task_docs(self) -> int:
        return self.task_size or _env_int("NEWS_TASK_SIZE", 16)

    def parallel_threshold(self) -> int:
        return self.parallel_from or _env_int("NEWS_PARALLEL_FROM", 64)


class DuckDBWarehouse(dg.ConfigurableResource):
    """The warehouse file: built by one step only, read by everyone else read-only."""

    path: str | None = None

    def file(self) -> Path:
        return Path(self.path) if self.path else Settings.from_env().warehouse_path

    def build(self, lake: Lake) -> warehouse.LoadReport:
        """Load the warehouse (waiting NEWS_WAREHOUSE_LOCK_TIMEOUT for another load)."""
        settings = Settings.from_env()
        path = Path(self.path) if self.path else settings.warehouse_path
        return warehouse.build(lake, path, lock_timeout_s=settings.warehouse_lock_timeout_s)

    def connect_read_only(self) -> duckdb.DuckDBPyConnection:
        return sessions.connect_read_only(self.file())
