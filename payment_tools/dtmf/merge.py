"""One key stream from two sources: in-band tones and SIP (RFC 4733) key events.

Some carriers send a key press both ways. Each event from one source is matched, oldest first,
with an unmatched event of the same key from the other source whose time (or tone) lies within
``window_s`` of its own; a matched event is a duplicate and is dropped, so every press counts
once, whichever source reports it first. :class:`DualSourceKeys` puts that in front of any
``press(key)`` sink, such as :meth:`payment_tools.keypad.KeypadRouter.press`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from livekit import rtc

# SIP DTMF codes (RFC 4733 events): 0-9, then *, #, A-D.
_KEY_BY_CODE = dict(enumerate("0123456789*#ABCD"))


class Source(Enum):
    """Where a key event came from."""

    INBAND = "inband"
    SIP = "sip"


@dataclass(frozen=True, repr=False)
class _Event:
    """A reported press; no repr, as the key may be a card digit."""

    key: str
    start_s: float
    end_s: float


class DigitMerger:
    """Drops the second report of a key press that arrives through both sources."""

    def __init__(self, window_s: float = 0.3) -> None:
        """Create a merger.

        Args:
            window_s: largest gap, on a common clock, between the two reports of one press.
        """
        self._window = window_s
        self._unmatched: dict[Source, deque[_Event]] = {s: deque() for s in Source}

    def push(self, key: str, time_s: float, source: Source, end_s: float | None = None) -> bool:
        """Record a key event; return True if it is a new press, False if a duplicate.

        Args:
            key: the keypad key.
            time_s: when the press started (tone onset, or the SIP event's time).
            source: which source reported it.
            end_s: when the press ended, if known (a tone's end); defaults to ``time_s``.
        """
        event = _Event(key, time_s, time_s if end_s is None else max(end_s, time_s))
        other = self._unmatched[Source.SIP if source is Source.INBAND else Source.INBAND]
        for queue in self._unmatched.values():
            while queue and queue[0].end_s < time_s - self._window:
                queue.popleft()
        for seen in other:
            if (
                seen.key == key
                and seen.start_s - self._window <= event.end_s
                and event.start_s <= seen.end_s + self._window
            ):
                other.remove(seen)
                return False
        self._unmatched[source].append(event)
        return True


class DualSourceKeys:
    """Feeds keys from SIP DTMF events and from in-band tones to one sink, each press once.

    Args:
        press: where each press goes, e.g. ``KeypadRouter.press``.
        window_s: largest gap between the two reports of one press.
        clock: the common clock, in seconds; in-band times must be on it too.
    """

    def __init__(
        self,
        press: Callable[[str], None],
        *,
        window_s: float = 0.3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._press = press
        self._merger = DigitMerger(window_s)
        self._clock = clock
        self._room: rtc.Room | None = None
        self._caller_identity: str | None = None

    def sip(self, key: str) -> None:
        """A SIP key event, received now."""
        if self._merger.push(key, self._clock(), Source.SIP):
            self._press(key)

    def inband(self, key: str, start_s: float, end_s: float | None = None) -> None:
        """A key found in the audio: its tone started at ``start_s`` (and ended at ``end_s``)."""
        if self._merger.push(key, start_s, Source.INBAND, end_s):
            self._press(key)

    def attach_room(self, room: rtc.Room, *, caller_identity: str | None = None) -> None:
        """Take SIP key events from the room (only the caller's, when ``caller_identity`` is set).

        Args:
            room: the call's room; a previously attached room is detached first.
            caller_identity: the caller's participant identity.
        """
        self.detach()
        room.on("sip_dtmf_received", self._on_sip_dtmf)
        self._room, self._caller_identity = room, caller_identity

    def detach(self) -> None:
        """Stop listening to the attached room, if any."""
        if self._room is not None:
            self._room.off("sip_dtmf_received", self._on_sip_dtmf)
            self._room = None

    def _on_sip_dtmf(self, event: rtc.SipDTMF) -> None:
        if self._caller_identity is not None and (
            event.participant is None or event.participant.identity != self._caller_identity
        ):
            return
        key = event.digit or _KEY_BY_CODE.get(event.code, "")
        if key:
            self.sip(key)
