"""The lake's storage layer on real Delta tables (no pipeline run): one commit per write, rows
replaced whole, retention, and what the corpus step and metadata updates commit."""

from __future__ import annotations

import threading
from datetime import datetime

import duckdb
import polars as pl
import pytest

from pipelines.core import corpus_entities, incremental, warehouse
from pipelines.core.store import Lake, in_predicate
from pipelines.core.tables import polars_schema
from tests.helpers import snapshot

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


def _article(doc_id: str, names: list[tuple]) -> dict[str, pl.DataFrame]:
    """One document's rows as the parse step commits them: a sentence, a mention per (name,
    label source[, label[, country]]) (a PERSON unless said), and a quote by the first name."""
    from pipelines.core.ids import entity_id_for, name_key

    sentence = f"{doc_id}-s0000"
    sentences = pl.DataFrame(
        [(sentence, doc_id, 0, 0, 0, 10, "x", False)],
        schema=polars_schema("sentences"),
        orient="row",
    )
    mentions = pl.DataFrame(
        [
            (
                f"{doc_id}-m{i}",
                doc_id,
                sentence,
                entity_id_for(name_key(n), label[0] if label else "PERSON"),
                n,
                label[0] if label else "PERSON",
                label[0] if label else "PERSON",
                0,
                1,
                n,
                label[1] if len(label) > 1 else None,
                source,
            )
            for i, (n, source, *label) in enumerate(names)
        ],
        schema=polars_schema("document_mentions"),
        orient="row",
    )
    claims = pl.DataFrame(
        {"claim_id": [f"{doc_id}-c0"], "doc_id": [doc_id], "sentence_id": [sentence]}
    ).with_columns(
        claim_type=pl.lit("direct_quote"),
        text=pl.lit("x"),
        char_start=pl.lit(0, pl.Int32),
        char_end=pl.lit(1, pl.Int32),
        speaker=pl.lit(names[0][0]),
        speaker_entity_id=pl.lit(mentions["entity_id"][0]),
    )
    claims = claims.with_columns(
        pl.lit(None, dtype).alias(c)
        for c, dtype in polars_schema("claims").items()
        if c not in claims.columns
    ).select(polars_schema("claims").names())
    return {
        "documents": _documents(doc_id).with_columns(n_sentences=pl.lit(1, pl.Int32)),
        "sentences": sentences,
        "document_mentions": mentions,
        "document_claims": claims,
    }


def _commit(lake: Lake, articles: dict[str, list[tuple]], replaced: set[str] = frozenset()) -> None:
    rows = [_article(d, names) for d, names in articles.items()]
    tables = {t: pl.concat([r[t] for r in rows]) for t in rows[0]}
    incremental.commit_batch(lake, tables.pop("documents"), tables, set(replaced))


def _corpus(lake: Lake) -> dict[str, list[tuple]]:
    return {
        t: sorted(lake.read(t).rows())
        for t in ("entities", "entity_mentions", "claims", "entity_links")
    }


ARTICLES = {
    "d1": [("Tony Blair", "evidence"), ("Gordon Brown", "evidence")],
    "d3": [("Blair", "evidence")],  # "Mr Blair said": which Blair?
}


def test_the_corpus_step_links_the_changed_documents_and_gives_a_clean_runs_tables(tmp_path):
    """A document added, then removed, makes the corpus name "Blair" in the unchanged d3 Tony
    Blair, then nobody: d3 is relinked each time (its decision moved), d1 is not read again,
    and the lake holds what one corpus step over the same documents gives on a fresh lake."""
    lake = Lake(str(tmp_path / "lake"))
    _commit(lake, ARTICLES)
    first = incremental.relink_corpus(lake, corpus_entities)
    assert (first.linked, first.relinked, first.decisions) == (2, 0, 0)
    alone = lake.read("entity_mentions").filter(pl.col("doc_id") == "d3")["entity_name"]
    assert alone.to_list() == ["Blair"]

    _commit(lake, {"d2": [("Tony Blair", "evidence")]})  # a second full "Tony Blair"
    second = incremental.relink_corpus(lake, corpus_entities)
    assert (second.linked, second.relinked, second.decisions) == (1, 1, 1)
    assert second.replaced == {"entity_mentions": 2, "claims": 2}  # d2 and d3, not d1
    speaker = lake.read("claims").filter(pl.col("doc_id") == "d3")["speaker"]
    assert speaker.to_list() == ["Tony Blair"]
    clean = Lake(str(tmp_path / "clean"))
    _commit(clean, {**ARTICLES, "d2": [("Tony Blair", "evidence")]})
    incremental.relink_corpus(clean, corpus_entities)
    assert _corpus(lake) == _corpus(clean)

    unchanged = {t: lake.version(t) for t in ("entity_mentions", "claims", "entities")}
    again = incremental.relink_corpus(
        lake, corpus_entities
    )  # nothing new: nothing linked, nothing committed
    assert (again.linked, again.relinked) == (0, 0)
    assert {t: lake.version(t) for t in unchanged} == unchanged

    incremental.remove_documents(lake, {"d2"})
    third = incremental.relink_corpus(lake, corpus_entities)
    assert (third.linked, third.relinked, third.removed, third.decisions) == (0, 1, 1, 0)
    fresh = Lake(str(tmp_path / "fresh"))
    _commit(fresh, ARTICLES)
    incremental.relink_corpus(fresh, corpus_entities)
    assert _corpus(lake) == _corpus(fresh)


def test_a_load_replaces_the_documents_whose_rows_moved_not_every_one_of_a_rewritten_file(
    tmp_path,
):
    """Delta replaces files, not rows: relinking d3 after d2 arrives rewrites the mentions file
    d3 shares with d1, whose rows stay as they were. The incremental load replaces the rows of
    d2 and d3 only (it says 2 documents changed, not all 3 of the rewritten file) and leaves the
    warehouse a full load of the same lake builds."""
    lake = Lake(str(tmp_path / "lake"))
    _commit(lake, ARTICLES)
    incremental.relink_corpus(lake, corpus_entities)
    path = tmp_path / "warehouse.duckdb"
    assert warehouse.build(lake, path).mode == "full"
    [shared] = lake.files("entity_mentions")  # d1's and d3's mentions

    _commit(lake, {"d2": [("Tony Blair", "evidence")]})
    assert incremental.relink_corpus(lake, corpus_entities).relinked == 1  # d3
    assert shared not in lake.files("entity_mentions")  # rewritten, d1's rows and all
    report = warehouse.build(lake, path)
    assert (report.mode, report.changed_documents) == ("incremental", 2)
    clean = tmp_path / "clean.duckdb"
    assert warehouse.build(lake, clean, full=True).mode == "full"
    assert snapshot(path) == snapshot(clean)
    with duckdb.connect(str(path), read_only=True) as con:
        relinked = con.execute("select entity_name from entity_mentions where doc_id = 'd3'")
        assert relinked.fetchall() == [("Tony Blair",)]


# What the corpus step keeps besides its tables: compared with a clean step's too.
MERGE_STATE = ("document_entities", "entity_names", "entity_counts")


def _merge_state(lake: Lake) -> dict[str, list[tuple]]:
    return {**_corpus(lake), **{t: sorted(lake.read(t).rows()) for t in MERGE_STATE}}


BASE = {
    "a1": [("Yukos", "model"), ("Tony Blair", "evidence"), ("Gordon Brown", "evidence")],
    "a2": [("Yukos", "evidence", "ORG"), ("Moscow", "evidence", "GPE", "RU")],
    "a3": [("Blair", "evidence"), ("Gordon Brown", "evidence")],
    "a4": [("Tony Blair", "evidence"), ("Gordon Brown", "evidence")],
    "a5": [("Brown", "evidence"), ("Arsenal", "evidence", "ORG")],  # a match report
    "a6": [
        ("Jordan", "model"),
        ("Moscow", "evidence", "GPE", "RU"),
        ("Martin O'Neill", "evidence"),
    ],
}


def test_an_incremental_merge_gives_what_a_clean_merge_of_the_same_documents_gives(tmp_path):
    """The corpus step decides again only what its changed documents touch; after each change
    (evidence added that flips an unchanged document's label, a document edited so that one
    surname stops joining and another starts, a document removed, nothing at all) the lake
    holds what one whole merge of the same documents gives on a new lake: tables, decisions
    and the step's own state."""
    lake = Lake(str(tmp_path / "lake"))
    current = dict(BASE)
    _commit(lake, current)
    first = incremental.relink_corpus(lake, corpus_entities)
    assert first.whole and first.decided == 6
    blair = lake.read("entity_mentions").filter(pl.col("doc_id") == "a3")
    assert sorted(blair["entity_name"]) == ["Gordon Brown", "Tony Blair"]  # two Tony Blairs

    def step(name: str, change) -> incremental.CorpusReport:
        change()
        report = incremental.relink_corpus(lake, corpus_entities)
        clean = Lake(str(tmp_path / name))
        _commit(clean, current)
        assert incremental.relink_corpus(clean, corpus_entities).whole
        assert _merge_state(lake) == _merge_state(clean), name
        assert not report.whole, name
        # what the next step starts from: the commit point it linked, the corpus's size
        read = incremental.recorded_inputs(lake, [incremental.MERGE_READ])[incremental.MERGE_READ]
        assert read[incremental.COMMITTED] == lake.version(incremental.COMMITTED), name
        entity_documents = lake.read(incremental.DOC_ENTITIES)["doc_id"].n_unique()
        assert read[incremental.ENTITY_DOCUMENTS] == entity_documents, name
        return report

    def label(doc: str, name: str) -> str:
        rows = lake.read("entity_mentions").filter(
            (pl.col("doc_id") == doc) & (pl.col("text") == name)
        )
        return rows["label"].item()

    assert label("a1", "Yukos") == "PERSON"  # one document's evidence overrules nobody

    def add() -> None:  # a second document's evidence: "Yukos" is a company, in a1 too
        current["a7"] = [("Yukos", "evidence", "ORG")]
        _commit(lake, {"a7": current["a7"]})

    added = step("added", add)
    assert label("a1", "Yukos") == "ORG"
    assert (added.linked, added.relinked) == (1, 1)  # a7, and a1 relinked (not read: a2-a6)
    # decided again: a7, the others naming "Yukos" (a1, a2), those naming a surname the corpus
    # joins to a full name (a3, a5: their company and the corpus's size moved); not a4, a6
    assert added.decided == 5

    def edit() -> None:  # a4 no longer names Tony Blair, and names Gordon Brown with Arsenal
        current["a4"] = [
            ("Gordon Brown", "evidence"),
            ("Arsenal", "evidence", "ORG"),
            ("Martin O'Neill", "evidence"),  # a quote in a name the step's predicates name
        ]
        _commit(lake, {"a4": current["a4"]}, replaced={"a4"})

    edited = step("edited", edit)
    mentions = lake.read("entity_mentions")
    assert "Blair" in mentions.filter(pl.col("doc_id") == "a3")["entity_name"].to_list()
    assert "Gordon Brown" in mentions.filter(pl.col("doc_id") == "a5")["entity_name"].to_list()
    assert edited.linked == 1 and edited.relinked == 2  # a4; a3 and a5 moved

    def remove() -> None:  # a7 gone: a1's "Yukos" is the model's person again
        del current["a7"]
        incremental.remove_documents(lake, {"a7"})

    removed = step("removed", remove)
    assert label("a1", "Yukos") == "PERSON"
    assert (removed.removed, removed.relinked) == (1, 1)

    versions = lake.versions(["entities", "entity_mentions", *MERGE_STATE])
    again = step("again", lambda: None)
    assert (again.decided, again.linked, again.relinked) == (0, 0, 0)
    assert lake.versions(versions) == versions  # nothing decided, nothing committed


def test_a_killed_corpus_step_is_merged_whole_by_the_next(tmp_path):
    """The step's state moved without its record (a step killed after some of its commits):
    the next step merges the corpus whole, and leaves what a clean step leaves."""
    lake = Lake(str(tmp_path / "lake"))
    _commit(lake, BASE)
    incremental.relink_corpus(lake, corpus_entities)
    _commit(lake, {"a7": [("Yukos", "evidence", "ORG")]})
    rows = lake.read("document_entities").filter(pl.col("doc_id") != "a2")
    lake.overwrite("document_entities", rows)  # as if killed midway through its state
    report = incremental.relink_corpus(lake, corpus_entities)
    assert report.whole
    clean = Lake(str(tmp_path / "clean"))
    _commit(clean, {**BASE, "a7": [("Yukos", "evidence", "ORG")]})
    incremental.relink_corpus(clean, corpus_entities)
    assert _merge_state(lake) == _merge_state(clean)
    # a step that finds another run's commits among its state's (a step on another machine,
    # which may have read the state before its own) records nothing: the next one is whole
    started = lake.versions(incremental.MERGE_STATE)
    links = lake.read("entity_links")
    lake.overwrite("entity_links", links, {"run": "ours"})
    assert incremental._only_ours(lake, started, "ours")
    lake.overwrite("entity_links", links, {"run": "theirs"})
    assert not incremental._only_ours(lake, started, "ours")


def test_an_overwrite_started_before_another_writers_commit_replaces_the_whole_table(
    tmp_path, monkeypatch
):
    """A whole-table overwrite that began on a version another writer has since added rows to
    must not leave those rows beside its own (delta-rs, left to rebase it, removes only the files
    of the version it started from: duplicate keys, seen with two machines on one S3 lake)."""
    from deltalake import DeltaTable

    lake = Lake(str(tmp_path / "lake"))
    table = "linked_documents"

    def rows(*ids: str) -> pl.DataFrame:
        return pl.DataFrame(
            {"doc_id": list(ids), "committed_at": [datetime(2026, 1, 1)] * len(ids)}
        )

    lake.create(table)  # empty: a first run, where nothing the other writer removes is shared
    started = DeltaTable(lake.uri(table))  # this writer's view, before the other one commits
    lake.overwrite(table, rows("a", "b"))  # the other writer
    latest = Lake.create
    handed = []

    def create(self, name):  # the first attempt writes on the version it started from
        handed.append(name)
        return started if len(handed) == 1 else latest(self, name)

    monkeypatch.setattr(Lake, "create", create)
    lake.overwrite(table, rows("a", "c"))
    assert len(handed) == 2  # the stale attempt failed and was made again on the latest version
    assert sorted(lake.read(table)["doc_id"].to_list()) == ["a", "c"]


def test_a_read_by_documents_reads_only_the_files_holding_them_and_what_delta_reads(tmp_path):
    """Six files whose doc_id ranges all overlap (as a run's batches leave them), then rows
    replaced and deleted: a read by doc ids gives exactly the Delta reader's rows at every
    version, and `document_files` names exactly the files that hold the ids."""
    lake = Lake(str(tmp_path / "lake"))
    table = incremental.COMMITTED
    ids = [f"d{i:03d}" for i in range(60)]
    for part in range(6):  # d000, d006, ... in one file; d001, d007, ... in the next
        lake.append(table, committed(*[(d, "1") for d in ids[part::6]]))
    first = lake.version(table)
    lake.replace(table, in_predicate("doc_id", ["d007", "d013"]), committed(("d007", "2")))
    lake.delete(table, in_predicate("doc_id", ["d020"]))
    lake.append(table, committed(("d999", "3")))

    def delta_reader(version: int | None, wanted: list[str]) -> pl.DataFrame:
        rows = pl.read_delta(lake.uri(table), version=version)
        return rows.filter(pl.col("doc_id").is_in(wanted)).sort("doc_id")

    for version in (first, None):
        for wanted in ([], ["d007"], ["d013", "d020", "nope"], ["d999", "d000", "d059"], ids):
            rows = lake.read(table, doc_ids=wanted, version=version).sort("doc_id")
            assert rows.equals(delta_reader(version, wanted)), (version, wanted)
    by_file = {f: set(pl.read_parquet(f)["doc_id"]) for f in lake.files(table)}
    for wanted in (["d007"], ["d001", "d002"], ["d020"], ["d999", "d013"]):
        holding = sorted(f for f, held in by_file.items() if held & set(wanted))
        assert lake.document_files(table, wanted) == holding, wanted
    assert len(lake.document_files(table, ["d002"])) == 1  # of 7 files, all spanning d002


def test_the_commit_points_changes_since_the_last_link_come_from_the_files_its_log_moved(
    tmp_path,
):
    """What the corpus step must link (new or changed documents) and drop (gone ones) since the
    commit point's version it recorded, from the files the commits since added and removed,
    equals the two versions compared whole, through a replace, a delete, an append and a
    compaction; once that version's files are vacuumed, the step compares whole (None)."""
    lake = Lake(str(tmp_path / "lake"))
    table = incremental.COMMITTED
    for part in ("ab", "cd", "ef"):
        lake.append(table, committed(*[(f"d{c}", "1") for c in part]))
    since = lake.version(table)
    arrived, gone = incremental.commit_point_changes(lake, since, since)
    assert arrived.is_empty() and arrived.columns == ["doc_id", "committed_at"] and not gone
    later = datetime(2026, 12, 2)
    changed = committed(("db", "2")).with_columns(committed_at=pl.lit(later))
    lake.replace(table, in_predicate("doc_id", ["db"]), changed)
    lake.delete(table, in_predicate("doc_id", ["dc"]))
    lake.append(table, committed(("dz", "1")))
    lake.compact(table)
    point = lake.version(table)

    def whole(version: int) -> pl.DataFrame:
        return lake.read(table, ["doc_id", "committed_at"], version=version)

    arrived, gone = incremental.commit_point_changes(lake, since, point)
    expected = whole(point).join(whole(since), on=["doc_id", "committed_at"], how="anti")
    assert arrived.sort("doc_id").equals(expected.sort("doc_id"))
    assert sorted(arrived["doc_id"]) == ["db", "dz"]  # the replaced one, the added one
    assert gone == {"dc"}
    assert incremental.commit_point_changes(lake, None, point) is None  # nothing recorded
    Lake(lake.root, retention_hours=0).vacuum(table)
    assert incremental.commit_point_changes(lake, point + 1, point) is None  # a later one
    assert incremental.commit_point_changes(lake, since, point) is None


def test_a_table_keeps_a_checkpoint_every_ten_commits_and_reads_as_before(tmp_path):
    """Opening a table reads its last checkpoint and the commits after it, not its whole log;
    what a version holds, a read by documents (the log's statistics, now in the checkpoint)
    and the files changed between two versions are as the commits made them."""
    lake = Lake(str(tmp_path / "lake"))
    table = incremental.COMMITTED
    for n in range(25):
        lake.append(table, committed((f"d{n:03d}", "1")))
    log = tmp_path / "lake" / table / "_delta_log"
    checkpoints = sorted(p.name for p in log.glob("*.checkpoint.parquet"))
    assert len(checkpoints) == 2 and (log / "_last_checkpoint").is_file(), checkpoints
    assert lake.read(table, version=4)["doc_id"].sort().to_list() == [f"d{n:03d}" for n in range(4)]
    assert lake.read(table, doc_ids=["d017", "nope"])["doc_id"].to_list() == ["d017"]
    assert len(lake.document_files(table, ["d017"])) == 1  # the statistics say which file
    diff = lake.changed_files(table, 4, None)
    assert diff is not None and len(diff.added) == 21 and not diff.removed


def test_a_table_made_before_checkpoints_were_kept_gets_its_interval_on_its_next_write(tmp_path):
    from deltalake import DeltaTable

    from pipelines.core.store import CHECKPOINT_KEY
    from pipelines.core.tables import SCHEMAS

    lake = Lake(str(tmp_path / "lake"))
    table = incremental.COMMITTED
    DeltaTable.create(lake.uri(table), schema=SCHEMAS[table])  # as an earlier lake made it
    assert CHECKPOINT_KEY not in lake.table(table).metadata().configuration
    lake.append(table, committed(("da", "1")))
    assert lake.table(table).metadata().configuration[CHECKPOINT_KEY] == "10"
    for n in range(10):
        lake.append(table, committed((f"d{n:03d}", "1")))
    assert list((tmp_path / "lake" / table / "_delta_log").glob("*.checkpoint.parquet"))
    assert lake.read(table).height == 11


def test_a_kept_handle_sees_other_writers_commits_and_a_removed_table_is_gone(tmp_path):
    """`Lake.table` keeps the latest version's handle and brings it up to date: what another
    writer committed meanwhile is read, and a table removed under it is not there any more
    (nor are its rows, once it is made again)."""
    import shutil

    ours, theirs = Lake(str(tmp_path / "lake")), Lake(str(tmp_path / "lake"))
    table = incremental.COMMITTED
    ours.append(table, committed(("da", "1")))
    assert ours.table(table) is ours.table(table)  # kept
    theirs.append(table, committed(("db", "1")))
    assert sorted(ours.read(table)["doc_id"]) == ["da", "db"]
    assert ours.read(table, version=0).is_empty()  # an older version is its own handle
    assert ours.version(table) == 2
    shutil.rmtree(tmp_path / "lake" / table)
    assert ours.table(table) is None
    theirs.append(table, committed(("dc", "1")))
    assert ours.read(table)["doc_id"].to_list() == ["dc"]
