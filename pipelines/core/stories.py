"""Stories: exact and near-duplicate articles grouped, so a wire story run by many outlets counts
once.

Two articles carry the same story when the word 5-shingles of their bodies (the text after the
headline line; case, accents, punctuation and quote marks ignored) have a Jaccard similarity of at
least `THRESHOLD`, when one lies almost wholly inside the other (a copy cut short: `is_copy`), or
when their bodies are the same words. A story is a connected group of such
articles, so it depends on the set of articles only; its canonical article is the earliest
published, then the first by `source_path`, and `story_id` is that article's `doc_id`.

Incremental by design: each article's MinHash signature (datasketch's, computed here) is kept
with its content hash, the verified similar pairs are kept too, and a run only signs the new or
changed articles and asks a MinHash LSH index of the whole corpus for their candidates, whose
similarity is then computed exactly from the shingles. Pairs between two unchanged articles
never change, and an LSH candidate is a pair that shares a band, whichever of the two arrived
first, so an incremental run leaves what a clean run over the same articles leaves.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl

SHINGLE_WORDS = 5
# 255 permutations in 85 bands of 3: a pair at Jaccard 0.3 is a candidate with probability 0.90,
# at 0.5 with 0.99998, at 0.05 with 0.01 (candidates are then checked exactly).
LSH_BANDS, LSH_ROWS = 85, 3
NUM_PERM = LSH_BANDS * LSH_ROWS
SEED = 1
SCHEME = "affine32"  # datasketch 2's default: 32-bit values, collision-free permutations
# Re-edited copies (another headline, a paragraph added or cut, a credit line) stay well above
# a Jaccard of 0.5; articles that share a topic, a template or a quote stay well below it.
THRESHOLD = 0.5
# A copy cut to a fraction of the original (the wire story's first paragraphs) has a low Jaccard
# but lies almost wholly inside it: containment (shared shingles over the smaller set's) of 0.9,
# for a copy of at least 20 shingles that is at least a fifth of the longer one.
CONTAINMENT = 0.9
MIN_CONTAINED_SHINGLES = 20
MIN_CONTAINED_JACCARD = 0.2
# A template filled in with other figures (a weekly price table, a dividend notice) is not a copy:
# when the smaller body has at least 3 numbers, at least half of them must be in the other.
MIN_NUMBERS, NUMBER_AGREEMENT = 3, 0.5
# The same words published weeks apart are a recurring report ("The Federal Reserve entered the
# market to arrange ... repurchase agreements"), not one story re-run: copies are published within
# this many days of each other, when both dates are known.
STORY_WINDOW_DAYS = 3

_WORD = re.compile(r"[^\W_]+")
_APOSTROPHES = re.compile(r"['’`ʼ]")


_DIGIT = re.compile(r"\d")
_COMBINING = re.compile(r"[\u0300-\u036f]")


def words(text: str) -> list[str]:
    """Lower-cased words without accents; punctuation, quote marks and whitespace are dropped and
    apostrophes close up ("Blair’s" is "blairs"), so retyped quote marks change nothing."""
    folded = text.lower()
    if not folded.isascii():
        folded = _COMBINING.sub("", unicodedata.normalize("NFKD", folded))
    return _WORD.findall(_APOSTROPHES.sub("", folded))


def body_of(text: str, title: str | None) -> str:
    """The article without its headline line: another outlet's headline is not another story.
    Text whose first line is not the title (a JSON article's body) is kept whole."""
    head, _, rest = text.lstrip().partition("\n")
    if title is None or head.strip() != title.strip():
        return text
    return rest if rest.strip() else text


_FNV_PRIME = np.uint32(0x01000193)


@functools.lru_cache(maxsize=1 << 18)
def _word_id(word: str) -> int:
    return zlib.crc32(word.encode())


def shingles(tokens: list[str], size: int = SHINGLE_WORDS) -> set[int]:
    """Word n-grams as 32-bit hashes (each word hashed once, the n words of a gram mixed in
    numpy); a body shorter than one n-gram is its one shingle."""
    if not tokens:
        return set()
    ids = np.array([_word_id(w) for w in tokens], np.uint32)
    n = max(1, len(tokens) - size + 1)
    grams = np.full(n, 0x811C9DC5, np.uint32)
    with np.errstate(over="ignore"):
        for offset in range(min(size, len(tokens))):
            grams = (grams ^ ids[offset : offset + n]) * _FNV_PRIME
    return set(grams.tolist())


def body_key(tokens: list[str]) -> str:
    return hashlib.sha256(" ".join(tokens).encode()).hexdigest()[:32]


# MinHash as datasketch 2.0's `MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32")` fed
# already-hashed 32-bit values computes it, value for value (tests/test_stories.py compares the
# two), without importing datasketch: its package imports scipy's integrators, about 1.2 s of CPU
# in every run that signs an article.
_UINT32 = np.uint32
# the MurmurHash3 32-bit finalizer (shift, multiplier, shift, multiplier, shift), datasketch's
# pre-mix of each input hash before the affine permutations
_FMIX32 = (_UINT32(16), _UINT32(0x85EBCA6B), _UINT32(13), _UINT32(0xC2B2AE35), _UINT32(16))
_MAX_HASH = _UINT32(0xFFFFFFFF)


@functools.cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The affine permutations h -> a * h + b mod 2^32 (odd `a`) that every signature shares,
    drawn as datasketch draws them from `RandomState(SEED)`."""
    generator = np.random.RandomState(SEED)
    a = generator.randint(0, 1 << 31, NUM_PERM, dtype=_UINT32) * _UINT32(2) + _UINT32(1)
    b = generator.randint(0, 1 << 32, NUM_PERM, dtype=_UINT32)
    return a, b


def signature(shingle_set: set[int]) -> np.ndarray:
    """The MinHash signature (NUM_PERM 32-bit values) of a set of shingle hashes."""
    if not shingle_set:
        return np.full(NUM_PERM, _MAX_HASH, dtype=_UINT32)
    hashes = np.array(list(shingle_set), dtype=_UINT32).reshape(-1, 1)
    s1, m1, s2, m2, s3 = _FMIX32
    hashes = hashes ^ (hashes >> s1)
    hashes = hashes * m1
    hashes = hashes ^ (hashes >> s2)
    hashes = hashes * m2
    hashes = hashes ^ (hashes >> s3)
    a, b = _permutations()
    return (hashes * a + b).min(axis=0)


def jaccard(a: set[int], b: set[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def numbers(tokens: list[str]) -> Counter[str]:
    return Counter(t for t in tokens if _DIGIT.search(t))


def numbers_agree(a: Counter[str], b: Counter[str]) -> bool:
    smaller = min(a.total(), b.total())
    return smaller < MIN_NUMBERS or (a & b).total() >= NUMBER_AGREEMENT * smaller


def is_copy(a: set[int], b: set[int]) -> float | None:
    """The pair's shingle Jaccard when one body is a copy of the other, else None."""
    if not a or not b:
        return None
    shared = len(a & b)
    similarity = shared / (len(a) + len(b) - shared)
    if similarity >= THRESHOLD:
        return similarity
    smaller = min(len(a), len(b))
    if (
        smaller >= MIN_CONTAINED_SHINGLES
        and similarity >= MIN_CONTAINED_JACCARD
        and shared >= CONTAINMENT * smaller
    ):
        return similarity
    return None


SIGNATURE_SCHEMA = {
    "doc_id": pl.String,
    "content_sha256": pl.String,
    "body_key": pl.String,
    "n_shingles": pl.Int32,
    "signature": pl.List(pl.Int64),  # 32-bit values; Delta Lake has no unsigned types
}
PAIR_SCHEMA = {"doc_a": pl.String, "doc_b": pl.String, "similarity": pl.Float64}
STORY_SCHEMA = {"doc_id": pl.String, "story_id": pl.String, "duplicate_of": pl.String}


def _tokens(documents: pl.DataFrame) -> dict[str, list[str]]:
    return {
        row["doc_id"]: words(body_of(row["text"], row["title"]))
        for row in documents.select("doc_id", "text", "title").iter_rows(named=True)
    }


def sign(documents: pl.DataFrame, tokens: Mapping[str, list[str]] | None = None) -> pl.DataFrame:
    """Signature rows for `documents` (doc_id, content_sha256, title, text), from their words
    (`tokens`, when the caller has them already)."""
    tokens = _tokens(documents) if tokens is None else tokens
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


_BAND_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93],
    dtype=np.uint64,
)[:LSH_ROWS]


def band_keys(signatures: pl.DataFrame) -> pl.DataFrame:
    """The LSH index rows of signatures: (doc_id, band, key), one per band of LSH_ROWS values.
    Two articles are candidates when they share a key in some band. (datasketch's MinHashLSH
    bands the same way, with a Python dict per band; hashed here in numpy and matched with a
    join, the index of 21,268 articles takes a fraction of a second.)"""
    rows = signatures.filter(pl.col("signature").is_not_null())
    if rows.is_empty():
        return pl.DataFrame(schema={"doc_id": pl.String, "band": pl.Int32, "key": pl.UInt64})
    # the list column straight to a matrix (no Python list per signature: 21,268 take 0.05 s)
    values = rows["signature"].explode().to_numpy().astype(np.uint64)
    matrix = values.reshape(len(rows), NUM_PERM)
    with np.errstate(over="ignore"):
        mixed = matrix.reshape(len(rows), LSH_BANDS, LSH_ROWS) * _BAND_MIX
        keys = np.bitwise_xor.reduce(mixed, axis=2) ^ (mixed[:, :, 0] >> np.uint64(29))
    return pl.DataFrame(
        {
            "doc_id": np.repeat(rows["doc_id"].to_numpy(), LSH_BANDS),
            "band": np.tile(np.arange(LSH_BANDS, dtype=np.int32), len(rows)),
            "key": keys.reshape(-1),
        }
    )


def candidate_pairs(index: pl.DataFrame, new_ids: list[str]) -> pl.DataFrame:
    """(doc_a, doc_b), doc_a < doc_b: each new article with every article sharing a band key."""
    new = index.filter(pl.col("doc_id").is_in(new_ids))
    return (
        new.join(index, on=["band", "key"], suffix="_other")
        .filter(pl.col("doc_id") != pl.col("doc_id_other"))
        .select(
            pl.min_horizontal("doc_id", "doc_id_other").alias("doc_a"),
            pl.max_horizontal("doc_id", "doc_id_other").alias("doc_b"),
        )
        .unique()
        .sort("doc_a", "doc_b")
    )


def verify(candidates: pl.DataFrame, tokens: Mapping[str, list[str]]) -> pl.DataFrame:
    """The candidate pairs that are copies (`is_copy`, `numbers_agree`), with their exact
    shingle Jaccard (`tokens` holds the words of at least every article of a pair)."""
    involved = {*candidates["doc_a"], *candidates["doc_b"]}
    shingle_sets = {doc_id: shingles(tokens[doc_id]) for doc_id in involved}
    figures = {doc_id: numbers(tokens[doc_id]) for doc_id in involved}
    rows = []
    for a, b in candidates.iter_rows():
        similarity = is_copy(shingle_sets[a], shingle_sets[b])
        if similarity is not None and numbers_agree(figures[a], figures[b]):
            rows.append({"doc_a": a, "doc_b": b, "similarity": similarity})
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

    published = dict(documents.select("doc_id", "published_at").iter_rows())
    window = timedelta(days=STORY_WINDOW_DAYS)
    for a, b in pairs.select("doc_a", "doc_b").iter_rows():
        if a not in parent or b not in parent:
            continue
        when_a, when_b = published[a], published[b]
        if when_a is None or when_b is None or abs(when_a - when_b) <= window:
            join(a, b)
    same_body = (
        documents.group_by("body_key").agg(pl.col("doc_id")).filter(pl.col("doc_id").list.len() > 1)
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
    compared: int  # LSH candidate pairs whose exact similarity was computed


TEXT_SCHEMA = {"doc_id": pl.String, "title": pl.String, "text": pl.String}


def update(
    documents: pl.DataFrame,
    signatures: pl.DataFrame,
    pairs: pl.DataFrame,
    texts: Callable[[list[str]], pl.DataFrame] | None = None,
) -> StoryUpdate:
    """The corpus's stories after `documents` (doc_id, content_sha256, source_path, published_at:
    every current article), given the last run's signatures and pairs (empty for a clean run).
    Only new and changed articles are signed and compared, so only theirs and their candidates'
    texts are needed: `texts(doc_ids)` gives them (doc_id, title, text; by default they are
    columns of `documents`), and a large corpus's bodies are never all read."""
    if texts is None:
        texts = functools.partial(_rows_of, documents)
    current = documents.select("doc_id", "content_sha256")
    kept = signatures.join(current, on=["doc_id", "content_sha256"], how="semi")
    fresh = current.join(kept.select("doc_id"), on="doc_id", how="anti")
    new_ids = sorted(fresh["doc_id"].to_list())
    fresh_texts = texts(new_ids) if new_ids else pl.DataFrame(schema=TEXT_SCHEMA)
    fresh_rows = fresh.join(fresh_texts, on="doc_id", how="left")
    tokens = _tokens(fresh_rows)  # the new articles' words, split once for signing and pairs
    signed = sign(fresh_rows, tokens)
    signatures = pl.concat([kept, signed]).sort("doc_id")
    kept_ids = kept.select("doc_id")
    pairs = pairs.join(kept_ids.rename({"doc_id": "doc_a"}), on="doc_a", how="semi").join(
        kept_ids.rename({"doc_id": "doc_b"}), on="doc_b", how="semi"
    )
    compared = 0
    if new_ids:
        candidates = candidate_pairs(band_keys(signatures), new_ids)
        involved = set(candidates["doc_a"].to_list()) | set(candidates["doc_b"].to_list())
        compared = candidates.height
        others = sorted(involved - set(new_ids))
        if others:
            tokens = {**tokens, **_tokens(texts(others))}
        pairs = pl.concat([pairs, verify(candidates, tokens)])
    pairs = pairs.unique(["doc_a", "doc_b"]).sort("doc_a", "doc_b")
    meta = documents.select("doc_id", "source_path", "published_at").join(
        signatures.select("doc_id", "body_key"), on="doc_id"
    )
    return StoryUpdate(signatures, pairs, assign_stories(meta, pairs), len(new_ids), compared)


def _rows_of(documents: pl.DataFrame, doc_ids: list[str]) -> pl.DataFrame:
    return documents.filter(pl.col("doc_id").is_in(doc_ids)).select(*TEXT_SCHEMA)
