"""Score `find_quantities` on the NewsQuant dev gold without running the warehouse.

Matching is the official scorer's own (`norm_unit`, `same_value`, `f1` are imported from
../shared/eval/score_quantities.py), so the figures here are the ones `make run` + the official
scorer would give for the quantity extractor alone.

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


def gold_quantities(item: dict, norm_unit) -> list[tuple[float, set[str]]]:
    """A sentence's gold (value, accepted units), skipping values that are not one number."""
    golds = []
    for q in item["quantities"]:
        try:
            value = float(q["value"])
        except (TypeError, ValueError):
            continue  # ranges such as "252.0-287.0": the official scorer skips them too
        golds.append((value, {norm_unit(q.get("unit")), norm_unit(q.get("normalized_unit"))}))
    return golds


def match(preds, golds, need_unit: bool, same_value) -> tuple[int, list, list]:
    """One-to-one greedy matching in prediction order, as the official scorer does it."""
    free = list(golds)
    missed_preds = []
    for value, unit in preds:
        for g in free:
            if same_value(value, g[0]) and (not need_unit or unit in g[1]):
                free.remove(g)
                break
        else:
            missed_preds.append((value, unit))
    return len(preds) - len(missed_preds), missed_preds, free


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
    n_gold = n_pred = tp_value = tp_unit = 0
    texts = [item["text"] for item in gold]
    for i, (item, doc) in enumerate(zip(gold, nlp.pipe(texts), strict=True)):
        found = find_quantities(doc)
        preds = [(q.value, scorer.norm_unit(q.unit)) for q in found]
        golds = gold_quantities(item, scorer.norm_unit)
        n_gold += len(golds)
        n_pred += len(preds)
        tp_v, wrong_v, missed_v = match(preds, golds, False, scorer.same_value)
        tp_u, wrong_u, missed_u = match(preds, golds, True, scorer.same_value)
        tp_value += tp_v
        tp_unit += tp_u
        if args.errors and (wrong_u or missed_u):
            print(f"[{i}] {item['text']}")
            print("    found:", [(doc.text[q.start : q.end], q.value, q.unit) for q in found])
            for value, unit in wrong_v:
                print(f"    FP  {value:g} {unit!r}")
            for value, units in missed_v:
                print(f"    FN  {value:g} {sorted(units)}")
            for value, unit in wrong_u:
                if (value, unit) not in wrong_v:
                    print(f"    UNIT {value:g} {unit!r} gold {golds_for(value, golds, scorer)}")
    print(f"sentences    {len(gold)}")
    print(f"gold         {n_gold}")
    print(f"predicted    {n_pred}")
    print(f"value        {scorer.f1(tp_value, n_pred, n_gold)}")
    print(f"value_unit   {scorer.f1(tp_unit, n_pred, n_gold)}")
    return 0


def golds_for(value: float, golds, scorer) -> list[str]:
    """The gold units of the gold quantities with this value (for the error listing)."""
    return sorted({u for v, units in golds if scorer.same_value(value, v) for u in units})


if __name__ == "__main__":
    raise SystemExit(main())
