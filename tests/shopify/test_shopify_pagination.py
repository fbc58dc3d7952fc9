"""listRefunds paginates as Shopify's REST lists do since 2019-10: `limit`, a `Link` header, `page_info`.

Sources (reference notes, shopify.md section 4, and what Shopify was seen to answer):
- "As of version 2019-10, this endpoint implements pagination by using links that are provided in
  the response header. Sending the page parameter will return an error." (Shopify docs);
- `Link: <...page_info=...&limit=...>; rel="next"` / `rel="previous"` (Shopify changelog,
  "Page-based pagination replaced by cursor-based pagination");
- `{"errors":{"page":"page cannot be passed."}}` (Shopify community thread, REST 2019-07);
- `{"errors":{"page_info":"Invalid value."}}` (Shopify/shopify_python_api#544, a 400);
- "<name> cannot be passed when page_info is present. See https://shopify.dev/api/usage/pagination-rest
  for more information." (Shopify/shopify-api-js#755, n8n-io/n8n#3963, a 400).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from tests.conftest import FIXTURES_DIR

ORDER_ID = 3012450010101
REFUNDS = f"/admin/api/2020-10/orders/{ORDER_ID}/refunds.json"
TOKEN = {"X-Shopify-Access-Token": "shpat_pages"}
LINK = re.compile(r'<([^>]+)>; rel="(next|previous)"')
PAGE_INFO_RULE = (
    "cannot be passed when page_info is present. See https://shopify.dev/api/usage/pagination-rest "
    "for more information."
)


def links(response: object) -> dict[str, str]:
    """rel -> the path and query of its URL (the test client takes no host)."""
    header = response.headers.get("Link", "")  # type: ignore[attr-defined]
    found = {}
    for url, relation in LINK.findall(header):
        parts = urlsplit(url)
        found[relation] = f"{parts.path}?{parts.query}"
    return found


@pytest.fixture
def refund_ids(shopify_client: FlaskClient) -> list[int]:
    """The order's refunds, oldest first: the fixture's one, then three money-only refunds made
    through the API."""
    document = json.loads((FIXTURES_DIR / "shopify" / "orders" / f"{ORDER_ID}.json").read_text(encoding="utf-8"))
    made = [refund["id"] for refund in document["order"]["refunds"]]
    assert len(made) == 1
    for number in range(3):
        body = {
            "refund": {
                "note": f"refund {number}",
                "transactions": [{"parent_id": 4210000001, "amount": "1.00", "kind": "refund", "gateway": "bogus"}],
            }
        }
        response = shopify_client.post(REFUNDS, json=body, headers=TOKEN)
        assert response.status_code == 201, response.get_json()
        made.append(response.get_json()["refund"]["id"])
    return made


def test_limit_pages_forward_and_back_through_the_link_header(
    shopify_client: FlaskClient, refund_ids: list[int]
) -> None:
    first = shopify_client.get(f"{REFUNDS}?limit=1", headers=TOKEN)
    assert first.status_code == 200
    assert [refund["id"] for refund in first.get_json()["refunds"]] == refund_ids[:1]
    assert set(links(first)) == {"next"}
    # Shopify's link URLs carry `limit` and `page_info` only
    assert set(parse_qs(urlsplit(links(first)["next"]).query)) == {"limit", "page_info"}
    assert first.headers["Link"].startswith(f"<http://localhost{REFUNDS}?")

    second = shopify_client.get(links(first)["next"], headers=TOKEN)
    assert [refund["id"] for refund in second.get_json()["refunds"]] == refund_ids[1:2]
    assert set(links(second)) == {"next", "previous"}
    assert second.headers["Link"].index('rel="previous"') < second.headers["Link"].index('rel="next"')

    third = shopify_client.get(links(second)["next"], headers=TOKEN)
    assert [refund["id"] for refund in third.get_json()["refunds"]] == refund_ids[2:3]
    fourth = shopify_client.get(links(third)["next"], headers=TOKEN)
    assert [refund["id"] for refund in fourth.get_json()["refunds"]] == refund_ids[3:]
    assert set(links(fourth)) == {"previous"}

    back = shopify_client.get(links(fourth)["previous"], headers=TOKEN)
    assert [refund["id"] for refund in back.get_json()["refunds"]] == refund_ids[2:3]


def test_a_page_info_request_may_change_limit_and_add_fields(
    shopify_client: FlaskClient, refund_ids: list[int]
) -> None:
    first = shopify_client.get(f"{REFUNDS}?limit=1", headers=TOKEN)
    page_info = parse_qs(urlsplit(links(first)["next"]).query)["page_info"][0]
    rest = shopify_client.get(f"{REFUNDS}?page_info={page_info}&limit=5&fields=id,note", headers=TOKEN)
    assert rest.status_code == 200
    assert rest.get_json()["refunds"][1:] == [
        {"id": refund_ids[2], "note": "refund 1"},
        {"id": refund_ids[3], "note": "refund 2"},
    ]
    assert [refund["id"] for refund in rest.get_json()["refunds"]] == refund_ids[1:]
    assert set(links(rest)) == {"previous"}


def test_no_link_header_when_everything_fits(shopify_client: FlaskClient, refund_ids: list[int]) -> None:
    answer = shopify_client.get(REFUNDS, headers=TOKEN)
    assert [refund["id"] for refund in answer.get_json()["refunds"]] == refund_ids
    assert "Link" not in answer.headers
    assert "Link" not in shopify_client.get(f"{REFUNDS}?limit=4", headers=TOKEN).headers


def test_the_page_parameter_answers_shopifys_error(shopify_client: FlaskClient) -> None:
    answer = shopify_client.get(f"{REFUNDS}?page=2&limit=1", headers=TOKEN)
    assert answer.status_code == 400
    assert answer.get_json() == {"errors": {"page": "page cannot be passed."}}
    assert answer.headers["X-Shopify-Shop-Api-Call-Limit"].endswith("/40")


@pytest.mark.parametrize("page_info", ["", "not-a-cursor", "eyJmb28iOjF9"])
def test_a_page_info_the_server_did_not_issue_is_invalid(shopify_client: FlaskClient, page_info: str) -> None:
    answer = shopify_client.get(f"{REFUNDS}?page_info={page_info}", headers=TOKEN)
    assert answer.status_code == 400
    assert answer.get_json() == {"errors": {"page_info": "Invalid value."}}


def test_only_limit_and_fields_may_go_with_page_info(shopify_client: FlaskClient, refund_ids: list[int]) -> None:
    first = shopify_client.get(f"{REFUNDS}?limit=1&in_shop_currency=true", headers=TOKEN)
    following = links(first)["next"]
    refused = shopify_client.get(f"{following}&in_shop_currency=true", headers=TOKEN)
    assert refused.status_code == 400
    assert refused.get_json() == {"errors": {"in_shop_currency": f"in_shop_currency {PAGE_INFO_RULE}"}}
    # the filters of the first request stay in force through the cursor
    assert shopify_client.get(following, headers=TOKEN).status_code == 200


def test_a_cursor_belongs_to_the_order_it_was_made_for(shopify_client: FlaskClient, refund_ids: list[int]) -> None:
    """x-mock-note (listRefunds): another order's cursor is invalid."""
    following = links(shopify_client.get(f"{REFUNDS}?limit=1", headers=TOKEN))["next"]
    elsewhere = following.replace(str(ORDER_ID), "3012450010102")
    answer = shopify_client.get(elsewhere, headers=TOKEN)
    assert answer.status_code == 400
    assert answer.get_json() == {"errors": {"page_info": "Invalid value."}}


def test_fields_is_not_carried_by_the_link(shopify_client: FlaskClient, refund_ids: list[int]) -> None:
    """x-mock-note (listRefunds): the links hold `page_info` and `limit`; `fields` is sent again."""
    first = shopify_client.get(f"{REFUNDS}?limit=1&fields=id", headers=TOKEN)
    assert first.get_json() == {"refunds": [{"id": refund_ids[0]}]}
    second = shopify_client.get(links(first)["next"], headers=TOKEN)
    assert "note" in second.get_json()["refunds"][0]


def test_in_shop_currency_stays_in_force_through_the_cursor(shopify_client: FlaskClient) -> None:
    """A JPY shop whose customer paid in KWD (a committed fixture with two refunds): the first
    request asks for shop money, and the page its link leads to shows shop money too."""
    order = 4100000000003
    document = json.loads((FIXTURES_DIR / "shopify" / "orders" / f"{order}.json").read_text(encoding="utf-8"))
    assert (document["order"]["currency"], document["order"]["presentment_currency"]) == ("JPY", "KWD")
    path = f"/admin/api/2020-10/orders/{order}/refunds.json"
    first = shopify_client.get(f"{path}?limit=1&in_shop_currency=true", headers=TOKEN)
    second = shopify_client.get(links(first)["next"], headers=TOKEN)
    assert second.status_code == 200
    currencies = {t["currency"] for r in second.get_json()["refunds"] for t in r["transactions"]}
    assert currencies == {"JPY"}
    plain = shopify_client.get(f"{path}?limit=1", headers=TOKEN)
    in_presentment = shopify_client.get(links(plain)["next"], headers=TOKEN)
    assert {t["currency"] for r in in_presentment.get_json()["refunds"] for t in r["transactions"]} == {"KWD"}
