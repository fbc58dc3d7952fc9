"""The request journal: what clients sent and what the mock answered, in a bounded ring.

A CI job checks its code against the journal (`GET /__mock/requests`), so every platform request
is recorded. Recording must stay cheap on the hot path: one small slotted object appended to a
`deque(maxlen=N)` (atomic under the GIL, so no lock), with all formatting left to read time.
Memory stays flat under load because the oldest entries fall off the ring.

Under `serve --workers N` the ring is a table shared by the worker processes (`SharedJournal`).
"""

from __future__ import annotations

import fcntl
import fnmatch
import itertools
import json
import mmap
import os
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_SIZE = 1000
MAX_BODY_BYTES = 16 * 1024  # larger request bodies are journaled as null, to keep memory flat


@dataclass(slots=True)
class JournalEntry:
    """One request: `time` is epoch seconds, `body` the parsed JSON body when it was small."""

    id: int
    time: float
    method: str
    path: str
    query: str
    operation_id: str | None
    status: int
    scenario: str | None
    fault: str | None
    duration_ms: float
    body: Any

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "operationId": self.operation_id,
            "status": self.status,
            "scenario": self.scenario,
            "fault": self.fault,
            "duration_ms": round(self.duration_ms, 3),
            "body": self.body,
        }


class Journal:
    """A ring of the last `size` requests; `size` 0 turns the journal off."""

    def __init__(self, size: int = DEFAULT_SIZE):
        if size < 0:
            raise ValueError("the journal size cannot be negative")
        self.size = size
        self._entries: deque[JournalEntry] = deque(maxlen=size)
        self._ids = itertools.count(1)  # next() on a count is atomic in CPython

    def __len__(self) -> int:
        return len(self._entries)

    def record(
        self,
        *,
        time: float,
        method: str,
        path: str,
        query: str,
        operation_id: str | None,
        status: int,
        scenario: str | None = None,
        fault: str | None = None,
        duration_ms: float = 0.0,
        body: Any = None,
    ) -> None:
        if not self.size:
            return
        self._entries.append(
            JournalEntry(
                next(self._ids), time, method, path, query, operation_id, status, scenario, fault, duration_ms, body
            )
        )

    def clear(self) -> int:
        """Forget every entry; returns how many there were."""
        count = len(self._entries)
        self._entries.clear()
        return count

    def entries(self) -> list[JournalEntry]:
        """Oldest first; a snapshot, safe to read while requests keep arriving."""
        return list(self._entries.copy())

    def find(
        self,
        *,
        path: str | None = None,
        operation_id: str | None = None,
        status: int | None = None,
        method: str | None = None,
        scenario: str | None = None,
    ) -> list[JournalEntry]:
        """Entries that pass every filter given, oldest first.

        `path` is an exact request path, or a shell-style pattern when it holds `*`, `?` or `[`
        (`/admin/api/2020-10/orders/*`).
        """
        selected: Iterable[JournalEntry] = self.entries()
        if path is not None:
            if any(char in path for char in "*?["):
                selected = [entry for entry in selected if fnmatch.fnmatchcase(entry.path, path)]
            else:
                selected = [entry for entry in selected if entry.path == path]
        if operation_id is not None:
            selected = [entry for entry in selected if entry.operation_id == operation_id]
        if status is not None:
            selected = [entry for entry in selected if entry.status == status]
        if method is not None:
            wanted = method.upper()
            selected = [entry for entry in selected if entry.method == wanted]
        if scenario is not None:
            selected = [entry for entry in selected if entry.scenario == scenario]
        return list(selected)


class SharedJournal(Journal):
    """The journal of `serve --workers N`: every worker's requests, readable from any worker.

    A CI job asks one worker for the journal and must see every request, whichever process
    answered it. So each worker appends one JSON line per request to a file of its own, before
    the answer leaves (one `write`, no fsync: the journal does not outlive the run), numbered
    from a sequence the workers share, so ids keep increasing with every request. A worker's file
    is rotated after `size` lines (the previous one is kept), so the files stay small however
    long the run. Readers merge the files and keep the last `size` entries. Clearing records the
    last id handed out; older entries are no longer listed. (A SQLite row per request cost about
    40 µs, a tenth of a request; the line costs about a third of that.)
    """

    def __init__(self, directory: str | os.PathLike[str], size: int = DEFAULT_SIZE):
        super().__init__(size)
        self.directory = Path(directory)
        self._sequence = _SharedSequence(self.directory / "journal.sequence")
        self._write_lock = threading.Lock()
        self._file: tuple[int, int] | None = None  # (pid, descriptor) of this process's current file
        self._lines = 0

    def _current(self) -> Path:
        return self.directory / f"journal-{os.getpid()}.ndjson"

    def record(
        self,
        *,
        time: float,
        method: str,
        path: str,
        query: str,
        operation_id: str | None,
        status: int,
        scenario: str | None = None,
        fault: str | None = None,
        duration_ms: float = 0.0,
        body: Any = None,
    ) -> None:
        if not self.size:
            return
        with self._write_lock:
            if self._file is None or self._file[0] != os.getpid() or self._lines >= self.size:
                self._file = self._rotate()
            entry_id = self._sequence.next()
            line = json.dumps(
                [entry_id, time, method, path, query, operation_id, status, scenario, fault, duration_ms, body],
                ensure_ascii=False,
                separators=(",", ":"),
            )
            os.write(self._file[1], line.encode("utf-8") + b"\n")
            self._lines += 1

    def _rotate(self) -> tuple[int, int]:
        """Start this process's next file; the full one is kept as `.previous` (the one before goes)."""
        current = self._current()
        if self._file is not None and self._file[0] == os.getpid():
            os.close(self._file[1])
            os.replace(current, current.with_suffix(".previous.ndjson"))
        self._lines = 0
        return os.getpid(), os.open(current, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_TRUNC, 0o600)

    def _read(self) -> list[JournalEntry]:
        cleared_through = self._sequence.cleared_through()
        found: list[JournalEntry] = []
        for path in sorted(self.directory.glob("journal-*.ndjson")):
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:  # rotated while listed: its lines are in the other file
                continue
            for line in text.splitlines():
                try:
                    fields = json.loads(line)
                except ValueError:  # the last line of a worker killed while writing it
                    continue
                if fields[0] > cleared_through:
                    found.append(JournalEntry(*fields))
        found.sort(key=lambda entry: entry.id)
        return found[-self.size :] if self.size else []

    def __len__(self) -> int:
        return len(self._read())

    def clear(self) -> int:
        count = len(self._read())
        self._sequence.clear()
        return count

    def entries(self) -> list[JournalEntry]:
        return self._read()

    def close(self) -> None:
        if self._file is not None and self._file[0] == os.getpid():
            os.close(self._file[1])
        self._file = None


class _SharedSequence:
    """Numbers 1, 2, 3... handed out across processes: counters in a mapped file, under `lockf`.

    The first 8 bytes hold the last number handed out, the next 8 the last number cleared.
    """

    def __init__(self, path: Path):
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(descriptor).st_size < 16:
            os.ftruncate(descriptor, 16)
        self._descriptor = descriptor
        self._map = mmap.mmap(descriptor, 16)

    def next(self) -> int:
        fcntl.lockf(self._descriptor, fcntl.LOCK_EX)  # between processes; threads take a lock first
        try:
            value = int.from_bytes(self._map[:8], "little") + 1
            self._map[:8] = value.to_bytes(8, "little")
        finally:
            fcntl.lockf(self._descriptor, fcntl.LOCK_UN)
        return value

    def cleared_through(self) -> int:
        return int.from_bytes(self._map[8:16], "little")

    def clear(self) -> None:
        fcntl.lockf(self._descriptor, fcntl.LOCK_EX)
        try:
            self._map[8:16] = self._map[:8]
        finally:
            fcntl.lockf(self._descriptor, fcntl.LOCK_UN)
