"""Article metadata: tolerant dates, the scrapers' field names, manifests and their bad cases.

Manifests are real files in temporary seeds folders, read by the real scan; one real Dagster
run sequence shows a metadata change reaching the warehouse without parsing anything again.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.core import inventory, metadata
from pipelines.core.metadata import parse_published
from tests.conftest import SHARED, materialize_all

ARTICLE = "Banks raise rates\n\nThe central bank raised its main rate on Tuesday.\n"


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2022-03-03T10:15:00+02:00", datetime(2022, 3, 3, 8, 15)),  # ISO 8601, to UTC
        ("2022-03-03T10:15:00.123456Z", datetime(2022, 3, 3, 10, 15, 0, 123456)),
        ("2022-03-03 10:15:00", datetime(2022, 3, 3, 10, 15)),  # no zone: UTC
        ("Thu, 03 Mar 2022 10:15:00 EST", datetime(2022, 3, 3, 15, 15)),  # RFC 2822, named zone
        ("Thu, 03 Mar 2022 10:15:00 -0500", datetime(2022, 3, 3, 15, 15)),
        ("26-FEB-1987 15:01:01.79", datetime(1987, 2, 26, 15, 1, 1, 790000)),
        ("March 3, 2022", datetime(2022, 3, 3)),
        # SGML wire archives: routing codes after control characters written as references
        ("27-MAR-1987 00:02:59.13&#5;&#5;&#5;RM", datetime(1987, 3, 27, 0, 2, 59, 130000)),
        ("27-MAR-1987 00:03:35.68\x05\x05\x05E F", datetime(1987, 3, 27, 0, 3, 35, 680000)),
        # a note after the date
        ("9-APR-1987 12:00:00.00 # date added as guesswork", datetime(1987, 4, 9, 12)),
        (1646302500, datetime(2022, 3, 3, 10, 15)),  # epoch seconds (a JSON number)
        (1646302500000, datetime(2022, 3, 3, 10, 15)),  # epoch milliseconds
    ],
)
def test_dates_are_read_in_their_common_forms_and_kept_in_utc(written, expected):
    assert parse_published(written) == (expected, None)


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("yesterday", "'yesterday' is not a date"),
        ("5", "is not a date"),
        ("99999-01-01T00:00:00Z", "beyond 9999"),
        ("1 January 99999", "beyond 9999"),
        ("1850-06-01", "before 1900"),
        (1e300, "out of any calendar"),
        (True, "not a date"),
        ({"year": 2022}, "not a date"),
    ],
)
def test_what_is_not_a_date_is_left_empty_with_a_reason(written, says):
    when, warning = parse_published(written)
    assert when is None
    assert says in warning and warning.startswith("published_at")


def test_every_reuters_date_is_read():
    """The corpus manifest: every article has a date, some with trailing wire codes."""
    with open(SHARED / "corpora/_meta/reuters21578_manifest.csv", encoding="utf-8") as f:
        dates = [row["date"] for row in csv.DictReader(f)]
    read = [parse_published(d)[0] for d in dates]
    assert len(dates) == 19043
    assert sum("&#" in d for d in dates) == 297
    assert all(r is not None and 1987 <= r.year <= 1987 for r in read)


# --- fields ------------------------------------------------------------------------------------


def test_news_please_and_trafilatura_fields_are_read_by_their_own_names():
    news_please = {
        "date_publish": "2022-03-03 10:15:00",
        "source_domain": "bbc.co.uk",
        "authors": ["Jane Doe", "John Roe", "Jane Doe"],
        "url": "https://www.bbc.co.uk/news/1",
        "title": "Banks raise rates",
        "language": "en",
        "date_download": "2022-03-04 00:00:00",  # unknown fields are ignored quietly
        "image_url": None,
    }
    found = metadata.from_record(news_please)
    assert found == metadata.Metadata(
        title="Banks raise rates",
        published_at=datetime(2022, 3, 3, 10, 15),
        publisher="bbc.co.uk",
        url="https://www.bbc.co.uk/news/1",
        authors=("Jane Doe", "John Roe"),
        language="en",
    )
    assert found.warnings == ()
    trafilatura = {"author": "Jane Doe; John Roe", "hostname": "reuters.com", "Category": "World"}
    found = metadata.from_record(trafilatura)
    assert (found.authors, found.publisher, found.section) == (
        ("Jane Doe", "John Roe"),
        "reuters.com",
        "World",
    )


def test_unreadable_fields_are_left_empty_with_a_warning():
    found = metadata.from_record({"date": "soon", "publisher": {"name": "x"}, "url": "u"}, "here")
    assert (found.published_at, found.publisher, found.url) == (None, None, "u")
    assert found.warnings == (
        "publisher is dict, not text: left empty (here)",
        "published_at 'soon' is not a date (here)",
    )


# --- manifests, through the real scan ----------------------------------------------------------


def _seeds(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    seeds = tmp_path / "seeds"
    for name, content in files.items():
        path = seeds / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return seeds


def _scan(seeds: Path):
    files, refused = inventory.scan(seeds, 1 << 20)
    rows = {r["source_path"]: r for r in files.iter_rows(named=True)}
    warnings = [
        (r["source_path"], w) for r in files.iter_rows(named=True) for w in r["warnings"] or []
    ]
    return rows, {r.source_path: r.reason for r in refused}, warnings


def test_a_csv_manifest_with_bom_and_crlf_gives_its_articles_dates_titles_and_outlets(tmp_path):
    manifest = (
        "\ufefffile,Date,Category,Title,Outlet,Authors,Extra\r\n"
        "a.txt,26-FEB-1987 15:01:01.79,business,Cocoa review,Reuters,Jane Doe; John Roe,x\r\n"
        'sub/b.txt,"March 3, 2022",sport,,BBC,,y\r\n'
    )
    seeds = _seeds(
        tmp_path,
        {"metadata.csv": manifest, "a.txt": ARTICLE, "sub/b.txt": ARTICLE, "c.txt": ARTICLE},
    )
    rows, refused, warnings = _scan(seeds)
    assert refused == {} and warnings == []
    a, b, c = rows["a.txt"], rows["sub/b.txt"], rows["c.txt"]
    assert a["published_at"] == datetime(1987, 2, 26, 15, 1, 1, 790000)
    assert (a["title"], a["section"], a["publisher"], a["authors"]) == (
        "Cocoa review",
        "business",
        "Reuters",
        ["Jane Doe", "John Roe"],
    )
    assert b["title"] == "Banks raise rates"  # no title in the manifest: the headline
    assert (b["published_at"], b["publisher"]) == (datetime(2022, 3, 3), "BBC")
    assert c["published_at"] is None and c["title"] == "Banks raise rates"
    assert not rows["metadata.csv"]["accepted"] and rows["metadata.csv"]["reason"] is None


def test_a_jsonl_manifest_and_the_nearest_manifest_wins(tmp_path):
    outer = "path,publisher\nnews/a.txt,Outer\nb.txt,Outer\n"
    inner = json.dumps({"path": "a.txt", "publisher": "Inner", "date": "2022-01-02"}) + "\n"
    seeds = _seeds(
        tmp_path,
        {
            "metadata.csv": outer,
            "news/metadata.jsonl": inner,
            "news/a.txt": ARTICLE,
            "b.txt": ARTICLE,
        },
    )
    rows, refused, warnings = _scan(seeds)
    assert refused == {} and warnings == []
    assert rows["news/a.txt"]["publisher"] == "Inner"
    assert rows["news/a.txt"]["published_at"] == datetime(2022, 1, 2)
    assert rows["b.txt"]["publisher"] == "Outer"
    assert "news/metadata.jsonl" in rows  # a manifest, never an article
    assert not rows["news/metadata.jsonl"]["accepted"]


def test_duplicate_keys_and_columns_warn_and_keep_the_first(tmp_path):
    manifest = "file,date,Date\na.txt,2022-01-01,2023-01-01\na.txt,2024-01-01,\n"
    jsonl = '{"path": "b.txt", "date": "2022-05-05", "date": "2023-05-05"}\n'
    seeds = _seeds(
        tmp_path,
        {"metadata.csv": manifest, "j/metadata.jsonl": jsonl, "a.txt": ARTICLE, "j/b.txt": ARTICLE},
    )
    rows, refused, warnings = _scan(seeds)
    assert rows["a.txt"]["published_at"] == datetime(2022, 1, 1)
    assert rows["j/b.txt"]["published_at"] == datetime(2022, 5, 5)
    assert ("metadata.csv", "header: column 'Date' appears twice: the first is used") in warnings
    assert ("metadata.csv", "row 3: a second row for 'a.txt' (row 2 kept): ignored") in warnings
    assert ("j/metadata.jsonl", "line 1: key 'date' appears twice: the first is used") in warnings
    assert refused == {}


def test_paths_leaving_the_manifest_folder_are_refused_and_never_read(tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("not for the warehouse\n")
    manifest = (
        "file,publisher\n../secret.txt,X\n/etc/passwd,X\nsub/../../secret.txt,X\nC:\\a.txt,X\n"
        "ok.txt,Fine\n"
    )
    seeds = _seeds(tmp_path, {"news/metadata.csv": manifest, "news/ok.txt": ARTICLE})
    rows, _refused, warnings = _scan(seeds)
    assert rows["news/ok.txt"]["publisher"] == "Fine"
    leaving = [w for p, w in warnings if "leaves the manifest's folder: refused, never read" in w]
    assert len(leaving) == 4
    assert set(rows) == {"news/metadata.csv", "news/ok.txt"}


def test_a_row_for_a_missing_file_warns_and_a_bad_date_warns_on_its_article(tmp_path):
    manifest = "file,date\nok.txt,yesterday\ngone.txt,2022-01-01\nx.json,2022-01-01\n"
    seeds = _seeds(tmp_path, {"metadata.csv": manifest, "ok.txt": ARTICLE})
    rows, _refused, warnings = _scan(seeds)
    assert rows["ok.txt"]["accepted"] and rows["ok.txt"]["published_at"] is None
    assert warnings == [
        ("metadata.csv", "row 3: 'gone.txt' is not an article in the seeds folder"),
        (
            "metadata.csv",
            "row 4: 'x.json' is not a .txt article (a JSON article carries its own fields)",
        ),
        ("ok.txt", "published_at 'yesterday' is not a date (metadata.csv row 2)"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("metadata.csv", b"%PDF-1.4\x00\x01\x02binary", "manifest not read: binary file"),
        ("metadata.csv", "This is a letter, not a table.\nRegards\n", "no `path` or `file` column"),
        ("metadata.jsonl", "not json\nneither\n", "not JSON lines"),
        ("metadata.csv", "\ufeff\ufeff", "manifest not read"),
    ],
)
def test_a_manifest_that_is_not_csv_or_json_is_refused_and_the_articles_still_load(
    tmp_path, name, content, says
):
    seeds = _seeds(tmp_path, {name: content, "ok.txt": ARTICLE})
    rows, refused, _warnings = _scan(seeds)
    assert says in refused[name]
    assert rows["ok.txt"]["accepted"] and rows["ok.txt"]["published_at"] is None


def test_a_manifest_over_its_limit_is_refused(tmp_path):
    seeds = _seeds(tmp_path, {"metadata.csv": "file,date\n" + "a.txt,2022-01-01\n" * 50})
    (seeds / "a.txt").write_text(ARTICLE)
    files, refused = inventory.scan(seeds, 1 << 20, None, max_jsonl_bytes=100)
    assert "NEWS_MAX_JSONL_BYTES" in {r.source_path: r.reason for r in refused}["metadata.csv"]
    assert files.filter(files["source_path"] == "a.txt")["accepted"].item()


def test_an_unchanged_file_is_read_again_only_when_its_manifest_row_changed(tmp_path):
    seeds = _seeds(tmp_path, {"metadata.csv": "file,date\na.txt,2022-01-01\n", "a.txt": ARTICLE})
    first, _ = inventory.scan(seeds, 1 << 20)
    again, _ = inventory.scan(seeds, 1 << 20, first)
    assert again.equals(first)
    (seeds / "metadata.csv").write_text("file,date,title\na.txt,2023-01-01,New title\n")
    changed, _ = inventory.scan(seeds, 1 << 20, first)
    row = changed.filter(changed["source_path"] == "a.txt").row(0, named=True)
    assert (row["published_at"], row["title"]) == (datetime(2023, 1, 1), "New title")
    assert (
        row["content_sha256"]
        == first.filter(first["source_path"] == "a.txt")["content_sha256"].item()
    )


# --- the pipeline: metadata to the warehouse, and a metadata change without parsing ------------


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def _run_figures(result) -> dict:
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        if mat.asset_key.path == ["documents"] and "documents_parsed" in mat.metadata:
            return {k: v.value for k, v in mat.metadata.items()}
    return {}


@pytest.mark.slow
def test_metadata_reaches_the_warehouse_and_a_change_is_not_parsed_again(tmp_path, monkeypatch):
    articles = {
        "wire/a.txt": "Argentina raises rates\n\nThe central bank of Argentina raised rates on "
        'Tuesday.\n"We will defend the peso," said Luis Caputo, the economy minister.\n',
        "wire/b.txt": "Intel opens plant\n\nIntel opened a factory in Ohio on Friday.\n",
    }
    manifest = "file,date,source\na.txt,2022-03-01 09:00:00,Reuters\nb.txt,2022-03-09,Reuters\n"
    records = [
        {"id": "r1", "maintext": "Stena Line will stop sailing to Fishguard, the company said.",
         "title": "Ferry cuts", "date_publish": "2022-03-02 10:00:00", "source_domain": "bbc.co.uk",
         "authors": ["Jane Doe"], "language": "en"},
        "{broken",
        {"url": "https://x.test/2", "text": "Arsenal beat Chelsea at Wembley on Saturday.",
         "date_publish": "yesterday", "source_domain": "bbc.co.uk"},
    ]  # fmt: skip
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    seeds = _seeds(
        tmp_path,
        {**articles, "wire/metadata.csv": manifest, "feeds/bbc.jsonl": "\n".join(lines) + "\n"},
    )
    data = tmp_path / "data"
    materialize_all(seeds, data, monkeypatch)
    warehouse = data / "warehouse.duckdb"
    docs = _query(
        warehouse,
        "select source_path, title, published_at, publisher, authors, language from documents "
        "order by source_path",
    )
    ferry = ("Ferry cuts", datetime(2022, 3, 2, 10), "bbc.co.uk", ["Jane Doe"], "en")
    assert docs == [
        ("feeds/bbc.jsonl#1", *ferry),
        ("feeds/bbc.jsonl#3", None, None, "bbc.co.uk", [], None),
        ("wire/a.txt", "Argentina raises rates", datetime(2022, 3, 1, 9), "Reuters", [], None),
        ("wire/b.txt", "Intel opens plant", datetime(2022, 3, 9), "Reuters", [], None),
    ]  # fmt: skip
    rejected = _query(warehouse, "select source_path, reason from rejected_files")
    assert [(p, r.split(" (")[0]) for p, r in rejected] == [
        ("feeds/bbc.jsonl#2", "the line is not JSON")
    ]
    assert _query(warehouse, "select source_path, warning from file_warnings") == [
        ("feeds/bbc.jsonl#3", "published_at 'yesterday' is not a date")
    ]
    daily = _query(
        warehouse,
        "select day, name, n_mentions, n_documents, n_stories from entity_mentions_daily "
        "where name = 'Argentina'",
    )
    assert daily == [(datetime(2022, 3, 1).date(), "Argentina", 2, 1, 1)]
    by_publisher = _query(
        warehouse,
        "select publisher, speaker, n_quotes, first_published_at from quotes_by_publisher "
        "where speaker = 'Luis Caputo'",
    )
    assert by_publisher == [("Reuters", "Luis Caputo", 1, datetime(2022, 3, 1, 9))]
    sentences_before = _query(warehouse, "select * from sentences order by sentence_id")
    claims_before = _query(warehouse, "select * from claims order by claim_id")

    # the outlet renamed in the manifest, and a line inserted above the JSON records (ids keep)
    (seeds / "wire/metadata.csv").write_text(manifest.replace("Reuters", "Reuters UK"))
    lines.insert(0, json.dumps({"id": "r0", "text": "A new record about Japan and its trade."}))
    (seeds / "feeds/bbc.jsonl").write_text("\n".join(lines) + "\n")
    result = materialize_all(seeds, data, monkeypatch)
    figures = _run_figures(result)
    assert figures["documents_parsed"] == 1  # only the new record
    assert figures["documents_metadata_updated"] == 4  # two outlets, two moved lines
    docs = _query(warehouse, "select source_path, publisher from documents order by source_path")
    assert docs == [
        ("feeds/bbc.jsonl#1", None),
        ("feeds/bbc.jsonl#2", "bbc.co.uk"),
        ("feeds/bbc.jsonl#4", "bbc.co.uk"),
        ("wire/a.txt", "Reuters UK"),
        ("wire/b.txt", "Reuters UK"),
    ]
    new_doc = _query(warehouse, "select doc_id from documents where source_path like '%#1'")[0][0]
    assert (
        _query(
            warehouse, f"select * from sentences where doc_id != '{new_doc}' order by sentence_id"
        )
        == sentences_before
    )
    assert (
        _query(warehouse, f"select * from claims where doc_id != '{new_doc}' order by claim_id")
        == claims_before
    )
    assert _query(
        warehouse, "select publisher from quotes_by_publisher where speaker = 'Luis Caputo'"
    ) == [("Reuters UK",)]

    # metadata alone: nothing parsed, nothing relinked, every check passes on the versions it
    # passed before (a metadata commit changes no id, text or child row), the documents updated
    warehouse_before = _query(warehouse, "select * from claims order by claim_id")
    (seeds / "wire/metadata.csv").write_text(manifest.replace("Reuters", "Reuters Intl"))
    result = materialize_all(seeds, data, monkeypatch)
    figures = _run_figures(result)
    assert (figures["documents_parsed"], figures["documents_metadata_updated"]) == (0, 2)
    corpus = {
        m.asset_key.path[0]: m.metadata
        for m in result.asset_materializations_for_node("link_corpus_entities")
    }
    assert all("unchanged_since" in meta for meta in corpus.values()), corpus
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations)
    assert all("unchanged_since" in e.metadata for e in evaluations)
    assert _query(warehouse, "select count(*) from documents where publisher = 'Reuters Intl'") == [
        (2,)
    ]
    assert _query(warehouse, "select * from claims order by claim_id") == warehouse_before
    assert _query(warehouse, "select value from load_info where key = 'load'") == [("incremental",)]

    # a good line breaks: its rows stay beside its refusal; a removed record is removed
    lines[1] = '{"id": "r1", "maintext": '  # was line 2, the Stena Line record
    del lines[3]  # the Arsenal record
    (seeds / "feeds/bbc.jsonl").write_text("\n".join(lines) + "\n")
    materialize_all(seeds, data, monkeypatch)
    docs = _query(warehouse, "select source_path from documents order by source_path")
    assert [d[0] for d in docs] == [
        "feeds/bbc.jsonl#1",
        "feeds/bbc.jsonl#2",
        "wire/a.txt",
        "wire/b.txt",
    ]
    rejected = dict(_query(warehouse, "select source_path, reason from rejected_files"))
    assert rejected["feeds/bbc.jsonl#2"].endswith("its last good version stays in the warehouse")


def test_a_jsonl_file_refused_whole_keeps_its_records_rows(tmp_path):
    """A file that grew past its limit is refused, and its records keep their doc_ids in the
    scan (not accepted), so the plan keeps their last good rows instead of deleting them."""
    lines = [json.dumps({"id": str(n), "text": f"Article {n}."}) for n in range(3)]
    seeds = _seeds(tmp_path, {"f.jsonl": "\n".join(lines) + "\n"})
    first, _ = inventory.scan(seeds, 1 << 20)
    (seeds / "f.jsonl").write_text("\n".join(lines * 20) + "\n")
    second, refused = inventory.scan(seeds, 1 << 20, first, max_jsonl_bytes=200)
    assert [r.source_path for r in refused] == ["f.jsonl"]
    kept = second.filter(second["source_path"].str.starts_with("f.jsonl#"))
    assert sorted(kept["doc_id"]) == sorted(first.filter(first["accepted"])["doc_id"])
    assert not kept["accepted"].any()
    assert kept["reason"].str.contains("NEWS_MAX_JSONL_BYTES").all()
