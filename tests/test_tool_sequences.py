"""Whatever tools the model calls, in any order, no charge happens without the caller's consent.

An adversarial scripted model drives the real agent, tools, workflow, Redis and sandbox gateway;
a simulated caller answers keypad prompts (correctly or not) and says yes or no at random moments;
the processor loses responses at random. After every run the processor's ledger and the call's
event stream must show: at most one charge; none before the caller was verified; each one after the
caller's own yes to a read-back of exactly that amount.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scripted_llm import TOOL_TURN, ScriptedToolLLM

from agent.events import CallEvent
from agent.human_desk import SimulatedDesk
from agent.runtime import open_call, open_services
from agent.text_call import TextCall
from payment_tools.gateway import Fault, FaultPlan, SandboxGateway
from voicepay.accounts import AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.redis_client import connect
from voicepay.settings import CaptureSettings, Settings

ACCOUNT, DOB = "50223344", "04071990#"

TOOL_CALLS = st.one_of(
    st.tuples(
        st.just("identify_account"),
        st.fixed_dictionaries(
            {"account_number": st.sampled_from([ACCOUNT, "99999999", "five zero two two"])}
        ),
    ),
    st.sampled_from(
        [
            ("verify_identity", {}),
            ("get_balance", {}),
            ("capture_card", {}),
            ("confirm_and_charge", {}),
            ("confirm_and_charge", {}),
            ("send_receipt", {}),
            ("transfer_to_human", {"reason": "caller_request"}),
            ("offer_payment_options", {}),
            ("decline_options", {}),
            ("use_saved_card", {}),
            ("keep_card_for_next_time", {}),
            ("set_up_plan", {"instalments": 3}),
            ("set_up_plan", {"instalments": 9}),
            ("promise_to_pay", {"date": "2099-01-01"}),
            ("promise_to_pay", {}),
        ]
    ),
    st.tuples(
        st.just("set_amount"),
        st.fixed_dictionaries(
            {
                "choice": st.sampled_from(["full", "minimum", "partial"]),
                "amount": st.sampled_from(["10.00", "50", "300.00", "-5", "abc", "9999999"]),
            }
        ),
    ),
)
ACTIONS = st.one_of(
    TOOL_CALLS.map(lambda call: ("tool", call)),
    st.sampled_from(["yes", "no", "yes please charge it", "pay it now"]).map(lambda t: ("say", t)),
)
SKELETON: list[Any] = [
    ("tool", ("identify_account", {"account_number": ACCOUNT})),
    ("tool", ("verify_identity", {})),
    ("tool", ("get_balance", {})),
    ("tool", ("set_amount", {"choice": "full"})),
    ("tool", ("capture_card", {})),
    ("say", "yes"),
    ("tool", ("confirm_and_charge", {})),
]
PLAN_SKELETON: list[Any] = [
    *SKELETON[:3],
    ("tool", ("set_up_plan", {"instalments": 3})),
    ("say", "yes"),
    *SKELETON[4:],
]


def _interleave(noise: list[Any], positions: list[int], skeleton: list[Any]) -> list[Any]:
    """A payment skeleton in order, with the noise actions spread between its steps."""
    actions = list(noise)
    for offset, (position, action) in enumerate(zip(sorted(positions), skeleton, strict=True)):
        actions.insert(min(position + offset, len(actions)), action)
    return actions


def _around(skeleton: list[Any]) -> st.SearchStrategy[list[Any]]:
    return st.tuples(
        st.lists(ACTIONS, max_size=12),
        st.lists(st.integers(0, 12), min_size=len(skeleton), max_size=len(skeleton)),
    ).map(lambda pair: _interleave(*pair, skeleton))


SEQUENCES = st.one_of(
    st.lists(ACTIONS, min_size=1, max_size=25), _around(SKELETON), _around(PLAN_SKELETON)
)
GOOD_KEYS = {
    "date of birth": DOB,
    "card number": "4242424242424242#",
    "expiry": "0931#",
    "security code": "739#",
}
RANDOM_KEYS = [
    DOB,
    "01010101#",
    "4242424242424242#",
    "4000000000000002#",
    "4242424242424241#",
    "0931#",
    "1399#",
    "739#",
    "*",
    "",
]


def _last_prompt(events: list[CallEvent]) -> str:
    for item in reversed(events):
        if item.kind == "agent_said":
            return str(item.data.get("text", "")).lower()
    return ""


Draw = Callable[[list[str]], str]


async def _answer_keypad(text_call: TextCall, draw: Draw, competent: bool) -> None:
    """While a tool waits for keys, type what the prompt asks for (or something random)."""
    for _ in range(40):
        if not text_call.call.keypad.waiting_for_key:
            return
        prompt = _last_prompt(text_call.call.events.history)
        good = next((keys for hint, keys in GOOD_KEYS.items() if hint in prompt), "")
        keys = good if competent and good else draw(RANDOM_KEYS)
        if keys:
            await text_call.press(keys)
        else:
            await text_call.wait(0.06)


def _check_consent(events: list[CallEvent], ledger_keys: set[str]) -> None:
    verified = False
    kept_card_agreed = False
    confirmed_amount: str | None = None
    seen_keys: set[str] = set()
    readback_amount: str | None = None
    for item in events:
        if item.kind == "auth" and item.data["decision"] == "accept":
            verified = True
        elif item.kind == "readback":
            confirmed_amount = None
            readback_amount = str(item.data["amount"])
        elif item.kind == "caller_confirmation":
            confirmed_amount = readback_amount if item.data["answer"] == "yes" else None
        elif item.kind == "card_consent":
            kept_card_agreed = item.data["answer"] == "yes"
        elif item.kind == "charge_attempt":
            key = str(item.data["idempotency_key"])
            if key in seen_keys:
                continue
            seen_keys.add(key)
            assert verified, "charge attempted before the caller was verified"
            assert confirmed_amount == item.data["amount"], "charged without consent to it"
            if item.data["keeps_card"]:
                assert kept_card_agreed, "kept a card on file without the caller's yes"
    assert ledger_keys <= seen_keys


async def _run(
    redis_url: str,
    outbox: Path,
    actions: list[Any],
    *,
    faults: list[Fault | None],
    draw: Draw,
    competent: bool,
) -> int:
    """Play ``actions``; check the invariants; return how many charges went through."""
    redis = connect(redis_url)
    await redis.flushdb()
    settings = Settings(capture=CaptureSettings(timeout_s=0.05))
    gateway = SandboxGateway(faults=FaultPlan.of(charge=faults))
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    async with open_services(
        settings, redis, outbox_dir=outbox, gateway=gateway, humans=SimulatedDesk(after_s=0.0)
    ) as services:
        call = await open_call(services, language="en")
        model = ScriptedToolLLM()
        text_call = TextCall(call, model=model)
        await text_call.start()
        for kind, payload in actions:
            if kind == "tool":
                model.plan.append(payload)
                await text_call.say(TOOL_TURN)
            else:
                await text_call.say(payload)
            await _answer_keypad(text_call, draw, competent)
        await text_call.close()
    ledger = gateway.ledger
    assert len(ledger) <= 1, "charged twice"
    assert len({entry.idempotency_key for entry in ledger}) == len(ledger)
    _check_consent(call.events.history, {entry.idempotency_key for entry in ledger})
    await redis.flushdb()
    await redis.aclose()
    return len(ledger)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    actions=SEQUENCES,
    competent=st.booleans(),
    faults=st.lists(st.sampled_from([None, Fault.LOST_RESPONSE]), max_size=4),
    data=st.data(),
)
def test_no_tool_sequence_charges_without_consent_or_twice(
    redis_server: str,
    tmp_path: Path,
    actions: list[Any],
    competent: bool,
    faults: list[Fault | None],
    data: st.DataObject,
) -> None:
    def draw(choices: list[str]) -> str:
        return data.draw(st.sampled_from(choices))

    charges = asyncio.run(
        _run(redis_server, tmp_path, actions, faults=faults, draw=draw, competent=competent)
    )
    event(f"charges: {charges}")


def test_the_right_sequence_charges_exactly_once_despite_lost_responses(
    redis_server: str, tmp_path: Path
) -> None:
    """The property above is not vacuous: consent then retries end in exactly one charge."""
    actions = [
        ("tool", ("identify_account", {"account_number": ACCOUNT})),
        ("tool", ("verify_identity", {})),
        ("tool", ("get_balance", {})),
        ("tool", ("set_amount", {"choice": "full"})),
        ("tool", ("capture_card", {})),
        ("tool", ("confirm_and_charge", {})),
        ("say", "yes"),
        ("tool", ("confirm_and_charge", {})),
        ("tool", ("confirm_and_charge", {})),
        ("tool", ("confirm_and_charge", {})),
    ]
    charges = asyncio.run(
        _run(
            redis_server,
            tmp_path,
            actions,
            faults=[Fault.LOST_RESPONSE, Fault.LOST_RESPONSE],
            draw=lambda choices: choices[0],
            competent=True,
        )
    )
    assert charges == 1


def test_a_plan_keeps_the_card_only_after_the_callers_own_yes(
    redis_server: str, tmp_path: Path
) -> None:
    """The plan path is not vacuous either: a yes pays (card kept), a no to keeping it pays none."""

    def plan_call(consent: str) -> int:
        actions = list(PLAN_SKELETON)
        actions[4] = ("say", consent)
        return asyncio.run(
            _run(
                redis_server,
                tmp_path,
                actions,
                faults=[],
                draw=lambda choices: choices[0],
                competent=True,
            )
        )

    assert plan_call("yes") == 1
    assert plan_call("no") == 0
