"""The tests' `parse` fixture and the workers' `annotate_batch` are one code path."""

from __future__ import annotations

import polars as pl
from spacy.tokens import DocBin

from pipelines.core.annotate import _docbin_from_bytes, annotate_batch, parse_bytes
from pipelines.core.tables import frame
from tests.conftest import SEEDS


def test_the_parse_fixture_gives_the_rows_annotate_batch_writes(parse):
    [seed] = sorted(SEEDS.glob("*.txt"))
    text = seed.read_text(encoding="utf-8")
    _doc, sentences, mentions, claims = parse(text, "dseed")
    tables = annotate_batch([("dseed", text)])
    assert tables["sentences"].equals(frame("sentences", sentences))
    assert tables["document_mentions"].equals(frame("document_mentions", mentions))
    assert tables["document_claims"].equals(frame("document_claims", claims))
    assert tables["sentences"].height > 0 and tables["document_claims"].height > 0


def test_a_batchs_words_outlive_its_memory_zone_up_to_a_bound(nlp, monkeypatch):
    from pipelines.core import annotate

    word = "Zxqvbrinsky"  # a word no model knows: its lexeme is made by the batch
    assert word not in nlp.vocab
    text = f"{word} said the Qwertzland talks would go on.\n{word} left."
    first = annotate_batch([("dwords", text)])
    assert word in nlp.vocab  # kept outside the zone: the next batch need not make it again
    second = annotate_batch([("dwords", text)])
    for name in ("sentences", "document_mentions", "document_claims"):
        assert first[name].equals(second[name])
    # once the vocabulary holds KEPT_WORDS lexemes, a batch's words go with its zone
    monkeypatch.setattr(annotate, "KEPT_WORDS", len(nlp.vocab))
    annotate_batch([("dbound", "Vrexomald met Quonzibar in Plixtown.")])
    assert "Vrexomald" not in nlp.vocab and "Quonzibar" not in nlp.vocab


def test_copies_of_one_text_in_a_batch_are_parsed_once_and_keep_their_own_rows(monkeypatch):
    """An article saved under two names is parsed once in a batch; each copy still gets the
    rows (and the kept parse) its own parse would give, under its own doc_id."""
    from pipelines.core import annotate

    text = '"We will not back down," said Maria Lopez, the mayor, adding that 40 trucks crossed.'
    other = "Rain fell across the region for three days, farmers told reporters."
    parsed_texts = []
    real = annotate.parse_texts

    def counted(nlp, items):
        return real(nlp, ((parsed_texts.append(t) or t, c) for t, c in items))

    monkeypatch.setattr(annotate, "parse_texts", counted)
    batch = [("dcopy1", text), ("dempty1", ""), ("dother", other), ("dcopy2", text)]
    batch.append(("dempty2", ""))  # an empty Doc is falsy: still shared, not parsed again
    together = annotate_batch(batch, keep_parses=True)
    assert parsed_texts == [text, "", other]
    assert together["parses"]["parsed"].to_list() == [True] * 5
    parses = dict(together["parses"].select("doc_id", "parse").iter_rows())
    assert parses["dcopy1"] is not None and parses["dcopy1"] == parses["dcopy2"]
    for doc_id, own_text in batch:
        alone = annotate_batch([(doc_id, own_text)])
        for name in ("sentences", "document_mentions", "document_claims"):
            mine = together[name].filter(pl.col("doc_id") == doc_id)
            assert mine.equals(alone[name]), (doc_id, name)
    assert together["document_claims"].filter(pl.col("doc_id") == "dcopy2").height > 0


def test_a_batch_of_kept_and_new_documents_gives_each_its_own_rows():
    """A run after a rule change that also finds new files hands a worker documents with kept
    parses and documents to parse in one batch, in any order: each gets its own rows."""
    texts = [
        ("dkept1", "The minister said on Monday that 40 trucks had crossed the border."),
        ("dnew1", "Rain fell across the region for three days, farmers told reporters."),
        ("dkept2", '"We expect more," said Maria Lopez, the mayor of Tijuana.'),
        ("dnew2", "The company reported a profit of $3.5 million in 2024."),
    ]
    fresh = annotate_batch(texts, keep_parses=True)
    parses = dict(fresh["parses"].select("doc_id", "parse").iter_rows())
    kept = {d: parses[d] for d in ("dkept1", "dkept2")}
    mixed = annotate_batch(texts, parses=kept)
    assert mixed["parses"]["parsed"].to_list() == [False, True, False, True]
    for name in ("sentences", "document_mentions", "document_claims"):
        assert mixed[name].equals(fresh[name]), name
    assert set(mixed["sentences"]["doc_id"]) == {d for d, _ in texts}


def test_a_kept_parse_is_read_as_spacys_docbin_reads_it(nlp):
    """The DocBin decoded with srsly's decoders chained once holds what `DocBin.from_bytes`
    gives, field by field (user data and categories too)."""
    doc = nlp('Officials said on Monday that 40 trucks had crossed. "More," said Maria Lopez.')
    doc.cats = {"politics": 1.0}
    for data in (parse_bytes(doc), _with_user_data(doc)):
        spacys, ours = DocBin().from_bytes(data), _docbin_from_bytes(data)
        for field in ("attrs", "strings", "cats", "span_groups", "flags", "user_data"):
            assert getattr(ours, field) == getattr(spacys, field), field
        pairs = zip([*ours.tokens, *ours.spaces], [*spacys.tokens, *spacys.spaces], strict=True)
        for a, b in pairs:
            assert a.dtype == b.dtype and a.shape == b.shape and (a == b).all()
        [again] = ours.get_docs(nlp.vocab)
        assert again.to_json() == doc.to_json()


def _with_user_data(doc) -> bytes:
    docs = DocBin(store_user_data=True)
    doc.user_data["source"] = "test"
    docs.add(doc)
    return docs.to_bytes()


def test_a_parse_is_kept_as_the_very_bytes_of_spacys_docbin(nlp):
    """`parse_bytes` gives byte for byte what `DocBin.add` and `to_bytes` give: for parses with
    entities, morphology (and tokens with none), lemmas and categories, an empty one, and one
    with span groups (which take spaCy's own way)."""
    from spacy.tokens import Span

    texts = [
        'Officials said on Monday that 40 trucks had crossed. "More," said Maria Lopez.',
        "_ _ Hello , world . The UN's envoy, Kofi Annan, wasn't there!",
        "",
    ]
    docs = [nlp(text) for text in texts]
    docs[0].cats = {"politics": 1.0}
    grouped = nlp("Maria Lopez spoke in Tijuana.")
    grouped.spans["people"] = [Span(grouped, 0, 2, label="PERSON")]
    for doc in [*docs, grouped]:
        spacys = DocBin(store_user_data=False)
        spacys.add(doc)
        assert parse_bytes(doc) == spacys.to_bytes(), doc.text
