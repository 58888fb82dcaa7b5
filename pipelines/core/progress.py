"""Progress of a long step as people read it: "6,000 of 21,268 articles (28 %), 32 articles/s,
about 8 min left".

`Progress` is fed with the total and the count done so far; it formats the line and decides
when one is due (every `every_s` seconds, and at a commit unless the last line already said the
same count). The rate is measured from the first item done, so the time the workers spend
loading their model does not make the first estimates absurd. `heartbeat` says the line every
`every_s` seconds even while nothing arrives (the workers loading, a long batch). Nothing here
knows Dagster, spaCy or storage: the caller logs the lines.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
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


def _rate(value: float) -> str:
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 1 else f"{value:.2g}"


@dataclass
class Progress:
    """How far a step over `total` items is; `update` says when a line is due."""

    total: int
    unit: str = "articles"
    every_s: float = 10.0
    clock: Callable[[], float] = time.monotonic
    done: int = 0
    started: float = field(init=False)
    first: tuple[float, int] | None = field(default=None, init=False)  # (time, count)
    last_line: tuple[float, int] | None = field(default=None, init=False)
    finished: tuple[float, float | None] | None = field(default=None, init=False)  # (time, rate)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def rate(self) -> float | None:
        """Items per second since the first item came (from the start while only one batch
        has come), once there is something to divide."""
        if self.first is None:
            return None
        at, count = self.first
        span = self.clock() - at
        if self.done > count and span > 0:
            return (self.done - count) / span
        elapsed = self.elapsed()
        return self.done / elapsed if elapsed > 0 else None

    def line(self) -> str:
        percent = 100 * self.done // self.total if self.total else 100
        text = f"{self.done:,} of {self.total:,} {self.unit} ({percent} %)"
        rate = self.rate()
        if rate is None:
            return text + f", starting ({duration(self.elapsed())} so far)"
        if self.done >= self.total:
            # the rate and time as they were when the last item came: the heartbeat goes on
            # while the step commits what it made, and must not show the rate falling
            if self.finished is None:
                self.finished = (self.clock(), rate)
            at, rate = self.finished
            per_s = f"{_rate(rate)} {self.unit}/s"
            done_in = f", {per_s}, done in {duration(at - self.started)}"
            writing = self.clock() - at
            return (
                text + done_in + (f", writing ({duration(writing)} since)" if writing >= 1 else "")
            )
        per_s = f"{_rate(rate)} {self.unit}/s"
        return text + f", {per_s}, about {duration((self.total - self.done) / rate)} left"

    def update(self, done: int, force: bool = False) -> str | None:
        """Record `done` items so far; the line to log when one is due (the first call,
        `every_s` since the last line, or `force` with a count the last line did not say),
        else None."""
        with self._lock:
            now = self.clock()
            self.done = done
            if done > 0 and self.first is None:
                self.first = (now, done)
            last = self.last_line
            due = last is None or now - last[0] >= self.every_s or (force and done != last[1])
            if not due:
                return None
            self.last_line = (now, done)
            return self.line()

    def tick(self) -> str | None:
        """The line, if one is due by the clock alone."""
        return self.update(self.done)


@contextlib.contextmanager
def heartbeat(progress: Progress, say: Callable[[str], None]) -> Iterator[Progress]:
    """Say `progress`'s line whenever `every_s` passed without one, until the block ends."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(progress.every_s / 4):
            if line := progress.tick():
                say(line)

    thread = threading.Thread(target=beat, name="progress-heartbeat", daemon=True)
    thread.start()
    try:
        yield progress
    finally:
        stop.set()
        thread.join()
