from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from livekit import rtc

from payment_tools.dtmf.merge import DigitMerger, DualSourceKeys, Source
from payment_tools.dtmf.tones import KEYS
from payment_tools.keypad import KeypadRouter

presses = st.lists(
    st.tuples(st.sampled_from(list(KEYS)), st.floats(0.08, 2.0)), min_size=1, max_size=30
)


@given(presses, st.sampled_from(list(Source)))
def test_a_single_source_passes_every_press(items: list[tuple[str, float]], source: Source) -> None:
    merger = DigitMerger()
    t = 0.0
    out = []
    for key, gap in items:
        t += gap
        if merger.push(key, t, source):
            out.append(key)
    assert out == [k for k, _ in items]


@given(presses, st.data())
def test_presses_reported_twice_count_once(
    items: list[tuple[str, float]], data: st.DataObject
) -> None:
    merger = DigitMerger(window_s=0.3)
    events, t = [], 0.0
    for key, gap in items:
        t += gap
        for source in Source:
            jitter = data.draw(st.floats(-0.035, 0.035))
            events.append((t + jitter, key, source))
    events.sort(key=lambda e: e[0])
    out = [key for time_s, key, source in events if merger.push(key, time_s, source)]
    assert out == [k for k, _ in items]


def test_different_keys_are_never_merged() -> None:
    merger = DigitMerger()
    assert merger.push("1", 0.0, Source.SIP)
    assert merger.push("2", 0.01, Source.INBAND)
    assert not merger.push("1", 0.02, Source.INBAND)
    assert not merger.push("2", 0.03, Source.SIP)


def test_a_long_press_matches_a_sip_event_sent_when_it_ends() -> None:
    merger = DigitMerger(window_s=0.3)
    assert merger.push("5", 10.0, Source.INBAND, end_s=11.2)
    assert not merger.push("5", 11.3, Source.SIP)
    assert merger.push("5", 12.0, Source.SIP)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_room_and_inband_keys_reach_the_router_once_each() -> None:
    lines: list[str] = []
    router = KeypadRouter(on_line=lines.append)
    clock = Clock()
    keys = DualSourceKeys(router.press, clock=clock)
    room = rtc.Room()
    keys.attach_room(room, caller_identity=None)
    # "4": SIP first, then the same press found in the audio; "2": in-band only; "#": both.
    room.emit("sip_dtmf_received", rtc.SipDTMF(code=4, digit="4", participant=None))
    clock.now = 100.15
    keys.inband("4", 99.98, 100.05)
    clock.now = 101.0
    keys.inband("2", 100.8, 100.9)
    clock.now = 101.6
    keys.inband("#", 101.4, 101.5)
    room.emit("sip_dtmf_received", rtc.SipDTMF(code=11, digit="", participant=None))
    assert lines == ["42"]
    keys.detach()
    room.emit("sip_dtmf_received", rtc.SipDTMF(code=1, digit="1", participant=None))
    router.press("#")
    assert lines == ["42", ""]
