"""The extractor: the rules' proposals in text order, and the quote model's verdict on them."""

from __future__ import annotations

import re
from dataclasses import replace

from spacy.tokens import Doc, Token

from pipelines.core.doc_arrays import text_of
from pipelines.core.entities import Mention
from pipelines.core.quotes.base import Quote, QuoteSpan, Speaker
from pipelines.core.quotes.cues import _cue_subject, _find_cue, _introduces
from pipelines.core.quotes.features import group_features
from pipelines.core.quotes.marks import (
    _ends_like_speech,
    _is_scare_quote,
    _overlaps,
    _Quoted,
    find_quote_spans,
)
from pipelines.core.quotes.model import QuoteModel
from pipelines.core.quotes.pronouns import _Resolver
from pipelines.core.quotes.reported import (
    _clause_attributions,
    _colon_attributions,
    _framed_phrases,
    _reported_speech,
)
from pipelines.core.quotes.speakers import _outlet_for, _speaker
from pipelines.core.sentences import SentenceIndex


def propose_quotes(
    doc: Doc, sentences: SentenceIndex, mentions: list[Mention], open_verbs: bool = False
) -> list[Quote]:
    """Direct, partial and reported quotes the rules find in a parsed document, in text order
    (with `open_verbs`, also the proposals only the quote model may accept)."""
    text = text_of(doc)
    every_span = find_quote_spans(text)
    spans = [s for s in every_span if not sentences.is_boilerplate(s.start)]
    quoted = _Quoted(((s.start, s.end) for s in spans), margin=1)
    resolver = _Resolver(doc, mentions, spans)
    quotes: list[Quote] = []
    woven_speech: list[tuple[Quote, Quote]] = []
    previous: Quote | None = None
    previous_paragraph = -1
    for span in spans:
        sentence = sentences.at(span.start)
        paragraph = sentence.paragraph_index if sentence else -1
        signed = _signed_quote(text, span, mentions)
        if signed is not None:  # “…” ― Name
            quotes.append(signed)
            previous, previous_paragraph = signed, paragraph
            continue
        cue = _find_cue(doc, span, quoted)
        woven = _is_scare_quote(text, span, sentences)
        if woven and (cue is None or not _introduces(cue, span)):
            partial = Quote("partial_quote", span.start, span.end, None, None, None, None)
            if cue is not None and _ends_like_speech(text, span):
                # speech woven into a sentence: a quote of its own unless reported speech
                # around it already holds it (decided below)
                woven_speech.append((partial, _cued_quote(span, cue, resolver, mentions)))
            else:
                quotes.append(partial)
            continue
        if cue is not None:
            quote = _cued_quote(span, cue, resolver, mentions)
        elif previous is not None and paragraph == previous_paragraph:
            # “…,” said X. “…”: the second piece belongs to the same attribution
            quote = replace(previous, start=span.start, end=span.end)
        elif previous is not None and paragraph - previous_paragraph <= 2:
            quote = Quote(
                "direct_quote", span.start, span.end, previous.speaker, None, None, None, "carried"
            )
        else:
            quote = Quote("direct_quote", span.start, span.end, None, None, None, None, "uncued")
        quotes.append(quote)
        if quote.speaker is not None:
            previous, previous_paragraph = quote, paragraph
    direct = [(q.start, q.end) for q in quotes if q.claim_type == "direct_quote"]
    direct_cues = {(q.start, q.end): q.cue_start for q in quotes if q.claim_type == "direct_quote"}
    reported = _reported_speech(
        doc, sentences, direct, every_span, resolver, mentions, open_verbs, direct_cues
    )
    reported += _colon_attributions(doc, sentences, mentions, direct)
    reported += _clause_attributions(doc, sentences, direct, resolver, mentions)
    # the model's own proposals change none of the rules' decisions below
    extra = [r for r in reported if is_open(r)]
    reported = [r for r in reported if not is_open(r)]
    for partial, speech in woven_speech:
        held = any(_overlaps(partial.start, partial.end, [(r.start, r.end)]) for r in reported)
        quotes.append(partial if held else speech)
    claims = [*quotes, *reported]
    claims += _framed_phrases(doc, claims, resolver, mentions)
    cues = {q.cue_start for q in claims if q.cue_start is not None}
    extra = [q for q in extra if q.cue_start not in cues]  # a cue the rules use is theirs
    return sorted([*claims, *extra], key=lambda q: (q.start, q.end))


# between the mark, the dash and the name any white space but a line break (a web page's
# non-breaking space too: "…”\xa0― Jane Doe\xa0")
_SIGNATURE_DASH = re.compile(r"[^\S\n]*[―—–][^\S\n]*")


def _signed_quote(text: str, span: QuoteSpan, mentions: list[Mention]) -> Quote | None:
    """A quote signed with a dash and a name that ends its line, as under a pull quote or an
    epigraph ("“…” ― Jane Doe"): the name is the speaker, the dash the cue."""
    if span.close_mark is None:
        return None
    dash = _SIGNATURE_DASH.match(text, span.close_mark + 1)
    if dash is None:
        return None
    line_end = text.find("\n", dash.end())
    line_end = len(text) if line_end < 0 else line_end
    for m in mentions:
        ends_line = text[m.char_end : line_end].strip().strip(".,").strip() == ""
        if m.char_start == dash.end() and m.label in ("PERSON", "ORG") and ends_line:
            cue_start = text.index(dash.group().strip(), dash.start())
            speaker = Speaker(m.entity_name, m.char_start, m.char_end, m.entity_id)
            return Quote(
                "direct_quote",
                span.start,
                span.end,
                speaker,
                cue_start,
                cue_start + 1,
                None,
                "signed",
            )
    return None


def _cued_quote(span: QuoteSpan, cue: Token, resolver: _Resolver, mentions: list[Mention]) -> Quote:
    subject = _cue_subject(cue)
    speaker = _speaker(subject, resolver, mentions) if subject is not None else None
    return Quote(
        "direct_quote",
        span.start,
        span.end,
        speaker,
        cue.idx,
        cue.idx + len(cue.text),
        _outlet_for(cue, mentions),
        "marks",
    )


def is_open(quote: Quote) -> bool:
    """Proposed for the model alone: no rule would give it."""
    return quote.origin.startswith("open")


def ruled_spans(quotes: list[Quote]) -> list[tuple[int, int]]:
    """Spans of the rules' own direct and reported quotes (a feature of the others)."""
    return [(q.start, q.end) for q in quotes if q.claim_type != "partial_quote" and not is_open(q)]


def quote_groups(quotes: list[Quote]) -> list[list[int]]:
    """Indices of the direct and reported quotes that make one attribution: pieces that share
    a cue ("“…,” said X, “…”"), else each quote alone. Scare quotes are in none."""
    by_cue: dict[object, list[int]] = {}
    for n, q in enumerate(quotes):
        if q.claim_type == "partial_quote":
            continue
        by_cue.setdefault(q.cue_start if q.cue_start is not None else ("row", n), []).append(n)
    return list(by_cue.values())


def extract_quotes(
    doc: Doc,
    sentences: SentenceIndex,
    mentions: list[Mention],
    model: QuoteModel | None = None,
) -> list[Quote]:
    """Direct, partial and reported quotes of a parsed document, in text order.

    With the quote model, each attribution gets the model's `confidence`; rule proposals below
    its threshold are dropped and proposals only the model may accept are kept above theirs.
    Without it (NEWS_QUOTE_MODEL=off), the rules' own quotes, with no confidence."""
    if model is None:
        return propose_quotes(doc, sentences, mentions)
    proposed = propose_quotes(doc, sentences, mentions, open_verbs=True)
    kept: list[Quote] = [q for q in proposed if q.claim_type == "partial_quote"]
    ruled = ruled_spans(proposed)
    for group in quote_groups(proposed):
        members = [proposed[n] for n in group]
        p = model.probability(group_features(doc, members, mentions, ruled))
        if is_open(members[0]):
            needed = model.threshold_open
        elif any(q.claim_type == "direct_quote" for q in members):
            needed = model.threshold_direct
        else:
            needed = model.threshold
        if p >= needed:
            kept.extend(replace(q, confidence=round(p, 4)) for q in members)
    return sorted(kept, key=lambda q: (q.start, q.end))
