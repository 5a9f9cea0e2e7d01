"""Routes every keypad key of a call, to the one open keypad session or to the agent as lines.

Card digits pass through here, which is why the router lives in ``payment_tools``. While a session
is open (a card capture or a keypad verification) every key goes to that session only, and keys
typed ahead of its reads wait in its queue. Outside a session keys form lines for the agent: ``#``
ends a line and hands its digits to ``on_line``; ``*`` clears it; a line also ends on reaching
``max_line_digits`` (a ``#`` typed right after such a line belongs to it). A line that reaches 12
digits may be a card number: it is never handed on, the router calls ``on_discarded_line``
instead and swallows further digits until the next ``#`` or ``*``, so the rest of the number cannot
form a line either. ``A``-``D`` are ignored outside sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from livekit import rtc

from payment_tools._capture_types import CallerHungUp, KeypadCancelled, KeySource

CARD_LIKE_LINE_DIGITS = 12
"""Lines this long are never handed on: the shortest card numbers (Maestro) have 12 digits."""

_DIGITS = frozenset("0123456789")
_KEYS = _DIGITS | frozenset("*#ABCD")
# SIP DTMF codes (RFC 4733 events): 0-9, then *, #, A-D.
_KEY_BY_CODE = dict(enumerate("0123456789*#ABCD"))


class SessionInProgress(Exception):
    """Another keypad session (capture or verification) is already open on this call."""


class _Session:
    """The keys of one exclusive session; implements :class:`KeySource`."""

    def __init__(self, *, hung_up: bool, key_wanted: asyncio.Event) -> None:
        # None in the queue wakes a pending read when the caller hangs up or the entry is cancelled.
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._hung_up = hung_up
        self._cancelled = False
        self._key_wanted = key_wanted

    def put(self, key: str) -> None:
        self._queue.put_nowait(key)

    def hang_up(self) -> None:
        self._hung_up = True
        self._queue.put_nowait(None)

    def cancel(self) -> None:
        self._cancelled = True
        self._queue.put_nowait(None)

    def close(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()

    # The timeout is part of the KeySource contract: running out of time is an answer (None).
    async def next_key(self, timeout: float) -> str | None:  # noqa: ASYNC109
        if self._hung_up:
            raise CallerHungUp
        if self._cancelled:
            raise KeypadCancelled
        if self._queue.empty():
            self._key_wanted.set()
        try:
            async with asyncio.timeout(timeout):
                key = await self._queue.get()
        except TimeoutError:
            return None
        finally:
            self._key_wanted.clear()
        if self._hung_up:
            raise CallerHungUp
        if key is None or self._cancelled:
            raise KeypadCancelled
        return key


class KeypadRouter:
    """Receives every keypad key of a call and routes it.

    Args:
        on_line: called with the digits of each line typed outside a session (may be empty).
        on_discarded_line: called when a line reached 12 digits and was dropped unseen.
        max_line_digits: a line ends without ``#`` when it reaches this many digits (1-12).
    """

    def __init__(
        self,
        *,
        on_line: Callable[[str], None] | None = None,
        on_discarded_line: Callable[[], None] | None = None,
        max_line_digits: int = CARD_LIKE_LINE_DIGITS,
    ) -> None:
        if not 1 <= max_line_digits <= CARD_LIKE_LINE_DIGITS:
            raise ValueError("max_line_digits must be between 1 and 12")
        self.on_line = on_line
        self._on_discarded_line = on_discarded_line
        self._max_line_digits = max_line_digits
        # Single-character strings are shared interned objects, so the line holds no digit copies.
        self._line: list[str] = []
        self._discarding = False
        self._ended_by_length = False
        self._session: _Session | None = None
        self._hung_up = False
        self._room: rtc.Room | None = None
        self._caller_identity: str | None = None
        self._key_wanted = asyncio.Event()
        self._sip_keys = True

    @property
    def busy(self) -> bool:
        """Whether a keypad session is open."""
        return self._session is not None

    @property
    def waiting_for_key(self) -> bool:
        """Whether the open session is blocked reading a key that has not been typed yet."""
        return self._key_wanted.is_set()

    async def wait_for_key_request(self) -> None:
        """Return once the open session is waiting for the caller's next key."""
        await self._key_wanted.wait()

    def press(self, key: str) -> None:
        """Route one key (``0``-``9``, ``*``, ``#``, ``A``-``D``) from any source; ignore others."""
        if key not in _KEYS:
            return
        if self._session is not None:
            self._session.put(key)
        elif not self._hung_up:
            self._route_to_line(key)

    def cancel_session(self) -> bool:
        """Call off the open session: its reads raise :class:`KeypadCancelled`.

        Returns whether a session was open.
        """
        if self._session is None:
            return False
        self._session.cancel()
        return True

    def hang_up(self) -> None:
        """The caller is gone: the open session's reads, and any later session's, raise."""
        self._hung_up = True
        self._reset_line()
        if self._session is not None:
            self._session.hang_up()

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[KeySource]:
        """Open the one keypad session of the call; keys go only to it until it closes.

        A partial line typed before the session is dropped; keys left unread when the session
        closes are dropped too.

        Raises:
            SessionInProgress: another session is open.
        """
        if self._session is not None:
            raise SessionInProgress("a keypad session is already in progress")
        self._reset_line()
        session = _Session(hung_up=self._hung_up, key_wanted=self._key_wanted)
        self._session = session
        try:
            yield session
        finally:
            self._session = None
            session.close()

    def attach_room(
        self, room: rtc.Room, *, caller_identity: str | None = None, sip_keys: bool = True
    ) -> None:
        """Take keys from the room's SIP DTMF events and hang up when the caller leaves.

        Args:
            room: the call's room; a previously attached room is detached first.
            caller_identity: the caller's participant identity. When given, only the caller's
                keys are routed and only the caller leaving hangs up; otherwise every SIP
                participant counts as the caller.
            sip_keys: take SIP key events from the room; off when another component (the
                in-band/SIP merger) feeds the keys through :meth:`press`.
        """
        self.detach()
        self._sip_keys = sip_keys
        if sip_keys:
            room.on("sip_dtmf_received", self._on_sip_dtmf)
        room.on("participant_disconnected", self._on_participant_disconnected)
        self._room = room
        self._caller_identity = caller_identity

    def detach(self) -> None:
        """Stop listening to the attached room, if any."""
        if self._room is None:
            return
        if self._sip_keys:
            self._room.off("sip_dtmf_received", self._on_sip_dtmf)
        self._room.off("participant_disconnected", self._on_participant_disconnected)
        self._room = None

    def _on_sip_dtmf(self, event: rtc.SipDTMF) -> None:
        if self._caller_identity is not None and (
            event.participant is None or event.participant.identity != self._caller_identity
        ):
            return
        self.press(event.digit or _KEY_BY_CODE.get(event.code, ""))

    def _on_participant_disconnected(self, participant: rtc.RemoteParticipant) -> None:
        if self._caller_identity is not None:
            if participant.identity == self._caller_identity:
                self.hang_up()
        elif participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_SIP:
            self.hang_up()

    def _route_to_line(self, key: str) -> None:
        ended_by_length, self._ended_by_length = self._ended_by_length, False
        if key == "*":
            self._reset_line()
        elif key == "#":
            if self._discarding:
                self._discarding = False
            elif not ended_by_length:
                self._deliver_line()
        elif key in _DIGITS and not self._discarding:
            self._line.append(key)
            if len(self._line) >= CARD_LIKE_LINE_DIGITS:
                self._reset_line()
                self._discarding = True
                if self._on_discarded_line is not None:
                    self._on_discarded_line()
            elif len(self._line) >= self._max_line_digits:
                self._deliver_line()
                self._ended_by_length = True

    def _deliver_line(self) -> None:
        line = "".join(self._line)
        self._line.clear()
        if self.on_line is not None:
            self.on_line(line)

    def _reset_line(self) -> None:
        self._line.clear()
        self._discarding = False
        self._ended_by_length = False
