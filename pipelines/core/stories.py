"""Stories: exact and near-duplicate articles grouped, so a wire story run by many outlets counts
once.

Two articles carry the same story when the word 5-shingles of their bodies (the text after the
headline line; case, accents, punctuation and quote marks ignored) have a Jaccard similarity of at
least `THRESHOLD`, or when their bodies are the same words. A story is a connected group of such
articles, so it depends on the set of articles only; its canonical article is the earliest
published, then the first by `source_path`, and `story_id` is that article's `doc_id`.

Incremental by design: each article's MinHash signature (datasketch) is kept with its content
hash, the verified similar pairs are kept too, and a run only signs the new or changed articles
and asks a MinHash LSH index of the whole corpus for their candidates, whose similarity is then
computed exactly from the shingles. Pairs between two unchanged articles never change, and an
LSH candidate is a pair that shares a band, whichever of the two arrived first, so an
incremental run leaves what a clean run over the same articles leaves.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
from datasketch import LeanMinHash, MinHash, MinHashLSH

SHINGLE_WORDS = 5
# 256 permutations in 64 bands of 4: a pair at Jaccard 0.5 is a candidate with probability 0.98,
# at 0.6 with 0.9997, at 0.2 only 0.10 (those are dropped by the exact check).
NUM_PERM = 256
LSH_BANDS, LSH_ROWS = 64, 4
SEED = 1
# Re-edited copies (another headline, a paragraph added or cut, a credit line) stay well above
# 0.5; articles that share a topic, a template or a quote stay well below it.
THRESHOLD = 0.5

_WORD = re.compile(r"[^\W_]+")
_APOSTROPHES = re.compile(r"['’`ʼ]")


def words(text: str) -> list[str]:
    """Lower-cased words without accents; punctuation, quote marks and whitespace are dropped and
    apostrophes close up ("Blair’s" is "blairs"), so retyped quote marks change nothing."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _WORD.findall(_APOSTROPHES.sub("", folded))


def body_of(text: str, title: str | None) -> str:
    """The article without its headline line: another outlet's headline is not another story.
    Text whose first line is not the title (a JSON article's body) is kept whole."""
    head, _, rest = text.lstrip().partition("\n")
    if title is None or head.strip() != title.strip():
        return text
    return rest if rest.strip() else text


def shingles(tokens: list[str], size: int = SHINGLE_WORDS) -> set[str]:
    """Word n-grams; a body shorter than one n-gram is its one shingle."""
    if len(tokens) < size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def body_key(tokens: list[str]) -> str:
    return hashlib.sha256(" ".join(tokens).encode()).hexdigest()[:32]


_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=SEED).permutations


def signature(shingle_set: set[str]) -> np.ndarray:
    """The MinHash signature (NUM_PERM 32-bit values) of a set of shingles."""
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_PERMUTATIONS)
    minhash.update_batch([s.encode() for s in sorted(shingle_set)])
    return minhash.hashvalues.astype(np.uint32)


def jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


SIGNATURE_SCHEMA = {
    "doc_id": pl.String,
    "content_sha256": pl.String,
    "body_key": pl.String,
    "n_shingles": pl.Int32,
    "signature": pl.List(pl.UInt32),
}
PAIR_SCHEMA = {"doc_a": pl.String, "doc_b": pl.String, "similarity": pl.Float64}
STORY_SCHEMA = {"doc_id": pl.String, "story_id": pl.String, "duplicate_of": pl.String}


def _tokens(documents: pl.DataFrame) -> dict[str, list[str]]:
    return {
        row["doc_id"]: words(body_of(row["text"], row["title"]))
        for row in documents.select("doc_id", "text", "title").iter_rows(named=True)
    }


def sign(documents: pl.DataFrame) -> pl.DataFrame:
    """Signature rows for `documents` (doc_id, content_sha256, title, text)."""
    tokens = _tokens(documents)
    rows = []
    for doc_id, sha in documents.select("doc_id", "content_sha256").iter_rows():
        shingle_set = shingles(tokens[doc_id])
        rows.append(
            {
                "doc_id": doc_id,
                "content_sha256": sha,
                "body_key": body_key(tokens[doc_id]),
                "n_shingles": len(shingle_set),
                "signature": signature(shingle_set).tolist() if shingle_set else None,
            }
        )
    return pl.DataFrame(rows, schema=SIGNATURE_SCHEMA)


class StoryIndex:
    """A MinHash LSH index of signatures (datasketch), asked for the candidates of one article."""

    def __init__(self, signatures: pl.DataFrame) -> None:
        self._lsh = MinHashLSH(num_perm=NUM_PERM, params=(LSH_BANDS, LSH_ROWS))
        self._minhashes: dict[str, LeanMinHash] = {}
        with self._lsh.insertion_session() as session:
            for doc_id, values in signatures.select("doc_id", "signature").iter_rows():
                if values is None:
                    continue
                minhash = LeanMinHash(seed=SEED, hashvalues=np.asarray(values, dtype=np.uint64))
                self._minhashes[doc_id] = minhash
                session.insert(doc_id, minhash, check_duplication=False)

    def candidates(self, doc_id: str) -> list[str]:
        minhash = self._minhashes.get(doc_id)
        if minhash is None:
            return []
        return sorted(other for other in self._lsh.query(minhash) if other != doc_id)


def similar_pairs(
    new_ids: Iterable[str], index: StoryIndex, shingle_sets: Mapping[str, set[str]]
) -> pl.DataFrame:
    """The verified pairs (doc_a < doc_b) of each new article with its LSH candidates."""
    seen: set[tuple[str, str]] = set()
    rows = []
    for doc_id in new_ids:
        for other in index.candidates(doc_id):
            pair = (min(doc_id, other), max(doc_id, other))
            if pair in seen:
                continue
            seen.add(pair)
            similarity = jaccard(shingle_sets[pair[0]], shingle_sets[pair[1]])
            if similarity >= THRESHOLD:
                rows.append({"doc_a": pair[0], "doc_b": pair[1], "similarity": similarity})
    return pl.DataFrame(rows, schema=PAIR_SCHEMA)


def assign_stories(documents: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """Connected components of `pairs` (and of equal bodies) over `documents` (doc_id,
    source_path, published_at, body_key): each article's story and, for a copy, its canonical
    article (earliest published, then first by source_path)."""
    order = documents.sort(
        ["published_at", "source_path", "doc_id"], nulls_last=True, maintain_order=True
    )["doc_id"].to_list()
    rank = {doc_id: i for i, doc_id in enumerate(order)}
    parent = {doc_id: doc_id for doc_id in order}

    def root(doc_id: str) -> str:
        while parent[doc_id] != doc_id:
            parent[doc_id] = parent[parent[doc_id]]
            doc_id = parent[doc_id]
        return doc_id

    def join(a: str, b: str) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:  # the earlier article is the root, so a root is its story's canonical one
            parent[max(ra, rb, key=rank.__getitem__)] = min(ra, rb, key=rank.__getitem__)

    for a, b in pairs.select("doc_a", "doc_b").iter_rows():
        if a in parent and b in parent:
            join(a, b)
    same_body = documents.group_by("body_key").agg(pl.col("doc_id")).filter(
        pl.col("doc_id").list.len() > 1
    )
    for ids in same_body["doc_id"].to_list():
        for other in ids[1:]:
            join(ids[0], other)
    story = [root(doc_id) for doc_id in order]
    return pl.DataFrame(
        {
            "doc_id": order,
            "story_id": story,
            "duplicate_of": [s if s != d else None for d, s in zip(order, story, strict=True)],
        },
        schema=STORY_SCHEMA,
    ).sort("doc_id")


@dataclass(frozen=True)
class StoryUpdate:
    signatures: pl.DataFrame
    pairs: pl.DataFrame
    stories: pl.DataFrame
    signed: int  # articles signed in this run (new or changed)
    compared: int  # candidate partners whose shingles were read for the exact check


def update(
    documents: pl.DataFrame, signatures: pl.DataFrame, pairs: pl.DataFrame
) -> StoryUpdate:
    """The corpus's stories after `documents` (doc_id, content_sha256, source_path, published_at,
    title, text: every current article), given the last run's signatures and pairs (empty for a
    clean run). Only new and changed articles are signed and compared."""
    current = documents.select("doc_id", "content_sha256")
    kept = signatures.join(current, on=["doc_id", "content_sha256"], how="semi")
    fresh = documents.join(kept.select("doc_id"), on="doc_id", how="anti")
    signatures = pl.concat([kept, sign(fresh)]).sort("doc_id")
    kept_ids = kept.select("doc_id")
    pairs = pairs.join(kept_ids.rename({"doc_id": "doc_a"}), on="doc_a", how="semi").join(
        kept_ids.rename({"doc_id": "doc_b"}), on="doc_b", how="semi"
    )
    new_ids = fresh["doc_id"].to_list()
    index = StoryIndex(signatures) if new_ids else None
    compared = 0
    if index is not None:
        involved = set(new_ids)
        for doc_id in new_ids:
            involved.update(index.candidates(doc_id))
        compared = len(involved) - len(new_ids)
        subset = documents.filter(pl.col("doc_id").is_in(sorted(involved)))
        shingle_sets = {doc_id: shingles(t) for doc_id, t in _tokens(subset).items()}
        pairs = pl.concat([pairs, similar_pairs(new_ids, index, shingle_sets)])
    pairs = pairs.unique(["doc_a", "doc_b"]).sort("doc_a", "doc_b")
    meta = documents.select("doc_id", "source_path", "published_at").join(
        signatures.select("doc_id", "body_key"), on="doc_id"
    )
    return StoryUpdate(signatures, pairs, assign_stories(meta, pairs), len(new_ids), compared)
