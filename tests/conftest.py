"""Shared fixtures: the real spaCy pipeline, and one real Dagster run over the seed article."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"

# The slowest modules, slowest first (`make test TEST_ARGS=--durations=60` shows where the time
# goes). `make test` runs `--dist loadfile --no-loadscope-reorder`: each worker takes the next
# whole module in collection order, so these start at once, the short modules fill in behind
# them, and the workers finish together (pytest-xdist's own order, most tests first, would start
# the long modules of few tests last).
SLOWEST_FIRST = (
    "test_crash_recovery.py",
    "test_s3_lake.py",
    "test_ui.py",
    "test_celery.py",
    "test_concurrency.py",
    "test_incremental.py",
    "test_automation_conditions.py",
    "test_hostile_input.py",
    "test_properties.py",
    "test_metadata.py",
    "test_kept_parses.py",
    "test_sentences.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: keeps the rest


@pytest.fixture(scope="session")
def nlp():
    from pipelines.core.nlp import load_nlp

    return load_nlp()


@pytest.fixture(scope="session")
def parse(nlp):
    """Annotate a text as the pipeline does: `annotate`, the steps of `annotate_batch` without
    its memory zone (the test keeps the `Doc`); gives (doc, sentences, mentions, claims)."""
    from pipelines.core.annotate import annotate

    def run(text: str, doc_id: str = "dtest"):
        [annotation] = annotate(nlp, [(doc_id, text)])
        return annotation.doc, annotation.sentences, annotation.mentions, annotation.claims

    return run


def materialize_all(seeds: Path, data: Path, monkeypatch: pytest.MonkeyPatch):
    """One real in-process Dagster run of every asset and check."""
    import dagster as dg

    from pipelines.definitions import defs

    monkeypatch.setenv("NEWS_SEEDS_DIR", str(seeds))
    monkeypatch.setenv("NEWS_DATA_DIR", str(data))
    monkeypatch.delenv("NEWS_PARQUET_URL", raising=False)
    monkeypatch.delenv("NEWS_LAKE_URL", raising=False)
    monkeypatch.delenv("NEWS_WAREHOUSE_PATH", raising=False)
    job = defs.resolve_job_def("news_etl")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return result


@pytest.fixture(scope="module")
def reference(seeds: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's `seeds` through one ordinary in-process run: the warehouse a distributed
    run (Celery workers, machines sharing an S3 lake) must equal."""
    mp = pytest.MonkeyPatch()
    data = tmp_path_factory.mktemp("reference") / "data"
    materialize_all(seeds, data, mp)
    mp.undo()
    return data / "warehouse.duckdb"


@pytest.fixture(scope="session")
def seed_run(tmp_path_factory):
    """The seed article through the whole pipeline into a temporary data folder."""
    mp = pytest.MonkeyPatch()
    base = tmp_path_factory.mktemp("seedrun")
    seeds = base / "seeds"
    shutil.copytree(SEEDS, seeds)
    data = base / "data"
    result = materialize_all(seeds, data, mp)
    yield {"seeds": seeds, "data": data, "result": result, "warehouse": data / "warehouse.duckdb"}
    mp.undo()
