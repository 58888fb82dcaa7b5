"""The asset checks look only where the commits since they passed can have broken them, and find
there exactly what a check of every row finds (`assets.checks`, `Lake.changed_files`)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.checks import CHECKS, Check
from pipelines.core.store import Lake
from pipelines.definitions import defs
from pipelines.resources import NewsStorage

ARTICLES = {
    "a.txt": "Storm hits the coast\n\nA storm hit Wales on Monday, the Met Office said.\n",
    "b.txt": "Bank raises rates\n\nThe Bank of England raised rates by 0.25 percent, "
    "said Andrew Bailey, its governor.\n",
}
NEW = ("c.txt", "Ferry keeps routes\n\nStena Line will keep sailing from Rosslare, it said.\n")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A lake the real job built over two articles, then over a third: its checks passed both
    times (the second time on what the third article changed)."""
    root = tmp_path_factory.mktemp("checks")
    seeds = root / "seeds"
    seeds.mkdir()
    for name, text in ARTICLES.items():
        (seeds / name).write_text(text)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEWS_SEEDS_DIR", str(seeds))
        mp.setenv("NEWS_DATA_DIR", str(root / "data"))
        mp.delenv("NEWS_LAKE_URL", raising=False)
        mp.delenv("NEWS_WAREHOUSE_PATH", raising=False)
        instance = dg.DagsterInstance.ephemeral()
        job = defs.resolve_job_def("news_etl")
        first = job.execute_in_process(instance=instance)
        (seeds / NEW[0]).write_text(NEW[1])
        second = job.execute_in_process(instance=instance)
        lake = NewsStorage().lake()
    assert first.success and second.success
    return {"lake": lake, "runs": (first, second)}


def checked(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    """What each check read in a run: its `checked` metadata, or "unchanged" for a check
    whose tables had no row-changing commit since it passed."""
    found = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            read = data.metadata.get("checked")
            name = f"{data.asset_key.to_user_string()}.{data.check_name}"
            found[name] = read.value if read else "unchanged"
    return found


def test_a_first_run_checks_every_row_and_the_next_only_what_changed(built):
    first, second = built["runs"]
    assert set(checked(first).values()) == {"every row"}
    assert len(checked(first)) == len(CHECKS)
    again = checked(second)
    assert len(again) == len(CHECKS)
    assert set(again.values()) <= {"what changed since it passed", "unchanged"}
    for name in ("sentences.offsets_give_span_text", "entity_mentions.mention_id_unique"):
        assert again[name] == "what changed since it passed"


def versions(lake: Lake) -> dict[str, int]:
    tables = {t for c in CHECKS for t in c.tables}
    return {t: lake.version(t) for t in tables}


def both_ways(lake: Lake, since: dict[str, int], check: Check) -> tuple[int, int]:
    changes = {t: lake.changed_files(t, since[t]) for t in check.tables}
    assert all(c is not None for c in changes.values())
    return check.failures(lake).height, check.changed(lake, changes).height


def find(asset: str, name: str) -> Check:
    return next(c for c in CHECKS if c.asset == asset and c.name == name)


def test_breakages_are_found_where_they_were_made_as_a_whole_check_finds_them(
    built, tmp_path: Path
):
    """Each kind of breakage committed after the checks passed: a span that no longer gives its
    text, a duplicated key, a row pointing nowhere, a target row gone from under unchanged rows
    and a document left without sentences. The scoped check finds as many as the whole one,
    and every other check still passes both ways."""
    source: Lake = built["lake"]
    lake = Lake(str(tmp_path / "lake"))
    for table in {t for c in CHECKS for t in c.tables}:  # a copy to break
        lake.overwrite(table, source.read(table))
    since = versions(lake)
    for check in CHECKS:
        assert both_ways(lake, since, check) == (0, 0), check.key

    sentences = lake.read("sentences")
    bad_span = sentences.head(1).with_columns(pl.col("text") + "!", pl.col("sentence_id") + "-x")
    lake.append("sentences", bad_span)
    assert both_ways(lake, since, find("sentences", "offsets_give_span_text")) == (1, 1)
    assert both_ways(lake, since, find("sentences", "sentence_id_unique")) == (0, 0)

    lake.append("sentences", sentences.slice(1, 1))  # the same row again
    assert both_ways(lake, since, find("sentences", "sentence_id_unique")) == (1, 1)

    mentions = lake.read("entity_mentions")
    nowhere = mentions.head(1).with_columns(
        pl.lit("e-nowhere").alias("entity_id"), pl.col("mention_id") + "-x"
    )
    lake.append("entity_mentions", nowhere)
    pointing = find("entities", "entity_mentions_entity_id_resolves")
    assert both_ways(lake, since, pointing) == (1, 1)

    # an entity removed while the mentions pointing at it stay as they were
    target = mentions["entity_id"][0]
    lake.delete("entities", f"entity_id = '{target}'")
    assert both_ways(lake, since, pointing) == (2, 2)

    lonely = lake.read("documents")["doc_id"][0]
    lake.delete("sentences", f"doc_id = '{lonely}'")
    assert both_ways(lake, since, find("documents", "every_document_has_sentences")) == (1, 1)
    # the claims and mentions of that document now point at sentences that are gone
    gone_from = find("claims", "claims_sentence_id_resolves")
    whole, scoped = both_ways(lake, since, gone_from)
    assert whole == scoped and whole > 0


def test_with_nothing_to_start_from_a_check_reads_its_tables_whole(built):
    lake: Lake = built["lake"]
    assert lake.changed_files("sentences", None) is None
    assert lake.changed_files("sentences", 10_000) is None  # a version that never was
    assert lake.changed_files("no_such_table", 0) is None
    now = lake.version("sentences")
    same = lake.changed_files("sentences", now)
    assert same is not None and same.added == [] and same.removed == []
