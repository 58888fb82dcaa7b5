"""Does a contextual signal help the quote model? spaCy's own token vectors (`doc.tensor`, the
96 dimensions en_core_web_sm's tok2vec sets during the parse) added as dense features to the
shipped model's one-hot ones (issue 15, a probe: nothing here is shipped).

python scripts/probe_quote_vectors.py [--limit N]

The DocBin cache of scripts/quote_corpus.py does not keep `doc.tensor`, so the PolNeAR train
and dev texts are parsed again here with the pipeline's own loader and parser (the same texts,
`load_nlp`, `parse_texts`), each doc's tensor kept as float32 in one .npz per split under
$TMPDIR/news-quote-vectors (keyed by the model and the texts), and every tensor's row count
checked against the token count of the cached doc the rows are built from.

The rows are train_quotes' own (`_examples(split, None, extra)`); the extra hook records which
tokens of the doc each dense family reads (nothing from the gold):

- content_mean: the mean vector of the content's tokens (every piece of the attribution);
- content_edges: the vectors of the content's first and last tokens;
- cue: the vector of the cue token (the one the shipped features read), zeros if none;
- speaker: the vector of the speaker's head token, zeros if none;
- before: the mean of the 3 tokens before the content (zeros at the start of the doc).

Each is computed from a token matrix, so the same rows give the figures for the raw float32
vectors, for vectors rounded to float16, and for vectors projected by a PCA (16 or 32 dims,
fitted on the train tokens) before the families are computed: what storing reduced vectors
next to the kept parses would give. The dense block is standardised (fitted on the training
part of each fit) and joined to the one-hot block (scipy.sparse.hstack); logistic regression
(liblinear) with C chosen on dev from C_GRID, the shipped one at C = 0.3 too. Rule proposals
are kept; the open ones above the threshold best on dev (precision >= 0.75 first, then content
F1 + attribution F1, as train_quotes chooses); the train figures are 5 article folds of train
(trained on four, scored on the fifth) with the dev C, at the threshold best there (also under
the precision floor, which probe_quote_model.py does not apply on train: its 0.6385 / 0.5916 for
the shipped features is at train precision 0.711; with the floor they are 0.6202 / 0.5823).

Measured (839 + 84 articles; parse 4.3 min, whole run 39 min on 2 busy cores): no
family nor their union beats the shipped features on dev (0.6704 / 0.6367; the best, + speaker,
0.6697 / 0.6370); the train folds move by at most +0.005 content F1 (+ content_mean); PCA to 16
or 32 dims and float16 change nothing of note. Not worth storing vectors for.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quote_corpus import _texts, cache_key
from quote_gold import ROOT
from train_quotes import MIN_PRECISION, _examples, cached_rows, figures, vocabulary

from pipelines.core.doc_arrays import text_of
from pipelines.core.nlp import load_nlp
from pipelines.core.parse import parse_texts

VECTORS = Path(
    os.environ.get("NEWS_QUOTE_VECTORS") or Path(tempfile.gettempdir()) / "news-quote-vectors"
)
THRESHOLDS = np.arange(0.3, 0.8, 0.025)
C_GRID = (0.03, 0.1, 0.3, 1.0)
FAMILIES = ("content_mean", "content_edges", "cue", "speaker", "before")
BEFORE = 3


def tensors(split: str, limit: int | None = None) -> dict[str, np.ndarray]:
    """article -> its doc's tensor (tokens x 96, float32), parsed once and cached."""
    texts = _texts(split)[:limit]
    nlp = load_nlp()
    key = cache_key(nlp, texts)
    path = VECTORS / f"tensors-{split}-{key}.npz"
    if path.exists():
        with np.load(path) as z:
            return {name: z[name] for name in z.files}
    started = time.perf_counter()
    out = {}
    for doc, name in parse_texts(nlp, ((t, n) for n, t in texts), n_process=1):
        assert text_of(doc) == texts[len(out)][1], name
        tensor = np.asarray(doc.tensor, dtype=np.float32)
        assert tensor.shape == (len(doc), 96), (name, tensor.shape, len(doc))
        out[name] = tensor
    VECTORS.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, **out)
    tmp.rename(path)
    print(f"parsed {split}: {len(out)} docs in {time.perf_counter() - started:.0f} s", flush=True)
    return out


def _tokens(doc, start: int, end: int) -> list[int]:
    span = doc.char_span(start, end, alignment_mode="expand")
    return list(range(span.start, span.end)) if span is not None else []


def _root(doc, start: int | None, end: int | None) -> int:
    if start is None or end is None:
        return -1
    span = doc.char_span(start, end, alignment_mode="expand")
    return span.root.i if span is not None and len(span) else -1


def token_hook(names: dict[str, str], lengths: dict[str, int]):
    """The extra hook: which tokens of which doc every dense family reads."""

    def extra(doc, quotes, mentions) -> dict:
        name = names[doc.text]
        assert len(doc) == lengths[name], (name, len(doc), lengths[name])
        content = sorted({i for q in quotes for i in _tokens(doc, q.start, q.end)})
        first = quotes[0]
        speaker = first.speaker
        start = min(q.start for q in quotes)
        begin = content[0] if content else next((t.i for t in doc if t.idx >= start), len(doc))
        return {
            "doc": name,
            "content": content,
            "cue": _root(doc, first.cue_start, first.cue_end),
            "speaker": _root(doc, speaker.start, speaker.end) if speaker else -1,
            "before": list(range(max(begin - BEFORE, 0), begin)),
        }

    return extra


def examples(split: str, limit: int | None, vectors: dict[str, np.ndarray]) -> list[dict]:
    sources = [*sorted((ROOT / "pipelines" / "core").rglob("*.py")), Path(__file__)]
    names = {t: n for n, t in _texts(split)[:limit]}
    lengths = {n: len(v) for n, v in vectors.items()}
    return cached_rows(
        "vectors",
        split,
        limit,
        sources,
        lambda: _examples(split, limit, token_hook(names, lengths)),
    )


def dense(rows: list[dict], vectors: dict[str, np.ndarray], transform) -> dict[str, np.ndarray]:
    """family -> (rows x dims) from the token matrices `transform(tensor)`."""
    cache: dict[str, np.ndarray] = {}
    out: dict[str, list] = {f: [] for f in FAMILIES}
    for r in rows:
        e = r["extra"]
        if e["doc"] not in cache:
            cache = {e["doc"]: transform(vectors[e["doc"]])}  # rows come doc by doc
        m = cache[e["doc"]]
        zero = np.zeros(m.shape[1], dtype=np.float64)
        c = e["content"]
        out["content_mean"].append(m[c].mean(0) if c else zero)
        out["content_edges"].append(np.concatenate([m[c[0]], m[c[-1]]]) if c else np.r_[zero, zero])
        out["cue"].append(np.r_[m[e["cue"]], 1.0] if e["cue"] >= 0 else np.r_[zero, 0.0])
        out["speaker"].append(
            np.r_[m[e["speaker"]], 1.0] if e["speaker"] >= 0 else np.r_[zero, 0.0]
        )
        out["before"].append(m[e["before"]].mean(0) if e["before"] else zero)
    return {f: np.asarray(v, dtype=np.float64) for f, v in out.items()}


def onehot(train: list[dict], others: list[list[dict]]) -> list[sparse.csr_matrix]:
    index = vocabulary(r["features"] for r in train)

    def matrix(rows: list[dict]) -> sparse.csr_matrix:
        indptr, cols = [0], []
        for r in rows:
            cols += sorted(index[f] for f in set(r["features"]) if f in index)
            indptr.append(len(cols))
        data = np.ones(len(cols), dtype=np.float64)
        return sparse.csr_matrix((data, cols, indptr), shape=(len(rows), len(index)))

    return [matrix(rows) for rows in (train, *others)]


def fit_predict(xs_train, d_train, y, xs_test, d_test, c: float) -> np.ndarray:
    """Standardise the dense block on the training part, join it to the one-hot one, fit, and
    give the test part's probabilities."""
    if d_train is not None and d_train.shape[1]:
        mu, sd = d_train.mean(0), d_train.std(0)
        sd[sd == 0] = 1.0
        x_train = sparse.hstack([xs_train, sparse.csr_matrix((d_train - mu) / sd)]).tocsr()
        x_test = sparse.hstack([xs_test, sparse.csr_matrix((d_test - mu) / sd)]).tocsr()
    else:
        x_train, x_test = xs_train, xs_test
    clf = LogisticRegression(C=c, solver="liblinear", max_iter=1000).fit(x_train, y)
    return clf.predict_proba(x_test)[:, 1]


def best(rows, p, open_rows):
    scored = [(figures(rows, np.where(open_rows, p >= t, True)), t) for t in THRESHOLDS]
    return max(
        scored, key=lambda s: (s[0]["p"] >= MIN_PRECISION, s[0]["f"] + s[0]["attribution_f"])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="first N articles per split")
    args = parser.parse_args()
    t0 = time.perf_counter()
    vec = {s: tensors(s, args.limit) for s in ("train", "dev")}
    train_all = examples("train", args.limit, vec["train"])
    dev_all = examples("dev", args.limit, vec["dev"])
    train = [r for r in train_all if "features" in r]
    dev = [r for r in dev_all if "features" in r]
    print(
        f"data ready in {time.perf_counter() - t0:.0f} s: {len(train)} train rows, "
        f"{len(dev)} dev rows",
        flush=True,
    )
    y = np.array([r["label"] for r in train])
    open_dev = np.array([r["open"] for r in dev])
    open_train = np.array([r["open"] for r in train])
    names = sorted({r["article"] for r in train})
    fold = np.array([names.index(r["article"]) % 5 for r in train])
    xs_train, xs_dev = onehot(train, [dev])  # one vocabulary (train's), as the probe has it

    # token-level transforms: raw float32, float16, PCA fitted on every train token
    tokens = np.concatenate(list(vec["train"].values())).astype(np.float64)
    mean = tokens.mean(0)
    _u, _s, vt = np.linalg.svd(tokens - mean, full_matrices=False)
    explained = _s**2 / np.sum(_s**2)
    print(
        f"train tokens {len(tokens)}; PCA variance kept: 16 dims "
        f"{explained[:16].sum():.3f}, 32 dims {explained[:32].sum():.3f}",
        flush=True,
    )
    del tokens

    def pca(k, half=False):
        w = vt[:k].T

        def t(m):
            z = (m.astype(np.float64) - mean) @ w
            return z.astype(np.float16).astype(np.float64) if half else z

        return t

    transforms = {
        "float32": lambda m: m.astype(np.float64),
        "float16": lambda m: m.astype(np.float16).astype(np.float64),
        "pca16": pca(16),
        "pca32": pca(32),
        "pca16-float16": pca(16, True),
    }
    blocks = {}
    for name, transform in transforms.items():
        blocks[name] = (dense(train, vec["train"], transform), dense(dev, vec["dev"], transform))

    def report(
        label: str, fams: tuple[str, ...], variant: str = "float32", cs: tuple[float, ...] = C_GRID
    ) -> None:
        started = time.perf_counter()
        dt, dd = blocks[variant]
        d_train = np.hstack([dt[f] for f in fams]) if fams else None
        d_dev = np.hstack([dd[f] for f in fams]) if fams else None
        scored = []
        for c in cs:
            p = fit_predict(xs_train, d_train, y, xs_dev, d_dev, c)
            scored.append((*best(dev_all, p, open_dev), c))
        d, td, c = max(
            scored, key=lambda s: (s[0]["p"] >= MIN_PRECISION, s[0]["f"] + s[0]["attribution_f"])
        )
        p_cv = np.zeros(len(train))
        for k in range(5):
            p_cv[fold == k] = fit_predict(
                xs_train[fold != k],
                None if d_train is None else d_train[fold != k],
                y[fold != k],
                xs_train[fold == k],
                None if d_train is None else d_train[fold == k],
                c,
            )
        tr, tt = best(train_all, p_cv, open_train)
        dims = 0 if d_train is None else d_train.shape[1]
        print(
            f"{label:32} dims {dims:4} C {c:<4} | dev F1 {d['f']:.4f} attribution "
            f"{d['attribution_f']:.4f} P {d['p']:.4f} (open >= {td:.3f}) | train 5-fold F1 "
            f"{tr['f']:.4f} attribution {tr['attribution_f']:.4f} P {tr['p']:.4f} "
            f"(open >= {tt:.3f}) [{time.perf_counter() - started:.0f} s]",
            flush=True,
        )

    report("shipped features, C=0.3", (), cs=(0.3,))
    report("shipped features", ())
    for fam in FAMILIES:
        report(f"+ {fam}", (fam,))
    report("+ all families", FAMILIES)
    report("+ all families, float16", FAMILIES, "float16")
    report("+ all families, PCA 32", FAMILIES, "pca32")
    report("+ all families, PCA 16", FAMILIES, "pca16")
    report("+ all families, PCA 16 float16", FAMILIES, "pca16-float16")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
