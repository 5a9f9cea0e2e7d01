"""Reading a short secret (date of birth, postcode) from the keypad, outside card capture."""

from __future__ import annotations

from payment_tools.capture import KeySource

HASH_GRACE_S = 1.0
"""How long a full entry waits for the closing ``#`` that most callers press anyway."""


async def read_keypad_entry(
    keys: KeySource, *, max_digits: int, timeout_s: float, first_key_s: float | None = None
) -> str | None:
    """Collect digits until ``#`` or an inter-digit timeout.

    ``first_key_s`` gives the caller longer for the first key (e.g. to read a text message).

    ``*`` clears what was typed. Once ``max_digits`` are in, the entry waits only briefly for a
    closing ``#``; a further digit makes the entry too long (and so wrong) rather than being left
    for whoever reads the keypad next. Returns ``None`` when the caller typed nothing at all.
    Raises the key source's hang-up error when the caller leaves.
    """
    digits: list[str] = []
    while len(digits) <= max_digits:
        wait = timeout_s if len(digits) < max_digits else min(timeout_s, HASH_GRACE_S)
        if not digits and first_key_s is not None:
            wait = first_key_s
        key = await keys.next_key(wait)
        if key is None or key == "#":
            break
        if key == "*":
            digits.clear()
        elif key.isdigit():
            digits.append(key)
    return "".join(digits) or None
