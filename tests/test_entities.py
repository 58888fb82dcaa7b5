"""Entities an analyst can count on: types, canonical names, countries, aliases, short forms and
one row per real-world entity in the corpus table (real spaCy, real Dagster, real DuckDB)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.core.corpus_entities import entities_table
from pipelines.core.entities import ENTITY_LABELS, name_key
from pipelines.core.ids import entity_id_for
from pipelines.core.tables import frame
from tests.conftest import SEEDS, materialize_all

SEED_TEXT = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")


def _entities(mentions) -> dict[str, tuple[str, str | None]]:
    """Entity name -> (label, country); fails when one name has two labels in a document."""
    found: dict[str, set[tuple[str, str | None]]] = defaultdict(set)
    for m in mentions:
        found[m.entity_name].add((m.label, m.country))
    assert all(len(v) == 1 for v in found.values()), {k: v for k, v in found.items() if len(v) > 1}
    return {name: next(iter(v)) for name, v in found.items()}


def _by_text(mentions) -> dict[str, tuple[str, str, str | None]]:
    """Mention text -> (entity name, label, country)."""
    return {m.text: (m.entity_name, m.label, m.country) for m in mentions}


@pytest.fixture(scope="module")
def seed(parse):
    return parse(SEED_TEXT, "dseed")


# --- the seed article ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "label", "country"),
    [
        ("Tatyana Perebeynos", "PERSON", None),
        ("Franz-Stefan Gady", "PERSON", None),
        ("Kyiv", "GPE", "Ukraine"),
        ("Irpin", "GPE", "Ukraine"),
        ("Mariupol", "GPE", "Ukraine"),
        ("Ukraine", "GPE", "Ukraine"),
        ("Belarus", "GPE", "Belarus"),
        ("Berlin", "GPE", "Germany"),
        ("Russians", "NORP", "Russia"),
        ("Ukrainians", "NORP", "Ukraine"),
        ("Soviets", "NORP", "Soviet Union"),
        ("ITN News", "ORG", None),
        ("International Institute for Strategic Studies", "ORG", None),
        ("The Times", "ORG", None),
    ],
)
def test_seed_article_entities_have_their_right_type_and_country(seed, name, label, country):
    _, _, mentions, _ = seed
    assert _entities(mentions)[name] == (label, country)


def test_seed_article_has_no_other_entities(seed):
    _, _, mentions, _ = seed
    assert set(_entities(mentions)) == {
        "Tatyana Perebeynos", "Franz-Stefan Gady", "Kyiv", "Irpin", "Mariupol", "Ukraine",
        "Belarus", "Berlin", "Russians", "Ukrainians", "Soviets", "ITN News", "The Times",
        "International Institute for Strategic Studies",
    }  # fmt: skip


def test_every_kyiv_in_the_seed_article_is_one_place(seed):
    # The model calls Kyiv a PERSON six times, an ORG once, and misses it twice.
    _, _, mentions, _ = seed
    kyiv = [m for m in mentions if m.text == "Kyiv"]
    assert len(kyiv) == SEED_TEXT.count("Kyiv") == 9
    assert {(m.label, m.entity_name, m.entity_id) for m in kyiv} == {
        ("GPE", "Kyiv", entity_id_for("kyiv", "GPE"))
    }
    assert {m.model_label for m in kyiv} >= {"PERSON", None}


def test_russian_adjective_and_russians_are_one_group(seed):
    _, _, mentions, _ = seed
    groups = {m.text: m.entity_name for m in mentions if m.label == "NORP"}
    assert groups["Russian"] == groups["Russians"] == "Russians"


def test_mentions_are_exact_spans_outside_boilerplate(seed):
    _, sentences, mentions, _ = seed
    boilerplate = {s.sentence_id for s in sentences if s.is_boilerplate}
    for m in mentions:
        assert SEED_TEXT[m.char_start : m.char_end] == m.text
        assert m.sentence_id not in boilerplate
        assert m.label in ENTITY_LABELS


def test_quoted_speaker_is_a_known_entity(seed):
    _, _, mentions, claims = seed
    gady = {m.entity_id for m in mentions if m.entity_name == "Franz-Stefan Gady"}
    quotes = [c for c in claims if c.speaker == "Franz-Stefan Gady"]
    assert quotes and {c.speaker_entity_id for c in quotes} == gady


# --- aliases, short forms and groups ------------------------------------------------------------


def test_united_states_forms_and_kiev_are_one_entity_each(parse):
    _, _, mentions, _ = parse(
        "The U.S. and the United States are one country. US officials said America would "
        "help. Officials in Kiev and Kyiv agreed."
    )
    by_text = {m.text: (m.entity_name, m.label, m.country, m.entity_id) for m in mentions}
    us = ("United States", "GPE", "United States", entity_id_for("united states", "GPE"))
    assert by_text["U.S."] == by_text["US"] == by_text["United States"] == by_text["America"] == us
    assert by_text["Kiev"] == by_text["Kyiv"] == ("Kyiv", "GPE", "Ukraine", by_text["Kyiv"][3])


def test_later_short_forms_join_the_full_name(parse):
    _, _, mentions, _ = parse(
        "Franz-Stefan Gady, a research fellow, spoke first. Gady said it was not over. "
        "Later Mr Gady left."
    )
    gady = [m for m in mentions if "Gady" in m.text]
    assert [m.text for m in gady] == ["Franz-Stefan Gady", "Gady", "Gady"]
    assert {(m.entity_name, m.label) for m in gady} == {("Franz-Stefan Gady", "PERSON")}


def test_a_shared_surname_joins_the_nearest_full_name_before_it(parse):
    _, _, mentions, _ = parse(
        "James Baker met Howard Baker in Washington. Mr Baker said the talks went well."
    )
    assert [(m.text, m.entity_name) for m in mentions if m.label == "PERSON"] == [
        ("James Baker", "James Baker"),
        ("Howard Baker", "Howard Baker"),
        ("Baker", "Howard Baker"),
    ]


def test_groups_are_named_in_the_plural(parse):
    _, _, mentions, _ = parse(
        "The Tory leader said Tories and Republicans would agree with a Republican senator, "
        "and American voters agreed with the Americans in Texas."
    )
    names = _by_text(mentions)
    # a party is one organisation by all its names, as Labour is the Labour Party
    assert names["Tory"] == names["Tories"] == ("Conservative Party", "ORG", None)
    assert names["Republican"] == names["Republicans"] == ("Republicans", "NORP", None)
    assert names["American"] == names["Americans"] == ("Americans", "NORP", "United States")


def test_curated_names_fix_what_the_model_gets_wrong(parse):
    _, _, mentions, _ = parse(
        "The EU said the European Union would act. She won an Oscar in 2004 and two Baftas."
    )
    names = {m.text: (m.entity_name, m.label) for m in mentions}
    assert names["EU"] == names["European Union"] == ("European Union", "ORG")
    assert names["Oscar"] == ("Oscars", "WORK_OF_ART")
    assert names["Baftas"] == ("Baftas", "WORK_OF_ART")


def test_organisation_nouns_beat_the_models_person(parse):
    _, _, mentions, _ = parse(
        "Russian oil giant Yukos said on Monday it would appeal. Yukos shares fell 10%. "
        "Yukos said it had no choice."
    )
    yukos = [m for m in mentions if m.text == "Yukos"]
    assert len(yukos) == 3 and {(m.label, m.entity_name) for m in yukos} == {("ORG", "Yukos")}


def test_a_body_named_after_its_leader_does_not_make_the_leader_an_organisation(parse):
    _, _, mentions, _ = parse(
        "Oil study\n\nThe study was ordered by the Reagan Administration. President Reagan "
        "ordered it last September. Reagan's advisers backed it.\n"
    )
    assert [(m.text, m.label) for m in mentions] == [
        ("Reagan Administration", "ORG"),
        ("Reagan", "PERSON"),
        ("Reagan", "PERSON"),
    ]


def test_generic_words_and_offices_are_no_organisations_of_their_own(parse):
    _, _, mentions, _ = parse(
        "The Bank of Japan said rates would stay. The Bank added that Finance Minister Kiichi "
        "Miyazawa agreed with Treasury Secretary James Baker and the Secretary of State."
    )
    assert [(m.text, m.entity_name, m.label) for m in mentions] == [
        ("Bank of Japan", "Bank of Japan", "ORG"),
        ("Bank", "Bank of Japan", "ORG"),
        ("Kiichi Miyazawa", "Kiichi Miyazawa", "PERSON"),
        ("Treasury", "Treasury", "ORG"),
        ("James Baker", "James Baker", "PERSON"),
    ]


def test_a_town_is_a_club_in_a_sports_report(parse):
    _, _, mentions, _ = parse(
        "Liverpool beat Chelsea 2-1 in the Premiership on Sunday. Liverpool striker Milan Baros "
        "scored the winning goal and the club's manager praised the squad after the match. "
        "The defeat left Chelsea top of the league."
    )
    names = _by_text(mentions)
    assert names["Liverpool"] == ("Liverpool", "ORG", None)
    assert names["Chelsea"] == ("Chelsea", "ORG", None)  # "Chelsea 2-1" without the score
    assert names["Milan Baros"][1] == "PERSON"


def test_a_town_is_a_place_outside_sports(parse):
    _, _, mentions, _ = parse("Unemployment in Liverpool fell last year, the council said.")
    assert [(m.entity_name, m.label, m.country) for m in mentions] == [
        ("Liverpool", "GPE", "United Kingdom")
    ]


# --- datelines and names the model misses -------------------------------------------------------


def test_dateline_place_counts_for_its_country(parse):
    _, _, mentions, _ = parse(
        "ARGENTINE GRAIN EXPORTS RISE\n\nBUENOS AIRES, March 4 - Argentine grain exports rose, "
        "the Agriculture Secretariat said."
    )
    places = _by_text(mentions)
    assert places["BUENOS AIRES"] == ("Buenos Aires", "GPE", "Argentina")
    assert places["Argentine"] == places["ARGENTINE"] == ("Argentines", "NORP", "Argentina")


def test_dateline_with_a_state_and_a_town_the_gazetteer_lacks(parse):
    _, _, mentions, _ = parse(
        "DAHLBERG INC 4TH QTR NET\n\nGOLDEN VALLEY, MINN., Feb 26 - Shr profit 10 cts vs loss "
        "seven cts\n\nRevs 10.0 mln vs 7,577,207\n\nAvg shrs 2.9 mln vs 2.2 mln"
    )
    assert [(m.text, m.entity_name, m.label, m.country) for m in mentions] == [
        ("GOLDEN VALLEY", "Golden Valley", "GPE", "United States"),
        ("MINN.", "Minnesota", "GPE", "United States"),
    ]  # and no "Revs", "Avg" or "DAHLBERG INC" from the table and the capitals headline


def test_dateline_states_written_as_postal_codes(parse):
    _, _, mentions, _ = parse(
        "NORTH DIGHTON, MA., March 27 - Mars Store Inc said it expects a loss."
    )
    assert [(m.text, m.entity_name, m.country) for m in mentions][:2] == [
        ("NORTH DIGHTON", "North Dighton", "United States"),
        ("MA.", "Massachusetts", "United States"),
    ]


def test_names_the_model_folds_into_a_dateline_date(parse):
    _, _, mentions, _ = parse(
        "SPRINKEL URGES GROWTH\n\nBOCA RATON, Fla., March 19 - Beryl Sprinkel, chairman of the "
        "council, said growth was needed.\n\nMOSCOW, March 20 - Russian officials said output rose."
    )
    names = _by_text(mentions)
    assert names["BOCA RATON"] == ("Boca Raton", "GPE", "United States")
    assert names["Fla."] == ("Florida", "GPE", "United States")
    assert names["Beryl Sprinkel"] == ("Beryl Sprinkel", "PERSON", None)
    assert names["Russian"] == ("Russians", "NORP", "Russia")


def test_a_country_in_a_capitals_headline(parse):
    _, _, mentions, _ = parse("U.S. TRADE DEFICIT WIDENS IN JANUARY\n\nThe deficit widened.")
    assert [(m.text, m.entity_name) for m in mentions] == [("U.S.", "United States")]


def test_no_entity_for_numbers_dates_times_or_percentages(parse):
    text = (
        "On March 4, 2022, 1.5 million people, or 40 percent, paid $5 each at 10 a.m. for the "
        "first time, three days after 12,000 tonnes arrived."
    )
    _, _, mentions, _ = parse(text)
    assert mentions == []


# --- ids -----------------------------------------------------------------------------------------


def test_entity_ids_follow_canonical_name_and_label_and_are_stable(parse, seed):
    _, _, first, _ = seed
    _, _, again, _ = parse(SEED_TEXT, "dseed")
    assert [(m.mention_id, m.entity_id) for m in first] == [
        (m.mention_id, m.entity_id) for m in again
    ]
    for m in first:
        assert m.entity_id == entity_id_for(name_key(m.entity_name), m.label)


def test_name_key_ignores_case_dots_articles_and_legal_forms():
    assert name_key("U.S.") == name_key("US") == "us"
    assert name_key("The Times") == name_key("the Times") == "times"
    assert name_key("Exxon Corp") == name_key("Exxon Corp.") == name_key("EXXON") == "exxon"
    assert name_key("Inc") == "inc"


def test_entities_table_has_one_row_per_entity(parse):
    rows = []
    for i, text in enumerate(["Kiev and the U.S. agreed.", "Kyiv said America would help."]):
        rows += parse(text, f"d{i}")[2]
    table = entities_table(frame("entity_mentions", rows).lazy()).collect()
    assert table["entity_id"].is_unique().all()
    assert {
        r["name"]: (r["n_mentions"], r["n_documents"]) for r in table.iter_rows(named=True)
    } == {
        "Kyiv": (2, 2),
        "United States": (2, 2),
    }


# --- the corpus table from a real run ------------------------------------------------------------

CORPUS = {
    "a.txt": "Kiev talks\n\nU.S. officials met in Kiev on Monday. The United States will help.\n",
    "b.txt": "America and Kyiv\n\nAmericans said America backed Kyiv. Mr Biden agreed.\n",
    "c.txt": (
        "ARGENTINA GRAIN\n\nBUENOS AIRES, March 4 - Argentine exporters shipped 1.5 million "
        "tonnes, 40 pct more than a year ago, the Agriculture Secretariat said on March 3.\n"
    ),
    # a surname alone, in a document of its own, is the person the corpus names in full
    "d.txt": "Blair in London\n\nPrime Minister Tony Blair visited London on Monday.\n",
    "e.txt": "Blair speech\n\nTony Blair, the prime minister, spoke in Manchester.\n",
    "f.txt": (
        "Reform\n\n\u201cWe will win this vote by 40 seats,\u201d Mr Blair told reporters on "
        "Tuesday.\n"
    ),
}


@pytest.fixture(scope="module")
def corpus_runs(tmp_path_factory):
    """The seed article and six small documents, run twice from scratch."""
    mp = pytest.MonkeyPatch()
    runs = []
    for n in range(2):
        base = tmp_path_factory.mktemp(f"entities{n}")
        seeds = base / "seeds"
        seeds.mkdir()
        (seeds / "seed.txt").write_text(SEED_TEXT, encoding="utf-8")
        for name, text in CORPUS.items():
            (seeds / name).write_text(text, encoding="utf-8")
        materialize_all(seeds, base / "data", mp)
        runs.append(base / "data" / "warehouse.duckdb")
    yield runs
    mp.undo()


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow
def test_one_row_per_real_world_entity_across_documents(corpus_runs):
    rows = _query(
        corpus_runs[0],
        "select name, label, country, n_mentions, n_documents from entities "
        "where name in ('United States', 'Kyiv', 'Americans', 'Buenos Aires', 'Argentines')",
    )
    assert sorted(rows) == [
        ("Americans", "NORP", "United States", 1, 1),
        ("Argentines", "NORP", "Argentina", 1, 1),
        ("Buenos Aires", "GPE", "Argentina", 1, 1),
        ("Kyiv", "GPE", "Ukraine", 13, 3),  # 9 in the seed article, 2 in each other
        ("United States", "GPE", "United States", 4, 2),
    ]
    assert _query(corpus_runs[0], "select count(*) from entities where name ilike '%kiev%'") == [
        (0,)
    ]
    duplicates = _query(
        corpus_runs[0], "select name, label from entities group by all having count(*) > 1"
    )
    assert duplicates == []


@pytest.mark.slow
def test_every_mention_has_its_entitys_label_and_no_number_is_an_entity(corpus_runs):
    assert _query(
        corpus_runs[0],
        "select count(*) from entity_mentions m join entities e using (entity_id) "
        "where m.label <> e.label or m.entity_id is null",
    ) == [(0,)]
    labels = {r[0] for r in _query(corpus_runs[0], "select distinct label from entities")}
    assert labels <= ENTITY_LABELS
    assert not labels & {"CARDINAL", "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL"}
    assert _query(
        corpus_runs[0], "select count(*) from entities where regexp_matches(name, '[0-9]')"
    ) == [(0,)]


@pytest.mark.slow
def test_entity_ids_are_stable_across_runs(corpus_runs):
    sql = "select entity_id, name, label, n_mentions from entities order by entity_id"
    first, second = (_query(w, sql) for w in corpus_runs)
    assert first == second and len(first) > 15
    frame_ = pl.DataFrame(first, schema=["entity_id", "name", "label", "n"], orient="row")
    for entity_id, name, label, _ in frame_.iter_rows():
        assert entity_id == entity_id_for(name_key(name), label)


@pytest.mark.slow
def test_a_surname_alone_joins_the_full_name_across_documents(corpus_runs):
    rows = _query(
        corpus_runs[0],
        "select d.source_path, m.text, e.name, e.label from entity_mentions m "
        "join entities e using (entity_id) join documents d using (doc_id) "
        "where m.text like '%Blair%' order by 1",
    )
    assert rows == [
        ("d.txt", "Tony Blair", "Tony Blair", "PERSON"),
        ("e.txt", "Tony Blair", "Tony Blair", "PERSON"),
        ("f.txt", "Blair", "Tony Blair", "PERSON"),
    ]
    assert _query(corpus_runs[0], "select count(*) from entities where name = 'Blair'") == [(0,)]
    quotes = _query(
        corpus_runs[0],
        "select c.speaker, c.speaker_text, e.name from claims c join documents d using (doc_id) "
        "left join entities e on e.entity_id = c.speaker_entity_id "
        "where d.source_path = 'f.txt' and c.claim_type = 'direct_quote'",
    )
    assert quotes == [("Tony Blair", "Mr Blair", "Tony Blair")]


@pytest.mark.slow
def test_speaker_entity_id_is_filled_for_known_speakers(corpus_runs):
    rows = _query(
        corpus_runs[0],
        "select c.speaker, e.name, e.label from claims c "
        "left join entities e on e.entity_id = c.speaker_entity_id "
        "where c.claim_type = 'direct_quote' and c.speaker = 'Franz-Stefan Gady'",
    )
    assert rows and set(rows) == {("Franz-Stefan Gady", "Franz-Stefan Gady", "PERSON")}


@pytest.mark.slow
def test_a_figure_in_a_relinked_quote_is_its_corpus_speakers(corpus_runs):
    # "Mr Blair" in an article of its own is relinked to Tony Blair by the corpus step; the
    # number inside his quote follows the quote, not the name as first written
    rows = _query(
        corpus_runs[0],
        "select a.text, a.speaker, e.name from attributed_quantities a "
        "join documents d using (doc_id) left join entities e on e.entity_id = a.speaker_entity_id "
        "where d.source_path = 'f.txt'",
    )
    assert rows == [("40 seats", "Tony Blair", "Tony Blair")]


def test_whole_word_occurrences_are_what_the_alternation_pattern_finds():
    """The repeated-name scan finds a document's names with `str.find`; it must give what the
    pattern it replaced gives: whole words only, the longest where several start together,
    left to right without overlaps."""
    import random
    import re

    from pipelines.core.entities import whole_word_occurrences

    def by_pattern(text: str, surfaces: set[str]) -> list[tuple[int, str]]:
        alternatives = "|".join(re.escape(s) for s in sorted(surfaces, key=len, reverse=True))
        pattern = r"(?<![\w'’-])(?:" + alternatives + r")(?![\w-])"
        return [(m.start(), m.group()) for m in re.finditer(pattern, text)]

    text = "Mido was axed. Mido's agent and Mido-style play; Middlesbrough's Mido Ahmed, Mido."
    # "Mido's" holds the name (a possessive), "Mido-style" and "Middlesbrough" do not
    assert whole_word_occurrences(text, {"Mido", "Mido Ahmed"}) == [
        (0, "Mido"),
        (15, "Mido"),
        (65, "Mido Ahmed"),
        (77, "Mido"),
    ]
    assert whole_word_occurrences("", {"A"}) == [] and whole_word_occurrences("x", set()) == []
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice("ab AB-'’_é1.,") for _ in range(rng.randint(0, 30)))
        surfaces = {
            "".join(rng.choice("abAB -é") for _ in range(rng.randint(1, 4)))
            for _ in range(rng.randint(1, 5))
        }
        assert whole_word_occurrences(text, surfaces) == by_pattern(text, surfaces), text
