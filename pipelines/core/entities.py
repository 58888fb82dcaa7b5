"""Named-entity mentions, corrected and linked to canonical entities.

spaCy's small model gives most spans; this module decides what they are and which real-world
entity they name:
- places are looked up in the gazetteer, which fixes their type and canonical name
  ("Kiev" -> "Kyiv", "U.S." -> "United States", "Russian" -> the group "Russians") and gives
  their country; ambiguous names follow the document's other places, then population;
- places the model missed are found too: the city of a wire dateline ("BUENOS AIRES, March 4 -",
  "GOLDEN VALLEY, MINN., Feb 26 -"), and runs of capitalised words that are, as a whole, a known
  place or a personal name ("the centre of Kyiv", "March 19 - Beryl Sprinkel" read as a date);
- curated names fix what the model types wrongly and often ("Oscar" is an award, "EU" the
  European Union);
- evidence decides the type of a name: a title or a person-noun appositive ("X, a research
  fellow") or a first name ("Tatyana Perebeynos") for a person; an organisation noun ("oil giant
  Yukos", "Yukos shares", "Chelsea striker") for an organisation; where a name has no evidence,
  the model's majority label over the document's mentions;
- within a document one canonical entity has one label, and a later short form ("Gady", "Mr
  Baker") joins the person named in full earlier ("Franz-Stefan Gady").
Numbers, dates, times, money and percentages are not entities (they are quantities).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from spacy.attrs import ORTH
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span, Token

from pipelines.core import gazetteer
from pipelines.core.doc_arrays import text_of, token_starts
from pipelines.core.ids import LEGAL_FORMS, entity_id_for, mention_id_for, name_key
from pipelines.core.lemmas import lemma_of, lemmas_among
from pipelines.core.lexicon import ORG_WORDS, PERSON_NOUNS, TITLES
from pipelines.core.sentences import SentenceIndex

ENTITY_LABELS = frozenset(
    [
        "PERSON",
        "NORP",
        "FAC",
        "ORG",
        "GPE",
        "LOC",
        "PRODUCT",
        "EVENT",
        "WORK_OF_ART",
        "LAW",
        "LANGUAGE",
    ]
)
PLACE_LABELS = frozenset({"GPE", "LOC", "NORP", "FAC"})
_PLACE_KIND_LABEL = {
    "country": "GPE",
    "admin": "GPE",
    "city": "GPE",
    "region": "LOC",
    "demonym": "NORP",
}
# Labels the model gives names that the gazetteer may still turn into places.
_NAME_LABELS = ("PERSON", "ORG", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW")
# Honorifics and offices that are not part of a name ("Mr Gady", "President Reagan"); royal and
# religious titles ("King Fahd", "Pope Francis") stay in the name.
_DROPPED_TITLES = TITLES - {"king", "queen", "prince", "princess", "pope", "sheikh", "lord", "lady"}
# Titles that only ever stand before a person's name ("Mr Gady", unlike "General Motors").
_HONORIFICS = frozenset(["mr", "mrs", "ms", "dr", "prof", "sir", "dame", "rev"])
# A wire dateline at the start of a paragraph: "BUENOS AIRES, March 4 -", "GOLDEN VALLEY, MINN.,
# Feb 26 -", "ST. LOUIS, March 5 -", "LONDON (Reuters) -". The place is in capitals.
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_CAPS_WORD = r"[A-Z][A-Z.'&-]*"
_DATELINE = re.compile(
    r"^[ \t]*(?P<city>" + _CAPS_WORD + r"(?: " + _CAPS_WORD + r"){0,3})"
    r"(?:, (?P<region>[A-Z][A-Za-z.]*(?: [A-Z][A-Za-z.]*){0,2}))?"
    r"(?P<date>, " + _MONTH + r" \d{1,2})?"
    r"(?: \([A-Za-z .-]{2,30}\))?"
    r" +[-–—]+ ",
    re.MULTILINE,
)
# Words the model takes for names in wire-service tables ("Shr 10 cts vs 7 cts", "Avg shrs",
# "Revs 38.1 mln"), and legal forms on their own.
_NOT_NAMES = frozenset(
    ["avg", "revs", "rev", "shr", "shrs", "oper", "qtr", "mln", "bln", "dlrs", "cts", "pct",
     "vs", "net", "nil"]
) | LEGAL_FORMS  # fmt: skip
# Last words of names that are not people's, though they start with a first name ("Satyajit
# Ray Award", "Grace Church").
_NOT_SURNAMES = frozenset(
    ["award", "awards", "prize", "cup", "trophy", "series", "festival", "olympic", "olympics",
     "games", "league", "street", "road", "square", "park", "centre", "center", "hall", "house",
     "bridge", "station", "airport", "school", "church", "hospital", "island", "islands"]
)  # fmt: skip
# Words that, alone, stand for an organisation named in full elsewhere ("the Bank").
_GENERIC_ORG_WORDS = frozenset(
    ["bank", "ministry", "department", "commission", "council", "committee", "agency", "company",
     "group", "fund", "board", "bureau", "court", "corporation", "institute", "authority"]
)  # fmt: skip
# Nouns that make the name they modify an organisation: "oil giant Yukos", "Yukos, the firm".
_ORG_NOUNS = frozenset(
    ["firm", "company", "giant", "group", "maker", "carrier", "airline", "bank", "retailer",
     "operator", "producer", "manufacturer", "broadcaster", "network", "agency", "club", "side",
     "party", "label", "chain", "conglomerate", "insurer", "lender", "brewer", "miner",
     "developer", "publisher", "supermarket", "channel", "station", "band", "studio", "charity",
     "outfit", "provider", "newspaper", "magazine", "website", "team", "subsidiary"]
)  # fmt: skip
# People of a sports team: a word of sports reports, and a noun a club's name modifies.
_SPORTS_ROLES = frozenset(
    ["striker", "midfielder", "defender", "goalkeeper", "keeper", "coach", "squad", "player",
     "stadium"]
)  # fmt: skip
# Nouns an organisation's name modifies, and a person's does not: "Yukos shares", "Chelsea
# striker", "Microsoft boss".
_ORG_RELATIONS = frozenset(
    ["unit", "subsidiary", "share", "shares", "stock", "boss", "owner", "shareholder",
     "shareholders", "bankruptcy", "headquarters", "employee", "employees", "staff", "board",
     "customer", "customers", "profit", "profits", "revenue", "revenues", "sales", "takeover",
     "merger", "stake", "brand", "products", "subscribers", "chairman", "manager", "captain",
     "fans", "supporters", "players", "winger", "skipper", "executives"]
) | _SPORTS_ROLES  # fmt: skip
# Last words of a body named after the person who leads it ("the Reagan Administration").
_BODIES_NAMED_AFTER_A_PERSON = frozenset(
    ["administration", "government", "cabinet", "campaign", "presidency", "doctrine", "era"]
)
# Last words of a club's name after its town.
_CLUB_WORDS = frozenset(
    ["united", "city", "rovers", "athletic", "wanderers", "albion", "county", "town", "villa",
     "hotspur", "fc", "rangers", "celtic", "vale", "argyle", "orient", "wednesday", "forest"]
)  # fmt: skip
# Words of a sports report, where a town the model calls an organisation is a club.
_SPORTS_WORDS = frozenset(
    ["match", "goal", "club", "league", "premiership", "championship", "cup", "season", "score",
     "victory", "defeat", "draw", "fixture", "penalty", "tournament", "rugby", "football",
     "soccer", "tennis", "cricket", "wicket", "referee", "transfer", "injury", "boss",
     "champion", "final", "semi-final", "quarter-final", "win", "beat"]
) | _SPORTS_ROLES  # fmt: skip
_SPORTS_MIN_WORDS = 6
# Words left out of an organisation's initials ("International Institute for Strategic
# Studies" is "IISS").
_NOT_INITIALS = frozenset(["of", "for", "the", "and", "&", "de", "la", "du", "des", "on"])
_POSSESSIVE = ("'s", "’s", "'", "’")
_EDGE_JUNK = "<>\"“”‘’'()[]{}*+|/\\:;,"
_ARTICLES = ("the", "a", "an")
# A place found without the model must be at least this big when it is also a first name.
_NAMELIKE_CITY_MIN_POPULATION = 1_000_000
# Vote weights: the gazetteer or the curated list, then evidence in the text, then the model.
_KNOWN_VOTE, _PLACE_VOTE, _ORG_VOTE = 10, 5, 3


@dataclass(frozen=True)
class Mention:
    """One entity mention; `name` is its canonical entity's name."""

    mention_id: str
    doc_id: str
    sentence_id: str
    entity_id: str
    text: str
    label: str
    model_label: str | None
    char_start: int
    char_end: int
    entity_name: str
    country: str | None
    # "evidence" when the document decided the label (gazetteer, curated name, title,
    # appositive, organisation noun), "model" when only the NER model's votes did; the corpus
    # step may correct the latter by the other documents' verdicts.
    label_source: str = "evidence"


@dataclass
class _Candidate:
    start: int
    end: int
    model_label: str | None  # None: found by a dateline or the gazetteer, not the model
    label: str
    key: str  # normalised name used for grouping within the document
    person_evidence: int = 0
    org_evidence: int = 0
    place: gazetteer.Place | None = None
    dateline: bool = False
    name: str | None = None  # a canonical name fixed by a rule ("Oscars", "Tories")
    known: bool = False  # named by the curated list
    by_evidence: bool = False  # the label came from evidence, not from the model's votes


# --- finding names -------------------------------------------------------------------------------


def _is_caps_line(text: str) -> bool:
    """A headline or table line written in capitals ("DAHLBERG INC <DAHL> 4TH QTR NET")."""
    letters = "".join(filter(str.isalpha, text))
    return len(letters) >= 4 and sum(map(str.isupper, letters)) >= 0.8 * len(letters)


def _caps_lines(text: str) -> list[tuple[int, int]]:
    out = []
    offset = 0
    for line in text.split("\n"):
        if _is_caps_line(line):
            out.append((offset, offset + len(line)))
        offset += len(line) + 1
    return out


def _in_ranges(ranges: list[tuple[int, int]], offset: int) -> bool:
    return any(s <= offset < e for s, e in ranges)


def _trim_tokens(span: Span) -> tuple[list[Token], int]:
    """The span's name tokens: no line break, article, title, edge punctuation or trailing
    possessive; and how many person titles were dropped."""
    tokens = list(span)
    for i, t in enumerate(tokens):  # a name never crosses a line break or a parenthesis
        if "\n" in t.text or (i > 0 and t.text in "(["):
            tokens = tokens[:i]
            break
        if i < len(tokens) - 1 and "\n" in t.whitespace_:
            tokens = tokens[: i + 1]
            break
    titles = 0
    changed = True
    while changed and tokens:
        changed = False
        first = tokens[0]
        junk = first.is_punct or first.is_space or first.text in _EDGE_JUNK
        if junk or (first.lower_ in _ARTICLES and not _keeps_article(span, first)):
            tokens, changed = tokens[1:], True
        elif (
            first.lower_.rstrip(".")
            in (_DROPPED_TITLES if span.label_ == "PERSON" else _HONORIFICS)
            and len(tokens) > 1
            and tokens[1].text[:1].isupper()
        ):  # "President Reagan", "Mr Gady"; not "General Motors"
            tokens, changed, titles = tokens[1:], True, titles + 1
    while tokens and (
        tokens[-1].text in _POSSESSIVE
        or tokens[-1].lower_ in ("and", "of", "for", "the", "&")  # "Co-operation and"
        or tokens[-1].is_space
        or (tokens[-1].is_punct and tokens[-1].text != ".")
        or tokens[-1].text in _EDGE_JUNK
    ):
        tokens = tokens[:-1]
    if len(tokens) > 1 and tokens[-1].text == ".":  # "Corp ." -> "Corp"
        tokens = tokens[:-1]
    if len(tokens) > 3 and tokens[-2].text in "-–" and tokens[-1].is_digit and tokens[-3].is_digit:
        tokens = tokens[:-3]  # "Chelsea 2-1": a score
        while tokens and tokens[-1].is_space:
            tokens = tokens[:-1]
    return tokens, titles


def _keeps_article(span: Span, article: Token) -> bool:
    """A capital "The" inside a sentence belongs to a title: "reported The Times"."""
    return (
        article.text == "The"
        and not article.is_sent_start
        and span.label_ in ("ORG", "WORK_OF_ART", "FAC", "EVENT", "PRODUCT", "LAW")
    )


def _looks_like_person_name(words: list[str]) -> bool:
    if not 2 <= len(words) <= 4 or not all(w[:1].isupper() for w in words):
        return False
    if any(w.casefold().rstrip(".") in ORG_WORDS for w in words):
        return False
    if words[-1].isupper() and len(words[-1]) > 1:  # "Jaguar XJ", "AT&T"
        return False
    return gazetteer.is_given_name(words[0].split("-")[0])


def _person_evidence(span: Span, tokens: list[Token], titles: int) -> int:
    """Votes that a span names a person: a title before it, a person-noun appositive, a first
    name."""
    votes = 2 * min(titles, 1)
    doc = span.doc
    first = tokens[0].i
    if first > 0 and doc[first - 1].lower_.rstrip(".") in TITLES:
        votes += 2
    for child in span.root.children:
        if child.dep_ == "appos" and lemma_of(child).lower() in PERSON_NOUNS:
            votes += 2
    if _looks_like_person_name([t.text for t in tokens if not t.is_punct]):
        votes += 2
    return votes


def _org_evidence(span: Span, tokens: list[Token]) -> int:
    """Votes that a span names an organisation: an organisation noun around it ("oil giant
    Yukos", "Yukos, the oil firm", "Yukos shares"), a plural name the model takes for a person
    ("the Beatles"), or a town and a club word ("Manchester United")."""
    root = span.root
    votes = 0
    for child in root.children:
        if child.dep_ in ("compound", "appos") and lemma_of(child).lower() in _ORG_NOUNS:
            votes += _ORG_VOTE
    if root.dep_ == "appos" and lemma_of(root.head).lower() in _ORG_NOUNS:
        votes += _ORG_VOTE
    if root.dep_ == "compound" and root.head.lower_ in _ORG_RELATIONS and root.head.i >= span.end:
        votes += _ORG_VOTE
    words = [t.text for t in tokens]
    if (
        span.label_ == "PERSON"
        and tokens[-1].tag_ == "NNPS"
        and not gazetteer.is_given_name(words[0])
    ):
        votes += _ORG_VOTE
    if (
        len(words) > 1
        and words[-1].casefold() in _CLUB_WORDS
        and gazetteer.resolve_place(" ".join(words[:-1])) is not None
        and gazetteer.resolve_place(" ".join(words)) is None
    ):
        votes += _ORG_VOTE  # "Manchester United", "Leicester City"
    return votes


def _model_candidates(
    doc: Doc, sentences: SentenceIndex, caps: list[tuple[int, int]]
) -> list[_Candidate]:
    found: list[_Candidate] = []
    for ent in doc.ents:
        if ent.label_ not in ENTITY_LABELS or sentences.is_boilerplate(ent.start_char):
            continue
        if _in_ranges(caps, ent.start_char):  # capitals fool the model: see _caps_candidates
            continue
        tokens, titles = _trim_tokens(ent)
        if not tokens:
            continue
        if ent.start > 0 and _keeps_article(ent, doc[ent.start - 1]) and tokens[0].i == ent.start:
            tokens = [doc[ent.start - 1], *tokens]  # "reported The Times": the model left "The"
        start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
        surface = text_of(doc)[start:end]
        if not any(c.isupper() for c in surface) or sum(c.isalpha() for c in surface) < 2:
            continue
        if name_key(surface) in _NOT_NAMES or _in_office_title(doc, tokens):
            continue
        found.append(
            _Candidate(
                start,
                end,
                ent.label_,
                ent.label_,
                name_key(surface),
                person_evidence=_person_evidence(ent, tokens, titles),
                org_evidence=_org_evidence(ent, tokens),
            )
        )
    return found


def _in_office_title(doc: Doc, tokens: list[Token]) -> bool:
    """Whether a one-word name is part of an office: "State" in "Secretary of State", "Finance"
    in "Finance Minister"."""
    if len(tokens) != 1:
        return False
    after = tokens[0].i + 1
    if after < len(doc) and doc[after].lower_ in ("minister", "ministers"):
        return True
    i = tokens[0].i - 1
    if i >= 2 and doc[i].lower_ == "the":
        i -= 1
    return i >= 1 and doc[i].lower_ == "of" and doc[i - 1].lower_ in TITLES


def _dateline_candidates(text: str, sentences: SentenceIndex) -> list[_Candidate]:
    """The place of a wire dateline (and its state or country when given), which the model
    misses or mislabels in capitals ("BUENOS AIRES", "TORONTO")."""
    out: list[_Candidate] = []
    for match in _DATELINE.finditer(text):
        city_start = match.start("city")
        if sentences.is_boilerplate(city_start):
            continue
        city = match.group("city").rstrip(" .'-&")
        if len(city) < 3:
            continue
        region = match.group("region")
        region_place = _dateline_region(region) if region else None
        if region and region_place is None and not match.group("date"):
            continue
        surface = city.title()
        place = gazetteer.resolve_place(f"{surface}, {region}" if region_place else surface)
        if place is None and region_place is None and not match.group("date"):
            continue  # "NOTE - ...": only a known place or a dated line is a dateline
        if place is None or (region_place and place.country != region_place.country):
            country = region_place.country if region_place else None
            place = gazetteer.Place(surface, "city", country, 0)
        out.append(_place_candidate(city_start, city_start + len(city), place, dateline=True))
        if region and region_place is not None:
            start = match.start("region")
            out.append(_place_candidate(start, start + len(region), region_place, dateline=True))
    return out


def _dateline_region(region: str) -> gazetteer.Place | None:
    """The state or country after a dateline's city, abbreviated with or without its dot
    ("Pa.", "PA", "Fla", "MINN.", "MA.")."""
    place = gazetteer.resolve_place(region)
    if place is None and "." not in region and len(region) <= 5:
        place = gazetteer.resolve_place(region.title() + ".")
    if place is None and len(region.rstrip(".")) == 2:
        place = gazetteer.us_state(region)
    return place


def _place_candidate(
    start: int, end: int, place: gazetteer.Place, dateline: bool = False
) -> _Candidate:
    label = _PLACE_KIND_LABEL.get(place.kind, "GPE")
    return _Candidate(start, end, None, label, name_key(place.name), place=place, dateline=dateline)


@lru_cache(maxsize=100_000)
def _capitalised_word(word: str) -> bool:
    return word[:1].isupper() and any(c.isalpha() for c in word)


def _runs(doc: Doc) -> list[tuple[int, int]]:
    """Token ranges of capitalised words, within a line (a hyphen may join two; a line break
    is a token of its own, so it ends a run). Read from the document's word array, as most
    tokens start no run."""
    if len(doc) == 0:
        return []
    strings = doc.vocab.strings
    orths = doc.to_array(ORTH)
    distinct, where = np.unique(orths, return_inverse=True)  # each word tested once
    capitalised = np.array([_capitalised_word(strings[o]) for o in distinct.tolist()], bool)
    caps = capitalised[where].tolist()
    hyphens = (orths == np.uint64(get_string_id("-"))).tolist()
    out = []
    i, end = 0, len(doc)
    while i < end:
        if not caps[i]:
            i += 1
            continue
        j = i + 1
        while j < end:
            if caps[j]:
                j += 1
            elif hyphens[j] and j + 1 < end and caps[j + 1]:
                j += 2
            else:
                break
        out.append((i, j))
        i = j
    return out


def _unlabelled_candidates(
    doc: Doc, sentences: SentenceIndex, taken: bytearray, caps: list[tuple[int, int]]
) -> list[_Candidate]:
    """Names the model missed or folded into a date ("March 19 - Beryl Sprinkel"): a run of
    capitalised words that is, as a whole, a known place ("the centre of Kyiv", "the Belarus
    border") or a personal name; in capitals lines, any country or group."""
    out: list[_Candidate] = []
    excluded = bytearray(len(text_of(doc)))
    for ent in doc.ents:
        if ent.label_ in ("MONEY", "QUANTITY", "PERCENT"):  # "500 Canadian dlrs"
            excluded[ent.start_char : ent.end_char] = b"\x01" * (ent.end_char - ent.start_char)
    offsets = token_starts(doc)
    for start, end in _runs(doc):
        if excluded[offsets[start]] or sentences.is_boilerplate(offsets[start]):
            continue
        if any(taken[offsets[k]] for k in range(start, end)):
            continue
        first = doc[start]
        if _in_ranges(caps, first.idx):
            out.extend(_caps_candidates(doc, start, end))
            continue
        if first.is_sent_start and first.pos_ != "PROPN" and end - start > 1:
            start += 1  # "In Kyiv ..."
        if end - start > 1 and doc[start].lower_.rstrip(".") in _HONORIFICS:
            span = doc[start + 1 : end]  # "Mr Gady"
            if all(t.is_alpha or t.text == "-" for t in span):
                key = name_key(span.text)
                out.append(_Candidate(span.start_char, span.end_char, None, "PERSON", key, 2))
            continue
        span = doc[start:end]
        place = gazetteer.resolve_place(span.text)
        if place is not None:
            if _plausible_unlabelled_place(span, place):
                out.append(_place_candidate(span.start_char, span.end_char, place))
        elif _plausible_unlabelled_person(span):
            key = name_key(span.text)
            out.append(
                _Candidate(span.start_char, span.end_char, None, "PERSON", key, person_evidence=2)
            )
    return out


def _plausible_unlabelled_place(span: Span, place: gazetteer.Place) -> bool:
    """Whether a capitalised run the model did not label is the place the gazetteer says."""
    doc = span.doc
    if span.start > 0 and doc[span.start - 1].lower_.rstrip(".") in TITLES:
        return False  # "Mr Jordan"
    if gazetteer.known_entity(span.text) is not None:
        return False
    if place.kind == "demonym":
        return True
    if not all(t.pos_ == "PROPN" or t.text == "-" for t in span):
        return False
    if place.kind == "country":
        return True
    if len(span) == 1 and gazetteer.is_dictionary_word(span.text):
        return False  # "Orange", "Mobile games"
    return not gazetteer.is_given_name(span[0].text) or (
        place.population >= _NAMELIKE_CITY_MIN_POPULATION
    )


def _plausible_unlabelled_person(span: Span) -> bool:
    """A first name and one or two more names, all proper nouns: "Beryl Sprinkel"."""
    words = [t.text for t in span]
    return (
        2 <= len(words) <= 3
        and all(t.pos_ == "PROPN" and t.is_alpha for t in span)
        and _looks_like_person_name(words)
        and gazetteer.given_name_gender(words[0]) is not None  # not "Sun Grid", "San Andreas"
        and words[-1].casefold() not in _NOT_SURNAMES  # "Satyajit Ray Award"
        and gazetteer.resolve_place(words[-1]) is None
        and not _big_place(words[0])  # "the Sydney Olympic gold medallist"
    )


def _big_place(word: str) -> bool:
    place = gazetteer.resolve_place(word)
    return place is not None and (
        place.kind != "city" or place.population >= _NAMELIKE_CITY_MIN_POPULATION
    )


def _caps_candidates(doc: Doc, start: int, end: int) -> list[_Candidate]:
    """Countries and national groups in a capitals line ("U.S. TRADE DEFICIT WIDENS"),
    longest first; other words in capitals are too often something else."""
    out = []
    i = start
    while i < end:
        for j in range(min(end, i + 3), i, -1):
            span = doc[i:j]
            place = gazetteer.resolve_place(span.text.title())
            if place is not None and place.kind in ("country", "demonym"):
                out.append(_place_candidate(span.start_char, span.end_char, place))
                i = j
                break
        else:
            i += 1
    return out


def _repeated_candidates(
    doc: Doc, sentences: SentenceIndex, candidates: list[_Candidate], caps: list[tuple[int, int]]
) -> list[_Candidate]:
    """A name the document gives elsewhere, where the model missed it ("Mido was axed..."):
    every other occurrence of a named surface, outside dates, numbers and capitals lines. A
    single word must be a proper noun there ("Next" the retailer, not "Next year")."""
    text = text_of(doc)
    sources: dict[str, _Candidate] = {}
    for c in candidates:
        surface = text[c.start : c.end]
        if len(surface) >= 3 and surface[0].isupper() and not c.dateline:
            sources.setdefault(surface, c)
    if not sources:
        return []
    blocked = bytearray(len(text))
    for c in candidates:
        blocked[c.start : c.end] = b"\x01" * (c.end - c.start)
    for ent in doc.ents:
        blocked[ent.start_char : ent.end_char] = b"\x01" * (ent.end_char - ent.start_char)
    for start, end in caps:
        blocked[start:end] = b"\x01" * (end - start)
    out: list[_Candidate] = []
    for start, surface in whole_word_occurrences(text, sources):
        end = start + len(surface)
        span = doc.char_span(start, end)
        if span is None or any(blocked[start:end]) or sentences.is_boilerplate(start):
            continue
        if len(span) == 1 and span[0].pos_ != "PROPN":
            continue
        source = sources[surface]
        out.append(
            _Candidate(
                start,
                end,
                None,
                source.label,
                source.key,
                place=source.place,
                name=source.name,
                known=source.known,
            )
        )
    return out


def _is_word_char(ch: str) -> bool:
    """What `\\w` matches in a `str` pattern: a letter or digit of any script, or "_"."""
    return ch.isalnum() or ch == "_"


def whole_word_occurrences(text: str, surfaces: Iterable[str]) -> list[tuple[int, str]]:
    """(start, surface) of each whole-word occurrence of the surfaces, left to right, the longest
    where several start together, none overlapping: what `re.finditer` gives for the
    alternation of the surfaces, longest first, between `(?<![\\w'’-])` and `(?![\\w-])`, found
    with `str.find` instead of a pattern compiled for each document (a few ms each)."""
    found: list[tuple[int, int, str]] = []
    for surface in set(surfaces):
        if not surface:
            continue
        at = text.find(surface)
        while at >= 0:
            end = at + len(surface)
            before = text[at - 1] if at else ""
            after = text[end] if end < len(text) else ""
            if not (before and (_is_word_char(before) or before in "'’-")) and not (
                after and (_is_word_char(after) or after == "-")
            ):
                found.append((at, -len(surface), surface))
            at = text.find(surface, at + 1)
    out: list[tuple[int, str]] = []
    reached = 0
    for start, _longest, surface in sorted(found):
        if start >= reached:
            out.append((start, surface))
            reached = start + len(surface)
    return out


def _resolve_overlaps(candidates: list[_Candidate]) -> list[_Candidate]:
    """Datelines win over the model's spans they overlap; otherwise the earlier, longer span."""
    candidates.sort(key=lambda c: (not c.dateline, c.start, -c.end))
    kept: list[_Candidate] = []
    for c in candidates:
        if any(c.start < k.end and k.start < c.end for k in kept):
            continue
        kept.append(c)
    return sorted(kept, key=lambda c: (c.start, c.end))


# --- deciding what they are ----------------------------------------------------------------------


def _is_sports_report(doc: Doc) -> bool:
    return len(lemmas_among(doc, _SPORTS_WORDS)) >= _SPORTS_MIN_WORDS


def _classify(candidates: list[_Candidate], text: str) -> None:
    """Curated names, then places from the gazetteer (the document's countries as context),
    then groups named as groups ("Tory" -> "Tories")."""
    context: set[str] = set()
    for c in candidates:
        if c.place is not None and c.place.country:
            context.add(c.place.country)
        elif c.model_label in ("GPE", "NORP"):
            surface = text[c.start : c.end]
            country = gazetteer.canonical_country(surface) or gazetteer.demonym_country(surface)
            if country:
                context.add(country)
    for c in candidates:
        if c.place is not None:
            continue
        surface = text[c.start : c.end]
        known = gazetteer.known_entity(surface) if c.model_label else None
        if known is not None:
            (c.name, c.label), c.known = known, True
            c.key = name_key(c.name)
            continue
        place = gazetteer.resolve_place(surface, context)
        if place is None and c.label in ("GPE", "LOC") and _is_acronym(surface):
            c.label = "ORG"  # "BT", "GM": the gazetteer knows every place written so
        elif place is not None and _is_place(c, surface, place):
            c.place = place
            c.label = _PLACE_KIND_LABEL.get(place.kind, c.label)
            c.key = name_key(place.name)
        elif c.label == "NORP":
            c.name = _group_name(surface)
            c.key = name_key(c.name)


def _is_acronym(surface: str) -> bool:
    letters = surface.replace(".", "").replace("&", "")
    return 2 <= len(letters) <= 5 and letters.isalpha() and letters.isupper()


def _is_place(c: _Candidate, surface: str, place: gazetteer.Place) -> bool:
    """Whether the gazetteer's reading of a model span holds."""
    if c.model_label == "LANGUAGE" and place.kind == "demonym":
        return False  # "in English"
    if c.org_evidence and place.kind == "city":
        return False  # "Chelsea striker"
    if c.model_label not in _NAME_LABELS or (place.kind == "country" and " " in surface):
        return True  # "Sri Lanka" is no Mr Lanka
    # Trust the model over the gazetteer only for a name that reads like a person or an
    # organisation: "Jordan Henderson", "Bank of Georgia".
    if c.person_evidence >= 2 or len(surface.split()) > 3:
        return False
    if place.kind == "city" and place.population < 15_000:
        return False
    if c.model_label == "ORG" and any(w.casefold() in ORG_WORDS for w in surface.split()):
        return False
    return not (
        gazetteer.is_given_name(surface) and place.kind == "city" and place.population < 1e6
    )


def _group_name(surface: str) -> str:
    """A group the gazetteer does not know, named as people name it: "Tory" -> "Tories",
    "Republican" -> "Republicans"; "Jewish" and "Islamic" stay as they are."""
    head, _, last = surface.rpartition(" ")
    lower = last.lower()
    if lower.endswith("s") or not last.isalpha():
        plural = last
    elif lower.endswith("y") and lower[-2:-1] not in "aeiou":
        plural = last[:-1] + "ies"
    elif lower.endswith(("an", "ist", "at", "im", "ite", "ni")):
        plural = last + "s"
    else:
        plural = last
    return f"{head} {plural}" if head else plural


def _join_short_forms(candidates: list[_Candidate]) -> None:
    """A person's later short form joins the full name: "Gady" (whatever the model called it)
    and "Franz-Stefan" join "Franz-Stefan Gady"; "Baker" joins the nearest full name before it
    when two people share it; "James Baker" joins "James A. Baker"."""
    full: dict[str, int] = {}  # key of a full name -> its first position
    for c in candidates:
        if c.place is None and not c.known and len(c.key.split()) >= 2 and _reads_as_person(c):
            full.setdefault(c.key, c.start)
    if not full:
        return
    by_form: dict[str, list[tuple[int, str, bool]]] = defaultdict(list)
    for key, position in full.items():
        words = [w for w in key.split() if len(w) > 1]  # not initials
        if not words:
            continue
        by_form[words[-1]].append((position, key, True))
        if len(words) > 1:
            by_form[words[0]].append((position, key, False))
            if " ".join(words) != key:
                by_form[" ".join(words)].append((position, key, False))
    called_person = {c.key for c in candidates if c.model_label == "PERSON"}
    for c in candidates:
        if c.key in full or not _may_be_a_short_form(c):
            continue
        choices = by_form.get(c.key)
        if not choices or (c.key not in called_person and not any(s for *_, s in choices)):
            continue  # a first name alone joins only where the model calls it a person
        earlier = [(p, k) for p, k, _ in choices if p < c.start]
        _, key = max(earlier) if earlier else min((p, k) for p, k, _ in choices)
        c.key, c.label, c.place, c.name = key, "PERSON", None, None
        c.person_evidence = max(c.person_evidence, 2)


def _reads_as_person(c: _Candidate) -> bool:
    if c.person_evidence or c.org_evidence:
        return c.person_evidence > c.org_evidence
    return c.label == "PERSON"


def _may_be_a_short_form(c: _Candidate) -> bool:
    """A mention that may stand for a person named in full elsewhere: not a dateline, a curated
    name, a country or a group, nor a place the model itself called one."""
    if c.dateline or c.known or c.org_evidence:
        return False
    if c.model_label in ("PERSON", "ORG"):
        return True
    if c.place is None:
        return c.model_label in (None, "GPE", "NORP", "FAC", "PRODUCT", "WORK_OF_ART")
    return c.model_label is None and c.place.kind in ("city", "admin")


def _initials(key: str) -> str:
    return "".join(w[0] for w in key.split() if w not in _NOT_INITIALS)


def _join_generic_organisation_words(candidates: list[_Candidate]) -> list[_Candidate]:
    """A generic word alone ("the Bank") is the one organisation of the document it begins or
    ends ("Bank of Japan"); with none or several, it names nothing an index can hold."""
    full = [c.key for c in candidates if c.label == "ORG" and c.place is None and " " in c.key]
    kept = []
    for c in candidates:
        if c.label == "ORG" and c.key in _GENERIC_ORG_WORDS and not c.known:
            matches = {k for k in full if k.split()[0] == c.key or k.split()[-1] == c.key}
            if len(matches) != 1:
                continue
            c.key = matches.pop()
        kept.append(c)
    return kept


def _mark_organisation_short_forms(candidates: list[_Candidate], text: str) -> None:
    """A name that begins an organisation's name in the same document, or is its initials, names
    an organisation too: "Piedmont" and "USAir" after "Piedmont Aviation Inc" and "USAir Group",
    "IISS" after "International Institute for Strategic Studies". A place the model did not call
    one counts only when the document has nothing else in its country. A body named after its
    leader says nothing of the leader ("President Reagan" after "the Reagan Administration")."""
    full = {c.key for c in candidates if c.label == "ORG" and c.place is None}
    prefixes = {
        " ".join(k.split()[:n])
        for k in full
        if k.split()[-1] not in _BODIES_NAMED_AFTER_A_PERSON
        for n in range(1, len(k.split()))
    }
    initials = {_initials(k) for k in full if len(_initials(k)) >= 2}
    countries = Counter(c.place.country for c in candidates if c.place and c.place.country)
    mentions_of = Counter(c.key for c in candidates)
    for c in candidates:
        if c.key in full or c.dateline or c.known or c.label == "NORP":
            continue
        surface = text[c.start : c.end].replace(".", "")
        if c.key not in prefixes and not (c.key in initials and surface.isupper()):
            continue
        if c.place is not None:
            own = mentions_of[c.key]
            if c.place.kind not in ("city", "admin") or countries[c.place.country] > own:
                continue
            if c.model_label in ("GPE", "LOC"):
                continue  # "Lisbon" before "Lisbon Agenda" is still a city
        c.place, c.name = None, None
        c.org_evidence = max(c.org_evidence, _ORG_VOTE)


def _vote_labels(candidates: list[_Candidate], sports: bool) -> None:
    """One label per canonical entity in a document. Evidence votes first (curated names,
    places, titles, appositives, first names, organisation nouns); an entity without any takes
    the model's majority label. In a sports report a town is a place only by evidence or the
    model's majority ("Liverpool" the club). A tie goes to the earliest mention's label."""
    strong: dict[str, Counter[str]] = defaultdict(Counter)
    weak: dict[str, Counter[str]] = defaultdict(Counter)
    order: dict[tuple[str, str], int] = {}
    for i, c in enumerate(candidates):
        if c.known:
            strong[c.key][c.label] += _KNOWN_VOTE
        elif c.place is not None and sports and c.place.kind == "city":
            label = "ORG" if c.model_label in ("ORG", "PERSON") else c.label
            weak[c.key][label] += 1
        elif c.place is not None:
            strong[c.key][c.label] += _PLACE_VOTE
        else:
            if c.person_evidence:
                strong[c.key]["PERSON"] += c.person_evidence
            if c.org_evidence:
                strong[c.key]["ORG"] += c.org_evidence
            weak[c.key][c.label] += 1
        for label in (c.label, "PERSON", "ORG"):
            order.setdefault((c.key, label), i)
    for c in candidates:
        c.by_evidence = bool(strong[c.key])
        counts = strong[c.key] if c.by_evidence else weak[c.key]
        c.label = min(counts, key=lambda label: (-counts[label], order[(c.key, label)]))


def _display_name(surfaces: list[str]) -> str:
    """The longest surface form, preferring one not written in capitals."""
    readable = [s for s in surfaces if not (s.isupper() and len(s) > 4)]
    if readable:
        return max(readable, key=lambda s: (len(s), s))
    return max(surfaces, key=lambda s: (len(s), s)).title()


def extract_mentions(doc_id: str, doc: Doc, sentences: SentenceIndex) -> list[Mention]:
    """The document's entity mentions, each with its canonical entity."""
    text = text_of(doc)
    caps = _caps_lines(text)
    candidates = _resolve_overlaps(
        _model_candidates(doc, sentences, caps) + _dateline_candidates(text, sentences)
    )
    taken = bytearray(len(text))
    for c in candidates:
        taken[c.start : c.end] = b"\x01" * (c.end - c.start)
    candidates += _unlabelled_candidates(doc, sentences, taken, caps)
    candidates.sort(key=lambda c: (c.start, c.end))
    _classify(candidates, text)
    candidates += _repeated_candidates(doc, sentences, candidates, caps)
    candidates.sort(key=lambda c: (c.start, c.end))
    _join_short_forms(candidates)
    candidates = _join_generic_organisation_words(candidates)
    _mark_organisation_short_forms(candidates, text)
    _vote_labels(candidates, _is_sports_report(doc))
    # The canonical name of an entity: the gazetteer's or the curated one, else its longest
    # surface form.
    surfaces: dict[str, list[str]] = defaultdict(list)
    places: dict[str, gazetteer.Place] = {}
    fixed: dict[str, str] = {}
    for c in candidates:
        if c.place is not None and c.label == _PLACE_KIND_LABEL.get(c.place.kind):
            places.setdefault(c.key, c.place)
        elif c.name is not None and (c.known or c.label == "NORP"):
            fixed.setdefault(c.key, c.name)
        surfaces[c.key].append(text[c.start : c.end])
    mentions: list[Mention] = []
    for c in candidates:
        sentence = sentences.at(c.start)
        if sentence is None:
            continue
        place = places.get(c.key)
        name = place.name if place else fixed.get(c.key) or _display_name(surfaces[c.key])
        mentions.append(
            Mention(
                mention_id=mention_id_for(doc_id, len(mentions)),
                doc_id=doc_id,
                sentence_id=sentence.sentence_id,
                entity_id=entity_id_for(name_key(name), c.label),
                text=text[c.start : c.end],
                label=c.label,
                model_label=c.model_label,
                char_start=c.start,
                char_end=c.end,
                entity_name=name,
                country=place.country if place else None,
                label_source="evidence" if c.by_evidence else "model",
            )
        )
    return mentions
