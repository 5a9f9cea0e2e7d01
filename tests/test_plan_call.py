"""A payment plan from the call to the scheduler: first instalment on the call, the next one later.

The call runs the plan scenario through the agent; the scheduler then runs as another process
would, with its own gateway, on the second instalment's due date.
"""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from agent.runtime import open_services
from evals.leak_scan import CardSecrets, LeakScanner
from evals.scenario import load_scenario
from evals.simulated_call import run_scenario
from payment_tools.gateway import SandboxGateway
from voicepay.accounts import AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.plans import InstalmentStatus, PlanStore
from voicepay.saved_cards import SavedCardStore
from voicepay.scheduler import charge_due_instalments
from voicepay.settings import Settings

ACCOUNT = "50223344"
PLAN_SCENARIO = Path(__file__).parents[1] / "evals/suites/core/plan-three-payments-en.yaml"


async def test_a_plan_set_up_on_the_call_is_charged_by_the_scheduler(
    redis: Redis, tmp_path: Path
) -> None:
    settings = Settings()
    accounts = AccountRepository(redis, settings.auth.pepper)
    await accounts.load_fixture(DEMO_ACCOUNTS)
    scenario = load_scenario(PLAN_SCENARIO)
    on_call = SandboxGateway()
    async with open_services(
        settings, redis, outbox_dir=tmp_path / "outbox", gateway=on_call
    ) as services:
        run = await run_scenario(services, scenario, out_dir=tmp_path)
    assert run.summary["outcome"] == "paid"
    [first_charge] = on_call.ledger
    assert first_charge.amount_minor == 8667 and first_charge.customer is not None

    [plan] = await PlanStore(redis).for_account(ACCOUNT)
    assert [i.amount_minor for i in plan.instalments] == [8667, 8666, 8666]
    assert [i.status for i in plan.instalments] == [
        InstalmentStatus.PAID,
        InstalmentStatus.SCHEDULED,
        InstalmentStatus.SCHEDULED,
    ]
    stored = await SavedCardStore(redis).get(ACCOUNT)
    assert stored is not None and stored.last4 == "4242" and stored.token == first_charge.token
    assert stored.consent.purpose == "plan" and stored.consent.call_id == run.state.call_id
    after_call = await accounts.get(ACCOUNT)
    assert after_call is not None and after_call.balance_minor == 25999 - 8667

    scheduler = SandboxGateway()
    second_due = plan.instalments[1].due
    before_due = await charge_due_instalments(
        today=second_due.replace(day=second_due.day - 1),
        plans=PlanStore(redis),
        gateway=scheduler,
        accounts=accounts,
        settings=settings.plans,
    )
    assert before_due.charged == 0 and not scheduler.ledger
    for _ in range(2):
        await charge_due_instalments(
            today=second_due,
            plans=PlanStore(redis),
            gateway=scheduler,
            accounts=accounts,
            settings=settings.plans,
        )
    [instalment] = scheduler.ledger
    assert instalment.amount_minor == 8666 and instalment.off_session
    assert instalment.customer == first_charge.customer
    assert instalment.token == first_charge.token
    charged = await PlanStore(redis).get(plan.plan_id)
    assert charged is not None
    assert [i.status for i in charged.instalments][1:] == [
        InstalmentStatus.PAID,
        InstalmentStatus.SCHEDULED,
    ]
    after_instalment = await accounts.get(ACCOUNT)
    assert after_instalment is not None
    assert after_instalment.balance_minor == 25999 - 8667 - 8666

    leaks = await LeakScanner(CardSecrets.from_scenario(scenario)).scan_redis(redis)
    assert leaks == []
