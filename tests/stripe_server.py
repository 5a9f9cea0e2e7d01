"""Stripe stand-ins over real HTTP for the gateway tests.

- :func:`run_localstripe` starts the ``localstripe`` console script (a stateful fake Stripe).
- :class:`RecordingProxy` sits between the SDK and localstripe and records every request.
- :class:`ScriptedStripe` answers with scripted Stripe responses (real error bodies, 500s, hangs),
  for what localstripe does not do: idempotency, declines without a Customer, failures.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Awaitable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode

import aiohttp
import pytest
import stripe
from aiohttp import web

_LOCALSTRIPE = Path(sys.executable).parent / "localstripe"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def run_localstripe(log_dir: Path, *, startup_timeout_s: float = 15.0) -> Iterator[str]:
    """Run ``localstripe --port <free port>`` and yield its base URL; fail loudly if missing.

    localstripe pickles its store to ``/tmp/localstripe.pickle`` after every write (hard-coded),
    so only test card numbers may ever be sent to it.
    """
    if not _LOCALSTRIPE.exists():
        pytest.fail(f"localstripe is not installed at {_LOCALSTRIPE}; install the dev extras")
    port = _free_port()
    log_path = log_dir / "localstripe.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(_LOCALSTRIPE), "--port", str(port), "--from-scratch"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + startup_timeout_s
        while True:
            if process.poll() is not None:
                pytest.fail(f"localstripe exited at start-up: {log_path.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("localstripe did not start listening in time")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class NoBackoffClient(stripe.AIOHTTPClient):
    """The SDK's aiohttp client with its retry back-off recorded instead of slept."""

    def __init__(self, timeout_s: float = 5.0) -> None:
        super().__init__(timeout=aiohttp.ClientTimeout(total=timeout_s))
        self.sleeps: list[float] = []

    def sleep_async(self, secs: float) -> Awaitable[None]:
        self.sleeps.append(secs)
        return asyncio.sleep(0)

    async def aclose(self) -> None:
        """Close the client's aiohttp session."""
        await self.close_async()  # type: ignore[no-untyped-call]  # unannotated in stripe-python


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as it arrived."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: str

    @property
    def form(self) -> dict[str, str]:
        """The form-encoded body as a flat dict (Stripe's bracketed keys kept as they are)."""
        return dict(parse_qsl(self.body, keep_blank_values=True))

    def text(self) -> str:
        """Path, every header and the body, for scanning."""
        headers = "\n".join(f"{name}: {value}" for name, value in self.headers.items())
        return f"{self.method} {self.path}\n{headers}\n\n{self.body}"


class _Server:
    """An aiohttp app on a free local port, as an async context manager."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._app = web.Application()
        self._app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=1.0)
        self.url = ""

    async def __aenter__(self) -> Self:
        await self._runner.setup()
        port = _free_port()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._runner.cleanup()

    async def _record(self, request: web.Request) -> RecordedRequest:
        recorded = RecordedRequest(
            method=request.method,
            path=request.path_qs,
            headers=dict(request.headers),
            body=(await request.read()).decode(),
        )
        self.requests.append(recorded)
        return recorded

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError


def _for_localstripe(path: str, body: str) -> str:
    """Adapt a PaymentIntent body to localstripe 1.15.10, which predates three parameters.

    It rejects ``description`` and ``setup_future_usage`` (so it never attaches a card to a
    Customer on a charge) and knows ``allowed_payment_method_types`` by its older name.
    The recording keeps what the SDK sent; only the forwarded copy changes.
    """
    if path != "/v1/payment_intents":
        return body
    pairs = [
        (key.replace("allowed_payment_method_types", "payment_method_types"), value)
        for key, value in parse_qsl(body, keep_blank_values=True)
        if key not in ("description", "setup_future_usage")
    ]
    return urlencode(pairs)


class RecordingProxy(_Server):
    """Records every request, then forwards it to ``upstream`` (localstripe), adapted to it.

    Args:
        upstream: base URL to forward to.
    """

    def __init__(self, upstream: str) -> None:
        super().__init__()
        self._upstream = upstream
        self.fail_next: deque[int] = deque()
        """Statuses to answer instead of forwarding, one per request (server errors)."""

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        recorded = await self._record(request)
        if self.fail_next:
            return web.json_response(_api_error_body(), status=self.fail_next.popleft())
        headers = {
            name: value
            for name, value in recorded.headers.items()
            if name.lower()
            in ("authorization", "content-type", "idempotency-key", "stripe-version")
        }
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                recorded.method,
                self._upstream + recorded.path,
                headers=headers,
                data=_for_localstripe(request.path, recorded.body).encode(),
            ) as upstream,
        ):
            return web.Response(
                status=upstream.status,
                body=await upstream.read(),
                content_type="application/json",
            )


@dataclass(frozen=True)
class Scripted:
    """One scripted answer: a status and JSON body, optional headers, optional hang first."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)
    hang_s: float = 0.0


class ScriptedStripe(_Server):
    """Answers requests with :class:`Scripted` responses, in order; records every request."""

    def __init__(self, *script: Scripted) -> None:
        super().__init__()
        self.script = deque(script)
        self._released = asyncio.Event()

    async def __aexit__(self, *exc_info: object) -> None:
        self._released.set()
        await super().__aexit__(*exc_info)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        answer = self.script.popleft()
        if answer.hang_s:
            # Hang as a stalled Stripe would, but let the server shut down promptly.
            try:
                await asyncio.wait_for(self._released.wait(), timeout=answer.hang_s)
            except TimeoutError:
                pass
        request_id = f"req_scripted{len(self.requests)}"
        return web.json_response(
            answer.body,
            status=answer.status,
            headers={"Request-Id": request_id, **answer.headers},
            dumps=json.dumps,
        )


def payment_method_body(pm_id: str = "pm_scripted", *, last4: str = "4242") -> dict[str, Any]:
    """A PaymentMethod as Stripe returns it (expiry included, as Stripe does)."""
    return {
        "id": pm_id,
        "object": "payment_method",
        "type": "card",
        "card": {"brand": "visa", "last4": last4, "exp_month": 11, "exp_year": 2037},
        "livemode": False,
    }


def payment_intent_body(pi_id: str = "pi_scripted", *, status: str = "succeeded") -> dict[str, Any]:
    """A confirmed PaymentIntent as Stripe returns it."""
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": 1234,
        "currency": "eur",
        "status": status,
        "payment_method": "pm_scripted",
        "last_payment_error": None,
        "livemode": False,
    }


def card_error_body(
    code: str, decline_code: str | None = None, *, pi_id: str | None = "pi_declined"
) -> dict[str, Any]:
    """Stripe's 402 ``card_error`` body; on a PaymentIntent it embeds the intent and the card."""
    error: dict[str, Any] = {
        "type": "card_error",
        "code": code,
        "message": "Your card was declined.",
        "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
        "request_log_url": "https://dashboard.stripe.com/test/logs/req_scripted",
        "payment_method": payment_method_body(),
    }
    if decline_code is not None:
        error["decline_code"] = decline_code
    if pi_id is not None:
        error["payment_intent"] = payment_intent_body(pi_id, status="requires_payment_method")
    return {"error": error}


def _api_error_body() -> dict[str, Any]:
    return {"error": {"type": "api_error", "message": "An unknown error occurred"}}


def server_error() -> Scripted:
    """Stripe's 500, with no retry advice (so the SDK retries)."""
    return Scripted(500, _api_error_body())


def error_body(error_type: str, message: str, code: str | None = None) -> dict[str, Any]:
    """Any other Stripe error body."""
    error: dict[str, Any] = {"type": error_type, "message": message}
    if code is not None:
        error["code"] = code
    return {"error": error}
