"""The worker processes that annotate batches of documents (`pipelines.core.annotate`).

This module imports no spaCy, and neither does the process that hands out the work (Dagster's
step) through it: only the workers import the annotator and load the model. Importing spaCy
and the extractors costs about 0.6 s of CPU, and in the handing-out process that time came
before the pool started, on the critical path of every run with work (a few new files, a
re-extraction), while the workers would import them again anyway.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import polars as pl

    from pipelines.core.annotate import Batch, Parses

T = TypeVar("T")


def _warm_up() -> None:
    """A worker's start: the annotator imported and the model loaded, before its first task."""
    from pipelines.core.annotate import load_nlp

    load_nlp()


def _annotate_batch(
    batch: Batch, quote_model: bool, parses: Parses | None, keep_parses: bool
) -> dict[str, pl.DataFrame]:
    """`annotate.annotate_batch`, imported in the worker that runs it."""
    from pipelines.core.annotate import annotate_batch

    return annotate_batch(batch, quote_model, parses, keep_parses)


def annotate_batches(
    batches: Iterable[tuple[T, Batch, Parses]],
    n_workers: int,
    quote_model: bool = True,
    keep_parses: bool = False,
) -> Iterator[tuple[T, Batch, dict[str, pl.DataFrame]]]:
    """Annotate (tag, batch, kept parses) in order, on `n_workers` processes (in this process
    when 1).

    At most `2 * n_workers + 1` batches are in flight, so neither the texts nor the results of
    the corpus are ever all in memory; the workers start (and load the model) while the caller
    is still reading the first files.
    """
    if n_workers <= 1:
        for tag, batch, parses in batches:
            yield tag, batch, _annotate_batch(batch, quote_model, parses, keep_parses)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(n_workers, mp_context=context, initializer=_warm_up) as pool:
        for _ in range(n_workers):
            pool.submit(_warm_up)
        pending: deque[tuple[T, Batch, Future[dict[str, pl.DataFrame]]]] = deque()
        for tag, batch, parses in batches:
            future = pool.submit(_annotate_batch, batch, quote_model, parses, keep_parses)
            pending.append((tag, batch, future))
            if len(pending) > 2 * n_workers:
                done_tag, done, future = pending.popleft()
                yield done_tag, done, future.result()
        while pending:
            done_tag, done, future = pending.popleft()
            yield done_tag, done, future.result()
