"""Run the whole pipeline once, in process, on a folder: the evaluation scripts' common step.

python scripts/run_pipeline.py SEEDS_DIR DATA_DIR [--fresh]
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path


def run(seeds: Path, data: Path, fresh: bool = False) -> float:
    """Materialise every asset (a real Dagster run) and return the seconds it took."""
    if fresh and data.exists():
        shutil.rmtree(data)
    os.environ["NEWS_SEEDS_DIR"] = str(seeds)
    os.environ["NEWS_DATA_DIR"] = str(data)
    os.environ.pop("NEWS_WAREHOUSE_PATH", None)
    os.environ.pop("NEWS_PARQUET_URL", None)
    os.environ.pop("NEWS_LAKE_URL", None)
    import dagster as dg

    from pipelines.definitions import defs

    started = time.perf_counter()
    result = defs.resolve_job_def("news_etl").execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    if not result.success:
        raise SystemExit("the pipeline run failed")
    return time.perf_counter() - started


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    seconds = run(Path(args[0]), Path(args[1]), fresh="--fresh" in sys.argv)
    print(f"pipeline run: {seconds:.1f} s")
