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

from collections import defaultdict

import polars as pl

from pipelines.core.stories import words

QUOTE_TYPES = ("direct_quote", "indirect_quote")
MIN_EXCERPT_WORDS = 8
GROUP_SCHEMA = {"claim_id": pl.String, "quote_group_id": pl.String}


def normalised(text: str) -> str:
    return " ".join(words(text))


def _excerpt_links(forms: list[str]) -> list[tuple[int, int]]:
    """(excerpt, longer form) index pairs: each form of >= MIN_EXCERPT_WORDS words found as a
    whole run of words inside a longer form. Longer forms are found through their 8-word grams,
    so no form is compared with every other."""
    size = MIN_EXCERPT_WORDS
    tokens = [form.split(" ") for form in forms]
    # only the grams an excerpt can start with are looked up, so only those are indexed (a
    # corpus's quotes have about ten times as many grams as openings)
    openings = {" ".join(toks[:size]) for toks in tokens if len(toks) >= size}
    grams: dict[str, list[int]] = defaultdict(list)
    for i, toks in enumerate(tokens):
        if len(toks) > size:  # only a longer form can hold an excerpt
            for gram in {" ".join(toks[j : j + size]) for j in range(len(toks) - size + 1)}:
                if gram in openings:
                    grams[gram].append(i)
    links = []
    for i, toks in enumerate(tokens):
        if len(toks) < size:
            continue
        needle = f" {forms[i]} "
        for j in grams.get(" ".join(toks[:size]), ()):
            if len(tokens[j]) > len(toks) and needle in f" {forms[j]} ":
                links.append((i, j))
    return links


def quote_groups(claims: pl.DataFrame, documents: pl.DataFrame) -> pl.DataFrame:
    """`claim_id` -> `quote_group_id` for every direct and indirect quote with words in it.
    `claims`: claim_id, doc_id, claim_type, text, char_start; `documents`: doc_id, source_path,
    published_at."""
    quotes = (
        claims.filter(pl.col("claim_type").is_in(QUOTE_TYPES))
        .select("claim_id", "doc_id", "text", "char_start")
        .join(documents.select("doc_id", "source_path", "published_at"), on="doc_id", how="left")
        .with_columns(pl.col("text").map_elements(normalised, return_dtype=pl.String).alias("form"))
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
