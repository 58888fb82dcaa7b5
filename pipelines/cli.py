"""`newsetl`: ad-hoc SQL on the warehouse (read-only) and the run summary.

newsetl sql "select * from top_entities limit 5"
newsetl sql                 # an interactive prompt; end a statement with ';'
newsetl sql --as-of 12 "select count(*) from documents"   # the lake as of version 12
newsetl sql --as-of 2026-12-01T07:00 "..."                # ... at a time (UTC)
newsetl summary             # what the last run left in the warehouse
"""

from __future__ import annotations

import argparse
import sys

import duckdb

from pipelines.core import warehouse
from pipelines.core.settings import Settings, SettingsError
from pipelines.core.store import Lake


def _print_result(con: duckdb.DuckDBPyConnection, sql: str, max_rows: int) -> None:
    result = con.execute(sql)
    if result.description is None:
        return
    columns = [d[0] for d in result.description]
    rows = result.fetchmany(max_rows + 1)
    cells = [
        [("NULL" if v is None else str(v)).replace("\n", " ") for v in row]
        for row in rows[:max_rows]
    ]
    widths = [min(60, max([len(c)] + [len(r[i]) for r in cells])) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return " | ".join(v[:w].ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    print(line(list(columns)))
    print("-+-".join("-" * w for w in widths))
    for row in cells:
        print(line(row))
    more = " (more not shown)" if len(rows) > max_rows else ""
    print(f"({len(cells)} rows{more})")


def _open(settings: Settings) -> duckdb.DuckDBPyConnection | None:
    """The warehouse, read-only; None (after saying why) when there is none yet."""
    try:
        return warehouse.connect_read_only(settings.warehouse_path)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return None


def _open_as_of(settings: Settings, as_of: str) -> duckdb.DuckDBPyConnection | None:
    """The lake as it was at `as_of` (a version or a time), read where it is."""
    lake = Lake(settings.lake_url, retention_hours=settings.retention_hours)
    try:
        versions = warehouse.lake_as_of(lake, warehouse.parse_as_of(as_of))
    except Exception as exc:
        print(f"cannot read the lake at {settings.lake_url} as of {as_of}: {exc}", file=sys.stderr)
        return None
    shown = ", ".join(f"{t} {'-' if v is None else v}" for t, v in versions.items())
    print(f"the lake as of {as_of}: {shown}", file=sys.stderr)
    return warehouse.connect_lake(lake, versions)


def run_sql(sql: str | None, max_rows: int = 50, as_of: str | None = None) -> int:
    settings = Settings.from_env()
    con = _open(settings) if as_of is None else _open_as_of(settings, as_of)
    if con is None:
        return 1
    with con:
        if sql:
            try:
                _print_result(con, sql, max_rows)
            except duckdb.Error as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            return 0
        print(f"{settings.warehouse_path} (read-only). End statements with ';', quit with Ctrl-D.")
        buffer = ""
        while True:
            try:
                line = input("sql> " if not buffer else "...> ")
            except EOFError:
                print()
                return 0
            buffer += line + "\n"
            if buffer.strip().endswith(";"):
                try:
                    _print_result(con, buffer, max_rows)
                except duckdb.Error as exc:
                    print(f"error: {exc}")
                buffer = ""


def summary() -> int:
    settings = Settings.from_env()
    con = _open(settings)
    if con is None:
        return 1
    with con:
        count = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        print("news warehouse")
        print(f"  documents       {count('select count(*) from documents'):>8,}")
        print(f"  sentences       {count('select count(*) from sentences'):>8,}")
        print(
            f"  entities        {count('select count(*) from entities'):>8,}"
            f"  ({count('select count(*) from entity_mentions'):,} mentions)"
        )
        print(f"  claims          {count('select count(*) from claims'):>8,}")
        for kind, n in con.execute(
            "select claim_type, count(*) from claims group by 1 order by 2 desc"
        ).fetchall():
            print(f"    {kind:<14}{n:>8,}")
        print(f"  rejected files  {count('select count(*) from rejected_files'):>8,}")
        print(f"  warehouse       {settings.warehouse_path.resolve()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newsetl", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sql = commands.add_parser("sql", help="run SQL on the warehouse, read-only")
    sql.add_argument("query", nargs="?", help="a statement; without it, an interactive prompt")
    sql.add_argument("--max-rows", type=int, default=50)
    sql.add_argument(
        "--as-of",
        metavar="VERSION|TIME",
        help="query the lake as it was: a version (of committed_documents, the commit point of "
        "each batch) or a time (ISO 8601, UTC), within NEWS_LAKE_RETENTION_HOURS; the "
        "warehouse's views are there too",
    )
    commands.add_parser("summary", help="counts of what the warehouse holds")
    args = parser.parse_args(argv)
    try:
        Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "sql":
        return run_sql(args.query, args.max_rows, args.as_of)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
