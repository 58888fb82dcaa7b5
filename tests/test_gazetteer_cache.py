"""The gazetteer kept by the environment (or the data folder) is the gazetteer the sources build."""

from __future__ import annotations

import os
import pickle

import pytest

from pipelines.core import gazetteer as gz


@pytest.fixture
def caches(tmp_path, monkeypatch):
    """The environment's cache and the data folder, both under tmp_path, empty."""
    monkeypatch.setenv("NEWS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("NEWS_GAZETTEER_CACHE", raising=False)
    monkeypatch.setattr(gz, "INSTALL_CACHE", tmp_path / "env")
    gz._gazetteer.cache_clear()
    yield tmp_path / "env", tmp_path / "data" / "cache"
    gz._gazetteer.cache_clear()


def test_kept_gazetteer_is_the_built_one(caches, monkeypatch):
    env, data = caches
    paths = gz._kept_paths()
    assert [p.parent for p in paths] == [env, data]  # the environment's first
    assert paths[0].name == paths[1].name
    path = paths[0]
    built = gz._gazetteer()  # builds and keeps it, in the environment's cache only
    assert path.exists() and not data.exists()
    gz._gazetteer.cache_clear()
    loaded = gz._gazetteer()  # loads it
    assert loaded is not built and loaded == built
    assert list(loaded.index) == list(built.index)  # the same order of keys too
    # the first names are kept with it, as gender_guesser's list gives them
    assert loaded.given_names == gz._read_given_names() and len(loaded.given_names) > 50_000
    assert gz._given_names() is loaded.given_names
    assert gz.is_given_name("Tatyana") and not gz.is_given_name("General")
    assert [p.name for p in gz.place_candidates("Paris")] == [
        p.name for p in built.index[gz.place_key("Paris")]
    ]
    # a damaged file is built again (and written again); the build itself is not redone here;
    # the pickle of an earlier source goes when the new one is kept
    monkeypatch.setattr(gz, "_build", lambda words: built)
    path.write_bytes(b"not a pickle")
    earlier = path.with_name("gazetteer-0123456789abcdef.pickle")
    earlier.write_bytes(b"an earlier source's")
    gz._gazetteer.cache_clear()
    assert gz._gazetteer() == built
    assert pickle.loads(path.read_bytes()) == built
    assert sorted(path.parent.iterdir()) == [path]
    # off: nothing kept
    monkeypatch.setenv("NEWS_GAZETTEER_CACHE", "off")
    assert gz._kept_paths() == [] and gz.keep_built() is None


def test_an_environment_that_cannot_be_written_keeps_it_in_the_data_folder(caches, monkeypatch):
    env, data = caches
    env.parent.mkdir(parents=True, exist_ok=True)
    env.write_text("a file where the cache folder would be")  # the folder cannot be made
    built = gz._build(gz._words())
    monkeypatch.setattr(gz, "_build", lambda words: built)
    assert gz._gazetteer().index == built.index
    [kept] = data.iterdir()
    assert kept.name == gz._kept_paths()[1].name
    assert pickle.loads(kept.read_bytes()).index == built.index
    assert not [p for p in env.parent.iterdir() if p.name.endswith(".tmp")]


def test_set_up_builds_it_once_into_the_environment(caches, monkeypatch):
    _env, data = caches
    path = gz.keep_built()
    assert path == gz._kept_paths()[0] and path.exists()
    made = os.stat(path).st_mtime_ns
    monkeypatch.setattr(gz, "_build", lambda words: pytest.fail("built again"))
    assert gz.keep_built() == path  # there already: loaded, not built
    assert os.stat(path).st_mtime_ns == made
    assert not data.exists()
    # a data folder that keeps one (from an environment that could not be written) fills the
    # environment's cache from it, without building
    data.mkdir(parents=True)
    os.replace(path, data / path.name)
    gz._gazetteer.cache_clear()
    assert gz.keep_built() == path and path.exists()
