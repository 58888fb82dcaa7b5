"""Word lists the extractors share: titles, nouns that name people, reporting verbs, outlets.

The lists themselves are data, one word a line under `data/lexicon/` (a `#` line says what a
list is for), read once by `words`; this module names them and makes the few unions.
"""

from __future__ import annotations

from functools import cache

from pipelines.core.datafiles import DATA_DIR

LEXICON_DIR = DATA_DIR / "lexicon"


@cache
def words(name: str) -> frozenset[str]:
    """The words of `data/lexicon/<name>.txt` (blank and `#` lines skipped)."""
    lines = (LEXICON_DIR / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.lstrip().startswith("#"))


def pairs(name: str) -> dict[str, str]:
    """The word and its kind from `data/lexicon/<name>.tsv` (word TAB kind)."""
    lines = (LEXICON_DIR / f"{name}.tsv").read_text(encoding="utf-8").splitlines()
    rows = (w.split("\t") for w in lines if w.strip() and not w.startswith("#"))
    return {word: kind for word, kind in rows}


# Honorifics and offices written before a name ("Mr Gady", "President Putin").
TITLES = words("titles")

# Head nouns of descriptions that can speak: "one resident", "a western official", "the woman".
PERSON_NOUNS = words("person_nouns")

# More descriptions of people who speak in political news, for quote speakers only (the entity
# extractor reads PERSON_NOUNS for appositions, where "head" or "partner" could be a firm's).
SPEAKER_NOUNS = PERSON_NOUNS | words("speaker_nouns")

# Lemmas of verbs that report speech or writing ("said", "told", "warned", "claims").
REPORTING_VERBS = words("reporting_verbs")

# Words for someone unnamed ("someone shouted …", "many hail it as “a classic”") and for texts
# that speak for their authors ("the statement called it “a grave threat”", "the email …").
SOMEONE = words("someone")

SPEAKING_TEXTS = words("speaking_texts")

# Verbs of stance and judgement: what their subject backs or condemns is an attribution of its
# own ("X endorsed Y", "X accused Y of Z", "X praised Y for Z").
STANCE_VERBS = words("stance_verbs")

# Verbs of thought and feeling with a clause ("X fears that …", "X expects …"): reported
# thought is attributed as speech is.
THOUGHT_VERBS = words("thought_verbs")

# Nouns of saying that take a that-clause and an owner: "Trump's claim that …".
SAYING_NOUNS = words("saying_nouns")

# Verbs that report evidence ("a poll shows …"), and sights that show without claiming.
EVIDENCE_VERBS = words("evidence_verbs")

SIGHTS = words("sights")

# Verbs that report an intention or a demand with an infinitive: "vowed to …", "urged X to …".
INTENT_VERBS = words("intent_verbs")

# Light and possession verbs: a quoted phrase in their object ("has “enormous respect”", "bought a
# “philanthropub”") is no one's words by them.
LIGHT_VERBS = words("light_verbs")

PRONOUNS = pairs("pronouns")

# Words in an organisation's name that mark it as a news medium, for `claims.outlet`.
OUTLET_WORDS = words("outlet_words")

# Words in a multi-word name that make it an organisation, not a person.
ORG_WORDS = words("org_words")

# Nouns that tell a pronoun's antecedent's sex ("the spokeswoman … she said").
FEMALE_NOUNS = words("female_nouns")

MALE_NOUNS = words("male_nouns")
