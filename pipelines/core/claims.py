"""Claims: quotes with their speakers, and quantities, as rows keyed to sentences and entities."""

from __future__ import annotations

from dataclasses import dataclass, replace

from spacy.tokens import Doc

from pipelines.core.attribution import ATTRIBUTED_TYPES, Span, quote_holding
from pipelines.core.doc_arrays import text_of
from pipelines.core.entities import Mention
from pipelines.core.ids import claim_id_for
from pipelines.core.quantities import find_quantities
from pipelines.core.quotes import extract_quotes, load_model
from pipelines.core.sentences import SentenceIndex


@dataclass(frozen=True)
class Claim:
    claim_id: str
    doc_id: str
    sentence_id: str
    claim_type: str
    text: str
    char_start: int
    char_end: int
    speaker: str | None
    speaker_text: str | None
    speaker_start: int | None
    speaker_end: int | None
    speaker_entity_id: str | None
    cue: str | None
    cue_start: int | None
    cue_end: int | None
    outlet: str | None
    quantity_value: float | None
    quantity_unit: str | None
    confidence: float | None = None
    quote_group_id: str | None = None  # set across the corpus (stories), not per document
    in_quote_id: str | None = None
    quantity_value_to: float | None = None
    quantity_currency: str | None = None
    quantity_change: str | None = None
    quantity_concept: str | None = None
    quantity_si_value: float | None = None
    quantity_si_value_to: float | None = None
    quantity_si_unit: str | None = None


def extract_claims(
    doc_id: str,
    doc: Doc,
    sentences: SentenceIndex,
    mentions: list[Mention],
    quote_model: bool = True,
) -> list[Claim]:
    """Every quote and quantity of a document outside boilerplate, in text order; with
    `quote_model`, quotes carry the quote model's confidence (rules alone when off)."""
    text = text_of(doc)
    rows: list[tuple] = []
    model = load_model() if quote_model else None
    for q in extract_quotes(doc, sentences, mentions, model):
        s = q.speaker
        rows.append(
            (
                q.claim_type,
                q.start,
                q.end,
                s.name if s else None,
                text[s.start : s.end] if s else None,
                s.start if s else None,
                s.end if s else None,
                s.entity_id if s else None,
                text[q.cue_start : q.cue_end] if q.cue_start is not None else None,
                q.cue_start,
                q.cue_end,
                q.outlet,
                None,
                None,
                q.confidence,  # quote rows alone carry it (Claim.confidence)
            )
        )
    for quantity in find_quantities(doc):
        if sentences.is_boilerplate(quantity.start):
            continue
        rows.append(
            (
                "quantity",
                quantity.start,
                quantity.end,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                quantity.value,
                quantity.unit,
                None,
                None,
                None,
                quantity.value_to,
                quantity.currency,
                quantity.change,
                quantity.concept,
                quantity.si_value,
                quantity.si_value_to,
                quantity.si_unit,
            )
        )
    rows.sort(key=lambda r: (r[1], r[2], r[0]))
    claims: list[Claim] = []
    for row in rows:
        sentence = sentences.at(row[1])
        if sentence is None:
            continue
        claims.append(
            Claim(
                claim_id_for(doc_id, len(claims)),
                doc_id,
                sentence.sentence_id,
                row[0],
                text[row[1] : row[2]],
                *row[1:],
            )
        )
    return link_quantities_to_quotes(claims)


def link_quantities_to_quotes(claims: list[Claim]) -> list[Claim]:
    """Set each quantity's `in_quote_id` to the quote of this document that holds it."""
    quotes = [
        Span(c.claim_id, c.char_start, c.char_end)
        for c in claims
        if c.claim_type in ATTRIBUTED_TYPES
    ]
    if not quotes:
        return claims
    holding = quote_holding(
        quotes,
        [Span(c.claim_id, c.char_start, c.char_end) for c in claims if c.claim_type == "quantity"],
    )
    return [
        replace(c, in_quote_id=holding[c.claim_id]) if holding.get(c.claim_id) else c
        for c in claims
    ]
