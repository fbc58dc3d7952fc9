"""SQLite state: fixture orders, refunds and id sequences.

Each order is one JSON document (the platform's native fixture shape). A write reads the
document, lets the platform change it, and saves it under an optimistic version check, so
refunds on one order run one after another (each sees the state the previous one left),
while refunds on different orders never wait on each other's computation. The same holds
across worker processes sharing one database file in WAL mode.

Beside the database file SQLite keeps `-wal` and `-shm`, and the store keeps `-writes`, an
8-byte write count that lets every process reuse recently read orders until someone writes.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# Recently read orders kept parsed per process (see Store.get_order), up to this much stored JSON;
# parsed, a document takes about four times its text. A budget in bytes, not in orders, because
# documents grow with every refund, and memory must stay flat over a long run. 4 MiB holds the
# copies of some 200 orders with a refund each: a CI farm's 100 sessions, each working on its own
# copy of an order, are served from memory (at 1 MiB their copies pushed each other out, and every
# request decoded its order again: `scripts/bench sessions` measured 0.935 of the throughput and
# 4.7 % more CPU per request than no session; at 4 MiB, 1.005 and 0.988).
DOCUMENT_CACHE_BYTES = 4 << 20
SQLITE_MIN_INTEGER, SQLITE_MAX_INTEGER = -(1 << 63), (1 << 63) - 1  # what an INTEGER column holds

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    platform   TEXT    NOT NULL,
    order_id   INTEGER NOT NULL,
    store_hash TEXT,
    version    INTEGER NOT NULL DEFAULT 0,
    document   TEXT    NOT NULL,
    PRIMARY KEY (platform, order_id)
);
CREATE TABLE IF NOT EXISTS refunds (
    platform   TEXT    NOT NULL,
    refund_id  INTEGER NOT NULL,
    order_id   INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    document   TEXT    NOT NULL,
    PRIMARY KEY (platform, refund_id)
);
CREATE INDEX IF NOT EXISTS refunds_by_order ON refunds (platform, order_id, refund_id);
CREATE TABLE IF NOT EXISTS sequences (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS id_floors (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
-- What the order lists filter and sort on, per order: computed by the platform from the
-- document on every write (see `Store.listing_of`), so a list never decodes documents.
CREATE TABLE IF NOT EXISTS order_listing (
    platform   TEXT    NOT NULL,
    order_id   INTEGER NOT NULL,
    store_hash TEXT,
    created_at TEXT    NOT NULL,
    archived   INTEGER NOT NULL,
    facets     TEXT    NOT NULL,
    PRIMARY KEY (platform, order_id)
);
CREATE INDEX IF NOT EXISTS order_listing_by_created ON order_listing (platform, created_at, order_id);
CREATE TRIGGER IF NOT EXISTS order_listing_follows_deletes AFTER DELETE ON orders BEGIN
    DELETE FROM order_listing WHERE platform = old.platform AND order_id = old.order_id;
END;
CREATE TABLE IF NOT EXISTS idempotency (
    platform   TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    result     TEXT    NOT NULL,
    PRIMARY KEY (platform, key)
);
CREATE TABLE IF NOT EXISTS baseline (
    platform   TEXT    NOT NULL,
    order_id   INTEGER NOT NULL,
    store_hash TEXT,
    document   TEXT    NOT NULL,
    PRIMARY KEY (platform, order_id)
);
-- What a named session (mockserver.sessions) sees of an order it has not written: the baseline
-- document, its listing and the refunds it arrived with.
CREATE TABLE IF NOT EXISTS baseline_listing (
    platform   TEXT    NOT NULL,
    order_id   INTEGER NOT NULL,
    store_hash TEXT,
    created_at TEXT    NOT NULL,
    archived   INTEGER NOT NULL,
    facets     TEXT    NOT NULL,
    PRIMARY KEY (platform, order_id)
);
CREATE TABLE IF NOT EXISTS baseline_refunds (
    platform   TEXT    NOT NULL,
    refund_id  INTEGER NOT NULL,
    order_id   INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    document   TEXT    NOT NULL,
    PRIMARY KEY (platform, refund_id)
);
CREATE INDEX IF NOT EXISTS baseline_refunds_by_order ON baseline_refunds (platform, order_id);
-- Named sessions, copy on write: an order a session changed, with its listing and refunds, and the
-- session's idempotency keys; everything else it reads from the baseline.
CREATE TABLE IF NOT EXISTS sessions (
    name            TEXT PRIMARY KEY,
    created         REAL    NOT NULL,
    last_used       REAL    NOT NULL,
    requests        INTEGER NOT NULL DEFAULT 0,
    orders_written  INTEGER NOT NULL DEFAULT 0,
    refunds_written INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS session_orders (
    session    TEXT    NOT NULL,
    platform   TEXT    NOT NULL,
    order_id   INTEGER NOT NULL,
    store_hash TEXT,
    version    INTEGER NOT NULL,
    document   TEXT    NOT NULL,
    PRIMARY KEY (session, platform, order_id)
);
CREATE TABLE IF NOT EXISTS session_listing (
    session    TEXT    NOT NULL,
    platform   TEXT    NOT NULL,
    order_id   INTEGER NOT NULL,
    store_hash TEXT,
    created_at TEXT    NOT NULL,
    archived   INTEGER NOT NULL,
    facets     TEXT    NOT NULL,
    PRIMARY KEY (session, platform, order_id)
);
CREATE TABLE IF NOT EXISTS session_refunds (
    session    TEXT    NOT NULL,
    platform   TEXT    NOT NULL,
    refund_id  INTEGER NOT NULL,
    order_id   INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    document   TEXT    NOT NULL,
    PRIMARY KEY (session, platform, refund_id)
);
CREATE TABLE IF NOT EXISTS session_idempotency (
    session    TEXT    NOT NULL,
    platform   TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    result     TEXT    NOT NULL,
    PRIMARY KEY (session, platform, key)
);
-- Items held inside order documents (a line item, a transaction) by id, for lookups by an item's id
-- (GraphQL's `node(id:)`): only the arrays named in held_paths are indexed. The first lookup along
-- a path adds it and fills it in from every stored document (`Store.order_holding`); from then on
-- the triggers below keep it as documents are written. Until a path is added, writes cost nothing
-- more. Each write of a document first drops its old rows (an `INSERT OR REPLACE` fires no delete
-- trigger), so the rows always match the document as stored.
CREATE TABLE IF NOT EXISTS held_paths (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS held_items (
    source    TEXT    NOT NULL,  -- 'orders' (the default session), 'baseline' or 'session'
    session   TEXT    NOT NULL,  -- the named session of a 'session' row, else ''
    platform  TEXT    NOT NULL,
    path      TEXT    NOT NULL,
    item_id   INTEGER NOT NULL,
    order_id  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS held_items_by_id ON held_items (source, platform, path, item_id, session);
CREATE INDEX IF NOT EXISTS held_items_by_order ON held_items (source, platform, order_id, session);
"""
SESSION_TABLES = ("session_orders", "session_listing", "session_refunds", "session_idempotency")


_NO_SESSION = "''"  # SQL text: the session column of rows outside named sessions
# The tables of order documents whose items `held_items` indexes: (source, table, the column naming
# a row's session, if the table has one).
_HELD_SOURCES = (("orders", "orders", None), ("baseline", "baseline", None), ("session", "session_orders", "session"))


def _held_item_triggers() -> str:
    """The triggers that keep `held_items` following each table of order documents."""
    statements = []
    for source, table, column in _HELD_SOURCES:

        def session(row: str, column: str | None = column) -> str:
            return f"{row}.{column}" if column else _NO_SESSION

        def drop(row: str, source: str = source, session: Callable[[str], str] = session) -> str:
            return (
                f"DELETE FROM held_items WHERE source = '{source}' AND platform = {row}.platform "
                f"AND order_id = {row}.order_id AND session = {session(row)};"
            )

        index = (
            f"INSERT INTO held_items (source, session, platform, path, item_id, order_id) "
            f"SELECT '{source}', {session('new')}, new.platform, held_paths.path, "
            "json_extract(item.value, '$.id'), new.order_id "
            "FROM held_paths, json_each(new.document, held_paths.path) AS item "
            "WHERE json_type(item.value, '$.id') = 'integer';"
        )
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS held_items_follow_{table}_inserts AFTER INSERT ON {table} "
            f"BEGIN {drop('new')} {index} END;"
        )
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS held_items_follow_{table}_updates AFTER UPDATE OF document ON {table} "
            f"BEGIN {drop('old')} {index} END;"
        )
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS held_items_follow_{table}_deletes AFTER DELETE ON {table} "
            f"BEGIN {drop('old')} END;"
        )
    return "\n".join(statements)


_SCHEMA += _held_item_triggers()
# A named session's cache entry that points at the shared baseline document counts this much
# against DOCUMENT_CACHE_BYTES (the document itself is counted once, under the baseline's key).
_ALIAS_BYTES = 64
_SESSION_ROW = (
    "SELECT order_id, store_hash, version, document FROM session_orders "
    "WHERE session = ? AND platform = ? AND order_id = ?"
)
_BASELINE_ROW = "SELECT order_id, store_hash, 0, document FROM baseline WHERE platform = ? AND order_id = ?"


@dataclass(frozen=True)
class OrderListing:
    """What the order lists filter and sort an order on, computed by its platform from the document."""

    created_at: str  # `instant_text` of the order's creation
    facets: Mapping[str, str | int | None]  # the platform's other filter and sort values, by name
    archived: bool = False  # left out of lists unless they ask for archived orders


ListingOf = Callable[[dict[str, Any]], OrderListing]
_FACET_NAME = re.compile(r"^[a-z_]{1,40}$")


def instant_text(moment: datetime) -> str:
    """A moment as the listing keeps it: UTC to the microsecond, so that text order is time order.

    A moment without a zone is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class MappedCounter:
    """A count published in a small mapped file every process reads: the store's write count, the
    run-time scenarios' generation (mockserver.shared, mockserver.sessions).

    Reading it is a memory access (no query, no system call), so a request can tell whether what it
    cached is still current without giving up the GIL. Counts come from a database, in the writing
    transaction, so each is published once and never reused: a late publication of an older count
    only makes readers query again, never trust a stale copy.
    """

    def __init__(self, path: Path):
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(descriptor).st_size < 8:
                os.ftruncate(descriptor, 8)
            self._map = mmap.mmap(descriptor, 8)
        finally:
            os.close(descriptor)

    def value(self) -> int:
        return int.from_bytes(self._map[:8], "little")

    def publish(self, count: int) -> None:
        self._map[:8] = count.to_bytes(8, "little")


class ConcurrentUpdate(Exception):
    """Another writer changed the order first; the caller retries on fresh state."""


class KeyAlreadyUsed(Exception):
    """Another request recorded the same idempotency key first; nothing of this one was saved."""

    def __init__(self, key: str, result: Any):
        super().__init__(key)
        self.key = key
        self.result = result


@dataclass
class StoredOrder:
    order_id: int
    store_hash: str | None
    version: int
    document: dict[str, Any]
    # Values computed from `document` (an engine's per-order figures), kept as long as the
    # document is: a shared document never changes, so what was computed from it stays true.
    derived: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def derive(self, name: str, compute: Callable[[dict[str, Any]], T]) -> T:
        """`compute(document)`, computed once per stored version of the order (per process)."""
        try:
            return self.derived[name]
        except KeyError:
            value = self.derived[name] = compute(self.document)  # two threads may both compute: same value
            return value


@dataclass(frozen=True, slots=True)
class _CachedOrder:
    writes: int  # the write count read before the order was
    text: str  # the stored JSON
    order: StoredOrder


def _cost(entry: _CachedOrder) -> int:
    """What a cache entry counts against DOCUMENT_CACHE_BYTES: its text, or a little for an alias."""
    return len(entry.text) or _ALIAS_BYTES


class Transaction:
    """What a change function may do besides editing the order document.

    Refund rows are written with the order, in the same database transaction; ids come from
    their own short transactions so that no lock is held while the platform computes.
    """

    def __init__(self, store: Store):
        self._store = store
        self.refunds: list[tuple[int, str, dict[str, Any]]] = []
        self.results: list[tuple[str, Any]] = []

    def next_id(self, name: str, start: int = 1) -> int:
        """A new, never reused id from a named sequence."""
        return self._store.next_id(name, start)

    def save_refund(self, refund_id: int, created_at: str, document: dict[str, Any]) -> None:
        """Index a refund of this order so that cross-order listings find it."""
        self.refunds.append((refund_id, created_at, document))

    def remember(self, key: str, result: Any) -> None:
        """Record the result of an idempotent request with the change (see `Store.recall`)."""
        self.results.append((key, result))


class Store:
    """The mock's state. `path=None` keeps it in a fresh temporary file for this run."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        verify_shared_documents: bool = False,
        listing_of: Mapping[str, ListingOf] | None = None,
    ):
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        if path is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="refund-mock-")
            path = Path(self._temporary.name) / "state.sqlite3"
        self.path = Path(path)
        self._local = threading.local()
        self._order_locks: dict[tuple[str, int], threading.Lock] = {}
        self._locks_guard = threading.Lock()
        # Recently read orders, parsed, with the write count they were read at (see `get_order`).
        self._documents: dict[tuple[str, int], _CachedOrder] = {}
        self._cached_bytes = 0
        self._documents_guard = threading.Lock()
        self._verify_shared_documents = verify_shared_documents
        self._writes = MappedCounter(Path(f"{self.path}-writes"))
        # per platform, how an order document is listed (platforms without one have no order list)
        self.listing_of: dict[str, ListingOf] = dict(listing_of or {})
        self._held_paths: set[str] = set()  # paths known to be indexed in held_items (see order_holding)
        connection = self._connection()
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(_SCHEMA)
        self._list_unlisted_orders()

    # -- connections -------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=30000")
            # one connection per thread: a small page cache each keeps many threads' memory flat
            # (reads are point lookups by key; the operating system caches the file itself)
            connection.execute("PRAGMA cache_size=-256")
            self._local.connection = connection
            self._local.pid = os.getpid()
        return connection

    @contextmanager
    def _write(self, *, orders: bool = True) -> Iterator[sqlite3.Connection]:
        """One immediate (write-locked) transaction; committed on success, rolled back on error.

        Every write also counts itself in the database and, once committed, publishes the count
        in the `-writes` file, which tells every process's readers that cached orders may be stale;
        a write that changes no order (`orders=False`: the session registry) leaves them be.
        """
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
            count = (
                connection.execute(
                    "INSERT INTO meta (name, value) VALUES ('writes', 1) "
                    "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value"
                ).fetchone()[0]
                if orders
                else None
            )
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        if count is not None:
            self._writes.publish(count)

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None

    # -- orders ------------------------------------------------------------------------

    def get_order(self, platform: str, order_id: int) -> StoredOrder | None:
        """The order as stored now, for reading: its document is shared, so never change it.

        A quote reads one order, and reading it (a query, then parsing some 17 kB of JSON) cost
        more than computing the quote. So the orders read last (`DOCUMENT_CACHE_BYTES`) are kept,
        parsed, with the database's write count at the time; while no process has written since
        (the count in the mapped `-writes` file is unchanged), they are handed out again without
        touching the database. After a write the stored text is read again, and parsed again
        only if it changed. To change an order use `update_order`, which works on a private copy.
        """
        key = (platform, order_id)
        writes = self._writes.value()  # read before the database: a later write makes this stale
        cached = self._documents.get(key)
        if cached is not None and cached.writes == writes:
            return self._checked(key, cached)
        return self._kept(key, writes, cached, self._row(platform, order_id))

    def _kept(
        self,
        key: tuple[Any, ...],
        writes: int,
        cached: _CachedOrder | None,
        row: tuple[int, str | None, int, str] | None,
    ) -> StoredOrder | None:
        """The order of a row just read, parsed only if its text differs from the cached one; kept."""
        if row is None:
            return None
        if cached is not None and cached.text == row[3]:
            kept = self._checked(key, cached)
            order = StoredOrder(row[0], row[1], row[2], kept.document, kept.derived)
        else:
            order = StoredOrder(row[0], row[1], row[2], json.loads(row[3]))
        self._cache(key, _CachedOrder(writes, row[3], order))
        return order

    def _cache(self, key: tuple[Any, ...], entry: _CachedOrder) -> None:
        with self._documents_guard:
            replaced = self._documents.pop(key, None)
            self._cached_bytes += _cost(entry) - (_cost(replaced) if replaced else 0)
            self._documents[key] = entry
            while self._cached_bytes > DOCUMENT_CACHE_BYTES and len(self._documents) > 1:
                oldest = self._documents.pop(next(iter(self._documents)))
                self._cached_bytes -= _cost(oldest)

    def get_baseline_order(self, platform: str, order_id: int) -> StoredOrder | None:
        """The order as loaded (what a named session sees until it writes it), shared like `get_order`'s."""
        key = (None, platform, order_id)
        writes = self._writes.value()
        cached = self._documents.get(key)
        if cached is not None and cached.writes == writes:
            return self._checked(key, cached)
        return self._kept(key, writes, cached, self._connection().execute(_BASELINE_ROW, key[1:]).fetchone())

    def get_session_order(self, session: str, platform: str, order_id: int) -> StoredOrder | None:
        """The order as a named session sees it: its own copy once it wrote the order, else the baseline.

        Cached like `get_order`; a session that has not written the order is handed the one parsed
        baseline document every such session shares, so a thousand sessions cost one document.
        """
        key = (session, platform, order_id)
        writes = self._writes.value()
        cached = self._documents.get(key)
        if cached is not None and cached.writes == writes:
            return self._checked(key, cached)
        row = self._connection().execute(_SESSION_ROW, key).fetchone()
        if row is not None:
            return self._kept(key, writes, cached, row)
        baseline = self.get_baseline_order(platform, order_id)
        if baseline is not None:
            self._cache(key, _CachedOrder(writes, "", baseline))  # text "": an alias of the baseline entry
        return baseline

    def _row(self, platform: str, order_id: int) -> tuple[int, str | None, int, str] | None:
        return (
            self._connection()
            .execute(
                "SELECT order_id, store_hash, version, document FROM orders WHERE platform = ? AND order_id = ?",
                (platform, order_id),
            )
            .fetchone()
        )

    def _checked(self, key: tuple[Any, ...], cached: _CachedOrder) -> StoredOrder:
        """The cached order; with `verify_shared_documents` (the tests), proof that no reader changed it."""
        if self._verify_shared_documents and cached.text and json.dumps(cached.order.document) != cached.text:
            raise AssertionError(
                f"the shared document of {key[-2]} order {key[-1]} was changed in place by a reader; "
                "copy what you change, or use Store.update_order"
            )
        return cached.order

    def order_ids(self, platform: str) -> list[int]:
        rows = (
            self._connection()
            .execute("SELECT order_id FROM orders WHERE platform = ? ORDER BY order_id", (platform,))
            .fetchall()
        )
        return [row[0] for row in rows]

    def put_order(
        self,
        platform: str,
        order_id: int,
        document: dict[str, Any],
        store_hash: str | None = None,
        *,
        baseline: bool = False,
        replace: bool = True,
        id_floors: Mapping[str, int] | None = None,
    ) -> None:
        """Store an order; with `baseline`, a reset brings it back as it is now.

        `id_floors` names, per id sequence, the highest id the document already holds: new ids
        from that sequence go above it (and above every other document's), resets included.
        """
        text = json.dumps(document)
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self._write() as connection:
            if id_floors:
                connection.executemany(
                    "INSERT INTO id_floors (name, value) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
                    list(id_floors.items()),
                )
            inserted = connection.execute(
                f"{verb} INTO orders (platform, order_id, store_hash, version, document) VALUES (?, ?, ?, 0, ?)",
                (platform, order_id, store_hash, text),
            )
            if inserted.rowcount == 1:
                self._save_listing(connection, platform, order_id, store_hash, document)
            if replace:
                connection.execute("DELETE FROM refunds WHERE platform = ? AND order_id = ?", (platform, order_id))
            if baseline:
                connection.execute(
                    "INSERT OR REPLACE INTO baseline (platform, order_id, store_hash, document) VALUES (?, ?, ?, ?)",
                    (platform, order_id, store_hash, text),
                )
                self._save_listing(connection, platform, order_id, store_hash, document, "baseline_listing")
                connection.execute(  # the caller indexes the new document's (index_refunds, baseline=True)
                    "DELETE FROM baseline_refunds WHERE platform = ? AND order_id = ?", (platform, order_id)
                )

    def delete_order(self, platform: str, order_id: int) -> int | None:
        """Forget an order, its refunds and its baseline: the number of refunds removed, None if unknown."""
        if not SQLITE_MIN_INTEGER <= order_id <= SQLITE_MAX_INTEGER:
            return None  # no order is stored under an id SQLite cannot hold (it would raise OverflowError)
        with self._write() as connection:
            removed = connection.execute(
                "DELETE FROM orders WHERE platform = ? AND order_id = ?", (platform, order_id)
            ).rowcount
            refunds = connection.execute(
                "DELETE FROM refunds WHERE platform = ? AND order_id = ?", (platform, order_id)
            ).rowcount
            for table in ("baseline", "baseline_listing", "baseline_refunds", *SESSION_TABLES[:3]):
                connection.execute(f"DELETE FROM {table} WHERE platform = ? AND order_id = ?", (platform, order_id))
        return refunds if removed else None

    def update_order(
        self,
        platform: str,
        order_id: int,
        change: Callable[[dict[str, Any], Transaction], T],
        *,
        attempts: int = 1000,
    ) -> T:
        """Apply `change` to the order's document and save it, one writer per order at a time.

        `change` edits the document in place and returns the result; if it raises, nothing is
        saved. It runs without holding the database lock; when another writer (another
        process) saved the same order meanwhile, it runs again on the fresh document, so every
        change is validated against the state the previous one left.
        """
        with self._order_lock(platform, order_id):
            for _ in range(attempts):
                row = self._row(platform, order_id)
                if row is None:
                    raise KeyError(order_id)
                stored = StoredOrder(row[0], row[1], row[2], json.loads(row[3]))  # a private copy to change
                transaction = Transaction(self)
                result = change(stored.document, transaction)
                with self._write() as connection:
                    saved = connection.execute(
                        "UPDATE orders SET document = ?, version = version + 1 "
                        "WHERE platform = ? AND order_id = ? AND version = ?",
                        (json.dumps(stored.document), platform, order_id, stored.version),
                    )
                    if saved.rowcount == 1:
                        self._save_listing(connection, platform, order_id, stored.store_hash, stored.document)
                        self._save_refunds(connection, platform, order_id, transaction.refunds)
                        for key, remembered in transaction.results:
                            if not self._remember(connection, platform, key, remembered):
                                raise KeyAlreadyUsed(key, self.recall(platform, key))  # rolls the change back
                        return result
        raise ConcurrentUpdate(order_id)

    def _order_lock(self, *key: Any) -> threading.Lock:
        with self._locks_guard:
            return self._order_locks.setdefault(key, threading.Lock())

    def update_session_order(
        self,
        session: str,
        platform: str,
        order_id: int,
        change: Callable[[dict[str, Any], Transaction], T],
        *,
        attempts: int = 1000,
    ) -> T:
        """`update_order` for a named session: the first write copies the baseline order (and the
        refunds it arrived with) into the session's rows; later ones change that copy."""
        with self._order_lock(session, platform, order_id):
            for _ in range(attempts):
                connection = self._connection()
                row = connection.execute(_SESSION_ROW, (session, platform, order_id)).fetchone()
                first = row is None
                if first:
                    row = connection.execute(_BASELINE_ROW, (platform, order_id)).fetchone()
                    if row is None:
                        raise KeyError(order_id)
                stored = StoredOrder(row[0], row[1], row[2], json.loads(row[3]))
                transaction = Transaction(self)
                result = change(stored.document, transaction)
                text = json.dumps(stored.document)
                with self._write() as connection:
                    if first:
                        saved = connection.execute(
                            "INSERT OR IGNORE INTO session_orders "
                            "(session, platform, order_id, store_hash, version, document) VALUES (?, ?, ?, ?, 1, ?)",
                            (session, platform, order_id, stored.store_hash, text),
                        )
                    else:
                        saved = connection.execute(
                            "UPDATE session_orders SET document = ?, version = version + 1 "
                            "WHERE session = ? AND platform = ? AND order_id = ? AND version = ?",
                            (text, session, platform, order_id, stored.version),
                        )
                    if saved.rowcount != 1:
                        continue  # another worker wrote it first: again, on its version
                    if first:
                        connection.execute(
                            "INSERT OR REPLACE INTO session_refunds "
                            "SELECT ?, platform, refund_id, order_id, created_at, document FROM baseline_refunds "
                            "WHERE platform = ? AND order_id = ?",
                            (session, platform, order_id),
                        )
                    self._save_listing(
                        connection, platform, order_id, stored.store_hash, stored.document, "session_listing", session
                    )
                    connection.executemany(
                        "INSERT OR REPLACE INTO session_refunds "
                        "(session, platform, refund_id, order_id, created_at, document) VALUES (?, ?, ?, ?, ?, ?)",
                        [
                            (session, platform, refund_id, order_id, created, json.dumps(document))
                            for refund_id, created, document in transaction.refunds
                        ],
                    )
                    for key, remembered in transaction.results:
                        if not self._remember(connection, platform, key, remembered, session):
                            raise KeyAlreadyUsed(key, self.recall(platform, key, session))
                    connection.execute(
                        "INSERT INTO sessions (name, created, last_used, orders_written, refunds_written) "
                        "VALUES (?1, ?2, ?2, ?3, ?4) ON CONFLICT (name) DO UPDATE SET "
                        "orders_written = orders_written + ?3, refunds_written = refunds_written + ?4",
                        (session, time.time(), int(first), len(transaction.refunds)),
                    )
                    return result
        raise ConcurrentUpdate(order_id)

    @staticmethod
    def _save_refunds(
        connection: sqlite3.Connection, platform: str, order_id: int, refunds: list[tuple[int, str, dict[str, Any]]]
    ) -> None:
        connection.executemany(
            "INSERT OR REPLACE INTO refunds (platform, refund_id, order_id, created_at, document) "
            "VALUES (?, ?, ?, ?, ?)",
            [(platform, refund_id, order_id, created, json.dumps(doc)) for refund_id, created, doc in refunds],
        )

    # -- order lists -------------------------------------------------------------------

    def _save_listing(
        self,
        connection: sqlite3.Connection,
        platform: str,
        order_id: int,
        store_hash: str | None,
        document: dict[str, Any],
        table: str = "order_listing",
        session: str | None = None,
    ) -> None:
        listing_of = self.listing_of.get(platform)
        if listing_of is None:
            return
        listing = listing_of(document)
        columns, marks, first = ("session, ", "?, ", (session,)) if session is not None else ("", "", ())
        connection.execute(
            f"INSERT OR REPLACE INTO {table} ({columns}platform, order_id, store_hash, created_at, archived, facets) "
            f"VALUES ({marks}?, ?, ?, ?, ?, ?)",
            (
                *first,
                platform,
                order_id,
                store_hash,
                listing.created_at,
                int(listing.archived),
                json.dumps(dict(listing.facets)),
            ),
        )

    def _list_unlisted_orders(self) -> None:
        """Listings for orders kept in a state file written before there were order lists."""
        if not self.listing_of:
            return
        missing = "SELECT 1 FROM order_listing AS l WHERE l.platform = o.platform AND l.order_id = o.order_id"
        select = f"SELECT platform, order_id, store_hash, document FROM orders AS o WHERE NOT EXISTS ({missing})"
        if self._connection().execute(f"{select} LIMIT 1").fetchone() is None:
            return
        with self._write() as connection:
            for platform, order_id, store_hash, text in connection.execute(select).fetchall():
                self._save_listing(connection, platform, order_id, store_hash, json.loads(text))

    def list_order_ids(
        self,
        platform: str,
        *,
        ids: Collection[int] | None = None,
        min_id: int | None = None,
        max_id: int | None = None,
        created_min: str | None = None,
        created_max: str | None = None,
        facets: Mapping[str, Collection[str | int | None]] | None = None,
        store_hash: str | None = None,
        archived: bool | None = False,
        order_by: Sequence[tuple[str, bool]] = (("id", False),),
        limit: int | None = None,
        offset: int = 0,
        session: str | None = None,
    ) -> list[int]:
        """The ids of the orders that pass every filter given, in the order asked for.

        Bounds are inclusive; `created_*` compare `instant_text`s; `facets` keeps orders whose
        facet is one of the values named; `store_hash` keeps orders served under that store
        (pinned to it or to none); `archived` keeps only archived orders (True), only the others
        (False, the default) or both (None). `order_by` is a list of (`id`, `created_at` or a facet name,
        descending?), the order id breaking ties; `limit` and `offset` cut one page out of
        them. Only the small listing rows are read, never a
        document, so a list of a large store costs an index scan. `session`: as a named session
        sees them (its own copies, else the baseline).
        """
        clauses = ["l.platform = ?"]
        source, arguments = _session_source("order_listing", "baseline_listing", "session_listing", platform, session)
        arguments.append(platform)
        if ids is not None:
            clauses.append(f"l.order_id IN ({','.join('?' * len(ids))})")
            arguments.extend(ids)
        for clause, value in (
            ("l.order_id >= ?", min_id),
            ("l.order_id <= ?", max_id),
            ("l.created_at >= ?", created_min),
            ("l.created_at <= ?", created_max),
        ):
            if value is not None:
                clauses.append(clause)
                arguments.append(value)
        for name, values in (facets or {}).items():
            expression = self._facet(name)
            known = [value for value in values if value is not None]
            alternatives = [f"{expression} IN ({','.join('?' * len(known))})"] if known else []
            if None in values:
                alternatives.append(f"{expression} IS NULL")
            clauses.append(f"({' OR '.join(alternatives) or '0'})")
            arguments.extend(known)
        if archived is not None:
            clauses.append("l.archived = ?")
            arguments.append(int(archived))
        if store_hash is not None:
            clauses.append("(l.store_hash IS NULL OR l.store_hash = ?)")
            arguments.append(store_hash)
        keys = [f"{self._sort_key(name)} {'DESC' if descending else 'ASC'}" for name, descending in order_by]
        last_descending = bool(order_by) and order_by[-1][1]
        keys.append(f"l.order_id {'DESC' if last_descending else 'ASC'}")
        where = " AND ".join(clauses)
        query = f"SELECT l.order_id FROM {source} AS l WHERE {where} ORDER BY {', '.join(keys)}"
        if limit is not None:
            query += " LIMIT ? OFFSET ?"
            arguments.extend((limit, offset))
        return [row[0] for row in self._connection().execute(query, arguments).fetchall()]

    @staticmethod
    def _facet(name: str) -> str:
        if not _FACET_NAME.match(name):
            raise ValueError(f"not a facet name: {name!r}")
        return f"json_extract(l.facets, '$.{name}')"

    @classmethod
    def _sort_key(cls, name: str) -> str:
        return {"id": "l.order_id", "created_at": "l.created_at"}.get(name) or cls._facet(name)

    def order_holding(self, platform: str, array_path: str, item_id: int, session: str | None = None) -> int | None:
        """The order whose document has an item of `item_id` in the array at `array_path` (a SQLite
        JSON path such as `$.order.line_items`), or None: a lookup by a line's or a transaction's
        id (GraphQL's `node(id:)`), read from the `held_items` index. A named session looks in its
        own copies first, then in the baseline."""
        self._index_held_path(array_path)
        searches = [("orders", "")] if session is None else [("session", session), ("baseline", "")]
        connection = self._connection()
        for source, name in searches:
            row = connection.execute(
                "SELECT order_id FROM held_items WHERE source = ? AND platform = ? AND path = ? AND item_id = ? "
                "AND session = ? LIMIT 1",
                (source, platform, array_path, item_id, name),
            ).fetchone()
            if row is not None:
                return int(row[0])
        return None

    def _index_held_path(self, array_path: str) -> None:
        """Index the items of `array_path` in every stored document, once per state file: the first
        lookup pays one pass over the documents (in SQLite), every later one reads the index, and
        the triggers keep it as documents are written, in every process sharing the file."""
        if array_path in self._held_paths:
            return
        connection = self._connection()
        if connection.execute("SELECT 1 FROM held_paths WHERE path = ?", (array_path,)).fetchone() is None:
            with self._write(orders=False) as connection:
                if connection.execute("INSERT OR IGNORE INTO held_paths (path) VALUES (?)", (array_path,)).rowcount:
                    for source, table, column in _HELD_SOURCES:
                        connection.execute(
                            "INSERT INTO held_items (source, session, platform, path, item_id, order_id) "
                            f"SELECT '{source}', {column or _NO_SESSION}, platform, ?, "
                            "json_extract(item.value, '$.id'), order_id "
                            f"FROM {table}, json_each({table}.document, ?) AS item "
                            "WHERE json_type(item.value, '$.id') = 'integer'",
                            (array_path, array_path),
                        )
        self._held_paths.add(array_path)

    # -- refunds -----------------------------------------------------------------------

    def list_refunds(
        self,
        platform: str,
        *,
        order_ids: list[int] | None = None,
        refund_ids: list[int] | None = None,
        created_min: str | None = None,
        created_max: str | None = None,
        session: str | None = None,
    ) -> list[dict[str, Any]]:
        """Indexed refunds in id order, filtered; timestamps compare as ISO-8601 text. `session`: as a
        named session sees them."""
        clauses = ["platform = ?"]
        source, arguments = _session_source("refunds", "baseline_refunds", "session_refunds", platform, session)
        arguments.append(platform)
        if order_ids is not None:
            clauses.append(f"order_id IN ({','.join('?' * len(order_ids))})")
            arguments.extend(order_ids)
        if refund_ids is not None:
            clauses.append(f"refund_id IN ({','.join('?' * len(refund_ids))})")
            arguments.extend(refund_ids)
        if created_min is not None:
            clauses.append("created_at >= ?")
            arguments.append(created_min)
        if created_max is not None:
            clauses.append("created_at <= ?")
            arguments.append(created_max)
        rows = (
            self._connection()
            .execute(f"SELECT document FROM {source} WHERE {' AND '.join(clauses)} ORDER BY refund_id", arguments)
            .fetchall()
        )
        return [json.loads(row[0]) for row in rows]

    def index_refunds(
        self,
        platform: str,
        order_id: int,
        refunds: list[tuple[int, str, dict[str, Any]]],
        *,
        baseline: bool = False,
        working: bool = True,
    ) -> None:
        """Index refunds that arrived inside a fixture document (earlier refunds): for the default
        session's working order (`working`), and with `baseline` for the loaded one named sessions see."""
        with self._write() as connection:
            if working:
                self._save_refunds(connection, platform, order_id, refunds)
            if baseline:
                connection.execute(
                    "DELETE FROM baseline_refunds WHERE platform = ? AND order_id = ?", (platform, order_id)
                )
                connection.executemany(
                    "INSERT OR REPLACE INTO baseline_refunds (platform, refund_id, order_id, created_at, document) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(platform, refund_id, order_id, created, json.dumps(doc)) for refund_id, created, doc in refunds],
                )

    # -- idempotency keys ----------------------------------------------------------------

    @staticmethod
    def _remember(
        connection: sqlite3.Connection, platform: str, key: str, result: Any, session: str | None = None
    ) -> bool:
        if session is None:
            saved = connection.execute(
                "INSERT OR IGNORE INTO idempotency (platform, key, result) VALUES (?, ?, ?)",
                (platform, key, json.dumps(result)),
            )
        else:
            saved = connection.execute(
                "INSERT OR IGNORE INTO session_idempotency (session, platform, key, result) VALUES (?, ?, ?, ?)",
                (session, platform, key, json.dumps(result)),
            )
        return saved.rowcount == 1

    def remember(self, platform: str, key: str, result: Any, session: str | None = None) -> Any:
        """Record the result of an idempotent request; the result recorded first wins and is returned."""
        with self._write() as connection:
            if self._remember(connection, platform, key, result, session):
                return result
        return self.recall(platform, key, session)

    def recall(self, platform: str, key: str, session: str | None = None) -> Any:
        """The result recorded for an idempotency key (in the default session, or the one named), or None."""
        if session is None:
            query, arguments = "SELECT result FROM idempotency WHERE platform = ? AND key = ?", (platform, key)
        else:
            query = "SELECT result FROM session_idempotency WHERE session = ? AND platform = ? AND key = ?"
            arguments = (session, platform, key)
        row = self._connection().execute(query, arguments).fetchone()
        return None if row is None else json.loads(row[0])

    # -- sequences and reset -------------------------------------------------------------

    def _next_id(self, connection: sqlite3.Connection, name: str, start: int) -> int:
        row = connection.execute("SELECT value FROM sequences WHERE name = ?", (name,)).fetchone()
        value = start if row is None else max(row[0] + 1, start)
        floor = connection.execute("SELECT value FROM id_floors WHERE name = ?", (name,)).fetchone()
        if floor is not None:
            value = max(value, floor[0] + 1)
        connection.execute("INSERT OR REPLACE INTO sequences (name, value) VALUES (?, ?)", (name, value))
        return value

    def next_id(self, name: str, start: int = 1) -> int:
        with self._write() as connection:
            return self._next_id(connection, name, start)

    def baseline_text(self, platform: str, order_id: int) -> str | None:
        """The order's baseline document as stored (`serve --watch` leaves an unchanged order alone)."""
        row = (
            self._connection()
            .execute("SELECT document FROM baseline WHERE platform = ? AND order_id = ?", (platform, order_id))
            .fetchone()
        )
        return row[0] if row else None

    def reset(self, reindex: Callable[[str, int, dict[str, Any]], list[tuple[int, str, dict[str, Any]]]]) -> None:
        """Every order back to its baseline document; refunds re-indexed by `reindex`.

        Sequences start over; id floors stay (they only rise), so ids stay unique store-wide.
        """
        with self._write() as connection:
            connection.execute("DELETE FROM order_listing")
            connection.execute("DELETE FROM orders")
            connection.execute("DELETE FROM refunds")
            connection.execute("DELETE FROM sequences")
            connection.execute("DELETE FROM idempotency")
            rows = connection.execute("SELECT platform, order_id, store_hash, document FROM baseline").fetchall()
            for platform, order_id, store_hash, text in rows:
                connection.execute(
                    "INSERT INTO orders (platform, order_id, store_hash, version, document) VALUES (?, ?, ?, 0, ?)",
                    (platform, order_id, store_hash, text),
                )
                document = json.loads(text)
                self._save_listing(connection, platform, order_id, store_hash, document)
                self._save_refunds(connection, platform, order_id, reindex(platform, order_id, document))

    # -- named sessions ---------------------------------------------------------------------

    def session_order_ids(self, session: str, platform: str) -> list[int]:
        """The ids of the orders a named session sees: the baseline's and those it holds a copy of."""
        rows = (
            self._connection()
            .execute(
                "SELECT order_id FROM baseline WHERE platform = ?1 UNION "
                "SELECT order_id FROM session_orders WHERE session = ?2 AND platform = ?1 ORDER BY order_id",
                (platform, session),
            )
            .fetchall()
        )
        return [row[0] for row in rows]

    def touch_sessions(self, uses: Mapping[str, tuple[float, int]]) -> None:
        """Record the use of sessions (name -> (last used, requests since the last touch)); a session
        not in the registry (new, or dropped meanwhile) is created."""
        with self._write(orders=False) as connection:
            connection.executemany(
                "INSERT INTO sessions (name, created, last_used, requests) VALUES (?1, ?2, ?2, ?3) "
                "ON CONFLICT (name) DO UPDATE SET last_used = max(last_used, ?2), requests = requests + ?3",
                [(name, used, count) for name, (used, count) in uses.items()],
            )

    def sessions(self) -> list[dict[str, Any]]:
        """The registry of named sessions, by name."""
        rows = (
            self._connection()
            .execute(
                "SELECT name, created, last_used, requests, orders_written, refunds_written FROM sessions ORDER BY name"
            )
            .fetchall()
        )
        fields = ("name", "created", "last_used", "requests", "orders_written", "refunds_written")
        return [dict(zip(fields, row, strict=True)) for row in rows]

    def clear_session(self, session: str, *, drop: bool) -> bool:
        """Forget what a session wrote (its copies, refunds, idempotency keys); with `drop`, the
        session itself. False when the registry did not know it."""
        with self._locks_guard:  # the session's per-order locks (keys: session, platform, order id)
            for key in [key for key in self._order_locks if len(key) == 3 and key[0] == session]:
                del self._order_locks[key]
        with self._write() as connection:
            for table in SESSION_TABLES:
                connection.execute(f"DELETE FROM {table} WHERE session = ?", (session,))
            if drop:
                known = connection.execute("DELETE FROM sessions WHERE name = ?", (session,)).rowcount
            else:
                known = connection.execute(
                    "UPDATE sessions SET orders_written = 0, refunds_written = 0 WHERE name = ?", (session,)
                ).rowcount
        return bool(known)

    def idle_sessions(self, before: float) -> list[str]:
        """The named sessions last used before `before` (epoch seconds)."""
        rows = self._connection().execute("SELECT name FROM sessions WHERE last_used < ?", (before,)).fetchall()
        return [row[0] for row in rows]

    def wait_until_writable(self, timeout: float = 5.0) -> None:
        """Block until the database accepts a write (used at start-up by extra workers)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self._write():
                    return
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


def _session_source(
    working: str, baseline: str, copies: str, platform: str, session: str | None
) -> tuple[str, list[Any]]:
    """The rows a query reads (a table, or for a named session its copies and the baseline rows of
    the orders it has not copied) and the arguments that go first."""
    if session is None:
        return working, []
    columns = (
        "platform, order_id, store_hash, created_at, archived, facets"
        if copies == "session_listing"
        else ("platform, refund_id, order_id, created_at, document")
    )
    source = (
        f"(SELECT {columns} FROM {copies} WHERE session = ? AND platform = ? UNION ALL "
        f"SELECT {columns} FROM {baseline} AS b WHERE b.platform = ? AND NOT EXISTS "
        "(SELECT 1 FROM session_orders AS s "
        "WHERE s.session = ? AND s.platform = b.platform AND s.order_id = b.order_id))"
    )
    return source, [session, platform, platform, session]
