"""Progress lines for long steps: what they say, and how often they are said."""

from __future__ import annotations

import time

from pipelines.core.progress import Progress, duration, heartbeat


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_line_gives_count_share_rate_and_time_left():
    clock = Clock()
    progress = Progress(21_268, "articles", clock=clock)
    assert progress.update(0) == "0 of 21,268 articles (0 %), starting (0 s so far)"
    clock.now += 40  # the workers load their model: not counted in the rate
    progress.update(16)
    clock.now += 187  # 5,984 more in 187 s: 32 a second
    line = progress.update(6_000, force=True)
    assert line == "6,000 of 21,268 articles (28 %), 32 articles/s, about 8 min left"


def test_lines_come_every_ten_seconds_and_at_every_commit_never_twice_for_one_count():
    clock = Clock()
    progress = Progress(1_000, clock=clock)
    assert progress.update(0) is not None
    lines = []
    for done in range(16, 1_000, 16):  # a task of 16 documents every half second
        clock.now += 0.5
        commit = done % 480 == 0
        lines.append(progress.update(done, force=commit))
        if commit:  # the commit says the same count again: not a second line
            assert progress.update(done, force=True) is None
    said = [line.split(" of ")[0] for line in lines if line]
    # 10 s after the first line (320), at the commit (480), 10 s after it (800), at the next
    # commit (960)
    assert said == ["320", "480", "800", "960"]
    assert lines[59] == "960 of 1,000 articles (96 %), 32 articles/s, about 1 s left"


def test_slow_rates_keep_a_decimal_and_the_last_line_says_how_long_it_took():
    clock = Clock()
    progress = Progress(500, clock=clock)
    progress.update(5)
    clock.now += 99
    assert progress.update(300, force=True).endswith("3.0 articles/s, about 1 min left")
    clock.now += 150
    assert progress.update(500, force=True) == (
        "500 of 500 articles (100 %), 2.0 articles/s, done in 4 min"
    )
    clock.now += 40  # the heartbeat while the step writes: the rate does not fall
    assert progress.tick() == (
        "500 of 500 articles (100 %), 2.0 articles/s, done in 4 min, writing (40 s since)"
    )


def test_the_heartbeat_speaks_while_nothing_arrives():
    progress = Progress(100, every_s=0.05)
    said: list[str] = []
    with heartbeat(progress, said.append):
        time.sleep(0.4)
    assert len(said) >= 3
    assert all(line.startswith("0 of 100 articles (0 %), starting") for line in said)
    count = len(said)
    time.sleep(0.1)
    assert len(said) == count  # stopped with the block


def test_a_rate_under_one_a_second_is_not_shown_as_zero():
    clock = Clock()
    progress = Progress(1, clock=clock)
    clock.now += 31
    assert progress.update(1, force=True).endswith("0.032 articles/s, done in 31 s")


def test_durations_read_as_people_say_them():
    assert duration(45) == "45 s"
    assert duration(8 * 60 + 10) == "8 min"
    assert duration(3900) == "1 h 05 min"
