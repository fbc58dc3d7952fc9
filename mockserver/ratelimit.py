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
`flock` on that file (plus a thread lock) guards each take; a take costs a few microseconds
(docs/performance.md). Keys are hashed into the table; when more buckets are alive than the
table holds, the least recently used nearby slot is reused (that bucket starts afresh).
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import mmap
import os
import struct
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mockserver.platform import MockHTTPError

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


@dataclass(frozen=True)
class BucketState:
    """A bucket after a take (or a peek): what the headers and a 429 are made from."""

    kind: str
    key: str
    scope: str
    used: float  # units in the bucket now (a leaky bucket's level, a window's count)
    capacity: float
    restore_rate: float
    allowed: bool  # whether the take fitted (a peek: whether one more unit would)
    retry_after: float  # seconds until the refused cost would fit; 0.0 when allowed
    reset_after: float  # seconds until the bucket is empty (leaky) or the window ends
    window_seconds: float | None = None

    @property
    def available(self) -> float:
        return max(0.0, self.capacity - self.used)

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
        size = slots * SLOT_BYTES
        self._thread_lock = threading.Lock()
        self._descriptor: int | None = None
        if path is None:
            self._map = mmap.mmap(-1, size)
        else:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            if os.fstat(descriptor).st_size < size:
                os.ftruncate(descriptor, size)  # zero bytes: every slot free
            self._map = mmap.mmap(descriptor, size)
            self._descriptor = descriptor
        self._where: dict[str, tuple[int, int]] = {}  # label -> (slot offset, hash), this process's memo

    # -- the interface -------------------------------------------------------------------

    def take(self, kind: BucketKind, key: str, cost: float = 1.0, scope: str = "") -> BucketState:
        """Spend `cost` from the bucket if it fits (a negative cost gives units back)."""
        label = f"{scope}{SEPARATOR}{kind.name}{SEPARATOR}{key}"
        now = clock()
        with self._locked():
            offset, key_hash = self._slot(label, now)
            stored_hash, used, stamp = _HEAD.unpack_from(self._map, offset)
            if stored_hash != key_hash:
                used, stamp = 0.0, 0.0
                self._write_label(offset, key_hash, label)
            used, stamp = _current(kind, used, stamp, now)
            allowed = cost <= 0 or used + cost <= kind.capacity + _FIT
            if allowed:
                used = max(0.0, used + cost)
            _HEAD.pack_into(self._map, offset, key_hash, used, stamp)
        return _state(kind, key, scope, used, stamp, now, allowed, cost)

    def peek(self, kind: BucketKind, key: str, scope: str = "") -> BucketState:
        """The bucket as it is now, without spending anything."""
        label = f"{scope}{SEPARATOR}{kind.name}{SEPARATOR}{key}"
        now = clock()
        key_hash = _hash(label)
        with self._locked():
            found = self._find(label, key_hash)
            used, stamp = (0.0, 0.0) if found is None else _HEAD.unpack_from(self._map, found)[1:]
        used, stamp = _current(kind, used, stamp, now)
        return _state(kind, key, scope, used, stamp, now, used + 1 <= kind.capacity + _FIT, 1.0)

    def buckets(self, kinds: Mapping[str, BucketKind]) -> list[BucketState]:
        """Every bucket of a known kind that is not empty now, for the admin API."""
        now = clock()
        found = []
        with self._locked():
            rows = [self._row(offset) for offset in range(0, self.slots * SLOT_BYTES, SLOT_BYTES)]
        for key_hash, used, stamp, label in rows:
            if not key_hash:
                continue
            scope, _, rest = label.partition(SEPARATOR)
            kind_name, _, key = rest.partition(SEPARATOR)
            kind = kinds.get(kind_name)
            if kind is None:
                continue
            used, stamp = _current(kind, used, stamp, now)
            if used > _FIT:
                found.append(_state(kind, key, scope, used, stamp, now, used + 1 <= kind.capacity + _FIT, 1.0))
        return sorted(found, key=lambda state: (state.scope, state.kind, state.key))

    def reset(self, scope: str | None = None) -> int:
        """Empty every bucket (or those of one scope); returns how many held something."""
        emptied = 0
        with self._locked():
            for offset in range(0, self.slots * SLOT_BYTES, SLOT_BYTES):
                key_hash, used, _, label = self._row(offset)
                if not key_hash or (scope is not None and label.partition(SEPARATOR)[0] != scope):
                    continue
                emptied += used > _FIT
                self._map[offset : offset + SLOT_BYTES] = bytes(SLOT_BYTES)
            self._where.clear()
        return emptied

    def close(self) -> None:
        self._map.close()
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None

    # -- slots ---------------------------------------------------------------------------

    def _locked(self) -> _Lock:
        return _Lock(self._thread_lock, self._descriptor)

    def _slot(self, label: str, now: float) -> tuple[int, int]:
        """The slot of `label` (under the lock): its own, a free one, or the stalest nearby."""
        memo = self._where.get(label)
        if memo is not None and _HEAD.unpack_from(self._map, memo[0])[0] == memo[1]:
            return memo
        key_hash = _hash(label)
        offset = self._find(label, key_hash)
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

    def _find(self, label: str, key_hash: int) -> int | None:
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


class _Lock:
    """The thread lock, then (with a shared file) an exclusive `flock` on it."""

    __slots__ = ("descriptor", "thread_lock")

    def __init__(self, thread_lock: threading.Lock, descriptor: int | None):
        self.thread_lock = thread_lock
        self.descriptor = descriptor

    def __enter__(self) -> None:
        self.thread_lock.acquire()
        if self.descriptor is not None:
            try:
                fcntl.flock(self.descriptor, fcntl.LOCK_EX)
            except BaseException:
                self.thread_lock.release()
                raise

    def __exit__(self, *_: object) -> None:
        if self.descriptor is not None:
            fcntl.flock(self.descriptor, fcntl.LOCK_UN)
        self.thread_lock.release()


def _hash(label: str) -> int:
    """A 64-bit hash that is the same in every process (`hash()` is salted per process); never 0."""
    digest = hashlib.blake2b(label.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


def _current(kind: BucketKind, used: float, stamp: float, now: float) -> tuple[float, float]:
    """`(used, stamp)` brought up to `now`: leaked, or a new window when the last one ended."""
    if kind.window_seconds is None:
        return max(0.0, used - kind.restore_rate * (now - stamp)), now
    if now >= stamp + kind.window_seconds or stamp == 0.0:
        return 0.0, now
    return used, stamp


def _state(
    kind: BucketKind, key: str, scope: str, used: float, stamp: float, now: float, allowed: bool, cost: float
) -> BucketState:
    if kind.window_seconds is None:
        reset_after = used / kind.restore_rate
        retry_after = 0.0 if allowed else (used + cost - kind.capacity) / kind.restore_rate
    else:
        reset_after = max(0.0, stamp + kind.window_seconds - now) if used else 0.0
        retry_after = 0.0 if allowed else reset_after
    return BucketState(
        kind.name,
        key,
        scope,
        used,
        kind.capacity,
        kind.restore_rate,
        allowed,
        retry_after,
        reset_after,
        kind.window_seconds,
    )


# -- what a platform supplies, and the step the request pipeline calls -------------------------


class RateLimitPolicy(Protocol):
    """A platform's rate limit: its bucket per plan, the key of a request, its headers and 429."""

    plans: Mapping[str, BucketKind]  # plan name -> bucket; "standard" is the default

    def key(self, environ: Mapping[str, Any]) -> str:
        """The bucket a request counts in (an access token, a store hash)."""
        ...

    def headers(self, state: BucketState, status: int) -> dict[str, str]:
        """The headers of an answer with `status` once the request was counted."""
        ...

    def throttled(self, path: str, state: BucketState) -> MockHTTPError:
        """The platform's own 429 for a request the bucket refused."""
        ...


@dataclass(frozen=True)
class Metered:
    """One request as counted: the platform's policy and the bucket after the take."""

    policy: RateLimitPolicy
    state: BucketState

    @property
    def refused(self) -> bool:
        return not self.state.allowed

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
        self.table = BucketTable(path)

    def meter(self, platform: str, environ: Mapping[str, Any], scope: str = "") -> Metered | None:
        """Count one request to `platform` (None when it has no rate limit)."""
        policy = self.policies.get(platform)
        if policy is None:
            return None
        return Metered(policy, self.table.take(self.kinds[platform], policy.key(environ), 1.0, scope))

    def buckets(self) -> list[BucketState]:
        return self.table.buckets({kind.name: kind for kind in self.kinds.values()})

    def reset(self, scope: str | None = None) -> int:
        return self.table.reset(scope)

    def close(self) -> None:
        self.table.close()


def known_plans(policies: Collection[RateLimitPolicy]) -> set[str]:
    return {plan for policy in policies for plan in policy.plans}
