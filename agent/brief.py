"""The brief a person reads before taking a call from the bot: who, what happened, and why."""

from __future__ import annotations

from agent.call_context import CallContext
from agent.workflow import AuthStatus, CallState, ChargeState
from payment_tools.redaction import mask_card_numbers
from voicepay.accounts import Account
from voicepay.handoff_brief import Decline, HandoffBrief, MaskedCard, TranscriptLine
from voicepay.money import Money

_TRANSCRIPT_LINES = 60
_NEXT_STEP = {
    "caller_request": "Ask how you can help; the caller asked for a person.",
    "negative_sentiment": "Acknowledge the caller's frustration before anything else.",
    "dispute": "Listen to the dispute and open a billing query; do not take a payment first.",
    "fraud": "Follow the fraud procedure: block the card and do not take a payment on it.",
    "hardship": "Offer hardship options (payment plan, breathing space) before any payment.",
    "bereavement": "Offer condolences and follow the bereavement procedure.",
    "complaint": "Log the complaint and follow the complaints procedure.",
    "legal_threat": "Do not discuss liability; follow the legal escalation procedure.",
    "repeated_misunderstanding": "The bot kept misunderstanding; confirm the caller's goal.",
    "identification_failed": "Help the caller find their account number.",
    "authentication_failed": "Verify the caller's identity yourself before any account detail.",
    "repeated_declines": "Discuss why the cards were declined; offer other ways to pay.",
    "capture_failed": "The caller could not type the card; offer a payment link or help.",
    "payment_unconfirmed": "Check the processor before any new charge: one may have gone through.",
    "no_arrangement": "Part now, a plan and a promise to pay did not suit; look for another way.",
}


def build_brief(
    call: CallContext, state: CallState, account: Account | None, reason: str, trigger: str
) -> HandoffBrief:
    """A brief of the call so far, with every text already redacted."""
    verified = state.auth is AuthStatus.VERIFIED
    failures = f", {state.auth_failures} failed attempt(s)" if state.auth_failures else ""
    how = f"verified by {state.auth_method}" if verified else state.auth.value
    warnings = []
    if state.charge_state is ChargeState.PENDING:
        warnings.append("A charge is pending with an unknown outcome: do not charge again.")
    if state.auth is AuthStatus.LOCKED:
        warnings.append("The account is locked after failed identity checks.")
    card = MaskedCard(brand=state.card.brand, last4=state.card.last4) if state.card else None
    return HandoffBrief(
        holder=account.holder_name if account else "",
        account=state.account_number or "",
        verified=verified,
        verification=how + failures,
        goal="pay the account balance" if state.account_number else "not stated yet",
        what_happened=[
            f"{t.source.value} to {t.target.value}: {t.cause}" for t in state.transitions
        ][-50:],
        amount_minor=state.amount_minor,
        currency=state.currency if state.amount_minor is not None else None,
        card=card,
        declines=[
            Decline(reason=d.reason, card=MaskedCard(brand=d.brand, last4=d.last4))
            for d in state.declines
        ],
        payment_reference=state.payment_reference or "",
        warnings=warnings,
        sentiment=[round(score, 2) for score in call.escalation.sentiment_history],
        reason=reason,
        trigger=trigger,
        next_step=_NEXT_STEP.get(reason, "Ask how you can help."),
        language=state.language,
        transcript=_transcript(call),
    )


def _transcript(call: CallContext) -> list[TranscriptLine]:
    lines = [
        TranscriptLine(
            speaker="agent" if event.kind == "agent_said" else "caller",
            text=mask_card_numbers(str(event.data.get("text", "")))[:2000],
        )
        for event in call.events.history
        if event.kind in ("agent_said", "caller_said") and not event.data.get("ignored")
    ]
    return lines[-_TRANSCRIPT_LINES:]


def spoken_brief(brief: HandoffBrief) -> str:
    """The brief as a few sentences, for a person briefed by voice before being connected."""
    parts = [
        f"Caller {brief.holder or 'not identified'}, account {brief.account or 'unknown'}.",
        f"Identity: {brief.verification}.",
        f"Transferred because: {brief.reason.replace('_', ' ')}.",
    ]
    if brief.amount_minor is not None and brief.currency:
        amount = Money(brief.amount_minor, brief.currency).format("en")
        parts.append(f"Amount agreed: {amount}.")
    if brief.card is not None:
        parts.append(f"Card: {brief.card.brand} ending {brief.card.last4}.")
    parts.extend(f"Declined: {d.reason}." for d in brief.declines)
    parts.extend(brief.warnings)
    parts.append(f"Suggested next step: {brief.next_step}")
    return " ".join(parts)
