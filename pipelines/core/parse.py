"""Running spaCy over many documents at once, in pieces small enough for the model.

Texts longer than `MAX_PIECE_CHARS` are cut at line breaks (a single enormous paragraph at white
space) and the parsed pieces joined back into one `Doc` whose text is the document's text, so
every offset the extractors compute is an offset into `documents.text`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from spacy.language import Language
from spacy.tokens import Doc

MAX_PIECE_CHARS = 100_000
T = TypeVar("T")


def split_text(text: str, limit: int = MAX_PIECE_CHARS) -> list[str]:
    """Contiguous pieces of at most `limit` characters that join back to `text`."""
    pieces: list[str] = []
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        cut = window.rfind("\n") + 1
        if cut <= 0:
            cut = max(window.rfind(" "), window.rfind("\t")) + 1
        if cut <= 0:
            cut = limit
        pieces.append(text[start : start + cut])
        start += cut
    pieces.append(text[start:])
    return pieces


def parse_texts(
    nlp: Language,
    items: Iterable[tuple[str, T]],
    n_process: int = 1,
    batch_size: int = 64,
) -> Iterator[tuple[Doc, T]]:
    """Parse (text, context) pairs in order; each `Doc.text` equals its input text."""

    def pieces() -> Iterator[tuple[str, tuple[int, int, T]]]:
        for n, (text, context) in enumerate(items):
            parts = split_text(text)
            for i, part in enumerate(parts):
                yield part, (n, len(parts) - 1 - i, context)

    pending: list[Doc] = []
    for doc, (_n, remaining, context) in nlp.pipe(
        pieces(), as_tuples=True, n_process=n_process, batch_size=batch_size
    ):
        pending.append(doc)
        if remaining == 0:
            joined = (
                pending[0] if len(pending) == 1 else Doc.from_docs(pending, ensure_whitespace=False)
            )
            pending = []
            yield joined, context
