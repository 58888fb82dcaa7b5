"""The Dagster UI for real: one `dg launch --job news_etl` run recorded into a fresh instance, a
scan after it (so the warehouse is stale), then `dg dev` on that instance, asked over GraphQL and
looked at in headless Chromium; and `dagster dev -w workspace.yaml` on the same project."""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines import instance_settings
from tests.helpers import BIN, DAGSTER_DEV, ROOT, dagster_dev, graphql

pytestmark = pytest.mark.slow

ARTIFACTS = ROOT / "test-artifacts"
# Debian's chromium (`make test` installs it), or another one named in CHROMIUM
CHROMIUM = Path(
    os.environ.get("CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
    or "chromium"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
GROUPS = {"ingest", "normalise", "extract", "warehouse"}
# upstream -> downstream: the whole lineage from the raw files to a view.
LINEAGE = [
    "raw_news_files",
    "source_files",
    "documents",
    "sentences",
    "document_mentions",
    "entities",
    "claims",
    "warehouse",
    "top_entities",
]
SPAN_TABLES = ["sentences", "entity_mentions", "claims"]
UNIQUE_CHECKS = {
    "documents": "doc_id_unique",
    "sentences": "sentence_id_unique",
    "entity_mentions": "mention_id_unique",
    "entities": "entity_id_unique",
    "claims": "claim_id_unique",
}
ASSET_NODES_QUERY = """
{
  assetNodes {
    assetKey { path }
    groupName
    dependencyKeys { path }
    kinds
    owners { ... on TeamAssetOwner { team } }
    description
    assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
  }
}
"""


@pytest.fixture(scope="module")
def ui(tmp_path_factory) -> Iterator[dict]:
    """A real run of `news_etl` into a fresh instance, and `dg dev` on it."""
    base = tmp_path_factory.mktemp("ui")
    seeds, data, home = base / "seeds", base / "data", base / "dagster_home"
    for folder in (seeds, data, home):
        folder.mkdir()
    for seed in (ROOT / "seeds").glob("*.txt"):
        shutil.copy2(seed, seeds / seed.name)
    instance_settings.write(home)
    env = {
        "DAGSTER_HOME": str(home),
        "NEWS_SEEDS_DIR": str(seeds),
        "NEWS_DATA_DIR": str(data),
        # Empty means "derive from NEWS_DATA_DIR": a value from the caller's shell must not
        # send this run's tables elsewhere, nor may automation start runs under the UI.
        "NEWS_PARQUET_URL": "",
        "NEWS_LAKE_URL": "",
        "NEWS_WAREHOUSE_PATH": "",
        "NEWS_AUTOMATION": "off",
    }
    logs = {name: base / f"{name}.log" for name in ("job", "scan")}

    def launch() -> None:
        for name, what in [
            ("job", ["--job", "news_etl"]),
            # a scan after the load: `rejected_files` is newer than the warehouse built from it
            ("scan", ["--assets", "source_files,rejected_files,file_warnings"]),
        ]:
            with open(logs[name], "w") as log:
                launched = subprocess.run(
                    [str(BIN / "dg"), "launch", *what],
                    cwd=ROOT,
                    env={**os.environ, "VIRTUAL_ENV": str(BIN.parent), **env},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=300,
                    check=False,
                )
            assert launched.returncode == 0, f"{what} failed:\n{logs[name].read_text()[-3000:]}"

    # the instance's storage made once, before the runs and the server race to make it
    dg.DagsterInstance.from_config(str(home)).dispose()
    # the runs go into the instance while the server starts on it (it reads the instance on
    # every request, so it sees them all): the two start-ups overlap instead of adding up
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        launched = pool.submit(launch)
        with dagster_dev(env, base / "dagster_dev.log") as url:
            launched.result()
            yield {"url": url, "data": data, "env": env, "base": base, "logs": logs}


def test_dg_launch_warns_of_nothing(ui):
    for name, log in ui["logs"].items():
        text = log.read_text()
        for word in ("SupersessionWarning", "DeprecationWarning", "deprecated", "superseded"):
            assert word not in text, f"{name}: {word}"


WAREHOUSE_QUERY = """
{
  assetNodes(assetKeys: [{path: ["warehouse"]}]) {
    staleStatus
    staleCauses { key { path } category reason dependency { path } }
    automationCondition { label }
    internalFreshnessPolicy {
      ... on TimeWindowFreshnessPolicy { failWindowSeconds warnWindowSeconds }
    }
    freshnessStatusInfo { freshnessStatus }
  }
}
"""


def test_the_warehouse_says_it_is_stale_why_and_how_fresh_it_must_be(ui):
    [node] = graphql(ui["url"], WAREHOUSE_QUERY)["assetNodes"]
    assert node["staleStatus"] == "STALE"
    # the root cause, as the UI lists it under "Unsynced": the input the scan wrote again
    causes = {("/".join(c["key"]["path"]), c["reason"]) for c in node["staleCauses"]}
    assert ("rejected_files", "has a new materialization") in causes, causes
    assert node["internalFreshnessPolicy"] == {
        "failWindowSeconds": 26 * 3600,
        "warnWindowSeconds": 24 * 3600,
    }
    assert node["automationCondition"]["label"] == "inputs updated and their blocking checks passed"
    # the daemon of `dg dev` evaluates the policy: built minutes ago, the warehouse passes it
    deadline = time.monotonic() + 120
    while (status := _freshness(ui["url"])) != "HEALTHY" and time.monotonic() < deadline:
        time.sleep(2)
    assert status == "HEALTHY"


def _freshness(url: str) -> str | None:
    [node] = graphql(url, WAREHOUSE_QUERY)["assetNodes"]
    info = node["freshnessStatusInfo"]
    return info and info["freshnessStatus"]


def test_dagster_dev_reads_the_workspace_file(ui):
    """The workspace file the design fixes serves the same code location under the same name."""
    query = "{ workspaceOrError { ... on Workspace { locationEntries { name } } } }"
    with dagster_dev(ui["env"], ui["base"] / "workspace_dev.log", DAGSTER_DEV) as url:
        entries = graphql(url, query)["workspaceOrError"]["locationEntries"]
        nodes = graphql(url, "{ assetNodes { assetKey { path } } }")["assetNodes"]
    assert [e["name"] for e in entries] == ["news_warehouse"]
    assert {"warehouse", "documents", "claims"} <= {n["assetKey"]["path"][0] for n in nodes}


def test_graphql_lineage(ui):
    nodes = graphql(ui["url"], ASSET_NODES_QUERY)["assetNodes"]
    by_key = {"/".join(node["assetKey"]["path"]): node for node in nodes}
    for key, node in by_key.items():
        assert node["description"], f"{key} has no description"
        assert node["groupName"] in GROUPS, f"{key} is in group {node['groupName']!r}"
        assert node["kinds"], f"{key} has no kinds"
        assert node["owners"], f"{key} has no owner"
    upstream = {
        key: {"/".join(dep["path"]) for dep in node["dependencyKeys"]}
        for key, node in by_key.items()
    }
    edges = [
        *itertools.pairwise(LINEAGE),
        ("document_mentions", "entity_mentions"),
        ("entities", "entity_mentions"),
        ("sentences", "document_claims"),
        ("document_claims", "claims"),
        ("entity_mentions", "warehouse"),
    ]
    for parent, child in edges:
        assert child in by_key, f"no asset {child}"
        assert parent in upstream[child], f"no edge {parent} -> {child}: {upstream[child]}"

    def checks(key: str) -> dict[str, bool]:
        found = by_key[key]["assetChecksOrError"].get("checks")
        assert found is not None, f"{key}: {by_key[key]['assetChecksOrError']}"
        return {check["name"]: check["blocking"] for check in found}

    for table in SPAN_TABLES:
        assert checks(table).get("offsets_give_span_text") is True, (table, checks(table))
    for table, name in UNIQUE_CHECKS.items():
        assert checks(table).get(name) is True, (table, checks(table))


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="chromium is not installed: `make test` installs it with apt-get where it can",
)
def test_browser_shows_lineage_and_claims_row_count(ui):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    url = ui["url"]
    with duckdb.connect(str(ui["data"] / "warehouse.duckdb"), read_only=True) as con:
        n_claims = con.execute("select count(*) from claims").fetchone()[0]
    assert n_claims > 0
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.set_default_timeout(30_000)
            expect.set_options(timeout=30_000)

            # Global asset lineage: the four groups, shown collapsed at first.
            page.goto(f"{url}/asset-groups")
            expect(page.get_by_text("Global asset lineage")).to_be_visible()
            expect(page.locator("svg").get_by_text("normalise").first).to_be_visible()
            # A fresh instance greets the first visitor with "Join the Dagster community".
            skip = page.get_by_role("button", name="Skip")
            with contextlib.suppress(PlaywrightTimeout):  # not shown if seen already
                skip.click(timeout=10_000)
            expect(skip).to_be_hidden()

            # "Expand all groups" lives in the graph's settings menu (the gear at the bottom).
            expand = page.get_by_text("Expand all")
            if not expand.filter(visible=True).count():
                page.locator("button:has([aria-label='settings'])").last.click()
            expand.filter(visible=True).first.click()
            page.keyboard.press("Escape")  # close the menu so it does not cover the graph
            expect(page.get_by_role("menuitem").filter(visible=True)).to_have_count(0)

            viewport = page.viewport_size
            for name in [
                "raw_news_files",
                "source_files",
                "documents",
                "sentences",
                "document_mentions",
                "document_claims",
                "entity_mentions",
                "claims",
                "entities",
                "warehouse",
                "top_entities",
            ]:
                label = page.locator(
                    "svg div[class*='assetName']", has_text=re.compile(rf"^{name}$")
                )
                expect(label).to_have_count(1)
                expect(label).to_be_visible()
                box = label.bounding_box()
                assert box, name
                on_screen = (
                    box["x"] >= 0
                    and box["x"] + box["width"] <= viewport["width"]
                    and box["y"] >= 0
                    and box["y"] + box["height"] <= viewport["height"]
                )
                assert on_screen, f"{name} is off screen: {box}"
            page.wait_for_timeout(500)  # let the edges finish drawing
            page.screenshot(path=str(ARTIFACTS / "asset_graph.png"))

            # The claims asset: its latest materialisation reports the table's row count.
            page.goto(f"{url}/assets/claims")
            row_count = page.get_by_text("Row count", exact=True)
            expect(row_count).to_be_visible()
            shown = rf"({re.escape(f'{n_claims:,}')}|{n_claims})"
            expect(row_count.locator("xpath=..")).to_have_text(
                re.compile(rf"^\s*Row count\s*{shown}\s*$")
            )
            page.screenshot(path=str(ARTIFACTS / "claims_asset.png"))

            # The warehouse's page: stale since the scan after it, and why; its freshness.
            page.goto(f"{url}/assets/warehouse")
            unsynced = page.get_by_text(re.compile(r"^Unsynced")).first
            expect(unsynced).to_be_visible()
            unsynced.hover()  # the tooltip names the cause
            expect(page.get_by_text("has a new materialization").first).to_be_visible()
            expect(page.get_by_text("Freshness policy").first).to_be_visible()
            fails = "Fails if more than 26 hours since last materialization"
            expect(page.get_by_text(fails)).to_be_visible()
            expect(page.get_by_text("Passing").first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "warehouse_asset.png"))
        finally:
            browser.close()
