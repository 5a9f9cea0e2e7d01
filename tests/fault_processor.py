"""A Stripe-compatible card processor over real HTTP, with a ledger and injected faults.

The fault tests need what neither localstripe nor the scripted Stripe gives: Stripe's idempotency
semantics (a replayed key returns the first result; a key still in flight answers 409
``idempotency_key_in_use``; a key reused with other parameters is an ``idempotency_error``) and a
ledger of every charge actually made, with faults on either side of the charge being applied:
timeouts, 500s and connection resets before it, and the same after it (the money moved, the
answer is lost). Only test card numbers reach it, and it keeps none: a PaymentMethod keeps only
whether its card declines.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self
from urllib.parse import parse_qsl

from aiohttp import web

DECLINING_PAN = "4000000000000002"
"""Stripe's generic-decline test card."""


class Fault(StrEnum):
    """What the processor does to one request."""

    NONE = "none"
    ERROR_BEFORE = "500_before"
    ERROR_AFTER = "500_after"
    TIMEOUT_BEFORE = "timeout_before"
    TIMEOUT_AFTER = "timeout_after"
    RESET_BEFORE = "reset_before"
    RESET_AFTER = "reset_after"


@dataclass(frozen=True)
class Charge:
    """One charge the processor made: the money that moved."""

    intent_id: str
    idempotency_key: str
    amount_minor: int
    currency: str
    metadata: dict[str, str]


@dataclass
class _Saved:
    params: tuple[tuple[str, str], ...]
    status: int
    body: dict[str, Any]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _error(error_type: str, message: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": error_type, "message": message}
    if code is not None:
        error["code"] = code
    return {"error": error}


class FaultyProcessor:
    """Stripe's ``/v1/payment_methods`` and ``/v1/payment_intents`` on a local port.

    Args:
        faults: picks the fault for each PaymentIntent request (PaymentMethods never fail).
        hang_s: how long a timeout fault holds the request; longer than the client's timeout.
    """

    def __init__(
        self, faults: Callable[[], Fault] = lambda: Fault.NONE, *, hang_s: float = 0.5
    ) -> None:
        self.faults = faults
        self.hang_s = hang_s
        self.ledger: list[Charge] = []
        self.injected: dict[Fault, int] = dict.fromkeys(Fault, 0)
        self.intent_requests = 0
        self.in_flight = asyncio.Event()
        """Set when a PaymentIntent request arrives, cleared when one is answered (one call)."""
        self.release = asyncio.Event()
        """While ``hold`` is set, PaymentIntent requests wait for this before answering."""
        self.hold = False
        self._ids = itertools.count(1)
        self._declines: dict[str, bool] = {}
        self._saved: dict[str, _Saved] = {}
        self._running: set[str] = set()
        self._app = web.Application()
        self._app.router.add_post("/v1/payment_methods", self._payment_method)
        self._app.router.add_post("/v1/payment_intents", self._payment_intent)
        self._runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=0.5)
        self.url = ""

    async def __aenter__(self) -> Self:
        await self._runner.setup()
        port = _free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.release.set()
        await self._runner.cleanup()

    def charges_for(self, key: str, value: str) -> list[Charge]:
        """The ledger's charges whose metadata ``key`` is ``value``."""
        return [charge for charge in self.ledger if charge.metadata.get(key) == value]

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_faulty{next(self._ids):08d}"

    async def _payment_method(self, request: web.Request) -> web.StreamResponse:
        form = dict(parse_qsl(await request.text()))
        pm_id = self._new_id("pm")
        number = form.get("card[number]", "")
        self._declines[pm_id] = number == DECLINING_PAN
        body = {
            "id": pm_id,
            "object": "payment_method",
            "type": "card",
            "card": {"brand": "visa", "last4": number[-4:]},
            "livemode": False,
        }
        return web.json_response(body)

    async def _payment_intent(self, request: web.Request) -> web.StreamResponse:
        self.intent_requests += 1
        params = tuple(sorted(parse_qsl(await request.text())))
        key = request.headers.get("Idempotency-Key", "")
        fault = self.faults()
        self.injected[fault] += 1
        self.in_flight.set()
        try:
            if self.hold:
                await self.release.wait()
            return await self._answer(request, key, params, fault)
        finally:
            self.in_flight.clear()

    async def _answer(
        self,
        request: web.Request,
        key: str,
        params: tuple[tuple[str, str], ...],
        fault: Fault,
    ) -> web.StreamResponse:
        if key in self._running:
            message = "There is currently another in-progress request using this key."
            body = _error("invalid_request_error", message, "idempotency_key_in_use")
            return web.json_response(body, status=409)
        if fault is Fault.ERROR_BEFORE:
            return web.json_response(_error("api_error", "An unknown error occurred"), status=500)
        if fault is Fault.RESET_BEFORE:
            return self._reset(request)
        self._running.add(key)
        try:
            if fault is Fault.TIMEOUT_BEFORE:
                # The request dies before the charge: nothing is saved for the key.
                await asyncio.sleep(self.hang_s)
                return web.json_response(_error("api_error", "timed out"), status=500)
            saved = self._saved.get(key)
            if saved is None:
                saved = self._charge(key, params)
                self._saved[key] = saved
            elif saved.params != params:
                message = "Keys for idempotent requests can only be used with the same parameters."
                return web.json_response(_error("idempotency_error", message), status=400)
            if fault is Fault.ERROR_AFTER:
                return web.json_response(_error("api_error", "An unknown error"), status=500)
            if fault is Fault.RESET_AFTER:
                return self._reset(request)
            if fault is Fault.TIMEOUT_AFTER:
                await asyncio.sleep(self.hang_s)
            return web.json_response(
                saved.body, status=saved.status, dumps=json.dumps, headers={"Request-Id": key[:40]}
            )
        finally:
            self._running.discard(key)

    def _charge(self, key: str, params: tuple[tuple[str, str], ...]) -> _Saved:
        form = dict(params)
        intent_id = self._new_id("pi")
        pm_id = form.get("payment_method", "")
        amount, currency = int(form["amount"]), form["currency"].upper()
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "currency": currency.lower(),
            "payment_method": pm_id,
            "last_payment_error": None,
            "livemode": False,
        }
        if self._declines.get(pm_id, True):
            # Unknown PaymentMethods decline too: a charge must never succeed on a bad token.
            intent["status"] = "requires_payment_method"
            error = _error("card_error", "Your card was declined.", "card_declined")
            error["error"]["decline_code"] = "generic_decline"
            error["error"]["payment_intent"] = intent
            return _Saved(params, 402, error)
        metadata = {
            name[len("metadata[") : -1]: value
            for name, value in params
            if name.startswith("metadata[")
        }
        self.ledger.append(Charge(intent_id, key, amount, currency, metadata))
        return _Saved(params, 200, {**intent, "status": "succeeded"})

    @staticmethod
    def _reset(request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=500)
