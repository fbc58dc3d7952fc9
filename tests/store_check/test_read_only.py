"""Nothing but GET, Shopify's calculate and BigCommerce's refund quotes can leave `record` or
`verify`: the one guard (`ReadOnlySession.send`) is tried with every operation of both specs,
every method, and paths built to slip past it, against a real server that counts what arrives."""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from mockserver.contract import http
from mockserver.contract.http import ReadOnlySession, StoreClient, WriteRefused, may_leave
from mockserver.openapi import data_dir, load_spec

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
ALLOWED_POSTS = {"calculateRefund", "createOrderRefundQuotes"}


def spec_requests() -> Iterator[tuple[str, str, str]]:
    """(method, concrete path, operationId or "") for every path of both platform specs and every method."""
    for name in ("shopify-2020-10.yaml", "bigcommerce-v3.yaml"):
        spec = load_spec(data_dir("specs") / name)
        for template, operations in spec.paths.items():
            path = template.replace("{store_hash}", "abc123").replace("{order_id}", "1001").replace("{refund_id}", "7")
            for method in METHODS:
                operation = operations.get(method)
                yield method, path, operation.operation_id if operation else ""


@pytest.fixture
def counting_server() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """A real HTTP server on loopback that answers 200 to anything and keeps what it received."""
    arrived: list[tuple[str, str]] = []

    @Request.application
    def app(request: Request) -> Response:
        arrived.append((request.method, request.path))
        return Response("{}", content_type="application/json")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", arrived
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_only_reads_reach_the_server_whatever_is_asked(counting_server: tuple[str, list[tuple[str, str]]]) -> None:
    base, arrived = counting_server
    session = ReadOnlySession()
    expected, refused = [], 0
    for method, path, operation_id in spec_requests():
        try:
            session.request(method, base + path, json={} if method in ("POST", "PUT", "PATCH") else None, timeout=5)
        except WriteRefused:
            refused += 1
            continue
        expected.append((method, path))
        assert method == "GET" or (method == "POST" and operation_id in ALLOWED_POSTS), (method, path)
    assert arrived == expected
    assert ("POST", "/admin/api/2020-10/orders/1001/refunds/calculate.json") in arrived
    assert ("POST", "/stores/abc123/v3/orders/1001/payment_actions/refund_quotes") in arrived
    assert not any(
        method == "POST" and "refunds/calculate" not in path and "refund_quotes" not in path for method, path in arrived
    )
    paths = {path for _, path, _ in spec_requests()}
    assert len(arrived) == len(paths) + 2  # a GET of every path, and the two quotes
    assert refused == len(paths) * len(METHODS) - len(arrived)  # every other method of every path


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example/admin/api/2020-10/orders/1/refunds.json",  # creates a refund
        "https://shop.example/admin/api/2020-10/orders/1/refunds.json?x=/refunds/calculate.json",
        "https://shop.example/admin/api/2020-10/orders/1/refunds/calculate.json/../../refunds.json",
        "https://shop.example/admin/api/2020-10/orders/1/refunds/calculate.json/..",
        "https://shop.example/admin/api/2020-10/orders/1/refunds/%2e%2e/refunds.json",
        "https://shop.example/admin/api/2020-10/orders/1/refunds/calculate.jsonx",
        "https://shop.example/admin/api/2020-10/orders/1/refunds/calculate.json#",
        "https://api.example/stores/abc/v3/orders/1/payment_actions/refunds",  # creates a refund
        "https://api.example/stores/abc/v3/orders/1/payment_actions/refund_quotes/../refunds",
        "https://api.example/stores/abc/v3/orders/1/payment_actions/refund_quotes//refunds",
        "https://api.example/stores/abc/v3/orders/x/payment_actions/refund_quotes",
    ],
)
def test_posts_that_could_write_are_refused(url: str) -> None:
    if url.endswith("#"):  # a fragment never reaches the server: the path is calculate's own
        assert may_leave("POST", url)
        return
    assert not may_leave("POST", url)


def test_no_method_but_get_and_post_ever_leaves() -> None:
    calculate = "https://shop.example/admin/api/2020-10/orders/1/refunds/calculate.json"
    assert may_leave("GET", calculate) and may_leave("POST", calculate)
    for method in ("PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "get", "post"):
        assert not may_leave(method, calculate)


def test_a_store_client_cannot_be_made_to_write(counting_server: tuple[str, list[tuple[str, str]]]) -> None:
    base, arrived = counting_server
    client = StoreClient("shopify", base, "token")
    with pytest.raises(WriteRefused):
        client.send("POST", "/orders/1/refunds.json", body={"refund": {}})
    with pytest.raises(WriteRefused):
        client.session.put(base + "/admin/api/2020-10/orders/1.json", json={})
    with pytest.raises(WriteRefused):
        client.session.delete(base + "/admin/api/2020-10/orders/1/refunds/calculate.json")
    assert arrived == []


def test_record_and_verify_send_nothing_but_through_the_guarded_client() -> None:
    """No other HTTP machinery is imported by the modules that talk to stores."""
    contract = Path(http.__file__).parent
    forbidden = {"requests", "urllib.request", "http.client", "httpx", "urllib3", "socket", "aiohttp"}
    for name in ("record.py", "verify.py", "anonymize.py"):
        tree = ast.parse((contract / name).read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not imported & forbidden, (name, imported & forbidden)
