"""The `/__mock` admin API: health, reset, and loading fixture orders at run time."""

from __future__ import annotations

from typing import Any

from mockserver.platform import Api, MockHTTPError, Reply, RequestContext, Violation


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
        return AdminError(401, "The admin API needs the token given with --admin-token")

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


def get_health(context: RequestContext) -> Reply:
    server = context.server
    platforms = {name: {"orders": len(server.store.order_ids(name))} for name in server.platforms}
    return Reply(200, {"status": "ok", "platforms": platforms, "fixture_errors": server.fixture_errors})


def reset_state(context: RequestContext) -> Reply:
    context.server.reset()
    return Reply(200, {"status": "reset"})


def load_order(context: RequestContext) -> Reply:
    server = context.server
    platform = server.platforms[context.path_params["platform"]]
    violations = server.fixture_violations(platform, context.body)
    if violations:
        fields = {v.field or "(document)": v.message for v in violations}
        raise AdminError(422, f"The fixture document does not match {platform.fixture_schema}", fields)
    order_id = server.load_order(platform, context.body, baseline=True)
    return Reply(201, {"platform": platform.name, "order_id": order_id})


ADMIN_API = Api(
    name="admin",
    title="refund-mock admin API",
    spec_file="admin.yaml",
    handlers={"getHealth": get_health, "resetState": reset_state, "loadOrder": load_order},
    errors=AdminErrors(),
)
