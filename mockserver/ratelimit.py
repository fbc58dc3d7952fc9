"""Rate-limit buckets: the state behind the platforms' call-limit headers and `serve --throttle`.

Generic on purpose: a bucket is named by its kind (`shopify-rest`, later `shopify-graphql` for
query cost), a key (an access token, a store hash) and a scope (empty today; a session name once
isolated sessions exist), and `take` spends any cost from it. Two shapes are known:

- a leaky bucket (Shopify): `capacity` units that drain at `restore_rate` per second;
- a fixed window (BigCommerce): `capacity` units per `window_seconds`, refilled at once when the
  window, started by the first call, ends.

A take that does not fit is refused and spends nothing; whether the request is then answered 429
is the caller's choice (`serve --throttle`), so the headers count either way.

The buckets live in a table of fixed-size slots in a memory map: anonymous for one process, a
file in the run folder under `serve --workers`, so every worker counts in the same buckets. A
take holds a thread lock, and under workers also an `flock` on the file; it costs a couple of
microseconds (docs/performance.md). The `flock` is first tried without giving up the GIL: every
GIL hand-off in a request lets the worker's other threads in, and two per request (lock, unlock)
cost a worker under load more than half its throughput. Keys are hashed into the table; when
more buckets are alive than the table holds, the least recently used nearby slot is reused (that
bucket starts afresh).
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import math
import mmap
import os
import struct
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from mockserver.platform import MockHTTPError, Reply

TABLE_FILE = "ratelimits.bin"
SLOTS = 4096  # buckets alive at once before the least recently used nearby one is reused
PROBE = 16  # slots looked at from a key's home slot
SLOT_BYTES = 128
_HEAD = struct.Struct("<Qdd")  # key hash (0: free), used, stamp (leaky: last take; window: its start)
_LABEL_LENGTH = struct.Struct("<H")
_LABEL_AT = _HEAD.size + _LABEL_LENGTH.size
LABEL_BYTES = SLOT_BYTES - _LABEL_AT
SEPARATOR = "\x1f"  # between scope, kind and key in a bucket's label
_FIT = 1e-9  # float slack when comparing used + cost with the capacity
# CLOCK_MONOTONIC is one clock for every process of the machine, so workers agree on it; tests
# replace it to move time without waiting.
clock = time.monotonic


@dataclass(frozen=True)
class BucketKind:
    """How one family of buckets fills and empties."""

    name: str
    capacity: float
    restore_rate: float  # units per second: the leak rate, or capacity / window for a window
    window_seconds: float | None = None  # None: a leaky bucket; else a fixed window of this length

    @classmethod
    def window(cls, name: str, quota: int, seconds: float) -> BucketKind:
        return cls(name, quota, quota / seconds, seconds)


class BucketState(NamedTuple):
    """A bucket after a take (or a peek): what the headers and a 429 are made from.

    A named tuple, not a dataclass: one is made per request, and a frozen dataclass costs
    several times as much to build. The figures derived from it are worked out when asked for.
    """

    bucket: BucketKind
    key: str
    scope: str
    used: float  # units in the bucket now (a leaky bucket's level, a window's count)
    allowed: bool  # whether the take fitted (a peek: whether one more unit would)
    stamp: float  # leaky: the time of this take; window: when the window started
    now: float
    cost: float

    @property
    def kind(self) -> str:
        return self.bucket.name

    @property
    def capacity(self) -> float:
        return self.bucket.capacity

    @property
    def restore_rate(self) -> float:
        return self.bucket.restore_rate

    @property
    def window_seconds(self) -> float | None:
        return self.bucket.window_seconds

    @property
    def available(self) -> float:
        return max(0.0, self.bucket.capacity - self.used)

    @property
    def reset_after(self) -> float:
        """Seconds until the bucket is empty (leaky) or its window ends (0 for an unused window)."""
        window = self.bucket.window_seconds
        if window is None:
            return self.used / self.bucket.restore_rate
        return max(0.0, self.stamp + window - self.now) if self.used else 0.0

    @property
    def retry_after(self) -> float:
        """Seconds until the refused cost would fit; 0.0 when it was allowed."""
        if self.allowed:
            return 0.0
        if self.bucket.window_seconds is None:
            return (self.used + self.cost - self.bucket.capacity) / self.bucket.restore_rate
        return self.reset_after

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "scope": self.scope,
            "used": round(self.used, 3),
            "capacity": self.capacity,
            "restore_rate": self.restore_rate,
            "window_seconds": self.window_seconds,
            "reset_after_seconds": round(self.reset_after, 3),
        }


class BucketTable:
    """The buckets of one server (every worker of it, when `path` is a shared file)."""

    def __init__(self, path: Path | None = None, slots: int = SLOTS):
        self.slots = slots
        self.path = path
        size = slots * SLOT_BYTES
        self._thread_lock = threading.Lock()  # the threads of this process, one at a time
        self._descriptor: tuple[int, int] | None = None  # shared: (pid, descriptor) this process flock()s
        if path is None:
            self._map = mmap.mmap(-1, size)
        else:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if os.fstat(descriptor).st_size < size:
                    os.ftruncate(descriptor, size)  # zero bytes: every slot free
                self._map = mmap.mmap(descriptor, size)
            finally:
                os.close(descriptor)
        self._where: dict[str, tuple[int, int]] = {}  # label -> (slot offset, hash), this process's memo

    # -- the interface -------------------------------------------------------------------

    def take(self, kind: BucketKind, key: str, cost: float = 1.0, scope: str = "") -> BucketState:
        """Spend `cost` from the bucket if it fits (a negative cost gives units back).

        The hot path of every platform request: kept to a memo lookup, one unpack and one pack
        under the lock.
        """
        label = f"{scope}{SEPARATOR}{kind.name}{SEPARATOR}{key}"
        now = clock()
        table = self._map
        release = self._acquire()
        try:
            memo = self._where.get(label)
            if memo is not None:
                offset, key_hash = memo
                stored_hash, used, stamp = _HEAD.unpack_from(table, offset)
            if memo is None or stored_hash != key_hash:
                offset, key_hash = self._slot(label)
                stored_hash, used, stamp = _HEAD.unpack_from(table, offset)
                if stored_hash != key_hash:
                    used = stamp = 0.0
                    self._write_label(offset, key_hash, label)
            window = kind.window_seconds
            if window is None:
                used -= kind.restore_rate * (now - stamp)
                if used < 0.0:
                    used = 0.0
                stamp = now
            elif stamp == 0.0 or now >= stamp + window:
                used, stamp = 0.0, now
            allowed = cost <= 0 or used + cost <= kind.capacity + _FIT
            if allowed:
                used = max(0.0, used + cost)
            _HEAD.pack_into(table, offset, key_hash, used, stamp)
        finally:
            release()
        return BucketState(kind, key, scope, used, allowed, stamp, now, cost)

    def peek(self, kind: BucketKind, key: str, scope: str = "") -> BucketState:
        """The bucket as it is now, without spending anything."""
        label = f"{scope}{SEPARATOR}{kind.name}{SEPARATOR}{key}"
        now = clock()
        release = self._acquire()
        try:
            found = self._find(_hash(label))
            used, stamp = (0.0, 0.0) if found is None else _HEAD.unpack_from(self._map, found)[1:]
        finally:
            release()
        return _at(kind, key, scope, used, stamp, now)

    def buckets(self, kinds: Mapping[str, BucketKind]) -> list[BucketState]:
        """Every bucket of a known kind that is not empty now, for the admin API."""
        now = clock()
        release = self._acquire()
        try:
            rows = [self._row(offset) for offset in range(0, self.slots * SLOT_BYTES, SLOT_BYTES)]
        finally:
            release()
        found = []
        for key_hash, used, stamp, label in rows:
            if not key_hash:
                continue
            scope, _, rest = label.partition(SEPARATOR)
            kind_name, _, key = rest.partition(SEPARATOR)
            kind = kinds.get(kind_name)
            if kind is not None:
                state = _at(kind, key, scope, used, stamp, now)
                if state.used > _FIT:
                    found.append(state)
        return sorted(found, key=lambda state: (state.scope, state.kind, state.key))

    def reset(self, scope: str | None = None) -> int:
        """Empty every bucket (or those of one scope); returns how many held something."""
        emptied = 0
        release = self._acquire()
        try:
            for offset in range(0, self.slots * SLOT_BYTES, SLOT_BYTES):
                key_hash, used, _, label = self._row(offset)
                if not key_hash or (scope is not None and label.partition(SEPARATOR)[0] != scope):
                    continue
                emptied += used > _FIT
                self._map[offset : offset + SLOT_BYTES] = bytes(SLOT_BYTES)
            self._where.clear()
        finally:
            release()
        return emptied

    def close(self) -> None:
        with self._thread_lock:
            if self._descriptor is not None and self._descriptor[0] == os.getpid():
                os.close(self._descriptor[1])
            self._descriptor = None
        self._map.close()

    # -- locking and slots -----------------------------------------------------------------

    def _acquire(self) -> Callable[[], None]:
        """Take the lock; returns what releases it.

        One process: a thread lock. Shared by workers: the thread lock, then an exclusive `flock`
        on this process's descriptor of the file, which excludes the other workers (the kernel
        drops it if a worker dies holding it). The `flock` is tried first without waiting and
        without releasing the GIL; only when another worker holds it does this thread wait, with
        the GIL released.
        """
        self._thread_lock.acquire()
        if self.path is None:
            return self._thread_lock.release
        try:
            descriptor = self._process_descriptor()
            if _try_flock is None or _try_flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB) != 0:
                fcntl.flock(descriptor, fcntl.LOCK_EX)  # held by another worker (or no quick path): wait
        except BaseException:
            self._thread_lock.release()
            raise
        return self._release_shared

    def _release_shared(self) -> None:
        try:
            descriptor = self._descriptor[1]  # type: ignore[index]  # set while the lock is held
            if _try_flock is None or _try_flock(descriptor, fcntl.LOCK_UN) != 0:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def _process_descriptor(self) -> int:
        """This process's own descriptor of the table file (under the thread lock).

        Its own open file description: one inherited across a fork would share the parent's
        `flock`, and then the two would not exclude each other.
        """
        pid = _process.pid
        if self._descriptor is None or self._descriptor[0] != pid:
            self._descriptor = (pid, os.open(self.path, os.O_RDWR))  # type: ignore[arg-type]
        return self._descriptor[1]

    def _slot(self, label: str) -> tuple[int, int]:
        """The slot of `label` (under the lock): its own, a free one, or the stalest nearby."""
        key_hash = _hash(label)
        offset = self._find(key_hash)
        if offset is None:
            offset = self._free_or_stalest(key_hash)
        if len(self._where) > 4 * self.slots:  # fuzzers send endless tokens: keep the memo bounded
            self._where.clear()
        self._where[label] = (offset, key_hash)
        return offset, key_hash

    def _probe(self, key_hash: int) -> Iterator[int]:
        home = key_hash % self.slots
        for step in range(min(PROBE, self.slots)):
            yield ((home + step) % self.slots) * SLOT_BYTES

    def _find(self, key_hash: int) -> int | None:
        for offset in self._probe(key_hash):
            if _HEAD.unpack_from(self._map, offset)[0] == key_hash:
                return offset
        return None

    def _free_or_stalest(self, key_hash: int) -> int:
        stalest, oldest = None, math.inf
        for offset in self._probe(key_hash):
            stored_hash, _, stamp = _HEAD.unpack_from(self._map, offset)
            if not stored_hash:
                return offset
            if stamp < oldest:
                stalest, oldest = offset, stamp
        assert stalest is not None
        return stalest

    def _write_label(self, offset: int, key_hash: int, label: str) -> None:
        data = label.encode("utf-8", "surrogatepass")[:LABEL_BYTES]
        _HEAD.pack_into(self._map, offset, key_hash, 0.0, 0.0)
        _LABEL_LENGTH.pack_into(self._map, offset + _HEAD.size, len(data))
        self._map[offset + _LABEL_AT : offset + _LABEL_AT + len(data)] = data

    def _row(self, offset: int) -> tuple[int, float, float, str]:
        key_hash, used, stamp = _HEAD.unpack_from(self._map, offset)
        (length,) = _LABEL_LENGTH.unpack_from(self._map, offset + _HEAD.size)
        label = self._map[offset + _LABEL_AT : offset + _LABEL_AT + length].decode("utf-8", "replace")
        return key_hash, used, stamp, label


def _gil_holding_flock() -> Callable[[int, int], int] | None:
    """libc's `flock`, called without releasing the GIL (ctypes.PyDLL), or None where it is not found.

    Only for calls that return at once: LOCK_NB attempts and unlocks. `fcntl.flock` releases the
    GIL around every call, even one that cannot wait.
    """
    try:
        function = ctypes.PyDLL(None).flock
    except (AttributeError, OSError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_int)
    function.restype = ctypes.c_int
    return function


_try_flock = _gil_holding_flock()


class _Process:
    """This process's id, kept current across forks: `os.getpid()` is a system call per take."""

    def __init__(self) -> None:
        self.refresh()
        os.register_at_fork(after_in_child=self.refresh)

    def refresh(self) -> None:
        self.pid = os.getpid()


_process = _Process()


def _hash(label: str) -> int:
    """A 64-bit hash that is the same in every process (`hash()` is salted per process); never 0."""
    digest = hashlib.blake2b(label.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


def _at(kind: BucketKind, key: str, scope: str, used: float, stamp: float, now: float) -> BucketState:
    """A stored bucket brought up to `now` (leaked, or its window over), as a peek sees it."""
    if kind.window_seconds is None:
        used, stamp = max(0.0, used - kind.restore_rate * (now - stamp)), now
    elif stamp == 0.0 or now >= stamp + kind.window_seconds:
        used, stamp = 0.0, now
    return BucketState(kind, key, scope, used, used + 1 <= kind.capacity + _FIT, stamp, now, 1.0)


# -- what a platform supplies, and the step the request pipeline calls -------------------------


class RateLimitPolicy(Protocol):
    """A platform's rate limit: its bucket per plan, the key of a request, its headers and 429."""

    plans: Mapping[str, BucketKind]  # plan name -> bucket; "standard" is the default

    def key(self, environ: Mapping[str, Any]) -> str:
        """The bucket a request counts in (an access token, a store hash)."""
        ...

    def headers(self, state: BucketState | None, status: int) -> dict[str, str]:
        """The headers of an answer with `status` once the request was counted (`state` None:
        a request this bucket does not count, see `counts`)."""
        ...

    def throttled(self, path: str, state: BucketState) -> MockHTTPError:
        """The platform's own 429 for a request the bucket refused."""
        ...


class Metered(NamedTuple):
    """One request as counted: the platform's policy and the bucket after the take (None: a
    request another bucket prices, such as Shopify GraphQL's, which still gets the platform's
    per-answer headers, e.g. `X-Request-Id`)."""

    policy: RateLimitPolicy
    state: BucketState | None

    @property
    def refused(self) -> bool:
        return self.state is not None and not self.state.allowed

    def headers(self, status: int) -> dict[str, str]:
        return self.policy.headers(self.state, status)


class RateLimits:
    """The buckets of every platform that has a policy, with the plan and throttle chosen at start."""

    def __init__(
        self,
        policies: Mapping[str, RateLimitPolicy],
        plans: Collection[str] = (),
        throttle: bool = False,
        path: Path | None = None,
    ):
        unknown = set(plans) - known_plans(policies.values())
        if unknown:
            raise ValueError(
                f"unknown plan {sorted(unknown)[0]!r}; known: {', '.join(sorted(known_plans(policies.values())))}"
            )
        self.policies = dict(policies)
        self.throttle = throttle
        self.kinds: dict[str, BucketKind] = {}  # platform -> its bucket kind under the chosen plans
        for platform, policy in self.policies.items():
            chosen = [policy.plans[plan] for plan in plans if plan in policy.plans]
            self.kinds[platform] = chosen[-1] if chosen else policy.plans["standard"]
        # platform -> whether a request counts in its bucket (None: every request does)
        self._counts = {platform: getattr(policy, "counts", None) for platform, policy in self.policies.items()}
        self.other_kinds: dict[str, BucketKind] = {}  # kinds taken from through `take`, by name
        self.table = BucketTable(path)

    def meter(self, platform: str, environ: Mapping[str, Any], scope: str = "") -> Metered | None:
        """Count one request to `platform` (None when it has no rate limit)."""
        policy = self.policies.get(platform)
        if policy is None:
            return None
        counts = self._counts[platform]
        if counts is not None and not counts(environ):  # a request another bucket prices (GraphQL)
            return Metered(policy, None)
        return Metered(policy, self.table.take(self.kinds[platform], policy.key(environ), 1.0, scope))

    def take(self, kind: BucketKind, key: str, cost: float = 1.0, scope: str = "") -> BucketState:
        """Spend from any bucket, e.g. Shopify GraphQL's query cost (a kind of its own, cost-based
        takes); the kind is remembered so the admin API lists its buckets too."""
        self.other_kinds.setdefault(kind.name, kind)
        return self.table.take(kind, key, cost, scope)

    def peek(self, kind: BucketKind, key: str, scope: str = "") -> BucketState:
        return self.table.peek(kind, key, scope)

    def buckets(self) -> list[BucketState]:
        kinds = {**self.other_kinds, **{kind.name: kind for kind in self.kinds.values()}}
        return self.table.buckets(kinds)

    def reset(self, scope: str | None = None) -> int:
        return self.table.reset(scope)

    def close(self) -> None:
        self.table.close()


def known_plans(policies: Collection[RateLimitPolicy]) -> set[str]:
    return {plan for policy in policies for plan in policy.plans}


def with_rate_limit_headers(reply: Reply, metered: Metered | None) -> None:
    """Add the platform's rate-limit headers; a header the reply already has (a scenario's) stays."""
    if metered is not None:
        headers = metered.policy.headers(metered.state, reply.status)  # `metered.headers`, a call less
        if reply.headers:
            headers.update(reply.headers)
        reply.headers = headers
