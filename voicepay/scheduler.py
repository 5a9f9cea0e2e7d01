"""The scheduler's charging of due plan instalments, which never charges one twice.

- Each plan is handled under a short Redis lock, so two schedulers running at once take turns.
- Before a charge is sent the instalment is stored ``pending``. An unknown outcome (or a crash)
  leaves it pending and the next run sends it again with the same idempotency key
  (``plan:<id>:instalment:<n>:attempt:<k>``), answered by the processor with the first charge.
  Only a decline moves on to a new attempt and key; a failure the processor calls hopeless to
  retry is given up for a person to check, never sent under a new key.
- The account is credited under the processor's reference, which it applies once.

Retries must come within the processor's idempotency window (24 hours at Stripe), so run the
scheduler in a loop (``voicepay scheduler``), not once a day.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, Field

from agent.formatting import confirmation_code
from payment_tools.gateway import ChargeRequest, ChargeResult, ChargeStatus, PaymentGateway
from payment_tools.gateway.base import DeclineReason
from prompts import PromptBook
from voicepay.accounts import Account, AccountError, AccountRepository
from voicepay.money import Money
from voicepay.plans import Instalment, InstalmentStatus, PaymentPlan, PlanStore
from voicepay.receipts import Receipt, ReceiptChannel, ReceiptError, ReceiptSender, choose_channels
from voicepay.settings import PlanSettings

logger = logging.getLogger(__name__)

# Longer than one charge with the gateway's own network retries (3 tries of 20 s at most).
LOCK_TTL_MS = 120_000
RESEND_WINDOW = timedelta(hours=23)
"""How long an unknown outcome may be asked again with its key: processors (Stripe) keep an
idempotency key for 24 hours, after which the same request could charge a second time."""
# Declines no retry can cure; card networks also forbid retrying a lost or stolen card.
_HOPELESS = frozenset(
    {
        DeclineReason.AUTHENTICATION_REQUIRED,
        DeclineReason.LOST_OR_STOLEN,
        DeclineReason.EXPIRED_CARD,
        DeclineReason.CARD_NOT_SUPPORTED,
        DeclineReason.INCORRECT_NUMBER,
    }
)
_COUNTS = {"charged": "paid", "declined": "declined", "unknown": "pending", "gave_up": "failed"}


@dataclass(frozen=True, slots=True)
class PlanReceipts:
    """How the scheduler sends a receipt for each instalment it charges.

    Args:
        sender: the configured receipt sender.
        merchant: who was paid (``settings.payments.merchant_name``).
        channels: the channels to use (``settings.receipts.channels``).
    """

    sender: ReceiptSender
    merchant: str
    channels: Sequence[ReceiptChannel]


class InstalmentLine(BaseModel):
    """What one run did with one instalment; holds no card data."""

    plan_id: str
    number: int
    status: InstalmentStatus
    amount_minor: int
    currency: str
    reference: str | None = None
    error: str | None = None


class SchedulerRun(BaseModel):
    """The outcome of one :func:`charge_due_instalments` run: counts and a line per instalment."""

    charged: int = 0
    declined: int = Field(0, description="Declined, to be tried again.")
    unknown: int = Field(0, description="Outcome unknown, to be asked again with the same key.")
    gave_up: int = Field(0, description="Declined too often, or not chargeable at all.")
    busy: int = Field(0, description="Plans skipped: another scheduler was handling them.")
    lines: list[InstalmentLine] = Field(default_factory=list)


def attempt_key(plan_id: str, instalment: Instalment) -> str:
    """The idempotency key of the instalment's current attempt; unchanged until a decline."""
    return f"plan:{plan_id}:instalment:{instalment.number}:attempt:{instalment.attempts + 1}"


async def charge_due_instalments(
    *,
    today: date,
    plans: PlanStore,
    gateway: PaymentGateway,
    accounts: AccountRepository,
    settings: PlanSettings,
    receipts: PlanReceipts | None = None,
) -> SchedulerRun:
    """Charge every instalment due (or due for a retry) on or before ``today``, at most once.

    Raises:
        redis.exceptions.RedisError: Redis failed; a charge in flight stays pending and is sent
            again with the same key on the next run.
    """
    lines: list[InstalmentLine] = []
    busy = 0
    charger = _Charger(today, plans, gateway, accounts, settings, receipts)
    for plan_id in await plans.due(today):
        async with plans.lock(plan_id, ttl_ms=LOCK_TTL_MS) as held:
            if not held:
                busy += 1
                continue
            # Read under the lock: another scheduler may have just charged this plan.
            plan = await plans.get(plan_id)
            if plan is not None:
                lines += await charger.charge_plan(plan)
    tally = Counter(line.status.value for line in lines)
    counts = {name: tally[status] for name, status in _COUNTS.items()}
    return SchedulerRun(**counts, busy=busy, lines=lines)


def _refusal(account: Account | None, plan: PaymentPlan, instalment: Instalment) -> str | None:
    if account is None:
        return "account_not_found"
    if account.currency != plan.currency:
        return "currency_mismatch"
    if instalment.amount_minor > account.balance_minor:
        return "exceeds_balance"
    return None


def _request(plan: PaymentPlan, instalment: Instalment) -> ChargeRequest:
    """The charge of the current attempt; identical for every retry of it."""
    return ChargeRequest(
        token=plan.token,
        amount_minor=instalment.amount_minor,
        currency=plan.currency,
        idempotency_key=attempt_key(plan.plan_id, instalment),
        description=f"Payment plan instalment {instalment.number} of {len(plan.instalments)}",
        metadata={
            "account": plan.account_number,
            "plan_id": plan.plan_id,
            "instalment": str(instalment.number),
        },
        customer=plan.customer,
        off_session=True,
    )


@dataclass(frozen=True, slots=True)
class _Charger:
    today: date
    plans: PlanStore
    gateway: PaymentGateway
    accounts: AccountRepository
    settings: PlanSettings
    receipts: PlanReceipts | None

    async def charge_plan(self, plan: PaymentPlan) -> list[InstalmentLine]:
        lines: list[InstalmentLine] = []
        for number in range(1, len(plan.instalments) + 1):
            acts_on = plan.instalment(number).acts_on
            if acts_on is not None and acts_on <= self.today:
                plan, line = await self._charge(plan, plan.instalment(number))
                lines.append(line)
        return lines

    async def _charge(
        self, plan: PaymentPlan, instalment: Instalment
    ) -> tuple[PaymentPlan, InstalmentLine]:
        if instalment.status is not InstalmentStatus.PENDING:
            # Nothing is in flight for this attempt, so it may still be called off (e.g. the
            # balance was paid another way).
            problem = _refusal(await self.accounts.get(plan.account_number), plan, instalment)
            if problem is not None:
                return await self._store(plan, _gave_up(instalment, problem))
            instalment = instalment.model_copy(
                update={
                    "status": InstalmentStatus.PENDING,
                    "next_attempt": self.today,
                    "pending_since": datetime.now(UTC),
                }
            )
            plan, _ = await self._store(plan, instalment)
        elif _past_resend_window(instalment):
            # The key may have expired: resending could charge twice. A person checks the
            # processor for this attempt instead.
            return await self._store(plan, _gave_up(instalment, "unconfirmed_check_processor"))
        result = await self.gateway.charge(_request(plan, instalment))
        if result.status is ChargeStatus.SUCCEEDED and result.reference:
            return await self._paid(plan, instalment, result.reference)
        if result.status is ChargeStatus.DECLINED:
            return await self._declined(plan, instalment, result)
        error = result.error_code or "unknown_outcome"
        if not result.retryable:
            # Asking again would not help (e.g. the card was removed): a person follows up.
            return await self._store(plan, _gave_up(instalment, error))
        # Outcome unknown: stays pending, and the next run asks again with the same key.
        return await self._store(plan, instalment.model_copy(update={"last_error": error}))

    async def _paid(
        self, plan: PaymentPlan, instalment: Instalment, reference: str
    ) -> tuple[PaymentPlan, InstalmentLine]:
        error = None
        try:
            # Before the plan is saved: a crash in between replays the charge, applied once.
            await self.accounts.apply_payment(
                plan.account_number, instalment.amount_minor, plan.currency, reference
            )
        except AccountError as refused:
            error = "balance_not_updated"
            logger.warning(
                "instalment charged but not applied to the account",
                extra={
                    "plan_id": plan.plan_id,
                    "instalment": instalment.number,
                    "error": type(refused).__name__,
                },
            )
        paid = instalment.model_copy(
            update={
                "status": InstalmentStatus.PAID,
                "pending_since": None,
                "attempts": instalment.attempts + 1,
                "reference": reference,
                "last_error": error,
                "next_attempt": None,
            }
        )
        plan, line = await self._store(plan, paid)
        if self.receipts is not None:
            await self._send_receipt(plan, paid, self.receipts)
        return plan, line

    async def _declined(
        self, plan: PaymentPlan, instalment: Instalment, result: ChargeResult
    ) -> tuple[PaymentPlan, InstalmentLine]:
        attempts = instalment.attempts + 1
        reason = result.decline_reason or DeclineReason.GENERIC
        give_up = attempts >= self.settings.max_attempts or reason in _HOPELESS
        retry_on = self.today + timedelta(days=self.settings.retry_after_days)
        declined = instalment.model_copy(
            update={
                "status": InstalmentStatus.FAILED if give_up else InstalmentStatus.DECLINED,
                "pending_since": None,
                "attempts": attempts,
                "last_error": result.decline_code or reason.value,
                "next_attempt": None if give_up else retry_on,
            }
        )
        return await self._store(plan, declined)

    async def _store(
        self, plan: PaymentPlan, instalment: Instalment
    ) -> tuple[PaymentPlan, InstalmentLine]:
        plan = plan.with_instalment(instalment)
        await self.plans.save(plan)
        where = {"plan_id": plan.plan_id, "instalment": instalment.number}
        logger.info("instalment %s", instalment.status.value, extra=where)
        line = InstalmentLine(
            plan_id=plan.plan_id,
            number=instalment.number,
            status=instalment.status,
            amount_minor=instalment.amount_minor,
            currency=plan.currency,
            reference=instalment.reference,
            error=instalment.last_error,
        )
        return plan, line

    async def _send_receipt(
        self, plan: PaymentPlan, paid: Instalment, receipts: PlanReceipts
    ) -> None:
        account = await self.accounts.get(plan.account_number)
        if account is None or paid.reference is None:
            return
        receipt = Receipt(
            language=account.language,
            merchant=receipts.merchant,
            amount=Money(paid.amount_minor, plan.currency),
            brand=PromptBook.load(account.language).brand_name(plan.brand),
            last4=plan.last4,
            confirmation_code=confirmation_code(paid.reference),
            paid_on=self.today,
            phone=account.phone,
            email=account.email,
        )
        try:
            await receipts.sender.send(
                receipt, choose_channels(None, receipts.channels, receipt.available)
            )
        except ReceiptError:
            # The payment stands; a lost receipt is only logged.
            logger.warning(
                "instalment receipt not sent",
                extra={"plan_id": plan.plan_id, "instalment": paid.number},
            )


def _past_resend_window(instalment: Instalment) -> bool:
    since = instalment.pending_since
    return since is not None and datetime.now(UTC) - since > RESEND_WINDOW


def _gave_up(instalment: Instalment, error: str) -> Instalment:
    changes = {"status": InstalmentStatus.FAILED, "last_error": error, "next_attempt": None}
    return instalment.model_copy(update=changes)
