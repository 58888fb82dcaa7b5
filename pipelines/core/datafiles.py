"""Where the NLP core's data files are: package data, found through the installed package (a
wheel installed anywhere finds them as a checkout does), never relative to the working folder."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DATA_DIR = Path(str(resources.files("pipelines.core") / "data"))
