"""Rate limits through HTTP: the headers every answer carries, `--throttle`, `--plan` and the admin API.

Expected figures are the platforms' documented ones (reference notes, "Rate limits, versions and
the headers real clients read"): Shopify's bucket of 40 calls leaking 2 per second (Plus: 400 and
20), `X-Shopify-Shop-Api-Call-Limit: used/bucket`, the 429 body and `Retry-After: 2.0`;
BigCommerce's 150 requests per 30 s window per store (Pro: 450) and its four X-Rate-Limit-*
headers. Time is moved by replacing the buckets' clock, never waited for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockserver import ratelimit
from mockserver.app import server_of

ORDER = "/admin/api/2020-10/orders/3012450010101.json"
TOKEN = {"X-Shopify-Access-Token": "shpat_rate"}
STORE = "/stores/abc123"
BC_ORDER = f"{STORE}/v2/orders/100"
BC_TOKEN = {"X-Auth-Token": "bc-rate"}
SHOPIFY_429 = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
BC_HEADERS = (
    "X-Rate-Limit-Time-Window-Ms",
    "X-Rate-Limit-Time-Reset-Ms",
    "X-Rate-Limit-Requests-Quota",
    "X-Rate-Limit-Requests-Left",
)


class FakeClock:
    """Stands in for the buckets' monotonic clock; `advance` moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    fake = FakeClock()
    monkeypatch.setattr(ratelimit, "clock", fake)
    yield fake


@pytest.fixture
def throttled(make_app: Callable[..., Flask], clock: FakeClock) -> FlaskClient:
    return make_app(throttle=True).test_client()


def call_limit(response: object) -> str:
    return response.headers["X-Shopify-Shop-Api-Call-Limit"]  # type: ignore[attr-defined]


# -- Shopify: the headers of every REST answer -------------------------------------------------


def test_every_shopify_answer_counts_in_the_tokens_bucket_errors_included(
    client: FlaskClient, clock: FakeClock
) -> None:
    answers = [
        client.get(ORDER, headers=TOKEN),  # 200
        client.get("/admin/api/2020-10/no-such-thing.json", headers=TOKEN),  # 404, no route
        client.get("/admin/api/2020-10/orders/1.json", headers=TOKEN),  # 404, no order
        client.post(
            "/admin/api/2020-10/orders/3012450010101/refunds.json",
            headers=TOKEN,
            data=b"x" * (2 << 20),
            content_type="application/json",
        ),  # 413
        client.get(ORDER, headers={**TOKEN, "X-Mock-Scenario": "shopify-server-error"}),  # scripted 500
    ]
    assert [answer.status_code for answer in answers] == [200, 404, 404, 413, 500]
    assert [call_limit(answer) for answer in answers] == ["1/40", "2/40", "3/40", "4/40", "5/40"]
    for answer in answers:
        assert answer.headers["X-Shopify-API-Version"] == "2020-10"
        assert UUID.match(answer.headers["X-Request-Id"])
    assert len({answer.headers["X-Request-Id"] for answer in answers}) == len(answers)


def test_an_over_long_url_counts_and_carries_the_headers(client: FlaskClient, clock: FakeClock) -> None:
    shopify = client.get(f"{ORDER}?fields={'x' * 40_000}", headers=TOKEN)
    assert shopify.status_code == 414 and call_limit(shopify) == "1/40"
    bigcommerce = client.get(f"{BC_ORDER}?fields={'x' * 40_000}", headers=BC_TOKEN)
    assert bigcommerce.status_code == 414 and bigcommerce.headers["X-Rate-Limit-Requests-Left"] == "149"


def test_each_access_token_has_its_own_bucket(client: FlaskClient, clock: FakeClock) -> None:
    for _ in range(3):
        client.get(ORDER, headers=TOKEN)
    assert call_limit(client.get(ORDER, headers={"X-Shopify-Access-Token": "another"})) == "1/40"
    assert call_limit(client.get(ORDER, headers=TOKEN)) == "4/40"


def test_requests_without_a_token_share_one_bucket_and_get_the_headers_on_their_401(
    client: FlaskClient, clock: FakeClock
) -> None:
    """x-mock-note (CallLimit): tokenless requests share the bucket of the empty token."""
    first = client.get(ORDER)
    second = client.get(ORDER)
    assert (first.status_code, second.status_code) == (401, 401)
    assert (call_limit(first), call_limit(second)) == ("1/40", "2/40")
    assert UUID.match(second.headers["X-Request-Id"])


def test_the_bucket_leaks_two_calls_a_second(client: FlaskClient, clock: FakeClock) -> None:
    for _ in range(10):
        client.get(ORDER, headers=TOKEN)
    clock.advance(2.0)  # 4 calls leak away
    assert call_limit(client.get(ORDER, headers=TOKEN)) == "7/40"
    clock.advance(60)
    assert call_limit(client.get(ORDER, headers=TOKEN)) == "1/40"


def test_a_full_bucket_is_reported_but_served_without_throttle(client: FlaskClient, clock: FakeClock) -> None:
    for _ in range(40):
        client.get(ORDER, headers=TOKEN)
    over = client.get(ORDER, headers=TOKEN)
    assert over.status_code == 200 and call_limit(over) == "40/40"


def test_throttle_answers_shopifys_429_once_the_bucket_is_full(throttled: FlaskClient, clock: FakeClock) -> None:
    statuses = [throttled.get(ORDER, headers=TOKEN).status_code for _ in range(40)]
    assert statuses == [200] * 40
    refused = throttled.get(ORDER, headers=TOKEN)
    assert refused.status_code == 429
    assert refused.get_json() == {"errors": SHOPIFY_429}
    assert refused.headers["Retry-After"] == "2.0"
    assert call_limit(refused) == "40/40"
    assert UUID.match(refused.headers["X-Request-Id"])
    # a refused call spends nothing: half a second later one call has leaked away
    clock.advance(0.5)
    again = throttled.get(ORDER, headers=TOKEN)
    assert again.status_code == 200 and call_limit(again) == "40/40"
    assert throttled.get(ORDER, headers={"X-Shopify-Access-Token": "someone-else"}).status_code == 200


def test_plus_plan_has_a_bucket_of_400_leaking_20_a_second(make_app: Callable[..., Flask], clock: FakeClock) -> None:
    client = make_app(throttle=True, plans=("plus",)).test_client()
    assert call_limit(client.get(ORDER, headers=TOKEN)) == "1/400"
    for _ in range(399):
        client.get(ORDER, headers=TOKEN)
    refused = client.get(ORDER, headers=TOKEN)
    assert refused.status_code == 429 and call_limit(refused) == "400/400"
    assert refused.get_json()["errors"].startswith("Exceeded 20 calls per second for api client.")
    assert refused.headers["Retry-After"] == "2.0"  # x-mock-note (TooManyRequests): always 2.0
    clock.advance(1.0)
    assert call_limit(client.get(ORDER, headers=TOKEN)) == "381/400"


def test_the_built_in_429_shows_the_bucket_full_whatever_the_plan(
    make_app: Callable[..., Flask], clock: FakeClock
) -> None:
    client = make_app(plans=("plus",)).test_client()
    answer = client.get(ORDER, headers={**TOKEN, "X-Mock-Scenario": "shopify-rate-limited"})
    assert answer.status_code == 429
    assert answer.get_json() == {"errors": SHOPIFY_429}
    assert answer.headers["Retry-After"] == "2.0"
    assert call_limit(answer) == "400/400"


def test_a_scenarios_own_call_limit_header_wins(client: FlaskClient, clock: FakeClock) -> None:
    scenario = {
        "name": "nearly-full",
        "rules": [
            {
                "match": {"platform": "shopify"},
                "respond": {"passthrough": True, "headers": {"X-Shopify-Shop-Api-Call-Limit": "39/40"}},
            }
        ],
    }
    assert client.post("/__mock/scenarios", json=scenario).status_code == 201
    answer = client.get(ORDER, headers={**TOKEN, "X-Mock-Scenario": "nearly-full"})
    assert answer.status_code == 200 and call_limit(answer) == "39/40"


# -- BigCommerce: a window per store ------------------------------------------------------------


def test_every_bigcommerce_answer_reports_the_stores_window(client: FlaskClient, clock: FakeClock) -> None:
    """x-mock-note (RateLimitLeft): the window starts with the store's first request."""
    answers = [
        client.get(BC_ORDER, headers=BC_TOKEN),  # V2 200
        client.get(f"{STORE}/v3/orders/100/transactions", headers=BC_TOKEN),  # V3 200
        client.get(f"{STORE}/v3/no-such-thing", headers=BC_TOKEN),  # 404, no route
        client.get(BC_ORDER),  # 401
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 404, 401]
    assert [answer.headers["X-Rate-Limit-Requests-Left"] for answer in answers] == ["149", "148", "147", "146"]
    for answer in answers:
        assert answer.headers["X-Rate-Limit-Requests-Quota"] == "150"
        assert answer.headers["X-Rate-Limit-Time-Window-Ms"] == "30000"
        assert answer.headers["X-Rate-Limit-Time-Reset-Ms"] == "30000"
        assert "Retry-After" not in answer.headers
    clock.advance(12.5)
    later = client.get(BC_ORDER, headers=BC_TOKEN)
    assert later.headers["X-Rate-Limit-Time-Reset-Ms"] == "17500"
    assert later.headers["X-Rate-Limit-Requests-Left"] == "145"
    other_store = client.get("/stores/zzz999/v2/orders/100", headers=BC_TOKEN)
    assert other_store.headers["X-Rate-Limit-Requests-Left"] == "149"
    clock.advance(17.5)  # the window has ended: a new one starts
    fresh = client.get(BC_ORDER, headers=BC_TOKEN)
    assert fresh.headers["X-Rate-Limit-Requests-Left"] == "149"
    assert fresh.headers["X-Rate-Limit-Time-Reset-Ms"] == "30000"


def test_throttle_refuses_the_151st_request_of_a_window(throttled: FlaskClient, clock: FakeClock) -> None:
    for _ in range(150):
        assert throttled.get(BC_ORDER, headers=BC_TOKEN).status_code == 200
    clock.advance(10)
    v2 = throttled.get(BC_ORDER, headers=BC_TOKEN)
    v3 = throttled.get(f"{STORE}/v3/orders/100/transactions", headers=BC_TOKEN)
    assert v2.status_code == v3.status_code == 429
    assert v2.get_json() == [{"status": 429, "message": "Too Many Requests"}]
    assert v3.get_json()["status"] == 429 and v3.get_json()["title"] == "Too Many Requests"
    for refused in (v2, v3):
        assert refused.headers["X-Rate-Limit-Requests-Left"] == "0"
        assert refused.headers["X-Rate-Limit-Time-Reset-Ms"] == "20000"
        assert refused.headers["X-Rate-Limit-Requests-Quota"] == "150"
        assert "Retry-After" not in refused.headers and "X-Retry-After" not in refused.headers
    clock.advance(20)
    assert throttled.get(BC_ORDER, headers=BC_TOKEN).status_code == 200


def test_pro_plan_allows_450_requests_a_window(make_app: Callable[..., Flask], clock: FakeClock) -> None:
    client = make_app(throttle=True, plans=("pro",)).test_client()
    first = client.get(BC_ORDER, headers=BC_TOKEN)
    assert first.headers["X-Rate-Limit-Requests-Quota"] == "450"
    assert first.headers["X-Rate-Limit-Requests-Left"] == "449"
    for _ in range(449):
        client.get(BC_ORDER, headers=BC_TOKEN)
    assert client.get(BC_ORDER, headers=BC_TOKEN).status_code == 429
    # Shopify keeps its standard bucket under --plan pro
    assert call_limit(client.get(ORDER, headers=TOKEN)) == "1/40"


def test_the_built_in_bigcommerce_429_shows_the_window_spent(client: FlaskClient, clock: FakeClock) -> None:
    answer = client.get(
        f"{STORE}/v3/orders/100/transactions", headers={**BC_TOKEN, "X-Mock-Scenario": "bigcommerce-rate-limited"}
    )
    assert answer.status_code == 429
    assert answer.headers["X-Rate-Limit-Requests-Left"] == "0"
    assert answer.headers["X-Rate-Limit-Time-Reset-Ms"] == "30000"


# -- the admin API -------------------------------------------------------------------------------


def test_the_admin_api_reads_and_empties_the_buckets(client: FlaskClient, clock: FakeClock) -> None:
    for _ in range(3):
        client.get(ORDER, headers=TOKEN)
    client.get(BC_ORDER, headers=BC_TOKEN)
    read = client.get("/__mock/rate-limits").get_json()
    assert read["throttle"] is False
    assert read["limits"]["shopify"]["capacity"] == 40 and read["limits"]["shopify"]["restore_rate"] == 2
    assert read["limits"]["bigcommerce"]["capacity"] == 150 and read["limits"]["bigcommerce"]["window_seconds"] == 30
    buckets = {(bucket["platform"], bucket["key"]): bucket for bucket in read["buckets"]}
    assert buckets[("shopify", "shpat_rate")]["used"] == 3
    assert buckets[("bigcommerce", "abc123")]["used"] == 1
    assert client.delete("/__mock/rate-limits").get_json() == {"emptied": 2}
    assert client.get("/__mock/rate-limits").get_json()["buckets"] == []
    assert call_limit(client.get(ORDER, headers=TOKEN)) == "1/40"


def test_a_full_reset_empties_the_buckets_too(throttled: FlaskClient, clock: FakeClock) -> None:
    for _ in range(41):
        throttled.get(ORDER, headers=TOKEN)
    assert throttled.get(ORDER, headers=TOKEN).status_code == 429
    assert throttled.post("/__mock/reset").status_code == 200
    answer = throttled.get(ORDER, headers=TOKEN)
    assert answer.status_code == 200 and call_limit(answer) == "1/40"


def test_admin_calls_are_not_counted(client: FlaskClient, clock: FakeClock) -> None:
    for _ in range(5):
        client.get("/__mock/health", headers=TOKEN)
    assert "X-Shopify-Shop-Api-Call-Limit" not in client.get("/__mock/health").headers
    assert call_limit(client.get(ORDER, headers=TOKEN)) == "1/40"


def test_other_bucket_kinds_are_listed_by_the_admin_api(app: Flask, clock: FakeClock) -> None:
    """The GraphQL query-cost bucket (1000 points restoring 50 a second) through the same API."""
    graphql = ratelimit.BucketKind("shopify-graphql", 1000, 50.0)
    limits = server_of(app).rate_limits
    assert limits.take(graphql, "shpat_rate", 120).available == 880
    clock.advance(1.0)
    assert limits.peek(graphql, "shpat_rate").used == 70
    listed = app.test_client().get("/__mock/rate-limits").get_json()["buckets"]
    assert [(bucket["platform"], bucket["kind"], bucket["used"]) for bucket in listed] == [
        ("shopify", "shopify-graphql", 70)
    ]


def test_an_unknown_plan_is_refused_at_start(make_app: Callable[..., Flask]) -> None:
    with pytest.raises(ValueError, match="unknown plan 'gold'"):
        make_app(plans=("gold",))


# -- the buckets themselves ------------------------------------------------------------------------


def test_buckets_are_scoped_so_sessions_can_be_isolated_later(clock: FakeClock) -> None:
    kind = ratelimit.BucketKind("shopify-graphql", 1000, 50.0)
    table = ratelimit.BucketTable()
    try:
        assert table.take(kind, "token", 900, scope="ci-run-1").used == 900
        assert table.take(kind, "token", 900, scope="ci-run-2").allowed
        refused = table.take(kind, "token", 200, scope="ci-run-1")
        assert not refused.allowed and refused.used == 900
        assert refused.retry_after == pytest.approx(2.0)  # 100 points missing at 50 a second
        assert table.take(kind, "token", -300, scope="ci-run-1").used == 600  # cost given back
        assert table.reset(scope="ci-run-1") == 1
        assert table.peek(kind, "token", scope="ci-run-1").used == 0
        assert table.peek(kind, "token", scope="ci-run-2").used == 900
    finally:
        table.close()


def test_more_keys_than_slots_reuse_the_stalest_slot(clock: FakeClock) -> None:
    kind = ratelimit.BucketKind("shopify-rest", 40, 2.0)
    table = ratelimit.BucketTable(slots=8)
    try:
        for number in range(20):
            clock.advance(1)
            assert table.take(kind, f"token-{number}").used == 1
        clock.advance(0.25)
        assert table.take(kind, "token-19").used == 1.5  # the newest is kept: 1 - 0.5 leaked + 1
        assert len(table.buckets({"shopify-rest": kind})) <= 8
    finally:
        table.close()


def test_a_shared_table_is_one_set_of_buckets_for_every_process(tmp_path, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    """Two tables over one file (what two workers open) count in the same buckets."""
    kind = ratelimit.BucketKind.window("bigcommerce-api", 150, 30.0)
    first = ratelimit.BucketTable(tmp_path / ratelimit.TABLE_FILE)
    second = ratelimit.BucketTable(tmp_path / ratelimit.TABLE_FILE)
    try:
        first.take(kind, "abc123")
        assert second.take(kind, "abc123").used == 2
        assert first.take(kind, "abc123").used == 3
        second.reset()
        assert first.take(kind, "abc123").used == 1
    finally:
        first.close()
        second.close()


def test_a_throttled_answer_is_journaled_as_the_throttles(throttled: FlaskClient, clock: FakeClock) -> None:
    for _ in range(41):
        throttled.get(ORDER, headers=TOKEN)
    journal = throttled.get("/__mock/requests?status=429").get_json()
    assert journal["count"] == 1
    assert journal["requests"][0]["scenario"] == "serve --throttle"


def test_serve_takes_throttle_and_plan_flags() -> None:
    import urllib.error
    import urllib.request

    from tests.test_serve import start_serve, stop, wait_for_health

    base, process = start_serve("--throttle", "--plan", "plus", "--plan", "pro")
    try:
        wait_for_health(base, process)
        request = urllib.request.Request(f"{base}{ORDER}", headers=TOKEN)
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/400"
        request = urllib.request.Request(f"{base}{BC_ORDER}", headers=BC_TOKEN)
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.headers["X-Rate-Limit-Requests-Quota"] == "450"
        with urllib.request.urlopen(f"{base}/__mock/rate-limits", timeout=5) as response:
            assert b'"throttle":true' in response.read()
    finally:
        stop(process)
