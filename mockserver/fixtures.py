"""`refund-mock fixtures generate` and `refund-mock fixtures validate`: fixture files for offline testing.

`generate` writes, per platform, `DIR/<platform>/orders/<order id>.json` (or `.yaml`, or one
`orders.ndjson`) and, beside them, ready-made quotes `DIR/<platform>/quotes/<order id>.json`:
a few refund requests and the exact response the server gives, computed by the engine the
server's quote handler calls. Everything is written into a staging folder inside DIR and moved
into place only when the run succeeded, so an interrupted or failed run leaves no half-written
file. `--format ndjson` streams: a few orders are in memory at a time. Long runs are split over
worker processes by order number, each writing the files of the orders it makes into the staging
folder; each order depends only on the settings and its number, so the files are the same however
the work is split.

`validate` checks fixture files (hand-edited ones especially) against the spec's fixture schema
and the platform's consistency rules, and replays each ready-made quote through the engine,
printing `file: JSON path: reason` per problem.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import click
import orjson

from mockserver import fixture_files
from mockserver.generation import FIXTURES_FAKER_VERSION, GeneratorSettings, SettingsError, locale_currency

PLATFORMS = ("shopify", "bigcommerce")
QUOTE_OPERATIONS = {"shopify": "calculateRefund", "bigcommerce": "createOrderRefundQuotes"}
FORMATS = ("json", "yaml", "ndjson")
MAX_ORDER_NUMBER = 9_999_999  # each platform's ids are its base plus the order number, below the next range
SUFFIXES = {"json": ".json", "yaml": ".yaml"}


def generator_of(platform: str) -> ModuleType:
    """The platform's generator, imported on first use: a Shopify run does not load BigCommerce's."""
    return importlib.import_module(f"mockserver.{platform}.generator")


def consistency_of(platform: str) -> Callable[[dict[str, Any]], list[tuple[str, str]]]:
    """The platform's consistency rules (`problems`), imported on first use."""
    return importlib.import_module(f"mockserver.{platform}.consistency").problems  # type: ignore[no-any-return]


@cache
def _yaml_dumper() -> type:
    """A dumper that writes an object appearing twice in full each time: the mock refuses YAML aliases
    (safe_yaml). Made on first use, so that JSON runs do not import yaml; libyaml's when installed,
    which emits the same text several times faster."""
    import yaml

    base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return type("_YamlDumper", (base,), {"ignore_aliases": lambda self, data: True})


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


def encode(document: Any, output_format: str) -> bytes:
    """One document as the bytes of its file: indented JSON, YAML, or one compact JSON line for ndjson.

    orjson writes the same indented text as `json.dumps(indent=2, ensure_ascii=False)` some
    twenty times faster (the json module indents in pure Python), in UTF-8 already; what
    orjson refuses (an integer beyond 64 bits) the json module writes.
    """
    if output_format == "json":
        try:
            return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # orjson.JSONEncodeError
            return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if output_format == "yaml":
        import yaml

        text = yaml.dump(document, Dumper=_yaml_dumper(), sort_keys=False, allow_unicode=True, width=120)
        return text.encode("utf-8")
    try:
        return orjson.dumps(document, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # orjson.JSONEncodeError
        return (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def render(document: Any, output_format: str) -> str:
    """One document as file text (see `encode`)."""
    return encode(document, output_format).decode("utf-8")


def write_new_file(path: str, data: bytes) -> None:
    """`data` as the whole of the file at `path`, with two system calls rather than Python's text layer.

    A run writes thousands of small files, so the cost of opening each one counts.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


# Linux's inode flag for chattr's `T` ("top of directory hierarchies"): FS_IOC_GETFLAGS,
# FS_IOC_SETFLAGS and FS_TOPDIR_FL from <linux/fs.h>
_GET_FLAGS, _SET_FLAGS, _TOP_OF_HIERARCHY = 0x80086601, 0x40086602, 0x00020000


def spread_subfolders(folder: Path) -> bool:
    """Ask the file system to place `folder`'s subfolders, and so their files, away from its own.

    ext4 without a journal passes over every inode freed in the last minutes (and still
    cached) each time it allocates one, so thousands of new files beside thousands just deleted
    (a previous run's output, a test suite's temporary files) cost up to 0.6 ms each in the
    kernel: 6,000 files took 2-4 s instead of 0.15 s on such a machine. Marked as the top of a
    hierarchy (`chattr +T`), a folder's subfolders go to block groups with room and few folders
    (ext4's Orlov allocator), searched from a start drawn from the subfolder's name: a name
    of its own each run, or every run lands where the last one was just deleted. Only the
    placement changes; a file system without the flag, or another system, refuses and nothing
    else happens. True when the mark was set.
    """
    if sys.platform != "linux":
        return False
    import fcntl
    import struct

    try:
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        flags = bytearray(4)
        fcntl.ioctl(descriptor, _GET_FLAGS, flags)
        fcntl.ioctl(descriptor, _SET_FLAGS, struct.pack("i", struct.unpack("i", flags)[0] | _TOP_OF_HIERARCHY))
        return True
    except OSError:
        return False
    finally:
        os.close(descriptor)


class Staging:
    """A hidden folder inside the output folder; files are moved into place only on success.

    The staged tree is a folder of a fresh name inside it, placed apart (`spread_subfolders`).
    """

    def __init__(self, out: Path):
        self.out = out
        self.hidden = Path(tempfile.mkdtemp(prefix=".refund-mock-fixtures-", dir=out))
        try:
            spread_subfolders(self.hidden)
            self.root = Path(tempfile.mkdtemp(prefix="run-", dir=self.hidden))
        except BaseException:
            self.discard()
            raise
        self.created_dirs: set[Path] = set()

    def folder(self, relative: str) -> Path:
        """A folder inside the staging folder, created if missing."""
        folder = self.root / relative
        if folder not in self.created_dirs:
            folder.mkdir(parents=True, exist_ok=True)
            self.created_dirs.add(folder)
        return folder

    def path(self, relative: str) -> Path:
        path = self.root / relative
        self.folder(str(path.parent.relative_to(self.root)))
        return path

    @contextmanager
    def stream(self, relative: str) -> Iterator[IO[str]]:
        with open(self.path(relative), "w", encoding="utf-8", newline="\n", buffering=1 << 20) as handle:
            yield handle

    def commit(self) -> None:
        """Move every staged file to the same place under the output folder (replacing older ones).

        A staged folder the output folder lacks (`shopify/` of a first run) moves in one step,
        files and all, instead of one rename per file.
        """
        self._move(self.root, self.out)
        self.discard()

    def _move(self, source: Path, target: Path) -> None:
        for entry in sorted(os.scandir(source), key=lambda entry: entry.name):
            destination = target / entry.name
            if not entry.is_dir(follow_symlinks=False):
                os.replace(entry.path, destination)
                continue
            if not os.path.lexists(destination):
                try:
                    os.rename(entry.path, destination)
                    continue
                except OSError:  # made meanwhile by someone else: move its files one by one
                    pass
            destination.mkdir(parents=True, exist_ok=True)
            self._move(Path(entry.path), destination)

    def discard(self) -> None:
        shutil.rmtree(self.hidden, ignore_errors=True)


# -- quotes from the engines -------------------------------------------------------------------------


def _normalised(body: Any) -> Any:
    """A response body as a client reads it: through JSON, as the server sends it.

    The engines' answers are plain JSON values, which orjson round-trips alone; anything else (a
    Decimal) goes through the server's own encoder, imported only then (it brings in Flask).
    """
    try:
        return orjson.loads(orjson.dumps(body))
    except TypeError:  # orjson.JSONEncodeError
        from mockserver.app import encode_json

        return orjson.loads(encode_json(body))


def ready_made_quotes(platform: str, document: dict[str, Any], *, as_sent: bool = True) -> list[dict[str, Any]]:
    """`{"name", "request", "response"}` for each ready-made request, computed by the platform's engine.

    The engine is what the server's quote handler calls, so the response is what `refund-mock serve`
    answers on the same file (tests/test_generator_cli.py checks it through HTTP); calling it
    directly skips the HTTP round trip and the schema checks, which made quoting 30 times slower.
    `as_sent=False` leaves the engine's answers as they are, for a caller that writes them as JSON
    at once (the same text; see `_quote_file`), which spares a JSON round trip per quote.
    """
    from mockserver.platform import MockHTTPError

    generator = generator_of(platform)
    context = generator.quote_context(document)
    answers = []
    for name, request in generator.quote_requests(document, context):
        try:
            response = generator.quote_response(document, request, context)
        except MockHTTPError as error:
            raise GenerationError(
                f"{platform} order {generator.order_id(document)}, quote {name!r}: the engine answered "
                f"{error.status} {error.body}"
            ) from error
        answers.append({"name": name, "request": request, "response": _normalised(response) if as_sent else response})
    return answers


def _quote_file(quotes: list[dict[str, Any]], order_id: int, output_format: str) -> bytes:
    """The quotes file of an order, from the engine's answers as they are.

    Written as JSON, the engines' plain answers give the text they would give after a JSON round
    trip; an answer only the server's encoder writes (a Decimal) is normalised first, as is
    everything bound for YAML, which writes Python values as they are.
    """
    document: Any = {"order_id": order_id, "quotes": quotes} if output_format == "ndjson" else quotes
    if output_format != "yaml":
        try:
            return encode(document, output_format)
        except TypeError:
            pass
    for quote in quotes:
        quote["response"] = _normalised(quote["response"])
    return encode(document, output_format)


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


def existing_fixture_files(out: Path, platforms: tuple[str, ...]) -> list[Path]:
    """Fixture files a run for `platforms` would mix with: orders and quotes under `<out>/<platform>/`."""
    found: list[Path] = []
    for platform in platforms:
        folder = out / platform
        for sub in ("orders", "quotes"):
            found += sorted(path for path in (folder / sub).glob("*") if path.suffix in fixture_files.SUFFIXES)
        found += [folder / name for name in ("orders.ndjson", "quotes.ndjson") if (folder / name).is_file()]
    return found


@dataclass(frozen=True)
class MadeOrder:
    """One generated order: what the writer needs, small enough to pass between processes.

    With one file per order (json, yaml), the maker writes the files itself and only the
    summary comes back; with ndjson, the texts come back to be written in order.
    """

    order_id: int
    currency: str
    order_text: str | None
    quotes_text: str | None
    quote_count: int


def make_orders(
    settings: GeneratorSettings,
    platform: str,
    first: int,
    count: int,
    output_format: str,
    with_quotes: bool,
    folder: str | None = None,
) -> list[MadeOrder]:
    """Orders `first` .. `first + count - 1` of a platform, generated, quoted and rendered.

    `folder`: the platform's staging folder; each order and its quotes are written there as
    `orders/<id><suffix>` and `quotes/<id><suffix>` by the process that made them, so worker
    processes share the cost of creating the files. Each order depends only on the settings
    and its number, so any process can make any range and the files are the same however the
    work is split.
    """
    generator = generator_of(platform)
    suffix = SUFFIXES.get(output_format, "")
    made = []
    for document in generator.generate(settings, count, first):
        order_id = generator.order_id(document)
        quotes = ready_made_quotes(platform, document, as_sent=False) if with_quotes else None
        quotes_data = None if quotes is None else _quote_file(quotes, order_id, output_format)
        order_data = encode(document, output_format)
        if folder is not None:
            write_new_file(f"{folder}/orders/{order_id}{suffix}", order_data)
            if quotes_data is not None:
                write_new_file(f"{folder}/quotes/{order_id}{suffix}", quotes_data)
            order_text = quotes_text = None
        else:
            order_text = order_data.decode("utf-8")
            quotes_text = None if quotes_data is None else quotes_data.decode("utf-8")
        made.append(MadeOrder(order_id, generator.currency(document), order_text, quotes_text, len(quotes or [])))
    return made


CHUNK = 25  # orders per task handed to a worker process: small, so the last tasks end together
PARALLEL_FROM = 400  # orders: below this, starting worker processes costs more than it saves


def default_jobs(total: int) -> int:
    """Worker processes for a run: one per core (at most 8) for long runs, none for short ones."""
    if total < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def _made_in_order(
    settings: GeneratorSettings,
    platform: str,
    start: int,
    count: int,
    output_format: str,
    with_quotes: bool,
    folder: str | None,
    pool: Any,
    jobs: int,
) -> Iterator[MadeOrder]:
    """The platform's orders in order, made here or by the pool, with a bounded number of tasks in flight."""
    tasks = (
        (settings, platform, first, min(CHUNK, start + count - first), output_format, with_quotes, folder)
        for first in range(start, start + count, CHUNK)
    )
    if pool is None:
        for task in tasks:
            yield from make_orders(*task)
        return
    pending: deque[Any] = deque()
    for task in tasks:
        pending.append(pool.apply_async(make_orders, task))
        if len(pending) >= 4 * jobs:
            yield from pending.popleft().get()
    while pending:
        yield from pending.popleft().get()


def run_generation(
    settings: GeneratorSettings,
    platforms: tuple[str, ...],
    count: int,
    out: Path,
    output_format: str,
    with_quotes: bool,
    progress: Callable[[int], None] = lambda done: None,
    *,
    start: int = 1,
    replace: list[Path] | None = None,
    stdout: IO[str] | None = None,
    jobs: int = 1,
) -> dict[str, PlatformSummary]:
    """Generate, quote and write everything into a staging folder, then move it into `out`.

    `replace`: files removed when the run succeeded, just before the new ones move in (`--clean`).
    `stdout`: with ndjson, the orders are written there as they are made (nothing is staged).
    `jobs`: worker processes making the orders (1: all in this process); the files do not change.
    """
    staging = Staging(out) if stdout is None else None
    summaries: dict[str, PlatformSummary] = {}
    try:
        with ExitStack() as stack:
            pool = None
            # the Faker catalog and the imports once, here: forked workers inherit them
            for platform in platforms:
                make_orders(settings, platform, start, 1, output_format, with_quotes)
            # they stay alive all run: out of the collector's sight, its full collections do not walk
            # them again and again, and the workers' collections do not write to their pages (no
            # copy-on-write)
            gc.freeze()
            stack.callback(gc.unfreeze)
            if jobs > 1:
                pool = stack.enter_context(multiprocessing.get_context("fork").Pool(jobs))
            for platform in platforms:
                summary = summaries[platform] = PlatformSummary()
                orders_file = quotes_file = None
                folder = None
                if stdout is not None:
                    orders_file = stdout
                elif output_format == "ndjson" and staging is not None:
                    orders_file = stack.enter_context(staging.stream(f"{platform}/orders.ndjson"))
                    if with_quotes:
                        quotes_file = stack.enter_context(staging.stream(f"{platform}/quotes.ndjson"))
                elif staging is not None:  # one file per order, written by whichever process makes it
                    staging.folder(f"{platform}/orders")
                    if with_quotes:
                        staging.folder(f"{platform}/quotes")
                    folder = str(staging.root / platform)
                made_orders = _made_in_order(
                    settings, platform, start, count, output_format, with_quotes, folder, pool, jobs
                )
                for made in made_orders:
                    if orders_file is not None and made.order_text is not None:
                        orders_file.write(made.order_text)
                        if quotes_file is not None and made.quotes_text is not None:
                            quotes_file.write(made.quotes_text)
                    summary.orders += 1
                    summary.quotes += made.quote_count
                    summary.currencies[made.currency] += 1
                    progress(1)
    except BaseException:
        if staging is not None:
            staging.discard()
        raise
    if staging is not None:
        for path in replace or []:
            path.unlink(missing_ok=True)
        staging.commit()
    return summaries


def faker_note() -> str | None:
    """A word when the installed Faker is not the one the committed fixtures were made with."""
    import faker

    installed = getattr(faker, "VERSION", None)
    if not installed:
        from importlib.metadata import version

        installed = version("faker")
    if installed == FIXTURES_FAKER_VERSION:
        return None
    return (
        f"note: Faker {installed} is installed; the committed fixtures were made with Faker "
        f"{FIXTURES_FAKER_VERSION}, so names, addresses and e-mails differ from theirs for the same seed "
        "(the figures do not)"
    )


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
    help="Output folder; files go to <out>/<platform>/orders and <out>/<platform>/quotes. "
    "With --format ndjson, `-` writes the orders to stdout.",
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
@click.option(
    "--start-id",
    type=click.IntRange(min=1, max=MAX_ORDER_NUMBER),
    default=1,
    show_default=True,
    help="Number of the first order; ids are each platform's base plus it, so e.g. 1001 keeps a set clear "
    "of the committed orders (1-25) and of a default run of up to 1000. Order N is the same whatever N starts.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Processes making orders (default: one per core for runs of 400 orders or more); the files are the same.",
)
@click.option("--clean", is_flag=True, help="Remove the platforms' orders and quotes already in --out first.")
@click.option("--force", is_flag=True, help="Write into an --out that holds fixtures, replacing same-named files.")
def generate(
    platform: str,
    count: int,
    seed: int,
    out: Path,
    output_format: str,
    locale: str,
    currencies: str | None,
    quotes: bool | None,
    start_id: int,
    jobs: int | None,
    clean: bool,
    force: bool,
) -> None:
    """Generate reproducible fixture orders: the same command gives byte-identical files."""
    try:
        GeneratorSettings(locale=locale)  # the locale first: the default currencies depend on it
        settings = GeneratorSettings(seed=seed, locale=locale, currencies=_currencies(currencies, locale))
    except SettingsError as error:
        raise ArgumentError(str(error)) from error
    if start_id + count - 1 > MAX_ORDER_NUMBER:
        raise ArgumentError(f"--start-id {start_id} with --count {count} passes order number {MAX_ORDER_NUMBER:,}")
    platforms = PLATFORMS if platform == "all" else (platform,)
    to_stdout = str(out) == "-"
    if to_stdout and (output_format != "ndjson" or quotes):
        raise ArgumentError("--out - (stdout) takes --format ndjson, orders only (no --quotes)")
    with_quotes = (output_format != "ndjson" if quotes is None else quotes) and not to_stdout
    folder = out if to_stdout else _output_folder(out)
    replace: list[Path] = []
    if not to_stdout:
        existing = existing_fixture_files(folder, platforms)
        if existing and not (clean or force):
            raise ArgumentError(
                f"--out {folder} already holds fixture files ({existing[0]} and {len(existing) - 1} more); "
                "give --clean to replace them, or --force to write over same-named files and keep the rest"
            )
        replace = existing if clean else []
    note = faker_note()
    if note:
        click.echo(note, err=True)
    started = time.perf_counter()
    # When the process ends, the collector's last pass would walk the catalog, Faker's data and
    # every module once more (some 40 ms of a run's 1.3 s); frozen at exit, it skips them. A caller
    # in the same process (a test suite) is not affected before it exits itself.
    atexit.register(gc.freeze)
    total = count * len(platforms)
    stdout = sys.stdout if to_stdout else None

    def generate_all(progress: Callable[[int], None] = lambda done: None) -> dict[str, PlatformSummary]:
        return run_generation(
            settings,
            platforms,
            count,
            folder,
            output_format,
            with_quotes,
            progress,
            start=start_id,
            replace=replace,
            stdout=stdout,
            jobs=jobs or default_jobs(total),
        )

    if _show_progress(total, to_stdout):
        with click.progressbar(length=total, label="generating orders", file=sys.stderr) as bar:
            summaries = generate_all(bar.update)
    else:
        summaries = generate_all()
    elapsed = time.perf_counter() - started
    for name, summary in summaries.items():
        currencies_text = ", ".join(f"{code} {number}" for code, number in sorted(summary.currencies.items()))
        quotes_text = f", {summary.quotes} quotes" if with_quotes else ""
        where = "stdout" if to_stdout else folder / name
        click.echo(f"{name}: {summary.orders} orders ({currencies_text}){quotes_text} -> {where}", err=to_stdout)
    orders = sum(summary.orders for summary in summaries.values())
    rate = orders / elapsed if elapsed > 0 else float("inf")
    click.echo(f"{orders} orders written in {elapsed:.2f} s ({rate:,.0f} orders/s)", err=to_stdout)


PROGRESS_FROM = 2000  # orders: shorter runs end before a bar would tell anything


def _show_progress(total: int, to_stdout: bool) -> bool:
    """A bar on stderr for long runs at a terminal; never when the orders stream to stdout."""
    return total >= PROGRESS_FROM and not to_stdout and sys.stderr.isatty()


# -- validate ---------------------------------------------------------------------------------------


@dataclass
class FixtureFile:
    platform: str
    kind: str  # "orders" or "quotes"
    path: Path


def _classify(path: Path, parts: tuple[str, ...]) -> FixtureFile | None:
    """Platform and kind of a fixture file from the folders it sits in (`shopify/orders/1.json`)."""
    platform = next((part for part in reversed(parts[:-1]) if part in PLATFORMS), None)
    if platform is None:
        return None
    kind = "quotes" if "quotes" in parts[:-1] or path.stem == "quotes" else "orders"
    return FixtureFile(platform, kind, path)


def find_files(directory: Path) -> list[FixtureFile]:
    """Fixture files under `directory`: a fixtures root, a platform folder, or its orders/quotes folder.

    Entries that are not regular files (a link to a device, a FIFO) are listed too, so that
    reading them reports why they are refused rather than skipping them silently.
    """
    found: list[FixtureFile] = []
    for path in sorted(directory.rglob("*")):
        if path.is_dir() or any(part.startswith(".") for part in path.relative_to(directory).parts):
            continue
        if path.suffix not in fixture_files.SUFFIXES:
            continue
        # the folder's own name and its parent's count (`fixtures/shopify/orders`), folders above do not
        item = _classify(path, directory.resolve().parts[-2:] + path.relative_to(directory).parts)
        if item is not None:
            found.append(item)
    return found


def platform_of_document(document: Any) -> str | None:
    """The platform a fixture document is shaped for: BigCommerce carries `products`, Shopify `transactions`."""
    if not isinstance(document, dict):
        return None
    if "products" in document:
        return "bigcommerce"
    if "transactions" in document:
        return "shopify"
    return None


def single_file(path: Path) -> FixtureFile:
    """One named file: its platform from its folders, else from the shape of its first document."""
    if path.suffix not in fixture_files.SUFFIXES:
        raise ArgumentError(f"{path}: not a fixture file (expected .json, .yaml, .yml or .ndjson)")
    item = _classify(path, path.resolve().parts)
    if item is not None:
        return item
    first = next(iter(fixture_files.documents(path)), None)
    document = first.document if first is not None else None
    kind = "quotes" if isinstance(document, list) or (isinstance(document, dict) and "quotes" in document) else "orders"
    platform = platform_of_document(document)
    if platform is None and kind == "quotes":
        raise ArgumentError(f"{path}: cannot tell the platform of a quotes file outside a <platform>/quotes folder")
    return FixtureFile(platform or "shopify", kind, path)


def read_documents(path: Path) -> Iterator[tuple[str, Any]]:
    """(location, document) pairs: one per file, or one per line of an ndjson file.

    Read through `mockserver.fixture_files` (regular files only, a BOM accepted, YAML without
    aliases); a file or line that cannot be read raises `FixtureFileError` (a ValueError).
    """
    for entry in fixture_files.documents(path):
        if entry.error is not None:
            raise fixture_files.FixtureFileError(entry.error)
        yield entry.location, entry.document


def json_path(dotted: str) -> str:
    """`order.line_items.0.price` -> `$.order.line_items[0].price`."""
    path = "$"
    for part in dotted.split(".") if dotted else []:
        path += f"[{part}]" if part.isdigit() else f".{part}"
    return path


def first_difference(stored: Any, computed: Any, path: str = "") -> tuple[str, str] | None:
    """Where a stored answer first differs from the computed one: (JSON path suffix, reason)."""
    if isinstance(stored, dict) and isinstance(computed, dict):
        for key in dict.fromkeys([*stored, *computed]):
            if key not in computed:
                return f"{path}.{key}", "is not in the engine's answer"
            if key not in stored:
                return f"{path}.{key}", "is missing; the engine answers it"
            found = first_difference(stored[key], computed[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(stored, list) and isinstance(computed, list):
        for index, (left, right) in enumerate(zip(stored, computed, strict=False)):
            found = first_difference(left, right, f"{path}[{index}]")
            if found:
                return found
        if len(stored) != len(computed):
            return path, f"has {len(stored)} items but the engine answers {len(computed)}"
        return None
    if stored != computed or type(stored) is not type(computed):
        return path, f"is {json.dumps(stored)} but the engine answers {json.dumps(computed)}"
    return None


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
        self.valid_orders: dict[str, set[int]] = {name: set() for name in PLATFORMS}
        self._streams: dict[Path, Iterator[fixture_files.Entry]] = {}

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
        if order_id is not None:
            self.valid_orders[platform].add(order_id)
        return found + list(consistency_of(platform)(document))

    def _order_file(self, path: Path, order_id: str) -> Path | None:
        orders = path.parent.parent / "orders"
        return next(
            (
                orders / f"{order_id}{suffix}"
                for suffix in (".json", ".yaml", ".yml")
                if (orders / f"{order_id}{suffix}").exists()
            ),
            None,
        )

    def _order_document(self, platform: str, path: Path, order_id: Any) -> Any:
        """The order a quotes document belongs to, read again (not kept: a big set would not fit in memory).

        Beside `quotes/<id>.json` it is `orders/<id>.json`; beside `quotes.ndjson` it is the matching
        line of `orders.ndjson`, read in step (the generator writes both in the same order).
        """
        if path.suffix == ".ndjson":
            stream_path = path.with_name("orders.ndjson")
            stream = self._streams.get(path)
            if stream is None:
                stream = self._streams[path] = (
                    fixture_files.documents(stream_path) if stream_path.exists() else iter(())
                )
            for entry in stream:
                if entry.error is None and _order_id(entry.document) == order_id:
                    return entry.document
            return None
        order_file = self._order_file(path, str(order_id))
        if order_file is None:
            return None
        entry = next(iter(fixture_files.documents(order_file)), None)
        return entry.document if entry is not None and entry.error is None else None

    def quote_problems(self, platform: str, path: Path, document: Any) -> list[tuple[str, str]]:
        """A list of {name, request, response}: as the quote operation declares them, and as the engine answers."""
        operation = self.specs[platform].operations[QUOTE_OPERATIONS[platform]]
        entries = document.get("quotes") if path.suffix == ".ndjson" and isinstance(document, dict) else document
        if not isinstance(entries, list):
            return [("$", "must be a list of {name, request, response}")]
        prefix = "$.quotes" if path.suffix == ".ndjson" else "$"
        found: list[tuple[str, str]] = []
        order_id = document.get("order_id") if isinstance(document, dict) else path.stem
        known = str(order_id) in {str(known) for known in self.order_ids[platform]}
        if not known and self._order_file(path, str(order_id)) is None:
            found.append(("$", f"quotes for order {order_id}, which no order file beside them holds"))
            return found
        order = None
        numeric = isinstance(order_id, int) or str(order_id).isdigit()
        if numeric and (int(order_id) in self.valid_orders[platform] or not known):
            order = self._order_document(platform, path, int(order_id))
        context = None
        if order is not None and platform_of_document(order) == platform:
            try:
                context = generator_of(platform).quote_context(order)
            except Exception:  # an order the schema let through but the engine cannot read: reported above
                context = None
        status = 200 if platform == "shopify" else 201
        for index, entry in enumerate(entries):
            where = f"{prefix}[{index}]"
            if not isinstance(entry, dict) or set(entry) != {"name", "request", "response"}:
                found.append((where, "must have exactly the keys name, request and response"))
                continue
            if not isinstance(entry["name"], str):
                found.append((f"{where}.name", "must be a string"))
            request_violations = operation.validate_body(entry["request"])
            for violation in request_violations:
                found.append((f"{where}.request{json_path(violation.field)[1:]}", violation.message))
            for violation in operation.response_violations(status, entry["response"]):
                found.append((f"{where}.response{json_path(violation.field)[1:]}", violation.message))
            if context is not None and not request_violations:
                found.extend(self._replay(platform, order, context, entry, where))
        return found

    def _replay(
        self, platform: str, order: Any, context: Any, entry: dict[str, Any], where: str
    ) -> list[tuple[str, str]]:
        """The stored response against what the engine answers the stored request on the order today."""
        from mockserver.platform import MockHTTPError

        try:
            computed = _normalised(generator_of(platform).quote_response(order, entry["request"], context))
        except MockHTTPError as error:
            return [(f"{where}.response", f"the engine refuses the request: {error.status} {json.dumps(error.body)}")]
        difference = first_difference(entry["response"], computed)
        return [] if difference is None else [(f"{where}.response{difference[0]}", difference[1])]


@fixtures.command(cls=OneLineErrors)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check fixture files (folders or single files) against the spec's schemas and the consistency rules,
    and replay each ready-made quote through the engine; exit 1 on any problem."""
    files: list[FixtureFile] = []
    for path in paths:
        if path.is_dir():
            found = find_files(path)
            if not found:
                raise ArgumentError(f"no fixture files under {path} (expected <platform>/orders/*.json and the like)")
            files += found
        else:
            files.append(single_file(path))
    validator = Validator()
    problems = failed = checked = 0
    files.sort(key=lambda item: item.kind != "orders")  # orders first, so quotes can name missing orders
    for item in files:
        file_failed = False
        for entry in fixture_files.documents(item.path):
            if entry.error is not None:
                click.echo(f"{entry.location}: $: cannot be read: {entry.error}")
                problems += 1
                file_failed = True
                continue
            checked += 1
            if item.kind == "orders":
                found = validator.order_problems(item.platform, entry.location, item.path, entry.document)
            else:
                found = validator.quote_problems(item.platform, item.path, entry.document)
            for path, reason in found:
                click.echo(f"{entry.location}: {path}: {reason}")
            problems += len(found)
            file_failed = file_failed or bool(found)
        failed += file_failed
    summary = f"{checked} documents in {len(files)} files checked: "
    if problems:
        click.echo(summary + f"{problems} problems in {failed} files", err=True)
        sys.exit(1)
    click.echo(summary + "no problems", err=True)
