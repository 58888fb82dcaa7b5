"""Stories (exact and near-duplicate copies) and quote groups, on hand-made articles."""

from __future__ import annotations

import hashlib
from datetime import datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.core import quote_groups, stories

HEADLINE = "Harbour town votes to rebuild its flooded sea wall"
PARAGRAPHS = [
    "Residents of the harbour town of Kelmouth voted on Tuesday to spend four million pounds "
    "rebuilding the sea wall that failed during the January storms, flooding two hundred homes "
    "along the front.",
    "The council had put three plans to the town, and the most expensive of them, a stepped "
    "concrete wall with a walkway on top, won almost two thirds of the votes cast in the poll.",
    "“We cannot go through another winter like the last one, with sandbags at every door and "
    "nobody sleeping when the tide turns,” said Margaret Pell, who chairs the residents’ group.",
    "Engineers say the old wall, built of stone in the eighteen nineties, was undermined by "
    "waves that scoured the shingle from its foot over several decades of neglect.",
    "Work is due to start in the spring and to last eighteen months, during which the harbour "
    "road will close to traffic for long stretches and the ferry will move to the north quay.",
    "The fishermen’s association welcomed the vote but asked the council to keep the slipway "
    "open so that boats can still be launched while the builders are at work on the wall.",
]


def article(headline: str = HEADLINE, paragraphs: list[str] = PARAGRAPHS) -> str:
    return headline + "\n\n" + "\n\n".join(paragraphs) + "\n"


def documents(texts: dict[str, str], published: dict[str, datetime] | None = None):
    published = published or {}
    names = sorted(texts)
    return pl.DataFrame(
        {
            "doc_id": [f"d{n}" for n in names],
            "content_sha256": [hashlib.sha256(texts[n].encode()).hexdigest() for n in names],
            "source_path": names,
            "published_at": [published.get(n) for n in names],
            "title": [texts[n].partition("\n")[0] for n in names],
            "text": [texts[n] for n in names],
        },
        schema_overrides={"published_at": pl.Datetime("us")},
    )


EMPTY_SIGNATURES = pl.DataFrame(schema=stories.SIGNATURE_SCHEMA)
EMPTY_PAIRS = pl.DataFrame(schema=stories.PAIR_SCHEMA)


def run(texts, published=None, previous: stories.StoryUpdate | None = None):
    sigs = previous.signatures if previous else EMPTY_SIGNATURES
    pairs = previous.pairs if previous else EMPTY_PAIRS
    return stories.update(documents(texts, published), sigs, pairs)


def story_of(result: stories.StoryUpdate) -> dict[str, str]:
    return dict(result.stories.select("doc_id", "story_id").iter_rows())


# a different article on the same topic (the same town, the same wall, the same speaker)
SAME_TOPIC = article(
    "Kelmouth sea wall work delayed by contract dispute",
    [
        "Building the new sea wall at Kelmouth will start months late after the council and its "
        "contractor fell out over the price of concrete, the town clerk said on Friday.",
        "The stepped wall was chosen by residents in a poll last year after the January storms "
        "flooded homes along the front and left the old stone wall in ruins.",
        "“We cannot go through another winter like the last one, with sandbags at every door "
        "and nobody sleeping when the tide turns,” said Margaret Pell, who chairs the residents’ "
        "group.",
        "The contractor said rising prices left it no choice; the council said a deal was a deal "
        "and that it would seek another builder if no agreement was reached by March.",
    ],
)


@pytest.mark.parametrize(
    "edited",
    [
        pytest.param(article(), id="exact copy"),
        pytest.param(article("Kelmouth backs new sea wall"), id="another headline"),
        pytest.param(
            article(
                paragraphs=[*PARAGRAPHS[:3], "The vote was held in the town hall.", *PARAGRAPHS[3:]]
            ),
            id="paragraph added",
        ),
        pytest.param(article(paragraphs=PARAGRAPHS[:2] + PARAGRAPHS[3:]), id="paragraph cut"),
        pytest.param(
            article(paragraphs=[*PARAGRAPHS, "(Reporting by Ann Lee; Editing by Tom Ray)"]),
            id="credit line",
        ),
        pytest.param(
            article(
                paragraphs=[
                    p.replace("“", '"').replace("”", '"').replace("’", "'") for p in PARAGRAPHS
                ]
            ),
            id="quote marks",
        ),
        pytest.param(
            article(
                "UPDATE 1-Kelmouth votes for new sea wall",
                ["KELMOUTH (Reuters) - " + PARAGRAPHS[0], *PARAGRAPHS[1:5]],
            ),
            id="headline, dateline and last paragraph cut",
        ),
    ],
)
def test_an_edited_copy_joins_the_story(edited):
    result = run({"a.txt": article(), "b.txt": edited, "c.txt": SAME_TOPIC})
    story = story_of(result)
    assert story["da.txt"] == story["db.txt"] == "da.txt"
    assert story["dc.txt"] == "dc.txt"  # the same topic and one shared quote are not a copy
    copies = result.stories.filter(pl.col("duplicate_of").is_not_null())
    assert copies.rows() == [("db.txt", "da.txt", "da.txt")]


def test_articles_that_share_a_topic_and_a_template_stay_apart():
    notice = "{co} said its board declared a quarterly dividend of {d} cts a share, payable {p}."
    texts = {
        "x.txt": "ACME CORP SETS DIVIDEND\n\n" + notice.format(co="Acme Corp", d=10, p="April 1"),
        "y.txt": "BOLT INC SETS DIVIDEND\n\n" + notice.format(co="Bolt Inc", d=12, p="May 15"),
        "z.txt": SAME_TOPIC,
        "w.txt": article(),
    }
    assert set(story_of(run(texts)).items()) == {(f"d{n}", f"d{n}") for n in texts}


def test_canonical_is_the_earliest_published_then_the_first_path():
    texts = {"a.txt": article(), "b.txt": article("Another headline"), "c.txt": article("Third")}
    assert set(story_of(run(texts)).values()) == {"da.txt"}
    later_first = {"a.txt": datetime(2005, 3, 2), "b.txt": datetime(2005, 3, 1)}
    result = run(texts, later_first)
    assert set(story_of(result).values()) == {"db.txt"}  # dated beats undated, earlier beats later
    assert dict(result.stories.select("doc_id", "duplicate_of").iter_rows()) == {
        "da.txt": "db.txt",
        "db.txt": None,
        "dc.txt": "db.txt",
    }


def jaccard(x: str, y: str) -> float:
    def sets(t: str) -> set[str]:
        return stories.shingles(stories.words(stories.body_of(t, t.partition("\n")[0])))

    return stories.jaccard(sets(x), sets(y))


def test_a_chain_of_edits_is_one_story():
    """a ~ b and b ~ c, though a and c are too far apart: a story is a connected group."""
    a = article()
    b = article(paragraphs=PARAGRAPHS[:4])
    c = article(paragraphs=PARAGRAPHS[:4] + SAME_TOPIC.split("\n\n")[1:3])
    assert jaccard(a, c) < stories.THRESHOLD <= min(jaccard(a, b), jaccard(b, c))
    result = run({"a.txt": a, "b.txt": b, "c.txt": c})
    assert set(story_of(result).values()) == {"da.txt"}
    assert result.pairs.select("doc_a", "doc_b").rows() == [
        ("da.txt", "db.txt"),
        ("db.txt", "dc.txt"),
    ]


def test_incremental_runs_leave_what_a_clean_run_leaves():
    texts = {
        "a.txt": article(),
        "b.txt": article("Kelmouth backs new sea wall"),
        "c.txt": SAME_TOPIC,
    }
    dates = {"a.txt": datetime(2005, 1, 3), "b.txt": datetime(2005, 1, 4)}
    first = run({k: texts[k] for k in ("a.txt", "c.txt")}, dates)
    # b arrives later, and the copy that arrives last of all was published first
    second = run({k: texts[k] for k in ("a.txt", "b.txt", "c.txt")}, dates, first)
    assert second.signed == 1
    early = {**texts, "e.txt": article(paragraphs=PARAGRAPHS[:5])}
    early_dates = {**dates, "e.txt": datetime(2005, 1, 1)}
    third = run(early, early_dates, second)
    clean = run(early, early_dates)
    assert third.stories.equals(clean.stories)
    assert third.pairs.equals(clean.pairs)
    assert story_of(third)["da.txt"] == "de.txt"  # the story's rows follow the earlier copy
    unchanged = run(early, early_dates, third)
    assert unchanged.signed == 0 and unchanged.compared == 0
    assert unchanged.stories.equals(third.stories)


def test_an_incremental_run_reads_only_the_new_articles_and_their_candidates_texts():
    """The bodies of a large corpus are not all read each run: only those of the articles to
    sign and of the LSH candidates to verify, and the result is the same as from every text."""
    texts = {
        "a.txt": article(),
        "c.txt": SAME_TOPIC,
        "f.txt": article("Ferry timetable", ["The ferry will sail twice a day from May."]),
    }
    first = run(texts)
    grown = {**texts, "b.txt": article("Kelmouth backs new sea wall")}
    full = documents(grown)
    asked: list[list[str]] = []

    def texts_of(ids: list[str]) -> pl.DataFrame:
        asked.append(ids)
        return full.filter(pl.col("doc_id").is_in(ids)).select("doc_id", "title", "text")

    meta = full.drop("title", "text")
    lazy = stories.update(meta, first.signatures, first.pairs, texts=texts_of)
    eager = stories.update(full, first.signatures, first.pairs)
    assert asked[0] == ["db.txt"]  # the one article to sign
    read = {doc_id for ids in asked for doc_id in ids}
    assert "da.txt" in read and "df.txt" not in read  # its copy verified, the unrelated one not
    assert lazy.stories.equals(eager.stories) and lazy.pairs.equals(eager.pairs)
    assert lazy.signatures.equals(eager.signatures)


def test_a_removed_or_changed_article_leaves_its_story():
    texts = {"a.txt": article(), "b.txt": article("Kelmouth backs new sea wall")}
    both = run(texts)
    assert both.pairs.height == 1
    changed = run({"a.txt": texts["a.txt"], "b.txt": SAME_TOPIC}, previous=both)
    assert changed.pairs.is_empty() and changed.signed == 1
    gone = run({"a.txt": texts["a.txt"]}, previous=both)
    assert gone.pairs.is_empty() and story_of(gone) == {"da.txt": "da.txt"}


def test_body_and_words_ignore_headline_marks_case_and_accents():
    assert stories.body_of("Title\n\nBody text", "Title").strip() == "Body text"
    assert stories.body_of("Body only, no title line", None) == "Body only, no title line"
    assert stories.words("“Café” SAID Blair’s aide") == stories.words('"cafe" said blairs AIDE')


def claims_frame(rows):
    return pl.DataFrame(
        rows, schema=["claim_id", "doc_id", "claim_type", "text", "char_start"], orient="row"
    )


QUOTE = (
    "We cannot go through another winter like the last one, with sandbags at every door "
    "and nobody sleeping when the tide turns"
)


def test_quote_groups_join_copies_and_excerpts_but_not_scare_quotes():
    docs = pl.DataFrame(
        {
            "doc_id": ["d1", "d2", "d3", "d4"],
            "source_path": ["1.txt", "2.txt", "3.txt", "4.txt"],
            "published_at": [datetime(2005, 1, 2), datetime(2005, 1, 1), None, None],
        }
    )
    claims = claims_frame(
        [
            ("c1", "d1", "direct_quote", QUOTE + ",", 10),
            ("c2", "d2", "direct_quote", QUOTE.upper().replace(",", " ;"), 50),
            # an excerpt of nine words inside the longer quote
            ("c3", "d3", "indirect_quote", "another winter like the last one, with sandbags at", 5),
            # seven words: too short to be sure it is the same quote
            ("c4", "d4", "direct_quote", "with sandbags at every door and nobody", 5),
            ("c5", "d4", "partial_quote", QUOTE, 80),
            ("c6", "d4", "quantity", "two hundred homes", 200),
            (
                "c7",
                "d3",
                "direct_quote",
                "The tide comes in twice a day, and the wall must hold.",
                90,
            ),
        ]
    )
    groups = dict(quote_groups.quote_groups(claims, docs).iter_rows())
    # the earliest published quote names the group
    assert groups["c1"] == groups["c2"] == groups["c3"] == "c2"
    assert groups["c4"] == "c4" and groups["c7"] == "c7"
    assert "c5" not in groups and "c6" not in groups


def test_quote_groups_do_not_depend_on_row_order():
    docs = pl.DataFrame(
        {"doc_id": ["d1", "d2"], "source_path": ["b.txt", "a.txt"], "published_at": [None, None]},
        schema_overrides={"published_at": pl.Datetime("us")},
    )
    rows = [
        ("c1", "d1", "direct_quote", QUOTE, 0),
        ("c2", "d2", "direct_quote", "like the last one, with sandbags at every door", 0),
    ]
    forward = quote_groups.quote_groups(claims_frame(rows), docs)
    backward = quote_groups.quote_groups(claims_frame(rows[::-1]), docs)
    assert forward.equals(backward)
    # the excerpt's article comes first by path, so it names the group
    assert dict(forward.iter_rows()) == {"c1": "c2", "c2": "c2"}


# ASCII (letters, digits, the apostrophes ' and `, "_" and punctuation) and what only `words`
# handles: accents, curly apostrophes, a dotted capital I, a final sigma, a ligature
TEXT = st.text(alphabet=st.sampled_from("aZ9 _-'`,.\"\n" + "éÉ’ʼİΣσßﬁ“”"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, max_size=20))
def test_the_vectorised_quote_forms_are_the_normalised_words(texts: list[str]):
    """`normalised_forms` reads ASCII texts with Polars and the rest with `words`: any text
    gets exactly `normalised(text)`."""
    got = quote_groups.normalised_forms(pl.Series(texts, dtype=pl.String)).to_list()
    assert got == [quote_groups.normalised(t) for t in texts]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from("aaab"), min_size=1, max_size=14), max_size=25))
def test_excerpt_links_are_every_form_inside_a_longer_one(word_lists: list[list[str]]):
    """The gram index finds exactly the pairs a comparison of every form with every other
    finds: a form of >= MIN_EXCERPT_WORDS words inside a longer one, as a whole run of words
    (two words, one of them rare, make many shared grams and near misses)."""
    forms = list(dict.fromkeys(" ".join(w) for w in word_lists))
    want = [
        (i, j)
        for i, a in enumerate(forms)
        for j, b in enumerate(forms)
        if len(a.split()) >= quote_groups.MIN_EXCERPT_WORDS
        and len(b.split()) > len(a.split())
        and f" {a} " in f" {b} "
    ]
    assert quote_groups._excerpt_links(forms) == want


WEEKLY = (
    "The Agriculture Department reported the reserve's five-day average prices for the week, "
    "in dollars per bushel: wheat {a}, corn {b}, oats {c}, barley {d} and sorghum {e}. The "
    "prices are national averages of the prices received by farmers at country elevators, and "
    "the department said they are preliminary and may be revised when the full reports of the "
    "state offices have been received and checked by its statistics service in the capital."
)


def test_a_template_filled_with_other_figures_is_not_a_copy():
    first = "RESERVE PRICES\n\n" + WEEKLY.format(a=255, b=135, c=124, d=198, e=284)
    second = "RESERVE PRICES\n\n" + WEEKLY.format(a=264, b=140, c=157, d=203, e=291)
    assert jaccard(first, second) >= stories.THRESHOLD  # the words alone would join them
    assert story_of(run({"a.txt": first, "b.txt": second})) == {
        "da.txt": "da.txt",
        "db.txt": "db.txt",
    }


def test_the_same_words_weeks_apart_are_a_recurring_report_not_a_copy():
    """(A body repeated word for word is a copy whatever the dates: the corpora count it so.)"""
    texts = {"a.txt": article(), "b.txt": article(paragraphs=PARAGRAPHS[:5])}
    near = {"a.txt": datetime(2005, 1, 3), "b.txt": datetime(2005, 1, 5)}
    far = {"a.txt": datetime(2005, 1, 3), "b.txt": datetime(2005, 1, 24)}
    assert set(story_of(run(texts, near)).values()) == {"da.txt"}
    assert set(story_of(run(texts, far)).values()) == {"da.txt", "db.txt"}


OTHER_STORY = (
    "Western officials brief on the war\n\n"
    "Officials in London gave their weekly briefing on the war in Ukraine on Monday, with maps "
    "of the front and figures for the losses on both sides.\n\n"
    "“I think around Kyiv they are continuing to tighten the noose .. this is definitely not "
    "over,” a western official said.\n\n"
    "The briefing also covered the fighting in the south, where the port of Mariupol is "
    "surrounded, and the talks between the two governments in Turkey.\n"
)


@pytest.mark.slow
def test_a_pipeline_run_fills_stories_shared_quotes_and_search(tmp_path, monkeypatch):
    """A real Dagster run: the seed article, a copy under another headline, and another story
    quoting the same official."""
    import duckdb

    from tests.conftest import SEEDS, materialize_all

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    seed = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
    (seeds / "a_original.txt").write_text(seed, encoding="utf-8")
    (seeds / "b_copy.txt").write_text("Russians close in on Kyiv\n\n" + seed, encoding="utf-8")
    (seeds / "c_briefing.txt").write_text(OTHER_STORY, encoding="utf-8")
    data = tmp_path / "data"
    materialize_all(seeds, data, monkeypatch)
    warehouse = data / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select source_path, story_id = doc_id, duplicate_of is null from documents "
            "order by source_path"
        ).fetchall()
        assert rows == [
            ("a_original.txt", True, True),
            ("b_copy.txt", False, False),
            ("c_briefing.txt", True, True),
        ]
        original = con.execute(
            "select doc_id from documents where source_path = 'a_original.txt'"
        ).fetchone()[0]
        assert con.execute(
            "select duplicate_of from documents where source_path = 'b_copy.txt'"
        ).fetchone() == (original,)
        shared = con.execute(
            "select text, n_documents, n_stories, first_doc_id from shared_quotes"
        ).fetchall()
        noose = [r for r in shared if "continuing to tighten the noose" in r[0]]
        assert noose and noose[0][1:] == (3, 2, original)
        kyiv = con.execute(
            "select n_documents, n_stories from top_entities where name = 'Kyiv'"
        ).fetchone()
        assert kyiv == (3, 2)
        hits = con.execute("select distinct doc_id from search_sentences('noose')").fetchall()
        assert len(hits) == 3  # the index follows the load
        assert con.execute("select count(*) from search_claims('noose')").fetchone()[0] >= 3
    from pipelines.core.store import Lake

    ours = ("story_signatures", "story_pairs", "document_stories", "quote_groups")

    def stamps() -> dict:
        return Lake(str(data / "lake")).versions(ours)

    before, warehouse_stamp = stamps(), warehouse.stat().st_mtime_ns
    materialize_all(seeds, data, monkeypatch)  # unchanged: nothing is written again
    assert stamps() == before and None not in before.values()
    assert warehouse.stat().st_mtime_ns == warehouse_stamp
    # a new article quoting the official: its claims move, so the quote groups are made again
    (seeds / "d_again.txt").write_text(OTHER_STORY.replace("Monday", "Tuesday"), encoding="utf-8")
    materialize_all(seeds, data, monkeypatch)
    assert stamps()["quote_groups"] != before["quote_groups"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        shared = con.execute("select text, n_documents from shared_quotes").fetchall()
    assert [n for text, n in shared if "continuing to tighten the noose" in text] == [4]


def test_signatures_are_datasketchs_minhash():
    """`stories.signature` computes datasketch 2's affine32 MinHash of already-hashed values,
    value for value (the kept signatures must not move), including the empty set."""
    import random

    import numpy as np
    from datasketch import MinHash

    permutations = MinHash(
        num_perm=stories.NUM_PERM, seed=stories.SEED, scheme=stories.SCHEME
    ).permutations
    rng = random.Random(16)
    words = [f"w{i}" for i in range(400)]
    sets = [set(), {0}, {0, 2**32 - 1}, stories.shingles(words), stories.shingles(words[:3])]
    sets += [
        {rng.randrange(2**32) for _ in range(n)} for n in (1, 2, 7, 150, 5000) for _ in range(5)
    ]
    for shingle_set in sets:
        reference = MinHash(
            num_perm=stories.NUM_PERM,
            seed=stories.SEED,
            permutations=permutations,
            scheme=stories.SCHEME,
            hashfunc=lambda value: value,
        )
        reference.update_batch(sorted(shingle_set))
        ours = stories.signature(shingle_set)
        assert ours.dtype == np.uint32 and ours.shape == (stories.NUM_PERM,)
        assert ours.tolist() == reference.hashvalues.astype(np.uint32).tolist()


def test_shared_quotes_gives_one_answer_whatever_the_row_order():
    """The view's speaker is the one named most often and its text the longest form, ties
    broken by the text itself: `mode()` and a bare `arg_max` picked among ties in the order
    DuckDB's threads met the rows, so one warehouse gave different answers."""
    import re
    from pathlib import Path

    import duckdb

    views = (Path(__file__).resolve().parents[1] / "sql" / "views.sql").read_text()
    view = re.search(r"CREATE VIEW shared_quotes AS.*?;", views, re.S).group()
    claims = [
        ("g1", "Short form.", "Ann Lee", "d1", 0),
        ("g1", "Fully the same", "Bob Ray", "d2", 5),
        ("g1", "Fully the sama", "Bob Ray", "d3", 5),
        ("g1", "Short form.", "Ann Lee", "d4", 0),
        ("g1", "Short form.", None, "d5", 0),
    ]
    docs = [(f"d{n}", f"s{n}", "pub", None, f"p{n}.txt") for n in range(1, 6)]
    answers = set()
    for order in (claims, claims[::-1], claims[2:] + claims[:2]):
        con = duckdb.connect()
        con.execute(
            "create table claims (quote_group_id varchar, text varchar, speaker varchar, "
            "doc_id varchar, char_start int)"
        )
        con.execute(
            "create table documents (doc_id varchar, story_id varchar, publisher varchar, "
            "published_at timestamp, source_path varchar)"
        )
        con.executemany("insert into claims values (?, ?, ?, ?, ?)", order)
        con.executemany("insert into documents values (?, ?, ?, ?, ?)", docs)
        con.execute(view)
        answers.add(con.execute("select text, speaker, n_stories from shared_quotes").fetchone())
    # two speakers twice each: the first by name; two longest forms: the first by text
    assert answers == {("Fully the sama", "Ann Lee", 5)}
