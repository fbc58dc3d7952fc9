"""Reading the fixture files a user hands the mock, in every format `fixtures generate` writes.

`serve --fixtures`, the pytest plugin and `fixtures validate` read files through here, so they
agree on what a fixture file is: `<dir>/<platform>/orders/<id>.json` (or `.yaml`, `.yml`), and
`<dir>/<platform>/orders.ndjson` (one order per line; also accepted inside `orders/`).

A file is read only when it is a regular file: a `.json` that links to `/dev/zero` (or a FIFO,
a device, a folder) would hang start-up or fill memory, so it is refused before a byte is read.
A JSON or YAML document is at most `MAX_DOCUMENT_BYTES`; an ndjson file is streamed one line at
a time (each line at most as large), so a million-order file never sits in memory. A UTF-8 byte
order mark, which some Windows editors write, is accepted. YAML is loaded without aliases
(`mockserver.safe_yaml`): a few hundred bytes of nested aliases would expand to gigabytes.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

MAX_DOCUMENT_BYTES = 16 << 20  # a generated order is some 10-40 KB; a hand-written one far less
BOM = b"\xef\xbb\xbf"
DOCUMENT_SUFFIXES = (".json", ".yaml", ".yml")
STREAM_SUFFIX = ".ndjson"
SUFFIXES = (*DOCUMENT_SUFFIXES, STREAM_SUFFIX)
EXPECTED_LAYOUT = "<platform>/orders/*.json, *.yaml or <platform>/orders.ndjson"


class FixtureFileError(ValueError):
    """A fixture file (or one line of it) that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Entry:
    """One document of a fixture file: where it is (`file` or `file:line`), and it or why not."""

    location: str
    document: Any = None
    error: str | None = None


def open_regular(path: Path) -> IO[bytes]:
    """`path` opened for reading, only if it is (or links to) a regular file.

    Opened without blocking, so that a FIFO with no writer cannot hang the caller, then checked
    on the open descriptor (not the name, which could change in between).
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "a device, FIFO or socket"
            raise FixtureFileError(f"{path}: is {kind}, not a regular file; only regular files are read")
        flags = fcntl.fcntl(descriptor, fcntl.F_GETFL)
        fcntl.fcntl(descriptor, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _text(data: bytes, where: str) -> str:
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FixtureFileError(f"{where}: not UTF-8 (byte {error.start})") from None


def _too_large(where: str) -> FixtureFileError:
    limit = MAX_DOCUMENT_BYTES
    shown = f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit} bytes"
    return FixtureFileError(f"{where}: larger than {shown}, the most one fixture document may be")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise FixtureFileError(f"{where}: not valid JSON ({error})") from None


def read_document(path: Path) -> Any:
    """The one document of a `.json`, `.yaml` or `.yml` file."""
    with open_regular(path) as handle:
        data = handle.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _too_large(str(path))
    text = _text(data, str(path))
    if path.suffix in (".yaml", ".yml"):
        from mockserver.safe_yaml import YamlRefused, load_yaml  # here: JSON readers need no YAML parser

        try:
            return load_yaml(text, source=str(path))
        except YamlRefused as error:
            raise FixtureFileError(str(error)) from None
    return parse_json(text, str(path))


def stream_ndjson(path: Path) -> Iterator[Entry]:
    """One entry per non-blank line, read a line at a time; a bad line is an entry with an error."""
    with open_regular(path) as handle:
        number = 0
        while True:
            line = handle.readline(MAX_DOCUMENT_BYTES + 1)
            if not line:
                return
            number += 1
            where = f"{path}:{number}"
            if len(line) > MAX_DOCUMENT_BYTES:
                while line and not line.endswith(b"\n"):  # skip the rest of the long line
                    line = handle.readline(1 << 20)
                yield Entry(where, error=str(_too_large(where)))
                continue
            try:
                text = _text(line, where) if number == 1 else line.decode("utf-8")
            except UnicodeDecodeError as error:
                yield Entry(where, error=f"{where}: not UTF-8 (byte {error.start})")
                continue
            except FixtureFileError as error:
                yield Entry(where, error=str(error))
                continue
            if not text.strip():
                continue
            try:
                yield Entry(where, parse_json(text, where))
            except FixtureFileError as error:
                yield Entry(where, error=str(error))


def documents(path: Path) -> Iterator[Entry]:
    """The documents of one fixture file: one for JSON or YAML, one per line of ndjson.

    Never raises for a file that cannot be read: the entry carries the reason instead.
    """
    try:
        if path.suffix == STREAM_SUFFIX:
            yield from stream_ndjson(path)
        else:
            yield Entry(str(path), read_document(path))
    except FixtureFileError as error:
        yield Entry(str(path), error=str(error))
    except OSError as error:
        yield Entry(str(path), error=f"{path}: cannot be read ({error.strerror or error})")


def _visible(path: Path, root: Path) -> bool:
    """Not hidden (a staging folder of an unfinished `fixtures generate`, an editor's swap file)."""
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def order_files(directory: Path, platform: str) -> list[Path]:
    """The order files of one platform under a fixtures folder, in a stable order."""
    folder = directory / platform
    found = [path for path in (folder / "orders").glob("*") if path.suffix in SUFFIXES and _visible(path, folder)]
    stream = folder / f"orders{STREAM_SUFFIX}"
    if stream.exists() or stream.is_symlink():
        found.append(stream)
    return sorted(found)
