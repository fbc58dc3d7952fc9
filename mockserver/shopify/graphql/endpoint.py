"""`POST /admin/api/{version}/graphql.json`: parse, validate, price, execute, answer.

The shared pipeline has already checked the token, the content type and the body's shape
(`{"query": ..., "variables": ..., "operationName": ...}`) against the spec. GraphQL answers are
HTTP 200 with `data`, `errors` and `extensions.cost`, as Shopify's are, and say the version that
answered in `X-Shopify-API-Version`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

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


def graphql_admin(context: RequestContext) -> Reply:
    """The handler of operation `graphqlAdmin`."""
    version = served_version(context.path_params["version"])
    headers = {VERSION_HEADER: version}
    body = context.body
    query: str = body["query"]
    variables = body.get("variables") or {}
    operation_name = body.get("operationName") or None
    schema = schema_for(version)
    buckets = buckets_for(context.server)
    key = context.headers.get(TOKEN_HEADER, "")
    scope = context.session or ""  # a named session's cost bucket is its own

    document, problems = prepared(version, query)
    if document is None or problems:
        status = buckets.take(key, 0, scope)
        return Reply(200, {"errors": list(problems), "extensions": _cost(0, None, status)}, headers)
    plan = planned(version, query, operation_name)
    requested = plan.requested(variables) if plan is not None else 0
    if requested > MAX_QUERY_COST:
        status = buckets.take(key, 0, scope)
        body = {"errors": [max_cost_exceeded(requested)], "extensions": _cost(requested, None, status)}
        return Reply(200, body, headers)
    status = buckets.take(key, requested, scope)
    if not status.allowed and throttling(context.server):
        return Reply(200, {"errors": [throttled()], "extensions": _cost(requested, None, status)}, headers)
    return Reply(200, _execute(context, schema, document, plan, requested, status), headers)


def _execute(
    context: RequestContext,
    schema: GraphQLSchema,
    document: DocumentNode,
    plan: OperationPlan | None,
    requested: int,
    status: CostStatus,
) -> dict[str, Any]:
    body = context.body
    version = served_version(context.path_params["version"])
    variables = body.get("variables") or {}
    operation_name = body.get("operationName") or None
    granted = _granted(context)
    memo = memo_for(context.server)
    key = None
    if plan is not None and not plan.mutation:
        try:
            variables_text = json.dumps(variables, sort_keys=True)
        except (TypeError, ValueError):
            variables_text = None
        if variables_text is not None:
            key = (version, body["query"], operation_name, variables_text, granted)
            kept = memo.get(key, context.store)
            if kept is not None:
                return _answered(context, dict(kept.answer), requested, kept.actual_cost, status)
    resolver_context = GraphQLContext(context.store, version, granted, variables)
    result = execute(
        schema,
        document,
        context_value=resolver_context,
        variable_values=variables,
        operation_name=operation_name,
        execution_context_class=_Execution,
        is_awaitable=_never_awaitable,
    )
    answer: dict[str, Any] = {}
    if result.errors:
        types = _variable_types(operation_of(document, operation_name))
        answer["errors"] = [shopify_error(error, types) for error in result.errors]
    if result.data is not None:  # None when the variables were refused before execution
        answer["data"] = result.data
    actual = plan.actual(result.data) if plan is not None else 0
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
