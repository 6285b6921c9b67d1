"""Wrike's error envelope: `{"error": code, "errorDescription": text}` with the documented statuses."""

from __future__ import annotations

# Every code Wrike documents (errors-api-reference-v4) and the HTTP status it travels with.
ERROR_STATUS: dict[str, int] = {
    "invalid_request": 400,
    "invalid_parameter": 400,
    "parameter_required": 400,
    "not_authorized": 401,
    "access_forbidden": 403,
    "not_allowed": 403,
    "resource_not_found": 404,
    "method_not_found": 404,
    "too_many_requests": 429,
    "rate_limit_exceeded": 429,
    "server_error": 500,
}


class SandboxError(Exception):
    """An API error to be rendered as Wrike's error envelope."""

    def __init__(
        self, status: int, code: str, description: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {description}")
        self.status = status
        self.code = code
        self.description = description
        self.headers = headers or {}

    def body(self) -> dict[str, str]:
        return {"error": self.code, "errorDescription": self.description}


def wrike_error(code: str, description: str, headers: dict[str, str] | None = None) -> SandboxError:
    return SandboxError(ERROR_STATUS[code], code, description, headers)


def invalid_parameter(name: str, why: str) -> SandboxError:
    return wrike_error("invalid_parameter", f"Parameter '{name}' {why}")


def parameter_required(name: str) -> SandboxError:
    return wrike_error("parameter_required", f"Parameter '{name}' is required")


def not_found(what: str, entity_id: str) -> SandboxError:
    return wrike_error("resource_not_found", f"{what} '{entity_id}' not found")
