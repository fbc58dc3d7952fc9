"""Scripted answers: scenario files, rule matching and the built-in library.

A scenario is a named list of rules; a rule says which requests it matches (`match`) and what the
mock answers instead of, or on top of, its computed answer (`respond`). Everything is compiled
when a scenario is loaded: the operations a rule can answer, its conditions, and one body per
operation, already checked against that operation's response schema. A body the spec rejects is
refused then, with the rule and the field named, so a scripted answer can never break the
contract at request time. The request path only looks up precomputed tuples.

The file format is described by `components/schemas/ScenarioFile` in `specs/admin.yaml` (the
same schema validates `POST /__mock/scenarios`), and for humans in `docs/scenarios.md`.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from mockserver.bodies import MAX_DEPTH, depth_of
from mockserver.openapi import Operation, Spec, violations_of
from mockserver.platform import ErrorFactory, MockHTTPError
from mockserver.safe_yaml import YamlRefused, load_yaml

log = logging.getLogger("refund_mock")

BUILTIN_FILE = Path(__file__).resolve().parent / "builtin_scenarios.yaml"
CONDITION_KEYS = frozenset({"equals", "one_of", "exists", "regex"})
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
DELAY_TEXT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?)\s*)?")
MAX_DELAY_MS = 60_000.0

OperationKey = tuple[str, str]  # (platform name, operationId): operationIds repeat across platforms


class ScenarioError(ValueError):
    """A scenario that cannot be loaded.

    `message` says where and why for humans ("scenario 'x', rule 2: ..."), `field` is the dotted
    path of the culprit in the document and `reason` the why alone.
    """

    def __init__(self, message: str, field: str = "", reason: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.reason = reason or message


# -- what rules can target ---------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One platform operation a rule can answer, with what it takes to build and check its bodies."""

    platform: str
    operation: Operation
    errors: ErrorFactory

    @property
    def key(self) -> OperationKey:
        return (self.platform, self.operation.operation_id)

    @property
    def path_parameters(self) -> frozenset[str]:
        return frozenset(parameter.name for parameter in self.operation.parameters if parameter.location == "path")

    def label(self) -> str:
        return f"{self.platform} {self.operation.operation_id}"


class Catalog:
    """Every operation of the platform specs, and the admin spec's schemas for scenario documents."""

    def __init__(self, platforms: Mapping[str, tuple[Spec, ErrorFactory]], admin_spec: Spec):
        self.targets: dict[OperationKey, Target] = {}
        for platform, (spec, errors) in platforms.items():
            for operation in spec.operations.values():
                target = Target(platform, operation, errors)
                self.targets[target.key] = target
        self.platforms = tuple(platforms)
        self._file_schema = admin_spec.schema("ScenarioFile")
        self._scenario_schema = admin_spec.schema("Scenario")

    def structure_errors(self, document: Any) -> list[tuple[str, str]]:
        """(field, reason) for each way `document` breaks the scenario file format."""
        validator = self._file_schema if isinstance(document, dict) and "scenarios" in document else None
        validator = validator or self._scenario_schema
        found = [(violation.field, violation.message) for violation in violations_of(validator, document, "body")]
        # a misspelt key also makes the right one "required": name the misspelling first
        return sorted(found, key=lambda problem: problem[1] != "is not a recognised field")


# -- conditions ----------------------------------------------------------------------------------


def as_text(value: Any) -> str:
    """How a value reads in a URL or a header: `true`, `12`, `2.5`, `null`, or the JSON of a container."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def json_equal(actual: Any, expected: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1, and containers compare element by element."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return actual == expected
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(json_equal(actual[key], expected[key]) for key in actual)
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(json_equal(a, e) for a, e in zip(actual, expected, strict=True))
    return type(actual) is type(expected) and actual == expected


Check = Callable[[list[Any]], bool]  # takes every value found at the place (none when absent)


def compile_condition(raw: Any, where: str, *, textual: bool) -> Check:
    """A literal is `equals`; a mapping of only `equals`, `one_of`, `exists`, `regex` is a condition.

    `textual` conditions (path, query, headers) compare the text of values, so `order_id: 1001`
    matches the URL's "1001"; body conditions compare JSON values.
    """
    if not (isinstance(raw, dict) and raw and set(raw) <= CONDITION_KEYS):
        raw = {"equals": raw}
    same: Callable[[Any, Any], bool] = (lambda a, e: as_text(a) == as_text(e)) if textual else json_equal
    checks: list[Check] = []
    if "exists" in raw:
        if not isinstance(raw["exists"], bool):
            raise ScenarioError(f"{where}.exists must be true or false", f"{where}.exists")
        wanted = raw["exists"]
        checks.append(lambda values: bool(values) is wanted)
    if "equals" in raw:
        expected = raw["equals"]
        checks.append(lambda values: any(same(value, expected) for value in values))
    if "one_of" in raw:
        choices = raw["one_of"]
        if not isinstance(choices, list) or not choices:
            raise ScenarioError(f"{where}.one_of must be a non-empty list", f"{where}.one_of")
        checks.append(lambda values: any(same(value, choice) for value in values for choice in choices))
    if "regex" in raw:
        pattern = compile_regex(str(raw["regex"]), f"{where}.regex")
        checks.append(lambda values: any(pattern.search(as_text(value)) for value in values))
    if len(checks) == 1:
        return checks[0]
    return lambda values: all(check(values) for check in checks)


def compile_regex(pattern: str, where: str) -> Any:
    """A scenario regex, compiled by RE2: matching takes time linear in the text, whatever the pattern.

    Python's `re` backtracks: `^(a+)+$` against 28 characters of a header would hold the server
    for seconds, doubling with each character. RE2 has no backreferences nor lookaround (they
    cannot be matched in linear time), so a pattern that uses them is refused here, at load time.
    """
    import re2  # google-re2; imported only when a scenario has a regex (13 ms)

    options = re2.Options()
    options.log_errors = False  # the refusal below says what is wrong; RE2 need not print it too
    try:
        return re2.compile(pattern, options)
    except re2.error as error:
        detail = error.args[0] if error.args else error
        reason = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        raise ScenarioError(
            f"{where} is not a valid regular expression for RE2 ({reason}): scenario regexes run in "
            "linear time, so backreferences and lookaround are not supported",
            where,
        ) from error


def pointer_tokens(pointer: str, where: str) -> tuple[str, ...]:
    """`/refund/refund_line_items/*/quantity` -> its tokens; `*` stands for every item or member."""
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise ScenarioError(f"{where}: a body field is a JSON pointer starting with '/'", where)
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/"))


def resolve_pointer(document: Any, tokens: Sequence[str]) -> list[Any]:
    """Every value at the pointer (several with `*`, none when the place does not exist)."""
    found = [document]
    for token in tokens:
        following: list[Any] = []
        for node in found:
            if isinstance(node, dict):
                if token == "*":
                    following.extend(node.values())
                elif token in node:
                    following.append(node[token])
            elif isinstance(node, list):
                if token == "*":
                    following.extend(node)
                elif token.isdigit() and int(token) < len(node):
                    following.append(node[int(token)])
        found = following
    return found


@dataclass
class Probe:
    """The parts of a validated request that rules look at."""

    path: Mapping[str, Any]  # typed path parameters
    query: Any  # a MultiDict (`getlist`) or a plain mapping
    headers: Mapping[str, str]  # case-insensitive
    body: Any

    def values(self, location: str, key: Any) -> list[Any]:
        if location == "body":
            return resolve_pointer(self.body, key)
        if location == "path":
            return [self.path[key]] if key in self.path else []
        if location == "query":
            if hasattr(self.query, "getlist"):
                return list(self.query.getlist(key))
            value = self.query.get(key)
            return [] if value is None else list(value) if isinstance(value, list) else [value]
        value = self.headers.get(key)
        return [] if value is None else [value]


# -- rules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """What a rule answers: a scripted status and body, a fault, or the computed answer (`passthrough`)."""

    status: int | None = None
    bodies: Mapping[OperationKey, Any] = field(default_factory=dict)  # one per operation, all spec-checked
    headers: Mapping[str, str] = field(default_factory=dict)
    operation_headers: Mapping[OperationKey, Mapping[str, str]] = field(default_factory=dict)
    delay: tuple[float, float] | None = None  # seconds, low and high
    fault: str | None = None
    passthrough: bool = False

    def headers_for(self, key: OperationKey) -> dict[str, str]:
        headers = dict(self.operation_headers.get(key, {}))
        headers.update(self.headers)
        return headers

    def sample_delay(self) -> float:
        if self.delay is None:
            return 0.0
        low, high = self.delay
        return low if low == high else random.uniform(low, high)

    def describe(self) -> str:
        if self.fault:
            return f"fault {self.fault}"
        if self.passthrough:
            return "passthrough"
        return str(self.status)


class CallCounter(Protocol):
    """Counts the requests a rule matched and answered somewhere other than in the rule itself.

    `serve --workers N` shares the counters of every worker process this way, so that `times`
    and `after` count requests to the server, not to one of its processes.
    """

    def claim(self, rule: Rule) -> bool: ...

    def answered(self, rule: Rule) -> int: ...


class Rule:
    """One `match` -> `respond` pair, with its call counters."""

    counter: CallCounter | None = None  # None: counted in this process (`seen`, `answered`)

    def __init__(
        self,
        scenario: str,
        index: int,
        name: str | None,
        targets: frozenset[OperationKey],
        conditions: tuple[tuple[str, Any, Check], ...],
        action: Action,
        times: int | None = None,
        after: int = 0,
    ):
        self.scenario = scenario
        self.index = index  # 1-based, as humans count
        self.name = name
        self.targets = targets
        self.conditions = conditions
        self.action = action
        self.times = times
        self.after = after
        self._lock = threading.Lock()
        self.seen = 0  # requests that met the conditions
        self.answered = 0  # requests this rule answered

    def label(self) -> str:
        return f"rule {self.index}" + (f" ({self.name!r})" if self.name else "")

    def matches(self, probe: Probe) -> bool:
        return all(check(probe.values(location, key)) for location, key, check in self.conditions)

    def claim(self, counter: CallCounter | None = None) -> bool:
        """Count one matching request; True when the counting (`after`, `times`) lets the rule answer it.

        `counter`: counted there (a named session's counts) instead of the rule's own."""
        counter = counter or self.counter
        if counter is not None:
            return counter.claim(self)
        with self._lock:
            self.seen += 1
            if self.seen <= self.after or (self.times is not None and self.seen > self.after + self.times):
                return False
            self.answered += 1
            return True

    def reset(self) -> None:
        with self._lock:
            self.seen = 0
            self.answered = 0

    def summary(self, counter: CallCounter | None = None) -> dict[str, Any]:
        counter = counter or self.counter
        return {
            "rule": self.index,
            "name": self.name,
            "operations": sorted(f"{platform}:{operation}" for platform, operation in self.targets),
            "answer": self.action.describe(),
            "answered": counter.answered(self) if counter is not None else self.answered,
        }


@dataclass
class Scenario:
    """A named list of rules; `active` scenarios apply to every request, the others only on demand."""

    name: str
    description: str
    source: str  # "builtin", "file" or "runtime"
    rules: tuple[Rule, ...]
    active: bool = False
    file: str | None = None
    by_target: dict[OperationKey, tuple[Rule, ...]] = field(init=False)

    def __post_init__(self) -> None:
        grouped: dict[OperationKey, list[Rule]] = {}
        for rule in self.rules:
            for key in rule.targets:
                grouped.setdefault(key, []).append(rule)
        self.by_target = {key: tuple(rules) for key, rules in grouped.items()}

    def summary(self, counter: CallCounter | None = None) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "file": self.file,
            "active": self.active,
            "rules": [rule.summary(counter) for rule in self.rules],
        }


@dataclass(frozen=True)
class Decision:
    """The rule that answers a request."""

    scenario: str
    rule: Rule

    @property
    def action(self) -> Action:
        return self.rule.action


# -- compiling documents ---------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_delay(raw: Any, where: str) -> tuple[float, float]:
    """`200`, `"100-300"` or `[100, 300]` milliseconds -> (low, high) seconds."""
    if _is_number(raw):
        low = high = float(raw)
    elif isinstance(raw, str) and (found := DELAY_TEXT.fullmatch(raw)):
        low = float(found.group(1))
        high = float(found.group(2)) if found.group(2) else low
    elif (
        isinstance(raw, list)
        and len(raw) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw)
    ):
        low, high = float(raw[0]), float(raw[1])
    else:
        raise ScenarioError(f"{where} must be milliseconds: a number, 'LOW-HIGH' or [LOW, HIGH]", where)
    if not 0 <= low <= high <= MAX_DELAY_MS:
        raise ScenarioError(f"{where} must run from low to high within 0-{MAX_DELAY_MS:.0f} ms", where)
    return low / 1000, high / 1000


class Compiler:
    """Turns scenario documents into `Scenario`s against a `Catalog`, or says exactly what is wrong."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def document(self, document: Any, source: str, file: str | None = None) -> list[Scenario]:
        """All scenarios of one document, or a `ScenarioError` for the first problem (nothing is loaded)."""
        problems = self.catalog.structure_errors(document)
        if problems:
            field_path, reason = problems[0]
            raise ScenarioError(f"{self._where(document, field_path)}{reason}", field_path, reason)
        listed = "scenarios" in document
        entries = document["scenarios"] if listed else [document]
        seen: set[str] = set()
        scenarios = []
        for index, entry in enumerate(entries):
            prefix = f"scenarios.{index}" if listed else ""
            if entry["name"] in seen:
                where = f"{prefix}.name" if prefix else "name"
                raise ScenarioError(f"scenario {entry['name']!r} is defined twice in this document", where)
            seen.add(entry["name"])
            scenarios.append(self.scenario(entry, source, file, prefix))
        return scenarios

    def scenario(self, entry: dict[str, Any], source: str, file: str | None, prefix: str) -> Scenario:
        name = entry["name"]
        rules = tuple(
            self.rule(raw, name, index + 1, _join(prefix, f"rules.{index}")) for index, raw in enumerate(entry["rules"])
        )
        return Scenario(
            name=name,
            description=entry.get("description", "").strip(),
            source=source,
            rules=rules,
            active=bool(entry.get("active", False)),
            file=file,
        )

    def rule(self, raw: dict[str, Any], scenario: str, index: int, where: str) -> Rule:
        label = f"rule {index}" + (f" ({raw['name']!r})" if raw.get("name") else "")
        match = raw.get("match", {})
        try:
            targets = self._targets(match, _join(where, "match"))
            conditions = self._conditions(match, _join(where, "match"))
            action = self._action(raw["respond"], targets, _join(where, "respond"))
        except ScenarioError as error:
            message = f"scenario {scenario!r}, {label}: {error.message}"
            raise ScenarioError(message, error.field, error.reason) from error
        return Rule(
            scenario=scenario,
            index=index,
            name=raw.get("name"),
            targets=frozenset(target.key for target in targets),
            conditions=conditions,
            action=action,
            times=match.get("times"),
            after=match.get("after", 0),
        )

    def _targets(self, match: dict[str, Any], where: str) -> list[Target]:
        platform = match.get("platform")
        candidates = [t for t in self.catalog.targets.values() if platform is None or t.platform == platform]
        if platform is not None and not candidates:
            raise ScenarioError(f"no platform named {platform!r} is loaded", _join(where, "platform"))
        wanted = match.get("operationId")
        if wanted is not None:
            names = [wanted] if isinstance(wanted, str) else list(wanted)
            known = {t.operation.operation_id for t in candidates}
            for name in names:
                if name not in known:
                    scope = f" on {platform}" if platform else ""
                    raise ScenarioError(
                        f"no operation {name!r}{scope}; known: {', '.join(sorted(known))}",
                        _join(where, "operationId"),
                    )
            candidates = [t for t in candidates if t.operation.operation_id in names]
        for parameter in match.get("path", {}):
            candidates = [t for t in candidates if parameter in t.path_parameters]
            if not candidates:
                raise ScenarioError(
                    f"no operation it could match has a path parameter {parameter!r}", _join(where, f"path.{parameter}")
                )
        return candidates

    def _conditions(self, match: dict[str, Any], where: str) -> tuple[tuple[str, Any, Check], ...]:
        conditions: list[tuple[str, Any, Check]] = []
        for name, raw in match.get("path", {}).items():
            conditions.append(("path", name, compile_condition(raw, _join(where, f"path.{name}"), textual=True)))
        for name, raw in match.get("query", {}).items():
            conditions.append(("query", name, compile_condition(raw, _join(where, f"query.{name}"), textual=True)))
        for name, raw in match.get("headers", {}).items():
            check = compile_condition(raw, _join(where, f"headers.{name}"), textual=True)
            conditions.append(("header", name.lower(), check))
        for pointer, raw in match.get("body", {}).items():
            place = _join(where, f"body.{pointer}")
            conditions.append(("body", pointer_tokens(pointer, place), compile_condition(raw, place, textual=False)))
        return tuple(conditions)

    def _action(self, respond: dict[str, Any], targets: list[Target], where: str) -> Action:
        modes = [key for key in ("status", "fault", "passthrough") if respond.get(key) not in (None, False)]
        if len(modes) != 1:
            raise ScenarioError(
                "respond needs exactly one of `status` (with `body` or `error`), `fault` or `passthrough: true`"
                + (f"; it has {', '.join(modes)}" if modes else ""),
                where,
            )
        headers = self._headers(respond.get("headers", {}), _join(where, "headers"))
        delay = parse_delay(respond["delay"], _join(where, "delay")) if "delay" in respond else None
        for key in ("body", "error"):
            if key in respond and modes[0] != "status":
                raise ScenarioError(f"`{key}` goes with `status`, not with `{modes[0]}`", _join(where, key))
        if modes[0] == "fault":
            return Action(headers=headers, delay=delay, fault=respond["fault"])
        if modes[0] == "passthrough":
            return Action(headers=headers, delay=delay, passthrough=True)
        status = respond["status"]
        if ("body" in respond) == ("error" in respond):
            raise ScenarioError("a scripted `status` needs either `body` or `error` (not both)", where)
        bodies: dict[OperationKey, Any] = {}
        operation_headers: dict[OperationKey, Mapping[str, str]] = {}
        for target in targets:
            if not declares(target.operation, status):
                raise ScenarioError(f"status {status} is not declared for {target.label()}", _join(where, "status"))
            if "body" in respond:
                body, extra = respond["body"], {}
                place = _join(where, "body")
            else:
                body, extra = self._error_body(target, status, respond["error"], _join(where, "error"))
                place = _join(where, "error")
            self._check_body(target, status, body, place)
            bodies[target.key] = body
            if extra:
                operation_headers[target.key] = extra
        return Action(
            status=status,
            bodies=bodies,
            headers=headers,
            operation_headers=operation_headers,
            delay=delay,
        )

    def _error_body(self, target: Target, status: int, error: dict[str, Any], where: str) -> tuple[Any, dict[str, str]]:
        message = error.get("message") or error.get("title")
        if not message:
            raise ScenarioError("`error` needs a `message` (or a `title`)", where)
        scripted = getattr(target.errors, "scripted", None)
        if scripted is None:
            raise ScenarioError(f"the {target.platform} platform cannot build scripted errors; give `body`", where)
        built: MockHTTPError = scripted(target.operation.path, status, message, error.get("fields") or None)
        return built.body, dict(built.headers)

    @staticmethod
    def _check_body(target: Target, status: int, body: Any, where: str) -> None:
        try:
            json.dumps(body, allow_nan=False)
        except (TypeError, ValueError) as problem:
            raise ScenarioError(f"the body is not plain JSON ({problem}); quote dates and times", where) from problem
        violations = target.operation.response_violations(status, body)
        if not violations:
            return
        first = violations[0]
        field_path = _join(where, first.field) if first.field else where
        raise ScenarioError(
            f"the {target.label()} {status} response schema rejects the body: "
            f"{first.field or '(the body itself)'}: {first.message}",
            field_path,
        )

    @staticmethod
    def _headers(raw: dict[str, Any], where: str) -> dict[str, str]:
        headers = {}
        for name, value in raw.items():
            text = as_text(value)
            if not HEADER_NAME.fullmatch(name) or "\r" in text or "\n" in text:
                raise ScenarioError(f"{name!r} is not a valid header name and value", _join(where, name))
            headers[name] = text
        return headers

    @staticmethod
    def _where(document: Any, field_path: str) -> str:
        """`scenarios.1.rules.0.respond.status` -> "scenario 'x', rule 1: respond.status " for messages."""
        parts = field_path.split(".") if field_path else []
        words = []
        entry = document
        if parts[:1] == ["scenarios"] and len(parts) > 1 and parts[1].isdigit():
            try:
                entry = document["scenarios"][int(parts[1])]
            except (IndexError, KeyError, TypeError):
                entry = None
            parts = parts[2:]
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            words.append(f"scenario {entry['name']!r}")
        if parts[:1] == ["rules"] and len(parts) > 1 and parts[1].isdigit():
            words.append(f"rule {int(parts[1]) + 1}")
            parts = parts[2:]
        prefix = ", ".join(words)
        rest = ".".join(parts)
        if prefix and rest:
            return f"{prefix}: {rest} "
        if prefix:
            return f"{prefix}: "
        return f"{rest} " if rest else ""


def declares(operation: Operation, status: int) -> bool:
    """Whether the spec declares `status` for the operation (exactly, as `4XX`, or as `default`)."""
    declared = operation.response_validators
    key = str(status)
    return key in declared or f"{key[0]}XX" in declared or "default" in declared


def _join(prefix: str, suffix: str) -> str:
    return f"{prefix}.{suffix}" if prefix else suffix


def read_yaml(path: Path) -> Any:
    """A scenario file, safely loaded and without aliases (a few hundred bytes of nested aliases
    expand to gigabytes); a file that is not such YAML is a `ScenarioError` naming it and the line."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = load_yaml(handle, path.name)
    except YamlRefused as error:
        raise ScenarioError(str(error)) from error
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path.name}: cannot read it as YAML: {error}") from error
    if depth_of(document) > MAX_DEPTH:  # the schema check would exhaust Python's stack
        raise ScenarioError(f"{path.name}: nests deeper than {MAX_DEPTH} levels")
    return document


# -- the library the server consults -----------------------------------------------------------


class UnknownScenario(LookupError):
    """`X-Mock-Scenario` named a scenario that is not loaded."""

    def __init__(self, name: str, known: Iterable[str]):
        super().__init__(name)
        self.name = name
        self.known = sorted(known)


class ScenarioBook:
    """The loaded scenarios: those from start-up (built-ins, files) and those added at run time.

    Lookups read immutable snapshots, so requests never wait for an admin call that loads or
    removes scenarios.
    """

    def __init__(self, catalog: Catalog, counter: CallCounter | None = None):
        self.catalog = catalog
        self.compiler = Compiler(catalog)
        self.counter = counter  # given to every rule loaded (see CallCounter)
        self._lock = threading.Lock()
        self._startup: dict[str, Scenario] = {}
        self._runtime: dict[str, Scenario] = {}
        self._activation: dict[str, bool] = {}  # switched on or off at run time (set_active), until reset
        self.problems: list[str] = []  # built-ins that could not be loaded (a bug, reported by health)
        # a named session's book (mockserver.sessions) counts its rules' calls here, not in the rules
        self.session_counter: CallCounter | None = None
        self.startup_version = 0  # moves whenever the start-up set does (session books follow it)
        self.startup_active = False  # whether a start-up scenario is active (a new session has it on)
        self._publish()

    # loading

    def load_builtins(self, path: Path = BUILTIN_FILE) -> None:
        """The built-in library; a built-in the specs reject is skipped and reported, not fatal."""
        document = read_yaml(path)
        for entry in document.get("scenarios", []):
            platforms = {rule.get("match", {}).get("platform") for rule in entry.get("rules", [])}
            if not platforms <= set(self.catalog.platforms):
                continue  # a server built without that platform (some tests do) simply lacks these
            try:
                scenarios = self.compiler.document(entry, "builtin")
            except ScenarioError as error:
                self.problems.append(error.message)
                log.error("built-in scenario skipped: %s", error.message)
                continue
            self.add_startup(scenarios)

    def load_file(self, path: Path) -> list[Scenario]:
        """Every scenario of one file, or a `ScenarioError` whose message starts with the file name."""
        try:
            scenarios = self.compiler.document(read_yaml(path), "file", path.name)
        except ScenarioError as error:
            message = error.message if error.message.startswith(f"{path.name}:") else f"{path.name}: {error.message}"
            raise ScenarioError(message, error.field, error.reason) from error
        self.add_startup(scenarios)
        return scenarios

    def add_startup(self, scenarios: Iterable[Scenario]) -> None:
        with self._lock:
            for scenario in scenarios:
                self._startup[scenario.name] = scenario
            self.startup_version += 1
            self.startup_active = any(scenario.active for scenario in self._startup.values())
            self._publish()

    def replace_file(self, file: str, scenarios: Iterable[Scenario]) -> None:
        """`serve --watch`: a scenario file's scenarios swapped for its new version at once.

        Scenarios the new version no longer has are dropped; run-time ones are left alone.
        """
        with self._lock:
            for name in [name for name, old in self._startup.items() if old.source == "file" and old.file == file]:
                del self._startup[name]
            for scenario in scenarios:
                self._startup[scenario.name] = scenario
            self.startup_version += 1
            self.startup_active = any(scenario.active for scenario in self._startup.values())
            self._publish()

    def add_runtime(self, document: Any) -> list[Scenario]:
        """Compile and add a document; a later scenario replaces an earlier one of the same name."""
        scenarios = self.compiler.document(document, "runtime")
        with self._lock:
            for scenario in scenarios:
                self._runtime[scenario.name] = scenario
                self._activation.pop(scenario.name, None)  # a new version comes with its own `active`
            self._publish()
        return scenarios

    def set_active(self, name: str, active: bool) -> Scenario | None:
        """Switch a loaded scenario on or off for every request, until the next reset; None if unknown."""
        with self._lock:
            if name not in self._startup and name not in self._runtime:
                return None
            self._activation[name] = active
            self._publish()
        return self._scenarios[name]

    def replace_activation(self, activation: dict[str, bool]) -> None:
        """Every run-time switch at once (the shared book, from the coordination database)."""
        with self._lock:
            self._activation = dict(activation)
            self._publish()

    def replace_runtime(self, scenarios: Iterable[Scenario]) -> None:
        """Swap every run-time scenario for `scenarios` at once (requests see the old set or the new)."""
        with self._lock:
            self._runtime = {scenario.name: scenario for scenario in scenarios}
            self._publish()

    def remove_runtime(self, name: str | None = None) -> list[str]:
        """Drop one run-time scenario, or all of them; returns the names removed."""
        with self._lock:
            if name is None:
                removed = list(self._runtime)
                self._runtime.clear()
            elif name in self._runtime:
                removed = [name]
                del self._runtime[name]
            else:
                removed = []
            self._publish()
        return removed

    def reset(self) -> None:
        """Back to start-up: run-time scenarios gone, switches as loaded, every call counter at zero."""
        with self._lock:
            self._activation.clear()
        self.remove_runtime()
        for scenario in self._scenarios.values():
            for rule in scenario.rules:
                rule.reset()

    def _publish(self) -> None:
        merged = dict(self._startup)
        merged.update(self._runtime)
        for name, active in self._activation.items():
            scenario = merged.get(name)
            if scenario is not None and scenario.active != active:
                merged[name] = replace(scenario, active=active)  # the loaded one stays, for a reset
        if self.counter is not None:
            for scenario in merged.values():
                for rule in scenario.rules:
                    rule.counter = self.counter
        active: dict[OperationKey, list[Rule]] = {}
        for scenario in merged.values():
            if scenario.active:
                for key, rules in scenario.by_target.items():
                    active.setdefault(key, []).extend(rules)
        self._scenarios = merged
        self._active = {key: tuple(rules) for key, rules in active.items()}

    # reading

    @property
    def has_active(self) -> bool:
        return bool(self._active)

    def get(self, name: str) -> Scenario | None:
        return self._scenarios.get(name)

    def all(self) -> list[Scenario]:
        return list(self._scenarios.values())

    def summary(self, scenario: Scenario) -> dict[str, Any]:
        """`scenario.summary()` with this book's call counts."""
        return scenario.summary(self.session_counter)

    def decide(self, selected: Sequence[str], key: OperationKey, probe: Probe) -> Decision | None:
        """The first rule that answers: from the scenarios the request names, then from active ones."""
        scenarios = self._scenarios
        counter = self.session_counter
        for name in selected:
            scenario = scenarios.get(name)
            if scenario is None:
                raise UnknownScenario(name, scenarios)
            for rule in scenario.by_target.get(key, ()):
                if rule.matches(probe) and rule.claim(counter):
                    return Decision(scenario.name, rule)
        for rule in self._active.get(key, ()):
            if rule.scenario not in selected and rule.matches(probe) and rule.claim(counter):
                return Decision(rule.scenario, rule)
        return None


def selected_names(header: str) -> list[str]:
    """`X-Mock-Scenario: a, b` -> ["a", "b"] (tried in that order)."""
    return [name for name in (part.strip() for part in header.split(",")) if name]
