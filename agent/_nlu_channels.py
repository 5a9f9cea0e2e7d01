"""Reading how the caller wants their receipt: by text message, by e-mail, or both."""

from __future__ import annotations

from typing import Literal

from agent._nlu_text import matches, normalise, rx
from voicepay.spoken_numbers import check_language

ReceiptChoice = Literal["sms", "email", "both"]

_SMS = {
    "en": rx(r"text(?:s|ed)?(?: message)?|sms|texto|(?:my |the )?(?:mobile|cell ?phone|phone)"),
    "fr": rx(r"sms|texto|(?:message|messages) texte|(?:mon |le )?(?:portable|telephone|mobile)"),
}
_EMAIL = {
    "en": rx(r"e ?mail(?:ed|s)?|inbox"),
    "fr": rx(r"e ?mails?|courriels?|adresse electronique|boite (?:de reception|mail)"),
}
_BOTH = {
    "en": rx(r"both(?: of them| ways)?|the two"),
    "fr": rx(r"les deux|tous (?:les )?deux|aux deux"),
}


def parse_receipt_channel(text: str, lang: str) -> ReceiptChoice | None:
    """How the caller wants the receipt, or ``None`` when the utterance names no channel.

    A negated channel does not count ("not by e-mail, by text" is ``"sms"``); naming both channels,
    or "both", is ``"both"``.
    """
    check_language(lang)
    norm = normalise(text)
    sms = matches(norm, _SMS[lang])
    email = matches(norm, _EMAIL[lang])
    if matches(norm, _BOTH[lang]) or (sms and email):
        return "both"
    if sms or email:
        return "sms" if sms else "email"
    return None
