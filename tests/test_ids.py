"""Random ids never look like a card number to the screens that hunt for one."""

from __future__ import annotations

import re
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payment_tools.ids import random_hex
from payment_tools.redaction import contains_luhn_run, mask_card_numbers


@given(st.integers(min_value=1, max_value=32))
def test_ids_are_hex_of_the_asked_length_without_a_card_like_run(n_bytes: int) -> None:
    token = random_hex(n_bytes)
    assert re.fullmatch(r"[0-9a-f]+", token) and len(token) == 2 * n_bytes
    assert not re.search(r"[0-9]{12}", token)
    assert mask_card_numbers(f"ref pi_{token}") == f"ref pi_{token}"


def test_an_id_that_would_pass_for_a_card_number_is_drawn_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    draws = iter(["4242424242424242", "42424242abcdef01"])
    monkeypatch.setattr(secrets, "token_hex", lambda n_bytes: next(draws))
    token = random_hex(8)
    assert token == "42424242abcdef01"
    assert not contains_luhn_run(f"pi_sandbox_{token}")
