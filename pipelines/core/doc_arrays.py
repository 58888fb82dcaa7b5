"""Reading a parsed document from its arrays, once per document.

The extractors ask the same questions of a `Doc` many times (its text, where its verbs are,
which sentence a cue stands in); spaCy's per-token properties answer each by walking tokens
(`Doc.text` joins them all, `Token.sent` walks the sentence), so these helpers read the
document's arrays once and keep the answer in `Doc.user_data` (which a kept parse does not
store). They are extraction code, not parse code: a change here re-extracts from the kept
parses (see `pipelines.core.versions`), it does not parse the corpus again.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np
from spacy.attrs import IDX, LOWER, POS
from spacy.parts_of_speech import IDS as POS_IDS
from spacy.strings import get_string_id
from spacy.tokens import Doc, Token


def token_indices(doc: Doc, pos: tuple[str, ...] = (), lower: tuple[str, ...] = ()) -> list[int]:
    """The indices, in order, of the tokens whose POS is one of `pos` or whose lower-case form
    is one of `lower`, from one `Doc.to_array`: a rule that looks only at such tokens need not
    make a `Token` of every other one."""
    if len(doc) == 0:
        return []
    found = doc.to_array([POS, LOWER])
    mask = np.zeros(len(doc), dtype=bool)
    for name in pos:  # a few values each: comparisons, not np.isin's sort
        mask |= found[:, 0] == np.uint64(POS_IDS[name])
    for word in lower:
        mask |= found[:, 1] == np.uint64(get_string_id(word))
    return np.flatnonzero(mask).tolist()


def sentence_of(token: Token) -> tuple[int, int]:
    """The token indices [start, end) of the sentence holding `token`, the sentence
    `Token.sent` gives, from the document's sentence starts read once: `Token.sent` walks the
    sentence's tokens on each call, and the quote rules ask it of every cue and speaker."""
    doc = token.doc
    starts = doc.user_data.get("sentence_starts")
    if starts is None:
        starts = doc.user_data["sentence_starts"] = [s.start for s in doc.sents] + [len(doc)]
    k = bisect_right(starts, token.i) - 1
    return starts[k], starts[k + 1]


def token_starts(doc: Doc) -> list[int]:
    """Each token's character offset (`Token.idx`), from one array, read once per document."""
    starts = doc.user_data.get("token_starts")
    if starts is None:
        starts = doc.user_data["token_starts"] = doc.to_array(IDX).tolist() if len(doc) else []
    return starts


def token_index_at(doc: Doc, char: int) -> int:
    """The index of the token covering (or just before) character offset `char`, -1 before
    the first, by bisection in the offsets `token_starts` reads once."""
    return bisect_right(token_starts(doc), char) - 1


def text_of(doc: Doc) -> str:
    """The document's text, built once: `Doc.text` joins every token on each call, which made
    long documents quadratic."""
    text = doc.user_data.get("text")
    if text is None:
        text = doc.user_data["text"] = doc.text
    return text
