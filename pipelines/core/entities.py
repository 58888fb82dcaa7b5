"""Named-entity mentions, corrected and linked to canonical entities.

spaCy's small model gives the spans; this module decides what they are:
- places are looked up in the gazetteer, which fixes their type and canonical name
  ("Kiev" -> "Kyiv", "U.S." -> "United States") and gives their country;
- an ORG-labelled span that reads like a personal name ("Tatyana Perebeynos"), or that has a
  title or a person-describing appositive ("X, a research fellow"), is a PERSON;
- within a document one canonical entity has one label (a vote over its mentions), and a later
  short form ("Gady") joins the full name given earlier ("Franz-Stefan Gady").
Numbers, dates, times, money and percentages are not entities (they are quantities).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

import polars as pl
from spacy.tokens import Doc, Span

from pipelines.core import gazetteer
from pipelines.core.ids import entity_id_for, mention_id_for
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
# A Reuters dateline: "BUENOS AIRES, March 4 - " at the start of a paragraph.
_DATELINE = re.compile(r"^([A-Z][A-Z .'-]{1,40}?),\s+[A-Z][a-z]+\.?\s+\d{1,2}\s+-")
_POSSESSIVE = ("'s", "’s", "'", "’")


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


@dataclass
class _Candidate:
    start: int
    end: int
    model_label: str | None
    label: str
    key: str  # normalised name used for grouping within the document
    person_evidence: int = 0
    place: gazetteer.Place | None = None


def name_key(name: str) -> str:
    """How two surface forms are compared: case, dots and spacing do not matter."""
    return re.sub(r"\s+", " ", name.replace(".", "")).strip().casefold()


def _trim_span(span: Span) -> tuple[int, int] | None:
    """Character range of the span without a leading article or trailing possessive."""
    tokens = list(span)
    while tokens and (tokens[0].lower_ in ("the", "a", "an") or tokens[0].is_punct):
        tokens = tokens[1:]
    while tokens and (tokens[-1].text in _POSSESSIVE or tokens[-1].is_punct):
        tokens = tokens[:-1]
    if not tokens or not any(c.isupper() for t in tokens for c in t.text):
        return None
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)


def _looks_like_person_name(span: Span) -> bool:
    words = [t.text for t in span if not t.is_punct]
    if not 2 <= len(words) <= 4 or not all(w[:1].isupper() for w in words):
        return False
    if any(w.casefold() in ORG_WORDS for w in words):
        return False
    first = words[0].split("-")[0]
    return gazetteer.is_given_name(first)


def _person_evidence(span: Span) -> int:
    """Votes that a span names a person: a title before it, a person-noun appositive."""
    votes = 0
    doc = span.doc
    if span.start > 0 and doc[span.start - 1].lower_.rstrip(".") in TITLES:
        votes += 2
    for child in span.root.children:
        if child.dep_ == "appos" and child.lemma_.lower() in PERSON_NOUNS:
            votes += 2
    if _looks_like_person_name(span):
        votes += 2
    return votes


def _candidates(doc: Doc, sentences: SentenceIndex) -> list[_Candidate]:
    found: list[_Candidate] = []
    taken: set[int] = set()
    for ent in doc.ents:
        if ent.label_ not in ENTITY_LABELS or sentences.is_boilerplate(ent.start_char):
            continue
        trimmed = _trim_span(ent)
        if trimmed is None:
            continue
        start, end = trimmed
        found.append(
            _Candidate(
                start,
                end,
                ent.label_,
                ent.label_,
                name_key(doc.text[start:end]),
                person_evidence=_person_evidence(ent),
            )
        )
        taken.update(range(ent.start_char, ent.end_char))
    found.extend(_dateline_candidates(doc.text, taken, sentences))
    return found


def _dateline_candidates(text: str, taken: set[int], sentences: SentenceIndex) -> list[_Candidate]:
    """The city of a wire dateline, which the model misses in capitals ("BUENOS AIRES")."""
    out = []
    for paragraph_start in (0, *(m.end() for m in re.finditer(r"\n", text))):
        match = _DATELINE.match(text, paragraph_start)
        if not match or match.start(1) in taken or sentences.is_boilerplate(match.start(1)):
            continue
        surface = match.group(1).strip()
        if gazetteer.resolve_place(surface.title()) is None:
            continue
        start = match.start(1)
        out.append(_Candidate(start, start + len(surface), None, "GPE", name_key(surface)))
    return out


def _apply_gazetteer(candidates: list[_Candidate], text: str) -> None:
    """Type and name places from the gazetteer, using the document's countries as context."""
    context: set[str] = set()
    for c in candidates:
        if c.model_label in ("GPE", "NORP", None):
            country = gazetteer.canonical_country(
                text[c.start : c.end]
            ) or gazetteer.demonym_country(text[c.start : c.end])
            if country:
                context.add(country)
    for c in candidates:
        surface = text[c.start : c.end]
        place = gazetteer.resolve_place(surface, context)
        if place is None:
            continue
        if c.model_label in ("PERSON", "ORG", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"):
            # Trust the model over the gazetteer only for a name that reads like a person or an
            # organisation: "Jordan Henderson", "Bank of Georgia".
            if c.person_evidence >= 2 or len(surface.split()) > 3:
                continue
            if place.kind == "city" and place.population < 15_000:
                continue
            if c.model_label == "ORG" and any(w.casefold() in ORG_WORDS for w in surface.split()):
                continue
            if gazetteer.is_given_name(surface) and place.kind == "city" and place.population < 1e6:
                continue
        c.place = place
        c.label = _PLACE_KIND_LABEL.get(place.kind, c.label)
        c.key = name_key(place.name)


def _vote_labels(candidates: list[_Candidate]) -> None:
    """One label per canonical entity in a document, by weighted vote over its mentions."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for c in candidates:
        if c.place is not None:
            votes[c.key][c.label] += 5
        elif c.person_evidence:
            votes[c.key]["PERSON"] += c.person_evidence
        else:
            votes[c.key][c.label] += 1
    for c in candidates:
        c.label = votes[c.key].most_common(1)[0][0]


def _join_short_forms(candidates: list[_Candidate], text: str) -> dict[str, str]:
    """Map a person's short form ("gady") to the longest full name it ends ("franz-stefan gady")."""
    people = {c.key for c in candidates if c.label == "PERSON"}
    full_names = sorted((k for k in people if " " in k), key=len, reverse=True)
    alias: dict[str, str] = {}
    for key in people:
        for full in full_names:
            if full != key and (full.endswith(" " + key) or full.startswith(key + " ")):
                alias[key] = full
                break
    return alias


def extract_mentions(doc_id: str, doc: Doc, sentences: SentenceIndex) -> list[Mention]:
    """The document's entity mentions, each with its canonical entity."""
    text = doc.text
    candidates = sorted(_candidates(doc, sentences), key=lambda c: (c.start, c.end))
    _apply_gazetteer(candidates, text)
    for c in candidates:
        if c.label == "ORG" and c.person_evidence >= 2 and c.place is None:
            c.label = "PERSON"
    _vote_labels(candidates)
    alias = _join_short_forms(candidates, text)
    for c in candidates:
        c.key = alias.get(c.key, c.key)
    # The canonical name of a group: the gazetteer's, else its longest surface form.
    names: dict[str, str] = {}
    for c in candidates:
        surface = c.place.name if c.place else text[c.start : c.end]
        best = names.get(c.key)
        if best is None or (c.place is None and len(surface) > len(best)) or c.place is not None:
            names[c.key] = surface
    mentions: list[Mention] = []
    for c in candidates:
        sentence = sentences.at(c.start)
        if sentence is None:
            continue
        name = names[c.key]
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
                country=c.place.country if c.place else None,
            )
        )
    return mentions


def entities_table(mentions: pl.LazyFrame) -> pl.LazyFrame:
    """The corpus-wide entities: one row per entity id, with its most common name and country."""
    return (
        mentions.group_by("entity_id")
        .agg(
            pl.col("entity_name").mode().sort().first().alias("name"),
            pl.col("label").first(),
            pl.col("country").drop_nulls().mode().sort().first().alias("country"),
            pl.len().cast(pl.Int64).alias("n_mentions"),
            pl.col("doc_id").n_unique().cast(pl.Int64).alias("n_documents"),
        )
        .sort(["n_mentions", "entity_id"], descending=[True, False])
    )
