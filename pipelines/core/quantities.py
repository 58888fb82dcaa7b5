"""Quantities in news text: every number with its normalised value and unit.

Numbers are found on the raw text with compiled patterns, because the tokenizer does not split
glued forms the same way every time ("15kHz" is one token, "45g" two). spaCy's tags, parse and
entities then decide what the text alone cannot: which noun a bare number counts ("16 soldiers"
-> soldier), and which numbers are not quantities at all (years, dates, times, ordinals,
identifiers such as "Section 427" or "COVID-19", scores such as "2-1").

Conventions follow the NewsQuant gold (Almasian et al., CQE 2023) that the product is scored on:
values are normalised ("1.5 million" -> 1500000, "a dozen" -> 12); units are singular, lower case
names ("mile", "percent", "dollar", "kilometre per hour"); a number that counts a noun takes the
noun's lemma, with its adjective and noun modifiers ("seven European countries" -> european
country); a bare number has no unit. Ranges ("252-287 miles", "between 5 and 10 percent") give
two quantities that share the unit.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import pairwise

from spacy.tokens import Doc, Token

from pipelines.core.nlp import text_of


@dataclass(frozen=True)
class Quantity:
    """One quantity: where it is in the text, its normalised value and its unit."""

    start: int  # character offset into text_of(doc)
    end: int  # exclusive; text_of(doc)[start:end] is the quantity span, e.g. "1.5 million men"
    value: float  # normalised: "1.5 million" -> 1500000.0, "a dozen" -> 12
    unit: str | None  # singular, lower case: "mile", "man", "percent"; None for a bare count


# --- Units -----------------------------------------------------------------------------------
# Kinds: a measure or currency or percent from the table is a unit in its own right; a "count" is
# a noun the number counts, found in the parse; None is a bare number.
MEASURE, CURRENCY, PERCENT, COUNT = "measure", "currency", "percent", "count"

# canonical unit -> surface forms matched case-insensitively after a number ("-s" plurals listed).
_WORD_UNITS: dict[str, tuple[str, ...]] = {
    "percent": ("per cent", "per-cent", "percent", "pct", "%"),
    "percentage point": ("percentage points", "percentage point"),
    "basis point": ("basis points", "basis point", "bps"),
    "dollar": ("dollars", "dollar", "dlrs", "dlr"),
    "cent": ("cents", "cent", "cts"),
    "euro": ("euros", "euro", "€"),
    "pound": ("pounds sterling", "pounds", "pound", "stg", "sterling", "£"),
    "yen": ("yen",),
    "yuan": ("yuan", "renminbi"),
    "rupee": ("rupees", "rupee"),
    "shekel": ("shekels", "shekel"),
    "peso": ("pesos", "peso"),
    "ruble": ("rubles", "ruble", "roubles", "rouble"),
    "franc": ("francs", "franc"),
    "mark": ("marks", "deutsche marks"),
    "lira": ("lira", "lire"),
    "crown": ("crowns", "crown", "krone", "kroner", "krona", "kronor"),
    "ringgit": ("ringgit",),
    "baht": ("baht",),
    "guilder": ("guilders", "guilder"),
    "mile": ("miles", "mile"),
    "nautical mile": ("nautical miles", "nautical mile"),
    "yard": ("yards", "yard"),
    "foot": ("feet", "foot", "ft"),
    "inch": ("inches", "inch"),
    "kilometre": ("kilometres", "kilometre", "kilometers", "kilometer", "km", "kms"),
    "metre": ("metres", "metre", "meters", "meter"),
    "centimetre": ("centimetres", "centimetre", "centimeters", "centimeter", "cm"),
    "millimetre": ("millimetres", "millimetre", "millimeters", "millimeter", "mm"),
    "nanometre": ("nanometres", "nanometre", "nanometers", "nanometer"),
    "light year": ("light years", "light-years", "light year", "light-year"),
    "square foot": ("square feet", "square foot", "square-foot", "sq ft", "sq. ft.", "sq. ft"),
    "square metre": ("square metres", "square meters", "square metre", "square meter", "sq m"),
    "square mile": ("square miles", "square mile"),
    "square kilometre": (
        "square kilometres",
        "square kilometers",
        "square kilometre",
        "square kilometer",
        "sq km",
    ),
    "acre": ("acres", "acre"),
    "hectare": ("hectares", "hectare"),
    "mile per hour": ("miles per hour", "miles an hour", "mph"),
    "kilometre per hour": (
        "kilometres per hour",
        "kilometers per hour",
        "kilometres an hour",
        "kilometers an hour",
        "km/h",
        "km/hr",
        "kph",
        "kmh",
    ),
    "metre per second": ("metres per second", "meters per second", "m/s"),
    "mile per gallon": ("miles per gallon", "mpg"),
    "knot": ("knots", "knot"),
    "kilogram": ("kilograms", "kilogram", "kilos", "kilo", "kg", "kgs"),
    "gram": ("grams", "gram"),
    "milligram": ("milligrams", "milligram", "mg"),
    "tonne": ("metric tons", "metric ton", "tonnes", "tonne"),
    "ton": ("tons", "ton"),
    "gigatonne": ("gigatonnes", "gigatonne", "gigatons", "gigaton"),
    "megatonne": ("megatonnes", "megatonne", "megatons", "megaton"),
    "ounce": ("ounces", "ounce", "oz"),
    "pound-mass": ("lbs", "lb"),
    "litre": ("litres", "litre", "liters", "liter"),
    "millilitre": ("millilitres", "millilitre", "milliliters", "milliliter", "ml"),
    "gallon": ("gallons", "gallon"),
    "barrel": ("barrels", "barrel"),
    "barrel per day": ("barrels per day", "bpd"),
    "cubic foot": ("cubic feet", "cubic foot"),
    "cubic metre": ("cubic metres", "cubic meters", "cubic metre", "cubic meter"),
    "millisecond": ("milliseconds", "millisecond"),
    "second": ("seconds", "second", "secs", "sec"),
    "minute": ("minutes", "minute", "mins", "min"),
    "hour": ("hours", "hour", "hrs", "hr"),
    "day": ("days", "day"),
    "week": ("weeks", "week", "wks", "wk"),
    "month": ("months", "month", "mths", "mth"),
    "year": ("years", "year", "yrs"),
    "decade": ("decades", "decade"),
    "century": ("centuries", "century"),
    "year of age": ("years-old", "year-old", "years old", "year old"),
    "month of age": ("months-old", "month-old", "months old", "month old"),
    "celsius": (
        "degrees celsius",
        "degree celsius",
        "degrees centigrade",
        "degrees c",
        "°c",
        "ºc",
        "° c",
        "celsius",
        "centigrade",
    ),
    "fahrenheit": (
        "degrees fahrenheit",
        "degree fahrenheit",
        "degrees f",
        "°f",
        "ºf",
        "fahrenheit",
    ),
    "degree": ("degrees", "degree", "°", "º"),
    "horsepower": ("horsepower", "hp"),
    "brake horsepower": ("brake horsepower", "bhp"),
    "watt": ("watts", "watt"),
    "kilowatt": ("kilowatts", "kilowatt", "kw"),
    "megawatt": ("megawatts", "megawatt"),
    "gigawatt": ("gigawatts", "gigawatt"),
    "kilowatt hour": ("kilowatt hours", "kilowatt-hours", "kilowatt hour", "kilowatt-hour", "kwh"),
    "megawatt hour": ("megawatt hours", "megawatt-hours", "megawatt hour", "mwh"),
    "gigawatt hour": ("gigawatt hours", "gigawatt-hours", "gigawatt hour", "gwh"),
    "terawatt hour": ("terawatt hours", "terawatt-hours", "terawatt hour", "twh"),
    "volt": ("volts", "volt"),
    "milliampere hour": ("mah",),
    "revolutions per minute": ("rpm",),
    "pound-foot": ("pound-feet", "pound-foot", "pound feet"),
    "foot pound-force": ("lb-ft", "lb ft", "lb.-ft.", "lb.-ft"),
    "newton metre": ("newton metres", "newton meters", "newton-metres", "newton-meters"),
    "gigabyte": ("gigabytes", "gigabyte", "gb"),
    "megabyte": ("megabytes", "megabyte", "mb"),
    "terabyte": ("terabytes", "terabyte", "tb"),
    "kilobyte": ("kilobytes", "kilobyte", "kb"),
    "petabyte": ("petabytes", "petabyte"),
    "megabit per second": ("megabits per second", "mbps"),
    "gigabit per second": ("gigabits per second", "gbps"),
    "kilobit per second": ("kilobits per second", "kbps"),
    "hertz": ("hertz", "hz"),
    "kilohertz": ("kilohertz", "khz"),
    "megahertz": ("megahertz", "mhz"),
    "gigahertz": ("gigahertz", "ghz"),
    "megapixel": ("megapixels", "megapixel"),
    "decibel": ("decibels", "decibel", "db"),
    "calorie": ("calories", "calorie"),
    "kilocalorie": ("kilocalories", "kilocalorie", "kcal"),
}
# Short abbreviations whose case tells them apart ("MW" megawatt, "mW" would be milliwatt).
_CASED_UNITS: dict[str, str] = {
    "MW": "megawatt",
    "GW": "gigawatt",
    "PS": "horsepower",
    "Nm": "newton metre",
    "nm": "nanometre",
    "mAh": "milliampere hour",
}
# Single letters and other ambiguous forms count only when glued to the number ("45g", "1.0l").
_GLUED_UNITS: dict[str, str] = {
    "g": "gram",
    "l": "litre",
    "L": "litre",
    "m": "metre",
    "W": "watt",
    "V": "volt",
    "p": "penny",
    "pc": "percent",
    "MP": "megapixel",
    "ms": "millisecond",
    "C": "celsius",
    "F": "fahrenheit",
    "h": "hour",
}
_CURRENCIES = {
    "dollar",
    "cent",
    "euro",
    "pound",
    "yen",
    "yuan",
    "rupee",
    "shekel",
    "peso",
    "ruble",
    "franc",
    "mark",
    "lira",
    "crown",
    "ringgit",
    "baht",
    "guilder",
    "penny",
}
_UNIT_OF: dict[str, str] = {
    form: unit for unit, forms in _WORD_UNITS.items() for form in forms
}  # lower-cased surface -> canonical


def _unit_kind(unit: str) -> str:
    """A table unit's kind: percent, currency, or measure."""
    if unit == "percent":
        return PERCENT
    return CURRENCY if unit in _CURRENCIES else MEASURE


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
# ("40-mile"); never followed by a letter, so "5 minutes" does not stop at "min".
_UNIT_SPACED = re.compile(rf"(?:[ \u00a0]{{1,2}}|-)?(?P<unit>{_UNIT_ALTERNATIVES})(?![A-Za-z])")
_UNIT_GLUED = re.compile(rf"(?P<unit>{_alternation(list(_GLUED_UNITS), False)})(?![A-Za-z])")

# "$14.95 a month", "US$58.24 per barrel", "$10/gram": a rate, not a year-earlier comparison.
_DENOMINATORS: dict[str, str] = {
    "second": "second",
    "sec": "second",
    "minute": "minute",
    "min": "minute",
    "hour": "hour",
    "hr": "hour",
    "day": "day",
    "night": "night",
    "week": "week",
    "month": "month",
    "year": "year",
    "yr": "year",
    "annum": "year",
    "share": "share",
    "barrel": "barrel",
    "gallon": "gallon",
    "litre": "litre",
    "liter": "litre",
    "gram": "gram",
    "g": "gram",
    "kilogram": "kilogram",
    "kg": "kilogram",
    "ounce": "ounce",
    "oz": "ounce",
    "ton": "ton",
    "tonne": "tonne",
    "pound": "pound",
    "lb": "pound",
    "mile": "mile",
    "kilometre": "kilometre",
    "kilometer": "kilometre",
    "km": "kilometre",
    "metre": "metre",
    "meter": "metre",
    "foot": "foot",
    "feet": "foot",
    "square foot": "square foot",
    "square feet": "square foot",
    "sq ft": "square foot",
    "square metre": "square metre",
    "square meter": "square metre",
    "person": "person",
    "head": "person",
    "capita": "person",
    "kwh": "kilowatt hour",
    "mmbtu": "mega british thermal unit",
    "unit": "unit",
    "seat": "seat",
    "ticket": "ticket",
}
_PER = re.compile(
    r"(?:[ ]*/[ ]*|[ ]+(?:per|a|an)[ ]+)(?P<den>"
    + _alternation([*_DENOMINATORS, *(d + "s" for d in _DENOMINATORS)], True)
    + r")(?![A-Za-z])(?![ ]+(?:earlier|ago|later|before|after|prior|back|previously)\b)"
)

# --- Numbers ---------------------------------------------------------------------------------
_NUMBER = re.compile(r"(?<![\d.,])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)|(?<![\w.,])\.\d+")
_CURRENCY_PREFIX = re.compile(
    r"(?:(?P<sym>US[ ]?\$|U\.S\.[ ]?\$|\$[ ]?US|AU?\$|CA?\$|NZ\$|HK\$|S\$|R\$|\$|£|€|¥|₹|₩|₽|₪)"
    r"[ \u00a0]?|(?<![A-Za-z])(?P<code>USD|EUR|GBP|JPY|CNY|RMB|INR|CHF|CAD|AUD|NIS|Rs\.?)"
    r"[ \u00a0]?|(?<![A-Za-z])(?P<glued>PS|RM))$"
)
_PREFIX_UNITS: dict[str, str] = {
    "$": "dollar",
    "us$": "dollar",
    "u.s.$": "dollar",
    "$us": "dollar",
    "a$": "australian dollar",
    "au$": "australian dollar",
    "c$": "canadian dollar",
    "ca$": "canadian dollar",
    "nz$": "new zealand dollar",
    "hk$": "hong kong dollar",
    "s$": "singapore dollar",
    "r$": "brazilian real",
    "£": "pound",
    "€": "euro",
    "¥": "yen",
    "₹": "rupee",
    "₩": "won",
    "₽": "ruble",
    "₪": "shekel",
    "usd": "dollar",
    "eur": "euro",
    "gbp": "pound",
    "jpy": "yen",
    "cny": "yuan",
    "rmb": "yuan",
    "inr": "rupee",
    "chf": "swiss franc",
    "cad": "canadian dollar",
    "aud": "australian dollar",
    "nis": "shekel",
    "rs": "rupee",
    "rs.": "rupee",
    "ps": "pound",
    "rm": "malaysian ringgit",
}
_SCALES: dict[str, int] = {
    "hundred": 100,
    "thousand": 1_000,
    "k": 1_000,
    "lakh": 100_000,
    "million": 1_000_000,
    "mln": 1_000_000,
    "mn": 1_000_000,
    "m": 1_000_000,
    "crore": 10_000_000,
    "billion": 1_000_000_000,
    "bln": 1_000_000_000,
    "bn": 1_000_000_000,
    "b": 1_000_000_000,
    "trillion": 10**12,
    "tln": 10**12,
    "trn": 10**12,
    "tn": 10**12,
}
# Standard race distances keep "m" as metres even before a plural ("the 60m hurdles").
_RACE_DISTANCES = {"50", "60", "100", "110", "200", "400", "800", "1500", "3000", "5000", "10000"}
_SCALE_GLUED = re.compile(r"(?:k|K|mn|mln|bn|b|B|m|M|tn|trn)(?![A-Za-z])")
_SCALE_WORD = re.compile(
    r"[ \u00a0]+(?P<scale>hundred|thousand|lakh|million|mln|mn|crore|billion|bln|bn|trillion|tln"
    r"|trn|tn)(?![A-Za-z])",
    re.IGNORECASE,
)
_SMALL_WORDS: dict[str, int] = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_BIG_WORDS = "hundred|thousand|million|billion|trillion|dozen"
_SMALL_ALT = "|".join(_SMALL_WORDS)
_WORD_NUMBER = re.compile(
    rf"\b(?:(?:half[ \u00a0-])?an?[ \u00a0]+(?:{_BIG_WORDS})|{_SMALL_ALT}|dozen)"
    rf"(?:[ \u00a0-]+(?:{_SMALL_ALT}|{_BIG_WORDS}))*\b",
    re.IGNORECASE,
)
_FRACTION = re.compile(
    r"\b(?:(?P<num>an?|one|two|three|four|five|six|seven|eight|nine)[\s-]+)?"
    r"(?P<den>halves|half|thirds?|quarters?|fifths?|tenths?)(?=\s+of\b)",
    re.IGNORECASE,
)
_DENOMINATOR_VALUES = {"half": 2, "halve": 2, "third": 3, "quarter": 4, "fifth": 5, "tenth": 10}
_NUMERATOR_VALUES = {"a": 1, "an": 1, **_SMALL_WORDS}

# --- Context ---------------------------------------------------------------------------------
_TIME_AFTER = re.compile(
    r"[ \u00a0]?(?:(?i:[ap]\.[ ]?m\b\.?|[ap]m\b|o'clock)|(?:GMT|UTC|BST|CET|[ECMP][SD]T)\b)"
)
_RANGE_LINK = re.compile(r"[ \u00a0]*(?:-|–|—|to|or|and|,)[ \u00a0]*", re.IGNORECASE)
_MONTHS = {
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
}
_AMBIGUOUS_MONTHS = {"may", "march", "mar", "jan", "sep", "dec"}
_WEEKDAYS = {
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thur",
    "thurs",
    "fri",
    "sat",
    "sun",
}
_YEAR_PREPOSITIONS = {
    "in",
    "since",
    "between",
    "from",
    "until",
    "till",
    "by",
    "circa",
    "c.",
    "a.d.",
    "ad",
    "bc",
    "bce",
    "ce",
    "before",
    "after",
    "during",
}
# Words after which a number names something: "Section 427", "No. 1", "Row 21".
_IDENTIFIER_WORDS = {
    "no",
    "no.",
    "nos",
    "nos.",
    "number",
    "#",
    "section",
    "sec.",
    "row",
    "page",
    "chapter",
    "article",
    "part",
    "rule",
    "model",
    "version",
    "route",
    "flight",
    "room",
    "gate",
    "level",
    "phase",
    "stage",
    "game",
    "grade",
    "class",
    "category",
    "tier",
    "round",
    "channel",
    "series",
    "season",
    "episode",
    "volume",
    "vol.",
    "issue",
    "apartment",
    "suite",
    "highway",
    "interstate",
    "district",
    "ward",
    "precinct",
    "platform",
    "terminal",
    "exhibit",
    "figure",
    "fig.",
    "table",
    "appendix",
    "item",
    "lot",
    "track",
    "bus",
    "type",
    "covid",
    "windows",
    "ios",
    "android",
    "iphone",
    "galaxy",
    "pixel",
    "ps",
    "xbox",
    "formula",
    "s&p",
    "ftse",
    "dax",
    "nikkei",
    "cac",
    "sp",
    "stoxx",
    "russell",
    "fortune",
    "amendment",
    "act",
    "bill",
    "resolution",
    "proposition",
    "prop",
    "code",
    "zone",
    "pier",
    "lane",
    "building",
    "block",
    "unit",
    "floor",
}
# Words that stop "one" being a count: "each one", "the same one", "no one".
_PRONOUN_ONE_BEFORE = {
    "each",
    "no",
    "any",
    "every",
    "the",
    "this",
    "that",
    "which",
    "same",
    "another",
    "only",
    "little",
    "big",
    "new",
    "old",
    "right",
    "wrong",
    "last",
    "next",
    "other",
    "number",
    "on",
}
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
_LOOSE_MODIFIERS = {
    "more",
    "fewer",
    "less",
    "other",
    "previous",
    "additional",
    "extra",
    "further",
    "such",
    "same",
    "own",
    "only",
    "last",
    "next",
    "several",
    "many",
    "few",
    "various",
    "consecutive",
    "total",
    "whole",
    "entire",
    "approximately",
    "about",
    "roughly",
    "nearly",
    "some",
    "least",
    "most",
    "much",
    "mere",
    "estimated",
    "just",
}
_RANK_WORDS = {"top", "bottom", "first", "last", "next", "final"}
_US_MARKERS = {"us", "u.s.", "american", "usd"}
_NOUN_TAGS = {"NN", "NNS", "NNP", "NNPS"}
_MODIFIER_TAGS = {"JJ", "NN", "NNS", "NNP", "NNPS", "VBN", "VBG", "JJR", "JJS", "HYPH", "RBS"}


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


class _Text:
    """The document with a quick character -> token lookup."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.text = text_of(doc)
        self.starts = [token.idx for token in doc]

    def token_at(self, char: int) -> Token | None:
        """The token covering (or just before) a character offset."""
        i = bisect_right(self.starts, char) - 1
        return self.doc[i] if 0 <= i < len(self.doc) else None

    def token_from(self, char: int) -> Token | None:
        """The first token starting at or after a character offset."""
        i = bisect_right(self.starts, char - 1)
        return self.doc[i] if i < len(self.doc) else None

    def char(self, i: int) -> str:
        """The character at i, or '' outside the text."""
        return self.text[i] if 0 <= i < len(self.text) else ""


def find_quantities(doc: Doc) -> list[Quantity]:
    """All quantities in a parsed document, in text order."""
    if not text_of(doc).strip():
        return []
    ctx = _Text(doc)
    candidates = _digit_candidates(ctx) + _word_candidates(ctx) + _fraction_candidates(ctx)
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
    return [
        Quantity(c.start, c.end, c.value, c.unit)
        for c in kept
        if not c.rejected and c.value == c.value and abs(c.value) != float("inf")
    ]


# --- Candidates ------------------------------------------------------------------------------
def _digit_candidates(ctx: _Text) -> list[_Candidate]:
    """Numbers written in digits, with currency, scale ("1.5 million", "25k") and unit."""
    text = ctx.text
    found = []
    for match in _NUMBER.finditer(text):
        s, e = match.span()
        digits = match.group()
        try:
            raw = Decimal(digits.replace(",", ""))
        except InvalidOperation:
            continue
        cand = _Candidate(s, e, s, e, 0.0, raw, 1, digits=digits)
        prefix = _CURRENCY_PREFIX.search(text, max(0, s - 8), s)
        if prefix:
            key = re.sub(r"[ \u00a0]", "", prefix.group()).lower()
            cand.unit, cand.kind = _PREFIX_UNITS.get(key, "dollar"), CURRENCY
            cand.start, cand.prefixed = prefix.start(), True
        cand.rejected = _glued_to_other_text(ctx, cand)
        if not cand.rejected:
            _read_suffixes(ctx, cand)
        found.append(cand)
    return found


def _glued_to_other_text(ctx: _Text, cand: _Candidate) -> bool:
    """True for digits that are part of a word, code, time or date ("G7", "17:22", "9/11")."""
    s, e = cand.num_start, cand.end
    before, before2 = ctx.char(s - 1), ctx.char(s - 2)
    after, after2 = ctx.char(e), ctx.char(e + 1)
    if not cand.prefixed and (before.isalpha() or before in "#_@"):
        return True
    if before in "-–" and before2.isalpha():
        return True  # COVID-19, TA-35, last-32
    if (before in ":/)" and before2.isdigit()) or (after in ":/)" and after2.isdigit()):
        return True  # times, dates, fractions written 1/8, phone numbers like (0)20
    if after in ".," and after2.isdigit():
        return True  # version numbers, addresses, 1,5 written the European way
    cand.pair_left = before in "-–" and before2.isdigit()
    cand.pair_right = after in "-–" and after2.isdigit()
    return cand.pair_left and cand.pair_right  # dates and phone numbers: 2019-09-01


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
    if cand.scale == 1:
        spaced = _SCALE_WORD.match(text, pos)
        if spaced:
            cand.scale, pos = _SCALES[spaced.group("scale").lower()], spaced.end()
    cand.num_end = cand.end = pos
    cand.value = _to_float(cand.raw * cand.scale)
    _read_unit(ctx, cand)
    if ctx.char(cand.end).isalpha() and ctx.char(cand.end - 1).isalnum():
        cand.rejected = True  # "10th", "1990s", "9AB8", "5am"


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
            cand.scale = _SCALES[scale.group("scale").lower()]  # Reuters: "five mln dlrs"
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


def _fraction_candidates(ctx: _Text) -> list[_Candidate]:
    """Fractions of a whole: "half of", "a third of", "two-thirds of"."""
    found = []
    for match in _FRACTION.finditer(ctx.text):
        num = (match.group("num") or "").lower()
        den = match.group("den").lower().rstrip("s")
        if not num and den != "half":
            continue  # "the final third of the pitch"
        previous = ctx.text[max(0, match.start() - 12) : match.start()].split()
        if (
            not num
            and previous
            and previous[-1].lower()
            in {
                "the",
                "first",
                "second",
                "other",
                "latter",
                "former",
                "this",
                "that",
                "each",
                "every",
                "top",
                "bottom",
                "back",
                "front",
            }
        ):
            continue  # "the first half of the year"
        value = _NUMERATOR_VALUES.get(num, 1) / _DENOMINATOR_VALUES[den]
        s, e = match.span()
        cand = _Candidate(s, e, s, e, value, Decimal(value), 1, is_word=True)
        cand.digits = match.group()
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
        lemma = noun.lemma_.lower() or noun.lower_
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
    lemma = head.lemma_.lower() or head.lower_
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
    if cand.kind is None and ctx.char(cand.num_end) == "-" and ctx.char(cand.num_end + 1).isalpha():
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
