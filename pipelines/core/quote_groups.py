"""Quote groups: the same quoted words across articles, so a fact-checker can see who said it
first and who repeated it.

Direct and indirect quotes only (a scare quote is not a statement anyone made). Two quotes share
a group when their words are the same once quote marks, case, accents, whitespace and punctuation
are ignored (`stories.words`), and an excerpt of at least `MIN_EXCERPT_WORDS` words that lies
wholly inside a longer quote joins the longer one's group (outlets trim a quote to fit). The
group's id is the `claim_id` of its first member: earliest published, then first by
`source_path`, then first in the text, so it depends on the set of claims only.
"""

from __future__ import annotations

import polars as pl

from pipelines.core.stories import words

QUOTE_TYPES = ("direct_quote", "indirect_quote")
MIN_EXCERPT_WORDS = 8
GROUP_SCHEMA = {"claim_id": pl.String, "quote_group_id": pl.String}


def normalised(text: str) -> str:
    return " ".join(words(text))


def normalised_forms(texts: pl.Series) -> pl.Series:
    """`normalised` of each text, by Polars expressions where they give the same: on ASCII text
    `words` lower-cases, drops the apostrophes ' and ` and keeps the runs of letters and digits;
    other text (accents, curly apostrophes) goes through `words` itself."""
    frame = texts.rename("text").to_frame()
    ascii_forms = frame.select(
        pl.col("text")
        .str.to_lowercase()
        .str.replace_all(r"['`]", "")
        .str.extract_all(r"[a-z0-9]+")
        .list.join(" ")
    )["text"]
    other = frame.with_row_index("at").filter(
        pl.col("text").str.len_bytes() != pl.col("text").str.len_chars()
    )
    if other.is_empty():
        return ascii_forms
    others = pl.Series([normalised(t) for t in other["text"].to_list()], dtype=pl.String)
    return ascii_forms.scatter(other["at"], others)


def _excerpt_links(forms: list[str]) -> list[tuple[int, int]]:
    """(excerpt, longer form) index pairs: each form of >= MIN_EXCERPT_WORDS words found as a
    whole run of words inside a longer form. Longer forms are found through their
    MIN_EXCERPT_WORDS-word grams that open some form (a join, so no form is compared with every
    other), then checked as a whole."""
    size = MIN_EXCERPT_WORDS
    frame = (
        pl.DataFrame({"form": forms}, schema={"form": pl.String})
        .with_row_index("i")
        .with_columns(words=pl.col("form").str.split(" "))
    )
    frame = frame.with_columns(n=pl.col("words").list.len())
    openings = frame.filter(pl.col("n") >= size).select(
        pl.col("i").alias("excerpt"),
        pl.col("n").alias("n_excerpt"),
        gram=pl.col("words").list.head(size).list.join(" "),
    )
    grams = (
        frame.filter(pl.col("n") > size)  # only a longer form can hold an excerpt
        .select("i", "n", "words")
        .explode("words")
        .with_columns(at=pl.int_range(pl.len()).over("i"))
        # a gram runs into the next form only where fewer than `size` words are left: dropped
        .with_columns(
            gram=pl.concat_str([pl.col("words").shift(-k) for k in range(size)], separator=" ")
        )
        .filter(pl.col("at") <= pl.col("n") - size)
        .select(pl.col("i").alias("longer"), "n", "gram")
    )
    candidates = (
        grams.join(openings, on="gram")
        .filter(pl.col("n") > pl.col("n_excerpt"))
        .unique(["excerpt", "longer"])
        .sort("excerpt", "longer")
    )
    return [
        (i, j)
        for i, j in zip(
            candidates["excerpt"].to_list(), candidates["longer"].to_list(), strict=True
        )
        if f" {forms[i]} " in f" {forms[j]} "
    ]


def quote_groups(claims: pl.DataFrame, documents: pl.DataFrame) -> pl.DataFrame:
    """`claim_id` -> `quote_group_id` for every direct and indirect quote with words in it.
    `claims`: claim_id, doc_id, claim_type, text, char_start; `documents`: doc_id, source_path,
    published_at."""
    quotes = (
        claims.filter(pl.col("claim_type").is_in(QUOTE_TYPES))
        .select("claim_id", "doc_id", "text", "char_start")
        .join(documents.select("doc_id", "source_path", "published_at"), on="doc_id", how="left")
    )
    quotes = (
        quotes.with_columns(form=normalised_forms(quotes["text"]))
        .filter(pl.col("form") != "")
        .sort(
            ["published_at", "source_path", "char_start", "claim_id"],
            nulls_last=True,
            maintain_order=True,
        )
    )
    if quotes.is_empty():
        return pl.DataFrame(schema=GROUP_SCHEMA)
    forms = quotes["form"].unique(maintain_order=True).to_list()  # in order of first appearance
    parent = list(range(len(forms)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in _excerpt_links(forms):
        ra, rb = root(a), root(b)
        if ra != rb:  # the earlier form stays the root
            parent[max(ra, rb)] = min(ra, rb)
    form_index = {form: i for i, form in enumerate(forms)}
    first_claim = quotes.unique("form", keep="first", maintain_order=True)["claim_id"].to_list()
    group = [first_claim[root(form_index[f])] for f in quotes["form"].to_list()]
    return pl.DataFrame(
        {"claim_id": quotes["claim_id"], "quote_group_id": group}, schema=GROUP_SCHEMA
    ).sort("claim_id")
