"""Who is asking: session cookies, role checks and CSRF checks for the console's routes.

Handlers call :func:`require` (and :func:`checked_form` for anything that changes state); the
exceptions raised here are turned into a redirect to the log-in page or a 403 by the application,
which also writes them to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from voicepay.console.audit import ANONYMOUS
from voicepay.console.context import context_of
from voicepay.console.sessions import Session, tokens_match
from voicepay.console.users import Role, User

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True, slots=True)
class Principal:
    """The logged-in user making a request."""

    user: User
    session: Session
    token: str

    @property
    def username(self) -> str:
        """The user's name."""
        return self.user.username

    @property
    def role(self) -> str:
        """The user's role, as text."""
        return self.user.role.value


class LoginRequired(Exception):
    """The request has no valid session."""


class Forbidden(Exception):
    """The user's role may not see or do this.

    Args:
        principal: who asked.
        action: the audit action name of what was refused.
    """

    def __init__(self, principal: Principal, action: str) -> None:
        super().__init__(action)
        self.principal = principal
        self.action = action


class CsrfRejected(Exception):
    """A state-changing request without the right CSRF token.

    Args:
        principal: who sent it, if logged in.
    """

    def __init__(self, principal: Principal | None) -> None:
        super().__init__("csrf")
        self.principal = principal


def cookie_names(secure: bool) -> tuple[str, str]:
    """Names of the session and log-in CSRF cookies.

    With secure cookies the ``__Host-`` prefix makes browsers refuse them unless they are Secure,
    host-only and for the whole site.
    """
    prefix = "__Host-" if secure else ""
    return f"{prefix}voicepay_console", f"{prefix}voicepay_login"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    """Set a console cookie: HttpOnly, SameSite=Strict, Secure unless configured otherwise."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=context_of(request).config.secure_cookies,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    """Remove a console cookie (with the same attributes, or ``__Host-`` cookies stay)."""
    set_cookie(response, request, name, "", 0)


async def current(request: Request) -> Principal | None:
    """The logged-in user, or None (no cookie, expired session, or disabled user)."""
    context = context_of(request)
    token = request.cookies.get(cookie_names(context.config.secure_cookies)[0])
    session = await context.sessions.load(token)
    if session is None or token is None:
        return None
    user = await context.users.get(session.username)
    if user is None or user.disabled:
        return None
    return Principal(user=user, session=session, token=token)


async def require(request: Request, action: str, *roles: Role) -> Principal:
    """The logged-in user, if their role is one of ``roles`` (any role when none are given).

    Raises:
        LoginRequired: no valid session.
        Forbidden: the user's role is not allowed.
    """
    principal = await current(request)
    if principal is None:
        raise LoginRequired(action)
    if roles and principal.user.role not in roles:
        raise Forbidden(principal, action)
    return principal


async def checked_form(request: Request, principal: Principal) -> FormData:
    """The request's form, once its CSRF token matches the session's.

    Raises:
        CsrfRejected: the token is missing or wrong.
    """
    form = await request.form()
    token = form_text(form, CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not tokens_match(principal.session.csrf_token, token):
        raise CsrfRejected(principal)
    return form


def form_text(form: FormData, name: str) -> str:
    """A text field of ``form``, or empty when missing or a file."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def audit(
    request: Request,
    principal: Principal | None,
    action: str,
    target: str = "",
    outcome: str = "ok",
) -> None:
    """Write one audit entry for ``request``."""
    await context_of(request).audit.record(
        actor=principal.username if principal else ANONYMOUS,
        role=principal.role if principal else ANONYMOUS,
        action=action,
        target=target,
        outcome=outcome,
        ip=request.client.host if request.client else "",
    )
