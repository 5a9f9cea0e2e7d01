"""A LiveKit server API stand-in over real HTTP: the Twirp endpoints a warm transfer calls.

``livekit-api`` (``api.LiveKitAPI``, reached in a job as ``JobContext.api``) posts protobuf
bodies to ``{LIVEKIT_URL}/twirp/livekit.<Service>/<Method>`` with a bearer JWT signed by the API
secret. :class:`LiveKitAPIServer` answers the methods LiveKit's ``WarmTransferTask`` uses
(``SIP/CreateSIPParticipant`` to dial the human agent, ``RoomService/MoveParticipant`` to bring them
into the caller's room, ``RoomService/DeleteRoom``) on a free ``127.0.0.1`` port, checks each
token's signature and grants as the server does, and records every request it accepted. Any other
method gets Twirp's ``bad_route``; :meth:`LiveKitAPIServer.refuse_dial` makes the dial fail the way
a busy SIP line does.

A room connection is the other network edge: ``rtc.Room.connect`` hands the URL and token to the
Rust SDK, which opens a WebRTC session with a LiveKit server, and every later room operation goes
through that session. :class:`OfflineRooms` replaces ``connect``, ``disconnect`` and
``isconnected`` of ``rtc.Room`` so that a room "joins" by token alone (its name and the local
identity come from the token's grants, checked like the server checks them) and its local
participant is a recorder: published tracks, attributes and data are kept for the test to read.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

import pytest
from aiohttp import web
from google.protobuf.message import Message
from livekit import api, rtc
from livekit.api.access_token import Claims

_PATH = "/twirp/livekit.{service}/{method}"


@dataclass(frozen=True, slots=True)
class TwirpCall:
    """One accepted request: which method, its decoded body and the caller's token claims."""

    method: str
    request: Message
    claims: Claims


@dataclass(frozen=True, slots=True)
class _Endpoint:
    request_type: type[Message]
    allowed: Callable[[Claims, Message], bool]
    answer: Callable[[Message], Message]


def _may_dial(claims: Claims, _: Message) -> bool:
    return claims.sip is not None and claims.sip.call


def _may_move(claims: Claims, request: Message) -> bool:
    assert isinstance(request, api.MoveParticipantRequest)
    video = claims.video
    return (
        video is not None
        and bool(video.room_admin)
        and video.room == request.room
        and video.destination_room == request.destination_room
    )


def _may_delete(claims: Claims, _: Message) -> bool:
    return claims.video is not None and bool(claims.video.room_create)


def _answered(request: Message) -> Message:
    assert isinstance(request, api.CreateSIPParticipantRequest)
    return api.SIPParticipantInfo(
        participant_id="PA_humanagent",
        participant_identity=request.participant_identity,
        room_name=request.room_name,
        sip_call_id="SCL_humanagent",
    )


_ENDPOINTS = {
    ("SIP", "CreateSIPParticipant"): _Endpoint(
        api.CreateSIPParticipantRequest, _may_dial, _answered
    ),
    ("RoomService", "MoveParticipant"): _Endpoint(
        api.MoveParticipantRequest, _may_move, lambda _: api.MoveParticipantResponse()
    ),
    ("RoomService", "DeleteRoom"): _Endpoint(
        api.DeleteRoomRequest, _may_delete, lambda _: api.DeleteRoomResponse()
    ),
}


def _twirp_error(
    status: int, code: str, msg: str, meta: dict[str, str] | None = None
) -> web.Response:
    body: dict[str, object] = {"code": code, "msg": msg}
    if meta:
        body["meta"] = meta
    return web.json_response(body, status=status)


class LiveKitAPIServer:
    """LiveKit's server API on a free local port, as an async context manager.

    Args:
        api_key: the API key tokens must be issued for.
        api_secret: the secret tokens must be signed with.
    """

    def __init__(self, api_key: str, api_secret: str) -> None:
        self.calls: list[TwirpCall] = []
        self.url = ""
        self._verifier = api.TokenVerifier(api_key, api_secret)
        self._dial_refusal: tuple[int, str] | None = None
        self._arrived = asyncio.Condition()
        app = web.Application()
        for service, method in _ENDPOINTS:
            app.router.add_post(_PATH.format(service=service, method=method), self._handle)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)

    async def __aenter__(self) -> Self:
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._runner.cleanup()

    def requests(self, method: str) -> list[Message]:
        """The accepted requests to ``method`` (e.g. ``"MoveParticipant"``), in order."""
        return [call.request for call in self.calls if call.method == method]

    async def wait_for(self, method: str, *, timeout_s: float = 10.0) -> Message:
        """The first accepted request to ``method``, waiting up to ``timeout_s`` for it."""
        async with asyncio.timeout(timeout_s), self._arrived:
            await self._arrived.wait_for(lambda: bool(self.requests(method)))
        return self.requests(method)[0]

    def refuse_dial(self, sip_status_code: int, sip_status: str) -> None:
        """Answer every later ``CreateSIPParticipant`` as a failed SIP call (e.g. 486 Busy Here)."""
        self._dial_refusal = (sip_status_code, sip_status)

    async def _handle(self, request: web.Request) -> web.Response:
        service, method = request.path.rsplit("/", 2)[-2:]
        endpoint = _ENDPOINTS[(service.removeprefix("livekit."), method)]
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            claims = self._verifier.verify(token) if scheme == "Bearer" else None
        except Exception:  # any invalid token is refused the same way
            claims = None
        if claims is None:
            return _twirp_error(401, "unauthenticated", "invalid authorization token")
        body = endpoint.request_type.FromString(await request.read())
        if not endpoint.allowed(claims, body):
            return _twirp_error(403, "permission_denied", "the token lacks the grant")
        self.calls.append(TwirpCall(method=method, request=body, claims=claims))
        async with self._arrived:
            self._arrived.notify_all()
        if method == "CreateSIPParticipant" and self._dial_refusal is not None:
            code, status = self._dial_refusal
            meta = {"sip_status_code": str(code), "sip_status": status}
            return _twirp_error(503, "unavailable", "sip call failed", meta)
        answer = endpoint.answer(body).SerializeToString()
        return web.Response(body=answer, content_type="application/protobuf")

    async def _unknown(self, request: web.Request) -> web.Response:
        return _twirp_error(404, "bad_route", f"no handler for {request.path}")


@dataclass
class LocalTrack:
    """A track the local participant published; ``name`` as given, ``sid`` made up."""

    sid: str
    name: str
    track: rtc.LocalTrack

    async def wait_for_subscription(self) -> None:
        """Nobody subscribes in an offline room, as in a room the remote side has not joined."""


@dataclass
class LocalParticipant:
    """What a connected room's local participant does, recorded instead of sent.

    Anything not implemented fails with an ``AttributeError`` naming it, so a LiveKit upgrade
    that needs more of the participant shows up as a clear test failure.
    """

    identity: str
    sid: str
    name: str = ""
    metadata: str = ""
    kind: int = rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
    attributes: dict[str, str] = field(default_factory=dict)
    track_publications: dict[str, LocalTrack] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    sent_bytes: list[str] = field(default_factory=list)
    _sids: itertools.count[int] = field(default_factory=itertools.count)

    async def publish_track(self, track: rtc.LocalTrack, options: object = None) -> LocalTrack:
        """Publish ``track``: it is listed at once, as the server would acknowledge it."""
        publication = LocalTrack(sid=f"TR_{next(self._sids)}", name=track.name, track=track)
        self.track_publications[publication.sid] = publication
        self.published.append(track.name)
        return publication

    async def unpublish_track(self, track_sid: str) -> None:
        """Stop publishing a track."""
        self.track_publications.pop(track_sid, None)

    async def set_attributes(self, attributes: dict[str, str]) -> None:
        """Update the participant's attributes (LiveKit Agents publishes its state here)."""
        self.attributes.update(attributes)

    async def send_bytes(self, data: bytes, *, topic: str = "", **_: object) -> None:
        """Send a byte stream; only its topic is kept."""
        self.sent_bytes.append(topic)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"the offline local participant does not implement {name}")


class OfflineRooms:
    """Rooms that connect without a LiveKit server, with the server's token checks.

    Args:
        api_key: the API key tokens must be issued for.
        api_secret: the secret tokens must be signed with.
    """

    def __init__(self, api_key: str, api_secret: str) -> None:
        self.connected: dict[str, rtc.Room] = {}
        self._verifier = api.TokenVerifier(api_key, api_secret)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Route every ``rtc.Room`` connection through this object for the test's duration."""
        rooms = self

        async def connect(room: rtc.Room, url: str, token: str, *_: object, **__: object) -> None:
            await rooms.connect(room, token)

        async def disconnect(room: rtc.Room, **_: object) -> None:
            rooms.disconnect(room)

        monkeypatch.setattr(rtc.Room, "connect", connect)
        monkeypatch.setattr(rtc.Room, "disconnect", disconnect)
        monkeypatch.setattr(rtc.Room, "isconnected", lambda room: room in rooms.connected.values())

    async def connect(self, room: rtc.Room, token: str) -> None:
        """Join the room the token grants, as the identity it names.

        Raises:
            rtc.ConnectError: the token is invalid or grants no room to join.
        """
        try:
            claims = self._verifier.verify(token)
        except Exception:  # the server refuses any bad token the same way
            raise rtc.ConnectError("invalid token") from None
        video = claims.video
        if video is None or not video.room_join or not video.room:
            raise rtc.ConnectError("the token grants no room to join")
        state: Any = room
        state._info.name = video.room
        state._info.sid = f"RM_{video.room}"
        state._resolve_first_sid(state._info.sid)
        state._connection_state = rtc.ConnectionState.CONN_CONNECTED
        state._local_participant = LocalParticipant(claims.identity, sid=f"PA_{claims.identity}")
        self.connected[video.room] = room
        room.emit("connection_state_changed", rtc.ConnectionState.CONN_CONNECTED)
        room.emit("connected")

    def disconnect(self, room: rtc.Room) -> None:
        """Leave the room, telling listeners as the SDK does."""
        if self.connected.pop(room.name, None) is None:
            return
        state: Any = room
        state._connection_state = rtc.ConnectionState.CONN_DISCONNECTED
        room.emit("connection_state_changed", rtc.ConnectionState.CONN_DISCONNECTED)
        room.emit("disconnected", rtc.DisconnectReason.CLIENT_INITIATED)

    def participant(self, room_name: str) -> LocalParticipant:
        """The local participant of the connected room ``room_name``."""
        participant: Any = self.connected[room_name].local_participant
        assert isinstance(participant, LocalParticipant)
        return participant
