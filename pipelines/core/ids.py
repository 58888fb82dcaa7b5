"""Stable identifiers: the same input gives the same ids on every run and machine."""

from __future__ import annotations

import hashlib
from functools import lru_cache


def short_hash(*parts: str, length: int = 16) -> str:
    """A hex digest of the parts, joined unambiguously."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:length]


def doc_id_for(source_path: str) -> str:
    """A document's id depends on its path only, so an edited file keeps its id."""
    return "d" + short_hash("doc", source_path)


def record_doc_id(path: str, key: str | None) -> str:
    """A JSON article's id: from its file's path and its own `id` or `url` (`key`, as
    `id:<id>` or `url:<url>`), so it keeps its id when lines move; without one, `path` is the
    line's own source path (`<file>#<line>`), and a line inserted above it re-keys it."""
    return doc_id_for(path) if key is None else "d" + short_hash("doc", path, key)


# Legal forms after a company's name, which name the same company with or without them.
LEGAL_FORMS = frozenset(
    ["inc", "corp", "corporation", "co", "cos", "ltd", "limited", "plc", "llc", "lp", "ag",
     "sa", "nv", "bv", "spa", "gmbh", "incorporated"]
)  # fmt: skip


@lru_cache(maxsize=65_536)  # the same names are compared again and again
def name_key(name: str) -> str:
    """How two surface forms are compared: case, dots, spacing, a leading "the" and a company's
    legal form do not matter ("The Times" and "the Times", "U.S." and "US", "Exxon Corp" and
    "Exxon")."""
    words = name.replace(".", "").casefold().split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    while len(words) > 1 and words[-1].strip(",") in LEGAL_FORMS:
        words = words[:-1]
        if len(words) > 1 and words[-1] in ("&", "and"):
            words = words[:-1]
    return " ".join(words).rstrip(",")


def entity_id_for(name: str, label: str) -> str:
    """An entity's id depends on its canonical name (its `name_key`) and label only."""
    return "e" + short_hash("entity", label, name)


def sentence_id_for(doc_id: str, sentence_index: int) -> str:
    return f"{doc_id}-s{sentence_index:04d}"


def mention_id_for(doc_id: str, index: int) -> str:
    return f"{doc_id}-m{index:04d}"


def claim_id_for(doc_id: str, index: int) -> str:
    return f"{doc_id}-c{index:04d}"
