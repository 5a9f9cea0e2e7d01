"""Server-sent events for the live queue: new transfers and acceptances, as they happen.

The page passes the time it was rendered as a cursor (``since``); the browser resends the last
event ID on reconnection. Reading restarts a second before the cursor and the page ignores rows
it already shows, so no transfer falls between the page and the stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from voicepay.console._redis import xread_entries
from voicepay.console.auth import Principal, audit, require
from voicepay.console.claims import EVENTS_STREAM
from voicepay.console.context import ConsoleContext, context_of
from voicepay.console.routes_agent import visible_queues
from voicepay.console.transfers import (
    HANDOFF_PREFIX,
    entry_id_of,
    handoff_stream,
    ref_of,
)

_OVERLAP_MS = 1000
_BATCH = 50
_SESSION_CHECK_S = 30.0


def _start_id(cursor: str | None) -> str:
    entry_id = entry_id_of(cursor) if cursor else None
    millis = int(entry_id.split("-")[0]) if entry_id else int(datetime.now(UTC).timestamp() * 1000)
    return f"{max(0, millis - _OVERLAP_MS)}-0"


def _event(kind: str, data: str, cursor: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {kind}\nid: {cursor}\n{lines}\n"


async def _render(
    context: ConsoleContext,
    principal: Principal,
    stream: str,
    entry_id: str,
    fields: dict[str, str],
) -> str | None:
    """The event for one new stream entry, or None when it is not for this page."""
    cursor = ref_of(entry_id)
    if stream == EVENTS_STREAM:
        if not principal.user.sees_queue(fields.get("queue", "")):
            return None
        payload = {"queue": fields.get("queue", ""), "ref": fields.get("ref", "")}
        return _event("accepted", json.dumps(payload), cursor)
    queue = stream.removeprefix(HANDOFF_PREFIX)
    transfer = await context.transfers.get(queue, ref_of(entry_id))
    if transfer is None or not transfer.is_open:
        return None
    # Read back rather than parsed from ``fields``: the row must not show a taken transfer.
    row = context.templates.get_template("_row.html").render(t=transfer, now=datetime.now(UTC))
    return _event("transfer", row, cursor)


async def events(request: Request) -> Response:
    """The event stream for the user's queues (every queue for a supervisor)."""
    principal = await require(request, "view.events")
    context = context_of(request)
    queues = await visible_queues(request, principal)
    start = _start_id(request.headers.get("last-event-id") or request.query_params.get("since"))
    await audit(request, principal, "view.events", target=",".join(queues))
    cursors: dict[str, str] = {handoff_stream(queue): start for queue in queues}
    cursors[EVENTS_STREAM] = start

    async def stream() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        checked = time.monotonic()
        while True:
            if time.monotonic() - checked > _SESSION_CHECK_S:
                # A stream outliving its session (log-out elsewhere, expiry) ends; the browser's
                # reconnection then meets the log-in redirect.
                if not await context.sessions.alive(principal.token):
                    return
                checked = time.monotonic()
            replies = await context.redis.xread(
                cursors,  # type: ignore[arg-type]
                count=_BATCH,
                block=context.config.sse_block_ms,
            )
            if not replies:
                yield ": keep-alive\n\n"
                continue
            for name, entries in xread_entries(replies):
                for entry_id, fields in entries:
                    cursors[name] = entry_id
                    event = await _render(context, principal, name, entry_id, fields)
                    if event is not None:
                        yield event

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


routes = [Route("/events", events, methods=["GET"])]
