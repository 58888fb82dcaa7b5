"""Raw files to documents: decoding, titles and refusals with reasons a person understands."""

from __future__ import annotations

import hashlib
import json
import sys
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest

from pipelines.core.documents import (
    PRIVATE_USE,
    Document,
    RejectedFile,
    Rejection,
    decode,
    read_documents,
    title_of,
)
from pipelines.core.ids import doc_id_for, record_doc_id

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


# --- JSON article files ------------------------------------------------------------------------


def _news_please(n: int, **fields) -> dict:
    record = {
        "authors": ["Jane Doe"],
        "date_publish": f"2022-03-{n:02d} 10:00:00",
        "source_domain": "bbc.co.uk",
        "title": f"Story {n}",
        "maintext": f"Story {n} happened.\r\nIt was in London.",
        "url": f"https://www.bbc.co.uk/news/{n}",
        "language": "en",
    }
    return {**record, **fields}


def _read(seeds: Path, limit: int = LIMIT, jsonl_limit: int = 1 << 30) -> dict:
    items = read_documents(seeds, limit, max_jsonl_bytes=jsonl_limit)
    return {item.source_path: item for item in items}


def test_jsonl_lines_are_articles_and_bad_lines_are_refused_one_by_one(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    deep = "[" * 10_000 + "]" * 10_000
    lines = [
        json.dumps(_news_please(1)),
        "{not json",
        json.dumps({"title": "no text", "url": "u"}),
        json.dumps([1, 2]),
        '{"id": 1, "text": ' + deep + "}",
        json.dumps({"text": "x" * 10_000_000}),  # a line of 10 MB
        "",
        json.dumps(_news_please(2)),
        json.dumps({"text": "   "}),
        json.dumps({"text": "bad \u0001 control"}),
        json.dumps({"text": "lone \ud800 surrogate"}),
        "NOT-UTF-8",
        json.dumps(_news_please(3, url="https://www.bbc.co.uk/news/1")),  # line 1's url again
        json.dumps({"text": "No id, no url."}),
    ]
    raw = "\n".join(lines).encode().replace(b"NOT-UTF-8", b'{"text": "caf\xe9"}')
    (seeds / "feed.jsonl").write_bytes(b"\xef\xbb\xbf" + raw + b"\n")  # a byte-order mark first
    found = _read(seeds)
    first = found["feed.jsonl#1"]
    assert isinstance(first, Document)
    assert first.text == "Story 1 happened.\r\nIt was in London."  # the field exactly
    assert first.title == "Story 1" and first.metadata.publisher == "bbc.co.uk"
    assert first.metadata.published_at == datetime(2022, 3, 1, 10)
    assert first.metadata.authors == ("Jane Doe",)
    assert first.content_sha256 == hashlib.sha256(first.text.encode()).hexdigest()
    assert isinstance(found["feed.jsonl#8"], Document) and isinstance(
        found["feed.jsonl#14"], Document
    )
    reasons = {p: r.reason for p, r in found.items() if isinstance(r, Rejection)}
    assert reasons.keys() == {f"feed.jsonl#{n}" for n in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13)}
    assert reasons["feed.jsonl#2"].startswith("the line is not JSON")
    assert reasons["feed.jsonl#3"].startswith("the record has no text (none of text, maintext")
    assert "holds an array, not a JSON object" in reasons["feed.jsonl#4"]
    assert "nested too deeply" in reasons["feed.jsonl#5"]
    assert "NEWS_MAX_FILE_BYTES" in reasons["feed.jsonl#6"]  # a 10 MB line, 5 MB limit
    assert "only white space" in reasons["feed.jsonl#9"]
    assert "control character" in reasons["feed.jsonl#10"]
    assert "lone UTF-16 surrogate" in reasons["feed.jsonl#11"]
    assert "not valid UTF-8" in reasons["feed.jsonl#12"]
    assert "already line 1's" in reasons["feed.jsonl#13"]


def test_a_line_far_over_the_limit_is_skipped_without_being_held(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    big = json.dumps({"text": "y" * 300_000})
    (seeds / "f.jsonl").write_text(big + "\n" + json.dumps(_news_please(1)) + "\n")
    found = _read(seeds, limit=100_000)
    assert "over 200,000 bytes (twice NEWS_MAX_FILE_BYTES" in found["f.jsonl#1"].reason
    assert isinstance(found["f.jsonl#2"], Document)


def test_a_jsonl_file_over_its_own_limit_is_refused_whole_and_others_load(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "big.jsonl").write_text("\n".join(json.dumps(_news_please(n)) for n in range(1, 9)))
    (seeds / "small.jsonl").write_text(json.dumps(_news_please(1)))
    (seeds / "a.txt").write_text("Plain article.\n")
    size = (seeds / "big.jsonl").stat().st_size
    found = _read(seeds, jsonl_limit=size - 1)
    assert f"file is {size:,} bytes, over the {size - 1:,}-byte limit (NEWS_MAX_JSONL_BYTES)" == (
        found["big.jsonl"].reason
    )
    assert isinstance(found["small.jsonl#1"], Document) and isinstance(found["a.txt"], Document)


def test_a_json_file_is_one_article_and_manifests_are_never_articles(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "one.json").write_text(json.dumps(_news_please(4, id="abc")))
    (seeds / "list.json").write_text(json.dumps([_news_please(5), _news_please(6)]))
    (seeds / "empty.json").write_text("")
    (seeds / "metadata.jsonl").write_text(json.dumps({"path": "a.txt", "text": "not an article"}))
    (seeds / "metadata.csv").write_text("file,date\n")
    found = _read(seeds)
    assert found["one.json"].text == "Story 4 happened.\r\nIt was in London."
    assert found["one.json"].doc_id == record_doc_id("one.json", "id:abc")
    assert found["list.json"].reason == (  # the contract: a .json file is one article
        "the file holds an array of 2 JSON values, not one object: a .json file is one "
        "article; put one article a line in a .jsonl file"
    )
    assert found["empty.json"].reason == "file is empty"
    assert "metadata.jsonl" not in found and "metadata.csv" not in found


def test_record_ids_follow_the_record_not_its_line(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    keyed, bare = json.dumps(_news_please(1)), json.dumps({"text": "No key."})
    (seeds / "f.jsonl").write_text(keyed + "\n" + bare + "\n")
    before = _read(seeds)
    (seeds / "f.jsonl").write_text(json.dumps({"text": "Inserted."}) + "\n" + keyed + "\n" + bare)
    after = _read(seeds)
    assert after["f.jsonl#2"].doc_id == before["f.jsonl#1"].doc_id  # keyed by its url
    assert after["f.jsonl#3"].doc_id != before["f.jsonl#2"].doc_id  # keyed by its line
    assert after["f.jsonl#3"].doc_id == doc_id_for("f.jsonl#3")


def test_the_private_use_pattern_is_unicodes_category_co():
    """Every code point the pattern matches is a private-use character, and every one is."""
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert (PRIVATE_USE.match(char) is not None) == (unicodedata.category(char) == "Co")
