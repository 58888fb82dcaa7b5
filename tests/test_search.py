"""Search: BM25 ranking through the SQL macros, bad queries, the DuckDB 1.x command line, and
`newsetl search`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines import cli
from pipelines.core import search

SENTENCES = [
    ("s1", "d1", "Russian forces tighten the noose around Kyiv.", False),
    ("s9", "d4", "Russian forces tighten the noose around Kyiv.", False),
    ("s2", "d1", "The noose is tightening, a western official said of the capital.", False),
    (
        "s3",
        "d2",
        "Kyiv is a city of three million people on the Dnipro river, and many "
        "of its people have left for the west since the war began in February.",
        False,
    ),
    ("s4", "d2", "Kyiv residents queue for bread.", False),
    ("s5", "d3", "The football club appointed a new manager on Monday.", False),
    ("s6", "d3", "Sign up for our newsletter about Kyiv.", True),
    ("s7", "d3", "Negotiations between the two sides resumed in Istanbul.", False),
    ("s8", "d3", "Café owners in Kyïv reopened after the shelling.", False),
]
CLAIMS = [
    ("c1", "d1", "They are continuing to tighten the noose", "direct_quote", "a western official"),
    ("c2", "d2", "the city will be defended to the last", "indirect_quote", "the mayor"),
    ("c3", "d2", "3 million people", "quantity", None),
]


def make_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create table documents (doc_id varchar primary key, title varchar, "
        "published_at timestamp, publisher varchar, source_path varchar, story_id varchar)"
    )
    con.executemany(
        "insert into documents values (?, ?, ?, ?, ?, ?)",
        [
            ("d1", "Noose tightens", "2022-03-10", "bbc.co.uk", "1.txt", "d1"),
            ("d2", "Life in Kyiv", "2022-03-12", "Reuters", "2.txt", "d2"),
            ("d3", "Other news", None, None, "3.txt", "d3"),
            ("d4", "Noose tightens (copy)", "2022-03-11", "Other", "4.txt", "d1"),
        ],
    )
    con.execute(
        "create table sentences (sentence_id varchar primary key, doc_id varchar, text varchar, "
        "is_boilerplate boolean)"
    )
    con.executemany("insert into sentences values (?, ?, ?, ?)", SENTENCES)
    con.execute(
        "create table claims (claim_id varchar primary key, doc_id varchar, text varchar, "
        "claim_type varchar, speaker varchar)"
    )
    con.executemany("insert into claims values (?, ?, ?, ?, ?)", CLAIMS)
    search.update_index(con)


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    make_warehouse(connection)
    yield connection
    connection.close()


def ranked(con, query: str, macro: str = "search_sentences") -> list[str]:
    key = "sentence_id" if macro == "search_sentences" else "claim_id"
    return [r[0] for r in con.execute(f"select {key} from {macro}(?)", [query]).fetchall()]


def test_both_words_rank_above_one(con):
    hits = ranked(con, "noose kyiv")
    assert hits[:2] == ["s1", "s9"]  # the only sentence with both, and its copy
    assert set(hits) == {"s1", "s2", "s3", "s4", "s8", "s9"}  # s6 is boilerplate, not indexed


def test_a_rare_word_outweighs_a_common_one(con):
    # "noose" is in 2 sentences, "kyiv" in 4: a noose-only sentence beats a kyiv-only one
    scores = dict(
        con.execute("select sentence_id, score from search_sentences('noose kyiv')").fetchall()
    )
    assert scores["s2"] > scores["s4"]


def test_a_short_sentence_ranks_above_a_long_one_with_the_word_once(con):
    hits = ranked(con, "kyiv")
    assert hits.index("s4") < hits.index("s3")


def test_the_stop_words_are_spacys_and_the_index_needs_no_spacy():
    """The index leaves out spaCy's English stop words, read from the copy
    `scripts/build_stop_words.py` made (rebuild it when spaCy's list changes), so a warehouse
    load does not import spaCy for them."""
    from spacy.lang.en.stop_words import STOP_WORDS

    assert search.stop_words() == {w.replace("'", "").replace("’", "") for w in STOP_WORDS}
    code = (
        "import sys; from pipelines.core import search, warehouse; "
        "print(search.stems(['the', 'running', 'because']), 'spacy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[None,", "'run',", "None]", "False"]


def test_stems_case_and_accents(con):
    assert ranked(con, "NEGOTIATE") == ["s7"]  # negotiations ~ negotiate
    assert ranked(con, "tightened") == ranked(con, "tighten")
    assert "s8" in ranked(con, "kyiv cafe")  # Kyïv, Café


def test_the_ranking_and_scores_are_pinned(con):
    """The whole ranking with its scores, as the macros gave it before `k` and the score
    macros (computed then, on these rows): a change of the SQL must not move a row."""
    got = con.execute("select sentence_id, round(score, 4) from search_sentences('noose kyiv')")
    assert got.fetchall() == [
        ("s1", 1.5302),
        ("s9", 1.5302),  # a tie: sentence_id decides
        ("s2", 0.9363),
        ("s4", 0.5664),
        ("s8", 0.5244),
        ("s3", 0.3452),
    ]
    got = con.execute("select claim_id, round(score, 4) from search_claims('city defend people')")
    assert got.fetchall() == [("c2", 2.1851), ("c3", 0.9331)]


QUERIES = ["noose kyiv", "kyiv", "noose", "tightened", "kyiv cafe", "city defend people", "zebra"]


@pytest.mark.parametrize("macro", ["search_sentences", "search_claims"])
@pytest.mark.parametrize("query", QUERIES)
def test_k_is_the_first_k_rows_of_the_whole_ranking(con, macro, query):
    everything = con.execute(f"select * from {macro}(?)", [query]).fetchall()
    assert con.execute(f"select * from {macro}(?, k := NULL)", [query]).fetchall() == everything
    for k in (0, 1, 2, 3, 100):
        # k as a parameter, as a constant, and the caller's LIMIT: the same rows, in order
        assert (
            con.execute(f"select * from {macro}(?, k := ?)", [query, k]).fetchall()
            == (everything[:k])
        )
        literal = con.execute(f"select * from {macro}(?, k := {k})", [query]).fetchall()
        assert literal == everything[:k]
        limited = con.execute(f"select * from {macro}(?) limit {k}", [query]).fetchall()
        assert limited == everything[:k]


def test_the_scores_macros_give_every_hit_without_text(con):
    scores = con.execute(
        "select sentence_id, score, n_matched from search_sentence_scores('noose kyiv') "
        "order by score desc, sentence_id"
    ).fetchall()
    full = con.execute("select sentence_id, score, n_matched from search_sentences('noose kyiv')")
    assert scores == full.fetchall()
    assert scores[0][2] == 2  # s1 holds both stems


def test_claims_are_searched_with_type_and_speaker(con):
    rows = con.execute(
        "select claim_id, claim_type, speaker from search_claims('noose')"
    ).fetchall()
    assert rows == [("c1", "direct_quote", "a western official")]
    assert ranked(con, "defend city", "search_claims") == ["c2"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "the and of it was",
        "\"'“”‘’",
        "'; drop table sentences; --",
        "select * from sentences",
        None,
    ],
)
def test_bad_queries_give_an_empty_result(con, query):
    assert ranked(con, query) == []
    assert ranked(con, query, "search_claims") == []
    assert con.execute("select count(*) from sentences").fetchone()[0] == len(SENTENCES)


def test_a_ten_thousand_word_query_is_answered(con):
    query = " ".join(["noose", "lorem", "ipsum", "the"] * 2500)
    assert ranked(con, query)[:3] == ["s1", "s9", "s2"]


def test_the_macros_work_from_the_duckdb_1x_command_line(tmp_path):
    """Stored in a v1.5.0 file, the macros run in duckdb-cli 1.5.6 with nothing to load."""
    binary = Path(sys.executable).with_name("duckdb")
    if not binary.exists():
        binary = Path(shutil.which("duckdb") or "")
    assert binary.is_file(), "duckdb-cli is a pinned dev dependency and must be installed"
    path = tmp_path / "w.duckdb"
    con = duckdb.connect()
    con.execute(f"attach '{path}' as wh (storage_version 'v1.5.0')")
    con.execute("use wh")
    make_warehouse(con)
    con.execute("use memory")
    con.execute("detach wh")
    con.close()
    done = subprocess.run(
        [
            binary,
            "-readonly",
            "-csv",
            str(path),
            "select sentence_id from search_sentences('noose'); "
            "select sentence_id from search_sentences('noose', k := 2);",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["sentence_id", "s1", "s9", "s2", "sentence_id", "s1", "s9"]


@pytest.fixture()
def warehouse_file(tmp_path, monkeypatch):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        make_warehouse(con)
    monkeypatch.setenv("NEWS_WAREHOUSE_PATH", str(path))
    return path


def test_newsetl_search_prints_ranked_hits_with_the_words_marked(warehouse_file, capsys):
    assert cli.main(["search", "noose kyiv"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    # the copy of the first article is named, not shown again
    assert lines[0].startswith(" 1.")
    assert "Noose tightens · bbc.co.uk · 2022-03-10 · (and 1 copy)" in lines[0]
    assert lines[1].strip() == "Russian forces tighten the [noose] around [Kyiv]."
    assert "Noose tightens (copy)" not in out


def test_newsetl_search_with_a_limit_keeps_the_ranking_and_the_copies(warehouse_file, capsys):
    """Only the best hits are read in full (those scoring at least the limit-th best story's
    best): the rows shown, their order and their copies are those of the whole ranking's."""
    assert cli.main(["search", "kyiv", "--limit", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    # s4 (0.57) first; then s1 and s8 tie at 0.52, s1's article first by path, with its copy s9
    assert lines[0].startswith(" 1.   0.57  Life in Kyiv")
    assert lines[2].startswith(" 2.   0.52  Noose tightens")
    assert lines[2].endswith("(and 1 copy)")
    assert cli.main(["search", "kyiv", "--limit", "10"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[2].split(" · ")[0] for line in lines[::2]] == [
        "Life in Kyiv",
        "Noose tightens",
        "Other news",  # s8: Kyïv
        "Life in Kyiv",  # s3, the long one
    ]


def test_newsetl_search_filters(warehouse_file, capsys):
    assert cli.main(["search", "noose", "--quotes", "--speaker", "western"]) == 0
    out = capsys.readouterr().out
    assert "[noose]" in out and "— a western official" in out
    assert cli.main(["search", "kyiv", "--publisher", "reuters", "--since", "2022-03-11"]) == 0
    out = capsys.readouterr().out
    assert "Life in Kyiv" in out and "Noose tightens" not in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ([""], 2, "the query is empty"),
        (["the of and"], 0, "no word of the query is in the index"),
        (["'; drop table sentences; --"], 0, "no word of the query is in the index"),
        (["zebra"], 0, "no word of the query is in the index"),
        (["kyiv", "--limit", "0"], 2, "--limit must be at least 1"),
    ],
)
def test_newsetl_search_explains_what_it_cannot_answer(warehouse_file, capsys, args, code, message):
    assert cli.main(["search", *args]) == code
    captured = capsys.readouterr()
    assert message in captured.out + captured.err


def test_newsetl_search_refuses_a_bad_date(warehouse_file, capsys):
    assert cli.main(["search", "kyiv", "--since", "last week"]) == 2
    assert "not a date" in capsys.readouterr().err


def test_highlighting_splits_words_as_the_index_does(con):
    text = '“Café” owners in Kyïv — Blair’s aide said: (re-opened) £600m, 5.5% "x"\tend\u00a0y'
    in_sql = [w for w in con.execute("select search_words(?)", [text]).fetchone()[0] if w]
    assert in_sql == [w for _, _, w in search.tokens(text)]
    assert in_sql[:5] == ["cafe", "owners", "in", "kyiv", "blairs"]


def index_tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every index table, rows sorted: what two builds must agree on."""
    return {
        t: con.execute(f"select * from {t} order by all").fetchall() for t in search.INDEX_TABLES
    }


def change_the_corpus(con: duckdb.DuckDBPyConnection) -> None:
    """A load's worth of changes: a sentence edited, a document gone, one added, a sentence
    turned boilerplate, a claim edited."""
    con.execute(
        "update sentences set text = 'Kyiv residents queue for bread and water in the cold.' "
        "where sentence_id = 's4'"
    )
    con.execute("delete from sentences where doc_id = 'd3' and sentence_id <> 's6'")
    con.execute("update sentences set is_boilerplate = true where sentence_id = 's2'")
    con.execute(
        "insert into sentences values ('s10', 'd5', 'Negotiators from Kyiv reached Istanbul "
        "for talks about the grain corridor.', false)"
    )
    con.execute("update claims set text = 'the city will be defended' where claim_id = 'c2'")


def test_an_incremental_update_leaves_the_index_a_clean_build_leaves():
    incremental = duckdb.connect()
    make_warehouse(incremental)
    assert search.update_index(incremental).changed_documents == {"sentence": 0, "claim": 0}
    change_the_corpus(incremental)
    update = search.update_index(incremental)
    # d1 (s2 turned boilerplate), d2 (s4 edited), d3 (gone), d5 (new); d4 untouched
    assert update.changed_documents == {"sentence": 4, "claim": 1}
    clean = duckdb.connect()
    make_warehouse(clean)
    change_the_corpus(clean)
    for table in search.INDEX_TABLES:
        clean.execute(f"drop table {table}")
    search.update_index(clean)
    assert index_tables(incremental) == index_tables(clean)
    for query in ("noose kyiv", "negotiate", "bread", "istanbul", "football", "defend"):
        for macro in ("search_sentences", "search_claims"):
            sql = f"select * from {macro}(?)"
            got = incremental.execute(sql, [query]).fetchall()
            assert got == clean.execute(sql, [query]).fetchall(), (macro, query)
    # the words of the gone document left with it; the new ones came
    assert ranked(incremental, "football") == []
    assert ranked(incremental, "istanbul") == ["s10"]  # s7 (d3) is gone
    assert "s2" not in ranked(incremental, "noose")  # boilerplate now


def test_an_old_layout_of_the_index_is_replaced():
    con = duckdb.connect()
    make_warehouse(con)
    con.execute("drop table search_sentence_postings")
    con.execute("create table search_sentence_postings (stem varchar, sentence_id varchar)")
    con.execute("create table search_sentence_terms (stem varchar, sentence_id varchar)")
    search.update_index(con)
    assert ranked(con, "noose kyiv")[:2] == ["s1", "s9"]
    tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert "search_sentence_terms" not in tables


def test_the_c_stemmer_gives_the_pure_python_snowball_stems(nlp):
    """`PyStemmer` (snowballstemmer's C backend, which it uses when installed) stems every word
    of the model's lemma tables and their inflections as snowballstemmer's own Python does."""
    from snowballstemmer.english_stemmer import EnglishStemmer

    assert type(search._stemmer()).__module__ == "Stemmer"  # the C one is in use
    lookups = nlp.get_pipe("lemmatizer").lookups
    words = {w for forms in lookups.get_table("lemma_index").values() for w in forms}
    for exceptions in lookups.get_table("lemma_exc").values():
        words.update(exceptions)
    words = sorted({w.lower() for w in words if w.isalpha()} | {w + "s" for w in words})
    assert len(words) > 50_000
    assert search._stemmer().stemWords(words) == [EnglishStemmer().stemWord(w) for w in words]
