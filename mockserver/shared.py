"""What the worker processes of `refund-mock serve --workers N` share besides the order state.

Orders and refunds already live in one SQLite file. A CI job also expects the admin API to act on
the whole server, whichever worker its request reaches: a scenario loaded at run time answers on
every worker, `times: 1` answers once per server, the journal lists every request, and a reset
resets all of it. So these live in a run folder the parent process creates before it starts the
workers (see `mockserver.wsgi`):

- `coordination.sqlite3`: the run-time scenario documents, the rule counters and the journal
  (`mockserver.journal.SharedJournal`);
- `generation`: 8 bytes, mapped into every worker, that change whenever the run-time scenarios
  do. A request reads them (well under a microsecond) and reloads the scenarios only when they
  moved, so scenarios cost nothing per request while nobody changes them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mockserver.scenarios import Catalog, Rule, Scenario, ScenarioBook
from mockserver.store import MappedCounter

COORDINATION_FILE = "coordination.sqlite3"
GENERATION_FILE = "generation"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runtime_scenarios (
    name     TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    entry    TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS rule_counts (
    scenario TEXT    NOT NULL,
    rule     INTEGER NOT NULL,
    seen     INTEGER NOT NULL,
    answered INTEGER NOT NULL,
    PRIMARY KEY (scenario, rule)
);
CREATE TABLE IF NOT EXISTS scenario_switches (
    name   TEXT PRIMARY KEY,
    active INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


def next_count(connection: sqlite3.Connection, name: str) -> int:
    """Inside a write transaction: the next value of one of the coordination database's counters
    (1 the first time): generations, and the positions that keep run-time scenarios in order."""
    return connection.execute(
        "INSERT INTO counters (name, value) VALUES (?, 1) "
        "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
        (name,),
    ).fetchone()[0]


class Coordination:
    """The run folder's database and generation counter, with one connection per thread."""

    def __init__(self, run_dir: str | os.PathLike[str]):
        self.run_dir = Path(run_dir)
        self.database = self.run_dir / COORDINATION_FILE
        self._local = threading.local()
        self._connection().executescript(_SCHEMA)
        self._generation = MappedCounter(self.run_dir / GENERATION_FILE)

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            connection = sqlite3.connect(self.database, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA cache_size=-256")  # a few small tables; one connection per thread
            self._local.connection = connection
            self._local.pid = os.getpid()
        return connection

    def execute(self, sql: str, arguments: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self._connection().execute(sql, tuple(arguments))

    def transaction(self) -> _Transaction:
        return _Transaction(self._connection())

    def generation(self) -> int:
        return self._generation.value()

    @staticmethod
    def next_generation(connection: sqlite3.Connection) -> int:
        """Inside a write transaction: a new generation number for the run-time scenarios."""
        return next_count(connection, "generation")

    def announce(self, generation: int) -> None:
        """After the commit: let every worker see the new generation."""
        # Numbers are never reused, and a reader compares with the value it read before it last
        # loaded, so a late, out-of-order write only costs an extra reload, never a missed one.
        self._generation.publish(generation)

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


class _Transaction:
    """`with coordination.transaction() as connection:` one immediate (write-locked) transaction."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        self.connection.execute("BEGIN IMMEDIATE")
        return self.connection

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.connection.execute("ROLLBACK" if kind is not None else "COMMIT")


class SharedCounter:
    """Rule counters in the coordination database: `times` and `after` count server-wide."""

    def __init__(self, coordination: Coordination):
        self.coordination = coordination

    def claim(self, rule: Rule) -> bool:
        first = 1 if _may_answer(1, rule) else 0
        seen = self.coordination.execute(
            "INSERT INTO rule_counts (scenario, rule, seen, answered) VALUES (?, ?, 1, ?) "
            "ON CONFLICT (scenario, rule) DO UPDATE SET seen = seen + 1, answered = answered + "
            "(seen + 1 > ? AND (? IS NULL OR seen + 1 <= ?)) RETURNING seen",
            (rule.scenario, rule.index, first, rule.after, rule.times, rule.after + (rule.times or 0)),
        ).fetchone()[0]
        return _may_answer(seen, rule)

    def answered(self, rule: Rule) -> int:
        row = self.coordination.execute(
            "SELECT answered FROM rule_counts WHERE scenario = ? AND rule = ?", (rule.scenario, rule.index)
        ).fetchone()
        return row[0] if row else 0


def _may_answer(seen: int, rule: Rule) -> bool:
    """What `Rule.claim` decides for the `seen`-th matching request."""
    return seen > rule.after and (rule.times is None or seen <= rule.after + rule.times)


class SharedScenarioBook(ScenarioBook):
    """A `ScenarioBook` whose run-time scenarios and counters are the same in every worker.

    Admin calls change the coordination database first, then this worker's copy; other workers
    notice the new generation at their next request (`sync`) and load the run-time set again.
    """

    def __init__(self, catalog: Catalog, coordination: Coordination):
        self.coordination = coordination
        self._sync_lock = threading.Lock()
        super().__init__(catalog, counter=SharedCounter(coordination))
        self._seen_generation = coordination.generation()
        self._reload()

    def sync(self) -> None:
        """Called on every request: reload the run-time scenarios if another worker changed them."""
        if self.coordination.generation() != self._seen_generation:
            with self._sync_lock:
                if self.coordination.generation() != self._seen_generation:
                    self._seen_generation = self.coordination.generation()
                    self._reload()

    def _reload(self) -> None:
        rows = self.coordination.execute("SELECT entry FROM runtime_scenarios ORDER BY position").fetchall()
        entries = [json.loads(row[0]) for row in rows]
        self.replace_runtime(self.compiler.document({"scenarios": entries}, "runtime") if entries else [])
        switches = self.coordination.execute("SELECT name, active FROM scenario_switches").fetchall()
        self.replace_activation({name: bool(active) for name, active in switches})

    def set_active(self, name: str, active: bool) -> Scenario | None:
        if self.get(name) is None:
            return None
        with self.coordination.transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO scenario_switches (name, active) VALUES (?, ?)", (name, int(active))
            )
            generation = self.coordination.next_generation(connection)
        self.coordination.announce(generation)
        self.sync()
        return self.get(name)

    def add_runtime(self, document: Any) -> list[Scenario]:
        scenarios = self.compiler.document(document, "runtime")  # refuses a bad document before any change
        entries = document.get("scenarios", [document])
        with self.coordination.transaction() as connection:
            for entry in entries:
                position = next_count(connection, "position")
                connection.execute(
                    "INSERT OR REPLACE INTO runtime_scenarios (name, position, entry) VALUES (?, ?, ?)",
                    (entry["name"], position, json.dumps(entry)),
                )
                connection.execute("DELETE FROM rule_counts WHERE scenario = ?", (entry["name"],))
                connection.execute("DELETE FROM scenario_switches WHERE name = ?", (entry["name"],))
            generation = self.coordination.next_generation(connection)
        self.coordination.announce(generation)
        self.sync()
        return scenarios

    def remove_runtime(self, name: str | None = None) -> list[str]:
        with self.coordination.transaction() as connection:
            if name is None:
                removed = [row[0] for row in connection.execute("SELECT name FROM runtime_scenarios ORDER BY position")]
                connection.execute("DELETE FROM runtime_scenarios")
            else:
                gone = connection.execute("DELETE FROM runtime_scenarios WHERE name = ?", (name,)).rowcount
                removed = [name] if gone else []
            for scenario_name in removed:
                connection.execute("DELETE FROM rule_counts WHERE scenario = ?", (scenario_name,))
            generation = self.coordination.next_generation(connection)
        self.coordination.announce(generation)
        self.sync()
        return removed

    def reset(self) -> None:
        """Run-time scenarios gone and every counter at zero, in every worker."""
        with self.coordination.transaction() as connection:
            connection.execute("DELETE FROM runtime_scenarios")
            connection.execute("DELETE FROM scenario_switches")
            connection.execute("DELETE FROM rule_counts")
            generation = self.coordination.next_generation(connection)
        self.coordination.announce(generation)
        self.sync()
        for scenario in self.all():
            for rule in scenario.rules:
                rule.reset()
