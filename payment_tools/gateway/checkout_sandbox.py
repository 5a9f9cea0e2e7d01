"""The offline stand-in for Stripe Checkout: a local payment page and signed webhook events.

:class:`SandboxCheckout` serves ``GET/POST /pay/<session>`` on 127.0.0.1, where a person (or a
test, or a simulated caller) pays with a test card. The card typed there goes straight into a
:class:`~payment_tools.secure_card.SecureCard`, is charged through the sandbox gateway (so Stripe's
test-card declines apply) and wiped; it is never logged (no access log) nor kept. A paid or expired
session is announced as ``checkout.session.completed`` / ``checkout.session.expired``, signed like
Stripe's and posted to a webhook URL or handed to an in-process receiver.
``POST /expire/<session>`` stands in for Stripe's expire API (and for time passing, in evals).
"""

from __future__ import annotations

import html
import json
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from payment_tools.cards import detect_brand
from payment_tools.gateway.base import ChargeRequest, ChargeStatus, PaymentGateway
from payment_tools.gateway.checkout import CheckoutLink, CheckoutRequest, sign_payload
from payment_tools.gateway.errors import GatewayError
from payment_tools.ids import random_hex
from payment_tools.secure_card import MaskedCard, SecureCard
from voicepay.money import Money

EventSink = Callable[[bytes, str], Awaitable[int]]
"""Receives a webhook's raw body and ``Stripe-Signature`` header; returns the HTTP status."""

_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<title>{merchant}</title></head><body><h1>{title}</h1><p>{amount}</p><p>{message}</p>{form}
</body></html>"""
_FORM = """<form method="post"><label>Card number <input name="number" autocomplete="off"></label>
<label>Expiry (MMYY) <input name="expiry" autocomplete="off"></label>
<label>Security code <input name="cvc" autocomplete="off"></label>
<button type="submit">Pay</button></form>"""


@dataclass
class _Session:
    id: str
    request: CheckoutRequest
    status: str = "open"
    payment_intent: str | None = None
    card: MaskedCard | None = None

    def as_stripe(self) -> dict[str, Any]:
        """The session as Stripe's API shows it in an event."""
        paid = self.status == "complete"
        return {
            "id": self.id,
            "object": "checkout.session",
            "mode": "payment",
            "status": self.status,
            "payment_status": "paid" if paid else "unpaid",
            "amount_total": self.request.amount_minor,
            "currency": self.request.currency.lower(),
            "client_reference_id": self.request.metadata.get("call_id"),
            "metadata": dict(self.request.metadata),
            "payment_intent": self.payment_intent,
            "expires_at": int(self.request.expires_at.timestamp()),
            "livemode": False,
        }


class SandboxCheckout:
    """Local Checkout sessions paid on a local page, announced by signed events.

    Args:
        gateway: charges the card typed on the page (the sandbox gateway).
        webhook_secret: the endpoint secret events are signed with.
        sink: in-process receiver of events, used when ``webhook_url`` is unset.
        webhook_url: where to post events, as Stripe would.
        merchant: the name shown on the page.
    """

    def __init__(
        self,
        gateway: PaymentGateway,
        *,
        webhook_secret: str,
        sink: EventSink | None = None,
        webhook_url: str | None = None,
        merchant: str = "VoicePay",
    ) -> None:
        self._gateway = gateway
        self._secret = webhook_secret
        self.sink = sink
        self._webhook_url = webhook_url
        self._merchant = merchant
        self._sessions: dict[str, _Session] = {}
        self._by_key: dict[str, str] = {}
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutLink:
        """A local session for ``request``; a reused idempotency key returns the first one.

        Raises:
            GatewayError: ``idempotency_error`` when the key was used for different terms.
        """
        await self._serve()
        known = self._by_key.get(request.idempotency_key)
        if known is not None:
            session = self._sessions[known]
            if session.request != request:
                raise GatewayError("idempotency_error")
        else:
            session = _Session(id=f"cs_sandbox_{random_hex(8)}", request=request)
            self._sessions[session.id] = session
            self._by_key[request.idempotency_key] = session.id
        return CheckoutLink(
            session_id=session.id,
            url=f"{self.base_url}/pay/{session.id}",
            expires_at=request.expires_at,
        )

    def paid_card(self, payment_intent: str) -> MaskedCard | None:
        """Brand and last four of the card that paid the session of ``payment_intent``."""
        found = [s.card for s in self._sessions.values() if s.payment_intent == payment_intent]
        return found[0] if found else None

    def status(self, session_id: str) -> str | None:
        """``open``, ``complete`` or ``expired``; ``None`` for an unknown session."""
        session = self._sessions.get(session_id)
        return session.status if session else None

    async def expire(self, session_id: str) -> int:
        """Expire an open session and announce it; returns the webhook's HTTP status (0: none)."""
        session = self._sessions.get(session_id)
        if session is None or session.status != "open":
            return 0
        session.status = "expired"
        return await self._announce("checkout.session.expired", session)

    async def _serve(self) -> None:
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_get("/pay/{session}", self._page)
        app.router.add_post("/pay/{session}", self._pay)
        app.router.add_post("/expire/{session}", self._expire)
        # No access log: only paths would show, but nothing about a payment page needs logging.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self.base_url = f"http://127.0.0.1:{port}"

    def _render(self, session: _Session, message: str, *, form: bool) -> web.Response:
        request = session.request
        amount = Money(request.amount_minor, request.currency).format(request.locale)
        body = _PAGE.format(
            lang=request.locale,
            merchant=html.escape(self._merchant),
            title=html.escape(request.description),
            amount=html.escape(amount),
            message=html.escape(message),
            form=_FORM if form else "",
        )
        return web.Response(text=body, content_type="text/html")

    async def _page(self, request: web.Request) -> web.Response:
        session = self._sessions.get(request.match_info["session"])
        if session is None:
            raise web.HTTPNotFound()
        return self._render(session, session.status, form=session.status == "open")

    async def _pay(self, request: web.Request) -> web.Response:
        session = self._sessions.get(request.match_info["session"])
        if session is None:
            raise web.HTTPNotFound()
        if session.status != "open":
            return self._render(session, session.status, form=False)
        form = await request.post()
        outcome = await self._charge(
            session, str(form.get("number", "")), str(form.get("expiry", "")), form.get("cvc")
        )
        if outcome != "paid":
            return self._render(session, outcome, form=True)
        await self._announce("checkout.session.completed", session)
        return self._render(session, "paid", form=False)

    async def _charge(self, session: _Session, number: str, expiry: str, cvc: object) -> str:
        brand = detect_brand(number) if number.isascii() and number.isdigit() else None
        digits = expiry.replace("/", "")
        if brand is None or len(digits) != 4 or not digits.isdigit():
            return "invalid_card"
        card = SecureCard(
            number=number,
            exp_month=int(digits[:2]),
            exp_year=2000 + int(digits[2:]),
            security_code=str(cvc or ""),
            brand=brand.value,
        )
        try:
            token = await self._gateway.tokenize(card, idempotency_key=f"{session.id}:card")
        except GatewayError:
            return "card_rejected"
        finally:
            card.wipe()
        result = await self._gateway.charge(
            ChargeRequest(
                token=token.token,
                amount_minor=session.request.amount_minor,
                currency=session.request.currency,
                idempotency_key=f"{session.id}:{token.token}",
                description=session.request.description,
                metadata=session.request.metadata,
            )
        )
        if result.status is not ChargeStatus.SUCCEEDED or result.reference is None:
            return "declined"
        session.status, session.payment_intent = "complete", result.reference
        session.card = MaskedCard(brand=token.brand, last4=token.last4)
        return "paid"

    async def _expire(self, request: web.Request) -> web.Response:
        session_id = request.match_info["session"]
        if session_id not in self._sessions:
            raise web.HTTPNotFound()
        status = await self.expire(session_id)
        return web.json_response({"id": session_id, "status": "expired", "webhook": status})

    async def _announce(self, kind: str, session: _Session) -> int:
        event = {
            "id": f"evt_sandbox_{random_hex(8)}",
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": session.as_stripe()},
        }
        payload = json.dumps(event).encode()
        signature = sign_payload(payload, self._secret, timestamp=int(time.time()))
        if self._webhook_url is not None:
            async with (
                aiohttp.ClientSession() as client,
                client.post(
                    self._webhook_url,
                    data=payload,
                    headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
                ) as response,
            ):
                return response.status
        if self.sink is not None:
            return await self.sink(payload, signature)
        return 0

    async def aclose(self) -> None:
        """Stop serving the page."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
