"""The console's ASGI application: routes, error handling, security headers, Redis lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voicepay.console import events, routes_agent, routes_auth, routes_supervisor
from voicepay.console.auth import CSRF_FIELD, CsrfRejected, Forbidden, LoginRequired, audit
from voicepay.console.config import ConsoleConfig
from voicepay.console.context import ConsoleContext, context_of
from voicepay.metrics_console import routes as metrics_routes
from voicepay.redis_client import connect

STATIC_DIR = Path(__file__).parent / "static"

SECURITY_HEADERS: dict[str, str] = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
}


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response (streaming ones included).

    Args:
        app: the wrapped application.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request through, adding headers to the response start."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (name.encode(), value.encode())
                    for name, value in SECURITY_HEADERS.items()
                    if name.encode() not in present
                ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self._app(scope, receive, send_with_headers)


def _refusal(request: Request, message: str) -> Response:
    return context_of(request).templates.TemplateResponse(
        request,
        "error.html",
        {"me": None, "csrf_field": CSRF_FIELD, "status": 403, "message": message},
        status_code=403,
    )


async def _login_required(request: Request, exc: Exception) -> Response:
    await audit(request, None, str(exc) or "request", target=request.url.path, outcome="no_session")
    if request.method in ("GET", "HEAD"):
        query = f"?next={quote(request.url.path)}" if request.url.path != "/" else ""
        return RedirectResponse(f"/login{query}", status_code=303)
    return _refusal(request, "Log in first.")


async def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Forbidden)
    await audit(request, exc.principal, exc.action, target=request.url.path, outcome="denied")
    return _refusal(request, "Your role cannot see this page.")


async def _csrf_rejected(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CsrfRejected)
    await audit(request, exc.principal, "csrf", target=request.url.path, outcome="denied")
    return _refusal(request, "The form expired or did not come from this site. Reload the page.")


def create_app(config: ConsoleConfig, redis_url: str, secret: bytes) -> Starlette:
    """The console application, connecting to ``redis_url`` when it starts.

    Args:
        config: console settings (cookies, timeouts, limits).
        redis_url: the Redis holding hand-offs, users, sessions and the audit log.
        secret: the key for session and CSRF tokens (see ``config.session_secret``).
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = connect(redis_url)
        app.state.console = ConsoleContext.build(config, client, secret)
        try:
            yield
        finally:
            await client.aclose()

    app = Starlette(
        routes=[
            *routes_auth.routes,
            *routes_agent.routes,
            *routes_supervisor.routes,
            *events.routes,
            *metrics_routes,
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        exception_handlers={
            LoginRequired: _login_required,
            Forbidden: _forbidden,
            CsrfRejected: _csrf_rejected,
        },
        lifespan=lifespan,
    )
    app.add_middleware(SecurityHeaders)
    return app
