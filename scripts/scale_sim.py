"""The storage layer at scale, without parsing: synthetic rows for a large corpus (`make scale`).

python scripts/scale_sim.py [--articles 1000000] [--add 10] [--keep DIR [--reuse]]

Writes a lake of N synthetic articles (documents with short texts, 4 sentences, 3 mentions and
1 claim each; the corpus tables; `committed_documents`) in files of 5,000 articles, the way
compacted daily runs leave it, and builds the warehouse from it. Then times what the pipeline's
storage does in:

  (u) an unchanged run: read the lake's state, plan every shard, find the warehouse current;
  (+) a run adding `--add` articles: plan, commit one batch (the real `commit_batch`, every
      table in its order), the corpus entity step (the real `relink_corpus`: the merge over
      every document's entities, then the mentions and claims of the changed documents linked
      and committed), the 18 asset checks (the real `assets.checks.evaluate`: each looks where
      the run's commits can have broken it), load the warehouse (incrementally).

The synthetic mentions name 50,000 entities, three a document; one document in 50 has the
model's PERSON for an ORG, which the corpus's evidence corrects (a decision kept in
`entity_links`). Not simulated: scanning the seeds folder (one `stat` per file, done by the
inventory), spaCy on the added articles, the stories step and Dagster's per-step overhead. Those
are measured by `make bench` on the real corpora. (The checks' first pass over every row, which
they record to start from, is part of setting up, not timed.)
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from assets.checks import CHECKS, evaluate
from pipelines.core import corpus_entities, gazetteer, incremental, search, warehouse
from pipelines.core.ids import entity_id_for, name_key, short_hash
from pipelines.core.store import Lake
from pipelines.core.tables import polars_schema

FILE_DOCS = 5_000
ENTITIES = 50_000
GUESSED = 50


def _entity_names() -> pl.DataFrame:
    """index, label -> the entity's name and its document-level id (as the parse gives them)."""
    rows = [
        (i, label, f"Bank {i}", entity_id_for(name_key(f"Bank {i}"), label))
        for i in range(ENTITIES)
        for label in ("ORG", "PERSON")
    ]
    return pl.DataFrame(
        rows, schema=["index", "label", "entity_name", "entity_id"], orient="row"
    ).with_columns(pl.col("index").cast(pl.Int64))


ENTITY_NAMES = _entity_names()
TEXT = "The central bank raised its main interest rate to 40 percent on Tuesday. " * 4


def doc_ids(start: int, n: int) -> pl.Series:
    return pl.Series(
        "doc_id", ["d" + short_hash("doc", f"sim/{i}.txt") for i in range(start, start + n)]
    )


def synthetic(ids: pl.Series, now: datetime) -> dict[str, pl.DataFrame]:
    """Rows of every per-document table for these documents (offsets valid for TEXT)."""
    docs = pl.DataFrame({"doc_id": ids}).with_columns(
        source_path=pl.lit("sim/") + pl.col("doc_id") + ".txt",
        content_sha256=pl.col("doc_id").hash().cast(pl.String),
        title=pl.lit("Rates"),
        text=pl.lit(TEXT),
        encoding=pl.lit("utf-8"),
        n_chars=pl.lit(len(TEXT), pl.Int32),
        n_sentences=pl.lit(4, pl.Int32),
        ingested_at=pl.lit(now),
        published_at=pl.lit(None, pl.Datetime("us")),
        publisher=pl.lit(None, pl.String),
        url=pl.lit(None, pl.String),
        authors=pl.lit([], pl.List(pl.String)),
        section=pl.lit(None, pl.String),
        language=pl.lit("en"),
        story_id=pl.col("doc_id"),
        duplicate_of=pl.lit(None, pl.String),
    )
    step = len(TEXT) // 4
    sentences = (
        pl.DataFrame({"doc_id": ids})
        .join(pl.DataFrame({"sentence_index": pl.Series(range(4), dtype=pl.Int32)}), how="cross")
        .with_columns(
            sentence_id=pl.col("doc_id") + "-s" + pl.col("sentence_index").cast(pl.String),
            paragraph_index=pl.lit(0, pl.Int32),
            char_start=(pl.col("sentence_index") * step).cast(pl.Int32),
            char_end=(pl.col("sentence_index") * step + step - 1).cast(pl.Int32),
            text=pl.lit(TEXT[: step - 1]),
            is_boilerplate=pl.lit(False),
        )
    )
    # three entities a document out of ENTITIES; one document in GUESSED has the model's
    # PERSON for its first, which the corpus's evidence turns back into the ORG (a decision)
    guessed = (pl.col("doc_id").hash() % GUESSED == 0) & (pl.col("sentence_index") == 0)
    mentions = (
        sentences.filter(pl.col("sentence_index") < 3)
        .with_columns(
            index=(pl.concat_str("doc_id", "sentence_index").hash() % ENTITIES).cast(pl.Int64),
            label=pl.when(guessed).then(pl.lit("PERSON")).otherwise(pl.lit("ORG")),
            label_source=pl.when(guessed).then(pl.lit("model")).otherwise(pl.lit("evidence")),
        )
        .join(ENTITY_NAMES, on=["index", "label"], how="left")
        .select(
            mention_id=pl.col("sentence_id").str.replace("-s", "-m"),
            doc_id="doc_id",
            sentence_id="sentence_id",
            entity_id="entity_id",
            text=pl.lit("bank"),
            label="label",
            model_label="label",
            char_start=(pl.col("char_start") + 12).cast(pl.Int32),
            char_end=(pl.col("char_start") + 16).cast(pl.Int32),
            entity_name="entity_name",
            country=pl.lit(None, pl.String),
            label_source="label_source",
        )
    )
    claim_columns = polars_schema("claims")
    claims = sentences.filter(pl.col("sentence_index") == 0).select(
        claim_id=pl.col("doc_id") + "-c0000",
        doc_id="doc_id",
        sentence_id="sentence_id",
        claim_type=pl.lit("quantity"),
        text=pl.lit("40 percent"),
        char_start=pl.lit(TEXT.index("40"), pl.Int32),
        char_end=pl.lit(TEXT.index("40") + 10, pl.Int32),
    )
    claims = claims.with_columns(
        pl.lit(None, dtype).alias(c)
        for c, dtype in claim_columns.items()
        if c not in claims.columns
    ).with_columns(quantity_value=pl.lit(40.0), quantity_unit=pl.lit("percent"))
    return {
        "documents": docs.select(polars_schema("documents").names()),
        "sentences": sentences.select(polars_schema("sentences").names()),
        "document_mentions": mentions.select(polars_schema("document_mentions").names()),
        "document_claims": claims.select(claim_columns.names()),
    }


def timed(label: str, figures: dict[str, float], action, cpu: dict[str, float] | None = None):
    """Run `action`, keeping its wall seconds in `figures` (and its CPU seconds, all threads of
    this process, in `cpu`: steadier than wall time on a shared machine)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = action()
    figures[label] = time.perf_counter() - started
    used = time.process_time() - cpu_started
    if cpu is not None:
        cpu[label] = used
    print(f"  {label}: {figures[label]:.2f} s ({used:.2f} s CPU)", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--add", type=int, default=10)
    parser.add_argument("--keep", type=Path)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: time again on the lake (and warehouse) a kept run left there, "
        "adding articles after those it holds (its size is what it holds, not --articles)",
    )
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="news-scale-"))
    reuse = args.reuse and args.keep and (work / "lake").exists()
    if args.keep and work.exists() and not reuse:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    lake, wh = Lake(str(work / "lake")), work / "warehouse.duckdb"
    now = datetime.now(UTC).replace(tzinfo=None)
    if reuse:
        args.articles = lake.count(incremental.COMMITTED) or 0
    print(f"{args.articles:,} synthetic articles in {work}" + (" (reused)" if reuse else ""))
    setup: dict[str, float] = {}

    def write_lake() -> None:
        for start in range(0, args.articles, FILE_DOCS):
            rows = synthetic(doc_ids(start, min(FILE_DOCS, args.articles - start)), now)
            for table in incremental.DOC_TABLES:
                lake.append(table, rows[table])
            state = rows["documents"].select("doc_id", "content_sha256", committed_at=pl.lit(now))
            lake.append(incremental.COMMITTED, state)
        # the first corpus step: every document linked
        incremental.relink_corpus(lake, corpus_entities)
        lake.overwrite("rejected_files", pl.DataFrame(schema=polars_schema("rejected_files")))

    if not reuse:
        timed("write the synthetic lake", setup, write_lake)
    if not reuse or not wh.exists():
        timed("full warehouse load", setup, lambda: warehouse.build(lake, wh))
    else:  # what setting up loads before the timed steps (the full load's stop words, the
        # first corpus step's given names), not timed in a reused run either
        search.stop_words()
        gazetteer.is_given_name("Tony")
    if len(incremental.recorded_inputs(lake, [c.step for c in CHECKS])) < len(CHECKS):
        timed("asset checks' first pass (every row)", setup, lambda: list(evaluate(lake, CHECKS)))
    files = lake.read("documents", ["doc_id", "source_path", "content_sha256"]).with_columns(
        accepted=pl.lit(True)
    )
    unchanged: dict[str, float] = {}
    cpu: dict[str, dict[str, float]] = {"u": {}, "+": {}}
    print("(u) unchanged run")
    state = timed(
        "read the lake's state", unchanged, lambda: incremental.committed_state(lake), cpu["u"]
    )
    plans = timed("plan 16 shards", unchanged, lambda: incremental.plan(files, state), cpu["u"])
    assert not any(p.has_work for p in plans.values())
    timed(
        "warehouse current?",
        unchanged,
        lambda: warehouse.current_fingerprint(wh) == warehouse.fingerprint(lake),
        cpu["u"],
    )

    added: dict[str, float] = {}
    print(f"(+) a run adding {args.add} articles")
    new = synthetic(doc_ids(args.articles, args.add), now)
    files = pl.concat(
        [
            files,
            new["documents"]
            .select("doc_id", "source_path", "content_sha256")
            .with_columns(accepted=pl.lit(True)),
        ]
    )
    state = timed(
        "read the lake's state", added, lambda: incremental.committed_state(lake), cpu["+"]
    )
    plans = timed("plan 16 shards", added, lambda: incremental.plan(files, state), cpu["+"])
    assert sum(len(p.to_parse) for p in plans.values()) == args.add

    def commit() -> None:  # one batch, as a run adding a few files commits them
        incremental.commit_batch(
            lake, new["documents"], {t: new[t] for t in incremental.NLP_TABLES}, set()
        )

    timed("commit the batch (every table, in order)", added, commit, cpu["+"])

    corpus = timed(
        "corpus step: merge what the changed documents touch, link them",
        added,
        lambda: incremental.relink_corpus(lake, corpus_entities),
        cpu["+"],
    )
    print(
        f"  corpus step: {corpus.linked} linked, {corpus.relinked} relinked, "
        f"{corpus.decisions:,} decisions kept, {corpus.entities.height:,} entities; "
        f"{corpus.decided} documents decided again" + (" (merged whole)" if corpus.whole else "")
    )
    outcomes = timed(
        "asset checks: where the batch can have broken them",
        added,
        lambda: list(evaluate(lake, CHECKS)),
        cpu["+"],
    )
    failed = [o.check.key for o in outcomes if not o.failures.is_empty()]
    assert not failed, f"checks failed: {failed}"
    read = sorted({o.checked for o in outcomes})
    print(f"  asset checks: {len(outcomes)} passed, checked: {', '.join(read)}")
    report = timed("warehouse load", added, lambda: warehouse.build(lake, wh), cpu["+"])
    print(f"  warehouse load: {report.mode}, {report.changed_documents} documents changed")
    print()
    print(f"| {args.articles:,} simulated articles | wall s | CPU s |")
    print("| --- | ---: | ---: |")
    for label, figures, used in (
        ("(u) unchanged run", unchanged, cpu["u"]),
        (f"(+) +{args.add} files", added, cpu["+"]),
    ):
        for step, seconds in figures.items():
            print(f"| {label}: {step} | {seconds:.2f} | {used[step]:.2f} |")
        total, total_cpu = sum(figures.values()), sum(used.values())
        print(f"| **{label}: storage total** | **{total:.2f}** | **{total_cpu:.2f}** |")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
