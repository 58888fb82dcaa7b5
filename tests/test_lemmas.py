"""The `lemmas` component gives every token the lemma spaCy's own lemmatizer gives it."""

from __future__ import annotations

# Inflections the rules read lemmas of: irregular verbs (cues "said", "told"), plurals and
# comparatives, contractions the attribute ruler lemmatises itself ("'s", "n't"), numbers and
# units, and the same word under two tags ("saw" as a verb and a noun).
SENTENCES = [
    "The ministers said they had told reporters that prices were rising.",
    "She's been warning that it isn't better, and the children's geese were bigger.",
    "He saw the saw; officials cited 3.5 billion dollars and 40 percent.",
    '"We will do whatever it takes," said Luis Caputo, who vowed to defend the peso.\n'
    "Analysts were accusing the banks of having underestimated losses.",
]


def test_cached_lemmas_are_the_lemmatizers_own(nlp):
    lemmatizer = nlp.get_pipe("lemmatizer")
    assert "lemmas" in nlp.pipe_names and "lemmatizer" not in nlp.pipe_names
    for text in SENTENCES:
        doc = nlp(text)
        plain = nlp(text, disable=["lemmas"])
        lemmatizer(plain)  # spaCy's own lemmatizer, token by token
        assert [t.lemma_ for t in doc] == [t.lemma_ for t in plain], text
    # twice over the same words: answered from the cache, still the same
    again = nlp(SENTENCES[0])
    assert [t.lemma_ for t in again][:4] == ["the", "minister", "say", "they"]
