"""The Dagster code location: assets by stage, checks, the job, schedule, sensor, resources."""

from __future__ import annotations

import dagster as dg

from assets import extract, ingest, normalise, stories, warehouse
from assets.checks import ALL_CHECKS
from pipelines.jobs import news_etl_job
from pipelines.resources import DuckDBWarehouse, NewsStorage
from pipelines.schedules import daily_schedule
from pipelines.sensors import seeds_folder_sensor

defs = dg.Definitions(
    assets=[
        ingest.raw_news_files,
        ingest.scan_seeds,
        normalise.annotate_documents,
        extract.link_corpus_entities,
        stories.link_stories,
        warehouse.load_warehouse,
    ],
    asset_checks=ALL_CHECKS,
    jobs=[news_etl_job],
    schedules=[daily_schedule],
    sensors=[seeds_folder_sensor],
    resources={"storage": NewsStorage(), "duckdb": DuckDBWarehouse()},
)
