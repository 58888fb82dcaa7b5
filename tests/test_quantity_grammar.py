"""Property tests of the number grammar: render random numbers as news writes them, read back.

Each rendering is a class of text the extractor must read (digits with and without thousands
commas, a decimal with a scale word, British glued suffixes after a currency sign, number words
with "and", mixed numbers, signs); the value read back must be the number rendered. Arbitrary
strings of number-like characters must never raise and never give inf or NaN.
"""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.core import quantities
from pipelines.core.quantities import find_quantities
from tests.conftest import SEEDS

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

grammar = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _below_thousand(n: int) -> str:
    """British number words for 1..999: "two hundred and thirty-five"."""
    hundreds, rest = divmod(n, 100)
    parts = [f"{_ONES[hundreds]} hundred"] if hundreds else []
    if rest:
        tens, ones = divmod(rest, 10)
        words = _ONES[rest] if rest < 20 else _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
        parts.append(("and " if hundreds else "") + words)
    return " ".join(parts)


def in_words(n: int) -> str:
    """British number words for 1..999,999."""
    thousands, rest = divmod(n, 1000)
    parts = [f"{_below_thousand(thousands)} thousand"] if thousands else []
    if rest:
        parts.append(("and " if thousands and rest < 100 else "") + _below_thousand(rest))
    return " ".join(parts)


@pytest.fixture(scope="module")
def read(nlp):
    """The values read from a sentence."""

    def run(text: str) -> list[float]:
        return [q.value for q in find_quantities(nlp(text))]

    return run


def test_the_word_renderer_itself():
    assert in_words(235_117) == "two hundred and thirty-five thousand one hundred and seventeen"
    assert in_words(1_005) == "one thousand and five"


@grammar
@given(n=st.integers(1, 999_999))
def test_digits_with_and_without_commas(read, n):
    assert read(f"The ship carried {n} tonnes of grain.") == [n]
    assert read(f"The ship carried {n:,} tonnes of grain.") == [n]


@grammar
@given(n=st.integers(1, 999_999))
def test_number_words(read, n):
    assert read(f"The ship carried {in_words(n)} tonnes of grain.") == [n]


@grammar
@given(
    tenths=st.integers(1, 9999),
    scale=st.sampled_from([("million", 10**6), ("billion", 10**9), ("trillion", 10**12)]),
)
def test_a_decimal_with_a_scale_word_and_a_glued_suffix(read, tenths, scale):
    word, factor = scale
    mantissa = tenths / 10
    assert read(f"The deal was worth {mantissa} {word} dollars.") == [
        pytest.approx(mantissa * factor)
    ]
    suffix = {"million": "m", "billion": "bn", "trillion": "tn"}[word]
    assert read(f"The club was sold for £{mantissa}{suffix} in May.") == [
        pytest.approx(mantissa * factor)
    ]


@grammar
@given(
    whole=st.integers(1, 300),
    fraction=st.sampled_from([(1, 2), (1, 4), (3, 4), (1, 8), (5, 8), (7, 8)]),
)
def test_mixed_numbers(read, whole, fraction):
    num, den = fraction
    assert read(f"The yield was {whole} {num}/{den} percent.") == [pytest.approx(whole + num / den)]


@grammar
@given(hundredths=st.integers(1, 99_999))
def test_signs(read, hundredths):
    value = hundredths / 100
    assert read(f"Output changed by -{value}% in March.") == [pytest.approx(-value)]
    assert read(f"Output changed by minus {value} percent in March.") == [pytest.approx(-value)]


@grammar
@given(text=st.text(alphabet="0123456789,.-/ $%£€kmbnBe½ trillionhundredofdozens", max_size=60))
def test_number_like_text_never_raises_and_stays_finite(nlp, text):
    for q in find_quantities(nlp(text)):
        for value in (q.value, q.value_to, q.si_value, q.si_value_to):
            assert value is None or math.isfinite(value)


# --- the fast patterns are the plain ones --------------------------------------------------------
# Each number pattern is compiled behind a lookahead for the letters a match can start with
# (`quantities._starting`); it must find exactly what the plain pattern finds, characters that
# case-fold to those letters ("ſ", the Kelvin sign) and digits of other scripts included.
FAST_PATTERNS = {
    "_NUMBER": ("_NUMBER_PATTERN", 0),
    "_FRACTION": ("_FRACTION_PATTERN", re.IGNORECASE),
    "_OUT_OF": ("_OUT_OF_PATTERN", re.IGNORECASE),
    "_WORD_NUMBER": ("_WORD_NUMBER_PATTERN", re.IGNORECASE),
    "_VAGUE_AMOUNT": ("_VAGUE_AMOUNT_PATTERN", 0),
}
FOLDING = "ſix ſeven ſcores of ＴＷＯ-thirds of \u212a İ ı ﬁve \u0663 out of \u0665, ONE in FIVE"
PIECES = [
    "a",
    "an",
    "one",
    "two",
    "three",
    "half",
    "third",
    "quarters",
    "dozen",
    "dozens",
    "of",
    "hundred",
    "and",
    "out",
    "in",
    "tens",
    "thousands",
    "millions",
    "the",
    "3",
    "12",
    "ſ",
    "-",
    " ",
    "\u00a0",
    ",",
    ".",
    "\u0663",
    "\u212a",
]


def _matches(pattern: re.Pattern[str], text: str) -> list:
    return [(m.span(), m.groupdict()) for m in pattern.finditer(text)]


@pytest.mark.parametrize("name", FAST_PATTERNS)
def test_a_fast_pattern_finds_what_the_plain_one_finds_in_articles(name):
    source, flags = FAST_PATTERNS[name]
    plain = re.compile(getattr(quantities, source), flags)
    texts = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
    for text in [*texts, FOLDING, FOLDING.upper(), FOLDING.lower()]:
        assert _matches(getattr(quantities, name), text) == _matches(plain, text)


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_a_fast_pattern_finds_what_the_plain_one_finds_in_any_text(text):
    for name, (source, flags) in FAST_PATTERNS.items():
        plain = re.compile(getattr(quantities, source), flags)
        assert _matches(getattr(quantities, name), text) == _matches(plain, text), name


FRACTION_PIECES = [*PIECES, "thİrd", "thırds", "ſixth", "HALVES", "Quarter", "fifths", "a ", "one "]


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(st.lists(st.sampled_from(FRACTION_PIECES), max_size=30).map("".join))
def test_the_fraction_prefilter_never_hides_a_match(text):
    """`_may_hold_fraction` is a cheap test before the fraction pattern: it may say yes for
    nothing, never no for a text the pattern matches (case folding, and the dotted and dotless
    I that `re.IGNORECASE` reads as "i", included)."""
    if quantities._FRACTION.search(text):
        assert quantities._may_hold_fraction(text)


def test_the_fraction_prefilter_says_no_to_text_without_a_denominator():
    assert not quantities._may_hold_fraction("Prices rose by 5% in the first week of May.")
    assert quantities._may_hold_fraction("One thİrd of the vote")
    assert quantities._may_hold_fraction("two thırds of them")
