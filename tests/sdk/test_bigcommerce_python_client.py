"""BigCommerce's own Python client (`bigcommerce` on PyPI), unchanged, against `serve --tls`.

The client only builds `https://{BC_API_ENDPOINT}/stores/{hash}/v2/...` URLs, so it cannot talk
to a plain-HTTP mock; it is pointed at the mock the way its README says (`BC_API_ENDPOINT`), and
its `requests` session trusts the mock's local CA through `REQUESTS_CA_BUNDLE`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

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
