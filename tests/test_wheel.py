"""The project as a package: the wheel holds every module and data file, and an installed copy,
in a fresh virtual environment, runs the job from another folder against seeds/.

Nothing is downloaded: the wheel is built without build isolation (setuptools comes from the
project's environment), installed with `--no-deps --no-index`, and the fresh environment sees
the project's dependencies through a `.pth` file that names the project environment's
site-packages, after its own (so the installed copy of the project wins over the checkout).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT, SEEDS

pytestmark = pytest.mark.slow

# What the job run in the installed copy reports: where its modules and data came from.
DRIVER = """
import json, sys
import dagster as dg
import pipelines
from pipelines.core import gazetteer, warehouse
from pipelines.definitions import defs

job = defs.resolve_job_def("news_etl")
result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
print("RESULT " + json.dumps({
    "success": result.success,
    "pipelines": pipelines.__file__,
    "sql_dir": str(warehouse.SQL_DIR),
    "data_dir": str(gazetteer.DATA_DIR),
}))
"""


# Built from a copy of the project: setuptools leaves `build/` beside the sources it builds.
# Left out: what the checkout holds besides its sources (at the top), and caches (anywhere).
NOT_SOURCES = {".git", ".venv", "data", "build", ".dagster_home", "test-artifacts", "tests"}
CACHES = {"__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}


def _not_sources(folder: str, names: list[str]) -> set[str]:
    top = NOT_SOURCES if Path(folder) == ROOT else set()
    return {n for n in names if n in top | CACHES or n.endswith(".egg-info")}


def _wheel(tmp: Path) -> Path:
    source, dist = tmp / "source", tmp / "dist"
    shutil.copytree(ROOT, source, ignore=_not_sources, symlinks=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--wheel-dir",
            str(dist),
            str(source),
        ],
        check=True,
        cwd=tmp,
        timeout=300,
    )
    [wheel] = dist.glob("news_warehouse-*.whl")
    return wheel


def _fresh_venv(tmp: Path) -> tuple[Path, Path]:
    """A new environment that sees the project environment's packages after its own."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "project_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python, site


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return _wheel(tmp_path_factory.mktemp("wheel"))


def test_the_wheel_holds_every_module_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        p.relative_to(ROOT).as_posix()
        for folder in ("pipelines", "assets")
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    expected |= {f"pipelines/sql/{p.name}" for p in (ROOT / "sql").iterdir() if p.is_file()}
    assert "pipelines/sql/schema.sql" in expected and "pipelines/core/data/places.tsv" in expected
    assert sorted(expected - names) == []
    assert not any(n.startswith(("sql/", "tests/", "seeds/")) for n in names)


def test_an_installed_copy_runs_the_job_from_another_folder(wheel, tmp_path):
    python, site = _fresh_venv(tmp_path)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    elsewhere, data = tmp_path / "elsewhere", tmp_path / "data"
    elsewhere.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("NEWS_", "PYTHON"))},
        "NEWS_SEEDS_DIR": str(SEEDS),
        "NEWS_DATA_DIR": str(data),
        "NEWS_AUTOMATION": "off",
    }
    env.pop("VIRTUAL_ENV", None)
    run = subprocess.run(
        [str(python), "-c", DRIVER],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    [line] = [x for x in run.stdout.splitlines() if x.startswith("RESULT ")]
    report = json.loads(line.removeprefix("RESULT "))
    assert report["success"]
    for key in ("pipelines", "sql_dir", "data_dir"):  # the installed copy, not the checkout
        assert Path(report[key]).is_relative_to(site), (key, report[key])
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        n_documents = con.execute("select count(*) from documents").fetchone()[0]
        n_claims = con.execute("select count(*) from quotes").fetchone()[0]  # a view: views.sql
        countries = con.execute("select count(country) from entities").fetchone()[0]
    assert n_documents == len(list(SEEDS.glob("*.txt")))
    assert n_claims > 0
    assert countries > 0  # the gazetteer's data files were read
