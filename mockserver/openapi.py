"""OpenAPI documents as the routing table and the validator of every request and response.

A spec is read once; each operation gets its parameter, body and response validators compiled
at start-up, so a request costs one dictionary lookup plus the validation itself.

Validation answers with jsonschema's verdicts and messages. Because jsonschema walks a schema in
Python (about 0.2 ms for a refund body, 0.8 ms for a quote response), each validator also holds a
jsonschema_rs copy of its schema that answers first: when it accepts the instance, the instance is
valid; when it does not, jsonschema decides and explains. The copy is only built for schemas whose
keywords both libraries read the same way, and everything that could differ (`pattern` regular
expressions, `format` checks) runs as Python callbacks calling what jsonschema itself calls, so
the two verdicts are identical (tests/test_fast_validation.py holds them side by side).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jsonschema_rs
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from mockserver.platform import Violation

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PACKAGE_DIR = Path(__file__).resolve().parent
JSON_MEDIA_TYPE = "application/json"
MAX_INTEGER_DIGITS = sys.get_int_max_str_digits() or 4300  # what `int()` takes from text

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


FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER

# Keywords both libraries implement the same way (checked in tests/test_fast_validation.py); a
# schema that uses any other JSON Schema keyword is validated by jsonschema alone.
_SAME_ASSERTIONS = frozenset(
    {
        "type",
        "enum",
        "const",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "required",
    }
)
_SUBSCHEMA = frozenset({"items", "additionalProperties", "not", "if", "then", "else"})
_SUBSCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly", "$comment"}
)
_JSON_SCHEMA_KEYWORDS = frozenset(
    {
        "$schema",
        "$id",
        "$ref",
        "$anchor",
        "$dynamicRef",
        "$dynamicAnchor",
        "$recursiveRef",
        "$recursiveAnchor",
        "$vocabulary",
        "$defs",
        "definitions",
        "dependentSchemas",
        "dependencies",
        "prefixItems",
        "additionalItems",
        "contains",
        "maxContains",
        "minContains",
        "patternProperties",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
        "multipleOf",
        "uniqueItems",
        "dependentRequired",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
        "properties",
        "pattern",
        "format",
        *_SAME_ASSERTIONS,
        *_SUBSCHEMA,
        *_SUBSCHEMA_LISTS,
        *_ANNOTATIONS,
    }
)


class _Unsupported(Exception):
    """The schema uses something the quick copy does not reproduce exactly: jsonschema alone decides."""


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The node at a local reference (`#/components/schemas/Refund`, percent- and ~-escaped)."""
    if not pointer.startswith("#"):
        raise _Unsupported(f"non-local reference {pointer}")
    node = document
    for token in pointer[1:].lstrip("/").split("/") if pointer[1:] else []:
        token = unquote(token).replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def _pattern_check(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern)
    return lambda text: compiled.search(text) is not None  # what jsonschema's `pattern` does


def _format_check(name: str) -> Callable[[str], bool]:
    return lambda text: FORMAT_CHECKER.conforms(text, name)  # jsonschema's own checker for `format`


def quick_schema(document: dict[str, Any], pointer: str) -> tuple[dict[str, Any], dict[str, Callable[[str], bool]]]:
    """A self-contained copy of the schema at `pointer` for jsonschema_rs, and its Python callbacks.

    References become `$defs` entries; `pattern` and `format` become custom formats whose checks
    are jsonschema's; annotations and unknown keywords (ignored by both libraries) are dropped.
    Raises `_Unsupported` for schemas that use a keyword outside the shared set.
    """
    definitions: dict[str, Any] = {}
    names: dict[str, str] = {}
    formats: dict[str, Callable[[str], bool]] = {}
    format_names: dict[tuple[str, str], str] = {}

    def custom_format(kind: str, value: str) -> str:
        key = (kind, value)
        if key not in format_names:
            format_names[key] = name = f"refund-mock-{kind}-{len(format_names)}"
            formats[name] = _pattern_check(value) if kind == "pattern" else _format_check(value)
        return format_names[key]

    def reference(target: str) -> str:
        if target not in names:
            names[target] = name = f"s{len(names)}"
            definitions[name] = True  # placeholder while a recursive reference is being copied
            definitions[name] = convert(resolve_pointer(document, target))
        return f"#/$defs/{names[target]}"

    def convert(node: Any) -> Any:
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            raise _Unsupported(f"schema node {node!r}")
        copy: dict[str, Any] = {}
        checks: list[dict[str, Any]] = []
        for key, value in node.items():
            if key == "$ref":
                copy["$ref"] = reference(value)
            elif key == "properties":
                copy[key] = {name: convert(subschema) for name, subschema in value.items()}
            elif key in _SUBSCHEMA:
                copy[key] = convert(value)
            elif key in _SUBSCHEMA_LISTS:
                copy[key] = [convert(subschema) for subschema in value]
            elif key in ("pattern", "format"):
                checks.append({"format": custom_format(key, value)})
            elif key in _SAME_ASSERTIONS:
                copy[key] = value
            elif key in _JSON_SCHEMA_KEYWORDS and key not in _ANNOTATIONS:
                raise _Unsupported(key)
        if checks:
            copy["allOf"] = [*copy.get("allOf", []), *checks]
        return copy

    root = convert(resolve_pointer(document, pointer))
    if isinstance(root, dict) and definitions:
        root["$defs"] = definitions
    return root, formats


class SchemaValidator:
    """jsonschema's verdicts and error messages, answered first by jsonschema_rs when it can.

    Has the parts of jsonschema's validator API the project uses: `is_valid`, `iter_errors`,
    `schema`. `detailed` is the jsonschema validator itself.
    """

    def __init__(self, document: dict[str, Any], pointer: str):
        root = dict(document)
        root["$ref"] = pointer
        Draft202012Validator.check_schema({"$ref": pointer})
        self.pointer = pointer
        self.detailed = Draft202012Validator(root, format_checker=FORMAT_CHECKER)
        self.quick: Any = None
        try:
            schema, formats = quick_schema(document, pointer)
            self.quick = jsonschema_rs.Draft202012Validator(
                schema, validate_formats=True, formats=formats, ignore_unknown_formats=True
            )
        except (_Unsupported, KeyError, IndexError, ValueError, TypeError):
            self.quick = None  # jsonschema alone: the same verdicts, only slower

    @property
    def schema(self) -> Any:
        return self.detailed.schema

    def surely_valid(self, instance: Any) -> bool:
        """True when the quick copy accepts `instance` (then jsonschema accepts it too)."""
        if self.quick is None:
            return False
        try:
            return self.quick.is_valid(instance)
        except Exception:  # e.g. a lone surrogate in a string, which Rust cannot take: jsonschema decides
            return False

    def is_valid(self, instance: Any) -> bool:
        return self.surely_valid(instance) or self.detailed.is_valid(instance)

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        if self.surely_valid(instance):
            return iter(())
        return self.detailed.iter_errors(instance)


def schema_validator(document: dict[str, Any], pointer: str) -> SchemaValidator:
    """A validator for the schema at `pointer` whose `#/components/...` references resolve in `document`."""
    return SchemaValidator(document, pointer)


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


def violations_of(validator: SchemaValidator | Draft202012Validator, instance: Any, location: str) -> list[Violation]:
    """Every violation, most specific first, at most one per field."""
    if isinstance(validator, SchemaValidator) and validator.surely_valid(instance):
        return []
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
        return _integer(raw)
    if kind == "number":
        try:
            number = float(raw)
        except ValueError:
            return raw
        return _integer(raw) if re.fullmatch(r"[+-]?\d+", raw) else number
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


def _integer(digits: str) -> int:
    """`int(digits)`; past the digits `int()` takes from text (4300), a stand-in as large, with the same
    sign, so that the spec's bounds refuse it by the parameter's name instead of Python's limit leaking."""
    sign = -1 if digits.startswith("-") else 1
    significant = digits.lstrip("+-").lstrip("0") or "0"
    if len(significant) <= MAX_INTEGER_DIGITS:
        return sign * int(significant)
    return sign * 10 ** (MAX_INTEGER_DIGITS - 1)


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
    body_validator: SchemaValidator | None
    parameter_validator: SchemaValidator
    security: list[dict[str, list[str]]]
    response_validators: dict[str, SchemaValidator | None] = field(default_factory=dict)
    # The request body's media types besides JSON whose schema is a string (Shopify GraphQL's
    # `application/graphql`): such a body reaches the handler as its text, checked by this validator.
    text_body_validators: dict[str, SchemaValidator] = field(default_factory=dict)

    @cached_property
    def path_parameters(self) -> dict[str, Parameter]:
        """Path parameters by their Flask rule name (`:` becomes `_`)."""
        return {p.name.replace(":", "_"): p for p in self.parameters if p.location == "path"}

    @cached_property
    def query_parameters(self) -> tuple[Parameter, ...]:
        return tuple(parameter for parameter in self.parameters if parameter.location == "query")

    @cached_property
    def header_parameters(self) -> tuple[Parameter, ...]:
        return tuple(parameter for parameter in self.parameters if parameter.location == "header")

    @cached_property
    def token_headers(self) -> tuple[str, ...]:
        """Headers that may carry the token of one of the operation's apiKey security schemes."""
        names = {name for requirement in self.security for name in requirement}
        schemes = [self.spec.security_schemes.get(name, {}) for name in sorted(names)]
        return tuple(
            scheme["name"] for scheme in schemes if scheme.get("type") == "apiKey" and scheme.get("in") == "header"
        )

    def validate_parameters(self, values: dict[str, dict[str, Any]]) -> list[Violation]:
        """`values` maps location ("path", "query", "header") to the coerced parameters."""
        found = violations_of(self.parameter_validator, values, "parameters")
        result = []
        for violation in found:
            location, _, name = violation.field.partition(".")
            result.append(Violation(location or "parameters", name or violation.field, violation.message))
        return result

    def validate_body(self, body: Any, media_type: str = JSON_MEDIA_TYPE) -> list[Violation]:
        validator = self.text_body_validators.get(media_type, self.body_validator)
        if validator is None:
            return []
        return violations_of(validator, body, "body")

    @cached_property
    def body_media_types(self) -> frozenset[str]:
        """The request body's declared media types (JSON, and those read as text)."""
        return frozenset({JSON_MEDIA_TYPE, *self.text_body_validators})

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

    def declared_scopes(self) -> set[str]:
        """Every scope an operation's security requirements name (apiKey schemes list none themselves)."""
        return {
            scope
            for operation in self.operations.values()
            for alternative in operation.required_scopes()
            for scope in alternative
        }

    def __init__(self, path: Path):
        self.path = path
        self.document = load_document(path)
        self._validators: dict[str, SchemaValidator] = {}
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

    def schema(self, name: str) -> SchemaValidator:
        return self.validator(f"#/components/schemas/{_pointer_token(name)}")

    def validator(self, pointer: str) -> SchemaValidator:
        """The validator of the schema at `pointer` in this document, built once."""
        found = self._validators.get(pointer)
        if found is None:
            found = self._validators[pointer] = schema_validator(self.document, pointer)
        return found

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
        text_body_validators: dict[str, SchemaValidator] = {}
        request_body = definition.get("requestBody")
        if request_body is not None:
            request_body = self._resolve(request_body)
            body_required = bool(request_body.get("required", False))
            pointer = f"{base}/requestBody/content/application~1json/schema"
            if "$ref" in definition["requestBody"]:
                pointer = definition["requestBody"]["$ref"] + "/content/application~1json/schema"
            body_validator = self.validator(pointer)
            for media_type, media in request_body.get("content", {}).items():
                if media_type != JSON_MEDIA_TYPE and self._resolve(media.get("schema", {})).get("type") == "string":
                    base_pointer = pointer.rsplit("/content/", 1)[0]
                    text_pointer = f"{base_pointer}/content/{_pointer_token(media_type)}/schema"
                    text_body_validators[media_type] = self.validator(text_pointer)

        responses: dict[str, SchemaValidator | None] = {}
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
            responses[str(status)] = self.validator(pointer)

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
            text_body_validators=text_body_validators,
        )

    def iter_examples(self) -> Iterator[tuple[str, Any, SchemaValidator]]:
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
                yield f"schema {name} example {index}", example, self.validator(pointer)

    def _media_examples(
        self, label: str, media: Mapping[str, Any], pointer: str
    ) -> Iterator[tuple[str, Any, SchemaValidator]]:
        if "schema" not in media:
            return
        if "example" in media:
            yield label, media["example"], self.validator(pointer)
        for name, example in media.get("examples", {}).items():
            example = self._resolve(example)
            if "value" in example:
                yield f"{label} example {name}", example["value"], self.validator(pointer)

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
