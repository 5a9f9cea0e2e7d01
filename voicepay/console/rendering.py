"""Jinja2 templates for the console, with a last card-data mask on everything they print.

Every ``{{ expression }}`` goes through :func:`_finalize`, which masks runs of 12 or more digits
before escaping: even a value that slipped past the guards upstream cannot put a card number on
a page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.templating import Jinja2Templates

from payment_tools.redaction import mask_card_numbers
from voicepay.money import Money

TEMPLATES_DIR = Path(__file__).parent / "templates"

REASON_LABELS: dict[str, str] = {
    "caller_request": "Caller asked for a person",
    "identification_failed": "Could not identify the account",
    "authentication_failed": "Caller failed verification",
    "repeated_declines": "Card declined repeatedly",
    "capture_failed": "Card entry failed",
    "payment_unconfirmed": "Payment outcome unknown",
    "technical_issue": "Technical issue",
    "no_arrangement": "No payment arrangement suited",
    "other": "Other",
}
"""Labels of the agent's ``TransferReason`` codes."""


def _finalize(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return Markup(mask_card_numbers(str(value)))
    if isinstance(value, str):
        return mask_card_numbers(value)
    if isinstance(value, bool | float):
        return value
    return mask_card_numbers(str(value))


def format_wait(seconds: int) -> str:
    """``75`` -> ``1:15``; ``3725`` -> ``1:02:05``."""
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def _money(amount_minor: int, currency: str) -> str:
    return Money(amount_minor, currency).format("en")


def _label(code: str) -> str:
    return REASON_LABELS.get(code, code.replace("_", " ").capitalize())


def _humanise(code: str) -> str:
    return code.replace("_", " ").capitalize()


def make_templates() -> Jinja2Templates:
    """The console's templates, autoescaped, strict about undefined names, masked on output."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        wait=format_wait, when=_when, epoch=_epoch, money=_money, label=_label, human=_humanise
    )
    return Jinja2Templates(env=env)
