"""Quantities in news text: every number with its normalised value, unit, qualifier and concept.

Numbers are found on the raw text with compiled patterns, because the tokenizer does not split
glued forms the same way every time ("15kHz" is one token, "45g" two). spaCy's tags, parse and
entities then decide what the text alone cannot: which noun a bare number counts ("16 soldiers"
-> soldier), what the quantity measures (its concept: "a 40 mile-long convoy" -> convoy), and
which numbers are not quantities at all (years, dates, times, ordinals, identifiers such as
"Section 427" or "COVID-19", scores such as "2-1").

Conventions follow NewsQuant (Almasian et al., CQE 2023) and the warehouse contract: values are
normalised ("1.5 million" -> 1500000, "a dozen" -> 12, "dozens" -> 12 to 120); units are
singular, lower case, British names ("mile", "percent", "kilometre per hour", "pound sterling");
a number that counts a noun takes the noun's lemma with its modifiers ("seven European
countries" -> european country); a bare number has no unit. A range ("252-287 miles", "between
5 and 10 percent") is one quantity with two values. The unit forms, currencies and SI
conversions are data (data/units.tsv, built from pint and ISO 4217 by scripts/build_units.py);
the word tables are data/quantity_words.tsv; both are read by pipelines.core.quantity_data.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import pairwise

from spacy.tokens import Doc, Token

from pipelines.core.doc_arrays import text_of, token_index_at, token_starts
from pipelines.core.lemmas import lemma_of
from pipelines.core.quantity_data import units, word_numbers, word_set, words


@dataclass(frozen=True)
class Quantity:
    """One quantity: where it is in the text, its normalised value(s), unit and context."""

    start: int  # character offset into text_of(doc)
    end: int  # exclusive; text_of(doc)[start:end] is the quantity span, e.g. "1.5 million men"
    value: float  # normalised: "1.5 million" -> 1500000.0, "a dozen" -> 12; a range's first value
    unit: str | None  # singular, lower case: "mile", "man", "percent"; None for a bare count
    value_to: float | None = None  # a range's second value, as written
    currency: str | None = None  # ISO 4217 for money
    change: str = "="  # = ~ > < up down
    concept: str | None = None  # what is measured or counted, as written
    si_value: float | None = None
    si_value_to: float | None = None
    si_unit: str | None = None


# --- Units -----------------------------------------------------------------------------------
# Kinds: a measure or currency or percent from the table is a unit in its own right; a "count" is
# a noun the number counts, found in the parse; None is a bare number.
MEASURE, CURRENCY, PERCENT, COUNT = "measure", "currency", "percent", "count"
_UNITS = units()
_UNIT_OF: dict[str, str] = {form: u.name for form, u in _UNITS.word.items()}  # lower -> name
_CASED_UNITS: dict[str, str] = {form: u.name for form, u in _UNITS.cased.items()}
_GLUED_UNITS: dict[str, str] = {form: u.name for form, u in _UNITS.glued.items()}


def _unit_kind(unit: str) -> str:
    """A table unit's kind: percent, currency, or measure."""
    known = _UNITS.by_name.get(unit)
    return known.kind if known else MEASURE


def _starting(first: Iterable[str], pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`pattern` behind a lookahead for the characters a match can begin with (the first letters
    of `first`, in any case, and `\\d` for a form that is a digit): the same matches, but the
    engine skips to those characters instead of trying the whole pattern at every one, which
    made the number patterns 2-4 times faster over an article (tested against the plain
    pattern)."""
    letters = "".join(sorted({w[0].lower() for w in first if not w[0].isdigit()}))
    digit = r"\d" if any(w[0].isdigit() for w in first) else ""
    return re.compile(rf"(?=(?i:[{re.escape(letters)}{digit}]))(?:{pattern})", flags)


def _alternation(forms: list[str], ignore_case: bool) -> str:
    """Regex alternatives, longest first, spaces matching any run of blanks."""
    parts = []
    for form in sorted(set(forms), key=len, reverse=True):
        body = r"\s+".join(re.escape(word) for word in form.split(" "))
        parts.append(f"(?i:{body})" if ignore_case else body)
    return "|".join(parts)


_UNIT_ALTERNATIVES = "|".join(
    (_alternation(list(_CASED_UNITS), False), _alternation(list(_UNIT_OF), True))
)
# A unit after a number: glued ("45g"), after one or two blanks ("13 miles") or a hyphen
# ("40-mile"); a word unit is never followed by a letter, so "5 minutes" does not stop at "min".
# A unit that ends in a sign may touch the next word ("5%to", "20°c" is still "°c").
_UNIT_END = r"(?:(?<![A-Za-z])|(?![A-Za-z]))"
_UNIT_SPACED = re.compile(rf"(?:[ \u00a0]{{1,2}}|-)?(?P<unit>{_UNIT_ALTERNATIVES}){_UNIT_END}")
_UNIT_GLUED = re.compile(rf"(?P<unit>{_alternation(list(_GLUED_UNITS), False)})(?![A-Za-z])")

# "$14.95 a month", "US$58.24 per barrel", "$10/gram": a rate, not a year-earlier comparison.
_DENOMINATORS: dict[str, str] = words()["rate_denominator"]
_PER = re.compile(
    r"(?:[ ]*/[ ]*|[ ]+(?:per|a|an)[ ]+)(?P<den>"
    + _alternation([*_DENOMINATORS, *(d + "s" for d in _DENOMINATORS)], True)
    + r")(?![A-Za-z])(?![ ]+(?:earlier|ago|later|before|after|prior|back|previously)\b)"
)

# --- Numbers ---------------------------------------------------------------------------------
# Digits with thousands commas ("80,000", and "80, 000" where a space slipped in after the comma
# of a zero group), decimals, or a leading point.
_NUMBER_PATTERN = (
    r"(?<![\d.,])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:,[ ]000)+(?![\d,])|\d+(?:\.\d+)?)"
    r"|(?<![\w.,])\.\d+"
)
_NUMBER = _starting(["0", "."], _NUMBER_PATTERN)
# A mixed number or a vulgar fraction after the whole: "7 3/4", "101 1/4", "2½".
_MIXED = re.compile(r"(?:[ \u00a0-](?P<n>\d)/(?P<d>\d{1,2})|(?P<v>[½¼¾⅓⅔⅛]))(?![\d/])")
_VULGAR = {"½": 0.5, "¼": 0.25, "¾": 0.75, "⅓": 1 / 3, "⅔": 2 / 3, "⅛": 0.125}


def _prefix_pattern() -> re.Pattern[str]:
    """Money signs and codes right before a number ("HK$", "$US", "USD ", "Y100", "PS5")."""
    signs, codes, glued = [], [], []
    for form in _UNITS.prefix:
        if not form.isalpha():
            signs.append(form)  # "$", "HK$", "Rs.": any case ("hk$" in lower-case text)
        elif len(form) <= 2:
            glued.append(form)  # "Y", "PS", "RM": only glued, else they read as words
        else:
            codes.append(form)
    return re.compile(
        rf"(?:(?P<sym>{_alternation(signs, True)})[ \u00a0]?"
        rf"|(?<![A-Za-z])(?P<code>{_alternation(codes, False)})[ \u00a0]?"
        rf"|(?<![A-Za-z])(?P<glued>{_alternation(glued, False)}))$"
    )


_CURRENCY_PREFIX = _prefix_pattern()
_PREFIX_UNITS: dict[str, str] = {
    re.sub(r"[ \u00a0]", "", form).lower(): u.name for form, u in _UNITS.prefix.items()
}
_SCALES: dict[str, int] = word_numbers("scale")
# Standard race distances keep "m" as metres even before a plural ("the 60m hurdles").
_RACE_DISTANCES = word_set("race_distance")
_SCALE_GLUED = re.compile(r"(?:k|K|mn|mln|bn|b|B|m|M|tn|trn)(?![A-Za-z])")
_SCALE_NAMES = "hundred|thousand|lakh|million|mln|mn|crore|billion|bln|bn|trillion|tln|trn|tn"
# One or more scale words after the number ("4 hundred million"), or a spaced capital B ("8 B").
_SCALE_WORD = re.compile(
    rf"(?P<scale>(?:[ \u00a0]+(?i:{_SCALE_NAMES})(?![A-Za-z]))+|[ \u00a0]B(?![A-Za-z]))"
)
_SMALL_WORDS: dict[str, int] = word_numbers("small_number")
_BIG_WORDS = "hundred|thousand|million|billion|trillion|dozen"
_SMALL_ALT = "|".join(w for w in _SMALL_WORDS if w not in ("zero", "nought"))
_WORD_NUMBER_PATTERN = (
    rf"\b(?:(?:half[ \u00a0-])?an?[ \u00a0]+(?:{_BIG_WORDS})|{_SMALL_ALT}|dozen)"
    rf"(?:(?:[ \u00a0-]+|(?:(?<=hundred)|(?<=thousand)|(?<=million)|(?<=billion))"
    rf"[ \u00a0]+and[ \u00a0]+(?=(?:{_SMALL_ALT})\b))"
    rf"(?:{_SMALL_ALT}|{_BIG_WORDS}))*\b"
)
_WORD_NUMBER = _starting(
    ["half", "a", *_SMALL_ALT.split("|"), "dozen"], _WORD_NUMBER_PATTERN, re.IGNORECASE
)
_DENOMINATOR_VALUES = word_numbers("fraction_denominator")
_DENOMINATOR_FORMS = "|".join(
    sorted(
        {
            f
            for d in _DENOMINATOR_VALUES
            for f in (d, d + "s", d[:-1] + "ves" if d == "half" else d)
        },
        key=len,
        reverse=True,
    )
)
# "half of", "a third of", "two-thirds of"; "one fourth", "three quarters" with a numerator;
# "half the condos": half before a determiner.
_NUMERATORS = r"an?|one|two|three|four|five|six|seven|eight|nine"
_FRACTION_PATTERN = (
    rf"\b(?:(?P<num>{_NUMERATORS})[\s-]+)?"
    rf"(?P<den>{_DENOMINATOR_FORMS})\b"
    r"(?P<of>(?=\s+of\b)|(?=\s+(?:the|its|their|his|her|our|all|a|an)\b))?"
)
_DENOMINATOR_WORDS = tuple(_DENOMINATOR_FORMS.split("|"))
_FRACTION = _starting(
    [*_NUMERATORS.split("|"), *_DENOMINATOR_WORDS], _FRACTION_PATTERN, re.IGNORECASE
)
_NUMERATOR_VALUES = {"a": 1, "an": 1, **_SMALL_WORDS}


def _may_hold_fraction(text: str) -> bool:
    """Whether a denominator ("half", "thirds", "quarter") occurs in `text` at all, by plain
    substring tests: most articles have none, and the fraction pattern, whose lookahead lets it
    start at nearly every word ("a", "one", "the"), took about 2 % of the extraction to find
    nothing. Never false when the pattern matches: besides the case folding, `re.IGNORECASE`
    also equates the dotless and the dotted I with "i" (casefold keeps the one and writes the
    other as "i" and a combining dot, dropped here; a false yes only costs the search)."""
    folded = text.casefold().replace("\u0131", "i").replace("\u0307", "")
    return any(form in folded for form in _DENOMINATOR_WORDS)


# "one out of three", "2 out of 5", "one in five", "one of four": a share, read as one value
# (with "of"/"in" only between small numbers, the first the smaller: not "one in 2019").
_OUT_OF_PATTERN = (
    rf"\b(?P<num>\d{{1,9}}|{_SMALL_ALT})[ \u00a0]+(?P<link>out[ \u00a0]+of|of|in)[ \u00a0]+"
    rf"(?P<den>\d{{1,9}}|{_SMALL_ALT})\b(?![.,]\d)"
)
_OUT_OF = _starting(["0", *_SMALL_ALT.split("|")], _OUT_OF_PATTERN, re.IGNORECASE)
# "dozens of", "tens of millions of dollars": vague amounts, ranges as NewsQuant writes them.
_VAGUE: dict[str, tuple[float, float]] = {
    phrase: (float(v.split("-")[0]), float(v.split("-")[1]))
    for phrase, v in words()["vague_amount"].items()
}
_VAGUE_AMOUNT_PATTERN = (
    rf"\b(?P<phrase>{_alternation(list(_VAGUE), True)})(?=[ \u00a0]+of[ \u00a0]+[A-Za-z])"
)
_VAGUE_AMOUNT = _starting(list(_VAGUE), _VAGUE_AMOUNT_PATTERN)

# --- Context ---------------------------------------------------------------------------------
_TIME_AFTER = re.compile(
    r"[ \u00a0]?(?:(?i:[ap]\.[ ]?m\b\.?|[ap]m\b|o'clock)|(?:GMT|UTC|BST|CET|[ECMP][SD]T)\b)"
)
_RANGE_LINK = re.compile(r"[ \u00a0]*(?:-|–|—|to|or|and|,)[ \u00a0]*", re.IGNORECASE)
# The links that make two numbers one range (not a list): "5-10", "1 to 1.5", "between 5 and 10".
_RANGE_ONE = re.compile(r"[ \u00a0]*(?:-|–|—|to|-to-)[ \u00a0]*", re.IGNORECASE)
_MONTHS = word_set("month")
_AMBIGUOUS_MONTHS = word_set("ambiguous_month")
_WEEKDAYS = word_set("weekday")
_YEAR_PREPOSITIONS = word_set("year_preposition")
# Words after which a number names something: "Section 427", "No. 1", "Row 21".
_IDENTIFIER_WORDS = word_set("identifier_word")
# Words that stop "one" being a count: "each one", "the same one", "no one".
_PRONOUN_ONE_BEFORE = word_set("pronoun_one_before")
_IDENTIFIER_ENTITIES = {
    "ORG",
    "PRODUCT",
    "WORK_OF_ART",
    "LAW",
    "FAC",
    "EVENT",
    "PERSON",
    "GPE",
    "LOC",
    "NORP",
    "LANGUAGE",
}
# Modifiers that do not belong in a counted unit: "eight more picks" counts picks.
_LOOSE_MODIFIERS = word_set("loose_modifier")
_RANK_WORDS = word_set("rank_word")
_US_MARKERS = word_set("us_marker")
_NOUN_TAGS = {"NN", "NNS", "NNP", "NNPS"}
_MODIFIER_TAGS = {"JJ", "NN", "NNS", "NNP", "NNPS", "VBN", "VBG", "JJR", "JJS", "HYPH", "RBS"}
# Qualifiers: "about 5" ~, "more than 5" >, "up to 5" <, "rose 5%" up, "-1.3%" down.
_CHANGE_BEFORE: dict[str, str] = words()["change_before"]
_CHANGE_AFTER: dict[str, str] = words()["change_after"]
_CHANGE_BEFORE_RE = re.compile(
    rf"(?<![A-Za-z])(?P<q>{_alternation(list(_CHANGE_BEFORE), True)})"
    r"(?:[ \u00a0]+(?i:by|from))?(?:[ \u00a0]+|(?<=~))$"
)
_CHANGE_AFTER_RE = re.compile(
    rf"[ \u00a0-]+(?P<q>{_alternation(list(_CHANGE_AFTER), True)})(?![A-Za-z])"
)


@dataclass
class _Candidate:
    """A number being read: its span, value and unit as far as known."""

    start: int
    end: int
    num_start: int  # where the number itself starts, after any currency sign
    num_end: int  # end of the number and its scale word, before any unit
    value: float
    raw: Decimal
    scale: int
    unit: str | None = None
    kind: str | None = None
    is_word: bool = False
    digits: str = ""
    prefixed: bool = False  # a currency sign or code came before the number
    pair_left: bool = False  # glued to a number before it ("252-287": this is 287)
    pair_right: bool = False  # glued to a number after it (this is 252)
    rejected: bool = False
    is_year: bool = False
    value_to: float | None = None  # a range's second value
    vague: bool = False  # "dozens", "tens of millions": a range from words


class _Text:
    """The document with a quick character -> token lookup."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.text = text_of(doc)
        self.starts = token_starts(doc)  # each token's .idx

    def token_at(self, char: int) -> Token | None:
        """The token covering (or just before) a character offset."""
        i = token_index_at(self.doc, char)
        return self.doc[i] if 0 <= i < len(self.doc) else None

    def token_from(self, char: int) -> Token | None:
        """The first token starting at or after a character offset."""
        i = bisect_right(self.starts, char - 1)
        return self.doc[i] if i < len(self.doc) else None

    def char(self, i: int) -> str:
        """The character at i, or NUL outside the text: a character no accepted text holds, so
        `char(i) in "-−"` is False there (the empty string is in every string, and a number at
        the start of a document would take the document's last character for its sign)."""
        return self.text[i] if 0 <= i < len(self.text) else "\x00"


def find_quantities(doc: Doc) -> list[Quantity]:
    """All quantities in a parsed document, in text order."""
    if not text_of(doc).strip():
        return []
    ctx = _Text(doc)
    candidates = (
        _digit_candidates(ctx)
        + _word_candidates(ctx)
        + _fraction_candidates(ctx)
        + _vague_candidates(ctx)
    )
    candidates = _without_overlaps(candidates)
    for cand in candidates:
        if cand.kind is None and not cand.rejected:
            _attach_counted_noun(ctx, cand)
    previous: _Candidate | None = None
    for cand in candidates:
        if not cand.rejected:
            cand.rejected = _is_not_a_quantity(ctx, cand) or _ends_year_range(ctx, previous, cand)
        previous = cand
    kept = [c for c in candidates if not c.rejected]
    _resolve_ranges(ctx, kept)
    kept = _join_ranges(ctx, [c for c in kept if not c.rejected])
    kept = [c for c in kept if _finite(c.value) and _finite(c.value_to or 0.0)]
    changes = _restatements(ctx, kept, [_change(ctx, c) for c in kept])
    concepts = _shared_concepts(ctx, kept, [_concept(ctx, c) for c in kept])
    concepts = [concept or None for concept in concepts]
    return [
        _quantity(ctx, c, change, concept)
        for c, change, concept in zip(kept, changes, concepts, strict=True)
    ]


def _finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))


def _quantity(ctx: _Text, cand: _Candidate, change: str, concept: str | None) -> Quantity:
    """The public record of a candidate: value(s), unit, currency, change, concept, SI."""
    known = _UNITS.by_name.get(cand.unit or "")
    si_value = si_value_to = si_unit = None
    if known is not None and known.si_unit and cand.kind == MEASURE:
        # A change of a temperature ("dropped by 1.8 degrees") is a difference: no offset.
        offset = 0.0 if change in ("up", "down") or _after_by(ctx, cand) else known.si_offset
        si_unit = known.si_unit
        si_value = _si(cand.value, known.si_factor, offset)
        if cand.value_to is not None:
            si_value_to = _si(cand.value_to, known.si_factor, offset)
    currency = None
    if known is not None and cand.kind == CURRENCY:
        currency = known.currency
    elif cand.kind == CURRENCY and cand.unit and " per " in cand.unit:
        base = _UNITS.by_name.get(cand.unit.split(" per ")[0])
        currency = base.currency if base else None
    return Quantity(
        cand.start,
        cand.end,
        cand.value,
        cand.unit,
        cand.value_to,
        currency,
        change,
        concept,
        si_value,
        si_value_to,
        si_unit,
    )


def _si(value: float, factor: float, offset: float) -> float | None:
    """value in SI, rounded to 12 significant digits (64373.76 m, not 64373.760000000002)."""
    converted = value * factor + offset
    return float(f"{converted:.12g}") if _finite(converted) else None


# --- Candidates ------------------------------------------------------------------------------
def _digit_candidates(ctx: _Text) -> list[_Candidate]:
    """Numbers written in digits, with sign, currency, scale ("1.5 million", "25k") and unit."""
    text = ctx.text
    found = []
    for match in _NUMBER.finditer(text):
        s, e = match.span()
        digits = match.group()
        if len(digits) > 330:
            continue  # past any float (1.8e308): a run of digits, not a number to read
        try:
            raw = Decimal(digits.replace(",", "").replace(" ", ""))
        except InvalidOperation:
            continue  # a number the grammar cannot read is skipped
        cand = _Candidate(s, e, s, e, 0.0, raw, 1, digits=digits)
        sign = _sign_before(ctx, s)
        negative = sign < s
        prefix = _CURRENCY_PREFIX.search(text, max(0, sign - 8), sign)
        if prefix and prefix.group("glued") and len(prefix.group()) == 1 and ctx.char(e).isalpha():
            prefix = None  # "Y2K" is a name; "Y100 bln" is yen
        if prefix:
            key = re.sub(r"[ \u00a0]", "", prefix.group()).lower()
            cand.unit, cand.kind = _PREFIX_UNITS.get(key, "dollar"), CURRENCY
            cand.start, cand.prefixed = prefix.start(), True
            if not negative:
                sign = _sign_before(ctx, prefix.start(), words=False)  # "-$5", not "minus $5"
                negative, cand.start = sign < prefix.start(), sign
        else:
            cand.start = sign
        if negative:
            cand.raw = -cand.raw
        cand.rejected = _glued_to_other_text(ctx, cand)
        if not cand.rejected:
            _read_suffixes(ctx, cand)
        if _ends_hyphenated_range(ctx, s) and cand.kind != MEASURE:
            cand.rejected = True  # "a 3-to-1 vote" is a margin, not a range of votes
        found.append(cand)
    return found


_MINUS_WORD = re.compile(r"(?<![A-Za-z])(?i:minus|negative)[ \u00a0]+$")


def _sign_before(ctx: _Text, s: int, words: bool = True) -> int:
    """Where a minus sign before position s starts ("-1.3%", "$-50.8bn", "minus 5"), else s.

    A hyphen is a minus only after a blank, a bracket or a sign and not after a number ("5 - 10"
    is a range, "COVID-19" a name)."""
    if ctx.char(s - 1) in "-−" and (s < 2 or ctx.char(s - 2) in " \t\n\u00a0([{$£€¥:;="):
        before = ctx.text[max(0, s - 12) : s - 1].rstrip()
        if not before or not before[-1].isdigit():
            return s - 1
    if words:
        minus = _MINUS_WORD.search(ctx.text, max(0, s - 12), s)
        if minus:
            return minus.start()
    return s


def _glued_to_other_text(ctx: _Text, cand: _Candidate) -> bool:
    """True for digits that are part of a word, code, time or date ("G7", "17:22", "9/11")."""
    s, e = cand.num_start, cand.end
    before, before2 = ctx.char(s - 1), ctx.char(s - 2)
    after, after2 = ctx.char(e), ctx.char(e + 1)
    if not cand.prefixed and (before.isalpha() or before in "#_@"):
        return True
    if before in "-–" and before2.isalpha() and not _ends_hyphenated_range(ctx, s):
        return True  # COVID-19, TA-35, last-32; not the end of "a 0-to-60-mph time"
    if (before in ":/)" and before2.isdigit()) or (after in ":/)" and after2.isdigit()):
        return True  # times, dates, fractions written 1/8, phone numbers like (0)20
    if after in ".," and after2.isdigit():
        return True  # version numbers, addresses, 1,5 written the European way
    cand.pair_left = before in "-–" and before2.isdigit()
    cand.pair_right = after in "-–" and after2.isdigit()
    return cand.pair_left and cand.pair_right  # dates and phone numbers: 2019-09-01


def _ends_hyphenated_range(ctx: _Text, s: int) -> bool:
    """ "0-to-60-mph": the second number of a range written as one compound adjective."""
    return ctx.text[max(0, s - 4) : s].lower() == "-to-" and ctx.char(s - 5).isdigit()


# "0-to-60-mph", "5-to-10-minute": a range glued into a compound adjective, the unit after
_HYPHENATED_RANGE = re.compile(r"-(?i:to)-\d+(?:\.\d+)?-(?P<unit>[A-Za-z/]+)\b")


def _starts_hyphenated_range(ctx: _Text, end: int) -> bool:
    """ "0-to-60-mph": the first number of a range of a measure written as one adjective."""
    match = _HYPHENATED_RANGE.match(ctx.text, end)
    return match is not None and (
        match.group("unit").lower() in _UNIT_OF or match.group("unit") in _GLUED_UNITS
    )


def _read_suffixes(ctx: _Text, cand: _Candidate) -> None:
    """Scale, unit and rate after a number in digits; reject glued letters that are neither."""
    text, pos = ctx.text, cand.end
    if (
        text.startswith("G", pos)
        and not ctx.char(pos + 1).isalnum()
        and cand.digits in {"2", "3", "4", "5", "6"}
    ):
        # Mobile network generations, as the gold reads them: "5G" -> 5 "generation wireless".
        cand.unit, cand.kind, cand.end = "generation wireless", MEASURE, pos + 1
        cand.value = float(cand.raw)
        return
    glued = _SCALE_GLUED.match(text, pos)
    if glued:
        word = glued.group()
        small_k = word in ("k", "K") and cand.raw < 10 and not cand.prefixed  # "4K" video
        metre = word in ("m", "b") and not cand.prefixed and not _counts_millions(ctx, cand, glued)
        if not (small_k or metre):
            cand.scale, pos = _SCALES[word.lower()], glued.end()
    mixed = _MIXED.match(text, pos) if cand.scale == 1 else None
    if mixed and "." not in cand.digits:
        part = _mixed_part(mixed)
        if part is not None:
            cand.raw += Decimal(part) if cand.raw >= 0 else -Decimal(part)
            pos = mixed.end()
    if cand.scale == 1:
        spaced = _SCALE_WORD.match(text, pos)
        if spaced:
            cand.scale, pos = _scale_of(spaced.group("scale")), spaced.end()
    cand.num_end = cand.end = pos
    cand.value = _to_float(cand.raw * cand.scale)
    _read_unit(ctx, cand)
    if ctx.char(cand.end).isalpha() and ctx.char(cand.end - 1).isalnum():
        cand.rejected = True  # "10th", "1990s", "9AB8", "5am"


def _mixed_part(match: re.Match[str]) -> float | None:
    """The fraction of a mixed number ("3/4" of "7 3/4"), when it is a proper fraction."""
    if match.group("v"):
        return _VULGAR[match.group("v")]
    num, den = int(match.group("n")), int(match.group("d"))
    return num / den if 0 < num < den else None


def _scale_of(words: str) -> int:
    """The product of spaced scale words: "hundred million" -> 10**8, "B" -> 10**9."""
    scale = 1
    for word in words.split():
        scale *= _SCALES[word.lower()]
    return scale


def _counts_millions(ctx: _Text, cand: _Candidate, glued: re.Match[str]) -> bool:
    """A glued "m" before a plural noun is millions ("1.4m workers"), else metres ("60m")."""
    if glued.group() != "m" or cand.digits in _RACE_DISTANCES:
        return False
    following = ctx.token_from(glued.end())
    return following is not None and following.tag_ in ("NNS", "NNPS")


def _read_unit(ctx: _Text, cand: _Candidate) -> None:
    """The table unit right after the number, and a rate ("a month", "per share") after it."""
    text, pos = ctx.text, cand.end
    glued = _UNIT_GLUED.match(text, pos) if ctx.char(pos).isalpha() else None
    spaced = _UNIT_SPACED.match(text, pos)
    if glued and (not spaced or glued.end() >= spaced.end()):
        unit = _GLUED_UNITS[glued.group("unit")]
        end = glued.end()
    elif spaced:
        surface = spaced.group("unit")
        unit = _CASED_UNITS.get(surface) or _UNIT_OF.get(_squash(surface).lower(), "")
        end = spaced.end()
    else:
        unit, end = "", pos
    if unit:
        kind = _unit_kind(unit)
        if cand.prefixed and kind != CURRENCY:
            unit = ""  # "$5 billion": the sign is the unit; "$10 kW" is not a thing
        elif not cand.prefixed:
            cand.unit, cand.kind = unit, kind
        if unit:
            cand.end = end
    if cand.kind in (CURRENCY, MEASURE):
        rate = _PER.match(text, cand.end)
        if rate:
            den = _squash(rate.group("den")).lower()
            den = _DENOMINATORS.get(den) or _DENOMINATORS.get(den[:-1], den)
            cand.unit, cand.end = f"{cand.unit} per {den}", rate.end()


def _word_candidates(ctx: _Text) -> list[_Candidate]:
    """Numbers in words: "two children", "a dozen eggs", "seven miles", "fifty years"."""
    text = ctx.text
    found = []
    for match in _WORD_NUMBER.finditer(text):
        words = re.split(r"[\s-]+", match.group().lower())
        value = _words_value(words)
        if value is None:
            continue
        s, e = match.span()
        cand = _Candidate(s, e, s, e, float(value), Decimal(value), 1, is_word=True)
        cand.digits = match.group()
        if ctx.char(s - 1) == "-" and ctx.char(s - 2).isalpha():
            cand.rejected = True  # "one-on-one", "Under-Twenty"
        scale = _SCALE_WORD.match(text, e)
        if scale and not any(w in _SCALES for w in words):
            cand.scale = _scale_of(scale.group("scale"))  # Reuters: "five mln dlrs"
            cand.value *= cand.scale
            cand.end = cand.num_end = scale.end()
        _read_unit(ctx, cand)
        if cand.kind is None and ctx.char(e) == "-" and ctx.char(e + 1).isalpha():
            cand.rejected = True  # "one-time", "five-star"
        found.append(cand)
    return found


def _words_value(words: list[str]) -> float | None:
    """The value of number words: ["two", "hundred"] -> 200; None when they do not add up."""
    if words[0] == "half":
        whole = _words_value(words[1:])
        return None if whole is None else whole / 2  # "half a million"
    total = current = 0
    previous_small = False
    for word in words:
        if word == "and":
            continue  # "one hundred and twenty"
        if word in ("a", "an"):
            current = 1
            continue
        if word in _SMALL_WORDS:
            small = _SMALL_WORDS[word]
            if previous_small and not (current % 10 == 0 and current >= 20 and small < 10):
                return None  # "one two" is a list, not a number
            current += small
            previous_small = True
            continue
        previous_small = False
        if word == "hundred":
            current = (current or 1) * 100
        elif word == "dozen":
            current = (current or 1) * 12
        else:
            total += (current or 1) * _SCALES[word]
            current = 0
    return total + current


_AFTER_WHOLE = word_set("before_whole_half")  # "the first half of the year"


def _fraction_candidates(ctx: _Text) -> list[_Candidate]:
    """Fractions: "half of", "half the", "a third of", "one fourth", "one out of three"."""
    found = []
    matches = _FRACTION.finditer(ctx.text) if _may_hold_fraction(ctx.text) else ()
    for match in matches:
        num = (match.group("num") or "").lower()
        den = match.group("den").lower()
        den = "half" if den in ("halves", "half") else den.rstrip("s")
        if den not in _DENOMINATOR_VALUES:
            continue
        if (not num or num in ("a", "an")) and match.group("of") is None:
            continue  # "the final third", "a quarter past": only "a third of", "half the"
        if not num and den != "half":
            continue  # "the final third of the pitch"
        previous = ctx.text[max(0, match.start() - 12) : match.start()].split()
        if not num and previous and previous[-1].lower() in _AFTER_WHOLE:
            continue  # "the first half of the year"
        value = _NUMERATOR_VALUES.get(num, 1) / _DENOMINATOR_VALUES[den]
        if value >= 1:
            continue  # "five quarters in a row" are periods, not a share
        s, e = match.span()
        cand = _Candidate(s, e, s, e, value, Decimal(value), 1, is_word=True)
        cand.digits = match.group()
        found.append(cand)
    for match in _OUT_OF.finditer(ctx.text):
        num, den = (_SMALL_WORDS.get(g.lower()) or int(g) for g in match.group("num", "den"))
        if not den or num > den:
            continue
        if not match.group("link").lower().startswith("out") and (num >= den or den > 100):
            continue  # "one in 2019", "two of two": not shares
        s, e = match.span()
        cand = _Candidate(s, e, s, e, num / den, Decimal(num) / Decimal(den), 1, is_word=True)
        cand.digits = match.group()
        found.append(cand)
    return found


def _vague_candidates(ctx: _Text) -> list[_Candidate]:
    """Plural scale words: "dozens of people" is 12 to 120, "tens of millions" 10**7 to 10**8."""
    found = []
    for match in _VAGUE_AMOUNT.finditer(ctx.text):
        low, high = _VAGUE[_squash(match.group("phrase")).lower()]
        s, e = match.span()
        cand = _Candidate(s, e, s, e, low, Decimal(low), 1, is_word=True, vague=True)
        cand.value_to = high
        cand.digits = match.group()
        if ctx.char(s - 1) == "-" or (s > 0 and ctx.text[max(0, s - 7) : s].lower() == "in the "):
            continue  # "in the hundreds" is a level, not an amount
        found.append(cand)
    return found


def _without_overlaps(candidates: list[_Candidate]) -> list[_Candidate]:
    """Candidates in text order, the longest winning where two overlap."""
    ordered = sorted(candidates, key=lambda c: (c.start, -(c.end - c.start)))
    kept: list[_Candidate] = []
    for cand in ordered:
        if kept and cand.start < kept[-1].end:
            continue
        kept.append(cand)
    return kept


# --- Counted nouns ---------------------------------------------------------------------------
def _attach_counted_noun(ctx: _Text, cand: _Candidate) -> None:
    """Give a bare number the noun it counts: "16 soldiers" -> soldier, "one of the students"."""
    last = ctx.token_at(cand.end - 1)
    if last is None or last.idx + len(last) > cand.end or cand.pair_right:
        return  # glued into a longer token, or the first half of "252-287"
    if _attach_noun_before(ctx, cand, last):
        return
    following = ctx.token_from(cand.end)
    if following is None:
        return
    if ctx.char(cand.end) == "-" and following.i + 1 < len(ctx.doc):
        # A compound adjective: "a 12-man squad", "a 100-page report"; not "1,000-strong".
        noun = ctx.doc[following.i + 1]
        if noun.idx == cand.end + 1 and noun.pos_ == "NOUN" and noun.is_alpha:
            cand.unit, cand.kind = _counted_unit(ctx, noun, noun), COUNT
            cand.end = noun.idx + len(noun)
        return
    found = _noun_run(following, cand.value, allow_determiner=False)
    if found is None and following.lower_ == "of" and following.i + 1 < len(ctx.doc):
        found = _noun_run(ctx.doc[following.i + 1], cand.value, allow_determiner=True)
        if found is not None:
            cand.unit, cand.kind = _counted_unit(ctx, *found), COUNT
        return
    if found is not None:
        first, head = found
        cand.unit, cand.kind = _counted_unit(ctx, first, head), COUNT
        cand.end = head.idx + len(head)


def _attach_noun_before(ctx: _Text, cand: _Candidate, last: Token) -> bool:
    """Units named before the number: "over the age of 21" -> age, "a pick or two" -> pick."""
    first = ctx.token_at(cand.start)
    if first is None or first.i < 2 or first.i != last.i:
        return False
    doc = first.doc
    before, noun = doc[first.i - 1], doc[first.i - 2]
    if before.lower_ == "of" and noun.lower_ == "age":
        cand.unit, cand.kind = "age", COUNT
        return True
    if (
        cand.is_word
        and before.lower_ == "or"
        and noun.tag_ == "NN"
        and first.i >= 3
        and doc[first.i - 3].lower_ in ("a", "an", "another", "one")
    ):
        lemma = lemma_of(noun).lower() or noun.lower_
        table = _UNIT_OF.get(lemma)
        cand.unit = table or lemma
        cand.kind = _unit_kind(table) if table else COUNT
        return True
    return False


def _noun_run(token: Token, value: float, allow_determiner: bool) -> tuple[Token, Token] | None:
    """The noun a number counts, starting at the token after it: (first modifier, head noun)."""
    doc = token.doc
    i = token.i
    if allow_determiner:
        while i < len(doc) and (doc[i].pos_ == "DET" or doc[i].tag_ in ("PRP$", "RBS", "RBR")):
            i += 1
    nouns: list[Token] = []
    start = i
    while i < len(doc) and i - start < 5:
        tok = doc[i]
        if tok.is_sent_start or (i > 0 and "\n" in doc[i - 1].whitespace_):
            break
        if tok.pos_ == "NUM" or any(ch.isdigit() for ch in tok.text):
            break
        if tok.pos_ in ("NOUN", "PROPN") and tok.tag_ in _NOUN_TAGS and tok.lower_ != "-":
            nouns.append(tok)
        elif not (
            tok.tag_ in _MODIFIER_TAGS
            and tok.pos_ in ("ADJ", "VERB", "PUNCT", "ADV", "NOUN", "PROPN")
            and (tok.tag_ != "HYPH" or not doc[i - 1].whitespace_)
        ):
            break
        i += 1
    if not nouns:
        return None
    plural = [n for n in nouns if n.tag_ in ("NNS", "NNPS")]
    common = [n for n in nouns if n.pos_ == "NOUN"]
    if plural:
        head = plural[0]  # "1,100 public housing properties"
    elif value == 1 and common:
        head = common[-1]  # "one election official"
    else:
        head = nouns[0]  # "3 cylinder engine", "12 page document": the first noun is the unit
    if head.pos_ != "NOUN" and head.tag_ != "NNPS":
        return None  # "787 Dreamliner": a name, not a count
    return doc[start], head


def _counted_unit(ctx: _Text, first: Token, head: Token) -> str:
    """The unit for a counted noun: its lemma with the modifiers right before it."""
    lemma = lemma_of(head).lower() or head.lower_
    if head.tag_ == "NNPS" and lemma == head.lower_ and lemma.endswith("s"):
        lemma = lemma[:-1]
    table = _UNIT_OF.get(lemma) or _UNIT_OF.get(head.lower_)
    if table and _unit_kind(table) != CURRENCY:
        return table  # "50 previous years" -> year
    lemma = table or lemma
    doc = head.doc
    begin = head.i
    while begin > first.i:
        tok = doc[begin - 1]
        glued_hyphen = tok.tag_ == "HYPH" and begin >= 2 and not tok.whitespace_
        glued_hyphen = glued_hyphen and not doc[begin - 2].whitespace_  # "first-team"
        if not glued_hyphen and (
            tok.tag_ not in ("JJ", "NN", "NNP", "NNS", "NNPS") or tok.lower_ in _LOOSE_MODIFIERS
        ):
            break
        begin -= 1
    while begin < head.i and doc[begin].tag_ == "HYPH":
        begin += 1
    modifiers = ctx.text[doc[begin].idx : head.idx].lower() if begin < head.i else ""
    words = [w for w in modifiers.split() if not (table and w in _US_MARKERS)]
    return " ".join([*words, lemma]).strip()


# --- Not quantities --------------------------------------------------------------------------
def _is_not_a_quantity(ctx: _Text, cand: _Candidate) -> bool:
    """Years, dates, times, identifiers and pronoun "one": numbers that measure nothing."""
    if _TIME_AFTER.match(ctx.text, cand.num_end):
        return True  # "11 a.m.", "9:35 PM", "5 GMT"
    if cand.kind in (CURRENCY, MEASURE, PERCENT):
        # "for 1986 year", "the 2019 season": a year before a singular time word
        return (
            cand.unit in ("year", "month")
            and _looks_like_year(cand, None)
            and (not ctx.text[cand.num_end : cand.end].lower().rstrip().endswith("s"))
        )
    first = ctx.token_at(cand.start)
    if first is None:
        return False
    previous = _previous_word(ctx, first)
    following = ctx.token_from(cand.num_end)
    if _looks_like_year(cand, previous):
        cand.is_year = True
        return True
    if _is_date_part(cand, previous, following):
        return True
    if (
        cand.kind is None
        and ctx.char(cand.num_end) == "-"
        and ctx.char(cand.num_end + 1).isalpha()
        and not _starts_hyphenated_range(ctx, cand.num_end)
    ):
        return True  # "0-to-60", "3-in-1": glued to words that are not a unit
    if cand.kind is None and (
        ctx.char(cand.num_start - 1) == "+" or re.fullmatch(r"0\d+", cand.digits)
    ):
        return True  # dialling codes and zero-padded codes: "+44", "0958", "007"
    if cand.is_word and _is_name_or_pronoun(ctx, cand, first, previous):
        return True
    return _is_identifier(ctx, cand, first, previous, following)


def _previous_word(ctx: _Text, token: Token) -> Token | None:
    """The token right before, when only blanks separate them."""
    if token.i == 0:
        return None
    prev = token.doc[token.i - 1]
    return prev if prev.idx + len(prev) + len(prev.whitespace_) == token.idx else None


def _looks_like_year(cand: _Candidate, previous: Token | None) -> bool:
    """Four plain digits that read as a year: "in 1987", "the 2018 sales", "A.D. 1000"."""
    if cand.is_word or cand.prefixed or cand.scale != 1 or not re.fullmatch(r"\d{4}", cand.digits):
        return False
    year = int(cand.digits)
    if 1800 <= year <= 2100:
        return True
    return 1000 <= year < 1800 and previous is not None and previous.lower_ in _YEAR_PREPOSITIONS


def _ends_year_range(ctx: _Text, previous: _Candidate | None, cand: _Candidate) -> bool:
    """The second year of "between 1600 and 1900" or "A.D. 1000 and 1260"."""
    return (
        previous is not None
        and previous.is_year
        and cand.kind is None
        and re.fullmatch(r"\d{4}", cand.digits) is not None
        and _RANGE_LINK.fullmatch(ctx.text[previous.end : cand.start]) is not None
    )


def _is_date_part(cand: _Candidate, previous: Token | None, following: Token | None) -> bool:
    """A day of the month next to a month name: "March 4", "Oct. 31", "1 September"."""
    if cand.is_word or not cand.digits.isdigit() or not 1 <= int(cand.digits) <= 31:
        return False
    for tok in (previous, following):
        if tok is None:
            continue
        name = tok.lower_.rstrip(".")
        if name in _MONTHS and (
            name not in _AMBIGUOUS_MONTHS or tok.is_title or tok.ent_type_ == "DATE"
        ):
            return True
    return False


def _is_name_or_pronoun(ctx: _Text, cand: _Candidate, first: Token, previous: Token | None) -> bool:
    """Number words that name ("BBC One") or stand for a noun ("each one", "no one")."""
    at_start = first.i == 0 or first.is_sent_start or ctx.char(cand.start - 2) in ':"“(\n'
    if first.is_title and not at_start:
        return True
    if cand.digits.lower() != "one" or cand.kind == COUNT:
        return False  # "one man", "one of the students"
    if previous is not None and previous.lower_ in _PRONOUN_ONE_BEFORE:
        return True  # "each one", "the same one", "no one"
    after = ctx.token_from(cand.num_end)
    if after is None:
        return True
    doc = first.doc
    if after.lower_ in ("to", "or") and after.i + 1 < len(doc) and doc[after.i + 1].like_num:
        return False  # "one to two years" is a range
    # Otherwise "one" alone is a pronoun ("one that was", "hands on one") unless it is a part
    # of something ("one of its factories").
    return after.lower_ != "of"


def _inside_named_entity(token: Token) -> bool:
    """The number is one word of a longer name the NER found ("Apple Watch 5", "Big 12")."""
    if token.ent_type_ not in _IDENTIFIER_ENTITIES:
        return False
    doc = token.doc
    following = doc[token.i + 1] if token.i + 1 < len(doc) else None
    return token.ent_iob_ == "I" or (following is not None and following.ent_iob_ == "I")


def _is_identifier(
    ctx: _Text,
    cand: _Candidate,
    first: Token,
    previous: Token | None,
    following: Token | None,
) -> bool:
    """Numbers that name something: "Section 427", "iPhone 11", "575 Wilbraham Road", "2-1"."""
    if cand.pair_left or cand.pair_right:
        return False  # decided with its partner in _resolve_ranges
    if previous is not None:
        word = previous.lower_
        if word in _IDENTIFIER_WORDS or (
            not cand.is_word
            and word not in _WEEKDAYS
            and word not in _MONTHS
            and not previous.is_sent_start
            and (previous.pos_ == "PROPN" or previous.is_title)
            and previous.ent_type_ not in ("MONEY", "PERCENT", "QUANTITY", "CARDINAL", "NORP")
            and previous.tag_ != "NNPS"  # "the Soviets 1.5 million men": people, not a name
        ):
            return True
    if cand.kind is None and _inside_named_entity(first):
        return True
    if cand.kind is None and previous is not None and previous.lower_ in _RANK_WORDS:
        return True  # "the bottom three", "the first three": a place in a table, not an amount
    last = ctx.token_at(cand.num_end - 1)
    return (  # "575 Wilbraham Road", "787 Dreamliner": the number is part of a name
        cand.kind is None
        and following is not None
        and last is not None
        and following.idx - cand.num_end <= 1
        and following.pos_ == "PROPN"
        and following.is_title
        and last.head.pos_ == "PROPN"
    )


# --- Ranges ----------------------------------------------------------------------------------
def _resolve_ranges(ctx: _Text, kept: list[_Candidate]) -> None:
    """Share unit and scale along ranges and lists; drop glued pairs that are scores or codes.

    "252-287 miles", "between 5 and 10 million", "eight or nine euros" and "1,870, 1,875 and
    1,880 dlrs" name one unit once; each number gets it. Pairs are read right to left so a unit
    travels back along a list.
    """
    in_list: set[int] = set()
    for a, b in reversed(list(pairwise(kept))):
        between = ctx.text[a.end : b.start]
        glued = a.pair_right and b.pair_left and between in ("-", "–")
        if glued and a.kind in (None, COUNT) and b.kind in (None, COUNT):
            a.rejected = b.rejected = True  # "2-1 win", "ISO 3888-2"
            continue
        if between == " " and not (a.is_word or b.is_word or a.kind or b.kind):
            a.rejected = b.rejected = True  # "7946 0958": digit groups of a phone number
            continue
        if not glued and not _RANGE_LINK.fullmatch(between):
            continue
        if between.strip() == "," and id(b) not in in_list:
            continue  # "Of the 300, 20 percent": a comma alone does not make a list
        in_list.update((id(a), id(b)))
        _share_unit(a, b)
    for cand in kept:
        if (cand.pair_left or cand.pair_right) and cand.kind in (None, COUNT):
            partner_ok = any(
                o is not cand
                and not o.rejected
                and o.kind not in (None, COUNT)
                and (o.start == cand.end + 1 or o.end == cand.start - 1)
                for o in kept
            )
            if not partner_ok:
                cand.rejected = True


def _share_unit(a: _Candidate, b: _Candidate) -> None:
    """Give the bare end of a range the other end's unit, and the scale it leaves out."""
    if a.kind is None and b.kind is not None:
        a.unit, a.kind = b.unit, b.kind
    elif a.unit and b.unit and b.unit.startswith(a.unit + " per "):
        a.unit = b.unit  # "between $62 and $68 per share"
    elif b.kind is None and a.kind == CURRENCY and a.prefixed:
        b.unit, b.kind = a.unit, a.kind  # "$5 to 10 million"
    else:
        return
    if a.scale == 1 and b.scale > 1 and a.raw <= b.raw:
        a.scale = b.scale
        a.value = _to_float(a.raw * b.scale)


_BETWEEN = re.compile(r"(?i:between)[ \u00a0]+$")
_FROM = re.compile(r"(?<![A-Za-z])(?i:from)[ \u00a0]+$")
_AND = re.compile(r"[ \u00a0]+(?i:and)[ \u00a0]+")
_SUBUNITS = word_numbers("subunit")  # "3 dollars 50 cents": cents per dollar
_COMPOUND_LINK = re.compile(r"[ \u00a0,]*(?:(?i:and)[ \u00a0]+)?")


def _join_ranges(ctx: _Text, kept: list[_Candidate]) -> list[_Candidate]:
    """One candidate per range ("252-287 miles", "1 to 1.5", "between 5 and 10") and per
    compound amount of money ("3 dollars 50 cents", "thirteen dollars and forty-five cents")."""
    joined: list[_Candidate] = []
    for cand in kept:
        a = joined[-1] if joined else None
        if a is not None and a.value_to is None and not (a.vague or cand.vague):
            between = ctx.text[a.end : cand.start]
            if _is_range(ctx, a, cand, between):
                a.value_to, a.end = cand.value, cand.end
                if a.kind is None:
                    a.unit, a.kind = cand.unit, cand.kind
                continue
            if (
                a.kind == CURRENCY
                and cand.unit in _SUBUNITS
                and not a.unit.endswith(cand.unit)
                and _COMPOUND_LINK.fullmatch(between)
                and 0 <= cand.value < _SUBUNITS[cand.unit]
                and a.value == int(a.value)
            ):
                a.value += cand.value / _SUBUNITS[cand.unit]
                a.end = cand.end
                continue
        joined.append(cand)
    return joined


def _is_range(ctx: _Text, a: _Candidate, b: _Candidate, between: str) -> bool:
    """Two numbers that are one range: glued or joined by "to", or "between A and B"."""
    if a.unit != b.unit and a.unit is not None and b.unit is not None:
        return False  # "rose 5% to $10": a change and a level, not a range
    if a.unit is not None and b.unit is None and between.strip() not in ("-", "–"):
        return False  # "fell 0.4 per cent to 13176": a change, then the level it reached
    # "increased by $43.6 billion to $419.2 billion" is a change and a level; "fell from $2,415
    # to $2,315" and "dropped by 1 to 1.5 degrees" are ranges
    written = a.prefixed or a.end > a.num_end
    level = _FROM.search(ctx.text, max(0, a.start - 8), a.start) is None
    if _RANGE_ONE.fullmatch(between) and not (written and level and _change(ctx, a) in _MOVES):
        return True
    if (
        a.unit is not None
        and a.unit == b.unit
        and _FROM_WORDS_TO.fullmatch(between)
        and _FROM.search(ctx.text, max(0, a.start - 8), a.start) is not None
    ):
        return True  # "fell from $36,040 at 10pm last night to $34,935": words between the ends
    return bool(
        _AND.fullmatch(between)
        and _BETWEEN.search(ctx.text, max(0, a.start - 12), a.start) is not None
    )


# " at 10pm last night to ", " in the first quarter to ": a few words, no clause break, then "to"
_FROM_WORDS_TO = re.compile(
    r"[ \u00a0]+(?:[^\s,;:!?()]*[^\s.,;:!?()][ \u00a0]+){1,6}(?i:to)[ \u00a0]+"
)


# --- Change and concept ----------------------------------------------------------------------
_BY = re.compile(r"(?<![A-Za-z])(?i:by)[ \u00a0]+(?:[A-Za-z]+[ \u00a0]+)?$")
_MOVES = ("up", "down")


def _change(ctx: _Text, cand: _Candidate) -> str:
    """The qualifier of a quantity: "about" ~, "more than" >, "up to" <, "rose" up, "-3%" down.

    A movement named before a qualifier wins ("up nearly 57%" is up, "rose under 4%" up)."""
    window = ctx.text[max(0, cand.start - 60) : cand.start]
    before = _CHANGE_BEFORE_RE.search(window)
    change = "="
    if before:
        change = _CHANGE_BEFORE[_squash(before.group("q")).lower()]
        if change not in _MOVES:
            move = _CHANGE_BEFORE_RE.search(window, 0, before.start())
            if move and _CHANGE_BEFORE[_squash(move.group("q")).lower()] in _MOVES:
                change = _CHANGE_BEFORE[_squash(move.group("q")).lower()]
    if change == "=":
        after = _CHANGE_AFTER_RE.match(ctx.text, cand.end)
        if after:
            change = _CHANGE_AFTER[_squash(after.group("q")).lower()]
    if change == "=" and cand.value < 0 and cand.kind == PERCENT:
        change = "down"  # "-1.3%"
    return change


_RESTATED = re.compile(r"[ \u00a0]*(?:\(|/|\bor\b)[ \u00a0]*")


def _restatements(ctx: _Text, kept: list[_Candidate], changes: list[str]) -> list[str]:
    """A quantity restated in brackets or after a slash takes the change of the one it restates:
    "dropped by 1 to 1.5 degrees Celsius (1.8 to 2.7 Fahrenheit)", "under 296 hp (224 kW)"."""
    for i in range(1, len(kept)):
        between = ctx.text[kept[i - 1].end : kept[i].start]
        if (
            changes[i] == "="
            and _RESTATED.fullmatch(between)
            and ("(" in between or "/" in between)
        ):
            changes[i] = changes[i - 1]
    return changes


def _shared_concepts(ctx: _Text, kept: list[_Candidate], concepts: list[str | None]) -> list:
    """A restatement ("1.5 degrees Celsius (2.7 Fahrenheit)") and the level a change reached
    ("Blackmores up 9.4 per cent to $84") measure what the quantity before them measures."""
    for i in range(1, len(kept)):
        between = ctx.text[kept[i - 1].end : kept[i].start]
        restated = _RESTATED.fullmatch(between) and ("(" in between or "/" in between)
        moved = _LEVEL_THEN_MOVE.fullmatch(between) and kept[i - 1].kind is None
        if restated and kept[i - 1].kind == COUNT and kept[i].kind == MEASURE:
            # "four fillets (about 1lb)": the measure is of the things counted
            concepts[i] = ctx.text[kept[i - 1].num_end : kept[i - 1].end].strip() or None
        elif restated or moved or (concepts[i] is None and _TO.fullmatch(between)):
            concepts[i] = concepts[i - 1]  # a restatement measures the same thing, always
    return concepts


_TO = re.compile(r"[ \u00a0]+(?i:to)[ \u00a0]+")
# "16369.03 up 58.06 points", "7,432.1, down 31": a market's level, then how far it moved
_LEVEL_THEN_MOVE = re.compile(r"[ \u00a0]*,?[ \u00a0]*(?i:up|down)[ \u00a0]+")
_MOVE_AFTER_NAME = re.compile(r"(?<![A-Za-z])(?i:up|down)[ \u00a0]+$")


def _after_by(ctx: _Text, cand: _Candidate) -> bool:
    """ "by 1.8 degrees": the size of a change, converted as a difference."""
    return _BY.search(ctx.text, max(0, cand.start - 24), cand.start) is not None


_CONCEPT_TAGS = {"NN", "NNS", "NNP", "NNPS"}


def _concept(ctx: _Text, cand: _Candidate) -> str | None:
    """What the quantity measures or counts; never its own unit ("one to two years" -> years
    is the unit again, not what lasted)."""
    concept = _concept_from_syntax(ctx, cand)
    if concept and cand.unit is not None:
        words = concept.lower().split()
        if len(words) == 1 and words[0] in (cand.unit, cand.unit + "s", cand.unit + "es"):
            return None
    return concept


_SETTLED = ""  # a concept settled as none: no later rule looks for one


def _copula_subject(ctx: _Text, cand: _Candidate) -> str | None:
    """ "the average life expectancy is around 73": the subject of the copula right before the
    quantity, however the parse attached the number."""
    first = ctx.token_at(cand.start)
    if first is None:
        return None
    i = first.i - 1
    while i >= 0 and first.doc[i].dep_ in ("advmod", "quantmod") and first.doc[i].i > 0:
        i -= 1  # "is around 73", "was just over 50"
    if i < 0 or lemma_of(first.doc[i]) != "be":
        return None
    subject = next((c for c in first.doc[i].children if c.dep_ == "nsubj"), None)
    if subject is None or subject.pos_ not in ("NOUN", "PROPN") or _has_digit(subject):
        return None
    return _noun_phrase(ctx, subject)


def _concept_from_syntax(ctx: _Text, cand: _Candidate) -> str | None:
    """What the quantity measures or counts, as written: "a dividend yield of 4.1 per cent" ->
    dividend yield; "a 40 mile-long convoy" -> convoy; "Sales rose 5%" -> Sales."""
    first = ctx.token_at(cand.start)
    if first is None:
        return None
    doc = ctx.doc
    inside = range(cand.start, cand.end)
    # "20 percent of personal spending", "$1 billion in gains": the share's whole, the money's use
    after = ctx.token_from(cand.end)
    if cand.value == 1 and cand.kind == COUNT and after is not None and after.lower_ == "of":
        return _SETTLED  # "one of the oldest clubs in Europe": a member of a set, no concept
    if (
        after is not None
        and after.idx - cand.end <= 1
        and (
            (after.lower_ == "of" and cand.kind in (PERCENT, None) and cand.is_word is False)
            or (after.lower_ == "of" and cand.kind is None and cand.value < 1)
            or (after.lower_ == "in" and cand.kind == CURRENCY)
        )
    ):
        whole = _object_of(after)
        if whole is not None:
            return _noun_phrase(ctx, whole)
    # "players over the age of 21": whose age it is
    age = first.head.head if first.head.lower_ == "of" else None
    if cand.unit == "age" and age is not None and age.lower_ == "age":
        limit = age.head  # "over", "under": the noun right before it, however it is attached
        whose = doc[limit.i - 1] if limit.dep_ == "prep" and limit.i > 0 else None
        if whose is not None and whose.pos_ in ("NOUN", "PROPN"):
            return _noun_phrase(ctx, whose)
    # "Total cost: $72,370", "(base price: $59,995)": a label names what follows it
    label = _label_before(ctx, cand)
    if label is not None:
        return _noun_phrase(ctx, label)
    # "the FTSE 100 (7,432.1, down 31 points)": a market's level in brackets after its name
    name = doc[first.i - 2] if first.i >= 2 and doc[first.i - 1].text == "(" else None
    if name is not None and name.pos_ == "PROPN" and name.lower_ not in _UNIT_OF:
        return _noun_phrase(ctx, name)
    # "50 years' worth of programming", "$2 billion worth of bonds": what the amount is of
    worth = ctx.token_from(cand.end)
    if worth is not None and worth.lower_ in ("'s", "’s", "'"):
        worth = ctx.token_from(worth.idx + len(worth))
    if (
        worth is not None
        and worth.lower_ == "worth"
        and worth.i + 1 < len(doc)
        and doc[worth.i + 1].lower_ == "of"
    ):
        stuff = _object_of(doc[worth.i + 1])
        if stuff is not None:
            return _noun_phrase(ctx, stuff)
    # "450 Nm of torque", "54GB of data", "450 Nm (332 lb-ft) of torque": what it measures
    if after is not None and after.text == "(" and cand.kind == MEASURE:
        close = next((t for t in doc[after.i : after.i + 8] if t.text == ")"), None)
        if close is not None and close.i + 1 < len(doc):
            after = doc[close.i + 1]
    if after is not None and after.lower_ == "of" and cand.kind == MEASURE:
        stuff = _object_of(after)
        if stuff is not None:
            return _noun_phrase(ctx, stuff, after=cand.end)
    # "paid $300 for a new boiler", "$50 off a kettle", "30 per cent off all sofas": what the money
    # buys, what the discount is taken from
    if (
        after is not None
        and after.idx - cand.end <= 1
        and (
            (after.lower_ in ("for", "off") and cand.kind == CURRENCY)
            or (after.lower_ == "off" and cand.kind == PERCENT)
        )
    ):
        bought = next((c for c in after.children if c.dep_ == "pobj" and c.pos_ == "NOUN"), None)
        if bought is not None and bought.idx >= cand.end:
            return _noun_phrase(ctx, bought, after=cand.end)
    # "sells the basic model for $399", "a kettle for just $20": what is sold at that price
    if cand.kind == CURRENCY:
        sold = _sold_for(ctx, cand, first)
        if sold is not None:
            return sold
    # "Blackmores up 9.4 per cent": a market report names what moved right before "up"/"down"
    moved = _MOVE_AFTER_NAME.search(ctx.text, max(0, cand.start - 6), cand.start)
    if moved and first.i >= 2 and doc[first.i - 1].lower_ in ("up", "down"):
        name = doc[first.i - 2]
        if name.tag_ in _CONCEPT_TAGS and name.pos_ in ("PROPN", "NOUN"):
            return _noun_phrase(ctx, name)
    # "a dividend yield of 4.1 per cent": the noun the quantity is "of"
    if first.i >= 2 and doc[first.i - 1].lower_ == "of" and first.idx >= cand.start:
        noun = doc[first.i - 2]
        if noun.tag_ in _CONCEPT_TAGS and not noun.like_num and noun.lower_ not in _AMOUNT_NOUNS:
            return _noun_phrase(ctx, noun)
    # "a 40 mile-long convoy": up the heads, out of the span, to the noun it describes
    token, steps = first, 0
    while steps < 6 and token.head is not token:
        token, steps = token.head, steps + 1
        if token.pos_ in ("VERB", "AUX") or token.idx < cand.start:
            break
        if token.idx in inside:
            continue
        if token.tag_ in _CONCEPT_TAGS and token.pos_ != "PRON":
            if token.idx > cand.end or token.dep_ != "ROOT":
                while token.dep_ == "compound" and token.head.i > token.i:
                    token = token.head  # "a dual 12.3 inch display screen": the screen
                # "a 40 mile-long Russian military convoy": a measure made an adjective names
                # the thing measured by its noun alone, not by the noun's other attributes
                described = ctx.char(cand.end) == "-" or (
                    ctx.char(cand.end - 1).isalpha() and ctx.text[cand.end : cand.end + 1] == "-"
                )
                return _noun_phrase(ctx, token, after=cand.end, adjectives=not described)
            break
        if token.pos_ not in ("ADJ", "NUM", "ADV", "PUNCT", "ADP"):
            break
    # "the median wait is around 40 weeks": the copula right before the number is its clause
    copula = _copula_subject(ctx, cand)
    if copula is not None:
        return copula
    # "Sales rose 5%": the subject of the verb the quantity belongs to, or of the verbs that
    # verb hangs from ("Ford said it would cut 13000 workers" -> Ford)
    verb = first
    for _ in range(12):
        # "dried flower products priced at under $10", "a loan worth $5 million": the noun a
        # participle or an adjective after it describes
        postnominal = (verb.dep_ == "acl" and verb.tag_ in ("VBN", "VBG")) or (
            verb.dep_ == "amod" and verb.pos_ == "ADJ" and verb.head.i < verb.i
        )
        if postnominal and verb.head.pos_ == "NOUN" and verb.head.idx < cand.start:
            return _noun_phrase(ctx, verb.head)
        # "customers with more than $1 million", "a squad with 17 players": the noun it belongs
        # to; "a ban for two years": the thing that lasts
        if (
            verb.dep_ == "prep"
            and (verb.lower_ == "with" or (verb.lower_ == "for" and cand.unit in _DURATIONS))
            and verb.head.pos_ == "NOUN"
            and verb.head.idx < cand.start
        ):
            return _noun_phrase(ctx, verb.head)
        if verb.pos_ == "VERB":
            changed = _changed_object(verb, cand)
            if changed is not None:
                return _noun_phrase(ctx, changed)
        if verb.pos_ in ("VERB", "AUX") or (verb.pos_ == "ADJ" and verb.dep_ != "amod"):
            settled, subject = _subject(ctx, verb, cand, inside)
            if settled:
                return _SETTLED if subject is None else subject
        if verb.head is verb:
            break
        verb = verb.head
    return None


def _label_before(ctx: _Text, cand: _Candidate) -> Token | None:
    """The noun of a label right before the quantity: "Total cost: $72,370" -> cost."""
    colon = ctx.token_at(cand.start - 1) or ctx.token_at(cand.start - 2)
    if colon is None or colon.text != ":" or colon.i == 0:
        return None
    if ctx.text[colon.idx + 1 : cand.start].strip(" \u00a0"):
        return None
    noun = colon.doc[colon.i - 1]
    return noun if noun.pos_ in ("NOUN", "PROPN") and not _has_digit(noun) else None


def _changed_object(verb: Token, cand: _Candidate) -> Token | None:
    """The object a verb changes by the quantity: "raise prices by 5%", "pulled the sector 0.7
    percent lower" -> prices, sector."""
    thing = next((c for c in verb.children if c.dep_ == "dobj" and c.pos_ == "NOUN"), None)
    if thing is None or thing.idx >= cand.start or _is_amount(thing):
        return None
    # "boost the range from 250 to 290 miles": the ends of a change too, but not a count's goal
    # ("propel the team to a .500 record")
    preps = ("by",) if cand.kind in (COUNT, None) else ("by", "from", "to")
    for child in verb.children:
        if child.idx < thing.idx:
            continue
        by = child.dep_ == "prep" and child.lower_ in preps
        degree = child.tag_ in ("RBR", "JJR") and child.dep_ in ("advmod", "oprd", "acomp")
        if (by or degree) and child.left_edge.idx <= cand.start <= child.right_edge.idx:
            return thing
    return None


def _is_amount(token: Token) -> bool:
    """A noun that is itself a quantity ("gained 0.7 percent", "added 300 jobs")."""
    return (
        token.lower_ in _PERCENT_WORDS
        or token.ent_type_ in ("PERCENT", "MONEY", "CARDINAL", "QUANTITY")
        or any(c.dep_ == "nummod" for c in token.children)
    )


def _sold_for(ctx: _Text, cand: _Candidate, first: Token) -> str | None:
    """The thing a price is "for": the noun "for" hangs from, or the object of its verb."""
    token = first
    for _ in range(3):  # "$" -> "399" -> "for"
        if token.dep_ == "pobj" and token.head.lower_ == "for":
            break
        if token.head is token or token.head.idx >= cand.end:
            return None
        token = token.head
    else:
        return None
    preposition = token.head
    if preposition.idx >= cand.start or ctx.text[preposition.idx + 3 : cand.start].strip(
        " \u00a0"
    ).lower() not in ("", "just", "only", "about", "around", "under", "over"):
        return None  # "for" right before the price: "for $20", "for just $20"
    owner = preposition.head
    if owner.pos_ == "NOUN":
        return _noun_phrase(ctx, owner)
    if owner.pos_ == "VERB":
        thing = next((c for c in owner.children if c.dep_ == "dobj" and c.pos_ == "NOUN"), None)
        if thing is not None and thing.i < preposition.i:
            return _noun_phrase(ctx, thing)
    return None


def _object_of(preposition: Token) -> Token | None:
    """The common noun a preposition governs ("of personal spending"), not a place or a date."""
    for child in preposition.children:
        if child.dep_ == "pobj" and child.tag_ in ("NN", "NNS") and not child.ent_type_:
            return child
    return None


def _subject(ctx: _Text, verb: Token, cand: _Candidate, inside: range) -> tuple[bool, str | None]:
    """The noun subject of a verb (or of a predicate adjective: "a grant worth $8 million"),
    outside the quantity, as (settled, concept): a pronoun leaves it open for the verbs above;
    a number, an indefinite pronoun or a clause fronted by the quantity settle it as none."""
    for child in verb.children:
        if child.dep_ not in ("nsubj", "nsubjpass") or child.idx in inside:
            continue
        if child.tag_ in ("WDT", "WP") and verb.dep_ == "relcl":
            child = _antecedent(child, verb)  # "a country that is 90 miles wide": the country
        if child.idx > cand.end and verb.idx > cand.end and not _in_subject(ctx, cand, child):
            # "Nine days later the band split", "With eight more picks, the team ...": a
            # quantity fronted before its clause sets the scene; it measures nothing of the subject
            return True, None
        named_number = child.like_num and any(
            c.dep_ == "compound" and c.pos_ in ("NOUN", "PROPN") and c.i < child.i
            for c in child.children
        )  # "the S&P 500 was down 2.1%": a name that ends in a number
        if not named_number and (
            child.like_num
            or child.ent_type_ in ("CARDINAL", "QUANTITY", "MONEY", "PERCENT")
            or child.lower_ in _PERCENT_WORDS
        ):
            # "60 per cent of the fee will be paid now, up from 40 per cent": a share's whole;
            # "Dozens of people were killed in two attacks": a number names nothing
            share = child.ent_type_ in ("PERCENT", "MONEY") or child.lower_ in _PERCENT_WORDS
            of = next((c for c in child.rights if c.lower_ == "of"), None) if share else None
            whole = _object_of(of) if of is not None else None
            return True, (_noun_phrase(ctx, whole) if whole is not None else None)
        if child.lower_ in _INDEFINITE:
            return False, None
        named = named_number or (
            child.ent_type_ in _NAME_ENTITIES and child.pos_ not in ("PRON", "DET")
        )
        if not named and (child.tag_ not in _CONCEPT_TAGS or child.pos_ == "PRON"):
            return False, None
        return True, _noun_phrase(ctx, child)
    return False, None


_DURATIONS = {"second", "minute", "hour", "day", "week", "month", "year", "decade"}
_PERCENT_WORDS = {"%", "percent", "cent", "pc", "pct"}
_NAME_ENTITIES = {"ORG", "PERSON", "GPE", "NORP", "PRODUCT", "FAC", "LOC", "EVENT"}


def _antecedent(pronoun: Token, clause: Token) -> Token:
    """What a relative pronoun stands for: the noun right before it ("the small country that
    ..."), whatever the parse attached the clause to; else the clause's head."""
    doc = pronoun.doc
    i = pronoun.i - 1
    if i >= 0 and doc[i].text == ",":
        i -= 1
    if i < 0 or doc[i].pos_ not in ("NOUN", "PROPN"):
        return clause.head
    noun = doc[i]
    for _ in range(3):  # "the maximum investment per person, which is 50000"
        if (
            noun.dep_ == "pobj"
            and noun.head.lower_ in _COMPLEMENT_PREPOSITIONS
            and noun.head.head.pos_ == "NOUN"
        ):
            noun = noun.head.head
        else:
            break
    return noun


def _in_subject(ctx: _Text, cand: _Candidate, subject: Token) -> bool:
    """Whether the quantity lies inside the subject's phrase ("the 40 staff at the plant")."""
    return subject.left_edge.idx <= cand.start


_INDEFINITE = word_set("indefinite_subject")  # "everyone", "someone": no concept
_AMOUNT_NOUNS = word_set("amount_noun")  # "a total of 200 million": the total names no concept


def _noun_phrase(ctx: _Text, head: Token, after: int = 0, adjectives: bool = True) -> str | None:
    """A noun with the words that classify it before it ("Toronto Stock Exchange", "dividend
    yield", "US trade deficit") and the phrase that completes it after it ("the pace of price
    increases", "a tax on imported vehicles", "reserves in Canadian dollars"): NewsQuant's
    concepts are whole noun phrases. `after` bounds it on the left (the quantity's own end)."""
    begin = _modifiers_start(head, after, ("compound", "amod")) if adjectives else head.i
    end = head.idx + len(head)
    complement = _complement(head) if head.idx >= after else None
    if complement is not None:
        end = complement.idx + len(complement)
    text = ctx.text[head.doc[begin].idx : end]
    return text if any(ch.isalpha() for ch in text) else None


def _modifiers_start(head: Token, after: int, deps: tuple[str, ...]) -> int:
    """Where the compounds and adjectives before a noun begin (not a number, not before `after`)."""
    begin = head.i
    doc = head.doc
    while (
        begin > 0
        and doc[begin - 1].dep_ in deps
        and doc[begin - 1].head.i >= begin
        and doc[begin - 1].idx >= after
    ):
        if doc[begin - 1].like_num or doc[begin - 1].lower_ in _LOOSE_MODIFIERS:
            break
        if begin >= 2 and doc[begin - 1].lower_ in _UNIT_OF and _has_digit(doc[begin - 2]):
            break  # "640bhp 5.2 litre V10 engine": "litre" is the unit of another number
        begin -= 1
        if (
            begin >= 2
            and doc[begin - 1].tag_ == "HYPH"
            and not doc[begin - 1].whitespace_
            and not doc[begin - 2].whitespace_
            and doc[begin - 2].is_alpha
            and doc[begin - 2].idx >= after
        ):
            begin -= 2  # "a second-hand piano": a hyphenated modifier is one word
    return begin


def _has_digit(token: Token) -> bool:
    """A token with a digit in it ("RM79", "5G", "2018"): a number, not a word of a concept."""
    return token.like_num or any(ch.isdigit() for ch in token.text)


def _complement(head: Token) -> Token | None:
    """The last noun of the prepositional phrase that completes a noun ("pace of price
    increases" -> increases), one level deep; not a date, a place list or a number."""
    for child in head.rights:
        if child.dep_ != "prep" or child.lower_ not in _COMPLEMENT_PREPOSITIONS:
            continue
        if child.i != head.i + 1:
            return None  # only right after the noun: "the tax on ...", not "the tax, ... on"
        noun = next((c for c in child.children if c.dep_ == "pobj"), None)
        if noun is None or noun.pos_ not in ("NOUN", "PROPN") or noun.like_num:
            return None
        if noun.ent_type_ in ("DATE", "TIME", "CARDINAL", "MONEY", "PERCENT", "QUANTITY"):
            return None
        if any(t.like_num or _has_digit(t) for t in head.doc[child.i : noun.i + 1]):
            return None  # "a run of seven games": the quantity itself, not what it completes
        return noun
    return None


_COMPLEMENT_PREPOSITIONS = {"of", "on", "in", "for", "among", "with", "per", "from", "at"}


# --- Helpers ---------------------------------------------------------------------------------
def _squash(text: str) -> str:
    """Collapse runs of blanks to one space."""
    return " ".join(text.split())


def _to_float(value: Decimal) -> float:
    """A Decimal as float; inf when too large (dropped by the caller)."""
    try:
        return float(value)
    except (OverflowError, InvalidOperation):
        return float("inf")
