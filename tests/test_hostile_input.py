"""Hostile input: every file is accepted or refused with a reason, and none stops the others.

First file by file (real files in a real folder: links, pipes, odd names, odd bytes), then races
(a file that vanishes, grows, or is swapped for a link or a pipe after the folder was listed),
then through real Dagster runs into a real DuckDB file: the accepted files' offsets hold in
DuckDB's own terms, and a file that loaded well and is later overwritten with something
unreadable keeps its last good rows, with the refusal recorded beside them.
"""

from __future__ import annotations

import os
import random
import string
from pathlib import Path

import duckdb
import pytest

from pipelines.core.annotate import annotate_batch
from pipelines.core.documents import (
    Document,
    RejectedFile,
    Rejection,
    find_raw_files,
    read_document,
    read_documents,
)
from pipelines.core.inventory import scan
from pipelines.core.parse import MAX_PIECE_CHARS
from pipelines.core.settings import DEFAULT_MAX_FILE_BYTES
from tests.conftest import materialize_all
from tests.test_crash_recovery import finish, log_tail, run_until

LIMIT = 10_000
GOOD = "Storm hits coast\n\nA storm hit the coast of Wales on Monday, the Met Office said.\n"
MIXED = (
    "Tokyo and Москва\n\n"
    "Officials in 東京, Москва, القاهرة and Αθήνα met on Monday 🇯🇵👍🏽 said the café owner "
    "José Núñez, who added: “We are ready” 👩‍👩‍👧.\n"
    "Zero\u200bwidth and non\u00a0breaking spaces stay as they are; so does e\u0301.\n"
)
UNBALANCED = (
    "Quotes that never close\n\n"
    '"We will not stop, said the minister, John Smith.\n'
    "Another “curly one that goes on and on.\n"
    "And a closing one” with no opening, and a 'single.\n"
)
CRLF = (
    "Rates rise\r\n\r\nThe Bank of England raised rates to 5 percent on Thursday.\r\n"
    '"Inflation is too high," said Andrew Bailey.\r\n'
)
CP1252 = "Café prices\n\n“Prices rose by 5€ – again,” said the café owner in Paris.\n"


def long_paragraph(n_chars: int, seed: int = 7) -> str:
    """One paragraph of long lower-case words, no punctuation, no line break."""
    rng = random.Random(seed)
    words, total = [], 0
    while total < n_chars:
        word = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(25, 40)))
        words.append(word)
        total += len(word) + 1
    return " ".join(words)[:n_chars]


# name -> (bytes, what must happen: "accepted" or a piece of the refusal's reason)
FILES: dict[str, tuple[bytes, str]] = {
    "good.txt": (GOOD.encode(), "accepted"),
    "nested/deep/good.txt": (GOOD.encode(), "accepted"),
    "empty.txt": (b"", "file is empty"),
    "blank.txt": (b"  \n\t\r\n\n   ", "only white space"),
    "bom-only.txt": (b"\xef\xbb\xbf\r\n", "only white space"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NUL bytes (first at byte 8)"),
    "utf16.txt": ("Storm hits coast".encode("utf-16"), "UTF-16 text"),
    "utf16-no-mark.txt": ("Storm hits coast".encode("utf-16-le"), "NUL bytes"),
    "cp1252.txt": (CP1252.encode("cp1252"), "accepted"),
    "not-cp1252.txt": (b"Storm \x81\x8d\x8f\x90 coast", "not cp1252 either (byte 0x81"),
    "cp1252-controls.txt": (b"Caf\xe9 \x1b[31mred\x1b[0m", "U+001B"),
    "bom.txt": (b"\xef\xbb\xbf" + GOOD.encode(), "accepted"),
    "bom-then-cp1252.txt": (b"\xef\xbb\xbf" + CP1252.encode("cp1252"), "accepted"),
    "crlf.txt": (CRLF.encode(), "accepted"),
    "form-feed.txt": (b"Page one\x0cPage two", "control character (U+000C at character 8)"),
    "private-use.txt": (("\ue000" * 50).encode(), "private-use"),
    "at-limit.txt": (b"x" * LIMIT, "accepted"),
    "over-limit.txt": (b"x" * (LIMIT + 1), "10,001 bytes, over the 10,000-byte limit"),
    "mixed-scripts.txt": (MIXED.encode(), "accepted"),
    "unbalanced-quotes.txt": (UNBALANCED.encode(), "accepted"),
    "new\nline in name.txt": (GOOD.encode(), "accepted"),
    "folder.txt/inside.txt": (GOOD.encode(), "accepted"),
}
IGNORED = ("notes.md", "README", "upper.TXT", "data.csv", "good.txt.bak")


def build_folder(base: Path) -> tuple[Path, Path]:
    """The seeds folder with every hostile file, link, pipe and odd name; and a secret outside."""
    seeds, outside = base / "seeds", base / "outside"
    seeds.mkdir()
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("TOP SECRET: never to be read by the pipeline\n")
    (outside / "also-secret.txt").write_text("TOP SECRET too\n")
    for name, (raw, _expected) in FILES.items():
        path = seeds / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
    for name in IGNORED:
        (seeds / name).write_text(GOOD)
    (seeds / "link-out.txt").symlink_to(secret)
    (seeds / "link-up.txt").symlink_to(Path("..") / "outside" / "secret.txt")
    (seeds / "linked-folder").symlink_to(outside, target_is_directory=True)
    (seeds / "link-in.txt").symlink_to(Path("nested") / "deep" / "good.txt")
    (seeds / "dangling.txt").symlink_to(seeds / "nowhere.txt")
    (seeds / "loop-a.txt").symlink_to(seeds / "loop-b.txt")
    (seeds / "loop-b.txt").symlink_to(seeds / "loop-a.txt")
    os.mkfifo(seeds / "pipe.txt")
    (seeds / os.fsdecode(b"bad-name-\xff.txt")).write_text(GOOD)
    return seeds, secret


LINKS_AND_NAMES = {
    "link-out.txt": "outside the seeds folder: not read",
    "link-up.txt": "outside the seeds folder: not read",
    "link-in.txt": "accepted",
    "dangling.txt": "symbolic link whose target does not exist",
    "loop-a.txt": "loops back on itself",
    "loop-b.txt": "loops back on itself",
    "pipe.txt": "a named pipe, not a regular file",
    "bad-name-\\xff.txt": "file name is not valid UTF-8",
}
EXPECTED = {name: expected for name, (_raw, expected) in FILES.items()} | LINKS_AND_NAMES


@pytest.mark.timeout(60)  # a pipe opened for reading would hang here
def test_every_hostile_file_is_accepted_or_refused_with_its_reason(tmp_path: Path):
    seeds, _secret = build_folder(tmp_path)
    items = list(read_documents(seeds, LIMIT))
    by_path = {item.source_path: item for item in items}
    assert len(by_path) == len(items), "a file was reported twice"
    assert set(by_path) == set(EXPECTED)  # nothing ignored but other suffixes and folders
    for name, expected in EXPECTED.items():
        item = by_path[name]
        if expected == "accepted":
            assert isinstance(item, Document), (name, item)
        else:
            assert isinstance(item, Rejection), (name, item)
            assert expected in item.reason, (name, item.reason)
    for item in items:
        if isinstance(item, Document):
            assert "SECRET" not in item.text
            assert not item.text.startswith("\ufeff")

    cp1252 = by_path["cp1252.txt"]
    assert (cp1252.encoding, cp1252.text) == ("cp1252", CP1252)
    assert by_path["bom-then-cp1252.txt"].text == CP1252  # the mark is not read as "ï»¿"
    assert by_path["bom.txt"].text == GOOD and by_path["bom.txt"].title == "Storm hits coast"
    assert by_path["crlf.txt"].text == CRLF and by_path["crlf.txt"].title == "Rates rise"
    assert by_path["mixed-scripts.txt"].text == MIXED  # no normalisation of any kind
    assert by_path["link-in.txt"].text == GOOD


def test_the_inventory_has_one_row_per_file_and_refusals_people_can_read(tmp_path: Path):
    seeds, _secret = build_folder(tmp_path)
    files, refused = scan(seeds, LIMIT)
    assert files["source_path"].n_unique() == files.height == len(EXPECTED)
    assert files["doc_id"].n_unique() == files.height
    assert files.filter("accepted")["reason"].null_count() == files["accepted"].sum()
    accepted = {n for n, e in EXPECTED.items() if e == "accepted"}
    assert set(files.filter("accepted")["source_path"]) == accepted
    assert {r.source_path for r in refused} == set(EXPECTED) - accepted
    for rejection in refused:  # a sentence, not a traceback or an errno
        assert len(rejection.reason) > 10 and "\n" not in rejection.reason
        assert "Errno" not in rejection.reason and "Traceback" not in rejection.reason


def test_a_file_that_vanishes_after_the_listing_is_refused_and_the_rest_go_on(tmp_path: Path):
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(GOOD)
    items = read_documents(tmp_path, LIMIT)
    first = next(items)
    (tmp_path / "b.txt").unlink()
    rest = list(items)
    assert isinstance(first, Document)
    assert [type(i).__name__ for i in rest] == ["Rejection", "Document"]
    assert rest[0].reason == "file disappeared while the run was reading it"


@pytest.mark.timeout(60)
def test_a_file_swapped_after_the_listing_is_checked_where_it_is_opened(tmp_path: Path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET\n")
    for name in ("to-link.txt", "to-pipe.txt", "grows.txt", "changes.txt"):
        (seeds / name).write_text(GOOD)
    raw_files, refused = find_raw_files(seeds)
    assert refused == [] and len(raw_files) == 4
    by_name = {f.source_path: f for f in raw_files}

    (seeds / "to-link.txt").unlink()
    (seeds / "to-link.txt").symlink_to(secret)
    with pytest.raises(RejectedFile, match="outside the seeds folder: not read"):
        read_document(by_name["to-link.txt"], LIMIT)

    (seeds / "to-pipe.txt").unlink()
    os.mkfifo(seeds / "to-pipe.txt")
    with pytest.raises(RejectedFile, match="named pipe"):
        read_document(by_name["to-pipe.txt"], LIMIT)

    (seeds / "grows.txt").write_bytes(b"x" * (LIMIT + 5))
    with pytest.raises(RejectedFile, match="over the 10,000-byte limit"):
        read_document(by_name["grows.txt"], LIMIT)

    (seeds / "changes.txt").write_text("Changed\n\nNew text.\n")
    changed = read_document(by_name["changes.txt"], LIMIT)
    assert changed.text == "Changed\n\nNew text.\n" and changed.title == "Changed"


def test_a_paragraph_longer_than_the_models_limit_is_parsed_in_pieces(nlp):
    """The model refuses a text over `max_length`; the pipeline parses it in pieces instead, and
    every offset still points into the whole text. (The real limit is 2,000,000 characters; it is
    lowered here so the test takes seconds.)"""
    assert nlp.max_length >= MAX_PIECE_CHARS  # every piece fits the model
    assert nlp.max_length < DEFAULT_MAX_FILE_BYTES  # so files this long do reach the model
    text = "A long paragraph\n\n" + long_paragraph(130_000) + "\n"
    saved = nlp.max_length
    nlp.max_length = 110_000
    try:
        with pytest.raises(ValueError, match="E088"):
            nlp(text)
        tables = annotate_batch([("dlong", text)])
    finally:
        nlp.max_length = saved
    sentences = tables["sentences"]
    assert sentences.height >= 2
    for start, end, body in sentences.select("char_start", "char_end", "text").iter_rows():
        assert text[start:end] == body
    covered = sum(len(b) for b in sentences["text"]) + sentences.height
    assert covered >= len(text.strip()) - 5  # the pieces' sentences cover the whole paragraph


def warehouse_rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow
def test_hostile_files_through_real_runs_into_duckdb(tmp_path: Path, monkeypatch):
    seeds, _secret = build_folder(tmp_path)
    (seeds / "long-paragraph.txt").write_text(
        "One enormous paragraph\n\n" + long_paragraph(MAX_PIECE_CHARS + 500) + "\n"
    )
    (seeds / "to-break.txt").write_text(GOOD.replace("Monday", "Tuesday"))
    (seeds / "to-delete.txt").write_text(GOOD.replace("Wales", "Cornwall"))
    (seeds / "huge.txt").write_bytes(b"word " * 40_001)
    monkeypatch.setenv("NEWS_MAX_FILE_BYTES", str(200_000))
    data = tmp_path / "data"
    warehouse = data / "warehouse.duckdb"
    expected = EXPECTED | {
        "at-limit.txt": "accepted",  # under 200,000 bytes here
        "over-limit.txt": "accepted",
        "long-paragraph.txt": "accepted",
        "to-break.txt": "accepted",
        "to-delete.txt": "accepted",
        "huge.txt": "200,005 bytes, over the 200,000-byte limit (NEWS_MAX_FILE_BYTES)",
    }

    result = materialize_all(seeds, data, monkeypatch)
    checks = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert checks and all(c.passed for c in checks), [c.check_name for c in checks if not c.passed]
    documents = dict(warehouse_rows(warehouse, "select source_path, encoding from documents"))
    rejected = dict(warehouse_rows(warehouse, "select source_path, reason from rejected_files"))
    assert set(documents) | set(rejected) == set(expected)
    assert not set(documents) & set(rejected)
    for name, outcome in expected.items():
        if outcome == "accepted":
            assert name in documents, name
        else:
            assert outcome in rejected[name], (name, rejected[name])
    assert documents["cp1252.txt"] == "cp1252" and documents["bom.txt"] == "utf-8"
    assert warehouse_rows(warehouse, "select count(*) from documents where text like '%SECRET%'")[
        0
    ] == (0,)
    assert warehouse_rows(
        warehouse, "select count(*) from documents where starts_with(text, chr(65279))"
    ) == [(0,)]
    # offsets give the spans in DuckDB's own terms, CRLF, emoji and the long paragraph included
    for table, start, end, span in (
        ("sentences", "char_start", "char_end", "text"),
        ("entity_mentions", "char_start", "char_end", "text"),
        ("claims", "char_start", "char_end", "text"),
        ("claims", "speaker_start", "speaker_end", "speaker_text"),
        ("claims", "cue_start", "cue_end", "cue"),
    ):
        bad = warehouse_rows(
            warehouse,
            f"select d.source_path, t.{span} from {table} t join documents d using (doc_id) "
            f"where t.{start} is not null "
            f"and substr(d.text, t.{start} + 1, t.{end} - t.{start}) <> t.{span}",
        )
        assert bad == [], (table, span, bad[:3])
    crlf_sentences = warehouse_rows(
        warehouse,
        "select s.text from sentences s join documents d using (doc_id) "
        "where d.source_path = 'crlf.txt' order by s.sentence_index",
    )
    assert crlf_sentences[0] == ("Rates rise",)
    assert not any("\r" in s or "\n" in s for (s,) in crlf_sentences)
    long_doc = warehouse_rows(
        warehouse,
        "select n_chars, n_sentences from documents where source_path = 'long-paragraph.txt'",
    )
    assert long_doc[0][0] > MAX_PIECE_CHARS and long_doc[0][1] >= 2
    emoji = warehouse_rows(
        warehouse,
        "select count(*) from entity_mentions m join documents d using (doc_id) "
        "where d.source_path = 'mixed-scripts.txt'",
    )
    assert emoji[0][0] >= 1
    broken_before = warehouse_rows(
        warehouse,
        "select d.content_sha256, count(s.sentence_id) from documents d join sentences s "
        "using (doc_id) where d.source_path = 'to-break.txt' group by 1",
    )

    # The source breaks: a loaded file is overwritten with binary junk, another is deleted.
    (seeds / "to-break.txt").write_bytes(b"\x00\x01\x02 half-written upload \xff\xfe")
    (seeds / "to-delete.txt").unlink()
    materialize_all(seeds, data, monkeypatch)
    assert (
        warehouse_rows(
            warehouse,
            "select d.content_sha256, count(s.sentence_id) from documents d join sentences s "
            "using (doc_id) where d.source_path = 'to-break.txt' group by 1",
        )
        == broken_before
    )
    reason = warehouse_rows(
        warehouse, "select reason from rejected_files where source_path = 'to-break.txt'"
    )
    assert len(reason) == 1
    assert "NUL bytes" in reason[0][0] and "last good version stays" in reason[0][0]
    for table in ("documents", "sentences", "entity_mentions", "claims"):
        gone = warehouse_rows(
            warehouse,
            f"select count(*) from {table} where doc_id = "
            "(select doc_id from documents where source_path = 'to-delete.txt')",
        )
        assert gone == [(0,)]
    assert warehouse_rows(
        warehouse, "select count(*) from documents where source_path = 'to-delete.txt'"
    ) == [(0,)]
    assert warehouse_rows(
        warehouse, "select count(*) from rejected_files where source_path = 'to-delete.txt'"
    ) == [(0,)]

    # The source is repaired: the new version replaces the last good one, the refusal goes.
    (seeds / "to-break.txt").write_text(GOOD.replace("Monday", "Friday"))
    materialize_all(seeds, data, monkeypatch)
    assert warehouse_rows(
        warehouse,
        "select count(*) from documents where source_path = 'to-break.txt' "
        "and text like '%Friday%'",
    ) == [(1,)]
    assert warehouse_rows(
        warehouse, "select count(*) from rejected_files where source_path = 'to-break.txt'"
    ) == [(0,)]


@pytest.mark.slow
def test_a_file_broken_while_a_run_reads_it_keeps_its_last_good_rows(tmp_path: Path, monkeypatch):
    """The scan sees a new, good version of a loaded file; before the file is parsed, it is
    overwritten with junk (a half-finished upload). The run must not lose the file's rows."""
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    seeds.mkdir()
    (seeds / "a.txt").write_text(GOOD)
    (seeds / "b.txt").write_text(GOOD.replace("Wales", "Kent"))
    materialize_all(seeds, data, monkeypatch)
    warehouse = data / "warehouse.duckdb"
    before = warehouse_rows(
        warehouse, "select content_sha256 from documents where source_path = 'b.txt'"
    )
    (seeds / "b.txt").write_text(GOOD.replace("Wales", "Devon"))  # a new good version
    go = tmp_path / "go"
    run = run_until(seeds, data, "after-scan", go=go)
    (seeds / "b.txt").write_bytes(b"\x00\x01 upload in progress")  # broken before it is read
    go.touch()
    assert finish(run) == 0, log_tail(data)
    after = warehouse_rows(
        warehouse, "select content_sha256 from documents where source_path = 'b.txt'"
    )
    assert after == before, "the file's last good rows were lost"
