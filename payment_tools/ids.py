"""Random identifiers that can never be mistaken for a card number.

Every card-number screen (log masking, the LLM context guard, the leak scan) looks for runs of
12-19 digits. A random hex id holds such a run now and then (a 32-digit hex id about once in a few
hundred), and would then be masked in logs, scrubbed from the model's context or reported as a
leak: ids are drawn again until they hold no run of 12 digits.
"""

from __future__ import annotations

import re
import secrets

_CARD_LIKE_RUN = re.compile(r"[0-9]{12}")


def random_hex(n_bytes: int = 8) -> str:
    """``2 * n_bytes`` random hex digits, with never 12 decimal digits in a row."""
    while True:
        token = secrets.token_hex(n_bytes)
        if _CARD_LIKE_RUN.search(token) is None:
            return token
