"""Property-based tests: random text through the decoding rules and the whole NLP core.

Whatever the text (quote marks that never close, CRLF and lone line breaks, emoji and mixed
scripts, long runs without a space), annotating it must not raise, every offset must give its
span, and every key must be unique and point at something that exists.

The examples are derived from a fixed seed so `make test` is reproducible; set
HYPOTHESIS_PROFILE=explore for many more, random, examples.
"""

from __future__ import annotations

import os

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.core.annotate import annotate_batch
from pipelines.core.documents import BOM, RejectedFile, decode
from pipelines.core.ids import sentence_id_for
from pipelines.core.parse import split_text

settings.register_profile(
    "ci",
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "explore",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

FRAGMENTS = [
    "The",
    "minister",
    "Bank of England",
    "John Smith",
    "Ms Dubois",
    "the BBC",
    "said",
    "told reporters",
    "according to",
    "he said",
    "she added",
    "Reuters reported",
    '"',
    "“",
    "”",
    "'",
    "‘",
    "’",
    "«",
    "»",
    "„",
    "''",
    "``",
    ",",
    ".",
    "!",
    "?",
    ":",
    ";",
    "-",
    "—",
    "(",
    ")",
    " ",
    "  ",
    "\n",
    "\r\n",
    "\n\n",
    "\r\n\r\n",
    "\t",
    "2,000",
    "5%",
    "$3.5 million",
    "40 miles",
    "1.2 trillion yen",
    "😀",
    "👍🏽",
    "🇯🇵",
    "👩‍👩‍👧",
    "東京",
    "Москва",
    "القاهرة",
    "Αθήνα",
    "e\u0301",
    "\u200b",
    "\u00a0",
    "\u2028",
]
# Any character a decoded file may hold (no control, surrogate or private-use characters).
PLAIN = st.characters(exclude_categories=("Cs", "Cc", "Co"))
# Runs of one character or pair, up to 500 long (the parse's cost grows with the run; texts
# longer than the model's limit are tested in test_hostile_input.py).
LONG_RUNS = st.builds(
    lambda c, n: c * n,
    st.sampled_from(["a", "x y", "“", '"', ".", "é", "😀", "東"]),
    st.integers(50, 500),
)
TEXTS = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(PLAIN, min_size=1, max_size=20), LONG_RUNS),
    max_size=40,
).map("".join)


def assert_spans(rows: pl.DataFrame, texts: dict[str, str], start: str, end: str, span: str):
    for row in rows.iter_rows(named=True):
        if row[start] is None:
            assert row[end] is None and row[span] is None
            continue
        text = texts[row["doc_id"]]
        assert 0 <= row[start] <= row[end] <= len(text)
        assert text[row[start] : row[end]] == row[span], (start, row)


@given(st.lists(TEXTS, min_size=1, max_size=3))
def test_annotating_any_text_keeps_every_invariant(nlp, texts: list[str]):
    batch = [(f"d{i:016x}", text) for i, text in enumerate(texts)]
    by_id = dict(batch)
    tables = annotate_batch(batch)
    sentences, mentions, claims = (
        tables[t] for t in ("sentences", "document_mentions", "document_claims")
    )

    # offsets give the spans
    assert_spans(sentences, by_id, "char_start", "char_end", "text")
    assert_spans(mentions, by_id, "char_start", "char_end", "text")
    assert_spans(claims, by_id, "char_start", "char_end", "text")
    assert_spans(claims, by_id, "speaker_start", "speaker_end", "speaker_text")
    assert_spans(claims, by_id, "cue_start", "cue_end", "cue")

    # keys are unique, and every reference resolves within the batch
    for table, key in ((sentences, "sentence_id"), (mentions, "mention_id"), (claims, "claim_id")):
        assert table[key].n_unique() == table.height, key
        assert all(k.startswith(d) for k, d in table.select(key, "doc_id").iter_rows())
    known = set(sentences["sentence_id"])
    assert set(mentions["sentence_id"]) <= known
    assert set(claims["sentence_id"]) <= known
    entity_ids = set(mentions["entity_id"])
    assert set(claims["speaker_entity_id"].drop_nulls()) <= entity_ids
    assert set(claims["claim_type"]) <= {
        "direct_quote",
        "indirect_quote",
        "partial_quote",
        "quantity",
    }

    # sentences: in order, within one paragraph, numbered 0..n-1 per document, non-blank
    for doc_id, text in batch:
        rows = sentences.filter(pl.col("doc_id") == doc_id).sort("sentence_index")
        assert rows["sentence_index"].to_list() == list(range(rows.height))
        assert rows["sentence_id"].to_list() == [
            sentence_id_for(doc_id, i) for i in range(rows.height)
        ]
        previous_end = 0
        for start, end, body in rows.select("char_start", "char_end", "text").iter_rows():
            assert start >= previous_end and end > start
            assert "\n" not in body and body.strip() == body
            previous_end = end
        paragraphs = rows["paragraph_index"].to_list()
        assert paragraphs == sorted(paragraphs)
        if any(c.isalnum() for c in text):
            assert rows.height > 0, "text with words gave no sentence"
    # mentions lie inside their sentence
    bounds = {
        s: (a, b)
        for s, a, b in sentences.select("sentence_id", "char_start", "char_end").iter_rows()
    }
    for sentence_id, start, end in mentions.select(
        "sentence_id", "char_start", "char_end"
    ).iter_rows():
        low, high = bounds[sentence_id]
        assert low <= start and end <= high


@given(st.binary(max_size=300))
def test_any_bytes_are_decoded_or_refused_with_a_reason(raw: bytes):
    try:
        text, encoding = decode(raw, 200)
    except RejectedFile as exc:
        assert str(exc)
        return
    assert encoding in ("utf-8", "cp1252")
    body = raw.removeprefix(b"\xef\xbb\xbf")
    assert text == body.decode(encoding).removeprefix(BOM)
    assert text.strip() and "\x00" not in text


@given(
    st.text(PLAIN, min_size=1, max_size=300).filter(lambda t: t.removeprefix(BOM).strip()),
    st.booleans(),
    st.booleans(),
)
def test_utf8_text_comes_back_exactly(text: str, bom: bool, crlf: bool):
    if crlf:
        text = text.replace("\n", "\r\n")
    raw = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    assert decode(raw, 10_000) == (text.removeprefix(BOM), "utf-8")


@given(st.text(max_size=500), st.integers(1, 60))
def test_pieces_join_back_and_fit(text: str, limit: int):
    pieces = split_text(text, limit)
    assert "".join(pieces) == text
    assert all(len(p) <= limit for p in pieces)
    assert all(pieces[:-1])
