"""Quotes, cues, speakers and outlets on hand-written cases and the seed article."""

from __future__ import annotations

import pytest

from pipelines.core.quotes import find_quote_spans
from tests.conftest import SEEDS

SEED_TEXT = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")


def spans(text: str) -> list[str]:
    return [text[s.start : s.end] for s in find_quote_spans(text)]


def quotes(parse, text: str, kinds=("direct_quote", "indirect_quote", "partial_quote")):
    _doc, _sentences, _mentions, claims = parse(text)
    return [c for c in claims if c.claim_type in kinds]


def test_mixed_curly_and_straight_marks_pair():
    text = '“There’s no water. Our guys are saving us."'
    assert spans(text) == ["There’s no water. Our guys are saving us."]


def test_missing_space_before_the_opening_mark():
    text = "She explained“They left with the babies.”"
    assert spans(text) == ["They left with the babies."]


def test_straight_marks_and_a_quote_over_several_paragraphs():
    text = '"First paragraph of the quote.\n"Second paragraph," she said.\nAfter.'
    assert spans(text) == ['First paragraph of the quote.\n"Second paragraph,']


def test_unbalanced_marks_never_give_up():
    text = "“An unclosed quote runs to the paragraph end\nNext “closed one” here."
    assert spans(text) == ["An unclosed quote runs to the paragraph end", "closed one"]
    assert spans("Odd ” mark. And “a real quote,” he said.") == ["a real quote,"]


def test_pronoun_speaker_resolves_to_the_named_person(parse):
    [q] = quotes(parse, SEED_TEXT[SEED_TEXT.index("And Franz") :], ("direct_quote",))
    assert q.speaker == "Franz-Stefan Gady"
    assert q.speaker_text == "he"
    assert q.cue == "said"


def test_seed_article_quotes(parse):
    claims = quotes(parse, SEED_TEXT)

    def by_text(start: str):
        [claim] = [c for c in claims if c.text.startswith(start)]
        return claim

    bad = by_text("It’s bad,")
    assert bad.claim_type == "direct_quote"
    assert bad.speaker_text == "one resident who abandoned Irpin"
    assert bad.speaker == "one resident"
    assert bad.cue == "told"
    assert bad.outlet == "ITN News"
    no_water = by_text("There’s no water, no")
    assert no_water.speaker == "one resident"  # no cue in its paragraph: inherits
    babies = by_text("They (my children) le")
    assert babies.cue == "explained"
    assert babies.speaker_text == "She"
    assert babies.speaker.lower() == "the woman"
    noose = by_text("I think around Kyiv t")
    assert noose.speaker_text == "they"
    assert noose.speaker == "a western official"
    assert noose.outlet == "The Times"
    assert by_text("tighten the noose").claim_type == "partial_quote"
    assert by_text("horrific").claim_type == "partial_quote"
    scenes = by_text("“horrific” scenes")  # "an official who has predicted “horrific” scenes"
    assert (scenes.claim_type, scenes.cue) == ("indirect_quote", "predicted")
    assert scenes.speaker == "a western official"
    assert by_text("V").claim_type == "partial_quote"
    for c in claims:
        assert SEED_TEXT[c.char_start : c.char_end] == c.text


def test_split_quote_gives_two_rows_with_one_cue(parse):
    text = "“We will win,” said John Smith, “there is no doubt.”"
    direct = quotes(parse, text, ("direct_quote",))
    assert [q.text for q in direct] == ["We will win,", "there is no doubt."]
    assert {q.cue_start for q in direct} == {text.index("said")}
    assert {q.speaker for q in direct} == {"John Smith"}


@pytest.mark.parametrize(
    ("text", "speaker", "content"),
    [
        (
            "The minister said that the talks had failed.",
            "The minister",
            "that the talks had failed",
        ),
        ("Prices will rise next year, the bank said.", "the bank", "Prices will rise next year"),
        (
            "According to the police, three people were arrested.",
            "the police",
            "three people were arrested",
        ),
    ],
)
def test_reported_speech(parse, text, speaker, content):
    [q] = quotes(parse, text, ("indirect_quote",))
    assert q.speaker_text == speaker
    assert content in q.text


def test_said_x_inversion(parse):
    [q] = quotes(parse, "“It is over,” said Maria Lopez.", ("direct_quote",))
    assert q.speaker == "Maria Lopez"
    assert q.cue == "said"


def test_speaker_the_model_missed_still_links_to_its_entity(parse):
    text = (
        "Arsene Wenger praised the team on Sunday.\n"
        "“We were brilliant,” said Wenger, who has been in charge for years."
    )
    _doc, _sentences, mentions, claims = parse(text)
    [quote] = [c for c in claims if c.claim_type == "direct_quote"]
    assert quote.speaker == "Arsene Wenger"
    wenger = {m.entity_id for m in mentions if m.entity_name == "Arsene Wenger"}
    assert quote.speaker_entity_id in wenger


@pytest.mark.parametrize(
    ("text", "speaker", "content"),
    [
        (
            "The mayor described the budget as “a disaster” on Tuesday.",
            "The mayor",
            "the budget as “a disaster”",
        ),
        (
            "Senator Harry Reid has gone after the governor as a “spoiled brat.”",
            "Senator Harry Reid",
            "the governor as a “spoiled brat.”",
        ),
        (
            "The council condemned the test as a “grave threat” to regional stability.",
            "The council",
            "the test as a “grave threat” to regional stability",
        ),
    ],
)
def test_quoted_phrase_framed_by_a_verb_is_its_subjects_words(parse, text, speaker, content):
    [q] = quotes(parse, text, ("indirect_quote",))
    assert q.speaker_text == speaker
    assert content in q.text
    assert "on Tuesday" not in q.text  # an adjunct after the phrase is not part of it


def test_quoted_phrase_after_a_light_verb_stays_a_phrase(parse):
    text = "She bought a “philanthropub” in the city last year."
    assert quotes(parse, text, ("direct_quote", "indirect_quote")) == []
    assert [q.text for q in quotes(parse, text)] == ["philanthropub"]


@pytest.mark.parametrize(
    ("text", "content"),
    [
        (
            "The governor said things “should be settled by June,” referring to the convention.",
            "things “should be settled by June,”",
        ),
        (
            "She added that the plan “was a mistake,” though aides disagreed.",
            "that the plan “was a mistake,”",
        ),
    ],
)
def test_reported_speech_ends_with_its_quote_before_an_aside(parse, text, content):
    [q] = quotes(parse, text, ("indirect_quote",))
    assert q.text == content


def test_reported_speech_takes_the_whole_quotation_it_opens(parse):
    text = "The senator said the mayor “has the courage to fight. He is not afraid of anyone.”"
    [q] = quotes(parse, text, ("indirect_quote",))
    assert q.text == "the mayor “has the courage to fight. He is not afraid of anyone.”"
    assert q.speaker_text == "The senator"


def test_manner_of_speaking_verbs_are_cues(parse):
    [q] = quotes(parse, "“Four more years!” the protesters chanted outside the hall.")
    assert (q.claim_type, q.cue, q.speaker_text) == ("direct_quote", "chanted", "the protesters")


def test_a_gerund_after_a_preposition_takes_the_main_verbs_subject(parse):
    text = "“We will not stop,” the delegates shouted before asking him, “Where do we go now?”"
    first, second = quotes(parse, text, ("direct_quote",))
    assert (first.cue, first.speaker_text) == ("shouted", "the delegates")
    assert (second.cue, second.speaker_text) == ("asking", "the delegates")


def test_a_text_can_be_the_source_of_a_framed_phrase(parse):
    [q] = quotes(
        parse, "The statement described the test as “a grave threat.”", ("indirect_quote",)
    )
    assert q.speaker_text == "The statement"
    assert q.text == "the test as “a grave threat.”"


@pytest.mark.parametrize(
    ("text", "content"),
    [
        (
            "The governor grilled the banker about trying to “debase” the currency.",
            "the banker about trying to “debase”",
        ),
        (
            "The senator criticized the tax known as the “Cadillac tax” on Monday.",
            "the tax known as the “Cadillac tax”",
        ),
    ],
)
def test_a_phrase_under_a_verb_without_a_doer_is_framed_by_the_verb_above(parse, text, content):
    [q] = quotes(parse, text, ("indirect_quote",))
    assert q.text == content
    assert q.speaker_text.startswith("The ")


def test_curly_marks_of_the_wrong_shape_pair_by_their_neighbours():
    text = "It was rated “Mostly False.“ Then:\n”Fear. That is all I feel.” ― Jane Doe"
    assert spans(text) == ["Mostly False.", "Fear. That is all I feel."]


def test_a_quote_signed_with_a_dash_is_the_signers(parse):
    text = "Readers wrote in.\n“He scares me. His words make me afraid.” ― Krystal Correa\n"
    [q] = quotes(parse, text, ("direct_quote",))
    assert (q.speaker, q.cue) == ("Krystal Correa", "―")


def test_a_cue_with_its_own_clause_after_a_quote_is_not_that_quotes(parse):
    text = (
        'Japan branded the regime an "outlaw nation in the neighborhood." '
        'Russia insisted that the regime "stop its dangerous escapades."'
    )
    claims = quotes(parse, text, ("direct_quote", "indirect_quote"))
    assert [(q.cue, q.speaker_text) for q in claims] == [
        ("branded", "Japan"),
        ("insisted", "Russia"),
    ]


@pytest.mark.parametrize(
    ("text", "speaker", "cue", "content"),
    [
        (
            "The union endorsed the senator for re-election on Friday.",
            "The union",
            "endorsed",
            "the senator for re-election",
        ),
        (
            "The mayor accused the council of wasting money.",
            "The mayor",
            "accused",
            "the council of wasting money",
        ),
    ],
)
def test_a_verb_of_stance_attributes_what_it_judges(parse, text, speaker, cue, content):
    [q] = quotes(parse, text, ("indirect_quote",))
    assert (q.speaker_text, q.cue, q.text) == (speaker, cue, content)


def test_reported_thought_is_attributed(parse):
    text = "Party leaders fear that the vote will split the coalition."
    [q] = quotes(parse, text, ("indirect_quote",))
    assert (q.speaker_text, q.cue, q.text) == (
        "Party leaders",
        "fear",
        "that the vote will split the coalition",
    )


def test_an_owned_statement_with_a_that_clause_is_its_owners(parse):
    text = "The senator rejected the governor's assertion that the budget was balanced."
    owned = [q for q in quotes(parse, text, ("indirect_quote",)) if q.cue == "assertion"]
    assert [(q.speaker, q.text) for q in owned] == [
        ("the governor", "that the budget was balanced")
    ]


def test_an_adjective_with_a_clause_states_its_subjects_belief(parse):
    text = "Republicans are worried that the nominee will lose the state."
    [q] = quotes(parse, text, ("indirect_quote",))
    assert (q.speaker_text, q.cue, q.text) == (
        "Republicans",
        "worried",
        "that the nominee will lose the state",
    )
    assert quotes(parse, "It is clear that the plan failed.", ("indirect_quote",)) == []


def test_an_unnamed_many_can_frame_a_phrase(parse):
    text = "Some remember the senator as “a true believer.”"
    [q] = quotes(parse, text, ("indirect_quote",))
    assert (q.speaker_text, q.cue, q.text) == (
        "Some",
        "remember",
        "the senator as “a true believer.”",
    )
