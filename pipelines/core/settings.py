"""Where the pipeline reads and writes, from the environment (see the warehouse contract).

`Settings.from_env()` is called once per entry point (a run's resources, the command line, a
script) and the values are handed down: nothing below it reads a `NEWS_*` variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
DEFAULT_RETENTION_HOURS = 168
DEFAULT_MAX_JSONL_BYTES = 1 << 30  # a `.jsonl` file of articles, read line by line


class SettingsError(ValueError):
    """A setting that cannot be used; the message says which and what to do."""


@dataclass(frozen=True)
class Settings:
    """Paths and limits every entry point shares: `make run`, the CLI, `dagster dev` and tests."""

    seeds_dir: Path
    data_dir: Path
    lake_url: str
    warehouse_path: Path
    max_file_bytes: int
    # the learned quote scorer on top of the rules; NEWS_QUOTE_MODEL=off keeps the rules alone
    quote_model: bool = True
    retention_hours: int = DEFAULT_RETENTION_HOURS
    lock_dir: Path | None = None  # an object-store lake's local locks (default: the temp folder)
    shard_lock_timeout_s: float = 600.0
    warehouse_lock_timeout_s: float = 600.0
    max_jsonl_bytes: int = DEFAULT_MAX_JSONL_BYTES
    # each document's parse kept in the lake (`document_parses`) so that a change of the
    # extraction code re-extracts without parsing again; NEWS_KEEP_PARSES=off keeps none
    keep_parses: bool = True
    # mixed into the extraction version (NEWS_EXTRACTION_SALT): a new value re-extracts every
    # document as a change of the extraction code would (benchmarks, or an operator's redo)
    extraction_salt: str = ""

    @property
    def old_parquet_dir(self) -> Path:
        """Where the lake was kept before it was a Delta lake (moved on the first run)."""
        return self.data_dir / "parquet"

    @classmethod
    def from_env(cls) -> Settings:
        if os.environ.get("NEWS_PARQUET_URL"):
            raise SettingsError(
                "NEWS_PARQUET_URL is no longer read: the lake is a set of Delta Lake tables "
                "now; set NEWS_LAKE_URL instead (a local path or an object-store URL such as "
                "s3://bucket/prefix; default <NEWS_DATA_DIR>/lake) and unset NEWS_PARQUET_URL"
            )
        data_dir = Path(os.environ.get("NEWS_DATA_DIR") or "data")
        return cls(
            seeds_dir=Path(os.environ.get("NEWS_SEEDS_DIR") or "seeds"),
            data_dir=data_dir,
            lake_url=os.environ.get("NEWS_LAKE_URL") or str(data_dir / "lake"),
            warehouse_path=Path(
                os.environ.get("NEWS_WAREHOUSE_PATH") or data_dir / "warehouse.duckdb"
            ),
            max_file_bytes=int(os.environ.get("NEWS_MAX_FILE_BYTES") or DEFAULT_MAX_FILE_BYTES),
            quote_model=quote_model_on(os.environ.get("NEWS_QUOTE_MODEL")),
            retention_hours=int(
                os.environ.get("NEWS_LAKE_RETENTION_HOURS") or DEFAULT_RETENTION_HOURS
            ),
            lock_dir=Path(os.environ["NEWS_LOCK_DIR"]) if os.environ.get("NEWS_LOCK_DIR") else None,
            shard_lock_timeout_s=float(os.environ.get("NEWS_SHARD_LOCK_TIMEOUT") or 600),
            warehouse_lock_timeout_s=float(os.environ.get("NEWS_WAREHOUSE_LOCK_TIMEOUT") or 600),
            max_jsonl_bytes=int(os.environ.get("NEWS_MAX_JSONL_BYTES") or DEFAULT_MAX_JSONL_BYTES),
            keep_parses=on_or_off("NEWS_KEEP_PARSES", os.environ.get("NEWS_KEEP_PARSES")),
            extraction_salt=extraction_salt(),
        )


def quote_model_on(value: str | None) -> bool:
    """NEWS_QUOTE_MODEL: on unless "off" (or "0", "false", "no"); anything else is an error."""
    return on_or_off("NEWS_QUOTE_MODEL", value)


def on_or_off(name: str, value: str | None) -> bool:
    """A switch that is on unless "off" (or "0", "false", "no"); anything else is an error."""
    word = (value or "on").strip().lower()
    if word in ("on", "1", "true", "yes"):
        return True
    if word in ("off", "0", "false", "no"):
        return False
    raise SettingsError(f"{name} must be on or off, not {value!r}")


def extraction_salt() -> str:
    """NEWS_EXTRACTION_SALT, on its own: the assets' code versions need it when the definitions
    are loaded, before any run's settings exist."""
    return os.environ.get("NEWS_EXTRACTION_SALT") or ""
