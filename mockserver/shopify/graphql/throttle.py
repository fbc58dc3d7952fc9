"""The query-cost bucket behind `extensions.cost.throttleStatus` and `THROTTLED`.

Shopify keeps one leaky bucket of cost points per app and store. A development store captured in
2025 answered `maximumAvailable: 2000, restoreRate: 100` (Standard plan: 100 points a second);
the mock uses those figures, one bucket per access token. A query must fit its requested cost;
afterwards the difference between requested and actual cost is given back.

`CostBuckets` is the interface the endpoint uses. `LocalCostBuckets` is a small in-process leaky
bucket; the rate-limit buckets beside the store (`mockserver.ratelimit`), once present, replace
it so that every worker counts in the same bucket (`buckets_for`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

CAPACITY = 2000.0
RESTORE_RATE = 100.0
KIND_NAME = "shopify-graphql"


@dataclass(frozen=True)
class CostStatus:
    """The bucket after a take: what `throttleStatus` says."""

    allowed: bool
    capacity: float
    available: float
    restore_rate: float

    def throttle_status(self) -> dict[str, Any]:
        return {
            "maximumAvailable": self.capacity,
            "currentlyAvailable": int(self.available),
            "restoreRate": self.restore_rate,
        }


class CostBuckets(Protocol):
    def take(self, key: str, cost: float, scope: str = "") -> CostStatus:
        """Spend `cost` points if they fit (a negative cost gives points back); `scope`: a named
        session's buckets (mockserver.sessions), "" the default session's."""
        ...


class LocalCostBuckets:
    """Leaky buckets of one process."""

    def __init__(self, capacity: float = CAPACITY, restore_rate: float = RESTORE_RATE):
        self.capacity = capacity
        self.restore_rate = restore_rate
        self._used: dict[str, tuple[float, float]] = {}  # key -> (points used, when)
        self._lock = threading.Lock()

    def take(self, key: str, cost: float, scope: str = "") -> CostStatus:
        now = time.monotonic()
        key = f"{scope}\x1f{key}" if scope else key
        with self._lock:
            used, stamp = self._used.get(key, (0.0, now))
            used = max(0.0, used - (now - stamp) * self.restore_rate)
            allowed = cost <= 0 or used + cost <= self.capacity
            if allowed:
                used = max(0.0, used + cost)
            if len(self._used) > 10_000:  # fuzzers send endless tokens
                self._used.clear()
            self._used[key] = (used, now)
        return CostStatus(allowed, self.capacity, self.capacity - used, self.restore_rate)

    def reset(self) -> None:
        with self._lock:
            self._used.clear()


class SharedCostBuckets:
    """The cost buckets kept in the server's rate-limit table (`mockserver.ratelimit`), which every
    worker process shares and the admin API lists, as a bucket kind of their own."""

    def __init__(self, rate_limits: Any, capacity: float = CAPACITY, restore_rate: float = RESTORE_RATE):
        from mockserver.ratelimit import BucketKind

        self.rate_limits = rate_limits
        self.kind = BucketKind(KIND_NAME, capacity, restore_rate)

    def take(self, key: str, cost: float, scope: str = "") -> CostStatus:
        state = self.rate_limits.take(self.kind, key, cost, scope)
        return CostStatus(state.allowed, state.capacity, state.available, state.restore_rate)


def buckets_for(server: Any) -> CostBuckets:
    """The server's cost buckets, made on first use: the shared rate-limit table when the server
    has one, else a bucket of this process."""
    buckets = getattr(server, "graphql_cost_buckets", None)
    if buckets is None:
        rate_limits = getattr(server, "rate_limits", None)
        if rate_limits is not None and hasattr(rate_limits, "take"):
            buckets = SharedCostBuckets(rate_limits)
        else:
            buckets = LocalCostBuckets()
        server.graphql_cost_buckets = buckets
    return buckets


def throttling(server: Any) -> bool:
    """Whether the server answers `THROTTLED` when the bucket is spent (`serve --throttle`)."""
    config = server.config
    return bool(getattr(config, "throttle", False) or config.extra.get("throttle", False))
