"""Ad-hoc SQL: read-only from the CLI, from Python, and from the DuckDB 1.x command line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines import cli


def test_cli_answers_a_query(seed_run, monkeypatch, capsys):
    monkeypatch.setenv("NEWS_WAREHOUSE_PATH", str(seed_run["warehouse"]))
    assert (
        cli.main(["sql", "select name from top_entities where label = 'PERSON' order by name"]) == 0
    )
    out = capsys.readouterr().out
    assert "Franz-Stefan Gady" in out and "Tatyana Perebeynos" in out


def test_cli_refuses_to_change_the_warehouse(seed_run, monkeypatch, capsys):
    monkeypatch.setenv("NEWS_WAREHOUSE_PATH", str(seed_run["warehouse"]))
    assert cli.main(["sql", "delete from claims"]) == 1
    assert "read-only" in capsys.readouterr().err
    with duckdb.connect(str(seed_run["warehouse"]), read_only=True) as con:
        assert con.execute("select count(*) from claims").fetchone()[0] > 0


def test_interactive_prompt_reads_statements_until_end_of_input(seed_run):
    env = {"NEWS_WAREHOUSE_PATH": str(seed_run["warehouse"]), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "sql"],
        input="select count(*) as n\nfrom documents;\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "(1 rows)" in done.stdout


def test_summary_names_the_warehouse(seed_run, monkeypatch, capsys):
    monkeypatch.setenv("NEWS_WAREHOUSE_PATH", str(seed_run["warehouse"]))
    assert cli.main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "documents" in out and str(seed_run["warehouse"]) in out


def test_duckdb_1x_cli_opens_the_warehouse(seed_run):
    """Analysts' DuckDB 1.x tools read the file (written in storage version v1.5.0)."""
    binary = Path(sys.executable).with_name("duckdb")
    if not binary.exists():
        binary = Path(shutil.which("duckdb") or "")
    assert binary.is_file(), "duckdb-cli is a pinned dev dependency and must be installed"
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    assert version.startswith("v1."), version
    done = subprocess.run(
        [
            binary,
            "-readonly",
            "-csv",
            str(seed_run["warehouse"]),
            "select count(*) from claims where claim_type = 'direct_quote'",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) >= 4


@pytest.mark.parametrize(
    "view",
    [
        "top_entities",
        "quotes_by_speaker",
        "claims_per_document",
        "entity_cooccurrence",
        "quotes",
        "quantities",
    ],
)
def test_views_answer(seed_run, view):
    with duckdb.connect(str(seed_run["warehouse"]), read_only=True) as con:
        assert con.execute(f"select count(*) from {view}").fetchone()[0] > 0
