"""Prism-compatible answer choice: `Prefer: code=422, example=name`, `?__code=422&__example=name`.

Prism users can point their tests at refund-mock unchanged. One difference, on purpose: a
success code without an example name (`Prefer: code=200`) gets the computed answer, since
computing real quotes is what this mock is for; name an example to get the spec's literal one.
Error codes get the spec's named (or first) example, else the platform's own error shape with
the HTTP reason phrase. Answers are built and checked against the spec once, then cached.
"""

from __future__ import annotations

import http
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.openapi import Operation, Spec
from mockserver.platform import ErrorFactory

PREFERENCE = re.compile(r"""\s*([A-Za-z_-]+)\s*=\s*("[^"]*"|[^,;\s]*)\s*""")


@dataclass(frozen=True)
class Preference:
    """What the client asked for; `source` names the header or query parameter, for messages."""

    code: str | None
    example: str | None
    source: str

    def label(self) -> str:
        if self.source == "Prefer":
            parts = [f"code={self.code}"] if self.code else []
            parts += [f"example={self.example}"] if self.example else []
            return "Prefer " + ", ".join(parts)
        parts = [f"__code={self.code}"] if self.code else []
        parts += [f"__example={self.example}"] if self.example else []
        return "&".join(parts)


def parse_prefer(header: str | None) -> Preference | None:
    """`code=422, example=overQuantity` (RFC 7240 style, several preferences by comma or semicolon)."""
    if not header:
        return None
    found: dict[str, str] = {}
    for part in re.split(r"[,;]", header):
        match = PREFERENCE.fullmatch(part)
        if match:
            found[match.group(1).lower()] = match.group(2).strip('"')
    if "code" not in found and "example" not in found:
        return None
    return Preference(found.get("code") or None, found.get("example") or None, "Prefer")


def parse_query(args: Mapping[str, str]) -> Preference | None:
    code, example = args.get("__code"), args.get("__example")
    if not code and not example:
        return None
    return Preference(code or None, example or None, "__code" if code else "__example")


class PreferenceError(ValueError):
    """The preference cannot be honoured; `field` is the header or parameter to name in the 422."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Choice:
    """A literal answer for the preference; None from `choose` means: compute as usual."""

    status: int
    body: Any
    headers: Mapping[str, str]


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for token in node["$ref"].lstrip("#/").split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def example_names(spec: Spec, operation: Operation, status: str) -> list[str]:
    response = _resolve(spec.document, operation.definition.get("responses", {}).get(status, {}))
    media = response.get("content", {}).get("application/json", {})
    return list(media.get("examples", {}))


class ExampleChooser:
    """Resolves preferences per operation; results (and refusals) are cached."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str | None, str | None], Choice | PreferenceError | None] = {}
        self._lock = threading.Lock()

    def choose(
        self, platform: str, spec: Spec, operation: Operation, errors: ErrorFactory, preference: Preference
    ) -> Choice | None:
        key = (platform, operation.operation_id, preference.code, preference.example)
        cached = self._cache.get(key, False)
        if cached is False:
            try:
                cached = self._build(spec, operation, errors, preference)
            except PreferenceError as error:
                cached = error
            with self._lock:
                self._cache[key] = cached
        if isinstance(cached, PreferenceError):
            raise cached
        return cached

    def _build(self, spec: Spec, operation: Operation, errors: ErrorFactory, preference: Preference) -> Choice | None:
        declared = [status for status in operation.definition.get("responses", {}) if str(status).isdigit()]
        field = preference.source
        name = operation.operation_id
        if preference.code is None:
            assert preference.example is not None
            statuses = [status for status in declared if preference.example in example_names(spec, operation, status)]
            if not statuses:
                raise PreferenceError(field, f"{name} has no response example named {preference.example!r}")
            code = statuses[0]
        elif not preference.code.isdigit() or preference.code not in declared:
            raise PreferenceError(
                field, f"{name} does not declare status {preference.code!r}; it declares {', '.join(declared)}"
            )
        else:
            code = preference.code
        status = int(code)
        if preference.example is not None:
            if preference.example not in example_names(spec, operation, code):
                known = ", ".join(example_names(spec, operation, code)) or "none"
                raise PreferenceError(
                    "Prefer" if preference.source == "Prefer" else "__example",
                    f"{name} has no {code} example named {preference.example!r} (named examples: {known})",
                )
            example = spec.named_example(operation, status, preference.example)
            return self._checked(operation, status, example, self._platform_headers(operation, errors, status))
        if status < 400:
            return None
        body = spec.named_example(operation, status, None)
        if body is None:
            scripted = getattr(errors, "scripted", None)
            if scripted is None:
                raise PreferenceError(field, f"{name} has no {code} example to answer with")
            body = scripted(operation.path, status, http.HTTPStatus(status).phrase, None).body
        # the platform's headers for the status (a 429's Retry-After) go with a spec example too
        return self._checked(operation, status, body, self._platform_headers(operation, errors, status))

    @staticmethod
    def _platform_headers(operation: Operation, errors: ErrorFactory, status: int) -> dict[str, str]:
        scripted = getattr(errors, "scripted", None)
        if scripted is None or status < 400:
            return {}
        return dict(scripted(operation.path, status, http.HTTPStatus(status).phrase, None).headers)

    @staticmethod
    def _checked(operation: Operation, status: int, body: Any, headers: dict[str, str]) -> Choice:
        """Never answer with a body the spec rejects, even when the spec's own example is wrong."""
        violations = operation.response_violations(status, body)
        if violations:
            first = violations[0]
            raise PreferenceError(
                "Prefer",
                f"the {operation.operation_id} {status} example breaks its own schema "
                f"({first.field or '(body)'}: {first.message}); please report it",
            )
        return Choice(status, body, headers)
