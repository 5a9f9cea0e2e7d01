"""The console's ``/metrics``: this process's metrics plus the hand-off queues as they stand.

Call metrics live in the workers; the console adds what only it sees well, the transfers waiting
for a person in each queue, read from Redis at scrape time. Queue names come from configuration,
so the label stays bounded. Like every console page it is closed to strangers: Prometheus sends
the bearer token ``VOICEPAY_CONSOLE__METRICS_TOKEN``; a logged-in supervisor needs none.
"""

from __future__ import annotations

import hmac

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from voicepay.console.auth import require
from voicepay.console.context import context_of
from voicepay.console.users import Role
from voicepay.metrics import CONTENT_TYPE, bounded, render_latest


async def queue_figures(request: Request) -> bytes:
    """The hand-off queues' waiting transfers and oldest wait, in the Prometheus text format."""
    reader = context_of(request).transfers
    queues = await reader.queues()
    transfers = await reader.recent(queues)
    registry = CollectorRegistry()
    waiting = Gauge(
        "voicepay_handoff_waiting",
        "Transfers waiting for a person, by queue.",
        ["queue"],
        registry=registry,
    )
    oldest = Gauge(
        "voicepay_handoff_oldest_wait_seconds",
        "How long the oldest waiting transfer has waited, by queue.",
        ["queue"],
        registry=registry,
    )
    for queue in queues:
        label = bounded("queue", queue)
        open_waits = [t.wait_s() for t in transfers if t.queue == queue and t.is_open]
        waiting.labels(label).set(len(open_waits))
        oldest.labels(label).set(max(open_waits, default=0))
    return generate_latest(registry)


def _bearer_ok(request: Request) -> bool:
    token = context_of(request).config.metrics_token
    if token is None:
        return False
    sent = request.headers.get("authorization", "").removeprefix("Bearer ").encode()
    return hmac.compare_digest(sent, token.get_secret_value().encode())


async def metrics(request: Request) -> Response:
    """Prometheus scrape endpoint of the console (bearer token, else a supervisor's session)."""
    if not _bearer_ok(request):
        await require(request, "view.metrics", Role.SUPERVISOR)
    body = render_latest() + await queue_figures(request)
    return Response(body, media_type=CONTENT_TYPE)


routes = [Route("/metrics", metrics, methods=["GET"])]
