"""`serve --proxy shopify=URL,bigcommerce=URL`: a validating proxy to the real API.

Each request of a proxied platform is checked against the spec, sent on to the real store as it
came (method, query, body, the client's own token), and the store's answer is checked against the
spec and handed back as it came. What broke the spec, in the request or in the response, is listed
in the `X-Mock-Violations` header (as Prism's proxy does with `sl-violations`): a JSON array of
`{"in": "request" | "response", "field", "message"}`, so a user sees whether their client or the
spec (or the store) is wrong. Both sides are kept in the journal, under `proxy`.

Platforms not proxied keep being mocked. The proxy sends what the client sent, writes included:
the read-only guard of `record` and `verify` is not for traffic a user routes here on purpose.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from flask import Request, Response

from mockserver.platform import Api, Reply, Violation

if TYPE_CHECKING:
    from mockserver.app import MockServer
    from mockserver.openapi import Operation

VIOLATIONS_HEADER = "X-Mock-Violations"
MAX_LISTED = 20  # violations named in the header; the journal keeps them all
TIMEOUT_SECONDS = 60.0
# Hop-by-hop headers (RFC 9110 7.6.1) and those `requests` sets itself are not passed on.
NOT_FORWARDED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "accept-encoding",
        "content-encoding",  # `requests` hands back the decoded body
    }
)
BODY_LIMIT = 16 * 1024  # larger bodies are journaled as null, as the mock's own requests are


class ProxyError(ValueError):
    """A bad `--proxy` value."""


def parse_proxy(text: str | None, platforms: set[str]) -> dict[str, str]:
    """`shopify=https://shop.myshopify.com,bigcommerce=https://api.bigcommerce.com/stores/abc`."""
    targets: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, equals, url = part.partition("=")
        name, url = name.strip(), url.strip().rstrip("/")
        if not equals or name not in platforms:
            raise ProxyError(f"expected PLATFORM=URL with PLATFORM one of {', '.join(sorted(platforms))}, not {part!r}")
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise ProxyError(f"{name}: {url!r} is not an http(s) URL")
        if name in targets:
            raise ProxyError(f"{name} is named twice")
        targets[name] = url
    return targets


@dataclass
class Proxy:
    """Forwards one platform's requests to `upstream` (a shop's address, or a store's API base)."""

    platform: str
    upstream: str
    session: requests.Session

    def target(self, path: str, query: str) -> str:
        """The store's URL for a mock path; BigCommerce's `/stores/{hash}` becomes the upstream's own."""
        if self.platform == "bigcommerce" and path.startswith("/stores/"):
            path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else path
        return f"{self.upstream}{path}" + (f"?{query}" if query else "")

    def forward(
        self, server: MockServer, api: Api, template: str | None, raw_path: Mapping[str, str], req: Request
    ) -> Response:
        """The store's answer to `req`, with the spec's verdict on both in `X-Mock-Violations`.

        `template` is the spec path the request matched, None for a path the spec lacks.
        """
        started, wall_time = time.perf_counter(), time.time()
        operations = server.specs[api.name].paths[template] if template is not None else {}
        operation = operations.get("GET" if req.method == "HEAD" else req.method)
        raw = server.read_body(api, req)  # at most the mock's limit, chunked or not (413 past it)
        body, found = request_violations(operation, template, raw_path, req, raw)
        environ = req.environ
        url = self.target(req.path, environ.get("QUERY_STRING", ""))
        headers = {name: value for name, value in req.headers.items() if name.lower() not in NOT_FORWARDED}
        try:
            upstream = self.session.request(
                req.method, url, data=raw or None, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False
            )
        except requests.RequestException as error:
            message = f"the proxied {self.platform} store could not be reached: {type(error).__name__}"
            failure = api.errors.scripted(req.path, 503, message, None)
            response = server.respond(operation, Reply(failure.status, failure.body, dict(failure.headers)))
            self._journal(server, req, operation, 503, body, None, found, started, wall_time, url)
            return response
        answer = _json(upstream.content)
        if operation is not None and req.method != "HEAD":  # a HEAD answer has no body to check
            if answer is _NOT_JSON:
                found.append(Violation("response", "(body)", "is not JSON"))
            else:
                checked = operation.response_violations(upstream.status_code, answer)
                found.extend(Violation("response", v.field, v.message) for v in checked)
        response = Response(upstream.content, status=upstream.status_code)
        response.headers.remove("Content-Type")  # the store's own, if it sent one
        for name, value in upstream.headers.items():
            if name.lower() not in NOT_FORWARDED:
                response.headers[name] = value
        if found:
            response.headers[VIOLATIONS_HEADER] = violations_header(found)
        self._journal(server, req, operation, upstream.status_code, body, answer, found, started, wall_time, url)
        return response

    def _journal(
        self,
        server: MockServer,
        req: Request,
        operation: Operation | None,
        status: int,
        body: Any,
        answer: Any,
        found: list[Violation],
        started: float,
        wall_time: float,
        url: str,
    ) -> None:
        small = answer if answer is not _NOT_JSON and len(json.dumps(answer, default=str)) <= BODY_LIMIT else None
        server.journal.record(
            time=wall_time,
            method=req.method,
            path=req.path,
            query=req.environ.get("QUERY_STRING", ""),
            operation_id=operation.operation_id if operation is not None else None,
            status=status,
            duration_ms=(time.perf_counter() - started) * 1000,
            body=body if body is not _NOT_JSON else None,
            proxy={"url": url, "response": small, "violations": [_violation_json(v) for v in found]},
        )


_NOT_JSON: Any = object()


def _json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack
        return _NOT_JSON


def request_violations(
    operation: Operation | None, template: str | None, raw_path: Mapping[str, str], req: Request, raw: bytes
) -> tuple[Any, list[Violation]]:
    """The parsed body and what in the request the spec rejects (never raised: the store decides)."""
    if template is None:
        return _json(raw), [Violation("request", "path", f"{req.path} is not a path of the spec")]
    if operation is None:
        return _json(raw), [
            Violation("request", "method", f"{req.method} is not an operation of this path in the spec")
        ]
    values: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
    found: list[Violation] = []
    for flask_name, text in raw_path.items():
        parameter = operation.path_parameters.get(flask_name)
        if parameter is not None:
            values["path"][parameter.name] = _coerced(parameter, text)
    for parameter in operation.query_parameters:
        if parameter.name in req.args:
            values["query"][parameter.name] = _coerced(parameter, req.args.getlist(parameter.name))
    for parameter in operation.header_parameters:
        if parameter.name in req.headers:
            values["header"][parameter.name] = _coerced(parameter, req.headers[parameter.name])
    found.extend(
        Violation("request", f"{v.location}.{v.field}", v.message) for v in operation.validate_parameters(values)
    )
    needs_token = bool(operation.security) and {} not in operation.security
    if needs_token and operation.token_headers and not any(req.headers.get(h) for h in operation.token_headers):
        found.append(Violation("request", f"header.{operation.token_headers[0]}", "is missing (no access token)"))
    media_type = (req.content_type or "").partition(";")[0].strip().lower()
    if media_type in operation.text_body_validators and raw.strip():  # a text body (`application/graphql`)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None, [*found, Violation("request", "body", "is not UTF-8 text")]
        return text, [
            *found,
            *(Violation("request", v.field or "body", v.message) for v in operation.validate_body(text, media_type)),
        ]
    body = _json(raw)
    if operation.body_validator is not None:
        if body is _NOT_JSON:
            found.append(Violation("request", "body", "is not JSON"))
        elif body is None:
            if operation.body_required:
                found.append(Violation("request", "body", "is required"))
        else:
            found.extend(Violation("request", v.field or "body", v.message) for v in operation.validate_body(body))
    return body, found


def _coerced(parameter: Any, raw: Any) -> Any:
    """The typed value, or the text as sent (which the schema then rejects, naming the field)."""
    try:
        return parameter.coerce(raw)
    except (ValueError, TypeError):
        return raw


def _violation_json(violation: Violation) -> dict[str, str]:
    return {"in": violation.location, "field": violation.field, "message": violation.message}


def violations_header(found: list[Violation]) -> str:
    """The header's value: a JSON array (ASCII, so any HTTP stack carries it)."""
    listed = [_violation_json(v) for v in found[:MAX_LISTED]]
    if len(found) > MAX_LISTED:
        listed.append({"in": "proxy", "field": "", "message": f"{len(found) - MAX_LISTED} more in the journal"})
    return json.dumps(listed, ensure_ascii=True, separators=(",", ":"))


def proxies(targets: Mapping[str, str]) -> dict[str, Proxy]:
    """One proxy per platform, sharing one connection pool."""
    session = requests.Session()
    return {name: Proxy(name, url, session) for name, url in targets.items()}
