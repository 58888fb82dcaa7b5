"""Raw files to documents: find the articles, decode them, and say why a file is refused.

A file is accepted or refused on its own: one bad file never stops the others. Decoding follows
the warehouse contract: UTF-8 (a leading byte-order mark dropped), else cp1252 when that gives
clean text, else a refusal with a reason a person understands.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipelines.core.ids import doc_id_for

BOM = "\ufeff"
# Control characters other than tab, line feed and carriage return never occur in clean text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class RawFile:
    """One candidate input file, as found in the seeds folder."""

    source_path: str  # relative to the seeds folder, with forward slashes
    path: Path


@dataclass(frozen=True)
class Document:
    doc_id: str
    source_path: str
    content_sha256: str
    title: str | None
    text: str
    encoding: str
    n_bytes: int

    @property
    def n_chars(self) -> int:
        return len(self.text)


@dataclass(frozen=True)
class Rejection:
    source_path: str
    reason: str


class RejectedFile(Exception):
    """Raised by `decode` with the reason a file cannot be accepted."""


def find_raw_files(seeds_dir: Path) -> tuple[list[RawFile], list[Rejection]]:
    """Every `*.txt` below the folder, in path order; links that leave the folder are refused."""
    root = seeds_dir.resolve()
    found: list[RawFile] = []
    refused: list[Rejection] = []
    for path in sorted(seeds_dir.rglob("*.txt")):
        relative = path.relative_to(seeds_dir).as_posix()
        if path.is_symlink() or any(p.is_symlink() for p in path.parents if p != seeds_dir):
            target = path.resolve()
            if not target.is_relative_to(root):
                refused.append(
                    Rejection(
                        relative, f"symbolic link to {target}, outside the seeds folder: not read"
                    )
                )
                continue
        if not path.is_file():
            if path.is_symlink() and not path.exists():
                refused.append(Rejection(relative, "symbolic link whose target does not exist"))
            continue
        found.append(RawFile(relative, path))
    return found, refused


def decode(raw: bytes, max_bytes: int) -> tuple[str, str]:
    """The text and encoding name of a file's bytes, or `RejectedFile` saying why not."""
    if len(raw) > max_bytes:
        raise RejectedFile(
            f"file is {len(raw):,} bytes, over the {max_bytes:,}-byte limit (NEWS_MAX_FILE_BYTES)"
        )
    if not raw:
        raise RejectedFile("file is empty")
    if b"\x00" in raw:
        first_nul = raw.index(b"\x00")
        raise RejectedFile(
            f"binary file: it contains NUL bytes (first at byte {first_nul}), not text"
        )
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            text, encoding = raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            text = ""
        if not text or _CONTROL.search(text):
            raise RejectedFile(
                f"not valid UTF-8 (bad byte at offset {utf8_error.start}) "
                "and not clean cp1252 text either"
            ) from None
    text = text.removeprefix(BOM)
    if not text.strip():
        raise RejectedFile("file holds no text, only white space")
    if _CONTROL.search(text):
        raise RejectedFile("file holds control characters, so it is not plain text")
    if sum(unicodedata.category(c) == "Co" for c in text[:10000]) > 10:
        raise RejectedFile("file is mostly private-use characters, so it is not readable text")
    return text, encoding


def title_of(text: str) -> str | None:
    """The headline: a first line followed by a blank line, as in the corpora."""
    lines = text.split("\n", 2)
    if len(lines) >= 2 and lines[0].strip() and not lines[1].strip():
        return lines[0].rstrip("\r")
    return None


def read_document(raw_file: RawFile, max_bytes: int) -> Document:
    """Read and decode one file (raises `RejectedFile` or `OSError`)."""
    size = raw_file.path.stat().st_size
    if size > max_bytes:
        raise RejectedFile(
            f"file is {size:,} bytes, over the {max_bytes:,}-byte limit (NEWS_MAX_FILE_BYTES)"
        )
    raw = raw_file.path.read_bytes()
    text, encoding = decode(raw, max_bytes)
    return Document(
        doc_id=doc_id_for(raw_file.source_path),
        source_path=raw_file.source_path,
        content_sha256=hashlib.sha256(raw).hexdigest(),
        title=title_of(text),
        text=text,
        encoding=encoding,
        n_bytes=len(raw),
    )


def read_documents(seeds_dir: Path, max_bytes: int) -> Iterator[Document | Rejection]:
    """Each file in the folder as a document or a refusal, never an exception."""
    if not seeds_dir.is_dir():
        raise FileNotFoundError(f"seeds folder {seeds_dir} does not exist (NEWS_SEEDS_DIR)")
    raw_files, refused = find_raw_files(seeds_dir)
    yield from refused
    for raw_file in raw_files:
        try:
            yield read_document(raw_file, max_bytes)
        except RejectedFile as exc:
            yield Rejection(raw_file.source_path, str(exc))
        except FileNotFoundError:
            yield Rejection(raw_file.source_path, "file disappeared while the run was reading it")
        except OSError as exc:
            yield Rejection(raw_file.source_path, f"file could not be read: {exc.strerror or exc}")
