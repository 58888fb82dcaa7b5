"""Quotes, cues, speakers and outlets on hand-written cases and the seed article."""

from __future__ import annotations

import json

import pytest

from pipelines.core.quotes import find_quote_spans
from tests.conftest import SEEDS, SHARED

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


@pytest.mark.parametrize(
    ("text", "content"),
    [
        (
            "The senator said the budget was a disaster: “Nobody in this town has read it.”",
            "the budget was a disaster: “Nobody in this town has read it.”",
        ),
        (  # two clauses of one cue in the parse, "said A: “B”"
            "The mayor said the city was ready for the storm: “We have more plows than ever.”",
            "the city was ready for the storm: “We have more plows than ever.”",
        ),
    ],
)
def test_reported_speech_that_holds_its_cues_quote_is_one_attribution(parse, text, content):
    """A clause and the quotation it runs into share their cue: one attribution, scored as the
    pieces merged by cue, so the clause is kept beside the quote."""
    claims = quotes(parse, text, ("direct_quote", "indirect_quote"))
    assert len({c.cue for c in claims}) == 1
    start, end = min(c.char_start for c in claims), max(c.char_end for c in claims)
    assert text[start:end].strip("”") == content.strip("”")


def test_a_cue_that_only_introduces_a_quote_gives_the_quote_alone(parse):
    text = "The senator said: “Nobody in this town has read the budget.”"
    [q] = quotes(parse, text, ("direct_quote", "indirect_quote"))
    assert (q.claim_type, q.text) == ("direct_quote", "Nobody in this town has read the budget.")


def test_a_quote_with_its_cue_after_it_is_not_also_reported_speech(parse):
    """ "“…,” they said, reported X.": a content never holds its own cue, so the quotation is the
    direct quote alone, not also an indirect quote spanning the quote, the cue and the outlet
    (the seed article's paragraph, where the parse makes the quote and "they said" one clause of
    "reported")."""
    text = (SEEDS / "000_5547458096a61dc2.txt").read_text(encoding="utf-8").split("\n")[16]
    assert text.endswith("they said, reported The Times.")
    claims = quotes(parse, text, ("direct_quote", "indirect_quote"))
    assert [c.claim_type for c in claims] == ["direct_quote"]


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


def test_of_two_subjects_the_parse_gives_a_cue_the_nearest_is_the_speaker(parse):
    """A quoted sentence glued to its cue can hand the cue a second subject from inside the
    quote ("Full panic mode ... said"): the subject next to the cue speaks."""
    text = (
        "The campaign worried.\n\n"
        "“Hillary Clinton’s campaign is in panic mode. Full panic mode,” said Leslie Wimes, "
        "a president of a Democratic group.\n\n"
        "“One of the brightest members of the entire Congress,” Rep. Elijah Cummings said in an "
        "interview.\n"
    )
    found = quotes(parse, text, ("direct_quote",))
    assert [q.speaker_text.split(",")[0] for q in found] == ["Leslie Wimes", "Rep. Elijah Cummings"]


def test_a_signature_line_ending_in_a_non_breaking_space_is_still_a_signature(parse):
    """Web pages pad lines with U+00A0: "…”― Pamela Padilla\xa0" is signed all the same, and
    the next reader's quote is not carried over to the name before."""
    text = (
        "Readers wrote in.\n“He scares me. His words make me afraid.” ― Krystal Correa\n"
        "“He is ignorant of our culture and our lives.”―\xa0Maria Lopez\xa0\n"
    )
    found = quotes(parse, text, ("direct_quote",))
    assert [(q.speaker, q.cue) for q in found] == [("Krystal Correa", "―"), ("Maria Lopez", "―")]


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


# --- the lexicon as data, the quote model and its setting ---------------------------------------


def test_every_word_list_is_read_from_its_data_file():
    from pipelines.core import lexicon

    for path in sorted(lexicon.LEXICON_DIR.glob("*.txt")):
        words = lexicon.words(path.stem)
        assert words, path.name
        assert all(w == w.strip() and not w.startswith("#") for w in words), path.name
    assert "say" in lexicon.REPORTING_VERBS
    assert lexicon.PERSON_NOUNS < lexicon.SPEAKER_NOUNS  # the union is the loader's
    assert lexicon.PRONOUNS["she"] == "female"
    assert "spokeswoman" in lexicon.FEMALE_NOUNS and "spokeswoman" not in lexicon.MALE_NOUNS


def test_the_quote_model_setting_is_read_once_and_refuses_nonsense(monkeypatch):
    from pipelines.core.settings import Settings

    monkeypatch.setenv("NEWS_QUOTE_MODEL", "off")
    assert Settings.from_env().quote_model is False
    monkeypatch.setenv("NEWS_QUOTE_MODEL", "on")
    assert Settings.from_env().quote_model is True
    monkeypatch.delenv("NEWS_QUOTE_MODEL")
    assert Settings.from_env().quote_model is True
    monkeypatch.setenv("NEWS_QUOTE_MODEL", "sometimes")
    with pytest.raises(ValueError, match="NEWS_QUOTE_MODEL"):
        Settings.from_env()


def _extract(nlp, text: str, model):
    from pipelines.core.entities import extract_mentions
    from pipelines.core.quotes import extract_quotes
    from pipelines.core.sentences import SentenceIndex, split_sentences

    doc = nlp(text)
    index = SentenceIndex(split_sentences("dq", doc))
    return extract_quotes(doc, index, extract_mentions("dq", doc, index), model)


def test_quote_claims_carry_a_confidence_and_pieces_of_one_attribution_share_it(parse):
    text = (
        "“We will rebuild the station,” said Mayor Ellen Hartley, “and we will do it by May.”\n"
        "The council said that the budget would be ready next week.\n"
        "Critics called the plan a “fantasy” on Tuesday."
    )
    claims = [c for c in quotes(parse, text) if c.claim_type != "partial_quote"]
    assert claims
    for c in claims:
        assert c.confidence is not None and 0.0 <= c.confidence <= 1.0
    pieces = [c for c in claims if c.claim_type == "direct_quote"]
    assert len(pieces) == 2 and pieces[0].cue_start == pieces[1].cue_start
    assert pieces[0].confidence == pieces[1].confidence
    for c in quotes(parse, text, ("partial_quote",)):
        assert c.confidence is None  # scare quotes are not attributions


def test_the_rule_only_path_gives_the_rules_quotes_without_confidence(nlp):
    from pipelines.core.quotes import load_model

    text = (
        "The senator said that the vote would come on Friday.\n"
        "“It is a bad deal,” she said.\n"
        "The governor championed a plan to widen the highway near the river."
    )
    rules = _extract(nlp, text, None)
    assert [q.origin for q in rules] == ["reported", "marks"]
    assert all(q.confidence is None for q in rules)
    combined = _extract(nlp, text, load_model())
    assert all(q.confidence is not None for q in combined)
    # the model keeps the rules' clear cases
    assert {(q.start, q.end) for q in rules} <= {(q.start, q.end) for q in combined}


def test_verbs_outside_the_lexicon_are_proposals_for_the_model_alone(nlp):
    from pipelines.core.entities import extract_mentions
    from pipelines.core.quotes import propose_quotes
    from pipelines.core.sentences import SentenceIndex, split_sentences

    text = "The governor championed a plan to widen the highway near the river."
    doc = nlp(text)
    index = SentenceIndex(split_sentences("dq", doc))
    mentions = extract_mentions("dq", doc, index)
    assert propose_quotes(doc, index, mentions) == []
    [proposal] = propose_quotes(doc, index, mentions, open_verbs=True)
    assert proposal.origin == "open_dobj"
    assert text[proposal.start : proposal.end] == "a plan to widen the highway near the river"
    assert text[proposal.cue_start : proposal.cue_end] == "championed"
    # a verb whose subject cannot speak proposes nothing
    doc = nlp("The storm damaged a bridge over the river.")
    index = SentenceIndex(split_sentences("dq", doc))
    assert propose_quotes(doc, index, extract_mentions("dq", doc, index), True) == []


def test_model_probability_is_a_logistic_of_the_weights():
    from pipelines.core.quotes import QuoteModel

    model = QuoteModel(0.0, {"a": 2.0, "b": -1.0}, 0.3, 0.6)
    assert model.probability([]) == 0.5
    assert model.probability(["a", "a"]) == pytest.approx(1 / (1 + 2.718281828459045**-2.0))
    assert model.probability(["a", "b", "unknown"]) == pytest.approx(
        1 / (1 + 2.718281828459045**-1)
    )


def test_the_shipped_model_names_its_data_and_command_and_is_small():
    import json

    from pipelines.core.quotes.model import MODEL_PATH

    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert "PolNeAR train" in data["trained_on"] and data["command"] == "make train-quotes"
    assert 0.0 <= data["threshold"] < data["threshold_open"] <= 1.0
    assert MODEL_PATH.stat().st_size < 300_000
    # no feature names anything of the gold: every feature is one group_features makes
    prefixes = {f.split("=", 1)[0] for f in data["weights"]}
    assert prefixes <= {
        "kind", "origin", "pieces", "family", "inside_ruled", "holds_ruled", "crosses_ruled",
        "words", "origin_words", "first_char", "ends", "indirect_has_marks", "crosses_paragraph",
        "opener", "speaker", "speaker_class", "origin_speaker", "speaker_linked", "outlet",
        "cue", "kind_nocue", "cue_kind", "cue_origin", "cue_family", "cue_tag", "cue_dep",
        "cue_pos", "cue_negated", "cue_modal", "cue_passive", "cue_position",
        "cue_position_kind", "cue_gap", "speaker_side", "speaker_side_position",
        "content_leaves_cue_sentence",
    }  # fmt: skip


def test_training_is_deterministic(tmp_path, monkeypatch):
    """Two trainings on the same few PolNeAR articles, each parsing afresh into its own cache,
    write the same file, byte for byte."""
    assert (SHARED / "eval" / "polnear" / "train").is_dir()
    import subprocess
    import sys

    monkeypatch.setenv("NEWS_QUOTE_PROCESSES", "1")
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    for out in outs:
        monkeypatch.setenv("NEWS_QUOTE_CACHE", str(tmp_path / f"cache-{out.stem}"))
        subprocess.run(
            [sys.executable, "scripts/train_quotes.py", "--limit", "5", "--out", str(out)],
            check=True,
            cwd=SEEDS.parent,
            capture_output=True,
        )
    assert outs[0].read_bytes() == outs[1].read_bytes()
    assert json.loads(outs[0].read_text())["weights"]


def test_the_quote_scripts_merge_and_match_as_the_shared_scorer_does(tmp_path, monkeypatch):
    """scripts/quote_gold.py, the one place the quote scripts read gold, merge pieces sharing a
    cue and match one to one: on a small warehouse its verdicts count what the scorer counts."""
    import subprocess
    import sys

    import duckdb

    monkeypatch.syspath_prepend(str(SEEDS.parent / "scripts"))
    from quote_confidence import predictions

    text = "“We will win,” Ann Lee said. “We are ready.” Bob Roe said taxes would rise. Cats purr."
    a, b = text.index("We will"), text.index("We are")
    said, bob = text.index("said"), text.index("Bob")
    rise = text.index("taxes")
    gold = tmp_path / "gold"
    gold.mkdir()
    (gold / "story_1.ann").write_text(
        f"T1\tContent {a} {text.index('.”', b) + 2}\tx\nT2\tSource 16 23\tAnn Lee\n"
        f"T3\tCue {said} {said + 4}\tsaid\nE1\tAttribution:T3 Source:T2 Content:T1\n"
        f"T4\tContent {rise} {text.index(' Cats') - 1}\tx\nE2\tAttribution:T3 Content:T4\n",
        encoding="utf-8",
    )
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create table documents (doc_id varchar, source_path varchar, text varchar)")
    con.execute("insert into documents values ('d1', 'seeds/story.txt', ?)", [text])
    con.execute(
        "create table claims (doc_id varchar, claim_type varchar, char_start int, char_end int, "
        "speaker_start int, speaker_end int, cue_start int, cue_end int, confidence double)"
    )
    rows = [  # two pieces sharing a cue (one prediction), a reported clause, a wrong guess
        ("d1", "direct_quote", a + 0, a + 12, 16, 23, said, said + 4, 0.9),
        ("d1", "direct_quote", b, b + 12, 16, 23, said, said + 4, 0.9),
        ("d1", "indirect_quote", rise, rise + 16, bob, bob + 7, bob + 8, bob + 12, 0.7),
        ("d1", "indirect_quote", text.index("Cats"), len(text) - 1, None, None, None, None, 0.2),
    ]
    con.executemany("insert into claims values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.close()
    preds = predictions(str(warehouse), str(gold))
    scorer = str(SHARED / "eval" / "score_attribution.py")
    out = subprocess.run(
        [sys.executable, scorer, str(warehouse), str(gold), "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    scored = json.loads(out.stdout)
    assert len(preds) == scored["predicted_quotes"] == 3
    matched = sum(p["matched"] for p in preds)
    assert matched == round(scored["content_overlap"]["p"] * scored["predicted_quotes"]) == 2
    assert [p["matched"] for p in sorted(preds, key=lambda p: p["content"])] == [True, True, False]
