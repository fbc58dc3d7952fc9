"""OpenAPI documents as the routing table and the validator of every request and response.

A spec is read once; each operation gets its parameter, body and response validators compiled
at start-up, so a request costs one dictionary lookup plus the validation itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from mockserver.platform import Violation

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PACKAGE_DIR = Path(__file__).resolve().parent

try:  # the C loader reads the specs several times faster
    _YamlLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _YamlLoader = yaml.SafeLoader


def data_dir(name: str) -> Path:
    """`specs` or `fixtures`: inside an installed wheel, or at the root of a source checkout."""
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the {name}/ folder beside the mockserver package")


def load_document(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_YamlLoader)


def _pointer_token(text: str) -> str:
    """One JSON-pointer token, percent-encoded for a URI fragment (`{order_id}` -> `%7Border_id%7D`)."""
    return quote(text.replace("~", "~0").replace("/", "~1"), safe="~!$&'()*+,;=:@")


def schema_validator(document: dict[str, Any], pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer` whose `#/components/...` references resolve in `document`."""
    root = dict(document)
    root["$ref"] = pointer
    Draft202012Validator.check_schema({"$ref": pointer})
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def describe_error(error: ValidationError) -> tuple[str, str]:
    """(dotted field path, short reason) for one jsonschema error, worded for API users."""
    path = [str(part) for part in error.absolute_path]
    keyword = error.validator
    if keyword == "required":
        missing = [
            name for name in error.validator_value if isinstance(error.instance, dict) and name not in error.instance
        ]
        return ".".join([*path, missing[0] if missing else "?"]), "is required"
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(name for name in error.instance if name not in allowed)
        return ".".join([*path, extra[0] if extra else "?"]), "is not a recognised field"
    if keyword == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return ".".join(path), f"must be {'an' if str(expected)[0] in 'aeiou' else 'a'} {expected}"
    if keyword == "enum":
        return ".".join(path), "must be one of " + ", ".join(json.dumps(v) for v in error.validator_value)
    if keyword == "const":
        return ".".join(path), f"must be {json.dumps(error.validator_value)}"
    if keyword in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        words = {
            "minimum": "greater than or equal to",
            "exclusiveMinimum": "greater than",
            "maximum": "less than or equal to",
            "exclusiveMaximum": "less than",
        }[keyword]
        return ".".join(path), f"must be {words} {error.validator_value}"
    if keyword in ("minLength", "maxLength", "minItems", "maxItems"):
        unit = "characters" if "Length" in keyword else "items"
        bound = "at least" if keyword.startswith("min") else "at most"
        return ".".join(path), f"must have {bound} {error.validator_value} {unit}"
    if keyword == "pattern":
        return ".".join(path), f"must match the pattern {error.validator_value}"
    if keyword == "format":
        return ".".join(path), f"must be a valid {error.validator_value}"
    if keyword in ("oneOf", "anyOf") and error.context:
        deepest = max(error.context, key=lambda sub: len(sub.absolute_path))
        return describe_error(deepest)
    return ".".join(path), error.message


def violations_of(validator: Draft202012Validator, instance: Any, location: str) -> list[Violation]:
    """Every violation, most specific first, at most one per field."""
    seen: set[str] = set()
    found: list[Violation] = []
    errors = sorted(validator.iter_errors(instance), key=lambda e: (-len(e.absolute_path), str(list(e.absolute_path))))
    for error in errors:
        field_path, reason = describe_error(error)
        if field_path in seen:
            continue
        seen.add(field_path)
        found.append(Violation(location, field_path, reason))
    return found


@dataclass
class Parameter:
    name: str
    location: str  # path, query, header
    required: bool
    schema: dict[str, Any]
    explode: bool

    def coerce(self, raw: str | list[str]) -> Any:
        """Turn the text of a parameter into the type its schema names; leave it as text if it does not fit."""
        return _coerce(self.schema, raw, self.explode)


def _coerce(schema: dict[str, Any], raw: str | list[str], explode: bool) -> Any:
    kind = schema.get("type")
    if isinstance(raw, list) and kind != "array":
        raw = raw[-1]
    if kind == "array":
        items = raw if isinstance(raw, list) else [raw]
        if not explode:
            items = [part for text in items for part in text.split(",")]
        return [_coerce(schema.get("items", {}), item, True) for item in items]
    assert isinstance(raw, str)
    if kind == "integer" and re.fullmatch(r"[+-]?\d+", raw):
        return int(raw)
    if kind == "number":
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(raw) if re.fullmatch(r"[+-]?\d+", raw) else number
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


@dataclass
class Operation:
    """One operation of a spec, with everything needed to serve it compiled."""

    spec: Spec
    method: str  # upper case
    path: str  # the spec's path template
    operation_id: str
    definition: dict[str, Any]
    parameters: list[Parameter]
    body_required: bool
    body_validator: Draft202012Validator | None
    parameter_validator: Draft202012Validator
    security: list[dict[str, list[str]]]
    response_validators: dict[str, Draft202012Validator | None] = field(default_factory=dict)

    def validate_parameters(self, values: dict[str, dict[str, Any]]) -> list[Violation]:
        """`values` maps location ("path", "query", "header") to the coerced parameters."""
        found = violations_of(self.parameter_validator, values, "parameters")
        result = []
        for violation in found:
            location, _, name = violation.field.partition(".")
            result.append(Violation(location or "parameters", name or violation.field, violation.message))
        return result

    def validate_body(self, body: Any) -> list[Violation]:
        if self.body_validator is None:
            return []
        return violations_of(self.body_validator, body, "body")

    def response_violations(self, status: int, body: Any) -> list[Violation]:
        """What is wrong with a response: an undeclared status, or a body its schema rejects."""
        key = str(status)
        if key not in self.response_validators:
            key = f"{key[0]}XX" if f"{key[0]}XX" in self.response_validators else "default"
        if key not in self.response_validators:
            return [Violation("status", str(status), f"status {status} is not declared for {self.operation_id}")]
        validator = self.response_validators[key]
        if validator is None:
            return []
        return violations_of(validator, body, "response")

    def required_scopes(self) -> list[list[str]]:
        """Alternatives: the request needs every scope of at least one list."""
        return [scopes for requirement in self.security for scopes in requirement.values()]


class Spec:
    """One OpenAPI document: its operations by id and by (method, path template)."""

    def __init__(self, path: Path):
        self.path = path
        self.document = load_document(path)
        self.operations: dict[str, Operation] = {}
        self.paths: dict[str, dict[str, Operation]] = {}
        self.security_schemes: dict[str, dict[str, Any]] = self.document.get("components", {}).get(
            "securitySchemes", {}
        )
        for template, item in self.document.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                operation = self._compile(template, method, item[method], shared)
                self.operations[operation.operation_id] = operation
                self.paths.setdefault(template, {})[operation.method] = operation

    @cached_property
    def path_prefix(self) -> str:
        """The longest leading run of literal segments that every path shares."""
        split = [template.strip("/").split("/") for template in self.paths]
        prefix: list[str] = []
        for parts in zip(*split, strict=False):
            if len(set(parts)) != 1 or "{" in parts[0]:
                break
            prefix.append(parts[0])
        return "/" + "/".join(prefix)

    def schema(self, name: str) -> Draft202012Validator:
        return schema_validator(self.document, f"#/components/schemas/{_pointer_token(name)}")

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for token in node["$ref"].lstrip("#/").split("/"):
                target = target[token.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def _compile(self, template: str, method: str, definition: dict[str, Any], shared: list[Any]) -> Operation:
        base = f"#/paths/{_pointer_token(template)}/{method}"
        parameters: dict[tuple[str, str], Parameter] = {}
        for raw in [*shared, *definition.get("parameters", [])]:
            parameter = self._resolve(raw)
            location = parameter["in"]
            if location == "cookie":
                continue
            name = parameter["name"].lower() if location == "header" else parameter["name"]
            parameters[(location, name)] = Parameter(
                name=name,
                location=location,
                required=bool(parameter.get("required", location == "path")),
                schema=self._resolve(parameter.get("schema", {})),
                explode=parameter.get("explode", parameter.get("style", "form") == "form"),
            )
        grouped: dict[str, dict[str, Any]] = {}
        for parameter in parameters.values():
            group = grouped.setdefault(parameter.location, {"type": "object", "properties": {}, "required": []})
            group["properties"][parameter.name] = parameter.schema
            if parameter.required:
                group["required"].append(parameter.name)
        parameter_schema = {
            "type": "object",
            "properties": grouped,
            "required": [location for location, group in grouped.items() if group["required"]],
        }
        document = dict(self.document)
        document["$defs_parameters"] = parameter_schema
        parameter_validator = schema_validator(document, "#/$defs_parameters")

        body_validator = None
        body_required = False
        request_body = definition.get("requestBody")
        if request_body is not None:
            request_body = self._resolve(request_body)
            body_required = bool(request_body.get("required", False))
            pointer = f"{base}/requestBody/content/application~1json/schema"
            if "$ref" in definition["requestBody"]:
                pointer = definition["requestBody"]["$ref"] + "/content/application~1json/schema"
            body_validator = schema_validator(self.document, pointer)

        responses: dict[str, Draft202012Validator | None] = {}
        for status, response in definition.get("responses", {}).items():
            resolved = self._resolve(response)
            content = resolved.get("content", {})
            if "application/json" not in content or "schema" not in content["application/json"]:
                responses[str(status)] = None
                continue
            if "$ref" in response:
                pointer = response["$ref"] + "/content/application~1json/schema"
            else:
                pointer = f"{base}/responses/{status}/content/application~1json/schema"
            responses[str(status)] = schema_validator(self.document, pointer)

        security = definition.get("security", self.document.get("security", []))
        return Operation(
            spec=self,
            method=method.upper(),
            path=template,
            operation_id=definition["operationId"],
            definition=definition,
            parameters=list(parameters.values()),
            body_required=body_required,
            body_validator=body_validator,
            parameter_validator=parameter_validator,
            security=security,
            response_validators=responses,
        )

    def iter_examples(self) -> Iterator[tuple[str, Any, Draft202012Validator]]:
        """Every example in the document with the validator of the schema it illustrates."""
        for template, item in self.document.get("paths", {}).items():
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                base = f"#/paths/{_pointer_token(template)}/{method}"
                definition = item[method]
                request_body = definition.get("requestBody")
                if request_body is not None and "$ref" not in request_body:
                    media = request_body.get("content", {}).get("application/json", {})
                    pointer = f"{base}/requestBody/content/application~1json/schema"
                    yield from self._media_examples(f"{definition['operationId']} request", media, pointer)
                for status, response in definition.get("responses", {}).items():
                    if "$ref" in response:
                        continue
                    media = response.get("content", {}).get("application/json", {})
                    pointer = f"{base}/responses/{status}/content/application~1json/schema"
                    yield from self._media_examples(f"{definition['operationId']} {status}", media, pointer)
        components = self.document.get("components", {})
        for name, response in components.get("responses", {}).items():
            media = response.get("content", {}).get("application/json", {})
            pointer = f"#/components/responses/{_pointer_token(name)}/content/application~1json/schema"
            yield from self._media_examples(f"response {name}", media, pointer)
        for name, body in components.get("requestBodies", {}).items():
            media = body.get("content", {}).get("application/json", {})
            pointer = f"#/components/requestBodies/{_pointer_token(name)}/content/application~1json/schema"
            yield from self._media_examples(f"request body {name}", media, pointer)
        for name, schema in components.get("schemas", {}).items():
            pointer = f"#/components/schemas/{_pointer_token(name)}"
            for index, example in enumerate(schema.get("examples", [])):
                yield f"schema {name} example {index}", example, schema_validator(self.document, pointer)

    def _media_examples(
        self, label: str, media: Mapping[str, Any], pointer: str
    ) -> Iterator[tuple[str, Any, Draft202012Validator]]:
        if "schema" not in media:
            return
        if "example" in media:
            yield label, media["example"], schema_validator(self.document, pointer)
        for name, example in media.get("examples", {}).items():
            example = self._resolve(example)
            if "value" in example:
                yield f"{label} example {name}", example["value"], schema_validator(self.document, pointer)

    def named_example(self, operation: Operation, status: int, name: str | None) -> Any:
        """The response example `name` (or the first one) for `status`, as Prism's `Prefer` picks it."""
        response = self._resolve(operation.definition.get("responses", {}).get(str(status), {}))
        media = response.get("content", {}).get("application/json", {})
        examples = {key: self._resolve(value).get("value") for key, value in media.get("examples", {}).items()}
        if name is not None:
            return examples.get(name)
        if "example" in media:
            return media["example"]
        return next(iter(examples.values()), None)


_SPEC_CACHE: dict[tuple[str, int], Spec] = {}


def load_spec(path: Path) -> Spec:
    """The compiled spec at `path`, built once per file version and shared (specs are read-only)."""
    resolved = Path(path).resolve()
    key = (str(resolved), resolved.stat().st_mtime_ns)
    spec = _SPEC_CACHE.get(key)
    if spec is None:
        spec = _SPEC_CACHE[key] = Spec(resolved)
    return spec
