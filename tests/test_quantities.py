"""Quantities: values, units and spans of the hard cases, and what is not a quantity."""

from __future__ import annotations

import pytest

from pipelines.core.quantities import Quantity, find_quantities


@pytest.fixture(scope="module")
def pipeline():
    from pipelines.core.nlp import load_nlp

    return load_nlp()


@pytest.fixture(scope="module")
def quantities(pipeline):
    """Parse a text and return its quantities as (span text, value, unit) triples."""

    def run(text: str) -> list[tuple[str, float, str | None]]:
        doc = pipeline(text)
        return [(doc.text[q.start : q.end], q.value, q.unit) for q in find_quantities(doc)]

    return run


def test_a_hyphenated_measure_keeps_its_unit_and_a_short_span(quantities):
    assert quantities("Satellite images show a 40 mile-long convoy north of the city.") == [
        ("40 mile", 40.0, "mile")
    ]


def test_a_scaled_count_takes_the_lemma_of_its_noun(quantities):
    assert quantities("Russia has massed 1.5 million men on the border.") == [
        ("1.5 million men", 1_500_000.0, "man")
    ]


def test_a_distance_before_a_preposition(quantities):
    assert quantities("The troops were 13 miles from the centre.") == [("13 miles", 13.0, "mile")]


def test_number_words_are_valued(quantities):
    [(span, value, unit)] = quantities("She bought a dozen eggs.")
    assert (span, value, unit) == ("a dozen eggs", 12.0, "egg")
    assert quantities("Two children were hurt.") == [("Two children", 2.0, "child")]
    assert quantities("Debt rose to half a trillion dollars.")[0][1:] == (5e11, "dollar")


def test_reuters_wire_money_and_percent(quantities):
    found = quantities("Net profit rose 3.5 pct to 50 mln dlrs, or 1.2 billion dlrs with sales.")
    assert found == [
        ("3.5 pct", 3.5, "percent"),
        ("50 mln dlrs", 50_000_000.0, "dollar"),
        ("1.2 billion dlrs", 1_200_000_000.0, "dollar"),
    ]


def test_reuters_currencies_and_rates(quantities):
    found = quantities("It paid 20 mln stg, 300 bln yen and five mln dlrs, or 1.07 dlrs a share.")
    assert [(v, u) for _, v, u in found] == [
        (20e6, "pound"),
        (300e9, "yen"),
        (5e6, "dollar"),
        (1.07, "dollar per share"),
    ]


def test_currency_signs(quantities):
    found = quantities("Tickets sell for $6 each, £3.2bn was raised, €5m spent; US$58.24 a barrel.")
    assert found == [
        ("$6", 6.0, "dollar"),
        ("£3.2bn", 3_200_000_000.0, "pound"),
        ("€5m", 5_000_000.0, "euro"),
        ("US$58.24 a barrel", 58.24, "dollar per barrel"),
    ]


def test_a_year_earlier_is_not_a_rate(quantities):
    found = quantities("Revenue rose to $7.36 billion from $6.78 billion a year earlier.")
    assert [(v, u) for _, v, u in found] == [(7.36e9, "dollar"), (6.78e9, "dollar")]


def test_percent_spellings(quantities):
    found = quantities("Shares rose 19 per cent, then 2% and 0.4 percent, and 1.38pc in the end.")
    assert [(v, u) for _, v, u in found] == [
        (19.0, "percent"),
        (2.0, "percent"),
        (0.4, "percent"),
        (1.38, "percent"),
    ]


def test_a_range_gives_two_quantities_with_the_unit(quantities):
    assert quantities("The range grows to 252-287 miles.") == [
        ("252", 252.0, "mile"),
        ("287 miles", 287.0, "mile"),
    ]
    found = quantities("Rates rose between 5 and 10 percent, or by 2 to 3 million dollars.")
    assert [(v, u) for _, v, u in found] == [
        (5.0, "percent"),
        (10.0, "percent"),
        (2e6, "dollar"),
        (3e6, "dollar"),
    ]


def test_a_list_shares_its_unit(quantities):
    found = quantities("Sales were made at 1,870, 1,875 and 1,880 dlrs per tonne.")
    assert [(v, u) for _, v, u in found] == [
        (1870.0, "dollar per tonne"),
        (1875.0, "dollar per tonne"),
        (1880.0, "dollar per tonne"),
    ]
    assert [u for _, _, u in quantities("It costs eight or nine euros.")] == ["euro", "euro"]


def test_years_and_dates_are_not_quantities(quantities):
    assert quantities("In 1987 prices fell.") == []
    assert quantities("The vote is on March 4 and the war ended in April 1945.") == []
    assert quantities("Brexit is due on March 29, said the Oct. 31 report.") == []
    assert quantities("Keytruda's 2018 sales were strong.") == []


def test_times_ordinals_and_identifiers_are_not_quantities(quantities):
    assert quantities("Tickets in Section 427 go on sale at 11 a.m. and 9:35 PM.") == []
    assert quantities("The history of the 22nd amendment is partisan.") == []
    assert quantities("Call 555-123-4567 about COVID-19 before the G7 summit.") == []
    assert quantities("He bought an iPhone 11 and watched the S&P 500.") == []


def test_scores_are_not_quantities(quantities):
    assert quantities("Bristol City came from behind to beat Charlton 2-1.") == []


def test_one_as_a_count_and_as_a_pronoun(quantities):
    assert quantities("It was one of the students.") == [("one", 1.0, "student")]
    assert quantities("You have one solution for it.") == [("one solution", 1.0, "solution")]
    assert quantities("Each one they lose hurts, said the BBC One host.") == []


def test_counted_nouns_keep_their_modifiers(quantities):
    found = quantities("A survey of seven European countries found 14 first-team players.")
    assert [(v, u) for _, v, u in found] == [(7.0, "european country"), (14.0, "first-team player")]


def test_glued_units_and_abbreviations(quantities):
    found = quantities("It has 256GB, a 5.5kWh battery, a 1.0l engine and weighs 45g at 80km/h.")
    assert [(v, u) for _, v, u in found] == [
        (256.0, "gigabyte"),
        (5.5, "kilowatt hour"),
        (1.0, "litre"),
        (45.0, "gram"),
        (80.0, "kilometre per hour"),
    ]


def test_a_bare_number_has_no_unit(quantities):
    assert quantities("The index closed at 13176 while prices rose by an average of 1500.") == [
        ("13176", 13176.0, None),
        ("1500", 1500.0, None),
    ]


def test_spans_are_slices_of_the_text(pipeline):
    text = "Lyft sold 30 million shares at $62 and 68% of 1,100 homes—about 14.5 km (9 miles)."
    doc = pipeline(text)
    found = find_quantities(doc)
    assert len(found) == 6
    assert all(isinstance(q, Quantity) for q in found)
    assert [q.start for q in found] == sorted(q.start for q in found)
    for q in found:
        assert 0 <= q.start < q.end <= len(text)
        assert text[q.start : q.end].strip() == text[q.start : q.end]
        assert any(ch.isdigit() for ch in text[q.start : q.end])


@pytest.mark.parametrize(
    "text",
    [
        "",
        " \n\t ",
        "🙂🙂",
        "9" * 400,
        "$" + "9" * 400 + " billion",
        "1e999 1/0 ,,, ... --- 5-- -5 .5. 3..4 $ £ € % %% 10%%",
        "one two three four hundred thousand million billion dozen half of a",
        "2019-09-01T10:38:07.190Z 12:00:00 +44 (0)20 7946 0958 v1.2.3 192.168.0.1",
        "\u00a05\u00a0km\u00a0and 6 km\u200b/h and ５ km and ٣ miles",
    ],
)
def test_never_raises(pipeline, text):
    found = find_quantities(pipeline(text))
    for q in found:
        assert text[q.start : q.end]
        assert q.value == q.value and abs(q.value) != float("inf")


def test_a_huge_number_is_dropped_not_raised(pipeline):
    assert find_quantities(pipeline("9" * 400)) == []


def test_a_count_after_a_plural_name_is_not_an_identifier(nlp):
    doc = nlp("It took the Soviets 1.5 million men to take that city.")
    found = [(doc.text[q.start : q.end], q.value, q.unit) for q in find_quantities(doc)]
    assert found == [("1.5 million men", 1_500_000.0, "man")]
