"""Customer accounts: the model, their Redis repository and the fixture loader.

A caller proves who they are with a knowledge factor typed on the keypad (date of birth as
``DDMMYYYY`` or a numeric postcode). Only an HMAC of it is stored, keyed with the server-side pepper
and bound to the account number, so a leaked Redis dump does not reveal it and a digest cannot be
replayed against another account.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml  # type: ignore[import-untyped,unused-ignore]  # types-PyYAML may be absent
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    model_validator,
)
from redis.asyncio import Redis
from redis.exceptions import WatchError

from voicepay import money
from voicepay.redis_client import make_key
from voicepay.settings import Language

_MAX_WATCH_RETRIES = 50


def _supported_currency(code: str) -> str:
    if code not in money.SUPPORTED_CURRENCIES:
        raise ValueError(
            f"unsupported currency; expected one of {sorted(money.SUPPORTED_CURRENCIES)}"
        )
    return code


AccountNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{6,12}$")]
Currency = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(_supported_currency)
]
PhoneNumber = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
EmailAddress = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
HolderName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class AccountError(Exception):
    """Base class for account operations that were refused."""


class AccountNotFoundError(AccountError, LookupError):
    """No account with this number exists."""


class CurrencyMismatchError(AccountError, money.CurrencyMismatchError):
    """The payment currency is not the account currency."""


class PaymentExceedsBalanceError(AccountError, ValueError):
    """The payment is larger than the outstanding balance."""


class FixtureError(ValueError):
    """A fixture file that cannot be loaded; the message names the file and the bad entry."""


def normalise_keypad(text: str) -> str:
    """The ASCII digits of keypad or spoken input, dropping separators, ``*`` and ``#``."""
    return "".join(ch for ch in text if "0" <= ch <= "9")


def knowledge_digest(pepper: SecretStr, number: str, digits: str) -> str:
    """Hex HMAC-SHA256 of ``"<number>:<digits>"`` keyed with the pepper."""
    message = f"{number}:{normalise_keypad(digits)}".encode()
    return hmac.new(pepper.get_secret_value().encode(), message, hashlib.sha256).hexdigest()


class KnowledgeFactor(BaseModel):
    """What the caller must type to authenticate, stored only as a digest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["dob", "postcode"]
    digest: str = Field(pattern=r"^[0-9a-f]{64}$", repr=False)


class _AccountFields(BaseModel):
    """Fields shared by a stored account and a fixture entry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: AccountNumber
    holder_name: HolderName
    phone: PhoneNumber
    email: EmailAddress | None = None
    balance_minor: int = Field(ge=0)
    currency: Currency
    due_date: date
    minimum_due_minor: int = Field(ge=0)
    language: Language
    voiceprint_ref: str | None = None

    @model_validator(mode="after")
    def _minimum_within_balance(self) -> Self:
        if self.minimum_due_minor > self.balance_minor:
            raise ValueError("minimum_due_minor exceeds balance_minor")
        return self


class Account(_AccountFields):
    """A customer account with an outstanding balance in minor units."""

    knowledge_factor: KnowledgeFactor


class AccountFixtureEntry(_AccountFields):
    """One fixture account, its knowledge factor given in plain (``dob`` or ``postcode``)."""

    dob: date | None = None
    postcode: str | None = Field(None, pattern=r"^[0-9][0-9 -]{1,10}[0-9]$")

    @model_validator(mode="after")
    def _exactly_one_factor(self) -> Self:
        if (self.dob is None) == (self.postcode is None):
            raise ValueError("give exactly one knowledge factor: dob or postcode")
        return self

    def to_account(self, pepper: SecretStr) -> Account:
        """The stored account: the plain factor becomes a digest of its keypad form."""
        if self.dob is not None:
            kind: Literal["dob", "postcode"] = "dob"
            digits = self.dob.strftime("%d%m%Y")
        else:
            kind, digits = "postcode", normalise_keypad(self.postcode or "")
        fields = self.model_dump(exclude={"dob", "postcode"})
        factor = KnowledgeFactor(kind=kind, digest=knowledge_digest(pepper, self.number, digits))
        return Account.model_validate({**fields, "knowledge_factor": factor})


class AccountFixture(BaseModel):
    """A fixture file: ``{"accounts": [...]}`` in YAML (``.yaml``/``.yml``) or JSON (``.json``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accounts: list[AccountFixtureEntry]

    @classmethod
    def from_file(cls, path: Path) -> AccountFixture:
        """Read and validate a fixture file.

        Raises:
            FixtureError: unreadable file, bad syntax, or an invalid or duplicated entry.
        """
        raw = _read_fixture(path)
        if not isinstance(raw, dict) or not isinstance(raw.get("accounts"), list):
            raise FixtureError(f"{path}: expected a mapping with an 'accounts' list")
        entries: list[AccountFixtureEntry] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(raw["accounts"]):
            label = f"{path}: accounts[{index}]"
            if isinstance(item, dict) and "number" in item:
                label += f" (number {item['number']})"
            try:
                entry = AccountFixtureEntry.model_validate(item)
            except ValidationError as exc:
                raise FixtureError(f"{label}: {_describe(exc)}") from None
            if entry.number in seen:
                raise FixtureError(f"{label}: duplicates accounts[{seen[entry.number]}]")
            seen[entry.number] = index
            entries.append(entry)
        return cls(accounts=entries)


def _read_fixture(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix not in {".yaml", ".yml", ".json"}:
        raise FixtureError(f"{path}: unsupported fixture type {suffix!r}; use .yaml, .yml or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise FixtureError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except yaml.YAMLError as exc:
        # Problem and line only: PyYAML's full text quotes the offending line, maybe a birth date.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise FixtureError(f"{path}: not valid YAML: {problem}{where}") from None


def _describe(exc: ValidationError) -> str:
    # Only locations and messages: the input values may be a plain date of birth.
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'entry'}: {error['msg']}"
        for error in exc.errors()
    )


class AccountRepository:
    """Accounts stored as JSON under ``voicepay:account:<number>``.

    Args:
        redis: an asyncio Redis client.
        pepper: the secret keying knowledge-factor digests (``settings.auth.pepper``).
    """

    def __init__(self, redis: Redis, pepper: SecretStr) -> None:
        self._redis = redis
        self._pepper = pepper

    @staticmethod
    def key(number: str) -> str:
        """The Redis key of an account."""
        return make_key("account", number)

    @staticmethod
    def payments_key(number: str) -> str:
        """The Redis set of payment references already applied to an account."""
        return make_key("account", number, "payments")

    async def get(self, number: str) -> Account | None:
        """The account, or ``None`` when the number is unknown or malformed."""
        if not _is_account_number(number):
            return None
        raw = await self._redis.get(self.key(number))
        return None if raw is None else Account.model_validate_json(raw)

    async def put(self, account: Account) -> None:
        """Create or replace an account; its applied payment references are kept."""
        await self._redis.set(self.key(account.number), account.model_dump_json())

    async def load_fixture(self, path: Path) -> int:
        """Create or replace every account of a fixture file; returns how many were loaded.

        Raises:
            FixtureError: the file is invalid; nothing is written then.
        """
        accounts = [
            entry.to_account(self._pepper) for entry in AccountFixture.from_file(path).accounts
        ]
        async with self._redis.pipeline(transaction=True) as pipe:
            for account in accounts:
                pipe.set(self.key(account.number), account.model_dump_json())
            await pipe.execute()
        return len(accounts)

    async def verify_knowledge_factor(self, number: str, keypad_digits: str) -> bool:
        """Whether the typed digits match the account's knowledge factor (constant-time compare)."""
        candidate = knowledge_digest(self._pepper, number, keypad_digits)
        account = await self.get(number)
        if account is None:
            return False
        return hmac.compare_digest(candidate, account.knowledge_factor.digest)

    async def apply_payment(
        self, number: str, amount_minor: int, currency: str, payment_reference: str
    ) -> Account:
        """Subtract a captured payment from the balance, once per payment reference.

        Applying a reference that was already applied returns the account unchanged. The minimum
        due drops by the amount paid, never below zero.

        Raises:
            ValueError: non-positive amount or empty reference.
            AccountNotFoundError: unknown account.
            CurrencyMismatchError: ``currency`` (case-insensitive) is not the account currency.
            PaymentExceedsBalanceError: a new payment larger than the balance.
        """
        if amount_minor <= 0:
            raise ValueError("amount_minor must be positive")
        if not payment_reference:
            raise ValueError("payment_reference must not be empty")
        if not _is_account_number(number):
            raise AccountNotFoundError(number)
        key, payments_key = self.key(number), self.payments_key(number)
        for _ in range(_MAX_WATCH_RETRIES):
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key, payments_key)
                    raw = await pipe.get(key)
                    if raw is None:
                        raise AccountNotFoundError(number)
                    account = Account.model_validate_json(raw)
                    if currency.upper() != account.currency:
                        raise CurrencyMismatchError(
                            f"payment in {currency.upper()} for an account in {account.currency}"
                        )
                    if await pipe.sismember(payments_key, payment_reference):
                        return account
                    if amount_minor > account.balance_minor:
                        raise PaymentExceedsBalanceError(
                            f"payment of {amount_minor} exceeds balance of {account.balance_minor}"
                        )
                    updated = _after_payment(account, amount_minor)
                    pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
                    pipe.set(key, updated.model_dump_json())
                    pipe.sadd(payments_key, payment_reference)
                    await pipe.execute()
                    return updated
                except WatchError:
                    continue
        raise RuntimeError(f"account {number} kept changing while applying a payment")


def _is_account_number(number: str) -> bool:
    return 6 <= len(number) <= 12 and normalise_keypad(number) == number


def _after_payment(account: Account, amount_minor: int) -> Account:
    return Account.model_validate(
        {
            **account.model_dump(),
            "balance_minor": account.balance_minor - amount_minor,
            "minimum_due_minor": max(0, account.minimum_due_minor - amount_minor),
        }
    )
