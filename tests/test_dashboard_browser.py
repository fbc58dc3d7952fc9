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
ORDERS_PAGE = 25  # orders per platform on one page of the dashboard
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
    # a page at a time (the first 25 by id), saying how many there are
    listed = balances["bigcommerce"]
    expect(page.locator("#orders-bigcommerce tbody tr")).to_have_count(min(ORDERS_PAGE, len(listed)))
    expect(page.locator("#orders-bigcommerce-range")).to_have_text(
        f"BigCommerce orders 1–{min(ORDERS_PAGE, len(listed))} of {len(listed)}"
    )


def test_the_orders_can_be_paged_through(open_dashboard: Callable[..., Any]) -> None:
    """The committed fixtures hold 30 orders per platform: a second page holds the last 5."""
    page, base = open_dashboard()
    listed = [
        order["order_id"] for order in requests.get(base + "/__mock/orders", timeout=10).json()["platforms"]["shopify"]
    ]
    assert len(listed) > ORDERS_PAGE  # else there is nothing to page through
    rows = page.locator("#orders-shopify tbody tr")
    expect(rows).to_have_count(ORDERS_PAGE)
    previous = page.get_by_role("button", name="Previous Shopify orders")
    expect(previous).to_be_disabled()
    page.get_by_role("button", name="Next Shopify orders").click()
    expect(rows).to_have_count(len(listed) - ORDERS_PAGE)
    expect(rows.first.locator("th")).to_contain_text(f"({listed[ORDERS_PAGE]})")
    expect(page.locator("#orders-shopify-range")).to_have_text(
        f"Shopify orders {ORDERS_PAGE + 1}–{len(listed)} of {len(listed)}"
    )
    expect(page.get_by_role("button", name="Next Shopify orders")).to_be_disabled()
    expect(page.locator("#status")).to_have_text(f"Shopify orders {ORDERS_PAGE + 1}–{len(listed)} of {len(listed)}.")
    expect(previous).to_be_focused()  # the button pressed went disabled: the focus stays among the two
    page.keyboard.press("Enter")
    expect(rows.first.locator("th")).to_contain_text(f"({listed[0]})")


LABEL_OF_FOCUSED = (
    "(e => e.getAttribute('aria-label') || (e.labels && e.labels.length ? e.labels[0].textContent : e.textContent)"
    ".trim())(document.activeElement)"
)


def test_a_refund_made_by_a_client_shows_in_the_orders(open_dashboard: Callable[..., Any]) -> None:
    page, base = open_dashboard()
    units = page.locator("#orders-shopify tbody tr", has_text="(3012450010101)").locator("td").nth(0)
    expect(units).to_have_text("6")  # 4 + 1 + 2 units ordered, 1 refunded (the fixture file)
    refund_id = refund_one_unit(base, SHOPIFY)
    expect(units).to_have_text("5")
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
    reached = focus_walk(page, 5)
    assert reached == [
        "Skip to the journal",
        "Session",
        "Reset the mock",
        ORDER,
        "Scenario shopify-over-quantity active",
    ]
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


# -- the session selector: what the page shows and does follows the session chosen --------------------

CI = {**SHOPIFY, "X-Mock-Session": "ci-7"}


def choose_session(page: Any, name: str) -> None:
    """Pick a session in the selector once the page lists it (the sessions are read every 2 s)."""
    selector = page.get_by_label("Session", exact=True)
    if name not in ("default", "all sessions"):
        expect(selector.locator(f'option[value="{name}"]')).to_have_count(1)
    selector.select_option(label=name)


def refund_one_unit(base: str, headers: dict[str, str]) -> int:
    """Calculate, then create what calculate suggested (Shopify's documented flow); the refund's id."""
    wanted = {"refund_line_items": [{"line_item_id": 10010000001, "quantity": 1, "restock_type": "no_restock"}]}
    path = base + ORDER.removesuffix(".json")
    calculated = requests.post(f"{path}/refunds/calculate.json", json={"refund": wanted}, headers=headers, timeout=10)
    refund = calculated.json()["refund"]
    for transaction in refund["transactions"]:
        transaction["kind"] = "refund"
    created = requests.post(f"{path}/refunds.json", json={"refund": refund}, headers=headers, timeout=10)
    assert created.status_code == 201
    return int(created.json()["refund"]["id"])


def test_a_refund_made_in_a_session_shows_in_its_orders_and_not_in_the_defaults(
    open_dashboard: Callable[..., Any],
) -> None:
    page, base = open_dashboard()
    refund_id = refund_one_unit(base, CI)
    units = page.locator("#orders-shopify tbody tr", has_text="(3012450010101)").locator("td").nth(0)
    its_refund = page.locator("#orders-shopify li", has_text=f"{refund_id}:")
    expect(units).to_have_text("6")  # the default session's: 4 + 1 + 2 units ordered, 1 refunded (the fixture)
    choose_session(page, "ci-7")
    expect(units).to_have_text("5")
    expect(its_refund).to_have_count(1)
    expect(page.locator("#session-scope")).to_have_text("Requests, orders, scenarios and reset: session ci-7's.")
    choose_session(page, "default")
    expect(units).to_have_text("6")
    expect(its_refund).to_have_count(0)


def test_a_scenario_switched_on_for_a_session_changes_its_answers_only(open_dashboard: Callable[..., Any]) -> None:
    page, base = open_dashboard()
    assert requests.get(base + ORDER, headers=CI, timeout=10).status_code == 200  # makes the session
    choose_session(page, "ci-7")
    switch = page.get_by_role("button", name="Scenario shopify-rate-limited active")
    expect(switch).to_have_attribute("aria-pressed", "false")
    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "true")
    assert requests.get(base + ORDER, headers=CI, timeout=10).status_code == 429  # Shopify's throttle answer
    assert requests.get(base + ORDER, headers=SHOPIFY, timeout=10).status_code == 200  # the default: untouched
    newest = page.locator("#journal tbody tr").first  # the session's journal
    expect(newest.locator("td").nth(5)).to_have_text("shopify-rate-limited")
    choose_session(page, "default")
    expect(switch).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#journal tbody tr")).to_have_count(1)  # the default's one request
    default_scenarios = requests.get(base + "/__mock/scenarios", timeout=10).json()["scenarios"]
    assert next(s for s in default_scenarios if s["name"] == "shopify-rate-limited")["active"] is False


def test_reset_of_a_session_from_the_page_empties_its_journal_only(open_dashboard: Callable[..., Any]) -> None:
    page, base = open_dashboard()
    requests.get(base + ORDER, headers=SHOPIFY, timeout=10)
    requests.get(base + ORDER, headers=CI, timeout=10)
    requests.get(base + TRANSACTIONS, headers=CI, timeout=10)
    journal = page.locator("#journal tbody tr")
    expect(journal).to_have_count(3)  # all sessions, as the page opens
    choose_session(page, "ci-7")
    expect(journal).to_have_count(2)
    page.get_by_role("button", name="Reset session ci-7").click()
    expect(journal).to_have_count(0)
    expect(page.locator("#journal-summary")).to_have_text("No requests recorded.")
    ci = requests.get(base + "/__mock/requests", headers={"X-Mock-Session": "ci-7"}, timeout=10).json()
    assert ci["count"] == 0
    assert requests.get(base + "/__mock/requests", timeout=10).json()["count"] == 1  # the default's stays
    choose_session(page, "all sessions")
    expect(journal).to_have_count(1)
    expect(journal.first.locator("td").nth(1)).to_have_text("default")


def test_the_session_is_chosen_with_the_keyboard_and_the_choice_holds(open_dashboard: Callable[..., Any]) -> None:
    page, base = open_dashboard()
    requests.get(base + ORDER, headers=CI, timeout=10)
    selector = page.get_by_label("Session", exact=True)
    expect(selector.locator('option[value="ci-7"]')).to_have_count(1)
    selector.focus()
    page.keyboard.press("ArrowDown")  # all sessions -> default
    page.keyboard.press("ArrowDown")  # default -> ci-7
    expect(selector).to_have_value("ci-7")
    expect(page.get_by_role("button", name="Reset session ci-7")).to_be_visible()
    expect(page.locator("#status")).to_have_text("Showing session ci-7.")
    requests.get(base + TRANSACTIONS, headers=CI, timeout=10)
    requests.get(base + TRANSACTIONS, headers=SHOPIFY, timeout=10)  # another session's: not shown
    journal = page.locator("#journal tbody tr")
    expect(journal).to_have_count(2)  # polled since: the choice held
    expect(journal.first.locator("td").nth(3)).to_have_text(TRANSACTIONS)
    expect(selector).to_have_value("ci-7")
    requests.delete(base + "/__mock/sessions/ci-7", timeout=10)  # a CI job ends and drops its session
    expect(selector).to_have_value("*")
    expect(page.locator("#status")).to_contain_text("Session ci-7 is gone")
    expect(page.get_by_role("button", name="Reset the mock")).to_be_visible()
    assert requests.get(base + "/__mock/sessions", timeout=10).json()["sessions"] == []  # the page did not remake it
