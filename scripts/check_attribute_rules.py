"""`attribute_rules` against the model's stock `attribute_ruler` on a corpus: every token's POS,
TAG, DEP, MORPH, LEMMA (those the rules set), HEAD and sentence start must be the same, and the
CPU time of each.

    .venv/bin/python scripts/check_attribute_rules.py [--corpus ../shared/corpora/bbc] [--step 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from spacy.attrs import DEP, HEAD, LEMMA, MORPH, POS, SENT_START, TAG
from spacy.tokens import Doc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.core.nlp import load_nlp  # noqa: E402

ATTRS = [POS, TAG, DEP, MORPH, LEMMA, HEAD, SENT_START]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpora/bbc")
    parser.add_argument("--step", type=int, default=1, help="every step-th file")
    args = parser.parse_args()
    files = sorted(args.corpus.rglob("*.txt"))[:: args.step]
    texts = [f.read_text(encoding="utf-8", errors="replace") for f in files]
    nlp = load_nlp()
    stock, fast = nlp.get_pipe("attribute_ruler"), nlp.get_pipe("attribute_rules")
    assert fast.compiled, "the model's patterns are not all readable: the stock component runs"
    before = nlp.pipe_names[: nlp.pipe_names.index("attribute_rules")]
    with nlp.select_pipes(enable=before):
        docs = list(nlp.pipe(texts, batch_size=64))
    stock_s = fast_s = 0.0
    tokens = differing = 0
    for doc in docs:
        a, b = (Doc(nlp.vocab).from_bytes(doc.to_bytes()) for _ in range(2))
        started = time.process_time()
        stock(a)
        stock_s += time.process_time() - started
        started = time.process_time()
        fast(b)
        fast_s += time.process_time() - started
        tokens += len(a)
        same = np.array_equal(a.to_array(ATTRS), b.to_array(ATTRS)) and [
            str(t.morph) for t in a
        ] == [str(t.morph) for t in b]
        differing += not same
    print(
        f"{len(docs):,} documents, {tokens:,} tokens: {differing} documents differ; "
        f"stock attribute_ruler {stock_s:.2f} s CPU, attribute_rules {fast_s:.2f} s CPU"
    )
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
