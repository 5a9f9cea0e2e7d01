"""Removes card data from text: defence in depth behind keypad-only capture.

Three uses, three strengths:

* :func:`redact_card_data` cleans caller speech transcripts (English and French) before the LLM or
  a transcript sees them. It removes every run of 12 or more digits, typed or spoken ("four two
  four two...", "forty-two forty-two", "quatre-vingt-dix-neuf"), Luhn-valid or not since a
  misheard digit is still card data. When the utterance mentions card data ("card", "expiry",
  "CVV", "carte", "cryptogramme"...) or such a run was found, it also removes every other number of
  two or more digits (expiry dates, security codes, partial numbers, "oh eight thirty-one") and
  month-plus-number dates ("August thirty-one"), sparing only amounts of money ("$42.50", "fifty
  dollars", "cent euros"). Text without card data comes back unchanged.
* :func:`mask_card_numbers` is the cheap pass for log lines: digit runs only.
* :func:`find_luhn_runs` and :func:`contains_luhn_run` find what looks like a real card number, for
  scanners and guards that must tell "leaked a card" from "mentioned a long number".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from payment_tools.cards import luhn_valid
from voicepay.spoken_numbers import NumberSpan, find_number_spans, fold

__all__ = [
    "CARD_DATA_TOKEN",
    "LOG_MASK_TOKEN",
    "RedactionResult",
    "contains_luhn_run",
    "find_luhn_runs",
    "mask_card_numbers",
    "redact_card_data",
]

CARD_DATA_TOKEN = "[card data removed]"
"""What :func:`redact_card_data` puts in place of card data."""

LOG_MASK_TOKEN = "[redacted]"
"""What :func:`mask_card_numbers` puts in place of a long digit run."""

_CARD_RUN_DIGITS = 12
_PAN_LENGTHS = range(13, 20)

# Digits with at most three spaces, dashes or dots between them (folded text: all digits ASCII).
_DIGIT_RUN = re.compile(r"[0-9](?:[ \t\u00a0.\-\u2010-\u2014]{0,3}[0-9])*")
_DIGIT_GROUP = re.compile(r"[0-9]+")

_KEYWORDS = (
    "card", "cards", "credit card", "debit card", "visa", "mastercard", "master card", "amex",
    "american express", r"expir\w*", "valid until", "valid thru", "valid through", "good thru",
    "security code", "cvc", "cvv", "cv2", "cvn", "csc", "digits on the back",
    "carte", "cartes", "date de validite", "cryptogramme", "code de securite", "code au dos",
    "chiffres au dos",
)  # fmt: skip
_CARD_CONTEXT = re.compile(r"\b(?:" + "|".join(k.replace(" ", r"\s+") for k in _KEYWORDS) + r")\b")
_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "janvier", "fevrier", "mars", "avril", "mai", "juin",
    "juillet", "aout", "septembre", "octobre", "novembre", "decembre",
)  # fmt: skip
_MONTH = re.compile(r"\b(?:" + "|".join(_MONTHS) + r")\b")
_MONTH_TO_NUMBER = re.compile(r"[\s,/\-]*(?:(?:of|de)\s+)?")
_CURRENCY_WORDS = "dollars?|euros?|pounds?|cents?|bucks|centimes?|usd|eur|gbp|cad|chf"
_AMOUNT_AFTER = re.compile(r"\s*(?:[$€£]|(?:" + _CURRENCY_WORDS + r")\b)")
_AMOUNT_BEFORE = re.compile(r"[$€£]\s*$")


@dataclass(frozen=True, slots=True)
class RedactionResult:
    """Text with card data replaced by :data:`CARD_DATA_TOKEN`, and whether anything was."""

    text: str
    redacted: bool


def redact_card_data(text: str) -> RedactionResult:
    """Remove card numbers, expiry dates and security codes from a caller utterance (EN/FR)."""
    spans = find_number_spans(text, grouping="listener")
    long_runs = [span for span in spans if len(span.digits) >= _CARD_RUN_DIGITS]
    folded = fold(text)
    regions = [(span.start, span.end) for span in long_runs]
    if long_runs or _CARD_CONTEXT.search(folded):
        regions += [
            (span.start, span.end)
            for span in spans
            if len(span.digits) >= 2 and not _is_amount(folded, span)
        ]
        regions += _month_dates(folded, spans)
    if not regions:
        return RedactionResult(text, False)
    return RedactionResult(_replace(text, regions, CARD_DATA_TOKEN), True)


def mask_card_numbers(text: str) -> str:
    """Replace every run of 12 or more digits (spaces, dashes, dots between them) in a log line.

    Runs longer than 19 digits are masked too: they may be card numbers side by side.
    """
    if sum(char.isdigit() for char in text) < _CARD_RUN_DIGITS:
        return text
    regions = [
        match.span()
        for match in _DIGIT_RUN.finditer(fold(text))
        if _digit_count(match.group()) >= _CARD_RUN_DIGITS
    ]
    return _replace(text, regions, LOG_MASK_TOKEN) if regions else text


def find_luhn_runs(text: str) -> list[str]:
    """The Luhn-valid 13-19 digit card numbers in ``text``, digits only, in order.

    Numbers may be written with spaces, dashes or dots between digit groups; a number is made of
    whole groups, so "ref 1 4242 4242 4242 4242" yields the card alone, and two cards in a row
    are both found.
    """
    found: list[str] = []
    for match in _DIGIT_RUN.finditer(fold(text)):
        found += _luhn_numbers(_DIGIT_GROUP.findall(match.group()))
    return found


def contains_luhn_run(text: str) -> bool:
    """Whether ``text`` holds a Luhn-valid 13-19 digit card number (see :func:`find_luhn_runs`)."""
    return bool(find_luhn_runs(text))


def _luhn_numbers(groups: list[str]) -> list[str]:
    """Longest Luhn-valid runs of consecutive groups, left to right, without overlap."""
    found = []
    start = 0
    while start < len(groups):
        best_end = None
        length = 0
        for end in range(start, len(groups)):
            length += len(groups[end])
            if length > _PAN_LENGTHS[-1]:
                break
            if length in _PAN_LENGTHS and luhn_valid("".join(groups[start : end + 1])):
                best_end = end
        if best_end is None:
            start += 1
        else:
            found.append("".join(groups[start : best_end + 1]))
            start = best_end + 1
    return found


def _digit_count(text: str) -> int:
    return sum("0" <= char <= "9" for char in text)


def _is_amount(folded: str, span: NumberSpan) -> bool:
    """Whether the number is money: "$42.50", "fifty dollars", "cent euros"."""
    before = folded[max(0, span.start - 3) : span.start]
    return bool(_AMOUNT_AFTER.match(folded, span.end) or _AMOUNT_BEFORE.search(before))


def _month_dates(folded: str, spans: list[NumberSpan]) -> list[tuple[int, int]]:
    """Month names followed by a number: "August thirty-one", "août 2031", "may of 31"."""
    starts = {span.start: span.end for span in spans}
    regions = []
    for month in _MONTH.finditer(folded):
        gap = _MONTH_TO_NUMBER.match(folded, month.end())
        number_end = starts.get(gap.end()) if gap else None
        if number_end is not None:
            regions.append((month.start(), number_end))
    return regions


def _replace(text: str, regions: list[tuple[int, int]], token: str) -> str:
    """Replace the (possibly overlapping) ``regions`` of ``text`` with ``token`` each."""
    pieces = []
    position = 0
    for start, end in sorted(regions):
        if end <= position:
            continue
        if start >= position:
            pieces += [text[position:start], token]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
