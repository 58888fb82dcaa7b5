"""A batch of documents through spaCy and every extractor, giving the batch's table rows.

This is the unit of parallel work: a worker process loads the model once and annotates many
small batches, returning small Polars frames rather than spaCy `Doc`s, so nothing heavy crosses
process boundaries. A process keeps for good what its batches add to the vocabulary (the
strings and lexemes of their words) until it holds `KEPT_WORDS` lexemes (the first words it
meets, which in news are mostly the frequent ones): the model's own vocabulary has a few hundred
words, so without that every batch would make its lexemes (and tokenize its words) afresh, about
a third of rebuilding a kept parse. Past that bound each batch runs inside a spaCy memory zone,
so what it adds is freed with it and a worker's memory stays flat however large the corpus
(without the zone, the vocabulary of a long run grows with every new word it sees). A batch
below the bound runs outside a zone, so each new word's lexeme is made once: kept words used to
be made in the zone, freed, and made again after it (about 6 % of re-extracting a document a
process meets early). A lexeme's attributes come from its string alone, so the rows are the same
either way.

A document may come with its kept parse (spaCy `DocBin` bytes, `document_parses`): it is then
extracted from that `Doc` and not parsed again, which is what a change of the extraction code
costs (see `pipelines.core.versions`). A round trip through the bytes keeps every attribute
the extractors read (tokens and spaces, tags, morphology, the attribute ruler's lemmas, heads
and dependencies, sentence starts, entities; other lemmas come from those on demand,
`pipelines.core.lemmas`), so the rows are the rows a fresh parse gives (tested).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from functools import lru_cache, partial

import numpy as np
import polars as pl
import srsly
from spacy.attrs import DEP, ENT_ID, ENT_KB_ID, ENT_TYPE, LEMMA, MORPH, NORM, ORTH, SPACY, TAG
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from srsly.msgpack import _Packer as SrslyPacker
from srsly.msgpack import _unpackb as srsly_unpackb
from thinc.api import NumpyOps

from pipelines.core.claims import Claim, extract_claims
from pipelines.core.doc_arrays import text_of
from pipelines.core.entities import Mention, extract_mentions
from pipelines.core.nlp import load_nlp
from pipelines.core.parse import parse_texts
from pipelines.core.sentences import Sentence, SentenceIndex, split_sentences
from pipelines.core.tables import frame

Batch = list[tuple[str, str]]  # (doc_id, text)
Parses = dict[str, bytes]  # doc_id -> its kept parse
KEPT_WORDS = 60_000  # lexemes a process keeps across batches (about 32 MB), see the docstring


@dataclass(frozen=True)
class Annotation:
    """One document as the pipeline annotates it: the parse and the rows taken from it."""

    doc_id: str
    doc: Doc
    sentences: list[Sentence]
    mentions: list[Mention]
    claims: list[Claim]


def parse_bytes(doc: Doc) -> bytes:
    """A document's parse as `DocBin` bytes (its own strings with it; no user data).

    The very bytes of `DocBin.add` and `to_bytes` (tested), made faster: the strings a `DocBin`
    keeps of each token (its text, tag, lemma, norm, morphology, dependency and entity labels)
    are read off the document's arrays, where `add` asks nine properties of every token, and
    srsly's msgpack encoders are chained once (its `packb` looks them up, reading every
    installed package's entry points, on each call)."""
    docs = DocBin(store_user_data=False)
    if len(doc) == 0 or doc.spans:  # what the arrays do not cover: spaCy's own way
        docs.add(doc)
        return docs.to_bytes()
    tokens = doc.to_array(docs.attrs)
    spaces = np.asarray(doc.to_array(SPACY).reshape(-1, 1), dtype=bool)
    names = doc.vocab.strings
    docs.strings.update(names[int(h)] for h in np.unique(doc.to_array(_TOKEN_STRINGS)))
    # str(token.morph): the analysis as written, "" for none (which the store holds as "_")
    morphs = (names[int(h)] for h in np.unique(doc.to_array(MORPH)))
    docs.strings.update("" if m == _EMPTY_MORPH else m for m in morphs)
    msg = {
        "version": docs.version,
        "attrs": docs.attrs,
        "tokens": tokens.tobytes("C"),
        "spaces": spaces.tobytes("C"),
        "lengths": np.asarray([len(tokens)], dtype="int32").tobytes("C"),
        "strings": sorted(docs.strings),
        "cats": [doc.cats],
        "flags": [{"has_unknown_spaces": doc.has_unknown_spaces}],
        "span_groups": [doc.spans.to_bytes()],
    }
    return zlib.compress(SrslyPacker(default=_chained("encoders"), use_bin_type=True).pack(msg))


# what `DocBin.add` keeps of each token besides its morphology: text, tag_, lemma_, norm_,
# dep_, ent_type_, ent_kb_id_, ent_id_
_TOKEN_STRINGS = [ORTH, TAG, LEMMA, NORM, DEP, ENT_TYPE, ENT_KB_ID, ENT_ID]
_EMPTY_MORPH = "_"  # spaCy's string for no morphological features


def doc_from_bytes(nlp: Language, data: bytes) -> Doc:
    """The `Doc` that `parse_bytes` kept, in this pipeline's vocabulary.

    The kept strings go into the string store only: `DocBin.get_docs` would make a lexeme of
    each (every lemma, tag and morphology string too, half the cost of the rebuild), where the
    `Doc` needs lexemes only for its words, which it makes from the store as a parse does."""
    kept = _docbin_from_bytes(data)
    for string in kept.strings:
        nlp.vocab.strings.add(string)
    kept.strings = set()
    [doc] = kept.get_docs(nlp.vocab)
    return doc


def _docbin_from_bytes(data: bytes) -> DocBin:
    """`DocBin().from_bytes(data)`, with srsly's msgpack decoders chained once per process:
    srsly's `unpackb` asks catalogue for them on every call, which reads every installed
    package's entry points (a quarter of the cost of rebuilding a kept parse)."""
    msg = srsly_unpackb(
        zlib.decompress(data), raw=False, use_list=True, object_hook=_chained("decoders")
    )
    kept = DocBin()
    kept.attrs = msg["attrs"]
    kept.strings = set(msg["strings"])
    lengths = np.frombuffer(msg["lengths"], dtype="int32")
    tokens = np.frombuffer(msg["tokens"], dtype="uint64").reshape(-1, len(kept.attrs))
    spaces = np.frombuffer(msg["spaces"], dtype=bool).reshape(-1, 1)
    ops = NumpyOps()
    kept.tokens, kept.spaces = ops.unflatten(tokens, lengths), ops.unflatten(spaces, lengths)
    kept.cats = msg["cats"]
    kept.span_groups = msg.get("span_groups", [b"" for _ in lengths])
    kept.flags = msg.get("flags", [{} for _ in lengths])
    kept.user_data = list(msg["user_data"]) if "user_data" in msg else [None] * len(lengths)
    return kept


@lru_cache(maxsize=2)
def _chained(kind: str) -> Callable | None:
    """srsly's registered msgpack hooks of one kind ("decoders", "encoders") chained into one,
    as its `unpackb` and `Packer` chain them on every call."""
    hook = None
    for function in getattr(srsly.msgpack, f"msgpack_{kind}").get_all().values():
        hook = partial(function, chain=hook)
    return hook


def parsed_docs(
    nlp: Language, batch: Batch, parses: Parses | None = None
) -> Iterator[tuple[Doc, str, bool]]:
    """(doc, doc_id, parsed now) in the batch's order: a document with a kept parse whose text
    is its text comes from it, every other one is parsed (all in one `nlp.pipe`), each distinct
    text once: copies of one text in a batch (an article saved under two names) share one `Doc`,
    which every extractor reads and none changes but for caches of what its text gives
    (`doc_arrays`), so each copy's rows are those its own parse would give."""
    kept: dict[str, Doc] = {}
    for doc_id, text in batch:
        if parses and doc_id in parses:
            doc = doc_from_bytes(nlp, parses[doc_id])
            if text_of(doc) == text:  # else the parse is of other text: parse again
                kept[doc_id] = doc
    # the texts to parse, listed before any is yielded: `kept` empties as the loop below
    # hands its documents out, and a lazy test of it would parse those again in others' places
    texts = dict.fromkeys(text for doc_id, text in batch if doc_id not in kept)
    fresh = parse_texts(nlp, ((text, None) for text in texts))  # each text once, in order
    parsed: dict[str, Doc] = {}
    for doc_id, text in batch:
        if doc_id in kept:
            yield kept.pop(doc_id), doc_id, False
            continue
        if text not in parsed:  # the first document of its text: the next parse
            parsed[text] = next(fresh)[0]
        yield parsed[text], doc_id, True


def annotate(
    nlp: Language, batch: Batch, quote_model: bool = True, parses: Parses | None = None
) -> Iterator[Annotation]:
    """Each document of a batch of (doc_id, text) parsed (or taken from its kept parse in
    `parses`), split into sentences, with its mentions and claims (its own entity decisions;
    the corpus step merges them across documents; with `quote_model` off, quotes come from the
    rules alone, NEWS_QUOTE_MODEL=off). The `Doc`s live only as long as the caller's memory
    zone, if any."""
    for annotation, _parsed in _annotate(nlp, batch, quote_model, parses):
        yield annotation


def _annotate(
    nlp: Language, batch: Batch, quote_model: bool, parses: Parses | None
) -> Iterator[tuple[Annotation, bool]]:
    for doc, doc_id, parsed in parsed_docs(nlp, batch, parses):
        sentences = split_sentences(doc_id, doc)
        index = SentenceIndex(sentences)
        mentions = extract_mentions(doc_id, doc, index)
        claims = extract_claims(doc_id, doc, index, mentions, quote_model)
        yield Annotation(doc_id, doc, sentences, mentions, claims), parsed


# which documents were parsed now, which of those took the parse of an earlier document of the
# batch with their text (`parsed_docs`), and the parse's bytes when kept
PARSES_FRAME = {"doc_id": pl.String, "parsed": pl.Boolean, "shared": pl.Boolean, "parse": pl.Binary}


def annotate_batch(
    batch: Batch,
    quote_model: bool = True,
    parses: Parses | None = None,
    keep_parses: bool = False,
) -> dict[str, pl.DataFrame]:
    """The table rows of a batch of (doc_id, text): `annotate`, inside a spaCy memory zone once
    the process keeps `KEPT_WORDS` lexemes (see the module's docstring). With `parses` (doc_id
    -> kept parse) those documents are not parsed again; the result's `parses` frame says which
    documents were parsed now (and which shared a parse), with their parse's bytes when
    `keep_parses`."""
    nlp = load_nlp()
    sentences, mentions, claims = [], [], []
    ids, fresh, shared, kept = [], [], [], []
    made: dict[int, bytes | None] = {}  # id(Doc) -> its bytes: copies share one Doc, one parse
    # below the bound, what the batch adds to the vocabulary is kept: no zone to free it (the
    # count is spaCy's `Vocab.length`, which counts a zone's freed lexemes too, so it is exact
    # only until the first zone; past it the count only grows, and every batch has a zone)
    keeping = len(nlp.vocab) < KEPT_WORDS
    with nullcontext() if keeping else nlp.memory_zone():
        for annotation, parsed in _annotate(nlp, batch, quote_model, parses):
            sentences.extend(annotation.sentences)
            mentions.extend(annotation.mentions)
            claims.extend(annotation.claims)
            ids.append(annotation.doc_id)
            fresh.append(parsed)
            seen = parsed and id(annotation.doc) in made
            shared.append(seen)
            if parsed and not seen:
                made[id(annotation.doc)] = parse_bytes(annotation.doc) if keep_parses else None
            kept.append(made[id(annotation.doc)] if parsed else None)
    return {
        "sentences": frame("sentences", sentences),
        "document_mentions": frame("document_mentions", mentions),
        "document_claims": frame("document_claims", claims),
        "parses": pl.DataFrame(
            {"doc_id": ids, "parsed": fresh, "shared": shared, "parse": kept}, PARSES_FRAME
        ),
    }
