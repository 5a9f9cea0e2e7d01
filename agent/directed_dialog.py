"""The directed-dialog policy: a deterministic stand-in for the LLM.

It runs every call when no LLM is configured, and takes over mid-call when the real LLM errors or
times out, so a call never dead-ends. It decides from the call's workflow state (read from Redis)
and the last thing that happened: a tool answer (speak its ``say`` and chain the step that must
follow) or a caller utterance (understood by :mod:`agent.nlu`). It only ever proposes tool calls;
the tools and the workflow still decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from livekit.agents import llm

from agent.arrangements import ConsentStatus, Offer
from agent.nlu import (
    Intent,
    detect_intents,
    parse_account_number,
    parse_amount,
    parse_instalment_count,
    parse_pay_date,
    parse_receipt_channel,
    parse_yes_no,
)
from agent.readback import readback_text
from agent.tool_reply import parse_tool_reply
from agent.workflow import CallState, ChargeState, Step
from prompts import PromptBook
from voicepay.spoken_numbers import find_number_spans

KEYPAD_PREFIX = "[keypad]"
REDACTION_MARK = "[card data removed]"
_BY_EMAIL = re.compile(r"\be-?mail|\bcourriel", re.IGNORECASE)
_ONE_LINK = re.compile(
    r"\b(?:un|one|a)\s+(?:(?:nouveau|new|secure|payment)\s+)?(?:lien|link)\b", re.IGNORECASE
)

_CHAINS: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
    ("identify_account", "found"): ("verify_identity", {}),
    ("identify_account", "too_many_attempts"): (
        "transfer_to_human",
        {"reason": "identification_failed"},
    ),
    ("verify_identity", "verified"): ("get_balance", {}),
    ("verify_identity", "not_verified"): ("verify_identity", {}),
    ("verify_identity", "no_input"): ("verify_identity", {}),
    ("verify_identity", "locked"): ("transfer_to_human", {"reason": "authentication_failed"}),
    ("set_amount", "amount_set"): ("capture_card", {}),
    ("get_balance", "nothing_due"): ("end_call", {}),
    ("send_receipt", "receipt_sent"): ("end_call", {}),
    ("send_receipt", "receipt_failed"): ("end_call", {}),
    ("send_payment_link", "paid_no_receipt"): ("end_call", {}),
}


@dataclass(frozen=True)
class Decision:
    """What the policy does this turn: say something, call a tool, or both (say first)."""

    say: str | None = None
    tool: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)


def _last_relevant(chat_ctx: llm.ChatContext) -> llm.ChatItem | None:
    for item in reversed(chat_ctx.items):
        if item.type == "function_call_output":
            return item
        if item.type == "message" and item.role in ("user", "assistant"):
            return item
    return None


def reprompt(state: CallState, prompts: PromptBook) -> str:
    """The question the caller should answer at this step."""
    if state.awaiting_confirmation:
        return readback_text(prompts, state.terms())
    key = {
        Step.GREET: "identify.ask",
        Step.IDENTIFY: "identify.ask",
        Step.AMOUNT: "amount.ask",
        Step.CAPTURE: "charge.retry_offer",
        Step.CONFIRM: "confirm.unclear",
        Step.RECEIPT: "receipt.offer",
        Step.LINK_SENT: "link.still_open",
    }.get(state.step)
    return prompts.text(key) if key else ""


def decide(chat_ctx: llm.ChatContext, state: CallState, prompts: PromptBook) -> Decision:
    """The policy's move for the current chat context and workflow state."""
    last = _last_relevant(chat_ctx)
    if last is None:
        return Decision(say=prompts.text("greeting"))
    if last.type == "function_call_output":
        decision = _after_tool(last, state, prompts)
        if decision.tool == "capture_card":
            return _before_the_keypad(decision, _latest_caller_text(chat_ctx), prompts.language)
        return decision
    if last.type == "message" and last.role == "user":
        return _after_caller(last.text_content or "", state, prompts, _last_said(chat_ctx))
    return Decision()


def _before_the_keypad(capture: Decision, said: str, lang: str) -> Decision:
    """The keypad comes next unless the caller's words that set the amount asked otherwise."""
    intents = detect_intents(said, lang)
    if Intent.PAYMENT_LINK in intents:
        # "The full balance, by link please": the amount was set, the link comes next.
        channel = _link_channel(said)
        return Decision(say=capture.say, tool="send_payment_link", arguments={"channel": channel})
    if Intent.KEEP_CARD in intents:
        # "The minimum, and keep my card for next time": consent comes before the keypad.
        return Decision(say=capture.say, tool="keep_card_for_next_time")
    return capture


def _latest_caller_text(chat_ctx: llm.ChatContext) -> str:
    for item in reversed(chat_ctx.items):
        if item.type == "message" and item.role == "user":
            return item.text_content or ""
    return ""


def _link_channel(text: str) -> str:
    """``email`` when the caller asked for the link by e-mail, else ``sms``."""
    return "email" if _BY_EMAIL.search(text) else "sms"


def _last_said(chat_ctx: llm.ChatContext) -> str | None:
    for item in reversed(chat_ctx.items):
        if item.type == "message" and item.role == "assistant" and item.text_content:
            return item.text_content
    return None


def _after_tool(output: llm.FunctionCallOutput, state: CallState, prompts: PromptBook) -> Decision:
    reply = parse_tool_reply(output.output)
    if reply is None:
        return Decision(say=prompts.text("fallback.not_understood"))
    transfer = reply.facts.get("transfer_reason")
    if isinstance(transfer, str):
        return Decision(say=reply.say, tool="transfer_to_human", arguments={"reason": transfer})
    chained = _CHAINS.get((output.name, reply.result))
    if chained is not None:
        return Decision(say=reply.say, tool=chained[0], arguments=dict(chained[1]))
    if reply.result in ("not_expected", "refused") and not reply.say:
        return Decision(say=reprompt(state, prompts) or None)
    return Decision(say=reply.say)


def _after_caller(
    text: str, state: CallState, prompts: PromptBook, last_said: str | None
) -> Decision:
    lang = prompts.language
    if state.step in (Step.END, Step.TRANSFER):
        return Decision()
    intents = detect_intents(text, lang)
    if Intent.HUMAN in intents:
        return Decision(tool="transfer_to_human", arguments={"reason": "caller_request"})
    pending = state.charge_state is ChargeState.PENDING
    if pending and intents & {Intent.GOODBYE, Intent.CANCEL}:
        # A charge whose outcome is unknown must not be left behind: a person will check it.
        return Decision(tool="transfer_to_human", arguments={"reason": "payment_unconfirmed"})
    if REDACTION_MARK in text:
        return Decision(say=_join(prompts.text("refuse.card_by_voice"), reprompt(state, prompts)))
    if Intent.PROMPT_INJECTION in intents:
        return Decision(say=_join(prompts.text("refuse.injection"), reprompt(state, prompts)))
    if Intent.CARD_READBACK in intents:
        return Decision(say=_join(prompts.text("refuse.card_readback"), reprompt(state, prompts)))
    arranged = _arrangement(text, intents, state, lang)
    if arranged is not None:
        return arranged
    if Intent.GOODBYE in intents or (Intent.CANCEL in intents and state.step is not Step.CONFIRM):
        return Decision(tool="end_call")
    if Intent.NEW_CARD in intents and state.can_capture():
        return Decision(tool="capture_card")
    if Intent.PAYMENT_LINK in intents and state.can_send_link():
        return Decision(tool="send_payment_link", arguments={"channel": _link_channel(text)})
    keyed = text.removeprefix(KEYPAD_PREFIX).strip() if text.startswith(KEYPAD_PREFIX) else None
    decision = _by_step(text, keyed, state, prompts)
    if decision.tool is None:
        # "Pardon?", "what can I do?": only when the utterance asked for nothing else.
        if Intent.REPEAT in intents and last_said:
            return Decision(say=last_said)
        if Intent.HELP in intents:
            return Decision(say=reprompt(state, prompts) or decision.say)
    return decision


def _by_step(text: str, keyed: str | None, state: CallState, prompts: PromptBook) -> Decision:
    lang = prompts.language
    answer = parse_yes_no(text, lang)
    match state.step:
        case Step.GREET | Step.IDENTIFY:
            number = keyed if keyed and keyed.isdigit() else parse_account_number(text, lang)
            if number:
                return Decision(tool="identify_account", arguments={"account_number": number})
            return Decision(say=prompts.text("identify.ask"))
        case Step.AUTHENTICATE:
            return Decision(tool="verify_identity")
        case Step.BALANCE:
            return Decision(tool="get_balance")
        case Step.AMOUNT:
            chosen = _amount_decision(text, state)
            if chosen is not None:
                return chosen
            if answer == "no" and state.card is not None and state.readback > 0:
                return Decision(say=prompts.text("confirm.cancelled"))
            return Decision(say=prompts.text("amount.error.unclear"))
        case Step.CONSENT:
            unclear = "plan.consent_unclear" if state.plan else "saved_card.kept_unclear"
            return Decision(say=prompts.text(unclear))
        case Step.CAPTURE:
            if answer == "no":
                return Decision(tool="end_call")
            return Decision(tool="capture_card")
        case Step.CONFIRM:
            if state.readback > 0 and state.confirmed_readback == state.readback:
                return Decision(tool="confirm_and_charge")
            changed = _amount_decision(text, state) if answer is None else None
            if changed is not None:
                return changed
            return Decision(say=_join(prompts.text("confirm.unclear"), reprompt(state, prompts)))
        case Step.CHARGE:
            if state.charge_state is ChargeState.PENDING and answer != "no":
                return Decision(tool="confirm_and_charge")
            return Decision(tool="transfer_to_human", arguments={"reason": "payment_unconfirmed"})
        case Step.LINK_SENT:
            return Decision(say=prompts.text("link.still_open"))
        case Step.RECEIPT:
            channel = parse_receipt_channel(text, lang)
            if channel is not None:
                return Decision(tool="send_receipt", arguments={"channel": channel})
            if answer == "yes":
                return Decision(tool="send_receipt")
            return Decision(say=prompts.text("receipt.declined"), tool="end_call")
    return Decision(say=prompts.text("fallback.not_understood"))


_ARRANGEMENT_STEPS = (Step.AMOUNT, Step.CAPTURE, Step.CONFIRM)


def _arrangement(
    text: str, intents: frozenset[Intent], state: CallState, lang: str
) -> Decision | None:
    """The move for a caller who cannot pay in full, or who answers one of the workflow's offers."""
    answer = parse_yes_no(text, lang)
    if state.offer is Offer.HUMAN:
        if answer == "yes":
            return Decision(tool="transfer_to_human", arguments={"reason": "no_arrangement"})
        if answer == "no" or Intent.DECLINE_ALL in intents:
            return Decision(tool="end_call")
    if state.offer is Offer.SAVED_CARD and state.step is Step.CAPTURE and answer is not None:
        return Decision(tool="use_saved_card" if answer == "yes" else "capture_card")
    if state.step not in _ARRANGEMENT_STEPS or state.paid:
        return None
    no_card_yet = state.card is None and state.amount_minor is not None
    if Intent.KEEP_CARD in intents and no_card_yet and not state.saves_card:
        return Decision(tool="keep_card_for_next_time")
    last = state.transitions[-1].cause if state.transitions else None
    if state.step is Step.CAPTURE and no_card_yet and last == "card_consent_refused":
        # "No, don't keep it": this payment goes on, on the keypad.
        return Decision(tool="capture_card")
    if state.charge_state is ChargeState.PENDING or state.awaiting_confirmation:
        return None
    offer = state.offer
    plan_allowed = state.card_consent is not ConsentStatus.REFUSED
    count = parse_instalment_count(text, lang)
    if count is None and offer is Offer.PLAN_COUNT:
        count = _lone_number(text, lang)
    if (
        plan_allowed
        and count is not None
        and (
            Intent.PAYMENT_PLAN in intents
            or offer
            in (
                Offer.PLAN_COUNT,
                Offer.OPTIONS,
            )
        )
    ):
        return Decision(tool="set_up_plan", arguments={"instalments": count})
    if plan_allowed and Intent.PAYMENT_PLAN in intents:
        return Decision(tool="set_up_plan")
    day = parse_pay_date(text, lang, datetime.now(UTC).date())
    promising = Intent.PROMISE_TO_PAY in intents
    if day is not None and (promising or offer in (Offer.PROMISE_DATE, Offer.OPTIONS)):
        return Decision(tool="promise_to_pay", arguments={"date": day.isoformat()})
    if promising:
        return Decision(tool="promise_to_pay")
    if Intent.CANNOT_PAY_IN_FULL in intents:
        return Decision(tool="offer_payment_options")
    refused_everything = Intent.DECLINE_ALL in intents or answer == "no"
    if offer is Offer.OPTIONS and refused_everything:
        return Decision(tool="decline_options")
    if offer is Offer.NONE and answer == "no":
        if state.card_consent is ConsentStatus.REFUSED and state.amount_minor is None:
            # The caller just said no to keeping their card: the plan is off, the rest is not.
            return Decision(tool="offer_payment_options")
        if state.promise is not None:
            return Decision(tool="end_call")
    return None


def _lone_number(text: str, lang: str) -> int | None:
    """The one whole number said in ``text`` ("three", "4, please"), if exactly one is."""
    spans = find_number_spans(text, "fr" if lang == "fr" else "en")
    return int(spans[0].digits) if len(spans) == 1 and spans[0].digits.isdigit() else None


def _amount_decision(text: str, state: CallState) -> Decision | None:
    """``set_amount`` for an amount said in ``text`` (never for digits typed on the keypad)."""
    if text.startswith(KEYPAD_PREFIX) or not state.currency:
        return None
    # "La totalité, mais je préfère un lien": the article "un" of a link is not one euro.
    text = _ONE_LINK.sub(" ", text)
    intent = parse_amount(text, "fr" if state.language == "fr" else "en", state.currency)
    if intent is None:
        return None
    arguments: dict[str, Any] = {"choice": intent.kind}
    if intent.kind == "partial" and intent.money is not None:
        arguments["amount"] = intent.money.to_decimal_str()
    return Decision(tool="set_amount", arguments=arguments)


def _join(*parts: str) -> str:
    return re.sub(r"\s+", " ", " ".join(p for p in parts if p)).strip()
