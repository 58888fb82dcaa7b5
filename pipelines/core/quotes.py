"""Quotes and reported speech with their cue, speaker and outlet.

Direct quotes come from quote marks paired per paragraph, robust to what real text does:
curly and straight marks mixed, a missing space before the opening mark, an unclosed mark, and
a quote running over several paragraphs (a paragraph that opens a quote without closing it
continues into the next one that opens with a mark). Cues come from a lexicon of reporting verbs
around the quote; the speaker is the cue's subject (also "said X" inversion and "according to
X"); a pronoun speaker is resolved to the nearest fitting person or description before it; a
quote with no cue in its paragraph inherits the speaker of the quote before it. Reported speech
is a reporting verb with a clausal complement in the parse. Short quoted phrases inside a
sentence without a cue are scare quotes (`partial_quote`), not speech.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from spacy.tokens import Doc, Span, Token

from pipelines.core import gazetteer
from pipelines.core.entities import Mention
from pipelines.core.ids import name_key
from pipelines.core.lexicon import (
    EVIDENCE_VERBS,
    INTENT_VERBS,
    LIGHT_VERBS,
    ORG_WORDS,
    OUTLET_WORDS,
    PRONOUNS,
    REPORTING_VERBS,
    SAYING_NOUNS,
    SIGHTS,
    SOMEONE,
    SPEAKER_NOUNS,
    SPEAKING_TEXTS,
    STANCE_VERBS,
    THOUGHT_VERBS,
)
from pipelines.core.nlp import text_of
from pipelines.core.sentences import Paragraph, SentenceIndex, paragraphs_of

OPENING = "“«„"
CLOSING = "”»"
STRAIGHT = '"'
# Quote marks: curly, guillemets, straight, and the doubled apostrophes of some wires ('' … '').
_MARK = re.compile(r"''|``|[“”„«»\"]")
_OPEN_BEFORE = set(" \t\n\r([{—–-/:;")
_CLOSE_AFTER = set(" \t\n\r.,;:!?)]}—–-/")
_TERMINAL = set(".?!,…")
_JUDGING_VERBS = STANCE_VERBS | THOUGHT_VERBS
_SPEAKING_WORDS = SPEAKER_NOUNS | ORG_WORDS | SOMEONE | SPEAKING_TEXTS  # who can frame a phrase
_FEMALE_NOUNS = {
    "woman",
    "women",
    "girl",
    "mother",
    "daughter",
    "wife",
    "spokeswoman",
    "chairwoman",
    "actress",
    "queen",
    "princess",
    "sister",
    "grandmother",
    "lady",
}
_MALE_NOUNS = {
    "man",
    "men",
    "boy",
    "father",
    "son",
    "husband",
    "spokesman",
    "chairman",
    "king",
    "prince",
    "brother",
    "grandfather",
    "policeman",
}


@dataclass(frozen=True)
class QuoteSpan:
    """Quoted words (without the marks) and where the marks were."""

    start: int
    end: int
    open_mark: int | None
    close_mark: int | None


@dataclass(frozen=True)
class Speaker:
    name: str | None  # resolved: "Franz-Stefan Gady" for "he"
    start: int  # the mention as written, nearest to the cue
    end: int
    entity_id: str | None


@dataclass(frozen=True)
class Quote:
    claim_type: str  # direct_quote | indirect_quote | partial_quote
    start: int
    end: int
    speaker: Speaker | None
    cue_start: int | None
    cue_end: int | None
    outlet: str | None


# --- quote marks -------------------------------------------------------------------------------


def _mark_role(text: str, mark: re.Match[str], is_open: bool) -> str:
    """'open' or 'close' for a mark; a straight one, or a curly one of the wrong shape, is
    judged by its neighbours."""
    char = mark.group()
    before = text[mark.start() - 1] if mark.start() > 0 else "\n"
    after = text[mark.end()] if mark.end() < len(text) else "\n"
    # a curly mark of the wrong shape, as typed: “Mostly False.“ and ”Fear. …” close and open
    if char in OPENING and is_open and before not in _OPEN_BEFORE and after in _CLOSE_AFTER:
        return "close"
    if char in CLOSING and not is_open and before in _OPEN_BEFORE and after.isalnum():
        return "open"
    if char in OPENING or char == "``":
        return "open"
    if char in CLOSING:
        return "close"
    if before in _OPEN_BEFORE and after not in _CLOSE_AFTER:
        return "open"
    if after in _CLOSE_AFTER and before not in _OPEN_BEFORE:
        return "close"
    return "close" if is_open else "open"


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


class _Quoted:
    """Quote spans, asked in O(log n) whether an offset lies inside one (widened by `margin`
    characters on each side, to take in the marks)."""

    def __init__(self, spans: Iterable[tuple[int, int]], margin: int = 0) -> None:
        self._spans = sorted(spans)
        self._starts = [start for start, _end in self._spans]
        self._margin = margin

    def __contains__(self, pos: int) -> bool:
        i = bisect.bisect_right(self._starts, pos + self._margin) - 1
        return any(
            self._spans[k][0] - self._margin <= pos < self._spans[k][1] + self._margin
            for k in (i, i - 1)
            if k >= 0
        )


def _speech_before(text: str, start: int, close: int) -> bool:
    """Text before an unopened closing mark reads like quoted speech: words, then punctuation."""
    before = text[start:close].rstrip()
    return len(before.split()) >= 3 and before[-1:] in _TERMINAL


def find_quote_spans(text: str, paragraphs: list[Paragraph] | None = None) -> list[QuoteSpan]:
    """Pair quote marks paragraph by paragraph; never gives up on unbalanced marks."""
    spans: list[QuoteSpan] = []
    carried: re.Match[str] | None = None  # opening mark of a quote running on from before
    previous_end = 0
    for paragraph in paragraphs if paragraphs is not None else paragraphs_of(text):
        opened: re.Match[str] | None = None
        first_mark = True
        for mark in _MARK.finditer(text, paragraph.start, paragraph.end):
            i = mark.start()
            if _mark_role(text, mark, opened is not None) == "open":
                if opened is not None:  # an opening mark while open: the first quote ends here
                    spans.append(QuoteSpan(*_trim(text, opened.end(), i), opened.start(), None))
                elif first_mark and carried is not None and i == paragraph.start:
                    opened, carried, first_mark = carried, None, False  # a quote runs on
                    continue
                opened = mark
            elif opened is not None:
                spans.append(QuoteSpan(*_trim(text, opened.end(), i), opened.start(), i))
                opened = None
            elif first_mark and _speech_before(text, paragraph.start, i):
                # a closing mark with no opening one ends a quote that began the paragraph
                spans.append(QuoteSpan(*_trim(text, paragraph.start, i), None, i))
            first_mark = False
        if carried is not None:  # the next paragraph did not continue it: close at its end
            spans.append(
                QuoteSpan(*_trim(text, carried.end(), previous_end), carried.start(), None)
            )
            carried = None
        if opened is not None and opened.start() <= paragraph.start + 1:
            carried = opened  # a whole paragraph of speech may run on into the next
        elif opened is not None:  # opened mid-paragraph and never closed: ends with it
            spans.append(QuoteSpan(*_trim(text, opened.end(), paragraph.end), opened.start(), None))
        previous_end = paragraph.end
    if carried is not None:
        spans.append(QuoteSpan(*_trim(text, carried.end(), previous_end), carried.start(), None))
    spans = [
        s for s in spans if s.end > s.start and any(c.isalnum() for c in text[s.start : s.end])
    ]
    return sorted(spans, key=lambda s: s.start)


# --- speakers ----------------------------------------------------------------------------------


def _noun_phrase(token: Token) -> tuple[int, int]:
    """Characters of the mention headed by `token`: a name, or determiner + modifiers + noun."""
    doc = token.doc
    if token.ent_iob_ != "O" and token.ent_type_:
        i = token.i
        while i > 0 and doc[i].ent_iob_ == "I":
            i -= 1
        j = token.i + 1
        while j < len(doc) and doc[j].ent_iob_ == "I":
            j += 1
        span = doc[i:j]
        if span[0].lower_ == "the" and len(span) > 1 and span.label_ != "ORG":
            span = span[1:]
        return span.start_char, span.end_char
    left = token.i
    for child in token.lefts:
        if child.dep_ in (
            "det",
            "amod",
            "compound",
            "nummod",
            "poss",
            "nmod",
            "quantmod",
            "advmod",
        ):
            left = min(left, child.left_edge.i)
    right = token.i
    for child in token.rights:
        if child.dep_ == "compound" or (
            child.dep_ == "prep"
            and child.lower_ in ("for", "of", "at", "with", "from", "in")
            and token.pos_ == "NOUN"
        ):
            right = max(right, child.right_edge.i)
    while left < token.i and doc[left].is_punct:
        left += 1
    while right > token.i and doc[right].is_punct:
        right -= 1
    return doc[left].idx, doc[right].idx + len(doc[right].text)


def _subject_of(verb: Token) -> Token | None:
    """The verb's subject, climbing through conjoined, 'saying'-style and 'by saying' verbs."""
    for _ in range(3):
        for child in verb.children:
            if child.dep_ in ("nsubj", "nsubjpass", "csubj"):
                return child
        if verb.dep_ in ("conj", "xcomp", "advcl") and verb.head is not verb:
            verb = verb.head
        elif verb.dep_ == "pcomp" and verb.head.dep_ == "prep":
            verb = verb.head.head  # "X began by saying", "X left before asking": X says
        else:
            break
    return None


def _according_to_source(token: Token) -> Token | None:
    """X in "according to X" when `token` is "according"."""
    for child in token.children:
        if child.lower_ == "to":
            for grandchild in child.children:
                if grandchild.dep_ == "pobj":
                    return grandchild
    return None


def _is_outlet(doc: Doc, start: int, end: int, mentions: list[Mention]) -> bool:
    words = {w.strip(".,").casefold() for w in text_of(doc)[start:end].split()}
    named_org = any(m.label == "ORG" and m.char_start <= start < m.char_end for m in mentions)
    return bool(words & OUTLET_WORDS) and (named_org or text_of(doc)[start : start + 1].isupper())


def _outlet_for(cue: Token, mentions: list[Mention]) -> str | None:
    """The medium in "told ITN News", "said in an interview with CNN", "reported The Times"."""
    doc = cue.doc
    candidates: list[Token] = []
    for child in cue.children:
        if child.dep_ in ("dative", "dobj", "iobj") and cue.lemma_ == "tell":
            candidates.append(child)
        if child.dep_ == "prep" and child.lower_ in ("to", "with", "on", "in"):
            candidates.extend(g for g in child.subtree if g.dep_ == "pobj")
    sentence = cue.sent
    for token in sentence:  # "…, they said, reported The Times."
        if token is not cue and token.lemma_ in ("report", "say") and token.pos_ == "VERB":
            subject = _subject_of(token)
            if subject is not None:
                candidates.append(subject)
            if token.i > cue.i:  # inverted: "…, they said, reported The Times"
                candidates.extend(c for c in token.children if c.dep_ in ("dobj", "attr"))
    for token in candidates:
        start, end = _noun_phrase(token)
        determiners = [c for c in token.lefts if c.dep_ == "det" and c.lower_ == "the"]
        start = min([start, *(d.idx for d in determiners)])  # "The Times", as written
        if _is_outlet(doc, start, end, mentions):
            return text_of(doc)[start:end]
    return None


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
    if word in _FEMALE_NOUNS:
        return "female"
    if word in _MALE_NOUNS:
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
        for token in doc:
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


def _mention_span(subject: Token) -> tuple[int, int]:
    """The speaker mention as written: the subject's whole phrase ("Erin Murphy, a former aide
    who …"), cut at a quote mark and without edge punctuation."""
    if subject.pos_ == "PRON":
        return subject.idx, subject.idx + len(subject.text)
    tokens = [t for t in subject.subtree if t.sent == subject.sent]
    head = tokens.index(subject)
    left, right = 0, len(tokens) - 1
    for i in range(head - 1, -1, -1):
        if _MARK.fullmatch(tokens[i].text):
            left = i + 1
            break
    for i in range(head + 1, len(tokens)):
        if _MARK.fullmatch(tokens[i].text) or tokens[i].i != tokens[i - 1].i + 1:
            right = i - 1
            break
    while left < head and (tokens[left].is_punct or tokens[left].is_space):
        left += 1
    while right > head and (tokens[right].is_punct or tokens[right].is_space):
        right -= 1
    return tokens[left].idx, tokens[right].idx + len(tokens[right].text)


def _named(token: Token, mentions: list[Mention]) -> Mention | None:
    for m in mentions:
        if m.char_start <= token.idx < m.char_end and m.label in ("PERSON", "ORG", "NORP", "GPE"):
            return m
    return None


def _speaker(subject: Token, resolver: _Resolver, mentions: list[Mention]) -> Speaker:
    """The speaker for a cue's subject: its mention as written and its resolved name."""
    start, end = _mention_span(subject)
    text = text_of(subject.doc)
    if subject.lower_ in ("who", "that") and subject.head.dep_ == "relcl":
        subject = subject.head.head  # "an official who said": the official
    elif subject.pos_ == "PRON" and subject.lower_ in PRONOUNS:
        antecedent = resolver.resolve(subject.lower_, start)
        if antecedent is None:
            return Speaker(None, start, end, None)
        return Speaker(antecedent.name, start, end, antecedent.entity_id)
    mention = _named(subject, mentions)
    if mention is not None:
        return Speaker(mention.entity_name, start, end, mention.entity_id)
    np_start, np_end = _noun_phrase(subject)
    name = text[np_start:np_end]
    known = _entity_named(name, mentions)  # the model missed this mention of a known entity
    if known is not None:
        return Speaker(known.entity_name, start, end, known.entity_id)
    return Speaker(name, start, end, None)


def _entity_named(name: str, mentions: list[Mention]) -> Mention | None:
    """The document's entity whose canonical name, or a mention of it, reads `name`."""
    key = name_key(name)
    for m in mentions:
        if m.label in ("PERSON", "ORG") and key in (name_key(m.entity_name), name_key(m.text)):
            return m
    return None


# --- cues --------------------------------------------------------------------------------------


def _is_cue(token: Token) -> bool:
    if token.lower_ == "according":
        return _according_to_source(token) is not None
    lemma = token.lemma_.lower()
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


def _is_scare_quote(text: str, quote: QuoteSpan, sentences: SentenceIndex) -> bool:
    """A quoted phrase woven into a sentence ("tighten the noose"), not a quote of its own."""
    content = text[quote.start : quote.end]
    if quote.open_mark is None:
        return False
    sentence = sentences.at(quote.open_mark)
    at_sentence_start = sentence is not None and quote.open_mark <= sentence.char_start + 1
    before = text[max(0, quote.open_mark - 3) : quote.open_mark].strip()
    after_colon = before.endswith(":") or before.endswith(",")
    ends_like_speech = content.rstrip()[-1:] in _TERMINAL
    n_words = len(content.split())
    if at_sentence_start or after_colon:
        return False
    if content[:1].islower():  # a phrase woven into the sentence: "… was “a disaster.”"
        return True
    if ends_like_speech and n_words >= 4:
        return False
    return n_words <= 12 or not ends_like_speech


# --- the extractor -----------------------------------------------------------------------------


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


def extract_quotes(doc: Doc, sentences: SentenceIndex, mentions: list[Mention]) -> list[Quote]:
    """Direct, partial and reported quotes of a parsed document, in text order."""
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
            quote = Quote("direct_quote", span.start, span.end, previous.speaker, None, None, None)
        else:
            quote = Quote("direct_quote", span.start, span.end, None, None, None, None)
        quotes.append(quote)
        if quote.speaker is not None:
            previous, previous_paragraph = quote, paragraph
    direct = [(q.start, q.end) for q in quotes if q.claim_type == "direct_quote"]
    reported = _reported_speech(doc, sentences, direct, every_span, resolver, mentions)
    reported += _colon_attributions(doc, sentences, mentions, direct)
    reported += _clause_attributions(doc, sentences, direct, resolver, mentions)
    for partial, speech in woven_speech:
        held = any(_overlaps(partial.start, partial.end, [(r.start, r.end)]) for r in reported)
        quotes.append(partial if held else speech)
    claims = [*quotes, *reported]
    claims += _framed_phrases(doc, claims, resolver, mentions)
    return sorted(claims, key=lambda q: (q.start, q.end))


_SIGNATURE_DASH = re.compile(r"[ \t]*[―—–][ \t]*")


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
        ends_line = text[m.char_end : line_end].strip(" \t.,") == ""
        if m.char_start == dash.end() and m.label in ("PERSON", "ORG") and ends_line:
            cue_start = text.index(dash.group().strip(" \t"), dash.start())
            speaker = Speaker(m.entity_name, m.char_start, m.char_end, m.entity_id)
            return Quote(
                "direct_quote", span.start, span.end, speaker, cue_start, cue_start + 1, None
            )
    return None


def _ends_like_speech(text: str, span: QuoteSpan) -> bool:
    content = text[span.start : span.end].rstrip()
    return content[-1:] in _TERMINAL and len(content.split()) >= 4


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
    )


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(min(end, e) - max(start, s) > 0.3 * (end - start) for s, e in spans)


def _reported_content(cue: Token) -> list[Token]:
    """The words a reporting verb reports, from the parse (empty when it reports none)."""
    if cue.lower_ == "according":  # "According to X, …" / "…, according to X."
        sentence = list(cue.sent)
        first = sentence.index(cue)
        comma = next((k for k in range(first + 2, len(sentence)) if sentence[k].text == ","), None)
        if first <= 1 and comma is not None:
            return sentence[comma + 1 :]
        before = sentence[:first]
        while before and before[-1].is_punct:
            before = before[:-1]
        return before
    children = {c.dep_: c for c in cue.children}
    if "ccomp" in children:  # "X said (that) …", "… , X said"
        return list(children["ccomp"].subtree)
    if cue.dep_ == "parataxis" and cue.head.pos_ in ("VERB", "AUX"):  # "…, X said, …"
        inside = {t.i for t in cue.subtree}
        return [t for t in cue.head.subtree if t.i not in inside]
    if cue.lemma_ == "call" and "dobj" in children and "oprd" in children:  # call X "Y"
        first, last = children["dobj"], children["oprd"]
        return list(cue.doc[first.left_edge.i : last.right_edge.i + 1])
    if cue.lemma_ in INTENT_VERBS and "xcomp" in children:  # "vowed to …", "urged X to …"
        first = children.get("dobj", children["xcomp"])
        return list(cue.doc[first.left_edge.i : children["xcomp"].right_edge.i + 1])
    if cue.lemma_ in ("cite", "call"):  # "cited X", "called for X"
        if cue.lemma_ == "cite" and "dobj" in children:
            return list(children["dobj"].subtree)
        for child in cue.children:
            if child.dep_ == "prep" and child.lower_ in ("for", "on"):
                return [t for t in child.subtree if t is not child]
    if cue.lemma_ in STANCE_VERBS and "dobj" in children:  # "endorsed X", "accused X of Y"
        first = children["dobj"]
        last = max(
            [first, *(c for c in cue.rights if c.dep_ == "prep" and c.lower_ in _STANCE_PREPS)],
            key=lambda t: t.i,
        )
        return list(cue.doc[first.left_edge.i : last.right_edge.i + 1])
    return []


_STANCE_PREPS = ("as", "for", "of", "over")


# Words that open an aside after a quoted phrase: "…,” which raised concerns", "…,” though
# voters …", "…,” when asked …", "…,” in an interview".
_ASIDE_OPENERS = frozenset(
    {"which", "who", "when", "while", "though", "although", "as", "after", "before", "in", "on"}
)
_DASHES = frozenset({"—", "–", "-", "--"})


def _aside_after_quote(content: list[Token]) -> int:
    """Where reported content ends when a quoted phrase closes it and the writer's own words
    follow: a participle ("…,” referring to …"), a relative or adverbial clause ("…,” which …",
    "…,” though …") or anything after a dash ("…” — a play on words"). Else its length."""
    text = text_of(content[0].doc) if content else ""
    for k, token in enumerate(content[:-1]):
        if not _MARK.fullmatch(token.text) or text[token.idx - 1 : token.idx].isspace():
            continue  # not a closing mark
        following = content[k + 1 :]
        comma = text[token.idx - 1] == "," or following[0].text == ","
        while following and following[0].is_punct and following[0].text not in _DASHES:
            following = following[1:]
        if not following:
            continue
        first = following[0]
        if first.text in _DASHES and text[first.idx - 1 : first.idx].isspace():
            return k + 1
        participle = first.tag_ in ("VBG", "VBN") and first.dep_ in ("advcl", "acl", "xcomp")
        if comma and (participle or first.lower_ in _ASIDE_OPENERS):
            return k + 1
    return len(content)


def _whole_quotes(start: int, end: int, spans: list[QuoteSpan]) -> tuple[int, int]:
    """Content that starts or ends inside a quotation takes all of it, marks included: the
    parse ends a clause at its sentence, but "X said Y “runs on. Into the next sentence.”"."""
    for span in spans:
        if span.start >= end or span.end <= start:
            continue
        if span.start < start:
            start = span.open_mark if span.open_mark is not None else span.start
        if span.end >= end:
            end = span.close_mark + 1 if span.close_mark is not None else span.end
    return start, end


def _can_give_evidence(subject: Token, mentions: list[Mention]) -> bool:
    """Polls, studies and people show and find things; a video or a map shows without claiming."""
    return subject.lemma_.lower() not in SIGHTS or _named(subject, mentions) is not None


def _reported_speech(
    doc: Doc,
    sentences: SentenceIndex,
    quoted: list[tuple[int, int]],
    spans: list[QuoteSpan],
    resolver: _Resolver,
    mentions: list[Mention],
) -> list[Quote]:
    """ "X said (that) …", "… , X said", "according to X, …": a cue with a clause."""
    found: list[Quote] = []
    every_quote = _Quoted((s.start, s.end) for s in spans)
    for token in doc:
        stance = token.pos_ == "VERB" and token.lemma_ in _JUDGING_VERBS
        if not (_is_cue(token) or stance) or sentences.is_boilerplate(token.idx):
            continue
        if token.idx in every_quote:
            continue
        content = sorted(_reported_content(token), key=lambda t: t.i)
        stop = next((k for k, t in enumerate(content) if t.text == ";" and k > 2), len(content))
        stop = min(stop, _aside_after_quote(content))
        content = [t for t in content[:stop] if not t.is_punct or _MARK.fullmatch(t.text)]
        if len(content) < 3:
            continue
        start = content[0].idx
        end = content[-1].idx + len(content[-1].text)
        start, end = _whole_quotes(*_trim(text_of(doc), start, end), spans)
        if _overlaps(start, end, quoted):
            continue
        subject = _cue_subject(token)
        if subject is None or subject.lower_ in ("it", "there", "this", "which"):
            continue
        if token.lemma_ in EVIDENCE_VERBS and not _can_give_evidence(subject, mentions):
            continue  # "a video shows tanks moving": a sight, not a claim
        speaker = _speaker(subject, resolver, mentions)
        found.append(
            Quote(
                "indirect_quote",
                start,
                end,
                speaker,
                token.idx,
                token.idx + len(token.text),
                _outlet_for(token, mentions),
            )
        )
    return found


def _clause_span(clause: Token, quoted: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The characters of a reported clause (its punctuation trimmed, quote marks kept), unless
    it is too short to be a claim or a quote already holds it."""
    words = [t for t in clause.subtree if not t.is_punct or _MARK.fullmatch(t.text)]
    start, end = words[0].idx, words[-1].idx + len(words[-1].text)
    if len(words) < 3 or _overlaps(start, end, quoted):
        return None
    return start, end


def _clause_attributions(
    doc: Doc,
    sentences: SentenceIndex,
    quoted: list[tuple[int, int]],
    resolver: _Resolver,
    mentions: list[Mention],
) -> list[Quote]:
    """A clause held by a word that is not a verb of saying, in one pass over the document:
    - "Trump's claim that …", "the governor's assertion that …": a noun of saying with its owner
      and a that-clause, the owner the source and the noun the cue;
    - "The mayor is confident that …", "Republicans are worried (that) …": an adjective with a
      clause of its own states its subject's belief or fear; the adjective is the cue."""
    found: list[Quote] = []
    for cue in doc:
        if cue.pos_ == "NOUN" and cue.lemma_.lower() in SAYING_NOUNS:
            source, clause = _owner_and_that_clause(cue)
        elif cue.pos_ == "ADJ" and cue.dep_ == "acomp":
            clause = next((c for c in cue.children if c.dep_ == "ccomp"), None)
            source = _subject_of(cue.head) if clause is not None else None
            if source is not None and source.i > cue.i:
                continue
        else:
            continue
        if source is None or clause is None or sentences.is_boilerplate(cue.idx):
            continue
        if not _can_speak(source, mentions):
            continue
        span = _clause_span(clause, quoted)
        if span is None:
            continue
        speaker = _speaker(source, resolver, mentions)
        found.append(
            Quote("indirect_quote", *span, speaker, cue.idx, cue.idx + len(cue.text), None)
        )
    return found


def _owner_and_that_clause(noun: Token) -> tuple[Token | None, Token | None]:
    """The owner of a noun ("Trump's claim") and the that-clause after it."""
    owner = next((c for c in noun.children if c.dep_ == "poss"), None)
    clause = next(
        (
            c
            for c in noun.children
            if c.dep_ in ("acl", "ccomp")
            and c.i > noun.i
            and any(m.dep_ == "mark" and m.lower_ == "that" for m in c.children)
        ),
        None,
    )
    return owner, clause


_COLON_SOURCE = re.compile(r"[\"“'‘]?((?:[A-Z][\w.’'-]*\s?){1,5}):\s+(?=\S)")


def _colon_attributions(
    doc: Doc, sentences: SentenceIndex, mentions: list[Mention], direct: list[tuple[int, int]]
) -> list[Quote]:
    """Headline and transcript style, "Pat Caddell: Democrat Voters Worried …", "PENCE: Well,
    …": a named source, a colon, then what they said."""
    text = text_of(doc)
    found: list[Quote] = []
    for sentence in sentences:
        if sentence.is_boilerplate:
            continue
        match = _COLON_SOURCE.match(sentence.text)
        if match is None:
            continue
        source_start = sentence.char_start + match.start(1)
        source_end = sentence.char_start + match.end(1)
        source_text = text[source_start:source_end].rstrip()
        source_end = source_start + len(source_text)
        named = [
            m
            for m in mentions
            if m.label in ("PERSON", "ORG", "NORP", "GPE")
            and source_start <= m.char_start
            and m.char_end <= source_end
        ]
        if not named and not (source_text.isupper() and len(source_text) >= 3):
            continue
        start, end = _trim(text, sentence.char_start + match.end(), sentence.char_end)
        if len(text[start:end].split()) < 3 or _overlaps(start, end, direct):
            continue
        colon = text.index(":", source_end)
        mention = named[0] if named else None
        speaker = Speaker(
            mention.entity_name if mention else source_text.title(),
            source_start,
            source_end,
            mention.entity_id if mention else None,
        )
        found.append(Quote("indirect_quote", start, end, speaker, colon, colon + 1, None))
    return found


# Subjects that stand for no one: "it was called …", "there is …".
_EMPTY_SUBJECTS = frozenset({"it", "there", "this", "that", "which", "what", "these", "those"})
# Words after a quoted phrase that still belong to it: "a “grave threat” to stability",
# "“constant attack” from abroad", "“legal matters” that could …" (not "during …", ", which").
_PHRASE_GOES_ON = frozenset({"of", "to", "from", "for", "against", "about", "with", "that", "who"})


def _can_speak(subject: Token, mentions: list[Mention]) -> bool:
    """A subject that can be the source of words: a named person, group or place, a personal
    pronoun, someone, a description of people or a body ("the senator", "critics", "the
    council"), or a text that speaks for its authors ("the statement", "a poll")."""
    if subject.lower_ in _EMPTY_SUBJECTS:
        return False
    if subject.lower_ in PRONOUNS or subject.lower_ in ("you", "who"):
        return True
    if _named(subject, mentions) is not None:
        return True
    lemma = subject.lemma_.lower()
    return bool({lemma, subject.lower_} & _SPEAKING_WORDS)


def _framing_verb(phrase: Token, start: int, end: int) -> tuple[Token, Token] | None:
    """The verb a quoted phrase hangs from, outside the quote, and the verb's dependent that
    holds it. Light verbs ("X was “a con”", "has “enormous respect”") say nothing of anyone's
    words, so the search goes on up ("tweeted that X was “a con”")."""
    token = phrase
    for _ in range(8):
        head = token.head
        if head.i == token.i:  # the root
            return None
        inside = start <= head.idx < end
        if not inside and head.pos_ in ("VERB", "AUX") and head.lemma_ not in LIGHT_VERBS:
            return head, token
        token = head
    return None


def _frames_nothing(verb: Token) -> bool:
    """A verb with no doer of its own that modifies a noun or follows a preposition."""
    if _subject_of(verb) is None:
        return True
    own = any(c.dep_ in ("nsubj", "nsubjpass", "csubj") for c in verb.children)
    return not own and verb.dep_ in ("pcomp", "acl")


def _phrase_end(words: Span) -> int:
    """Where a quoted phrase's words end: at its closing mark, at the noun it modifies
    ("“horrific” scenes"), or past a complement that still belongs to it ("a “grave threat”
    to regional stability")."""
    doc = words.doc
    last = words[-1]
    while last.i + 1 < len(doc) and _MARK.fullmatch(doc[last.i + 1].text):
        last = doc[last.i + 1]  # the closing mark
    root = words.root
    if root.dep_ in ("amod", "compound", "nmod") and root.head.i > last.i:
        last = root.head  # a modifier: "predicted “horrific” scenes"
    after = doc[last.i + 1] if last.i + 1 < len(doc) else None
    if (
        after is not None
        and after.lower_ in _PHRASE_GOES_ON
        and after.head.i in range(words.start, last.i + 1)
    ):
        last = max(last, after.right_edge, key=lambda t: t.i)
    return last.idx + len(last.text)


def _framed_phrases(
    doc: Doc, claims: list[Quote], resolver: _Resolver, mentions: list[Mention]
) -> list[Quote]:
    """ "Reid went after Trump as a “con artist”", "X admires Y as a “strong leader”": a quoted
    phrase that is the object or complement of a verb whose subject can speak reports that
    subject's words, though the verb is no verb of speech. The content is the verb's right-hand
    words up to the end of the quoted phrase ("what she called a “rant”": from the object)."""
    held = [(c.start, c.end) for c in claims if c.claim_type != "partial_quote"]
    cues = {c.cue_start for c in claims if c.cue_start is not None}
    phrases = [(c.start, c.end) for c in claims if c.claim_type == "partial_quote"]
    by_verb: dict[int, tuple[Token, Token, int, int]] = {}
    for claim in claims:
        if claim.claim_type != "partial_quote" or _overlaps(claim.start, claim.end, held):
            continue  # not a phrase, or already inside reported speech
        words = doc.char_span(claim.start, claim.end, alignment_mode="expand")
        framing = _framing_verb(words.root, claim.start, claim.end) if words else None
        while framing is not None and _frames_nothing(framing[0]):
            # a verb without a doer ("the loophole known as the “Cadillac tax”", "grilled X
            # about trying to “debase” …"): the phrase is framed by the next verb up
            framing = _framing_verb(framing[0], claim.start, claim.end)
        if words is None or framing is None:
            continue
        verb, arm = framing
        if verb.idx in cues or arm.i < verb.i:
            continue
        subject = _subject_of(verb)
        if subject is None or subject.i > verb.i or not _can_speak(subject, mentions):
            continue
        right = [c for c in verb.rights if not c.is_punct and c.i <= arm.i]
        first = min(right, key=lambda c: c.left_edge.i) if right else arm
        objects = [c for c in verb.lefts if c.dep_ == "dobj"]  # "what she called a “rant”"
        start = min(t.left_edge.idx for t in [first, *objects])
        arm_end = arm.right_edge.idx + len(arm.right_edge.text)
        # to the end of the phrase, or of a later quoted phrase in the same dependent
        end = max(
            [_phrase_end(words), claim.end]
            + [e for s, e in phrases if claim.end <= s and e <= arm_end]
        )
        if verb.i in by_verb:
            _verb, _subject, known_start, known_end = by_verb[verb.i]
            start, end = min(start, known_start), max(end, known_end)
        by_verb[verb.i] = (verb, subject, start, end)
    found: list[Quote] = []
    text = text_of(doc)
    for verb, subject, start, end in by_verb.values():
        start, end = _trim(text, start, end)
        found.append(
            Quote(
                "indirect_quote",
                start,
                end,
                _speaker(subject, resolver, mentions),
                verb.idx,
                verb.idx + len(verb.text),
                _outlet_for(verb, mentions),
            )
        )
    return found
