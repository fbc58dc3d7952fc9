"""The dashboard in a real browser: Debian's chromium driven by Playwright, nothing downloaded.

Each test starts the mock on a free loopback port, opens `/__mock/ui` and clicks through it as a
person would, while an HTTP client plays the application under test. Playwright's assertions
wait for the page to catch up (the journal is polled twice a second); none measures time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from tests.live_server import live_server

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM = Path("/usr/bin/chromium")
# The flags that keep Debian's chromium quiet offline (no background fetches, no first-run work)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOPIFY = {"X-Shopify-Access-Token": "any-token"}
ORDER = "/admin/api/2020-10/orders/3012450010101.json"
TRANSACTIONS = "/admin/api/2020-10/orders/3012450010101/transactions.json"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (scripts/test installs it when run as root)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_dashboard(make_app: Callable[..., Flask], browser: Any) -> Iterator[Callable[..., tuple[Any, str]]]:
    """Start a mock (settings as `make_app` takes them), open its dashboard; yields (page, base URL)."""
    opened: list[Any] = []
    servers: list[Any] = []

    def open_(fragment: str = "", **settings: Any) -> tuple[Any, str]:
        server = live_server(make_app(**settings))
        base = server.__enter__()
        servers.append(server)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        opened.append(page)
        page.goto(f"{base}/__mock/ui{fragment}")
        return page, base

    yield open_
    for page in opened:
        page.close()
    for server in servers:
        server.__exit__(None, None, None)


def test_a_request_made_with_an_http_client_appears_with_its_bodies(open_dashboard: Callable[..., Any]) -> None:
    page, base = open_dashboard()
    expect(page.locator("#journal-summary")).to_have_text("No requests recorded.")
    answer = requests.get(base + TRANSACTIONS, headers=SHOPIFY, timeout=10)
    rows = page.locator("#journal tbody tr")
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row.locator("td").nth(1)).to_have_text("default")
    expect(row.locator("td").nth(2)).to_have_text("GET")
    expect(row.locator("td").nth(4)).to_have_text("200")
    row.get_by_role("button", name=TRANSACTIONS).click()
    expect(page.locator("#detail-heading")).to_be_focused()
    expect(page.locator("#detail-heading")).to_contain_text(f"GET {TRANSACTIONS}")
    first_transaction = answer.json()["transactions"][0]
    expect(page.locator("#detail-response")).to_contain_text(f'"id": {first_transaction["id"]}')
    expect(page.locator("#detail-request")).to_have_text("(none)")


def test_a_scenario_switched_on_in_the_page_changes_the_next_answer(open_dashboard: Callable[..., Any]) -> None:
    page, base = open_dashboard()
    switch = page.get_by_role("button", name="Scenario shopify-rate-limited active")
    expect(switch).to_have_attribute("aria-pressed", "false")
    assert requests.get(base + ORDER, headers=SHOPIFY, timeout=10).status_code == 200
    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "true")
    throttled = requests.get(base + ORDER, headers=SHOPIFY, timeout=10)
    assert throttled.status_code == 429  # Shopify's throttle answer, as the built-in scenario scripts it
    newest = page.locator("#journal tbody tr").first
    expect(newest.locator("td").nth(5)).to_have_text("shopify-rate-limited")
    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "false")
    assert requests.get(base + ORDER, headers=SHOPIFY, timeout=10).status_code == 200


def test_reset_empties_the_journal_and_undoes_refunds(open_dashboard: Callable[..., Any]) -> None:
    page, base = open_dashboard()
    requests.get(base + ORDER, headers=SHOPIFY, timeout=10)
    requests.get(base + TRANSACTIONS, headers=SHOPIFY, timeout=10)
    expect(page.locator("#journal tbody tr")).to_have_count(2)
    page.get_by_role("button", name="Reset the mock").click()
    expect(page.locator("#journal tbody tr")).to_have_count(0)
    expect(page.locator("#journal-summary")).to_have_text("No requests recorded.")
    assert requests.get(base + "/__mock/requests", timeout=10).json()["count"] == 0


def test_the_orders_show_what_is_left_to_refund(open_dashboard: Callable[..., Any]) -> None:
    page, base = open_dashboard()
    balances = requests.get(base + "/__mock/orders", timeout=10).json()["platforms"]
    order = next(order for order in balances["shopify"] if order["order_id"] == 3012450010101)
    row = page.locator("#orders-shopify tbody tr", has_text="(3012450010101)")
    expect(row.locator("td").nth(0)).to_have_text(str(order["units_left"]))
    expect(row.locator("td").nth(1)).to_have_text(f"{order['money_left']} {order['currency']}")
    expect(row.locator("li")).to_have_count(len(order["refunds"]))
    expect(page.locator("#orders-bigcommerce tbody tr")).to_have_count(len(balances["bigcommerce"]))


LABEL_OF_FOCUSED = "(e => e.getAttribute('aria-label') || e.textContent.trim())(document.activeElement)"


def test_a_refund_made_by_a_client_shows_in_the_orders(open_dashboard: Callable[..., Any]) -> None:
    page, base = open_dashboard()
    units = page.locator("#orders-shopify tbody tr", has_text="(3012450010101)").locator("td").nth(0)
    expect(units).to_have_text("6")  # 4 + 1 + 2 units ordered, 1 refunded (the fixture file)
    wanted = {"refund_line_items": [{"line_item_id": 10010000001, "quantity": 1, "restock_type": "no_restock"}]}
    path = base + ORDER.removesuffix(".json")
    calculated = requests.post(f"{path}/refunds/calculate.json", json={"refund": wanted}, headers=SHOPIFY, timeout=10)
    refund = calculated.json()["refund"]
    for transaction in refund["transactions"]:
        transaction["kind"] = "refund"
    created = requests.post(f"{path}/refunds.json", json={"refund": refund}, headers=SHOPIFY, timeout=10)
    assert created.status_code == 201
    expect(units).to_have_text("5")
    refund_id = created.json()["refund"]["id"]
    expect(page.locator("#orders-shopify li", has_text=f"{refund_id}:")).to_have_count(1)


def focus_walk(page: Any, presses: int) -> list[str]:
    """What Tab reaches, in order: each focused element's accessible label or text."""
    reached = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(LABEL_OF_FOCUSED))
    return reached


def test_every_control_is_reachable_and_usable_with_the_keyboard(open_dashboard: Callable[..., Any]) -> None:
    page, base = open_dashboard()
    requests.get(base + ORDER, headers=SHOPIFY, timeout=10)
    expect(page.locator("#journal tbody tr")).to_have_count(1)
    expect(page.locator("#scenarios tbody tr").first).to_be_visible()
    reached = focus_walk(page, 4)
    assert reached == ["Skip to the journal", "Reset the mock", ORDER, "Scenario shopify-over-quantity active"]
    page.keyboard.press("Space")  # the focused switch
    switch = page.get_by_role("button", name="Scenario shopify-over-quantity active")
    expect(switch).to_have_attribute("aria-pressed", "true")
    listed = requests.get(base + "/__mock/scenarios", timeout=10).json()["scenarios"]
    assert next(s for s in listed if s["name"] == "shopify-over-quantity")["active"] is True
    page.get_by_role("button", name=ORDER).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#detail-heading")).to_be_focused()


def test_with_an_admin_token_the_page_asks_for_it(open_dashboard: Callable[..., Any]) -> None:
    page, base = open_dashboard(admin_token="s3cret")
    expect(page.get_by_label("Admin token")).to_be_visible()
    requests.get(base + ORDER, headers=SHOPIFY, timeout=10)
    page.get_by_label("Admin token").fill("s3cret")
    page.get_by_role("button", name="Use token").click()
    expect(page.locator("#journal tbody tr")).to_have_count(1)
    expect(page.get_by_label("Admin token")).to_be_hidden()


def test_the_token_can_come_in_the_fragment_and_leaves_the_address_bar(open_dashboard: Callable[..., Any]) -> None:
    page, _ = open_dashboard("#token=s3cret", admin_token="s3cret")
    expect(page.locator("#scenarios tbody tr").first).to_be_visible()
    assert "s3cret" not in page.url


def test_named_sessions_are_listed_and_can_be_dropped(open_dashboard: Callable[..., Any]) -> None:
    page, base = open_dashboard()
    requests.get(base + ORDER, headers=SHOPIFY, timeout=10)
    requests.get(base + ORDER, headers={**SHOPIFY, "X-Mock-Session": "ci-7"}, timeout=10)
    journal = page.locator("#journal tbody tr")
    expect(journal).to_have_count(2)
    expect(journal.first.locator("td").nth(1)).to_have_text("ci-7")  # newest first
    expect(journal.nth(1).locator("td").nth(1)).to_have_text("default")
    row = page.locator("#sessions tbody tr", has_text="ci-7")
    expect(row.locator("td").nth(1)).to_have_text("1")  # its one platform request
    page.get_by_role("button", name="Drop session ci-7").click()
    expect(page.locator("#sessions tbody tr")).to_have_count(0)
    expect(page.locator("#sessions-heading")).to_be_focused()
    assert requests.get(base + "/__mock/sessions", timeout=10).json()["sessions"] == []
