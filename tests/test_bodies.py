"""Bodies and parameters Python's own limits used to answer for: deep nesting, huge numbers, a BOM.

Each is a clear 4xx in the platform's shape naming the field, never Python's words ("maximum
recursion depth exceeded", "use sys.set_int_max_str_digits()") nor a 500; a UTF-8 byte order mark
before the JSON is accepted (RFC 8259 section 8.1 lets a parser ignore one).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.test_pipeline import BIGCOMMERCE, PLATFORMS, SHOPIFY, PlatformCase, assert_platform_error

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


class EndlessBody:
    """A request body that never ends, as a chunked upload of any size looks to the app; counts what is read."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("the whole body was asked for: it never ends")
        self.read_bytes += size
        return b" " * size


LIMIT = 1 << 20


@pytest.mark.parametrize(
    ("case", "proxied"),
    [(SHOPIFY, False), (BIGCOMMERCE, False), (None, False), (SHOPIFY, True)],
    ids=["shopify", "bigcommerce", "admin", "shopify-proxied"],
)
def test_a_body_without_a_length_is_read_only_to_the_limit(
    make_app: Callable[..., Flask], case: PlatformCase | None, proxied: bool
) -> None:
    """Chunked framing (the server ends the stream, `wsgi.input_terminated`): 413 after at most the limit
    and one piece more, whichever API, also under `serve --proxy` (the store is never reached)."""
    app = make_app(proxy={"shopify": "http://127.0.0.1:9"} if proxied else {})
    body = EndlessBody()
    response = app.test_client().post(
        case.quote_path.format(id=case.first_order_id()) if case else "/__mock/scenarios",
        headers={**(case.headers() if case else {}), "Content-Type": "application/json"},
        environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"},
    )
    assert response.status_code == 413
    if case:
        assert_platform_error(case, 413, response.get_json())
    else:
        assert response.get_json() == {"status": 413, "message": f"The request body is larger than {LIMIT} bytes"}
    assert LIMIT < body.read_bytes <= LIMIT + 64 * 1024
