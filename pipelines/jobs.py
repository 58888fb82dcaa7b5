"""The job that materialises everything, in one process.

In process, because a step costs about 1.3 s of process start-up with the multiprocess executor
and the NLP step parallelises itself over the cores; an unchanged re-run is then a couple of
seconds. A deployment that spreads partitions over machines picks another executor in config.
"""

from __future__ import annotations

import dagster as dg

news_etl_job = dg.define_asset_job(
    "news_etl",
    selection=dg.AssetSelection.all(),
    description="Scan the seeds folder, parse new articles, rebuild the entity index, "
    "load the DuckDB warehouse.",
    executor_def=dg.in_process_executor,
)
