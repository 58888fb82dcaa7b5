"""Paragraphs and sentences: exact offsets, no sentence across a line break, boilerplate."""

from __future__ import annotations

from pipelines.core.parse import parse_texts, split_text
from pipelines.core.sentences import is_boilerplate_paragraph, paragraphs_of, split_sentences


def test_offsets_give_the_span_and_no_sentence_crosses_a_line(nlp):
    text = "Headline here\r\n\r\nFirst one. Second one!\nThird line without stop\n  \nLast."
    sentences = split_sentences("d", nlp(text))
    assert [s.text for s in sentences] == [
        "Headline here",
        "First one.",
        "Second one!",
        "Third line without stop",
        "Last.",
    ]
    for s in sentences:
        assert text[s.char_start : s.char_end] == s.text
        assert "\n" not in s.text
    assert [s.paragraph_index for s in sentences] == [0, 1, 1, 2, 3]
    assert [s.sentence_index for s in sentences] == [0, 1, 2, 3, 4]
    assert len({s.sentence_id for s in sentences}) == len(sentences)


def test_paragraphs_are_non_blank_lines():
    text = "a\n\n  b  \r\n\t\nc"
    assert [text[p.start : p.end] for p in paragraphs_of(text)] == ["a", "b", "c"]


def test_newsletter_prompts_are_boilerplate(nlp):
    assert is_boilerplate_paragraph(
        "Want all the latest news and analysis from Ukraine? "
        "Sign up to our World News Bulletin here"
    )
    assert is_boilerplate_paragraph("By John Smith")
    assert not is_boilerplate_paragraph("The town of Irpin was devastated by the shelling.")
    text = "Story line.\nWant all the latest news? Sign up to our bulletin here\nMore story."
    flags = [s.is_boilerplate for s in split_sentences("d", nlp(text))]
    assert flags == [False, True, True, False]


def test_a_paragraph_larger_than_a_piece_is_parsed_in_pieces(nlp):
    text = "word " * 30_000 + "\nSecond paragraph."
    pieces = split_text(text, limit=50_000)
    assert len(pieces) > 2 and "".join(pieces) == text
    [(doc, _)] = list(parse_texts(nlp, [(text, None)]))
    assert doc.text == text
    sentences = split_sentences("d", doc)
    assert sentences[-1].text == "Second paragraph."
    assert all(text[s.char_start : s.char_end] == s.text for s in sentences)
