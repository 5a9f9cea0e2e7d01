"""The payment-link webhook: Stripe's signed Checkout events applied to calls and accounts.

Stripe (or the sandbox's local page) posts ``checkout.session.completed`` when a caller paid a link
and ``checkout.session.expired`` when it lapsed. Each delivery's ``Stripe-Signature`` is checked
with the endpoint secret (a wrong or stale signature is a 400 and changes nothing). A paid session
then moves the call's workflow (a compare-and-set through :class:`~agent.call_store.CallStateStore`)
and posts the payment to the account; both are idempotent by the session and its PaymentIntent, so
a delivery repeated by Stripe is applied once. A call that already ended gets its call record
updated, so the record shows the payment whether the caller held on or hung up.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe
from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from agent.call_store import CallNotFound, CallStateStore
from agent.workflow import CallState, CardOnCall, WorkflowViolation
from payment_tools.gateway import CheckoutGateway, GatewayError
from voicepay.accounts import AccountError, AccountRepository
from voicepay.call_records import CallRecord, CallRecordStore
from voicepay.settings import Settings

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/stripe"
_COMPLETED = "checkout.session.completed"
_EXPIRED = "checkout.session.expired"


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """What a delivery did: the HTTP status to answer and a short machine-readable outcome."""

    status: int
    outcome: str


class WebhookReceiver:
    """Verifies and applies Checkout events.

    Args:
        redis: where the stores below live (call records are read from it directly).
        calls: the calls' workflow states.
        accounts: the balances to post payments to.
        records: ended calls' records, updated when a link is paid after the call.
        secret: the webhook endpoint secret (``whsec_...``).
        tolerance_s: the oldest signature timestamp accepted, against replays.
        cards: the processor, asked which card paid (brand and last four, for the receipt).
    """

    def __init__(
        self,
        redis: Redis,
        calls: CallStateStore,
        accounts: AccountRepository,
        records: CallRecordStore | None,
        *,
        secret: str,
        tolerance_s: int = 300,
        cards: CheckoutGateway | None = None,
    ) -> None:
        self._redis = redis
        self._calls = calls
        self._accounts = accounts
        self._records = records
        self._secret = secret
        self._tolerance_s = tolerance_s
        self._cards = cards

    @classmethod
    def from_settings(
        cls, redis: Redis, settings: Settings, *, cards: CheckoutGateway | None = None
    ) -> WebhookReceiver:
        """A receiver on ``redis`` with the stores and secret the settings describe."""
        return cls(
            redis,
            CallStateStore(redis, ttl_s=settings.call_ttl_s),
            AccountRepository(redis, settings.auth.pepper),
            CallRecordStore(redis, ttl_s=settings.metrics.record_ttl_s),
            secret=settings.links.webhook_secret.get_secret_value(),
            tolerance_s=settings.links.webhook_tolerance_s,
            cards=cards,
        )

    async def handle(self, payload: bytes, signature: str | None) -> WebhookResult:
        """Verify one delivery and apply it; a storage failure answers 500 so Stripe retries."""
        try:
            event = stripe.Webhook.construct_event(
                payload, signature, self._secret, tolerance=self._tolerance_s
            )
        except stripe.SignatureVerificationError:
            logger.warning("webhook signature rejected")
            return WebhookResult(400, "bad_signature")
        except ValueError:
            return WebhookResult(400, "bad_payload")
        try:
            session: dict[str, Any] = json.loads(payload)["data"]["object"]
            if event.type == _COMPLETED and session.get("payment_status") == "paid":
                outcome = await self._paid(session)
            elif event.type == _EXPIRED:
                outcome = await self._expired(session)
            else:
                outcome = "ignored"
        except (RedisError, OSError):
            logger.warning("webhook not applied; storage unavailable", exc_info=True)
            return WebhookResult(500, "retry")
        except (KeyError, TypeError, ValueError):
            logger.warning("webhook event malformed", extra={"event_type": event.type})
            return WebhookResult(400, "bad_payload")
        logger.info("webhook applied", extra={"event_type": event.type, "outcome": outcome})
        return WebhookResult(200, outcome)

    async def _paid(self, session: dict[str, Any]) -> str:
        metadata = session.get("metadata") or {}
        call_id, account = metadata.get("call_id"), metadata.get("account")
        amount, currency = int(session["amount_total"]), str(session["currency"]).upper()
        reference = str(session.get("payment_intent") or session["id"])
        outcome = "no_call"
        if call_id:
            card = await self._card(reference)
            outcome = await self._transition(
                call_id,
                lambda s: s.link_paid(session["id"], reference, amount, currency, card),
                "paid",
            )
        if account:
            # The money was taken whatever the call's state says: post it (once per reference).
            try:
                await self._accounts.apply_payment(account, amount, currency, reference)
            except AccountError as refused:
                logger.warning("link payment not posted", extra={"error": type(refused).__name__})
                return "not_posted"
        if call_id and outcome == "paid":
            await self._mark_record_paid(call_id)
        return outcome

    async def _card(self, reference: str) -> CardOnCall | None:
        """The paying card, masked, for the receipt; ``None`` when the processor cannot say."""
        if self._cards is None or not reference.startswith("pi_"):
            return None
        try:
            masked = await self._cards.paid_card(reference)
        except GatewayError as failed:
            logger.warning("paying card unknown", extra={"error_code": failed.code})
            return None
        if masked is None:
            return None
        return CardOnCall(brand=masked.brand, last4=masked.last4, token=reference)

    async def _expired(self, session: dict[str, Any]) -> str:
        call_id = (session.get("metadata") or {}).get("call_id")
        if not call_id:
            return "no_call"
        return await self._transition(call_id, lambda s: s.link_expired(session["id"]), "expired")

    async def _transition(
        self, call_id: str, change: Callable[[CallState], bool], applied: str
    ) -> str:
        try:
            _, changed, _ = await self._calls.update(call_id, change)
        except CallNotFound:
            return "call_gone"
        except WorkflowViolation as refused:
            logger.warning("webhook refused by the workflow", extra={"code": refused.code})
            return f"refused_{refused.code}"
        return applied if changed else "duplicate"

    async def _mark_record_paid(self, call_id: str) -> None:
        """Add the payment to the record of a call that ended before the webhook came."""
        if self._records is None:
            return
        raw = await self._redis.get(CallRecordStore.key(call_id))
        if raw is None:
            return
        record = CallRecord.model_validate_json(raw)
        stages = record.stages if "paid" in record.stages else [*record.stages, "paid"]
        await self._records.save(record.model_copy(update={"stages": stages, "outcome": "paid"}))


def build_app(receiver: WebhookReceiver) -> web.Application:
    """An aiohttp app answering ``POST /webhooks/stripe`` (and ``GET /healthz``)."""

    async def stripe_events(request: web.Request) -> web.Response:
        result = await receiver.handle(
            await request.read(), request.headers.get("Stripe-Signature")
        )
        return web.json_response({"outcome": result.outcome}, status=result.status)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=512 * 1024)
    app.router.add_post(WEBHOOK_PATH, stripe_events)
    app.router.add_get("/healthz", health)
    return app
