from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from voicepay.console._redis import stream_entries
from voicepay.console.audit import AUDIT_STREAM, AuditLog
from voicepay.console.claims import (
    EVENTS_STREAM,
    AcceptOutcome,
    ActionRefused,
    DispositionOutcome,
    TransferActions,
)
from voicepay.console.feedback import FEEDBACK_STREAM, FeedbackStore, RightCall, export_jsonl
from voicepay.console.kpis import agent_figures, compute
from voicepay.console.transfers import Transfer, TransferReader, handoff_stream, ref_of
from voicepay.console.users import Role, User
from voicepay.handoff_brief import HandoffBrief
from voicepay.redis_client import connect

PAN = "4111 1111 1111 1111"


async def queue_one(redis: Redis, reason: str = "caller_request", ago_s: int = 30) -> Transfer:
    created = datetime.now(UTC) - timedelta(seconds=ago_s)
    entry_id = await redis.xadd(
        handoff_stream("payments"),
        {
            "call_id": "call_1",
            "reason": reason,
            "account": "40112233",
            "verified": "yes",
            "summary": "Verified caller.",
            "created_at": created.isoformat(),
            "brief": HandoffBrief(goal="pay the balance", reason=reason).to_json(),
        },
    )
    transfer = await TransferReader(redis).get("payments", ref_of(str(entry_id)))
    assert transfer is not None
    return transfer


async def reload(redis: Redis, transfer: Transfer) -> Transfer:
    fresh = await TransferReader(redis).get(transfer.queue, transfer.ref)
    assert fresh is not None
    return fresh


async def test_only_one_of_many_agents_gets_the_call(redis: Redis, redis_server: str) -> None:
    transfer = await queue_one(redis)
    clients = [connect(redis_server) for _ in range(12)]
    try:
        outcomes = await asyncio.gather(
            *(
                TransferActions(client).accept(transfer, f"agent{i}")
                for i, client in enumerate(clients)
            )
        )
    finally:
        for client in clients:
            await client.aclose()
    winners = [i for i, outcome in enumerate(outcomes) if outcome is AcceptOutcome.ACCEPTED]
    assert len(winners) == 1
    assert outcomes.count(AcceptOutcome.TAKEN) == 11
    fresh = await reload(redis, transfer)
    assert fresh.accepted_by == f"agent{winners[0]}" and fresh.accepted_at is not None
    assert not fresh.is_open and 29 <= fresh.wait_s() <= 40
    events = stream_entries(await redis.xrange(EVENTS_STREAM))
    assert [fields["agent"] for _, fields in events] == [f"agent{winners[0]}"]


async def test_accepting_twice_is_harmless(redis: Redis) -> None:
    transfer = await queue_one(redis)
    actions = TransferActions(redis)
    assert await actions.accept(transfer, "alice") is AcceptOutcome.ACCEPTED
    assert await actions.accept(transfer, "alice") is AcceptOutcome.ALREADY_YOURS
    assert await actions.accept(transfer, "bob") is AcceptOutcome.TAKEN
    assert await redis.xlen(EVENTS_STREAM) == 1


async def test_a_decline_keeps_the_transfer_open_for_others(redis: Redis) -> None:
    transfer = await queue_one(redis)
    actions = TransferActions(redis)
    await actions.decline(transfer, "alice", "  not my language ")
    fresh = await reload(redis, transfer)
    assert fresh.is_open and fresh.declined_by == {"alice": "not my language"}
    with pytest.raises(ActionRefused, match="card data"):
        await actions.decline(fresh, "bob", f"caller read {PAN}")
    await actions.accept(fresh, "bob")
    with pytest.raises(ActionRefused, match="already accepted"):
        await actions.decline(await reload(redis, transfer), "carol", "")


async def test_only_the_holder_records_the_outcome_and_never_card_data(redis: Redis) -> None:
    transfer = await queue_one(redis)
    actions = TransferActions(redis)
    with pytest.raises(ActionRefused, match="Only the agent"):
        await actions.dispose(transfer, "alice", DispositionOutcome.PAID, "")
    await actions.accept(transfer, "alice")
    held = await reload(redis, transfer)
    with pytest.raises(ActionRefused, match="Only the agent"):
        await actions.dispose(held, "bob", DispositionOutcome.PAID, "")
    for note in (f"card {PAN}", "digits 123456789012", "x" * 1001):
        with pytest.raises(ActionRefused):
            await actions.dispose(held, "alice", DispositionOutcome.PAID, note)
    assert (await reload(redis, transfer)).disposition is None
    await actions.dispose(held, "alice", DispositionOutcome.CALLBACK, " call back at 5 ")
    disposition = (await reload(redis, transfer)).disposition
    assert disposition is not None
    assert (disposition.outcome, disposition.note) == ("callback", "call back at 5")


async def test_feedback_once_by_the_holder_then_exported(redis: Redis, tmp_path: Path) -> None:
    transfer = await queue_one(redis, reason="repeated_declines")
    actions = TransferActions(redis)
    store = FeedbackStore(redis, actions)
    args = {"right_call": RightCall.YES, "score": 4, "missing": ["mood"], "comment": "ok"}
    with pytest.raises(ActionRefused, match="Only the agent"):
        await store.add(transfer, "alice", **args)  # type: ignore[arg-type]
    await actions.accept(transfer, "alice")
    held = await reload(redis, transfer)
    for bad in ({"score": 6}, {"missing": ["telepathy"]}, {"comment": f"{PAN}"}):
        with pytest.raises(ActionRefused):
            await store.add(held, "alice", **{**args, **bad})  # type: ignore[arg-type]
    saved = await store.add(held, "alice", **args)  # type: ignore[arg-type]
    with pytest.raises(ActionRefused, match="already rated"):
        await store.add(held, "alice", **args)  # type: ignore[arg-type]
    assert await store.all() == [saved]
    assert (await reload(redis, transfer)).feedback_by == "alice"
    assert await redis.xlen(FEEDBACK_STREAM) == 1

    out = tmp_path / "feedback.jsonl"
    assert export_jsonl(await store.all(), out) == 1
    (line,) = out.read_text().splitlines()
    record = json.loads(line)
    assert record["call_id"] == "call_1" and record["reason"] == "repeated_declines"
    assert (record["right_call"], record["score"], record["missing"]) == ("yes", 4, ["mood"])
    assert record["brief"]["goal"] == "pay the balance"


async def test_kpis_and_agent_figures(redis: Redis) -> None:
    first = await queue_one(redis, reason="caller_request", ago_s=100)
    second = await queue_one(redis, reason="repeated_declines", ago_s=50)
    await queue_one(redis, reason="caller_request", ago_s=10)
    actions = TransferActions(redis)
    await actions.decline(first, "bob", "busy")
    await actions.accept(first, "alice")
    await actions.accept(second, "alice")
    await actions.dispose(await reload(redis, first), "alice", DispositionOutcome.PAID, "")
    store = FeedbackStore(redis, actions)
    await store.add(
        await reload(redis, first),
        "alice",
        right_call=RightCall.YES,
        score=5,
        missing=[],
        comment="",
    )
    await store.add(
        await reload(redis, second),
        "alice",
        right_call=RightCall.NO,
        score=2,
        missing=[],
        comment="",
    )
    transfers = await TransferReader(redis).recent(["payments"])
    kpis = compute(transfers, await store.all(), ["payments"], datetime.now(UTC))
    assert kpis.transfers == 3 and kpis.accepted == 2 and kpis.declines == 1
    assert kpis.by_reason == [("caller_request", 2), ("repeated_declines", 1)]
    assert kpis.accept_rate_pct == 67
    assert kpis.average_wait_s is not None and 70 <= kpis.average_wait_s <= 80
    assert (kpis.feedback_count, kpis.average_score_tenths, kpis.right_call_pct) == (2, 35, 50)
    assert kpis.dispositions == [("paid", 1)]
    (queue,) = kpis.queues
    assert (queue.waiting, queue.accepted) == (1, 2) and 10 <= queue.longest_wait_s <= 15
    now = datetime.now(UTC)
    users = [
        User(username=name, role=Role.AGENT, password_hash="x", created_at=now)
        for name in ("alice", "bob")
    ]
    alice, bob = agent_figures(users, transfers)
    assert (alice.accepted, alice.disposed, alice.holding, alice.declined) == (2, 1, 1, 0)
    assert (bob.accepted, bob.declined) == (0, 1)


async def test_audit_log_records_who_what_when(redis: Redis) -> None:
    log = AuditLog(redis)
    await log.record(actor="alice", role="agent", action="view.queue", ip="127.0.0.1")
    await log.record(actor="-", role="-", action="login", target=f"user {PAN}", outcome="failed")
    newest, oldest = await log.recent()
    assert (oldest.actor, oldest.action, oldest.outcome, oldest.ip) == (
        "alice",
        "view.queue",
        "ok",
        "127.0.0.1",
    )
    assert newest.outcome == "failed" and "4111" not in newest.target
    assert (datetime.now(UTC) - oldest.at).total_seconds() < 5
    raw = await redis.xrange(AUDIT_STREAM)
    assert "4111 1111" not in json.dumps(raw)
