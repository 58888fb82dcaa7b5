"""A read-only session of the warehouse file: DuckDB alone, none of the lake (Polars, Delta,
Arrow), so the command line's `summary` and `sql` open it without importing the load."""

from __future__ import annotations

from pathlib import Path

import duckdb


def connect_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A session that can read the warehouse and never change it."""
    if not warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run `make run` first")
    return duckdb.connect(str(warehouse), read_only=True)
