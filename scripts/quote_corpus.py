"""PolNeAR parsed once and cached, the quote extractor run over the cache, and the shared
scorer's matching, for the quote model's training (`make train-quotes`) and its evaluation.

The texts are parsed with the pipeline's own loader and parser (`load_nlp`, `parse_texts`, as
`annotate_batch` does) and kept as a spaCy DocBin under the temp dir, keyed by the model and the
texts, so training and every evaluation after the first read the parses instead of redoing them.
The extractor then runs exactly as `annotate_batch` runs it (sentences, mentions, claims).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from quote_gold import EVAL, POLNEAR, gold_files, merge_by_cue, read_gold
from spacy.tokens import Doc, DocBin

from pipelines.core.doc_arrays import text_of
from pipelines.core.documents import RejectedFile, decode
from pipelines.core.entities import extract_mentions
from pipelines.core.nlp import load_nlp, model_names
from pipelines.core.parse import parse_texts
from pipelines.core.sentences import SentenceIndex, split_sentences
from pipelines.core.settings import DEFAULT_MAX_FILE_BYTES

N_PROCESS = int(os.environ.get("NEWS_QUOTE_PROCESSES") or 2)  # parsing train: both cores
CACHE = Path(os.environ.get("NEWS_QUOTE_CACHE") or Path(tempfile.gettempdir()) / "news-quote-cache")


@dataclass
class Article:
    name: str
    doc: Doc
    sentences: SentenceIndex
    mentions: list
    gold: list[dict]


def _texts(split: str) -> list[tuple[str, str]]:
    """(article, text) as the pipeline reads them; a file it refuses is left out, as the
    warehouse leaves it out (one train file holds a control character)."""
    out = []
    for path in sorted((POLNEAR / split / "text").glob("*.txt")):
        try:
            out.append((path.stem, decode(path.read_bytes(), DEFAULT_MAX_FILE_BYTES)[0]))
        except RejectedFile:
            continue
    return out


def cache_key(nlp, texts: list[tuple[str, str]]) -> str:
    """A digest of the model and the texts: a cache of their parses is valid while it holds."""
    parts = [model_names()[0], nlp.meta.get("version", ""), *(t for _n, t in texts)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def parsed(split: str, limit: int | None = None) -> Iterator[tuple[str, Doc]]:
    """(article, Doc) for a split, parsed once and cached as a DocBin."""
    texts = _texts(split)[:limit]
    nlp = load_nlp()
    key = cache_key(nlp, texts)
    path = CACHE / f"polnear-{split}-{key}.spacy"
    if path.exists():
        docs = list(DocBin().from_disk(path).get_docs(nlp.vocab))
    else:
        docs = [
            doc for doc, _name in parse_texts(nlp, ((t, n) for n, t in texts), n_process=N_PROCESS)
        ]
        CACHE.mkdir(parents=True, exist_ok=True)
        bin_ = DocBin(store_user_data=False)
        for doc in docs:
            bin_.add(doc)
        tmp = path.with_suffix(".tmp")
        bin_.to_disk(tmp)
        tmp.rename(path)
    for (name, text), doc in zip(texts, docs, strict=True):
        assert text_of(doc) == text, name
        yield name, doc


def articles(split: str, limit: int | None = None) -> list[Article]:
    """Every article of a split, parsed, with its sentences, mentions and gold attributions."""
    gold_of = gold_files(POLNEAR / split / "attributions")
    out = []
    for name, doc in parsed(split, limit):
        sentences = SentenceIndex(split_sentences(name, doc))
        mentions = extract_mentions(name, doc, sentences)
        gold = read_gold(gold_of[name]) if name in gold_of else []
        out.append(Article(name, doc, sentences, mentions, gold))
    return out


def spans(c) -> tuple:
    """A claim's type and spans as the scorer reads them from the warehouse's claims table."""
    speaker = c.speaker
    return (
        c.claim_type,
        c.start,
        c.end,
        speaker.start if speaker else None,
        speaker.end if speaker else None,
        c.cue_start,
    )


def groups(claims: list) -> list[dict]:
    """Claims merged as the scorer merges them: pieces that share a cue are one prediction."""
    return merge_by_cue((None, *spans(c), c.confidence) for c in claims)


def score_claims(split: str, by_article: dict[str, tuple[str, list]]) -> dict:
    """The shared scorer's figures for claims (article -> (text, claims)), through a small
    DuckDB file shaped like the warehouse's documents and claims tables."""
    import json
    import subprocess
    import sys

    import duckdb

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "claims.duckdb"
        con = duckdb.connect(str(path))
        con.execute("create table documents (doc_id varchar, source_path varchar, text varchar)")
        con.execute(
            "create table claims (doc_id varchar, claim_type varchar, char_start int, "
            "char_end int, speaker_start int, speaker_end int, cue_start int, cue_end int, "
            "confidence double)"
        )
        con.executemany(
            "insert into documents values (?, ?, ?)",
            [(name, f"{name}.txt", text) for name, (text, _c) in by_article.items()],
        )
        rows = [
            (name, *spans(c), c.cue_end, c.confidence)
            for name, (_t, claims) in by_article.items()
            for c in claims
        ]
        if rows:
            con.executemany("insert into claims values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.close()
        out = subprocess.run(
            [
                sys.executable,
                str(EVAL / "score_attribution.py"),
                str(path),
                str(POLNEAR / split / "attributions"),
                "--json",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(out.stdout)
        if any(c.confidence is not None for _t, claims in by_article.values() for c in claims):
            from quote_confidence import predictions, report

            result["confidence"] = report(
                predictions(str(path), str(POLNEAR / split / "attributions"))
            )
    return result
