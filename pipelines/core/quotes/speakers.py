"""Speakers and outlets: the cue's subject as written, its resolved name and entity, and the
medium in "told ITN News"."""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING

from spacy.tokens import Doc, Token

from pipelines.core.doc_arrays import sentence_of, text_of
from pipelines.core.entities import Mention
from pipelines.core.ids import name_key
from pipelines.core.lemmas import lemma_of, tokens_with_lemma
from pipelines.core.lexicon import (
    ORG_WORDS,
    OUTLET_WORDS,
    PRONOUNS,
    SIGHTS,
    SOMEONE,
    SPEAKER_NOUNS,
    SPEAKING_TEXTS,
)
from pipelines.core.quotes.base import Speaker
from pipelines.core.quotes.marks import _MARK

if TYPE_CHECKING:
    from pipelines.core.quotes.pronouns import _Resolver


_SPEAKING_WORDS = SPEAKER_NOUNS | ORG_WORDS | SOMEONE | SPEAKING_TEXTS  # who can frame a phrase


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
    """The verb's subject, climbing through conjoined, 'saying'-style and 'by saying' verbs.
    When the parse gives a verb two subjects (a quoted sentence glued to its cue: "“… Full
    panic mode,” said Leslie Wimes", "“My reaction …,” the strategist said"), the one nearest
    the verb is its own."""
    for _ in range(3):
        subjects = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass", "csubj")]
        if subjects:
            return min(subjects, key=lambda c: (abs(c.i - verb.i), c.i))
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
    if not words & OUTLET_WORDS:
        return False
    named_org = any(m.label == "ORG" and m.char_start <= start < m.char_end for m in mentions)
    return named_org or text_of(doc)[start : start + 1].isupper()


def _outlet_for(cue: Token, mentions: list[Mention]) -> str | None:
    """The medium in "told ITN News", "said in an interview with CNN", "reported The Times"."""
    doc = cue.doc
    candidates: list[Token] = []
    for child in cue.children:
        if child.dep_ in ("dative", "dobj", "iobj") and lemma_of(cue) == "tell":
            candidates.append(child)
        if child.dep_ == "prep" and child.lower_ in ("to", "with", "on", "in"):
            candidates.extend(g for g in child.subtree if g.dep_ == "pobj")
    first, last = sentence_of(cue)
    # "…, they said, reported The Times." (the cue itself too: "The Times reported")
    verbs = _reporting_verbs(doc)  # in order: the sentence's are one run of them
    for i in verbs[bisect_left(verbs, first) : bisect_left(verbs, last)]:
        token = doc[i]
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


_REPORTING_LEMMAS = frozenset(["report", "say"])


def _reporting_verbs(doc: Doc) -> list[int]:
    """The indices of the verbs "report" and "say" (by lemma), read once per document from its
    arrays rather than from a `Token` of every word of a sentence for each cue."""
    found = doc.user_data.get("reporting_verbs")
    if found is None:
        found = tokens_with_lemma(doc, _REPORTING_LEMMAS, "VERB")
        doc.user_data["reporting_verbs"] = found
    return found


def _mention_span(subject: Token) -> tuple[int, int]:
    """The speaker mention as written: the subject's whole phrase ("Erin Murphy, a former aide
    who …"), cut at a quote mark and without edge punctuation."""
    if subject.pos_ == "PRON":
        return subject.idx, subject.idx + len(subject.text)
    first, last = sentence_of(subject)
    tokens = [t for t in subject.subtree if first <= t.i < last]
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


def _can_give_evidence(subject: Token, mentions: list[Mention]) -> bool:
    """Polls, studies and people show and find things; a video or a map shows without claiming."""
    return lemma_of(subject).lower() not in SIGHTS or _named(subject, mentions) is not None


# Subjects that stand for no one: "it was called …", "there is …".
_EMPTY_SUBJECTS = frozenset({"it", "there", "this", "that", "which", "what", "these", "those"})


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
    lemma = lemma_of(subject).lower()
    return bool({lemma, subject.lower_} & _SPEAKING_WORDS)
