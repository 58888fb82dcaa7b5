"""Realistic re-edited copies of articles, to score near-duplicate detection.

Each copy applies one to three edits a desk makes to a wire story, drawn at random (seeded):
another headline, a dateline or byline added, a credit or copyright line, a paragraph cut from the
middle or the last paragraphs cut, a paragraph of another article added (a local angle), quote
marks retyped (straight and curly), house style (per cent / percent, said / says), whitespace.

    .venv/bin/python scripts/near_duplicates.py --corpus ../shared/corpora/bbc --n 300 --out /tmp/nd
writes the copies as `<out>/nd_<i>__<source>` and `<out>/near_duplicates.csv` (copy, source,
edits).
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from collections.abc import Callable
from pathlib import Path

NAMES = ["Anna Smith", "John Baker", "Maria Lopez", "David Chen", "Sarah Jones", "Tom Evans"]
CITIES = ["LONDON", "NEW YORK", "PARIS", "TOKYO", "WASHINGTON", "BRUSSELS"]
AGENCIES = ["Reuters", "AP", "AFP", "PA"]
STYLE = [
    (r"\bper cent\b", "percent"),
    (r"\bpercent\b", "per cent"),
    (r"\bsaid\b", "says"),
    (r"\bpct\b", "percent"),
    (r"\bMr ", "Mr. "),
    (r"\borganisation\b", "organization"),
]


def _split(text: str) -> tuple[str, list[str]]:
    head, _, body = text.partition("\n")
    return head, [p for p in body.split("\n") if p.strip()]


def _join(head: str, paragraphs: list[str]) -> str:
    return head + "\n\n" + "\n\n".join(paragraphs) + "\n"


def new_headline(rng, head, paras, other):
    words = head.split()
    choices = [
        lambda: "UPDATE 1-" + head,
        lambda: " ".join(words[: max(3, len(words) - 2)]) + " - " + rng.choice(AGENCIES),
        lambda: other[0],
        lambda: head.upper(),
    ]
    return rng.choice(choices)(), paras


def dateline(rng, head, paras, other):
    first = f"{rng.choice(CITIES)} ({rng.choice(AGENCIES)}) - " + paras[0]
    return head, [first, *paras[1:]]


def byline(rng, head, paras, other):
    return head, [f"By {rng.choice(NAMES)}, staff correspondent", *paras]


def credit_line(rng, head, paras, other):
    lines = [
        f"(Reporting by {rng.choice(NAMES)}; Editing by {rng.choice(NAMES)})",
        f"Copyright {rng.choice(AGENCIES)} 2005. All rights reserved.",
        f"Additional reporting by {rng.choice(NAMES)} in {rng.choice(CITIES).title()}.",
    ]
    return head, [*paras, rng.choice(lines)]


def cut_paragraph(rng, head, paras, other):
    if len(paras) < 4:
        return head, paras
    i = rng.randrange(1, len(paras))
    return head, paras[:i] + paras[i + 1 :]


def cut_tail(rng, head, paras, other):
    """The last paragraphs cut, keeping 40 to 90 per cent of the words (at least two)."""
    total = sum(len(p.split()) for p in paras)
    keep_words = total * rng.uniform(0.4, 0.9)
    kept = list(paras)
    while len(kept) > 2 and sum(len(p.split()) for p in kept[:-1]) >= keep_words:
        kept.pop()
    return head, kept


def add_paragraph(rng, head, paras, other):
    """A paragraph of another article (a local angle) of at most 80 words."""
    short = [p for p in other[1] if len(p.split()) <= 80]
    extra = rng.choice(short) if short else "More details were not available."
    i = rng.randrange(1, len(paras) + 1)
    return head, [*paras[:i], extra, *paras[i:]]


def quote_marks(rng, head, paras, other):
    def retype(p: str) -> str:
        if "“" in p or "‘" in p or "’" in p:
            return p.replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'")
        p = re.sub(r'"([^"]*)"', "“\\1”", p)
        return re.sub(r"'", "’", p)

    return head, [retype(p) for p in paras]


def house_style(rng, head, paras, other):
    pattern, repl = rng.choice(STYLE)
    return head, [re.sub(pattern, repl, p) for p in paras]


def whitespace(rng, head, paras, other):
    return head, [re.sub(r" ", "  ", p, count=rng.randint(1, 5)) + " " for p in paras]


EDITS: dict[str, Callable] = {
    f.__name__: f
    for f in (
        new_headline,
        dateline,
        byline,
        credit_line,
        cut_paragraph,
        cut_tail,
        add_paragraph,
        quote_marks,
        house_style,
        whitespace,
    )
}


def edited_copy(rng: random.Random, text: str, other_text: str) -> tuple[str, list[str]]:
    head, paras = _split(text)
    other = _split(other_text)
    names = rng.sample(sorted(EDITS), rng.randint(1, 3))
    for name in names:
        head, paras = EDITS[name](rng, head, paras, other)
    return _join(head, paras), names


def make(corpus: Path, n: int, seed: int) -> list[tuple[str, str, str, list[str]]]:
    """(copy name, source name, copy text, edits) for n articles drawn from the corpus."""
    rng = random.Random(seed)
    files = sorted(p for p in corpus.rglob("*.txt"))
    out = []
    for i, source in enumerate(rng.sample(files, n)):
        other = rng.choice(files)
        text = source.read_text(encoding="utf-8", errors="replace")
        copy, edits = edited_copy(rng, text, other.read_text(encoding="utf-8", errors="replace"))
        out.append(
            (f"nd_{i:04d}__{source.name}", source.relative_to(corpus).as_posix(), copy, edits)
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = make(args.corpus, args.n, args.seed)
    with open(args.out / "near_duplicates.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["copy", "source", "edits"])
        for name, source, text, edits in rows:
            (args.out / name).write_text(text, encoding="utf-8")
            writer.writerow([name, source, ";".join(edits)])
    print(f"{len(rows)} copies in {args.out}")


if __name__ == "__main__":
    main()
