"""Raw files to documents: find the articles, decode them, and say why a file is refused.

A file is accepted or refused on its own: one bad file never stops the others. Decoding follows
the warehouse contract: UTF-8 (a leading byte-order mark dropped), else cp1252 when that gives
clean text, else a refusal with a reason a person understands.

A `.json` file is one article and a `.jsonl` file one article per line, in the field names news
scrapers write (`pipelines.core.metadata`); a `.jsonl` file is read as a stream, line by line,
so a bad line is refused as `<path>#<line>` while the others load, and no line is held in memory
beyond twice the text limit. `metadata.csv` and `metadata.jsonl` are manifests, never articles.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from pipelines.core import metadata
from pipelines.core.ids import doc_id_for, record_doc_id
from pipelines.core.metadata import Metadata

ARTICLE_SUFFIXES = (".txt", ".json", ".jsonl")
DEFAULT_MAX_JSONL_BYTES = 1 << 30
# a `.jsonl` line's own source path: `<path>#<line>`
_RECORD_PATH = re.compile(r"^(?P<file>.+\.jsonl)#(?P<line>[1-9][0-9]*)$")

BOM = "\ufeff"
UTF8_BOM = b"\xef\xbb\xbf"
# Byte-order marks of encodings the contract does not accept (longest first: UTF-32 LE starts
# with the UTF-16 LE mark).
_OTHER_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
# Control characters other than tab, line feed and carriage return never occur in clean text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# In valid UTF-8, C1 characters (U+0080-U+009F) come from text that was encoded twice
# ("FranÃ\x83Â§ois"): damaged, but still an article worth keeping. C0 ones mean it is not text.
_C0_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Unicode's private-use characters (category Co): its three private-use areas, as one pattern
# (a regular expression scans a text at C speed where asking `unicodedata` of each did not)
PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")


@dataclass(frozen=True)
class RawFile:
    """One candidate input file, as found in the seeds folder."""

    source_path: str  # relative to the seeds folder, with forward slashes
    path: Path
    # what the file system says of the file when it was found (size, times, inode, of the link
    # and of what it leads to): the same signature on the next run means the same content
    signature: str | None = None


@dataclass(frozen=True)
class Document:
    doc_id: str
    source_path: str
    content_sha256: str
    title: str | None
    text: str
    encoding: str
    n_bytes: int
    signature: str | None = None  # the file's `RawFile.signature` when it was found
    # its metadata (a JSON article's fields or a manifest row, see the contract); `title` above
    # is the one it is stored with (the metadata's, else the headline)
    metadata: Metadata = field(default_factory=Metadata)
    warnings: tuple[str, ...] = ()  # what could not be read in its metadata (`file_warnings`)

    @property
    def n_chars(self) -> int:
        return len(self.text)


@dataclass(frozen=True)
class Rejection:
    source_path: str
    reason: str
    doc_id: str | None = None  # a JSON record's, when known
    signature: str | None = None  # of a `.jsonl` file whose line this is


def file_of(source_path: str) -> str:
    """The file a source path is in: `a.jsonl` for the line `a.jsonl#3`."""
    found = _RECORD_PATH.match(source_path)
    return found["file"] if found else source_path


def is_manifest(source_path: str) -> bool:
    return PurePosixPath(source_path).name in metadata.MANIFEST_NAMES


class RejectedFile(Exception):
    """Raised by `decode` with the reason a file cannot be accepted."""


def _outside(target: str, root: Path) -> bool:
    return not Path(target).is_relative_to(root)


def _not_regular(mode: int) -> str:
    kind = (
        "a named pipe"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "not a regular file"
    )
    return f"{kind}, not a regular file: not read"


def _os_reason(exc: OSError, is_link: bool) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link that loops back on itself: not read"
    if exc.errno == errno.ENOENT:
        if is_link:
            return "symbolic link whose target does not exist"
        return "file disappeared while the run was reading it"
    return f"file could not be read: {exc.strerror or exc}"


def _printable(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (kept by Python as lone surrogates, which no
    table can store) are written as `\\xff`."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def find_raw_files(seeds_dir: Path) -> tuple[list[RawFile], list[Rejection]]:
    """Every article (`*.txt`, `*.json`, `*.jsonl`) and manifest below the folder, in path order,
    and the entries that cannot be read.

    A symbolic link (or a path through a linked folder) that leads outside the folder is refused
    and never opened; so are link loops, dangling links, named pipes, sockets and devices. A
    folder whose name ends in `.txt` is searched like any other. Other suffixes are ignored.
    """
    root = seeds_dir.resolve()
    found: list[RawFile] = []
    refused: list[Rejection] = []
    candidates = (
        p
        for p in seeds_dir.rglob("*")
        if p.suffix in ARTICLE_SUFFIXES or p.name in metadata.MANIFEST_NAMES
    )
    for path in sorted(candidates):
        relative = path.relative_to(seeds_dir).as_posix()
        printable = _printable(relative)
        if printable != relative:
            reason = "file name is not valid UTF-8 (rename the file): not read"
            refused.append(Rejection(printable, reason))
            continue
        is_link = path.is_symlink()
        target = os.path.realpath(path)  # never raises: a loop gives a path inside the loop
        if _outside(target, root):
            reason = _outside_reason(target)
            refused.append(Rejection(relative, reason))
            continue
        try:
            status = path.stat()
            link = path.lstat() if is_link else status
        except OSError as exc:
            refused.append(Rejection(relative, _os_reason(exc, is_link)))
            continue
        if stat.S_ISDIR(status.st_mode):
            continue  # a folder named like a file: rglob searches it
        if not stat.S_ISREG(status.st_mode):
            refused.append(Rejection(relative, _not_regular(status.st_mode)))
            continue
        found.append(RawFile(relative, path, _signature(status, link)))
    return found, refused


def _outside_reason(target: str) -> str:
    return f"symbolic link to {target}, outside the seeds folder: not read"


def _too_large(size: int, max_bytes: int, setting: str = "NEWS_MAX_FILE_BYTES") -> str:
    return f"file is {size:,} bytes, over the {max_bytes:,}-byte limit ({setting})"


def _signature(status: os.stat_result, link: os.stat_result) -> str:
    """Size, modification and change times (ns) and inode of the file and of the link to it. A
    write always moves the change time, which no one can set back, so an equal signature means
    the bytes were not touched."""
    fields = (
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
        status.st_ino,
        status.st_dev,
        link.st_ctime_ns,
        link.st_ino,
    )
    return ":".join(str(f) for f in fields)


def _control_reason(text: str, where: str, pattern: re.Pattern[str] = _CONTROL) -> str | None:
    found = pattern.search(text)
    if found is None:
        return None
    return (
        f"{where} holds a control character (U+{ord(found.group()):04X} at character "
        f"{found.start():,}), so it is not plain text"
    )


def decode(raw: bytes, max_bytes: int) -> tuple[str, str]:
    """The text and encoding name of a file's bytes, or `RejectedFile` saying why not.

    UTF-8 first (a leading byte-order mark is not part of the text), then cp1252 when UTF-8
    fails and cp1252 gives clean text (no control characters), else a refusal.
    """
    if len(raw) > max_bytes:
        raise RejectedFile(_too_large(len(raw), max_bytes))
    if not raw:
        raise RejectedFile("file is empty")
    for mark, name in _OTHER_BOMS:
        if raw.startswith(mark):
            raise RejectedFile(
                f"{name} text (it starts with the {name} byte-order mark): "
                "only UTF-8 or cp1252 files are accepted"
            )
    if b"\x00" in raw:
        first_nul = raw.index(b"\x00")
        raise RejectedFile(
            f"binary file: it contains NUL bytes (first at byte {first_nul:,}), not text"
        )
    body = raw.removeprefix(UTF8_BOM)
    try:
        text, encoding = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        bad_at = utf8_error.start + len(raw) - len(body)
        try:
            text, encoding = body.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as cp1252_error:
            raise RejectedFile(
                f"not valid UTF-8 (bad byte at offset {bad_at:,}) and not cp1252 either "
                f"(byte 0x{body[cp1252_error.start]:02X} has no cp1252 character)"
            ) from None
        control = _control_reason(text, "read as cp1252, the file")
        if control:
            raise RejectedFile(
                f"not valid UTF-8 (bad byte at offset {bad_at:,}), and {control}"
            ) from None
    text = text.removeprefix(BOM)
    if not text.strip():
        raise RejectedFile("file holds no text, only white space")
    control = _control_reason(text, "file", _C0_CONTROL if encoding == "utf-8" else _CONTROL)
    if control:
        raise RejectedFile(control)
    if len(PRIVATE_USE.findall(text, 0, 10000)) > 10:
        raise RejectedFile("file is mostly private-use characters, so it is not readable text")
    return text, encoding


def title_of(text: str) -> str | None:
    """The headline: a first line followed by a blank line, as in the corpora."""
    lines = text.split("\n", 2)
    if len(lines) >= 2 and lines[0].strip() and not lines[1].strip():
        return lines[0].rstrip("\r")
    return None


def _seeds_root(raw_file: RawFile) -> Path:
    root = raw_file.path
    for _ in PurePosixPath(raw_file.source_path).parts:
        root = root.parent
    return root.resolve()


def _opened_path(fd: int, fallback: Path) -> str:
    """Where the open file really is (Linux tells; elsewhere the resolved path)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}").removesuffix(" (deleted)")
    except OSError:
        return os.path.realpath(fallback)


def read_bytes(raw_file: RawFile, max_bytes: int) -> bytes:
    """The file's bytes, checked where it was opened, not where it was found.

    The file may have been swapped for a link out of the folder, a pipe or a larger file since
    the folder was listed: where it leads is checked before it is opened (without blocking on a
    pipe) and again on what was opened, and at most `max_bytes + 1` bytes are ever read.
    """
    with open_checked(raw_file, max_bytes) as handle:
        return handle.read(max_bytes + 1)


@contextlib.contextmanager
def open_checked(
    raw_file: RawFile, max_bytes: int, setting: str = "NEWS_MAX_FILE_BYTES"
) -> Iterator[IO[bytes]]:
    """The file opened for reading, after the checks `read_bytes` describes."""
    root = _seeds_root(raw_file)
    target = os.path.realpath(raw_file.path)
    if _outside(target, root):  # checked before opening too: a device is never even opened
        raise RejectedFile(_outside_reason(target))
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(raw_file.path, flags)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOENT):
            raise RejectedFile(_os_reason(exc, raw_file.path.is_symlink())) from None
        raise
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(fd)
        mode, size = opened.st_mode, opened.st_size
        where = _opened_path(fd, raw_file.path)
        if _outside(where, root):
            raise RejectedFile(_outside_reason(where))
        if not stat.S_ISREG(mode):
            raise RejectedFile(_not_regular(mode))
        if size > max_bytes:
            raise RejectedFile(_too_large(size, max_bytes, setting))
        yield handle


def read_document(raw_file: RawFile, max_bytes: int) -> Document:
    """Read and decode one file (raises `RejectedFile` or `OSError`)."""
    raw = read_bytes(raw_file, max_bytes)
    text, encoding = decode(raw, max_bytes)
    return Document(
        doc_id=doc_id_for(raw_file.source_path),
        source_path=raw_file.source_path,
        content_sha256=hashlib.sha256(raw).hexdigest(),
        title=title_of(text),
        text=text,
        encoding=encoding,
        n_bytes=len(raw),
        signature=raw_file.signature,
    )


def _record_key(record: dict[str, Any]) -> str | None:
    """What names a JSON article in its file: its `id`, else its `url` (None: its line)."""
    for name in ("id", "url"):
        _key, value = metadata.pick(record, name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return f"{name}:{str(value).strip()}"
    return None


def record_document(
    value: Any,
    duplicates: list[str],
    file_path: str,
    line: int | None,
    raw_file: RawFile,
    max_bytes: int,
) -> Document:
    """One JSON article (raises `RejectedFile`): its text is the text field exactly, its title
    the title field; `content_sha256` is taken over the text."""
    where = "line" if line is not None else "file"
    if isinstance(value, list) and line is None:
        # The contract: a `.json` file is one article, named by the file's path; elements of an
        # array would share that path (and a `.jsonl` file already holds many, one a line).
        raise RejectedFile(
            f"the file holds an array of {len(value):,} JSON values, not one object: a .json "
            "file is one article; put one article a line in a .jsonl file"
        )
    if not isinstance(value, dict):
        kind = {list: "an array", str: "a string"}.get(type(value), f"a {type(value).__name__}")
        raise RejectedFile(f"the {where} holds {kind}, not a JSON object: not an article")
    name, text = metadata.pick(value, "text")
    if name is None:
        fields = ", ".join(metadata.field_names()["text"][:4])
        raise RejectedFile(f"the record has no text (none of {fields}): not an article")
    if not isinstance(text, str):
        raise RejectedFile(f"the record's '{name}' is {type(text).__name__}, not text")
    if not text.strip():
        raise RejectedFile(f"the record's '{name}' holds only white space")
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RejectedFile(
            f"the record's '{name}' holds a lone UTF-16 surrogate (character {exc.start:,}), "
            "which is not text"
        ) from None
    if len(raw) > max_bytes:
        raise RejectedFile(
            f"the record's text is {len(raw):,} bytes, over the {max_bytes:,}-byte limit "
            "(NEWS_MAX_FILE_BYTES)"
        )
    control = _control_reason(text, f"the record's '{name}'", _C0_CONTROL)
    if control:
        raise RejectedFile(control)
    source_path = file_path if line is None else f"{file_path}#{line}"
    key = _record_key(value)
    found = metadata.from_record(value)
    repeated = tuple(
        f"key '{k}' appears twice in the record: the first is used" for k in duplicates
    )
    document = Document(
        doc_id=record_doc_id(file_path if key else source_path, key),
        source_path=source_path,
        content_sha256=hashlib.sha256(raw).hexdigest(),
        title=None,
        text=text,
        encoding="utf-8",
        n_bytes=len(raw),
        signature=raw_file.signature,
        warnings=repeated + found.warnings,
    )
    return metadata.with_metadata(document, found, None)


def _parse_json(raw: bytes, where: str) -> tuple[Any, list[str]]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = f"the {where} is not valid UTF-8 (bad byte at offset {exc.start:,})"
        raise RejectedFile(reason) from None
    try:
        return metadata.loads_object(text.removeprefix(BOM))
    except RecursionError:
        raise RejectedFile(f"the {where}'s JSON is nested too deeply to read") from None
    except ValueError as exc:
        raise RejectedFile(f"the {where} is not JSON ({exc})") from None


def _line_cap(max_bytes: int) -> int:
    """The most a `.json` file or a `.jsonl` line may hold: its text's limit, twice over (for
    the fields and the escapes around the text)."""
    return 2 * max_bytes


def _skip_line(handle: IO[bytes], chunk: int) -> int:
    """Read past the rest of an overlong line without keeping it; returns the bytes skipped."""
    skipped = 0
    while True:
        part = handle.readline(chunk)
        skipped += len(part)
        if not part or part.endswith(b"\n"):
            return skipped


def read_json_records(
    raw_file: RawFile, max_bytes: int, max_jsonl_bytes: int = DEFAULT_MAX_JSONL_BYTES
) -> Iterator[Document | Rejection]:
    """The articles of a `.json` or `.jsonl` file, and a refusal for each line that is not one
    (raises `RejectedFile` when the file as a whole cannot be read)."""
    path = raw_file.source_path
    cap = _line_cap(max_bytes)
    if not path.endswith(".jsonl"):
        with open_checked(raw_file, cap, "twice NEWS_MAX_FILE_BYTES, for a .json article") as f:
            raw = f.read(cap + 1)
        if not raw.strip():
            raise RejectedFile("file is empty")
        value, duplicates = _parse_json(raw, "file")
        yield record_document(value, duplicates, path, None, raw_file, max_bytes)
        return
    seen: dict[str, int] = {}
    total = 0
    with open_checked(raw_file, max_jsonl_bytes, "NEWS_MAX_JSONL_BYTES") as handle:
        for number in range(1, 1 << 62):
            raw = handle.readline(cap + 1)
            if not raw:
                return
            total += len(raw)
            where = f"{path}#{number}"
            if len(raw) > cap and not raw.endswith(b"\n"):
                total += _skip_line(handle, 1 << 20)
                reason = (
                    f"line is over {cap:,} bytes (twice NEWS_MAX_FILE_BYTES, the limit for an "
                    "article's text): not read"
                )
                yield Rejection(where, reason, signature=raw_file.signature)
            elif total > max_jsonl_bytes:  # the file grew while it was read
                reason = _too_large(total, max_jsonl_bytes, "NEWS_MAX_JSONL_BYTES")
                yield Rejection(where, f"{reason}: the rest is not read")
                return
            elif raw.strip():
                try:
                    value, duplicates = _parse_json(raw.removeprefix(UTF8_BOM), "line")
                    document = record_document(value, duplicates, path, number, raw_file, max_bytes)
                except RejectedFile as exc:
                    yield Rejection(where, str(exc), signature=raw_file.signature)
                    continue
                key = _record_key(value)
                if key is not None and key in seen:
                    reason = (
                        f"the record's {key.split(':')[0]} '{key.split(':', 1)[1][:80]}' is "
                        f"already line {seen[key]}'s: not loaded twice"
                    )
                    yield Rejection(where, reason, signature=raw_file.signature)
                    continue
                if key is not None:
                    seen[key] = number
                yield document
    return


def read_found(
    raw_files: list[RawFile],
    max_bytes: int,
    unchanged: Callable[[RawFile], bool] = lambda _f: False,
    max_jsonl_bytes: int = DEFAULT_MAX_JSONL_BYTES,
) -> Iterator[Document | Rejection | RawFile]:
    """Each found article file as documents or refusals, never an exception (manifests are
    skipped: `pipelines.core.inventory` reads them); a file that `unchanged` says was read
    before as it is now comes back unread, as its `RawFile`."""
    for raw_file in raw_files:
        if is_manifest(raw_file.source_path):
            continue
        if unchanged(raw_file):
            yield raw_file
            continue
        try:
            if raw_file.source_path.endswith(".txt"):
                yield read_document(raw_file, max_bytes)
            else:
                yield from read_json_records(raw_file, max_bytes, max_jsonl_bytes)
        except RejectedFile as exc:
            yield Rejection(raw_file.source_path, str(exc))
        except OSError as exc:
            yield Rejection(raw_file.source_path, _os_reason(exc, is_link=False))


def read_documents(
    seeds_dir: Path,
    max_bytes: int,
    unchanged: Callable[[RawFile], bool] = lambda _f: False,
    max_jsonl_bytes: int = DEFAULT_MAX_JSONL_BYTES,
) -> Iterator[Document | Rejection | RawFile]:
    """Each file in the folder as a document or a refusal, never an exception; a file that
    `unchanged` says was read before as it is now comes back unread, as its `RawFile`."""
    if not seeds_dir.is_dir():
        raise FileNotFoundError(f"seeds folder {seeds_dir} does not exist (NEWS_SEEDS_DIR)")
    raw_files, refused = find_raw_files(seeds_dir)
    yield from refused
    yield from read_found(raw_files, max_bytes, unchanged, max_jsonl_bytes)


class ArticleReader:
    """Reads the articles a run parses, by source path: a `.jsonl` file is streamed once for
    all its lines the run wants (kept until asked for), not once per line."""

    def __init__(
        self, seeds_dir: Path, max_bytes: int, max_jsonl_bytes: int, wanted: list[str]
    ) -> None:
        self.seeds_dir = seeds_dir
        self.max_bytes = max_bytes
        self.max_jsonl_bytes = max_jsonl_bytes
        self._wanted: dict[str, set[str]] = {}
        for source_path in wanted:
            self._wanted.setdefault(file_of(source_path), set()).add(source_path)
        self._held: dict[str, Document | Rejection] = {}
        self._streamed: set[str] = set()

    def load(self, source_path: str) -> Document:
        """The article (raises `RejectedFile` or `OSError`)."""
        path = file_of(source_path)
        raw_file = RawFile(path, self.seeds_dir / path)
        if path.endswith(".txt"):
            return read_document(raw_file, self.max_bytes)
        if path not in self._streamed:
            self._streamed.add(path)
            wanted = self._wanted.get(path, {source_path})
            for item in read_json_records(raw_file, self.max_bytes, self.max_jsonl_bytes):
                if item.source_path in wanted:
                    self._held[item.source_path] = item
        item = self._held.pop(source_path, None)
        if item is None:
            raise RejectedFile("the line no longer holds an article")
        if isinstance(item, Rejection):
            raise RejectedFile(item.reason)
        return item
