"""The Dagster code location: assets by stage, checks, the job, schedule, sensors, resources.

`dg` sees this module as the project's code location (`[tool.dg.project]` in pyproject.toml).
Definitions scaffolded with `dg scaffold defs ...` go to `pipelines/defs/`, loaded here with
the project's own; the assets themselves stay in the `assets` package, one module per stage.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import dagster as dg

import pipelines.defs
from assets import extract, ingest, normalise, stories, warehouse
from assets.checks import ALL_CHECKS
from pipelines.automation import automation_sensor, with_automation
from pipelines.jobs import news_etl_job
from pipelines.resources import DuckDBWarehouse, NewsStorage
from pipelines.schedules import daily_schedule
from pipelines.sensors import seeds_folder_sensor


def scaffolded_defs() -> dg.Definitions:
    """What `dg scaffold defs` put into `pipelines/defs/` (nothing yet). Loaded from the package
    itself, not from pyproject.toml, so an installed wheel loads it the same way."""
    with warnings.catch_warnings():  # the folder loader is a preview API of dagster 1.13
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.ComponentTree(
            defs_module=pipelines.defs,
            project_root=Path(pipelines.defs.__file__).resolve().parents[2],
            code_location_name="news_warehouse",
        ).build_defs()


defs = dg.Definitions.merge(
    dg.Definitions(
        assets=dg.map_asset_specs(
            with_automation,
            [
                ingest.raw_news_files,
                ingest.scan_seeds,
                normalise.annotate_documents,
                extract.link_corpus_entities,
                stories.link_stories,
                warehouse.load_warehouse,
            ],
        ),
        asset_checks=ALL_CHECKS,
        jobs=[news_etl_job],
        schedules=[daily_schedule],
        sensors=[seeds_folder_sensor, automation_sensor],
        resources={"storage": NewsStorage(), "duckdb": DuckDBWarehouse()},
    ),
    scaffolded_defs(),
)
