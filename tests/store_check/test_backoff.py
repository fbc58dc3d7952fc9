"""record and verify back off as a store asks: after a 429 they wait its `Retry-After` (Shopify)
or `X-Rate-Limit-Time-Reset-Ms` (BigCommerce), and pause when the bucket is nearly empty. The
header values are the platforms' documented examples (rate-limits reference: Shopify
`X-Shopify-Shop-Api-Call-Limit: 39/40`, `Retry-After: 2.0`; BigCommerce `X-Rate-Limit-Time-Reset-Ms:
15000`, `X-Rate-Limit-Requests-Left`). Waits are recorded, not slept: no test here takes time."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from mockserver.contract.http import StoreClient, pause_after, retry_delay

Scripted = list[tuple[int, dict[str, str]]]
THROTTLED = (  # Shopify's 429 body
    '{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}'
)


@pytest.fixture
def scripted_store() -> Iterator[tuple[str, Scripted, list[str]]]:
    """A real loopback server answering from a script of (status, headers), then 200s."""
    script: Scripted = []
    arrived: list[str] = []

    @Request.application
    def app(request: Request) -> Response:
        arrived.append(request.path)
        status, headers = script.pop(0) if script else (200, {})
        body = THROTTLED if status == 429 else '{"order":{"id":1}}'
        return Response(body, status, headers, content_type="application/json")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", script, arrived
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def client(platform: str, base: str, waits: list[float], **settings: int) -> StoreClient:
    return StoreClient(platform, base, "token", sleep=waits.append, **settings)


def test_shopify_429s_are_retried_after_retry_after(scripted_store: tuple[str, Scripted, list[str]]) -> None:
    base, script, arrived = scripted_store
    script += [
        (429, {"Retry-After": "2.0"}),
        (429, {"Retry-After": "2.0"}),
        (200, {"X-Shopify-Shop-Api-Call-Limit": "1/40"}),
    ]
    waits: list[float] = []
    answer = client("shopify", base, waits).get("/orders/1.json")
    assert answer.status == 200 and answer.body == {"order": {"id": 1}}
    assert waits == [2.0, 2.0]
    assert len(arrived) == 3


def test_shopify_pauses_when_its_bucket_is_nearly_full(scripted_store: tuple[str, Scripted, list[str]]) -> None:
    base, script, _ = scripted_store
    script += [(200, {"X-Shopify-Shop-Api-Call-Limit": "39/40"})]
    waits: list[float] = []
    client("shopify", base, waits).get("/orders/1.json")
    assert waits == [1.0]  # two requests of room at 2 requests a second (a 40-bucket leaks 2/s)


def test_bigcommerce_429s_wait_the_window_reset(scripted_store: tuple[str, Scripted, list[str]]) -> None:
    base, script, arrived = scripted_store
    script += [
        (429, {"X-Rate-Limit-Time-Reset-Ms": "15000"}),
        (
            200,
            {
                "X-Rate-Limit-Requests-Left": "1",
                "X-Rate-Limit-Time-Reset-Ms": "3000",
                "X-Rate-Limit-Requests-Quota": "150",
            },
        ),
    ]
    waits: list[float] = []
    answer = client("bigcommerce", base + "/stores/abc123", waits).get("/v2/orders/1")
    assert answer.status == 200
    assert waits == [15.0, 3.0]  # the 429's reset, then a pause: one request left in the window
    assert arrived == ["/stores/abc123/v2/orders/1", "/stores/abc123/v2/orders/1"]


def test_without_headers_the_back_off_doubles_and_gives_up(scripted_store: tuple[str, Scripted, list[str]]) -> None:
    base, script, arrived = scripted_store
    script += [(429, {})] * 4
    waits: list[float] = []
    answer = client("shopify", base, waits, max_retries=3).get("/orders/1.json")
    assert answer.status == 429  # handed back after three retries, never an endless loop
    assert waits == [1.0, 2.0, 4.0]
    assert len(arrived) == 4


def test_waits_are_bounded_and_ignore_nonsense() -> None:
    assert retry_delay({"Retry-After": "86400"}, 0) == 60.0
    assert retry_delay({"Retry-After": "soon"}, 2) == 4.0
    assert pause_after({"X-Shopify-Shop-Api-Call-Limit": "10/40"}) == 0.0
    assert pause_after({"X-Shopify-Shop-Api-Call-Limit": "garbage"}) == 0.0
    assert pause_after({"X-Rate-Limit-Requests-Left": "35", "X-Rate-Limit-Time-Reset-Ms": "15000"}) == 0.0
