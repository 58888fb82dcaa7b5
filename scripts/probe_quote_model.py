"""How far a better classifier over the rules' proposals could take quotes (issue 15's fifth
round): the proposals' ceiling, and what richer features or a tree model give over the shipped
logistic regression.

python scripts/probe_quote_model.py [--gbm]

- ceiling: every proposal (the rules' and the model-only "open" ones) that the scorer's
  matching pairs with a gold content kept, every other one dropped: the content F1 a perfect
  classifier would reach with today's proposals, on dev and on train;
- the shipped model's training (scripts/train_quotes.py: its features, its vocabulary, liblinear)
  with C = 0.3, and the same with each family of extra content features added (the content's
  head: its POS, lemma and relation; its finite verbs; whether its head has a subject; the
  kinds of mention inside it). Rule proposals are kept, the open ones at the threshold that is
  best on dev; each line gives dev content F1, attribution F1 and precision at that threshold,
  then the same for five article folds of train (cross-validated: trained on four, scored on the
  fifth) at the threshold best there;
- with --gbm, scikit-learn's HistGradientBoostingClassifier on the base features (slow: a few
  minutes).

Nothing here is shipped: it measures. Examples are cached under $TMPDIR/news-quote-cache like the
training's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quote_gold import ROOT
from train_quotes import _examples, cached_rows, figures, vocabulary

from pipelines.core.lemmas import lemma_of
from pipelines.core.quotes.extract import is_open

THRESHOLDS = np.arange(0.3, 0.8, 0.025)
FAMILIES = ("head_pos", "head_lemma", "head_dep", "finite_verbs", "head_has_subject", "has")


def extra_features(doc, quotes, mentions) -> list[str]:
    """Content features the shipped model does not have (each prefixed by its family)."""
    start, end = min(q.start for q in quotes), max(q.end for q in quotes)
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or not len(span):
        return []
    root = span.root
    f = [f"head_pos={root.pos_}", f"head_lemma={lemma_of(root).lower()}", f"head_dep={root.dep_}"]
    finite = [t for t in span if t.pos_ in ("VERB", "AUX") and t.morph.get("VerbForm") == ["Fin"]]
    f.append(f"finite_verbs={min(len(finite), 3)}")
    if any(t.dep_ in ("nsubj", "nsubjpass") and t.head.i == root.i for t in span):
        f.append("head_has_subject")
    labels = sorted({m.label for m in mentions if start <= m.char_start and m.char_end <= end})
    f += [f"has={label}" for label in labels] or ["has=none"]
    kind = "open" if is_open(quotes[0]) else "rule"
    return f + [f"{kind}|{x}" for x in f]


def examples(split: str) -> list[dict]:
    sources = [*sorted((ROOT / "pipelines" / "core").rglob("*.py")), Path(__file__)]
    return cached_rows(
        "probe", split, None, sources, lambda: _examples(split, None, extra_features)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gbm", action="store_true")
    args = parser.parse_args()
    train_all, dev_all = examples("train"), examples("dev")
    train = [r for r in train_all if "features" in r]
    dev = [r for r in dev_all if "features" in r]
    for name, rows in (("dev", dev_all), ("train", train_all)):
        props = [r for r in rows if "features" in r]
        fig = figures(rows, np.array([bool(r["label"]) for r in props]))
        print(f"ceiling ({name}): content F1 {fig['f']} (P {fig['p']}, R {fig['r']})")
    open_dev = np.array([r["open"] for r in dev])
    open_train = np.array([r["open"] for r in train])
    y = np.array([r["label"] for r in train])
    names = sorted({r["article"] for r in train})
    fold = np.array([names.index(r["article"]) % 5 for r in train])

    def matrices(use: Callable[[str], bool]) -> tuple[np.ndarray, np.ndarray]:
        def feats(r: dict) -> set[str]:
            return set(r["features"]) | {x for x in r["extra"] if use(x)}

        index = vocabulary(feats(r) for r in train)

        def matrix(rows: list[dict]) -> np.ndarray:
            x = np.zeros((len(rows), len(index)), dtype=np.float32)
            for i, r in enumerate(rows):
                x[i, [index[f] for f in feats(r) if f in index]] = 1.0
            return x

        return matrix(train), matrix(dev)

    def report(name: str, fit: Callable[[np.ndarray, np.ndarray], object], use) -> None:
        x_train, x_dev = matrices(use)
        p_dev = fit(x_train, y).predict_proba(x_dev)[:, 1]
        p_cv = np.zeros(len(train))
        for k in range(5):
            p_cv[fold == k] = fit(x_train[fold != k], y[fold != k]).predict_proba(
                x_train[fold == k]
            )[:, 1]

        def best(rows, p, open_rows):
            scored = [(figures(rows, np.where(open_rows, p >= t, True)), t) for t in THRESHOLDS]
            return max(scored, key=lambda s: s[0]["f"] + s[0]["attribution_f"])

        (d, td), (c, tc) = best(dev_all, p_dev, open_dev), best(train_all, p_cv, open_train)
        print(
            f"{name:24} dev F1 {d['f']:.4f} attribution {d['attribution_f']:.4f} P {d['p']:.4f} "
            f"(open >= {td:.3f}) | train 5-fold F1 {c['f']:.4f} attribution "
            f"{c['attribution_f']:.4f} P {c['p']:.4f} (open >= {tc:.3f})"
        )

    def logistic(x, yy):
        return LogisticRegression(C=0.3, solver="liblinear", max_iter=1000).fit(x, yy)

    report("shipped features", logistic, lambda x: False)
    report("+ every extra family", logistic, lambda x: True)
    for family in FAMILIES:
        report(f"+ {family}", logistic, lambda x, f=family: x.split("|")[-1].startswith(f))
    if args.gbm:
        from sklearn.ensemble import HistGradientBoostingClassifier

        def trees(x, yy):
            return HistGradientBoostingClassifier(max_iter=200, max_depth=4, random_state=0).fit(
                x, yy
            )

        report("gradient boosting", trees, lambda x: False)


if __name__ == "__main__":
    main()
