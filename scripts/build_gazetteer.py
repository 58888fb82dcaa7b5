"""Build the gazetteer into the environment's cache (`make`'s set-up runs this).

The gazetteer (`pipelines/core/gazetteer.py`) is made from installed packages and the data files
only, like the spaCy model it is used beside, so it is built with the environment rather than
by a run: every process then loads it (about 0.3 s) instead of building it (about 3 s), the
first run on a new data folder included, where each of the NLP step's workers built it at once.
The file's name is a digest of everything the build reads, so a change of any of it is built
again (here, or by the first process that needs it).

    .venv/bin/python scripts/build_gazetteer.py
"""

from __future__ import annotations

from pipelines.core.gazetteer import keep_built


def main() -> None:
    path = keep_built()
    print(f"gazetteer: {path}" if path else "gazetteer: not kept (NEWS_GAZETTEER_CACHE is off)")


if __name__ == "__main__":
    main()
