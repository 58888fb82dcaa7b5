"""Time the search index and its macros on a warehouse the size of both corpora.

    .venv/bin/python scripts/bench_search.py --corpus ../shared/corpora/bbc \
        --corpus ../shared/corpora/reuters21578

Parsing 21,268 articles with spaCy takes most of an hour on two shared cores, so the sentences
here are cut by a regular expression (paragraphs, then sentence ends) and the claims are the
quoted spans; the index and the macros are the warehouse's own (`pipelines.core.search`), built in
a DuckDB file written as the load writes it. Prints the index build time and sizes, and each
query's warm time (median of 20 runs in one session).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.core import search

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
            doc_id = f"{corpus.name}/{path.name}"
            text = path.read_text(encoding="utf-8", errors="replace")
            i = 0
            for paragraph in text.split("\n"):
                for sentence in SENTENCE_END.split(paragraph.strip()):
                    if sentence:
                        sentences["sentence_id"].append(f"{doc_id}#{i}")
                        sentences["doc_id"].append(doc_id)
                        sentences["text"].append(sentence)
                        sentences["is_boilerplate"].append(False)
                        i += 1
            for j, match in enumerate(QUOTED.finditer(text)):
                claims["claim_id"].append(f"{doc_id}@{j}")
                claims["doc_id"].append(doc_id)
                claims["text"].append(match.group(1))
                claims["claim_type"].append("direct_quote")
                claims["speaker"].append(None)
    return pa.table(sentences), pa.table(claims), n_docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, action="append", required=True)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    sentences, claims, n_docs = tables(args.corpus)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        con = duckdb.connect()
        con.execute(f"ATTACH '{path}' AS wh (STORAGE_VERSION 'v1.5.0')")
        con.execute("USE wh")
        con.execute("CREATE TABLE sentences AS SELECT * FROM sentences")
        con.execute("CREATE TABLE claims AS SELECT * FROM claims")
        started = time.perf_counter()
        con.execute("BEGIN")
        counts = search.build_index(con)
        con.execute("COMMIT")
        built = time.perf_counter() - started
        con.execute("USE memory")
        con.execute("DETACH wh")
        con.close()
        print(
            f"{n_docs:,} articles, {sentences.num_rows:,} sentences, {claims.num_rows:,} quoted "
            f"spans; index built in {built:.2f} s: "
            + ", ".join(f"{t} {n:,} rows" for t, n in counts.items())
        )
        with duckdb.connect(str(path), read_only=True) as ro:
            for macro in ("search_sentences", "search_claims"):
                for query in QUERIES:
                    sql = f"SELECT * FROM {macro}(?) LIMIT 10"
                    n_hits = ro.execute(f"SELECT count(*) FROM {macro}(?)", [query]).fetchone()[0]
                    times = []
                    for _ in range(args.runs):
                        started = time.perf_counter()
                        ro.execute(sql, [query]).fetchall()
                        times.append((time.perf_counter() - started) * 1000)
                    print(
                        f"  {macro}({query!r}): {n_hits:,} hits, warm median "
                        f"{statistics.median(times):.1f} ms, max {max(times):.1f} ms"
                    )


if __name__ == "__main__":
    main()
