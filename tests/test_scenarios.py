"""Scenario rules: loading and refusing documents, every match feature, and every kind of answer.

The engine is tested against a small demo spec (so these tests do not move when a platform spec
does), then through the real app with the Shopify and BigCommerce specs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from werkzeug.datastructures import Headers, MultiDict

from mockserver.app import server_of
from mockserver.openapi import Spec
from mockserver.platform import MockHTTPError
from mockserver.scenarios import (
    Catalog,
    Probe,
    ScenarioBook,
    ScenarioError,
    UnknownScenario,
    as_text,
    compile_regex,
    json_equal,
    parse_delay,
    resolve_pointer,
    selected_names,
)
from tests.conftest import FIXTURES_DIR, REPO_ROOT

DEMO_SPEC = """
openapi: 3.1.0
info: {title: demo, version: "1"}
paths:
  /demo/things/{thing_id}:
    parameters:
      - {name: thing_id, in: path, required: true, schema: {type: integer}}
    post:
      operationId: createThing
      requestBody: {required: true, content: {application/json: {schema: {type: object}}}}
      responses:
        "201":
          description: made
          content:
            application/json:
              schema: {type: object, required: [thing], properties: {thing: {type: object}}}
        "422": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/Error"}
    get:
      operationId: getThing
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object}}}}
        "422": {$ref: "#/components/responses/Error"}
  /demo/others:
    get:
      operationId: listOthers
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: array}}}}
        "422": {$ref: "#/components/responses/Error"}
components:
  responses:
    Error:
      description: the demo error shape
      content:
        application/json:
          schema:
            type: object
            required: [errors]
            additionalProperties: false
            properties:
              errors:
                type: object
                additionalProperties: {type: array, items: {type: string}}
"""


class DemoErrors:
    """Only `scripted` is needed by the scenario engine."""

    def scripted(self, path: str, status: int, message: str, fields: dict[str, str] | None) -> MockHTTPError:
        errors = {field: [text] for field, text in (fields or {"base": message}).items()}
        return MockHTTPError(status, {"errors": errors}, {"X-Demo": "yes"})


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    path = tmp_path_factory.mktemp("spec") / "demo.yaml"
    path.write_text(DEMO_SPEC)
    return Catalog({"demo": (Spec(path), DemoErrors())}, Spec(REPO_ROOT / "specs" / "admin.yaml"))


@pytest.fixture
def book(catalog: Catalog) -> ScenarioBook:
    return ScenarioBook(catalog)


def probe(
    path: dict[str, Any] | None = None,
    query: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    body: Any = None,
) -> Probe:
    return Probe(path or {}, MultiDict(query or {}), Headers(headers or {}), body)


def one_rule(match: dict[str, Any], respond: dict[str, Any] | None = None) -> dict[str, Any]:
    respond = respond or {"status": 422, "error": {"message": "scripted"}}
    return {"name": "under-test", "rules": [{"match": match, "respond": respond}]}


CREATE = ("demo", "createThing")
GET = ("demo", "getThing")
OTHERS = ("demo", "listOthers")


def answers(book: ScenarioBook, key: tuple[str, str], request: Probe, name: str = "under-test") -> bool:
    return book.decide([name], key, request) is not None


# -- small pieces --------------------------------------------------------------------------------


def test_text_and_json_comparisons_follow_json_not_python() -> None:
    assert as_text(True) == "true" and as_text(None) == "null" and as_text(12) == "12" and as_text("x") == "x"
    assert json_equal(1, 1.0)
    assert not json_equal(True, 1)
    assert not json_equal("1", 1)
    assert json_equal({"a": [1, {"b": None}]}, {"a": [1.0, {"b": None}]})
    assert not json_equal({"a": 1}, {"a": 1, "b": 2})


def test_pointer_resolution_with_wildcards() -> None:
    body = {"refund": {"lines": [{"qty": 1}, {"qty": 5}, {"note": "x"}], "a/b": 3}}
    assert resolve_pointer(body, ("refund", "lines", "1", "qty")) == [5]
    assert resolve_pointer(body, ("refund", "lines", "*", "qty")) == [1, 5]
    assert resolve_pointer(body, ("refund", "lines", "7")) == []
    assert resolve_pointer(body, ("refund", "a/b")) == [3]
    assert resolve_pointer(body, ()) == [body]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(200, (0.2, 0.2)), ("100-300", (0.1, 0.3)), ([50, 75], (0.05, 0.075)), ("0", (0.0, 0.0))],
)
def test_delay_forms(raw: Any, expected: tuple[float, float]) -> None:
    assert parse_delay(raw, "delay") == pytest.approx(expected)


@pytest.mark.parametrize("raw", ["300-100", -1, "soon", [1], True, 60_001])
def test_bad_delays_are_refused(raw: Any) -> None:
    with pytest.raises(ScenarioError):
        parse_delay(raw, "delay")


def test_header_lists_several_scenarios_in_order() -> None:
    assert selected_names(" a-b , c ,, ") == ["a-b", "c"]


# -- matching ------------------------------------------------------------------------------------


def test_operation_id_limits_a_rule_to_its_operations(book: ScenarioBook) -> None:
    book.add_runtime(one_rule({"operationId": ["createThing", "getThing"]}))
    assert answers(book, CREATE, probe())
    assert answers(book, GET, probe())
    assert not answers(book, OTHERS, probe())


def test_platform_alone_matches_every_operation_of_it(book: ScenarioBook) -> None:
    book.add_runtime(one_rule({"platform": "demo"}))
    assert all(answers(book, key, probe()) for key in (CREATE, GET, OTHERS))


def test_path_parameters_compare_as_text(book: ScenarioBook) -> None:
    book.add_runtime(one_rule({"path": {"thing_id": "7"}}))
    assert answers(book, CREATE, probe(path={"thing_id": 7}))
    assert not answers(book, CREATE, probe(path={"thing_id": 8}))
    # listOthers has no thing_id, so the rule cannot target it at all
    assert not answers(book, OTHERS, probe())


def test_query_conditions_see_every_value_of_a_repeated_parameter(book: ScenarioBook) -> None:
    book.add_runtime(one_rule({"query": {"status": {"one_of": ["open", "closed"]}}}))
    assert answers(book, OTHERS, probe(query=MultiDict([("status", "x"), ("status", "closed")])))
    assert not answers(book, OTHERS, probe(query={"status": "any"}))
    assert not answers(book, OTHERS, probe())


def test_header_conditions_ignore_the_header_name_case(book: ScenarioBook) -> None:
    book.add_runtime(one_rule({"headers": {"X-Client": {"regex": "^ci-"}}}))
    assert answers(book, GET, probe(headers={"x-client": "ci-42"}))
    assert not answers(book, GET, probe(headers={"X-Client": "browser"}))


def test_body_equals_compares_json_values(book: ScenarioBook) -> None:
    book.add_runtime(one_rule({"body": {"/refund/notify": True, "/refund/lines/0/qty": 2}}))
    assert answers(book, CREATE, probe(body={"refund": {"notify": True, "lines": [{"qty": 2.0}]}}))
    assert not answers(book, CREATE, probe(body={"refund": {"notify": 1, "lines": [{"qty": 2}]}}))
    assert not answers(book, CREATE, probe(body={"refund": {"notify": True, "lines": [{"qty": 3}]}}))


def test_body_one_of_exists_and_regex(book: ScenarioBook) -> None:
    book.add_runtime(
        one_rule(
            {
                "body": {
                    "/currency": {"one_of": ["USD", "EUR"]},
                    "/note": {"exists": False},
                    "/email": {"exists": True, "regex": "@example\\.com$"},
                }
            }
        )
    )
    matching = {"currency": "EUR", "email": "ann@example.com"}
    assert answers(book, CREATE, probe(body=matching))
    assert not answers(book, CREATE, probe(body={**matching, "currency": "JPY"}))
    assert not answers(book, CREATE, probe(body={**matching, "note": "anything"}))
    assert not answers(book, CREATE, probe(body={"currency": "USD", "email": "ann@example.org"}))
    assert not answers(book, CREATE, probe(body={"currency": "USD"}))


def test_body_wildcard_matches_any_item(book: ScenarioBook) -> None:
    book.add_runtime(one_rule({"body": {"/lines/*/qty": {"one_of": [5, 6]}}}))
    assert answers(book, CREATE, probe(body={"lines": [{"qty": 1}, {"qty": 6}]}))
    assert not answers(book, CREATE, probe(body={"lines": [{"qty": 1}, {"qty": 2}]}))


def test_an_object_literal_is_compared_whole(book: ScenarioBook) -> None:
    book.add_runtime(one_rule({"body": {"/shipping": {"full_refund": True}}}))
    assert answers(book, CREATE, probe(body={"shipping": {"full_refund": True}}))
    assert not answers(book, CREATE, probe(body={"shipping": {"full_refund": True, "amount": 1}}))


def test_times_answers_only_that_many_requests(book: ScenarioBook) -> None:
    book.add_runtime(one_rule({"operationId": "getThing", "times": 2}))
    assert [answers(book, GET, probe()) for _ in range(4)] == [True, True, False, False]


def test_after_lets_requests_through_first(book: ScenarioBook) -> None:
    book.add_runtime(one_rule({"operationId": "getThing", "after": 2, "times": 1}))
    assert [answers(book, GET, probe()) for _ in range(5)] == [False, False, True, False, False]


def test_counting_only_counts_requests_that_meet_the_conditions(book: ScenarioBook) -> None:
    book.add_runtime(one_rule({"path": {"thing_id": 1}, "after": 1}))
    assert not answers(book, GET, probe(path={"thing_id": 2}))
    assert not answers(book, GET, probe(path={"thing_id": 1}))  # the first matching one goes through
    assert answers(book, GET, probe(path={"thing_id": 1}))


def test_reset_puts_counters_back_and_drops_runtime_scenarios(book: ScenarioBook) -> None:
    startup = book.compiler.document(one_rule({"operationId": "getThing", "times": 1}), "file", "x.yaml")
    book.add_startup(startup)
    assert answers(book, GET, probe())
    assert not answers(book, GET, probe())
    book.add_runtime({**one_rule({}), "name": "later"})
    book.reset()
    assert answers(book, GET, probe())
    assert book.get("later") is None


def test_the_first_matching_rule_answers(book: ScenarioBook) -> None:
    book.add_runtime(
        {
            "name": "under-test",
            "rules": [
                {
                    "name": "big",
                    "match": {"operationId": "createThing", "body": {"/qty": 9}},
                    "respond": {"status": 503, "error": {"message": "a"}},
                },
                {"name": "any", "respond": {"status": 422, "error": {"message": "b"}}},
            ],
        }
    )
    decision = book.decide(["under-test"], CREATE, probe(body={"qty": 9}))
    assert decision is not None and decision.rule.name == "big" and decision.action.status == 503
    decision = book.decide(["under-test"], CREATE, probe(body={"qty": 1}))
    assert decision is not None and decision.rule.name == "any" and decision.action.status == 422


def test_active_scenarios_apply_without_being_named(book: ScenarioBook) -> None:
    book.add_runtime({**one_rule({"operationId": "getThing"}), "name": "quiet"})
    book.add_runtime({**one_rule({"operationId": "getThing"}), "name": "loud", "active": True})
    decision = book.decide([], GET, probe())
    assert decision is not None and decision.scenario == "loud"
    named = book.decide(["quiet"], GET, probe())
    assert named is not None and named.scenario == "quiet"  # a named scenario comes before active ones


def test_without_active_scenarios_nothing_is_scripted(book: ScenarioBook) -> None:
    book.add_runtime(one_rule({}))
    assert not book.has_active
    assert book.decide([], CREATE, probe()) is None


def test_an_unknown_scenario_name_is_an_error(book: ScenarioBook) -> None:
    with pytest.raises(UnknownScenario) as raised:
        book.decide(["nope"], GET, probe())
    assert raised.value.name == "nope"


# -- answers -------------------------------------------------------------------------------------


def test_error_helper_builds_the_platform_shape_per_operation(book: ScenarioBook) -> None:
    (scenario,) = book.add_runtime(
        one_rule({}, {"status": 422, "error": {"message": "no", "fields": {"qty": "too many"}}, "headers": {"A": 1}})
    )
    action = scenario.rules[0].action
    assert action.bodies[CREATE] == {"errors": {"qty": ["too many"]}}
    assert action.headers_for(CREATE) == {"X-Demo": "yes", "A": "1"}  # the rule's headers come on top


def test_literal_bodies_headers_delay_fault_and_passthrough_compile(book: ScenarioBook) -> None:
    book.add_runtime(
        {
            "name": "under-test",
            "rules": [
                {"match": {"operationId": "createThing"}, "respond": {"status": 201, "body": {"thing": {"id": 1}}}},
                {"match": {"operationId": "getThing"}, "respond": {"fault": "connection-reset", "delay": "10-20"}},
                {"respond": {"passthrough": True, "headers": {"Retry-After": 2.0}, "delay": 5}},
            ],
        }
    )
    scenario = book.get("under-test")
    assert scenario is not None
    scripted, fault, passthrough = (rule.action for rule in scenario.rules)
    assert scripted.status == 201 and scripted.bodies[CREATE] == {"thing": {"id": 1}}
    assert fault.fault == "connection-reset" and 0.01 <= fault.sample_delay() <= 0.02
    assert passthrough.passthrough and passthrough.headers == {"Retry-After": "2.0"}
    assert passthrough.sample_delay() == pytest.approx(0.005)


# -- refusing bad documents ---------------------------------------------------------------------


def refusal(book: ScenarioBook, document: Any) -> ScenarioError:
    with pytest.raises(ScenarioError) as raised:
        book.add_runtime(document)
    return raised.value


def test_a_body_the_spec_rejects_is_refused_naming_rule_and_field(book: ScenarioBook) -> None:
    document = {
        "scenarios": [
            {"name": "fine", "rules": [{"respond": {"status": 422, "error": {"message": "ok"}}}]},
            {
                "name": "broken",
                "rules": [
                    {"respond": {"passthrough": True}},
                    {
                        "name": "wrong-shape",
                        "match": {"operationId": "createThing"},
                        "respond": {"status": 422, "body": {"errors": {"qty": "not a list"}}},
                    },
                ],
            },
        ]
    }
    error = refusal(book, document)
    assert "scenario 'broken'" in error.message and "rule 2 ('wrong-shape')" in error.message
    assert "errors.qty" in error.message and "must be an array" in error.message
    assert error.field == "scenarios.1.rules.1.respond.body.errors.qty"
    assert book.get("fine") is None and book.get("broken") is None  # nothing of the document is loaded


def test_a_status_the_operation_does_not_declare_is_refused(book: ScenarioBook) -> None:
    error = refusal(book, one_rule({"operationId": "getThing"}, {"status": 503, "error": {"message": "x"}}))
    assert "status 503 is not declared for demo getThing" in error.message
    assert error.field == "rules.0.respond.status"


@pytest.mark.parametrize(
    ("document", "words", "field"),
    [
        (one_rule({"operationId": "makeThing"}), "no operation 'makeThing'", "rules.0.match.operationId"),
        (one_rule({"platform": "magento"}), "no platform named 'magento'", "rules.0.match.platform"),
        (one_rule({"path": {"order_id": 1}}), "path parameter 'order_id'", "rules.0.match.path.order_id"),
        (one_rule({"body": {"qty": 1}}), "JSON pointer", "rules.0.match.body.qty"),
        (
            one_rule({"headers": {"X": {"regex": "("}}}),
            "not a valid regular expression",
            "rules.0.match.headers.X.regex",
        ),
        (one_rule({"query": {"x": {"exists": "yes"}}}), "true or false", "rules.0.match.query.x.exists"),
        (one_rule({}, {"status": 422}), "either `body` or `error`", "rules.0.respond"),
        (one_rule({}, {"delay": 10}), "exactly one of", "rules.0.respond"),
        (
            one_rule({}, {"fault": "empty-response", "passthrough": True}),
            "it has fault, passthrough",
            "rules.0.respond",
        ),
        (one_rule({}, {"fault": "bit-flip"}), 'must be one of "connection-reset"', "rules.0.respond.fault"),
        (one_rule({}, {"passthrough": True, "body": {}}), "goes with `status`", "rules.0.respond.body"),
        (
            one_rule({}, {"passthrough": True, "headers": {"Bad Name": "x"}}),
            "not a valid header",
            "rules.0.respond.headers.Bad Name",
        ),
        ({"name": "x", "rules": [{"respnd": {}}]}, "respnd is not a recognised field", "rules.0.respnd"),
        ({"name": "Not Kebab", "rules": [{"respond": {"passthrough": True}}]}, "must match the pattern", "name"),
        ({"scenarios": [one_rule({}), one_rule({})]}, "defined twice", "scenarios.1.name"),
    ],
)
def test_bad_documents_are_refused_with_a_clear_message(
    book: ScenarioBook, document: Any, words: str, field: str
) -> None:
    error = refusal(book, document)
    assert words in error.message
    assert error.field == field


def test_a_body_that_is_not_plain_json_is_refused(book: ScenarioBook, tmp_path: Path) -> None:
    path = tmp_path / "dates.yaml"
    path.write_text(
        "scenarios:\n  - name: dated\n    rules:\n      - match: {operationId: getThing}\n"
        "        respond: {status: 200, body: {created: 2020-01-01}}\n"
    )
    with pytest.raises(ScenarioError) as raised:
        book.load_file(path)
    assert raised.value.message.startswith("dates.yaml: scenario 'dated', rule 1:")
    assert "quote dates" in raised.value.message


def test_a_file_that_is_not_yaml_is_refused_naming_it(book: ScenarioBook, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("scenarios: [\n")
    with pytest.raises(ScenarioError, match=r"^broken\.yaml:2: not valid YAML"):
        book.load_file(path)


# 9 levels of 9 aliases in a match condition: 9**9 (387 million) strings once expanded, in 467 bytes.
# PyYAML shares the aliased lists, so the load is quick; checking and matching it is what explodes.
SCENARIO_ALIAS_BOMB = (
    "name: alias-bomb\nrules:\n  - respond: {passthrough: true}\n    match:\n      body:\n"
    "        /a: &a [x,x,x,x,x,x,x,x,x]\n"
    + "".join(
        f"        /{name}: &{name} [{','.join([f'*{prev}'] * 9)}]\n"
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
)


def test_an_alias_bomb_file_is_refused_with_the_file_and_line(book: ScenarioBook, tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(SCENARIO_ALIAS_BOMB)
    assert path.stat().st_size < 500
    with pytest.raises(ScenarioError, match=r"^bomb\.yaml:7: YAML aliases \(\*a\) are not accepted"):
        book.load_file(path)
    assert book.get("alias-bomb") is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name: " + "9" * 5000 + "\n", "a value cannot be read (an integer has more than 4300 digits)"),
        ("name: " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply to load"),
        ("name: " + "[" * 150 + "]" * 150 + "\n", "nests deeper than 100 levels"),
    ],
    ids=["huge-integer", "past-the-stack", "past-the-limit"],
)
def test_a_file_python_cannot_hold_is_refused_in_plain_words(
    book: ScenarioBook, tmp_path: Path, text: str, words: str
) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as raised:
        book.load_file(path)
    assert raised.value.message == f"odd.yaml: {words}"


def test_scenario_regexes_run_on_re2() -> None:
    """`^(a+)+$` backtracks exponentially in Python's `re` (a 28-character header held the server
    19 s); RE2 matches it in linear time, with the same answers."""
    pattern = compile_regex("^(a+)+$", "match.headers.X.regex")
    assert type(pattern).__module__.startswith("re2")
    assert pattern.search("a" * 64)
    assert not pattern.search("a" * 64 + "!")


def test_a_catastrophic_pattern_matches_correctly(book: ScenarioBook) -> None:
    """Through a rule; 20 characters, so that a return to a backtracking engine fails the test above
    instead of hanging this one (Python's `re` takes about a second here, RE2 microseconds)."""
    book.add_runtime(one_rule({"headers": {"X-Client": {"regex": "^(a+)+$"}}}))
    assert answers(book, GET, probe(headers={"X-Client": "a" * 20}))
    assert not answers(book, GET, probe(headers={"X-Client": "a" * 20 + "!"}))


@pytest.mark.parametrize(
    "pattern",
    [r"^(ci)-\1$", r"^(?P<run>ci)-(?P=run)$", r"^(?=ci-)", r"(?<!x)ci", r"ci(?!-local)"],
    ids=["backreference", "named-backreference", "lookahead", "lookbehind", "negative-lookahead"],
)
def test_a_pattern_re2_cannot_run_is_refused_naming_the_rule(book: ScenarioBook, pattern: str) -> None:
    error = refusal(book, one_rule({"headers": {"X-Client": {"regex": pattern}}}))
    assert error.message.startswith("scenario 'under-test', rule 1: rules.0.match.headers.X-Client.regex is not")
    assert "RE2" in error.message and "backreferences and lookaround" in error.message
    assert error.field == "rules.0.match.headers.X-Client.regex"
    assert book.get("under-test") is None


# -- through the real app -------------------------------------------------------------------------

SHOPIFY_ORDER = int(sorted((FIXTURES_DIR / "shopify" / "orders").glob("*.json"))[0].stem)
SHOPIFY_HEADERS = {"X-Shopify-Access-Token": "any-token"}
CALCULATE = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}/refunds/calculate.json"
GET_ORDER = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}.json"
VALID_CALCULATE = {"refund": {"shipping": {"full_refund": True}}}


def test_a_file_given_at_start_up_is_loaded_and_chosen_by_header(make_app: Callable[..., Flask]) -> None:
    example = REPO_ROOT / "fixtures" / "scenarios" / "example.yaml"
    app = make_app(scenario_files=[example])
    loaded = [scenario for scenario in server_of(app).scenarios.all() if scenario.source == "file"]
    assert loaded and all(scenario.file == "example.yaml" for scenario in loaded)


def test_a_bad_file_stops_start_up(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\nrules:\n  - match: {platform: shopify, operationId: getOrder}\n"
        "    respond: {status: 200, body: {order: {id: not-a-number}}}\n"
    )
    with pytest.raises(ScenarioError, match=r"bad.yaml: scenario 'bad', rule 1: .*order"):
        make_app(scenario_files=[path])


def test_scenario_header_answers_a_matching_request(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    client.post(
        "/__mock/scenarios",
        json=one_rule(
            {"platform": "shopify", "operationId": "calculateRefund", "body": {"/refund/shipping/full_refund": True}},
            {"status": 422, "error": {"message": "m", "fields": {"shipping": "no shipping refunds today"}}},
        ),
    )
    headers = {**SHOPIFY_HEADERS, "X-Mock-Scenario": "under-test"}
    response = client.post(CALCULATE, json=VALID_CALCULATE, headers=headers)
    assert response.status_code == 422
    assert response.get_json() == {"errors": {"shipping": ["no shipping refunds today"]}}
    unmatched = client.post(CALCULATE, json={"refund": {"shipping": {"full_refund": False}}}, headers=headers)
    assert unmatched.status_code == 200  # the rule's body condition does not hold: computed as usual


def test_without_the_header_a_loaded_scenario_changes_nothing(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    before = client.post(CALCULATE, json=VALID_CALCULATE, headers=SHOPIFY_HEADERS)
    client.post("/__mock/scenarios", json=one_rule({"platform": "shopify"}))
    after = client.post(CALCULATE, json=VALID_CALCULATE, headers=SHOPIFY_HEADERS)
    assert after.status_code == before.status_code == 200
    assert after.get_json() == before.get_json()


def test_an_active_scenario_answers_without_a_header_until_reset(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    document = {
        **one_rule({"platform": "shopify", "operationId": "getOrder"}, {"status": 500, "error": {"message": "down"}}),
        "active": True,
    }
    assert client.post("/__mock/scenarios", json=document).status_code == 201
    assert client.get(GET_ORDER, headers=SHOPIFY_HEADERS).get_json() == {"errors": "down"}
    client.post("/__mock/reset")
    assert client.get(GET_ORDER, headers=SHOPIFY_HEADERS).status_code == 200


def test_passthrough_adds_headers_to_the_computed_answer(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    client.post(
        "/__mock/scenarios",
        json=one_rule(
            {"platform": "shopify"}, {"passthrough": True, "headers": {"X-Shopify-Shop-Api-Call-Limit": "39/40"}}
        ),
    )
    plain = client.get(GET_ORDER, headers=SHOPIFY_HEADERS)
    response = client.get(GET_ORDER, headers={**SHOPIFY_HEADERS, "X-Mock-Scenario": "under-test"})
    assert response.status_code == 200 and response.get_json() == plain.get_json()
    assert response.headers["X-Shopify-Shop-Api-Call-Limit"] == "39/40"


def test_an_unknown_scenario_is_a_422_naming_the_header(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    response = client.get(GET_ORDER, headers={**SHOPIFY_HEADERS, "X-Mock-Scenario": "no-such-thing"})
    assert response.status_code == 422
    (messages,) = response.get_json()["errors"].values()
    assert "no-such-thing" in messages[0]
    assert "X-Mock-Scenario" in response.get_json()["errors"]


def test_an_invalid_request_gets_its_validation_error_not_the_scenario(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    headers = {**SHOPIFY_HEADERS, "X-Mock-Scenario": "shopify-server-error"}
    response = client.post(CALCULATE, json={"refund": {"refund_line_items": [{"quantity": "two"}]}}, headers=headers)
    assert response.status_code == 422  # validation comes first, as Prism does it
    assert client.get(GET_ORDER, headers=headers).status_code == 500


def test_the_documented_scenario_file_loads(make_app: Callable[..., Flask]) -> None:
    text = (REPO_ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "docs/scenarios.md shows a scenario file"
    server = server_of(make_app())
    for block in blocks:
        assert server.scenarios.add_runtime(yaml.safe_load(block))
