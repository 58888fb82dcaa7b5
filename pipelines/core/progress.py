"""Progress of a long step as people read it: "6,000 of 21,268 articles (28 %), 32 articles/s,
about 8 min left".

Pure: fed with the total and the count done so far, it formats the line and decides when one is
due (every `every_s` seconds, and whenever the caller says it must, at a commit). It knows
nothing of Dagster, spaCy or storage; the caller logs the lines it returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


def duration(seconds: float) -> str:
    """A short human duration: "45 s", "8 min", "1 h 05 min"."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


@dataclass
class Progress:
    """How far a step over `total` items is; `update` says when a line is due."""

    total: int
    unit: str = "articles"
    every_s: float = 10.0
    clock: Callable[[], float] = time.monotonic
    done: int = 0
    started: float = field(init=False)
    last_line_at: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def rate(self) -> float | None:
        """Items per second since the start, once there is something to divide."""
        elapsed = self.clock() - self.started
        if self.done <= 0 or elapsed <= 0:
            return None
        return self.done / elapsed

    def line(self) -> str:
        percent = 100 * self.done // self.total if self.total else 100
        text = f"{self.done:,} of {self.total:,} {self.unit} ({percent} %)"
        rate = self.rate()
        if rate is None:
            return text + ", starting"
        if self.done >= self.total:
            return text + f", {rate:.0f} {self.unit}/s, done in {duration(self.elapsed())}"
        left = (self.total - self.done) / rate
        return text + f", {rate:.0f} {self.unit}/s, about {duration(left)} left"

    def elapsed(self) -> float:
        return self.clock() - self.started

    def update(self, done: int, force: bool = False) -> str | None:
        """Record `done` items so far; the line to log when one is due (first call, `force`,
        or `every_s` since the last line), else None."""
        self.done = done
        now = self.clock()
        due = self.last_line_at is None or now - self.last_line_at >= self.every_s
        if not (due or force):
            return None
        self.last_line_at = now
        return self.line()
