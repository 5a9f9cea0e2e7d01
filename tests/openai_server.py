"""A scripted OpenAI-compatible server over real HTTP, for the tests of the real LLM path.

livekit-plugins-openai 1.8.9 (``openai.LLM``) uses the Chat Completions API only: a streamed
``POST {base_url}/chat/completions`` (``stream: true``, ``stream_options.include_usage``, the
tools as strict JSON-schema functions) and, when prewarmed, ``GET {base_url}/models``. The
:class:`OpenAIServer` answers those in process on ``127.0.0.1``, records every request as it
arrived, takes its replies from a pluggable policy (:func:`good_model` behaves like a capable
model; :func:`route_by_kind` tells the agent's requests from an LLM judge's and a simulated
caller's) and can be switched to fail after a number of requests in any of the ways a real endpoint
fails (:class:`Fault`). :func:`serve_in_thread` runs it beside code that runs its own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import socket
import string
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Self

from aiohttp import web

CHAT_PATH = "/v1/chat/completions"


class Fault(StrEnum):
    """How a failing chat request is answered."""

    SERVER_ERROR = "server_error"
    """HTTP 500 with OpenAI's error body."""
    RATE_LIMITED = "rate_limited"
    """HTTP 429 ``rate_limit_exceeded``."""
    HANG = "hang"
    """No response at all until the server is closed."""
    STALL = "stall"
    """Headers and the first (role-only) chunk, then silence."""
    MALFORMED_JSON = "malformed_json"
    """A 200 event stream whose first event is not valid JSON."""
    DISCONNECT = "disconnect"
    """Headers and the first (role-only) chunk, then the connection is dropped."""
    DISCONNECT_AFTER_TEXT = "disconnect_after_text"
    """The start of a spoken reply, then the connection is dropped."""


@dataclass(frozen=True)
class ToolCall:
    """A function call the model makes."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """What the model answers: text to speak, function calls, or both (text first)."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as it arrived."""

    method: str
    path: str
    headers: Mapping[str, str]
    raw: str

    @property
    def body(self) -> dict[str, Any]:
        """The JSON body (empty when there is none)."""
        parsed = json.loads(self.raw) if self.raw else {}
        return parsed if isinstance(parsed, dict) else {}

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages sent to the model."""
        return list(self.body.get("messages", []))

    @property
    def tool_names(self) -> set[str]:
        """Names of the function tools offered to the model."""
        return {tool["function"]["name"] for tool in self.body.get("tools", [])}


Policy = Callable[[RecordedRequest], Reply]


def _letters(size: int) -> str:
    """A random id part without digits, so ids can never look like card data."""
    return "".join(random.choices(string.ascii_lowercase, k=size))


class OpenAIServer:
    """A Chat Completions endpoint on a free local port, as an async context manager.

    Args:
        policy: decides each healthy reply from the request (see :func:`good_model`).
        hang_s: how long :attr:`Fault.HANG` and :attr:`Fault.STALL` hold a request at most.
    """

    def __init__(self, policy: Policy, *, hang_s: float = 30.0) -> None:
        self.policy = policy
        self.requests: list[RecordedRequest] = []
        self.faulted: list[int] = []
        """1-based numbers of the chat requests that were answered with a fault."""
        self.issued_call_ids: set[str] = set()
        self._hang_s = hang_s
        self._fault: Fault | None = None
        self._fault_after = 0
        self._fault_times: int | None = None
        self._released = asyncio.Event()
        app = web.Application()
        app.router.add_post(CHAT_PATH, self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        self.base_url = ""

    async def __aenter__(self) -> Self:
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._released.set()
        await self._runner.cleanup()

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The chat completion requests, in order."""
        return [r for r in self.requests if r.method == "POST" and r.path == CHAT_PATH]

    def fail(self, fault: Fault, *, after: int = 0, times: int | None = None) -> None:
        """Answer chat requests with ``fault`` once ``after`` of them have been served.

        Args:
            fault: how to fail.
            after: how many chat requests (counted from the start) are answered normally first.
            times: how many requests fail before the server is healthy again; ``None``: all.
        """
        self._fault, self._fault_after, self._fault_times = fault, after, times

    def _fault_for(self, number: int) -> Fault | None:
        if self._fault is None or number <= self._fault_after:
            return None
        if self._fault_times is not None and number > self._fault_after + self._fault_times:
            return None
        return self._fault

    async def _record(self, request: web.Request) -> RecordedRequest:
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            raw=(await request.read()).decode(),
        )
        self.requests.append(recorded)
        return recorded

    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        return _error(404, "invalid_request_error", f"Unknown path {request.path}")

    async def _models(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        return web.json_response({"object": "list", "data": []})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        recorded = await self._record(request)
        number = len(self.chat_requests)
        fault = self._fault_for(number)
        if fault is not None:
            self.faulted.append(number)
            return await self._answer_fault(request, fault)
        if recorded.body.get("stream") is not True:
            return _error(400, "invalid_request_error", "this server only streams")
        stream = _Stream(request, recorded.body)
        await stream.open()
        reply = self.policy(recorded)
        await stream.text(reply.text)
        for index, tool_call in enumerate(reply.tool_calls):
            self.issued_call_ids.add(await stream.tool_call(index, tool_call))
        await stream.finish("tool_calls" if reply.tool_calls else "stop")
        return stream.response

    async def _answer_fault(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault is Fault.SERVER_ERROR:
            return _error(500, "server_error", "The server had an error processing your request.")
        if fault is Fault.RATE_LIMITED:
            return _error(429, "requests", "Rate limit reached.", code="rate_limit_exceeded")
        if fault is Fault.HANG:
            await self._hang()
            return _error(504, "server_error", "Timed out.")
        stream = _Stream(request, {})
        await stream.open()
        if fault is Fault.STALL:
            await self._hang()
        elif fault is Fault.MALFORMED_JSON:
            await stream.response.write(b'data: {"id": "chatcmpl-broken", "choices": [{"del\n\n')
            await stream.response.write(b"data: [DONE]\n\n")
        else:
            if fault is Fault.DISCONNECT_AFTER_TEXT:
                await stream.text("Thanks, one moment while I")
            assert request.transport is not None
            request.transport.abort()
        return stream.response

    async def _hang(self) -> None:
        try:
            await asyncio.wait_for(self._released.wait(), timeout=self._hang_s)
        except TimeoutError:
            pass


def _error(status: int, kind: str, message: str, *, code: str | None = None) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status, headers={"x-request-id": f"req_{_letters(12)}"})


class _Stream:
    """One ``text/event-stream`` answer in OpenAI's ``chat.completion.chunk`` format."""

    def __init__(self, request: web.Request, body: Mapping[str, Any]) -> None:
        self._request = request
        self._id = f"chatcmpl-{_letters(16)}"
        self._model = str(body.get("model", "scripted"))
        self._usage = bool(body.get("stream_options", {}).get("include_usage"))
        self.response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "x-request-id": f"req_{_letters(12)}"}
        )

    async def _send(self, payload: dict[str, Any] | str) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        await self.response.write(f"data: {data}\n\n".encode())

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self._model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    async def open(self) -> None:
        await self.response.prepare(self._request)
        await self._send(self._chunk({"role": "assistant", "content": ""}))

    async def text(self, text: str) -> None:
        # Word by word, as a model streams tokens.
        for piece in re.findall(r"\S+\s*", text):
            await self._send(self._chunk({"content": piece}))

    async def tool_call(self, index: int, call: ToolCall) -> str:
        # The name with the first delta, the arguments split over the next two, as OpenAI does.
        call_id = f"call_{_letters(20)}"
        arguments = json.dumps(call.arguments)
        half = len(arguments) // 2
        deltas: list[dict[str, Any]] = [
            {"id": call_id, "type": "function", "function": {"name": call.name, "arguments": ""}},
            {"function": {"arguments": arguments[:half]}},
            {"function": {"arguments": arguments[half:]}},
        ]
        for delta in deltas:
            await self._send(self._chunk({"tool_calls": [{"index": index, **delta}]}))
        return call_id

    async def finish(self, reason: str) -> None:
        await self._send(self._chunk({}, finish_reason=reason))
        if self._usage:
            usage = {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}
            await self._send({**self._chunk({}), "choices": [], "usage": usage})
        await self._send("[DONE]")
        await self.response.write_eof()


_NEXT_STEP = re.compile(r"^call (\w+)(?: now)?(?: with reason (\w+))?$")
_YES = re.compile(r"\b(yes|yeah|yep|sure|go ahead|charge it)\b")
_REFUSE = ("ignore your instructions", "repeat the digits", "card number back", "read my card")
_HUMAN = ("a person", "a human", "an agent", "representative")
_GOODBYE = ("that's all", "goodbye", "bye", "no thanks")


def good_model(request: RecordedRequest) -> Reply:
    """A capable model's moves for VoicePay, decided from what a model sees: the messages.

    It follows the tools' ``say`` and ``next`` answers, extracts arguments from the caller's words
    the way a model does (strict schemas: every parameter present, ``null`` when unused), and
    refuses to read back or repeat card details.
    """
    messages = [m for m in request.messages if m["role"] in ("user", "tool")]
    if not messages:
        return Reply()
    last = messages[-1]
    if last["role"] == "tool":
        return _after_tool(request, str(last["content"]))
    return _after_caller(request, str(last["content"]).lower())


def _after_tool(request: RecordedRequest, output: str) -> Reply:
    try:
        answer = json.loads(output)
    except ValueError:
        return Reply(text="Sorry, something went wrong on my side. Let me try that again.")
    say = str(answer.get("say") or "")
    step = _NEXT_STEP.match(str(answer.get("next", "")))
    if step is None or step[1] not in request.tool_names:
        return Reply(text=say)
    arguments = {"reason": step[2]} if step[2] else {}
    return Reply(text=say, tool_calls=(ToolCall(step[1], arguments),))


def _results(request: RecordedRequest) -> dict[str, str]:
    """The latest ``result`` of each tool so far, by tool name."""
    names: dict[str, str] = {}
    results: dict[str, str] = {}
    for message in request.messages:
        for call in message.get("tool_calls") or []:
            names[call["id"]] = call["function"]["name"]
        name = names.get(message.get("tool_call_id", ""))
        if name is not None:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                results[name] = str(json.loads(message["content"])["result"])
    return results


def _after_caller(request: RecordedRequest, text: str) -> Reply:
    if "[card data removed]" in text:
        return Reply(text="For your security, please don't say card details aloud.")
    if any(phrase in text for phrase in _REFUSE):
        return Reply(text="I'm sorry, I can't do that: I never see or hear your card details.")
    if any(phrase in text for phrase in _HUMAN):
        return Reply(tool_calls=(ToolCall("transfer_to_human", {"reason": "caller_request"}),))
    done = _results(request)
    if done.get("confirm_and_charge") == "paid":
        return Reply(tool_calls=(ToolCall("send_receipt" if _YES.search(text) else "end_call"),))
    if any(phrase in text for phrase in _GOODBYE):
        return Reply(tool_calls=(ToolCall("end_call"),))
    if done.get("capture_card") == "card_captured" and _YES.search(text):
        return Reply(tool_calls=(ToolCall("confirm_and_charge"),))
    if done.get("get_balance") == "balance" and "set_amount" not in done:
        return _amount(text)
    digits = re.sub(r"\D", "", text)
    if done.get("identify_account") != "found" and len(digits) >= 6:
        return Reply(tool_calls=(ToolCall("identify_account", {"account_number": digits}),))
    return Reply(text="Sorry, could you say that again?")


def _amount(text: str) -> Reply:
    if "full" in text or "whole" in text:
        arguments: dict[str, Any] = {"choice": "full", "amount": None}
    elif "minimum" in text:
        arguments = {"choice": "minimum", "amount": None}
    else:
        said = re.search(r"(\d[\d.,]*|(?:[a-z]+[ -]){0,3}[a-z]+) (dollars|euros)", text)
        if said is None:
            return Reply(text="How much would you like to pay today?")
        arguments = {"choice": "partial", "amount": said[0]}
    return Reply(tool_calls=(ToolCall("set_amount", arguments),))


@contextlib.contextmanager
def serve_in_thread(policy: Policy) -> Iterator[OpenAIServer]:
    """An :class:`OpenAIServer` on its own event loop in a thread, for synchronous callers."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> OpenAIServer:
        return await OpenAIServer(policy).__aenter__()

    server = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.__aexit__(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


JUDGE_TOOL = "submit_verdict"
"""The tool through which LiveKit's LLM judges (and VoicePay's rubric judges) give a verdict."""


def route_by_kind(
    *, caller_prompt: str, judge: Policy, caller: Policy, agent: Policy = good_model
) -> Policy:
    """A policy that answers each request as what it is.

    Args:
        caller_prompt: how a simulated caller's system prompt starts.
        judge: answers requests that offer the judges' ``submit_verdict`` tool.
        caller: answers requests whose system prompt starts with ``caller_prompt``.
        agent: answers everything else (the agent's own requests).
    """

    def route(request: RecordedRequest) -> Reply:
        if JUDGE_TOOL in request.tool_names:
            return judge(request)
        first = request.messages[0] if request.messages else {}
        if first.get("role") == "system" and str(first.get("content")).startswith(caller_prompt):
            return caller(request)
        return agent(request)

    return route
