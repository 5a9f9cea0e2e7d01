"""After a charge that keeps the card on file: store the card, its consent and any plan."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from agent.call_context import CallContext
from agent.workflow import CallState, WorkflowViolation
from voicepay.plans import Instalment, InstalmentStatus, PaymentPlan
from voicepay.saved_cards import CardConsent, StoredCard


def arrangement_id(call_id: str, kind: str) -> str:
    """The id of the plan or promise (``kind``) agreed on a call: one of each per call.

    Stored ids take letters, digits, ``_`` and ``-`` only; a call id's other characters become
    ``_`` and a long call id is shortened with a digest of the whole, so ids stay unique.
    """
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", call_id)
    if len(safe) > 40:
        safe = f"{safe[:23]}_{hashlib.sha256(call_id.encode()).hexdigest()[:16]}"
    return f"{safe}-{kind}"


async def keep_card_on_file(
    call: CallContext, state: CallState, reference: str
) -> PaymentPlan | None:
    """Store the consented card and, for a plan, the plan whose first instalment ``reference`` paid.

    Both writes are idempotent, so settling the same charge twice stores one plan.

    Raises:
        WorkflowViolation: the state holds no consented card of a customer.
    """
    plan, card, consent, purpose = state.plan, state.card, state.consent, state.card_purpose
    if not state.saves_card or consent is None or card is None or purpose is None:
        raise WorkflowViolation("no_card_consent")
    if card.customer is None or state.account_number is None:
        raise WorkflowViolation("no_card")
    await call.services.saved_cards.save(
        StoredCard(
            account_number=state.account_number,
            customer=card.customer,
            token=card.token,
            brand=card.brand,
            last4=card.last4,
            consent=CardConsent(
                call_id=call.call_id,
                at=consent.at,
                language=consent.language,
                purpose=purpose,
                wording_key=consent.wording_key,
            ),
        )
    )
    call.events.emit("card_kept", purpose=purpose, brand=card.brand, last4=card.last4)
    if plan is None:
        return None
    stored = PaymentPlan(
        plan_id=arrangement_id(call.call_id, "plan"),
        account_number=state.account_number,
        currency=plan.currency,
        customer=card.customer,
        token=card.token,
        brand=card.brand,
        last4=card.last4,
        call_id=call.call_id,
        created_at=datetime.now(UTC),
        instalments=[
            Instalment(
                number=number,
                due=item.due,
                amount_minor=item.amount_minor,
                status=InstalmentStatus.PAID if number == 1 else InstalmentStatus.SCHEDULED,
                attempts=1 if number == 1 else 0,
                reference=reference if number == 1 else None,
            )
            for number, item in enumerate(plan.instalments, start=1)
        ],
    )
    await call.services.plans.create(stored)
    call.events.emit("plan_set_up", instalments=len(plan.instalments), plan_id=stored.plan_id)
    return stored
