"""The `refund_mock` pytest fixture, used the way a downstream project uses it."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]

DOWNSTREAM_TEST = """
import json
import urllib.error
import urllib.request

import pytest

SHOPIFY_ORDER = 3012450010102


def call(method, url, body=None, token_header="X-Shopify-Access-Token"):
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={token_header: "downstream", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def refund_one_unit(base):
    status, body = call("POST", f"{base}/orders/{SHOPIFY_ORDER}/refunds/calculate.json",
                        {"refund": {"refund_line_items": [{"line_item_id": 10020000001, "quantity": 1}]}})
    assert status == 200
    transactions = [{**t, "kind": "refund"} for t in body["refund"]["transactions"] if t["amount"] != "0.00"]
    return call("POST", f"{base}/orders/{SHOPIFY_ORDER}/refunds.json",
                {"refund": {"refund_line_items": body["refund"]["refund_line_items"], "transactions": transactions}})


def test_a_refund_is_made_and_journaled(refund_mock):
    status, body = refund_one_unit(refund_mock.url("shopify"))
    assert status == 201
    journal = refund_mock.requests(operationId="createRefund")
    assert [entry["status"] for entry in journal] == [201]


def test_each_test_starts_from_the_fixtures(refund_mock):
    # the refund of the previous test is not there
    status, body = call("GET", f"{refund_mock.url('shopify')}/orders/{SHOPIFY_ORDER}/refunds.json")
    assert status == 200 and body["refunds"] == []
    assert [entry["operationId"] for entry in refund_mock.requests()] == ["listRefunds"]


def test_a_scenario_scripts_the_documented_422_until_reset(refund_mock):
    refund_mock.use_scenario("shopify-over-quantity")
    status, body = refund_one_unit(refund_mock.url("shopify"))
    assert status == 422
    assert body == {"errors": {"refund_line_items.quantity": ["cannot refund more items than were purchased"]}}
    assert refund_mock.requests(operationId="createRefund")[0]["scenario"] == "shopify-over-quantity"
    refund_mock.reset()
    assert refund_mock.requests() == []
    assert refund_one_unit(refund_mock.url("shopify"))[0] == 201


def test_an_order_of_our_own(refund_mock):
    document = json.loads(json.dumps(ORDER))
    order_id = refund_mock.load_order(document)
    status, body = call("GET", f"{refund_mock.url('bigcommerce', 'mystore')}/v2/orders/{order_id}",
                        token_header="X-Auth-Token")
    assert status == 200 and body["id"] == order_id == 777


def test_the_fixture_comes_from_the_installed_entry_point(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("refund_mock")


@pytest.mark.refund_mock(tokens={"only-this-one": ["read_orders"]})
def test_settings_come_from_the_marker(refund_mock):
    status, _ = call("GET", f"{refund_mock.url('shopify')}/orders/{SHOPIFY_ORDER}.json")
    assert status == 401
"""


def bigcommerce_order_document() -> dict:
    """A starter BigCommerce fixture renumbered to 777, as a downstream project would bring its own."""
    import json

    from tests.conftest import FIXTURES_DIR

    document = json.loads((FIXTURES_DIR / "bigcommerce" / "orders" / "100.json").read_text(encoding="utf-8"))
    document["order"]["id"] = 777
    for key in ("products", "shipping_addresses", "fees", "transactions", "refunds"):
        for item in document.get(key, []):
            if "order_id" in item:
                item["order_id"] = "777" if isinstance(item["order_id"], str) else 777
    return document


def plugin_is_installed() -> bool:
    return any(
        entry.name == "refund_mock" and entry.value == "mockserver.pytest_plugin"
        for entry in entry_points(group="pytest11")
    )


def test_installing_the_package_registers_the_plugin() -> None:
    assert plugin_is_installed(), "pip install refund-mock (scripts/test does) registers the pytest11 entry point"


def test_a_downstream_test_suite_uses_the_fixture(pytester: pytest.Pytester) -> None:
    if not plugin_is_installed():
        pytest.skip("the package is not installed with its entry points; scripts/test installs it")
    pytester.makepyfile(test_downstream=f"ORDER = {bigcommerce_order_document()!r}\n" + DOWNSTREAM_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=6)


def test_a_failing_downstream_assertion_is_reported_as_a_failure(pytester: pytest.Pytester) -> None:
    if not plugin_is_installed():
        pytest.skip("the package is not installed with its entry points; scripts/test installs it")
    pytester.makepyfile(
        test_downstream="""
def test_wrong_expectation(refund_mock):
    assert refund_mock.requests(operationId="createRefund") != []
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(failed=1)


def test_the_documented_downstream_example_passes(pytester: pytest.Pytester) -> None:
    """The complete test in docs/contract-testing.md, run as a downstream project runs it."""
    if not plugin_is_installed():
        pytest.skip("the package is not installed with its entry points; scripts/test installs it")
    from tests.conftest import REPO_ROOT

    text = (REPO_ROOT / "docs" / "contract-testing.md").read_text(encoding="utf-8")
    block = text.split("<!-- downstream-example -->", 1)[1]
    example = block.split("```python\n", 1)[1].split("```", 1)[0]
    pytester.makepyfile(test_documented=example)
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)


# -- cheap when unused, quick to stop, forgiving settings, clear mistakes (issue 14 point 17) ------------


def test_loading_the_plugin_imports_neither_flask_nor_the_app() -> None:
    """pytest imports the plugin in every run of every project that installed refund-mock."""
    import subprocess
    import sys

    code = (
        "import sys, mockserver.pytest_plugin\n"
        "heavy = sorted(name for name in ('flask', 'werkzeug', 'mockserver.app', 'mockserver.openapi', 'jsonschema',"
        " 'faker', 'yaml') if name in sys.modules)\n"
        "print(','.join(heavy))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == ""


def test_a_server_stops_without_waiting_out_its_poll_interval() -> None:
    """With an hour-long poll interval, `shutdown()` alone would wait an hour; `stop` wakes the loop."""
    import threading

    from mockserver.app import create_app
    from mockserver.pytest_plugin import BackgroundServer

    background = BackgroundServer(create_app({"load_fixtures": False}), poll_interval=3600)
    stopping = threading.Thread(target=background.stop, daemon=True)
    stopping.start()
    stopping.join(timeout=30)
    assert not stopping.is_alive() and not background.thread.is_alive()


MARKER_FORMS_TEST = """
import urllib.request

import pytest


@pytest.mark.refund_mock(fixtures_dir={fixtures!r}, latency_ms="0-1")
def test_text_path_and_cli_latency(refund_mock):
    with urllib.request.urlopen(f"{{refund_mock.base_url}}/__mock/health") as response:
        assert response.status == 200


@pytest.mark.refund_mock(fixture_dir="x")
def test_unknown_setting(refund_mock):
    pass


@pytest.mark.refund_mock(latency_ms="fast")
def test_bad_latency(refund_mock):
    pass


@pytest.mark.refund_mock("my-fixtures")
def test_positional(refund_mock):
    pass


@pytest.mark.refund_mock(fixtures_dir={empty!r})
def test_empty_fixtures(refund_mock):
    pass
"""


def test_marker_takes_text_paths_and_cli_latency_and_names_bad_values(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if not plugin_is_installed():
        pytest.skip("the package is not installed with its entry points; scripts/test installs it")
    from tests.conftest import FIXTURES_DIR

    empty = tmp_path_factory.mktemp("empty")
    pytester.makepyfile(test_markers=MARKER_FORMS_TEST.format(fixtures=str(FIXTURES_DIR), empty=str(empty)))
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1, errors=4)
    output = result.stdout.str()
    assert "@pytest.mark.refund_mock: unknown setting 'fixture_dir'; the settings are: " in output
    assert "fixtures_dir" in output.split("unknown setting 'fixture_dir'", 1)[1].splitlines()[0]
    assert "@pytest.mark.refund_mock(latency_ms='fast'): latency_ms='fast' is not milliseconds as LOW-HIGH" in output
    assert "@pytest.mark.refund_mock takes settings by name" in output
    assert f"no fixture orders under {empty}" in output
    assert "Traceback" not in output


def test_fuzz_against_an_unreachable_url_stops_at_once_with_one_line() -> None:
    import socket

    from click.testing import CliRunner

    from mockserver.cli import main

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(main, ["fuzz", "--platform", "shopify", "--url", f"http://127.0.0.1:{port}"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: cannot reach http://127.0.0.1:{port}: Connection refused (is the server running?)"
    ]


@pytest.mark.parametrize("url", ["localhost:8080", "ftp://127.0.0.1/", "http://[::1"])
def test_fuzz_against_an_invalid_url_says_so_in_one_line(url: str) -> None:
    from click.testing import CliRunner

    from mockserver.cli import main

    result = CliRunner().invoke(main, ["fuzz", "--platform", "shopify", "--url", url])
    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 1
    assert result.output.startswith(f"Error: --url {url!r} is not")


SESSIONS_DOWNSTREAM_TEST = """
import json
import os
import urllib.request

SHOPIFY_ORDER = 3012450010102
SERVERS = set()


def call(method, url, body=None, headers=None):
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"X-Shopify-Access-Token": "downstream", "Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def refund_one_unit(base, headers=None):
    status, body = call("POST", f"{base}/orders/{SHOPIFY_ORDER}/refunds/calculate.json",
                        {"refund": {"refund_line_items": [{"line_item_id": 10020000001, "quantity": 1}]}}, headers)
    assert status == 200, body
    transactions = [{**t, "kind": "refund"} for t in body["refund"]["transactions"] if t["amount"] != "0.00"]
    return call("POST", f"{base}/orders/{SHOPIFY_ORDER}/refunds.json",
                {"refund": {"refund_line_items": body["refund"]["refund_line_items"], "transactions": transactions}},
                headers)


def test_a_refund_in_this_tests_session(refund_mock_session):
    SERVERS.add(refund_mock_session.base_url)
    assert "/__session/" in refund_mock_session.url("shopify")
    assert refund_one_unit(refund_mock_session.url("shopify"))[0] == 201
    assert [entry["status"] for entry in refund_mock_session.requests(operationId="createRefund")] == [201]


def test_the_next_test_starts_from_the_fixtures_on_the_same_server(refund_mock_session):
    SERVERS.add(refund_mock_session.base_url)
    assert len(SERVERS) == 1
    status, body = call("GET", f"{refund_mock_session.url('shopify')}/orders/{SHOPIFY_ORDER}/refunds.json")
    assert status == 200 and body["refunds"] == []
    assert [entry["operationId"] for entry in refund_mock_session.requests()] == ["listRefunds"]


def test_the_header_form_and_a_scenario_of_this_session_only(refund_mock_session, refund_mock_server):
    refund_mock_session.use_scenario("shopify-over-quantity")
    plain = refund_mock_server.url("shopify")  # no prefix: the header names the session
    assert refund_one_unit(plain, refund_mock_session.headers)[0] == 422
    assert refund_one_unit(plain)[0] == 201  # the default session is untouched
    refund_mock_session.reset()
    assert refund_mock_session.requests() == []
    assert refund_one_unit(plain, refund_mock_session.headers)[0] == 201
"""


def test_each_test_gets_its_own_session_on_one_server(pytester: pytest.Pytester) -> None:
    if not plugin_is_installed():
        pytest.skip("the package is not installed with its entry points; scripts/test installs it")
    pytester.makepyfile(test_sessions_downstream=SESSIONS_DOWNSTREAM_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=3)
