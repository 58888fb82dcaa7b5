"""The `attribute_rules` component sets exactly what spaCy's own attribute ruler sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from spacy.attrs import DEP, HEAD, LEMMA, MORPH, POS, TAG
from spacy.tokens import Doc

from pipelines.core.lemmas import lemma_of
from pipelines.core.nlp import AttributeRules

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
# The model's exceptions: two-token rules ("ain't", "gonna", "gotta", "let's", "c'mon", "y'all",
# "there is" with its expletive), the regex ones ("nothin'"), pronouns by dependency, "but" as
# an adverb, determiners as pronouns, auxiliaries, negation, and white space tokens (a line
# break inside a sentence, runs of spaces).
SENTENCES = [
    "I ain't gonna do it, and we gotta go. Let's go! C'mon, y'all, there's nothin' left.",
    "There are two reasons and there were three more; there is no doubt that it was so.",
    "You told me that I was wrong, but it gave you and me a chance.  She saw it.\n\nThey did.",
    "Don't worry: he'd have done it if he had known. Those are mine, that is all but certain.",
    "Prices aren't rising;   whether or not   they will is unclear.\nWho's there? Y all gon na",
    "He gets paid, she got fired, they've been told, I'm here, you're late, it's 3.5 percent.",
    " \n Leading space and trailing space. \n",
    "",
]
COLUMNS = [POS, TAG, DEP, MORPH, LEMMA, HEAD]


def _both(nlp, text: str) -> tuple[Doc, Doc]:
    names = nlp.pipe_names
    with nlp.select_pipes(enable=names[: names.index("attribute_rules")]):
        doc = nlp(text)
    stock, fast = (
        Doc(nlp.vocab).from_bytes(doc.to_bytes()),
        Doc(nlp.vocab).from_bytes(doc.to_bytes()),
    )
    nlp.get_pipe("attribute_ruler")(stock)
    nlp.get_pipe("attribute_rules")(fast)
    return stock, fast


def test_attribute_rules_are_the_rulers_own(nlp):
    rules = nlp.get_pipe("attribute_rules")
    assert rules.compiled and rules.multi, "the model's patterns are all read exactly"
    assert "attribute_rules" in nlp.pipe_names and "attribute_ruler" not in nlp.pipe_names
    texts = [*SENTENCES, *(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))]
    tokens = 0
    for text in texts:
        stock, fast = _both(nlp, text)
        tokens += len(stock)
        assert np.array_equal(stock.to_array(COLUMNS), fast.to_array(COLUMNS)), text[:80]
        assert [str(t.morph) for t in stock] == [str(t.morph) for t in fast]
    assert tokens > 300
    # the two-token and regex exceptions did fire (and lemmas on demand keep their lemmas)
    doc = nlp(SENTENCES[0])
    got = {(t.i, t.text): (t.pos_, lemma_of(t)) for t in doc}
    assert got[(1, "ai")][1] == "be" and got[(3, "gon")][1] == "go" and got[(4, "na")][1] == "to"
    assert got[(11, "ta")][1] == "to" and got[(15, "'s")][1] == "us"
    assert got[(18, "C'm")][1] == "come" and got[(21, "y'")][1] == "you"
    assert got[(25, "'s")] == ("VERB", "be") and got[(26, "nothin'")][1] == "nothing"


def test_unreadable_patterns_keep_the_stock_ruler(nlp):
    from spacy.pipeline import AttributeRuler

    ruler = AttributeRuler(nlp.vocab)
    ruler.add([[{"LOWER": "the", "OP": "+"}]], {"POS": "DET"})
    rules = AttributeRules(ruler)
    assert not rules.compiled
    doc = rules(nlp.make_doc("the the cat"))
    assert [t.pos_ for t in doc] == ["DET", "DET", ""]
