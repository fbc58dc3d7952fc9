"""The Flask app factory and the one request pipeline every spec operation goes through.

Rate limit -> route -> auth -> content type and size -> JSON parse -> validation against the spec -> scripted
answer (a scenario named by `X-Mock-Scenario`, an active scenario, or a Prism-style `Prefer`), else
the handler -> response checked against the spec -> JSON (with the rate-limit headers) -> latency
-> journal. Each step lives
here once; platforms only supply handlers and their error shapes. A request without scenario
headers, while no scenario is active, costs a few dictionary lookups more than the bare pipeline.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from flask import Flask, Request, Response, request
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.sansio.utils import get_content_length

from mockserver import dashboard, faults
from mockserver.bodies import BodyProblem, decode_json, read_at_most, strip_bom
from mockserver.cors import install_cors
from mockserver.faults import JSON_CONTENT_TYPE
from mockserver.guard import install_guard
from mockserver.journal import DEFAULT_SIZE as DEFAULT_JOURNAL_SIZE
from mockserver.journal import MAX_BODY_BYTES as JOURNAL_BODY_BYTES
from mockserver.journal import Journal, SharedJournal, response_json_of
from mockserver.limits import install_url_limit
from mockserver.openapi import Operation, Spec, data_dir, load_spec
from mockserver.platform import Api, MockHTTPError, Platform, Reply, RequestContext, Violation
from mockserver.prefer import Choice, ExampleChooser, PreferenceError, parse_prefer, parse_query
from mockserver.ratelimit import TABLE_FILE, RateLimits, with_rate_limit_headers
from mockserver.scenarios import Action, Catalog, Probe, ScenarioBook, UnknownScenario, selected_names
from mockserver.sessions import DEFAULT_IDLE_SECONDS, SESSION_KEY, Sessions, install_sessions
from mockserver.sessions import HEADER as SESSION_HEADER
from mockserver.store import Store

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

    from mockserver.watch import WatchReport

log = logging.getLogger("refund_mock")

ROUTED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
JSON_MIMETYPE = "application/json"
_BUILT_HEADERS = frozenset({"content-type", "content-length"})  # what `respond` writes itself
ADMIN_TOKEN_HEADER = "X-Mock-Admin-Token"
THROTTLED_BY = "serve --throttle"  # the journal's `scenario` of a 429 the rate limit answered
INTERNAL_ERROR_MESSAGE = "An unexpected error occurred"  # Shopify's words for its own 500s
OPEN_ADMIN_OPERATIONS = frozenset({"getHealth"})  # container health checks need no secret
BODY_KEY = "refund_mock.body"  # the parsed request body, kept in the environ for the journal
RAW_BODY_KEY = "refund_mock.raw_body"  # ...and the bytes it was parsed from
CANNOT_DROP_CONNECTIONS = (
    "The {} fault needs `refund-mock serve` without --workers: the multi-process server "
    "does not let the mock drop a connection"
)


class ConfigError(ValueError):
    """A setting the server cannot start with; the message names it and what it accepts."""


class FixtureError(ValueError):
    """The fixtures cannot be served as asked (nothing loadable, or `--strict` and a bad file)."""


class ResponseContractError(AssertionError):
    """The server produced a response its own spec rejects (raised when responses are strict)."""


@dataclass
class MockConfig:
    """How to run the mock; everything has a default that works out of the box."""

    fixtures_dir: Path | None = None  # None: the committed fixtures
    state_path: Path | None = None  # None: a fresh temporary SQLite database per run
    tokens: dict[str, list[str]] | None = None  # None: any non-empty token, with every scope
    validate_responses: bool = False  # check each response against the spec, report violations
    strict_responses: bool = False  # ...and raise on a violation (the test suite sets this)
    strict_fixtures: bool = False  # `serve --strict`: a skipped or inconsistent fixture file stops start-up
    log_fixture_problems: bool = True  # a warning per skipped or inconsistent file (False: the caller says it)
    max_body_bytes: int = 1 << 20
    load_fixtures: bool = True
    scenario_files: list[Path] = field(default_factory=list)  # loaded at start-up, after the built-ins
    builtin_scenarios: bool = True
    latency_ms: tuple[float, float] | None = None  # (low, high) added to every platform answer
    journal_size: int = DEFAULT_JOURNAL_SIZE  # 0 turns the journal off
    admin_token: str | None = None  # when set, the admin API (but health) wants it in X-Mock-Admin-Token
    cors: bool = True
    # Host names answered besides localhost, *.localhost and IP addresses (`.example.test`: and
    # every name under it), and the origins whose pages may use the admin API (mockserver.guard)
    allowed_hosts: list[str] = field(default_factory=list)
    admin_origins: list[str] = field(default_factory=list)
    # Set by `serve --workers N` (mockserver.wsgi): the run folder where the worker processes
    # share the journal, run-time scenarios and rule counters (mockserver.shared).
    run_dir: Path | None = None
    # False under a server that does not hand the connection to the app (granian): the
    # `connection-reset` and `empty-response` faults then answer 501 saying so.
    connection_faults: bool = True
    # Rate limits (mockserver.ratelimit): every platform answer reports its bucket; with
    # `throttle`, a spent bucket answers the platform's 429. `plans` names the plans whose
    # limits apply (`plus`: Shopify Plus; `pro`: BigCommerce Pro), the standard ones otherwise.
    throttle: bool = False
    plans: tuple[str, ...] = ()
    # `serve --proxy`: platform name -> the real store's URL; that platform's requests are
    # forwarded there and checked against the spec (mockserver.contract.proxy).
    proxy: dict[str, str] = field(default_factory=dict)
    # Named sessions (mockserver.sessions) are dropped after this many seconds without a request.
    session_idle: float = DEFAULT_IDLE_SECONDS
    extra: dict[str, Any] = field(default_factory=dict)  # room for later features' settings

    def __post_init__(self) -> None:
        """Paths may be given as text and latency as the CLI writes it (`"50-200"`), as in a pytest marker."""
        for name in ("fixtures_dir", "state_path", "run_dir"):
            value = getattr(self, name)
            if isinstance(value, str | os.PathLike) and not isinstance(value, Path):
                setattr(self, name, Path(value))
        self.scenario_files = [Path(path) for path in self.scenario_files]
        self.latency_ms = latency_range(self.latency_ms)

    @classmethod
    def coerce(cls, config: MockConfig | dict[str, Any] | None) -> MockConfig:
        if config is None:
            return cls()
        if isinstance(config, cls):
            return config
        return cls(**config)


def check_token_scopes(tokens: dict[str, list[str]], specs: dict[str, Spec]) -> None:
    """Refuse a tokens file naming a scope no operation asks for (a typo would grant nothing)."""
    valid = sorted({scope for spec in specs.values() for scope in spec.declared_scopes()})
    for token, scopes in tokens.items():
        unknown = [scope for scope in scopes if scope not in valid]
        if unknown:
            raise ConfigError(
                f"--tokens: token {token!r} has the unknown scope {unknown[0]!r}; "
                f"the scopes the specs know are: {', '.join(valid)}"
            )


LATENCY_TEXT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?)\s*)?")
LATENCY_FORMS = 'milliseconds as LOW-HIGH text ("50-200"), one number (100), or a (low, high) pair'


def latency_range(value: Any) -> tuple[float, float] | None:
    """Latency in any form a user writes it (`"50-200"`, `"100"`, `100`, `(50, 200)`) as (low, high) ms."""
    if value is None:
        return None
    if isinstance(value, str):
        found = LATENCY_TEXT.fullmatch(value)
        if not found:
            raise ValueError(f"latency_ms={value!r} is not {LATENCY_FORMS}")
        low = float(found.group(1))
        pair: tuple[Any, ...] = (low, float(found.group(2)) if found.group(2) else low)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        pair = (value, value)
    elif isinstance(value, tuple | list) and len(value) == 2:
        pair = tuple(value)
    else:
        raise ValueError(f"latency_ms={value!r} is not {LATENCY_FORMS}")
    if not all(isinstance(part, int | float) and not isinstance(part, bool) for part in pair):
        raise ValueError(f"latency_ms={value!r} is not {LATENCY_FORMS}")
    low, high = float(pair[0]), float(pair[1])
    if not 0 <= low <= high:
        raise ValueError(f"latency_ms={value!r}: must be LOW-HIGH milliseconds with 0 <= LOW <= HIGH")
    return low, high


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# Built once: `json.dumps`/`json.loads` with options build a new encoder/decoder on every call.
_ENCODER = json.JSONEncoder(default=_json_default, ensure_ascii=False, separators=(",", ":"))
_ASCII_ENCODER = json.JSONEncoder(default=_json_default, separators=(",", ":"))


def encode_json(body: Any) -> bytes:
    """Compact JSON in UTF-8. orjson writes what the json module writes, some ten times faster
    (a quote's answer: 8 µs -> 1 µs); what it refuses (a lone surrogate, an integer beyond 64 bits)
    the json module writes."""
    try:
        return orjson.dumps(body, default=_json_default)
    except TypeError:  # orjson.JSONEncodeError
        pass
    text = _ENCODER.encode(body)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate a client sent (`"\ud800"` is valid JSON) echoed back: escape it
        return _ASCII_ENCODER.encode(body).encode("ascii")


def flask_rule(template: str) -> str:
    """`/orders/{order_id}.json` -> `/orders/<order_id>.json`."""
    return re.sub(r"\{([^}]+)\}", lambda match: f"<{match.group(1).replace(':', '_')}>", template)


class MockServer:
    """The running mock: its APIs, specs, store and the request pipeline."""

    def __init__(self, config: MockConfig, apis: Iterable[Api]):
        self.config = config
        self.apis: dict[str, Api] = {api.name: api for api in apis}
        specs_dir = data_dir("specs")
        self.specs: dict[str, Spec] = {name: load_spec(specs_dir / api.spec_file) for name, api in self.apis.items()}
        if config.tokens is not None:
            check_token_scopes(config.tokens, self.specs)
        if config.latency_ms is not None:
            low, high = config.latency_ms
            if not 0 <= low <= high:
                raise ConfigError(f"latency must be LOW-HIGH milliseconds with 0 <= LOW <= HIGH, not {low}-{high}")
        self._latency = None if not config.latency_ms or config.latency_ms[1] == 0 else config.latency_ms
        self.platform_names = frozenset(self.platforms)
        self.examples = ExampleChooser()
        self._sync_scenarios: Callable[[], None] | None = None
        # scenarios before the store: a bad file stops start-up before anything is opened
        if config.run_dir is None:
            self.journal: Journal = Journal(config.journal_size)
            self.scenarios: ScenarioBook = ScenarioBook(self._catalog(specs_dir))
        else:
            from mockserver.shared import Coordination, SharedScenarioBook

            self.journal = SharedJournal(config.run_dir, config.journal_size)
            shared = SharedScenarioBook(self._catalog(specs_dir), Coordination(config.run_dir))
            self.scenarios = shared
            self._sync_scenarios = shared.sync
        if config.builtin_scenarios:
            self.scenarios.load_builtins()
        for path in config.scenario_files:
            self.scenarios.load_file(Path(path))  # a ScenarioError names the file, the rule and the field
        policies = {name: platform.rate_limit for name, platform in self.platforms.items() if platform.rate_limit}
        table = config.run_dir / TABLE_FILE if config.run_dir is not None else None
        self.rate_limits = RateLimits(policies, config.plans, config.throttle, table)
        self.store = Store(
            config.state_path,
            verify_shared_documents=config.strict_responses,
            listing_of={name: platform.listing_of for name, platform in self.platforms.items() if platform.listing_of},
        )
        self.sessions = Sessions(
            self.store,
            self.scenarios,
            self.journal,
            self.rate_limits,
            idle_seconds=config.session_idle,
            coordination=getattr(self.scenarios, "coordination", None),
        )
        self.proxies: dict[str, Any] = {}
        if config.proxy:
            from mockserver.contract.proxy import proxies

            self.proxies = proxies(config.proxy)
        self.fixture_errors: list[str] = []  # files (or ndjson lines) skipped, one line per file
        self.fixture_problems: list[str] = []  # loaded, but failing the consistency rules, one line per file
        self.fixture_notes: list[str] = []  # deliberate emptiness, worth a word at start-up
        self.orders_from_state = 0  # orders a kept state file already held, served as it has them
        self.watch_report: WatchReport | None = None  # `serve --watch` (mockserver.watch)
        if config.load_fixtures:
            self.load_fixture_dir(config.fixtures_dir or data_dir("fixtures"), required=config.fixtures_dir is not None)

    def _catalog(self, specs_dir: Path) -> Catalog:
        admin_spec = self.specs.get("admin") or load_spec(specs_dir / "admin.yaml")
        platforms = {name: (self.specs[name], platform.errors) for name, platform in self.platforms.items()}
        return Catalog(platforms, admin_spec)

    @property
    def platforms(self) -> dict[str, Platform]:
        return {name: api for name, api in self.apis.items() if isinstance(api, Platform)}

    # -- fixtures ----------------------------------------------------------------------

    def fixture_violations(self, platform: Platform, document: Any) -> list[Violation]:
        from mockserver.openapi import violations_of

        validator = self.specs[platform.name].schema(platform.fixture_schema)
        return violations_of(validator, document, "body")

    def load_order(self, platform: Platform, document: dict[str, Any], *, baseline: bool, replace: bool = True) -> int:
        """Store one fixture document (already validated) and index its refunds."""
        fixture = platform.read_fixture(document)
        self.store.put_order(
            platform.name,
            fixture.order_id,
            fixture.document,
            fixture.store_hash,
            baseline=baseline,
            replace=replace,
            id_floors=platform.ids_in(fixture.document),
        )
        refunds = platform.refunds_of(fixture.document)
        self.store.index_refunds(platform.name, fixture.order_id, refunds, baseline=baseline)
        return fixture.order_id

    def load_fixture_dir(self, directory: Path, *, required: bool = False) -> None:
        """Load every order file under `<dir>/<platform>/` (json, yaml, ndjson; `mockserver.fixture_files`).

        A file or line the spec rejects is skipped and reported (`fixture_errors`); a document that
        loads but fails its platform's consistency rules is served and reported (`fixture_problems`),
        one line per file. `required` (a folder the user named): finding nothing to load is a
        `FixtureError`, never a silently empty server, unless the layout's `orders` folders exist
        and are empty on purpose (then a warning names them).
        """
        from mockserver import fixture_files

        keep_existing = self.config.state_path is not None  # a kept state wins over the fixtures
        existing = {name: set(self.store.order_ids(name)) for name in self.platforms}
        self.orders_from_state = sum(len(ids) for ids in existing.values()) if keep_existing else 0
        found_any = False
        loaded = 0
        for name, platform in self.platforms.items():
            paths = fixture_files.order_files(directory, name)
            found_any = found_any or bool(paths)
            platform_loaded = 0
            for path in paths:
                shown = _shown_path(path, directory)
                skipped: list[str] = []
                inconsistent: list[str] = []
                for entry in fixture_files.documents(path):
                    where = _shown_path(Path(entry.location), directory) if entry.location != str(path) else shown
                    if entry.error is not None:
                        skipped.append(entry.error.replace(str(path), shown, 1))
                        continue
                    violations = self.fixture_violations(platform, entry.document)
                    if violations:
                        first = violations[0]
                        skipped.append(f"{where}: {first.field or '(document)'}: {first.message}")
                        continue
                    if platform.consistency is not None:
                        problems = platform.consistency(entry.document)
                        if problems:
                            field, reason = problems[0]
                            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                            inconsistent.append(f"{where}: {field}: {reason}{more}")
                    document = entry.document
                    platform_loaded += 1
                    order_id = platform.read_fixture(document).order_id
                    if keep_existing and order_id in existing[name]:
                        fixture = platform.read_fixture(document)
                        self.store.put_order(
                            name,
                            order_id,
                            document,
                            fixture.store_hash,
                            baseline=True,
                            replace=False,
                            id_floors=platform.ids_in(document),
                        )
                        refunds = platform.refunds_of(fixture.document)  # what named sessions see of it
                        self.store.index_refunds(name, order_id, refunds, baseline=True, working=False)
                        continue
                    self.load_order(platform, document, baseline=True)
                self.fixture_errors.extend(_per_file(skipped, shown, "skipped"))
                self.fixture_problems.extend(_per_file(inconsistent, shown, "fail the consistency rules"))
            loaded += platform_loaded
            orders_folder = directory / name / "orders"
            if required and not platform_loaded and orders_folder.is_dir() and not paths:
                self.fixture_notes.append(f"{orders_folder} holds no orders: {name} serves none")
        if required and not found_any and not self.fixture_notes:
            raise FixtureError(
                f"no fixture orders under {directory}: expected {fixture_files.EXPECTED_LAYOUT} "
                "(`refund-mock fixtures generate --out DIR` writes them)"
            )
        if required and found_any and not loaded:
            reasons = "; ".join(self.fixture_errors[:3])
            raise FixtureError(f"no fixture order under {directory} could be loaded: {reasons}")
        if self.config.log_fixture_problems:  # `serve` prints them in its banner instead: each file once
            for problem in self.fixture_errors:
                log.warning("fixture skipped: %s", problem)
            for problem in self.fixture_problems:
                log.warning("fixture loaded, but it fails the consistency rules: %s", problem)
            for note in self.fixture_notes:
                log.warning("fixtures: %s", note)
        if self.config.strict_fixtures and (self.fixture_errors or self.fixture_problems):
            first = (self.fixture_errors + self.fixture_problems)[0]
            count = len(self.fixture_errors) + len(self.fixture_problems)
            raise FixtureError(
                f"--strict: {count} fixture file{'s' if count > 1 else ''} skipped or inconsistent, first: {first}"
            )

    def health_reasons(self) -> list[str]:
        """Why the server is `degraded` (empty when it is `ok`): what it skipped or serves inconsistent."""
        reasons = [f"fixture skipped: {problem}" for problem in self.fixture_errors]
        reasons += [f"fixture fails the consistency rules: {problem}" for problem in self.fixture_problems]
        reasons += [f"built-in scenario skipped: {problem}" for problem in self.scenarios.problems]
        if self.watch_report is not None:  # `serve --watch`: a file whose last version was refused
            refused = sorted(self.watch_report.errors.items())
            reasons += [f"watched file refused: {file}: {why}" for file, why in refused]
        return reasons

    def close(self) -> None:
        """Close this thread's database connections (and the temporary state, if the store made one)."""
        self.store.close()
        self.rate_limits.close()
        if isinstance(self.journal, SharedJournal):
            self.journal.close()
        coordination = getattr(self.scenarios, "coordination", None)
        if coordination is not None:
            coordination.close()

    def reset(self) -> None:
        """The default session back to start-up: fixture state, an empty journal, start-up scenarios
        with fresh counters, every rate-limit bucket empty. Named sessions are left alone."""

        def reindex(platform: str, order_id: int, document: dict[str, Any]) -> list[tuple[int, str, dict[str, Any]]]:
            return self.platforms[platform].refunds_of(document)

        self.store.reset(reindex)
        self.journal.clear()
        self.scenarios.reset()
        self.rate_limits.reset("")

    # -- the pipeline ------------------------------------------------------------------

    def api_for_path(self, path: str) -> Api:
        """The API whose paths start like `path` (for 404s on unknown paths)."""
        best = None
        for name, spec in self.specs.items():
            prefix = spec.path_prefix
            if path.startswith(prefix) and (best is None or len(prefix) > len(self.specs[best].path_prefix)):
                best = name
        return self.apis[best or next(iter(self.apis))]

    def refusal(self, path: str, message: str) -> bytes:
        """The body of a 403 from mockserver.guard, in the shape of the API `path` belongs to."""
        return encode_json(self.api_for_path(path).errors.scripted(path, 403, message, None).body)

    def dispatch(self, api: Api, template: str, **raw_path: str) -> Response:
        req = request._get_current_object()  # one lookup: each `request.x` through the proxy costs ~1 µs
        if self._sync_scenarios is not None:
            self._sync_scenarios()  # another worker may have changed the run-time scenarios
        session = req.environ.get(SESSION_KEY)  # None: the default session (mockserver.sessions)
        if session is not None:
            if session.__class__ is not str:
                return self.respond(None, self._bad_session(api, req, session.reason))
            # An admin read (the dashboard watching a session) neither makes a session nor keeps it alive
            if api.name in self.platform_names or req.method != "GET":
                self.sessions.enter(session, counted=api.name in self.platform_names)
        if api.name not in self.platform_names:
            return self._dispatch_admin(api, template, raw_path, req)
        if api.name in self.proxies:  # `serve --proxy`: the real store answers
            return self.proxies[api.name].forward(self, api, template, raw_path, req)
        started = time.perf_counter()
        wall_time = time.time()
        metered = self.rate_limits.meter(api.name, req.environ, session or "")
        spec = self.specs[api.name]
        operation: Operation | None = None
        answered_by: str | None = None
        action: Action | None = None
        try:
            if metered is not None and metered.refused and self.rate_limits.throttle:
                answered_by = THROTTLED_BY
                raise metered.policy.throttled(req.path, metered.state)
            operation = self._operation(api, spec, template, req)
            context = self._context(api, operation, raw_path, req)
            answered_by, chosen = self._scripted(api, spec, operation, context, req)
            if isinstance(chosen, Choice):
                reply = Reply(chosen.status, chosen.body, dict(chosen.headers))
            elif chosen is None:
                reply = api.handlers[operation.operation_id](context)
            else:
                action = chosen
                if action.fault in faults.DROPS and not self.config.connection_faults:
                    raise api.errors.scripted(req.path, 501, CANNOT_DROP_CONNECTIONS.format(action.fault), None)
                reply = self._act(api, operation, context, action)
        except MockHTTPError as error:
            reply = Reply(error.status, error.body, error.headers)
        fault = action.fault if action is not None and reply.status != 501 else None
        if fault in faults.DROPS:
            response = faults.dropped_connection(req.environ, fault)
            status = 0
        else:
            with_rate_limit_headers(reply, metered)
            response = self.respond(operation, reply, garble=fault == "malformed-json")
            status = reply.status
        pause = self.sample_latency() + (action.sample_delay() if action is not None else 0.0)
        if pause:
            time.sleep(pause)
        self.record(req, operation, status, answered_by, fault, started, wall_time, response)
        return response

    @staticmethod
    def _bad_session(api: Api, req: Request, reason: str) -> Reply:
        """A 400 in the API's shape for a session name that cannot be used."""
        error = api.errors.scripted(req.path, 400, f"{SESSION_HEADER}: {reason}", {SESSION_HEADER: reason})
        return Reply(error.status, error.body, error.headers)

    def _dispatch_admin(self, api: Api, template: str, raw_path: dict[str, str], req: Request) -> Response:
        """The admin API: the bare pipeline plus the token check; no scenarios, latency or journal."""
        spec = self.specs[api.name]
        operation: Operation | None = None
        try:
            operation = self._operation(api, spec, template, req)
            self._check_admin_token(api, operation, req)
            context = self._context(api, operation, raw_path, req)
            reply = api.handlers[operation.operation_id](context)
        except MockHTTPError as error:
            reply = Reply(error.status, error.body, error.headers)
        return self.respond(operation, reply)

    def spec_methods(self, app: Flask, path: str) -> list[str]:
        """The methods the spec declares for `path` (for a 405 on a method no route takes)."""
        try:
            endpoint, _ = app.url_map.bind("localhost").match(path, method="GET")
        except HTTPException:
            return []
        name, _, template = str(endpoint).partition(":")
        operations = self.specs[name].paths.get(template, {}) if name in self.specs else {}
        return sorted(operations) + (["HEAD"] if "GET" in operations else [])

    def _check_admin_token(self, api: Api, operation: Operation, req: Request) -> None:
        token = self.config.admin_token
        if token is None or operation.operation_id in OPEN_ADMIN_OPERATIONS:
            return
        sent = req.headers.get(ADMIN_TOKEN_HEADER, "")
        if not hmac.compare_digest(sent.encode("utf-8"), token.encode("utf-8")):
            raise api.errors.unauthorized(req.path)

    def _scripted(
        self, api: Api, spec: Spec, operation: Operation, context: RequestContext, req: Request
    ) -> tuple[str | None, Action | Choice | None]:
        """The scripted answer for a valid request, if it asks for one (or an active scenario matches)."""
        environ = req.environ
        header = environ.get("HTTP_X_MOCK_SCENARIO")
        key = (api.name, operation.operation_id)
        book = self.scenarios if context.session is None else self.sessions.book(context.session, create=bool(header))
        if book is not None and (header or book.has_active):
            probe = Probe(context.path_params, req.args, req.headers, context.body)
            try:
                decision = book.decide(selected_names(header) if header else (), key, probe)
            except UnknownScenario as error:
                reason = f"no scenario named {error.name!r} is loaded (GET /__mock/scenarios lists them)"
                raise api.errors.invalid_request(req.path, [Violation("header", "X-Mock-Scenario", reason)]) from None
            if decision is not None:
                return decision.scenario, decision.action
        preference = parse_prefer(environ.get("HTTP_PREFER"))
        if preference is None and "__" in environ.get("QUERY_STRING", ""):
            preference = parse_query(req.args)
        if preference is None:
            return None, None
        try:
            choice = self.examples.choose(api.name, spec, operation, api.errors, preference)
        except PreferenceError as error:
            location = "header" if error.field == "Prefer" else "query"
            raise api.errors.invalid_request(req.path, [Violation(location, error.field, error.message)]) from None
        return (preference.label(), choice) if choice is not None else (None, None)

    def _act(self, api: Api, operation: Operation, context: RequestContext, action: Action) -> Reply:
        """A rule's answer: its scripted reply, or the computed one with its headers added."""
        key = (api.name, operation.operation_id)
        if action.status is not None:
            return Reply(action.status, action.bodies[key], action.headers_for(key))
        if action.fault in faults.DROPS:
            return Reply(0, None)  # never rendered: the connection is dropped instead
        try:
            reply = api.handlers[operation.operation_id](context)
        except MockHTTPError as error:
            reply = Reply(error.status, error.body, error.headers)
        reply.headers.update(action.headers_for(key))
        return reply

    def sample_latency(self) -> float:
        """Seconds of global latency (`serve --latency LOW-HIGH`) for one answer."""
        if self._latency is None:
            return 0.0
        low, high = self._latency
        return (low if low == high else random.uniform(low, high)) / 1000

    def record(
        self,
        req: Request,
        operation: Operation | None,
        status: int,
        answered_by: str | None,
        fault: str | None,
        started: float,
        wall_time: float,
        response: Response | None = None,
    ) -> None:
        environ = req.environ
        method = environ["REQUEST_METHOD"]
        session = environ.get(SESSION_KEY)
        self.journal.record(
            time=wall_time,
            method=method,
            path=req.path,
            query=environ.get("QUERY_STRING", ""),
            operation_id=operation.operation_id if operation is not None else None,
            status=status,
            scenario=answered_by,
            fault=fault,
            duration_ms=(time.perf_counter() - started) * 1000,
            body=environ.get(BODY_KEY),
            body_json=environ.get(RAW_BODY_KEY),
            response_json=response_json_of(response, status, fault, method),
            session=session if session.__class__ is str else None,
        )

    def respond(self, operation: Operation | None, reply: Reply, *, garble: bool = False) -> Response:
        """The reply as JSON, checked against the spec first when responses are validated.

        The body is handed to the WSGI server as one list item (`direct_passthrough`): granian
        sends a list in one call, while an iterator costs it a round trip per chunk. The headers
        are built in one `Headers` (werkzeug checks each value once) and sent as they are
        (`JsonAnswer`).
        """
        if operation is not None and (self.config.validate_responses or self.config.strict_responses):
            violations = operation.response_violations(reply.status, reply.body)
            if violations:
                summary = "; ".join(f"{v.field or '(body)'}: {v.message}" for v in violations[:5])
                message = f"{operation.operation_id} answered {reply.status} with a body its spec rejects: {summary}"
                if self.config.strict_responses:
                    raise ResponseContractError(message)
                log.error(message)
                reply.headers["X-Mock-Contract-Violation"] = summary[:500]
        data = encode_json(reply.body)
        if garble:
            data = faults.garble(data)
        headers = Headers()
        headers.add("Content-Type", JSON_CONTENT_TYPE)
        headers.add("Content-Length", str(len(data)))
        if reply.headers:
            names = {name.lower() for name in reply.headers}
            # `add` gives what `set` gives when no name comes twice (in any case) and none replaces
            # the type or length, without looking through the headers already there each time
            unique = len(names) == len(reply.headers) and names.isdisjoint(_BUILT_HEADERS)
            put = headers.add if unique else headers.set
            for name, value in reply.headers.items():
                put(name, value)
        return JsonAnswer([data], status=reply.status, headers=headers, direct_passthrough=True)

    def _operation(self, api: Api, spec: Spec, template: str, req: Request) -> Operation:
        operations = spec.paths[template]
        method = req.method
        if method == "HEAD" and "GET" in operations:
            method = "GET"
        operation = operations.get(method)
        if operation is None:
            allowed = sorted(operations) + (["HEAD"] if "GET" in operations else [])
            error = api.errors.method_not_allowed(req.path, allowed)
            error.headers.setdefault("Allow", ", ".join(allowed))
            raise error
        return operation

    def _authorize(self, api: Api, spec: Spec, operation: Operation, req: Request) -> None:
        if not operation.security or {} in operation.security:  # `{}` among the alternatives: anonymous is fine
            return
        token = None
        headers = req.headers
        for header in operation.token_headers:
            token = headers.get(header) or token
        if not token or not token.strip():
            raise api.errors.unauthorized(req.path)
        if self.config.tokens is None:
            return
        granted = self.config.tokens.get(token)
        if granted is None:
            raise api.errors.unauthorized(req.path)
        alternatives = operation.required_scopes()
        if alternatives and not any(set(scopes) <= set(granted) for scopes in alternatives):
            raise api.errors.forbidden(req.path, alternatives[0])

    def _context(self, api: Api, operation: Operation, raw_path: dict[str, str], req: Request) -> RequestContext:
        spec = self.specs[api.name]
        self._authorize(api, spec, operation, req)
        values: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
        by_flask_name = operation.path_parameters
        for flask_name, raw in raw_path.items():
            parameter = by_flask_name.get(flask_name)
            values["path"][parameter.name if parameter else flask_name] = parameter.coerce(raw) if parameter else raw
        if operation.query_parameters and req.environ.get("QUERY_STRING"):
            arguments = req.args
            for parameter in operation.query_parameters:
                if parameter.name in arguments:
                    values["query"][parameter.name] = parameter.coerce(arguments.getlist(parameter.name))
        if operation.header_parameters:
            headers = req.headers
            for parameter in operation.header_parameters:
                if parameter.name in headers:
                    values["header"][parameter.name] = parameter.coerce(headers[parameter.name])
        violations = operation.validate_parameters(values)
        if any(violation.location == "path" for violation in violations):
            raise api.errors.not_found(req.path)
        body = None
        if operation.body_validator is not None:
            body, media_type = self._body(api, operation, req)
            violations.extend(operation.validate_body(body, media_type))
        if violations:
            raise api.errors.invalid_request(req.path, violations)
        session = req.environ.get(SESSION_KEY)  # a name: checked by `dispatch`
        return RequestContext(
            operation_id=operation.operation_id,
            path_params=values["path"],
            query=values["query"],
            headers=req.headers,
            body=body,
            store=self.store if session is None else self.sessions.store_of(session),  # type: ignore[arg-type]
            environ=req.environ,
            server=self,
            session=session,
        )

    def read_body(self, api: Api, req: Request) -> bytes:
        """The body's bytes, never more than the limit whatever the framing: past it, a 413 in the API's shape."""
        environ = req.environ
        limit = self.config.max_body_bytes
        length = _content_length(environ)
        if length is not None and length > limit:
            raise api.errors.payload_too_large(req.path, limit)
        stream = environ["wsgi.input"]
        if length is not None:  # announced and within the limit: one read, without werkzeug's stream wrappers
            raw = stream.read() if environ.get("wsgi.input_terminated") else stream.read(length)
        elif environ.get("wsgi.input_terminated"):  # chunked: the server ends the stream; stop past the limit
            raw = read_at_most(stream, limit + 1)
        else:  # neither a length nor an end: WSGI says there is no body
            raw = b""
        if len(raw) > limit:
            raise api.errors.payload_too_large(req.path, limit)
        return raw

    def _body(self, api: Api, operation: Operation, req: Request) -> tuple[Any, str]:
        """The parsed body and its media type: JSON, or text for a string media type the spec
        declares (Shopify GraphQL's `application/graphql`); any other type is a 415."""
        environ = req.environ
        raw = self.read_body(api, req)
        media_type = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
        if not raw.strip():
            if operation.body_required:
                raise api.errors.malformed_body(req.path, "the request body is empty")
            return None, media_type
        if media_type != JSON_MIMETYPE:
            if media_type not in operation.text_body_validators:
                raise api.errors.unsupported_media_type(req.path, req.content_type or "")
            try:
                text = strip_bom(raw).decode("utf-8")
            except UnicodeDecodeError:
                raise api.errors.malformed_body(req.path, "the request body is not UTF-8 text") from None
            if len(raw) <= JOURNAL_BODY_BYTES:
                environ[BODY_KEY] = text
            return text, media_type
        raw = strip_bom(raw)
        try:
            body = decode_json(raw)
        except BodyProblem as problem:
            raise api.errors.malformed_body(req.path, problem.reason) from None
        if len(raw) <= JOURNAL_BODY_BYTES:
            environ[BODY_KEY] = body
            environ[RAW_BODY_KEY] = raw
        return body, media_type


class JsonAnswer(Response):
    """The pipeline's answers: a JSON body in one piece, its length among the headers.

    werkzeug hands the WSGI server a checked copy of the headers (each value checked again), to
    fix what such an answer does not have: a relative `Location`, a length where none may be
    (1xx, 204, 304), or none where one belongs. Without any of those, the headers go as they are.
    """

    def get_wsgi_headers(self, environ: WSGIEnvironment) -> Headers:
        status = self.status_code
        if status < 200 or status in (204, 304):
            return super().get_wsgi_headers(environ)
        has_length = False
        for name, _ in self.headers:
            lowered = name.lower()
            if lowered == "location" or lowered == "content-location":
                return super().get_wsgi_headers(environ)
            has_length = has_length or lowered == "content-length"
        return self.headers if has_length else super().get_wsgi_headers(environ)


def _shown_path(path: Path, directory: Path) -> str:
    """A fixture file as the user knows it: `shopify/orders/123.json` under the fixtures folder."""
    try:
        return str(path.relative_to(directory))
    except ValueError:
        return str(path)


def _per_file(messages: list[str], shown: str, what: str) -> list[str]:
    """One line per file: the message itself, or for an ndjson file with many, a count and the first."""
    if len(messages) <= 1:
        return messages
    return [f"{shown}: {len(messages)} orders {what}, first: {messages[0]}"]


def _content_length(environ: dict[str, Any]) -> int | None:
    """`request.content_length`, read straight from the environ (the property costs some µs)."""
    return get_content_length(environ.get("CONTENT_LENGTH"), environ.get("HTTP_TRANSFER_ENCODING"))


def _view(server: MockServer, api: Api, template: str) -> Callable[..., Response]:
    """The view of one spec path: a plain function, which Flask checks for a coroutine faster
    on every request than a `functools.partial`."""

    def view(**raw_path: str) -> Response:
        return server.dispatch(api, template, **raw_path)

    return view


def default_apis() -> list[Api]:
    """Both platforms and the admin API."""
    from mockserver.admin import ADMIN_API
    from mockserver.bigcommerce import PLATFORM as BIGCOMMERCE
    from mockserver.shopify import PLATFORM as SHOPIFY

    return [SHOPIFY, BIGCOMMERCE, ADMIN_API]


def create_app(config: MockConfig | dict[str, Any] | None = None, apis: Iterable[Api] | None = None) -> Flask:
    """Build the mock: load the specs and fixtures, register one route per spec path."""
    settings = MockConfig.coerce(config)
    server = MockServer(settings, apis if apis is not None else default_apis())
    app = Flask("refund_mock")
    app.config["MAX_CONTENT_LENGTH"] = None  # size is checked per request, in the platform's shape
    app.extensions["refund_mock"] = server
    for name, api in server.apis.items():
        for template in server.specs[name].paths:
            app.add_url_rule(
                flask_rule(template),
                endpoint=f"{name}:{template}",
                view_func=_view(server, api, template),
                methods=ROUTED_METHODS,
                provide_automatic_options=False,
            )

    dashboard.register(app)  # GET /__mock/ui: a page for a person at a browser
    if settings.cors:
        auth_headers = [
            scheme["name"]
            for spec in server.specs.values()
            for scheme in spec.security_schemes.values()
            if scheme.get("type") == "apiKey" and scheme.get("in") == "header"
        ]
        install_cors(app, auth_headers)
    # outermost, before CORS: a refusal carries no CORS header
    install_guard(app, server.refusal, settings.allowed_hosts, settings.admin_origins)

    @app.errorhandler(HTTPException)
    def unrouted(error: HTTPException) -> Response:
        started, wall_time = time.perf_counter(), time.time()
        api = server.api_for_path(request.path)
        if api.name in server.proxies and error.code in (404, 405):  # a path the spec lacks: still forwarded
            return server.proxies[api.name].forward(server, api, None, {}, request._get_current_object())
        allowed = server.spec_methods(app, request.path) if error.code == 405 else None
        if error.code == 413:
            failure = api.errors.payload_too_large(request.path, settings.max_body_bytes)
        elif error.code is not None and error.code >= 500:  # a defect of the mock: say so, never a 404
            cause = getattr(error, "original_exception", None) or error
            log.error("%s %s failed inside the mock", request.method, request.path, exc_info=cause)
            failure = api.errors.scripted(request.path, 500, INTERNAL_ERROR_MESSAGE, None)
        elif allowed:  # a method no route takes (e.g. QUERY) on a path the spec has
            failure = api.errors.method_not_allowed(request.path, allowed)
            failure.headers.setdefault("Allow", ", ".join(allowed))
        else:
            failure = api.errors.not_found(request.path)
        reply = Reply(failure.status, failure.body, failure.headers)
        session = request.environ.get(SESSION_KEY)
        scope = session if session.__class__ is str else ""
        with_rate_limit_headers(reply, server.rate_limits.meter(api.name, request.environ, scope))
        response = server.respond(None, reply)
        if api.name in server.platform_names:
            pause = server.sample_latency()
            if pause:
                time.sleep(pause)
            server.record(request._get_current_object(), None, failure.status, None, None, started, wall_time, response)
        return response

    @app.errorhandler(MockHTTPError)
    def platform_error(error: MockHTTPError) -> Response:
        reply = Reply(error.status, error.body, error.headers)
        with_rate_limit_headers(
            reply, server.rate_limits.meter(server.api_for_path(request.path).name, request.environ)
        )
        return server.respond(None, reply)

    install_url_limit(app)  # 414 in the platform's shape, under either server
    # outermost: the guard and the routes see the path without a `/__session/<name>` prefix
    install_sessions(app)

    return app


def server_of(app: Flask) -> MockServer:
    return app.extensions["refund_mock"]
