"""The corpus-wide entity index: every document's entity decisions merged into one row per
real-world entity.

A document decides its entities on its own (`pipelines.core.entities`), and one document cannot
know everything: the model may type "Yukos" a person in an article that has no "oil giant" or
"shares" to say otherwise, and an article that says only "Mr Blair" cannot tell which Blair. The
other documents can, so this step reads all the documents' decisions together:

- **labels**: where a document's label for a name came from the model alone (no evidence in
  that document), the other documents' verdict on the same name wins when it is clear: at least
  two thirds of the votes, one per document, a document with evidence counting three times a
  model guess, and evidence for the winner in at least two documents (the model's guesses
  alone, however many, never overrule a document: they repeat one model's habits). Only the
  labels the model confuses with each other are voted (people, organisations, products, works,
  events, laws, facilities); no name is voted into a place or group, which are the gazetteer's to
  decide (a document that did not take "Jordan" for the country had its reasons), but a place
  label the model alone gave may leave ("Gazprom" typed GPE in one article is the company).
- **surnames**: a person named by a surname alone ("Reagan", "Blair") is the person of that
  surname whom the corpus names in full (a given name first, so not "Kill Bill"), when one full
  name holds at least three quarters of the documents that name anyone of that surname in full,
  and at least two of them ("Tony Blair" over Cherie and Ian Blair), and when the article's
  other entities keep the full name's company ("Brown" in a match report is not Gordon Brown).

The result is an alias map, (doc_id, document's entity_id) -> corpus entity, applied to the
mentions and to the claims' speakers. What the merge decides that a document did not is small
(`decisions`: the document entities it moved or relabelled), and only the documents whose inputs
or decisions changed need their mentions and claims linked again (`relinked_documents`), so a run
that adds a few articles relinks a few, however large the corpus. Ids stay derived from
canonical name and label (`pipelines.core.ids`), so the same corpus gives the same ids on every
run and machine; a new document can change a merge (a second famous Blair), and then the ids
follow the evidence.
"""

from __future__ import annotations

import polars as pl

from pipelines.core import gazetteer
from pipelines.core.ids import entity_id_for, name_key

VOTED_LABELS = ("PERSON", "ORG", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "FAC")
# Place labels the model alone gave (no gazetteer entry, or a town in a sports report): they
# may follow the corpus's verdict ("Gazprom" is no place), but no name is voted into a place.
GUESSED_PLACE_LABELS = ("GPE", "LOC")
EVIDENCE_WEIGHT = 3
LABEL_MAJORITY = 2 / 3
LABEL_MIN_EVIDENCE = 2  # documents whose evidence backs the winning label
SURNAME_MAJORITY = 0.75
SURNAME_MIN_DOCUMENTS = 2
CONTEXT_MIN_SHARE = 0.05
# Generational suffixes that end a full name but are not its surname ("Martin Luther King Jr").
_SUFFIXES = ["jr", "sr", "ii", "iii", "iv"]
_ARTICLES = frozenset(["the", "a", "an"])


# The columns of `document_mentions` the merge reads (a narrow scan of a large table).
MENTION_COLUMNS = ("doc_id", "entity_id", "entity_name", "label", "label_source", "country")
DECISION_COLUMNS = ("doc_id", "entity_id", "corpus_entity_id", "label", "label_source")
# A document's own entities as the merge reads them (the lake's `document_entities`).
ENTITY_ROW_COLUMNS = ("doc_id", "entity_id", "name", "label", "label_source", "key")
# What the merge knows of a name from the rows that name it (the lake's `entity_names`).
NAME_COLUMNS = (
    "key",
    "corpus_label",
    "n_documents",
    "surname",
    "n_people",
    "full_name",
    "reads_as_full_name",
)
# Each document's linked mentions, counted (the lake's `entity_counts`): `entities` from them.
COUNT_COLUMNS = (
    "doc_id",
    "entity_id",
    "label",
    "label_source",
    "entity_name",
    "country",
    "n_mentions",
)


def document_entities(mentions: pl.LazyFrame) -> pl.DataFrame:
    """One row per (document, entity) with the document's name, label and label source, and
    the name's key (how names are compared, see `ids.name_key`)."""
    rows = (
        mentions.group_by("doc_id", "entity_id")
        .agg(
            pl.col("entity_name").first().alias("name"),
            pl.col("label").first(),
            pl.col("entity_name").first().alias("document_name"),
            pl.col("label").first().alias("document_label"),
            # rows written before sources were recorded count as evidence: never overruled
            pl.col("label_source").first().fill_null("evidence"),
            pl.col("label_source").first().fill_null("evidence").alias("document_source"),
        )
        .sort("doc_id", "entity_id")
        .collect()
    )
    return rows.join(_keys(rows["name"]), on="name", how="left")


def _keys(names: pl.Series) -> pl.DataFrame:
    unique = names.unique()
    return pl.DataFrame(
        {"name": unique, "key": [name_key(n) for n in unique]},
        schema={"name": pl.String, "key": pl.String},
    )


_GUESSED = pl.col("label_source") == "model"
_VOTABLE = pl.col("label").is_in(VOTED_LABELS) | (
    _GUESSED & pl.col("label").is_in(GUESSED_PLACE_LABELS)
)


def verdicts(entities: pl.DataFrame) -> pl.DataFrame:
    """(key, corpus_label): the corpus's clear, evidenced verdict on each name that has one (a
    function of the rows that name it alone)."""
    weight = pl.when(_GUESSED).then(1).otherwise(EVIDENCE_WEIGHT)
    return (
        entities.filter(_VOTABLE)
        .group_by("key", "label")
        .agg(
            weight.sum().alias("weight"),
            (pl.col("label_source") != "model").sum().alias("n_evidence"),
        )
        .with_columns(pl.col("weight").sum().over("key").alias("total"))
        .filter(
            (pl.col("weight") >= LABEL_MAJORITY * pl.col("total"))
            & (pl.col("n_evidence") >= LABEL_MIN_EVIDENCE)
            & pl.col("label").is_in(VOTED_LABELS)
        )
        .select("key", pl.col("label").alias("corpus_label"))
    )


def vote_labels(entities: pl.DataFrame, votes: pl.DataFrame | None = None) -> pl.DataFrame:
    """Labels the model alone gave, replaced by the corpus's clear, evidenced verdict on the
    same name (`votes`, default the verdicts of these rows); their `label_source` becomes
    "corpus"."""
    votes = verdicts(entities) if votes is None else votes
    relabel = (
        _VOTABLE
        & _GUESSED
        & pl.col("corpus_label").is_not_null()
        & (pl.col("corpus_label") != pl.col("label"))
    )
    return (
        entities.join(votes, on="key", how="left")
        .with_columns(
            pl.when(relabel).then("corpus_label").otherwise("label").alias("label"),
            pl.when(relabel).then(pl.lit("corpus")).otherwise("label_source").alias("label_source"),
        )
        .drop("corpus_label")
    )


def _surname() -> pl.Expr:
    words = (
        pl.col("key").str.split(" ").list.eval(pl.element().filter(~pl.element().is_in(_SUFFIXES)))
    )
    return words.list.last()


def _reads_as_full_name(name: str) -> bool:
    """A given name first ("Tony Blair", "Franz-Stefan Gady"), not a title the model took for a
    person ("Kill Bill", "Wonder Woman", "The Da Vinci Code")."""
    first = name.split()[0].split("-")[0]
    return first.casefold() not in _ARTICLES and gazetteer.is_given_name(first)


def _people(voted: pl.DataFrame) -> pl.DataFrame:
    """Per full name (a PERSON key of two words or more, after the vote): its surname, how
    many documents name that person and the most common spelling (`full_name`), and whether it
    reads as a person's full name."""
    people = (
        voted.filter((pl.col("label") == "PERSON") & pl.col("key").str.contains(" ", literal=True))
        .with_columns(_surname().alias("surname"))
        .group_by("key")
        .agg(
            pl.col("surname").first(),
            pl.col("doc_id").n_unique().cast(pl.Int64).alias("n_people"),
            pl.col("name").mode().sort().first().alias("full_name"),
        )
    )
    return people.with_columns(
        pl.Series(
            "reads_as_full_name",
            [_reads_as_full_name(n) for n in people["full_name"]],
            dtype=pl.Boolean,
        )
    )


def name_stats(rows: pl.DataFrame) -> pl.DataFrame:
    """What the merge knows of each name (`key`) from every row that names it, and from those
    alone (`NAME_COLUMNS`): its verdict (`corpus_label`), how many documents name it
    (`n_documents`), and, for a full name, its `_people` figures. A name's row changes only
    when a document naming it changes, so a run re-decides the names its changed documents
    touch (see `incremental.relink_corpus`)."""
    votes = verdicts(rows)
    counts = rows.group_by("key").agg(
        pl.col("doc_id").n_unique().cast(pl.Int64).alias("n_documents")
    )
    return (
        counts.join(votes, on="key", how="left")
        .join(_people(vote_labels(rows, votes)), on="key", how="left")
        .select(NAME_COLUMNS)
        .sort("key")
    )


def full_names(stats: pl.DataFrame) -> pl.DataFrame:
    """(surname, full_key, full_name): each surname the corpus's people clearly share with one
    full name, from `name_stats` over every name."""
    return (
        stats.filter(pl.col("surname").is_not_null())
        .with_columns(pl.col("n_people").sum().over("surname").alias("all_documents"))
        .filter(pl.col("reads_as_full_name"))
        .filter(
            (pl.col("n_people") >= SURNAME_MIN_DOCUMENTS)
            & (pl.col("n_people") >= SURNAME_MAJORITY * pl.col("all_documents"))
        )
        .select(pl.col("surname").alias("key"), pl.col("key").alias("full_key"), "full_name")
    )


def join_surnames(
    entities: pl.DataFrame, stats: pl.DataFrame, n_documents: int, context: pl.DataFrame
) -> pl.DataFrame:
    """People named by a surname alone joined to the one person the corpus names in full with
    it, where that person clearly dominates; `key` and `name` become the full name's.
    `entities` are whole documents' rows after the vote; the corpus is `stats` (`name_stats`
    of every name), `n_documents` (documents with entities) and `context` (every row of every
    document that names one of the full names these surnames may join)."""
    full = full_names(stats)
    single = (pl.col("label") == "PERSON") & ~pl.col("key").str.contains(" ")
    candidates = entities.join(full, on="key", how="left").with_columns(
        pl.when(single).then(pl.col("full_key")).alias("full_key")
    )
    agreed = _context_agrees(
        entities,
        candidates.filter(pl.col("full_key").is_not_null()),
        stats,
        n_documents,
        context,
    )
    return (
        candidates.join(agreed, on=["doc_id", "key"], how="left")
        .with_columns(pl.when(pl.col("agrees").fill_null(False)).then("full_key").alias("full_key"))
        .drop("agrees")
        .with_columns(
            pl.when(single & pl.col("full_key").is_not_null())
            .then(pl.col(column))
            .otherwise(pl.col(own))
            .alias(own)
            for column, own in (("full_key", "key"), ("full_name", "name"))
        )
        .drop("full_key", "full_name")
    )


def _context_agrees(
    entities: pl.DataFrame,
    moves: pl.DataFrame,
    stats: pl.DataFrame,
    n_documents: int,
    context: pl.DataFrame,
) -> pl.DataFrame:
    """(doc_id, key, agrees) for each proposed surname join: does the article's company fit the
    full name's? The article's other entities, weighted by how rare they are in the corpus
    (inverse document frequency, from `stats` and `n_documents`), must appear with the full
    name in some document (of `context`) for at least `CONTEXT_MIN_SHARE` of their weight:
    "Brown" in a match report names nobody Gordon Brown is ever named with. An article that
    names nobody else has nothing to object."""
    if moves.is_empty():
        return pl.DataFrame(schema={"doc_id": pl.String, "key": pl.String, "agrees": pl.Boolean})
    n_documents = max(n_documents, 1)
    rarity = stats.select(
        "key", (pl.lit(float(n_documents)) / pl.col("n_documents")).log().alias("idf")
    )
    others = entities.select("doc_id", pl.col("key").alias("other"))
    company = (
        context.select(pl.col("key").alias("full_key"), "doc_id")
        .join(moves.select("full_key").unique(), on="full_key", how="semi")
        .join(context.select("doc_id", pl.col("key").alias("other")), on="doc_id")
        .select("full_key", "other", pl.lit(True).alias("shared"))
        .unique()
    )
    return (
        moves.select("doc_id", "key", "full_key")
        .join(others, on="doc_id")
        .filter(pl.col("other") != pl.col("key"))
        .join(rarity.rename({"key": "other"}), on="other")
        .join(company, on=["full_key", "other"], how="left")
        .group_by("doc_id", "key")
        .agg(
            pl.col("idf").sum().alias("weight"),
            pl.col("idf").filter(pl.col("shared").fill_null(False)).sum().alias("shared"),
        )
        .join(moves.select("doc_id", "key").unique(), on=["doc_id", "key"], how="right")
        .select(
            "doc_id",
            "key",
            (
                pl.col("weight").fill_null(0.0).le(0.0)
                | (pl.col("shared") >= CONTEXT_MIN_SHARE * pl.col("weight"))
            ).alias("agrees"),
        )
    )


def entity_rows(mentions: pl.LazyFrame) -> pl.DataFrame:
    """Each document's own entities as the merge reads them (`ENTITY_ROW_COLUMNS`: one row per
    document and entity, with its name's key), kept in the lake by the corpus step."""
    return document_entities(mentions).select(ENTITY_ROW_COLUMNS)


def decide(
    rows: pl.DataFrame,
    stats: pl.DataFrame | None = None,
    n_documents: int | None = None,
    context: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The alias rows of some whole documents (their `entity_rows`): each document entity ->
    its corpus entity, given the corpus as `name_stats` over every name, the number of
    documents with entities, and `context` (see `join_surnames`); by default the documents
    are the whole corpus. A document's rows depend on the corpus only through those, so
    deciding a few documents gives the rows a merge of the whole corpus gives them."""
    if stats is None:
        stats = name_stats(rows)
        n_documents = rows["doc_id"].n_unique()
    entities = rows.with_columns(
        pl.col("name").alias("document_name"),
        pl.col("label").alias("document_label"),
        pl.col("label_source").alias("document_source"),
    )
    votes = stats.filter(pl.col("corpus_label").is_not_null()).select("key", "corpus_label")
    voted = vote_labels(entities, votes)
    entities = join_surnames(voted, stats, n_documents or 0, voted if context is None else context)
    ids = entities.select("key", "label").unique()
    ids = ids.with_columns(
        pl.Series(
            "corpus_entity_id",
            [entity_id_for(k, label) for k, label in ids.iter_rows()],
            dtype=pl.String,
        )
    )
    return (
        entities.join(ids, on=["key", "label"], how="left")
        .select(
            "doc_id",
            "entity_id",
            "corpus_entity_id",
            "name",
            "label",
            "label_source",
            "document_name",
            "document_label",
            "document_source",
        )
        .sort("doc_id", "entity_id")
    )


def aliases(mentions: pl.LazyFrame) -> pl.DataFrame:
    """(doc_id, entity_id) -> the corpus entity: `corpus_entity_id`, `name`, `label` and
    `label_source`, for every entity of every document (with the document's own
    `document_name` and `document_label`, to show what the merge changed)."""
    return decide(entity_rows(mentions))


def decisions(alias: pl.DataFrame) -> pl.DataFrame:
    """The alias rows the corpus changed (another entity, label or label source than the
    document's own): the small part of the merge worth keeping. Any other row is a function of
    the document's own rows, so it changes only when they do."""
    moved = (
        (pl.col("corpus_entity_id") != pl.col("entity_id"))
        | (pl.col("label") != pl.col("document_label"))
        | (pl.col("label_source") != pl.col("document_source"))
    )
    return alias.filter(moved).select(DECISION_COLUMNS).sort("doc_id", "entity_id")


def relinked_documents(
    old_decisions: pl.DataFrame,
    new_decisions: pl.DataFrame,
    old_entities: pl.DataFrame,
    new_entities: pl.DataFrame,
    alias: pl.DataFrame,
    speakers: pl.LazyFrame,
) -> set[str]:
    """The documents whose linked mentions or claims change although their own rows did not:
    a decision on one of their entities changed, or a corpus entity they name (or a speaker
    they link, `speakers`: doc_id, speaker_entity_id) got another canonical name, or appeared
    or left."""
    keys = ["doc_id", "entity_id"]
    both = old_decisions.join(new_decisions, on=keys, how="full", coalesce=True)
    differs = pl.any_horizontal(
        pl.col(c).ne_missing(pl.col(f"{c}_right")) for c in DECISION_COLUMNS if c not in keys
    )
    moved = set(both.filter(differs)["doc_id"].to_list())
    names = old_entities.select("entity_id", "name").join(
        new_entities.select("entity_id", "name"), on="entity_id", how="full", coalesce=True
    )
    renamed = names.filter(pl.col("name").ne_missing(pl.col("name_right")))["entity_id"]
    if renamed.is_empty():
        return moved
    ids = renamed.implode()
    moved |= set(alias.filter(pl.col("corpus_entity_id").is_in(ids))["doc_id"].to_list())
    quoted = speakers.filter(pl.col("speaker_entity_id").is_in(ids)).select("doc_id").collect()
    return moved | set(quoted["doc_id"].to_list())


def corpus_index(mentions: pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The merge over the whole corpus from the mentions' `MENTION_COLUMNS`: the alias map and
    the `entities` table it makes."""
    mentions = mentions.select(MENTION_COLUMNS).collect().lazy()
    alias = aliases(mentions)
    return alias, entities_from_counts(entity_counts(mentions, alias))


def entity_counts(mentions: pl.LazyFrame, alias: pl.DataFrame) -> pl.DataFrame:
    """Each document's mentions linked to their corpus entities (`alias`), counted per entity,
    name, label, label source and country (`COUNT_COLUMNS`): a document's share of the
    `entities` table, which changes only when its mentions or its alias rows do."""
    return (
        _linked(mentions.select(MENTION_COLUMNS), alias)
        .group_by("doc_id", "entity_id", "label", "label_source", "entity_name", "country")
        .agg(pl.len().cast(pl.Int64).alias("n_mentions"))
        .select(COUNT_COLUMNS)
        .sort("doc_id", "entity_id", "entity_name", "country", nulls_last=True)
        .collect()
    )


def _most_common(counts: pl.DataFrame, column: str) -> pl.DataFrame:
    """(entity_id, column): the value most mentions give it (the smallest of a tie)."""
    return (
        counts.filter(pl.col(column).is_not_null())
        .group_by("entity_id", column)
        .agg(pl.col("n_mentions").sum())
        .sort(["entity_id", "n_mentions", column], descending=[False, True, False])
        .group_by("entity_id", maintain_order=True)
        .first()
        .select("entity_id", column)
    )


def entities_from_counts(counts: pl.DataFrame) -> pl.DataFrame:
    """The `entities` rows of the entities the `entity_counts` rows name (all of every
    document naming them: the rows `entities_table` makes from those documents' mentions)."""
    totals = counts.group_by("entity_id").agg(
        pl.col("label").first(),
        pl.col("n_mentions").sum().cast(pl.Int64),
        pl.col("doc_id").n_unique().cast(pl.Int64).alias("n_documents"),
    )
    return (
        totals.join(_most_common(counts, "entity_name"), on="entity_id", how="left")
        .join(_most_common(counts, "country"), on="entity_id", how="left")
        .select(
            "entity_id",
            pl.col("entity_name").alias("name"),
            "label",
            "country",
            "n_mentions",
            "n_documents",
        )
        .sort(["n_mentions", "entity_id"], descending=[True, False])
    )


def _linked(mentions: pl.LazyFrame, alias: pl.DataFrame) -> pl.LazyFrame:
    """The mentions moved to their corpus entity (id, label, label source, the merge's name)."""
    corpus = alias.lazy().select(
        "doc_id",
        "entity_id",
        "corpus_entity_id",
        pl.col("name").alias("corpus_name"),
        pl.col("label").alias("corpus_label"),
        pl.col("label_source").alias("corpus_source"),
    )
    return (
        mentions.join(corpus, on=["doc_id", "entity_id"], how="left")
        .with_columns(
            pl.coalesce("corpus_entity_id", "entity_id").alias("entity_id"),
            pl.coalesce("corpus_label", "label").alias("label"),
            pl.coalesce("corpus_name", "entity_name").alias("entity_name"),
            pl.coalesce("corpus_source", "label_source").alias("label_source"),
        )
        .drop("corpus_entity_id", "corpus_label", "corpus_name", "corpus_source")
    )


def entities_table(mentions: pl.LazyFrame) -> pl.LazyFrame:
    """One row per entity id, with its most common name and country."""
    return (
        mentions.group_by("entity_id")
        .agg(
            pl.col("entity_name").mode().sort().first().alias("name"),
            pl.col("label").first(),
            pl.col("country").drop_nulls().mode().sort().first().alias("country"),
            pl.len().cast(pl.Int64).alias("n_mentions"),
            pl.col("doc_id").n_unique().cast(pl.Int64).alias("n_documents"),
        )
        .sort(["n_mentions", "entity_id"], descending=[True, False])
    )


def resolve_mentions(
    mentions: pl.LazyFrame, alias: pl.DataFrame, entities: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The mentions with their corpus entity (id, label, label source and canonical name), and
    the `entities` table they make (or `entities`, the whole corpus's, when these mentions are
    some documents' only)."""
    linked = _linked(mentions, alias).collect()
    if entities is None:
        entities = entities_table(linked.lazy()).collect()
    named = (
        linked.join(entities.select("entity_id", "name"), on="entity_id", how="left")
        .with_columns(pl.col("name").alias("entity_name"))
        .drop("name")
        .sort("mention_id")
    )
    return named, entities


def resolve_speakers(
    claims: pl.LazyFrame, alias: pl.DataFrame, entities: pl.LazyFrame
) -> pl.LazyFrame:
    """The claims with each linked speaker moved to its corpus entity, and named by it ("Mr
    Blair said" is a quote of Tony Blair when the corpus says so)."""
    moved = alias.lazy().select(
        "doc_id",
        pl.col("entity_id").alias("speaker_entity_id"),
        pl.col("corpus_entity_id").alias("corpus_speaker_id"),
    )
    names = entities.select(
        pl.col("entity_id").alias("speaker_entity_id"), pl.col("name").alias("entity_name")
    )
    return (
        claims.join(moved, on=["doc_id", "speaker_entity_id"], how="left")
        .with_columns(
            pl.coalesce("corpus_speaker_id", "speaker_entity_id").alias("speaker_entity_id")
        )
        .drop("corpus_speaker_id")
        .join(names, on="speaker_entity_id", how="left")
        .with_columns(pl.coalesce("entity_name", "speaker").alias("speaker"))
        .drop("entity_name")
        .sort("claim_id")
    )
