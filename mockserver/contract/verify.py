"""`refund-mock verify`: ask the store and the mock the same read-only questions, compare answers.

For each recorded order, the mock is loaded with the order as recorded and both are asked the
same quotes: one unit of each line still open, the shipping left, and everything left (Shopify
`refunds/calculate.json`; BigCommerce `payment_actions/refund_quotes` with products, shipping
and everything). The answers are compared field by field: the status, every key, every value,
money exactly (`"10.00"` is not `"10.0"`; a number is compared as the decimal it spells). Only
the fields of `MAY_DIFFER` are skipped.

Requests to the store go through `http.StoreClient`, which sends nothing but reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from mockserver.contract.http import SHOPIFY_API, Answer, StoreClient
from mockserver.contract.record import store_hash_of

# Keys whose values may differ between the store and the mock: they name the answer itself, not
# the money (a calculate or a quote creates nothing, so today's answers hold none of them).
MAY_DIFFER = frozenset(
    {
        "id",  # the id of an object the answer itself creates
        "admin_graphql_api_id",  # ...and its GraphQL id (Shopify)
        "created_at",
        "updated_at",
        "processed_at",  # Shopify timestamps
        "date_created",
        "date_modified",  # BigCommerce timestamps
        "request_id",
        "requestId",  # request ids some error bodies carry
    }
)
MOCK_TOKEN = "refund-mock-verify"  # the in-process mock takes any token
MOCK_STORE_HASH = "store"


@dataclass
class Difference:
    field: str
    store: Any
    mock: Any

    def describe(self) -> str:
        return f"{self.field}: store {_show(self.store)}, mock {_show(self.mock)}"


MISSING = "(missing)"


def _show(value: Any) -> str:
    return value if value is MISSING else json.dumps(value, ensure_ascii=False)


@dataclass
class Check:
    """One request asked of both, and what differed."""

    name: str
    method: str
    path: str
    body: Any
    store_status: int
    mock_status: int
    differences: list[Difference] = field(default_factory=list)


@dataclass
class OrderReport:
    order_id: int
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(not check.differences for check in self.checks)


# -- comparing ---------------------------------------------------------------------------------


def compare(store: Any, mock: Any, path: str = "") -> Iterator[Difference]:
    """Every difference between two JSON values, by JSON path (`refund.shipping.tax`)."""
    if isinstance(store, dict) and isinstance(mock, dict):
        for key in [*store, *(key for key in mock if key not in store)]:
            if key in MAY_DIFFER:
                continue
            where = f"{path}.{key}" if path else key
            yield from compare(store.get(key, MISSING), mock.get(key, MISSING), where)
    elif isinstance(store, list) and isinstance(mock, list):
        for index in range(max(len(store), len(mock))):
            yield from compare(
                store[index] if index < len(store) else MISSING,
                mock[index] if index < len(mock) else MISSING,
                f"{path}[{index}]",
            )
    elif not _same(store, mock):
        yield Difference(path or "(body)", store, mock)


def _same(store: Any, mock: Any) -> bool:
    if _is_number(store) and _is_number(mock):
        return _decimal(store) == _decimal(mock)  # 105.56 is 105.56, whatever the float
    return type(store) is type(mock) and store == mock


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _decimal(value: int | float) -> Decimal | None:
    try:
        return Decimal(repr(value))
    except InvalidOperation:  # pragma: no cover - JSON has no NaN
        return None


# -- the questions -----------------------------------------------------------------------------


def questions(platform: str, document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, request body) for one order: each open line, the shipping left, everything left."""
    if platform == "shopify":
        from mockserver.shopify import generator as shopify

        left = shopify.remaining_units(document)
        asked = [
            (
                f"line {line['id']}",
                {
                    "refund": {
                        "refund_line_items": [{"line_item_id": line["id"], "quantity": 1, "restock_type": "no_restock"}]
                    }
                },
            )
            for line in document["order"]["line_items"]
            if left[line["id"]] > 0
        ]
        if shopify.remaining_shipping(document) > 0:
            asked.append(("shipping", {"refund": {"shipping": {"full_refund": True}}}))
        everything = shopify.everything_left(document)
        if everything["refund_line_items"] or "shipping" in everything:
            asked.append(("everything", {"refund": everything}))
        return asked
    from mockserver.bigcommerce import generator as bigcommerce

    remaining = bigcommerce.remaining(document)
    asked = [
        (f"product {item_id}", {"items": [{"item_type": "PRODUCT", "item_id": item_id, "quantity": 1}]})
        for (kind, item_id), units in remaining.items()
        if kind == "PRODUCT" and units > 0
    ]
    everything = bigcommerce.everything_left(document)
    shipping = [item for item in everything["items"] if item["item_type"] == "SHIPPING"]
    if shipping:
        asked.append(("shipping", {"items": shipping}))
    if everything["items"]:
        asked.append(("everything", everything))
    return asked


def quote_path(platform: str, order_id: int) -> str:
    """The quote's path below the store's base URL (what `StoreClient` takes)."""
    if platform == "shopify":
        return f"/orders/{order_id}/refunds/calculate.json"
    return f"/v3/orders/{order_id}/payment_actions/refund_quotes"


# -- the mock ----------------------------------------------------------------------------------


class InProcessMock:
    """A private mock, loaded with the recorded orders, asked through the same paths."""

    def __init__(self, platform: str, store_hash: str | None):
        from mockserver.app import MockConfig, create_app, server_of

        self.platform = platform
        self.app = create_app(
            MockConfig(
                load_fixtures=False, builtin_scenarios=False, journal_size=0, cors=False, validate_responses=True
            )
        )
        self.server = server_of(self.app)
        self.client = self.app.test_client()
        self.prefix = SHOPIFY_API if platform == "shopify" else f"/stores/{store_hash or MOCK_STORE_HASH}"
        self.headers = {"X-Shopify-Access-Token" if platform == "shopify" else "X-Auth-Token": MOCK_TOKEN}

    def load(self, document: dict[str, Any]) -> str | None:
        """Load one order; the mock's refusal (a document its spec rejects), or None."""
        answer = self.client.post(f"/__mock/{self.platform}/orders", json=document)
        return None if answer.status_code == 201 else answer.get_data(as_text=True)

    def post(self, path: str, body: Any) -> Answer:
        answer = self.client.post(self.prefix + path, json=body, headers=self.headers)
        return Answer(answer.status_code, answer.headers, answer.get_json(silent=True), answer.get_data(as_text=True))

    def close(self) -> None:
        self.server.close()


# -- the run -----------------------------------------------------------------------------------


def verify_orders(
    client: StoreClient,
    documents: list[dict[str, Any]],
    progress: Callable[[str], None] = lambda message: None,
) -> list[OrderReport]:
    """Ask the store and the mock each order's questions; one report per order."""
    platform = client.platform
    mock = InProcessMock(platform, store_hash_of(client.base_url))
    reports: list[OrderReport] = []
    try:
        for number, document in enumerate(documents, start=1):
            order_id = int(document["order"]["id"])
            report = OrderReport(order_id)
            reports.append(report)
            refused = mock.load(document)
            if refused is not None:
                report.checks.append(
                    Check("load into the mock", "POST", "", None, 0, 0, [Difference("(order)", None, refused)])
                )
                continue
            path = quote_path(platform, order_id)
            for name, body in questions(platform, document):
                store = client.post(path, body)
                answered = mock.post(path, body)
                check = Check(name, "POST", client.url(path), body, store.status, answered.status)
                if store.status != answered.status:
                    check.differences.append(Difference("(status)", store.status, answered.status))
                check.differences.extend(compare(store.body, answered.body))
                report.checks.append(check)
            verdict = "same" if report.passed else "DIFFERENT"
            progress(f"[{number}/{len(documents)}] order {order_id}: {len(report.checks)} requests, {verdict}")
    finally:
        mock.close()
    return reports


# -- reports -----------------------------------------------------------------------------------


def table(reports: list[OrderReport], platform: str) -> str:
    """A table per order: each request, both statuses, and every field that differs."""
    lines: list[str] = []
    for report in reports:
        lines.append(f"{platform} order {report.order_id}: {'same' if report.passed else 'DIFFERENT'}")
        width = max((len(check.name) for check in report.checks), default=7)
        lines.append(f"  {'request':<{width}}  store  mock  result")
        for check in report.checks:
            count = len(check.differences)
            result = "same" if not count else f"{count} difference{'s' if count > 1 else ''}"
            lines.append(f"  {check.name:<{width}}  {check.store_status:>5}  {check.mock_status:>4}  {result}")
            for difference in check.differences:
                lines.append(f"  {'':<{width}}    {difference.describe()}")
        if not report.checks:
            lines.append("  (nothing left to refund: no request asked)")
    return "\n".join(lines)


def json_report(reports: list[OrderReport], platform: str, url: str) -> dict[str, Any]:
    return {
        "platform": platform,
        "url": url,
        "passed": all(report.passed for report in reports),
        "may_differ": sorted(MAY_DIFFER),
        "orders": [
            {
                "order_id": report.order_id,
                "passed": report.passed,
                "requests": [
                    {**asdict(check), "differences": [_difference_json(d) for d in check.differences]}
                    for check in report.checks
                ],
            }
            for report in reports
        ],
    }


def _difference_json(difference: Difference) -> dict[str, Any]:
    return {
        "field": difference.field,
        "store": None if difference.store is MISSING else difference.store,
        "mock": None if difference.mock is MISSING else difference.mock,
        "missing_in": "store" if difference.store is MISSING else "mock" if difference.mock is MISSING else None,
    }


def junit_report(reports: list[OrderReport], platform: str) -> bytes:
    """JUnit XML: a test case per order and request, failed with the fields that differ."""
    checks = [(report, check) for report in reports for check in report.checks]
    failures = sum(1 for _, check in checks if check.differences)
    suite = ElementTree.Element(
        "testsuite", name=f"refund-mock verify {platform}", tests=str(len(checks)), failures=str(failures), errors="0"
    )
    for report, check in checks:
        case = ElementTree.SubElement(
            suite, "testcase", classname=f"{platform}.order_{report.order_id}", name=check.name
        )
        if check.differences:
            failure = ElementTree.SubElement(
                case,
                "failure",
                message=f"order {report.order_id}, {check.name}: {check.differences[0].describe()}",
                type="difference",
            )
            failure.text = "\n".join(difference.describe() for difference in check.differences)
    suites = ElementTree.Element("testsuites")
    suites.append(suite)
    return ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True)


def write_reports(reports: list[OrderReport], platform: str, url: str, json_path: Path, junit_path: Path) -> None:
    json_path.write_text(json.dumps(json_report(reports, platform, url), indent=2, ensure_ascii=False) + "\n", "utf-8")
    junit_path.write_bytes(junit_report(reports, platform))


def read_recorded(directory: Path, platform: str) -> list[dict[str, Any]]:
    """The order documents of `platform` under a fixtures folder, in file order."""
    from mockserver.fixtures import find_files, read_documents

    documents = []
    for item in find_files(directory):
        if item.platform == platform and item.kind == "orders":
            documents.extend(document for _, document in read_documents(item.path))
    return documents
