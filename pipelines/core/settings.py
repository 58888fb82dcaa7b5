"""Where the pipeline reads and writes, from the environment (see the warehouse contract)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_JSONL_BYTES = 1 << 30  # a `.jsonl` file of articles, read line by line


@dataclass(frozen=True)
class Settings:
    """Paths and limits every entry point shares: `make run`, the CLI, `dagster dev` and tests."""

    seeds_dir: Path
    data_dir: Path
    parquet_url: str
    warehouse_path: Path
    max_file_bytes: int
    max_jsonl_bytes: int = DEFAULT_MAX_JSONL_BYTES

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("NEWS_DATA_DIR") or "data")
        return cls(
            seeds_dir=Path(os.environ.get("NEWS_SEEDS_DIR") or "seeds"),
            data_dir=data_dir,
            parquet_url=os.environ.get("NEWS_PARQUET_URL") or str(data_dir / "parquet"),
            warehouse_path=Path(
                os.environ.get("NEWS_WAREHOUSE_PATH") or data_dir / "warehouse.duckdb"
            ),
            max_file_bytes=int(os.environ.get("NEWS_MAX_FILE_BYTES") or DEFAULT_MAX_FILE_BYTES),
            max_jsonl_bytes=int(os.environ.get("NEWS_MAX_JSONL_BYTES") or DEFAULT_MAX_JSONL_BYTES),
        )
