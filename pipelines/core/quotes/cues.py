"""Cues: the reporting verb of a direct quote, nearest to its marks in its sentence(s)."""

from __future__ import annotations

from spacy.tokens import Doc, Token

from pipelines.core.doc_arrays import text_of
from pipelines.core.lemmas import lemma_of
from pipelines.core.lexicon import (
    INTENT_VERBS,
    REPORTING_VERBS,
)
from pipelines.core.quotes.base import QuoteSpan
from pipelines.core.quotes.marks import _MARK, _TERMINAL, _Quoted
from pipelines.core.quotes.speakers import _according_to_source, _subject_of


def _is_cue(token: Token) -> bool:
    if token.lower_ == "according":
        return _according_to_source(token) is not None
    lemma = lemma_of(token).lower()
    return token.pos_ in ("VERB", "AUX") and (lemma in REPORTING_VERBS or lemma in INTENT_VERBS)


def _cue_subject(cue: Token) -> Token | None:
    if cue.lower_ == "according":
        return _according_to_source(cue)
    return _subject_of(cue)


def _introduces_next_quote(cue: Token) -> bool:
    """ "She adds, “…”": the cue stands right before another quote, so it is that quote's."""
    doc = cue.doc
    i = cue.i + 1
    while i < len(doc) and (doc[i].text in ",:" or doc[i].is_space):
        i += 1
    return i < len(doc) and i > cue.i + 1 and _MARK.fullmatch(doc[i].text) is not None


def _may_follow(token: Token, after: list[Token], ends_sentence: bool) -> bool:
    """Whether a cue after the quote can be the quote's. After a quote that ends a sentence
    ("….” She adds, “…”) only a cue right after the mark, not one that opens the next quote
    or reports a clause of its own ("….” Russia insisted that …")."""
    if not ends_sentence:
        return True
    own_clause = any(c.dep_ == "ccomp" and c.i > token.i for c in token.children)
    if _introduces_next_quote(token) or own_clause:
        return False
    position = after.index(token)
    subject = _subject_of(token)
    return position == 0 or (position <= 3 and subject is not None and subject in after[:position])


def _find_cue(doc: Doc, quote: QuoteSpan, quoted: _Quoted) -> Token | None:
    """The reporting verb nearest to the quote in its sentence(s), outside any quote."""
    text = text_of(doc)
    open_pos = quote.open_mark if quote.open_mark is not None else quote.start
    close_pos = quote.close_mark if quote.close_mark is not None else quote.end

    def outside(token: Token) -> bool:
        return token.idx not in quoted

    after: list[Token] = []
    if close_pos < len(text):
        sent = doc.char_span(close_pos, close_pos + 1, alignment_mode="expand")
        if sent is not None:
            after = [t for t in sent.sent if t.idx > close_pos and outside(t)]
    before: list[Token] = []
    sent = doc.char_span(open_pos, open_pos + 1, alignment_mode="expand")
    if sent is not None:
        before = [t for t in sent.sent if t.idx < open_pos and outside(t)]
    if not after and close_pos + 1 < len(text):  # “…?” Graham asked. (a sentence of its own)
        following = doc.char_span(close_pos + 1, len(text), alignment_mode="expand")
        if following is not None:
            first = next((t for t in following if not t.is_space), None)
            gap = text[close_pos : first.idx] if first is not None else "\n"
            if first is not None and "\n" not in gap:
                after = [t for t in first.sent if outside(t)][:6]
    ends_sentence = text[quote.start : quote.end].rstrip()[-1:] in (".", "?", "!")
    after = [t for t in after if _may_follow(t, after, ends_sentence)]
    for token in after[:8]:  # ", he said." / ", said X." right after the quote
        if _is_cue(token):
            return token
    for token in reversed(before):  # "He said: …" / "She explained“…”"
        if _is_cue(token):
            return token
    for token in after:
        if _is_cue(token):
            return token
    if sent is not None:  # "He said:" at the end of the previous paragraph
        prev_i = sent.sent.start - 1
        while prev_i >= 0 and doc[prev_i].is_space:
            prev_i -= 1
        if prev_i >= 0 and doc[prev_i].text == ":":
            for token in reversed(list(doc[prev_i].sent)):
                if _is_cue(token) and outside(token):
                    return token
    return None


def _introduces(cue: Token, span: QuoteSpan) -> bool:
    """The cue stands right before the quote: "said: “…”", "explained“…”"."""
    if span.open_mark is None or cue.idx > span.open_mark:
        return False
    text = text_of(cue.doc)
    between = text[cue.idx + len(cue.text) : span.open_mark]
    if between.strip(" ,:—–-\t"):
        return False
    content = text[span.start : span.end].rstrip()
    speech_like = content[:1].isupper() and content[-1:] in _TERMINAL
    return ":" in between or "," in between or speech_like
