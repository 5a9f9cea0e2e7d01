from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError
from redis.asyncio import Redis

from voicepay.accounts import (
    Account,
    AccountFixture,
    AccountNotFoundError,
    AccountRepository,
    CurrencyMismatchError,
    FixtureError,
    KnowledgeFactor,
    PaymentExceedsBalanceError,
    knowledge_digest,
    normalise_keypad,
)

PEPPER = SecretStr("test-pepper")
DEMO = Path(__file__).parents[1] / "voicepay" / "fixtures" / "demo_accounts.yaml"


def _entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "number": "12345678",
        "holder_name": "Ada Lovelace",
        "phone": "+447700900001",
        "balance_minor": 10_000,
        "currency": "EUR",
        "due_date": "2026-12-31",
        "minimum_due_minor": 2_500,
        "language": "en",
        "dob": "1984-03-15",
    }
    entry.update(overrides)
    return {k: v for k, v in entry.items() if v is not None}


def _write(tmp_path: Path, entries: list[dict[str, Any]], name: str = "accounts.yaml") -> Path:
    path = tmp_path / name
    data = {"accounts": entries}
    path.write_text(json.dumps(data))  # JSON is also valid YAML
    return path


def _account(number: str = "12345678", balance: int = 10_000, minimum: int = 2_500) -> Account:
    return Account(
        number=number,
        holder_name="Ada Lovelace",
        phone="+447700900001",
        balance_minor=balance,
        currency="EUR",
        due_date=date(2026, 12, 31),
        minimum_due_minor=minimum,
        language="en",
        knowledge_factor=KnowledgeFactor(
            kind="postcode", digest=knowledge_digest(PEPPER, number, "75011")
        ),
    )


@pytest.fixture
def repo(redis: Redis) -> AccountRepository:
    return AccountRepository(redis, PEPPER)


async def test_demo_fixture_loads_and_covers_the_demo_cases(repo: AccountRepository) -> None:
    assert await repo.load_fixture(DEMO) >= 5
    accounts = [a.accounts for a in [AccountFixture.from_file(DEMO)]][0]
    stored = [await repo.get(entry.number) for entry in accounts]
    assert all(account is not None for account in stored)
    loaded = [account for account in stored if account is not None]
    assert {a.currency for a in loaded} >= {"EUR", "USD"}
    assert {a.language for a in loaded} == {"en", "fr"}
    assert {a.knowledge_factor.kind for a in loaded} == {"dob", "postcode"}
    assert all(len(a.number) == 8 for a in loaded)
    assert any(a.balance_minor == 1234 for a in loaded)
    lyon = await repo.get("40112233")
    assert lyon is not None and lyon.language == "fr" and lyon.currency == "EUR"
    assert await repo.verify_knowledge_factor("40112233", "15031984")
    assert await repo.verify_knowledge_factor("40117788", "75011")


async def test_stored_json_never_holds_the_plain_factor(
    redis: Redis, repo: AccountRepository
) -> None:
    await repo.load_fixture(DEMO)
    raw = await redis.get("voicepay:account:40112233")
    assert raw is not None
    assert "15031984" not in raw and "1984-03-15" not in raw and "dob" not in json.loads(raw)
    assert json.loads(raw)["knowledge_factor"]["kind"] == "dob"


async def test_knowledge_factor_verification(repo: AccountRepository) -> None:
    await repo.put(_account())
    assert await repo.verify_knowledge_factor("12345678", "75011")
    assert await repo.verify_knowledge_factor("12345678", "7 5 0 1 1#")
    assert not await repo.verify_knowledge_factor("12345678", "75012")
    assert not await repo.verify_knowledge_factor("12345678", "")
    assert not await repo.verify_knowledge_factor("87654321", "75011")
    assert not await repo.verify_knowledge_factor("*", "75011")


def test_digest_is_bound_to_account_and_pepper() -> None:
    digest = knowledge_digest(PEPPER, "12345678", "15031984")
    assert len(digest) == 64
    assert digest != knowledge_digest(PEPPER, "12345679", "15031984")
    assert digest != knowledge_digest(SecretStr("other"), "12345678", "15031984")
    assert "15031984" not in repr(_account())


def test_dob_is_stored_in_keypad_form() -> None:
    fixture = AccountFixture.model_validate({"accounts": [_entry(dob="1984-03-15")]})
    account = fixture.accounts[0].to_account(PEPPER)
    assert account.knowledge_factor.kind == "dob"
    assert account.knowledge_factor.digest == knowledge_digest(PEPPER, "12345678", "15031984")


@given(st.text())
def test_normalise_keypad_keeps_only_ascii_digits(text: str) -> None:
    digits = normalise_keypad(text)
    assert all(ch in "0123456789" for ch in digits)
    assert normalise_keypad(digits + text) == digits + digits


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"number": "12ab5678"}, "number"),
        ({"number": "12345"}, "number"),
        ({"phone": "0612345678"}, "phone"),
        ({"currency": "euro"}, "currency"),
        ({"currency": "XYZ"}, "unsupported currency"),
        ({"balance_minor": -1}, "balance_minor"),
        ({"language": "de"}, "language"),
        ({"postcode": "75011"}, "exactly one knowledge factor"),
        ({"dob": None}, "exactly one knowledge factor"),
        ({"minimum_due_minor": 20_000}, "minimum_due_minor exceeds"),
    ],
)
async def test_invalid_fixture_entry_is_named(
    tmp_path: Path, repo: AccountRepository, overrides: dict[str, Any], field: str
) -> None:
    path = _write(tmp_path, [_entry(number="11111111"), _entry(**overrides)])
    with pytest.raises(FixtureError) as info:
        await repo.load_fixture(path)
    message = str(info.value)
    assert str(path) in message and "accounts[1]" in message and field in message
    assert "1984" not in message  # the plain factor never appears in errors
    assert await repo.get("11111111") is None  # nothing written


async def test_json_fixture_and_file_errors(tmp_path: Path, repo: AccountRepository) -> None:
    assert await repo.load_fixture(_write(tmp_path, [_entry()], "accounts.json")) == 1
    duplicated = _write(tmp_path, [_entry(), _entry()])
    with pytest.raises(FixtureError, match=r"accounts\[1\].*duplicates accounts\[0\]"):
        await repo.load_fixture(duplicated)
    text = tmp_path / "accounts.txt"
    text.write_text("accounts: []")
    with pytest.raises(FixtureError, match="unsupported"):
        await repo.load_fixture(text)
    broken = tmp_path / "broken.yaml"
    broken.write_text("accounts:\n  - dob: 1984-03-15\n    postcode: [75011\n")
    with pytest.raises(FixtureError, match="broken.yaml: not valid YAML") as info:
        await repo.load_fixture(broken)
    assert "1984" not in str(info.value) and "75011" not in str(info.value)
    broken_json = tmp_path / "broken.json"
    broken_json.write_text('{"accounts": [')
    with pytest.raises(FixtureError, match="broken.json: not valid JSON"):
        await repo.load_fixture(broken_json)
    with pytest.raises(FixtureError, match="cannot read"):
        await repo.load_fixture(tmp_path / "missing.yaml")


def test_account_model_refuses_bad_values() -> None:
    with pytest.raises(ValidationError):
        _account(balance=100, minimum=200)
    with pytest.raises(ValidationError):
        KnowledgeFactor(kind="dob", digest="15031984")


async def test_get_unknown_or_malformed_number(repo: AccountRepository) -> None:
    assert await repo.get("99999999") is None
    assert await repo.get("voicepay:*") is None


async def test_payment_reduces_balance_and_minimum(repo: AccountRepository) -> None:
    await repo.put(_account(balance=10_000, minimum=2_500))
    after = await repo.apply_payment("12345678", 3_000, "eur", "pi_1")
    assert (after.balance_minor, after.minimum_due_minor) == (7_000, 0)
    assert await repo.get("12345678") == after
    replay = await repo.apply_payment("12345678", 3_000, "EUR", "pi_1")
    assert replay.balance_minor == 7_000


async def test_payment_refusals_change_nothing(repo: AccountRepository) -> None:
    await repo.put(_account(balance=1_000, minimum=0))
    with pytest.raises(CurrencyMismatchError):
        await repo.apply_payment("12345678", 100, "USD", "pi_usd")
    with pytest.raises(PaymentExceedsBalanceError):
        await repo.apply_payment("12345678", 1_001, "EUR", "pi_big")
    with pytest.raises(AccountNotFoundError):
        await repo.apply_payment("87654321", 100, "EUR", "pi_x")
    with pytest.raises(ValueError, match="positive"):
        await repo.apply_payment("12345678", 0, "EUR", "pi_zero")
    account = await repo.get("12345678")
    assert account is not None and account.balance_minor == 1_000
    # Refused references were not consumed: a valid retry with the same reference applies.
    assert (await repo.apply_payment("12345678", 1_000, "EUR", "pi_big")).balance_minor == 0


async def test_concurrent_payments_are_applied_exactly_once(repo: AccountRepository) -> None:
    await repo.put(_account(balance=100_000, minimum=0))
    same = [repo.apply_payment("12345678", 500, "EUR", "pi_same") for _ in range(20)]
    distinct = [repo.apply_payment("12345678", 100, "EUR", f"pi_{i}") for i in range(10)]
    await asyncio.gather(*same, *distinct)
    account = await repo.get("12345678")
    assert account is not None and account.balance_minor == 100_000 - 500 - 10 * 100


async def test_put_keeps_applied_references(repo: AccountRepository) -> None:
    await repo.put(_account(balance=5_000, minimum=0))
    await repo.apply_payment("12345678", 1_000, "EUR", "pi_1")
    await repo.put(_account(balance=5_000, minimum=0))
    replay = await repo.apply_payment("12345678", 1_000, "EUR", "pi_1")
    assert replay.balance_minor == 5_000


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    initial=st.integers(0, 20_000),
    amounts=st.dictionaries(st.sampled_from([f"pi_{i}" for i in range(6)]), st.integers(1, 6_000)),
    data=st.data(),
)
async def test_balance_counts_each_reference_once(
    redis: Redis, initial: int, amounts: dict[str, int], data: st.DataObject
) -> None:
    await redis.flushdb()
    repo = AccountRepository(redis, PEPPER)
    await repo.put(_account(balance=initial, minimum=0))
    refs = data.draw(st.lists(st.sampled_from(sorted(amounts)), max_size=15)) if amounts else []
    expected, applied = initial, set()
    for ref in refs:
        if ref not in applied and amounts[ref] > expected:
            with pytest.raises(PaymentExceedsBalanceError):
                await repo.apply_payment("12345678", amounts[ref], "EUR", ref)
            continue
        if ref not in applied:
            applied.add(ref)
            expected -= amounts[ref]
        account = await repo.apply_payment("12345678", amounts[ref], "EUR", ref)
        assert account.balance_minor == expected
    stored = await repo.get("12345678")
    assert stored is not None
    assert stored.balance_minor == initial - sum(amounts[ref] for ref in applied)
