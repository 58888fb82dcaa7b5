"""Attributed numbers: a quantity inside a quote's content is that quote's speaker's."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.core.attribution import Span, innermost_container, quote_holding


def test_innermost_of_nested_quotes_holds_the_number():
    outer = Span("outer", 0, 100)
    inner = Span("inner", 20, 60)
    assert innermost_container([outer, inner], 30, 40) == "inner"
    assert innermost_container([inner, outer], 30, 40) == "inner"  # order of the list aside
    assert innermost_container([outer, inner], 70, 80) == "outer"


def test_a_span_straddling_a_quotes_edge_is_not_inside_it():
    quote = Span("q", 10, 50)
    assert innermost_container([quote], 45, 55) is None  # crosses the end
    assert innermost_container([quote], 5, 15) is None  # crosses the start
    assert innermost_container([quote], 10, 50) == "q"  # the whole content is inside
    assert innermost_container([quote], 30, 30) is None  # an empty span is no quantity


def test_every_quantity_gets_an_answer():
    quotes = [Span("q", 10, 50)]
    got = quote_holding(quotes, [Span("n1", 12, 20), Span("n2", 60, 70)])
    assert got == {"n1": "q", "n2": None}


def _quantities(claims):
    quotes = {c.claim_id: c for c in claims if c.claim_type != "quantity"}
    return {
        c.text: (quotes[c.in_quote_id].claim_type if c.in_quote_id else None)
        for c in claims
        if c.claim_type == "quantity"
    }


def test_a_number_in_direct_speech_is_the_speakers(parse):
    *_, claims = parse(
        "Budget\n\n\u201cWe will hire 500 nurses this year,\u201d the minister said. "
        "The department already employs 12,000 people.\n"
    )
    got = _quantities(claims)
    assert got["500 nurses"] == "direct_quote"
    assert got["12,000 people"] is None  # the writer's


def test_a_number_in_reported_speech_is_the_speakers(parse):
    *_, claims = parse(
        "Roads\n\nThe mayor said that the city would repair 40 miles of road by June.\n"
    )
    quotes = [c for c in claims if c.claim_type == "indirect_quote"]
    quantities = [c for c in claims if c.claim_type == "quantity" and "40" in c.text]
    assert quotes and quantities
    assert quantities[0].in_quote_id == quotes[0].claim_id


def test_a_scare_quoted_phrase_does_not_make_a_number_someones(parse):
    *_, claims = parse(
        "Rules\n\nThe \u201c10-minute rule\u201d cut waiting times by 3% last year.\n"
    )
    kinds = {c.claim_type for c in claims}
    assert "partial_quote" in kinds  # the phrase is a quote of a word, not of a statement
    assert all(c.in_quote_id is None for c in claims if c.claim_type == "quantity")


@pytest.mark.slow
def test_the_seed_articles_figures_are_linked_as_said(seed_run):
    with duckdb.connect(str(seed_run["warehouse"]), read_only=True) as con:
        said = dict(con.execute("select text, speaker from attributed_quantities").fetchall())
        own = {
            r[0]
            for r in con.execute(
                "select text from claims where claim_type = 'quantity' and in_quote_id is null"
            ).fetchall()
        }
        by_speaker = dict(
            con.execute("select speaker, n_quantities from quotes_by_speaker").fetchall()
        )
    assert said["1.5 million men"] == "Franz-Stefan Gady"
    assert said["500 miles"] == "The woman"
    assert "13 miles" in own
    assert any("40 mile" in text for text in own)  # the convoy is the writer's
    assert by_speaker["Franz-Stefan Gady"] == 1


@pytest.mark.slow
def test_a_quote_without_a_speaker_still_holds_its_number(tmp_path, monkeypatch):
    from tests.conftest import materialize_all

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    # a quote with no cue and no speaker in reach: its figure is inside a quote, no speaker found
    (seeds / "a.txt").write_text(
        "Notes\n\n\u201cThe plant will close in 18 months and 300 jobs will go.\u201d\n",
        encoding="utf-8",
    )
    materialize_all(seeds, tmp_path / "data", monkeypatch)
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select text, speaker, quote_type from attributed_quantities order by text"
        ).fetchall()
    assert rows and all(speaker is None for _, speaker, _ in rows)
    assert {text for text, *_ in rows} >= {"300 jobs"}
