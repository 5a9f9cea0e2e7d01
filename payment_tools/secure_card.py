"""The only object that ever holds a full card number, expiry and security code.

A :class:`SecureCard` lives inside ``payment_tools`` for the seconds between the caller's last key
and the hand-off to the processor. Its digits sit in mutable buffers that :meth:`SecureCard.wipe`
zeroes; it refuses to be printed, pickled, copied or compared, so it cannot drift into a log line, a
Redis value, an exception message or an LLM context by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn


def _last4(buffer: bytearray) -> str:
    return buffer[-4:].decode("ascii") if len(buffer) >= 4 else ""


@dataclass(frozen=True, slots=True)
class MaskedCard:
    """What the rest of the system may know about a card: brand and last four digits."""

    brand: str
    last4: str

    @property
    def masked_number(self) -> str:
        """Twilio-style masked number, e.g. ``xxxxxxxxxxxx4242`` (length hidden for Amex too)."""
        return "x" * 12 + self.last4


class SecureCard:
    """Card data captured on the keypad, held in wipeable buffers.

    Args:
        number: card number digits.
        exp_month: expiry month, 1-12.
        exp_year: four-digit expiry year.
        security_code: CVC digits, or empty when security code capture is off.
        brand: brand identifier (``visa``, ``amex``, ...).
        postal_code: billing postal code digits, or empty.
    """

    __slots__ = ("_number", "_cvc", "_postal", "exp_month", "exp_year", "brand", "_wiped")

    def __init__(
        self,
        *,
        number: str,
        exp_month: int,
        exp_year: int,
        security_code: str,
        brand: str,
        postal_code: str = "",
    ) -> None:
        self._number = bytearray(number.encode("ascii"))
        self._cvc = bytearray(security_code.encode("ascii"))
        self._postal = bytearray(postal_code.encode("ascii"))
        self.exp_month = exp_month
        self.exp_year = exp_year
        self.brand = brand
        self._wiped = False

    @property
    def masked(self) -> MaskedCard:
        """Brand and last four digits; safe to show anywhere."""
        return MaskedCard(brand=self.brand, last4=_last4(self._number))

    @property
    def wiped(self) -> bool:
        """Whether :meth:`wipe` has run."""
        return self._wiped

    def reveal(self) -> tuple[str, str, str]:
        """Return ``(number, security_code, postal_code)`` for the processor request only.

        Raises:
            RuntimeError: the card was already wiped.
        """
        if self._wiped:
            raise RuntimeError("card data already wiped")
        return (
            self._number.decode("ascii"),
            self._cvc.decode("ascii"),
            self._postal.decode("ascii"),
        )

    def wipe(self) -> None:
        """Zero every buffer holding card digits; the card is unusable afterwards."""
        for buffer in (self._number, self._cvc, self._postal):
            for i in range(len(buffer)):
                buffer[i] = 0
        self.exp_month = 0
        self.exp_year = 0
        self._wiped = True

    def __repr__(self) -> str:
        masked = self.masked
        return f"SecureCard(brand={masked.brand!r}, masked={masked.masked_number!r})"

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> NoReturn:
        raise TypeError("SecureCard cannot be pickled")

    def __copy__(self) -> NoReturn:
        raise TypeError("SecureCard cannot be copied")

    def __deepcopy__(self, memo: dict[int, Any]) -> NoReturn:
        raise TypeError("SecureCard cannot be copied")

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__
