"""Prometheus metrics of VoicePay calls, fed by each call's event stream.

One :class:`CallMetrics` listener per call (subscribed where calls are opened) turns the events into
counters and histograms in the process's default registry; nothing else in the code base touches a
metric. End-of-call figures (outcome, containment, funnel, handle time, transfers) come from the
``call_record`` event, so the metrics and the stored call records always agree.

Labels take short lowercase words only (letters, ``_``, ``-``, ``+``), from a bounded vocabulary:
anything else, and any value past :data:`MAX_LABEL_VALUES` per metric, is counted as ``other``. No
account number, card digit or free text can become a label.

The worker's job processes each keep their own values; LiveKit's worker sums them for its /metrics
endpoint when ``PROMETHEUS_MULTIPROC_DIR`` is set (see ``docs/operations.md``).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from agent.events import CallEvent
from agent.handoff import TransferReason
from payment_tools.capture import CaptureErrorType
from payment_tools.gateway import DeclineReason

MAX_LABEL_VALUES = 40
"""Distinct values one metric's label may take before further values are counted as ``other``."""
OTHER = "other"
CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The HTTP content type of :func:`render_latest`'s output."""
FUNNEL_STAGES = ("identified", "verified", "amount_agreed", "captured", "paid")
"""The payment funnel in order; agreeing an amount is what takes a call to card capture."""

_LABEL = re.compile(r"^[a-z][a-z_+-]{0,63}$")
_TURN_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0)
_FAST_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
_TOOL_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_CALL_BUCKETS = (15, 30, 60, 90, 120, 180, 240, 300, 450, 600, 900, 1800)

CALLS_STARTED = Counter("voicepay_calls_started", "Calls answered.")
CALLS_ENDED = Counter("voicepay_calls_ended", "Calls ended, by outcome.", ["outcome"])
CALLS_CONTAINED = Counter(
    "voicepay_calls_contained", "Ended calls that never went to a person (containment)."
)
FUNNEL = Counter(
    "voicepay_funnel_calls", "Ended calls that reached each stage of the payment funnel.", ["stage"]
)
DECLINES = Counter("voicepay_declines", "Declined charges, by decline code.", ["code"])
TRANSFERS = Counter("voicepay_transfers", "Calls handed to a person, by reason.", ["reason"])
AUTH_CHECKS = Counter(
    "voicepay_auth_checks", "Identity decisions, by method and decision.", ["method", "decision"]
)
CAPTURES = Counter("voicepay_captures", "Keypad card captures, by final status.", ["status"])
CAPTURE_ERRORS = Counter(
    "voicepay_capture_errors", "Rejected keypad entries during card capture, by type.", ["error"]
)
LLM_FALLBACKS = Counter(
    "voicepay_llm_fallbacks", "Times the LLM became unavailable and the directed dialog took over."
)
ACTIVE_CALLS = Gauge("voicepay_active_calls", "Calls in progress.", multiprocess_mode="livesum")
CALL_DURATION = Histogram(
    "voicepay_call_duration_seconds", "Handle time of ended calls.", buckets=_CALL_BUCKETS
)
TURN_E2E = Histogram(
    "voicepay_turn_e2e_seconds",
    "From the end of the caller's input to the agent starting to speak.",
    buckets=_TURN_BUCKETS,
)
LLM_TTFT = Histogram(
    "voicepay_llm_ttft_seconds", "LLM time to first token, per reply.", buckets=_FAST_BUCKETS
)
STT_DELAY = Histogram(
    "voicepay_stt_delay_seconds",
    "From the end of the caller's speech to the final transcript.",
    buckets=_FAST_BUCKETS,
)
TTS_TTFB = Histogram(
    "voicepay_tts_ttfb_seconds", "TTS time to first audio, per reply.", buckets=_FAST_BUCKETS
)
TOOL_TIME = Histogram(
    "voicepay_tool_seconds",
    "Tool run time (keypad tools include the caller's typing).",
    ["tool"],
    buckets=_TOOL_BUCKETS,
)

_seen: dict[str, set[str]] = {}


def bounded(metric: str, value: object) -> str:
    """``value`` as a label of ``metric``: a short lowercase word within the cap, else ``other``."""
    text = str(value) if value is not None else "none"
    if not _LABEL.match(text):
        return OTHER
    seen = _seen.setdefault(metric, set())
    if text not in seen:
        if len(seen) >= MAX_LABEL_VALUES:
            return OTHER
        seen.add(text)
    return text


def _zero_known_labels() -> None:
    """Publish every known label value at zero, so rates and ratios exist before the first event."""
    for stage in FUNNEL_STAGES:
        FUNNEL.labels(stage)
    for reason in TransferReason:
        TRANSFERS.labels(bounded("transfer", reason.value))
    for code in DeclineReason:
        DECLINES.labels(bounded("decline", code.value))
    for error in CaptureErrorType:
        CAPTURE_ERRORS.labels(bounded("capture_error", error.value))


_zero_known_labels()

_LATENCY_KEYS = ("e2e_latency", "llm_node_ttft", "tts_node_ttfb", "transcription_delay")


def latency_fields(report: Mapping[str, Any]) -> dict[str, float]:
    """The per-turn latencies (seconds) of a LiveKit ``ChatMessage.metrics`` report.

    Also returns ``speaking_s``, how long the reply played, which dates the reply's start for a
    turn LiveKit measures no end-to-end latency for (typed or keypad input).
    """
    fields = {
        key: round(float(report[key]), 4)
        for key in _LATENCY_KEYS
        if isinstance(report.get(key), int | float)
    }
    started, stopped = report.get("started_speaking_at"), report.get("stopped_speaking_at")
    if isinstance(started, int | float) and isinstance(stopped, int | float):
        fields["speaking_s"] = round(max(0.0, float(stopped) - float(started)), 4)
    return fields


class CallMetrics:
    """Turns one call's events into metrics; subscribe one instance per call.

    Counts the call as started and active when created.
    """

    def __init__(self) -> None:
        self._input_at: float | None = None
        self._ended = False
        CALLS_STARTED.inc()
        ACTIVE_CALLS.inc()

    def __call__(self, event: CallEvent) -> None:
        """Update the metrics one event moves."""
        data = event.data
        match event.kind:
            case "caller_said" if not data.get("taken_by") and not data.get("ignored"):
                self._input_at = time.monotonic()
            case "keypad_line" if data.get("accepted"):
                self._input_at = time.monotonic()
            case "agent_said" if data.get("in_context") is False:
                # A keypad prompt, said before the tool waits: the agent's answer to the input.
                self._answered(time.monotonic())
            case "turn_metrics":
                self._turn(data)
            case "tool_call" if isinstance(data.get("duration_s"), float):
                TOOL_TIME.labels(bounded("tool", data.get("name"))).observe(data["duration_s"])
            case "auth":
                AUTH_CHECKS.labels(
                    bounded("auth_method", data.get("method")),
                    bounded("auth_decision", data.get("decision")),
                ).inc()
            case "capture_progress" if data.get("error"):
                CAPTURE_ERRORS.labels(bounded("capture_error", data["error"])).inc()
            case "capture_result":
                CAPTURES.labels(bounded("capture_status", data.get("status"))).inc()
            case "charge_result" if data.get("status") == "declined":
                DECLINES.labels(bounded("decline", data.get("decline_reason"))).inc()
            case "llm_fallback" if data.get("available") is False:
                LLM_FALLBACKS.inc()
            case "call_record":
                self._end(data)

    def _turn(self, data: Mapping[str, Any]) -> None:
        for key, histogram in (
            ("llm_node_ttft", LLM_TTFT),
            ("tts_node_ttfb", TTS_TTFB),
            ("transcription_delay", STT_DELAY),
        ):
            if key in data:
                histogram.observe(data[key])
        if data.get("role") != "assistant":
            return
        if "e2e_latency" in data:
            TURN_E2E.observe(data["e2e_latency"])
            self._input_at = None
        elif "speaking_s" in data:
            # LiveKit measured no end of speech (typed or keypad input): date it ourselves.
            self._answered(time.monotonic() - data["speaking_s"])

    def _answered(self, started: float) -> None:
        if self._input_at is not None:
            TURN_E2E.observe(max(0.0, started - self._input_at))
            self._input_at = None

    def _end(self, record: Mapping[str, Any]) -> None:
        if self._ended:
            return
        self._ended = True
        ACTIVE_CALLS.dec()
        CALLS_ENDED.labels(bounded("outcome", record.get("outcome"))).inc()
        if record.get("contained"):
            CALLS_CONTAINED.inc()
        for stage in record.get("stages", []):
            if stage in FUNNEL_STAGES:
                FUNNEL.labels(stage).inc()
        if record.get("transfer_reason"):
            TRANSFERS.labels(bounded("transfer", record["transfer_reason"])).inc()
        CALL_DURATION.observe(record.get("duration_s", 0.0))


def render_latest() -> bytes:
    """The Prometheus exposition of this process (of every job process in multiprocess mode)."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)
