"""Hand-offs end to end: the brief after a decline, the console path, LiveKit's warm transfer.

Every call here is a full simulated call (the production agent in text mode, the directed-dialog
model, the sandbox processor, a real Redis). The console is the real Starlette app driven over
HTTP by a person who logs in and presses "accept"; the SIP warm transfer is LiveKit's own
``WarmTransferTask`` under ``fake_job_context``, with only the network edges replaced: the room
connection and the LiveKit server API (see ``tests/livekit_api_server.py``).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from argon2 import PasswordHasher
from livekit import api, rtc
from livekit.agents import ToolError, llm, room_io
from livekit.agents.beta.workflows import WarmTransferTask
from livekit.agents.testing import fake_job_context
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)
from livekit.agents.utils import http_context
from livekit_api_server import LiveKitAPIServer, OfflineRooms
from redis.asyncio import Redis
from starlette.testclient import TestClient

from agent.brief import spoken_brief
from agent.call_context import CallContext, CallServices
from agent.events import CallEvent
from agent.handoff import HandoffQueue
from agent.human_desk import CALLBACK_CLAIMANT, ConsoleDesk, HumanDesk, SimulatedDesk
from agent.runtime import build_llm, open_call, open_services
from agent.text_call import TextCall
from evals.leak_scan import CardSecrets, LeakScanner
from evals.scenario import CallerTurn, KeysTurn, SayTurn, Scenario
from evals.simulated_call import CallRun, play, run_scenario
from payment_tools.gateway import SandboxGateway
from prompts import PromptBook
from voicepay.accounts import AccountRepository
from voicepay.console import ConsoleConfig, create_app
from voicepay.console._redis import StreamEntry, stream_entries, xread_entries
from voicepay.console.audit import AuditLog
from voicepay.console.claims import EVENTS_STREAM
from voicepay.console.transfers import TransferReader, handoff_stream, ref_of
from voicepay.console.users import Role, UserStore
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.handoff_brief import Decline, HandoffBrief, MaskedCard
from voicepay.logging_setup import call_id_var
from voicepay.settings import Settings, TransferSettings

T = TypeVar("T")
PROMPTS = PromptBook.load("en")
DECLINED_PAN = "4000000000009995"
SECOND_PAN = "5555555555554444"
ASK_FOR_A_PERSON = "Actually, before you charge it, can you put me through to a real person?"
DECLINE_THEN_RETRY: list[CallerTurn] = [
    SayTurn(say="Hello, account 60331122."),
    KeysTurn(keys="30111978#"),
    SayTurn(say="The minimum, please."),
    KeysTurn(keys=f"{DECLINED_PAN}#", card="number"),
    KeysTurn(keys="1130#", card="expiry"),
    KeysTurn(keys="582#", card="security_code"),
    SayTurn(say="Yes, go ahead."),
    SayTurn(say="Sure, I'll try my other card."),
    KeysTurn(keys=f"{SECOND_PAN}#", card="number"),
    KeysTurn(keys="0429#", card="expiry"),
    KeysTurn(keys="316#", card="security_code"),
]
DECLINE_THEN_PERSON = Scenario(
    name="decline-retry-then-person",
    caller=[*DECLINE_THEN_RETRY, SayTurn(say=ASK_FOR_A_PERSON)],
)
ASKS_FOR_A_PERSON = Scenario(
    name="asks-for-a-person",
    caller=[
        SayTurn(say="Hi, my account number is 5 0 2 2 3 3 4 4."),
        KeysTurn(keys="04071990#"),
        SayTurn(say="Can I speak to a real person please?"),
    ],
)

CONSOLE_SECRET = b"k" * 32
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LIVEKIT_KEY = "APIvoicepaytest"
LIVEKIT_SECRET = "voicepay-test-secret-of-32-chars!"
CALLER_ROOM = "call-room-1"
HUMAN_LINE = "+15105550123"
TRUNK = "ST_humanagents"


@asynccontextmanager
async def call_services(
    redis: Redis, tmp_path: Path, settings: Settings, humans: HumanDesk
) -> AsyncIterator[CallServices]:
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    async with open_services(
        settings, redis, outbox_dir=tmp_path / "outbox", gateway=SandboxGateway(), humans=humans
    ) as services:
        yield services


async def simulate(
    redis: Redis, tmp_path: Path, scenario: Scenario, settings: Settings, humans: HumanDesk
) -> CallRun:
    async with call_services(redis, tmp_path, settings, humans) as services:
        return await run_scenario(services, scenario, out_dir=tmp_path / "call")


def said(events: list[CallEvent]) -> list[str]:
    return [str(e.data["text"]) for e in events if e.kind == "agent_said"]


async def only_handoff(redis: Redis) -> StreamEntry:
    [entry] = stream_entries(await redis.xrange(handoff_stream("payments")))
    return entry


async def first_handoff(redis: Redis) -> StreamEntry:
    """The first hand-off queued, waiting (up to 10 s) for the bot to queue it."""
    reply = await redis.xread({handoff_stream("payments"): "0-0"}, count=1, block=10_000)
    [(_, [entry])] = xread_entries(reply)
    return entry


def pan_runs(text: str) -> list[str]:
    """Runs of five or more digits of ``text`` that share five digits in a row with a PAN."""
    return [
        run
        for run in re.findall(r"\d{5,}", text)
        for pan in (DECLINED_PAN, SECOND_PAN)
        if any(run[i : i + 5] in pan for i in range(len(run) - 4))
    ]


async def test_the_brief_after_a_decline_and_a_retry_shows_masked_cards_only(
    redis: Redis, tmp_path: Path
) -> None:
    run = await simulate(redis, tmp_path, DECLINE_THEN_PERSON, Settings(), SimulatedDesk())
    assert run.summary["outcome"] == "transferred"
    _, fields = await only_handoff(redis)
    brief = HandoffBrief.from_json(fields["brief"])
    assert brief.declines == [
        Decline(reason="insufficient_funds", card=MaskedCard(brand="visa", last4="9995"))
    ]
    assert brief.card == MaskedCard(brand="mastercard", last4="4444")
    assert (brief.amount_minor, brief.currency) == (2000, "EUR")
    assert (brief.account, brief.holder) == ("60331122", "Priya Patel")
    assert brief.verified and brief.verification == "verified by knowledge_factor"
    assert (brief.reason, brief.trigger) == ("caller_request", "asked for a person")
    caller_turns = [e for e in run.events if e.kind == "caller_said"]
    assert len(brief.sentiment) == len(caller_turns) == 5
    lines = [(line.speaker, line.text) for line in brief.transcript]
    assert lines[-1] == ("caller", ASK_FOR_A_PERSON)
    assert any(who == "agent" and "available funds" in text for who, text in lines)
    assert any(who == "agent" and "Mastercard ending in 4444" in text for who, text in lines)
    assert "declined: insufficient_funds (visa ending 9995)" in fields["summary"]

    scanner = LeakScanner(CardSecrets.from_scenario(DECLINE_THEN_PERSON))
    # The brief field is JSON: walked as such, its sentiment scores stay numbers (scanned as one
    # string, words_to_digits would glue "0.0,0.0,0.0,0.0" into a run of zeros).
    entry = {**fields, "brief": json.loads(fields["brief"])}
    assert scanner.scan_json("handoff", entry) == []
    # created_at is an ISO timestamp whose microseconds may hold any five digits.
    checked = {name: value for name, value in fields.items() if name != "created_at"}
    assert [pan_runs(value) for value in checked.values()] == [[]] * len(checked)


def console_client(redis_url: str) -> TestClient:
    config = ConsoleConfig(secure_cookies=False, password_time_cost=1, password_memory_kib=8192)
    return TestClient(create_app(config, redis_url, CONSOLE_SECRET), follow_redirects=False)


def accept_in_console(client: TestClient, ref: str) -> str:
    """A person logs in, finds the transfer in the queue, opens it and accepts it."""
    page = client.get("/login")
    token = CSRF.search(page.text)
    assert token is not None
    form = {"csrf_token": token.group(1), "username": "alice", "password": PASSWORD}
    assert client.post("/login", data=form).status_code == 303
    queue = client.get("/queue")
    assert f"/transfers/payments/{ref}" in queue.text
    detail = client.get(f"/transfers/payments/{ref}")
    assert "Emily Carter" in detail.text
    token = CSRF.search(detail.text)
    assert token is not None
    accepted = client.post(
        f"/transfers/payments/{ref}/accept",
        data={"csrf_token": token.group(1)},
        follow_redirects=True,
    )
    assert accepted.status_code == 200
    return accepted.text


async def test_a_person_accepting_in_the_console_takes_the_call(
    redis: Redis, redis_server: str, tmp_path: Path
) -> None:
    await UserStore(redis, PasswordHasher(time_cost=1, memory_cost=8192)).create(
        "alice", PASSWORD, Role.AGENT, ["payments"]
    )
    settings = Settings(transfer=TransferSettings(human_wait_s=10, hold_message_every_s=0.25))

    async def person(client: TestClient) -> tuple[str, str]:
        entry_id, _ = await first_handoff(redis)
        ref = ref_of(entry_id)
        return ref, await asyncio.to_thread(accept_in_console, client, ref)

    with console_client(redis_server) as client:
        async with call_services(redis, tmp_path, settings, ConsoleDesk(redis)) as services:
            run, (ref, page) = await asyncio.gather(
                run_scenario(services, ASKS_FOR_A_PERSON), person(client)
            )

    assert "You have the call" in page
    lines = said(run.events)
    after = lines[lines.index(PROMPTS.text("transfer.announce")) + 1 :]
    assert after[-1] == PROMPTS.text("transfer.connected")
    assert set(after[:-1]) <= {PROMPTS.text("transfer.queued")}, "only hold messages before"
    assert run.summary["outcome"] == "transferred"
    assert [e.data["human"] for e in run.events if e.kind == "outcome"] == ["connected"]
    assert await HandoffQueue(redis).callbacks() == []

    transfer = await TransferReader(redis).get("payments", ref)
    assert transfer is not None and transfer.call_id == run.state.call_id
    assert transfer.accepted_by == "alice" and transfer.accepted_at is not None
    assert transfer.brief is not None and transfer.brief.holder == "Emily Carter"
    audit = [(e.actor, e.action, e.target, e.outcome) for e in await AuditLog(redis).recent()]
    assert ("alice", "transfer.accept", f"payments/{ref}", "ok") in audit
    assert ("alice", "view.transfer", f"payments/{ref}", "ok") in audit
    accepted = [fields for _, fields in stream_entries(await redis.xrange(EVENTS_STREAM))]
    assert accepted == [{"kind": "accepted", "queue": "payments", "ref": ref, "agent": "alice"}]


async def test_nobody_accepting_in_time_books_a_call_back(redis: Redis, tmp_path: Path) -> None:
    settings = Settings(transfer=TransferSettings(human_wait_s=0.7, hold_message_every_s=0.2))
    run = await simulate(redis, tmp_path, ASKS_FOR_A_PERSON, settings, ConsoleDesk(redis))

    lines = said(run.events)
    after = lines[lines.index(PROMPTS.text("transfer.announce")) + 1 :]
    holds = after[:-1]
    assert len(holds) >= 2 and set(holds) == {PROMPTS.text("transfer.queued")}
    assert after[-1] == PROMPTS.text("transfer.callback")
    assert PROMPTS.text("transfer.connected") not in lines
    assert [e.data["human"] for e in run.events if e.kind == "outcome"] == ["callback"]
    account = await AccountRepository(redis, settings.auth.pepper).get("50223344")
    assert account is not None
    [callback] = await HandoffQueue(redis).callbacks()
    assert {k: callback[k] for k in ("call_id", "account", "phone", "reason")} == {
        "call_id": run.state.call_id,
        "account": "50223344",
        "phone": account.phone,
        "reason": "caller_request",
    }
    entry_id, _ = await only_handoff(redis)
    transfer = await TransferReader(redis).get("payments", ref_of(entry_id))
    # The bot claimed the transfer for the call-back queue: nobody can accept an ended call.
    assert transfer is not None and transfer.accepted_by == CALLBACK_CLAIMANT


class HumanAgentModel(llm.LLM[Any]):
    """The call's model, as LiveKit's warm transfer reuses it for the person on the SIP leg.

    ``WarmTransferTask`` gives the human-agent session the caller session's LLM. Requests from the
    caller's session go to the call's own model unchanged; requests offering ``connect_to_caller``
    come from the human-agent session, and are answered as a capable model would: once the
    person asks to be put through, it calls the tool. Those requests are kept in ``briefings``.
    """

    def __init__(self, caller_model: llm.LLM[Any]) -> None:
        super().__init__()
        self._caller_model = caller_model
        self.briefings: list[llm.ChatContext] = []

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        if not any(tool.id == "connect_to_caller" for tool in tools or []):
            return self._caller_model.chat(
                chat_ctx=chat_ctx,
                tools=tools,
                conn_options=conn_options,
                parallel_tool_calls=parallel_tool_calls,
                tool_choice=tool_choice,
                extra_kwargs=extra_kwargs,
            )
        self.briefings.append(chat_ctx.copy())
        heard = [m.text_content or "" for m in chat_ctx.messages() if m.role == "user"]
        put_through = bool(heard) and "put them through" in heard[-1]
        return _HumanAgentReply(self, chat_ctx=chat_ctx, tools=tools or [], put_through=put_through)


class _HumanAgentReply(llm.LLMStream):
    def __init__(
        self,
        owner: HumanAgentModel,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        put_through: bool,
    ) -> None:
        super().__init__(
            owner, chat_ctx=chat_ctx, tools=tools, conn_options=DEFAULT_API_CONNECT_OPTIONS
        )
        self._put_through = put_through

    async def _run(self) -> None:
        if self._put_through:
            call = llm.FunctionToolCall(name="connect_to_caller", arguments="{}", call_id="human_1")
            delta = llm.ChoiceDelta(role="assistant", tool_calls=[call])
        else:
            delta = llm.ChoiceDelta(role="assistant", content="Connecting you now.")
        self._event_ch.send_nowait(llm.ChatChunk(id="human-agent", delta=delta))


class RoomTextCall(TextCall):
    """A text-mode call whose session runs in a LiveKit room, as the worker runs it.

    Text mode has no STT or TTS: RoomIO's audio output would make every ``say()`` fail for want
    of a TTS, and there is no caller audio to read, so both are off; the rest of RoomIO (text
    output, participant handling, the session host) runs as in production.
    """

    def __init__(self, call: CallContext, room: rtc.Room, model: HumanAgentModel) -> None:
        super().__init__(call, model=model)
        self.room = room
        self.human_agent_model = model

    async def start(self) -> None:
        call_id_var.set(self.call.call_id)
        self._room = self.room
        self.call.keypad.attach_room(self.room)
        options = room_io.RoomOptions(audio_input=False, audio_output=False)
        await self.session.start(self.agent, room=self.room, room_options=options)
        await self.call.greeted.wait()
        await self.settle()


async def eventually(probe: Callable[[], T | None], *, timeout_s: float = 5.0) -> T:
    """What ``probe`` returns once it is not ``None``, for state that raises no event."""
    async with asyncio.timeout(timeout_s):
        while True:
            if (value := probe()) is not None:
                return value
            await asyncio.sleep(0.01)


@pytest.fixture
async def livekit(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[LiveKitAPIServer, OfflineRooms]]:
    """The LiveKit server stand-in, with ``JobContext.api`` and ``rtc.Room`` pointed at it."""
    rooms = OfflineRooms(LIVEKIT_KEY, LIVEKIT_SECRET)
    rooms.install(monkeypatch)
    async with LiveKitAPIServer(LIVEKIT_KEY, LIVEKIT_SECRET) as server, http_context.open():
        monkeypatch.setenv("LIVEKIT_URL", server.url)
        monkeypatch.setenv("LIVEKIT_API_KEY", LIVEKIT_KEY)
        monkeypatch.setenv("LIVEKIT_API_SECRET", LIVEKIT_SECRET)
        yield server, rooms


@asynccontextmanager
async def call_in_a_room(
    redis: Redis, tmp_path: Path, server: LiveKitAPIServer
) -> AsyncIterator[RoomTextCall]:
    """A call answered by a job in the caller's room, with SIP warm transfer configured.

    Nobody ever accepts in the console, so only the SIP path can connect a person.
    """
    transfer = TransferSettings(
        sip_trunk_id=TRUNK, sip_call_to=HUMAN_LINE, human_wait_s=2, hold_message_every_s=1
    )
    settings = Settings(transfer=transfer)
    room = rtc.Room()
    grants = api.VideoGrants(room_join=True, room=CALLER_ROOM, agent=True)
    token = api.AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET).with_identity("voicepay-agent")
    await room.connect(server.url, token.with_grants(grants).with_kind("agent").to_jwt())
    desk = SimulatedDesk(accepts=False)
    with fake_job_context(room=room):
        async with call_services(redis, tmp_path, settings, desk) as services:
            call = await open_call(services, language="en", call_id=room.name)
            text_call = RoomTextCall(call, room, HumanAgentModel(build_llm(call)))
            # The SIP path needs a real model to brief the person by voice; the double plays it.
            services.llm = text_call.human_agent_model
            await text_call.start()
            try:
                yield text_call
            finally:
                # Bounded: after a failed assertion the transfer may still hold the caller.
                await asyncio.wait_for(text_call.close(), timeout=10)


async def test_sip_warm_transfer_dials_briefs_and_moves_the_person_in(
    redis: Redis, tmp_path: Path, livekit: tuple[LiveKitAPIServer, OfflineRooms]
) -> None:
    server, rooms = livekit
    async with call_in_a_room(redis, tmp_path, server) as text_call:
        await play(text_call, Scenario(name="before-asking", caller=DECLINE_THEN_RETRY))
        asking = asyncio.ensure_future(text_call.say(ASK_FOR_A_PERSON))

        dial = await server.wait_for("CreateSIPParticipant")
        assert isinstance(dial, api.CreateSIPParticipantRequest)
        assert len(server.requests("CreateSIPParticipant")) == 1
        assert (dial.sip_trunk_id, dial.sip_call_to) == (TRUNK, HUMAN_LINE)
        assert dial.room_name == f"{CALLER_ROOM}-human-agent"
        assert dial.participant_identity == "human-agent-sip"
        assert dial.wait_until_answered
        assert "background_audio" in rooms.participant(CALLER_ROOM).published, "hold music"
        assert rooms.participant(dial.room_name).identity == "voicepay-agent", "bot joined"

        task = text_call.session.current_agent
        assert isinstance(task, WarmTransferTask)
        _, fields = await only_handoff(redis)
        briefing = str(task.instructions)
        assert spoken_brief(HandoffBrief.from_json(fields["brief"])) in briefing
        assert "Card: mastercard ending 4444. Declined: insufficient_funds." in briefing
        assert f"Caller: {ASK_FOR_A_PERSON}" in briefing
        scanner = LeakScanner(CardSecrets.from_scenario(DECLINE_THEN_PERSON))
        assert scanner.scan_text("briefing", briefing) == [] and pan_runs(briefing) == []

        # The person picked up (the dial returned) and says they will take the call. They speak
        # on the SIP leg, heard through STT, which text mode has none of: their words go to the
        # human-agent session as its user input. LiveKit keeps that session privately and gives
        # no signal that the dial has returned, hence the wait on the private attribute.
        human = await eventually(lambda: task._human_agent_sess)
        human.generate_reply(user_input="Hi, Sam from payments here. Please put them through.")
        await asyncio.wait_for(asking, timeout=10)

        model = text_call.human_agent_model
        [briefing_request] = [ctx for ctx in model.briefings if len(ctx.messages()) > 1]
        [system, person] = briefing_request.messages()
        assert system.role in ("system", "developer") and system.text_content == briefing
        assert person.text_content is not None and "put them through" in person.text_content
        [move] = server.requests("MoveParticipant")
        assert isinstance(move, api.MoveParticipantRequest)
        assert (move.room, move.identity, move.destination_room) == (
            dial.room_name,
            "human-agent-sip",
            CALLER_ROOM,
        )
        events = list(text_call.call.events.history)
    lines = said(events)
    assert lines[-2:] == [PROMPTS.text("transfer.announce"), PROMPTS.text("transfer.connected")]
    assert [e.data["human"] for e in events if e.kind == "outcome"] == ["connected"]
    [tool] = [e for e in events if e.kind == "tool_call" and e.data["name"] == "transfer_to_human"]
    assert '"human": "connected"' in str(tool.data["output"])
    assert await HandoffQueue(redis).callbacks() == []


async def test_a_busy_human_line_books_a_call_back(
    redis: Redis, tmp_path: Path, livekit: tuple[LiveKitAPIServer, OfflineRooms]
) -> None:
    server, _ = livekit
    server.refuse_dial(486, "Busy Here")
    async with call_in_a_room(redis, tmp_path, server) as text_call:
        *before, ask = ASKS_FOR_A_PERSON.caller
        await play(text_call, Scenario(name="before-asking", caller=before))
        assert isinstance(ask, SayTurn)
        # LiveKit hands a task's failure to the run that started it (text mode replies through
        # session.run()) although the tool caught it; a worker's replies are not runs.
        with pytest.raises(ToolError, match="could not dial human agent"):
            await text_call.say(ask.say)
        await asyncio.wait_for(text_call.call.hangup.wait(), timeout=5)
        events = list(text_call.call.events.history)
    assert len(server.requests("CreateSIPParticipant")) == 1
    assert server.requests("MoveParticipant") == []
    lines = said(events)
    assert lines[-2:] == [PROMPTS.text("transfer.announce"), PROMPTS.text("transfer.callback")]
    assert [e.data["human"] for e in events if e.kind == "outcome"] == ["callback"]
    [callback] = await HandoffQueue(redis).callbacks()
    assert (callback["account"], callback["reason"]) == ("50223344", "caller_request")
