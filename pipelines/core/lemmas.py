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

import numpy as np
from spacy.attrs import IS_ALPHA, LEMMA, LOWER, POS
from spacy.parts_of_speech import IDS as POS_IDS
from spacy.strings import get_string_id
from spacy.tokens import Doc, Token

CACHE_SIZE = 500_000  # (word, POS, morphology) keys remembered before starting over

_LEMMATIZERS: dict[int, object] = {}  # id(vocab) -> the model's lemmatizer
_CACHE: dict[tuple[int, int, int], str] = {}
_FORMS: dict[tuple[int, frozenset[str]], frozenset[str]] = {}


def register(vocab, lemmatizer) -> None:
    """Lemmatise the tokens of `vocab`'s documents with `lemmatizer` (spaCy's component)."""
    _LEMMATIZERS[id(vocab)] = lemmatizer


def lemma_of(token: Token) -> str:
    """The token's lemma as spaCy's lemmatizer gives it (its own if one is set already)."""
    if token.lemma:
        return token.lemma_
    lemmatizer = _LEMMATIZERS.get(id(token.vocab))
    if lemmatizer is None:
        return token.lemma_
    key = (token.orth, token.pos, token.morph.key)
    lemma = _CACHE.get(key)
    if lemma is None:
        if len(_CACHE) >= CACHE_SIZE:
            _CACHE.clear()
        lemma = _CACHE[key] = lemmatizer.lemmatize(token)[0]
    return lemma


def lemmas_among(doc: Doc, wanted: frozenset[str]) -> set[str]:
    """Which of the lower-case lemmas `wanted` the document's alphabetic tokens have:
    `{lemma_of(t).lower() for t in doc if t.is_alpha} & wanted`."""
    lemmas = (lemma_of(doc[i]).lower() for i in _candidates(doc, wanted, alpha=True))
    return {lemma for lemma in lemmas if lemma in wanted}


def tokens_with_lemma(doc: Doc, wanted: frozenset[str], pos: str) -> list[int]:
    """The indices, in order, of the tokens of POS `pos` whose lemma is one of `wanted`."""
    return [i for i in _candidates(doc, wanted, pos=pos) if lemma_of(doc[i]) in wanted]


def _candidates(
    doc: Doc, wanted: frozenset[str], pos: str | None = None, alpha: bool = False
) -> list[int]:
    """The tokens (alphabetic ones, of POS `pos`) that may have a lemma in `wanted` (lower
    case): every token whose lemma is set already, and those whose word can give one."""
    if len(doc) == 0:
        return []
    found = doc.to_array([IS_ALPHA, POS, LOWER, LEMMA])
    mask = np.ones(len(doc), dtype=bool)
    if alpha:
        mask &= found[:, 0] == 1
    if pos is not None:
        mask &= found[:, 1] == POS_IDS[pos]
    forms = _forms(_LEMMATIZERS.get(id(doc.vocab)), wanted)
    if forms is not None:
        words = np.array([get_string_id(w) for w in forms], dtype=np.uint64)
        mask &= (found[:, 3] != 0) | np.isin(found[:, 2], words)
    return np.flatnonzero(mask).tolist()


def _forms(lemmatizer, lemmas: frozenset[str]) -> frozenset[str] | None:
    """Every lower-case word spaCy's rule lemmatizer can lemmatise to one of `lemmas`: the
    lemma itself, what a suffix rule maps to it, what an exception lists it for (the only
    three sources of its forms). None when that cannot be read (no lemmatizer, or not a rule
    lemmatizer), and then every token is asked."""
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
                if lemmas.intersection(given):
                    found.add(word)
        forms = _FORMS[key] = frozenset(found)
    return forms
