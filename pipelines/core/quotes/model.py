"""The learned part of quote extraction: a logistic regression over the parse that says how
likely each attribution the rules propose is a real one, trained on PolNeAR train
(`make train-quotes`) and shipped as a small JSON file of feature weights.

The rules propose (quote-mark pairing, cues, pronoun speakers, outlets are theirs); the model
scores every proposal from what the parse says about it (the cue's lemma, tag and dependency,
the kind of speaker, the content's length and shape, where the cue stands) and gives it a
`confidence`. With the model on, proposals below the threshold chosen on PolNeAR dev are
dropped, and extra proposals that only the model may accept (a clause held by any verb with a
speaking subject, not only a verb of the lexicon) are kept when it is sure enough. Pieces that
share a cue are one attribution and are scored together, as the scorer merges them.

Run time needs only the standard library: a dot product of binary features and a sigmoid.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipelines.core.datafiles import DATA_DIR

MODEL_PATH = DATA_DIR / "quote_model.json"


@dataclass(frozen=True)
class QuoteModel:
    bias: float
    weights: dict[str, float]
    threshold: float  # reported speech the rules propose is dropped below it
    threshold_open: float  # proposals only the model may accept need this much
    threshold_direct: float = 0.0  # quote-mark quotes (the rules' strength) below it go

    def probability(self, features: Iterable[str]) -> float:
        z = self.bias + sum(self.weights.get(f, 0.0) for f in set(features))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@lru_cache(maxsize=2)
def load_model(path: Path = MODEL_PATH) -> QuoteModel:
    """The shipped weights (read once per process)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return QuoteModel(
        float(data["bias"]),
        {k: float(v) for k, v in data["weights"].items()},
        float(data["threshold"]),
        float(data["threshold_open"]),
        float(data.get("threshold_direct", 0.0)),
    )
