"""The call's event stream: what was said, keyed, decided and changed, in order.

Every part of a call reports here (agent speech, caller speech after redaction, masked keypad
entries, workflow steps, tool calls, capture progress, guard alerts, hand-offs) and listeners turn
the stream into artefacts (``events.jsonl``, ``transcript.jsonl``), the live console view and
metrics. Events carry no card data by construction: the producers only ever see masked values; a
listener that writes them still runs them through the card-number mask as a last check.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

EventListener = Callable[["CallEvent"], None]

TRANSCRIPT_KINDS = frozenset({"agent_said", "caller_said", "keypad"})


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One thing that happened on a call.

    Attributes:
        kind: what happened (``agent_said``, ``caller_said``, ``keypad``, ``step``, ``tool_call``,
            ``tool_result``, ``capture_progress``, ``guard_alert``, ``llm_fallback``, ``handoff``,
            ``outcome``, ...).
        call_id: the call it belongs to.
        at_ms: milliseconds since the call started.
        data: JSON-safe details.
    """

    kind: str
    call_id: str
    at_ms: int
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON-safe mapping."""
        return {"kind": self.kind, "call_id": self.call_id, "at_ms": self.at_ms, **self.data}


@dataclass
class CallEvents:
    """Publishes a call's events to its listeners, synchronously and in order."""

    call_id: str
    _listeners: list[EventListener] = field(default_factory=list)
    _want_details: int = 0
    _started: float = field(default_factory=time.monotonic)
    history: list[CallEvent] = field(default_factory=list)

    @property
    def listened(self) -> bool:
        """Whether a listener wants costly details (e.g. every LLM request); else skip them."""
        return self._want_details > 0

    def subscribe(self, listener: EventListener, *, details: bool = True) -> None:
        """Call ``listener`` for every later event.

        Args:
            listener: called synchronously with each event.
            details: whether the listener needs the costly events (a transcript writer does; a
                metrics counter or a recorder does not), which are only built when one does.
        """
        self._listeners.append(listener)
        self._want_details += details

    def emit(self, kind: str, **data: Any) -> CallEvent:
        """Record an event and hand it to every listener.

        A failing listener is logged and skipped: reporting must never break the call.
        """
        event = CallEvent(
            kind=kind,
            call_id=self.call_id,
            at_ms=int((time.monotonic() - self._started) * 1000),
            data=data,
        )
        self.history.append(event)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                logger.exception("call event listener failed", extra={"event_kind": kind})
        return event
