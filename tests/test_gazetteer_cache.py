"""The gazetteer kept in the data folder is the gazetteer the sources build."""

from __future__ import annotations

import pickle

from pipelines.core import gazetteer as gz


def test_kept_gazetteer_is_the_built_one(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("NEWS_GAZETTEER_CACHE", raising=False)
    path = gz._kept_path()
    assert path is not None and path.parent == tmp_path / "cache"
    gz._gazetteer.cache_clear()
    try:
        built = gz._gazetteer()  # builds and keeps it
        assert path.exists()
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
        assert gz._kept_path() is None
    finally:
        gz._gazetteer.cache_clear()
