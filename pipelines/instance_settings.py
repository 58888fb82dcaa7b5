"""An instance's settings file, `<DAGSTER_HOME>/dagster.yaml`, as the project writes it.

`pipelines/dagster.yaml` holds what every instance of the project shares (pools, telemetry,
freshness). The file written here adds what must name the instance's own folder: the event log
with kept connections (`pipelines.event_log_storage`), in Dagster's own place for it,
`<home>/history/runs`. A settings file cannot name its folder itself (an instance may be opened
from any folder, `DagsterInstance.from_config(path)`, whatever DAGSTER_HOME says), so it is
written for its folder: `make` does it for `DAGSTER_HOME`, the bench and the tests for theirs.

    .venv/bin/python -m pipelines.instance_settings <home>
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

SHARED = Path(__file__).with_name("dagster.yaml")
EVENT_LOG = {
    "module": "pipelines.event_log_storage",
    "class": "KeptConnectionSqliteEventLogStorage",
}


def event_log_dir(home: Path) -> Path:
    """Where Dagster's SQLite event log keeps its files in an instance folder."""
    return Path(home).resolve() / "history" / "runs"


def instance_yaml(home: Path) -> str:
    """The settings file of the instance in `home`."""
    own = {"event_log_storage": {**EVENT_LOG, "config": {"base_dir": str(event_log_dir(home))}}}
    return (
        SHARED.read_text()
        + "# The event log, with its connections kept (pipelines/event_log_storage.py), in this\n"
        + "# instance's folder: written for it by pipelines/instance_settings.py.\n"
        + yaml.safe_dump(own, sort_keys=False)
    )


def write(home: Path) -> Path:
    """Write `home`/dagster.yaml (and the folder)."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    path.write_text(instance_yaml(home))
    return path


if __name__ == "__main__":
    print(write(Path(sys.argv[1])))
