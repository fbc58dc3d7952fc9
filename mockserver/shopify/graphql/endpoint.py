"""`POST /admin/api/{version}/graphql.json`: parse, validate, price, execute, answer.

The shared pipeline has already checked the token, the content type and the body's shape
(`{"query": ..., "variables": ..., "operationName": ...}`) against the spec. GraphQL answers are
HTTP 200 with `data`, `errors` and `extensions.cost`, as Shopify's are, and say the version that
answered in `X-Shopify-API-Version`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionContext,
    GraphQLError,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    execute,
    parse,
    print_ast,
    validate,
)
from graphql.pyutils import Undefined

from mockserver.platform import Reply, RequestContext
from mockserver.shopify.graphql.compiled import NotPlain, QueryPlan
from mockserver.shopify.graphql.cost import OperationPlan, operation_of, plan_of
from mockserver.shopify.graphql.errors import MAX_QUERY_COST, max_cost_exceeded, shopify_error, throttled
from mockserver.shopify.graphql.memo import Kept, memo_for
from mockserver.shopify.graphql.schema import schema_for
from mockserver.shopify.graphql.throttle import CostStatus, buckets_for, throttling
from mockserver.shopify.graphql.versions import served_version
from mockserver.shopify.graphql.views import GraphQLContext

VERSION_HEADER = "X-Shopify-API-Version"
MAX_TOKENS = 20_000  # a query longer than this is refused by the parser (graphql-core's own limit)
TOO_DEEP = "Query is nested too deeply to be parsed"
TOKEN_HEADER = "X-Shopify-Access-Token"


@lru_cache(maxsize=512)
def prepared(version: str, query: str) -> tuple[DocumentNode | None, tuple[dict[str, Any], ...]]:
    """The parsed query and its validation errors, once per version and query text."""
    schema = schema_for(version)
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
        return document, tuple(shopify_error(error) for error in validate(schema, document))
    except GraphQLError as error:
        return None, (shopify_error(error),)
    except RecursionError:  # nested deeper than Python's stack: refused, never a server error
        return None, ({"message": TOO_DEEP, "extensions": {"code": "BAD_REQUEST"}},)


class _Execution(ExecutionContext):
    """graphql-core's execution, with a shorter path for the commonest value: a present scalar.

    Every resolver here is synchronous, so nothing is checked for being awaitable either.
    """

    def complete_value(self, return_type: Any, field_nodes: Any, info: Any, path: Any, result: Any) -> Any:
        inner = return_type.of_type if type(return_type) is GraphQLNonNull else return_type
        if type(inner) is GraphQLScalarType and result is not None and not isinstance(result, Exception):
            serialized = inner.serialize(result)
            if serialized is not None and serialized is not Undefined:
                return serialized
        return super().complete_value(return_type, field_nodes, info, path, result)


def _never_awaitable(value: Any) -> bool:
    return False


@lru_cache(maxsize=512)
def planned(version: str, query: str, operation_name: str | None) -> OperationPlan | None:
    """The cost plan of a valid query's operation, once per version, query text and operation."""
    document, _ = prepared(version, query)
    return None if document is None else plan_of(schema_for(version), document, operation_name)


@lru_cache(maxsize=512)
def query_plan(version: str, query: str, operation_name: str | None) -> QueryPlan | None:
    """The execution plan of a valid read-only query's operation (None: graphql-core executes it)."""
    document, problems = prepared(version, query)
    operation = None if document is None or problems else operation_of(document, operation_name)
    if document is None or operation is None:
        return None
    try:
        return QueryPlan(schema_for(version), document, operation)
    except (NotPlain, RecursionError):
        return None


def _variable_types(operation: OperationDefinitionNode | None) -> dict[str, str]:
    if operation is None:
        return {}
    return {d.variable.name.value: print_ast(d.type) for d in operation.variable_definitions or ()}


def _cost(requested: int, actual: int | None, status: CostStatus) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": status.throttle_status(),
        }
    }


def _granted(context: RequestContext) -> frozenset[str] | None:
    tokens = context.server.config.tokens if context.server is not None else None
    if tokens is None:
        return None
    return frozenset(tokens.get(context.headers.get(TOKEN_HEADER, ""), ()))


@dataclass(frozen=True)
class GraphQLRequest:
    """What a request asks, from either body the spec takes: JSON `{"query", "variables",
    "operationName"}`, or an `application/graphql` body, which is the document alone."""

    query: str
    variables: dict[str, Any]
    operation_name: str | None

    @classmethod
    def of(cls, body: dict[str, Any] | str) -> GraphQLRequest:
        if isinstance(body, str):
            return cls(body, {}, None)
        return cls(body["query"], body.get("variables") or {}, body.get("operationName") or None)


def graphql_admin(context: RequestContext) -> Reply:
    """The handler of operation `graphqlAdmin`."""
    version = served_version(context.path_params["version"])
    headers = {VERSION_HEADER: version}
    request = GraphQLRequest.of(context.body)
    schema = schema_for(version)
    buckets = buckets_for(context.server)
    key = context.headers.get(TOKEN_HEADER, "")
    scope = context.session or ""  # a named session's cost bucket is its own

    document, problems = prepared(version, request.query)
    if document is None or problems:
        status = buckets.take(key, 0, scope)
        return Reply(200, {"errors": list(problems), "extensions": _cost(0, None, status)}, headers)
    plan = planned(version, request.query, request.operation_name)
    requested = plan.requested(request.variables) if plan is not None else 0
    if requested > MAX_QUERY_COST:
        status = buckets.take(key, 0, scope)
        body = {"errors": [max_cost_exceeded(requested)], "extensions": _cost(requested, None, status)}
        return Reply(200, body, headers)
    status = buckets.take(key, requested, scope)
    if not status.allowed and throttling(context.server):
        return Reply(200, {"errors": [throttled()], "extensions": _cost(requested, None, status)}, headers)
    return Reply(200, _execute(context, request, schema, document, plan, requested, status), headers)


def _variables_text(variables: dict[str, Any]) -> str | bytes | None:
    """The variables as canonical JSON, for the memo's key (None: not JSON, never kept)."""
    try:
        return orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError: e.g. an integer past 64 bits, which json writes
        pass
    try:
        return json.dumps(variables, sort_keys=True)
    except (TypeError, ValueError):
        return None


def _execute(
    context: RequestContext,
    request: GraphQLRequest,
    schema: GraphQLSchema,
    document: DocumentNode,
    plan: OperationPlan | None,
    requested: int,
    status: CostStatus,
) -> dict[str, Any]:
    version = served_version(context.path_params["version"])
    variables = request.variables
    operation_name = request.operation_name
    granted = _granted(context)
    memo = memo_for(context.server)
    key = None
    if plan is not None and not plan.mutation:
        variables_text = _variables_text(variables)
        if variables_text is not None:
            key = (version, request.query, operation_name, variables_text, granted)
            kept = memo.get(key, context.store)
            if kept is not None:
                return _answered(context, dict(kept.answer), requested, kept.actual_cost, status)
    resolver_context = GraphQLContext(context.store, version, granted, variables)
    answer: dict[str, Any] = {}
    fast = query_plan(version, request.query, operation_name) if isinstance(variables, dict) else None
    data: dict[str, Any] | None = None
    if fast is not None:
        try:
            data = fast.execute(resolver_context, variables)
        except (NotPlain, RecursionError):  # graphql-core answers it, errors and all, from the start
            resolver_context = GraphQLContext(context.store, version, granted, variables)
    if data is not None:
        answer["data"] = data
    else:
        result = execute(
            schema,
            document,
            context_value=resolver_context,
            variable_values=variables,
            operation_name=operation_name,
            execution_context_class=_Execution,
            is_awaitable=_never_awaitable,
        )
        if result.errors:
            types = _variable_types(operation_of(document, operation_name))
            answer["errors"] = [shopify_error(error, types) for error in result.errors]
        if result.data is not None:  # None when the variables were refused before execution
            answer["data"] = result.data
        data = result.data
    actual = plan.actual(data) if plan is not None else 0
    if key is not None and resolver_context.keepable:
        memo.put(key, Kept(dict(answer), actual, resolver_context.reads()))
    return _answered(context, answer, requested, actual, status)


def _answered(
    context: RequestContext, answer: dict[str, Any], requested: int, actual: int, status: CostStatus
) -> dict[str, Any]:
    """The answer with its cost; what the query did not use goes back to the bucket."""
    refund = requested - actual
    if refund > 0 and status.allowed:
        status = buckets_for(context.server).take(context.headers.get(TOKEN_HEADER, ""), -refund, context.session or "")
    answer["extensions"] = _cost(requested, actual, status)
    return answer
