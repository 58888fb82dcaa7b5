"""Lemmas on demand: the model's own lemmatizer, asked only about the tokens a rule reads.

The pipeline does not lemmatise every token (that cost about 4 % of a full run, nearly all of it
spaCy's rule lemmatizer meeting a word for the first time): a rule asks `lemma_of(token)`, which
gives the very lemma spaCy's `lemmatizer` component would have set (the attribute ruler's own
lemma where it set one, else the lemmatizer's first form for the token's word, POS and
morphology, which is all that lemma depends on), cached per process. A question about a whole
document ("which of these lemmas does it hold?") is answered from the words that could have
them, read off the lemmatizer's own tables, so the other tokens are never lemmatised.

`register` (called by `load_nlp`) tells this module which lemmatizer serves a vocabulary; a
`Doc` of any other vocabulary keeps whatever lemmas it carries.
"""

from __future__ import annotations

import weakref

import numpy as np
from spacy.attrs import IS_ALPHA, LEMMA, LOWER, MORPH, ORTH, POS
from spacy.parts_of_speech import IDS as POS_IDS
from spacy.strings import get_string_id
from spacy.tokens import Doc, Token

CACHE_SIZE = 500_000  # (word, POS, morphology) keys remembered before starting over

# id(vocab) -> the model's lemmatizer, held weakly: a pipeline `load_nlp` lets go of is freed
_LEMMATIZERS: weakref.WeakValueDictionary[int, object] = weakref.WeakValueDictionary()
_CACHE: dict[tuple[int, int, int, int], str] = {}  # (lemmatizer, word, POS, morphology) -> lemma
_FORMS: dict[tuple[int, frozenset[str]], frozenset[int]] = {}
_ASKED = [IS_ALPHA, POS, LOWER, LEMMA, ORTH, MORPH]  # what `_tokens_with` reads of each token


def register(vocab, lemmatizer) -> None:
    """Lemmatise the tokens of `vocab`'s documents with `lemmatizer` (spaCy's component)."""
    _index_as_sets(lemmatizer)
    _LEMMATIZERS[id(vocab)] = lemmatizer


def _index_as_sets(lemmatizer) -> None:
    """The rule lemmatizer's `lemma_index` (the known lemmas per POS) held as sets.

    spaCy's `rule_lemmatize` asks `form in index` of every form its suffix rules make, and the
    model ships each POS's index as a list (57,528 nouns, 8,700 verbs): a word met for the first
    time cost about 0.3 ms of linear scans, most of extracting a document a process has not seen
    words of. A set answers each question the same, and the lemmatizer only asks membership."""
    lookups = getattr(lemmatizer, "lookups", None)
    if lookups is None or not lookups.has_table("lemma_index"):
        return
    index = lookups.get_table("lemma_index")
    for pos in list(index.keys()):
        if not isinstance(index[pos], frozenset):
            index[pos] = frozenset(index[pos])


def lemma_of(token: Token) -> str:
    """The token's lemma as spaCy's lemmatizer gives it (its own if one is set already)."""
    if token.lemma:
        return token.lemma_
    lemmatizer = _LEMMATIZERS.get(id(token.vocab))
    if lemmatizer is None:
        return token.lemma_
    key = _key(lemmatizer, token.orth, token.pos, token.morph.key)
    lemma = _CACHE.get(key)
    if lemma is None:
        if len(_CACHE) >= CACHE_SIZE:  # the lemmatizer's own cache too: it has no bound
            _CACHE.clear()
            lemmatizer.cache.clear()
        lemma = _CACHE[key] = lemmatizer.lemmatize(token)[0]
    return lemma


def _key(lemmatizer, orth: int, pos: int, morph: int) -> tuple[int, int, int, int]:
    """The cache's key: the lemma depends on the word, its POS and its morphology only."""
    return (id(lemmatizer), orth, pos, morph)


def lemmas_among(doc: Doc, wanted: frozenset[str]) -> set[str]:
    """Which of the lower-case lemmas `wanted` the document's alphabetic tokens have:
    `{lemma_of(t).lower() for t in doc if t.is_alpha} & wanted`."""
    return {lemma for _i, lemma in _tokens_with(doc, wanted, alpha=True, lower=True)}


def tokens_with_lemma(doc: Doc, wanted: frozenset[str], pos: str) -> list[int]:
    """The indices, in order, of the tokens of POS `pos` whose lemma is one of `wanted`."""
    return [i for i, _lemma in _tokens_with(doc, wanted, pos=pos)]


def _tokens_with(
    doc: Doc,
    wanted: frozenset[str],
    pos: str | None = None,
    alpha: bool = False,
    lower: bool = False,
) -> list[tuple[int, str]]:
    """(index, lemma) of the tokens (alphabetic ones, of POS `pos`) whose lemma (lower-cased
    with `lower`) is one of `wanted`: a lemma set already is read from the document's array,
    and only a token whose word can give a wanted lemma is lemmatised."""
    if len(doc) == 0:
        return []
    found = doc.user_data.get("lemma_arrays")
    if found is None:  # read once per document: both questions a document is asked read it
        found = doc.user_data["lemma_arrays"] = doc.to_array(_ASKED)
    mask = np.ones(len(doc), dtype=bool)
    if alpha:
        mask &= found[:, 0] == 1
    if pos is not None:
        mask &= found[:, 1] == POS_IDS[pos]
    words = _form_ids(_LEMMATIZERS.get(id(doc.vocab)), wanted)
    if words is None:
        asked = np.flatnonzero(mask).tolist()
    else:
        # a token whose lemma is set already has one of the wanted lemmas, or else is unset and
        # has a form that can give one (set look-ups: a handful of lemmas, a few hundred forms,
        # where `np.isin` sorted both sides on every call)
        strings = doc.vocab.strings
        ruled = np.flatnonzero(mask & (found[:, 3] != 0))
        unset = np.flatnonzero(mask & (found[:, 3] == 0))
        lemmas, forms = found[ruled, 3].tolist(), found[unset, 2].tolist()
        hits = {
            lemma
            for lemma in set(lemmas)
            if (strings[lemma].lower() if lower else strings[lemma]) in wanted
        }
        asked = sorted(
            [i for i, lemma in zip(ruled.tolist(), lemmas, strict=True) if lemma in hits]
            + [i for i, form in zip(unset.tolist(), forms, strict=True) if form in words]
        )
    out = []
    lemmatizer = _LEMMATIZERS.get(id(doc.vocab))
    strings = doc.vocab.strings
    for i in asked:
        # `lemma_of(doc[i])`, read from the arrays (its own lemma, else the cache under the
        # token's key) where it can be: a `Token` is made only for a word not lemmatised yet
        row = found[i]
        if row[3]:
            lemma = strings[int(row[3])]
        else:
            key = _key(lemmatizer, int(row[4]), int(row[1]), int(row[5]))
            lemma = _CACHE.get(key) if lemmatizer is not None else None
            if lemma is None:
                lemma = lemma_of(doc[i])
        lemma = lemma.lower() if lower else lemma
        if lemma in wanted:
            out.append((i, lemma))
    return out


def _form_ids(lemmatizer, lemmas: frozenset[str]) -> frozenset[int] | None:
    """The hashes of every lower-case word spaCy's rule lemmatizer can lemmatise to one of
    `lemmas`: the lemma itself, what a suffix rule maps to it, what an exception lists it for
    (the only three sources of its forms). None when that cannot be read (no lemmatizer, or
    not a rule lemmatizer), and then every token is asked."""
    if lemmatizer is None or getattr(lemmatizer, "mode", None) != "rule":
        return None
    key = (id(lemmatizer), lemmas)
    forms = _FORMS.get(key)
    if forms is None:
        found = set(lemmas)
        lookups = lemmatizer.lookups
        for rules in lookups.get_table("lemma_rules", {}).values():
            for old, new in rules:
                for lemma in lemmas:
                    if lemma.endswith(new):
                        found.add(lemma[: len(lemma) - len(new)] + old)
        for exceptions in lookups.get_table("lemma_exc", {}).values():
            for word, given in exceptions.items():
                if lemmas.intersection(g.lower() for g in given):
                    found.add(word)
        forms = _FORMS[key] = frozenset(get_string_id(w) for w in found)
    return forms
