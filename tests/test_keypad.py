from __future__ import annotations

import asyncio
import time

import pytest
from livekit import rtc
from livekit.rtc._proto import participant_pb2

from payment_tools.capture import CallerHungUp, KeypadCancelled
from payment_tools.keypad import KeypadRouter, SessionInProgress


class Lines:
    """Records what the router hands to the agent."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.discarded = 0

    def on_line(self, line: str) -> None:
        self.lines.append(line)

    def on_discarded_line(self) -> None:
        self.discarded += 1


def make_router(max_line_digits: int = 12) -> tuple[KeypadRouter, Lines]:
    lines = Lines()
    router = KeypadRouter(
        on_line=lines.on_line,
        on_discarded_line=lines.on_discarded_line,
        max_line_digits=max_line_digits,
    )
    return router, lines


def type_keys(router: KeypadRouter, keys: str) -> None:
    for key in keys:
        router.press(key)


def participant(identity: str, kind: rtc.ParticipantKind.ValueType) -> rtc.RemoteParticipant:
    # Handle id 0 is the FFI's invalid handle: nothing native is dropped when it is collected.
    owned = participant_pb2.OwnedParticipant()
    owned.handle.id = 0
    owned.info.identity = identity
    owned.info.kind = kind
    return rtc.RemoteParticipant(owned)


SIP = rtc.ParticipantKind.PARTICIPANT_KIND_SIP
STANDARD = rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("123#", ["123"]),
        ("#", [""]),
        ("12*34#", ["34"]),
        ("1A2BCD#", ["12"]),
        ("1#2#", ["1", "2"]),
        ("12345678901#", ["12345678901"]),
        ("123", []),
    ],
)
def test_keys_outside_a_session_form_lines(keys: str, expected: list[str]) -> None:
    router, lines = make_router()
    type_keys(router, keys)
    assert lines.lines == expected
    assert lines.discarded == 0


def test_a_line_of_twelve_digits_is_discarded_with_the_rest_of_the_number() -> None:
    router, lines = make_router()
    type_keys(router, "4242424242424242#")
    assert lines.lines == []
    assert lines.discarded == 1
    type_keys(router, "5#")
    assert lines.lines == ["5"]


def test_star_also_ends_the_swallowing_after_a_discarded_line() -> None:
    router, lines = make_router()
    type_keys(router, "123456789012345*67#")
    assert (lines.lines, lines.discarded) == (["67"], 1)


def test_a_short_max_line_delivers_lines_at_that_length() -> None:
    router, lines = make_router(max_line_digits=4)
    type_keys(router, "1234#56789#")
    assert lines.lines == ["1234", "5678", "9"]


def test_max_line_digits_is_at_most_twelve() -> None:
    with pytest.raises(ValueError):
        KeypadRouter(max_line_digits=13)
    with pytest.raises(ValueError):
        KeypadRouter(max_line_digits=0)


def test_unknown_keys_are_ignored() -> None:
    router, lines = make_router()
    for key in ["x", "12", "", "**", "1", "#"]:
        router.press(key)
    assert lines.lines == ["1"]


async def test_keys_during_a_session_go_only_to_it_in_order() -> None:
    router, lines = make_router()
    type_keys(router, "98")
    async with router.exclusive() as keys:
        assert router.busy
        type_keys(router, "1#*A")
        assert [await keys.next_key(1.0) for _ in range(4)] == ["1", "#", "*", "A"]
    assert not router.busy
    type_keys(router, "7#")
    assert lines.lines == ["7"]


async def test_unread_keys_are_dropped_when_the_session_closes() -> None:
    router, lines = make_router()
    async with router.exclusive():
        type_keys(router, "4242")
    type_keys(router, "#")
    assert lines.lines == [""]
    async with router.exclusive() as keys:
        assert await keys.next_key(0.01) is None


async def test_a_second_session_is_refused_while_one_is_open() -> None:
    router, _ = make_router()
    async with router.exclusive():
        with pytest.raises(SessionInProgress):
            async with router.exclusive():
                pass
    async with router.exclusive():
        pass


async def test_a_read_times_out_with_none() -> None:
    router, _ = make_router()
    async with router.exclusive() as keys:
        started = time.monotonic()
        assert await keys.next_key(0.05) is None
        assert 0.04 <= time.monotonic() - started < 1.0


async def test_key_pressed_while_waiting_is_delivered() -> None:
    router, _ = make_router()
    async with router.exclusive() as keys:
        read = asyncio.create_task(keys.next_key(1.0))
        await asyncio.sleep(0.01)
        router.press("5")
        assert await read == "5"


async def test_hang_up_interrupts_a_pending_read() -> None:
    router, _ = make_router()
    async with router.exclusive() as keys:
        read = asyncio.create_task(keys.next_key(5.0))
        await asyncio.sleep(0.01)
        router.hang_up()
        with pytest.raises(CallerHungUp):
            await read
        with pytest.raises(CallerHungUp):
            await keys.next_key(5.0)


async def test_after_hang_up_keys_are_ignored_and_sessions_fail_at_once() -> None:
    router, lines = make_router()
    router.hang_up()
    type_keys(router, "1#")
    assert lines.lines == []
    async with router.exclusive() as keys:
        with pytest.raises(CallerHungUp):
            await keys.next_key(5.0)


async def test_room_dtmf_events_are_routed() -> None:
    router, lines = make_router()
    room = rtc.Room()
    router.attach_room(room)
    room.emit("sip_dtmf_received", rtc.SipDTMF(code=4, digit="4", participant=None))
    room.emit("sip_dtmf_received", rtc.SipDTMF(code=2, digit="", participant=None))
    room.emit("sip_dtmf_received", rtc.SipDTMF(code=11, digit="", participant=None))
    assert lines.lines == ["42"]
    router.detach()
    room.emit("sip_dtmf_received", rtc.SipDTMF(code=11, digit="#", participant=None))
    assert lines.lines == ["42"]


async def test_sip_participant_leaving_hangs_up_but_others_do_not() -> None:
    router, _ = make_router()
    room = rtc.Room()
    router.attach_room(room)
    async with router.exclusive() as keys:
        room.emit("participant_disconnected", participant("observer", STANDARD))
        assert await keys.next_key(0.01) is None
        room.emit("participant_disconnected", participant("sip_caller", SIP))
        with pytest.raises(CallerHungUp):
            await keys.next_key(1.0)


async def test_with_a_caller_identity_only_the_caller_counts() -> None:
    router, lines = make_router()
    room = rtc.Room()
    router.attach_room(room, caller_identity="sip_caller")
    caller, staff = participant("sip_caller", SIP), participant("sip_staff", SIP)
    room.emit("sip_dtmf_received", rtc.SipDTMF(code=1, digit="1", participant=staff))
    room.emit("sip_dtmf_received", rtc.SipDTMF(code=2, digit="2", participant=caller))
    room.emit("sip_dtmf_received", rtc.SipDTMF(code=3, digit="3", participant=None))
    room.emit("sip_dtmf_received", rtc.SipDTMF(code=11, digit="#", participant=caller))
    assert lines.lines == ["2"]
    room.emit("participant_disconnected", staff)
    type_keys(router, "5#")
    assert lines.lines == ["2", "5"]
    room.emit("participant_disconnected", caller)
    type_keys(router, "6#")
    assert lines.lines == ["2", "5"]


async def test_attaching_a_new_room_detaches_the_old_one() -> None:
    router, lines = make_router()
    old, new = rtc.Room(), rtc.Room()
    router.attach_room(old)
    router.attach_room(new)
    old.emit("sip_dtmf_received", rtc.SipDTMF(code=1, digit="1", participant=None))
    new.emit("sip_dtmf_received", rtc.SipDTMF(code=2, digit="2", participant=None))
    router.press("#")
    assert lines.lines == ["2"]


async def test_a_cancelled_session_stops_its_reader_without_hanging_up() -> None:
    router = KeypadRouter()
    async with router.exclusive() as keys:
        reader = asyncio.ensure_future(keys.next_key(5.0))
        await asyncio.sleep(0)
        assert router.cancel_session()
        with pytest.raises(KeypadCancelled):
            await reader
        with pytest.raises(KeypadCancelled):
            await keys.next_key(5.0)
    assert not router.cancel_session()
    async with router.exclusive() as keys:
        router.press("5")
        assert await keys.next_key(1.0) == "5"
