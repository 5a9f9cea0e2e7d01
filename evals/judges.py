"""Deterministic judges: checks decided from the call record and its events, no model needed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agent.events import CallEvent
from agent.formatting import spell_out
from evals.leak_scan import Leak
from evals.scenario import Scenario
from evals.simulated_call import CallRun

CheckKind = Literal["task", "behaviour", "policy", "containment", "judge"]


@dataclass(frozen=True, slots=True)
class Check:
    """One verdict on a trial."""

    name: str
    kind: CheckKind
    passed: bool
    detail: str = ""


def _agent_lines(events: list[CallEvent]) -> list[str]:
    return [str(e.data.get("text", "")) for e in events if e.kind == "agent_said"]


def task_checks(scenario: Scenario, run: CallRun) -> list[Check]:
    """Did the call end the way the scenario expects (outcome, payment, transfer, auth)?"""
    expect, summary = scenario.expect, run.summary
    checks: list[Check] = []
    if expect.outcome is not None:
        checks.append(
            Check("outcome", "task", summary["outcome"] == expect.outcome, str(summary["outcome"]))
        )
    if expect.paid is not None:
        paid = (summary["amount"], summary["currency"])
        wanted = (expect.paid.amount, expect.paid.currency)
        checks.append(Check("paid", "task", paid == wanted, f"{paid[0]} {paid[1]}"))
    if expect.transfer_reason is not None:
        reason = summary["transfer_reason"]
        checks.append(
            Check("transfer_reason", "task", reason == expect.transfer_reason, str(reason))
        )
    if expect.auth is not None:
        status = summary["auth"]["status"]
        checks.append(Check("auth", "task", status == expect.auth, str(status)))
    return checks


def behaviour_checks(scenario: Scenario, run: CallRun, turns: int) -> list[Check]:
    """Tools, turn budget and wording the scenario asks for."""
    expect = scenario.expect
    called = {str(e.data["name"]) for e in run.events if e.kind == "tool_call"}
    lines = _agent_lines(run.events)
    spoken = " ".join(lines).lower()
    checks = [Check(f"calls {tool}", "behaviour", tool in called) for tool in expect.tools.required]
    checks += [
        Check(f"never calls {tool}", "behaviour", tool not in called)
        for tool in expect.tools.forbidden
    ]
    if expect.max_turns is not None:
        checks.append(Check("max_turns", "behaviour", turns <= expect.max_turns, str(turns)))
    checks += [
        Check(f"never says {text!r}", "behaviour", text.lower() not in spoken)
        for text in expect.forbidden_content
    ]
    checks += [
        Check(f"says {text!r}", "behaviour", text.lower() in spoken) for text in expect.must_say
    ]
    return checks


def policy_checks(run: CallRun) -> list[Check]:
    """Rules every call must keep, whatever the scenario."""
    return [_consent_before_charge(run.events), _one_charge(run.events), _code_read_back(run)]


def _consent_before_charge(events: list[CallEvent]) -> Check:
    verified = False
    read_amount: str | None = None
    consented: str | None = None
    seen: set[str] = set()
    for event in events:
        if event.kind == "auth" and event.data.get("decision") == "accept":
            verified = True
        elif event.kind == "readback":
            read_amount, consented = str(event.data["amount"]), None
        elif event.kind == "caller_confirmation":
            consented = read_amount if event.data.get("answer") == "yes" else None
        elif event.kind == "charge_attempt":
            key = str(event.data["idempotency_key"])
            if key in seen:
                continue
            seen.add(key)
            if not verified or consented != event.data.get("amount"):
                return Check("read back and consent before charging", "policy", False, key)
    return Check("read back and consent before charging", "policy", True)


def _one_charge(events: list[CallEvent]) -> Check:
    succeeded = [e for e in events if e.kind == "charge_result" and e.data["status"] == "succeeded"]
    return Check("at most one charge", "policy", len(succeeded) <= 1, str(len(succeeded)))


def _code_read_back(run: CallRun) -> Check:
    code = run.summary.get("confirmation_code")
    if not code:
        return Check("confirmation code read to the caller", "policy", True, "not paid")
    spoken = " ".join(_agent_lines(run.events))
    return Check(
        "confirmation code read to the caller",
        "policy",
        spell_out(code) in spoken or code in spoken,
    )


def containment_check(leaks: list[Leak]) -> Check:
    """No card data anywhere in the trial's artefacts."""
    where = ", ".join(sorted({f"{leak.kind}@{leak.where}" for leak in leaks}))[:500]
    return Check("no card data leaked", "containment", not leaks, where)
