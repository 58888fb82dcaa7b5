"""Shared fixtures: the real spaCy pipeline, and one real Dagster run over the seed article."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def nlp():
    from pipelines.core.nlp import load_nlp

    return load_nlp()


@pytest.fixture(scope="session")
def parse(nlp):
    """Parse a text the way the pipeline does (sentences, mentions, claims)."""
    from pipelines.core.claims import extract_claims
    from pipelines.core.entities import extract_mentions
    from pipelines.core.sentences import SentenceIndex, split_sentences

    def run(text: str, doc_id: str = "dtest"):
        doc = nlp(text)
        sentences = split_sentences(doc_id, doc)
        index = SentenceIndex(sentences)
        mentions = extract_mentions(doc_id, doc, index)
        claims = extract_claims(doc_id, doc, index, mentions)
        return doc, sentences, mentions, claims

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
