"""The sandbox's test cards, and the token ids that carry all it needs to charge them again.

A sandbox token is ``pm_sandbox_<behaviour>_<brand>_<last4>_<16 hex digits>``: the test behaviour
the card number selects (``ok`` or a kind of decline), the brand and the last four digits. None
of these is card data (brand and last four are what a receipt shows), and the number, expiry and
security code never enter the id. Because the id says everything a charge needs, any
:class:`~payment_tools.gateway.sandbox.SandboxGateway` can charge a card another one tokenized,
in another process: the voice agent saves a card, ``voicepay scheduler`` charges it later, as
with a Stripe PaymentMethod.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from payment_tools.gateway.base import DeclineReason
from payment_tools.gateway.errors import CardRejected
from payment_tools.ids import random_hex
from payment_tools.secure_card import SecureCard


@dataclass(frozen=True, slots=True)
class Decline:
    """How a test card declines: Stripe's error code and decline code.

    ``off_session_only`` cards pay while the caller is on the line (MOTO is exempt from
    authentication) and decline only charges made with the caller absent.
    """

    code: str
    decline_code: str
    off_session_only: bool = False


_OK = "ok"
# Behaviour names as they appear in token ids: letters only, so the id splits unambiguously.
_DECLINES: dict[str, Decline] = {
    "generic": Decline("card_declined", "generic_decline"),
    "funds": Decline("card_declined", "insufficient_funds"),
    "lost": Decline("card_declined", "lost_card"),
    "stolen": Decline("card_declined", "stolen_card"),
    "expired": Decline("expired_card", "expired_card"),
    "cvc": Decline("incorrect_cvc", "incorrect_cvc"),
    "processing": Decline("processing_error", "processing_error"),
    "authentication": Decline(
        "authentication_required", "authentication_required", off_session_only=True
    ),
}
# Stripe's test cards (docs.stripe.com/testing): tokenizing succeeds, charging declines. Any other
# Luhn-valid number charges successfully.
_TEST_CARDS: dict[str, str] = {
    "4000000000000002": "generic",
    "4000000000009995": "funds",
    "4000000000009987": "lost",
    "4000000000009979": "stolen",
    "4000000000000069": "expired",
    "4000000000000127": "cvc",
    "4000000000000119": "processing",
    # "Authentication required on all transactions": off-session charges need the customer.
    "4000002760003184": "authentication",
}
_BRAND = re.compile(r"[a-z]+(?:-[a-z]+)*")
_TOKEN = re.compile(
    r"pm_sandbox_(?P<behaviour>[a-z]+)_(?P<brand>[a-z]+(?:-[a-z]+)*)_(?P<last4>[0-9]{4})"
    r"_[0-9a-f]{16}"
)


@dataclass(frozen=True, slots=True)
class CardFacts:
    """What the sandbox learns from a card at tokenization: its behaviour and what may be shown."""

    behaviour: str
    brand: str
    last4: str
    exp_month: int = field(repr=False)
    exp_year: int = field(repr=False)


@dataclass(frozen=True, slots=True)
class TokenFacts:
    """What a sandbox token id says about its card."""

    decline: Decline | None
    brand: str
    last4: str


def _luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def inspect_card(card: SecureCard, today: date) -> CardFacts | CardRejected:
    """Validate a card as Stripe does at tokenization; the rejection is returned, not raised."""
    number, cvc, _postal = card.reveal()
    if not (12 <= len(number) <= 19 and number.isdigit() and _luhn_valid(number)):
        return CardRejected(DeclineReason.INCORRECT_NUMBER, decline_code="incorrect_number")
    if cvc and not (cvc.isdigit() and 3 <= len(cvc) <= 4):
        return CardRejected(DeclineReason.INCORRECT_CVC, decline_code="invalid_cvc")
    if not 1 <= card.exp_month <= 12:
        return CardRejected(DeclineReason.INVALID_EXPIRY, decline_code="invalid_expiry_month")
    if (card.exp_year, card.exp_month) < (today.year, today.month):
        return CardRejected(DeclineReason.EXPIRED_CARD, decline_code="expired_card")
    masked = card.masked
    return CardFacts(
        behaviour=_TEST_CARDS.get(number, _OK),
        brand=masked.brand,
        last4=masked.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
    )


def new_token_id(facts: CardFacts) -> str:
    """A fresh token id for a tokenized card; a brand the id cannot spell reads ``unknown``."""
    brand = facts.brand if _BRAND.fullmatch(facts.brand) else "unknown"
    return f"pm_sandbox_{facts.behaviour}_{brand}_{facts.last4}_{random_hex(8)}"


def read_token(token: str) -> TokenFacts | None:
    """The card behind a sandbox token id, or ``None`` when ``token`` is not one."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    behaviour = match["behaviour"]
    if behaviour != _OK and behaviour not in _DECLINES:
        return None
    return TokenFacts(decline=_DECLINES.get(behaviour), brand=match["brand"], last4=match["last4"])
