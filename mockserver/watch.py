"""`serve --watch`: fixture folders and scenario files reloaded when they change.

A frontend team keeps the mock running all day and edits an order or a scenario beside it; a
restart would lose every other order's refunds. So the server watches:

- an order file under the fixtures folder (`<platform>/orders/<id>.json`), added or edited,
  replaces that order in the default state: the order as the file now has it, with the refunds
  the file lists, and the refunds made since start-up go with the old version (a reset brings
  back this new version);
- a scenario file (`--scenarios`), edited, replaces the scenarios it defined (their call
  counters start again at zero); scenarios it no longer has are dropped.

A file that cannot be used (not JSON or YAML, rejected by the spec, half written) is reported in
the log and in `GET /__mock/health` (`watch.errors`: the file and the reason) and the last good
version stays served; the report goes when the file is fixed or removed. A removed file leaves
what it defined served until a restart. The server never stops because of an edit: every error
of a reload is caught and reported.

The events come from `watchfiles` (native inotify, FSEvents or ReadDirectoryChanges through its
Rust core, debounced, with a polling fallback for mounted folders: WATCHFILES_FORCE_POLLING=1),
in a thread: a polling thread of our own would wake the CPU for nothing and miss quick
successive saves in the same second on file systems with coarse modification times.

Under `--workers`, one watcher process (forked by `serve` before granian starts) does the
reloading. Orders live in the shared state file, so its replacements reach every worker at once.
Scenario documents and the error report go to the run folder's coordination database, and an
8-byte generation counter mapped into every worker (as for run-time scenarios, see
`mockserver.shared`) tells each worker, at its next request, to take them up.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.app import MockServer
    from mockserver.shared import Coordination

log = logging.getLogger("refund_mock.watch")

DEBOUNCE_MS = 300  # an editor's save (write, rename, chmod) arrives as one batch
RUST_TIMEOUT_MS = 200  # how often the loop wakes without changes (to notice a stop, or its parent gone)
READY_TIMEOUT = 30.0  # seconds `serve` waits for the watches to be in place before it answers
GENERATION_FILE = "watch-generation"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS watch_scenarios (
    file     TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS watch_report (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass
class WatchReport:
    """What `GET /__mock/health` says about the watched files (`watch`).

    Written by the watch thread while requests read it: `errors` is replaced, never changed in
    place, so a reader iterates a dictionary nobody writes to.
    """

    reloads: int = 0  # files taken up since start-up
    errors: dict[str, str] = field(default_factory=dict)  # file -> why its last version was refused

    def refuse(self, file: str, reason: str) -> None:
        self.errors = {**self.errors, file: reason}

    def taken_up(self, file: str) -> None:
        self.forget(file)
        self.reloads += 1

    def forget(self, file: str) -> bool:
        if file not in self.errors:
            return False
        self.errors = {name: reason for name, reason in self.errors.items() if name != file}
        return True

    def summary(self) -> dict[str, Any]:
        errors = [{"file": file, "reason": reason} for file, reason in sorted(self.errors.items())]
        return {"reloads": self.reloads, "errors": errors}

    def as_text(self) -> str:
        return json.dumps({"reloads": self.reloads, "errors": self.errors})

    def load_text(self, text: str) -> None:
        saved = json.loads(text)
        self.reloads, self.errors = int(saved["reloads"]), dict(saved["errors"])


class Reloader:
    """Takes changed files up into a server; never raises for a file's content."""

    def __init__(
        self,
        server: MockServer,
        fixtures_dir: Path,
        scenario_files: Iterable[Path],
        shared: Coordination | None = None,
    ):
        self.server = server
        self.fixtures_dir = fixtures_dir.resolve()
        self.scenario_files = {Path(path).resolve(): Path(path) for path in scenario_files}
        self.shared = shared
        self.report = server.watch_report or WatchReport()
        server.watch_report = self.report
        self._digests: dict[Path, str] = {}  # what was last taken up, so a save without change costs nothing
        if shared is not None:
            _create_schema(shared)

    def watched_folders(self) -> list[Path]:
        """Each platform's folder (for `orders.ndjson`) and `orders` folder, and the folders of the
        scenario files (editors save by renaming, which a watch on the file itself would lose).
        Not recursive: a scenario file at a project's root must not watch every folder below it."""
        folders = {self.fixtures_dir / name / "orders" for name in self.server.platforms}
        folders |= {self.fixtures_dir / name for name in self.server.platforms}
        folders |= {path.parent for path in self.scenario_files}
        return sorted(folder for folder in folders if folder.is_dir())

    def wanted(self, path: Path) -> bool:
        """Whether a changed path is one the server serves (not a swap file, not a temporary copy)."""
        path = path.resolve()
        return path in self.scenario_files or self._platform_of(path) is not None

    def _platform_of(self, path: Path) -> str | None:
        """The platform of an order file, in the layouts `fixture_files.order_files` reads."""
        from mockserver.fixture_files import STREAM_SUFFIX, SUFFIXES

        try:
            parts = path.relative_to(self.fixtures_dir).parts
        except ValueError:
            return None
        if not parts or parts[0] not in self.server.platforms or parts[-1].startswith("."):
            return None
        if len(parts) == 2:
            return parts[0] if parts[1] == f"orders{STREAM_SUFFIX}" else None
        if len(parts) == 3 and parts[1] == "orders":
            return parts[0] if path.suffix in SUFFIXES else None
        return None

    def apply(self, changed: Iterable[Path]) -> None:
        """Take up every changed file; each one's failure is reported, never raised."""
        touched = False
        for path in sorted({Path(path) for path in changed}):
            resolved = path.resolve()
            try:
                if resolved in self.scenario_files:
                    touched = self._scenario_file(resolved, self.scenario_files[resolved]) or touched
                else:
                    platform = self._platform_of(resolved)
                    if platform is not None:
                        touched = self._order_file(platform, resolved) or touched
            except Exception as error:  # the server never stops because of an edit
                log.exception("watch: %s could not be taken up", path)
                touched = self._refuse(str(path), f"{type(error).__name__}: {error}") or touched
        if touched and self.shared is not None:
            self._publish_report()

    # -- the two kinds of file ------------------------------------------------------------------

    def _changed(self, path: Path, data: bytes) -> bool:
        digest = hashlib.sha256(data).hexdigest()
        if self._digests.get(path) == digest:
            return False
        self._digests[path] = digest
        return True

    def _order_file(self, platform_name: str, path: Path) -> bool:
        """Take up the orders of one file (JSON, YAML or ndjson, read as at start-up)."""
        from mockserver.fixture_files import documents

        shown = str(path.relative_to(self.fixtures_dir))
        if not path.exists():
            self._digests.pop(path, None)
            log.warning("watch: %s was removed; its orders stay served until a restart", shown)
            return self._forget(shown)
        if not self._changed(path, path.read_bytes()):
            return False
        platform = self.server.platforms[platform_name]
        loaded: list[tuple[int, dict[str, Any]]] = []
        for entry in documents(path):
            where = entry.location.replace(str(path), shown, 1)
            if entry.error is not None:
                reason = entry.error.replace(str(path), shown, 1).removeprefix(f"{where}: ")
                return self._refuse(shown, self._stays(where, shown, reason))
            violations = self.server.fixture_violations(platform, entry.document)
            if violations:
                first = violations[0]
                return self._refuse(shown, self._stays(where, shown, f"{first.field or '(document)'}: {first.message}"))
            loaded.append((platform.read_fixture(entry.document).order_id, entry.document))
        # every document is good: only then is anything replaced, so a file is taken up whole or not at
        # all; an order whose document is the one already loaded (an ndjson file's other lines) keeps
        # its refunds
        replaced = []
        store = self.server.store
        for order_id, document in loaded:
            if store.baseline_text(platform_name, order_id) == json.dumps(platform.read_fixture(document).document):
                continue
            self.server.load_order(platform, document, baseline=True)
            replaced.append(order_id)
            self._warn_inconsistent(platform, where=shown, document=document)
        if not replaced:
            return self._forget(shown)
        shown_ids = ", ".join(str(order_id) for order_id in replaced[:5]) + (" ..." if len(replaced) > 5 else "")
        log.warning("watch: %s reloaded: %s order %s replaced, with its refunds", shown, platform_name, shown_ids)
        return self._taken_up(shown)

    @staticmethod
    def _stays(where: str, shown: str, reason: str) -> str:
        line = f"{where.removeprefix(shown + ':')}: " if where != shown else ""
        return f"{'line ' + line if line else ''}{reason}; the last good version stays served"

    def _warn_inconsistent(self, platform: Any, *, where: str, document: Any) -> None:
        """Served as at start-up, with a warning in the log, when its figures do not add up."""
        consistency = getattr(platform, "consistency", None)
        problems = consistency(document) if consistency is not None else []
        if problems:
            field_name, reason = problems[0]
            log.warning("watch: %s served, but it fails the consistency rules: %s: %s", where, field_name, reason)

    def _scenario_file(self, path: Path, given: Path) -> bool:
        from mockserver.scenarios import ScenarioError, read_yaml

        shown = str(given)
        if not path.exists():
            self._digests.pop(path, None)
            log.warning("watch: %s was removed; its scenarios stay loaded until a restart", shown)
            return self._forget(shown)
        if not self._changed(path, path.read_bytes()):
            return False
        book = self.server.scenarios
        try:
            document = read_yaml(path)
            scenarios = book.compiler.document(document, "file", path.name)
        except ScenarioError as error:
            reason = error.message.removeprefix(f"{path.name}: ")
            return self._refuse(shown, f"{reason}; the last good version stays loaded")
        if self.shared is None:
            book.replace_file(path.name, scenarios)
        else:
            store_scenario_document(self.shared, path.name, document, [scenario.name for scenario in scenarios])
        names = ", ".join(scenario.name for scenario in scenarios) or "none"
        log.warning("watch: %s reloaded: scenarios %s", shown, names)
        return self._taken_up(shown)

    # -- the report ----------------------------------------------------------------------------

    def _refuse(self, shown: str, reason: str) -> bool:
        log.error("watch: %s refused: %s", shown, reason)
        self.report.refuse(shown, reason)
        return True

    def _taken_up(self, shown: str) -> bool:
        self.report.taken_up(shown)
        return True

    def _forget(self, shown: str) -> bool:
        return self.report.forget(shown)

    def _publish_report(self) -> None:
        assert self.shared is not None
        with self.shared.transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO watch_report (name, value) VALUES ('report', ?)", (self.report.as_text(),)
            )
        announce(self.shared)


# -- under --workers: the watcher process publishes, every worker follows ------------------------


def _create_schema(coordination: Coordination) -> None:
    with coordination.transaction() as connection:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                connection.execute(statement)


def store_scenario_document(coordination: Coordination, file: str, document: Any, names: list[str]) -> None:
    """A scenario file's good version, for the workers; its rules count again from zero."""
    _create_schema(coordination)
    with coordination.transaction() as connection:
        old = connection.execute("SELECT name FROM watch_scenarios WHERE file = ?", (file,)).fetchone()
        previous = json.loads(old[0]) if old else []
        connection.execute(
            "INSERT OR REPLACE INTO watch_scenarios (file, name, document) VALUES (?, ?, ?)",
            (file, json.dumps(names), json.dumps(document)),
        )
        for name in {*previous, *names}:
            connection.execute("DELETE FROM rule_counts WHERE scenario = ?", (name,))
    announce(coordination)


def seed_shared(server: MockServer, scenario_files: Iterable[Path]) -> None:
    """Before the workers start: the scenario files as start-up loaded them, which workers take up."""
    from mockserver.scenarios import read_yaml

    coordination = server.scenarios.coordination  # type: ignore[attr-defined]
    for path in scenario_files:
        document = read_yaml(Path(path))  # loaded at start-up already, so known to be good
        scenarios = server.scenarios.compiler.document(document, "file", Path(path).name)
        store_scenario_document(coordination, Path(path).name, document, [scenario.name for scenario in scenarios])


def _generation_map(coordination: Coordination) -> mmap.mmap:
    descriptor = os.open(coordination.run_dir / GENERATION_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(descriptor).st_size < 8:
            os.ftruncate(descriptor, 8)
        return mmap.mmap(descriptor, 8)
    finally:
        os.close(descriptor)


def announce(coordination: Coordination) -> None:
    """After a commit: every worker takes up the watched files again at its next request."""
    generation = _generation_map(coordination)
    try:
        generation[:8] = (int.from_bytes(generation[:8], "little") + 1).to_bytes(8, "little")
    finally:
        generation.close()


class Follower:
    """In a worker: the watcher process's scenario documents and report, taken up when they change."""

    def __init__(self, server: MockServer, coordination: Coordination):
        self.server = server
        self.coordination = coordination
        _create_schema(coordination)
        self._generation = _generation_map(coordination)
        self._seen = b""  # the generation taken up last, as the 8 bytes it is stored in
        self._documents: dict[str, str] = {}
        self._lock = threading.Lock()
        server.watch_report = server.watch_report or WatchReport()

    def sync(self) -> None:
        """Called before every request: a read of 8 mapped bytes while nothing changed."""
        if self._generation[:8] == self._seen:
            return
        with self._lock:
            generation = self._generation[:8]
            if generation == self._seen:
                return
            self._take_up()
            self._seen = generation

    def _take_up(self) -> None:
        book = self.server.scenarios
        for file, text in self.coordination.execute("SELECT file, document FROM watch_scenarios").fetchall():
            if self._documents.get(file) != text:
                book.replace_file(file, book.compiler.document(json.loads(text), "file", file))
                self._documents[file] = text
        row = self.coordination.execute("SELECT value FROM watch_report WHERE name = 'report'").fetchone()
        if row is not None and self.server.watch_report is not None:
            self.server.watch_report.load_text(row[0])


def follow(app: Any) -> Follower:
    """In a worker of `serve --watch --workers N`: take up the watcher's changes before each request."""
    from mockserver.app import server_of
    from mockserver.shared import Coordination

    server = server_of(app)
    assert server.config.run_dir is not None
    follower = Follower(server, Coordination(server.config.run_dir))
    follower.sync()  # the scenario files' last good versions, before the first request
    app.before_request(follower.sync)
    return follower


# -- running the watch ---------------------------------------------------------------------------


def watch_loop(reloader: Reloader, stop: threading.Event, still_wanted: Any = None, ready: Any = None) -> None:
    """Apply each batch of changes until `stop` is set (or `still_wanted()` turns false).

    `ready` (an event) is set once the folders are watched: its first yield, empty after
    `RUST_TIMEOUT_MS` without changes, comes after the watches are in place, so `serve` can wait
    for it before it answers, and an edit made right after start-up is never missed.
    """
    from watchfiles import watch

    folders = reloader.watched_folders()
    if not folders:
        log.warning("watch: nothing to watch")
        if ready is not None:
            ready.set()
        return
    log.warning("watch: watching %s", ", ".join(str(folder) for folder in folders))
    for changes in watch(
        *folders,
        watch_filter=lambda _change, path: reloader.wanted(Path(path)),
        debounce=DEBOUNCE_MS,
        stop_event=stop,
        rust_timeout=RUST_TIMEOUT_MS,
        yield_on_timeout=True,
        raise_interrupt=False,
        recursive=False,
    ):
        if ready is not None and not ready.is_set():
            ready.set()
        if still_wanted is not None and not still_wanted():
            return
        if changes:
            reloader.apply(Path(path) for _change, path in changes)


def start_thread(server: MockServer, fixtures_dir: Path, scenario_files: Iterable[Path]) -> threading.Event:
    """Single process: the watch in a daemon thread of the server, watching when this returns;
    set the event returned to stop it."""
    reloader = Reloader(server, fixtures_dir, scenario_files)
    stop, ready = threading.Event(), threading.Event()
    arguments = (reloader, stop, None, ready)
    threading.Thread(target=_guarded, args=arguments, name="refund-mock-watch", daemon=True).start()
    ready.wait(READY_TIMEOUT)
    return stop


def _guarded(reloader: Reloader, stop: threading.Event, still_wanted: Any = None, ready: Any = None) -> None:
    try:
        watch_loop(reloader, stop, still_wanted, ready)
    except Exception:  # the watch may end; the server goes on serving
        log.exception("watch: stopped watching after an error; restart the server to watch again")
    finally:
        if ready is not None:
            ready.set()  # nobody waits for a watch that ended


def run_watcher_process(
    settings: str, fixtures_dir: Path, scenario_files: list[Path], parent: int, ready: Any = None
) -> None:
    """Under `--workers`: the watcher process's body, until the `serve` process that forked it ends."""
    from mockserver.app import create_app, server_of
    from mockserver.shared import Coordination
    from mockserver.wsgi import worker_config

    config = worker_config(settings)[0]
    config.scenario_files = []  # compiled from the files themselves, as they change
    config.journal_size = 0
    server = server_of(create_app(config))
    reloader = Reloader(server, fixtures_dir, scenario_files, shared=Coordination(config.run_dir))
    _guarded(reloader, threading.Event(), still_wanted=lambda: os.getppid() == parent, ready=ready)
