"""The agent's pages: the live queue and a transfer (accept, decline, disposition, feedback)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from voicepay.console.auth import (
    CSRF_FIELD,
    Forbidden,
    Principal,
    audit,
    checked_form,
    form_text,
    require,
)
from voicepay.console.charts import sentiment_chart
from voicepay.console.claims import AcceptOutcome, ActionRefused, DispositionOutcome
from voicepay.console.context import ConsoleContext, context_of
from voicepay.console.feedback import MISSING_ITEMS, RightCall
from voicepay.console.transfers import Transfer, ref_of
from voicepay.console.users import Role

NOTICES = {
    "accepted": "You have the call. Record how it ended below.",
    "already_yours": "You already have this call.",
    "taken": "Another agent accepted this transfer first.",
    "declined": "You declined the transfer; it stays in the queue for others.",
    "disposed": "Outcome recorded.",
    "rated": "Thank you: your rating goes to the bot's evaluation suite.",
}
"""Fixed messages shown after an action (the query string names one; it is never echoed)."""


async def visible_queues(request: Request, principal: Principal) -> list[str]:
    """The queues this user works: their own, or every queue for a supervisor."""
    if principal.user.role is Role.SUPERVISOR:
        context = context_of(request)
        found = set(await context.transfers.queues()) | set(context.config.default_queues)
        return sorted(found)
    return principal.user.queues


def cursor_now() -> str:
    """A live-update cursor for the current time (an entry-ID-shaped ref)."""
    return ref_of(f"{int(datetime.now(UTC).timestamp() * 1000)}-0")


async def home(request: Request) -> Response:
    """Send the user to the queue."""
    await require(request, "view.home")
    return RedirectResponse("/queue", status_code=303)


async def queue_page(request: Request) -> Response:
    """Transfers waiting in the user's queues, updated live; and calls the user still holds."""
    principal = await require(request, "view.queue")
    context = context_of(request)
    queues = await visible_queues(request, principal)
    transfers = await context.transfers.recent(queues)
    await audit(request, principal, "view.queue", target=",".join(queues))
    held = [
        t
        for t in transfers
        if t.accepted_by == principal.username and (t.disposition is None or not t.feedback_by)
    ]
    return context.templates.TemplateResponse(
        request,
        "queue.html",
        {
            "me": principal,
            "csrf_field": CSRF_FIELD,
            "queues": queues,
            "waiting": [t for t in transfers if t.is_open],
            "held": held,
            "now": datetime.now(UTC),
            "cursor": cursor_now(),
        },
    )


async def _load(request: Request, principal: Principal, action: str) -> Transfer | Response:
    queue, ref = request.path_params["queue"], request.path_params["ref"]
    target = f"{queue}/{ref}"
    if not principal.user.sees_queue(queue):
        raise Forbidden(principal, action)
    transfer = await context_of(request).transfers.get(queue, ref)
    if transfer is None:
        await audit(request, principal, action, target=target, outcome="not_found")
        return _error(request, principal, 404, "No such transfer.")
    return transfer


def _error(request: Request, principal: Principal, status: int, message: str) -> Response:
    return context_of(request).templates.TemplateResponse(
        request,
        "error.html",
        {"me": principal, "csrf_field": CSRF_FIELD, "status": status, "message": message},
        status_code=status,
    )


def _render(
    request: Request,
    principal: Principal,
    transfer: Transfer,
    *,
    error: str = "",
    status: int = 200,
) -> Response:
    notice = NOTICES.get(request.query_params.get("notice", ""), "")
    return context_of(request).templates.TemplateResponse(
        request,
        "transfer.html",
        {
            "me": principal,
            "csrf_field": CSRF_FIELD,
            "t": transfer,
            "chart": sentiment_chart(transfer.brief.sentiment) if transfer.brief else None,
            "now": datetime.now(UTC),
            "notice": notice,
            "error": error,
            "outcomes": list(DispositionOutcome),
            "right_calls": list(RightCall),
            "missing_items": MISSING_ITEMS,
        },
        status_code=status,
    )


def _back(transfer: Transfer, notice: str) -> Response:
    return RedirectResponse(
        f"/transfers/{transfer.queue}/{transfer.ref}?notice={notice}", status_code=303
    )


async def transfer_page(request: Request) -> Response:
    """One transfer: brief, transcript, verification, sentiment, reason and the actions."""
    principal = await require(request, "view.transfer")
    loaded = await _load(request, principal, "view.transfer")
    if isinstance(loaded, Response):
        return loaded
    await audit(request, principal, "view.transfer", target=f"{loaded.queue}/{loaded.ref}")
    return _render(request, principal, loaded)


async def accept(request: Request) -> Response:
    """Take the call, unless another agent took it first."""
    principal = await require(request, "transfer.accept")
    await checked_form(request, principal)
    loaded = await _load(request, principal, "transfer.accept")
    if isinstance(loaded, Response):
        return loaded
    outcome = await context_of(request).actions.accept(loaded, principal.username)
    audit_outcome = "conflict" if outcome is AcceptOutcome.TAKEN else "ok"
    target = f"{loaded.queue}/{loaded.ref}"
    await audit(request, principal, "transfer.accept", target=target, outcome=audit_outcome)
    return _back(loaded, outcome.value)


Perform = Callable[[ConsoleContext, Transfer, str, FormData], Awaitable[None]]


async def _act(request: Request, action: str, notice: str, perform: Perform) -> Response:
    principal = await require(request, action)
    form = await checked_form(request, principal)
    loaded = await _load(request, principal, action)
    if isinstance(loaded, Response):
        return loaded
    target = f"{loaded.queue}/{loaded.ref}"
    try:
        await perform(context_of(request), loaded, principal.username, form)
    except ActionRefused as refused:
        await audit(request, principal, action, target=target, outcome="refused")
        return _render(request, principal, loaded, error=str(refused), status=409)
    except ValueError:
        await audit(request, principal, action, target=target, outcome="invalid")
        return _render(request, principal, loaded, error="Please fill in the form.", status=400)
    await audit(request, principal, action, target=target)
    if notice == "declined":
        return RedirectResponse("/queue", status_code=303)
    return _back(loaded, notice)


async def _decline(context: ConsoleContext, t: Transfer, username: str, form: FormData) -> None:
    await context.actions.decline(t, username, form_text(form, "reason"))


async def _dispose(context: ConsoleContext, t: Transfer, username: str, form: FormData) -> None:
    outcome = DispositionOutcome(form_text(form, "outcome"))
    await context.actions.dispose(t, username, outcome, form_text(form, "note"))


async def _rate(context: ConsoleContext, t: Transfer, username: str, form: FormData) -> None:
    score = form_text(form, "score")
    await context.feedback.add(
        t,
        username,
        right_call=RightCall(form_text(form, "right_call")),
        score=int(score) if score.isdigit() else 0,
        missing=[item for item in form.getlist("missing") if isinstance(item, str)],
        comment=form_text(form, "comment"),
    )


async def decline(request: Request) -> Response:
    """Pass on the transfer, with a reason; it stays open for other agents."""
    return await _act(request, "transfer.decline", "declined", _decline)


async def disposition(request: Request) -> Response:
    """Record how the call ended."""
    return await _act(request, "transfer.disposition", "disposed", _dispose)


async def feedback(request: Request) -> Response:
    """Rate the bot's hand-off for the evaluation suite."""
    return await _act(request, "transfer.feedback", "rated", _rate)


routes = [
    Route("/", home, methods=["GET"]),
    Route("/queue", queue_page, methods=["GET"]),
    Route("/transfers/{queue}/{ref}", transfer_page, methods=["GET"]),
    Route("/transfers/{queue}/{ref}/accept", accept, methods=["POST"]),
    Route("/transfers/{queue}/{ref}/decline", decline, methods=["POST"]),
    Route("/transfers/{queue}/{ref}/disposition", disposition, methods=["POST"]),
    Route("/transfers/{queue}/{ref}/feedback", feedback, methods=["POST"]),
]
