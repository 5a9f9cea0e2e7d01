"""SandboxGateway: Stripe test-card behaviour, idempotency, fault injection, no card data kept."""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterator, Mapping
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_tools.gateway import (
    CardRejected,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    DeclineReason,
    Fault,
    FaultPlan,
    GatewayError,
    GatewayUnavailable,
    PaymentGateway,
    SandboxGateway,
)
from payment_tools.secure_card import SecureCard

VISA = "4242424242424242"
CVC = "735"


def card(
    number: str = VISA,
    *,
    cvc: str = CVC,
    exp: tuple[int, int] = (11, 2037),
    brand: str = "visa",
) -> SecureCard:
    return SecureCard(
        number=number, exp_month=exp[0], exp_year=exp[1], security_code=cvc, brand=brand
    )


def request(token: str, key: str = "key-1", amount_minor: int = 1234) -> ChargeRequest:
    return ChargeRequest(
        token=token,
        amount_minor=amount_minor,
        currency="EUR",
        idempotency_key=key,
        description="bill",
        metadata={"account": "ACC-1001", "call_id": "call-1"},
    )


async def charge_card(gateway: SandboxGateway, number: str, key: str = "key-1") -> ChargeResult:
    token = await gateway.tokenize(card(number), idempotency_key=f"tok-{key}")
    return await gateway.charge(request(token.token, key))


async def test_success_card_is_charged_once() -> None:
    gateway = SandboxGateway()
    as_interface: PaymentGateway = gateway  # mypy checks the sandbox implements the protocol
    assert as_interface.name == "sandbox"
    token = await gateway.tokenize(card(), idempotency_key="tok-1")
    result = await gateway.charge(request(token.token))

    assert token.token.startswith("pm_sandbox_")
    assert (token.brand, token.last4, token.exp_month, token.exp_year) == ("visa", "4242", 11, 2037)
    assert result.status is ChargeStatus.SUCCEEDED
    assert result.reference is not None and result.reference.startswith("pi_sandbox_")
    [entry] = gateway.ledger
    assert (entry.idempotency_key, entry.token, entry.amount_minor, entry.currency) == (
        "key-1",
        token.token,
        1234,
        "EUR",
    )
    assert entry.reference == result.reference


@pytest.mark.parametrize(
    ("number", "brand"),
    [("378282246310005", "amex"), ("5555555555554444", "mastercard"), ("4000056655665556", "visa")],
)
async def test_any_other_luhn_valid_card_succeeds(number: str, brand: str) -> None:
    gateway = SandboxGateway()
    token = await gateway.tokenize(card(number, brand=brand), idempotency_key="tok-1")
    result = await gateway.charge(request(token.token))

    assert result.status is ChargeStatus.SUCCEEDED
    assert (token.brand, token.last4) == (brand, number[-4:])


TEST_CARD_DECLINES = [
    ("4000000000000002", DeclineReason.GENERIC, "generic_decline", False),
    ("4000000000009995", DeclineReason.INSUFFICIENT_FUNDS, "insufficient_funds", False),
    ("4000000000009987", DeclineReason.LOST_OR_STOLEN, "lost_card", False),
    ("4000000000009979", DeclineReason.LOST_OR_STOLEN, "stolen_card", False),
    ("4000000000000069", DeclineReason.EXPIRED_CARD, "expired_card", False),
    ("4000000000000127", DeclineReason.INCORRECT_CVC, "incorrect_cvc", False),
    ("4000000000000119", DeclineReason.PROCESSING_ERROR, "processing_error", True),
]


@pytest.mark.parametrize(("number", "reason", "decline_code", "retryable"), TEST_CARD_DECLINES)
async def test_stripe_test_cards_decline_at_charge(
    number: str, reason: DeclineReason, decline_code: str, retryable: bool
) -> None:
    gateway = SandboxGateway()
    result = await charge_card(gateway, number)

    assert result.status is ChargeStatus.DECLINED
    assert (result.decline_reason, result.decline_code) == (reason, decline_code)
    assert result.retryable is retryable
    assert result.reference is not None and result.reference.startswith("pi_sandbox_")
    assert gateway.ledger == []


@pytest.mark.parametrize(
    ("bad_card", "reason"),
    [
        (card("4242424242424241"), DeclineReason.INCORRECT_NUMBER),
        (card("42424242"), DeclineReason.INCORRECT_NUMBER),
        (card(cvc="12"), DeclineReason.INCORRECT_CVC),
        (card(exp=(13, 2037)), DeclineReason.INVALID_EXPIRY),
        (card(exp=(4, 2026)), DeclineReason.EXPIRED_CARD),
    ],
)
async def test_invalid_cards_are_rejected_at_tokenize(
    bad_card: SecureCard, reason: DeclineReason
) -> None:
    gateway = SandboxGateway(today=lambda: date(2026, 5, 1))
    with pytest.raises(CardRejected) as raised:
        await gateway.tokenize(bad_card, idempotency_key="tok-1")

    assert raised.value.reason is reason
    assert raised.value.__context__ is None


async def test_card_expiring_this_month_is_accepted() -> None:
    gateway = SandboxGateway(today=lambda: date(2026, 5, 31))
    token = await gateway.tokenize(card(exp=(5, 2026)), idempotency_key="tok-1")
    assert token.exp_month == 5


def _values(obj: object) -> Iterator[object]:
    """Every leaf value reachable from ``obj`` through containers and dataclasses."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for item in dataclasses.fields(obj):
            yield from _values(getattr(obj, item.name))
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            yield from _values(key)
            yield from _values(value)
    elif isinstance(obj, list | tuple | set | frozenset | deque):
        for value in obj:
            yield from _values(value)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        yield from _values(vars(obj))
    else:
        yield obj


async def test_sandbox_keeps_no_card_number_or_security_code() -> None:
    gateway = SandboxGateway()
    for index, number in enumerate([VISA, "4000000000009995"]):
        token = await gateway.tokenize(card(number), idempotency_key=f"tok-{index}")
        await gateway.charge(request(token.token, key=f"key-{index}"))

    kept = [str(value) for value in _values(gateway)]
    assert any(value.startswith("pm_sandbox_") for value in kept)
    assert not [value for value in kept if VISA in value or "4000000000009995" in value]
    assert CVC not in kept


async def test_token_repr_hides_the_expiry() -> None:
    token = await SandboxGateway().tokenize(card(), idempotency_key="tok-1")
    assert "2037" not in repr(token)


async def test_same_key_same_params_replays_the_first_result() -> None:
    gateway = SandboxGateway()
    token = await gateway.tokenize(card(), idempotency_key="tok-1")
    first = await gateway.charge(request(token.token))
    replay = await gateway.charge(request(token.token))

    assert replay == first
    assert len(gateway.ledger) == 1


async def test_same_key_replays_a_decline() -> None:
    gateway = SandboxGateway()
    first = await charge_card(gateway, "4000000000000002")
    token = await gateway.tokenize(card("4000000000000002"), idempotency_key="tok-key-1")
    assert await gateway.charge(request(token.token)) == first


async def test_same_key_different_params_is_an_idempotency_error() -> None:
    gateway = SandboxGateway()
    token = await gateway.tokenize(card(), idempotency_key="tok-1")
    await gateway.charge(request(token.token, amount_minor=1234))
    result = await gateway.charge(request(token.token, amount_minor=9999))

    assert (result.status, result.error_code) == (ChargeStatus.FAILED, "idempotency_error")
    assert result.retryable is False
    assert [entry.amount_minor for entry in gateway.ledger] == [1234]


async def test_different_keys_charge_twice() -> None:
    gateway = SandboxGateway()
    token = await gateway.tokenize(card(), idempotency_key="tok-1")
    await gateway.charge(request(token.token, key="key-1"))
    await gateway.charge(request(token.token, key="key-2"))
    assert len(gateway.ledger) == 2


async def test_unknown_token_fails_without_charging() -> None:
    gateway = SandboxGateway()
    result = await gateway.charge(request("pm_sandbox_unknown"))
    assert (result.status, result.error_code, result.retryable) == (
        ChargeStatus.FAILED,
        "resource_missing",
        False,
    )
    assert gateway.ledger == []


async def test_tokenize_is_idempotent_per_key() -> None:
    gateway = SandboxGateway()
    first = await gateway.tokenize(card(), idempotency_key="tok-1")
    again = await gateway.tokenize(card(), idempotency_key="tok-1")
    assert again == first
    with pytest.raises(GatewayError) as raised:
        await gateway.tokenize(card("5555555555554444"), idempotency_key="tok-1")
    assert raised.value.code == "idempotency_error"


@pytest.mark.parametrize("fault", list(Fault))
async def test_charge_fault_then_retry_with_same_key_charges_once(fault: Fault) -> None:
    gateway = SandboxGateway(faults=FaultPlan.of(charge=[fault]))
    token = await gateway.tokenize(card(), idempotency_key="tok-1")
    failed = await gateway.charge(request(token.token))
    charged_so_far = len(gateway.ledger)
    retried = await gateway.charge(request(token.token))

    assert (failed.status, failed.retryable) == (ChargeStatus.FAILED, True)
    assert charged_so_far == (1 if fault is Fault.LOST_RESPONSE else 0)
    assert retried.status is ChargeStatus.SUCCEEDED
    assert [entry.reference for entry in gateway.ledger] == [retried.reference]


@pytest.mark.parametrize("fault", list(Fault))
async def test_tokenize_fault_then_retry_with_same_key(fault: Fault) -> None:
    gateway = SandboxGateway(faults=FaultPlan.of(tokenize=[fault]))
    with pytest.raises(GatewayUnavailable) as raised:
        await gateway.tokenize(card(), idempotency_key="tok-1")
    token = await gateway.tokenize(card(), idempotency_key="tok-1")

    assert raised.value.retryable is True
    assert (await gateway.charge(request(token.token))).status is ChargeStatus.SUCCEEDED


@pytest.mark.parametrize(
    "kwargs",
    [
        {"amount_minor": 0},
        {"amount_minor": -5},
        {"currency": "eur"},
        {"currency": "EURO"},
        {"idempotency_key": ""},
        {"metadata": {"k" * 41: "v"}},
    ],
)
def test_charge_request_refuses_invalid_fields(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "token": "pm_x",
        "amount_minor": 100,
        "currency": "EUR",
        "idempotency_key": "key",
    }
    with pytest.raises(ValueError):
        ChargeRequest(**{**fields, **kwargs})  # type: ignore[arg-type]  # mixed test values


def test_charge_request_metadata_is_a_read_only_copy() -> None:
    metadata = {"account": "ACC-1"}
    charge = ChargeRequest(
        token="pm_x", amount_minor=100, currency="EUR", idempotency_key="k", metadata=metadata
    )
    metadata["account"] = "changed"
    assert charge.metadata == {"account": "ACC-1"}
    with pytest.raises(TypeError):
        charge.metadata["account"] = "x"  # type: ignore[index]  # proving it is read-only


faults = st.sampled_from([None, *Fault])
calls = st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), faults), max_size=25)


@given(calls=calls)
async def test_any_call_sequence_charges_each_key_at_most_once(
    calls: list[tuple[str, Fault | None]],
) -> None:
    gateway = SandboxGateway(faults=FaultPlan.of(charge=[fault for _, fault in calls]))
    token = await gateway.tokenize(card(), idempotency_key="tok")
    results = [await gateway.charge(request(token.token, key)) for key, _ in calls]

    processed = {key for key, fault in calls if fault in (None, Fault.LOST_RESPONSE)}
    assert sorted(entry.idempotency_key for entry in gateway.ledger) == sorted(processed)
    references = {entry.idempotency_key: entry.reference for entry in gateway.ledger}
    for (key, _), result in zip(calls, results, strict=True):
        if result.status is ChargeStatus.SUCCEEDED:
            assert result.reference == references[key]


@given(plan=st.lists(faults, max_size=12), payments=st.integers(min_value=1, max_value=4))
async def test_a_retrying_caller_ends_with_exactly_one_charge_per_key(
    plan: list[Fault | None], payments: int
) -> None:
    gateway = SandboxGateway(faults=FaultPlan.of(charge=plan))
    token = await gateway.tokenize(card(), idempotency_key="tok")
    for payment in range(payments):
        result = await gateway.charge(request(token.token, f"payment-{payment}"))
        while result.status is ChargeStatus.FAILED and result.retryable:
            result = await gateway.charge(request(token.token, f"payment-{payment}"))
        assert result.status is ChargeStatus.SUCCEEDED

    charged = sorted(entry.idempotency_key for entry in gateway.ledger)
    assert charged == [f"payment-{payment}" for payment in range(payments)]
