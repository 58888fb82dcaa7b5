"""Stable identifiers: the same input gives the same ids on every run and machine."""

from __future__ import annotations

import hashlib


def short_hash(*parts: str, length: int = 16) -> str:
    """A hex digest of the parts, joined unambiguously."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:length]


def doc_id_for(source_path: str) -> str:
    """A document's id depends on its path only, so an edited file keeps its id."""
    return "d" + short_hash("doc", source_path)


def entity_id_for(name: str, label: str) -> str:
    """An entity's id depends on its canonical name and label only."""
    return "e" + short_hash("entity", label, name)


def sentence_id_for(doc_id: str, sentence_index: int) -> str:
    return f"{doc_id}-s{sentence_index:04d}"


def mention_id_for(doc_id: str, index: int) -> str:
    return f"{doc_id}-m{index:04d}"


def claim_id_for(doc_id: str, index: int) -> str:
    return f"{doc_id}-c{index:04d}"
