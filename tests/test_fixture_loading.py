"""What `serve --fixtures` (and the pytest plugin) loads: every format the generator writes, only
regular files, with a word for every file it skips or serves although its figures do not add up."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mockserver import fixture_files
from mockserver.app import FixtureError, MockConfig, MockServer, create_app, default_apis, server_of
from mockserver.cli import main

REPO_ROOT = Path(__file__).resolve().parents[1]
COMMITTED = REPO_ROOT / "fixtures"
SHOPIFY_STARTER = COMMITTED / "shopify" / "orders" / "3012450010101.json"
BIGCOMMERCE_STARTER = COMMITTED / "bigcommerce" / "orders" / "100.json"


def served_orders(fixtures_dir: Path, **settings: Any) -> tuple[dict[str, list[int]], MockServer]:
    server = server_of(create_app(MockConfig(fixtures_dir=fixtures_dir, **settings)))
    return {name: sorted(server.store.order_ids(name)) for name in server.platforms}, server


def generate(out: Path, *arguments: str) -> None:
    result = CliRunner().invoke(
        main, ["fixtures", "generate", "--count", "3", "--seed", "5", "--out", str(out), *arguments]
    )
    assert result.exit_code == 0, result.output


def orders_folder(root: Path, platform: str = "shopify") -> Path:
    folder = root / platform / "orders"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# -- every format the generator writes (14.8) -------------------------------------------------------


@pytest.mark.parametrize("output_format", ["json", "yaml", "ndjson"])
def test_every_generated_format_is_served(tmp_path: Path, output_format: str) -> None:
    generate(tmp_path, "--format", output_format)
    served, server = served_orders(tmp_path)
    assert len(served["shopify"]) == 3 and len(served["bigcommerce"]) == 3
    assert server.fixture_errors == [] and server.fixture_problems == []


def test_ndjson_is_streamed_a_line_at_a_time(tmp_path: Path) -> None:
    """The README's million-order example: loading never holds the whole file in memory."""
    result = CliRunner().invoke(
        main,
        [
            "fixtures",
            "generate",
            "--platform",
            "shopify",
            "--count",
            "300",
            "--format",
            "ndjson",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    stream = tmp_path / "shopify" / "orders.ndjson"
    server = MockServer(MockConfig(load_fixtures=False, builtin_scenarios=False, journal_size=0), default_apis())
    tracemalloc.start()
    try:
        server.load_fixture_dir(tmp_path, required=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(server.store.order_ids("shopify")) == 300
    assert peak < stream.stat().st_size / 2, (peak, stream.stat().st_size)


def test_yaml_fixtures_refuse_aliases_naming_file_and_line(tmp_path: Path) -> None:
    folder = orders_folder(tmp_path)
    shutil.copy(SHOPIFY_STARTER, folder)
    (folder / "bomb.yaml").write_text("order: &a {id: 1}\ncopy: *a\n", encoding="utf-8")
    served, server = served_orders(tmp_path)
    assert served["shopify"] == [3012450010101]
    assert len(server.fixture_errors) == 1
    assert "shopify/orders/bomb.yaml:2" in server.fixture_errors[0]
    assert "aliases" in server.fixture_errors[0]


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    """Windows editors save JSON and YAML with a BOM; json.loads alone refuses it (14.7)."""
    folder = orders_folder(tmp_path)
    document = json.loads(SHOPIFY_STARTER.read_text(encoding="utf-8"))
    (folder / "3012450010101.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(document).encode("utf-8"))
    document["order"]["id"] = 3012450019999
    (folder / "3012450019999.yaml").write_bytes(b"\xef\xbb\xbf" + json.dumps(document).encode("utf-8"))
    bigcommerce = orders_folder(tmp_path, "bigcommerce")
    (bigcommerce / "orders.ndjson").write_bytes(b"\xef\xbb\xbf" + BIGCOMMERCE_STARTER.read_bytes().replace(b"\n", b""))
    served, server = served_orders(tmp_path)
    assert server.fixture_errors == []
    assert served == {"shopify": [3012450010101, 3012450019999], "bigcommerce": [100]}


def test_a_bad_ndjson_line_is_skipped_and_named_the_rest_served(tmp_path: Path) -> None:
    folder = orders_folder(tmp_path, "bigcommerce")
    good = BIGCOMMERCE_STARTER.read_bytes().replace(b"\n", b"")
    (folder / "orders.ndjson").write_bytes(good + b"\n{not json\n\n")
    served, server = served_orders(tmp_path)
    assert served["bigcommerce"] == [100]
    assert server.fixture_errors == [server.fixture_errors[0]]
    assert server.fixture_errors[0].startswith("bigcommerce/orders/orders.ndjson:2: not valid JSON")


def test_a_document_above_the_size_cap_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fixture_files, "MAX_DOCUMENT_BYTES", 20_000)  # the Shopify starter holds 27 KB
    shutil.copy(SHOPIFY_STARTER, orders_folder(tmp_path))
    shutil.copy(BIGCOMMERCE_STARTER, orders_folder(tmp_path, "bigcommerce"))
    served, server = served_orders(tmp_path)
    assert served == {"shopify": [], "bigcommerce": [100]}
    assert server.fixture_errors == [
        "shopify/orders/3012450010101.json: larger than 20000 bytes, the most one fixture document may be"
    ]


# -- only regular files (14.4) ------------------------------------------------------------------------

LOAD_AND_REPORT = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # today's code reads /dev/zero until it dies
from mockserver.app import MockConfig, create_app, server_of
server = server_of(create_app(MockConfig(fixtures_dir=sys.argv[1])))
print(json.dumps({"errors": server.fixture_errors, "orders": server.store.order_ids("shopify")}))
"""


def test_a_link_to_a_device_or_a_fifo_is_refused_not_read(tmp_path: Path) -> None:
    folder = orders_folder(tmp_path)
    shutil.copy(SHOPIFY_STARTER, folder)
    (folder / "zero.json").symlink_to("/dev/zero")
    os.mkfifo(folder / "pipe.yaml")
    (folder / "folder.json").mkdir()
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(LOAD_AND_REPORT), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads(completed.stdout)
    assert list(report["orders"]) == [3012450010101]
    errors = sorted(report["errors"])
    assert errors[0].startswith("shopify/orders/folder.json: is a folder, not a regular file")
    assert errors[1].startswith("shopify/orders/pipe.yaml: is a device, FIFO or socket, not a regular file")
    assert errors[2].startswith("shopify/orders/zero.json: is a device, FIFO or socket, not a regular file")


# -- nothing loadable is never a silent empty server (14.8) ---------------------------------------------


def test_a_folder_without_fixtures_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not fixtures", encoding="utf-8")
    with pytest.raises(FixtureError, match=r"no fixture orders under .*<platform>/orders/\*\.json"):
        create_app(MockConfig(fixtures_dir=tmp_path))


def test_a_folder_whose_files_all_fail_is_a_clear_error(tmp_path: Path) -> None:
    (orders_folder(tmp_path) / "1.json").write_text("{}", encoding="utf-8")
    with pytest.raises(FixtureError, match=r"could be loaded: shopify/orders/1.json"):
        create_app(MockConfig(fixtures_dir=tmp_path))


def test_empty_orders_folders_are_deliberate_and_named(tmp_path: Path) -> None:
    orders_folder(tmp_path)
    orders_folder(tmp_path, "bigcommerce")
    served, server = served_orders(tmp_path)
    assert served == {"shopify": [], "bigcommerce": []}
    assert server.fixture_notes == [
        f"{tmp_path / 'shopify' / 'orders'} holds no orders: shopify serves none",
        f"{tmp_path / 'bigcommerce' / 'orders'} holds no orders: bigcommerce serves none",
    ]


def test_serve_says_so_in_one_line_and_exits(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--fixtures", str(tmp_path), "--port", "0"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: no fixture orders under {tmp_path}: expected <platform>/orders/*.json, *.yaml or "
        "<platform>/orders.ndjson (`refund-mock fixtures generate --out DIR` writes them)"
    ]


# -- fixtures that fail the consistency rules (14.9) ------------------------------------------------------


@pytest.fixture
def inconsistent(tmp_path: Path) -> Path:
    """The starter orders, one Shopify order's total a cent off (as a hand edit leaves it)."""
    shutil.copytree(COMMITTED, tmp_path / "fixtures")
    for quotes in (tmp_path / "fixtures").glob("*/quotes"):
        shutil.rmtree(quotes)
    path = tmp_path / "fixtures" / "shopify" / "orders" / "3012450010101.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["order"]["total_price"] = "999.99"
    path.write_text(json.dumps(document), encoding="utf-8")
    return tmp_path / "fixtures"


def test_an_inconsistent_file_is_served_with_a_warning_naming_it(inconsistent: Path) -> None:
    served, server = served_orders(inconsistent)
    assert 3012450010101 in served["shopify"]
    assert len(server.fixture_problems) == 1
    assert server.fixture_problems[0].startswith("shopify/orders/3012450010101.json: $.order.total_price")
    assert "999.99" in server.fixture_problems[0]


def test_health_reports_degraded_with_the_reasons(inconsistent: Path) -> None:
    client = create_app(MockConfig(fixtures_dir=inconsistent)).test_client()
    body = client.get("/__mock/health").get_json()
    assert body["status"] == "degraded"
    assert len(body["reasons"]) == 1
    assert "shopify/orders/3012450010101.json" in body["reasons"][0]
    assert "consistency" in body["reasons"][0]
    assert body["fixture_problems"] and body["fixture_errors"] == []


def test_health_is_ok_with_the_committed_fixtures() -> None:
    body = create_app().test_client().get("/__mock/health").get_json()
    assert body["status"] == "ok" and "reasons" not in body


def test_strict_refuses_to_start(inconsistent: Path) -> None:
    with pytest.raises(FixtureError, match=r"--strict: 1 fixture file skipped or inconsistent, first: shopify/orders"):
        create_app(MockConfig(fixtures_dir=inconsistent, strict_fixtures=True))


def test_serve_strict_exits_with_one_line(inconsistent: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--fixtures", str(inconsistent), "--strict", "--port", "0"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --strict: 1 fixture file skipped or inconsistent")


def test_serve_names_each_inconsistent_file_once(
    inconsistent: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from mockserver.cli import _start

    settings = {"fixtures_dir": inconsistent, "strict_fixtures": False, "log_fixture_problems": False}
    _start("127.0.0.1", 8080, None, settings, None, None)
    captured = capsys.readouterr()
    everything = captured.out + captured.err + caplog.text
    assert everything.count("shopify/orders/3012450010101.json") == 1
    assert "warning: fixture served, but it fails the consistency rules: shopify/orders/3012450010101.json" in (
        captured.err
    )
