"""`refund-mock fuzz`: the checks refund-mock passes, run against any server that claims its specs.

One runner serves three callers: this command (a URL), the test suite (the Flask app, called
in-process through WSGI) and `scripts/fuzz` (more examples, a fresh seed). It drives
Schemathesis's own engine, the one behind `schemathesis run`, with the settings of
`schemathesis.toml`, so every caller judges a server by the same rules and counts cases the
same way. Schemathesis is a test dependency: `pip install 'refund-mock[test]'`.
"""

from __future__ import annotations

import re
import time
import tomllib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mockserver.openapi import data_dir

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from schemathesis.cli.commands.run.context import ExecutionContext
    from schemathesis.cli.events import LoadingFinished
    from schemathesis.config import SchemathesisConfig

PACKAGE_DIR = Path(__file__).resolve().parent
SETTINGS_NAME = "schemathesis.toml"
SPEC_FILES = {"shopify": "shopify-2020-10.yaml", "bigcommerce": "bigcommerce-v3.yaml", "admin": "admin.yaml"}
PLATFORMS = ("shopify", "bigcommerce")
PHASES = ("examples", "coverage", "fuzzing", "stateful")
CONTRACT_TOKEN = "refund-mock-contract"  # the token schemathesis.toml sends
REPORT_FORMATS = ("junit", "ndjson")
GRAPHQL_PLATFORM = "shopify-graphql"  # `fuzz --platform`: the GraphQL Admin endpoint, from its SDL
GRAPHQL_TOKEN_HEADER = "X-Shopify-Access-Token"
DEFAULT_GRAPHQL_VERSION = "2026-10"


def settings_file() -> Path:
    """`schemathesis.toml`: inside an installed wheel, or at the root of a source checkout."""
    for candidate in (PACKAGE_DIR / SETTINGS_NAME, PACKAGE_DIR.parent / SETTINGS_NAME):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"cannot find {SETTINGS_NAME} beside the mockserver package")


def spec_file(name: str) -> Path:
    return data_dir("specs") / SPEC_FILES[name]


def every_scope() -> list[str]:
    """Every scope the platform specs' operations ask for."""
    from mockserver.openapi import load_spec

    scopes: set[str] = set()
    for name in PLATFORMS:
        for operation in load_spec(spec_file(name)).operations.values():
            scopes.update(scope for alternative in operation.required_scopes() for scope in alternative)
    return sorted(scopes)


def contract_tokens(token: str = CONTRACT_TOKEN) -> dict[str, list[str]]:
    """`serve --tokens` content for a contract run: one token with every scope, nothing else.

    The `ignored_auth` check sends requests with a wrong token and expects a 401; a mock that
    accepts any token (its default, convenient for local work) would rightly fail it.
    """
    return {token: every_scope()}


def build_config(
    *,
    token: str | None = None,
    max_examples: int | None = None,
    seed: int | None = None,
) -> SchemathesisConfig:
    """The settings of `schemathesis.toml`, with this run's token, case budget and seed."""
    from schemathesis.config import SchemathesisConfig

    path = settings_file()
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    if token is not None:
        for project in data.get("project", []):
            for scheme in project.get("auth", {}).get("openapi", {}).values():
                scheme["api_key"] = token
    if max_examples is not None:
        _scale_budgets(data, max_examples)
    if seed is not None:
        data["seed"] = seed
    return SchemathesisConfig.from_dict(data, base_dir=str(path.parent))


def _scale_budgets(data: dict[str, Any], max_examples: int) -> None:
    """Set the run's budget, and scale the per-phase budgets of the projects by the same factor."""
    generation = data.setdefault("generation", {})
    factor = max_examples / generation.get("max-examples", max_examples)
    generation["max-examples"] = max_examples
    for project in data.get("project", []):
        for phase in project.get("phases", {}).values():
            budget = phase.get("generation", {}).get("max-examples")
            if budget is not None:
                phase["generation"]["max-examples"] = max(1, round(budget * factor))


@dataclass
class FoundFailure:
    """One failing case: what broke, what the server answered, and how to send it again."""

    operation: str
    problems: list[tuple[str, str]]  # (title, message), e.g. ("Response violates schema", "...")
    status: int | None
    curl: str | None

    def render(self, index: int) -> str:
        lines = [f"{index}. {self.operation}" + (f" -> {self.status}" if self.status is not None else "")]
        for title, message in self.problems:
            lines.append(f"   {title}")
            lines.extend(f"     {line}" for line in message.strip().splitlines()[:12] if line.strip())
        if self.curl:
            lines.append("   Reproduce with:")
            lines.append(f"     {self.curl}")
        return "\n".join(lines)


@dataclass
class ContractRun:
    """What one run of the checks against one spec found."""

    spec: str
    target: str
    seed: int
    cases: dict[str, int] = field(default_factory=dict)  # generated cases per phase
    failures: list[FoundFailure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    operations_tested: int = 0
    operations_total: int = 0
    links_total: int = 0  # OpenAPI links (declared and inferred) the stateful phase could follow
    links_followed: list[str] = field(default_factory=list)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)  # operation -> status -> answers
    seconds: float = 0.0

    @property
    def total_cases(self) -> int:
        return sum(self.cases.values())

    @property
    def passed(self) -> bool:
        return not self.failures and not self.errors and self.total_cases > 0

    def headline(self) -> str:
        phases = ", ".join(f"{phase} {self.cases.get(phase, 0)}" for phase in PHASES)
        verdict = "passed" if self.passed else f"{_count(self.failures, 'failure')}, {_count(self.errors, 'error')}"
        return (
            f"{self.spec}: {self.total_cases} cases ({phases}), {verdict}; "
            f"{self.operations_tested}/{self.operations_total} operations, "
            f"links {len(self.links_followed)}/{self.links_total} followed, "
            f"{self.seconds:.1f}s, seed {self.seed}"
        )

    def report(self) -> str:
        """The summary a person reads: the counts, the answers, then each failure with its curl command."""
        answers = "\n".join(
            f"    {operation}: " + ", ".join(f"{count}x {status}" for status, count in sorted(counter.items()))
            for operation, counter in sorted(self.statuses.items())
        )
        parts = [f"{self.headline()}\n  target: {self.target}\n  answers:\n{answers}"]
        for index, failure in enumerate(self.failures, 1):
            parts.append(failure.render(index))
        for error in self.errors:
            parts.append(f"error: {error}")
        return "\n\n".join(parts)


class _Tally:
    """Reads the engine's events into a `ContractRun`: cases per phase, answers, links, errors."""

    def __init__(self, run: ContractRun, *, http: bool):
        self.run = run
        self.http = http
        self.links_followed: set[str] = set()
        self.errors_seen: set[str] = set()

    def observe(self, event: Any) -> None:
        from schemathesis.engine import events

        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            self._scenario(event)
        elif isinstance(event, events.PhaseStarted) and event.payload is not None:
            self.run.links_total = max(self.run.links_total, event.payload.transitions_total)
        elif isinstance(event, events.NonFatalError):
            self._error(f"{event.label}: {event.info.format(base_url_is_set=self.http)}")
        elif isinstance(event, events.FatalError):
            self._error(f"fatal: {event.exception!r}")

    def _scenario(self, event: Any) -> None:
        recorder = event.recorder
        phase = event.phase.value
        self.run.cases[phase] = self.run.cases.get(phase, 0) + len(recorder.cases)
        for case_id, node in recorder.cases.items():
            interaction = recorder.interactions.get(case_id)
            if interaction is not None and interaction.response is not None:
                counter = self.run.statuses.setdefault(node.value.operation.label, Counter())
                counter[interaction.response.status_code] += 1
            if node.transition is not None and node.is_transition_applied:
                self.links_followed.add(node.transition.id)

    def _error(self, text: str) -> None:
        """The same error on many cases is reported once."""
        first_lines = "\n".join(text.splitlines()[:3])
        if first_lines not in self.errors_seen:
            self.errors_seen.add(first_lines)
            self.run.errors.append(text)


def _count(items: list[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _with_token_placeholder(curl: str) -> str:
    """Sanitised tokens come out as `[Filtered]`; turn them into `$TOKEN` so the command can be pasted."""
    return re.sub(r"-H '([A-Za-z-]+): \[Filtered\]'", r'-H "\1: $TOKEN"', curl)


def _failures(statistic: Any) -> Iterator[FoundFailure]:
    for label, grouped in statistic.failures.items():
        for group in grouped.values():
            response = group.response
            yield FoundFailure(
                operation=label,
                problems=[(failure.title, failure.message) for failure in group.failures],
                status=response.status_code if response is not None else None,
                curl=_with_token_placeholder(group.code_sample) if group.code_sample else None,
            )


def _report_handlers(spec: str, report: tuple[str, Path] | None, config: Any) -> list[Any]:
    if report is None:
        return []
    from schemathesis.cli.commands.run.handlers.junitxml import JunitXMLHandler
    from schemathesis.cli.commands.run.handlers.ndjson import NdjsonHandler

    kind, directory = report
    directory.mkdir(parents=True, exist_ok=True)
    if kind == "junit":
        return [JunitXMLHandler(directory / f"{spec}-junit.xml")]
    return [NdjsonHandler(directory / f"{spec}.ndjson", config)]


@contextmanager
def _in_process_probes() -> Iterator[None]:
    """Let `ignored_auth` send its probe (the request again, without the token) to a WSGI app.

    Schemathesis 4.32 strips the requests session from that probe but keeps the socket-level
    settings (max_redirects, verify, cert, proxies) that only a session understands, and
    werkzeug's test client refuses them with a TypeError. They mean nothing in-process, so
    they are dropped for the duration of an in-process run; HTTP runs are untouched.
    """
    from schemathesis.transport.wsgi import WSGITransport

    original = WSGITransport.send

    def send(self: Any, case: Any, *, session: Any = None, **kwargs: Any) -> Any:
        if session is None:
            for name in ("max_redirects", "verify", "cert", "proxies"):
                kwargs.pop(name, None)
        return original(self, case, session=session, **kwargs)

    WSGITransport.send = send  # type: ignore[method-assign]
    try:
        yield
    finally:
        WSGITransport.send = original  # type: ignore[method-assign]


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@contextmanager
def seed_only_generation() -> Iterator[None]:
    """Make a run's cases depend on its seed, not on which of our modules are imported.

    Hypothesis now and then (p=0.05 a draw) draws a constant it collected from the source of
    every *local* module in `sys.modules` (`providers._get_local_constants`): from a checkout,
    every `mockserver` module imported so far. So one seed generated different cases after
    another run had imported more of them (the Shopify or GraphQL modules), and after any edit of
    an unrelated string literal; installed from a wheel (site-packages) it collects none. The pool
    is empty for the run, as from a wheel, and the run has its own cache of the constants each
    draw kind permits (Hypothesis' is thread-local and would keep an earlier test's pool).
    Private to Hypothesis: if it is renamed, nothing is patched and the determinism test fails.
    """
    from hypothesis.internal.conjecture import providers

    collect = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if collect is None or cache is None:
        yield
        return
    empty = providers.Constants()
    providers._get_local_constants = lambda: empty
    providers.CONSTANTS_CACHE = type(cache)(cache.max_size)  # a fresh one, for every thread of the run
    try:
        yield
    finally:
        providers._get_local_constants = collect
        providers.CONSTANTS_CACHE = cache


def run_contract(
    spec: str,
    *,
    config: SchemathesisConfig,
    base_url: str | None = None,
    app: Any = None,
    report: tuple[str, Path] | None = None,
) -> ContractRun:
    """Run every check of every phase on the operations of `spec` (shopify, bigcommerce or admin).

    Give `base_url` to test a server over HTTP, or `app` (a WSGI app) to call it in-process.
    """
    import schemathesis
    from schemathesis.cli.commands.run.context import ExecutionContext
    from schemathesis.cli.events import LoadingFinished

    if (base_url is None) == (app is None):
        raise ValueError("give either base_url or app")
    started = time.perf_counter()
    schema = schemathesis.openapi.from_path(spec_file(spec), config=config)
    if app is not None:
        schema.app = app
    else:
        schema.config.update(base_url=base_url)
    context = ExecutionContext(config=schema.config)
    handlers = _report_handlers(spec, report, schema.config)
    run = ContractRun(spec=spec, target=base_url or "in-process (WSGI)", seed=config.seed)
    loaded = LoadingFinished.from_schema(
        schema, location=str(spec_file(spec)), start_time=time.time(), base_url=base_url or ""
    )
    tally = _Tally(run, http=base_url is not None)
    _drive(schema, context, handlers, loaded, tally, _in_process_probes() if app is not None else _nothing())
    _tested(run, schema, context, started)
    run.links_followed = sorted(tally.links_followed)
    return run


def _drive(
    schema: Any,
    context: ExecutionContext,
    handlers: list[Any],
    loaded: LoadingFinished,
    tally: _Tally,
    probes: AbstractContextManager[None],
) -> None:
    """Run schemathesis' engine over `schema`, every event to the report writers and the tally."""
    from schemathesis.engine import from_schema

    for handler in handlers:
        handler.start(context)
    try:
        with probes, seed_only_generation():
            for event in chain([loaded], from_schema(schema).execute()):
                context.on_event(event)
                for handler in handlers:
                    handler.handle_event(context, event)
                tally.observe(event)
    finally:
        for handler in handlers:
            handler.shutdown(context)


def _tested(run: ContractRun, schema: Any, context: ExecutionContext, started: float) -> None:
    """What the engine's statistic says of a finished run: failures, operations, time."""
    statistic = context.statistic
    run.failures = list(_failures(statistic))
    run.operations_tested = len(statistic.tested_operations)
    run.operations_total = schema.statistic.operations.total
    run.seconds = time.perf_counter() - started


REACH_TIMEOUT = 3.0  # seconds to open a connection before the run is given up


def check_reachable(url: str) -> None:
    """One line and exit code 1 when `url` is not an http(s) URL or nothing answers there.

    Without it, Schemathesis would try every case against a dead address, each one failing
    after its own timeout, and print a page of connection errors.
    """
    import socket
    from urllib.parse import urlsplit

    example = "e.g. http://127.0.0.1:8080"
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise click.ClickException(f"--url {url!r} is not a valid URL ({error}); {example}") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.ClickException(f"--url {url!r} is not an http:// or https:// URL with a host; {example}")
    try:
        with socket.create_connection((parts.hostname, port), timeout=REACH_TIMEOUT):
            pass
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise click.ClickException(f"cannot reach {url}: {reason} (is the server running?)") from error


@click.command()
@click.option(
    "--platform",
    "platform",
    required=True,
    type=click.Choice(["shopify", "bigcommerce", "admin", GRAPHQL_PLATFORM]),
    help="Which spec the server claims to implement (shopify-graphql: the GraphQL Admin SDL).",
)
@click.option(
    "--api-version",
    default=DEFAULT_GRAPHQL_VERSION,
    show_default=True,
    help="With --platform shopify-graphql: the GraphQL Admin version whose SDL is fuzzed.",
)
@click.option("--url", required=True, help="Base URL of the server, e.g. http://127.0.0.1:8080.")
@click.option("--token", help="Access token to send (X-Shopify-Access-Token or X-Auth-Token).")
@click.option("--max-examples", type=click.IntRange(min=1), help="Fuzzing cases per operation (default: the toml's).")
@click.option("--seed", type=int, help="Reproduce an earlier run (its seed is printed in the summary).")
@click.option(
    "--report",
    nargs=2,
    type=(click.Choice(REPORT_FORMATS), click.Path(file_okay=False, path_type=Path)),
    help="Also write a report: junit or ndjson, and the folder to write it to.",
)
def fuzz(
    platform: str,
    api_version: str,
    url: str,
    token: str | None,
    max_examples: int | None,
    seed: int | None,
    report: tuple[str, Path] | None,
) -> None:
    """Check a server against a refund-mock spec with every Schemathesis check.

    Runs the examples, coverage, fuzzing and stateful phases with the settings of
    schemathesis.toml, prints each failure with a curl command that reproduces it, and exits 1
    when anything failed.
    """
    check_reachable(url)
    try:
        config = build_config(token=token, max_examples=max_examples, seed=seed)
    except ImportError as error:
        raise click.ClickException(
            f"refund-mock fuzz needs Schemathesis ({error}); install it with pip install 'refund-mock[test]'"
        ) from error
    if platform == GRAPHQL_PLATFORM:
        from mockserver.shopify.graphql.versions import SERVED_VERSIONS

        if api_version not in SERVED_VERSIONS:
            raise click.BadParameter(f"one of {', '.join(SERVED_VERSIONS)}", param_hint="--api-version")
        click.echo(f"Checking {url}{graphql_path(api_version)} against the GraphQL Admin SDL {api_version}...")
        run = run_graphql_contract(
            config=config, version=api_version, token=token or CONTRACT_TOKEN, base_url=url.rstrip("/"), report=report
        )
    else:
        click.echo(f"Checking {url} against {SPEC_FILES[platform]} (schemathesis, all checks, all phases)...")
        run = run_contract(platform, config=config, base_url=url.rstrip("/"), report=report)
    click.echo(run.report())
    if report is not None:
        click.echo(f"\n{report[0]} report written to {report[1]}")
    if any(failure.curl and "$TOKEN" in failure.curl for failure in run.failures):
        click.echo("\n(The curl commands read your token from $TOKEN.)")
    if not run.passed:
        raise SystemExit(1)


# -- GraphQL ---------------------------------------------------------------------------------------


def graphql_path(version: str) -> str:
    return f"/admin/api/{version}/graphql.json"


def fixture_global_ids() -> list[str]:
    """Global ids of the committed Shopify fixtures: orders, their lines and transactions."""
    import json

    ids: list[str] = []
    for path in sorted((data_dir("fixtures") / "shopify" / "orders").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        order = document["order"]
        ids.append(f"gid://shopify/Order/{order['id']}")
        ids.extend(f"gid://shopify/LineItem/{line['id']}" for line in order.get("line_items", []))
        ids.extend(f"gid://shopify/OrderTransaction/{t['id']}" for t in document.get("transactions", []))
        ids.extend(f"gid://shopify/Refund/{refund['id']}" for refund in order.get("refunds", []))
    return ids


def _register_graphql_scalars() -> None:
    """Values for the Shopify scalars of the SDL, which Schemathesis cannot guess, and ids that
    mostly name the fixtures' orders, lines and transactions (so queries reach the resolvers
    below the root), sometimes anything at all."""
    import schemathesis
    from hypothesis import strategies as st
    from schemathesis.graphql import nodes

    known = fixture_global_ids()
    if known:
        ids = st.one_of(st.sampled_from(known), st.sampled_from(known), st.text(max_size=40))
        schemathesis.graphql.scalar("ID", ids.map(nodes.String))

    amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False, allow_infinity=False)
    schemathesis.graphql.scalar("Decimal", amounts.map(lambda amount: nodes.String(str(amount))))
    schemathesis.graphql.scalar("Money", amounts.map(lambda amount: nodes.String(str(amount))))
    moments = st.datetimes().map(lambda moment: nodes.String(moment.replace(microsecond=0).isoformat() + "Z"))
    schemathesis.graphql.scalar("DateTime", moments)
    schemathesis.graphql.scalar(
        "UnsignedInt64", st.integers(0, 2**63 - 1).map(lambda number: nodes.String(str(number)))
    )


def run_graphql_contract(
    *,
    config: SchemathesisConfig,
    version: str = DEFAULT_GRAPHQL_VERSION,
    token: str = CONTRACT_TOKEN,
    base_url: str | None = None,
    app: Any = None,
    report: tuple[str, Path] | None = None,
) -> ContractRun:
    """Fuzz the GraphQL Admin endpoint of one version with queries and mutations drawn from its SDL.

    Schemathesis reads the schema the mock executes (`specs/shopify-admin-*.graphql` of that
    version) and sends what it generates to `/admin/api/<version>/graphql.json`; every GraphQL
    answer must be HTTP 200 with `data` or `errors`, never a server error.
    """
    import schemathesis
    from graphql import print_schema
    from schemathesis.cli.commands.run.context import ExecutionContext
    from schemathesis.cli.events import LoadingFinished

    from mockserver.shopify.graphql.schema import schema_for

    if (base_url is None) == (app is None):
        raise ValueError("give either base_url or app")
    _register_graphql_scalars()
    started = time.perf_counter()
    schema = schemathesis.graphql.from_file(print_schema(schema_for(version)), config=config)
    target = f"{base_url or 'http://localhost'}{graphql_path(version)}"
    if app is not None:
        schema.app = app
    schema.config.update(base_url=target, headers={GRAPHQL_TOKEN_HEADER: token})
    # Any string is an `ID!` to the schema, but only a global id of an order names one: a query
    # for `order(id: "abc")` is rightly refused (`BAD_REQUEST`, data null), as Shopify refuses it.
    # So "a schema-valid query must be accepted" cannot hold here; every other check runs.
    schema.config.checks.positive_data_acceptance.enabled = False
    context = ExecutionContext(config=schema.config)
    label = f"{GRAPHQL_PLATFORM}-{version}"
    handlers = _report_handlers(label, report, schema.config)
    run = ContractRun(spec=label, target=target if base_url else "in-process (WSGI)", seed=config.seed)
    loaded = LoadingFinished.from_schema(schema, location=target, start_time=time.time(), base_url=target)
    tally = _Tally(run, http=base_url is not None)
    _drive(schema, context, handlers, loaded, tally, _nothing())
    _tested(run, schema, context, started)
    return run
