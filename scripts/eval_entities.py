"""Score entities against the Reuters-21578 documents' own tags (`make eval-entities`).

Copies a sample of one split's articles into a temporary seeds folder, runs the whole pipeline
on them (a real Dagster run), then reads the warehouse and reports document-level recall:

- people: a tagged person (slug `james-baker`) is found when a PERSON mention of the document,
  or its entity's name, contains the surname (`baker`; for `deng-xiaoping` either part, given
  names and particles such as `de`, `von`, `king` are not surnames);
- places: a tagged place (slug `west-germany`) is found when an entity of the document labelled
  GPE, LOC, NORP or FAC is that country or lies in it (`entities.name` or `entities.country`).
  A 1987 state counts through the states that followed it, as the articles name them: "Bonn" is
  in Germany today and in West Germany then, "Moscow" in Russia and in the Soviet Union;
- organisations (for information): the tag's usual names (`ec`: "European Community", "EC",
  "EEC", "Common Market") among the document's mentions of any label.

Place recall is reported on the random sample; people recall on every person-tagged document
of the run (the random sample plus, unless `--people-docs none`, every person-tagged document
of the split, since only about 5 % of the articles have one).

    python scripts/eval_entities.py [--split TRAIN] [--sample 1500] [--seed 0] [--errors 20]
    python scripts/eval_entities.py --split TEST --sample 0 --work /tmp/eval-entities-test
    python scripts/eval_entities.py --score-only         # re-score the last run's warehouse

The default (1,500 random TRAIN articles and the 618 person-tagged ones, 2,034 in all) takes
about two minutes on two cores. TEST is held out: score it once, on the whole split.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import shutil
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipelines.core import gazetteer  # noqa: E402
from pipelines.core.entities import PLACE_LABELS  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "reuters21578"
MANIFEST = ROOT.parent / "shared" / "corpora" / "_meta" / "reuters21578_manifest.csv"
# Slug parts that are not surnames: particles, titles, and given names the name list lacks.
NOT_SURNAMES = frozenset(
    ["de", "du", "da", "van", "von", "der", "den", "la", "le", "al", "abal", "king", "sheikh"]
)
# Usual names of the Reuters organisation tags, folded (for the information-only org recall).
ORG_NAMES: dict[str, tuple[str, ...]] = {
    "ec": ("european community", "european communities", "european economic community", "ec",
           "eec", "common market", "european commission", "ec commission"),
    "worldbank": ("world bank",),
    "imf": ("international monetary fund", "imf"),
    "opec": ("organization of petroleum exporting countries", "opec"),
    "gatt": ("general agreement on tariffs and trade", "gatt"),
    "ico-coffee": ("international coffee organization", "ico"),
    "icco": ("international cocoa organization", "icco"),
    "oecd": ("organisation for economic co-operation and development",
             "organization for economic cooperation and development", "oecd"),
    "unctad": ("united nations conference on trade and development", "unctad"),
    "adb-africa": ("african development bank", "afdb", "adb"),
    "adb-asia": ("asian development bank", "adb"),
    "un": ("united nations", "un"),
    "inro": ("international natural rubber organization", "inro"),
    "itc": ("international tin council", "itc"),
    "fao": ("food and agriculture organization", "fao"),
    "iea": ("international energy agency", "iea"),
    "eib": ("european investment bank", "eib"),
    "atpc": ("association of tin producing countries", "atpc"),
    "gcc": ("gulf cooperation council", "gcc"),
    "oapec": ("organization of arab petroleum exporting countries", "oapec"),
    "isa": ("international sugar agreement", "international sugar organization", "isa", "iso"),
    "iwc-wheat": ("international wheat council", "iwc"),
    "bis": ("bank for international settlements", "bis"),
    "euratom": ("euratom", "european atomic energy community"),
    "ida": ("international development association", "ida"),
    "comecon": ("comecon", "council for mutual economic assistance", "cmea"),
    "asean": ("association of south east asian nations", "asean"),
    "efta": ("european free trade association", "efta"),
}  # fmt: skip


def fold(text: str) -> str:
    """Lower case, no accents ("Pöhl" -> "poehl" as the 1987 wire spelled it), words only."""
    text = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def surnames(slug: str) -> set[str]:
    """`james-baker` -> {baker}; `deng-xiaoping` -> {deng, xiaoping}; `de-clercq` -> {clercq}."""
    parts = [p for p in slug.split("-") if p]
    names = {p for p in parts if p not in NOT_SURNAMES and not gazetteer.is_given_name(p.title())}
    return names or {parts[-1]}


def place_names(slug: str) -> set[str]:
    """The canonical names a place tag may take in the articles: the country, and for a state
    of 1987 the states that followed it ("ussr": the Soviet Union, Russia, Ukraine...)."""
    name = gazetteer.place_for_slug(slug)
    if name is None:
        return set()
    return {name, *gazetteer.successor_states(name)}


def tags(row: dict[str, str], column: str) -> list[str]:
    return [t for t in (row[column] or "").split(";") if t]


def read_manifest(split: str) -> list[dict[str, str]]:
    with open(MANIFEST, encoding="utf-8") as handle:
        return [r for r in csv.DictReader(handle) if r["lewissplit"] == split]


def choose(rows: list[dict[str, str]], sample: int, seed: int, people_docs: str):
    """The random sample (place recall) and the run's files (the sample + person-tagged docs)."""
    rng = random.Random(seed)
    picked = rows if sample <= 0 or sample >= len(rows) else rng.sample(rows, sample)
    run = {r["file"]: r for r in picked}
    if people_docs == "all":
        run.update({r["file"]: r for r in rows if tags(r, "people")})
    return [r["file"] for r in picked], run


@dataclass
class Tally:
    """Found / tagged counts, and the misses for `--errors`."""

    found: int = 0
    total: int = 0
    misses: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, hit: bool, file: str, tag: str, seen: str) -> None:
        self.total += 1
        self.found += hit
        if not hit:
            self.misses.append((file, tag, seen))

    def line(self, what: str) -> str:
        recall = self.found / self.total if self.total else float("nan")
        return f"{what:<16} recall {recall:.3f}  ({self.found}/{self.total} tags)"


def document_entities(warehouse: Path) -> dict[str, list[tuple[str, str, str, str | None]]]:
    """File name -> [(mention text, label, entity name, entity country)] from the warehouse."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            SELECT d.source_path, m.text, m.label, e.name, e.country
            FROM entity_mentions m
            JOIN entities e USING (entity_id)
            JOIN documents d USING (doc_id)
            """
        ).fetchall()
        documents = [r[0] for r in con.execute("SELECT source_path FROM documents").fetchall()]
    out: dict[str, list[tuple[str, str, str, str | None]]] = {Path(p).name: [] for p in documents}
    for path, text, label, name, country in rows:
        out[Path(path).name].append((text, label, name, country))
    return out


def score(
    run: dict[str, dict[str, str]],
    sample: list[str],
    found: dict[str, list[tuple[str, str, str, str | None]]],
) -> dict[str, Tally]:
    people, places, orgs = Tally(), Tally(), Tally()
    sampled = set(sample)
    for file, row in sorted(run.items()):
        if file not in found:  # rejected (e.g. no text): not scored
            continue
        mentions = found[file]
        person_words: set[str] = set()
        for text, label, name, _ in mentions:
            if label == "PERSON":
                person_words.update(fold(text).split())
                person_words.update(fold(name).split())
        seen = "; ".join(sorted({n for _, lab, n, _ in mentions if lab == "PERSON"}))
        for slug in tags(row, "people"):
            people.add(bool(surnames(slug) & person_words), file, slug, seen)
        if file in sampled:
            located = {n for _, lab, n, _ in mentions if lab in PLACE_LABELS}
            located |= {c for _, lab, _, c in mentions if lab in PLACE_LABELS and c}
            seen = "; ".join(sorted(located))
            for slug in tags(row, "places"):
                places.add(bool(place_names(slug) & located), file, slug, seen)
            names = {fold(t) for t, *_ in mentions} | {fold(n) for _, _, n, _ in mentions}
            seen = "; ".join(sorted({n for _, lab, n, _ in mentions if lab == "ORG"}))
            for slug in tags(row, "orgs"):
                known = set(ORG_NAMES.get(slug, (slug.replace("-", " "),)))
                orgs.add(bool(known & names), file, slug, seen)
    return {"people": people, "places": places, "organisations": orgs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="TRAIN", choices=["TRAIN", "TEST", "NOT-USED"])
    parser.add_argument("--sample", type=int, default=1500, help="random articles; 0 for all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--people-docs", default="all", choices=["all", "none"])
    parser.add_argument("--work", default="/tmp/eval-entities")
    parser.add_argument("--errors", type=int, default=0, help="show this many misses per kind")
    parser.add_argument("--score-only", action="store_true", help="re-score the last run")
    args = parser.parse_args()

    rows = read_manifest(args.split)
    sample, run = choose(rows, args.sample, args.seed, args.people_docs)
    work = Path(args.work)
    seeds, data = work / "seeds", work / "data"
    if not args.score_only:
        from run_pipeline import run as run_pipeline

        shutil.rmtree(work, ignore_errors=True)
        seeds.mkdir(parents=True)
        for file in run:
            shutil.copyfile(CORPUS / file, seeds / file)
        seconds = run_pipeline(seeds, data, fresh=True)
        print(f"pipeline on {len(run)} {args.split} articles: {seconds:.1f} s")
    found = document_entities(data / "warehouse.duckdb")
    missing = set(run) - set(found)
    tallies = score(run, sample, found)
    print(
        f"Reuters-21578 {args.split}: random sample of {len(sample)} (seed {args.seed}) for "
        f"places and organisations; {sum(1 for f in run if tags(run[f], 'people'))} "
        f"person-tagged articles for people; {len(missing)} articles not in the warehouse"
    )
    for what, tally in tallies.items():
        print(tally.line(what))
    if args.errors:
        for what, tally in tallies.items():
            counts = Counter(tag for _, tag, _ in tally.misses)
            print(f"\n{what}: most missed tags {counts.most_common(10)}")
            by_file = defaultdict(list)
            for file, tag, seen in tally.misses[: args.errors]:
                by_file[file].append((tag, seen))
            for file, items in by_file.items():
                for tag, seen in items:
                    print(f"  {file}  {tag:<20} found: {seen[:150]}")


if __name__ == "__main__":
    main()
