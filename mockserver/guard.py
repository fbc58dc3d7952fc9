"""Keep web pages in the developer's browser from driving the mock.

Two checks, as Vite's dev server makes them by default (`server.allowedHosts`, and `server.cors`
no longer open to every origin since the DNS-rebinding advisories of 2025):

- **Host** (every path): a request whose `Host` is a name other than `localhost` (or one under
  `.localhost`), an IP address, or a listed host (`serve --allowed-hosts`) is refused with a
  403. A page on `evil.example` whose name is rebound to 127.0.0.1 still sends
  `Host: evil.example`, so it cannot reach the mock that way. A request without `Host` (not a
  browser's) passes.
- **Origin** (the admin API, `/__mock/...`): reset, scenarios, loading orders and the journal
  answer only requests from their own origin or from a listed one (`serve --admin-origins`). A
  browser sends `Origin` on every cross-origin request that can change something, so any other
  page is refused before the admin API acts; a cross-site request without `Origin`
  (`Sec-Fetch-Site: cross-site`) is refused too. The platform APIs keep answering front ends
  of any origin (mockserver.cors).

A WSGI middleware outside Flask and outside CORS, so a refusal carries no CORS header: the page
that sent it cannot read it, the developer's terminal and network panel can.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Flask

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

DEFAULT_PORTS = {"http": 80, "https": 443}

# (path, message) -> the JSON body of the 403, in the shape of the API the path belongs to
Refusal = Callable[[str, str], bytes]


def host_name(host_header: str) -> str:
    """`Host` without its port, lower case, without a final dot: `[::1]:8080` -> `::1`."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit() and ":" not in name:
        host = name
    return host.rstrip(".")


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return True


def normalise_origin(origin: str) -> str | None:
    """`scheme://host:port` with the default port written out, or None for `null` and junk."""
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}:{port or DEFAULT_PORTS[parts.scheme]}"


def install_guard(app: Flask, refusal: Refusal, allowed_hosts: Iterable[str], admin_origins: Iterable[str]) -> None:
    """Wrap the app's WSGI callable: the checks run before Flask, CORS and routing."""
    app.wsgi_app = BrowserGuard(  # type: ignore[method-assign]
        app.wsgi_app, refusal, allowed_hosts=allowed_hosts, admin_origins=admin_origins
    )


class HostRules:
    """Which `Host` names the server answers: Vite's defaults plus the listed ones.

    A listed name starting with a dot (`.example.test`) also allows every name under it.
    """

    def __init__(self, allowed_hosts: Iterable[str]):
        names = {name.strip().lower().rstrip(".") for name in allowed_hosts if name.strip()}
        self.exact = {name for name in names if not name.startswith(".")}
        self.suffixes = tuple(name for name in names if name.startswith("."))

    def allows(self, name: str) -> bool:
        if name == "localhost" or name.endswith(".localhost") or is_ip_address(name) or name in self.exact:
            return True
        return any(name == suffix[1:] or name.endswith(suffix) for suffix in self.suffixes)


class BrowserGuard:
    """The Host check on every request and the Origin check on the admin API's."""

    def __init__(
        self,
        app: WSGIApplication,
        refusal: Refusal,
        *,
        allowed_hosts: Iterable[str] = (),
        admin_origins: Iterable[str] = (),
        admin_prefix: str = "/__mock",
    ):
        self.app = app
        self.refusal = refusal
        self.hosts = HostRules(allowed_hosts)
        self.admin_origins = {normalised for origin in admin_origins if (normalised := normalise_origin(origin))}
        self.admin_prefix = admin_prefix
        # verdicts by raw Host header: a client sends the same few, and parsing one costs some µs
        self._host_verdicts: dict[str, str | None] = {}

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        host_header = environ.get("HTTP_HOST")
        if host_header is not None:
            try:
                refused = self._host_verdicts[host_header]
            except KeyError:
                refused = self._host_verdict(host_header)
            if refused is not None:
                return self._refuse(environ, start_response, refused)
        if environ.get("PATH_INFO", "").startswith(self.admin_prefix):
            problem = self.admin_origin_problem(environ)
            if problem is not None:
                return self._refuse(environ, start_response, problem)
        return self.app(environ, start_response)

    def _host_verdict(self, host_header: str) -> str | None:
        """Why this Host is refused, or None; remembered (a bounded number of distinct headers)."""
        name = host_name(host_header)
        refused = None if self.hosts.allows(name) else self.host_message(name)
        if len(self._host_verdicts) >= 1024:
            self._host_verdicts.clear()
        self._host_verdicts[host_header] = refused
        return refused

    @staticmethod
    def host_message(name: str) -> str:
        return (
            f"Blocked request: the Host {name!r} is not allowed (a guard against DNS rebinding). "
            f"If this server is meant to answer to that name, start it with --allowed-hosts {name}"
        )

    def admin_origin_problem(self, environ: WSGIEnvironment) -> str | None:
        """Why this admin request is refused, or None when its origin may use the admin API."""
        origin = environ.get("HTTP_ORIGIN")
        if origin is None:
            if environ.get("HTTP_SEC_FETCH_SITE", "").lower() == "cross-site":
                return "Blocked request: the admin API does not answer other sites' pages"
            return None
        normalised = normalise_origin(origin)
        own = normalise_origin(f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}")
        if normalised is not None and (normalised == own or normalised in self.admin_origins):
            return None
        return (
            f"Blocked request: the admin API answers only its own origin and those given to --admin-origins, "
            f"not {origin!r}. To let that page reset the mock, load orders and scenarios and read the "
            f"journal, start the server with --admin-origins {origin}"
        )

    def _refuse(self, environ: WSGIEnvironment, start_response: StartResponse, message: str) -> Iterable[bytes]:
        body = self.refusal(environ.get("PATH_INFO", "/"), message)
        start_response(
            "403 FORBIDDEN",
            [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]
