"""The figures of the metadata issue, measured on the shared corpora (nothing is committed).

1. Reuters with its manifest copied beside the texts as `metadata.csv`: how many of the 19,043
   articles get `published_at` (the scan only: reading metadata needs no parsing).
2. A `.jsonl` of 1,000 articles in news-please's format made from the BBC texts, 1 % of its lines
   broken in different ways: exactly the good lines load, each broken one is refused by line.
3. The cost of a metadata-only change (the manifest edited, no text changed) against a full run,
   both real in-process Dagster runs over a sample of Reuters (`--sample`, spread over the
   corpus), then the week-by-week query of the README on that sample; or, with `--corpus bbc`,
   over the BBC corpus (all of it unless `--sample`) with its own manifest as `metadata.csv`.
   Wall and CPU seconds (this process and its workers) of each run, and each stage's seconds.

    .venv/bin/python scripts/metadata_figures.py [--sample 1000] [--skip-runs] [--corpus bbc]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPORA = ROOT.parent / "shared" / "corpora"
REUTERS = CORPORA / "reuters21578"
MANIFEST = CORPORA / "_meta" / "reuters21578_manifest.csv"
BBC = CORPORA / "bbc"
BBC_MANIFEST = CORPORA / "_meta" / "bbc_manifest.csv"

WEEKLY = """
select date_trunc('week', day)::date as week,
       sum(n_mentions) filter (where name = 'Japan') as japan,
       sum(n_mentions) filter (where name = 'Brazil') as brazil,
       sum(n_mentions) filter (where name = 'OPEC') as opec,
       sum(n_documents) filter (where name = 'OPEC') as opec_articles
from entity_mentions_daily
group by 1 order by 1
"""


def copy_reuters(seeds: Path, names: list[str] | None = None) -> int:
    """The Reuters texts (all, or `names`) and the manifest as `metadata.csv`. Hard links where
    the file system allows (a symbolic link out of the seeds folder is refused by design)."""
    seeds.mkdir(parents=True, exist_ok=True)
    wanted = names if names is not None else sorted(os.listdir(REUTERS))
    for name in wanted:
        try:
            os.link(REUTERS / name, seeds / name)
        except OSError:
            shutil.copyfile(REUTERS / name, seeds / name)
    with open(MANIFEST, encoding="utf-8", newline="") as source:
        rows = source.read().splitlines(keepends=True)
    keep = set(wanted)  # a manifest row for a missing file is a warning: the sample's rows only
    rows = rows[:1] + [r for r in rows[1:] if r.split(",", 1)[0] in keep]
    (seeds / "metadata.csv").write_text("".join(rows), encoding="utf-8", newline="")
    return len(wanted)


def copy_bbc(seeds: Path, sample: int | None) -> int:
    """The BBC texts (every `len // sample`-th, or all) and their manifest as `metadata.csv`
    (its own columns: `file`, `category`, `title`, ...)."""
    seeds.mkdir(parents=True, exist_ok=True)
    names = sorted(os.listdir(BBC))
    if sample:
        names = names[:: max(1, len(names) // sample)][:sample]
    for name in names:
        try:
            os.link(BBC / name, seeds / name)
        except OSError:
            shutil.copyfile(BBC / name, seeds / name)
    rows = BBC_MANIFEST.read_text(encoding="utf-8").splitlines(keepends=True)
    keep = set(names)
    rows = rows[:1] + [r for r in rows[1:] if r.split(",", 1)[0] in keep]
    (seeds / "metadata.csv").write_text("".join(rows), encoding="utf-8", newline="")
    return len(names)


def reuters_dates(work: Path) -> None:
    from pipelines.core import inventory

    seeds = work / "reuters-all"
    n = copy_reuters(seeds)
    started = time.perf_counter()
    files, refused = inventory.scan(seeds, 5 * 1024 * 1024)
    seconds = time.perf_counter() - started
    articles = files.filter(files["accepted"])
    dated = int(articles["published_at"].is_not_null().sum())
    with open(MANIFEST, encoding="utf-8") as handle:
        coded = sum("&#" in row["date"] or "#" in row["date"] for row in csv.DictReader(handle))
    warnings = int(files["warnings"].list.len().fill_null(0).sum())
    print(f"reuters: {n:,} texts, {len(articles):,} accepted, {len(refused)} refused")
    print(f"reuters: published_at for {dated:,} of {len(articles):,} ({dated / len(articles):.1%})")
    print(f"reuters: {coded} manifest dates with trailing codes or notes; {warnings} warnings")
    print(f"reuters: scan with manifest took {seconds:.1f} s")


def news_please_jsonl(work: Path) -> None:
    from pipelines.core import inventory

    seeds = work / "jsonl"
    seeds.mkdir()
    texts = sorted((CORPORA / "bbc").rglob("*.txt"))[:1000]
    broken = {
        7: lambda line: line[: len(line) // 2],  # cut in the middle
        101: lambda _line: '{"title": "no text", "url": "https://x.test/101"}',
        202: lambda _line: '["a list", "not an object"]',
        303: lambda line: line.replace('"maintext"', '"maintext" "'),
        404: lambda _line: "<html>not json</html>",
        505: lambda _line: '{"maintext": "   "}',
        606: lambda _line: "[" * 10_000 + "]" * 10_000,
        707: lambda line: line + line,  # two objects on one line
        808: lambda _line: '{"maintext": 42}',
        909: lambda line: line.replace("{", "{{", 1),
    }
    lines = []
    for n, path in enumerate(texts, start=1):
        headline, _, body = path.read_text(encoding="utf-8", errors="replace").partition("\n")
        record = {
            "authors": [],
            "date_download": "2024-01-01 00:00:00",
            "date_modify": None,
            "date_publish": f"2005-{(n % 12) + 1:02d}-{(n % 28) + 1:02d} 12:00:00",
            "description": None,
            "filename": path.name,
            "image_url": None,
            "language": "en",
            "localpath": None,
            "maintext": body.strip(),
            "source_domain": "bbc.co.uk",
            "title": headline.strip(),
            "title_page": None,
            "title_rss": None,
            "url": f"https://news.bbc.co.uk/{path.parent.name}/{path.stem}",
        }
        line = json.dumps(record, ensure_ascii=False)
        lines.append(broken[n](line) if n in broken else line)
    (seeds / "bbc.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    files, refused = inventory.scan(seeds, 5 * 1024 * 1024)
    loaded = {p for p, ok in files.select("source_path", "accepted").iter_rows() if ok}
    good = {f"bbc.jsonl#{n}" for n in range(1, 1001) if n not in broken}
    bad = {f"bbc.jsonl#{n}" for n in broken}
    counts = f"{len(loaded)} loaded, {len(refused)} refused"
    print(f"jsonl: {len(lines)} lines, {len(broken)} broken; {counts}")
    print(f"jsonl: loaded == good lines: {loaded == good}; refused == broken lines: "
          f"{ {r.source_path for r in refused} == bad}")  # fmt: skip
    for item in refused:
        print(f"  {item.source_path}: {item.reason[:100]}")


def runs(work: Path, sample: int | None, corpus: str = "reuters") -> None:
    import resource

    import dagster as dg
    import duckdb

    from pipelines.cli import stage_times
    from pipelines.definitions import defs

    seeds = work / f"{corpus}-sample"
    if corpus == "bbc":
        copy_bbc(seeds, sample)
        publisher, header = "BBC", "file,category,"
    else:
        names = sorted(os.listdir(REUTERS))
        sample = sample or 1000
        copy_reuters(seeds, names[:: max(1, len(names) // sample)][:sample])
        publisher, header = "Reuters", "file,newid,"
    os.environ.update(NEWS_SEEDS_DIR=str(seeds), NEWS_DATA_DIR=str(work / "data"))
    job = defs.resolve_job_def("news_etl")
    instance = dg.DagsterInstance.ephemeral()

    def cpu() -> float:
        own, workers = (
            resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        )
        return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime

    def run(label: str) -> float:
        started, cpu_started = time.perf_counter(), cpu()
        result = job.execute_in_process(instance=instance)
        seconds, cpu_seconds = time.perf_counter() - started, cpu() - cpu_started
        assert result.success
        steps = {
            s.step_key: s.end_time - s.start_time
            for s in instance.get_run_step_stats(result.run_id)
            if s.start_time and s.end_time
        }
        stages = ", ".join(f"{name} {t:.1f} s" for name, t in stage_times(steps))
        print(f"{label}: {seconds:.1f} s wall, {cpu_seconds:.1f} s CPU; stages: {stages}")
        figures = {}
        for event in result.get_asset_materialization_events():
            mat = event.step_materialization_data.materialization
            if mat.asset_key.path == ["documents"] and "documents_parsed" in mat.metadata:
                figures = {k: v.value for k, v in mat.metadata.items()}
        keys = ("documents_parsed", "documents_metadata_updated", "documents_with_published_at")
        print(f"  {label}: " + ", ".join(f"{k} {figures.get(k)}" for k in keys))
        return seconds

    full = run(f"full run ({len(os.listdir(seeds)) - 1} articles)")
    manifest = (seeds / "metadata.csv").read_text(encoding="utf-8")
    manifest = manifest.replace(header, "file,publisher," + header[5:]).replace(
        ".txt,", f".txt,{publisher},"
    )
    (seeds / "metadata.csv").write_text(manifest, encoding="utf-8")  # every row: an outlet
    metadata_only = run("metadata-only run (publisher added to every manifest row)")
    print(f"metadata-only / full: {metadata_only / full:.1%}")
    (seeds / "metadata.csv").write_text(manifest.replace(f",{publisher},", f",{publisher} Ltd,"))
    again = run("metadata-only run (every publisher renamed)")
    print(f"metadata-only / full, again: {again / full:.1%}")
    if corpus == "bbc":
        return
    with duckdb.connect(str(work / "data" / "warehouse.duckdb"), read_only=True) as con:
        print(WEEKLY.strip())
        print(con.sql(WEEKLY).show(max_rows=100) or "")
        print(con.sql("select publisher, count(*) from documents group by all"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=int, help="articles in the runs (Reuters: 1000)")
    parser.add_argument("--skip-runs", action="store_true")
    parser.add_argument("--corpus", choices=("reuters", "bbc"), default="reuters")
    parser.add_argument("--runs-only", action="store_true", help="only the runs' figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="news-metadata-") as tmp:
        work = Path(tmp)
        if not args.runs_only:
            reuters_dates(work)
            news_please_jsonl(work)
        if not args.skip_runs:
            runs(work, args.sample, args.corpus)


if __name__ == "__main__":
    main()
