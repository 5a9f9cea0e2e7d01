"""The function tools the LLM may call; each one checks the workflow before acting."""

from livekit.agents import llm

from agent.tools.arrangements import (
    decline_options,
    keep_card_for_next_time,
    offer_payment_options,
    promise_to_pay,
    set_up_plan,
    use_saved_card,
)
from agent.tools.call_control import end_call, transfer_to_human
from agent.tools.identity import identify_account, verify_identity
from agent.tools.payment import (
    capture_card,
    confirm_and_charge,
    get_balance,
    set_amount,
)
from agent.tools.payment_link import send_payment_link
from agent.tools.receipt import send_receipt

ALL_TOOLS: list[llm.Tool] = [
    identify_account,
    verify_identity,
    get_balance,
    set_amount,
    offer_payment_options,
    set_up_plan,
    promise_to_pay,
    decline_options,
    use_saved_card,
    keep_card_for_next_time,
    capture_card,
    confirm_and_charge,
    send_payment_link,
    send_receipt,
    end_call,
    transfer_to_human,
]

__all__ = [
    "ALL_TOOLS",
    "capture_card",
    "confirm_and_charge",
    "decline_options",
    "end_call",
    "get_balance",
    "identify_account",
    "keep_card_for_next_time",
    "offer_payment_options",
    "promise_to_pay",
    "send_payment_link",
    "send_receipt",
    "set_amount",
    "set_up_plan",
    "transfer_to_human",
    "use_saved_card",
    "verify_identity",
]
