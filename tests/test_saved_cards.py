from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from redis.asyncio import Redis

from payment_tools.gateway import SandboxGateway
from payment_tools.secure_card import SecureCard
from voicepay.saved_cards import CardConsent, SavedCardStore, StoredCard

PAN = "4242424242424242"
CVC = "735"
NUMBER = "12345678"


def consent() -> CardConsent:
    return CardConsent(
        call_id="call_1",
        at=datetime(2026, 12, 1, 10, tzinfo=UTC),
        language="en",
        purpose="plan",
        wording_key="plan.consent_question",
    )


def stored(token: str = "pm_sandbox_ok_visa_4242_0123456789abcdef") -> StoredCard:
    return StoredCard(
        account_number=NUMBER,
        customer="cus_sandbox_0123456789abcdef",
        token=token,
        brand="visa",
        last4="4242",
        consent=consent(),
    )


async def test_save_get_and_forget(redis: Redis) -> None:
    store = SavedCardStore(redis)
    assert await store.get(NUMBER) is None
    await store.save(stored())
    assert await store.get(NUMBER) == stored()
    replacement = stored("pm_sandbox_ok_visa_4242_fedcba9876543210")
    await store.save(replacement)
    assert await store.get(NUMBER) == replacement
    await store.remember_customer(NUMBER, "cus_sandbox_0123456789abcdef")
    await store.forget(NUMBER)
    assert await store.get(NUMBER) is None
    # The processor customer outlives the card: the next saved card is attached to it too.
    assert await store.customer(NUMBER) == "cus_sandbox_0123456789abcdef"
    assert await store.customer("87654321") is None


async def test_a_tokenized_card_leaves_only_its_masked_face_in_redis(redis: Redis) -> None:
    gateway = SandboxGateway()
    card = SecureCard(number=PAN, exp_month=11, exp_year=2037, security_code=CVC, brand="visa")
    token = await gateway.tokenize(card, idempotency_key="tok-1")
    customer = await gateway.create_customer(account_number=NUMBER, idempotency_key="cus-1")
    store = SavedCardStore(redis)
    await store.remember_customer(NUMBER, customer)
    await store.save(
        StoredCard(
            account_number=NUMBER,
            customer=customer,
            token=token.token,
            brand=token.brand,
            last4=token.last4,
            consent=consent(),
        )
    )
    dump = " ".join([str(await redis.get(key)) for key in await redis.keys("*")])
    assert "4242" in dump
    assert PAN not in dump and "exp_month" not in dump and "exp_year" not in dump
    # Whole values only: the tokens' random hex may hold these digits by chance.
    for secret in ("2037", CVC):
        assert re.search(rf"(?<![0-9a-f]){secret}(?![0-9a-f])", dump) is None


@given(digits=st.from_regex(r"[0-9]{12,19}", fullmatch=True))
def test_card_digits_are_refused_as_a_token_and_never_echoed(digits: str) -> None:
    with pytest.raises(ValidationError) as refused:
        stored(token=digits)
    assert digits not in str(refused.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [("last4", "42424"), ("last4", "abcd"), ("brand", "4242424242424242"), ("customer", "")],
)
def test_stored_card_fields_are_checked(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        StoredCard.model_validate({**stored().model_dump(), field: value})
    assert value not in str(refused.value) or not value


async def test_remember_customer_refuses_what_is_not_a_processor_id(redis: Redis) -> None:
    store = SavedCardStore(redis)
    with pytest.raises(ValueError) as refused:
        await store.remember_customer(NUMBER, PAN)
    assert PAN not in str(refused.value)
    assert await store.customer(NUMBER) is None


def test_consent_records_what_the_caller_agreed_to() -> None:
    with pytest.raises(ValidationError):
        CardConsent.model_validate({**consent().model_dump(), "purpose": "marketing"})
