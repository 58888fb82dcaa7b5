"""Time the search index and its macros on a warehouse the size of both corpora.

    .venv/bin/python scripts/bench_search.py --corpus ../shared/corpora/bbc \
        --corpus ../shared/corpora/reuters21578

Parsing 21,268 articles with spaCy takes most of an hour on two shared cores, so the sentences
here are cut by a regular expression (paragraphs, then sentence ends) and the claims are the
quoted spans; the index and the macros are the warehouse's own (`pipelines.core.search`), built in
a DuckDB file written as the load writes it. Prints the index build time and sizes, the time of
an incremental update after `--change` documents were edited (the load's `update_index`), and
each query's warm time (median of 20 runs in one read-only session, wall and CPU of all
threads: the machine is shared, and CPU time moves less with its load) in the three forms a user
writes: `SELECT * FROM search_sentences(?) LIMIT 10` (as the README shows it), with `k := 10`,
and every row; then `newsetl search` (sentences, then `--quotes`), in process, as a user runs it
(opening the warehouse each time).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines import cli
from pipelines.core import search
from pipelines.core.ids import claim_id_for, doc_id_for, sentence_id_for

SENTENCE_END = re.compile(r"(?<=[.!?”\"’])\s+(?=[“\"A-Z0-9])")
QUOTED = re.compile(r"[“\"]([^”\"]{3,400})[”\"]")
QUERIES = [
    "noose kyiv",
    "tony blair election",
    "oil prices opec",
    "said",
    "bank of england interest rates",
    "dividend",
    "microsoft software piracy",
    "the of and",
    "chelsea manager mourinho champions league final",
    "zzzz unknownword",
]


def tables(corpora: list[Path]) -> tuple[pa.Table, pa.Table, int]:
    sentences: dict[str, list] = {
        k: [] for k in ("sentence_id", "doc_id", "text", "is_boilerplate")
    }
    claims: dict[str, list] = {
        k: [] for k in ("claim_id", "doc_id", "text", "claim_type", "speaker")
    }
    n_docs = 0
    for corpus in corpora:
        for path in sorted(corpus.rglob("*.txt")):
            n_docs += 1
            doc_id = doc_id_for(f"{corpus.name}/{path.relative_to(corpus)}")  # the pipeline's ids
            text = path.read_text(encoding="utf-8", errors="replace")
            i = 0
            for paragraph in text.split("\n"):
                for sentence in SENTENCE_END.split(paragraph.strip()):
                    if sentence:
                        sentences["sentence_id"].append(sentence_id_for(doc_id, i))
                        sentences["doc_id"].append(doc_id)
                        sentences["text"].append(sentence)
                        sentences["is_boilerplate"].append(False)
                        i += 1
            for j, match in enumerate(QUOTED.finditer(text)):
                claims["claim_id"].append(claim_id_for(doc_id, j))
                claims["doc_id"].append(doc_id)
                claims["text"].append(match.group(1))
                claims["claim_type"].append("direct_quote")
                claims["speaker"].append(None)
    return pa.table(sentences), pa.table(claims), n_docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, action="append", required=True)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--change", type=int, default=50, help="documents edited for the update")
    parser.add_argument("--keep", type=Path, help="keep the warehouse file here (for EXPLAIN)")
    args = parser.parse_args()
    sentences, claims, n_docs = tables(args.corpus)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.duckdb"
        path.unlink(missing_ok=True)
        con = duckdb.connect()
        con.execute(f"ATTACH '{path}' AS wh (STORAGE_VERSION 'v1.5.0')")
        con.execute("USE wh")
        # in key order, as the load writes them
        con.execute("CREATE TABLE sentences AS SELECT * FROM sentences ORDER BY sentence_id")
        con.execute("CREATE TABLE claims AS SELECT * FROM claims ORDER BY claim_id")
        # what `newsetl search` joins: every article its own story, no publisher or date
        con.execute(
            "CREATE TABLE documents AS SELECT doc_id, NULL::VARCHAR AS title, "
            "NULL::TIMESTAMP AS published_at, NULL::VARCHAR AS publisher, "
            "doc_id || '.txt' AS source_path, doc_id AS story_id "
            "FROM (SELECT DISTINCT doc_id FROM sentences) ORDER BY doc_id"
        )
        started, cpu = time.perf_counter(), time.process_time()
        con.execute("BEGIN")
        counts = search.update_index(con).row_counts
        con.execute("COMMIT")
        built, built_cpu = time.perf_counter() - started, time.process_time() - cpu
        # a load that edits `--change` documents: a sentence of each is rewritten, one is dropped
        edited = con.execute(
            "SELECT DISTINCT doc_id FROM sentences ORDER BY hash(doc_id) LIMIT ?", [args.change]
        ).fetchall()
        con.executemany(
            "UPDATE sentences SET text = text || ' Shareholders approved the merger.' "
            "WHERE sentence_id = (SELECT min(sentence_id) FROM sentences WHERE doc_id = ?)",
            edited,
        )
        con.executemany(
            "DELETE FROM sentences WHERE sentence_id = "
            "(SELECT max(sentence_id) FROM sentences WHERE doc_id = ?)",
            edited,
        )
        started, cpu = time.perf_counter(), time.process_time()
        con.execute("BEGIN")
        update = search.update_index(con)
        con.execute("COMMIT")
        updated, updated_cpu = time.perf_counter() - started, time.process_time() - cpu
        con.execute("USE memory")
        con.execute("DETACH wh")
        con.close()
        print(
            f"{n_docs:,} articles, {sentences.num_rows:,} sentences, {claims.num_rows:,} quoted "
            f"spans; index built in {built:.2f} s ({built_cpu:.2f} s CPU): "
            + ", ".join(f"{t} {n:,} rows" for t, n in counts.items())
        )
        print(
            f"after editing {args.change} documents, updated in {updated:.2f} s "
            f"({updated_cpu:.2f} s CPU), documents re-indexed: {update.changed_documents}"
        )
        with duckdb.connect(str(path), read_only=True) as ro:
            for macro in ("search_sentences", "search_claims"):
                for query in QUERIES:
                    n_hits = ro.execute(f"SELECT count(*) FROM {macro}(?)", [query]).fetchone()[0]
                    timed = [
                        (
                            form,
                            warm(
                                args.runs, lambda sql=sql, q=query: ro.execute(sql, [q]).fetchall()
                            ),
                        )
                        for form, sql in (
                            ("LIMIT 10", f"SELECT * FROM {macro}(?) LIMIT 10"),
                            ("k := 10", f"SELECT * FROM {macro}(?, k := 10)"),
                            ("all rows", f"SELECT * FROM {macro}(?)"),
                        )
                    ]
                    print(
                        f"  {macro}({query!r}): {n_hits:,} hits; "
                        + "; ".join(f"{form} {t}" for form, t in timed)
                    )
        # `newsetl search` as a user runs it (opening the warehouse each time, printing 10 hits)
        os.environ["NEWS_WAREHOUSE_PATH"] = str(path)
        for quotes in (False, True):
            for query in QUERIES:
                timing = warm(args.runs, lambda q=query, quotes=quotes: newsetl_search(q, quotes))
                print(f"  newsetl search {query!r}{' --quotes' if quotes else ''}: {timing}")


def warm(runs: int, run) -> str:
    """Median and max wall time of `runs` warm runs (after one), and the median CPU time of all
    threads."""
    run()
    walls, cpus = [], []
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return (
        f"wall median {statistics.median(walls):.1f} ms (max {max(walls):.1f}), "
        f"CPU {statistics.median(cpus):.1f} ms"
    )


def newsetl_search(query: str, quotes: bool) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        cli.search(query, quotes=quotes)


if __name__ == "__main__":
    main()
