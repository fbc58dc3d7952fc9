"""The Flask app factory and the one request pipeline every spec operation goes through.

Route -> auth -> content type and size -> JSON parse -> validation against the spec -> handler
-> response checked against the spec -> JSON. Each step lives here once; platforms only supply
handlers and their error shapes.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from mockserver.openapi import Operation, Spec, data_dir
from mockserver.platform import Api, MockHTTPError, Platform, Reply, RequestContext, Violation
from mockserver.store import Store

log = logging.getLogger("refund_mock")

ROUTED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
JSON_MIMETYPE = "application/json"


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
    max_body_bytes: int = 1 << 20
    load_fixtures: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # room for later features' settings

    @classmethod
    def coerce(cls, config: MockConfig | dict[str, Any] | None) -> MockConfig:
        if config is None:
            return cls()
        if isinstance(config, cls):
            return config
        return cls(**config)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def encode_json(body: Any) -> bytes:
    return json.dumps(body, default=_json_default, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def flask_rule(template: str) -> str:
    """`/orders/{order_id}.json` -> `/orders/<order_id>.json`."""
    return re.sub(r"\{([^}]+)\}", lambda match: f"<{match.group(1).replace(':', '_')}>", template)


class MockServer:
    """The running mock: its APIs, specs, store and the request pipeline."""

    def __init__(self, config: MockConfig, apis: Iterable[Api]):
        self.config = config
        self.apis: dict[str, Api] = {api.name: api for api in apis}
        specs_dir = data_dir("specs")
        self.specs: dict[str, Spec] = {name: Spec(specs_dir / api.spec_file) for name, api in self.apis.items()}
        self.store = Store(config.state_path)
        self.fixture_errors: list[str] = []
        if config.load_fixtures:
            self.load_fixture_dir(config.fixtures_dir or data_dir("fixtures"))

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
            platform.name, fixture.order_id, fixture.document, fixture.store_hash, baseline=baseline, replace=replace
        )
        self.store.index_refunds(platform.name, fixture.order_id, platform.refunds_of(fixture.document))
        return fixture.order_id

    def load_fixture_dir(self, directory: Path) -> None:
        """Load `<dir>/<platform>/orders/*.json`; a file the spec rejects is reported and skipped."""
        keep_existing = self.config.state_path is not None  # a kept state wins over the fixtures
        existing = {name: set(self.store.order_ids(name)) for name in self.platforms}
        for name, platform in self.platforms.items():
            for path in sorted((directory / name / "orders").glob("*.json")):
                try:
                    document = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError) as error:
                    self.fixture_errors.append(f"{path.name}: {error}")
                    continue
                violations = self.fixture_violations(platform, document)
                if violations:
                    first = violations[0]
                    self.fixture_errors.append(f"{path.name}: {first.field}: {first.message}")
                    continue
                order_id = platform.read_fixture(document).order_id
                if keep_existing and order_id in existing[name]:
                    self.store.put_order(
                        name,
                        order_id,
                        document,
                        platform.read_fixture(document).store_hash,
                        baseline=True,
                        replace=False,
                    )
                    continue
                self.load_order(platform, document, baseline=True)
        for problem in self.fixture_errors:
            log.warning("fixture skipped: %s", problem)

    def reset(self) -> None:
        def reindex(platform: str, order_id: int, document: dict[str, Any]) -> list[tuple[int, str, dict[str, Any]]]:
            return self.platforms[platform].refunds_of(document)

        self.store.reset(reindex)

    # -- the pipeline ------------------------------------------------------------------

    def api_for_path(self, path: str) -> Api:
        """The API whose paths start like `path` (for 404s on unknown paths)."""
        best = None
        for name, spec in self.specs.items():
            prefix = spec.path_prefix
            if path.startswith(prefix) and (best is None or len(prefix) > len(self.specs[best].path_prefix)):
                best = name
        return self.apis[best or next(iter(self.apis))]

    def dispatch(self, api: Api, template: str, **raw_path: str) -> Response:
        spec = self.specs[api.name]
        operation: Operation | None = None
        try:
            operation = self._operation(api, spec, template)
            context = self._context(api, operation, raw_path)
            reply = api.handlers[operation.operation_id](context)
        except MockHTTPError as error:
            reply = Reply(error.status, error.body, error.headers)
        return self.respond(operation, reply)

    def respond(self, operation: Operation | None, reply: Reply) -> Response:
        if operation is not None and (self.config.validate_responses or self.config.strict_responses):
            violations = operation.response_violations(reply.status, reply.body)
            if violations:
                summary = "; ".join(f"{v.field or '(body)'}: {v.message}" for v in violations[:5])
                message = f"{operation.operation_id} answered {reply.status} with a body its spec rejects: {summary}"
                if self.config.strict_responses:
                    raise ResponseContractError(message)
                log.error(message)
                reply.headers["X-Mock-Contract-Violation"] = summary[:500]
        response = Response(
            encode_json(reply.body), status=reply.status, content_type="application/json; charset=utf-8"
        )
        for name, value in reply.headers.items():
            response.headers[name] = value
        return response

    def _operation(self, api: Api, spec: Spec, template: str) -> Operation:
        operations = spec.paths[template]
        method = request.method
        if method == "HEAD" and "GET" in operations:
            method = "GET"
        operation = operations.get(method)
        if operation is None:
            allowed = sorted(operations) + (["HEAD"] if "GET" in operations else [])
            error = api.errors.method_not_allowed(request.path, allowed)
            error.headers.setdefault("Allow", ", ".join(allowed))
            raise error
        return operation

    def _authorize(self, api: Api, spec: Spec, operation: Operation) -> None:
        if not operation.security:
            return
        scheme_names = {name for requirement in operation.security for name in requirement}
        token = None
        for name in scheme_names:
            scheme = spec.security_schemes.get(name, {})
            if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
                token = request.headers.get(scheme["name"]) or token
        if not token or not token.strip():
            raise api.errors.unauthorized(request.path)
        if self.config.tokens is None:
            return
        granted = self.config.tokens.get(token)
        if granted is None:
            raise api.errors.unauthorized(request.path)
        alternatives = operation.required_scopes()
        if alternatives and not any(set(scopes) <= set(granted) for scopes in alternatives):
            raise api.errors.forbidden(request.path, alternatives[0])

    def _context(self, api: Api, operation: Operation, raw_path: dict[str, str]) -> RequestContext:
        spec = self.specs[api.name]
        self._authorize(api, spec, operation)
        values: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
        by_flask_name = {parameter.name.replace(":", "_"): parameter for parameter in operation.parameters}
        for flask_name, raw in raw_path.items():
            parameter = by_flask_name.get(flask_name)
            values["path"][parameter.name if parameter else flask_name] = parameter.coerce(raw) if parameter else raw
        for parameter in operation.parameters:
            if parameter.location == "query" and parameter.name in request.args:
                values["query"][parameter.name] = parameter.coerce(request.args.getlist(parameter.name))
            elif parameter.location == "header" and parameter.name in request.headers:
                values["header"][parameter.name] = parameter.coerce(request.headers[parameter.name])
        violations = operation.validate_parameters(values)
        if any(violation.location == "path" for violation in violations):
            raise api.errors.not_found(request.path)
        body = self._body(api, operation) if operation.body_validator is not None else None
        if operation.body_validator is not None:
            violations.extend(operation.validate_body(body))
        if violations:
            raise api.errors.invalid_request(request.path, violations)
        return RequestContext(
            operation_id=operation.operation_id,
            path_params=values["path"],
            query=values["query"],
            headers=request.headers,
            body=body,
            store=self.store,
            base_url=request.host_url.rstrip("/"),
            server=self,
        )

    def _body(self, api: Api, operation: Operation) -> Any:
        length = request.content_length
        if length is not None and length > self.config.max_body_bytes:
            raise api.errors.payload_too_large(request.path, self.config.max_body_bytes)
        try:
            raw = request.get_data(cache=False)
        except RequestEntityTooLarge as error:
            raise api.errors.payload_too_large(request.path, self.config.max_body_bytes) from error
        if len(raw) > self.config.max_body_bytes:
            raise api.errors.payload_too_large(request.path, self.config.max_body_bytes)
        if not raw.strip():
            if operation.body_required:
                raise api.errors.malformed_body(request.path, "the request body is empty")
            return None
        if request.mimetype != JSON_MIMETYPE:
            raise api.errors.unsupported_media_type(request.path, request.content_type or "")
        try:
            text = raw.decode("utf-8")
            return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
        except UnicodeDecodeError as error:
            raise api.errors.malformed_body(request.path, "the request body is not UTF-8") from error
        except (ValueError, RecursionError) as error:
            raise api.errors.malformed_body(request.path, f"the request body is not valid JSON ({error})") from error


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text} is out of range")
    return number


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
                view_func=partial(server.dispatch, api, template),
                methods=ROUTED_METHODS,
                provide_automatic_options=False,
            )

    @app.errorhandler(HTTPException)
    def unrouted(error: HTTPException) -> Response:
        api = server.api_for_path(request.path)
        if error.code == 413:
            failure = api.errors.payload_too_large(request.path, settings.max_body_bytes)
        else:
            failure = api.errors.not_found(request.path)
        return server.respond(None, Reply(failure.status, failure.body, failure.headers))

    @app.errorhandler(MockHTTPError)
    def platform_error(error: MockHTTPError) -> Response:
        return server.respond(None, Reply(error.status, error.body, error.headers))

    return app


def server_of(app: Flask) -> MockServer:
    return app.extensions["refund_mock"]
