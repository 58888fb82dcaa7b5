"""The helpers that read a parse from its arrays, once per document, give what spaCy's own
per-token properties give (they exist for speed only, so any difference is a bug)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.doc_arrays import sentence_of, token_index_at, token_indices, token_starts
from pipelines.core.entities import _capitalised_word, _runs

SEED = next((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))
TEXTS = [
    SEED.read_text(encoding="utf-8"),
    # runs of capitals joined by a hyphen, split by a line break, at a document's edges
    "Jean-Claude Juncker met Angela Merkel.\nNew York - Paris talks ended. Bosnia-Herzegovina",
    "one sentence only, no capitals",
    "“Stop!” she said. He asked: “Why?”\n\nA new paragraph; NATO and the E.U. - both - agreed.",
]


@pytest.fixture(scope="module")
def docs(nlp):
    return [nlp(text) for text in TEXTS]


def test_sentence_of_is_the_sentence_token_sent_gives(docs):
    for doc in docs:
        for token in doc:
            assert sentence_of(token) == (token.sent.start, token.sent.end)


def test_token_starts_are_each_tokens_idx(nlp, docs):
    for doc in [*docs, nlp("")]:
        assert token_starts(doc) == [t.idx for t in doc]


def test_token_index_at_is_the_token_covering_or_just_before_each_character(docs):
    for doc in docs:
        for char in range(len(doc.text) + 2):
            before = [t.i for t in doc if t.idx <= char]
            assert token_index_at(doc, char) == (before[-1] if before else -1)


def test_token_indices_are_the_tokens_of_those_parts_of_speech_or_words(docs):
    for doc in docs:
        for pos, lower in [(("VERB", "AUX"), ("according",)), (("NOUN",), ()), ((), ("-", "the"))]:
            expected = [t.i for t in doc if t.pos_ in pos or t.lower_ in lower]
            assert token_indices(doc, pos, lower) == expected


def _runs_token_by_token(doc):
    """`_runs` as first written: every token's word tested in turn."""
    words = [t.text for t in doc]
    caps = [_capitalised_word(w) for w in words]
    out, i = [], 0
    while i < len(doc):
        if not caps[i]:
            i += 1
            continue
        j = i + 1
        while j < len(doc):
            if caps[j]:
                j += 1
            elif words[j] == "-" and j + 1 < len(doc) and caps[j + 1]:
                j += 2
            else:
                break
        out.append((i, j))
        i = j
    return out


def test_capitalised_runs_read_from_the_word_array_are_the_token_by_token_ones(nlp, docs):
    for doc in [*docs, nlp("")]:
        assert _runs(doc) == _runs_token_by_token(doc)
    assert _runs(docs[1])[:2] == [(0, 4), (5, 7)]  # "Jean - Claude Juncker", "Angela Merkel"
