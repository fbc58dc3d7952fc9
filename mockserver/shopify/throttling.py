"""Shopify's REST call limit: a leaky bucket per access token, and the headers every answer carries.

Sizes from Shopify (reference notes, rate limits 2.1): 40 calls leaking 2 per second, Plus 400
leaking 20 per second. Every REST answer says `X-Shopify-Shop-Api-Call-Limit: used/bucket`,
`X-Request-Id` and the API version that answered; a refused call is Shopify's 429 with
`Retry-After`.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping
from typing import Any

from mockserver.platform import MockHTTPError
from mockserver.ratelimit import BucketKind, BucketState
from mockserver.shopify.exceptions import Throttled

API_VERSION = "2020-10"
CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"
TOKEN_ENVIRON_KEY = "HTTP_X_SHOPIFY_ACCESS_TOKEN"
PLANS = {
    "standard": BucketKind("shopify-rest", 40, 2.0),
    "plus": BucketKind("shopify-rest", 400, 20.0),
}


class RequestIds:
    """Unique, uuid-shaped request ids, cheaply: a random prefix per process and a counter.

    (`uuid.uuid4()` costs some microseconds a request; this a fraction of one.) A forked worker
    draws its own prefix, so it never repeats its parent's ids.
    """

    def __init__(self) -> None:
        self._fresh_prefix()
        os.register_at_fork(after_in_child=self._fresh_prefix)

    def _fresh_prefix(self) -> None:
        random = os.urandom(10).hex()
        variant = "89ab"[int(random[16], 16) % 4]
        self._prefix = f"{random[:8]}-{random[8:12]}-4{random[13:16]}-{variant}{random[17:20]}-"
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):012x}"


class ShopifyRateLimit:
    """The policy `mockserver.ratelimit.RateLimits` applies to Shopify requests."""

    plans: Mapping[str, BucketKind] = PLANS

    def __init__(self) -> None:
        self.request_ids = RequestIds()

    def counts(self, environ: Mapping[str, Any]) -> bool:
        """Whether a request counts in the REST call limit: GraphQL requests are priced by query
        cost in a bucket of their own (mockserver/shopify/graphql/throttle.py), as Shopify's are."""
        return not environ.get("PATH_INFO", "").endswith("/graphql.json")

    def key(self, environ: Mapping[str, Any]) -> str:
        """The access token sent (requests without one share the bucket of the empty token)."""
        return environ.get(TOKEN_ENVIRON_KEY, "")

    def headers(self, state: BucketState | None, status: int) -> dict[str, str]:
        if state is None:  # GraphQL: no REST call limit, its own version header; an id like every answer
            return {"X-Request-Id": self.request_ids.next()}
        capacity = state.bucket.capacity
        used = capacity if status == 429 else min(capacity, math.ceil(state.used - 1e-9))
        return {
            CALL_LIMIT_HEADER: f"{used:.0f}/{capacity:.0f}",
            "X-Request-Id": self.request_ids.next(),
            "X-Shopify-API-Version": API_VERSION,
        }

    def throttled(self, path: str, state: BucketState) -> MockHTTPError:
        return Throttled(state.restore_rate)
