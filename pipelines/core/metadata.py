"""Article metadata: the fields news scrapers and archives write, read tolerantly.

A JSON article carries its own fields (news-please's `date_publish`, `source_domain`, ...); a
`.txt` article gets them from a manifest (`metadata.csv` or `metadata.jsonl`) in its folder or
one above, keyed by its path relative to the manifest's folder. The field names are data
(`data/metadata_fields.tsv`). Metadata that cannot be read never stops an article: the field is
left empty and a warning says why (`file_warnings`).
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import PurePosixPath
from typing import Any

import polars as pl
from dateutil import parser as date_parser

from pipelines.core.datafiles import DATA_DIR

MANIFEST_NAMES = frozenset({"metadata.csv", "metadata.jsonl"})
METADATA_COLUMNS = ("title", "published_at", "publisher", "url", "authors", "section", "language")
EARLIEST_YEAR = 1900  # before the news archives anyone loads: a wrong date, not an old article
# RFC 2822's named zones (dateutil knows only UTC/GMT and the machine's own zone by name).
_RFC2822_ZONES = {
    name: timezone(timedelta(hours=hours))
    for name, hours in {
        "UT": 0, "GMT": 0, "UTC": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
        "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    }.items()
}  # fmt: skip
# Characters written as HTML references or raw control characters end the date: SGML wire
# archives (Reuters-21578) append routing codes after them, `27-MAR-1987 00:02:59.13&#5;&#5;RM`.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)|\d{8}")
_LONG_YEAR = re.compile(r"(?<![\d.,:])\d{5,}(?![\d])")


@cache
def field_names() -> dict[str, tuple[str, ...]]:
    """field -> the names it goes by, first preferred (from `data/metadata_fields.tsv`)."""
    names: dict[str, tuple[str, ...]] = {}
    with open(DATA_DIR / "metadata_fields.tsv", encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and not line.startswith("#"):
                key, *aliases = line.rstrip("\n").split("\t")
                names[key] = tuple(aliases)
    return names


@cache
def column_key(name: str) -> str:
    """How a column or JSON key is compared with the field names."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def pick(
    record: dict[str, Any], name: str, keys: dict[str, str] | None = None
) -> tuple[str | None, Any]:
    """The first of `name`'s aliases that the record fills (key as written, value); `keys` is
    the record's `key_index`, when the caller picks several fields."""
    if keys is None:
        keys = key_index(record)
    for alias in field_names()[name]:
        key = keys.get(alias)
        if key is not None and record[key] not in (None, "", []):
            return key, record[key]
    return None, None


def key_index(record: dict[str, Any]) -> dict[str, str]:
    """The record's keys by how they compare (the first of two that compare equal)."""
    keys: dict[str, str] = {}
    for key in record:
        keys.setdefault(column_key(str(key)), key)
    return keys


def row_digest(row: dict[str, Any] | None, where: str = "") -> str:
    """A hash of a manifest row as written (and where it is, which its warnings name): the same
    digest as the last scan's means the article's metadata is what it was, unparsed."""
    written = json.dumps([row, where], sort_keys=True, default=str)
    return hashlib.sha256(written.encode()).hexdigest()


@dataclass(frozen=True)
class Metadata:
    """An article's metadata as the warehouse stores it (published_at in UTC, without a zone)."""

    title: str | None = None
    published_at: datetime | None = None
    publisher: str | None = None
    url: str | None = None
    authors: tuple[str, ...] = ()
    section: str | None = None
    language: str | None = None
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def columns(self) -> dict[str, Any]:
        """Its values as the metadata columns of a `documents` or `source_files` row, the
        title aside (a row holds the title it is stored with, the headline when none is here)."""
        return {
            "published_at": self.published_at,
            "publisher": self.publisher,
            "url": self.url,
            "authors": list(self.authors),
            "section": self.section,
            "language": self.language,
        }

    def digest(self) -> str:
        """A hash of the values (and the warnings): equal digests, equal rows."""
        values = [
            self.title,
            self.published_at.isoformat() if self.published_at else None,
            self.publisher,
            self.url,
            list(self.authors),
            self.section,
            self.language,
            list(self.warnings),
        ]
        return hashlib.sha256(json.dumps(values).encode()).hexdigest()


def parse_published(value: Any) -> tuple[datetime | None, str | None]:
    """A publication time in UTC (naive, as the warehouse stores it), or None and why not.

    Accepts ISO 8601, RFC 2822 and the written forms `python-dateutil` reads ("26-FEB-1987
    15:01:01.79", "March 3, 2022"), and epoch seconds (or milliseconds) as a JSON number. A time
    without a zone is UTC. A date must name its year (four digits): "5" or "yesterday" are not
    dates. Trailing words the parser cannot read ("... # date added as guesswork") are dropped.
    """
    if value is None or value == "":
        return None, None
    shown = repr(value) if not isinstance(value, str) else f"'{_cut(value)}'"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, f"published_at {shown} is not a date"
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            when = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None, f"published_at {shown} is out of any calendar's range"
        return _bounded(when, shown)
    text = _CONTROL.split(html.unescape(value), maxsplit=1)[0].strip()
    if not _YEAR.search(text) and _LONG_YEAR.search(text):
        return None, f"published_at {shown} has a year beyond 9999: not a date"
    if not _YEAR.search(text):
        return None, f"published_at {shown} is not a date"
    tokens = text.split()
    for n in range(len(tokens), 0, -1):  # the whole text first, then without trailing words
        candidate = " ".join(tokens[:n])
        if not _YEAR.search(candidate):
            break
        when = _parse(candidate)
        if when is not None:
            return _bounded(when, shown)
    if _LONG_YEAR.search(text):
        return None, f"published_at {shown} has a year beyond 9999: not a date"
    return None, f"published_at {shown} is not a date"


def _parse(text: str) -> datetime | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an unknown zone name: read as UTC, as documented
            return date_parser.parse(text, default=datetime(2000, 1, 1), tzinfos=_RFC2822_ZONES)
    except (ValueError, OverflowError, TypeError):
        return None


def _bounded(when: datetime, shown: str) -> tuple[datetime | None, str | None]:
    if when.tzinfo is not None:
        try:
            when = when.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            return None, f"published_at {shown} is out of any calendar's range"
    if when.year < EARLIEST_YEAR:
        return None, f"published_at {shown} is before {EARLIEST_YEAR}: not a news article's date"
    return when, None


def _cut(text: str, limit: int = 80) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text_value(name: str, value: Any, problems: list[str]) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.append(f"{name} is {type(value).__name__}, not text: left empty")
        return None
    text = str(value).strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        problems.append(f"{name} holds a lone UTF-16 surrogate, not text: left empty")
        return None
    return text or None


def _authors(value: Any, problems: list[str]) -> tuple[str, ...]:
    """A list of names, or one string with names separated by `;`."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else str(value).split(";")
    names: list[str] = []
    for item in items:
        if isinstance(item, dict):  # schema.org style: {"name": "..."}
            item = item.get("name")
        name = _text_value("an author", item, problems)
        if name and name not in names:
            names.append(name)
    return tuple(names)


def from_record(record: dict[str, Any], where: str = "") -> Metadata:
    """The metadata fields of a JSON article or a manifest row (unknown keys ignored quietly)."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    keys = key_index(record)
    for name in ("title", "publisher", "url", "section", "language"):
        values[name] = _text_value(name, pick(record, name, keys)[1], problems)
    values["authors"] = _authors(pick(record, "authors", keys)[1], problems)
    when, problem = parse_published(pick(record, "published_at", keys)[1])
    if problem:
        problems.append(problem)
    suffix = f" ({where})" if where else ""
    return Metadata(published_at=when, warnings=tuple(p + suffix for p in problems), **values)


def with_metadata(document: Any, metadata: Metadata, headline: str | None) -> Any:
    """The document with these fields; its title is the metadata's, else its headline."""
    return replace(document, title=metadata.title or headline, metadata=metadata)


# --- manifests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestRead:
    """What a manifest says: rows by article path (relative to the seeds folder), warnings by
    the path they concern, and the refusal when it cannot be read at all."""

    source_path: str
    rows: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)  # path -> row, where
    warnings: list[tuple[str, str]] = field(default_factory=list)
    refusal: str | None = None


def _unique_pairs(pairs: list[tuple[str, Any]], duplicates: list[str]) -> dict[str, Any]:
    """A JSON object keeping the first of repeated keys (json keeps the last), noting repeats."""
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            duplicates.append(key)
        else:
            obj[key] = value
    return obj


def loads_object(text: str | bytes) -> tuple[Any, list[str]]:
    """Parse JSON, the first of repeated keys kept; returns the value and the repeated keys.
    Raises ValueError (not JSON) or RecursionError (nested too deeply)."""
    duplicates: list[str] = []
    value = json.loads(text, object_pairs_hook=lambda p: _unique_pairs(p, duplicates))
    return value, duplicates


def _csv_rows(text: str) -> Iterator[tuple[str, dict[str, str] | str]]:
    """(where, row) for each CSV row, or (where, problem) for a row that cannot be used."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise ValueError(f"not CSV ({exc})") from None
    columns: list[str | None] = []
    for name in header:
        key = column_key(name)
        if key in (column_key(c) for c in columns if c):
            yield "header", f"column '{name}' appears twice: the first is used"
            columns.append(None)
        else:
            columns.append(name.strip())
    try:
        for number, cells in enumerate(reader, start=2):
            where = f"row {number}"
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(columns):
                yield where, f"{len(cells)} fields for {len(columns)} columns: the extra ignored"
            yield where, {c: v for c, v in zip(columns, cells, strict=False) if c}
    except csv.Error as exc:
        raise ValueError(f"not CSV past row {reader.line_num} ({exc})") from None


def _jsonl_rows(text: str) -> Iterator[tuple[str, dict[str, Any] | str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"line {number}"
        if not line.strip():
            continue
        try:
            row, duplicates = loads_object(line)
        except RecursionError:
            yield where, "JSON nested too deeply to read: row ignored"
            continue
        except ValueError as exc:
            yield where, f"not JSON ({exc}): row ignored"
            continue
        if not isinstance(row, dict):
            yield where, f"a JSON {type(row).__name__}, not an object: row ignored"
            continue
        for key in duplicates:
            yield where, f"key '{key}' appears twice: the first is used"
        yield where, row


def inside(folder: str, key: str) -> str | None:
    """The seeds-relative path a manifest key names, or None when it leaves the folder."""
    key = key.strip().replace("\\", "/")
    path = PurePosixPath(key)
    if not key or path.is_absolute() or re.match(r"^[A-Za-z]:", key):
        return None
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part != ".":
            parts.append(part)
    if not parts:
        return None
    return str(PurePosixPath(folder, *parts)) if folder else str(PurePosixPath(*parts))


def parse_manifest(source_path: str, text: str) -> ManifestRead:
    """Read a decoded manifest (CSV or JSON lines, by its name); rows keyed by the seeds-relative
    path of the article they describe. A key that leaves the manifest's folder is refused and
    never read; a second row for the same path is ignored (the first is kept)."""
    folder = str(PurePosixPath(source_path).parent)
    folder = "" if folder == "." else folder
    result = ManifestRead(source_path)
    rows = _jsonl_rows(text) if source_path.endswith(".jsonl") else _csv_rows(text)
    seen_key = False
    try:
        for where, row in rows:
            if isinstance(row, str):
                result.warnings.append((source_path, f"{where}: {row}"))
                continue
            name, key = pick(row, "path")
            if key is None:
                if name is None and not seen_key and source_path.endswith(".csv"):
                    return replace(
                        result,
                        rows={},
                        refusal="manifest has no `path` or `file` column: not a metadata CSV",
                    )
                result.warnings.append((source_path, f"{where}: no path: row ignored"))
                continue
            seen_key = True
            path = inside(folder, str(key))
            if path is None:
                result.warnings.append(
                    (source_path, f"{where}: path '{_cut(str(key))}' leaves the manifest's "
                     "folder: refused, never read")
                )  # fmt: skip
            elif path in result.rows:
                first = result.rows[path][1].removeprefix(f"{source_path} ")
                result.warnings.append(
                    (source_path, f"{where}: a second row for '{key}' ({first} kept): ignored")
                )
            else:
                result.rows[path] = (row, f"{source_path} {where}")
    except ValueError as exc:
        return replace(result, rows={}, refusal=f"manifest is {exc}")
    if source_path.endswith(".jsonl") and not seen_key and result.warnings:
        first = result.warnings[0][1]
        return replace(
            result, rows={}, warnings=[], refusal=f"manifest is not JSON lines ({first})"
        )
    return result


def manifest_rows(
    manifests: Iterable[ManifestRead], articles: set[str]
) -> tuple[dict[str, tuple[dict[str, Any], str]], list[tuple[str, str]]]:
    """Each `.txt` article's row (and where it is) in the nearest manifest that has one, unread
    (`from_record` reads it), and the warnings: the manifests' own and a row for an article
    that is not there."""
    chosen: dict[str, tuple[int, dict[str, Any], str]] = {}
    problems: list[tuple[str, str]] = []
    for manifest in manifests:
        problems.extend(manifest.warnings)
        depth = manifest.source_path.count("/")
        for path, (row, where) in manifest.rows.items():
            if path not in articles:
                what = (
                    "is not a .txt article (a JSON article carries its own fields)"
                    if path.endswith((".json", ".jsonl"))
                    else "is not an article in the seeds folder"
                )
                at = where.removeprefix(f"{manifest.source_path} ")
                problems.append((manifest.source_path, f"{at}: '{path}' {what}"))
                continue
            if path not in chosen or chosen[path][0] < depth:
                chosen[path] = (depth, row, where)
    return {p: (row, where) for p, (_d, row, where) in chosen.items()}, problems


def committed_changes(committed: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    """Articles whose text is as committed but whose metadata (or source path, for a JSON line
    that moved) changed: `doc_id` and the new values of `source_path` and `METADATA_COLUMNS`.

    `committed` holds the lake's documents rows (doc_id, content_sha256, source_path and the
    metadata columns), `found` the scan's `source_files` rows with the same columns.
    """
    columns = ["source_path", *METADATA_COLUMNS]
    new = found.filter(pl.col("accepted")).select("doc_id", "content_sha256", *columns)
    both = new.join(committed.select("doc_id", "content_sha256", *columns), on="doc_id")
    same_text = pl.col("content_sha256") == pl.col("content_sha256_right")
    differs = pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"{c}_right")) for c in columns)
    return both.filter(same_text & differs).select("doc_id", *columns)


def apply_changes(documents: pl.DataFrame, changes: pl.DataFrame) -> pl.DataFrame:
    """Documents rows with the new `source_path` and metadata of the articles in `changes`."""
    columns = ["source_path", *METADATA_COLUMNS]
    new = changes.select("doc_id", *(pl.col(c).alias(f"{c}__new") for c in columns))
    changed = pl.col("doc_id").is_in(new["doc_id"].implode())
    return (
        documents.join(new, on="doc_id", how="left")
        .with_columns(
            pl.when(changed).then(pl.col(f"{c}__new")).otherwise(pl.col(c)).alias(c)
            for c in columns
        )
        .select(documents.columns)
    )


def from_source_row(row: dict[str, Any]) -> Metadata:
    """The metadata a `source_files` row holds for its article."""
    return Metadata(
        title=row.get("title"),
        published_at=row.get("published_at"),
        publisher=row.get("publisher"),
        url=row.get("url"),
        authors=tuple(row.get("authors") or ()),
        section=row.get("section"),
        language=row.get("language"),
    )
