"""Keypad card capture at parity with Twilio ``<Pay>``, by DTMF only.

:func:`capture_card` asks for the fields in order: card number, expiry (``MMYY``), security code
(if ``security_code``), postal code (if ``postal_code``). For each field:

* It prompts ``"ask"``, then reads keys. Digits accumulate in a fixed-size buffer. ``#`` submits
  the field; so does reaching its longest possible length (card number: the longest length of the
  brand its first digits identify, 19 while unknown; expiry 4; security code the brand's length;
  postal code 10); so does an inter-digit timeout once something was typed. A ``#`` pressed
  right after a field was taken at its full length is ignored rather than submitting the next
  field empty.
* ``*`` on a field with digits clears it and prompts ``"restart"`` (not an attempt); ``*`` on an
  empty field ends capture with ``caller-interrupted-with-star``. Other keys (``A``-``D``) are
  ignored.
* No key within the timeout is an ``input-timeout`` error; an invalid entry is its field's typed
  error (``invalid-card-number``, ``invalid-card-type``, ``invalid-date``,
  ``date-validation-failed``, ``invalid-security-code``, ``invalid-postal-code``). Each error uses
  one attempt: while attempts remain the caller is prompted ``"error"`` (with the error type and
  the new attempt number); the failure of attempt ``max_attempts`` ends capture with
  ``too-many-failed-attempts``.
* With ``require_matching_inputs`` a valid entry is asked for again (``"ask-again"``) and the two
  must match, else ``input-matching-failed`` (an attempt). A timeout of the second entry is an
  ``input-timeout``; ``*`` there restarts the field from its first entry.
* The key source raising :class:`KeypadCancelled` (the entry was called off, e.g. because the
  caller asked for a person) ends capture like ``*`` does, ``caller-interrupted-with-star``.
* The key source raising :class:`CallerHungUp` ends capture with ``caller-hung-up``; any other
  exception (from the prompter, the progress callback or the key source) ends it with
  ``internal-error``. Cancellation propagates.

A :class:`CaptureProgress` is emitted after every prompt, after every error and on completion.
Buffers are zeroed as soon as an entry is rejected and, whatever the outcome, before
:func:`capture_card` returns. No digit reaches a log, an exception, a prompt request, a progress
event or the result, except the last four in masked numbers and the card inside the returned
:class:`SecureCard`.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import Callable
from datetime import date
from enum import Enum

from payment_tools._capture_types import (
    POSTAL_CODE_MAX_LENGTH,
    CallerHungUp,
    CaptureError,
    CaptureErrorType,
    CaptureField,
    CaptureOptions,
    CaptureProgress,
    CapturePrompter,
    CaptureResult,
    CaptureStatus,
    KeypadCancelled,
    KeySource,
    PromptKind,
    PromptRequest,
)
from payment_tools.cards import (
    UNKNOWN_BRAND_MAX_LENGTH,
    CardBrand,
    max_number_length,
    rule_for,
    validate_card_number,
    validate_expiry,
    validate_postal_code,
    validate_security_code,
)
from payment_tools.secure_card import MaskedCard, SecureCard

__all__ = [
    "CallerHungUp",
    "KeypadCancelled",
    "CaptureError",
    "CaptureErrorType",
    "CaptureField",
    "CaptureOptions",
    "CaptureProgress",
    "CaptureResult",
    "CaptureStatus",
    "CapturePrompter",
    "KeySource",
    "PromptKind",
    "PromptRequest",
    "capture_card",
]

logger = logging.getLogger(__name__)

_DIGIT_KEYS = frozenset("0123456789")


class _Read(Enum):
    SUBMITTED = "submitted"
    TIMED_OUT = "timed-out"
    RESTARTED = "restarted"


class _Ended(Exception):
    """Stops the capture early with ``status``; carries no data."""

    def __init__(self, status: CaptureStatus, error: CaptureErrorType | None = None) -> None:
        super().__init__(status.value)
        self.status = status
        self.error = error


class _Entry:
    """A fixed-capacity digit buffer: never reallocated, so zeroing it leaves no stray copy."""

    __slots__ = ("_buffer", "length")

    def __init__(self) -> None:
        self._buffer = bytearray(UNKNOWN_BRAND_MAX_LENGTH)
        self.length = 0

    def append(self, key: str) -> None:
        self._buffer[self.length] = ord(key)
        self.length += 1

    def digits(self) -> memoryview:
        return memoryview(self._buffer)[: self.length]

    def text(self) -> str:
        return str(self.digits(), "ascii")

    def matches(self, other: _Entry) -> bool:
        return hmac.compare_digest(self.digits(), other.digits())

    def clear(self) -> None:
        for index in range(len(self._buffer)):
            self._buffer[index] = 0
        self.length = 0


class _Capture:
    """One run of :func:`capture_card`; holds the entries until it returns."""

    def __init__(
        self,
        keys: KeySource,
        prompter: CapturePrompter,
        options: CaptureOptions,
        on_progress: Callable[[CaptureProgress], None] | None,
    ) -> None:
        self._keys = keys
        self._prompter = prompter
        self._options = options
        self._on_progress = on_progress
        self._today = options.today or date.today()
        self._fields = tuple(
            field
            for field, wanted in (
                (CaptureField.CARD_NUMBER, True),
                (CaptureField.EXPIRATION_DATE, True),
                (CaptureField.SECURITY_CODE, options.security_code),
                (CaptureField.POSTAL_CODE, options.postal_code),
            )
            if wanted
        )
        self._entries = {field: _Entry() for field in CaptureField}
        self._confirmation = _Entry()
        self._index = 0
        self._attempt = 1
        self._errors: list[CaptureErrorType] = []
        self._brand: CardBrand | None = None
        self._masked: MaskedCard | None = None
        # Callers often press # after a field that filled up and was taken without it.
        self._after_auto_submit = False

    @property
    def _field(self) -> CaptureField:
        return self._fields[min(self._index, len(self._fields) - 1)]

    async def run(self) -> CaptureResult:
        try:
            status, error = await self._outcome()
            self._progress(error, status)
            card = self._build_card() if status is CaptureStatus.SUCCESS else None
        except Exception as exc:
            # The type name only: an exception message is not trusted to be free of digits.
            logger.error("card capture failed", extra={"error_type": type(exc).__name__})
            status, card = CaptureStatus.INTERNAL_ERROR, None
            self._errors.append(CaptureErrorType.INTERNAL_ERROR)
            # The progress callback may be what failed; the outcome is reported by the result.
            with contextlib.suppress(Exception):
                self._progress(CaptureErrorType.INTERNAL_ERROR, status)
        finally:
            for entry in (*self._entries.values(), self._confirmation):
                entry.clear()
        failed = self._field if status is CaptureStatus.TOO_MANY_FAILED_ATTEMPTS else None
        return CaptureResult(status, card, self._masked, tuple(self._errors), failed)

    async def _outcome(self) -> tuple[CaptureStatus, CaptureErrorType | None]:
        try:
            for index in range(len(self._fields)):
                self._index = index
                await self._capture_field()
        except _Ended as ended:
            return ended.status, ended.error
        except CallerHungUp:
            return CaptureStatus.CALLER_HUNG_UP, None
        except KeypadCancelled:
            return CaptureStatus.CALLER_INTERRUPTED_WITH_STAR, None
        self._index = len(self._fields)
        return CaptureStatus.SUCCESS, None

    async def _capture_field(self) -> None:
        self._attempt = 1
        kind: PromptKind = "ask"
        error: CaptureErrorType | None = None
        while True:
            await self._prompt(kind, error)
            error = await self._enter_field()
            if error is None:
                self._accept()
                return
            self._errors.append(error)
            self._progress(error, None)
            if self._attempt >= self._options.max_attempts:
                raise _Ended(CaptureStatus.TOO_MANY_FAILED_ATTEMPTS, error)
            self._attempt += 1
            kind = "error"

    async def _enter_field(self) -> CaptureErrorType | None:
        """Read one attempt at the current field; return its error, or None when accepted."""
        entry = self._entries[self._field]
        while True:
            read = await self._read(entry)
            if read is _Read.RESTARTED:
                await self._prompt("restart", None)
                continue
            if read is _Read.TIMED_OUT:
                return CaptureErrorType.INPUT_TIMEOUT
            try:
                self._check(entry)
            except CaptureError as exc:
                entry.clear()
                return exc.error_type
            if not self._options.require_matching_inputs:
                return None
            await self._prompt("ask-again", None)
            read = await self._read(self._confirmation)
            matched = read is _Read.SUBMITTED and entry.matches(self._confirmation)
            self._confirmation.clear()
            if matched:
                return None
            entry.clear()
            if read is _Read.RESTARTED:
                await self._prompt("restart", None)
                continue
            if read is _Read.TIMED_OUT:
                return CaptureErrorType.INPUT_TIMEOUT
            return CaptureErrorType.INPUT_MATCHING_FAILED

    async def _read(self, entry: _Entry) -> _Read:
        while True:
            key = await self._keys.next_key(self._options.timeout_s)
            stray_hash = key == "#" and self._after_auto_submit and not entry.length
            self._after_auto_submit = False
            if key is None:
                return _Read.SUBMITTED if entry.length else _Read.TIMED_OUT
            if stray_hash:
                continue
            if key == "#":
                return _Read.SUBMITTED
            if key == "*":
                if not entry.length:
                    raise _Ended(CaptureStatus.CALLER_INTERRUPTED_WITH_STAR)
                entry.clear()
                return _Read.RESTARTED
            if key in _DIGIT_KEYS:
                entry.append(key)
                if entry.length >= self._max_length(entry):
                    self._after_auto_submit = True
                    return _Read.SUBMITTED

    def _max_length(self, entry: _Entry) -> int:
        field = self._field
        if field is CaptureField.CARD_NUMBER:
            return max_number_length(entry.digits())
        if field is CaptureField.EXPIRATION_DATE:
            return 4
        if field is CaptureField.SECURITY_CODE:
            return rule_for(self._card_brand()).cvc_length
        return POSTAL_CODE_MAX_LENGTH

    def _check(self, entry: _Entry) -> None:
        field, digits = self._field, entry.digits()
        if field is CaptureField.CARD_NUMBER:
            validate_card_number(digits, self._options.accepted_brands)
        elif field is CaptureField.EXPIRATION_DATE:
            validate_expiry(digits, today=self._today)
        elif field is CaptureField.SECURITY_CODE:
            validate_security_code(digits, self._card_brand())
        else:
            validate_postal_code(digits, min_length=self._options.min_postal_code_length)

    def _accept(self) -> None:
        if self._field is CaptureField.CARD_NUMBER:
            number = self._entries[CaptureField.CARD_NUMBER]
            self._brand = validate_card_number(number.digits(), self._options.accepted_brands)
            self._masked = MaskedCard(
                brand=self._brand.value, last4=str(number.digits()[-4:], "ascii")
            )

    def _card_brand(self) -> CardBrand:
        if self._brand is None:
            raise RuntimeError("card brand needed before the card number was accepted")
        return self._brand

    def _build_card(self) -> SecureCard:
        entries = self._entries
        month, year = validate_expiry(
            entries[CaptureField.EXPIRATION_DATE].digits(), today=self._today
        )
        return SecureCard(
            number=entries[CaptureField.CARD_NUMBER].text(),
            exp_month=month,
            exp_year=year,
            security_code=entries[CaptureField.SECURITY_CODE].text(),
            brand=self._card_brand().value,
            postal_code=entries[CaptureField.POSTAL_CODE].text(),
        )

    async def _prompt(self, kind: PromptKind, error: CaptureErrorType | None) -> None:
        brand = self._brand.value if self._brand else None
        await self._prompter.prompt(PromptRequest(self._field, kind, self._attempt, error, brand))
        self._progress(error, None)

    def _progress(self, error: CaptureErrorType | None, status: CaptureStatus | None) -> None:
        if self._on_progress is None:
            return
        self._on_progress(
            CaptureProgress(
                field=self._field,
                attempt=self._attempt,
                error=error,
                masked_number=self._masked.masked_number if self._masked else None,
                brand=self._brand.value if self._brand else None,
                required_fields=self._fields[self._index :],
                status=status,
            )
        )


async def capture_card(
    keys: KeySource,
    prompter: CapturePrompter,
    options: CaptureOptions,
    on_progress: Callable[[CaptureProgress], None] | None = None,
) -> CaptureResult:
    """Capture a card on the keypad; see the module docstring for the exact behaviour.

    Args:
        keys: the caller's keys, usually from :meth:`KeypadRouter.exclusive`.
        prompter: speaks the prompts.
        options: accepted brands, timeout, attempts and optional fields.
        on_progress: called with a masked event after every prompt, error and on completion.

    Returns:
        The result; on ``success`` it holds the :class:`SecureCard`, which the caller must wipe.
    """
    return await _Capture(keys, prompter, options, on_progress).run()
