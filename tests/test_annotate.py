"""The tests' `parse` fixture and the workers' `annotate_batch` are one code path."""

from __future__ import annotations

from pipelines.core.annotate import annotate_batch
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
