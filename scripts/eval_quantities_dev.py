"""Score `find_quantities` on the NewsQuant dev gold without running the warehouse.

Matching is the official scorer's own (`gold_quantity`, `match_values`, `agrees`, `f1` are
imported from ../shared/eval/score_quantities.py), so the figures here are the ones `make run` +
the official scorer give for the quantity extractor alone (the warehouse drops no quantity of a
one-sentence document).

    .venv/bin/python scripts/eval_quantities_dev.py [--errors] [--gold PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
SCORER = ROOT / "../shared/eval/score_quantities.py"
GOLD = ROOT / "../shared/eval/newsquant_dev.json"


def load_scorer(path: Path = SCORER) -> ModuleType:
    """The official scorer as a module, loaded by path (it is not a package)."""
    spec = importlib.util.spec_from_file_location("score_quantities", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def predictions(doc, found, scorer) -> list[dict]:
    """The quantities as the scorer's read_predictions gives them from the warehouse."""
    return [
        {
            "text": doc.text[q.start : q.end],
            "values": (q.value,) if q.value_to is None else (q.value, q.value_to),
            "unit": scorer.norm_unit(q.unit),
            "change": q.change or "=",
            "concept": scorer.content_words(q.concept),
        }
        for q in found
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--errors", action="store_true", help="print misses and false positives")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from pipelines.core.nlp import load_nlp
    from pipelines.core.quantities import find_quantities

    scorer = load_scorer()
    gold = json.loads(args.gold.read_text(encoding="utf-8"))
    nlp = load_nlp()
    aspects = ("value", "unit", "change", "concept")
    tps = dict.fromkeys(aspects, 0)
    n_gold = n_pred = 0
    texts = [item["text"] for item in gold]
    for i, (item, doc) in enumerate(zip(gold, nlp.pipe(texts), strict=True)):
        golds = [g for g in (scorer.gold_quantity(q) for q in item["quantities"]) if g]
        preds = predictions(doc, find_quantities(doc), scorer)
        found, free = scorer.match_values(golds, preds, pairs_allowed=False)
        n_gold += len(golds)
        n_pred += len(preds)
        wrong = []
        for gi, js in found:
            tps["value"] += 1
            for aspect in aspects[1:]:
                if scorer.agrees(preds[js[0]], golds[gi], aspect):
                    tps[aspect] += 1
                else:
                    wrong.append((aspect, preds[js[0]]["text"], preds[js[0]][aspect], golds[gi]))
        missed = [golds[gi][0] for gi in set(range(len(golds))) - {gi for gi, _ in found}]
        if args.errors and (missed or free or wrong):
            print(f"[{i}] {item['text']}")
            for values in missed:
                print(f"    FN  {values}")
            for j in free:
                print(f"    FP  {preds[j]['text']!r} {preds[j]['values']} {preds[j]['unit']!r}")
            for aspect, text, got, g in wrong:
                want = {"unit": sorted(g[1]), "change": g[2], "concept": g[3]}[aspect]
                print(f"    {aspect.upper():7} {text!r}: {got} vs gold {want}")
    print(f"sentences      {len(gold)}")
    print(f"gold           {n_gold}")
    print(f"predicted      {n_pred}")
    for aspect in aspects:
        name = "value" if aspect == "value" else f"value_{aspect}"
        print(f"{name:14} {scorer.f1(tps[aspect], n_pred, n_gold)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
