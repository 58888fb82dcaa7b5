"""CPU and wall time of the stories and quote-group steps over a real run's lake.

    .venv/bin/python scripts/bench_stories.py data/lake

A clean run of `pipelines.core.stories` (every article signed, indexed and compared), the quote
groups, and an unchanged re-run (nothing signed), on the documents and claims of the lake.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.core import quote_groups, stories
from pipelines.core.store import Lake


def main() -> None:
    lake = Lake(sys.argv[1])
    columns = ["doc_id", "content_sha256", "source_path", "published_at", "title", "text"]
    documents = lake.read("documents", columns)
    claims = lake.read("claims", ["claim_id", "doc_id", "claim_type", "text", "char_start"])
    wall, cpu = time.perf_counter(), time.process_time()
    clean = stories.update(
        documents,
        pl.DataFrame(schema=stories.SIGNATURE_SCHEMA),
        pl.DataFrame(schema=stories.PAIR_SCHEMA),
    )
    story_wall, story_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    groups = quote_groups.quote_groups(claims, documents)
    group_wall, group_cpu = time.perf_counter() - wall, time.process_time() - cpu
    again = stories.update(documents, clean.signatures, clean.pairs)
    print(
        f"{documents.height:,} articles: stories {story_wall:.2f} s wall, {story_cpu:.2f} s CPU "
        f"({clean.stories['story_id'].n_unique():,} stories, {clean.pairs.height} similar "
        f"pairs); quote groups {group_wall:.2f} s wall, {group_cpu:.2f} s CPU ({groups.height:,} "
        f"quotes, {groups['quote_group_id'].n_unique():,} groups); unchanged re-run signs "
        f"{again.signed}, same stories: {again.stories.equals(clean.stories)}"
    )


if __name__ == "__main__":
    main()
