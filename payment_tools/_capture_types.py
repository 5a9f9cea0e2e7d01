"""The vocabulary of keypad card capture: fields, errors, statuses, prompts, options, results.

Kept apart from the engine so the card validators can raise :class:`CaptureError` without importing
it; :mod:`payment_tools.capture` re-exports everything here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Protocol

from payment_tools.secure_card import MaskedCard, SecureCard

if TYPE_CHECKING:
    # Annotation only: the card validators import this module, so a runtime import would cycle.
    from payment_tools.cards import CardBrand

POSTAL_CODE_MAX_LENGTH = 10
"""Longest postal code accepted on the keypad."""


class CaptureField(StrEnum):
    """The fields of a card capture, named as Twilio ``<Pay>`` names them."""

    CARD_NUMBER = "payment-card-number"
    EXPIRATION_DATE = "expiration-date"
    SECURITY_CODE = "security-code"
    POSTAL_CODE = "postal-code"


class CaptureStatus(StrEnum):
    """How a capture (or the payment it fed) ended; Twilio ``<Pay>``'s result names."""

    SUCCESS = "success"
    TOO_MANY_FAILED_ATTEMPTS = "too-many-failed-attempts"
    CALLER_INTERRUPTED_WITH_STAR = "caller-interrupted-with-star"
    CALLER_HUNG_UP = "caller-hung-up"
    PAYMENT_CONNECTOR_ERROR = "payment-connector-error"
    INTERNAL_ERROR = "internal-error"


class CallerHungUp(Exception):
    """The caller left the call while keys were being read."""


class KeypadCancelled(Exception):
    """The keypad entry was called off (e.g. the caller asked for a person meanwhile)."""


class KeySource(Protocol):
    """Where the capture reads keypad keys from."""

    # The timeout is part of the contract: running out of time is an answer (None), not a failure.
    async def next_key(self, timeout: float) -> str | None:  # noqa: ASYNC109
        """Return the next key (``"0"``-``"9"``, ``"*"``, ``"#"``), or None after ``timeout`` s.

        Raises:
            CallerHungUp: the caller is gone.
        """
        ...


PromptKind = Literal["ask", "ask-again", "restart", "error"]


@dataclass(frozen=True, slots=True)
class PromptRequest:
    """What the caller should be told before the next entry; never carries a digit."""

    field: CaptureField
    kind: PromptKind
    attempt: int
    error: CaptureErrorType | None
    brand: str | None


class CapturePrompter(Protocol):
    """Speaks the capture prompts to the caller."""

    async def prompt(self, request: PromptRequest) -> None:
        """Say the prompt for ``request`` and return when the caller may type."""
        ...


@dataclass(frozen=True, slots=True)
class CaptureProgress:
    """A masked progress event, safe to show to an agent UI or to log."""

    field: CaptureField
    attempt: int
    error: CaptureErrorType | None
    masked_number: str | None
    brand: str | None
    required_fields: tuple[CaptureField, ...]
    status: CaptureStatus | None


class CaptureErrorType(StrEnum):
    """Why one entry was rejected; the names are Twilio ``<Pay>``'s error types."""

    INPUT_TIMEOUT = "input-timeout"
    INVALID_CARD_NUMBER = "invalid-card-number"
    INVALID_CARD_TYPE = "invalid-card-type"
    INVALID_DATE = "invalid-date"
    DATE_VALIDATION_FAILED = "date-validation-failed"
    INVALID_SECURITY_CODE = "invalid-security-code"
    INVALID_POSTAL_CODE = "invalid-postal-code"
    INPUT_MATCHING_FAILED = "input-matching-failed"
    INTERNAL_ERROR = "internal-error"


class CaptureError(Exception):
    """An entry failed validation.

    The message is the error type only: the rejected value never appears in it.

    Args:
        error_type: what was wrong with the entry.
    """

    def __init__(self, error_type: CaptureErrorType) -> None:
        super().__init__(error_type.value)
        self.error_type = error_type


@dataclass(frozen=True, slots=True)
class CaptureOptions:
    """Capture settings, at parity with Twilio ``<Pay>``'s attributes."""

    accepted_brands: frozenset[CardBrand]
    timeout_s: float = 5.0
    max_attempts: int = 3
    security_code: bool = True
    postal_code: bool = False
    min_postal_code_length: int = 5
    require_matching_inputs: bool = False
    today: date | None = None

    def __post_init__(self) -> None:
        if not self.accepted_brands:
            raise ValueError("accepted_brands must not be empty")
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 1 <= self.min_postal_code_length <= POSTAL_CODE_MAX_LENGTH:
            raise ValueError("min_postal_code_length must be between 1 and 10")


@dataclass(frozen=True, slots=True)
class CaptureResult:
    """The outcome of a capture; ``card`` is set on success only and is the caller's to wipe."""

    status: CaptureStatus
    card: SecureCard | None
    masked: MaskedCard | None
    errors: tuple[CaptureErrorType, ...]
    failed_field: CaptureField | None
