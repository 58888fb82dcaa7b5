"""A batch of documents through spaCy and every extractor, giving the batch's table rows.

This is the unit of parallel work: a worker process loads the model once and annotates many
small batches, returning small Polars frames rather than spaCy `Doc`s, so nothing heavy crosses
process boundaries. Each batch is parsed inside a spaCy memory zone, so the strings and lexemes a
batch adds to the vocabulary are freed with it and a worker's memory stays flat however large the
corpus (without the zone, the vocabulary of a long run grows with every new word it sees).
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

import polars as pl

from pipelines.core.claims import extract_claims
from pipelines.core.entities import extract_mentions
from pipelines.core.nlp import load_nlp
from pipelines.core.parse import parse_texts
from pipelines.core.sentences import SentenceIndex, split_sentences
from pipelines.core.tables import frame

Batch = list[tuple[str, str]]  # (doc_id, text)
T = TypeVar("T")


def annotate_batch(batch: Batch, quote_model: bool = True) -> dict[str, pl.DataFrame]:
    """Sentences, entity mentions and claims for a batch of (doc_id, text), with each
    document's own entity decisions (the corpus step merges them across documents); with
    `quote_model` off, quotes come from the rules alone (NEWS_QUOTE_MODEL=off)."""
    nlp = load_nlp()
    sentences, mentions, claims = [], [], []
    with nlp.memory_zone():
        for doc, doc_id in parse_texts(nlp, ((text, doc_id) for doc_id, text in batch)):
            doc_sentences = split_sentences(doc_id, doc)
            index = SentenceIndex(doc_sentences)
            doc_mentions = extract_mentions(doc_id, doc, index)
            sentences.extend(doc_sentences)
            mentions.extend(doc_mentions)
            claims.extend(extract_claims(doc_id, doc, index, doc_mentions, quote_model))
    return {
        "sentences": frame("sentences", sentences),
        "document_mentions": frame("document_mentions", mentions),
        "document_claims": frame("document_claims", claims),
    }


def _warm_up() -> None:
    load_nlp()


def annotate_batches(
    batches: Iterable[tuple[T, Batch]], n_workers: int, quote_model: bool = True
) -> Iterator[tuple[T, Batch, dict[str, pl.DataFrame]]]:
    """Annotate (tag, batch) pairs in order, on `n_workers` processes (in this process when 1).

    At most `2 * n_workers + 1` batches are in flight, so neither the texts nor the results of
    the corpus are ever all in memory; the workers start (and load the model) while the caller
    is still reading the first files.
    """
    if n_workers <= 1:
        for tag, batch in batches:
            yield tag, batch, annotate_batch(batch, quote_model)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(n_workers, mp_context=context, initializer=_warm_up) as pool:
        for _ in range(n_workers):
            pool.submit(_warm_up)
        pending: deque[tuple[T, Batch, Future[dict[str, pl.DataFrame]]]] = deque()
        for tag, batch in batches:
            pending.append((tag, batch, pool.submit(annotate_batch, batch, quote_model)))
            if len(pending) > 2 * n_workers:
                done_tag, done, future = pending.popleft()
                yield done_tag, done, future.result()
        while pending:
            done_tag, done, future = pending.popleft()
            yield done_tag, done, future.result()
