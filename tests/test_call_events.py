"""A call's event stream: costly details are built only for a listener that wants them."""

from __future__ import annotations

from agent.events import CallEvent, CallEvents
from voicepay.metrics import CallMetrics


def test_metrics_alone_do_not_ask_for_the_costly_details() -> None:
    events = CallEvents("c1")
    events.subscribe(CallMetrics(), details=False)
    assert not events.listened
    seen: list[CallEvent] = []
    events.subscribe(seen.append)
    assert events.listened
    events.emit("step", source="greet", target="identify")
    assert [event.kind for event in seen] == ["step"]
    assert [event.kind for event in events.history] == ["step"]


def test_a_failing_listener_does_not_stop_the_others() -> None:
    events = CallEvents("c2")
    seen: list[str] = []

    def broken(event: CallEvent) -> None:
        raise RuntimeError(event.kind)

    events.subscribe(broken, details=False)
    events.subscribe(lambda event: seen.append(event.kind), details=False)
    events.emit("caller_said", text="hello")
    assert seen == ["caller_said"]
    assert not events.listened
