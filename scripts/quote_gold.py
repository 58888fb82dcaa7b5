"""The shared scorer's gold reading, merging and matching, in one place for the quote scripts
(eval_quotes, quote_confidence, train_quotes, quote_corpus, speaker_links, quote_cost).

`../shared/eval/score_attribution.py` is the yardstick; these helpers import its own `trim`,
`overlap` and `read_gold` and repeat its two steps (pieces sharing a cue merged into one
prediction, then contents matched one to one, best overlap first) so that training labels,
confidence reports and scores can never drift apart from it.
"""

from __future__ import annotations

import importlib.util
import os
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
POLNEAR = EVAL / "polnear"
SCORED_TYPES = ("direct_quote", "indirect_quote")


@lru_cache(maxsize=1)
def scorer() -> ModuleType:
    """The shared scorer as a module, for its trim, overlap and gold reader."""
    spec = importlib.util.spec_from_file_location(
        "score_attribution", EVAL / "score_attribution.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gold_files(gold_dir: str | Path) -> dict[str, Path]:
    """Article name -> its gold file: the first annotator's by name, as the scorer takes."""
    files: dict[str, list[str]] = defaultdict(list)
    for name in sorted(os.listdir(gold_dir)):
        if name.endswith(".ann"):
            files[name[: -len(".ann")].rsplit("_", 1)[0]].append(name)
    return {article: Path(gold_dir) / names[0] for article, names in files.items()}


def read_gold(path: Path) -> list[dict]:
    """The gold attributions of one file (content, source, cue offsets)."""
    return scorer().read_gold(path)


def merge_by_cue(rows: Iterable[tuple]) -> list[dict]:
    """Predictions merged as the scorer merges them: pieces of one document that share a cue
    are one prediction. Each row is (doc, claim_type, start, end, speaker_start, speaker_end,
    cue_start, confidence); rows of other claim types are skipped. A merged prediction keeps the
    indices of its rows (`members`) and the highest confidence of its pieces (-1 for none)."""
    by_cue: dict = {}
    for n, (doc, kind, cs, ce, ss, se, qs, conf) in enumerate(rows):
        if kind not in SCORED_TYPES:
            continue
        key = (doc, qs) if qs is not None else (doc, "row", n)
        confidence = conf if conf is not None else -1.0
        if key in by_cue:
            g = by_cue[key]
            g["content"] = (min(g["content"][0], cs), max(g["content"][1], ce))
            g["type"] = "direct_quote" if "direct_quote" in (g["type"], kind) else kind
            if g["source"][0] is None:
                g["source"] = (ss, se)
            g["confidence"] = max(g["confidence"], confidence)
            g["members"].append(n)
        else:
            by_cue[key] = {
                "doc": doc,
                "type": kind,
                "content": (cs, ce),
                "source": (ss, se),
                "confidence": confidence,
                "members": [n],
            }
    return list(by_cue.values())


def match(text: str, gold: list[dict], preds: list[dict]) -> None:
    """Mark each prediction `matched` (content overlap >= 0.5, one to one, best first, as the
    scorer does) and `speaker_ok` (its source overlaps the gold Source by >= 0.5); each matched
    one also gets the index of its gold attribution (`gold_index`)."""
    score = scorer()

    def t(span: tuple) -> tuple | None:
        return score.trim(text, *span) if span[0] is not None else None

    g_spans = [t(g["content"]) for g in gold]
    p_spans = [t(p["content"]) for p in preds]
    pairs = sorted(
        ((score.overlap(g, p), i, j) for i, g in enumerate(g_spans) for j, p in enumerate(p_spans)),
        reverse=True,
    )
    for p in preds:
        p["matched"], p["speaker_ok"], p["gold_index"] = False, False, None
    used_g, used_p = set(), set()
    for value, i, j in pairs:
        if value < 0.5 or i in used_g or j in used_p:
            continue
        used_g.add(i)
        used_p.add(j)
        g, p = gold[i], preds[j]
        p["matched"], p["gold_index"] = True, i
        if g["source"][0] is not None and p["source"][0] is not None:
            p["speaker_ok"] = score.overlap(t(g["source"]), t(p["source"])) >= 0.5


def is_quoted(text: str, gold: dict) -> bool:
    """A gold content with a quote mark in it: what the scorer's direct-quote recall counts."""
    start, end = gold["content"]
    return any(c in text[start:end] for c in '"“”')
