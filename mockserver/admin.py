"""The `/__mock` admin API: health, reset, fixture orders, scenarios, the request journal and the
rate-limit buckets."""

from __future__ import annotations

import bisect
from typing import Any

from mockserver.journal import EVERY_SESSION
from mockserver.platform import Api, MockHTTPError, Reply, RequestContext, Violation
from mockserver.scenarios import ScenarioBook, ScenarioError


class AdminError(MockHTTPError):
    """The admin API's one error shape."""

    def __init__(self, status: int, message: str, fields: dict[str, str] | None = None):
        body: dict[str, Any] = {"status": status, "message": message}
        if fields:
            body["fields"] = fields
        super().__init__(status, body)


class AdminErrors:
    def malformed_body(self, path: str, reason: str) -> MockHTTPError:
        return AdminError(400, f"Malformed request body: {reason}")

    def invalid_request(self, path: str, violations: list[Violation]) -> MockHTTPError:
        fields = {v.field or v.location: v.message for v in violations}
        return AdminError(422, "The request does not match the admin API spec", fields)

    def unauthorized(self, path: str) -> MockHTTPError:
        return AdminError(401, "The admin API wants the --admin-token token in the X-Mock-Admin-Token header")

    def forbidden(self, path: str, scopes: list[str]) -> MockHTTPError:
        return AdminError(403, "Forbidden")

    def not_found(self, path: str) -> MockHTTPError:
        return AdminError(404, f"No such admin resource: {path}")

    def method_not_allowed(self, path: str, allowed: list[str]) -> MockHTTPError:
        return AdminError(405, f"Method not allowed here; use {', '.join(allowed)}", None)

    def payload_too_large(self, path: str, limit: int) -> MockHTTPError:
        return AdminError(413, f"The request body is larger than {limit} bytes")

    def unsupported_media_type(self, path: str, content_type: str) -> MockHTTPError:
        return AdminError(415, f"Send application/json, not {content_type or 'no content type'}")

    def not_implemented(self, path: str, operation_id: str) -> MockHTTPError:
        return AdminError(501, f"{operation_id} is not implemented")

    def scripted(self, path: str, status: int, message: str, fields: dict[str, str] | None) -> MockHTTPError:
        return AdminError(status, message, fields)


def get_health(context: RequestContext) -> Reply:
    server = context.server
    platforms = {name: {"orders": len(server.store.order_ids(name))} for name in server.platforms}
    reasons = server.health_reasons()
    body = {
        "status": "degraded" if reasons else "ok",
        "platforms": platforms,
        "fixture_errors": server.fixture_errors,
        "fixture_problems": server.fixture_problems,
        "scenario_errors": server.scenarios.problems,
    }
    if reasons:
        body["reasons"] = reasons
    if server.watch_report is not None:  # `serve --watch`
        body["watch"] = server.watch_report.summary()
    return Reply(200, body)


def reset_state(context: RequestContext) -> Reply:
    if context.session is None:
        context.server.reset()
    else:
        context.server.sessions.reset(context.session)
    return Reply(200, {"status": "reset"})


def _book(context: RequestContext) -> ScenarioBook:
    """The scenarios of the session the request names (the server's own for the default session)."""
    if context.session is None:
        return context.server.scenarios
    return context.server.sessions.book(context.session)


def load_order(context: RequestContext) -> Reply:
    server = context.server
    platform = server.platforms[context.path_params["platform"]]
    violations = server.fixture_violations(platform, context.body)
    if violations:
        fields = {v.field or "(document)": v.message for v in violations}
        raise AdminError(422, f"The fixture document does not match {platform.fixture_schema}", fields)
    order_id = server.load_order(platform, context.body, baseline=True)
    return Reply(201, {"platform": platform.name, "order_id": order_id})


def delete_order(context: RequestContext) -> Reply:
    platform, order_id = context.path_params["platform"], context.path_params["order_id"]
    removed = context.server.store.delete_order(platform, order_id)
    if removed is None:
        raise AdminError(404, f"No {platform} order {order_id} is loaded")
    return Reply(200, {"platform": platform, "order_id": order_id, "refunds_removed": removed})


def list_scenarios(context: RequestContext) -> Reply:
    book = _book(context)
    return Reply(200, {"scenarios": [book.summary(scenario) for scenario in book.all()]})


def add_scenarios(context: RequestContext) -> Reply:
    try:
        scenarios = _book(context).add_runtime(context.body)
    except ScenarioError as error:
        raise AdminError(422, error.message, {error.field or "(document)": error.reason}) from None
    return Reply(201, {"loaded": [scenario.name for scenario in scenarios]})


def remove_scenarios(context: RequestContext) -> Reply:
    name = context.query.get("name")
    book = _book(context)
    removed = book.remove_runtime(name)
    if name is not None and not removed:
        why = "it was loaded at start-up" if book.get(name) is not None else "no scenario has that name"
        raise AdminError(404, f"No run-time scenario named {name!r} to remove: {why}")
    return Reply(200, {"removed": removed})


def set_scenario_active(context: RequestContext) -> Reply:
    name = context.path_params["name"]
    book = _book(context)
    scenario = book.set_active(name, context.body["active"])
    if scenario is None:
        raise AdminError(404, f"No scenario named {name!r} is loaded (GET /__mock/scenarios lists them)")
    return Reply(200, book.summary(scenario))


# Orders per platform on a page of GET /__mock/orders when the caller names no `limit`: a store of
# 10,000 orders read whole would hold a worker for seconds.
DEFAULT_BALANCE_PAGE = 250


def list_order_balances(context: RequestContext) -> Reply:
    """Each platform's orders with what is left to refund, as that platform's engine counts it; one
    page of them (only the page's documents are read)."""
    server, store, query = context.server, context.store, context.query  # the session's view of the store
    limit, after, only = query.get("limit", DEFAULT_BALANCE_PAGE), query.get("after"), query.get("platform")
    platforms: dict[str, list[dict[str, Any]]] = {}
    pages: dict[str, dict[str, int | None]] = {}
    for name, platform in server.platforms.items():
        if only is not None and name != only:
            continue
        balances = platforms[name] = []
        balance_of = platform.balance_of
        order_ids = store.order_ids(name) if balance_of is not None else []  # ascending ids
        first = 0 if after is None else bisect.bisect_right(order_ids, after)
        page = order_ids[first : first + limit]
        for order_id in page:
            stored = store.get_order(name, order_id)
            if stored is not None and balance_of is not None:
                balances.append(stored.derive("admin.balance", balance_of))  # once per stored version of the order
        more = first + len(page) < len(order_ids)
        pages[name] = {"total": len(order_ids), "next": page[-1] if more and page else None}
    return Reply(200, {"platforms": platforms, "pages": pages})


def list_requests(context: RequestContext) -> Reply:
    query = context.query
    entries = context.server.journal.find(
        path=query.get("path"),
        operation_id=query.get("operationId"),
        status=query.get("status"),
        method=query.get("method"),
        scenario=query.get("scenario"),
        session=EVERY_SESSION if query.get("all_sessions") else context.session,
    )
    limit = query.get("limit")
    shown = entries if limit is None else entries[max(0, len(entries) - limit) :] if limit else []
    return Reply(200, {"count": len(entries), "requests": [entry.to_json() for entry in shown]})


def clear_requests(context: RequestContext) -> Reply:
    return Reply(200, {"cleared": context.server.journal.clear(session=context.session)})


def get_rate_limits(context: RequestContext) -> Reply:
    """Each platform's limit under the chosen plan, and every bucket that holds calls now."""
    limits = context.server.rate_limits
    platform_of = {kind.name: platform for platform, kind in limits.kinds.items()}
    body = {
        "throttle": limits.throttle,
        "limits": {
            platform: {
                "kind": kind.name,
                "capacity": kind.capacity,
                "restore_rate": kind.restore_rate,
                "window_seconds": kind.window_seconds,
            }
            for platform, kind in limits.kinds.items()
        },
        "buckets": [
            {"platform": platform_of.get(state.kind, state.kind.partition("-")[0]), **state.to_json()}
            for state in limits.buckets()
        ],
    }
    return Reply(200, body)


def reset_rate_limits(context: RequestContext) -> Reply:
    return Reply(200, {"emptied": context.server.rate_limits.reset(context.session or "")})


def list_sessions(context: RequestContext) -> Reply:
    """Every named session alive, with what it has done (idle ones are dropped first)."""
    sessions = context.server.sessions
    return Reply(200, {"idle_seconds": sessions.idle_seconds, "sessions": sessions.listing()})


def drop_session(context: RequestContext) -> Reply:
    name = context.path_params["name"]
    if not context.server.sessions.drop(name):
        raise AdminError(404, f"No session named {name!r} (GET /__mock/sessions lists them)")
    return Reply(200, {"dropped": name})


ADMIN_API = Api(
    name="admin",
    title="refund-mock admin API",
    spec_file="admin.yaml",
    handlers={
        "getHealth": get_health,
        "resetState": reset_state,
        "loadOrder": load_order,
        "deleteOrder": delete_order,
        "listScenarios": list_scenarios,
        "addScenarios": add_scenarios,
        "removeScenarios": remove_scenarios,
        "setScenarioActive": set_scenario_active,
        "listOrderBalances": list_order_balances,
        "listRequests": list_requests,
        "clearRequests": clear_requests,
        "getRateLimits": get_rate_limits,
        "resetRateLimits": reset_rate_limits,
        "listSessions": list_sessions,
        "dropSession": drop_session,
    },
    errors=AdminErrors(),
)
