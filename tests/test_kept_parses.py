"""Kept parses: new extraction code re-extracts from them; a new model parses again.

The session's seed run (a fresh parse) is copied, then real Dagster runs go over the copy: one
after a change of the extraction version (NEWS_EXTRACTION_SALT, the documented stand-in for a
rule change) must extract every document from its kept parse, parse none, and leave exactly the
lake and warehouse tables the fresh parse left; one after a change of the model's version must
parse again. The documents parsed are counted by the workers (`parsed` per document of
`annotate_batch`: a document comes from its kept parse only when it was not given to spaCy).
"""

from __future__ import annotations

import shutil

import duckdb
import polars as pl
import pytest

from pipelines.core import incremental, versions
from pipelines.core.annotate import annotate_batch
from pipelines.core.store import Lake
from pipelines.core.warehouse import load_info
from tests.conftest import materialize_all
from tests.helpers import assert_same_warehouse
from tests.test_incremental import figures

NLP_TABLES = ("documents", "sentences", "document_mentions", "document_claims")


def lake_tables(data) -> dict[str, pl.DataFrame]:
    lake = Lake(str(data / "lake"))
    return {t: lake.read(t).sort(pl.all()) for t in NLP_TABLES}


@pytest.fixture(scope="module")
def copied(seed_run, tmp_path_factory):
    """A copy of the seed run's seeds and data folders, and a way to run the job on them."""
    base = tmp_path_factory.mktemp("kept")
    seeds, data = base / "seeds", base / "data"
    shutil.copytree(seed_run["seeds"], seeds)
    shutil.copytree(seed_run["data"], data)
    return {"seeds": seeds, "data": data}


def run(copied, monkeypatch):
    """A real run of the job over the copy (the test's own settings undone after it)."""
    return materialize_all(copied["seeds"], copied["data"], monkeypatch)


def quote_groups_recomputed(result) -> bool:
    """Whether the run's stories step computed the quote groups (from its materialisation)."""
    [recomputed] = [
        event.event_specific_data.materialization.metadata["recomputed"].value
        for event in result.all_events
        if event.event_type_value == "ASSET_MATERIALIZATION"
        and event.event_specific_data.materialization.asset_key.to_user_string() == "quote_groups"
    ]
    return recomputed


def test_the_seed_run_kept_each_documents_parse_and_its_code(seed_run):
    assert quote_groups_recomputed(seed_run["result"]) is True
    lake = Lake(str(seed_run["data"] / "lake"))
    documents = lake.read("documents", ["doc_id", "content_sha256"]).sort("doc_id")
    model = versions.current_model()
    parses = lake.read(incremental.PARSES).sort("doc_id")
    assert parses.select("doc_id", "content_sha256").equals(documents)
    assert set(parses["parsed_by"]) == {versions.parse_version(model)}
    assert all(len(p) > 1000 for p in parses["parse"])
    extractions = lake.read(incremental.EXTRACTIONS).sort("doc_id")
    assert extractions.select("doc_id", "content_sha256").equals(documents)
    assert set(extractions["extracted_by"]) == {versions.extraction_version(model)}


def test_new_extraction_code_re_extracts_without_parsing_and_gives_the_same_tables(
    seed_run, copied, monkeypatch
):
    run(copied, monkeypatch)  # the copied warehouse loaded from the copy's lake: nothing else
    monkeypatch.setenv("NEWS_EXTRACTION_SALT", "a rule changed")
    lake = Lake(str(copied["data"] / "lake"))
    before = lake.versions(NLP_TABLES)
    corpus_before = lake.versions(incremental.CORPUS_CHILDREN)
    warehouse_before = load_info(copied["data"] / "warehouse.duckdb")
    result = run(copied, monkeypatch)
    n_documents = lake_tables(seed_run["data"])["documents"].height
    assert figures(result)["documents_parsed"] == 0
    assert figures(result)["documents_reextracted"] == n_documents
    assert figures(result)["extracted_by"] == versions.extraction_version(
        versions.current_model(), "a rule changed"
    )
    # the new code gave every document the rows it had: only the code is recorded
    assert figures(result)["documents_reextracted_same_rows"] == n_documents
    assert Lake(str(copied["data"] / "lake")).versions(NLP_TABLES) == before
    # relinked (their commit point moved), the same corpus rows: none committed, nothing to load
    assert Lake(str(copied["data"] / "lake")).versions(incremental.CORPUS_CHILDREN) == corpus_before
    # no claim moved, so the quote groups were kept as they were, not computed again
    assert quote_groups_recomputed(result) is False
    assert load_info(copied["data"] / "warehouse.duckdb") == warehouse_before
    extractions = lake.read(incremental.EXTRACTIONS)
    assert set(extractions["extracted_by"]) == {figures(result)["extracted_by"]}
    fresh, again = lake_tables(seed_run["data"]), lake_tables(copied["data"])
    for table in NLP_TABLES:
        assert again[table].height > 0, table
        assert again[table].equals(fresh[table]), table
    assert_same_warehouse(copied["data"] / "warehouse.duckdb", seed_run["warehouse"])
    # now up to date: the next run does nothing at all
    result = run(copied, monkeypatch)
    assert figures(result)["documents_parsed"] == figures(result)["documents_reextracted"] == 0


def test_a_new_model_version_parses_again(seed_run, copied, monkeypatch):
    model = versions.current_model()
    monkeypatch.setattr(versions, "current_model", lambda: model + ".post1")
    result = run(copied, monkeypatch)
    n_documents = lake_tables(seed_run["data"])["documents"].height
    assert figures(result)["documents_parsed"] == n_documents
    assert figures(result)["documents_reextracted"] == 0
    lake = Lake(str(copied["data"] / "lake"))
    assert set(lake.read(incremental.PARSES)["parsed_by"]) == {
        versions.parse_version(model + ".post1")
    }


def test_the_extraction_version_follows_the_extractors_source_and_the_salt():
    closure = versions.module_closure(versions.EXTRACTION_ROOT)
    # the rule modules are found through the imports, storage is not among them
    assert {"pipelines.core.quotes.reported", "pipelines.core.quantities"} <= set(closure)
    assert "pipelines.core.store" not in closure
    model = versions.current_model()
    plain, salted = versions.extraction_version(model), versions.extraction_version(model, "x")
    assert plain != salted
    assert plain.startswith(versions.parse_version(model))
    assert salted.startswith(versions.parse_version(model))
    assert versions.parse_version(model) != versions.parse_version(model + "x")


def test_a_kept_parse_of_other_text_is_not_used(nlp):
    text = "The bank raised rates to 5 percent, said Ann Lee.\n"
    kept = annotate_batch([("dx", "Something else entirely.\n")], keep_parses=True)["parses"]
    tables = annotate_batch([("dx", text)], parses={"dx": kept["parse"][0]})
    assert tables["parses"]["parsed"].to_list() == [True]
    assert tables["sentences"]["text"].to_list() == [text.strip()]


def test_the_nlp_assets_code_version_is_the_extraction_version():
    import dagster as dg

    from pipelines.definitions import defs

    want = versions.extraction_version(versions.current_model())
    graph = defs.resolve_asset_graph()
    for key in NLP_TABLES:
        assert graph.get(dg.AssetKey(key)).code_version == want, key


def test_with_keep_parses_off_a_new_parse_is_not_kept(seed_run, copied, monkeypatch):
    model = versions.current_model()
    monkeypatch.setattr(versions, "current_model", lambda: model + ".post2")
    monkeypatch.setenv("NEWS_KEEP_PARSES", "off")
    result = run(copied, monkeypatch)
    n_documents = lake_tables(seed_run["data"])["documents"].height
    assert figures(result)["documents_parsed"] == n_documents
    lake = Lake(str(copied["data"] / "lake"))
    assert lake.read(incremental.PARSES).is_empty()  # the old parses went with their rows
    assert set(lake.read(incremental.EXTRACTIONS)["extracted_by"]) == {
        versions.extraction_version(model + ".post2")
    }


ARTICLES = {
    "alpha.txt": "Officials said on Monday that 40 trucks had crossed the border.\n"
    '"We expect more," said Maria Lopez, the mayor of Tijuana.',
    "beta.txt": "The company reported a profit of $3.5 million.\n"
    "Its chief executive, John Smith, said sales rose 12 percent.",
    "gamma.txt": "Rain fell across the region for three days.\n"
    "Farmers told reporters the harvest would be late.",
}


def three_articles_run(tmp_path, monkeypatch):
    """`ARTICLES` as a seeds folder, through one run: (seeds, data)."""
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    seeds.mkdir()
    for name, text in ARTICLES.items():
        (seeds / name).write_text(text + "\n", encoding="utf-8")
    materialize_all(seeds, data, monkeypatch)
    return seeds, data


def test_a_rule_change_commits_only_the_documents_whose_rows_it_changes(tmp_path, monkeypatch):
    from pipelines.core import annotate

    seeds, data = three_articles_run(tmp_path, monkeypatch)
    lake = Lake(str(data / "lake"))
    before = {t: lake.read(t).sort(pl.all()) for t in NLP_TABLES}
    changed = before["documents"].filter(pl.col("source_path").str.ends_with("beta.txt"))
    [changed_id] = changed["doc_id"].to_list()
    assert before["document_claims"].filter(pl.col("doc_id") == changed_id).height > 0

    # a "rule change" that drops the claims of one document and leaves the others' rows
    plain = annotate.extract_claims

    def without_betas_claims(doc_id, *args, **kwargs):
        return [] if doc_id == changed_id else plain(doc_id, *args, **kwargs)

    monkeypatch.setattr(annotate, "extract_claims", without_betas_claims)
    monkeypatch.setenv("NEWS_EXTRACTION_SALT", "claims of beta dropped")
    # and a new file, between kept ones in path order: one batch mixes kept and new documents
    (seeds / "delta.txt").write_text("Prices rose 5 percent in May, the bank said.\n")
    result = materialize_all(seeds, data, monkeypatch)  # its blocking checks pass
    assert figures(result)["documents_parsed"] == 1
    assert figures(result)["documents_reextracted"] == 3
    assert figures(result)["documents_reextracted_same_rows"] == 2
    after = {t: Lake(str(data / "lake")).read(t).sort(pl.all()) for t in NLP_TABLES}
    [new_id] = set(after["documents"]["doc_id"]) - set(before["documents"]["doc_id"])
    assert after["sentences"].filter(pl.col("doc_id") == new_id)["text"].to_list() == [
        "Prices rose 5 percent in May, the bank said."
    ]
    after = {t: f.filter(pl.col("doc_id") != new_id) for t, f in after.items()}
    others = pl.col("doc_id") != changed_id
    for table in NLP_TABLES:
        assert after[table].filter(others).equals(before[table].filter(others)), table
    assert after["document_claims"].filter(~others).height == 0
    assert after["sentences"].filter(~others).equals(before["sentences"].filter(~others))
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        by_doc = dict(con.execute("select doc_id, count(*) from claims group by 1").fetchall())
    assert changed_id not in by_doc and len(by_doc) == 3  # the warehouse followed the lake


def test_same_rows_after_a_killed_commit_still_get_their_corpus_rows_back(tmp_path, monkeypatch):
    """A run killed inside a batch's commit, after it replaced a document's rows (deleting the
    corpus rows that point to them) and before its commit point: the next run finds the
    document's rows as the new code makes them, commits none, and the corpus rows come back."""
    seeds, data = three_articles_run(tmp_path, monkeypatch)
    lake = Lake(str(data / "lake"))
    documents = lake.read("documents", ["doc_id", "source_path"])
    [beta] = documents.filter(pl.col("source_path").str.ends_with("beta.txt"))["doc_id"]
    whole = {t: lake.read(t).sort(pl.all()) for t in incremental.CORPUS_CHILDREN}
    assert all(f.filter(pl.col("doc_id") == beta).height > 0 for f in whole.values())
    # what the killed commit did: the corpus rows pointing to beta's old rows deleted (its
    # rows replaced by equal ones), then nothing more
    for table in incremental.CORPUS_CHILDREN:
        lake.delete(table, incremental.in_predicate("doc_id", [beta]), {"op": "test kill"})
    monkeypatch.setenv("NEWS_EXTRACTION_SALT", "the killed run's code")
    result = materialize_all(seeds, data, monkeypatch)
    assert figures(result)["documents_reextracted_same_rows"] == 3
    lake = Lake(str(data / "lake"))
    for table, rows in whole.items():
        assert lake.read(table).sort(pl.all()).equals(rows), table


def test_copies_of_one_article_are_parsed_once_and_keep_their_own_rows(tmp_path, monkeypatch):
    """An article saved under several names (scrapers do; 98 of BBC's 2,225 files are copies)
    costs one parse, wherever its copies' shards are: each copy still gets its own rows, the
    rows a run over it alone gives, and its own kept parse, so a rule change re-extracts it."""
    from pipelines.core.ids import doc_id_for
    from tests.conftest import SEEDS

    [seed] = sorted(SEEDS.glob("*.txt"))
    names = [seed.name]  # the original and two copies, each in a shard of its own
    for k in range(100):
        name = f"copy_{k:02d}.txt"
        if doc_id_for(name)[1] not in {doc_id_for(n)[1] for n in names}:
            names.append(name)
        if len(names) == 3:
            break
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name in names:
        shutil.copy(seed, seeds / name)
    (seeds / "other.txt").write_text("Rain fell for three days, farmers told reporters.\n")
    result = materialize_all(seeds, tmp_path / "data", monkeypatch)
    assert figures(result)["documents_parsed"] == 4
    assert figures(result)["documents_sharing_a_parse"] == 2
    copy = doc_id_for(names[2])
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(seed, alone / names[2])
    materialize_all(alone, tmp_path / "data_alone", monkeypatch)
    together, by_itself = lake_tables(tmp_path / "data"), lake_tables(tmp_path / "data_alone")
    for table in ("sentences", "document_mentions", "document_claims"):
        mine = together[table].filter(pl.col("doc_id") == copy)
        assert mine.height > 0 and mine.equals(by_itself[table]), table
    parses = Lake(str(tmp_path / "data" / "lake")).read(incremental.PARSES)
    kept = dict(parses.select("doc_id", "parse").iter_rows())
    assert set(kept) == {doc_id_for(n) for n in [*names, "other.txt"]}
    assert kept[copy] == kept[doc_id_for(names[0])]
    monkeypatch.setenv("NEWS_EXTRACTION_SALT", "a rule changed")
    again = materialize_all(seeds, tmp_path / "data", monkeypatch)
    assert figures(again)["documents_parsed"] == 0
    assert figures(again)["documents_reextracted"] == 4
