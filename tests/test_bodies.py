"""Bodies and parameters Python's own limits used to answer for: deep nesting, huge numbers, a BOM.

Each is a clear 4xx in the platform's shape naming the field, never Python's words ("maximum
recursion depth exceeded", "use sys.set_int_max_str_digits()") nor a 500; a UTF-8 byte order mark
before the JSON is accepted (RFC 8259 section 8.1 lets a parser ignore one).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.test_pipeline import PLATFORMS, SHOPIFY, PlatformCase, assert_platform_error

PYTHON_WORDS = ("recursion", "set_int_max_str_digits", "Exceeds the limit", "Traceback")
HUGE = "9" * 5000  # past the 4300 digits Python's int() takes from text


def post(client: FlaskClient, case: PlatformCase, raw: bytes) -> tuple[int, Any]:
    response = client.post(
        case.quote_path.format(id=case.first_order_id()),
        data=raw,
        headers={**case.headers(), "Content-Type": "application/json"},
    )
    return response.status_code, response.get_json()


def assert_plain_words(body: Any) -> str:
    text = json.dumps(body)
    for words in PYTHON_WORDS:
        assert words not in text, text
    return text


@pytest.mark.parametrize("case", PLATFORMS)
@pytest.mark.parametrize("depth", [150, 100_000], ids=["deeper-than-100", "past-pythons-recursion-limit"])
def test_deep_nesting_is_400_saying_so(client: FlaskClient, case: PlatformCase, depth: int) -> None:
    status, body = post(client, case, b"[" * depth + b"]" * depth)
    assert status == 400
    assert_platform_error(case, 400, body)
    assert "nests deeper than 100 levels" in assert_plain_words(body)


@pytest.mark.parametrize("case", PLATFORMS)
def test_nesting_within_the_limit_is_read(client: FlaskClient, case: PlatformCase) -> None:
    """Ninety levels is well-formed JSON: the answer is the spec's 422 for the field, not a 400."""
    nested = "[" * 90 + "]" * 90
    raw = json.dumps(case.valid_quote_body).replace("true", nested).replace('"ORDER"', nested).encode()
    status, body = post(client, case, raw)
    assert status == 422, body
    assert "nests" not in json.dumps(body)


@pytest.mark.parametrize("case", PLATFORMS)
@pytest.mark.parametrize("number", [HUGE, "1e999"], ids=["integer-of-5000-digits", "beyond-a-float"])
def test_a_number_python_cannot_hold_is_400_naming_the_field(
    client: FlaskClient, case: PlatformCase, number: str
) -> None:
    document = {"refund": {"shipping": {"amount": 0}}} if case is SHOPIFY else {"items": [{"amount": 0}]}
    raw = json.dumps(document).replace("0", number).encode()
    status, body = post(client, case, raw)
    assert status == 400
    assert_platform_error(case, 400, body)
    text = assert_plain_words(body)
    field = "refund.shipping.amount" if case is SHOPIFY else "items.0.amount"
    assert f"the number at {field} is out of range" in text


def test_the_admin_api_says_the_same_in_its_shape(client: FlaskClient) -> None:
    raw = '{"name": "x", "rules": [{"match": {"body": {"/a": ' + HUGE + '}}, "respond": {"passthrough": true}}]}'
    response = client.post("/__mock/scenarios", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json() == {
        "status": 400,
        "message": "Malformed request body: the number at rules.0.match.body./a is out of range "
        "(an integer of 5000 digits; at most 4300)",
    }
    response = client.post("/__mock/scenarios", data="[" * 5000 + "]" * 5000, content_type="application/json")
    assert response.get_json() == {
        "status": 400,
        "message": "Malformed request body: the request body nests deeper than 100 levels",
    }


def test_a_huge_integer_in_the_query_is_422_naming_the_parameter(client: FlaskClient) -> None:
    """The spec caps `limit` at 250 (Shopify's documented maximum)."""
    path = SHOPIFY.order_path.format(id=SHOPIFY.first_order_id()).replace(".json", "/refunds.json")
    response = client.get(f"{path}?limit={HUGE}", headers=SHOPIFY.headers())
    assert response.status_code == 422
    assert response.get_json() == {"errors": {"limit": ["must be less than or equal to 250"]}}


@pytest.mark.parametrize("case", PLATFORMS)
def test_a_huge_integer_in_the_path_is_404(client: FlaskClient, case: PlatformCase) -> None:
    response = client.get(case.order_path.format(id=HUGE), headers=case.headers())
    assert response.status_code == 404
    assert_platform_error(case, 404, response.get_json())


def test_a_huge_integer_in_an_admin_query_is_422_naming_it(client: FlaskClient) -> None:
    response = client.get(f"/__mock/requests?status={HUGE}")
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"status": "must be less than or equal to 599"}


@pytest.mark.parametrize("case", PLATFORMS)
def test_a_utf8_bom_before_the_json_is_accepted(client: FlaskClient, case: PlatformCase) -> None:
    plain = json.dumps(case.valid_quote_body).encode()
    without = post(client, case, plain)
    with_bom = post(client, case, b"\xef\xbb\xbf" + plain)
    assert without[0] != 400  # read and answered on its merits (the quote itself may be a 422)
    assert with_bom == without
