"""Lemmas on demand (`pipelines.core.lemmas`) are the lemmas spaCy's own lemmatizer gives."""

from __future__ import annotations

import spacy
from spacy.tokens import Doc

from pipelines.core.lemmas import lemma_of, lemmas_among, tokens_with_lemma
from pipelines.core.nlp import model_names

# Inflections the rules read lemmas of: irregular verbs (cues "said", "told"), plurals and
# comparatives, contractions the attribute ruler lemmatises itself ("'s", "n't"), numbers and
# units, and the same word under two tags ("saw" as a verb and a noun).
SENTENCES = [
    "The ministers said they had told reporters that prices were rising.",
    "She's been warning that it isn't better, and the children's geese were bigger.",
    "He saw the saw; officials cited 3.5 billion dollars and 40 percent.",
    '"We will do whatever it takes," said Luis Caputo, who vowed to defend the peso.\n'
    "Analysts were accusing the banks of having underestimated losses.",
    # words that lemmatise to a word asked about by a rule, by suffix and by exception: the
    # sports report's "matches", "goals", "drew" (draw), "won" (win), "beaten", "referees"
    "United drew both matches; Chelsea won after goals that had beaten the referees, says Reuters.",
    "SAID the boss, who reported that the clubs' seasons were drawn out. Says who?",
]
SPORTS = frozenset(["match", "goal", "draw", "win", "beat", "referee", "club", "season", "boss"])


def _lemmatised(nlp, doc: Doc) -> Doc:
    """A copy of `doc` run through spaCy's own lemmatizer, token by token."""
    plain = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    return nlp.get_pipe("lemmatizer")(plain)


def test_lemmas_are_the_lemmatizers_own_and_only_asked_for(nlp):
    assert "lemmatizer" not in nlp.pipe_names  # no component lemmatises every token
    for text in SENTENCES:
        doc = nlp(text)
        assert any(t.lemma == 0 for t in doc if t.is_alpha), "lemmas are not set by the parse"
        assert [lemma_of(t) for t in doc] == [t.lemma_ for t in _lemmatised(nlp, doc)], text
    again = nlp(SENTENCES[0])  # the same words again: from the cache, still the same
    assert [lemma_of(t) for t in again][:4] == ["the", "minister", "say", "they"]


def test_a_documents_lemmas_come_from_the_words_that_can_have_them(nlp):
    for text in SENTENCES:
        doc = nlp(text)
        plain = _lemmatised(nlp, doc)
        expected = {t.lemma_.lower() for t in plain if t.is_alpha} & SPORTS
        assert lemmas_among(doc, SPORTS) == expected, text
        says = [t.i for t in plain if t.pos_ == "VERB" and t.lemma_ in ("say", "report")]
        assert tokens_with_lemma(doc, frozenset(["say", "report"]), "VERB") == says, text
    found = lemmas_among(nlp(SENTENCES[4]), SPORTS)
    assert {"draw", "match", "win", "goal", "beat", "referee"} <= found
    assert lemmas_among(nlp(""), SPORTS) == set()


def test_the_lemma_index_held_as_sets_answers_as_the_shipped_lists(nlp):
    """The pipeline's lemmatizer holds its known lemmas as sets (a new word cost linear scans of
    lists of up to 57,528 words); a lemmatizer loaded as shipped gives every token the same
    lemmas, words it has never seen too."""
    ours = nlp.get_pipe("lemmatizer")
    assert all(isinstance(v, frozenset) for v in ours.lookups.get_table("lemma_index").values())
    shipped = None
    for name in model_names():
        try:
            shipped = spacy.load(name, exclude=["parser", "ner", "senter"]).get_pipe("lemmatizer")
            break
        except OSError:
            continue
    assert shipped is not None
    assert all(isinstance(v, list) for v in shipped.lookups.get_table("lemma_index").values())
    texts = [*SENTENCES, "The zorbling quangos outflanked reflagged tankers, unbriefed."]
    tokens = [t for text in texts for t in nlp(text)]
    assert [shipped.lemmatize(t) for t in tokens] == [ours.lemmatize(t) for t in tokens]
    assert {"zorble", "quango", "outflank", "reflag"} & {ours.lemmatize(t)[0] for t in tokens}


def test_no_rule_reads_a_lemma_the_parse_no_longer_sets():
    """`token.lemma_` holds only the attribute ruler's few lemmas now: every rule asks
    `lemma_of` (a rule reading `.lemma_` would see "" for "be" in "will be", say)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sources = [*(root / "pipelines").rglob("*.py"), *(root / "scripts").glob("*.py")]
    readers = [
        f"{path.relative_to(root)}:{n}"
        for path in sources
        if path.name != "lemmas.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\.lemma_\b", line)
    ]
    assert readers == []
