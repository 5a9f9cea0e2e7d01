from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis

from agent.handoff import STREAM, HandoffQueue, HandoffRequest, TransferReason
from payment_tools.cards import luhn_valid
from payment_tools.redaction import mask_card_numbers
from voicepay.console.transfers import (
    TransferReader,
    entry_id_of,
    handoff_stream,
    parse_entry,
    ref_of,
)
from voicepay.handoff_brief import HandoffBrief, MaskedCard, TranscriptLine, UnsafeBrief

PAN = "4242 4242 4242 4242"


def brief(**changes: Any) -> HandoffBrief:
    base = HandoffBrief(
        holder="Ada Lovelace",
        account="40112233",
        verified=True,
        verification="date of birth, first attempt",
        goal="pay the balance",
        what_happened=["identified", "verified", "card declined twice"],
        amount_minor=4250,
        currency="EUR",
        card=MaskedCard(brand="visa", last4="4242"),
        sentiment=[0.2, -0.1, -0.6],
        reason="repeated_declines",
        trigger="second decline",
        next_step="offer another card",
        transcript=[
            TranscriptLine(speaker="caller", text="my card is [card data removed]"),
            TranscriptLine(speaker="agent", text="Thank you."),
        ],
    )
    return base.model_copy(update=changes)


def test_a_redacted_brief_passes_and_round_trips() -> None:
    original = brief()
    assert HandoffBrief.from_json(original.to_json()) == original


TEXT_FIELDS = ["holder", "verification", "goal", "trigger", "next_step", "payment_reference"]


@given(
    field=st.sampled_from(TEXT_FIELDS),
    digits=st.lists(st.integers(0, 9), min_size=15, max_size=15),
    separator=st.sampled_from(["", " ", "-"]),
)
def test_any_text_field_with_a_card_number_is_refused(
    field: str, digits: list[int], separator: str
) -> None:
    body = "".join(map(str, digits))
    check = next(d for d in "0123456789" if luhn_valid(body + d))
    pan = body + check
    spaced = separator.join(pan[i : i + 4] for i in range(0, 16, 4))
    unsafe = brief(**{field: f"card {spaced} said"})
    with pytest.raises(UnsafeBrief) as refused:
        unsafe.guard()
    assert field in str(refused.value)
    assert pan not in str(refused.value) and spaced not in str(refused.value)


@given(run=st.text(alphabet="0123456789", min_size=12, max_size=30))
def test_any_long_digit_run_in_the_transcript_is_refused(run: str) -> None:
    unsafe = brief(transcript=[TranscriptLine(speaker="caller", text=f"it is {run} ok")])
    with pytest.raises(UnsafeBrief, match=r"transcript\[0\]\.text"):
        unsafe.to_json()


def test_lists_and_nested_models_are_checked() -> None:
    with pytest.raises(UnsafeBrief, match=r"what_happened\[1\]"):
        brief(what_happened=["ok", f"caller read {PAN}"]).guard()
    with pytest.raises(UnsafeBrief, match="warnings"):
        brief(warnings=[PAN]).guard()


def test_short_numbers_stay() -> None:
    fine = brief(goal="pay 42.50 on account 40112233 by 2026-12-01, ref 12345678901")
    assert fine.guard() is fine


def test_sentiment_must_stay_within_minus_one_and_one() -> None:
    with pytest.raises(UnsafeBrief, match="sentiment"):
        brief(sentiment=[0.5, 1.5]).guard()


def test_invalid_json_is_refused_without_quoting_it() -> None:
    with pytest.raises(UnsafeBrief) as refused:
        HandoffBrief.from_json('{"holder": "' + PAN + '", "nonsense": 1}')
    assert "4242" not in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_masked_card_only_takes_four_digits() -> None:
    with pytest.raises(ValueError):
        MaskedCard(brand="visa", last4="424242")


@given(millis=st.integers(0, 2**48), seq=st.integers(0, 2**40))
def test_refs_round_trip(millis: int, seq: int) -> None:
    assert entry_id_of(ref_of(f"{millis}-{seq}")) == f"{millis}-{seq}"


# Entry IDs of this century with fewer than 46,656 entries in the same millisecond.
@given(millis=st.integers(10**12, 4 * 10**12), seq=st.integers(0, 36**3 - 1))
def test_refs_never_look_like_card_numbers(millis: int, seq: int) -> None:
    entry_id = f"{millis}-{seq}"
    assert mask_card_numbers(entry_id) != entry_id
    ref = ref_of(entry_id)
    assert mask_card_numbers(ref) == ref


@pytest.mark.parametrize("bad", ["", "../x", "1-2-3", "A-1", "x" * 14 + "-1"])
def test_bad_refs_name_nothing(bad: str) -> None:
    assert entry_id_of(bad) is None


def test_entry_without_brief_falls_back_to_the_summary() -> None:
    fields = {
        "call_id": "call_1",
        "reason": "caller_request",
        "account": "",
        "verified": "no",
        "summary": "Account not identified.",
        "created_at": "2026-01-02T03:04:05+00:00",
    }
    transfer = parse_entry("payments", "1700000000000-0", fields)
    assert transfer.brief is None and not transfer.brief_withheld
    assert transfer.summary == "Account not identified."
    assert transfer.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_entry_with_an_unsafe_brief_or_summary_shows_neither() -> None:
    unsafe_brief = brief().model_dump_json().replace("pay the balance", PAN)
    transfer = parse_entry(
        "payments",
        "1700000000000-0",
        {"summary": f"caller said {PAN}", "brief": unsafe_brief, "created_at": "garbage"},
    )
    assert transfer.brief is None and transfer.brief_withheld
    assert transfer.summary == ""
    assert transfer.created_at == datetime.fromtimestamp(1_700_000_000, tz=UTC)


async def test_reads_what_the_agent_queues(redis: Redis) -> None:
    assert handoff_stream("payments") == STREAM.format(queue="payments")
    request = HandoffRequest(
        call_id="call_abc",
        reason=TransferReason.REPEATED_DECLINES,
        queue="payments",
        account="40112233",
        verified=True,
        summary="Account 40112233; verified by dob; declined twice.",
        created_at=datetime.now(UTC),
    )
    entry_id = await HandoffQueue(redis).enqueue(request)
    await redis.xadd(
        handoff_stream("payments"),
        {"call_id": "call_def", "reason": "other", "brief": brief().to_json(), "verified": "yes"},
    )
    reader = TransferReader(redis)
    assert await reader.queues() == ["payments"]
    # Order by arrival is not asserted: the two entries may carry the same millisecond.
    by_call = {transfer.call_id: transfer for transfer in await reader.recent(["payments"])}
    first, second = by_call["call_abc"], by_call["call_def"]
    assert (first.call_id, first.reason, first.verified) == ("call_abc", "repeated_declines", True)
    assert first.ref == ref_of(entry_id) and first.is_open
    assert second.brief == brief()
    assert await reader.get("payments", first.ref) == first
    assert await reader.get("payments", "zz-0") is None
