"""The sandbox application factory."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from wrike_mcp.sandbox import control, oauth
from wrike_mcp.sandbox.api import dispatch
from wrike_mcp.sandbox.config import SandboxConfig
from wrike_mcp.sandbox.middleware import SandboxMiddleware
from wrike_mcp.sandbox.routes import all_routes, attachments
from wrike_mcp.sandbox.state import SandboxState

API_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


class SandboxApp(Starlette):
    """Starlette with the sandbox middleware outermost, ahead of Starlette's error middleware."""

    def build_middleware_stack(self) -> ASGIApp:
        return SandboxMiddleware(super().build_middleware_stack(), self.state.sandbox)


def create_app(config: SandboxConfig | None = None) -> Starlette:
    state = SandboxState(config or SandboxConfig())
    api_routes = all_routes()

    async def api(request: Request) -> Response:
        return await dispatch(request, api_routes)

    async def unknown(request: Request) -> Response:
        return JSONResponse(
            {
                "error": "method_not_found",
                "errorDescription": f"Method {request.method} {request.url.path} not found",
            },
            status_code=404,
        )

    app = SandboxApp(
        routes=[
            Route("/api/v4/{path:path}", api, methods=API_METHODS),
            Route("/oauth2/authorize/v4", oauth.authorize, methods=["GET"]),
            Route("/oauth2/token", oauth.token, methods=["POST"]),
            Route("/files/{token}/{name}", attachments.linked_file, methods=["GET"]),
            *control.ROUTES,
            Route("/{path:path}", unknown, methods=API_METHODS),
        ]
    )
    app.state.sandbox = state
    return app
