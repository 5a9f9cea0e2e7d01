"""Log-in and log-out pages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from voicepay.console.auth import (
    CSRF_FIELD,
    CsrfRejected,
    audit,
    checked_form,
    clear_cookie,
    cookie_names,
    current,
    form_text,
    require,
    set_cookie,
)
from voicepay.console.context import context_of
from voicepay.console.users import Role

_LOGIN_COOKIE_S = 3600
_MAX_NAME_IN_AUDIT = 64


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (no scheme, host or ``//``), else None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _home(role: Role) -> str:
    return "/supervisor" if role is Role.SUPERVISOR else "/queue"


def _login_page(request: Request, *, error: str = "", status_code: int = 200) -> Response:
    context = context_of(request)
    nonce, token = context.sessions.login_csrf_pair()
    response = context.templates.TemplateResponse(
        request,
        "login.html",
        {
            "me": None,
            "csrf": token,
            "csrf_field": CSRF_FIELD,
            "error": error,
            "next": safe_next(request.query_params.get("next")) or "",
        },
        status_code=status_code,
    )
    set_cookie(
        response, request, cookie_names(context.config.secure_cookies)[1], nonce, _LOGIN_COOKIE_S
    )
    return response


async def login_form(request: Request) -> Response:
    """The log-in page; a logged-in user goes to their home page."""
    principal = await current(request)
    if principal is not None:
        return RedirectResponse(_home(principal.user.role), status_code=303)
    await audit(request, None, "view.login")
    return _login_page(request)


async def login(request: Request) -> Response:
    """Check the credentials, within the per-username attempt limit, and start a session."""
    context = context_of(request)
    session_cookie, login_cookie = cookie_names(context.config.secure_cookies)
    form = await request.form()
    if not context.sessions.login_csrf_valid(
        request.cookies.get(login_cookie), form_text(form, CSRF_FIELD)
    ):
        raise CsrfRejected(None)
    username = form_text(form, "username").strip().lower()
    password = form_text(form, "password")
    attempted = username[:_MAX_NAME_IN_AUDIT]
    if await context.limiter.locked(username):
        await audit(request, None, "login", target=attempted, outcome="locked")
        return _login_page(
            request, error="Too many failed attempts. Try again later.", status_code=429
        )
    user = await context.users.authenticate(username, password) if username else None
    if user is None:
        await context.limiter.failed(username)
        await audit(request, None, "login", target=attempted, outcome="failed")
        return _login_page(request, error="Wrong username or password.", status_code=401)
    await context.limiter.succeeded(username)
    session_token, _ = await context.sessions.create(user.username)
    await context.audit.record(
        actor=user.username,
        role=user.role.value,
        action="login",
        ip=request.client.host if request.client else "",
    )
    target = safe_next(form_text(form, "next"))
    response = RedirectResponse(target or _home(user.role), status_code=303)
    set_cookie(response, request, session_cookie, session_token, context.config.session_max_s)
    clear_cookie(response, request, login_cookie)
    return response


async def logout(request: Request) -> Response:
    """End the session."""
    principal = await require(request, "logout")
    await checked_form(request, principal)
    context = context_of(request)
    await context.sessions.end(principal.token)
    await audit(request, principal, "logout")
    response = RedirectResponse("/login", status_code=303)
    clear_cookie(response, request, cookie_names(context.config.secure_cookies)[0])
    return response


routes = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
