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

from pipelines.core import incremental
from pipelines.core.ids import doc_id_for
from pipelines.core.store import ParquetStore
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
    store = ParquetStore(str(corpus["data"] / "parquet"))
    assert doc_id not in incremental.load_manifest(store).documents()


def test_a_killed_runs_leftover_part_is_removed(corpus, deleted):
    store = ParquetStore(str(corpus["data"] / "parquet"))
    committed = incremental.load_manifest(store)
    # what a run killed between writing a batch and committing it leaves: a whole part of every
    # table (here a copy of a committed one, so its rows would double up if read) and a temporary
    some_part = sorted(committed.parts)[0]
    shard = some_part.split("-")[1]
    leftovers = []
    for table in incremental.PART_TABLES:
        source = Path(store.table_dir(table)) / f"{some_part}.parquet"
        leftover = source.with_name(f"part-{shard}-0123456789abcdef.parquet")
        shutil.copy(source, leftover)
        temporary = source.with_name(f".part-{shard}-0123456789abcdef.5f2c.tmp")
        temporary.write_bytes(b"half a file")
        leftovers += [leftover, temporary]
    result = corpus["run"]()
    assert figures(result)["uncommitted_parts_removed"] == len(incremental.PART_TABLES)
    assert figures(result)["documents_parsed"] == 0
    assert not any(path.exists() for path in leftovers)
    assert_same_tables(warehouse_tables(corpus["warehouse"]), deleted["tables"])


def test_one_shard_can_be_run_again_on_its_own(corpus, deleted):
    """The UI's "materialise partition X" of `documents`, with `force`: that shard's documents
    are parsed again (same ids, same ingested_at, same rows), no other shard is touched."""
    from pipelines.definitions import defs

    store = ParquetStore(str(corpus["data"] / "parquet"))
    manifests = incremental.load_manifests(store)
    shard = next(s for s, m in sorted(manifests.items()) if m.n_documents())
    others = {s: m.parts for s, m in manifests.items() if s != shard}
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
    redone = manifests[shard].n_documents()
    assert figures(result)["documents_parsed"] == redone
    assert figures(result)["shards"] == shard
    assert shard_figures(result)[shard]["documents_parsed"] == redone
    after = incremental.load_manifests(store)
    assert after[shard].parts != manifests[shard].parts  # new parts were written
    assert {s: m.parts for s, m in after.items() if s != shard} == others
    # the run above did not load the warehouse; the next scheduled run does, with the same rows
    corpus["run"]()
    assert_same_tables(warehouse_tables(corpus["warehouse"]), before)


def test_a_store_from_before_shards_is_split_without_parsing_again(tmp_path, monkeypatch):
    """Data written by the earlier layout (one `_manifest.json`, parts named `part-<hash>`) is
    split into shards on the first run: nothing is parsed again and no row changes."""
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    write(seeds, ARTICLES)
    materialize_all(seeds, data, monkeypatch)
    warehouse = data / "warehouse.duckdb"
    before = warehouse_tables(warehouse)
    store = ParquetStore(str(data / "parquet"))
    # rewrite the store as the old layout had it: one part holding every document
    manifest = incremental.load_manifest(store)
    legacy_part = "part-0123456789abcdef"
    for table in incremental.PART_TABLES:
        store.write(table, legacy_part, store.read(table))
        for part in manifest.parts:
            store.delete(table, part)
    for shard in incremental.SHARDS:
        (data / "parquet" / incremental.manifest_name(shard)).unlink(missing_ok=True)
    docs = {d: sha for d, (sha, _part) in manifest.documents().items()}
    store.put_atomic(
        incremental.LEGACY_MANIFEST,
        json.dumps({"version": 1, "parts": {legacy_part: docs}}).encode(),
    )
    result = materialize_all(seeds, data, monkeypatch)
    assert figures(result)["documents_parsed"] == 0
    assert store.get(incremental.LEGACY_MANIFEST) is None
    assert not list((data / "parquet" / "documents").glob(f"{legacy_part}*"))
    migrated = incremental.load_manifests(store)
    assert {d for m in migrated.values() for d in m.documents()} == set(docs)
    for shard, shard_manifest in migrated.items():
        assert all(incremental.shard_of(d) == shard for d in shard_manifest.documents())
    assert_same_tables(warehouse_tables(warehouse), before)


def test_a_store_from_before_the_corpus_merge_is_moved_without_parsing_again(tmp_path, monkeypatch):
    """Data written before the corpus-wide entity merge (the parse step's mentions and claims in
    the `entity_mentions` and `claims` tables as parts, without `label_source`) is moved to the
    per-document tables on the first run: nothing is parsed again and the warehouse is the same."""
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    write(seeds, ARTICLES)
    materialize_all(seeds, data, monkeypatch)
    warehouse = data / "warehouse.duckdb"
    before = warehouse_tables(warehouse)
    parquet = data / "parquet"
    for new, old in (("document_mentions", "entity_mentions"), ("document_claims", "claims")):
        shutil.rmtree(parquet / old)
        (parquet / old).mkdir()
        for path in sorted((parquet / new).glob("part-*.parquet")):
            rows = pl.read_parquet(path)
            rows.drop("label_source", strict=False).write_parquet(parquet / old / path.name)
        shutil.rmtree(parquet / new)
    result = materialize_all(seeds, data, monkeypatch)
    assert figures(result)["documents_parsed"] == 0
    assert not list((parquet / "entity_mentions").glob("part-*"))
    assert not list((parquet / "claims").glob("part-*"))
    moved = {p.name for p in (parquet / "document_mentions").glob("part-*.parquet")}
    assert moved == {
        f"{p}.parquet" for p in incremental.load_manifest(ParquetStore(str(parquet))).parts
    }
    after = warehouse_tables(warehouse)
    for table in ("documents", "sentences", "entities", "claims"):
        assert after[table].equals(before[table]), table
    # the only difference: the label source was not recorded then, and counts as evidence
    columns = [c for c in before["entity_mentions"].columns if c != "label_source"]
    assert (
        after["entity_mentions"].select(columns).equals(before["entity_mentions"].select(columns))
    )
    assert set(after["entity_mentions"]["label_source"]) == {"evidence"}
