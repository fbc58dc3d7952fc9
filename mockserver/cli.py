"""The `refund-mock` command: `serve`, `scenarios list` and `fixtures` (imported when it runs)."""

from __future__ import annotations

import importlib
import json
import multiprocessing
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import click

from mockserver.cli_tls import ServerCertificate, server_certificate, tls_options, trust_lines
from mockserver.listen import CannotListen, bound_name, check_port_free, is_loopback, reach

if TYPE_CHECKING:
    from flask import Flask

T = TypeVar("T")

LATENCY = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?)\s*)?")


def _read_tokens(path: Path | None) -> dict[str, list[str]] | None:
    if path is None:
        return None
    from mockserver.safe_yaml import YamlRefused, load_yaml

    try:
        with open(path, encoding="utf-8") as handle:
            tokens = load_yaml(handle, str(path)) or {}  # no aliases: a few bytes of them expand to gigabytes
    except (YamlRefused, UnicodeDecodeError) as error:
        raise click.BadParameter(str(error), param_hint="--tokens") from error
    if not isinstance(tokens, dict) or not all(
        isinstance(scopes, list) and all(isinstance(scope, str) for scope in scopes) for scopes in tokens.values()
    ):
        raise click.BadParameter("expected a YAML mapping of token -> list of scopes", param_hint="--tokens")
    return {str(token): list(scopes) for token, scopes in tokens.items()}


def parse_latency(text: str | None) -> tuple[float, float] | None:
    """`50-200` or `100` milliseconds -> (low, high)."""
    if text is None:
        return None
    found = LATENCY.fullmatch(text)
    low = float(found.group(1)) if found else -1.0
    high = float(found.group(2)) if found and found.group(2) else low
    if not found or high < low or high > 60_000:
        raise click.BadParameter("expected milliseconds, LOW-HIGH (e.g. 50-200) or one number, at most 60000")
    return low, high


def check_admin_token(host: str, admin_token: str | None) -> None:
    """Off loopback, the admin API (reset, scenarios, journal) must not be open to the network."""
    if admin_token is None and not is_loopback(host):
        raise click.UsageError(
            f"--host {host} exposes the admin API (reset, scenarios, request journal) beyond this machine; "
            "give --admin-token TOKEN (or set REFUND_MOCK_ADMIN_TOKEN), and send it as X-Mock-Admin-Token"
        )
    if admin_token is not None and not admin_token.strip():
        raise click.BadParameter("the admin token cannot be empty", param_hint="--admin-token")


class LazyGroup(click.Group):
    """Imports a subcommand's module only when it runs: `serve` starts without loading Faker."""

    lazy_commands: ClassVar[dict[str, str]] = {
        "fixtures": "mockserver.fixtures:fixtures",
        "fuzz": "mockserver.fuzz:fuzz",
        "tls": "mockserver.cli_tls:tls",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            module, _, attribute = self.lazy_commands[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup)
@click.version_option(package_name="refund-mock")
def main() -> None:
    """refund-mock: Shopify and BigCommerce refund APIs, offline, from their OpenAPI specs."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind; loopback by default.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--fixtures",
    "fixtures_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder with <platform>/orders/*.json, *.yaml or <platform>/orders.ndjson, as `fixtures generate` "
    "writes them (default: the committed fixtures).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse to start when a fixture file is skipped or fails the consistency rules "
    "(without it: a warning per file, and /__mock/health says degraded).",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file that keeps state across restarts (default: a fresh temporary one).",
)
@click.option(
    "--tokens",
    "tokens_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="YAML mapping of token -> scopes; without it any non-empty token has every scope.",
)
@click.option("--validate-responses", is_flag=True, help="Check every response against the spec; log violations.")
@click.option(
    "--scenarios",
    "scenario_files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Scenario file (YAML) to load after the built-ins; repeat for several.",
)
@click.option("--latency", help="Milliseconds added to every platform answer: LOW-HIGH (50-200) or a fixed number.")
@click.option(
    "--journal-size",
    default=1000,
    show_default=True,
    type=click.IntRange(min=0),
    help="Requests kept in the journal (GET /__mock/requests); 0 turns it off.",
)
@click.option(
    "--session-idle",
    default=3600.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds without a request after which a named session (X-Mock-Session) is dropped.",
)
@click.option(
    "--admin-token",
    envvar="REFUND_MOCK_ADMIN_TOKEN",
    help="Token the admin API wants in X-Mock-Admin-Token; required when --host is not loopback.",
)
@click.option("--no-cors", is_flag=True, help="Do not answer CORS preflights nor echo Origin.")
@click.option(
    "--throttle",
    is_flag=True,
    help="Answer the platform's 429 once a call-limit bucket (Shopify) or rate window (BigCommerce) is spent. "
    "Without it the rate-limit headers still count, but no call is refused.",
)
@click.option(
    "--plan",
    "plans",
    multiple=True,
    type=click.Choice(["standard", "plus", "pro"]),
    help="Rate limits of a plan: plus = Shopify Plus (bucket 400, leaking 20/s), pro = BigCommerce Pro "
    "(450 per 30 s); standard (default) = 40 leaking 2/s and 150 per 30 s. Repeat for both: --plan plus --plan pro.",
)
@click.option(
    "--allowed-hosts",
    "allowed_hosts",
    multiple=True,
    envvar="REFUND_MOCK_ALLOWED_HOSTS",
    help="Host name the server answers besides localhost, *.localhost and IP addresses (a guard against "
    "DNS rebinding), e.g. a Docker service name; `.example.test` allows every name under it. Repeat or "
    "separate with commas.",
)
@click.option(
    "--admin-origins",
    "admin_origins",
    multiple=True,
    envvar="REFUND_MOCK_ADMIN_ORIGINS",
    help="Origin of a web page allowed to use the admin API (e.g. http://localhost:5173); other pages "
    "are refused. Repeat or separate with commas.",
)
@click.option(
    "--fresh-state",
    is_flag=True,
    help="With --state: start over from the fixtures, dropping what the state file kept from earlier runs.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Serve with N granian worker processes sharing one state (for load tests and big CI matrices). "
    "Without it: one process, threads, every fault kind. See docs/performance.md.",
)
@click.option(
    "--proxy",
    "proxy_text",
    metavar="PLATFORM=URL,...",
    help="Forward a platform's requests to the real store (shopify=https://{shop}.myshopify.com, "
    "bigcommerce=https://api.bigcommerce.com/stores/{hash}); requests and answers are checked against the spec "
    "and violations listed in the X-Mock-Violations header. Other platforms stay mocked.",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 512),
    help="With --workers: Python threads per worker (default 4, or 64 with --latency). A request waiting on "
    "--latency or a scenario delay holds one.",
)
@tls_options
@click.option(
    "--watch",
    is_flag=True,
    help="Reload edited fixture order files and --scenarios files while serving; a broken file is reported "
    "(log, /__mock/health) and its last good version stays served.",
)
def serve(
    host: str,
    port: int,
    fixtures_dir: Path | None,
    strict: bool,
    state_path: Path | None,
    tokens_path: Path | None,
    validate_responses: bool,
    scenario_files: tuple[Path, ...],
    latency: str | None,
    journal_size: int,
    session_idle: float,
    admin_token: str | None,
    no_cors: bool,
    throttle: bool,
    plans: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
    admin_origins: tuple[str, ...],
    fresh_state: bool,
    workers: int | None,
    proxy_text: str | None,
    threads: int | None,
    tls: bool,
    tls_dir: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    watch: bool,
) -> None:
    """Serve both platforms' refund APIs and the /__mock admin API."""
    check_admin_token(host, admin_token)
    certificate = server_certificate(tls, tls_dir, tls_cert, tls_key)
    proxy = _parse_proxy(proxy_text)
    if proxy and workers:
        raise click.UsageError(
            "--proxy goes without --workers (the proxy keeps the store's answers in its own journal)"
        )
    if threads is not None and not workers:
        raise click.UsageError("--threads goes with --workers (the single-process server starts a thread per request)")
    if fresh_state and state_path is None:
        raise click.UsageError("--fresh-state goes with --state (without it every run starts fresh)")
    try:
        check_port_free(host, port)  # before anything is announced or loaded
    except CannotListen as error:
        raise click.ClickException(str(error)) from None
    kept_state = state_path is not None and state_path.exists() and state_path.stat().st_size > 0
    if fresh_state and state_path is not None:
        remove_state(state_path)
        kept_state = False
    tokens, latency_ms = _read_tokens(tokens_path), parse_latency(latency)  # refused before any folder is made
    stop_on_sigterm()
    # With workers, the state file and the run folder (journal, run-time scenarios, counters)
    # are shared by the processes; without --state the state lives in the run folder too.
    run_dir = Path(tempfile.mkdtemp(prefix="refund-mock-run-")) if workers else None
    watcher: multiprocessing.process.BaseProcess | None = None
    settings = {
        "fixtures_dir": fixtures_dir,
        "strict_fixtures": strict,
        "log_fixture_problems": False,  # the banner names each file once
        "state_path": state_path or (run_dir / "state.sqlite3" if run_dir else None),
        "tokens": tokens,
        "validate_responses": validate_responses,
        "scenario_files": list(scenario_files),
        "latency_ms": latency_ms,
        "journal_size": journal_size,
        "session_idle": session_idle,
        "admin_token": admin_token,
        "cors": not no_cors,
        "throttle": throttle,
        "plans": plans,
        "allowed_hosts": split_list(allowed_hosts) + bound_name(host),  # the --host name answers, as in Vite
        "admin_origins": split_list(admin_origins),
        "run_dir": run_dir,
        "proxy": proxy,
    }
    notes = Notes(has_tokens=tokens is not None, kept_state=state_path if kept_state else None)
    app: Flask | None = None
    try:
        if not workers:
            from werkzeug.serving import run_simple

            from mockserver.serving import MockRequestHandler

            app = _start(host, port, None, settings, latency, threads, notes, certificate, watch)
            ssl_context = (str(certificate.cert_file), str(certificate.key_file)) if certificate else None
            run_simple(
                host,
                port,
                app,
                threaded=True,
                use_reloader=False,
                request_handler=MockRequestHandler,
                ssl_context=ssl_context,
            )  # returns on Ctrl-C and SIGTERM
            return
        # The fixtures are loaded into the state file by a short-lived child process, so that
        # the parent of the workers (which only supervises them) never holds the app, the
        # specs or the garbage of loading thousands of orders: its memory stays that of granian.
        worker_settings, worker_threads = _in_child(
            _prepare_workers, host, port, workers, settings, latency, threads, notes, certificate, watch
        )
        from mockserver.wsgi import run

        if watch:
            watcher = start_watcher_process(worker_settings, fixtures_dir, list(scenario_files))
        run(host, port, workers, worker_settings, worker_threads, certificate)  # granian stops on Ctrl-C and SIGTERM
    finally:
        if watcher is not None:
            watcher.terminate()
            watcher.join(10)
        if app is not None:
            from mockserver.app import server_of

            server_of(app).close()  # removes the temporary state of a run without --state
        if run_dir is not None:
            shutil.rmtree(run_dir, ignore_errors=True)


def split_list(values: tuple[str, ...]) -> list[str]:
    """Repeated options, each maybe comma-separated (as an environment variable gives them)."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def remove_state(state_path: Path) -> None:
    """`--fresh-state`: the state file and what SQLite and the store keep beside it."""
    for path in (state_path, *(Path(f"{state_path}{suffix}") for suffix in ("-wal", "-shm", "-writes"))):
        path.unlink(missing_ok=True)


def stop_on_sigterm() -> None:
    """SIGTERM (`docker stop`, `timeout`, CI runners) stops the server as Ctrl-C does.

    Python's default for SIGTERM ends the process on the spot, leaving the temporary state
    behind; as a KeyboardInterrupt the server returns and the `finally` of `serve` cleans up.
    (Under --workers granian installs its own handler once it starts, and stops as on Ctrl-C.)
    """

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


@dataclass(frozen=True)
class Notes:
    """What the banner says besides the URLs: how open the server is, and whether state was kept."""

    has_tokens: bool
    kept_state: Path | None  # a --state file that held orders before this run


def _start(
    host: str,
    port: int,
    workers: int | None,
    settings: dict[str, Any],
    latency: str | None,
    threads: int | None,
    notes: Notes | None = None,
    certificate: ServerCertificate | None = None,
    watch: bool = False,
) -> Flask:
    """Build the app (checking the scenario files, loading the fixtures) and print where it serves."""
    notes = notes or Notes(has_tokens=settings.get("tokens") is not None, kept_state=None)
    from mockserver.app import ConfigError, FixtureError, MockConfig, create_app, server_of
    from mockserver.scenarios import ScenarioError

    config = MockConfig(**settings)
    try:
        app = create_app(config)  # with workers: loads the fixtures once, here, before any worker starts
    except ScenarioError as error:
        raise click.ClickException(f"scenario file refused: {error.message}") from error
    except (ConfigError, FixtureError) as error:
        raise click.ClickException(str(error)) from error
    server = server_of(app)
    if watch:
        server.config.extra["watch"] = True  # the workers follow the watcher process (mockserver.watch)
    reachable = reach(host, port, "https" if certificate else "http")
    base = reachable.urls[0]
    if workers:
        from mockserver.wsgi import threads_for

        click.echo(
            f"refund-mock serving on {base}: {workers} worker processes, {threads_for(config, threads)} threads each"
        )
    else:
        click.echo(f"refund-mock serving on {base}")
    if reachable.wildcard:
        others = "  ".join(reachable.urls[1:]) or "(no other interface found)"
        click.echo(f"  {'and on every interface':<32} {others}")
    for name, platform in server.platforms.items():
        count = len(server.store.order_ids(name))
        click.echo(f"  {platform.title:<32} {base}{platform.base_path_example}  ({count} orders)")
    if config.throttle:
        click.echo("  rate limits enforced (--throttle): a spent bucket answers 429")
    token_note = "  (X-Mock-Admin-Token required)" if config.admin_token else ""
    click.echo(f"  {'admin API':<32} {base}/__mock/health{token_note}")
    for name, upstream in config.proxy.items():
        click.echo(f"  {name} proxied to {upstream} (violations in the X-Mock-Violations header)")
    scenarios = server.scenarios.all()
    from_files = sum(1 for scenario in scenarios if scenario.source == "file")
    click.echo(
        f"  {len(scenarios) - from_files} built-in and {from_files} file scenarios (header X-Mock-Scenario: <name>)"
        + (f"; latency {latency} ms" if latency else "")
    )
    if notes.kept_state is not None and server.orders_from_state:
        click.echo(
            f"  state kept from {notes.kept_state}: its {server.orders_from_state} orders are served as that earlier "
            "run left them (refunds included), not as the fixtures have them; --fresh-state starts over",
            err=True,
        )
    if not notes.has_tokens and not is_loopback(host):
        click.echo(
            f"  warning: without --tokens any non-empty token is accepted, with every scope, from anyone who can "
            f"reach {', '.join(reachable.urls[1:] if reachable.wildcard else reachable.urls) or base}; "
            "give --tokens tokens.yaml to choose them",
            err=True,
        )
    for problem in server.fixture_errors:
        click.echo(f"  skipped fixture {problem}", err=True)
    for problem in server.fixture_problems:
        click.echo(f"  warning: fixture served, but it fails the consistency rules: {problem}", err=True)
    for note in server.fixture_notes:
        click.echo(f"  warning: {note}", err=True)
    for problem in server.scenarios.problems:
        click.echo(f"  skipped built-in scenario: {problem}", err=True)
    if certificate is not None:
        for line in trust_lines(certificate):
            click.echo(f"  {line}")
        if certificate.ca_file is not None and not is_loopback(host):
            click.echo(
                f"  warning: the certificate names only localhost, 127.0.0.1 and ::1: clients reaching {host} "
                "by another name refuse it (serve your own with --tls-cert/--tls-key)",
                err=True,
            )
    if watch:
        click.echo(f"  watching {_watched(settings)} for changes (broken files: /__mock/health `watch`)")
        if not workers:
            from mockserver.openapi import data_dir
            from mockserver.watch import start_thread

            start_thread(server, settings["fixtures_dir"] or data_dir("fixtures"), settings["scenario_files"])
    return app


def _prepare_workers(
    host: str,
    port: int,
    workers: int,
    settings: dict[str, Any],
    latency: str | None,
    threads: int | None,
    notes: Notes,
    certificate: ServerCertificate | None = None,
    watch: bool = False,
) -> tuple[str, int]:
    """In the child: load the state and check the settings; returns what the workers are started with."""
    from mockserver.app import server_of
    from mockserver.wsgi import threads_for, worker_settings

    server = server_of(_start(host, port, workers, settings, latency, threads, notes, certificate, watch))
    if watch:
        from mockserver.watch import seed_shared

        seed_shared(server, settings["scenario_files"])
    prepared = (
        worker_settings(server.config, list(server.fixture_errors), list(server.fixture_problems)),
        threads_for(server.config, threads),
    )
    server.close()
    return prepared


def _in_child(function: Callable[..., T], *arguments: Any) -> T:
    """`function(*arguments)` in a forked process: its result, or its ClickException raised here."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(sender, function, arguments), name="refund-mock-prepare")
    child.start()
    sender.close()
    try:
        outcome, value = receiver.recv()
    except EOFError:
        outcome, value = "error", "the process loading the fixtures ended without an answer"
    except BaseException:  # Ctrl-C or SIGTERM while it loads: it goes too
        child.terminate()
        child.join()
        raise
    child.join()
    if outcome == "error":
        raise click.ClickException(value)
    return value


def _child_main(sender: Connection, function: Callable[..., Any], arguments: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent stops it with SIGTERM when interrupted
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ...Ctrl-C included
    try:
        sender.send(("ok", function(*arguments)))
    except click.ClickException as error:
        sender.send(("error", error.message))
    except Exception as error:  # anything else: the parent says what, the child's traceback is on stderr
        sender.send(("error", f"start-up failed: {type(error).__name__}: {error}"))
        raise
    finally:
        sender.close()


def _url_host(host: str) -> str:
    """`::1` -> `[::1]`, as a URL writes an IPv6 address."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _watched(settings: dict[str, Any]) -> str:
    fixtures = settings["fixtures_dir"] or "the committed fixtures"
    files = [str(path) for path in settings["scenario_files"]]
    return ", ".join([f"{fixtures} (orders)", *files])


def start_watcher_process(
    settings: str, fixtures_dir: Path | None, scenario_files: list[Path]
) -> multiprocessing.process.BaseProcess:
    """`serve --watch --workers N`: one forked process reloads for every worker (mockserver.watch)."""
    import os

    from mockserver.openapi import data_dir
    from mockserver.watch import READY_TIMEOUT, run_watcher_process

    context = multiprocessing.get_context("fork")
    ready = context.Event()
    arguments = (settings, fixtures_dir or data_dir("fixtures"), scenario_files, os.getpid(), ready)
    process = context.Process(target=run_watcher_process, args=arguments, name="refund-mock-watch", daemon=True)
    process.start()
    ready.wait(READY_TIMEOUT)  # watching before the workers answer: an edit made at once is not missed
    return process


def _parse_proxy(text: str | None) -> dict[str, str]:
    from mockserver.contract.proxy import ProxyError, parse_proxy

    try:
        return parse_proxy(text, {"shopify", "bigcommerce"})
    except ProxyError as error:
        raise click.BadParameter(str(error), param_hint="--proxy") from error


# -- record and verify: the mock against a real store ----------------------------------------------

PLATFORM_CHOICE = click.Choice(["shopify", "bigcommerce"])
STORE_URL_HELP = "The shop's address (https://{shop}.myshopify.com) or the store's API base (https://api.bigcommerce.com/stores/{hash})."
TOKEN_HELP = "The store's access token (Shopify Admin API token, BigCommerce X-Auth-Token); or REFUND_MOCK_STORE_TOKEN."


def _store_client(platform: str, url: str, token: str) -> Any:
    from urllib.parse import urlsplit

    from mockserver.contract.http import StoreClient

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="--url")
    if not token.strip():
        raise click.BadParameter("the token cannot be empty", param_hint="--token")
    return StoreClient(platform, url, token, note=lambda message: click.echo(f"  {message}", err=True))


def _unreachable(url: str, error: Exception) -> click.ClickException:
    return click.ClickException(f"cannot read the store at {url}: {type(error).__name__}: {error}")


@main.command()
@click.option("--platform", type=PLATFORM_CHOICE, required=True)
@click.option("--url", required=True, help=STORE_URL_HELP)
@click.option("--token", envvar="REFUND_MOCK_STORE_TOKEN", required=True, help=TOKEN_HELP)
@click.option("--orders", "order_list", metavar="ID,...", help="The orders to record.")
@click.option("--since", metavar="DATE", help="Record orders created at or after DATE (ISO 8601) instead.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="With --since: how many.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Fixtures folder.")
@click.option(
    "--anonymize", is_flag=True, help="Replace names, e-mails, addresses and phones (never money, ids, dates)."
)
@click.option("--anonymize-seed", default="refund-mock", show_default=True, help="Seed of the replacements.")
def record(
    platform: str,
    url: str,
    token: str,
    order_list: str | None,
    since: str | None,
    limit: int,
    out: Path,
    anonymize: bool,
    anonymize_seed: str,
) -> None:
    """Copy a store's orders into fixture documents (OUT/<platform>/orders/<id>.json), reading only."""
    import requests

    from mockserver.contract.anonymize import Anonymizer
    from mockserver.contract.record import RecordError, order_ids, record_orders
    from mockserver.fixtures import Validator

    if (order_list is None) == (since is None):
        raise click.UsageError("give either --orders ID,... or --since DATE (with --limit N)")
    ids: list[int] = []
    for part in (order_list or "").split(","):
        if part.strip():
            if not part.strip().isdigit():
                raise click.BadParameter(f"{part.strip()!r} is not an order id", param_hint="--orders")
            ids.append(int(part))
    client = _store_client(platform, url, token)
    progress = lambda message: click.echo(message, err=True)  # noqa: E731
    try:
        if since is not None:
            ids = order_ids(client, since, limit)
            progress(f"{len(ids)} {platform} orders created since {since}")
        anonymizer = Anonymizer(anonymize_seed) if anonymize else None
        recording = record_orders(client, ids, out, anonymizer=anonymizer, progress=progress)
    except requests.RequestException as error:
        raise _unreachable(url, error) from error
    except RecordError as error:
        raise click.ClickException(str(error)) from error
    finally:
        client.close()
    validator = Validator()
    problems = 0
    for path in recording.written:
        document = json.loads(path.read_text(encoding="utf-8"))
        for field, reason in validator.order_problems(platform, str(path), path, document):
            click.echo(f"{path}: {field}: {reason}", err=True)
            problems += 1
    click.echo(f"{len(recording.written)} {platform} orders written to {out / platform / 'orders'}")
    if recording.failures or problems:
        click.echo(f"{len(recording.failures)} orders not read, {problems} problems in the written documents", err=True)
        sys.exit(1)


@main.command()
@click.option("--platform", type=PLATFORM_CHOICE, required=True)
@click.option("--url", required=True, help=STORE_URL_HELP)
@click.option("--token", envvar="REFUND_MOCK_STORE_TOKEN", required=True, help=TOKEN_HELP)
@click.option(
    "--fixtures",
    "fixtures_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    required=True,
    help="The folder `refund-mock record` wrote.",
)
@click.option(
    "--json-report",
    type=click.Path(dir_okay=False, path_type=Path),
    default="refund-mock-verify.json",
    show_default=True,
)
@click.option(
    "--junit", type=click.Path(dir_okay=False, path_type=Path), default="refund-mock-verify.xml", show_default=True
)
def verify(platform: str, url: str, token: str, fixtures_dir: Path, json_report: Path, junit: Path) -> None:
    """Ask the store and the mock the same quotes for each recorded order; exit 1 on any difference.

    Only calculate (Shopify) and refund quotes (BigCommerce) are sent: nothing is written to the store.
    """
    import requests

    from mockserver.contract.verify import read_recorded, table, verify_orders, write_reports

    documents = read_recorded(fixtures_dir, platform)
    if not documents:
        raise click.UsageError(f"no {platform} orders under {fixtures_dir} (expected {platform}/orders/*.json)")
    client = _store_client(platform, url, token)
    try:
        reports = verify_orders(client, documents, progress=lambda message: click.echo(message, err=True))
    except requests.RequestException as error:
        raise _unreachable(url, error) from error
    finally:
        client.close()
    click.echo(table(reports, platform))
    write_reports(reports, platform, url, json_report, junit)
    failed = [report.order_id for report in reports if not report.passed]
    checks = sum(len(report.checks) for report in reports)
    click.echo(f"{len(reports)} orders, {checks} requests: {len(failed)} orders differ; reports {json_report}, {junit}")
    if failed:
        sys.exit(1)


@main.group()
def scenarios() -> None:
    """Scripted answers: the built-in library and your scenario files."""


@scenarios.command("list")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, exists=True, path_type=Path))
def list_scenarios(files: tuple[Path, ...]) -> None:
    """One line per scenario: the built-ins, then those of FILES (checked against the specs)."""
    from mockserver.app import MockConfig, create_app, server_of
    from mockserver.scenarios import ScenarioError

    try:
        app = create_app(MockConfig(load_fixtures=False, scenario_files=list(files), journal_size=0))
    except ScenarioError as error:
        raise click.ClickException(f"scenario file refused: {error.message}") from error
    server = server_of(app)
    try:
        loaded = server.scenarios.all()
        width = max((len(scenario.name) for scenario in loaded), default=0)
        for scenario in loaded:
            origin = f"  [{scenario.file}]" if scenario.file else ""
            active = "  (active)" if scenario.active else ""
            click.echo(f"{scenario.name:<{width}}  {scenario.description}{origin}{active}")
        for problem in server.scenarios.problems:
            click.echo(f"skipped built-in scenario: {problem}", err=True)
    finally:
        server.store.close()


if __name__ == "__main__":
    main()
