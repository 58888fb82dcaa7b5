"""The scan of the seeds folder: an unchanged file is not read again, anything else is.

`read_document` is wrapped by a spy that counts the files read and still reads them (the real
function runs); everything else is real files on a real file system.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.core import documents, inventory


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The source paths read, in order, by every scan of the test."""
    seen: list[str] = []
    real = documents.read_document

    def spy(raw_file, max_bytes):
        seen.append(raw_file.source_path)
        return real(raw_file, max_bytes)

    monkeypatch.setattr(documents, "read_document", spy)
    return seen


def _folder(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    (seeds / "world").mkdir(parents=True)
    (seeds / "a.txt").write_text("Title A\n\nThe first article.\n", encoding="utf-8")
    (seeds / "world" / "b.txt").write_text("Title B\n\nThe second article.\n", encoding="utf-8")
    (seeds / "empty.txt").write_bytes(b"")
    return seeds


def test_an_unchanged_folder_is_listed_not_read(tmp_path, reads):
    seeds = _folder(tmp_path)
    first, refused = inventory.scan(seeds, 1000)
    assert sorted(reads) == ["a.txt", "empty.txt", "world/b.txt"] and len(refused) == 1
    reads.clear()
    second, refused_again = inventory.scan(seeds, 1000, first)
    assert reads == ["empty.txt"]  # a refused file is looked at again; accepted ones are not
    assert second.equals(first)
    assert [r.reason for r in refused_again] == [r.reason for r in refused]


def test_a_changed_file_is_read_again_even_with_its_size_and_time_put_back(tmp_path, reads):
    seeds = _folder(tmp_path)
    first, _ = inventory.scan(seeds, 1000)
    path = seeds / "a.txt"
    status = path.stat()
    path.write_text("Title A\n\nThe FIRST article.\n", encoding="utf-8")  # same size
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))  # same modification time
    assert path.stat().st_size == status.st_size
    reads.clear()
    second, _ = inventory.scan(seeds, 1000, first)
    assert reads == ["a.txt", "empty.txt"]  # the change time moved: no one can set it back
    changed = dict(zip(second["source_path"], second["content_sha256"], strict=True))
    before = dict(zip(first["source_path"], first["content_sha256"], strict=True))
    assert changed["a.txt"] != before["a.txt"]
    assert changed["world/b.txt"] == before["world/b.txt"]


def test_a_file_over_a_lowered_limit_is_refused_although_unchanged(tmp_path, reads):
    seeds = _folder(tmp_path)
    first, _ = inventory.scan(seeds, 1000)
    second, refused = inventory.scan(seeds, 20, first)
    assert {r.source_path for r in refused} == {"a.txt", "world/b.txt", "empty.txt"}
    assert not second.filter(second["accepted"]).height


def test_a_file_swapped_for_a_link_is_read_again(tmp_path, reads):
    seeds = _folder(tmp_path)
    first, _ = inventory.scan(seeds, 1000)
    outside = tmp_path / "outside.txt"
    outside.write_text("Secret\n\nNot an article.\n", encoding="utf-8")
    (seeds / "a.txt").unlink()
    (seeds / "a.txt").symlink_to(outside)
    reads.clear()
    second, refused = inventory.scan(seeds, 1000, first)
    assert "a.txt" in {r.source_path for r in refused}
    assert not second.filter((second["source_path"] == "a.txt") & second["accepted"]).height
