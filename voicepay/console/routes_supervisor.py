"""The supervisor's pages: all queues with KPIs, the agents, and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voicepay.console.auth import CSRF_FIELD, audit, require
from voicepay.console.context import context_of
from voicepay.console.kpis import agent_figures, compute
from voicepay.console.routes_agent import visible_queues
from voicepay.console.users import Role

AUDIT_PAGE_SIZE = 200


async def overview(request: Request) -> Response:
    """Every queue, what waits in it, and the KPIs of the last day."""
    principal = await require(request, "view.supervisor", Role.SUPERVISOR)
    context = context_of(request)
    queues = await visible_queues(request, principal)
    transfers = await context.transfers.recent(queues)
    feedback = await context.feedback.all()
    now = datetime.now(UTC)
    await audit(request, principal, "view.supervisor")
    return context.templates.TemplateResponse(
        request,
        "supervisor.html",
        {
            "me": principal,
            "csrf_field": CSRF_FIELD,
            "kpis": compute(transfers, feedback, queues, now),
            "transfers": list(reversed(transfers)),
            "now": now,
        },
    )


async def agents(request: Request) -> Response:
    """Console users with what each did over the last day."""
    principal = await require(request, "view.agents", Role.SUPERVISOR)
    context = context_of(request)
    transfers = await context.transfers.recent(await visible_queues(request, principal))
    figures = agent_figures(await context.users.all(), transfers)
    await audit(request, principal, "view.agents")
    return context.templates.TemplateResponse(
        request, "agents.html", {"me": principal, "csrf_field": CSRF_FIELD, "agents": figures}
    )


async def audit_log(request: Request) -> Response:
    """The latest audit entries, newest first (this view included)."""
    principal = await require(request, "view.audit", Role.SUPERVISOR)
    context = context_of(request)
    await audit(request, principal, "view.audit")
    entries = await context.audit.recent(AUDIT_PAGE_SIZE)
    return context.templates.TemplateResponse(
        request, "audit.html", {"me": principal, "csrf_field": CSRF_FIELD, "entries": entries}
    )


routes = [
    Route("/supervisor", overview, methods=["GET"]),
    Route("/supervisor/agents", agents, methods=["GET"]),
    Route("/supervisor/audit", audit_log, methods=["GET"]),
]
