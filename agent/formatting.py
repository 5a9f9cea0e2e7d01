"""Caller-facing renderings of dates and payment references, per language."""

from __future__ import annotations

import base64
import hashlib
from datetime import date

_MONTHS = {
    "en": (
        "January February March April May June July August September October November December"
    ).split(),
    "fr": (
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
    ).split(),
}


def format_date(value: date, language: str) -> str:
    """``March 15, 2026`` in English, ``15 mars 2026`` in French."""
    month = _MONTHS[language][value.month - 1]
    if language == "fr":
        return f"{value.day} {month} {value.year}"
    return f"{month} {value.day}, {value.year}"


def confirmation_code(processor_reference: str) -> str:
    """A short code the caller can write down, derived from the processor's payment id.

    Eight characters from the base32 alphabet (A–Z, 2–7) so that it reads clearly over the phone.
    """
    digest = hashlib.sha256(processor_reference.encode()).digest()
    return "VP-" + base64.b32encode(digest).decode()[:8]


def spell_out(code: str) -> str:
    """Characters separated by spaces, so speech synthesis reads them one by one."""
    return " ".join(ch for ch in code if ch.isalnum())
