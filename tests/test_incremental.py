"""Incremental, idempotent runs, each through a real Dagster run of the whole job.

One folder of small hand-written articles goes through a sequence of real runs: the first loads
it, an unchanged re-run must parse nothing and leave the warehouse file as it was, then files are
added, changed and deleted, and a killed run's leftovers appear. After each run the warehouse is
compared with the one before, table by table, row by row (ids and `ingested_at` included).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines.core import incremental, search, warehouse
from pipelines.core.ids import doc_id_for
from pipelines.core.store import Lake
from pipelines.core.tables import PRIMARY_KEYS
from tests.conftest import materialize_all
from tests.helpers import assert_same_tables, warehouse_tables

pytestmark = pytest.mark.slow

ARTICLES = {
    "world/argentina.txt": (
        "Argentina raises rates again\n\n"
        "The central bank of Argentina raised its main interest rate to 40 percent on Tuesday.\n"
        '"We will do whatever it takes to defend the peso," said Luis Caputo, the economy '
        "minister.\n"
        "Officials in Buenos Aires said inflation had reached 3.5 percent a month.\n"
    ),
    "business/ferries.txt": (
        "Ferry operator cuts routes\n\n"
        "Stena Line will stop sailing between Rosslare and Fishguard in March, the company "
        "said.\n"
        "Chief executive Niclas Martensson told the BBC that 120 jobs would go.\n"
    ),
    "tech/chips.txt": (
        "Chip maker opens plant\n\n"
        "Intel opened a 20 billion dollar factory in Ohio on Friday.\n"
        '"This is a great day for American manufacturing," said Pat Gelsinger.\n'
    ),
}
ADDED = {
    "sport/final.txt": (
        "Arsenal win the cup\n\n"
        "Arsenal beat Chelsea 2-1 at Wembley on Saturday to win the FA Cup.\n"
        '"The players were magnificent," said Mikel Arteta after the match.\n'
    ),
    "world/nested/japan.txt": (
        "Japan posts trade surplus\n\n"
        "Japan reported a trade surplus of 1.2 trillion yen in April, the finance ministry "
        "said in Tokyo.\n"
    ),
}
CHANGED = (
    "Ferry operator keeps routes\n\n"
    "Stena Line reversed its decision and will keep sailing from Rosslare, Irish officials "
    "said.\n"
    "Transport minister Eamon Ryan said the service mattered to Wexford.\n"
)
TABLES = PRIMARY_KEYS  # the contract tables and their keys


def write(seeds: Path, articles: dict[str, str]) -> None:
    for relative, text in articles.items():
        path = seeds / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def load_info(warehouse: Path) -> dict[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(con.execute("select key, value from load_info").fetchall())


def figures(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    """What the NLP step reported for the whole run: the `documents` materialisation's run
    figures (the same on every shard of the run), or its observation when nothing changed."""
    found: dict[str, object] = {}
    for event in result.all_events:
        if event.event_type_value not in ("ASSET_MATERIALIZATION", "ASSET_OBSERVATION"):
            continue
        data = event.event_specific_data
        record = getattr(data, "materialization", None) or data.asset_observation
        if record.asset_key.to_user_string() == "documents" and "shards" in record.metadata:
            found.update({k: v.value for k, v in record.metadata.items()})
    assert found, "no run figures for documents"
    return found


def shard_figures(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, object]]:
    """Per shard (partition of the NLP assets): what the run did there."""
    found = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_OBSERVATION":
            record = event.event_specific_data.asset_observation
            if record.partition is not None:
                found[record.partition] = {k: v.value for k, v in record.metadata.items()}
    return found


def materialised(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def rows_of(tables: dict[str, pl.DataFrame], doc_id: str) -> dict[str, int]:
    return {
        t: df.filter(pl.col("doc_id") == doc_id).height
        for t, df in tables.items()
        if t != "entities"
    }


def without(tables: dict[str, pl.DataFrame], doc_ids: set[str]) -> dict[str, pl.DataFrame]:
    """The tables without these documents' rows (entities are corpus-wide: left out)."""
    return {
        t: df.filter(~pl.col("doc_id").is_in(list(doc_ids)))
        for t, df in tables.items()
        if t != "entities"
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The folder, the data folder, and a way to run the job on them."""
    base = tmp_path_factory.mktemp("incremental")
    seeds, data = base / "seeds", base / "data"
    write(seeds, ARTICLES)
    mp = pytest.MonkeyPatch()
    mp.setenv("NEWS_BATCH_SIZE", "2")  # several parts, so that rewriting one is visible
    state: dict[str, object] = {}

    def run() -> dg.ExecuteInProcessResult:
        return materialize_all(seeds, data, mp)

    state.update(seeds=seeds, data=data, run=run, warehouse=data / "warehouse.duckdb")
    yield state
    mp.undo()


@pytest.fixture(scope="module")
def first(corpus):
    result = corpus["run"]()
    return {"result": result, "tables": warehouse_tables(corpus["warehouse"])}


def test_first_run_parses_every_file(corpus, first):
    assert figures(first["result"])["documents_parsed"] == len(ARTICLES)
    documents = first["tables"]["documents"]
    assert sorted(documents["source_path"]) == sorted(ARTICLES)
    assert documents["doc_id"].to_list() == sorted(doc_id_for(p) for p in ARTICLES)
    for table in TABLES:
        assert first["tables"][table].height > 0, table


def test_unchanged_rerun_parses_nothing_and_leaves_the_warehouse_file_alone(corpus, first):
    warehouse: Path = corpus["warehouse"]
    info, inode = load_info(warehouse), os.stat(warehouse).st_ino
    parquet = sorted(p.relative_to(corpus["data"]) for p in corpus["data"].rglob("*.parquet"))
    result = corpus["run"]()
    assert figures(result)["documents_parsed"] == 0
    assert not {"sentences", "entity_mentions", "claims", "entities", "warehouse"} & materialised(
        result
    )
    # the very same file: not rebuilt and swapped in, so not even its build time moved
    assert os.stat(warehouse).st_ino == inode
    assert load_info(warehouse) == info
    assert_same_tables(warehouse_tables(warehouse), first["tables"])
    after = sorted(p.relative_to(corpus["data"]) for p in corpus["data"].rglob("*.parquet"))
    assert after == parquet


@pytest.fixture(scope="module")
def added(corpus, first):
    write(corpus["seeds"], ADDED)
    result = corpus["run"]()
    return {"result": result, "tables": warehouse_tables(corpus["warehouse"])}


def test_added_files_are_the_only_ones_parsed(corpus, first, added):
    assert figures(added["result"])["documents_parsed"] == len(ADDED)
    assert "warehouse" in materialised(added["result"])
    new_ids = {doc_id_for(p) for p in ADDED}
    # the shards (partitions) that did work say so, each with its own figures
    by_shard = shard_figures(added["result"])
    assert set(by_shard) == {incremental.shard_of(d) for d in new_ids}
    assert sum(f["documents_parsed"] for f in by_shard.values()) == len(ADDED)
    tables = added["tables"]
    assert set(tables["documents"]["doc_id"]) == {doc_id_for(p) for p in [*ARTICLES, *ADDED]}
    for doc_id in new_ids:
        assert all(rows_of(tables, doc_id).values()), rows_of(tables, doc_id)
    # the old documents' rows are exactly as they were: ids, spans and ingested_at
    assert_same_tables(without(tables, new_ids), without(first["tables"], set()))
    japan = tables["entities"].filter(pl.col("name") == "Japan")
    assert japan["n_documents"].to_list() == [1]
    assert "Japan" not in set(first["tables"]["entities"]["name"])


@pytest.fixture(scope="module")
def changed(corpus, added):
    (corpus["seeds"] / "business/ferries.txt").write_text(CHANGED, encoding="utf-8")
    result = corpus["run"]()
    return {"result": result, "tables": warehouse_tables(corpus["warehouse"])}


def test_a_changed_file_replaces_its_rows_everywhere(corpus, added, changed):
    assert figures(changed["result"])["documents_parsed"] == 1
    doc_id = doc_id_for("business/ferries.txt")
    before, after = added["tables"], changed["tables"]
    [document] = after["documents"].filter(pl.col("doc_id") == doc_id).to_dicts()
    assert document["text"] == CHANGED and document["title"] == "Ferry operator keeps routes"
    [old] = before["documents"].filter(pl.col("doc_id") == doc_id).to_dicts()
    assert document["ingested_at"] > old["ingested_at"]  # new content, newly loaded
    sentences = after["sentences"].filter(pl.col("doc_id") == doc_id)
    assert sentences["text"].to_list()[0] == "Ferry operator keeps routes"
    assert not any("Fishguard" in t for t in sentences["text"])
    mentions = set(after["entity_mentions"].filter(pl.col("doc_id") == doc_id)["text"])
    old_mentions = set(before["entity_mentions"].filter(pl.col("doc_id") == doc_id)["text"])
    assert {"Niclas Martensson", "Fishguard"} <= old_mentions
    assert "Eamon Ryan" in mentions and not {"Niclas Martensson", "Fishguard"} & mentions
    assert "Fishguard" in set(before["entities"]["name"])
    assert "Fishguard" not in set(after["entities"]["name"])
    old_claims = before["claims"].filter(pl.col("doc_id") == doc_id)
    claims = after["claims"].filter(pl.col("doc_id") == doc_id)
    assert "120 jobs" in set(old_claims["text"]) and "120 jobs" not in set(claims["text"])
    # nothing of any other document moved
    assert_same_tables(without(after, {doc_id}), without(before, {doc_id}))


def test_the_search_index_after_incremental_loads_equals_a_clean_build(corpus, changed, tmp_path):
    """Added and changed files were loaded incrementally, each load re-indexing only its
    documents: the index is the one a full load of the same lake builds."""
    with duckdb.connect(str(corpus["warehouse"]), read_only=True) as con:
        assert con.execute("select value from load_info where key = 'load'").fetchone() == (
            "incremental",
        )
    clean = tmp_path / "clean.duckdb"
    assert warehouse.build(Lake(str(corpus["data"] / "lake")), clean, full=True).mode == "full"

    def index(path: Path) -> dict[str, list[tuple]]:
        with duckdb.connect(str(path), read_only=True) as con:
            return {
                t: con.execute(f"select * from {t} order by all").fetchall()
                for t in search.INDEX_TABLES
            }

    got, want = index(corpus["warehouse"]), index(clean)
    assert want["search_sentence_postings"] and want["search_claim_postings"]
    assert got == want
    edited = doc_id_for("business/ferries.txt")  # its new words are in, its old ones out
    assert {"fishguard", "eamon"} & {r[0] for r in got["search_vocabulary"]} == {"eamon"}
    assert any(r[1] == edited for r in got["search_sentence_rows"])


@pytest.fixture(scope="module")
def deleted(corpus, changed):
    (corpus["seeds"] / "tech/chips.txt").unlink()
    result = corpus["run"]()
    return {"result": result, "tables": warehouse_tables(corpus["warehouse"])}


def test_a_deleted_file_leaves_the_warehouse(corpus, changed, deleted):
    doc_id = doc_id_for("tech/chips.txt")
    assert figures(deleted["result"])["documents_parsed"] == 0
    assert figures(deleted["result"])["documents_removed"] == 1
    tables = deleted["tables"]
    assert rows_of(changed["tables"], doc_id)["claims"] > 0
    assert not any(rows_of(tables, doc_id).values())
    assert not {"Intel", "Pat Gelsinger", "Ohio"} & set(tables["entities"]["name"])
    assert_same_tables(without(tables, set()), without(changed["tables"], {doc_id}))
    lake = Lake(str(corpus["data"] / "lake"))
    assert doc_id not in incremental.committed_documents(lake)
    for table in incremental.DOC_TABLES:
        assert lake.read(table).filter(pl.col("doc_id") == doc_id).is_empty(), table


def test_a_file_no_commit_lists_is_never_read(corpus, deleted):
    """What a run killed between writing a table's file and committing it leaves: a whole
    Parquet file in the table's folder (here a copy of a committed one, so its rows would double
    up if a glob read it). The log does not list it, so no reader sees it."""
    lake = Lake(str(corpus["data"] / "lake"))
    leftovers = []
    for table in incremental.DOC_TABLES:
        [source, *_] = lake.files(table)
        leftover = Path(source).with_name("part-00000-killed-run-c000.zstd.parquet")
        shutil.copy(source, leftover)
        leftovers.append(leftover)
    result = corpus["run"]()
    assert figures(result)["documents_parsed"] == 0
    assert all(path.exists() for path in leftovers)  # vacuum takes it after the retention
    assert not {str(p) for p in leftovers} & {
        f for t in incremental.DOC_TABLES for f in lake.files(t)
    }
    assert_same_tables(warehouse_tables(corpus["warehouse"]), deleted["tables"])


def test_a_batch_killed_before_its_commit_point_is_parsed_again(corpus, deleted):
    """A run killed after a batch's `documents` and NLP commits but before its commit point
    (`committed_documents`) leaves those documents to the next run, which parses them again and
    leaves the same rows."""
    lake = Lake(str(corpus["data"] / "lake"))
    doc_id = doc_id_for("world/argentina.txt")
    lake.delete(incremental.COMMITTED, f"doc_id = '{doc_id}'")
    result = corpus["run"]()
    assert figures(result)["documents_parsed"] == 1
    assert doc_id in incremental.committed_documents(lake)
    assert_same_tables(warehouse_tables(corpus["warehouse"]), deleted["tables"])


def test_the_lake_reads_the_same_in_polars_deltalake_and_duckdb(corpus, deleted):
    """Any Delta reader sees the tables the warehouse was loaded from: Polars' `scan_delta`,
    `deltalake` itself, and DuckDB over the files the log lists."""
    from deltalake import DeltaTable

    lake = Lake(str(corpus["data"] / "lake"))
    tables = warehouse_tables(corpus["warehouse"])
    for table, key in (("documents", "doc_id"), ("sentences", "sentence_id")):
        uri = str(corpus["data"] / "lake" / table)
        by_polars = pl.read_delta(uri).sort(key)
        by_deltalake = pl.from_arrow(DeltaTable(uri).to_pyarrow_table()).sort(key)
        files = DeltaTable(uri).file_uris()
        with duckdb.connect() as con:
            by_duckdb = pl.from_arrow(
                con.sql(f"select * from read_parquet({files!r}) order by {key}").to_arrow_table()
            )
        expected = tables[table]
        for frame in (by_polars, by_deltalake, by_duckdb):
            assert frame.select(expected.columns).cast(dict(expected.schema)).equals(expected)
        assert lake.read(table).sort(key).equals(expected)


def test_one_shard_can_be_run_again_on_its_own(corpus, deleted):
    """The UI's "materialise partition X" of `documents`, with `force`: that shard's documents
    are parsed again (same ids, same ingested_at, same rows), no other shard is touched."""
    from pipelines.definitions import defs

    lake = Lake(str(corpus["data"] / "lake"))
    state = lake.read(incremental.COMMITTED).with_columns(shard=pl.col("doc_id").str.slice(1, 1))
    shard = state["shard"].sort()[0]
    others = state.filter(pl.col("shard") != shard).sort("doc_id")
    before = warehouse_tables(corpus["warehouse"])
    job = defs.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        partition_key=shard,
        asset_selection=[
            dg.AssetKey(k)
            for k in ("documents", "sentences", "document_mentions", "document_claims")
        ],
        run_config={"ops": {"annotate_documents": {"config": {"force": True}}}},
    )
    assert result.success
    redone = state.filter(pl.col("shard") == shard).height
    assert figures(result)["documents_parsed"] == redone
    assert figures(result)["shards"] == shard
    assert shard_figures(result)[shard]["documents_parsed"] == redone
    after = lake.read(incremental.COMMITTED).with_columns(shard=pl.col("doc_id").str.slice(1, 1))
    redone_rows = after.filter(pl.col("shard") == shard)
    old_rows = state.filter(pl.col("shard") == shard)
    assert redone_rows["committed_at"].min() > old_rows["committed_at"].max()  # committed again
    assert after.filter(pl.col("shard") != shard).sort("doc_id").equals(others)
    # the run above did not load the warehouse; the next scheduled run does, with the same rows
    corpus["run"]()
    assert_same_tables(warehouse_tables(corpus["warehouse"]), before)


def test_time_travel_reads_the_lake_as_it_was(corpus, deleted, capsys, monkeypatch):
    """`newsetl sql --as-of` queries the lake at an earlier version: before the deleted file's
    rows left, its document is there."""
    from pipelines import cli

    monkeypatch.setenv("NEWS_DATA_DIR", str(corpus["data"]))
    lake = Lake(str(corpus["data"] / "lake"))
    doc_id = doc_id_for("tech/chips.txt")
    point = lake.table(incremental.COMMITTED)
    [removed_at] = [
        c["version"]
        for c in point.history()
        if c["operation"] == "DELETE" and doc_id in c["operationParameters"]["predicate"]
    ]
    query = f"select count(*) from documents where doc_id = '{doc_id}'"
    assert cli.main(["sql", "--as-of", str(removed_at - 1), query]) == 0
    assert capsys.readouterr().out.splitlines()[2].strip() == "1"
    assert cli.main(["sql", "--as-of", str(removed_at), query]) == 0
    assert capsys.readouterr().out.splitlines()[2].strip() == "0"
    assert cli.main(["sql", "--as-of", "999999", query]) == 1


def test_the_old_parquet_variable_stops_the_run_naming_the_new_one(monkeypatch):
    from pipelines.core.settings import Settings, SettingsError

    monkeypatch.setenv("NEWS_PARQUET_URL", "/somewhere/parquet")
    with pytest.raises(SettingsError, match="NEWS_LAKE_URL"):
        Settings.from_env()


def test_a_store_of_the_parquet_layout_moves_to_the_lake_without_parsing_again(
    tmp_path, monkeypatch
):
    """Data written by the earlier layout (`<data>/parquet/`: part files per shard, listed by
    `_manifest-<shard>.json`; one file per whole table) is moved into the lake on the first run:
    nothing is parsed again, no row changes, and a part no manifest lists is left behind."""
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    write(seeds, ARTICLES)
    materialize_all(seeds, data, monkeypatch)
    warehouse = data / "warehouse.duckdb"
    before = warehouse_tables(warehouse)
    lake = Lake(str(data / "lake"))
    old = data / "parquet"
    manifests: dict[str, dict] = {}
    for table in incremental.DOC_TABLES:
        rows = lake.read(table).with_columns(shard=pl.col("doc_id").str.slice(1, 1))
        for (shard,), part in rows.group_by("shard"):
            (old / table).mkdir(parents=True, exist_ok=True)
            part.drop("shard").write_parquet(old / table / f"part-{shard}-0123abcd.parquet")
        # what a killed run of that layout left: a part no manifest lists
        rows.drop("shard").write_parquet(old / table / "part-0-ffffffff.parquet")
    for doc_id, sha in lake.read("documents").select("doc_id", "content_sha256").iter_rows():
        shard = incremental.shard_of(doc_id)
        manifests.setdefault(shard, {}).setdefault(f"part-{shard}-0123abcd", {})[doc_id] = sha
    for shard, parts in manifests.items():
        (old / f"_manifest-{shard}.json").write_text(
            json.dumps({"version": 2, "shard": shard, "parts": parts})
        )
    for table in ("source_files", "rejected_files", "entities", "entity_mentions", "claims"):
        (old / table).mkdir(parents=True, exist_ok=True)
        lake.read(table).write_parquet(old / table / f"{table}.parquet")
    shutil.rmtree(data / "lake")
    result = materialize_all(seeds, data, monkeypatch)
    assert figures(result)["documents_parsed"] == 0
    assert not old.exists() and (data / "parquet.moved-to-lake").is_dir()
    assert incremental.committed_documents(lake) == {doc_id_for(p) for p in ARTICLES}
    assert_same_tables(warehouse_tables(warehouse), before)
