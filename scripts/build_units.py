"""Build pipelines/core/data/units.tsv: every unit form the quantity extractor reads, as data.

Sources, so that the table is not a hand list of Python literals:
- pint's registry (a dev dependency; the runtime never imports it): each physical unit's own
  names, its plural and its symbol ("kilometer", "kilometers", "km"), and its value in SI base or
  derived units, with the offset of the offset units (a reading of 98.6 degF is 310.15 K; a
  change of 1.8 degF is 1 K, the factor without the offset);
- ISO 4217 through pycountry: every current currency code and its name ("HKD", "hong kong
  dollar");
- two small hand tables beside this script: scripts/data/unit_sources.tsv (which units, named as
  NewsQuant names them, British spelling, and the forms news writes that no registry has:
  "per cent", "mph", "years old") and scripts/data/currency_sources.tsv (signs and prefixes such
  as "HK$", "$US", "A$", NewsQuant's names, withdrawn currencies).

    .venv/bin/python scripts/build_units.py      # rewrites pipelines/core/data/units.tsv
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pint
import pycountry

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "scripts" / "data"
OUT = ROOT / "pipelines" / "core" / "data" / "units.tsv"

# SI names of the dimensions a news measure has, by the pint unit of that dimension (pint gives
# base units; "kilogram * meter ** 2 / second ** 3" reads as watt). Torque and energy share a
# dimension: the unit's own kind decides.
_SI_NAMES = {
    "metre": "meter",
    "square metre": "meter ** 2",
    "cubic metre": "meter ** 3",
    "kilogram": "kilogram",
    "second": "second",
    "kelvin": "kelvin",
    "metre per second": "meter / second",
    "cubic metre per second": "meter ** 3 / second",
    "watt": "watt",
    "joule": "joule",
    "hertz": "hertz",
    "coulomb": "coulomb",
    "volt": "volt",
}
_TORQUE = {"pound-foot", "foot pound-force", "newton metre"}
_BRITISH = (("meter", "metre"), ("liter", "litre"), ("metric_ton", "tonne"))


def _plural(word: str) -> str:
    """English plural of a unit word (pint parses plurals but does not list them)."""
    irregular = {"foot": "feet", "inch": "inches", "century": "centuries", "hertz": "hertz"}
    if word in irregular:
        return irregular[word]
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def _british(name: str) -> str:
    for us, uk in _BRITISH:
        name = name.replace(us, uk)
    return name


def _si(registry: pint.UnitRegistry, expression: str, unit: str) -> tuple[str, float, float]:
    """(SI unit name, factor, offset): SI value = value * factor + offset."""
    times, _, rest = expression.partition("*")
    if times.isdigit():  # "10*year": pint's "decade" is a logarithmic unit, not ten years
        si_unit, factor, offset = _si(registry, rest, unit)
        return si_unit, factor * int(times), offset
    zero = registry.Quantity(0, expression).to_base_units()
    one = registry.Quantity(1, expression).to_base_units()
    si_unit = "newton metre" if unit in _TORQUE else None
    for name, target in _SI_NAMES.items():
        if si_unit is None and registry.Quantity(1, target).dimensionality == one.dimensionality:
            si_unit = name
    if si_unit is None:
        raise ValueError(f"{unit}: no SI name for {one.dimensionality}")
    if unit in _TORQUE:
        one = registry.Quantity(1, expression).to("newton * meter")
        zero = registry.Quantity(0, expression).to("newton * meter")
    return si_unit, float(one.magnitude - zero.magnitude), float(zero.magnitude)


# Qualifiers in pint's alias names that news never writes ("avoirdupois pound", "julian year").
_TECHNICAL = {
    *("international", "avoirdupois", "avdp", "thermochemical", "th", "hydraulic", "julian"),
    *("gigametric", "megametric"),
}
# pint symbols that are English words or names more often than units after a number ("5 in 10",
# "Mt Everest", "ha ha"); the hand table names the units where news abbreviates them.
_AMBIGUOUS_SYMBOLS = {"in", "ha", "ly", "kn", "Mt", "cal", "mi", "gal", "yd"}


def _english_words() -> set[str]:
    """English words among place names (data/english_words.tsv): "TOP", "ALL" are not codes."""
    path = ROOT / "pipelines" / "core" / "data" / "english_words.tsv"
    with open(path, encoding="utf-8") as handle:
        return {line.split("\t")[0] for line in handle if not line.startswith("#")}


def _pint_forms(registry: pint.UnitRegistry, expression: str) -> tuple[list[str], list[str]]:
    """pint's names and aliases (any case) with the name's plural, and its symbol (exact case)."""
    if not re.fullmatch(r"[A-Za-z_]+", expression):
        return [], []
    definition = registry._units.get(expression)  # the registry's own table of definitions
    if definition is None:
        return [], []
    aliases = [a for a in definition.aliases if a.islower() and len(a) > 3]
    words = []
    for name in [expression, *aliases]:
        for form in dict.fromkeys((name, _british(name))):
            form = form.replace("_", " ")
            if set(form.split()) & _TECHNICAL or form.startswith("degree ") or len(form) < 3:
                continue
            words.append(form)
            if name == expression and not form.endswith(("s", "z")):
                words.append(_plural(form))
    symbol = definition.symbol or ""
    readable = 2 <= len(symbol) <= 4 and symbol.isascii() and symbol.isalpha()
    symbols = [symbol] if readable and symbol not in _AMBIGUOUS_SYMBOLS else []
    return words, symbols


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


def _split(field: str | None) -> list[str]:
    return [f for f in (field or "").split("|") if f]


def build() -> list[tuple[str, ...]]:
    """Rows (form, match, unit, kind, currency, si_unit, si_factor, si_offset)."""
    registry = pint.UnitRegistry()
    rows: list[tuple[str, ...]] = []
    taken: set[tuple[str, str]] = set()

    def add(form: str, match: str, unit: str, kind: str, code: str, si: tuple) -> None:
        key = (form.lower() if match == "word" else form, match if match != "cased" else "word")
        if key in taken:
            return  # the first source wins: the hand tables, then pint, then ISO names
        taken.add(key)
        si_unit, factor, offset = si
        rows.append((form, match, unit, kind, code, si_unit, factor, offset))

    english = _english_words()
    sources = _read(SOURCES / "unit_sources.tsv")
    sis = {}
    for row in sources:
        unit, expression, kind = row["unit"], row["pint"], row["kind"]
        si = ("", "", "") if expression == "-" else _si(registry, expression, unit)
        sis[unit] = (si[0], f"{si[1]:.12g}", f"{si[2]:.12g}") if si[0] else si
        for form in _split(row["forms"]):
            add(form.lower(), "word", unit, kind, "", sis[unit])
        for form in _split(row["cased"]):
            add(form, "cased", unit, kind, "", sis[unit])
        for form in _split(row["glued"]):
            add(form, "glued", unit, kind, "", sis[unit])
    none = ("", "", "")
    for row in _read(SOURCES / "currency_sources.tsv"):
        code = "" if row["code"] == "-" else row["code"]
        for form in _split(row["forms"]):
            add(form.lower(), "word", row["unit"], "currency", code, none)
        for form in _split(row["prefixes"]):
            add(form, "prefix", row["unit"], "currency", code, none)
    # pint's own names after every hand form, so "pounds" stays money and "in" is not an inch
    for row in sources:
        unit, expression, kind = row["unit"], row["pint"], row["kind"]
        if expression != "-":
            words, symbols = _pint_forms(registry, expression)
            for form in words:
                add(form.lower(), "word", unit, kind, "", sis[unit])
            for form in symbols:
                add(form, "cased", unit, kind, "", sis[unit])
    for currency in sorted(pycountry.currencies, key=lambda c: c.alpha_3):
        name = currency.name.lower()
        if "fund" in name or "unit" in name or "gold" in name or "special drawing" in name:
            continue  # ISO's accounting units, not money people are paid in
        unit = next((r[2] for r in rows if r[4] == currency.alpha_3 and r[1] == "prefix"), name)
        for form in (name, _plural(name)):
            add(form, "word", unit, "currency", currency.alpha_3, none)
        if currency.alpha_3.lower() not in english:  # "TOP 10", "ALL 5" in a headline
            add(currency.alpha_3, "prefix", unit, "currency", currency.alpha_3, none)
    codes = {r[2]: r[4] for r in rows if r[3] == "currency" and r[4]}
    return [(*r[:4], r[4] or codes.get(r[2], ""), *r[5:]) for r in rows]


def main() -> None:
    rows = build()
    with open(OUT, "w", encoding="utf-8", newline="") as handle:
        handle.write(
            "# Generated by scripts/build_units.py from pint's registry, ISO 4217 (pycountry) and\n"
            "# the hand tables in scripts/data/; do not edit, rebuild. Read by\n"
            "# pipelines/core/quantity_data.py. match: word (after a number, any case), cased\n"
            "# (exact case), glued (exact case, glued to the number only), prefix (money sign or\n"
            "# code before a number). SI value = value * si_factor + si_offset (a difference:\n"
            "# value * si_factor).\n"
        )
        handle.write("form\tmatch\tunit\tkind\tcurrency\tsi_unit\tsi_factor\tsi_offset\n")
        for row in rows:
            handle.write("\t".join(str(v) for v in row) + "\n")
    print(f"{len(rows)} forms -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
