"""The OpenAPI links of the refund flow, followed by hand: each one leads to a request that works.

Schemathesis's stateful phase follows these links from random starting points, so whether a
given run reaches the end of the flow depends on its seed; here every link is taken from a
known good start, with its runtime expressions evaluated as the OpenAPI spec defines them.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import yaml
from flask.testing import FlaskClient

from tests.conftest import REPO_ROOT

SHOPIFY_TOKEN = {"X-Shopify-Access-Token": "links"}
BIGCOMMERCE_TOKEN = {"X-Auth-Token": "links"}


class Spec:
    """Just enough of a spec to follow its links: operations by id, and each response's links."""

    def __init__(self, name: str):
        self.document = yaml.safe_load((REPO_ROOT / "specs" / name).read_text(encoding="utf-8"))
        self.operations: dict[str, tuple[str, str, dict[str, Any]]] = {}
        for template, item in self.document["paths"].items():
            for method, operation in item.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    self.operations[operation["operationId"]] = (method.upper(), template, operation)

    def link(self, operation_id: str, status: str, name: str) -> dict[str, Any]:
        response = self.operations[operation_id][2]["responses"][status]
        if "$ref" in response:
            response = self.document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        return response["links"][name]


class Step:
    """One request sent and its answer, as link expressions see them."""

    def __init__(
        self,
        client: FlaskClient,
        spec: Spec,
        operation_id: str,
        path: dict[str, Any],
        body: Any,
        token: dict[str, str],
        query: dict[str, Any] | None = None,
    ):
        method, template, _ = spec.operations[operation_id]
        self.path_params = path
        self.request_body = body
        url = re.sub(r"\{(\w+)\}", lambda match: str(path[match.group(1)]), template)
        response = client.open(url, method=method, json=body, headers=token, query_string=query or {})
        self.status = response.status_code
        self.body = response.get_json()

    def evaluate(self, expression: Any) -> Any:
        """A runtime expression (`$request.path.x`, `$request.body#/p`, `$response.body#/p`), nested."""
        if isinstance(expression, dict):
            return {key: self.evaluate(value) for key, value in expression.items()}
        if isinstance(expression, list):
            return [self.evaluate(value) for value in expression]
        if not isinstance(expression, str) or not expression.startswith("$"):
            return expression
        if expression.startswith("$request.path."):
            return self.path_params[expression.removeprefix("$request.path.")]
        source, _, pointer = expression.partition("#")
        document = {"$request.body": self.request_body, "$response.body": self.body}[source]
        for token in filter(None, pointer.split("/")):
            document = document[int(token)] if isinstance(document, list) else document[token]
        return document


def follow(
    client: FlaskClient, spec: Spec, step: Step, source: str, status: str, name: str, token: dict[str, str]
) -> Step:
    link = spec.link(source, status, name)
    path, query = {}, {}
    for key, expression in link.get("parameters", {}).items():
        if key.startswith("query."):
            query[key.removeprefix("query.")] = step.evaluate(expression)
        else:
            path[key.removeprefix("path.")] = step.evaluate(expression)
    body = step.evaluate(link["requestBody"]) if "requestBody" in link else None
    return Step(client, spec, link["operationId"], path, body, token, query)


def test_shopify_order_to_calculate_to_refund_to_reads(client: FlaskClient) -> None:
    spec = Spec("shopify-2020-10.yaml")
    order = Step(client, spec, "getOrder", {"order_id": 3012450010102}, None, SHOPIFY_TOKEN)
    assert order.status == 200

    calculated = follow(client, spec, order, "getOrder", "200", "CalculateFirstLine", SHOPIFY_TOKEN)
    assert calculated.status == 200, calculated.body
    quote = calculated.body["refund"]
    assert [line["line_item_id"] for line in quote["refund_line_items"]] == [order.body["order"]["line_items"][0]["id"]]

    created = follow(client, spec, calculated, "calculateRefund", "200", "CreateQuotedRefund", SHOPIFY_TOKEN)
    assert created.status == 201, created.body
    refund = created.body["refund"]
    first = quote["transactions"][0]
    assert [(t["parent_id"], Decimal(t["amount"])) for t in refund["transactions"]] == [
        (first["parent_id"], Decimal(first["amount"]))
    ]

    read = follow(client, spec, created, "createRefund", "201", "GetCreatedRefund", SHOPIFY_TOKEN)
    assert read.status == 200 and read.body["refund"] == refund
    listed = follow(client, spec, created, "createRefund", "201", "ListOrderRefunds", SHOPIFY_TOKEN)
    assert listed.status == 200 and refund in listed.body["refunds"]


def test_bigcommerce_products_to_quote_to_refund_to_reads(client: FlaskClient) -> None:
    spec = Spec("bigcommerce-v3.yaml")
    path = {"store_hash": "abc123", "order_id": 100}
    products = Step(client, spec, "getOrderProducts", path, None, BIGCOMMERCE_TOKEN)
    assert products.status == 200

    quoted = follow(client, spec, products, "getOrderProducts", "200", "QuoteFirstProduct", BIGCOMMERCE_TOKEN)
    assert quoted.status == 201, quoted.body
    quote = quoted.body["data"]

    refunded = follow(client, spec, quoted, "createOrderRefundQuotes", "201", "RefundAsQuoted", BIGCOMMERCE_TOKEN)
    assert refunded.status == 201, refunded.body
    refund = refunded.body["data"]
    assert refund["total_amount"] == quote["total_refund_amount"]
    method = quote["refund_methods"][0]
    assert [(p["provider_id"], p["amount"]) for p in refund["payments"]] == [
        (o["provider_id"], o["amount"]) for o in method
    ]

    by_id = follow(client, spec, refunded, "createOrderRefund", "201", "GetRefundById", BIGCOMMERCE_TOKEN)
    assert by_id.status == 200 and by_id.body["data"]["id"] == refund["id"]
    of_order = follow(client, spec, refunded, "createOrderRefund", "201", "GetRefundsOfOrder", BIGCOMMERCE_TOKEN)
    assert of_order.status == 200 and refund["id"] in [listed["id"] for listed in of_order.body["data"]]
    after = follow(client, spec, refunded, "createOrderRefund", "201", "ReadProductsAfterRefund", BIGCOMMERCE_TOKEN)
    assert after.status == 200
    first_product = next(p for p in after.body if p["id"] == products.body[0]["id"])
    assert first_product["quantity_refunded"] == products.body[0]["quantity_refunded"] + 1


def test_admin_reset_to_health_and_scenario_to_list_and_removal(client: FlaskClient) -> None:
    spec = Spec("admin.yaml")
    reset = Step(client, spec, "resetState", {}, None, {})
    assert reset.status == 200
    health = follow(client, spec, reset, "resetState", "200", "HealthAfterReset", {})
    assert health.status == 200 and health.body["status"] == "ok"

    scenario = {
        "name": "links-test",
        "rules": [{"match": {"platform": "shopify"}, "respond": {"passthrough": True, "delay": 1}}],
    }
    added = Step(client, spec, "addScenarios", {}, scenario, {})
    assert added.status == 201, added.body
    listed = follow(client, spec, added, "addScenarios", "201", "ListScenarios", {})
    assert "links-test" in [entry["name"] for entry in listed.body["scenarios"]]
    removed = follow(client, spec, added, "addScenarios", "201", "RemoveAddedScenario", {})
    assert removed.status == 200 and removed.body["removed"] == ["links-test"]


def test_admin_load_order_to_its_deletion(client: FlaskClient) -> None:
    spec = Spec("admin.yaml")
    document = json.loads((REPO_ROOT / "fixtures" / "shopify" / "orders" / "3012450010103.json").read_text())
    document["order"]["id"] = 3012450019999
    loaded = Step(client, spec, "loadOrder", {"platform": "shopify"}, document, {})
    assert loaded.status == 201, loaded.body
    deleted = follow(client, spec, loaded, "loadOrder", "201", "DeleteLoadedOrder", {})
    assert deleted.status == 200 and deleted.body["order_id"] == 3012450019999
    again = Step(client, spec, "deleteOrder", {"platform": "shopify", "order_id": 3012450019999}, None, {})
    assert again.status == 404
