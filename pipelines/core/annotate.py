"""One batch of documents through spaCy and every extractor, giving the batch's table rows.

This is the unit of parallel work: a worker process loads the model once and annotates whole
batches, returning small Polars frames rather than spaCy `Doc`s, so nothing heavy crosses
process boundaries.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

import polars as pl

from pipelines.core.claims import extract_claims
from pipelines.core.entities import extract_mentions
from pipelines.core.nlp import load_nlp
from pipelines.core.parse import parse_texts
from pipelines.core.sentences import SentenceIndex, split_sentences
from pipelines.core.tables import frame

Batch = list[tuple[str, str]]  # (doc_id, text)
NLP_TABLES = ("sentences", "entity_mentions", "claims")


def annotate_batch(batch: Batch) -> dict[str, pl.DataFrame]:
    """Sentences, entity mentions and claims for a batch of (doc_id, text)."""
    nlp = load_nlp()
    sentences, mentions, claims = [], [], []
    for doc, doc_id in parse_texts(nlp, ((text, doc_id) for doc_id, text in batch)):
        doc_sentences = split_sentences(doc_id, doc)
        index = SentenceIndex(doc_sentences)
        doc_mentions = extract_mentions(doc_id, doc, index)
        sentences.extend(doc_sentences)
        mentions.extend(doc_mentions)
        claims.extend(extract_claims(doc_id, doc, index, doc_mentions))
    return {
        "sentences": frame("sentences", sentences),
        "entity_mentions": frame("entity_mentions", mentions),
        "claims": frame("claims", claims),
    }


def _warm_up() -> None:
    load_nlp()


def annotate_batches(
    batches: Iterable[Batch], n_workers: int
) -> Iterator[tuple[Batch, dict[str, pl.DataFrame]]]:
    """Annotate batches in order, on `n_workers` processes (in this process when 1)."""
    if n_workers <= 1:
        for batch in batches:
            yield batch, annotate_batch(batch)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(n_workers, mp_context=context, initializer=_warm_up) as pool:
        pending: list[tuple[Batch, Future[dict[str, pl.DataFrame]]]] = []
        for batch in batches:
            pending.append((batch, pool.submit(annotate_batch, batch)))
            if len(pending) > 2 * n_workers:  # bounded: the corpus is never all in memory
                done, future = pending.pop(0)
                yield done, future.result()
        for done, future in pending:
            yield done, future.result()
