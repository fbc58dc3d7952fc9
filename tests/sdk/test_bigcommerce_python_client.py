"""BigCommerce's own Python client (`bigcommerce` on PyPI), unchanged, against `serve --tls`.

The client only builds `https://{BC_API_ENDPOINT}/stores/{hash}/v2/...` URLs, so it cannot talk
to a plain-HTTP mock; it is pointed at the mock the way its README says (`BC_API_ENDPOINT`), and
its `requests` session trusts the mock's local CA through `REQUESTS_CA_BUNDLE`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bigcommerce
import pytest

from tests.conftest import REPO_ROOT
from tests.test_tls import serve_https

STORE_HASH = "xxazhvt7gd"  # unpinned fixture orders answer under any store hash
ORDER_ID = 100  # a committed fixture order


@pytest.fixture(scope="module")
def https_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("tls")
    with serve_https("--tls", "--tls-dir", str(folder), ca=folder / "ca.pem") as (base, _):
        yield base, folder / "ca.pem"


@pytest.fixture
def client(https_mock: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> bigcommerce.api.BigcommerceApi:
    base, ca_file = https_mock
    monkeypatch.setenv("BC_API_ENDPOINT", base.removeprefix("https://"))  # the client adds https:// itself
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    return bigcommerce.api.BigcommerceApi(client_id="refund-mock-test", store_hash=STORE_HASH, access_token="token")


def test_the_client_reads_an_order_over_https(client: bigcommerce.api.BigcommerceApi) -> None:
    fixture = json.loads((REPO_ROOT / "fixtures" / "bigcommerce" / "orders" / f"{ORDER_ID}.json").read_text())
    order = client.Orders.get(ORDER_ID)
    assert order.id == ORDER_ID
    # what the client hands its caller is the order the fixture file holds
    for field in ("status", "status_id", "currency_code", "total_inc_tax", "subtotal_ex_tax", "date_created"):
        assert order[field] == fixture["order"][field], field
    assert client.connection.host == client.api_service  # no rewriting: BC_API_ENDPOINT as given


@pytest.fixture(scope="module")
def throttled_https_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("tls")
    with serve_https("--tls", "--tls-dir", str(folder), "--throttle", ca=folder / "ca.pem") as (base, _):
        yield base, folder / "ca.pem"


def throttled_client(
    mock: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, store_hash: str, management: dict[str, Any] | None
) -> bigcommerce.api.BigcommerceApi:
    base, ca_file = mock
    monkeypatch.setenv("BC_API_ENDPOINT", base.removeprefix("https://"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    return bigcommerce.api.BigcommerceApi(
        client_id="refund-mock-test", store_hash=store_hash, access_token="token", rate_limiting_management=management
    )


def test_the_clients_rate_limit_management_reacts_to_the_mocks_headers(
    throttled_https_mock: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, int]] = []
    # the client's documented use: call back (here instead of sleeping) once at most 147 requests are left
    management = {"min_requests_remaining": 147, "wait": False, "callback_function": lambda: calls.append({})}
    client = throttled_client(throttled_https_mock, monkeypatch, "ratelimitmanaged", management)
    for expected_left in (149, 148):
        client.Orders.get(ORDER_ID)
        assert client.connection.rate_limit["requests_remaining"] == expected_left
        assert calls == []
    client.Orders.get(ORDER_ID)
    assert len(calls) == 1
    state = client.connection.rate_limit
    # BigCommerce Standard: 150 requests per 30-second window (rate-limits reference, "Quotas")
    assert (state["requests_quota"], state["requests_remaining"], state["window_size_ms"]) == (150, 147, 30000)
    assert 0 < state["ms_until_reset"] <= 30000


def test_a_spent_window_raises_the_clients_rate_limiting_exception(
    throttled_https_mock: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = throttled_client(throttled_https_mock, monkeypatch, "ratelimitspent", None)
    # 150 requests fit in a window; the window starts at the first, so a slow machine only spreads
    # them over more windows: the loop ends at the first 429 whenever it comes
    for _ in range(1000):
        try:
            client.Orders.get(ORDER_ID)
        except bigcommerce.exception.RateLimitingException as error:
            refused = error
            break
    else:
        raise AssertionError("no 429 in 1,000 requests")
    assert refused.status_code == 429
    assert client.connection.rate_limit["requests_remaining"] == 0  # the answer before it said so
    assert 0 < int(refused.retry_after) <= 30000  # what the client tells its caller to wait, in ms
