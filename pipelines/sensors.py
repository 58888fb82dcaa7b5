"""A sensor that notices new, changed or deleted files in the seeds folder and requests a run of
the shards they are in.

The cursor holds a fingerprint (paths, sizes, modification times) of each shard's files; a run is
requested only when one changes, for the changed shards only (the partition range of the parse
step: one run from the first changed shard to the last; shards in between without work are
found unchanged and left alone), with the folder's fingerprint as run key so the same state never
runs twice. A `.txt` file's shard follows from its path (`doc_id_for`); a `.json` or `.jsonl`
file's articles take their ids from inside the file, and a manifest's rows speak for articles
anywhere below it, so a change to one of those asks for every shard. Like the schedule it starts
off (see `pipelines.schedules`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.core.documents import ARTICLE_SUFFIXES
from pipelines.core.ids import doc_id_for
from pipelines.core.incremental import SHARDS
from pipelines.core.metadata import MANIFEST_NAMES
from pipelines.core.settings import Settings
from pipelines.jobs import news_etl_job
from pipelines.schedules import default_status

# The cursor's key for the files whose shards cannot be told from their paths.
ANY_SHARD = "*"


def shard_of_file(relative_path: str) -> str:
    """The shard a file's articles go to, or ANY_SHARD when the path does not tell."""
    if relative_path.endswith(".txt"):
        return doc_id_for(relative_path)[1]
    return ANY_SHARD


def shard_fingerprints(seeds_dir: Path) -> tuple[dict[str, str], int]:
    """A hash of the path, size and mtime of every article file and manifest, per shard
    (ANY_SHARD for those of no one shard), and how many files there are."""
    digests: dict[str, Any] = {}  # shard -> a running sha256
    n = 0
    inputs = (
        p for p in seeds_dir.rglob("*") if p.suffix in ARTICLE_SUFFIXES or p.name in MANIFEST_NAMES
    )
    for path in sorted(inputs):
        try:
            stat = path.stat()
        except OSError:
            continue
        relative = path.relative_to(seeds_dir).as_posix()
        digest = digests.setdefault(shard_of_file(relative), hashlib.sha256())
        digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        n += 1
    return {shard: d.hexdigest() for shard, d in sorted(digests.items())}, n


def folder_fingerprint(seeds_dir: Path) -> tuple[str, int]:
    """One hash of the whole folder (of its shards' hashes), and how many files there are."""
    shards, n = shard_fingerprints(seeds_dir)
    return hashlib.sha256(json.dumps(shards, sort_keys=True).encode()).hexdigest(), n


def changed_shards(before: dict[str, str] | None, now: dict[str, str]) -> list[str]:
    """The shards whose files differ between two fingerprints (all of them when there is no
    earlier one, or a file of no one shard changed)."""
    if before is None:
        return list(SHARDS)
    changed = {s for s in before.keys() | now.keys() if before.get(s) != now.get(s)}
    if ANY_SHARD in changed:
        return list(SHARDS)
    return sorted(changed)


def _cursor(text: str | None) -> dict[str, str] | None:
    """The per-shard fingerprints a cursor holds (None for none, or one of an older form)."""
    try:
        found = json.loads(text) if text else None
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


@dg.sensor(
    name="seeds_folder_sensor",
    job=news_etl_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus(default_status().value),
    description="Requests a run of the changed shards when files in the seeds folder appear, "
    "change or disappear.",
)
def seeds_folder_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    seeds_dir = Settings.from_env().seeds_dir
    if not seeds_dir.is_dir():
        return dg.SensorResult(skip_reason=f"seeds folder {seeds_dir} does not exist")
    now, n_files = shard_fingerprints(seeds_dir)
    shards = changed_shards(_cursor(context.cursor), now)
    if not shards:
        return dg.SensorResult(skip_reason=f"no change in {n_files} files")
    fingerprint, _n = folder_fingerprint(seeds_dir)
    tags = {
        "seeds_files": str(n_files),
        "changed_shards": ",".join(shards),
        "dagster/asset_partition_range_start": shards[0],
        "dagster/asset_partition_range_end": shards[-1],
    }
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=fingerprint, tags=tags)],
        cursor=json.dumps(now, sort_keys=True),
    )
