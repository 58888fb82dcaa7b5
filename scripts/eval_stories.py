"""Score the stories step on a corpus: same-body pairs found, what else was joined, and
near-duplicates (re-edited copies made by scripts/near_duplicates.py) found and not over-joined.

    .venv/bin/python scripts/eval_stories.py --corpus ../shared/corpora/bbc --near-dups 300

Runs `pipelines.core.stories` directly on the files (no parse): a clean run over the corpus, then
an incremental run that adds the copies to it (only they are signed and compared). Publication
dates come from the corpus manifest where it has them (Reuters); a copy keeps its source's date.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import near_duplicates

from pipelines.core import stories
from pipelines.core.documents import title_of


def manifest_dates(corpus: Path) -> dict[str, datetime]:
    """Publication dates from the corpus's manifest (`_meta/<corpus>_manifest.csv`, column
    `date`), as the metadata step reads them; none for a corpus without dates (BBC)."""
    path = corpus.parent / "_meta" / f"{corpus.name}_manifest.csv"
    if not path.exists():
        return {}
    with open(path, newline="") as handle:
        return {
            row["file"]: datetime.strptime(row["date"].split()[0].title(), "%d-%b-%Y")
            for row in csv.DictReader(handle)
            if row.get("date")
        }


DATES: dict[str, datetime] = {}


def frame(named_texts: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "doc_id": [n for n, _ in named_texts],
            "content_sha256": [hashlib.sha256(t.encode()).hexdigest() for _, t in named_texts],
            "source_path": [n for n, _ in named_texts],
            "published_at": [DATES.get(n.split("__")[-1]) for n, _ in named_texts],
            "title": [title_of(t) for _, t in named_texts],
            "text": [t for _, t in named_texts],
        },
        schema_overrides={"published_at": pl.Datetime("us")},
    )


def story_pairs(result: stories.StoryUpdate) -> set[tuple[str, str]]:
    members = defaultdict(list)
    for doc_id, story_id in result.stories.select("doc_id", "story_id").iter_rows():
        members[story_id].append(doc_id)
    return {tuple(sorted(p)) for ids in members.values() for p in itertools.combinations(ids, 2)}


def same_body_pairs(named_texts: list[tuple[str, str]]) -> set[tuple[str, str]]:
    groups = defaultdict(list)
    for name, text in named_texts:
        groups[" ".join(text.partition("\n")[2].split())].append(name)
    return {tuple(sorted(p)) for ids in groups.values() for p in itertools.combinations(ids, 2)}


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--corpus", type=Path, required=True)
    arguments.add_argument("--near-dups", type=int, default=0)
    arguments.add_argument("--seed", type=int, default=14)
    arguments.add_argument("--show", type=int, default=10, help="joined pairs to print")
    args = arguments.parse_args()
    DATES.update(manifest_dates(args.corpus))
    files = sorted(args.corpus.rglob("*.txt"))
    named = [
        (p.relative_to(args.corpus).as_posix(), p.read_text(encoding="utf-8", errors="replace"))
        for p in files
    ]
    texts = dict(named)
    docs = frame(named)
    empty_sig = pl.DataFrame(schema=stories.SIGNATURE_SCHEMA)
    empty_pairs = pl.DataFrame(schema=stories.PAIR_SCHEMA)
    started = time.perf_counter()
    clean = stories.update(docs, empty_sig, empty_pairs)
    seconds = time.perf_counter() - started
    found = story_pairs(clean)
    truth = same_body_pairs(named)
    print(f"{args.corpus.name}: {len(named):,} articles, clean run {seconds:.2f} s")
    print(f"  same-body pairs: {len(truth & found)} of {len(truth)} found")
    other = sorted(found - truth)
    print(f"  other joined pairs (not the same body): {len(other)}")
    for a, b in other[: args.show]:
        sim = stories.jaccard(
            stories.shingles(stories.words(stories.body_of(texts[a], title_of(texts[a])))),
            stories.shingles(stories.words(stories.body_of(texts[b], title_of(texts[b])))),
        )
        print(f"    {a} ~ {b}  jaccard {sim:.2f}")
        print(f"      {texts[a].splitlines()[0][:70]!r} / {texts[b].splitlines()[0][:70]!r}")
    started = time.perf_counter()
    again = stories.update(docs, clean.signatures, clean.pairs)
    print(
        f"  unchanged re-run: {time.perf_counter() - started:.2f} s, signed {again.signed}, "
        f"same stories: {again.stories.equals(clean.stories)}"
    )
    if not args.near_dups:
        return
    copies = near_duplicates.make(args.corpus, args.near_dups, args.seed)
    all_named = named + [(name, text) for name, _, text, _ in copies]
    started = time.perf_counter()
    incremental = stories.update(frame(all_named), clean.signatures, clean.pairs)
    seconds = time.perf_counter() - started
    scratch = stories.update(frame(all_named), empty_sig, empty_pairs)
    print(
        f"near-duplicates: {len(copies)} copies added incrementally in {seconds:.2f} s "
        f"(signed {incremental.signed}, compared {incremental.compared} candidates); "
        f"same stories as a clean run: {incremental.stories.equals(scratch.stories)}"
    )
    story_of = dict(clean.stories.select("doc_id", "story_id").iter_rows())
    source_of = {name: source for name, source, _, _ in copies}
    copy_names = set(source_of)

    def original_story(doc: str) -> str:
        return story_of[source_of.get(doc, doc)]

    predicted = {p for p in story_pairs(incremental) if p[0] in copy_names or p[1] in copy_names}
    members = defaultdict(set)
    for name in [n for n, _ in all_named]:
        members[original_story(name)].add(name)
    truth = {
        tuple(sorted(p))
        for ids in members.values()
        for p in itertools.combinations(sorted(ids), 2)
        if p[0] in copy_names or p[1] in copy_names
    }
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    print(
        f"  pairs with a copy: precision {precision:.3f} ({tp}/{len(predicted)}), "
        f"recall {recall:.3f} ({tp}/{len(truth)})"
    )
    new_story = dict(incremental.stories.select("doc_id", "story_id").iter_rows())
    missed = [c for c in copies if new_story[c[0]] != new_story[c[1]]]
    by_edit = defaultdict(lambda: [0, 0])
    for name, source, _, edits in copies:
        for edit in edits:
            by_edit[edit][0] += 1
            by_edit[edit][1] += new_story[name] == new_story[source]
    print(
        "  copies joined to their source, by edit: "
        + ", ".join(f"{e} {ok}/{n}" for e, (n, ok) in sorted(by_edit.items()))
    )
    for name, _source, _, edits in missed[: args.show]:
        print(f"    missed {name} ({'+'.join(edits)})")


if __name__ == "__main__":
    main()
