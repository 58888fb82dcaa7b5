"""A sensor that notices new, changed or deleted files in the seeds folder and requests a run.

The cursor is a fingerprint of the folder (paths, sizes, modification times); a run is requested
only when it changes, with the fingerprint as run key so the same state never runs twice. Like
the schedule it starts off (see `pipelines.schedules`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import dagster as dg

from pipelines.core.documents import ARTICLE_SUFFIXES
from pipelines.core.metadata import MANIFEST_NAMES
from pipelines.core.settings import Settings
from pipelines.jobs import news_etl_job
from pipelines.schedules import default_status


def folder_fingerprint(seeds_dir: Path) -> tuple[str, int]:
    """A hash of every article file's and manifest's path, size and mtime, and how many there
    are."""
    digest = hashlib.sha256()
    n = 0
    inputs = (
        p for p in seeds_dir.rglob("*") if p.suffix in ARTICLE_SUFFIXES or p.name in MANIFEST_NAMES
    )
    for path in sorted(inputs):
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(
            f"{path.relative_to(seeds_dir)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
        )
        n += 1
    return digest.hexdigest(), n


@dg.sensor(
    name="seeds_folder_sensor",
    job=news_etl_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus(default_status().value),
    description="Requests a run when files in the seeds folder appear, change or disappear.",
)
def seeds_folder_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    seeds_dir = Settings.from_env().seeds_dir
    if not seeds_dir.is_dir():
        return dg.SensorResult(skip_reason=f"seeds folder {seeds_dir} does not exist")
    fingerprint, n_files = folder_fingerprint(seeds_dir)
    if fingerprint == context.cursor:
        return dg.SensorResult(skip_reason=f"no change in {n_files} files")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=fingerprint, tags={"seeds_files": str(n_files)})],
        cursor=fingerprint,
    )
