"""Score quotes and speakers on PolNeAR with the shared scorer (`make eval-quotes`).

python scripts/eval_quotes.py [--split dev] [--data /tmp/polnear-dev]
python scripts/eval_quotes.py --cached [--split dev|train] [--model on|off|both]

The first form is a real pipeline run (NEWS_QUOTE_MODEL as set, on by default) on the split,
then the scorer and the confidence report (scripts/quote_confidence.py) on its warehouse. The
second runs the same extractor over the parses cached by `make train-quotes`
(scripts/quote_corpus.py) and scores through the same scorer, rules alone and with the model
side by side: a minute instead of a pipeline run, used for train (839 articles).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quote_gold import EVAL, ROOT


def cached(split: str, modes: list[str]) -> None:
    from quote_corpus import articles, score_claims

    from pipelines.core.quotes import extract_quotes, load_model

    arts = articles(split)
    for mode in modes:
        model = load_model() if mode == "on" else None
        by_article = {
            a.name: (a.doc.text, extract_quotes(a.doc, a.sentences, a.mentions, model))
            for a in arts
        }
        result = score_claims(split, by_article)
        print(f"PolNeAR {split}, quote model {mode}:")
        for key, value in result.items():
            print(f"  {key:32} {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--data", default=None)
    parser.add_argument("--cached", action="store_true")
    parser.add_argument("--model", default="both", choices=("on", "off", "both"))
    args = parser.parse_args()
    if args.cached:
        cached(args.split, ["off", "on"] if args.model == "both" else [args.model])
        return
    from run_pipeline import run

    gold = EVAL / "polnear" / args.split
    data = Path(args.data or f"/tmp/polnear-{args.split}")
    seconds = run(gold / "text", data, fresh=True)
    print(f"pipeline on PolNeAR {args.split}: {seconds:.1f} s")
    warehouse = str(data / "warehouse.duckdb")
    subprocess.run(
        [sys.executable, str(EVAL / "score_attribution.py"), warehouse, str(gold / "attributions")],
        check=True,
    )
    print("confidence:")
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "quote_confidence.py"),
            warehouse,
            str(gold / "attributions"),
        ],
        check=True,
    )


if __name__ == "__main__":
    main()
