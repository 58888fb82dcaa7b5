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
from dataclasses import dataclass
from typing import TypeVar

import polars as pl
from spacy.language import Language
from spacy.tokens import Doc

from pipelines.core.claims import Claim, extract_claims
from pipelines.core.entities import Mention, extract_mentions
from pipelines.core.nlp import load_nlp
from pipelines.core.parse import parse_texts
from pipelines.core.sentences import Sentence, SentenceIndex, split_sentences
from pipelines.core.tables import frame

Batch = list[tuple[str, str]]  # (doc_id, text)
T = TypeVar("T")


@dataclass(frozen=True)
class Annotation:
    """One document as the pipeline annotates it: the parse and the rows taken from it."""

    doc_id: str
    doc: Doc
    sentences: list[Sentence]
    mentions: list[Mention]
    claims: list[Claim]


def annotate(nlp: Language, batch: Batch, quote_model: bool = True) -> Iterator[Annotation]:
    """Each document of a batch of (doc_id, text) parsed, split into sentences, with its
    mentions and claims (its own entity decisions; the corpus step merges them across
    documents; with `quote_model` off, quotes come from the rules alone, NEWS_QUOTE_MODEL=off).
    The `Doc`s live only as long as the caller's memory zone, if any."""
    for doc, doc_id in parse_texts(nlp, ((text, doc_id) for doc_id, text in batch)):
        sentences = split_sentences(doc_id, doc)
        index = SentenceIndex(sentences)
        mentions = extract_mentions(doc_id, doc, index)
        claims = extract_claims(doc_id, doc, index, mentions, quote_model)
        yield Annotation(doc_id, doc, sentences, mentions, claims)


def annotate_batch(batch: Batch, quote_model: bool = True) -> dict[str, pl.DataFrame]:
    """The table rows of a batch of (doc_id, text): `annotate` inside a spaCy memory zone."""
    nlp = load_nlp()
    sentences, mentions, claims = [], [], []
    with nlp.memory_zone():
        for annotation in annotate(nlp, batch, quote_model):
            sentences.extend(annotation.sentences)
            mentions.extend(annotation.mentions)
            claims.extend(annotation.claims)
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
