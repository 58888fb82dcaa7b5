"""Does the quote `confidence` mean something? Precision by confidence on a scored warehouse,
with the shared scorer's own merging and matching.

python scripts/quote_confidence.py WAREHOUSE.duckdb GOLD_ATTRIBUTIONS_DIR [--json]

Predictions are merged by cue and matched one to one to gold contents exactly as
`score_attribution.py` does (its functions are imported); a merged prediction's confidence is
the highest of its pieces'. It prints the content precision of the predictions with
confidence >= 0.8, of the top and bottom halves by confidence (all, and reported speech
alone), and precision by confidence band.
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quote_gold import gold_files, match, merge_by_cue, read_gold


def predictions(warehouse: str, gold_dir: str) -> list[dict]:
    """Every merged prediction of the gold articles with its confidence and match verdict."""
    con = duckdb.connect(warehouse, read_only=True)
    docs = {
        os.path.basename(path).removesuffix(".txt"): (doc_id, text)
        for doc_id, path, text in con.execute(
            "select doc_id, source_path, text from documents"
        ).fetchall()
    }
    rows = con.execute(
        "select doc_id, claim_type, char_start, char_end, speaker_start, speaker_end, cue_start, "
        "confidence from claims where claim_type in ('direct_quote', 'indirect_quote')"
    ).fetchall()
    claims = defaultdict(list)
    for c in merge_by_cue(rows):
        claims[c["doc"]].append(c)
    out = []
    for article, path in gold_files(gold_dir).items():
        if article not in docs:
            continue
        doc_id, text = docs[article]
        pred = claims.get(doc_id, [])
        match(text, read_gold(path), pred)
        out.extend(pred)
    return out


def precision(preds: list[dict]) -> float | None:
    return round(sum(p["matched"] for p in preds) / len(preds), 4) if preds else None


def halves(preds: list[dict]) -> dict:
    ranked = sorted(preds, key=lambda p: -p["confidence"])
    half = len(ranked) // 2
    top, bottom = precision(ranked[:half]), precision(ranked[half:])
    gap = round(top - bottom, 4) if top is not None and bottom is not None else None
    return {"n": len(ranked), "top_half": top, "bottom_half": bottom, "gap": gap}


def report(preds: list[dict]) -> dict:
    sure = [p for p in preds if p["confidence"] >= 0.8]
    reported = [p for p in preds if p["type"] == "indirect_quote"]
    bands = {}
    for low in (0.0, 0.2, 0.4, 0.6, 0.8):
        band = [
            p
            for p in preds
            if low <= p["confidence"] < low + 0.2 or (low == 0.8 and p["confidence"] >= 1.0)
        ]
        bands[f"{low:.1f}-{low + 0.2:.1f}"] = {"n": len(band), "precision": precision(band)}
    return {
        "predictions": len(preds),
        "without_confidence": sum(p["confidence"] < 0 for p in preds),
        "confidence_ge_0.8": {"n": len(sure), "precision": precision(sure)},
        "halves_all": halves(preds),
        "halves_reported_speech": halves(reported),
        "bands": bands,
    }


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.exit(__doc__)
    result = report(predictions(*args))
    if "--json" in sys.argv:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
