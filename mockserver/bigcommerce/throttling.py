"""BigCommerce's rate limit: a fixed window of requests per store, and the four headers it reports.

Quotas from BigCommerce (reference notes, rate limiting): Standard and Plus 150 requests per
30 seconds, Pro 450; shared by every app of the store, so counted per store hash. Every V2 and V3
answer carries `X-Rate-Limit-Time-Window-Ms`, `-Time-Reset-Ms`, `-Requests-Quota` and
`-Requests-Left`; a refused request is a 429 with the same four (no `Retry-After`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mockserver.bigcommerce.exceptions import RateLimited, is_v2
from mockserver.platform import MockHTTPError
from mockserver.ratelimit import BucketKind, BucketState

WINDOW_SECONDS = 30.0
PLANS = {
    "standard": BucketKind.window("bigcommerce-api", 150, WINDOW_SECONDS),
    "plus": BucketKind.window("bigcommerce-api", 150, WINDOW_SECONDS),
    "pro": BucketKind.window("bigcommerce-api", 450, WINDOW_SECONDS),
}


def store_hash_of(path: str) -> str:
    """`/stores/abc123/v3/...` -> `abc123` (empty for a path outside any store)."""
    parts = path.split("/", 3)
    return parts[2] if len(parts) > 2 and parts[1] == "stores" else ""


def rate_limit_headers(state: BucketState, status: int) -> dict[str, str]:
    quota = int(state.capacity)
    left = 0 if status == 429 else max(0, quota - math.ceil(state.used - 1e-9))
    window = state.window_seconds or WINDOW_SECONDS
    return {
        "X-Rate-Limit-Time-Window-Ms": str(int(window * 1000)),
        "X-Rate-Limit-Time-Reset-Ms": str(math.ceil(state.reset_after * 1000)),
        "X-Rate-Limit-Requests-Quota": str(quota),
        "X-Rate-Limit-Requests-Left": str(left),
    }


class BigCommerceRateLimit:
    """The policy `mockserver.ratelimit.RateLimits` applies to BigCommerce requests."""

    plans: Mapping[str, BucketKind] = PLANS

    def key(self, environ: Mapping[str, Any]) -> str:
        return store_hash_of(environ.get("PATH_INFO", ""))

    def headers(self, state: BucketState, status: int) -> dict[str, str]:
        return rate_limit_headers(state, status)

    def throttled(self, path: str, state: BucketState) -> MockHTTPError:
        error = RateLimited(rate_limit_headers(state, 429))
        return error.as_v2() if is_v2(path) else error
