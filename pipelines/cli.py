"""`newsetl`: ad-hoc SQL on the warehouse (read-only) and the run summary.

newsetl sql "select * from top_entities limit 5"
newsetl sql                 # an interactive prompt; end a statement with ';'
newsetl sql --as-of 12 "select count(*) from documents"   # the lake as of version 12
newsetl sql --as-of 2026-12-01T07:00 "..."                # ... at a time (UTC)
newsetl summary             # what the last run left in the warehouse
newsetl search "noose kyiv" # sentences ranked by BM25 (--quotes, --speaker, --since, --publisher)
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from pipelines.core.settings import Settings, SettingsError

if TYPE_CHECKING:
    import duckdb

# DuckDB, the lake (Polars, Delta, Arrow) and the search index are imported by the commands
# that use them: `newsetl summary`, run by every `make run`, needs DuckDB alone.


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
    from pipelines.core.sessions import connect_read_only

    try:
        return connect_read_only(settings.warehouse_path)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return None


def _open_as_of(settings: Settings, as_of: str) -> duckdb.DuckDBPyConnection | None:
    """The lake as it was at `as_of` (a version or a time), read where it is."""
    from pipelines.core import warehouse
    from pipelines.core.store import Lake

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
    import duckdb

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
    for line in stage_lines():
        print(line)
    return 0


# The job's steps by stage (asset checks are steps of their own, named after their check).
STAGES = {
    "scan_seeds": "ingest",
    "annotate_documents": "normalise + extract (each document)",
    "link_corpus_entities": "extract (the corpus)",
    "link_stories": "stories",
    "load_warehouse": "warehouse",
}


def stage_times(step_times: dict[str, float]) -> list[tuple[str, float]]:
    """Seconds per stage, in pipeline order, from seconds per step; checks summed apart."""
    totals: dict[str, float] = {stage: 0.0 for stage in STAGES.values()}
    totals["asset checks"] = 0.0
    seen: set[str] = set()
    for step, seconds in step_times.items():
        stage = STAGES.get(step, "asset checks")
        totals[stage] += seconds
        seen.add(stage)
    return [(stage, totals[stage]) for stage in totals if stage in seen]


def stage_lines(job_name: str = "news_etl") -> list[str]:
    """How long each stage of the last run of the job took, from the Dagster instance in
    DAGSTER_HOME (the one `make run` and `make ui` share); nothing when there is none."""
    from pipelines.core.progress import duration
    from pipelines.last_run import last_run

    run = last_run(job_name)
    if run is None:
        return []
    lines = [f"  last run        {run.run_id[:8]} ({run.status.lower()})"]
    if run.start_time and run.end_time:
        lines[0] += f", {duration(run.end_time - run.start_time)} in all"
    lines += [
        f"    {stage:<36}{seconds:>7.1f} s" for stage, seconds in stage_times(run.step_seconds)
    ]
    return lines


MAX_QUERY_CHARS = 100_000
QUOTE_TYPES = ("direct_quote", "indirect_quote", "partial_quote")


def highlight(text: str, matched: set[str], mark: tuple[str, str]) -> str:
    """`text` with each word the query matched (one of `matched`, the index's words with the
    query's stems) wrapped in `mark`."""
    from pipelines.core import search as search_index

    out, last = [], 0
    for start, end, word in search_index.tokens(text):
        if word in matched:
            out += [text[last:start], mark[0], text[start:end], mark[1]]
            last = end
    return "".join([*out, text[last:]])


def search(
    query: str,
    quotes: bool = False,
    speaker: str | None = None,
    since: str | None = None,
    publisher: str | None = None,
    limit: int = 10,
) -> int:
    """Print the best hits of a BM25 search of sentences (or quotes), with the matched words
    marked and the article's title and date."""
    if not query.strip():
        print("error: the query is empty: give some words to search for", file=sys.stderr)
        return 2
    if limit < 1:
        print("error: --limit must be at least 1", file=sys.stderr)
        return 2
    if len(query) > MAX_QUERY_CHARS:
        print(f"error: the query is longer than {MAX_QUERY_CHARS:,} characters", file=sys.stderr)
        return 2
    since_at = None
    if since:
        try:
            since_at = datetime.fromisoformat(since)
        except ValueError:
            print(f"error: --since {since!r} is not a date (use YYYY-MM-DD)", file=sys.stderr)
            return 2
    from pipelines.core import search as search_index

    con = _open(Settings.from_env())
    if con is None:
        return 1
    with con:
        found = con.execute(
            "select word from search_vocabulary "
            "where stem in (select stem from search_query_stems(?))",
            [query],
        ).fetchall()
        matched = {row[0] for row in found}
        if not matched:
            print(
                "no results: no word of the query is in the index (common words such as "
                "'the' are not indexed, and no article uses the others)"
            )
            return 0
        quotes = quotes or speaker is not None
        index = search_index.INDEXES[1 if quotes else 0]
        key = index.key
        joins, where = "", []
        if quotes:
            joins = "join claims c using (claim_id) "
            where.append(f"c.claim_type in {QUOTE_TYPES}")
        params: list[object] = [query]
        if speaker:
            where.append("c.speaker ilike ?")
            params.append(f"%{speaker}%")
        if since_at:
            where.append("d.published_at >= ?")
            params.append(since_at)
        if publisher:
            where.append("d.publisher ilike ?")
            params.append(publisher)
        speaker_column = "c.speaker" if quotes else "null"
        # One hit per story and text: copies of an article repeat its sentences word for word,
        # so hits of one story with the same text (the index's text hash) are one, shown once.
        # Only the best hits are ranked, deduplicated and joined to their text (a common word
        # has tens of thousands of hits): a story's copies of a sentence score the same, and
        # there are at least as many (story, text) groups as stories above any score, so the
        # `limit` best groups, and every copy of them, score at least the `limit`-th best
        # story's best score (the cut; with fewer stories than `limit`, every hit is kept).
        sql = f"""
            with hits as (
                select h.{key}, h.score, r.text_hash, d.doc_id, d.story_id
                from search_{index.name}_scores(?) h
                join {index.rows} r using ({key})
                {joins}join documents d on d.doc_id = r.doc_id
                {"where " + " and ".join(where) if where else ""}
            ),
            cut as (  -- the limit-th best story's best score; none: fewer stories
                select max(score) - 1e-9 as score from hits group by story_id
                order by score desc limit 1 offset ?
            ),
            best as (
                select h.{key}, h.score, d.title, d.published_at, d.publisher, d.source_path,
                       count(*) over (partition by h.story_id, h.text_hash) - 1 as copies
                from hits h join documents d using (doc_id)
                where h.score >= coalesce((select score from cut), '-infinity'::double)
                qualify row_number() over (partition by h.story_id, h.text_hash
                                           order by d.published_at nulls last, d.source_path) = 1
                order by h.score desc, d.source_path, h.{key}
                limit ?
            )
            select b.score, c.text, {speaker_column}, b.title, b.published_at, b.publisher,
                   b.source_path, b.copies
            from best b join {index.source} c using ({key})
            order by b.score desc, b.source_path, b.{key}
        """
        rows = con.execute(sql, [*params, limit - 1, limit]).fetchall()
    if not rows:
        print("no results")
        return 0
    tty = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    mark = ("\033[1m", "\033[0m") if tty else ("[", "]")
    for rank, (score, text, said_by, title, published, outlet, path, copies) in enumerate(rows, 1):
        date = published.date().isoformat() if published else "no date"
        also = f"(and {copies} {'copy' if copies == 1 else 'copies'})" if copies else ""
        source_line = " · ".join(x for x in (title or path, outlet, date, also) if x)
        print(f"{rank:>2}. {score:6.2f}  {source_line}")
        who = f" — {said_by}" if said_by else ""
        print(f"    {highlight(' '.join(text.split()), matched, mark)}{who}")
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
    find = commands.add_parser("search", help="sentences (or quotes) ranked by BM25")
    find.add_argument("query", help="words to search for")
    find.add_argument("--quotes", action="store_true", help="search quotes, not sentences")
    find.add_argument("--speaker", help="quotes by this speaker only (part of the name)")
    find.add_argument("--since", help="articles published on or after this date (YYYY-MM-DD)")
    find.add_argument("--publisher", help="articles of this publisher only")
    find.add_argument("--limit", type=int, default=10)
    args = parser.parse_args(argv)
    try:
        Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "sql":
        return run_sql(args.query, args.max_rows, args.as_of)
    if args.command == "search":
        return search(args.query, args.quotes, args.speaker, args.since, args.publisher, args.limit)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
