"""The worker pool: real spawned processes give the rows `annotate_batch` gives in this
process, in the order the batches were handed out, and the process that hands them out never
imports spaCy (the workers do)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# Run in a fresh interpreter, so that nothing this test session imported (spaCy, for the other
# tests) can hide an import of it by the pool's own module.
_HAND_OUT = """
import json, sys
from pipelines.core.workers import annotate_batches
batches = [
    ("first", [("d1", "Ms Smith said the plan would cost 40 million dollars."),
               ("d2", "\\u201cWe will not move,\\u201d the mayor told reporters in Leeds.")]),
    ("second", [("d3", "About 1.5 million men were called up, officials said.")]),
]
out = []
for tag, batch, tables in annotate_batches(((t, b, {}) for t, b in batches), 2):
    out.append({"tag": tag, "ids": [d for d, _ in batch],
                "claims": tables["document_claims"].select("doc_id", "claim_type", "text")
                .rows(),
                "mentions": tables["document_mentions"].height})
print(json.dumps({"results": out, "spacy_imported": "spacy" in sys.modules}))
"""


@pytest.mark.slow
def test_pool_gives_the_rows_of_one_process_and_the_caller_never_imports_spacy() -> None:
    from pipelines.core.annotate import annotate_batch

    done = subprocess.run(
        [sys.executable, "-c", _HAND_OUT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["spacy_imported"] is False
    assert [r["tag"] for r in report["results"]] == ["first", "second"]
    assert [r["ids"] for r in report["results"]] == [["d1", "d2"], ["d3"]]
    for result, texts in zip(
        report["results"],
        [
            [
                ("d1", "Ms Smith said the plan would cost 40 million dollars."),
                ("d2", "\u201cWe will not move,\u201d the mayor told reporters in Leeds."),
            ],
            [("d3", "About 1.5 million men were called up, officials said.")],
        ],
        strict=True,
    ):
        here = annotate_batch(texts)
        claims = here["document_claims"].select("doc_id", "claim_type", "text").rows()
        assert [tuple(c) for c in result["claims"]] == claims
        assert result["mentions"] == here["document_mentions"].height
    kinds = {c[1] for r in report["results"] for c in r["claims"]}
    assert {"direct_quote", "quantity"} <= kinds
