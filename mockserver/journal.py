"""The request journal: what clients sent and what the mock answered, in a bounded ring.

A CI job checks its code against the journal (`GET /__mock/requests`), so every platform request
is recorded. Recording must stay cheap on the hot path: one small slotted object appended to a
`deque(maxlen=N)` (atomic under the GIL, so no lock), with all formatting left to read time.
Memory stays flat under load because the oldest entries fall off the ring.
"""

from __future__ import annotations

import fnmatch
import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
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
