"""`refund-mock fixtures generate` and `validate` as a user runs them, and the quotes against the server.

The quotes written beside generated orders must be exactly what a server started on those files
answers; the committed set in `fixtures/` is checked the same way.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from flask.testing import FlaskClient

from mockserver import fixtures as fixtures_module
from mockserver.app import MockConfig, create_app, server_of
from mockserver.bigcommerce import generator as bigcommerce_generator
from mockserver.cli import main
from mockserver.generation import GeneratorSettings
from mockserver.shopify import generator as shopify_generator

REPO_ROOT = Path(__file__).resolve().parents[1]
COMMITTED = REPO_ROOT / "fixtures"
GENERATORS = {"shopify": shopify_generator, "bigcommerce": bigcommerce_generator}
FOUR_CURRENCIES = "USD,EUR,JPY,KWD"


def run(*arguments: str) -> Result:
    return CliRunner().invoke(main, ["fixtures", *arguments], catch_exceptions=False)


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 orders per platform in four currencies, with quotes, written by the command."""
    out = tmp_path_factory.mktemp("generated")
    result = run("generate", "--count", "12", "--seed", "31", "--currencies", FOUR_CURRENCIES, "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


# -- what generate writes --------------------------------------------------------------------------


def test_generate_writes_orders_and_quotes_per_platform(generated: Path) -> None:
    for platform, module in GENERATORS.items():
        orders = sorted((generated / platform / "orders").glob("*.json"))
        quotes = sorted((generated / platform / "quotes").glob("*.json"))
        assert len(orders) == 12
        assert [path.name for path in quotes] == [path.name for path in orders]
        for path in orders:
            document = json.loads(path.read_text(encoding="utf-8"))
            assert path.stem == str(module.order_id(document))
    leftovers = [path for path in generated.iterdir() if path.name.startswith(".")]
    assert leftovers == [], "the staging folder is removed after a successful run"


def test_quotes_name_the_four_ready_made_requests(generated: Path) -> None:
    names: set[str] = set()
    for platform in GENERATORS:
        for path in (generated / platform / "quotes").glob("*.json"):
            entries = json.loads(path.read_text(encoding="utf-8"))
            assert all(set(entry) == {"name", "request", "response"} for entry in entries)
            names |= {entry["name"] for entry in entries}
    assert names == {"one line", "several lines", "shipping only", "everything left"}


def test_summary_counts_orders_per_platform_and_currency(tmp_path: Path) -> None:
    result = run("generate", "--platform", "bigcommerce", "--count", "6", "--seed", "3", "--out", str(tmp_path))
    assert result.exit_code == 0
    assert "bigcommerce: 6 orders (USD 6)" in result.stdout
    assert "6 orders written in" in result.stdout
    assert result.stderr == "", "no progress bar when the output is not a terminal"


def check_quotes_against(client: FlaskClient, folder: Path) -> int:
    """Send every stored request to the server and compare its answer with the stored response."""
    checked = 0
    for platform, module in GENERATORS.items():
        for path in sorted((folder / platform / "quotes").glob("*.json")):
            document = json.loads((folder / platform / "orders" / path.name).read_text(encoding="utf-8"))
            for entry in json.loads(path.read_text(encoding="utf-8")):
                answer = client.post(module.quote_path(document), json=entry["request"], headers=module.QUOTE_HEADERS)
                assert answer.status_code in (200, 201), (path.name, entry["name"], answer.get_json())
                assert answer.get_json() == entry["response"], (path.name, entry["name"])
                checked += 1
    return checked


def test_stored_quotes_are_what_the_server_answers(generated: Path) -> None:
    app = create_app(MockConfig(fixtures_dir=generated, strict_responses=True))
    try:
        assert server_of(app).fixture_errors == []
        assert check_quotes_against(app.test_client(), generated) > 50
    finally:
        server_of(app).store.close()


def test_generated_earlier_refunds_are_served_as_the_server_lists_them(generated: Path) -> None:
    app = create_app(MockConfig(fixtures_dir=generated, strict_responses=True))
    client = app.test_client()
    try:
        for path in (generated / "shopify" / "orders").glob("*.json"):
            order = json.loads(path.read_text(encoding="utf-8"))["order"]
            listed = client.get(
                f"/admin/api/2020-10/orders/{order['id']}/refunds.json", headers=shopify_generator.QUOTE_HEADERS
            ).get_json()
            assert listed == {"refunds": order["refunds"]}
        for path in (generated / "bigcommerce" / "orders").glob("*.json"):
            document = json.loads(path.read_text(encoding="utf-8"))
            listed = client.get(
                f"/stores/abc/v3/orders/{document['order']['id']}/payment_actions/refunds",
                headers=bigcommerce_generator.QUOTE_HEADERS,
            ).get_json()
            assert listed["data"] == sorted(document["refunds"], key=lambda refund: refund["id"])
    finally:
        server_of(app).store.close()


# -- reproducibility across processes -----------------------------------------------------------------


GENERATE_ARGUMENTS = ("generate", "--count", "3", "--seed", "99", "--currencies", FOUR_CURRENCIES, "--out")


def test_same_command_gives_byte_identical_files_in_another_process(tmp_path: Path) -> None:
    """Another process, with another hash seed and another local time zone, writes the same bytes."""
    command = [sys.executable, "-c", "from mockserver.cli import main; main()", "fixtures", *GENERATE_ARGUMENTS]
    environment = {**os.environ, "PYTHONHASHSEED": "12345", "TZ": "Asia/Kolkata"}
    process = subprocess.Popen(
        [*command, str(tmp_path / "other")], cwd=REPO_ROOT, env=environment, stdout=subprocess.PIPE
    )
    assert run(*GENERATE_ARGUMENTS, str(tmp_path / "here")).exit_code == 0
    process.communicate(timeout=240)
    assert process.returncode == 0
    here, other = files_under(tmp_path / "here"), files_under(tmp_path / "other")
    assert len(here) == 12
    assert here == other


def test_a_different_seed_changes_every_file(tmp_path: Path) -> None:
    for seed, folder in (("1", "one"), ("2", "two")):
        result = run("generate", "--count", "4", "--seed", seed, "--no-quotes", "--out", str(tmp_path / folder))
        assert result.exit_code == 0
    one, two = files_under(tmp_path / "one"), files_under(tmp_path / "two")
    assert one.keys() == two.keys()
    assert all(one[name] != two[name] for name in one)


# -- formats ------------------------------------------------------------------------------------------


def test_yaml_holds_the_same_documents_as_json(tmp_path: Path) -> None:
    for output_format in ("json", "yaml"):
        result = run(
            "generate", "--count", "3", "--seed", "8", "--format", output_format, "--out", str(tmp_path / output_format)
        )
        assert result.exit_code == 0
    for platform in GENERATORS:
        for json_file in (tmp_path / "json" / platform / "orders").glob("*.json"):
            yaml_file = tmp_path / "yaml" / platform / "orders" / f"{json_file.stem}.yaml"
            assert yaml.safe_load(yaml_file.read_text(encoding="utf-8")) == json.loads(json_file.read_text("utf-8"))
        assert len(list((tmp_path / "yaml" / platform / "quotes").glob("*.yaml"))) == 3


def test_ndjson_streams_one_order_per_line_without_quotes_by_default(tmp_path: Path) -> None:
    result = run("generate", "--count", "40", "--seed", "4", "--format", "ndjson", "--out", str(tmp_path))
    assert result.exit_code == 0
    for platform, module in GENERATORS.items():
        lines = (tmp_path / platform / "orders.ndjson").read_text(encoding="utf-8").splitlines()
        documents = [json.loads(line) for line in lines]
        assert [module.order_id(document) for document in documents] == [
            module.ORDER_ID_BASE + index for index in range(1, 41)
        ]
        assert not (tmp_path / platform / "quotes.ndjson").exists()
    validated = run("validate", str(tmp_path))
    assert validated.exit_code == 0, validated.output


def test_ndjson_quotes_when_asked(tmp_path: Path) -> None:
    result = run(
        "generate", "--platform", "shopify", "--count", "3", "--format", "ndjson", "--quotes", "--out", str(tmp_path)
    )
    assert result.exit_code == 0
    rows = [json.loads(line) for line in (tmp_path / "shopify" / "quotes.ndjson").read_text("utf-8").splitlines()]
    assert [row["order_id"] for row in rows] == [shopify_generator.ORDER_ID_BASE + index for index in (1, 2, 3)]
    assert all(row["quotes"] for row in rows)


def peak_bytes(out: Path, count: int) -> int:
    run_settings = GeneratorSettings(seed=12)
    list(shopify_generator.generate(run_settings, 1))  # the Faker catalog is built once, before measuring
    out.mkdir()
    tracemalloc.start()
    try:
        fixtures_module.run_generation(run_settings, ("shopify",), count, out, "ndjson", with_quotes=False)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_ndjson_memory_stays_flat_as_the_count_grows(tmp_path: Path) -> None:
    small = peak_bytes(tmp_path / "small", 60)
    large = peak_bytes(tmp_path / "large", 360)
    assert large < small * 1.3 + 256 * 1024, (small, large)


# -- bad arguments and failures -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--platform", "magento"], "'magento' is not one of"),
        (["--count", "0"], "0 is not in the range x>=1"),
        (["--count", "many"], "'many' is not a valid integer"),
        (["--currencies", "USD,XYZ"], "unknown currency 'XYZ'"),
        (["--locale", "xx_YY"], "unknown locale 'xx_YY'"),
        (["--format", "csv"], "'csv' is not one of"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_code_2(tmp_path: Path, arguments: list[str], message: str) -> None:
    out = tmp_path / "out"
    result = run("generate", "--out", str(out), *arguments)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_an_unwritable_output_folder_is_a_bad_argument(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = run("generate", "--count", "2", "--out", str(blocker / "fixtures"))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: cannot write to --out") and result.stderr.count("\n") == 1


@pytest.mark.parametrize("mode", ["--force", "--clean"])
def test_a_failed_run_leaves_no_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    """Orders written before the failure are not left half-done: the run writes (and removes) nothing at all."""
    keep = tmp_path / "shopify" / "orders" / "keep.json"
    keep.parent.mkdir(parents=True)
    keep.write_text("{}", encoding="utf-8")
    original = bigcommerce_generator.generate

    def failing(settings: GeneratorSettings, count: int, start: int = 1) -> Iterator[dict[str, Any]]:
        yield from original(settings, 2, start)
        raise RuntimeError("disk full")

    monkeypatch.setattr(bigcommerce_generator, "generate", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        run("generate", "--count", "3", "--out", str(tmp_path), mode)
    assert [path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*") if path.is_file()] == [
        "shopify/orders/keep.json"
    ]
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]


# -- validate -------------------------------------------------------------------------------------------


def test_validate_accepts_generated_files(generated: Path) -> None:
    result = run("validate", str(generated))
    assert result.exit_code == 0, result.output
    assert "48 documents in 48 files checked: no problems" in result.stderr


def test_validate_reports_file_path_and_reason_and_exits_1(generated: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(generated, broken)
    shopify_file = sorted((broken / "shopify" / "orders").glob("*.json"))[0]
    document = json.loads(shopify_file.read_text(encoding="utf-8"))
    document["order"]["total_price"] = "0.00" if document["order"]["currency"] != "JPY" else "0"
    shopify_file.write_text(json.dumps(document), encoding="utf-8")
    bigcommerce_file = sorted((broken / "bigcommerce" / "orders").glob("*.json"))[0]
    document = json.loads(bigcommerce_file.read_text(encoding="utf-8"))
    document["products"][0]["quantity"] = "two"
    bigcommerce_file.write_text(json.dumps(document), encoding="utf-8")
    (broken / "bigcommerce" / "orders" / "9999.json").write_text("{not json", encoding="utf-8")

    result = run("validate", str(broken))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert f"{shopify_file}: $.order.total_price: is 0" in "\n".join(lines)
    assert any(line.startswith(f"{bigcommerce_file}: $.products[0].quantity: must be an integer") for line in lines)
    assert any(
        line.startswith(f"{broken / 'bigcommerce' / 'orders' / '9999.json'}: $: cannot be read") for line in lines
    )
    assert "problems in 3 files" in result.stderr


def test_validate_checks_quotes_against_the_quote_operation(generated: Path, tmp_path: Path) -> None:
    broken = tmp_path / "quotes"
    shutil.copytree(generated, broken)
    quote_file = sorted((broken / "bigcommerce" / "quotes").glob("*.json"))[0]
    entries = json.loads(quote_file.read_text(encoding="utf-8"))
    entries[0]["request"]["items"][0]["item_type"] = "EVERYTHING"
    del entries[0]["response"]["data"]["refund_methods"]
    quote_file.write_text(json.dumps(entries), encoding="utf-8")
    result = run("validate", str(broken))
    assert result.exit_code == 1
    assert f"{quote_file}: $[0].request.items[0].item_type: must be one of" in result.stdout
    assert f"{quote_file}: $[0].response.data.refund_methods: is required" in result.stdout


def test_validate_needs_an_existing_folder_with_fixtures(tmp_path: Path) -> None:
    assert run("validate", str(tmp_path / "missing")).exit_code == 2
    empty = run("validate", str(tmp_path))
    assert empty.exit_code == 2 and "no fixture files" in empty.stderr


# -- the committed set ----------------------------------------------------------------------------------


def committed_documents(platform: str) -> list[dict[str, Any]]:
    module = GENERATORS[platform]
    paths = sorted((COMMITTED / platform / "orders").glob("*.json"))
    documents = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    return [document for document in documents if module.order_id(document) > module.ORDER_ID_BASE]


@pytest.mark.parametrize("platform", sorted(GENERATORS))
def test_committed_set_holds_about_25_generated_orders_covering_every_case(platform: str) -> None:
    module = GENERATORS[platform]
    documents = committed_documents(platform)
    assert 20 <= len(documents) <= 30
    seen = set().union(*(module.cases(document) for document in documents))
    wanted = set(module.REQUIRED_CASES) | {f"currency:{code}" for code in FOUR_CURRENCIES.split(",")}
    assert wanted - seen == set(), "rerun scripts/regenerate-fixtures with a seed whose orders cover every case"


def test_committed_set_is_what_the_regenerate_script_makes(tmp_path: Path) -> None:
    """The committed generated files are byte for byte what the documented command produces."""
    script = (REPO_ROOT / "scripts" / "regenerate-fixtures").read_text(encoding="utf-8")
    command = next(line for line in script.splitlines() if line.startswith("refund-mock fixtures generate"))
    arguments = command.split()[2:]
    arguments = [argument for argument in arguments if argument != '"$@"']
    out_index = arguments.index("--out") + 1
    arguments[out_index] = str(tmp_path)
    result = run(*arguments)
    assert result.exit_code == 0, result.output
    for relative, content in files_under(tmp_path).items():
        assert (COMMITTED / relative).read_bytes() == content, relative


def test_committed_set_validates_and_its_quotes_match_the_server(client: FlaskClient, app: Any) -> None:
    assert server_of(app).fixture_errors == []
    assert run("validate", str(COMMITTED)).exit_code == 0
    assert check_quotes_against(client, COMMITTED) > 100


# -- generating into a folder that holds fixtures, --start-id (issue 14 point 15) ------------------------


def test_generate_refuses_a_folder_that_holds_fixtures(generated: Path, tmp_path: Path) -> None:
    target = tmp_path / "set"
    shutil.copytree(generated, target)
    before = files_under(target)
    result = run("generate", "--count", "2", "--out", str(target))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: --out {target} already holds fixture files (")
    assert "give --clean to replace them, or --force" in result.stderr
    assert files_under(target) == before


def test_clean_replaces_the_platforms_files_and_force_keeps_the_rest(generated: Path, tmp_path: Path) -> None:
    for mode, stray_kept in (("--clean", False), ("--force", True)):
        target = tmp_path / mode.strip("-")
        shutil.copytree(generated, target)
        stray = target / "shopify" / "orders" / "4100000000999.json"
        shutil.copy(sorted((target / "shopify" / "orders").glob("*.json"))[0], stray)
        result = run("generate", "--platform", "shopify", "--count", "2", "--seed", "31", "--out", str(target), mode)
        assert result.exit_code == 0, result.output
        assert stray.exists() is stray_kept
        shopify_orders = sorted(path.name for path in (target / "shopify" / "orders").glob("*.json"))
        assert len(shopify_orders) == (13 if stray_kept else 2)
        assert len(list((target / "bigcommerce" / "orders").glob("*.json"))) == 12, "other platforms untouched"


def test_start_id_moves_the_ids_and_keeps_each_orders_content(tmp_path: Path) -> None:
    result = run("generate", "--count", "2", "--seed", "9", "--start-id", "1001", "--out", str(tmp_path / "moved"))
    assert result.exit_code == 0, result.output
    names = {
        platform: sorted(p.stem for p in (tmp_path / "moved" / platform / "orders").glob("*.json"))
        for platform in GENERATORS
    }
    assert names == {"shopify": ["4100000001001", "4100000001002"], "bigcommerce": ["6001", "6002"]}
    committed_ids = {int(path.stem) for path in COMMITTED.glob("*/orders/*.json")}
    assert not committed_ids & {int(name) for stems in names.values() for name in stems}
    # order 1001 of a run is the same order whatever number the run starts at
    run(
        "generate",
        "--platform",
        "shopify",
        "--count",
        "1",
        "--seed",
        "9",
        "--start-id",
        "1001",
        "--out",
        str(tmp_path / "one"),
    )
    name = "shopify/orders/4100000001001.json"
    assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "moved" / name).read_bytes()


def test_start_id_past_the_id_space_is_a_bad_argument(tmp_path: Path) -> None:
    result = run("generate", "--count", "10", "--start-id", "9999995", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "passes order number 9,999,999" in result.stderr


# -- validate: single files, quotes replayed through the engine ------------------------------------------


def test_validate_takes_single_files(generated: Path, tmp_path: Path) -> None:
    order = sorted((generated / "shopify" / "orders").glob("*.json"))[0]
    quotes = generated / "shopify" / "quotes" / order.name
    result = run("validate", str(order), str(quotes))
    assert result.exit_code == 0, result.output
    assert "2 documents in 2 files checked: no problems" in result.stderr
    loose = tmp_path / "loose-order.json"  # outside any <platform>/orders folder: told by its shape
    loose.write_bytes(b"\xef\xbb\xbf" + (generated / "bigcommerce" / "orders").glob("*.json").__next__().read_bytes())
    result = run("validate", str(loose))
    assert "1 documents in 1 files checked" in result.stderr
    assert "cannot be read" not in result.stdout and "schema BigCommerceFixtureDocument" not in result.stdout


def test_validate_replays_each_quote_through_the_engine(generated: Path, tmp_path: Path) -> None:
    """A stored answer that is schema-valid but not what the engine computes is reported, with both figures."""
    broken = tmp_path / "replayed"
    shutil.copytree(generated, broken)
    quote_file = sorted((broken / "shopify" / "quotes").glob("*.json"))[0]
    entries = json.loads(quote_file.read_text(encoding="utf-8"))
    stored = entries[0]["response"]["refund"]["transactions"][0]
    computed = stored["amount"]
    stored["amount"] = "1234.00" if computed != "1234.00" else "1.00"
    quote_file.write_text(json.dumps(entries), encoding="utf-8")
    result = run("validate", str(quote_file))
    assert result.exit_code == 1
    assert (
        f'{quote_file}: $[0].response.refund.transactions[0].amount: is "{stored["amount"]}" '
        f'but the engine answers "{computed}"'
    ) in result.stdout


# -- quotes from the engines, progress, stdout (issue 11 point 11) ----------------------------------------


def test_quotes_are_computed_without_a_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mockserver.app

    def no_server(*arguments: Any, **settings: Any) -> None:
        raise AssertionError("quotes must come from the engines, not through an in-process server")

    monkeypatch.setattr(mockserver.app, "create_app", no_server)
    result = run("generate", "--count", "2", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert len(list(tmp_path.glob("*/quotes/*.json"))) == 4


def test_a_shopify_run_loads_neither_the_server_nor_bigcommerce(tmp_path: Path) -> None:
    """Start-up is part of every run (issue 11 times it end to end): `fixtures generate` needs the
    engine and the generator, not Flask, jsonschema, GraphQL, YAML (for JSON files), the request
    handlers, or the other platform's generator."""
    heavy = (
        "flask",
        "werkzeug",
        "jsonschema",
        "graphql",
        "yaml",
        "mockserver.app",
        "mockserver.openapi",
        "mockserver.shopify.responses",
        "mockserver.bigcommerce.generator",
    )
    code = (
        "import sys\nfrom mockserver.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('loaded:', *(name for name in {heavy!r} if name in sys.modules))"
    )
    arguments = ["fixtures", "generate", "--platform", "shopify", "--count", "3", "--out", str(tmp_path)]
    completed = subprocess.run(
        [sys.executable, "-c", code, *arguments], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert "loaded:" in completed.stdout.splitlines(), completed.stdout
    assert len(list(tmp_path.glob("shopify/quotes/*.json"))) == 3


def test_a_new_platform_folder_moves_in_whole_and_an_existing_one_file_by_file(tmp_path: Path) -> None:
    """The staged `<platform>/` folder moves into a fresh --out in one rename; into a folder that
    has one already (--force), the new files join the ones there."""
    mine = tmp_path / "shopify" / "orders" / "mine.json"
    mine.parent.mkdir(parents=True)
    mine.write_text("{}", encoding="utf-8")
    result = run("generate", "--platform", "shopify", "--count", "2", "--out", str(tmp_path), "--force")
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in (tmp_path / "shopify" / "orders").iterdir()) == [
        "4100000000001.json",
        "4100000000002.json",
        "mine.json",
    ]
    assert len(list((tmp_path / "shopify" / "quotes").glob("*.json"))) == 2
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")], "no staging folder is left"


def _inode_flags(folder: Path) -> int:
    import fcntl
    import struct

    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        flags = bytearray(4)
        fcntl.ioctl(descriptor, 0x80086601, flags)  # FS_IOC_GETFLAGS
        return int(struct.unpack("i", flags)[0])
    finally:
        os.close(descriptor)


@pytest.mark.skipif(sys.platform != "linux", reason="the placement hint is Linux's inode flag")
def test_staged_files_are_placed_apart_and_the_output_keeps_no_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staging folder asks for its subfolders to be placed apart (chattr's `T`), where the file
    system takes the hint (ext4), so new files are not created beside recently deleted ones; the
    folders that move into --out carry no such mark, and the files are the same as ever."""
    marked: list[tuple[Path, bool, int]] = []
    spread = fixtures_module.spread_subfolders

    def recording(folder: Path) -> bool:
        taken = spread(folder)
        marked.append((folder, taken, _inode_flags(folder) if taken else 0))
        return taken

    monkeypatch.setattr(fixtures_module, "spread_subfolders", recording)
    result = run("generate", "--platform", "shopify", "--count", "3", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    [(staging, taken, flags)] = marked
    assert staging.parent == tmp_path / "out" and not staging.exists(), "the staging folder is gone"
    assert os.listdir(tmp_path / "out") == ["shopify"]
    probe = tmp_path / "probe"
    probe.mkdir()
    assert taken == spread(probe), "taken wherever the file system takes the flag"
    if taken:  # ext4 and the like; tmpfs and overlay refuse the hint and nothing changes
        assert flags & 0x00020000, "FS_TOPDIR_FL is set on the staging folder"
        assert not _inode_flags(tmp_path / "out" / "shopify") & 0x00020000
    assert len(list((tmp_path / "out" / "shopify" / "orders").glob("*.json"))) == 3


def test_worker_processes_write_the_same_files(tmp_path: Path) -> None:
    for jobs in ("1", "2"):
        result = run("generate", "--count", "120", "--seed", "4", "--jobs", jobs, "--out", str(tmp_path / jobs))
        assert result.exit_code == 0, result.output
    assert files_under(tmp_path / "1") == files_under(tmp_path / "2")


def test_a_run_with_workers_leaves_the_collector_as_it_found_it(tmp_path: Path) -> None:
    """The run hides its catalog from the collector while the workers run; a caller in the same
    process (a test suite, a script) must get it back, or everything the run made stays uncollectable."""
    frozen_before = gc.get_freeze_count()
    fixtures_module.run_generation(GeneratorSettings(seed=4), ("shopify",), 60, tmp_path, "json", True, jobs=2)
    assert gc.get_freeze_count() == frozen_before
    assert len(list((tmp_path / "shopify" / "orders").glob("*.json"))) == 60


def test_long_runs_show_progress_on_a_terminal_but_not_with_ndjson_to_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert fixtures_module._show_progress(3000, to_stdout=False)
    assert not fixtures_module._show_progress(3000, to_stdout=True)
    assert not fixtures_module._show_progress(100, to_stdout=False), "short runs end before a bar tells anything"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert not fixtures_module._show_progress(3000, to_stdout=False)


def test_ndjson_streams_to_stdout(tmp_path: Path) -> None:
    result = run("generate", "--platform", "bigcommerce", "--count", "3", "--format", "ndjson", "--out", "-")
    assert result.exit_code == 0, result.output
    orders = [json.loads(line) for line in result.stdout.splitlines()]
    assert [document["order"]["id"] for document in orders] == [5001, 5002, 5003]
    assert "3 orders written" in result.stderr
    refused = run("generate", "--format", "json", "--out", "-")
    assert refused.exit_code == 2 and "--format ndjson" in refused.stderr


# -- Faker: a range at run time, the exact release in the test extra (issue 14 point 16) ------------------


def test_faker_is_pinned_exactly_only_in_the_test_extra() -> None:
    import tomllib

    from mockserver.generation import FIXTURES_FAKER_VERSION

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = [dependency for dependency in project["dependencies"] if dependency.lower().startswith("faker")]
    assert len(runtime) == 1 and "==" not in runtime[0], runtime
    assert f"faker=={FIXTURES_FAKER_VERSION}" in project["optional-dependencies"]["test"]


def test_generate_says_when_faker_differs_from_the_committed_fixtures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import faker

    same = run("generate", "--count", "1", "--out", str(tmp_path / "same"))
    assert "note: Faker" not in same.stderr
    monkeypatch.setattr(faker, "VERSION", "41.0.0")
    other = run("generate", "--count", "1", "--out", str(tmp_path / "other"))
    assert other.exit_code == 0
    assert (
        "note: Faker 41.0.0 is installed; the committed fixtures were made with Faker 40.54.0, so names, "
        "addresses and e-mails differ from theirs for the same seed"
    ) in other.stderr
