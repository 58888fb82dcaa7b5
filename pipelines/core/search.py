"""Search: a BM25 index of sentences and claims, kept as warehouse tables, and its SQL macros.

DuckDB's `fts` extension would need downloading and loading in every client, and its index does
not follow the tables, so the index is plain tables that every warehouse load brings up to date
with the sentences and claims it has just written (it can never be older than they are), and the
macros in `sql/search.sql` are plain SQL over them. Words are split by one SQL macro
(`search_words`) for the text and the query alike, so both sides always agree; stems come from
the Snowball English stemmer, run once per new word of the corpus and stored as
`search_vocabulary`, which is also how a query's words find their stems inside SQL. Common words
(spaCy's English stop words) are left out of the vocabulary, so they match nothing.

The index is maintained, not rebuilt: a load compares each indexed row's text hash with the
index's, and only the documents whose rows changed, appeared or went lose their postings and get
new ones; the document frequencies of the stems they touched are counted again, and words and
stems no row uses any more are dropped. A clean build is the same update from empty tables, word
and stem ids are hashes of what they name, and no weight is stored (BM25 is computed from the
counts at query time), so an incremental load leaves exactly the tables a clean one leaves.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
import snowballstemmer

SQL_FILE = Path(str(resources.files("pipelines.sql") / "search.sql"))  # package data
STOP_WORDS_FILE = SQL_FILE.with_name("search_stop_words.txt")


@dataclass(frozen=True)
class Index:
    """One searched table: its rows (`where`) are indexed by `key`, in `search_<name>_rows` and
    `search_<name>_postings`, with their document frequencies in `search_stems.<name>_df`."""

    name: str
    source: str
    key: str
    where: str

    @property
    def rows(self) -> str:
        return f"search_{self.name}_rows"

    @property
    def postings(self) -> str:
        return f"search_{self.name}_postings"

    @property
    def df(self) -> str:
        return f"{self.name}_df"


INDEXES = (
    Index("sentence", "sentences", "sentence_id", "NOT is_boilerplate"),
    Index("claim", "claims", "claim_id", "true"),
)
INDEX_TABLES = (
    "search_vocabulary",
    "search_stems",
    "search_stop_words",
    "search_sizes",
    *(t for i in INDEXES for t in (i.rows, i.postings)),
)

# what `search_words` (sql/search.sql) splits at, and the apostrophes it drops
PUNCTUATION = (
    '!"#$%&()*+,-./:;<=>?@[\\]^_{|}~“”‘«»„‹›—–‒―…·•£€¥¢§¶©®°±×÷\t\n\r\xa0\u2009\u200a\u202f'
)
APOSTROPHES = "'’`ʼ"
_SPLIT = str.maketrans(PUNCTUATION, " " * len(PUNCTUATION))
_DROP = str.maketrans("", "", APOSTROPHES)


@functools.cache
def stop_words() -> frozenset[str]:
    """spaCy's English stop words, as `scripts/build_stop_words.py` copied them (importing spaCy
    for them cost a load a second), without their apostrophes, as `search_words` drops them."""
    lines = STOP_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.translate(_DROP) for line in lines if line and not line.startswith("#"))


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


@dataclass(frozen=True)
class IndexUpdate:
    """What a load did to the index: documents re-indexed per index, and the tables' sizes."""

    changed_documents: dict[str, int]
    row_counts: dict[str, int]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
            "AND database_name = current_database() AND schema_name = current_schema() "
            "ORDER BY column_index",
            [table],
        ).fetchall()
    ]


def _create(con: duckdb.DuckDBPyConnection) -> None:
    """The index tables and macros; tables of another layout (an older build) are dropped first,
    so the index is then built from empty."""
    text = SQL_FILE.read_text()
    expected = dict(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) \(([^;]*?)\n\);", text))
    stale = [
        t
        for t in ("search_sentence_terms", "search_claim_terms")
        if _columns(con, t)  # the layout before postings
    ]
    for table, body in expected.items():
        wanted = re.findall(r"^\s*(\w+) \w+", body, flags=re.M)
        have = _columns(con, table)
        if have and have != wanted:
            stale.append(table)
    if stale:
        for table in [*expected, *stale]:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(text)
    if not con.execute("SELECT count(*) FROM search_stop_words").fetchone()[0]:
        con.executemany(
            "INSERT INTO search_stop_words VALUES (?)", [[w] for w in sorted(stop_words())]
        )


def update_index(con: duckdb.DuckDBPyConnection, scope: str | None = None) -> IndexUpdate:
    """Bring the index in the open (writable) warehouse up to date with its `sentences` and
    `claims`, re-indexing only the documents whose indexed rows changed (all of them when the
    index is new), and (re)create the macros. Given `scope` (a table with a `doc_id` column:
    the documents whose sentences or claims a load changed; the index was whole for every
    other), only those documents' rows are compared, so that a load costs what changed."""
    _create(con)
    changed: dict[str, int] = {}
    con.execute("CREATE OR REPLACE TEMP TABLE _search_gone (term_id UBIGINT, word_id UBIGINT)")
    for index in INDEXES:
        changed[index.name] = _update(con, index, scope)
    # words and stems no row uses any more: what a clean build would not have
    used = " UNION ".join(
        f"SELECT unnest(word_ids) AS word_id FROM {i.postings} "
        "WHERE term_id IN (SELECT term_id FROM _search_gone)"
        for i in INDEXES
    )
    con.execute(
        "DELETE FROM search_vocabulary WHERE word_id IN (SELECT word_id FROM _search_gone) "
        f"AND word_id NOT IN ({used})"
    )
    con.execute("DELETE FROM search_stems WHERE " + " AND ".join(f"{i.df} = 0" for i in INDEXES))
    con.execute("DELETE FROM search_sizes")
    con.execute(
        "INSERT INTO search_sizes "
        + " UNION ALL ".join(
            f"SELECT '{i.name}', count(*), coalesce(sum(dl), 0) FROM {i.rows}" for i in INDEXES
        )
    )
    con.execute("DROP TABLE _search_gone")
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in INDEX_TABLES}
    return IndexUpdate(changed, counts)


def _update(con: duckdb.DuckDBPyConnection, index: Index, scope: str | None = None) -> int:
    """Re-index the documents of `index` whose rows differ from the index's (of those in
    `scope`, see `update_index`); returns how many."""
    key, rows, postings = index.key, index.rows, index.postings
    within = f"doc_id IN (SELECT doc_id FROM {scope})" if scope else "true"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _search_docs AS
        SELECT DISTINCT unnest([u.doc_id, r.doc_id]) AS doc_id
        FROM (
            SELECT {key}, doc_id, hash(text) AS text_hash
            FROM {index.source} WHERE ({index.where}) AND {within}
        ) u
        FULL JOIN (SELECT * FROM {rows} WHERE {within}) r ON u.{key} = r.{key}
        WHERE u.{key} IS NULL OR r.{key} IS NULL
           OR u.doc_id IS DISTINCT FROM r.doc_id
           OR u.text_hash IS DISTINCT FROM r.text_hash
        """
    )
    con.execute("DELETE FROM _search_docs WHERE doc_id IS NULL")
    n_docs = con.execute("SELECT count(*) FROM _search_docs").fetchone()[0]
    con.execute(  # what the old rows held: their stems' counts and their words are checked
        f"INSERT INTO _search_gone SELECT DISTINCT p.term_id, unnest(p.word_ids) FROM {postings} p "
        f"WHERE p.{key} IN (SELECT {key} FROM {rows} "
        "WHERE doc_id IN (SELECT doc_id FROM _search_docs))"
    )
    if not n_docs:
        return 0
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _search_old AS SELECT {key} AS unit FROM {rows} "
        "WHERE doc_id IN (SELECT doc_id FROM _search_docs)"
    )
    con.execute(  # the postings each stem loses (one per stem and row), for its df
        "CREATE OR REPLACE TEMP TABLE _search_df AS SELECT term_id, -count(*) AS delta "
        f"FROM {postings} WHERE {key} IN (SELECT unit FROM _search_old) GROUP BY term_id"
    )
    con.execute(f"DELETE FROM {postings} WHERE {key} IN (SELECT unit FROM _search_old)")
    con.execute(f"DELETE FROM {rows} WHERE {key} IN (SELECT unit FROM _search_old)")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _search_new AS
        SELECT {key} AS unit, doc_id, hash(text) AS text_hash, text
        FROM {index.source}
        WHERE ({index.where}) AND doc_id IN (SELECT doc_id FROM _search_docs)
        """
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _search_words AS "
        "SELECT unit, unnest(search_words(text)) AS word FROM _search_new"
    )
    new_words = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT word FROM _search_words WHERE word <> '' "
            "AND word NOT IN (SELECT word FROM search_vocabulary) "
            "AND word NOT IN (SELECT word FROM search_stop_words)"
        ).fetchall()
    ]
    pairs = [(w, s) for w, s in zip(new_words, stems(new_words), strict=True) if s is not None]
    vocabulary = pa.table(
        {"word": [w for w, _ in pairs], "stem": [s for _, s in pairs]},
        schema=pa.schema([("word", pa.string()), ("stem", pa.string())]),
    )
    con.register("_search_vocabulary", vocabulary)
    con.execute(
        "INSERT INTO search_vocabulary SELECT word, stem, search_id(word), "
        "search_id(stem) FROM _search_vocabulary ORDER BY 3"
    )
    con.unregister("_search_vocabulary")
    con.execute(
        "INSERT INTO search_stems SELECT DISTINCT term_id, stem, 0, 0 FROM search_vocabulary "
        "WHERE term_id NOT IN (SELECT term_id FROM search_stems) ORDER BY term_id"
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _search_tf AS
        SELECT v.term_id, v.word_id, w.unit, count(*)::INTEGER AS tf
        FROM _search_words w JOIN search_vocabulary v USING (word)
        GROUP BY ALL
        """
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _search_len AS "
        "SELECT unit, sum(tf)::INTEGER AS dl FROM _search_tf GROUP BY ALL"
    )
    con.execute(
        f"INSERT INTO {postings} "
        "SELECT t.term_id, t.unit, sum(t.tf)::INTEGER, any_value(l.dl), "
        "list(t.word_id ORDER BY t.word_id) "
        "FROM _search_tf t JOIN _search_len l USING (unit) "
        "GROUP BY t.term_id, t.unit ORDER BY t.term_id, t.unit"
    )
    con.execute(
        f"INSERT INTO {rows} SELECT n.unit, n.doc_id, n.text_hash, coalesce(l.dl, 0) "
        "FROM _search_new n LEFT JOIN _search_len l USING (unit) ORDER BY n.unit"
    )
    # the document frequencies of every stem whose postings came or went: the postings it
    # lost and gained (not a count of all its postings, which grows with the corpus)
    con.execute(
        "INSERT INTO _search_df SELECT term_id, count(DISTINCT unit) FROM _search_tf "
        "GROUP BY term_id"
    )
    con.execute(
        f"""
        UPDATE search_stems SET {index.df} = search_stems.{index.df} + d.delta
        FROM (SELECT term_id, sum(delta) AS delta FROM _search_df GROUP BY term_id) d
        WHERE search_stems.term_id = d.term_id AND d.delta <> 0
        """
    )
    for table in (
        "_search_docs",
        "_search_old",
        "_search_new",
        "_search_words",
        "_search_tf",
        "_search_len",
        "_search_df",
    ):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return n_docs
