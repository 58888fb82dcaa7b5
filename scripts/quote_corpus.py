"""PolNeAR parsed once and cached, the quote extractor run over the cache, and the shared
scorer's matching, for the quote model's training (`make train-quotes`) and its evaluation.

The texts are parsed with the pipeline's own loader and parser (`load_nlp`, `parse_texts`, as
`annotate_batch` does) and kept as a spaCy DocBin under the temp dir, keyed by the model and the
texts, so training and every evaluation after the first read the parses instead of redoing them.
The extractor then runs exactly as `annotate_batch` runs it (sentences, mentions, claims).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from spacy.tokens import Doc, DocBin

from pipelines.core.documents import RejectedFile, decode
from pipelines.core.entities import extract_mentions
from pipelines.core.nlp import load_nlp, model_names, text_of
from pipelines.core.parse import parse_texts
from pipelines.core.sentences import SentenceIndex, split_sentences
from pipelines.core.settings import DEFAULT_MAX_FILE_BYTES

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
POLNEAR = EVAL / "polnear"
N_PROCESS = int(os.environ.get("NEWS_QUOTE_PROCESSES") or 2)  # parsing train: both cores
CACHE = Path(os.environ.get("NEWS_QUOTE_CACHE") or Path(tempfile.gettempdir()) / "news-quote-cache")


def scorer() -> ModuleType:
    """The shared scorer as a module, for its trim, overlap and gold reader."""
    spec = importlib.util.spec_from_file_location(
        "score_attribution", EVAL / "score_attribution.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def parsed(split: str, limit: int | None = None) -> Iterator[tuple[str, Doc]]:
    """(article, Doc) for a split, parsed once and cached as a DocBin."""
    texts = _texts(split)[:limit]
    nlp = load_nlp()
    key = hashlib.sha256(
        "\0".join([model_names()[0], nlp.meta.get("version", ""), *(t for _n, t in texts)]).encode()
    ).hexdigest()[:16]
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
    score = scorer()
    gold_dir = POLNEAR / split / "attributions"
    gold_files: dict[str, list[str]] = defaultdict(list)
    for name in sorted(os.listdir(gold_dir)):
        if name.endswith(".ann"):
            gold_files[name[: -len(".ann")].rsplit("_", 1)[0]].append(name)
    out = []
    for name, doc in parsed(split, limit):
        sentences = SentenceIndex(split_sentences(name, doc))
        mentions = extract_mentions(name, doc, sentences)
        files = gold_files.get(name)
        gold = score.read_gold(gold_dir / files[0]) if files else []
        out.append(Article(name, doc, sentences, mentions, gold))
    return out


def groups(claims: list) -> list[dict]:
    """Claims merged as the scorer merges them: pieces that share a cue are one prediction."""
    by_cue: dict = {}
    for n, c in enumerate(claims):
        if c.claim_type not in ("direct_quote", "indirect_quote"):
            continue
        key = c.cue_start if c.cue_start is not None else ("row", n)
        s = c.speaker
        source = (s.start, s.end) if s is not None else (None, None)
        if key in by_cue:
            g = by_cue[key]
            g["content"] = (min(g["content"][0], c.start), max(g["content"][1], c.end))
            g["type"] = "direct_quote" if "direct_quote" in (g["type"], c.claim_type) else "x"
            if g["source"][0] is None:
                g["source"] = source
            g["members"].append(n)
        else:
            by_cue[key] = {
                "type": c.claim_type,
                "content": (c.start, c.end),
                "source": source,
                "members": [n],
            }
    return list(by_cue.values())


def match(text: str, gold: list[dict], preds: list[dict], score: ModuleType) -> None:
    """Mark each prediction `matched` (content overlap >= 0.5, one to one, best first, as the
    scorer does) and `speaker_ok` (its source overlaps the gold Source)."""

    def t(span: tuple) -> tuple | None:
        return score.trim(text, *span) if span[0] is not None else None

    g_spans = [t(g["content"]) for g in gold]
    p_spans = [t(p["content"]) for p in preds]
    pairs = sorted(
        ((score.overlap(g, p), i, j) for i, g in enumerate(g_spans) for j, p in enumerate(p_spans)),
        reverse=True,
    )
    for p in preds:
        p["matched"], p["speaker_ok"] = False, False
    used_g, used_p = set(), set()
    for value, i, j in pairs:
        if value < 0.5 or i in used_g or j in used_p:
            continue
        used_g.add(i)
        used_p.add(j)
        preds[j]["matched"] = True
        g, p = gold[i], preds[j]
        if g["source"][0] is not None and p["source"][0] is not None:
            p["speaker_ok"] = score.overlap(t(g["source"]), t(p["source"])) >= 0.5


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
            (
                name,
                c.claim_type,
                c.start,
                c.end,
                c.speaker.start if c.speaker else None,
                c.speaker.end if c.speaker else None,
                c.cue_start,
                c.cue_end,
                c.confidence,
            )
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
