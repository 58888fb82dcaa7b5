"""CPU time of `find_quantities` against the NLP step, over BBC articles' parsed Docs.

Parses the first N BBC articles once (spaCy, the pipeline's own loader), then times
`find_quantities` over all the Docs (best of several rounds, process CPU time), so the cost of
the quantity extractor can be compared before and after a change:

    .venv/bin/python scripts/bench_quantities.py [--n 300] [--rounds 3]
    PYTHONPATH=/tmp/base .venv/bin/python scripts/bench_quantities.py   # another checkout
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BBC = ROOT.parent / "shared" / "corpora" / "bbc"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import pipelines.core.quantities as quantities
    from pipelines.core.nlp import load_nlp
    from pipelines.core.parse import parse_texts

    files = sorted(BBC.glob("*.txt"))[: args.n]
    texts = [f.read_text(encoding="utf-8", errors="replace") for f in files]
    nlp = load_nlp()
    started = time.process_time()
    docs = [doc for doc, _ in parse_texts(nlp, ((t, None) for t in texts))]
    parse_cpu = time.process_time() - started
    best = float("inf")
    count = 0
    for _ in range(args.rounds):
        started = time.process_time()
        count = sum(len(quantities.find_quantities(doc)) for doc in docs)
        best = min(best, time.process_time() - started)
    print(f"module          {quantities.__file__}")
    print(f"articles        {len(docs)}")
    print(f"quantities      {count}")
    print(f"parse cpu       {parse_cpu:.2f} s ({1000 * parse_cpu / len(docs):.1f} ms/article)")
    print(
        f"quantities cpu  {best:.3f} s ({1000 * best / len(docs):.2f} ms/article, best of "
        f"{args.rounds})"
    )


if __name__ == "__main__":
    main()
