"""A card kept on file on an earlier call, set up before a scenario whose caller comes back.

The earlier call is replayed at the processor only: its own sandbox gateway (another process, in
production) tokenises the card, creates the account's customer and saves the card with a first
charge, exactly as a plan's first instalment does; the account's store then holds the masked card
and the consent given on that call.
"""

from __future__ import annotations

from datetime import UTC, datetime

from agent.arrangements import consent_question
from agent.call_context import CallServices
from evals.scenario import SavedCardSetup
from payment_tools.cards import detect_brand
from payment_tools.gateway import ChargeRequest, ChargeStatus, SandboxGateway
from payment_tools.secure_card import SecureCard
from voicepay.saved_cards import CardConsent, StoredCard

_EARLIER_CALL = "earlier-call"
_FIRST_CHARGE_MINOR = 1000


async def keep_card_on_file(services: CallServices, setup: SavedCardSetup, language: str) -> None:
    """Save ``setup``'s card for its account at the processor and in the saved-card store.

    Raises:
        RuntimeError: the processor did not save the card.
    """
    account = await services.accounts.get(setup.account)
    if account is None:
        raise RuntimeError("the saved card's account is not in the fixture")
    brand = detect_brand(setup.number)
    earlier = SandboxGateway()
    card = SecureCard(
        number=setup.number,
        exp_month=int(setup.expiry[:2]),
        exp_year=2000 + int(setup.expiry[2:]),
        security_code=setup.security_code,
        brand=brand.value if brand else "unknown",
    )
    try:
        token = await earlier.tokenize(card, idempotency_key=f"{_EARLIER_CALL}:card")
    finally:
        card.wipe()
    customer = await earlier.create_customer(
        account_number=setup.account, idempotency_key=f"customer:{setup.account}"
    )
    result = await earlier.charge(
        ChargeRequest(
            token=token.token,
            amount_minor=_FIRST_CHARGE_MINOR,
            currency=account.currency,
            idempotency_key=f"{_EARLIER_CALL}:charge:0",
            customer=customer,
            save_card=True,
        )
    )
    if result.status is not ChargeStatus.SUCCEEDED:
        raise RuntimeError(f"the earlier call's charge did not succeed: {result.status.value}")
    await services.saved_cards.remember_customer(setup.account, customer)
    await services.saved_cards.save(
        StoredCard(
            account_number=setup.account,
            customer=customer,
            token=token.token,
            brand=token.brand,
            last4=token.last4,
            consent=CardConsent(
                call_id=_EARLIER_CALL,
                at=datetime.now(UTC),
                language=language,
                purpose="future_payments",
                wording_key=consent_question("future_payments"),
            ),
        )
    )
