"""Where the pipeline reads and writes, from the environment (see the warehouse contract)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Paths and limits every entry point shares: `make run`, the CLI, `dagster dev` and tests."""

    seeds_dir: Path
    data_dir: Path
    parquet_url: str
    warehouse_path: Path
    max_file_bytes: int
    # the learned quote scorer on top of the rules; NEWS_QUOTE_MODEL=off keeps the rules alone
    quote_model: bool = True

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
            quote_model=quote_model_on(os.environ.get("NEWS_QUOTE_MODEL")),
        )


def quote_model_on(value: str | None) -> bool:
    """NEWS_QUOTE_MODEL: on unless "off" (or "0", "false", "no"); anything else is an error."""
    word = (value or "on").strip().lower()
    if word in ("on", "1", "true", "yes"):
        return True
    if word in ("off", "0", "false", "no"):
        return False
    raise ValueError(f"NEWS_QUOTE_MODEL must be on or off, not {value!r}")
