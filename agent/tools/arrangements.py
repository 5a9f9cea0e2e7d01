"""Tools for a caller who cannot pay in full: options, a payment plan, a promise to pay, a person.

Each tool asks the workflow first; the caller's consent to keep their card on file is recorded by
code from their own words (:mod:`agent.ingress`), never by a tool.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from livekit.agents import RunContext, ToolResult, function_tool

from agent.arrangements import ConsentStatus, Offer, PlannedInstalment, PlanTerms, PromiseTerms
from agent.call_context import CallContext
from agent.card_on_file import arrangement_id
from agent.formatting import format_date
from agent.nlu import parse_amount
from agent.tool_reply import tool_reply
from agent.tools._common import read_back, verified_account, workflow_hint
from agent.workflow import CallState, CardOnCall, WorkflowViolation
from voicepay.accounts import Account
from voicepay.money import Money
from voicepay.plans import split_instalments
from voicepay.promises import PromiseToPay, check_promise_date


@function_tool
async def offer_payment_options(context: RunContext[CallContext]) -> str:
    """Offer a caller who cannot pay the whole balance today: part now, a plan, or a date.

    Call this when the caller says they cannot pay it all (a caller in real hardship goes to a
    person instead).
    """
    call = context.userdata
    try:
        state, _ = await call.update(lambda s: s.options_offered())
    except WorkflowViolation as refused:
        return _refused(refused, await call.state())
    plans = call.settings.plans
    without_plan = state.card_consent is ConsentStatus.REFUSED
    say = call.prompts.text(
        "options.offer_without_plan" if without_plan else "options.offer",
        min_count=plans.min_instalments,
        max_count=plans.max_instalments,
    )
    return tool_reply(
        "options_offered",
        say=say,
        next_action=(
            "part now: set_amount; "
            + ("" if without_plan else "a plan: set_up_plan; ")
            + "a date: promise_to_pay; none of these: decline_options"
        ),
    )


@function_tool
async def set_up_plan(context: RunContext[CallContext], instalments: int | None = None) -> str:
    """Propose paying the whole balance in monthly instalments, the first one today.

    The caller hears the schedule and is asked to let us keep their card on file for the later
    payments; the system records their answer.

    Args:
        instalments: how many monthly payments the caller asked for; leave it out to ask them.
    """
    call = context.userdata
    state = await call.state()
    account = await verified_account(call, state)
    if account is None:
        return tool_reply("not_expected", next_action=workflow_hint(state))
    settings = call.settings.plans
    counts = {"min_count": settings.min_instalments, "max_count": settings.max_instalments}
    allowed = range(settings.min_instalments, settings.max_instalments + 1)
    if instalments is None or instalments not in allowed:
        key = "plan.ask_count" if instalments is None else "plan.error.count"
        return await _ask(call, Offer.PLAN_COUNT, call.prompts.text(key, **counts))
    plan = _plan_terms(call, account, instalments)
    if isinstance(plan, str):
        money = {
            "minimum": Money(settings.min_instalment_minor, account.currency),
            "maximum": Money(call.settings.payments.max_payment_minor, account.currency),
        }
        say = call.prompts.text(
            f"plan.error.{plan}", **{k: v.format(call.language) for k, v in money.items()}
        )
        return tool_reply("plan_rejected", reason=plan, say=say, next_action="ask again")
    try:
        await call.update(lambda s: s.propose_plan(plan))
    except WorkflowViolation as refused:
        return tool_reply(
            "refused", code=refused.code, say=call.prompts.text("plan.error.not_expected")
        )
    call.events.emit("plan_proposed", instalments=instalments)
    return tool_reply(
        "plan_proposed",
        say=_proposal(call, plan),
        next_action="wait for the caller's yes or no to keeping their card on file",
    )


@function_tool
async def promise_to_pay(
    context: RunContext[CallContext], date: str | None = None, amount: str | None = None
) -> str:
    """Note the caller's promise to pay by a date, when they cannot pay today.

    Args:
        date: the date the caller will pay by, as YYYY-MM-DD; leave it out to ask them.
        amount: the amount they promise, as they said it; leave it out for the whole balance.
    """
    call = context.userdata
    state = await call.state()
    account = await verified_account(call, state)
    if account is None:
        return tool_reply("not_expected", next_action=workflow_hint(state))
    max_days = call.settings.plans.promise_max_days
    today = datetime.now(UTC).date()
    day = _iso_date(date)
    error = "unclear" if day is None else check_promise_date(day, today, max_days)
    if day is None or error is not None:
        key = "promise.ask_date" if date is None else f"promise.error.{error}"
        latest = format_date(today + timedelta(days=max_days), call.language)
        say = call.prompts.text(key, max_days=max_days, latest=latest)
        return await _ask(call, Offer.PROMISE_DATE, say)
    money = _promised_amount(call, account, amount)
    if money is None:
        balance = Money(account.balance_minor, account.currency).format(call.language)
        return tool_reply(
            "promise_rejected", say=call.prompts.text("promise.error.amount", balance=balance)
        )
    terms = PromiseTerms(amount_minor=money.minor, currency=money.currency, due=day)
    try:
        await call.update(lambda s: s.promise_made(terms))
    except WorkflowViolation as refused:
        return tool_reply("refused", code=refused.code, next_action=workflow_hint(state))
    await call.services.promises.add(
        PromiseToPay(
            promise_id=arrangement_id(call.call_id, "promise"),
            account_number=account.number,
            amount_minor=money.minor,
            currency=money.currency,
            due=day,
            call_id=call.call_id,
            created_at=datetime.now(UTC),
            balance_at_promise_minor=account.balance_minor,
        )
    )
    call.events.emit("promise", amount=money.to_decimal_str(), due=day.isoformat())
    say = call.prompts.text(
        "promise.noted", amount=money.format(call.language), date=format_date(day, call.language)
    )
    return tool_reply("promise_noted", say=say, next_action="if the caller is done, call end_call")


@function_tool
async def decline_options(context: RunContext[CallContext]) -> str:
    """The caller wants none of the options: thank them and offer them a person."""
    call = context.userdata
    try:
        await call.update(lambda s: s.human_offered())
    except WorkflowViolation as refused:
        return _refused(refused, await call.state())
    return tool_reply(
        "human_offered",
        say=call.prompts.text("options.nothing_suits"),
        next_action="yes: transfer_to_human with reason no_arrangement; no: end_call",
    )


@function_tool
async def use_saved_card(context: RunContext[CallContext]) -> str | ToolResult:
    """Pay with the card this account keeps on file, after the caller said yes to using it.

    The amount and card are then read back; the caller's own yes is still needed to charge.
    """
    call = context.userdata
    state = await call.state()
    account = await verified_account(call, state)
    stored = await call.services.saved_cards.get(account.number) if account else None
    if stored is None or not stored.reusable:
        # A card kept for a plan is charged for that plan only, never offered for other payments.
        return tool_reply("not_expected", next_action="call capture_card")
    card = CardOnCall(
        brand=stored.brand, last4=stored.last4, token=stored.token, customer=stored.customer
    )
    try:
        await call.update(lambda s: s.saved_card_chosen(card))
    except WorkflowViolation as refused:
        return tool_reply("refused", code=refused.code, next_action=workflow_hint(state))
    call.events.emit("saved_card_used", brand=card.brand, last4=card.last4)
    await read_back(call)
    return ToolResult(
        tool_reply("card_chosen", next_action="wait for the caller's yes or no to the read-back"),
        reply_required=False,
    )


@function_tool
async def keep_card_for_next_time(context: RunContext[CallContext]) -> str:
    """Ask the caller's consent to keep the card they are about to type for future payments.

    Call this when the caller asks us to keep or save their card for next time, once the amount is
    agreed and before the card is typed; the system records their own yes or no.
    """
    call = context.userdata
    try:
        await call.update(lambda s: s.card_keeping_offered())
    except WorkflowViolation as refused:
        state = await call.state()
        say = (
            call.prompts.text("saved_card.not_now")
            if refused.code == "ask_before_the_card"
            else None
        )
        return tool_reply("refused", code=refused.code, say=say, next_action=workflow_hint(state))
    return tool_reply(
        "consent_asked",
        say=call.prompts.text("saved_card.consent"),
        next_action="wait for the caller's yes or no, then call capture_card",
    )


def _refused(refused: WorkflowViolation, state: CallState) -> str:
    return tool_reply("refused", code=refused.code, next_action=workflow_hint(state))


async def _ask(call: CallContext, offer: Offer, say: str) -> str:
    """Ask the caller ``say`` and note that the workflow waits on its answer."""
    try:
        await call.update(lambda s: s.asked(offer))
    except WorkflowViolation as refused:
        return _refused(refused, await call.state())
    return tool_reply("asked", question=offer.value, say=say, next_action="wait for the answer")


def _iso_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _promised_amount(call: CallContext, account: Account, amount: str | None) -> Money | None:
    balance = Money(account.balance_minor, account.currency)
    if not amount:
        return balance
    intent = parse_amount(amount, call.language, account.currency)
    if intent is None or intent.kind == "minimum":
        return None
    if intent.kind == "full":
        return balance
    money = intent.money
    if money is None or money.currency != balance.currency:
        return None
    return money if 0 < money.minor <= balance.minor else None


def _plan_terms(call: CallContext, account: Account, count: int) -> PlanTerms | str:
    """The plan of the whole balance in ``count`` payments, or the limit it breaks."""
    settings = call.settings.plans
    if account.balance_minor < count * settings.min_instalment_minor:
        return "too_small"
    schedule = split_instalments(account.balance_minor, count, datetime.now(UTC).date())
    if max(amount for _, amount in schedule) > call.settings.payments.max_payment_minor:
        return "above_maximum"
    return PlanTerms(
        currency=account.currency,
        instalments=[PlannedInstalment(due=due, amount_minor=amount) for due, amount in schedule],
    )


def _proposal(call: CallContext, plan: PlanTerms) -> str:
    lang = call.language
    items = [
        call.prompts.text(
            "plan.later_item",
            amount=Money(item.amount_minor, plan.currency).format(lang),
            date=format_date(item.due, lang),
        )
        for item in plan.later
    ]
    later = items[-1]
    if len(items) > 1:
        later = f"{', '.join(items[:-1])} {call.prompts.text('plan.and')} {later}"
    return call.prompts.text(
        "plan.proposal",
        count=len(plan.instalments),
        first=Money(plan.first.amount_minor, plan.currency).format(lang),
        later=later,
    )
