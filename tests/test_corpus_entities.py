"""The corpus-wide merge of the documents' entities: label votes and surnames, on hand-made
document decisions (the real parse is exercised by test_entities' corpus run)."""

from __future__ import annotations

import polars as pl

from pipelines.core import corpus_entities
from pipelines.core.entities import Mention, name_key
from pipelines.core.ids import entity_id_for, mention_id_for
from pipelines.core.tables import frame


def _mentions(decisions: list[tuple[str, str, str, str]]) -> pl.LazyFrame:
    """(doc_id, name, label, label_source), one mention each; a document's decision per name."""
    rows, counts = [], {}
    for doc_id, name, label, source in decisions:
        index = counts[doc_id] = counts.get(doc_id, -1) + 1
        rows.append(
            Mention(
                mention_id=mention_id_for(doc_id, index),
                doc_id=doc_id,
                sentence_id=f"{doc_id}-s0000",
                entity_id=entity_id_for(name_key(name), label),
                text=name,
                label=label,
                model_label=label,
                char_start=0,
                char_end=len(name),
                entity_name=name,
                country=None,
                label_source=source,
            )
        )
    return frame("document_mentions", rows).lazy()


def _resolved(decisions) -> dict[str, tuple[str, str, str]]:
    """mention_id -> (entity name, label, label source) after the merge."""
    mentions = _mentions(decisions)
    resolved, _ = corpus_entities.resolve_mentions(mentions, corpus_entities.aliases(mentions))
    return {
        r[0]: r[1:]
        for r in resolved.select("mention_id", "entity_name", "label", "label_source").iter_rows()
    }


def test_a_model_only_label_follows_the_corpus_verdict():
    resolved = _resolved(
        [
            ("d1", "Yukos", "ORG", "evidence"),  # "oil giant Yukos"
            ("d2", "Yukos", "ORG", "evidence"),  # "Yukos shares"
            ("d3", "Yukos", "PERSON", "model"),  # the model's guess, nothing to say otherwise
        ]
    )
    assert resolved["d3-m0000"] == ("Yukos", "ORG", "corpus")
    assert resolved["d1-m0000"] == ("Yukos", "ORG", "evidence")


def test_a_label_decided_by_evidence_is_never_overruled():
    resolved = _resolved(
        [
            ("d1", "Ferrari", "ORG", "evidence"),
            ("d2", "Ferrari", "ORG", "evidence"),
            ("d3", "Ferrari", "PERSON", "evidence"),  # "Mr Ferrari"
        ]
    )
    assert resolved["d3-m0000"] == ("Ferrari", "PERSON", "evidence")


def test_model_guesses_alone_or_evidence_in_one_document_overrule_nobody():
    """However many, the model's guesses repeat one model's habits ("Uefa" a person); one
    document's evidence may be about another bearer of the name ("Mr Justice Forbes")."""
    resolved = _resolved(
        [
            ("d1", "Uefa", "ORG", "model"),
            ("d2", "Uefa", "PERSON", "model"),
            ("d3", "Uefa", "PERSON", "model"),
            ("d4", "Uefa", "PERSON", "model"),
            ("d5", "Forbes", "PERSON", "evidence"),
            ("d6", "Forbes", "ORG", "model"),
        ]
    )
    assert resolved["d1-m0000"] == ("Uefa", "ORG", "model")
    assert resolved["d2-m0000"] == ("Uefa", "PERSON", "model")
    assert resolved["d6-m0000"] == ("Forbes", "ORG", "model")


def test_a_split_verdict_changes_nothing():
    resolved = _resolved(
        [
            ("d1", "Apex", "ORG", "evidence"),
            ("d2", "Apex", "ORG", "evidence"),
            ("d3", "Apex", "PERSON", "evidence"),
            ("d4", "Apex", "PERSON", "evidence"),
            ("d5", "Apex", "PERSON", "model"),
        ]
    )
    assert resolved["d5-m0000"] == ("Apex", "PERSON", "model")


def test_places_are_not_voted():
    """The gazetteer decides places; a document that kept "Jordan" a person had its reasons."""
    resolved = _resolved(
        [
            ("d1", "Jordan", "GPE", "evidence"),
            ("d2", "Jordan", "GPE", "evidence"),
            ("d3", "Jordan", "PERSON", "model"),
        ]
    )
    assert resolved["d3-m0000"] == ("Jordan", "PERSON", "model")


def test_a_place_label_the_model_guessed_follows_the_corpus_but_a_gazetteer_place_stays():
    resolved = _resolved(
        [
            ("d1", "Gazprom", "ORG", "evidence"),  # "gas giant Gazprom"
            ("d2", "Gazprom", "ORG", "evidence"),
            ("d3", "Gazprom", "GPE", "model"),  # no gazetteer entry: the model's guess
            ("d4", "Liverpool", "ORG", "evidence"),  # "Liverpool striker"
            ("d5", "Liverpool", "ORG", "evidence"),
            ("d6", "Liverpool", "GPE", "evidence"),  # the city, by the gazetteer
        ]
    )
    assert resolved["d3-m0000"] == ("Gazprom", "ORG", "corpus")
    assert resolved["d6-m0000"] == ("Liverpool", "GPE", "evidence")


def test_a_surname_joins_the_person_the_corpus_names_in_full():
    resolved = _resolved(
        [
            ("d1", "Tony Blair", "PERSON", "evidence"),
            ("d2", "Tony Blair", "PERSON", "evidence"),
            ("d3", "Tony Blair", "PERSON", "model"),
            ("d4", "Cherie Blair", "PERSON", "evidence"),
            ("d5", "Blair", "PERSON", "evidence"),  # "Mr Blair said"
        ]
    )
    assert resolved["d5-m0000"] == ("Tony Blair", "PERSON", "evidence")
    assert resolved["d4-m0000"] == ("Cherie Blair", "PERSON", "evidence")


def test_a_shared_surname_or_a_title_taken_for_a_person_joins_nobody():
    resolved = _resolved(
        [
            ("d1", "Gordon Brown", "PERSON", "evidence"),
            ("d2", "Gordon Brown", "PERSON", "evidence"),
            ("d3", "Wes Brown", "PERSON", "evidence"),
            ("d4", "Brown", "PERSON", "evidence"),  # 2 of 3 documents: not clear enough
            ("d5", "Kill Bill", "PERSON", "model"),
            ("d6", "Kill Bill", "PERSON", "model"),
            ("d7", "Bill", "PERSON", "model"),  # the parliament's bill, typed a person
            ("d8", "Ronald Reagan", "PERSON", "evidence"),  # one document is not enough
            ("d9", "Reagan", "PERSON", "evidence"),
        ]
    )
    assert resolved["d4-m0000"] == ("Brown", "PERSON", "evidence")
    assert resolved["d7-m0000"] == ("Bill", "PERSON", "model")
    assert resolved["d9-m0000"] == ("Reagan", "PERSON", "evidence")


def test_a_surname_joins_only_where_the_article_keeps_the_full_names_company():
    politics = [
        ("p1", "Gordon Brown", "PERSON", "evidence"),
        ("p1", "Treasury", "ORG", "evidence"),
        ("p1", "Labour Party", "ORG", "evidence"),
        ("p2", "Gordon Brown", "PERSON", "evidence"),
        ("p2", "Treasury", "ORG", "evidence"),
        ("p3", "Gordon Brown", "PERSON", "evidence"),
        ("p3", "Labour Party", "ORG", "evidence"),
        ("p4", "Brown", "PERSON", "evidence"),  # a budget story: "Mr Brown told the Treasury"
        ("p4", "Treasury", "ORG", "evidence"),
        ("p4", "Europe", "LOC", "evidence"),
    ]
    sport = [  # a match report: "Brown headed in"; nobody here is ever named with Gordon Brown
        ("s1", "Brown", "PERSON", "model"),
        ("s1", "Manchester United", "ORG", "evidence"),
        ("s1", "Old Trafford", "FAC", "model"),
        ("s2", "Arsenal", "ORG", "evidence"),
        ("s2", "Old Trafford", "FAC", "model"),
        ("s2", "Manchester United", "ORG", "evidence"),
    ]
    resolved = _resolved(politics + sport)
    assert resolved["p4-m0000"] == ("Gordon Brown", "PERSON", "evidence")
    assert resolved["s1-m0000"] == ("Brown", "PERSON", "model")


def test_merged_tables_keep_every_key_resolving_and_labels_equal():
    decisions = [
        ("d1", "Tony Blair", "PERSON", "evidence"),
        ("d2", "Tony Blair", "PERSON", "evidence"),
        ("d3", "Blair", "PERSON", "evidence"),
        ("d3", "Yukos", "PERSON", "model"),
        ("d1", "Yukos", "ORG", "evidence"),
        ("d2", "Yukos", "ORG", "evidence"),
    ]
    document_mentions = _mentions(decisions)
    alias = corpus_entities.aliases(document_mentions)
    mentions, entities = corpus_entities.resolve_mentions(document_mentions, alias)
    assert entities["entity_id"].is_unique().all()
    assert sorted(entities.select("name", "label", "n_mentions", "n_documents").rows()) == [
        ("Tony Blair", "PERSON", 3, 3),
        ("Yukos", "ORG", 3, 3),
    ]
    joined = mentions.join(entities, on="entity_id", how="left")
    assert joined["name"].null_count() == 0
    assert (joined["label"] == joined["label_right"]).all()
    assert (joined["entity_name"] == joined["name"]).all()
    for entity_id, name, label in entities.select("entity_id", "name", "label").rows():
        assert entity_id == entity_id_for(name_key(name), label)

    blair_in_d3 = entity_id_for(name_key("Blair"), "PERSON")
    claims = pl.DataFrame(
        {
            "claim_id": ["d3-c0000", "d3-c0001"],
            "doc_id": ["d3", "d3"],
            "speaker": ["Blair", "a spokesman"],
            "speaker_entity_id": [blair_in_d3, None],
        }
    )
    speakers = corpus_entities.resolve_speakers(claims.lazy(), alias, entities.lazy()).collect()
    tony = entities.filter(pl.col("name") == "Tony Blair")["entity_id"].item()
    assert speakers.select("speaker", "speaker_entity_id").rows() == [
        ("Tony Blair", tony),
        ("a spokesman", None),
    ]


def test_some_documents_decided_with_the_corpus_facts_get_the_whole_merges_rows():
    """A document's decisions depend on the corpus only through the facts per name, the
    number of documents and the full names' company: deciding a few documents with those
    gives them exactly the rows the merge of the whole corpus gives them, and the entities
    made from per-document counts are `entities_table`'s."""
    decisions = [
        ("p1", "Gordon Brown", "PERSON", "evidence"),
        ("p1", "Treasury", "ORG", "evidence"),
        ("p2", "Gordon Brown", "PERSON", "evidence"),
        ("p2", "Treasury", "ORG", "evidence"),
        ("p3", "Brown", "PERSON", "evidence"),
        ("p3", "Treasury", "ORG", "evidence"),
        ("s1", "Brown", "PERSON", "model"),
        ("s1", "Arsenal", "ORG", "evidence"),
        ("y1", "Yukos", "PERSON", "model"),
        ("y2", "Yukos", "ORG", "evidence"),
        ("y3", "Yukos", "ORG", "evidence"),
    ]
    mentions = _mentions(decisions)
    rows = corpus_entities.entity_rows(mentions)
    whole = corpus_entities.decide(rows)
    stats, n = corpus_entities.name_stats(rows), rows["doc_id"].n_unique()
    some = rows.filter(pl.col("doc_id").is_in(["p3", "s1", "y1"]))
    full = corpus_entities.full_names(stats)["full_key"]
    context = rows.join(rows.filter(pl.col("key").is_in(full.implode())), on="doc_id", how="semi")
    decided = corpus_entities.decide(some, stats, n, context)
    assert decided.equals(whole.filter(pl.col("doc_id").is_in(["p3", "s1", "y1"])))
    moved = decided.filter(pl.col("corpus_entity_id") != pl.col("entity_id"))
    assert sorted(moved.select("doc_id", "name", "label").rows()) == [
        ("p3", "Gordon Brown", "PERSON"),
        ("y1", "Yukos", "ORG"),
    ]
    counts = corpus_entities.entity_counts(mentions, whole)
    linked = corpus_entities._linked(mentions, whole)
    expected = corpus_entities.entities_table(linked).collect()
    assert corpus_entities.entities_from_counts(counts).equals(expected)
