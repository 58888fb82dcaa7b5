"""Property tests of the number grammar: render random numbers as news writes them, read back.

Each rendering is a class of text the extractor must read (digits with and without thousands
commas, a decimal with a scale word, British glued suffixes after a currency sign, number words
with "and", mixed numbers, signs); the value read back must be the number rendered. Arbitrary
strings of number-like characters must never raise and never give inf or NaN.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.core.quantities import find_quantities

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
