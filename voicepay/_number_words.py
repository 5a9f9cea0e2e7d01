"""Says a whole number in English or French words: 42 → "forty-two" / "quarante-deux"."""

from __future__ import annotations

import re

from voicepay._number_lexicon import (
    EN_ONES,
    EN_SCALES,
    EN_TENS,
    FR_ONES,
    FR_TENS,
    check_language,
)


def number_to_words(n: int, lang: str, *, feminine: bool = False) -> str:
    """Say a whole number below one trillion in words: 42 → "forty-two" / "quarante-deux".

    Args:
        n: the number, 0 ≤ n < 10**12.
        lang: ``"en"`` or ``"fr"``.
        feminine: French only: agree a final "un" with a feminine noun ("vingt et une livres").
    """
    check_language(lang)
    if not 0 <= n < 10**12:
        raise ValueError("number_to_words takes 0 <= n < 10**12")
    if lang == "en":
        return _en_words(n)
    words = _fr_words(n)
    return re.sub(r"\bun$", "une", words) if feminine else words


def _en_words(n: int) -> str:
    if n < 20:
        return EN_ONES[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return EN_TENS[tens] + (f"-{EN_ONES[unit]}" if unit else "")
    scale, name = next((s, w) for s, w in EN_SCALES if n >= s)
    head, rest = divmod(n, scale)
    return f"{_en_words(head)} {name}" + (f" {_en_words(rest)}" if rest else "")


def _fr_below_100(n: int) -> str:
    if n < 17:
        return FR_ONES[n]
    if n < 20:
        return f"dix-{FR_ONES[n - 10]}"
    tens, unit = divmod(n, 10)
    if tens in (7, 9):
        base, rest = ("soixante", n - 60) if tens == 7 else ("quatre-vingt", n - 80)
        return f"{base} et onze" if n == 71 else f"{base}-{_fr_below_100(rest)}"
    if tens == 8:
        return "quatre-vingts" if unit == 0 else f"quatre-vingt-{FR_ONES[unit]}"
    if unit == 0:
        return FR_TENS[tens]
    return f"{FR_TENS[tens]} et un" if unit == 1 else f"{FR_TENS[tens]}-{FR_ONES[unit]}"


def _fr_below_1000(n: int, *, before_mille: bool) -> str:
    hundreds, rest = divmod(n, 100)
    tail = _fr_below_100(rest) if rest else ""
    if before_mille and tail.endswith("quatre-vingts"):
        tail = tail[:-1]  # "quatre-vingt mille": vingt and cent take no plural before mille
    if not hundreds:
        return tail
    head = "cent" if hundreds == 1 else f"{FR_ONES[hundreds]} cent"
    if not rest:
        return head if before_mille or hundreds == 1 else f"{head}s"
    return f"{head} {tail}"


def _fr_words(n: int) -> str:
    if n == 0:
        return FR_ONES[0]
    words = []
    for scale, one, many in ((10**9, "milliard", "milliards"), (10**6, "million", "millions")):
        head, n = divmod(n, scale)
        if head:
            words.append(f"{_fr_below_1000(head, before_mille=False)} {one if head == 1 else many}")
    thousands, n = divmod(n, 1000)
    if thousands:
        words.append(
            "mille" if thousands == 1 else f"{_fr_below_1000(thousands, before_mille=True)} mille"
        )
    if n:
        words.append(_fr_below_1000(n, before_mille=False))
    return " ".join(words)
