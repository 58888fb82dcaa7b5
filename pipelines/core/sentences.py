"""Documents to paragraphs and sentences with exact character offsets.

A paragraph is one non-blank line; spaCy splits paragraphs into sentences (the pipeline starts a
sentence after every line break, and the spans are cut at line breaks again here, so no sentence
crosses a paragraph). Newsletter prompts, sign-up lines and bylines are flagged as boilerplate:
they stay in the table but yield no entities and no claims.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from spacy.tokens import Doc

from pipelines.core.doc_arrays import text_of
from pipelines.core.ids import sentence_id_for

_BOILERPLATE = re.compile(
    r"sign up (to|for)|subscribe (to|now)|newsletter|bulletin here|want all the latest"
    r"|click here|follow us on|read more:|related articles?:|share this (article|story)"
    r"|(all rights reserved)|^\s*(by|words by|reporting by|editing by|written by)\s+[A-Z][\w.'’-]*"
    r"(\s+[A-Z][\w.'’-]*){0,3}\s*;?\s*$|^\s*(image|picture) (caption|copyright)",
    re.IGNORECASE,
)
_MAX_BOILERPLATE_WORDS = 40


@dataclass(frozen=True)
class Paragraph:
    index: int
    start: int
    end: int


@dataclass(frozen=True)
class Sentence:
    sentence_id: str
    doc_id: str
    paragraph_index: int
    sentence_index: int
    char_start: int
    char_end: int
    text: str
    is_boilerplate: bool


def paragraphs_of(text: str) -> list[Paragraph]:
    """Every non-blank line, without its line break and surrounding white space."""
    found: list[Paragraph] = []
    offset = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            start = offset + (len(line) - len(line.lstrip()))
            found.append(Paragraph(len(found), start, start + len(stripped)))
        offset += len(line) + 1
    return found


def is_boilerplate_paragraph(paragraph_text: str) -> bool:
    """Short paragraphs that ask the reader to sign up, subscribe or follow, and bylines."""
    return (
        len(paragraph_text.split()) <= _MAX_BOILERPLATE_WORDS
        and _BOILERPLATE.search(paragraph_text) is not None
    )


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(doc_id: str, doc: Doc) -> list[Sentence]:
    """The document's sentences in text order: spaCy sentences cut at paragraph edges."""
    text = text_of(doc)
    paragraphs = paragraphs_of(text)
    starts = [p.start for p in paragraphs]
    boilerplate = {p.index for p in paragraphs if is_boilerplate_paragraph(text[p.start : p.end])}
    sentences: list[Sentence] = []
    for sent in doc.sents:
        first = max(bisect.bisect_right(starts, sent.start_char) - 1, 0)
        for paragraph in paragraphs[first:]:
            if paragraph.start >= sent.end_char:
                break
            start, end = _trimmed(
                text, max(sent.start_char, paragraph.start), min(sent.end_char, paragraph.end)
            )
            if start >= end:
                continue
            index = len(sentences)
            sentences.append(
                Sentence(
                    sentence_id=sentence_id_for(doc_id, index),
                    doc_id=doc_id,
                    paragraph_index=paragraph.index,
                    sentence_index=index,
                    char_start=start,
                    char_end=end,
                    text=text[start:end],
                    is_boilerplate=paragraph.index in boilerplate,
                )
            )
    return sentences


class SentenceIndex:
    """Finds the sentence that holds a character offset (claims and mentions point to it)."""

    def __init__(self, sentences: list[Sentence]) -> None:
        self._sentences = sentences
        self._starts = [s.char_start for s in sentences]

    def __iter__(self) -> Iterator[Sentence]:
        return iter(self._sentences)

    def at(self, offset: int) -> Sentence | None:
        i = bisect.bisect_right(self._starts, offset) - 1
        if i < 0:
            return self._sentences[0] if self._sentences else None
        return self._sentences[i]

    def is_boilerplate(self, offset: int) -> bool:
        sentence = self.at(offset)
        return sentence is not None and sentence.is_boilerplate
