"""Isolated sessions: many clients on one server, each with state of its own.

A request names its session with the `X-Mock-Session` header, or, for clients that cannot add a
header, with a path prefix: `/__session/<name>/admin/api/2020-10/...` is the platform path after
the prefix. A named session sees the loaded fixtures; its refunds and order changes
(`mockserver.session_store`), journal entries, active scenarios and rule counters, and rate-limit
buckets are its own. It is created on first use and dropped after `serve --session-idle` seconds
without a request. A request that names no session acts on the default session, as before
sessions existed: the only cost on that path is one environ lookup.

Under `serve --workers N` everything a session holds is where every worker sees it: its orders
and the registry (name, created, last used, counts) in the state database, its run-time
scenarios, switches and rule counters in the run folder's coordination database, its journal
entries in the shared journal, its buckets in the shared rate-limit table.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mockserver.scenarios import CallCounter, Rule, Scenario, ScenarioBook
from mockserver.session_store import SessionStore
from mockserver.shared import next_count
from mockserver.store import MappedCounter

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from mockserver.shared import Coordination
    from mockserver.store import Store

HEADER = "X-Mock-Session"
PREFIX = "/__session/"
SESSION_KEY = "refund_mock.session"  # environ: the session's name (str), or a SessionProblem
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
NAME_RULE = "1-64 characters: letters, digits, `.`, `_` and `-`, starting with a letter or a digit"
DEFAULT_IDLE_SECONDS = 3600.0
# A process records the use of its sessions in the registry at most this often (a new session
# at once): the registry's `last_used` and `requests` may lag this much behind across workers.
TOUCH_SECONDS = 1.0
GENERATION_FILE = "session-generation"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS session_runtime_scenarios (
    session  TEXT    NOT NULL,
    name     TEXT    NOT NULL,
    position INTEGER NOT NULL,
    entry    TEXT    NOT NULL,
    PRIMARY KEY (session, name)
);
CREATE TABLE IF NOT EXISTS session_switches (
    session TEXT    NOT NULL,
    name    TEXT    NOT NULL,
    active  INTEGER NOT NULL,
    PRIMARY KEY (session, name)
);
CREATE TABLE IF NOT EXISTS session_rule_counts (
    session  TEXT    NOT NULL,
    scenario TEXT    NOT NULL,
    rule     INTEGER NOT NULL,
    seen     INTEGER NOT NULL,
    answered INTEGER NOT NULL,
    PRIMARY KEY (session, scenario, rule)
);
"""


class SessionProblem:
    """Why the session a request named cannot be used (the request is answered 400)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


def problem_with(name: str) -> str | None:
    """Why `name` is not a session name, or None when it is one."""
    if NAME.fullmatch(name):
        return None
    if not name:
        return "is empty; name a session (" + NAME_RULE + ")"
    return f"{name[:80]!r} is not a session name: {NAME_RULE}"


def session_of(environ: WSGIEnvironment) -> str | SessionProblem | None:
    """The session a request names (prefix or header), after taking the prefix off its path."""
    path: str = environ.get("PATH_INFO", "")
    header = environ.get("HTTP_X_MOCK_SESSION")
    if not path.startswith(PREFIX):
        if header is None:
            return None
        name = header.strip()
    else:
        name, slash, rest = path[len(PREFIX) :].partition("/")
        environ["PATH_INFO"] = slash + rest if slash else "/"
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + PREFIX + name
        if header is not None and header.strip() != name:
            return SessionProblem(f"names {header.strip()[:80]!r} but the path names {name[:80]!r}; name one session")
    reason = problem_with(name)
    return name if reason is None else SessionProblem(reason)


class SessionMiddleware:
    """Outermost WSGI layer: notes the named session in the environ and takes the prefix off the path,
    so the guard, CORS and the routes see the platform path."""

    def __init__(self, app: WSGIApplication):
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        if "HTTP_X_MOCK_SESSION" in environ or environ.get("PATH_INFO", "").startswith(PREFIX):
            environ[SESSION_KEY] = session_of(environ)
        return self.app(environ, start_response)


def install_sessions(app: Any) -> None:
    app.wsgi_app = SessionMiddleware(app.wsgi_app)


# -- scenarios per session -----------------------------------------------------------------------


def _may_answer(seen: int, rule: Rule) -> bool:
    return seen > rule.after and (rule.times is None or seen <= rule.after + rule.times)


class LocalCounter:
    """A session's rule counters in this process."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], tuple[int, int]] = {}
        self._lock = threading.Lock()

    def claim(self, rule: Rule) -> bool:
        key = (rule.scenario, rule.index)
        with self._lock:
            seen, answered = self._counts.get(key, (0, 0))
            allowed = _may_answer(seen + 1, rule)
            self._counts[key] = (seen + 1, answered + allowed)
        return allowed

    def answered(self, rule: Rule) -> int:
        return self._counts.get((rule.scenario, rule.index), (0, 0))[1]

    def forget(self, scenario: str | None = None) -> None:
        with self._lock:
            if scenario is None:
                self._counts.clear()
            else:
                for key in [key for key in self._counts if key[0] == scenario]:
                    del self._counts[key]


class SharedSessionCounter:
    """A session's rule counters in the coordination database (`serve --workers N`)."""

    def __init__(self, coordination: Coordination, session: str):
        self.coordination = coordination
        self.session = session

    def claim(self, rule: Rule) -> bool:
        seen = self.coordination.execute(
            "INSERT INTO session_rule_counts (session, scenario, rule, seen, answered) VALUES (?, ?, ?, 1, ?) "
            "ON CONFLICT (session, scenario, rule) DO UPDATE SET seen = seen + 1, answered = answered + "
            "(seen + 1 > ? AND (? IS NULL OR seen + 1 <= ?)) RETURNING seen",
            (
                self.session,
                rule.scenario,
                rule.index,
                int(_may_answer(1, rule)),
                rule.after,
                rule.times,
                rule.after + (rule.times or 0),
            ),
        ).fetchone()[0]
        return _may_answer(seen, rule)

    def answered(self, rule: Rule) -> int:
        row = self.coordination.execute(
            "SELECT answered FROM session_rule_counts WHERE session = ? AND scenario = ? AND rule = ?",
            (self.session, rule.scenario, rule.index),
        ).fetchone()
        return row[0] if row else 0


class SessionBook(ScenarioBook):
    """A named session's scenarios: the server's start-up set (the same compiled scenarios, followed
    when `serve --watch` changes them), with run-time scenarios, switches and counters of its own."""

    def __init__(self, parent: ScenarioBook, counter: CallCounter):
        self.parent = parent
        self._followed = -1
        super().__init__(parent.catalog)
        self.compiler = parent.compiler
        self.session_counter = counter
        self.problems = parent.problems
        self.follow()

    def follow(self) -> None:
        """Take up the parent's start-up set if it changed since (one comparison when it did not)."""
        if self._followed != self.parent.startup_version:
            with self._lock:
                self._followed = self.parent.startup_version
                self._startup = dict(self.parent._startup)
                self._publish()

    def add_runtime(self, document: Any) -> list[Scenario]:
        scenarios = super().add_runtime(document)
        for scenario in scenarios:
            self._forget_counts(scenario.name)
        return scenarios

    def remove_runtime(self, name: str | None = None) -> list[str]:
        removed = super().remove_runtime(name)
        for scenario in removed:
            self._forget_counts(scenario)
        return removed

    def reset(self) -> None:
        """The session's run-time scenarios and switches gone, its counters at zero (the server's
        rules, which other sessions share, are left alone)."""
        with self._lock:
            self._activation.clear()
            self._runtime.clear()
            self._publish()
        self._forget_counts(None)

    def _forget_counts(self, scenario: str | None) -> None:
        counter = self.session_counter
        if isinstance(counter, LocalCounter):
            counter.forget(scenario)


class SharedSessionBook(SessionBook):
    """A session's scenarios under `serve --workers N`: kept in the coordination database, reloaded
    by a worker when the session generation moved."""

    def __init__(self, parent: ScenarioBook, session: str, coordination: Coordination, generation: MappedCounter):
        self.session = session
        self.coordination = coordination
        self.generation = generation
        self._seen_generation = -1
        self._sync_lock = threading.Lock()
        super().__init__(parent, SharedSessionCounter(coordination, session))
        self.sync()

    def sync(self) -> None:
        current = self.generation.value()
        if current != self._seen_generation:
            with self._sync_lock:
                self._seen_generation = current
                rows = self.coordination.execute(
                    "SELECT entry FROM session_runtime_scenarios WHERE session = ? ORDER BY position", (self.session,)
                ).fetchall()
                entries = [json.loads(row[0]) for row in rows]
                ScenarioBook.replace_runtime(
                    self, self.compiler.document({"scenarios": entries}, "runtime") if entries else []
                )
                switches = self.coordination.execute(
                    "SELECT name, active FROM session_switches WHERE session = ?", (self.session,)
                ).fetchall()
                self.replace_activation({name: bool(active) for name, active in switches})

    def _changed(self, change: Callable[[Any], Any]) -> Any:
        with self.coordination.transaction() as connection:
            result = change(connection)
            generation = next_count(connection, "session-generation")
        self.generation.publish(generation)
        self.sync()
        return result

    def set_active(self, name: str, active: bool) -> Scenario | None:
        if self.get(name) is None:
            return None
        self._changed(
            lambda connection: connection.execute(
                "INSERT OR REPLACE INTO session_switches (session, name, active) VALUES (?, ?, ?)",
                (self.session, name, int(active)),
            )
        )
        return self.get(name)

    def add_runtime(self, document: Any) -> list[Scenario]:
        scenarios = self.compiler.document(document, "runtime")  # a bad document changes nothing
        entries = document.get("scenarios", [document])

        def store(connection: Any) -> None:
            for entry in entries:
                position = next_count(connection, "position")
                connection.execute(
                    "INSERT OR REPLACE INTO session_runtime_scenarios (session, name, position, entry) "
                    "VALUES (?, ?, ?, ?)",
                    (self.session, entry["name"], position, json.dumps(entry)),
                )
                for table, column in (("session_rule_counts", "scenario"), ("session_switches", "name")):
                    connection.execute(
                        f"DELETE FROM {table} WHERE session = ? AND {column} = ?", (self.session, entry["name"])
                    )

        self._changed(store)
        return scenarios

    def remove_runtime(self, name: str | None = None) -> list[str]:
        def remove(connection: Any) -> list[str]:
            rows = connection.execute(
                "SELECT name FROM session_runtime_scenarios WHERE session = ? ORDER BY position", (self.session,)
            ).fetchall()
            removed = [row[0] for row in rows if name is None or row[0] == name]
            for scenario in removed:
                connection.execute(
                    "DELETE FROM session_runtime_scenarios WHERE session = ? AND name = ?", (self.session, scenario)
                )
                connection.execute(
                    "DELETE FROM session_rule_counts WHERE session = ? AND scenario = ?", (self.session, scenario)
                )
            return removed

        return self._changed(remove)

    def reset(self) -> None:
        self._changed(lambda connection: _forget_session(connection, self.session))


def _forget_session(connection: Any, session: str) -> None:
    for table in ("session_runtime_scenarios", "session_switches", "session_rule_counts"):
        connection.execute(f"DELETE FROM {table} WHERE session = ?", (session,))


# -- the registry ----------------------------------------------------------------------------------


class _Session:
    """What this process keeps of a session it served: its store view and, once needed, its scenarios."""

    __slots__ = ("book", "store")

    def __init__(self, store: SessionStore):
        self.store = store
        self.book: SessionBook | None = None


class Sessions:
    """The named sessions of one server: made on first use, dropped when idle or asked to."""

    def __init__(
        self,
        store: Store,
        scenarios: ScenarioBook,
        journal: Any,
        rate_limits: Any,
        *,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        coordination: Coordination | None = None,
        clock: Callable[[], float] = time.time,
    ):
        if idle_seconds <= 0:
            raise ValueError(f"the session idle time must be positive seconds, not {idle_seconds}")
        self.store = store
        self.scenarios = scenarios
        self.journal = journal
        self.rate_limits = rate_limits
        self.idle_seconds = idle_seconds
        self.clock = clock  # epoch seconds; tests move it to expire sessions without waiting
        self.coordination = coordination
        self._generation: MappedCounter | None = None
        if coordination is not None:
            coordination._connection().executescript(_SCHEMA)
            self._generation = MappedCounter(coordination.run_dir / GENERATION_FILE)
        self._known: dict[str, _Session] = {}
        self._lock = threading.Lock()
        self._uses: dict[str, tuple[float, int]] = {}  # not yet in the registry: last used, requests
        self._touched = 0.0
        self._expiry_checked = 0.0

    def enter(self, name: str, *, counted: bool = True) -> _Session:
        """Note a request of session `name` (made if new; `counted`: a platform request, counted in
        `requests`) and return what this process keeps of it."""
        now = self.clock()
        session = self._known.get(name)
        with self._lock:
            _, count = self._uses.get(name, (0.0, 0))
            self._uses[name] = (now, count + counted)
        if session is None:
            with self._lock:
                session = self._known.setdefault(name, _Session(SessionStore(self.store, name)))
            self.touch()
        elif now - self._touched >= TOUCH_SECONDS:
            self.touch()
        if now - self._expiry_checked >= min(self.idle_seconds / 2, 60.0):
            self.expire()
        return session

    def touch(self) -> None:
        """Write the uses counted since the last touch into the shared registry."""
        with self._lock:
            uses, self._uses = self._uses, {}
            self._touched = self.clock()
        if uses:
            self.store.touch_sessions(uses)

    def store_of(self, name: str) -> SessionStore:
        session = self._known.get(name)
        return session.store if session is not None else SessionStore(self.store, name)

    def book(self, name: str, *, create: bool = True) -> ScenarioBook | None:
        """The session's scenarios; with `create=False`, None while the session would only see what a
        fresh session sees and nothing of it is active (no book to make: the common case)."""
        session = self._known.get(name)
        if session is None:
            with self._lock:
                session = self._known.setdefault(name, _Session(SessionStore(self.store, name)))
        book = session.book
        if book is None:
            if not (create or self.scenarios.startup_active or (self._generation and self._generation.value())):
                return None
            with self._lock:
                if session.book is None:
                    session.book = self._new_book(name)
                book = session.book
        book.follow()
        if isinstance(book, SharedSessionBook):
            book.sync()
        return book

    def _new_book(self, name: str) -> SessionBook:
        if self.coordination is not None and self._generation is not None:
            return SharedSessionBook(self.scenarios, name, self.coordination, self._generation)
        return SessionBook(self.scenarios, LocalCounter())

    def reset(self, name: str) -> None:
        """The session back to a fresh one: its writes, journal, scenarios and buckets gone."""
        self.store.clear_session(name, drop=False)
        self.journal.clear(session=name)
        book = self.book(name)
        if book is not None:
            book.reset()
        self.rate_limits.reset(name)

    def drop(self, name: str) -> bool:
        """Forget a session entirely; False when no such session is known."""
        self.touch()
        known = self.store.clear_session(name, drop=True)
        self.journal.clear(session=name)
        self.rate_limits.reset(name)
        if self.coordination is not None and self._generation is not None:
            with self.coordination.transaction() as connection:
                _forget_session(connection, name)
                generation = next_count(connection, "session-generation")
            self._generation.publish(generation)
        with self._lock:
            self._known.pop(name, None)
            self._uses.pop(name, None)
        return known

    def expire(self) -> list[str]:
        """Drop the sessions idle for longer than the idle time; returns their names."""
        self._expiry_checked = self.clock()
        self.touch()
        idle = self.store.idle_sessions(self._expiry_checked - self.idle_seconds)
        for name in idle:
            self.drop(name)
        return idle

    def listing(self) -> list[dict[str, Any]]:
        """Every live session with its figures, by name (idle ones are dropped first)."""
        self.expire()
        found = self.store.sessions()
        for entry in found:
            entry["created"] = _instant(entry["created"])
            entry["last_used"] = _instant(entry["last_used"])
        return found


def _instant(seconds: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
