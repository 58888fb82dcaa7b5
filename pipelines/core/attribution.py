"""Attributed numbers: which quote, if any, holds each quantity.

A fact-checker's first question about a number is who gave it. A quantity whose span lies wholly
inside the content of a direct or indirect quote of the same document is that quote's speaker's
(the innermost quote when quotes nest, as when a reported clause carries a quoted sentence); a
quantity outside every quote, or straddling a quote's edge, is the writer's own. The speaker
is not copied: the link is the quote's `claim_id`, so a speaker the corpus step relinks later is
the quantity's speaker too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Claims whose content is someone's words; a partial quote (a scare-quoted phrase) is the
# writer's use of a word, not a statement, so the numbers around it stay the writer's.
ATTRIBUTED_TYPES = frozenset({"direct_quote", "indirect_quote"})


@dataclass(frozen=True)
class Span:
    """A claim's content as a half-open character range, with its id."""

    claim_id: str
    start: int
    end: int


def innermost_container(quotes: Sequence[Span], start: int, end: int) -> str | None:
    """The id of the shortest quote whose content holds [start, end) wholly, or None.

    Ties (two quotes with the same extent) go to the one that starts first in the list, so the
    answer does not depend on anything but the claims' order, which is the text's.
    """
    holding = [q for q in quotes if q.start <= start and end <= q.end and start < end]
    if not holding:
        return None
    return min(holding, key=lambda q: q.end - q.start).claim_id


def quote_holding(quotes: Sequence[Span], quantities: Sequence[Span]) -> dict[str, str | None]:
    """For each quantity's claim id, the claim id of the innermost quote holding it (or None)."""
    return {q.claim_id: innermost_container(quotes, q.start, q.end) for q in quantities}
