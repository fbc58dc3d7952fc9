"""`refund-mock fixtures generate` and `refund-mock fixtures validate`: fixture files for offline testing.

`generate` writes, per platform, `DIR/<platform>/orders/<order id>.json` (or `.yaml`, or one
`orders.ndjson`) and, beside them, ready-made quotes `DIR/<platform>/quotes/<order id>.json`:
a few refund requests and the exact response the server gives, produced by an in-process server
so they are what `refund-mock serve` answers. Everything is written into a staging folder inside
DIR and moved into place only when the run succeeded, so an interrupted or failed run leaves no
half-written file. `--format ndjson` streams: one order is in memory at a time.

`validate` checks fixture files (hand-edited ones especially) against the spec's fixture schema
and the platform's consistency rules, printing `file: JSON path: reason` per problem.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import click
import yaml

from mockserver.bigcommerce import consistency as bigcommerce_consistency
from mockserver.bigcommerce import generator as bigcommerce_generator
from mockserver.generation import GeneratorSettings, SettingsError, locale_currency
from mockserver.shopify import consistency as shopify_consistency
from mockserver.shopify import generator as shopify_generator

PLATFORMS = ("shopify", "bigcommerce")
GENERATORS: dict[str, ModuleType] = {"shopify": shopify_generator, "bigcommerce": bigcommerce_generator}
CONSISTENCY: dict[str, Callable[[dict[str, Any]], list[tuple[str, str]]]] = {
    "shopify": shopify_consistency.problems,
    "bigcommerce": bigcommerce_consistency.problems,
}
QUOTE_OPERATIONS = {"shopify": "calculateRefund", "bigcommerce": "createOrderRefundQuotes"}
FORMATS = ("json", "yaml", "ndjson")
SUFFIXES = {"json": ".json", "yaml": ".yaml"}

try:  # libyaml emits the same text several times faster
    _BaseDumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseDumper = yaml.SafeDumper


class _YamlDumper(_BaseDumper):  # type: ignore[misc, valid-type]
    """Writes an object that appears twice in full each time: the mock refuses YAML aliases (safe_yaml)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


# -- errors in one line ---------------------------------------------------------------------------


class ArgumentError(click.ClickException):
    """A bad argument: one line on stderr, exit code 2."""

    exit_code = 2


class GenerationError(click.ClickException):
    """The run could not finish (the server refused a generated order or quote): exit code 1."""

    exit_code = 1


class OneLineErrors(click.Command):
    """Reports usage errors as one line (`Error: ...`) with exit code 2, without the usage text."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as error:
            raise ArgumentError(error.format_message()) from error


# -- writing ----------------------------------------------------------------------------------------


def render(document: Any, output_format: str) -> str:
    """One document as file text: indented JSON, YAML, or one compact JSON line for ndjson."""
    if output_format == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output_format == "yaml":
        return yaml.dump(document, Dumper=_YamlDumper, sort_keys=False, allow_unicode=True, width=120)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


class Staging:
    """A hidden folder inside the output folder; files are moved into place only on success."""

    def __init__(self, out: Path):
        self.out = out
        self.root = Path(tempfile.mkdtemp(prefix=".refund-mock-fixtures-", dir=out))
        self.created_dirs: set[Path] = set()

    def path(self, relative: str) -> Path:
        path = self.root / relative
        if path.parent not in self.created_dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.created_dirs.add(path.parent)
        return path

    def write(self, relative: str, text: str) -> None:
        with open(self.path(relative), "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)

    @contextmanager
    def stream(self, relative: str) -> Iterator[IO[str]]:
        with open(self.path(relative), "w", encoding="utf-8", newline="\n", buffering=1 << 20) as handle:
            yield handle

    def commit(self) -> None:
        """Move every staged file to the same place under the output folder (replacing older ones)."""
        for folder, _, names in os.walk(self.root):
            for name in sorted(names):
                source = Path(folder) / name
                target = self.out / source.relative_to(self.root)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
        self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


# -- quotes through an in-process server ------------------------------------------------------------


class QuoteServer:
    """A private, strict in-process server: orders are loaded through the admin API and quoted."""

    def __init__(self) -> None:
        from mockserver.app import MockConfig, create_app, server_of

        self.app = create_app(
            MockConfig(
                load_fixtures=False,
                strict_responses=True,
                builtin_scenarios=False,
                journal_size=0,
                cors=False,
            )
        )
        self.client = self.app.test_client()
        self.store = server_of(self.app).store

    def quotes(self, platform: str, document: dict[str, Any]) -> list[dict[str, Any]]:
        """`{"name", "request", "response"}` for each ready-made request, as the server answers it."""
        generator = GENERATORS[platform]
        loaded = self.client.post(f"/__mock/{platform}/orders", json=document)
        if loaded.status_code != 201:
            raise GenerationError(
                f"the server refused generated {platform} order {generator.order_id(document)}: "
                f"{loaded.get_data(as_text=True)}"
            )
        answers = []
        path = generator.quote_path(document)
        for name, request in generator.quote_requests(document):
            response = self.client.post(path, json=request, headers=generator.QUOTE_HEADERS)
            if response.status_code not in (200, 201):
                raise GenerationError(
                    f"{platform} order {generator.order_id(document)}, quote {name!r}: the server answered "
                    f"{response.status_code} {response.get_data(as_text=True)}"
                )
            answers.append({"name": name, "request": request, "response": response.get_json()})
        return answers

    def close(self) -> None:
        self.store.close()


# -- generate ---------------------------------------------------------------------------------------


@dataclass
class PlatformSummary:
    orders: int = 0
    quotes: int = 0
    currencies: Counter[str] = field(default_factory=Counter)


def _currencies(text: str | None, locale: str) -> tuple[str, ...]:
    if text is None:
        return (locale_currency(locale),)
    codes = tuple(dict.fromkeys(code.strip().upper() for code in text.split(",") if code.strip()))
    if not codes:
        raise ArgumentError("--currencies needs at least one ISO 4217 code, e.g. USD,EUR,JPY,KWD")
    return codes


def _output_folder(out: Path) -> Path:
    """The output folder, created if missing; one-line error when it cannot be written to."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".refund-mock-probe-", delete=True)  # noqa: SIM115
        probe.close()
    except OSError as error:
        reason = error.strerror or str(error)
        raise ArgumentError(f"cannot write to --out {out}: {reason}") from error
    return out


def run_generation(
    settings: GeneratorSettings,
    platforms: tuple[str, ...],
    count: int,
    out: Path,
    output_format: str,
    with_quotes: bool,
    progress: Callable[[int], None] = lambda done: None,
) -> dict[str, PlatformSummary]:
    """Generate, quote and write everything into a staging folder, then move it into `out`."""
    staging = Staging(out)
    summaries: dict[str, PlatformSummary] = {}
    try:
        with ExitStack() as stack:
            server = QuoteServer() if with_quotes else None
            if server is not None:
                stack.callback(server.close)
            for platform in platforms:
                summary = summaries[platform] = PlatformSummary()
                generator = GENERATORS[platform]
                orders_file = quotes_file = None
                if output_format == "ndjson":
                    orders_file = stack.enter_context(staging.stream(f"{platform}/orders.ndjson"))
                    if server is not None:
                        quotes_file = stack.enter_context(staging.stream(f"{platform}/quotes.ndjson"))
                for document in generator.generate(settings, count):
                    order_id = generator.order_id(document)
                    quotes = server.quotes(platform, document) if server is not None else None
                    if orders_file is not None:
                        orders_file.write(render(document, "ndjson"))
                        if quotes_file is not None:
                            quotes_file.write(render({"order_id": order_id, "quotes": quotes}, "ndjson"))
                    else:
                        suffix = SUFFIXES[output_format]
                        staging.write(f"{platform}/orders/{order_id}{suffix}", render(document, output_format))
                        if quotes is not None:
                            staging.write(f"{platform}/quotes/{order_id}{suffix}", render(quotes, output_format))
                    summary.orders += 1
                    summary.quotes += len(quotes or [])
                    summary.currencies[generator.currency(document)] += 1
                    progress(1)
    except BaseException:
        staging.discard()
        raise
    staging.commit()
    return summaries


@click.group()
def fixtures() -> None:
    """Generate realistic fixture orders with ready-made quotes, or check fixture files."""


@fixtures.command(cls=OneLineErrors)
@click.option(
    "--platform",
    type=click.Choice([*PLATFORMS, "all"]),
    default="all",
    show_default=True,
    help="Which platform's orders to make.",
)
@click.option("--count", type=click.IntRange(min=1), default=25, show_default=True, help="Orders per platform.")
@click.option("--seed", type=int, default=1, show_default=True, help="The one seed every figure is drawn from.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder; files go to <out>/<platform>/orders and <out>/<platform>/quotes.",
)
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="json", show_default=True)
@click.option("--locale", default="en_US", show_default=True, help="Faker locale for names, addresses and e-mails.")
@click.option(
    "--currencies",
    metavar="CODES",
    help="Comma-separated ISO 4217 codes, the shop's main currency first (default: the locale's currency).",
)
@click.option(
    "--quotes/--no-quotes",
    default=None,
    help="Write ready-made quotes beside the orders (default: on for json and yaml, off for ndjson).",
)
def generate(
    platform: str,
    count: int,
    seed: int,
    out: Path,
    output_format: str,
    locale: str,
    currencies: str | None,
    quotes: bool | None,
) -> None:
    """Generate reproducible fixture orders: the same command gives byte-identical files."""
    try:
        GeneratorSettings(locale=locale)  # the locale first: the default currencies depend on it
        settings = GeneratorSettings(seed=seed, locale=locale, currencies=_currencies(currencies, locale))
    except SettingsError as error:
        raise ArgumentError(str(error)) from error
    folder = _output_folder(out)
    platforms = PLATFORMS if platform == "all" else (platform,)
    with_quotes = output_format != "ndjson" if quotes is None else quotes
    started = time.perf_counter()
    total = count * len(platforms)
    if sys.stderr.isatty():
        with click.progressbar(length=total, label="generating orders", file=sys.stderr) as bar:
            summaries = run_generation(settings, platforms, count, folder, output_format, with_quotes, bar.update)
    else:
        summaries = run_generation(settings, platforms, count, folder, output_format, with_quotes)
    elapsed = time.perf_counter() - started
    for name, summary in summaries.items():
        currencies_text = ", ".join(f"{code} {number}" for code, number in sorted(summary.currencies.items()))
        quotes_text = f", {summary.quotes} quotes" if with_quotes else ""
        click.echo(f"{name}: {summary.orders} orders ({currencies_text}){quotes_text} -> {folder / name}")
    orders = sum(summary.orders for summary in summaries.values())
    rate = orders / elapsed if elapsed > 0 else float("inf")
    click.echo(f"{orders} orders written in {elapsed:.2f} s ({rate:,.0f} orders/s)")


# -- validate ---------------------------------------------------------------------------------------


@dataclass
class FixtureFile:
    platform: str
    kind: str  # "orders" or "quotes"
    path: Path


def find_files(directory: Path) -> list[FixtureFile]:
    """Fixture files under `directory`: a fixtures root, a platform folder, or its orders/quotes folder."""
    found: list[FixtureFile] = []
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(directory).parts):
            continue
        if path.suffix not in (".json", ".yaml", ".yml", ".ndjson"):
            continue
        # the folder's own name and its parent's count (`fixtures/shopify/orders`), folders above do not
        parts = directory.resolve().parts[-2:] + path.relative_to(directory).parts
        platform = next((part for part in reversed(parts[:-1]) if part in PLATFORMS), None)
        if platform is None:
            continue
        kind = "quotes" if "quotes" in parts[:-1] or path.stem == "quotes" else "orders"
        found.append(FixtureFile(platform, kind, path))
    return found


def read_documents(path: Path) -> Iterator[tuple[str, Any]]:
    """(location, document) pairs: one per file, or one per line of an ndjson file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ndjson":
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield f"{path}:{number}", json.loads(line)
    elif path.suffix in (".yaml", ".yml"):
        yield str(path), yaml.safe_load(text)
    else:
        yield str(path), json.loads(text)


def json_path(dotted: str) -> str:
    """`order.line_items.0.price` -> `$.order.line_items[0].price`."""
    path = "$"
    for part in dotted.split(".") if dotted else []:
        path += f"[{part}]" if part.isdigit() else f".{part}"
    return path


def _order_id(document: Any) -> int | None:
    """The order id of a fixture document of either platform, if it has one."""
    order = document.get("order") if isinstance(document, dict) else None
    value = order.get("id") if isinstance(order, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Validator:
    """The spec's fixture schema and the consistency rules of each platform, compiled once."""

    def __init__(self) -> None:
        from mockserver.bigcommerce import PLATFORM as BIGCOMMERCE
        from mockserver.openapi import data_dir, load_spec
        from mockserver.shopify import PLATFORM as SHOPIFY

        specs = data_dir("specs")
        self.platforms = {"shopify": SHOPIFY, "bigcommerce": BIGCOMMERCE}
        self.specs = {name: load_spec(specs / platform.spec_file) for name, platform in self.platforms.items()}
        self.schemas = {
            name: self.specs[name].schema(platform.fixture_schema) for name, platform in self.platforms.items()
        }
        self.order_ids: dict[str, dict[int, str]] = {name: {} for name in PLATFORMS}

    def order_problems(self, platform: str, location: str, path: Path, document: Any) -> list[tuple[str, str]]:
        from mockserver.openapi import violations_of

        found: list[tuple[str, str]] = []
        order_id = _order_id(document)
        if order_id is not None:
            if path.suffix != ".ndjson" and path.stem != str(order_id):
                found.append(("$.order.id", f"is {order_id} but the file is named {path.name}"))
            earlier = self.order_ids[platform].get(order_id)
            if earlier is not None:
                found.append(("$.order.id", f"{order_id} is also the order of {earlier}"))
            self.order_ids[platform][order_id] = location
        violations = violations_of(self.schemas[platform], document, "document")
        if violations:
            schema = self.platforms[platform].fixture_schema
            return found + [(json_path(v.field), f"{v.message} (schema {schema})") for v in violations]
        return found + list(CONSISTENCY[platform](document))

    def _order_exists(self, platform: str, path: Path, order_id: str) -> bool:
        if order_id in {str(known) for known in self.order_ids[platform]}:
            return True
        orders = path.parent.parent / "orders"
        return any((orders / f"{order_id}{suffix}").is_file() for suffix in (".json", ".yaml", ".yml"))

    def quote_problems(self, platform: str, path: Path, document: Any) -> list[tuple[str, str]]:
        """A list of {name, request, response}: the request and response as the quote operation declares them."""
        operation = self.specs[platform].operations[QUOTE_OPERATIONS[platform]]
        entries = document.get("quotes") if path.suffix == ".ndjson" and isinstance(document, dict) else document
        if not isinstance(entries, list):
            return [("$", "must be a list of {name, request, response}")]
        prefix = "$.quotes" if path.suffix == ".ndjson" else "$"
        found: list[tuple[str, str]] = []
        order_id = document.get("order_id") if isinstance(document, dict) else path.stem
        if not self._order_exists(platform, path, str(order_id)):
            found.append(("$", f"quotes for order {order_id}, which no order file beside them holds"))
        status = 200 if platform == "shopify" else 201
        for index, entry in enumerate(entries):
            where = f"{prefix}[{index}]"
            if not isinstance(entry, dict) or set(entry) != {"name", "request", "response"}:
                found.append((where, "must have exactly the keys name, request and response"))
                continue
            if not isinstance(entry["name"], str):
                found.append((f"{where}.name", "must be a string"))
            for violation in operation.validate_body(entry["request"]):
                found.append((f"{where}.request{json_path(violation.field)[1:]}", violation.message))
            for violation in operation.response_violations(status, entry["response"]):
                found.append((f"{where}.response{json_path(violation.field)[1:]}", violation.message))
        return found


@fixtures.command(cls=OneLineErrors)
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def validate(directory: Path) -> None:
    """Check fixture files against the spec's schemas and the consistency rules; exit 1 on any problem."""
    files = find_files(directory)
    if not files:
        raise ArgumentError(f"no fixture files under {directory} (expected <platform>/orders/*.json and the like)")
    validator = Validator()
    problems = failed = checked = 0
    files.sort(key=lambda item: item.kind != "orders")  # orders first, so quotes can name missing orders
    for item in files:
        try:
            documents = list(read_documents(item.path))
        except (OSError, ValueError, yaml.YAMLError) as error:
            click.echo(f"{item.path}: $: cannot be read: {error}")
            problems += 1
            failed += 1
            continue
        file_failed = False
        for location, document in documents:
            checked += 1
            if item.kind == "orders":
                found = validator.order_problems(item.platform, location, item.path, document)
            else:
                found = validator.quote_problems(item.platform, item.path, document)
            for path, reason in found:
                click.echo(f"{location}: {path}: {reason}")
            problems += len(found)
            file_failed = file_failed or bool(found)
        failed += file_failed
    summary = f"{checked} documents in {len(files)} files checked: "
    if problems:
        click.echo(summary + f"{problems} problems in {failed} files", err=True)
        sys.exit(1)
    click.echo(summary + "no problems", err=True)
