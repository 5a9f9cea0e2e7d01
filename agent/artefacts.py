"""The files a call run leaves behind: call.json, transcript, events and LLM requests.

``logs.jsonl`` is written by the logging configuration; this module writes the rest. Transcript and
event lines go through the card-number mask once more before they touch the disk; LLM requests are
written exactly as sent, so that a containment scan sees precisely what the model saw.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from agent.events import TRANSCRIPT_KINDS, CallEvent
from agent.formatting import confirmation_code
from agent.workflow import CallState
from payment_tools.redaction import mask_card_numbers
from voicepay.money import Money

CALL_FILE = "call.json"
TRANSCRIPT_FILE = "transcript.jsonl"
EVENTS_FILE = "events.jsonl"
LLM_REQUESTS_FILE = "llm_requests.jsonl"
LOGS_FILE = "logs.jsonl"


def _line(payload: dict[str, Any]) -> str:
    return mask_card_numbers(json.dumps(payload, ensure_ascii=False, default=str)) + "\n"


class ArtefactWriter:
    """Streams a call's events into JSONL files under ``directory``.

    Args:
        directory: where the files go; created when needed.
    """

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._transcript: IO[str] = (directory / TRANSCRIPT_FILE).open("w", encoding="utf-8")
        self._events: IO[str] = (directory / EVENTS_FILE).open("w", encoding="utf-8")
        self._requests: IO[str] = (directory / LLM_REQUESTS_FILE).open("w", encoding="utf-8")

    def __call__(self, event: CallEvent) -> None:
        """Write ``event`` to the files it belongs in."""
        payload = event.to_json()
        if event.kind == "llm_request":
            self._requests.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
            return
        self._events.write(_line(payload))
        if event.kind in TRANSCRIPT_KINDS:
            self._transcript.write(_line(transcript_line(event)))

    def finish(self, state: CallState) -> dict[str, Any]:
        """Write ``call.json`` from the final workflow state and close the files."""
        summary = call_summary(state)
        (self.directory / CALL_FILE).write_text(
            mask_card_numbers(json.dumps(summary, ensure_ascii=False, indent=2)), encoding="utf-8"
        )
        for handle in (self._transcript, self._events, self._requests):
            handle.close()
        return summary


def transcript_line(event: CallEvent) -> dict[str, Any]:
    """A transcript entry: who, what, when."""
    data = event.data
    if event.kind == "keypad":
        return {"at_ms": event.at_ms, "speaker": "caller", "keypad": data.get("masked", "")}
    speaker = "agent" if event.kind == "agent_said" else "caller"
    line: dict[str, Any] = {"at_ms": event.at_ms, "speaker": speaker, "text": data.get("text", "")}
    if data.get("ignored"):
        line["ignored"] = data["ignored"]
    return line


def call_summary(state: CallState) -> dict[str, Any]:
    """The call record: final state, outcome, payment and authentication results."""
    amount = (
        Money(state.amount_minor, state.currency).to_decimal_str()
        if state.amount_minor is not None and state.currency
        else None
    )
    return {
        "call_id": state.call_id,
        "language": state.language,
        "final_state": state.step.value,
        "outcome": state.outcome,
        "account": state.account_number,
        "amount": amount if state.paid else None,
        "amount_agreed": amount,
        "currency": state.currency,
        "payment_reference": state.payment_reference,
        "confirmation_code": (
            confirmation_code(state.payment_reference) if state.payment_reference else None
        ),
        "card": {"brand": state.card.brand, "last4": state.card.last4} if state.card else None,
        "auth": {
            "status": state.auth.value,
            "method": state.auth_method,
            "failures": state.auth_failures,
        },
        "declines": [decline.model_dump() for decline in state.declines],
        "receipt_sent": state.receipt_delivered,
        "transfer_reason": state.transfer_reason,
        "steps": [t.model_dump(mode="json") for t in state.transitions],
    }
