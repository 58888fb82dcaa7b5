"""Search: a BM25 index of sentences and claims, kept as warehouse tables, and its SQL macros.

DuckDB's `fts` extension would need downloading and loading in every client, and its index does
not follow the tables, so the index is plain tables built at every warehouse load from the
sentences and claims being loaded (it can never be older than they are), and the macros in
`sql/search.sql` are plain SQL over them. Words are split by one SQL macro (`search_words`) for
the text and the query alike, so both sides always agree; stems come from the Snowball English
stemmer, run once per distinct word of the corpus and stored as `search_vocabulary`, which is also
how a query's words find their stems inside SQL. Common words (spaCy's English stop words) are
left out of the vocabulary, so they match nothing.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
import snowballstemmer

SQL_FILE = Path(str(resources.files("pipelines.sql") / "search.sql"))  # package data
# BM25's usual constants (Robertson; Lucene's defaults).
K1, B = 1.2, 0.75
INDEXES = {
    # index table: (source table, key column, which rows)
    "search_sentence_terms": ("sentences", "sentence_id", "NOT is_boilerplate"),
    "search_claim_terms": ("claims", "claim_id", "true"),
}
INDEX_TABLES = ("search_vocabulary", "search_stems", "search_stop_words", *INDEXES)

# what `search_words` (sql/search.sql) splits at, and the apostrophes it drops
PUNCTUATION = (
    '!"#$%&()*+,-./:;<=>?@[\\]^_{|}~“”‘«»„‹›—–‒―…·•£€¥¢§¶©®°±×÷\t\n\r\xa0\u2009\u200a\u202f'
)
APOSTROPHES = "'’`ʼ"
_SPLIT = str.maketrans(PUNCTUATION, " " * len(PUNCTUATION))
_DROP = str.maketrans("", "", APOSTROPHES)


@functools.cache
def stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(w.replace("'", "").replace("’", "") for w in STOP_WORDS)


@functools.cache
def _stemmer():
    return snowballstemmer.stemmer("english")


def tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of each word as `search_words` splits it (lower case, no accents, no
    apostrophes), with offsets into `text`: used to highlight hits."""
    out = []
    for match in re.finditer(r"[^ ]+", text.translate(_SPLIT)):
        folded = unicodedata.normalize("NFKD", match.group().lower().translate(_DROP))
        word = "".join(ch for ch in folded if not unicodedata.combining(ch))
        if word:
            out.append((match.start(), match.end(), word))
    return out


def stems(words: list[str]) -> list[str | None]:
    """Each word's stem, or None for a common word the index leaves out."""
    stop = stop_words()
    stemmed = _stemmer().stemWords(words)
    return [None if w in stop or not w else s for w, s in zip(words, stemmed, strict=True)]


def build_index(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Create the index tables and the macros in the open (writable) warehouse, from its
    `sentences` and `claims`; returns each index table's row count."""
    for table in INDEX_TABLES:  # an incremental load rebuilds the index of the file it copied
        con.execute(f"DROP TABLE IF EXISTS {table}")
    # search_words first (the index is split with it), the macros over the tables once they exist
    words_macro, *macros = SQL_FILE.read_text().split("\n\n-- ")
    con.execute(words_macro)
    con.execute(
        "CREATE TEMP TABLE _search_words AS "
        "SELECT DISTINCT unnest(search_words(text)) AS word FROM ("
        + " UNION ALL ".join(
            f"SELECT text FROM {source} WHERE {where}" for source, _, where in INDEXES.values()
        )
        + ")"
    )
    distinct = [row[0] for row in con.execute("SELECT word FROM _search_words").fetchall()]
    pairs = [(w, s) for w, s in zip(distinct, stems(distinct), strict=True) if s is not None]
    vocabulary = pa.table(
        {"word": [w for w, _ in pairs], "stem": [s for _, s in pairs]},
        schema=pa.schema([("word", pa.string()), ("stem", pa.string())]),
    )
    con.register("_vocabulary", vocabulary)
    con.execute("CREATE TABLE search_vocabulary (word VARCHAR PRIMARY KEY, stem VARCHAR NOT NULL)")
    con.execute("INSERT INTO search_vocabulary SELECT word, stem FROM _vocabulary ORDER BY word")
    con.unregister("_vocabulary")
    con.execute(
        "CREATE TABLE search_stems AS SELECT DISTINCT stem FROM search_vocabulary ORDER BY stem"
    )
    con.execute("CREATE TABLE search_stop_words (word VARCHAR PRIMARY KEY)")
    con.executemany("INSERT INTO search_stop_words VALUES (?)", [[w] for w in sorted(stop_words())])
    con.execute("DROP TABLE _search_words")
    for table, (source, key, where) in INDEXES.items():
        con.execute(
            f"""
            CREATE TABLE {table} AS
            WITH units AS (SELECT {key}, text FROM {source} WHERE {where}),
            n AS (SELECT count(*) AS n FROM units),
            tf AS (
                SELECT w.{key}, v.stem, count(*) AS tf
                FROM (SELECT {key}, unnest(search_words(text)) AS word FROM units) w
                JOIN search_vocabulary v USING (word)
                GROUP BY ALL
            ),
            len AS (SELECT {key}, sum(tf) AS dl FROM tf GROUP BY ALL),
            avg_len AS (SELECT avg(dl) AS avgdl FROM len),
            df AS (SELECT stem, count(*) AS df FROM tf GROUP BY ALL)
            SELECT tf.stem, tf.{key},
                   ln(1 + (n.n - df.df + 0.5) / (df.df + 0.5))
                   * tf.tf * ({K1} + 1)
                   / (tf.tf + {K1} * (1 - {B} + {B} * len.dl / avg_len.avgdl)) AS weight
            FROM tf JOIN len USING ({key}) JOIN df USING (stem), n, avg_len
            ORDER BY tf.stem, tf.{key}
            """
        )
    for macro in macros:
        con.execute("-- " + macro)
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in INDEX_TABLES}
