"""What quote extraction produces: quoted spans, speakers and quotes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QuoteSpan:
    """Quoted words (without the marks) and where the marks were."""

    start: int
    end: int
    open_mark: int | None
    close_mark: int | None


@dataclass(frozen=True)
class Speaker:
    name: str | None  # resolved: "Franz-Stefan Gady" for "he"
    start: int  # the mention as written, nearest to the cue
    end: int
    entity_id: str | None


@dataclass(frozen=True)
class Quote:
    claim_type: str  # direct_quote | indirect_quote | partial_quote
    start: int
    end: int
    speaker: Speaker | None
    cue_start: int | None
    cue_end: int | None
    outlet: str | None
    origin: str = ""  # which rule proposed it (a feature of the quote model)
    confidence: float | None = None
