"""Pronoun speakers: the nearest fitting person or description before the pronoun."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from spacy.tokens import Doc

from pipelines.core import gazetteer
from pipelines.core.doc_arrays import text_of, token_indices
from pipelines.core.entities import Mention
from pipelines.core.lexicon import (
    FEMALE_NOUNS,
    MALE_NOUNS,
    PRONOUNS,
    SPEAKER_NOUNS,
)
from pipelines.core.quotes.base import QuoteSpan
from pipelines.core.quotes.marks import _Quoted
from pipelines.core.quotes.speakers import _noun_phrase


@dataclass(frozen=True)
class _Antecedent:
    position: int
    name: str
    start: int
    end: int
    entity_id: str | None
    gender: str | None  # male | female | None
    plural: bool
    is_person_name: bool


def _gender_of_noun(word: str) -> str | None:
    if word in FEMALE_NOUNS:
        return "female"
    if word in MALE_NOUNS:
        return "male"
    return None


class _Resolver:
    """Finds what a pronoun speaker refers to: the nearest fitting person or description."""

    def __init__(self, doc: Doc, mentions: list[Mention], quotes: list[QuoteSpan]) -> None:
        self._by_position: list[_Antecedent] = []
        quoted = _Quoted((q.start, q.end) for q in quotes)

        person_at: dict[int, Mention] = {}
        for m in mentions:
            if m.label in ("PERSON", "ORG", "NORP") and m.char_start not in quoted:
                if m.label == "PERSON":
                    for i in range(m.char_start, m.char_end):
                        person_at[i] = m
                first = m.entity_name.split()[0].split("-")[0]
                self._by_position.append(
                    _Antecedent(
                        m.char_start,
                        m.entity_name,
                        m.char_start,
                        m.char_end,
                        m.entity_id,
                        gazetteer.given_name_gender(first) if m.label == "PERSON" else None,
                        m.label != "PERSON",
                        m.label == "PERSON",
                    )
                )
        for i in token_indices(doc, ("NOUN",)):
            token = doc[i]
            if token.pos_ != "NOUN" or token.lower_ not in SPEAKER_NOUNS or token.idx in quoted:
                continue
            if token.dep_ == "appos" and token.head.idx in person_at:
                continue  # "Gady, a research fellow": the name stands for both
            start, end = _noun_phrase(token)
            self._by_position.append(
                _Antecedent(
                    token.idx,
                    text_of(doc)[start:end],
                    start,
                    end,
                    None,
                    _gender_of_noun(token.lower_),
                    token.tag_ in ("NNS", "NNPS"),
                    False,
                )
            )
        self._by_position.sort(key=lambda a: a.position)
        self._positions = [a.position for a in self._by_position]

    def resolve(self, pronoun: str, before: int) -> _Antecedent | None:
        kind = PRONOUNS.get(pronoun.lower())
        i = bisect.bisect_left(self._positions, before) - 1
        while i >= 0 and before - self._positions[i] < 3000:
            a = self._by_position[i]
            i -= 1
            if kind == "male" and a.gender != "female" and not a.plural:
                return a
            if kind == "female" and a.gender != "male" and not a.plural:
                return a
            if kind == "plural" and (a.plural or not a.is_person_name):
                return a
        return None
