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
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

DEFAULT_SIZE = 1000
MAX_BODY_BYTES = 16 * 1024  # larger request bodies are journaled as null, to keep memory flat
HIDDEN_FILE = "journal-hidden.json"  # shared journal: per session, the id through which it was cleared


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
    proxy: Any = None  # `serve --proxy`: the store's URL, its answer and the spec violations
    # the JSON the mock answered when at most MAX_BODY_BYTES: bytes as sent (kept unparsed, so
    # recording costs nothing), or already parsed (read back from a shared ring)
    response: Any = None
    session: str | None = None  # the named session (mockserver.sessions); None: the default session

    def to_json(self) -> dict[str, Any]:
        entry = {
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
            "response": _parsed(self.response),
            "session": self.session,
        }
        if self.proxy is not None:
            entry["proxy"] = self.proxy
        return entry


class EVERY_SESSION:
    """`Journal.find(session=EVERY_SESSION)`: the entries of every session."""


class Journal:
    """A ring of the last `size` requests; `size` 0 turns the journal off."""

    def __init__(self, size: int = DEFAULT_SIZE):
        if size < 0:
            raise ValueError("the journal size cannot be negative")
        self.size = size
        self._entries: deque[JournalEntry] = deque(maxlen=size)
        self._ids = itertools.count(1)  # next() on a count is atomic in CPython
        # per session, the id through which `clear(session)` hid its entries (while others share the ring)
        self._hidden: dict[str | None, int] = {}

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
        body_json: bytes | None = None,
        proxy: Any = None,
        response_json: bytes | None = None,
        session: str | None = None,
    ) -> None:
        """`body_json`, when given, is `body` as the client sent it (valid JSON): the shared
        journal stores those bytes instead of encoding `body` again. `response_json` is the
        answer's JSON (`response_json_of`)."""
        if not self.size:
            return
        self._entries.append(
            JournalEntry(
                next(self._ids),
                time,
                method,
                path,
                query,
                operation_id,
                status,
                scenario,
                fault,
                duration_ms,
                body,
                proxy,
                response_json,
                session,
            )
        )

    def clear(self, session: str | None = None) -> int:
        """Forget the entries of one session (None: the default session); returns how many there were.

        When every entry is that session's (always, while no named session is used), the ring is
        emptied; else the session's entries are hidden from then on."""
        entries = self.entries()
        mine = [entry for entry in entries if entry.session == session]
        if len(mine) == len(entries):
            self._entries.clear()
            self._hidden.clear()
        elif mine:
            self._hidden[session] = mine[-1].id
        return len(mine)

    def entries(self) -> list[JournalEntry]:
        """Oldest first; a snapshot, safe to read while requests keep arriving."""
        entries = list(self._entries.copy())
        hidden = self._hidden
        if hidden:
            entries = [entry for entry in entries if entry.id > hidden.get(entry.session, 0)]
        return entries

    def find(
        self,
        *,
        path: str | None = None,
        operation_id: str | None = None,
        status: int | None = None,
        method: str | None = None,
        scenario: str | None = None,
        session: str | type[EVERY_SESSION] | None = None,
    ) -> list[JournalEntry]:
        """Entries that pass every filter given, oldest first.

        `path` is an exact request path, or a shell-style pattern when it holds `*`, `?` or `[`
        (`/admin/api/2020-10/orders/*`). `session`: that session's entries (None: the default
        session's), or `EVERY_SESSION`'s.
        """
        selected: Iterable[JournalEntry] = self.entries()
        if session is not EVERY_SESSION:
            selected = [entry for entry in selected if entry.session == session]
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
    answered it, so each request is recorded before its answer leaves, in a ring of `size`
    fixed slots in a memory-mapped file of the worker's own (`journal-<pid>.ring`). Recording is
    a copy into memory: no system call, no lock another process could hold. (A SQLite row, or a
    line appended with `write`, cost a tenth of the request under load: each call gives up the
    GIL to the worker's other threads.) Readers parse every worker's ring and keep the newest
    `size` entries. Ids are nanoseconds since the server started, so they increase with every
    request across workers (without being consecutive); clearing records the moment, and older
    entries are no longer listed.
    """

    SLOT_BYTES = 20 * 1024  # an entry's JSON; bodies over MAX_BODY_BYTES are journaled as null already
    _HEADER = 12  # per slot: the entry id (8 bytes, written last) and the JSON length (4 bytes)

    def __init__(self, directory: str | os.PathLike[str], size: int = DEFAULT_SIZE, *, ring_name: str | None = None):
        super().__init__(size)
        self.directory = Path(directory)
        self._ring_name = ring_name  # None: the process id (one ring per worker process)
        self._clock = _SharedClock(self.directory / "journal.clock")
        self._write_lock = threading.Lock()
        self._ring: tuple[int, mmap.mmap] | None = None  # (pid, map) of this process's ring
        self._next_slot = 0
        self._last_id = 0

    def _open_ring(self) -> mmap.mmap:
        path = self.directory / f"journal-{self._ring_name or os.getpid()}.ring"
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.ftruncate(descriptor, self.size * self.SLOT_BYTES)  # sparse: only written slots take memory
            ring = mmap.mmap(descriptor, self.size * self.SLOT_BYTES)
        finally:
            os.close(descriptor)
        self._ring = (os.getpid(), ring)
        self._next_slot = 0
        return ring

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
        body_json: bytes | None = None,
        proxy: Any = None,  # not kept across workers: `serve --proxy` runs without --workers
        response_json: bytes | None = None,
        session: str | None = None,
    ) -> None:
        if not self.size:
            return
        head = _encode([time, method, path, query, operation_id, status, scenario, fault, duration_ms])[:-1]
        # the client's own bytes and the answer's, already known to be valid JSON: no second encoding
        body_part = body_json if body_json is not None else _encode(body)
        room = self.SLOT_BYTES - self._HEADER
        tail = b"]" if session is None else b',"' + session.encode("ascii") + b'"]'  # a session name is plain ASCII
        text = b"".join((head, b",", body_part, b",", response_json or b"null", tail))
        if len(text) > room:  # the answer goes first, then the request body
            text = b"".join((head, b",", body_part, b",null", tail))
        if len(text) > room:
            text = head + b",null,null" + tail
        with self._write_lock:
            ring = self._ring[1] if self._ring is not None and self._ring[0] == os.getpid() else self._open_ring()
            entry_id = max(self._clock.now(), self._last_id + 1)
            self._last_id = entry_id
            start = self._next_slot * self.SLOT_BYTES
            self._next_slot = (self._next_slot + 1) % self.size
            # id 0 while the slot is being written (readers skip it), then the id, last
            ring[start : start + self._HEADER + len(text)] = _UNWRITTEN_ID + len(text).to_bytes(4, "little") + text
            ring[start : start + 8] = entry_id.to_bytes(8, "little")

    def _read(self) -> list[JournalEntry]:
        cleared_through = self._clock.cleared_through()
        hidden = self._hidden_through()
        found: list[JournalEntry] = []
        for path in self.directory.glob("journal-*.ring"):
            try:
                handle = open(path, "rb")  # noqa: SIM115 - closed below
            except FileNotFoundError:
                continue
            with handle:
                found.extend(self._parse(handle.fileno(), cleared_through))
        if hidden:
            found = [entry for entry in found if entry.id > hidden.get(entry.session or "", 0)]
        found.sort(key=lambda entry: entry.id)
        return found[-self.size :] if self.size else []

    def _hidden_through(self) -> dict[str, int]:
        """Per session ("" the default), the id through which `clear(session)` hid its entries."""
        try:
            return json.loads((self.directory / HIDDEN_FILE).read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def _parse(self, descriptor: int, cleared_through: int) -> list[JournalEntry]:
        """The entries of one ring, read slot by slot with `pread`.

        Not the whole file at once: a 20 MB bytes object per read made the allocator keep that
        much memory per thread; nor mapped: the reader's memory then counted every page touched.
        """
        found = []
        size = os.fstat(descriptor).st_size
        for start in range(0, size - self._HEADER + 1, self.SLOT_BYTES):
            header = os.pread(descriptor, self._HEADER, start)
            entry_id = int.from_bytes(header[:8], "little")
            if entry_id <= cleared_through:
                continue
            length = int.from_bytes(header[8:12], "little")
            try:
                fields = json.loads(os.pread(descriptor, length, start + self._HEADER))
            except ValueError:  # being written while read
                continue
            if os.pread(descriptor, 8, start) == header[:8]:  # not rewritten meanwhile
                found.append(
                    JournalEntry(
                        entry_id,
                        *fields[:10],
                        response=fields[10] if len(fields) > 10 else None,
                        session=fields[11] if len(fields) > 11 else None,
                    )
                )
        return found

    def __len__(self) -> int:
        return len(self._read())

    def clear(self, session: str | None = None) -> int:
        entries = self._read()
        mine = [entry for entry in entries if entry.session == session]
        if len(mine) == len(entries):
            self._clock.clear()
            return len(mine)
        if mine:  # other sessions' entries stay: this session's are hidden, in every worker
            path = self.directory / HIDDEN_FILE
            with open(self.directory / f"{HIDDEN_FILE}.lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                hidden = self._hidden_through()
                hidden[session or ""] = max(hidden.get(session or "", 0), mine[-1].id)
                staged = path.with_suffix(f".{os.getpid()}")
                staged.write_text(json.dumps(hidden))
                staged.replace(path)
        return len(mine)

    def entries(self) -> list[JournalEntry]:
        return self._read()

    def close(self) -> None:
        if self._ring is not None and self._ring[0] == os.getpid():
            self._ring[1].close()
        self._ring = None


_ENCODER = json.JSONEncoder(separators=(",", ":"))


def response_json_of(response: Any, status: int, fault: str | None, method: str) -> bytes | None:
    """The JSON of an answer the pipeline built (one bytes item, `direct_passthrough`), to journal;
    None when it is larger than MAX_BODY_BYTES, garbled on purpose or never sent (HEAD)."""
    if not status or fault is not None or method == "HEAD":
        return None
    parts = getattr(response, "response", None)
    if not isinstance(parts, list) or len(parts) != 1 or not isinstance(parts[0], bytes):
        return None
    data = parts[0]
    return data if 0 < len(data) <= MAX_BODY_BYTES else None


def _parsed(response: Any) -> Any:
    if isinstance(response, bytes):
        try:
            return orjson.loads(response)
        except orjson.JSONDecodeError:
            return None
    return response


def _encode(fields: list[Any]) -> bytes:
    """JSON in UTF-8 with orjson; a lone surrogate (which orjson refuses) escaped by the json module."""
    try:
        return orjson.dumps(fields)
    except TypeError:  # orjson.JSONEncodeError
        return _ENCODER.encode(fields).encode("ascii")


_UNWRITTEN_ID = bytes(8)


class _SharedClock:
    """The journal's time base, shared by the workers through a small mapped file.

    Bytes 0-7: `time.monotonic_ns()` when the first process opened it (the server's start);
    bytes 8-15: the id up to which `clear` hid the entries.
    """

    def __init__(self, path: Path):
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            os.ftruncate(descriptor, 16)
            os.pwrite(descriptor, time.monotonic_ns().to_bytes(8, "little"), 0)
        except FileExistsError:
            descriptor = os.open(path, os.O_RDWR)
        try:
            self._map = mmap.mmap(descriptor, 16)
        finally:
            os.close(descriptor)
        self._start = int.from_bytes(self._map[:8], "little")

    def now(self) -> int:
        """Nanoseconds since the server started (at least 1)."""
        return max(1, time.monotonic_ns() - self._start)

    def cleared_through(self) -> int:
        return int.from_bytes(self._map[8:16], "little")

    def clear(self) -> None:
        self._map[8:16] = self.now().to_bytes(8, "little")
