"""Quote marks paired per paragraph, robust to what real text does: curly and straight marks
mixed, a missing space before the opening mark, an unclosed mark, and a quote running over
several paragraphs; and which quoted phrases are woven into a sentence (scare quotes)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

from pipelines.core.quotes.base import QuoteSpan
from pipelines.core.sentences import Paragraph, SentenceIndex, paragraphs_of

OPENING = "“«„"


CLOSING = "”»"


STRAIGHT = '"'


# Quote marks: curly, guillemets, straight, and the doubled apostrophes of some wires ('' … '').
_MARK = re.compile(r"''|``|[“”„«»\"]")


_OPEN_BEFORE = set(" \t\n\r([{—–-/:;")


_CLOSE_AFTER = set(" \t\n\r.,;:!?)]}—–-/")


_TERMINAL = set(".?!,…")


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


def _ends_like_speech(text: str, span: QuoteSpan) -> bool:
    content = text[span.start : span.end].rstrip()
    return content[-1:] in _TERMINAL and len(content.split()) >= 4


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(min(end, e) - max(start, s) > 0.3 * (end - start) for s, e in spans)


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
