"""Time the pipeline against the speed limit set by spaCy (`make bench`, BENCH_ARGS=...).

python scripts/bench.py [--corpus DIR ...] [--workers 2] [--add 10] [--add-from DIR]
                        [--run-command "make run"] [--keep DIR] [--repeat 3]

On one copy of the corpus (the corpora are read-only; `--corpus` may be given more than once, and
files are copied under `<corpus name>/`), in one go:

  (a) floor     a bare spaCy `nlp.pipe` over the same texts: the pipeline's model with only
                what NER and the parse need (FLOOR_COMPONENTS: no lemmatizer, none of the
                pipeline's own additions) and `n_process` = the pipeline's workers;
  (b) full      `make run` on a fresh data folder and a fresh Dagster instance;
  (c) unchanged the same command again;
  (d) +N files  the same command after adding N articles under new names (copies of Reuters
                articles by default);
  (e) new rules the same command with NEWS_EXTRACTION_SALT set to a new value, which changes the
                extraction version exactly as a change of the rules' source does: every document
                is extracted again from its kept parse.

`--repeat N` does all of it N times (each round on a fresh copy, (a) and (b) side by side) and
prints the median of each figure and of each round's ratios (paired runs).

Each line gives the wall time, documents parsed, docs/s and words/s (over the documents parsed),
the peak memory of the whole process tree (RSS of the process and all its children, sampled every
0.2 s) and the ratio to (b) or (a). The table is printed as Markdown at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from pipelines import instance_settings

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
GOALS = {"full": 1.05, "unchanged": 0.05, "added": 0.10, "rules": 0.20}
# What NER and the parse need; the floor runs nothing else (issue 16).
FLOOR_COMPONENTS = ("tok2vec", "tagger", "parser", "attribute_ruler", "ner")


@dataclass
class Step:
    name: str
    seconds: float
    docs: int
    words: int
    peak_rss: int
    cpu: float  # user + system seconds of the whole process tree

    def rate(self, n: int) -> str:
        return f"{n / self.seconds:,.1f}" if n and self.seconds else "-"


class PeakSampler:
    """The peak of the summed RSS of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> int:
        total = 0
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                total += process.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str] | str, env: dict[str, str], log: Path) -> tuple[float, int, float]:
    """Run a command (a list, or a string for the shell): its wall time, the peak RSS of its
    process tree and the CPU time of the tree (every descendant its parent waited for, which
    both the pipeline's and spaCy's worker pools do). The CPU time does not depend on what else
    the machine is running, so it shows the overhead even when the wall times are disturbed."""
    cpu_before = _children_cpu()
    with open(log, "w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            shell=isinstance(command, str),
        )
        sampler = PeakSampler(process.pid)
        code = process.wait()
        seconds = time.perf_counter() - started
        peak = sampler.stop()
    if code != 0:
        raise SystemExit(f"{command!r} failed with exit code {code}; see {log}")
    return seconds, peak, _children_cpu() - cpu_before


def copy_corpus(sources: list[Path], seeds: Path) -> None:
    for source in sources:
        shutil.copytree(source, seeds / source.name, ignore=shutil.ignore_patterns("_*"))


def count_words(paths: list[Path]) -> int:
    return sum(len(p.read_bytes().split()) for p in paths)


def floor_main(seeds: str, workers: int, batch_size: int) -> None:
    """(a) in its own process: read the texts as the pipeline does, then a bare nlp.pipe."""
    import spacy

    from pipelines.core.documents import find_raw_files, read_document
    from pipelines.core.settings import DEFAULT_MAX_FILE_BYTES
    from pipelines.core.versions import model_names

    started = time.perf_counter()
    raw_files, _refused = find_raw_files(Path(seeds))
    texts = [read_document(f, DEFAULT_MAX_FILE_BYTES).text for f in raw_files]
    nlp = None
    for name in model_names():
        try:
            nlp = spacy.load(name, exclude=["senter"])
            break
        except OSError:
            continue
    assert nlp is not None, "no spaCy model"
    nlp.select_pipes(enable=[p for p in nlp.pipe_names if p in FLOOR_COMPONENTS])
    nlp.max_length = max(nlp.max_length, 2_000_000)
    n_docs = n_tokens = 0
    for doc in nlp.pipe(texts, n_process=workers, batch_size=batch_size):
        n_docs += 1
        n_tokens += len(doc)
    print(
        json.dumps(
            {
                "docs": n_docs,
                "tokens": n_tokens,
                "seconds": time.perf_counter() - started,
                "components": nlp.pipe_names,
            }
        )
    )


def warehouse_state(warehouse: Path) -> dict[str, object]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        info = dict(con.execute("select key, value from load_info").fetchall())
        counts = {
            t: con.execute(f"select count(*) from {t}").fetchone()[0]
            for t in ("documents", "sentences", "entity_mentions", "entities", "claims")
        }
    return {"fingerprint": info.get("fingerprint"), "built_at": info.get("built_at"), **counts}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="append", type=Path, help="default: the BBC corpus")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--add", type=int, default=10)
    parser.add_argument("--add-from", type=Path, default=CORPORA / "reuters21578")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=64,
        help="nlp.pipe's batch size for (a). Not spaCy's default of 1000: nlp.pipe hands whole "
        "batches to the processes in turn, so with 1000 one process may parse up to 1000 "
        "documents after the other has finished, and the floor would be slower than it must.",
    )
    parser.add_argument("--run-command", default="make --no-print-directory run")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument(
        "--no-floor", action="store_true", help="skip (a), e.g. to measure memory on a big corpus"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds; medians of the paired runs are printed"
    )
    parser.add_argument("--floor", help=argparse.SUPPRESS)
    return parser.parse_args()


def one_round(args: argparse.Namespace, corpora: list[Path], work: Path, n: int) -> list[Step]:
    """(a) to (e) once, on a fresh copy of the corpus under `work`."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    seeds, data, home = work / "seeds", work / "data", work / "dagster_home"
    copy_corpus(corpora, seeds)
    files = sorted(seeds.rglob("*.txt"))
    words = count_words(files)
    env = {
        **os.environ,
        "NEWS_SEEDS_DIR": str(seeds),
        "NEWS_DATA_DIR": str(data),
        "NEWS_WORKERS": str(args.workers),
        "DAGSTER_HOME": str(home),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("NEWS_PARQUET_URL", "NEWS_LAKE_URL", "NEWS_WAREHOUSE_PATH"):
        env.pop(name, None)
    env["NEWS_EXTRACTION_SALT"] = os.environ.get("NEWS_EXTRACTION_SALT", "")
    home.mkdir()
    instance_settings.write(home)
    names = ", ".join(c.name for c in corpora)
    print(
        f"round {n}: {len(files):,} files ({words:,} words) from {names}; "
        f"{args.workers} workers; {work}"
    )

    steps: list[Step] = []
    if not args.no_floor:
        floor_log = work / "a_floor.log"
        seconds, peak, cpu = timed(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--floor",
                str(seeds),
                "--workers",
                str(args.workers),
                "--batch-size",
                str(args.batch_size),
            ],
            env,
            floor_log,
        )
        floor = json.loads(floor_log.read_text().strip().splitlines()[-1])
        steps.append(Step("(a) floor: bare nlp.pipe", seconds, floor["docs"], words, peak, cpu))
        print(f"  floor components: {', '.join(floor['components'])}")
        print(f"  {steps[-1].name}: {seconds:.1f} s, CPU {cpu:.1f} s", flush=True)

    def run(name: str, log: str, n_docs: int, n_words: int) -> dict[str, object]:
        seconds, peak, cpu = timed(args.run_command, env, work / log)
        steps.append(Step(name, seconds, n_docs, n_words, peak, cpu))
        print(f"  {name}: {seconds:.1f} s, CPU {cpu:.1f} s", flush=True)
        return warehouse_state(data / "warehouse.duckdb")

    full = run("(b) full run: make run", "b_full.log", len(files), words)
    again = run("(c) unchanged re-run", "c_unchanged.log", 0, 0)
    added_dir = seeds / "bench_added"
    added_dir.mkdir()
    sources = sorted(args.add_from.glob("*.txt"))[-args.add :]
    added = []
    for i, source in enumerate(sources):
        target = added_dir / f"added_{i:03d}_{source.name}"
        shutil.copy(source, target)
        added.append(target)
    after = run(
        f"(d) re-run after adding {len(added)} files", "d_added.log", len(added), count_words(added)
    )
    env["NEWS_EXTRACTION_SALT"] = f"bench rule change {time.time()}"
    rules = run(
        "(e) re-run after a rule change (re-extraction)",
        "e_rules.log",
        len(files) + len(added),
        words + count_words(added),
    )
    print(f"  warehouse after (b): {full}")
    unchanged = all(full[k] == again[k] for k in full)
    print(f"  (c) left the warehouse as it was (fingerprint, build time, rows): {unchanged}")
    print(f"  (d) documents: {after['documents']} (= {full['documents']} + {len(added)})")
    same = all(rules[k] == after[k] for k in after if k not in ("fingerprint", "built_at"))
    print(f"  (e) rows per table as after (d): {same} ({rules})")
    print(f"  (e) {reextracted(work / 'e_rules.log')}")
    return steps


def reextracted(log: Path) -> str:
    """The parse step's own line saying what (e) parsed and re-extracted."""
    for line in log.read_text(errors="replace").splitlines():
        if "to extract again from their kept parses" in line:
            return line.split(" - ")[-1].strip()
    return "(no line of the parse step found)"


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    args = parse_args()
    if args.floor:
        floor_main(args.floor, args.workers, args.batch_size)
        return
    corpora = [c.resolve() for c in (args.corpus or [CORPORA / "bbc"])]
    work = args.keep or Path(tempfile.mkdtemp(prefix="news-bench-"))
    rounds = [one_round(args, corpora, work / f"round{n}", n) for n in range(1, args.repeat + 1)]
    files = sorted(p for c in corpora for p in c.rglob("*.txt") if not p.name.startswith("_"))
    names = ", ".join(c.name for c in corpora)
    floor = not args.no_floor
    # ratios per round (paired runs), then their medians
    pairs: list[tuple[str, int, int, float]] = [
        ("(c)/(b)", 2, 1, GOALS["unchanged"]),
        ("(d)/(b)", 3, 1, GOALS["added"]),
        ("(e)/(b)", 4, 1, GOALS["rules"]),
    ]
    if floor:
        pairs.insert(0, ("(b)/(a)", 1, 0, GOALS["full"]))
    else:
        pairs = [(label, i - 1, j - 1, goal) for label, i, j, goal in pairs]
    ratio_of = {}
    for label, i, j, goal in pairs:
        wall = median([r[i].seconds / r[j].seconds for r in rounds])
        cpu = median([r[i].cpu / r[j].cpu for r in rounds])
        ratio_of[i] = (label, wall, cpu, goal)
    print()
    how = "median of" if args.repeat > 1 else "one round of"
    print(
        f"Corpus: {names}, {len(files):,} files; workers: {args.workers}; {how} "
        f"{args.repeat} paired run(s); machine: {machine()}"
    )
    print(f"Run command: `{args.run_command}`")
    print()
    print(
        "| step | wall s | docs | docs/s | words/s | peak RSS MiB | CPU s | ratio (wall) | "
        "ratio (CPU) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for k, step in enumerate(rounds[0]):
        seconds = median([r[k].seconds for r in rounds])
        shown = Step(
            step.name,
            seconds,
            step.docs,
            step.words,
            int(median([r[k].peak_rss for r in rounds])),
            median([r[k].cpu for r in rounds]),
        )
        wall = cpu = ""
        if k in ratio_of:
            label, w, c, goal = ratio_of[k]
            wall = f"{label} = {w:.3f} (goal ≤ {goal})"
            cpu = f"{c:.3f}"
        print(
            f"| {shown.name} | {shown.seconds:.1f} | {shown.docs:,} | {shown.rate(shown.docs)} | "
            f"{shown.rate(shown.words)} | {shown.peak_rss / 2**20:,.0f} | {shown.cpu:.1f} | "
            f"{wall} | {cpu} |"
        )
    print()
    for label, w, c, goal in ratio_of.values():
        verdict = "meets" if w <= goal and c <= goal else "MISSES"
        each = ", ".join(
            f"{r[i].seconds / r[j].seconds:.3f}"
            for r in rounds
            for lb, i, j, _g in pairs
            if lb == label
        )
        print(
            f"{label}: wall {w:.3f}, CPU {c:.3f}: {verdict} the goal of {goal} "
            f"(wall per round: {each})"
        )
    load = os.getloadavg()
    print(
        f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        f"on {os.cpu_count()} cores (other work on the machine slows every wall time)"
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, Python {sys.version.split()[0]}"


if __name__ == "__main__":
    main()
