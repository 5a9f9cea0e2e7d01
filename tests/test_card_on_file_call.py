"""A returning caller: a card kept on file with consent on one call is offered on the next one."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from agent.runtime import open_services
from evals.leak_scan import CardSecrets, LeakScanner
from evals.scenario import Scenario, load_scenario
from evals.simulated_call import CallRun, run_scenario
from payment_tools.gateway import SandboxGateway
from voicepay.accounts import AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.plans import PlanStore
from voicepay.saved_cards import SavedCardStore
from voicepay.settings import Settings

ACCOUNT = "50229911"
CORE = Path(__file__).parents[1] / "evals/suites/core"
FIRST_CALL = CORE / "keep-card-for-next-time-en.yaml"
SECOND_CALL = Scenario.model_validate(
    {
        "name": "returning-caller",
        "caller": [
            {"say": "Hi, account 50229911."},
            {"keys": "94107#"},
            {"say": "Two hundred dollars, please."},
            {"say": "Yes, use that one."},
            {"say": "Yes."},
            {"say": "No thanks."},
        ],
    }
)


async def _call(redis: Redis, scenario: Scenario, gateway: SandboxGateway, out: Path) -> CallRun:
    async with open_services(Settings(), redis, outbox_dir=out / "outbox", gateway=gateway) as s:
        return await run_scenario(s, scenario, out_dir=out)


def _tools(run: CallRun) -> list[str]:
    return [event.data["name"] for event in run.events if event.kind == "tool_call"]


async def test_a_card_kept_on_one_call_pays_the_next_after_the_callers_yes(
    redis: Redis, tmp_path: Path
) -> None:
    settings = Settings()
    accounts = AccountRepository(redis, settings.auth.pepper)
    await accounts.load_fixture(DEMO_ACCOUNTS)
    first = load_scenario(FIRST_CALL)
    first_gateway = SandboxGateway()
    first_run = await _call(redis, first, first_gateway, tmp_path / "first")
    assert first_run.summary["outcome"] == "paid"
    [saved_charge] = first_gateway.ledger
    stored = await SavedCardStore(redis).get(ACCOUNT)
    assert stored is not None and stored.consent.purpose == "future_payments"
    assert stored.consent.wording_key == "saved_card.consent"
    assert stored.token == saved_charge.token and stored.customer == saved_charge.customer
    assert await PlanStore(redis).for_account(ACCOUNT) == []

    second_gateway = SandboxGateway()
    second_run = await _call(redis, SECOND_CALL, second_gateway, tmp_path / "second")
    assert second_run.summary["outcome"] == "paid"
    tools = _tools(second_run)
    assert "use_saved_card" in tools and "capture_card" not in tools
    [reuse] = second_gateway.ledger
    assert reuse.amount_minor == 20000 and reuse.token == stored.token
    assert reuse.customer == stored.customer and not reuse.off_session
    account = await accounts.get(ACCOUNT)
    assert account is not None and account.balance_minor == 120000 - 15000 - 20000
    assert await LeakScanner(CardSecrets.from_scenario(first)).scan_redis(redis) == []


async def test_a_card_kept_only_for_a_plan_is_never_offered_for_another_payment(
    redis: Redis, tmp_path: Path
) -> None:
    settings = Settings()
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    plan_call = load_scenario(CORE / "plan-three-payments-en.yaml")
    await _call(redis, plan_call, SandboxGateway(), tmp_path / "plan")
    stored = await SavedCardStore(redis).get("50223344")
    assert stored is not None and stored.consent.purpose == "plan"
    later = load_scenario(CORE / "pay-full-visa-en.yaml")
    run = await _call(redis, later, SandboxGateway(), tmp_path / "later")
    assert "use_saved_card" not in _tools(run)
    spoken = " ".join(
        item.text_content or "" for item in run.history.items if item.type == "message"
    )
    assert "the card we keep on file" not in spoken
