"""What the quote model adds to the NLP step's CPU time per article, on PolNeAR dev.

python scripts/quote_cost.py [--n 30]

CPU seconds (process time) per article of parsing (the pipeline's loader), of the rest of the
extraction (sentences, mentions, quantities and claims) with the rules alone, and with the model;
the last line is the model's share of the whole step.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quote_corpus import _texts

from pipelines.core.claims import extract_claims
from pipelines.core.entities import extract_mentions
from pipelines.core.nlp import load_nlp
from pipelines.core.parse import parse_texts
from pipelines.core.quotes import load_model
from pipelines.core.sentences import SentenceIndex, split_sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=30)
    args = parser.parse_args()
    texts = _texts("dev")[: args.n]
    nlp = load_nlp()
    load_model()  # read once per process, as in a worker
    started = time.process_time()
    docs = [doc for doc, _n in parse_texts(nlp, ((t, n) for n, t in texts))]
    parse = time.process_time() - started
    spent: dict[bool, float] = {}
    for on in (False, True, False, True):  # the first pass also loads the gazetteers: min of two
        started = time.process_time()
        for (name, _t), doc in zip(texts, docs, strict=True):
            index = SentenceIndex(split_sentences(name, doc))
            extract_claims(name, doc, index, extract_mentions(name, doc, index), on)
        spent[on] = min(spent.get(on, float("inf")), time.process_time() - started)
    n = len(texts)
    print(
        f"{n} articles, CPU s per article: parse {parse / n:.4f}, extraction rules alone "
        f"{spent[False] / n:.4f}, with the model {spent[True] / n:.4f}"
    )
    whole = parse + spent[False]
    print(f"the model adds {(spent[True] - spent[False]) / whole:.1%} to the NLP step")


if __name__ == "__main__":
    main()
