"""The lake's storage layer on real Delta tables (no pipeline run): one commit per write, rows
replaced whole, retention, and what the corpus step and metadata updates commit."""

from __future__ import annotations

import threading
from datetime import datetime

import polars as pl
import pytest

from pipelines.core import incremental
from pipelines.core.store import Lake, in_predicate
from pipelines.core.tables import polars_schema

NOW = datetime(2026, 12, 1, 7, 0)


def committed(*pairs: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [(d, sha, NOW) for d, sha in pairs],
        schema=polars_schema("committed_documents"),
        orient="row",
    )


def test_replace_swaps_rows_in_one_commit_and_old_versions_stay_readable(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    first = lake.append(incremental.COMMITTED, committed(("da", "1"), ("db", "1")))
    second = lake.replace(
        incremental.COMMITTED, in_predicate("doc_id", ["da"]), committed(("da", "2"))
    )
    assert second == first + 1  # one version for the delete and the add together
    now = lake.read(incremental.COMMITTED).sort("doc_id")
    assert now.select("doc_id", "content_sha256").rows() == [("da", "2"), ("db", "1")]
    before = lake.read(incremental.COMMITTED, version=first).sort("doc_id")
    assert before["content_sha256"].to_list() == ["1", "1"]
    with pytest.raises(Exception, match="validation"):  # new rows outside the predicate
        lake.replace(incremental.COMMITTED, in_predicate("doc_id", ["da"]), committed(("dz", "9")))
    assert lake.version(incremental.COMMITTED) == second  # and nothing was committed


def test_vacuum_keeps_what_the_retention_needs(tmp_path):
    kept = Lake(str(tmp_path / "lake"))
    kept.append(incremental.COMMITTED, committed(("da", "1")))
    kept.overwrite(incremental.COMMITTED, committed(("da", "2")))
    assert kept.vacuum(incremental.COMMITTED) == 0  # the old version's file is younger than 168 h
    assert kept.read(incremental.COMMITTED, version=1)["content_sha256"].to_list() == ["1"]
    gone = Lake(str(tmp_path / "lake"), retention_hours=0)
    assert gone.vacuum(incremental.COMMITTED) == 1
    assert gone.read(incremental.COMMITTED)["content_sha256"].to_list() == ["2"]


def test_concurrent_writers_to_one_table_all_commit(tmp_path):
    """Eight threads replacing their own documents' rows at once: delta-rs's conflict checks
    and `Lake._commit`'s retries leave every one of them committed, once."""
    lake = Lake(str(tmp_path / "lake"))
    lake.create(incremental.COMMITTED)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            for round_ in range(3):
                doc = f"d{i:x}"
                lake.replace(
                    incremental.COMMITTED, f"doc_id = '{doc}'", committed((doc, str(round_)))
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = lake.read(incremental.COMMITTED).sort("doc_id")
    assert rows["doc_id"].to_list() == [f"d{i:x}" for i in range(8)]
    assert set(rows["content_sha256"]) == {"2"}


def _documents(*ids: str, title: str = "t") -> pl.DataFrame:
    schema = polars_schema("documents")
    return pl.DataFrame(
        {
            "doc_id": list(ids),
            "source_path": [f"{d}.txt" for d in ids],
            "content_sha256": ["x"] * len(ids),
            "title": [title] * len(ids),
            "text": ["Some text."] * len(ids),
            "encoding": ["utf-8"] * len(ids),
            "n_chars": [10] * len(ids),
            "n_sentences": [1] * len(ids),
            "ingested_at": [NOW] * len(ids),
            "published_at": [None] * len(ids),
            "publisher": [None] * len(ids),
            "url": [None] * len(ids),
            "authors": [[]] * len(ids),
            "section": [None] * len(ids),
            "language": [None] * len(ids),
            "story_id": list(ids),
            "duplicate_of": [None] * len(ids),
        },
        schema=schema,
    )


def test_update_documents_touches_documents_only(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    lake.append("documents", _documents("da", "db"))
    sentences = lake.append("sentences", pl.DataFrame(schema=polars_schema("sentences")))
    incremental.update_documents(lake, _documents("da", "dz", title="new"))
    rows = lake.read("documents").sort("doc_id")
    assert rows.select("doc_id", "title").rows() == [("da", "new"), ("db", "t")]  # dz not added
    assert lake.version("sentences") == sentences


def test_the_corpus_step_commits_only_the_documents_whose_rows_differ(tmp_path):
    lake = Lake(str(tmp_path / "lake"))
    schema = polars_schema("entities")
    entities = pl.DataFrame(
        [("e1", "A", "ORG", None, 2, 2), ("e2", "B", "ORG", None, 1, 1)],
        schema=schema,
        orient="row",
    )
    mentions = pl.DataFrame(
        [
            ("da-m0", "da", "da-s0", "e1", "A", "ORG", "ORG", 0, 1, "A", None, "model"),
            ("db-m0", "db", "db-s0", "e1", "A", "ORG", "ORG", 0, 1, "A", None, "model"),
            ("dc-m0", "dc", "dc-s0", "e2", "B", "ORG", "ORG", 0, 1, "B", None, "model"),
        ],
        schema=polars_schema("entity_mentions"),
        orient="row",
    )
    incremental.commit_corpus_tables(
        lake, ("entities", "entity_id", entities), [("entity_mentions", mentions)]
    )
    # the corpus merges e2 into e1: only dc's mention changes, and e2 leaves after it
    relinked = mentions.with_columns(
        pl.when(pl.col("doc_id") == "dc")
        .then(pl.lit("e1"))
        .otherwise("entity_id")
        .alias("entity_id")
    )
    merged = entities.filter(pl.col("entity_id") == "e1").with_columns(
        n_mentions=pl.lit(3, pl.Int64)
    )
    before = lake.version("entity_mentions")
    replaced = incremental.commit_corpus_tables(
        lake, ("entities", "entity_id", merged), [("entity_mentions", relinked)]
    )
    assert replaced == {"entity_mentions": 1}
    assert lake.version("entity_mentions") == before + 1
    assert lake.read("entity_mentions").sort("mention_id").equals(relinked)
    assert lake.read("entities")["entity_id"].to_list() == ["e1"]
    # while the mentions were committed, e2 was still there for dc to point to
    history = [lake.read("entities", version=v)["entity_id"].sort().to_list() for v in (2, 3)]
    assert history == [["e1", "e2"], ["e1"]]
    assert incremental.commit_corpus_tables(
        lake, ("entities", "entity_id", merged), [("entity_mentions", relinked)]
    ) == {"entity_mentions": 0}
