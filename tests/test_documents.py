"""Raw files to documents: decoding, titles and refusals with reasons a person understands."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.documents import (
    Document,
    RejectedFile,
    Rejection,
    decode,
    read_documents,
    title_of,
)

LIMIT = 5_000_000


def test_utf8_with_bom_drops_the_mark_only():
    text, encoding = decode("\ufeffHeadline\r\n\r\nBody.".encode(), LIMIT)
    assert (text, encoding) == ("Headline\r\n\r\nBody.", "utf-8")


def test_cp1252_is_used_when_utf8_fails_and_text_is_clean():
    text, encoding = decode("“Café” – 5€".encode("cp1252"), LIMIT)
    assert (text, encoding) == ("“Café” – 5€", "cp1252")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"  \n\t\r\n", "only white space"),
        (b"PK\x03\x04\x00\x00binary", "NUL bytes"),
        (b"abc \x81\x8d\x8f garbage", "not valid UTF-8"),
        (b"x" * 101, "over the 100-byte limit"),
        ("Headline".encode("utf-16"), "UTF-16 text"),
        (b"\xef\xbb\xbf", "only white space"),
        (b"bell \x07 rings", r"control character \(U\+0007 at character 5\)"),
        (b"caf\xe9 \x1b[0m", r"not valid UTF-8 \(bad byte at offset 3\), and read as cp1252"),
    ],
)
def test_bad_input_is_refused_with_a_reason(raw: bytes, reason: str):
    with pytest.raises(RejectedFile, match=reason):
        decode(raw, 100)


def test_a_utf8_byte_order_mark_before_cp1252_text_is_not_read_as_text():
    text, encoding = decode(b"\xef\xbb\xbf" + "Café".encode("cp1252"), LIMIT)
    assert (text, encoding) == ("Café", "cp1252")


def test_title_is_a_first_line_followed_by_a_blank_line():
    assert title_of("Headline\n\nBody") == "Headline"
    assert title_of("Headline\r\n\r\nBody") == "Headline"
    assert title_of("First paragraph\nSecond paragraph") is None


def test_a_bad_file_never_stops_the_others(tmp_path: Path):
    (tmp_path / "good.txt").write_text("Title\n\nA sentence.")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "bin.txt").write_bytes(b"\x00\x01")
    (tmp_path / "notes.md").write_text("ignored: not a .txt")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("secret")
    (tmp_path / "link.txt").symlink_to(outside)
    items = {i.source_path: i for i in read_documents(tmp_path, LIMIT)}
    assert set(items) == {"good.txt", "empty.txt", "nested/bin.txt", "link.txt"}
    assert isinstance(items["good.txt"], Document)
    assert items["good.txt"].title == "Title"
    assert isinstance(items["empty.txt"], Rejection)
    assert "outside the seeds folder" in items["link.txt"].reason
    assert "NUL" in items["nested/bin.txt"].reason


def test_doc_id_depends_on_the_path_only(tmp_path: Path):
    (tmp_path / "a.txt").write_text("one")
    first = next(iter(read_documents(tmp_path, LIMIT)))
    (tmp_path / "a.txt").write_text("two")
    second = next(iter(read_documents(tmp_path, LIMIT)))
    assert first.doc_id == second.doc_id
    assert first.content_sha256 != second.content_sha256


def test_valid_utf8_with_double_encoded_characters_is_kept():
    """Mojibake ("FranÃ\\x83Â§ois") is damaged text, not binary: the article stays."""
    raw = "President FranÃ\x83Â§ois Hollande said.".encode()
    text, encoding = decode(raw, LIMIT)
    assert encoding == "utf-8" and "\x83" in text
