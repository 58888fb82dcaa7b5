"""The job that materialises everything, and the executor it runs on.

`news_etl` covers every shard of the NLP step in one run (the partition range `0`-`f` is part of
the job's tags). By default it runs in process: the multiprocess executor costs a process start
and a code-location load per step (a 6-asset graph takes 7-8 s that way, 1.6 s in process), the
NLP step spreads itself over the cores anyway, and an unchanged re-run must take seconds.

Where it runs is configuration, not code (as dagster's project_fully_featured picks resources by
deployment): `NEWS_EXECUTOR` names the executor, read when the code location loads:
- `in_process` (default): one process; the NLP step uses a pool of NEWS_WORKERS processes.
- `multiprocess`: a process per step, on this machine.
- `celery`: every step is a Celery task (dagster-celery; broker from NEWS_CELERY_BROKER, default
  redis://localhost:6379/0, results in NEWS_CELERY_BACKEND, default the broker), so the shards
  of a backfill run on as many workers as there are, anywhere.
- `k8s`: a Kubernetes job per step (dagster-k8s), see the README.
Only the warehouse step is serialised, by the `duckdb_warehouse` pool and a file lock.

How the shards are grouped into runs is configuration too: NEWS_SHARDS_PER_RUN unset gives a
backfill (or `news_etl`) one run for all 16 shards; NEWS_SHARDS_PER_RUN=1 gives a backfill one run
per shard, launched side by side by the run launcher (see `assets.normalise`).
"""

from __future__ import annotations

import os

import dagster as dg

from pipelines.core.incremental import SHARDS

ALL_SHARDS = {
    "dagster/asset_partition_range_start": SHARDS[0],
    "dagster/asset_partition_range_end": SHARDS[-1],
}


def executor_from_env() -> dg.ExecutorDefinition:
    """The executor the deployment asked for in NEWS_EXECUTOR."""
    name = os.environ.get("NEWS_EXECUTOR", "in_process").strip().lower() or "in_process"
    if name == "in_process":
        return dg.in_process_executor
    if name == "multiprocess":
        return dg.multiprocess_executor
    if name == "celery":
        from dagster_celery import celery_executor

        broker = os.environ.get("NEWS_CELERY_BROKER") or "redis://localhost:6379/0"
        backend = os.environ.get("NEWS_CELERY_BACKEND") or broker
        return celery_executor.configured({"broker": broker, "backend": backend})
    if name == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    raise ValueError(f"NEWS_EXECUTOR={name!r}: use in_process, multiprocess, celery or k8s")


news_etl_job = dg.define_asset_job(
    "news_etl",
    selection=dg.AssetSelection.all(),
    description="Scan the seeds folder, parse new articles (every shard), rebuild the entity "
    "index, load the DuckDB warehouse.",
    executor_def=executor_from_env(),
    tags=ALL_SHARDS,
)
