"""HTTP to a real store, for `record` and `verify`: the one place that decides what may leave.

Only reads may reach a store from these tools: any GET, and the two POSTs that create nothing
(Shopify's `refunds/calculate.json`, BigCommerce's `payment_actions/refund_quotes`).
`ReadOnlySession.send` is the last step before a request goes on the wire, so a request that is
not one of those is refused there, whoever builds it (redirects included, which are not followed
anyway so a token never travels to another host).

The client backs off instead of hammering a store: after a 429 it waits what the store asks
(Shopify `Retry-After` seconds, BigCommerce `X-Rate-Limit-Time-Reset-Ms`), else 1, 2, 4... s;
and when a store says its bucket is nearly empty (Shopify `X-Shopify-Shop-Api-Call-Limit:
used/size`, BigCommerce `X-Rate-Limit-Requests-Left`) it pauses before the next request.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

SHOPIFY_API = "/admin/api/2020-10"
TIMEOUT_SECONDS = 30.0
MAX_RETRIES = 5
MAX_BACKOFF_SECONDS = 60.0
# Requests that create nothing on the store, matched on the end of the URL's path.
READ_ONLY_POSTS = (
    re.compile(r"/admin/api/[0-9]{4}-[0-9]{2}/orders/[0-9]+/refunds/calculate\.json\Z"),
    re.compile(r"/v3/orders/[0-9]+/payment_actions/refund_quotes\Z"),
)
AUTH_HEADERS = {"shopify": "X-Shopify-Access-Token", "bigcommerce": "X-Auth-Token"}


class WriteRefused(RuntimeError):
    """A request that could change a store was about to leave `record` or `verify`."""


def may_leave(method: str, url: str) -> bool:
    """Whether `method url` is a read: a GET, or one of the POSTs that only compute."""
    if method == "GET":
        return True
    path = urlsplit(url).path
    if method != "POST" or ".." in path or "%" in path or "//" in path:  # no dot segments nor escapes
        return False
    return any(pattern.search(path) for pattern in READ_ONLY_POSTS)


class ReadOnlySession(requests.Session):
    """A `requests` session that sends nothing but reads (see `may_leave`)."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        method = (request.method or "").upper()
        if not may_leave(method, request.url or ""):
            raise WriteRefused(
                f"refused to send {method} {urlsplit(request.url or '').path}: record and verify only read"
            )
        return super().send(request, **kwargs)


@dataclass
class Answer:
    """A store's answer: status, headers and the JSON body (None when empty or not JSON)."""

    status: int
    headers: Mapping[str, str]
    body: Any
    text: str = ""


def retry_delay(headers: Mapping[str, str], attempt: int) -> float:
    """Seconds to wait after a 429: what the store asks, else an exponential back-off."""
    retry_after = _number(headers.get("Retry-After"))
    if retry_after is not None:
        return min(max(retry_after, 0.0), MAX_BACKOFF_SECONDS)
    reset_ms = _number(headers.get("X-Rate-Limit-Time-Reset-Ms"))
    if reset_ms is not None:
        return min(max(reset_ms / 1000, 0.0), MAX_BACKOFF_SECONDS)
    return min(2.0**attempt, MAX_BACKOFF_SECONDS)


def pause_after(headers: Mapping[str, str]) -> float:
    """Seconds to wait before the next request so the store's bucket is never emptied.

    Shopify's bucket leaks `size / 20` requests a second (40 -> 2/s, 400 -> 20/s); we keep two
    requests of room. BigCommerce says how many requests are left in the window and when it resets.
    """
    call_limit = headers.get("X-Shopify-Shop-Api-Call-Limit")
    if call_limit:
        used_text, _, size_text = call_limit.partition("/")
        used, size = _number(used_text), _number(size_text)
        if used is not None and size and size - used <= 2:
            return min((used - size + 3) / (size / 20), MAX_BACKOFF_SECONDS)
    left = _number(headers.get("X-Rate-Limit-Requests-Left"))
    if left is not None and left <= 1:
        reset_ms = _number(headers.get("X-Rate-Limit-Time-Reset-Ms"))
        return min((reset_ms or 1000) / 1000, MAX_BACKOFF_SECONDS)
    return 0.0


def _number(text: str | None) -> float | None:
    try:
        return float(text.strip()) if text is not None else None
    except ValueError:
        return None


class StoreClient:
    """Reads one store of one platform, politely. Paths are the platform's own, below `base_url`:
    Shopify `/orders/1.json` (the 2020-10 API prefix is added), BigCommerce `/v2/orders/1`."""

    def __init__(
        self,
        platform: str,
        base_url: str,
        token: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        note: Callable[[str], None] = lambda message: None,
        max_retries: int = MAX_RETRIES,
    ):
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self.prefix = SHOPIFY_API if platform == "shopify" else ""
        self.session = ReadOnlySession()
        self.session.headers.update({AUTH_HEADERS[platform]: token, "Accept": "application/json"})
        self.sleep = sleep
        self.note = note
        self.max_retries = max_retries

    def url(self, path: str) -> str:
        return f"{self.base_url}{self.prefix}{path}"

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Answer:
        return self.send("GET", path, params=params)

    def post(self, path: str, body: Any) -> Answer:
        return self.send("POST", path, body=body)

    def send(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None) -> Answer:
        """One request, retried after 429s (at most `max_retries` times)."""
        url = self.url(path)
        for attempt in range(self.max_retries + 1):
            response = self.session.request(
                method,
                url,
                params=params,
                json=body if method == "POST" else None,
                timeout=TIMEOUT_SECONDS,
                allow_redirects=False,
            )
            if response.status_code == 429 and attempt < self.max_retries:
                delay = retry_delay(response.headers, attempt)
                self.note(f"429 from {urlsplit(url).path}: waiting {delay:g} s (retry {attempt + 1})")
                self.sleep(delay)
                continue
            pause = pause_after(response.headers)
            if pause:
                self.note(f"rate limit nearly reached: waiting {pause:g} s")
                self.sleep(pause)
            return Answer(response.status_code, response.headers, _json(response), response.text)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self.session.close()


def _json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
