"""Top-level GraphQL errors as Shopify's GraphQL Admin API writes them.

Shopify's server is graphql-ruby; the mock validates with graphql-core, whose messages differ. The
common validation failures are reworded as graphql-ruby writes them (message and
`extensions.code`); others keep graphql-core's wording, with the same `message`/`locations` shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from graphql import GraphQLError

ACCESS_SCOPES_DOCS = "https://shopify.dev/api/usage/access-scopes"
RATE_LIMITS_DOCS = "https://shopify.dev/api/usage/rate-limits"
MAX_QUERY_COST = 1000  # "A single query to the API cannot exceed a cost of 1000"


def access_denied(field_name: str, scope: str) -> GraphQLError:
    """A field the token's scopes do not reach: the field is null, the answer says which scope."""
    required = f"`{scope}` access scope."
    return GraphQLError(
        f"Access denied for {field_name} field. Required access: {required}",
        extensions={"code": "ACCESS_DENIED", "documentation": ACCESS_SCOPES_DOCS, "requiredAccess": required},
    )


BAD_REQUEST = "BAD_REQUEST"  # what the mock labels an error the request caused (Shopify's codes vary)


def bad_request(message: str, **extensions: Any) -> GraphQLError:
    """An error of a field that the request caused (an id that is none, a refused suggestion)."""
    return GraphQLError(message, extensions={"code": BAD_REQUEST, **extensions})


def invalid_id(value: Any) -> GraphQLError:
    return bad_request(f"Invalid global id '{value}'")


def throttled() -> dict[str, Any]:
    return {"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": RATE_LIMITS_DOCS}}


def max_cost_exceeded(cost: int) -> dict[str, Any]:
    return {
        "message": (
            f"Query cost is {cost}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).\n\n"
            "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
            "cost of a query is calculated.\n\n"
            "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
            "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
        ),
        "extensions": {
            "code": "MAX_COST_EXCEEDED",
            "cost": cost,
            "maxCost": MAX_QUERY_COST,
            "documentation": RATE_LIMITS_DOCS,
        },
    }


def idempotency_required() -> GraphQLError:
    return GraphQLError(
        "The @idempotent directive is required for this mutation. "
        'Add @idempotent(key: "<a unique key>") to the refundCreate field.',
        extensions={"code": BAD_REQUEST, "reason": "IDEMPOTENCY_KEY_REQUIRED"},
    )


Rewrite = Callable[[re.Match[str]], tuple[str, dict[str, Any]]]

_REWRITES: list[tuple[re.Pattern[str], Rewrite]] = [
    (
        re.compile(r"Cannot query field '([^']+)' on type '([^']+)'\."),
        lambda m: (
            f"Field '{m[1]}' doesn't exist on type '{m[2]}'",
            {"code": "undefinedField", "typeName": m[2], "fieldName": m[1]},
        ),
    ),
    (
        re.compile(r"Field '([^']+)' argument '([^']+)' of type '[^']+' is required, but it was not provided\."),
        lambda m: (
            f"Field '{m[1]}' is missing required arguments: {m[2]}",
            {"code": "missingRequiredArguments", "className": "Field", "name": m[1], "arguments": m[2]},
        ),
    ),
    (  # graphql-core 3.3 words it so
        re.compile(r"Argument '[^'.]+\.([^'(]+)\(([^:']+):\)' of type '[^']+' is required, but it was not provided\."),
        lambda m: (
            f"Field '{m[1]}' is missing required arguments: {m[2]}",
            {"code": "missingRequiredArguments", "className": "Field", "name": m[1], "arguments": m[2]},
        ),
    ),
    (
        re.compile(r"Unknown argument '([^']+)' on field '[^'.]+\.([^']+)'\."),
        lambda m: (
            f"Field '{m[2]}' doesn't accept argument '{m[1]}'",
            {"code": "argumentNotAccepted", "name": m[2], "typeName": "Field", "argumentName": m[1]},
        ),
    ),
    (
        re.compile(r"Field '([^']+)' of type '([^']+)' must have a selection of subfields\."),
        lambda m: (
            f"Field must have selections (field '{m[1]}' returns {m[2].strip('[]!')} but has no selections. "
            f"Did you mean '{m[1]} {{ ... }}'?)",
            {"code": "selectionMismatch", "nodeName": f"field '{m[1]}'", "typeName": m[2].strip("[]!")},
        ),
    ),
    (
        re.compile(r"Unknown directive '@([^']+)'\."),
        lambda m: (f"Directive @{m[1]} is not defined", {"code": "undefinedDirective", "directiveName": m[1]}),
    ),
    (
        re.compile(r"Variable '\$([^']+)' of required type '([^']+)' was not provided\."),
        lambda m: (
            f"Variable ${m[1]} of type {m[2]} was provided invalid value",
            {"value": None, "problems": [{"path": [], "explanation": "Expected value to not be null"}]},
        ),
    ),
    (  # graphql-core 3.3
        re.compile(r"Variable '\$([^']+)' has invalid value: (.*)", re.S),
        lambda m: (
            f"Variable ${m[1]} of type {{type}} was provided invalid value",
            {"problems": [{"path": [], "explanation": m[2]}]},
        ),
    ),
    (
        re.compile(r"Variable '\$([^']+)' got invalid value (.*?); (.*)", re.S),
        lambda m: (
            f"Variable ${m[1]} of type {{type}} was provided invalid value",
            {"problems": [{"path": [], "explanation": m[3]}]},
        ),
    ),
]


def shopify_error(error: GraphQLError, variable_types: dict[str, str] | None = None) -> dict[str, Any]:
    """A graphql-core error in Shopify's words: `message`, `locations`, `path`, `extensions`."""
    formatted: dict[str, Any] = dict(error.formatted)
    message = error.message
    for pattern, rewrite in _REWRITES:
        found = pattern.match(message)
        if found:
            text, extensions = rewrite(found)
            if "{type}" in text:
                text = text.replace("{type}", (variable_types or {}).get(found[1], "?"))
            formatted["message"] = text
            formatted["extensions"] = {**extensions, **(error.extensions or {})}
            break
    ordered = {"message": formatted["message"]}
    for key in ("locations", "path", "extensions"):
        if formatted.get(key) is not None:
            ordered[key] = formatted[key]
    return ordered
