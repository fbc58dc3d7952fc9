"""Prism-compatible choice of answer: `Prefer: code=..., example=...` and `__code` / `__example`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockserver.app import MockConfig, create_app, server_of
from mockserver.prefer import Preference, example_names, parse_prefer, parse_query
from tests.conftest import FIXTURES_DIR

SHOPIFY_ORDER = int(sorted((FIXTURES_DIR / "shopify" / "orders").glob("*.json"))[0].stem)
BIGCOMMERCE_ORDER = int(sorted((FIXTURES_DIR / "bigcommerce" / "orders").glob("*.json"))[0].stem)
CREATE_REFUND = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}/refunds.json"
CALCULATE = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}/refunds/calculate.json"
GET_ORDER = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}.json"
SHOPIFY = {"X-Shopify-Access-Token": "any-token"}
BIGCOMMERCE = {"X-Auth-Token": "any-token"}
REFUND = {"refund": {"shipping": {"full_refund": True}}}


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    """One strict app for the module: scripted and Prism-style answers change no state."""
    built = create_app(MockConfig(fixtures_dir=FIXTURES_DIR, strict_responses=True))
    built.testing = True
    yield built
    server_of(built).store.close()


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def spec_example(app: Flask, platform: str, operation_id: str, status: int, name: str | None = None) -> Any:
    spec = server_of(app).specs[platform]
    example = spec.named_example(spec.operations[operation_id], status, name)
    assert example is not None, f"the {platform} spec has no {status} example for {operation_id}"
    return example


def named_examples(app: Flask, platform: str, operation_id: str, status: int) -> list[str]:
    spec = server_of(app).specs[platform]
    return example_names(spec, spec.operations[operation_id], str(status))


def test_parsing_follows_prism() -> None:
    assert parse_prefer("code=422, example=overQuantity") == Preference("422", "overQuantity", "Prefer")
    assert parse_prefer('return=minimal; code="404"') == Preference("404", None, "Prefer")
    assert parse_prefer("respond-async, wait=5") is None
    assert parse_prefer(None) is None
    assert parse_query({"__code": "500"}) == Preference("500", None, "__code")
    assert parse_query({"__example": "x"}) == Preference(None, "x", "__example")
    assert parse_query({"other": "1"}) is None


def test_prefer_code_answers_the_specs_first_example(app: Flask, client: FlaskClient) -> None:
    response = client.post(CREATE_REFUND, json=REFUND, headers={**SHOPIFY, "Prefer": "code=422"})
    assert response.status_code == 422
    assert response.get_json() == spec_example(app, "shopify", "createRefund", 422)


def test_prefer_names_an_example(app: Flask, client: FlaskClient) -> None:
    names = named_examples(app, "shopify", "createRefund", 422)
    assert len(names) >= 2, "the test wants two named 422 examples to tell them apart"
    for name in names:
        response = client.post(CREATE_REFUND, json=REFUND, headers={**SHOPIFY, "Prefer": f"code=422, example={name}"})
        assert response.status_code == 422
        assert response.get_json() == spec_example(app, "shopify", "createRefund", 422, name)


def test_query_parameters_work_like_the_header(app: Flask, client: FlaskClient) -> None:
    name = named_examples(app, "shopify", "createRefund", 422)[-1]
    response = client.post(f"{CREATE_REFUND}?__code=422&__example={name}", json=REFUND, headers=SHOPIFY)
    assert response.status_code == 422
    assert response.get_json() == spec_example(app, "shopify", "createRefund", 422, name)
    response = client.post(f"{CREATE_REFUND}?__example={name}", json=REFUND, headers=SHOPIFY)
    assert response.status_code == 422  # the example alone finds its status


def test_a_prism_choice_has_no_side_effect(client: FlaskClient) -> None:
    before = len(client.get(CREATE_REFUND, headers=SHOPIFY).get_json()["refunds"])  # GET lists the refunds
    client.post(CREATE_REFUND, json=REFUND, headers={**SHOPIFY, "Prefer": "code=422"})
    assert len(client.get(CREATE_REFUND, headers=SHOPIFY).get_json()["refunds"]) == before


def test_a_success_code_without_an_example_is_the_computed_answer(client: FlaskClient) -> None:
    computed = client.post(CALCULATE, json=REFUND, headers=SHOPIFY)
    preferred = client.post(CALCULATE, json=REFUND, headers={**SHOPIFY, "Prefer": "code=200"})
    assert preferred.status_code == computed.status_code == 200
    assert preferred.get_json() == computed.get_json()


def test_a_throttled_choice_carries_the_platform_headers(client: FlaskClient) -> None:
    shopify = client.get(GET_ORDER, headers={**SHOPIFY, "Prefer": "code=429"})
    assert shopify.status_code == 429 and shopify.headers["Retry-After"] == "2.0"
    path = f"/stores/abc/v3/orders/{BIGCOMMERCE_ORDER}/transactions"
    bigcommerce = client.get(path, headers={**BIGCOMMERCE, "Prefer": "code=429"})
    assert bigcommerce.status_code == 429
    assert bigcommerce.get_json()["status"] == 429
    # BigCommerce's rate-limit page: wait X-Rate-Limit-Time-Reset-Ms; no Retry-After is sent
    assert bigcommerce.headers["X-Rate-Limit-Requests-Left"] == "0"
    assert "Retry-After" not in bigcommerce.headers and "X-Retry-After" not in bigcommerce.headers


def test_an_error_without_an_example_is_built_in_the_platform_shape(client: FlaskClient) -> None:
    path = f"/stores/abc/v2/orders/{BIGCOMMERCE_ORDER}"
    response = client.get(path, headers={**BIGCOMMERCE, "Prefer": "code=500"})
    assert response.status_code == 500
    assert response.get_json() == [{"status": 500, "message": "Internal Server Error"}]


def test_bigcommerce_documented_503(app: Flask, client: FlaskClient) -> None:
    path = f"/stores/abc/v3/orders/{BIGCOMMERCE_ORDER}/payment_actions/refunds"
    body = {
        "items": [{"item_type": "ORDER", "item_id": BIGCOMMERCE_ORDER, "amount": 1}],
        "payments": [{"provider_id": "storecredit", "amount": 1, "offline": False}],
    }
    response = client.post(path, json=body, headers={**BIGCOMMERCE, "Prefer": "code=503"})
    assert response.status_code == 503
    assert response.get_json() == spec_example(app, "bigcommerce", "createOrderRefund", 503)


@pytest.mark.parametrize(
    ("extra_headers", "query", "field", "words"),
    [
        ({"Prefer": "code=418"}, "", "Prefer", "does not declare status '418'"),
        ({}, "?__code=abc", "__code", "does not declare status 'abc'"),
        ({"Prefer": "code=422, example=noSuchExample"}, "", "Prefer", "no 422 example named 'noSuchExample'"),
        ({}, "?__example=noSuchExample", "__example", "no response example named 'noSuchExample'"),
    ],
)
def test_an_impossible_choice_is_a_422_naming_the_header_or_parameter(
    client: FlaskClient, extra_headers: dict[str, str], query: str, field: str, words: str
) -> None:
    response = client.post(f"{CREATE_REFUND}{query}", json=REFUND, headers={**SHOPIFY, **extra_headers})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert field in errors and words in errors[field][0]


def test_a_scenario_header_comes_before_prefer(client: FlaskClient) -> None:
    headers = {**SHOPIFY, "Prefer": "code=422", "X-Mock-Scenario": "shopify-server-error"}
    assert client.get(GET_ORDER, headers=headers).status_code == 500
