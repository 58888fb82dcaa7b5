"""The daily run. It starts off (STOPPED): a fresh `dagster dev` should not write into `data/`
until someone turns it on in the UI, or sets NEWS_AUTOMATION=on for a deployment."""

from __future__ import annotations

import os

import dagster as dg

from pipelines.jobs import news_etl_job


def default_status() -> dg.DefaultScheduleStatus:
    on = os.environ.get("NEWS_AUTOMATION", "").lower() in ("1", "on", "true", "yes")
    return dg.DefaultScheduleStatus.RUNNING if on else dg.DefaultScheduleStatus.STOPPED


daily_schedule = dg.ScheduleDefinition(
    name="daily_news_etl",
    job=news_etl_job,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    default_status=default_status(),
    description="Every day at 05:00 UTC: pick up new and changed articles.",
)
