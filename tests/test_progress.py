"""Progress lines for long steps: what they say, and how often they are said."""

from __future__ import annotations

from pipelines.core.progress import Progress, duration


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_line_gives_count_share_rate_and_time_left():
    clock = Clock()
    progress = Progress(21_268, "articles", clock=clock)
    clock.now += 187.5  # 6,000 articles in 187.5 s: 32 a second
    progress.update(6_000, force=True)
    assert progress.line() == "6,000 of 21,268 articles (28 %), 32 articles/s, about 8 min left"


def test_lines_come_at_most_every_ten_seconds_and_at_every_commit():
    clock = Clock()
    progress = Progress(1_000, clock=clock)
    assert progress.update(0) == "0 of 1,000 articles (0 %), starting"
    lines = []
    for done in range(16, 1_000, 16):  # a task of 16 documents every half second
        clock.now += 0.5
        lines.append(progress.update(done, force=done % 480 == 0))
    said = [line.split(" of ")[0] for line in lines if line]
    # 62 tasks over 31 s: 10 s after the first line (320), at the commit (480), 10 s after it
    # (800), at the next commit (960); never two lines within 10 s unless a commit asks
    assert said == ["320", "480", "800", "960"]
    assert lines[59] == "960 of 1,000 articles (96 %), 32 articles/s, about 1 s left"


def test_the_last_line_says_how_long_it_took():
    clock = Clock()
    progress = Progress(500, clock=clock)
    clock.now += 250
    assert (
        progress.update(500, force=True)
        == "500 of 500 articles (100 %), 2 articles/s, done in 4 min"
    )


def test_durations_read_as_people_say_them():
    assert duration(45) == "45 s"
    assert duration(8 * 60 + 10) == "8 min"
    assert duration(3900) == "1 h 05 min"
