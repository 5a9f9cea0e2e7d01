"""The function tools the LLM may call; each one checks the workflow before acting."""

from livekit.agents import llm

from agent.tools.call_control import end_call, transfer_to_human
from agent.tools.identity import identify_account, verify_identity
from agent.tools.payment import (
    capture_card,
    confirm_and_charge,
    get_balance,
    send_receipt,
    set_amount,
)
from agent.tools.payment_link import send_payment_link

ALL_TOOLS: list[llm.Tool] = [
    identify_account,
    verify_identity,
    get_balance,
    set_amount,
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
    "end_call",
    "get_balance",
    "identify_account",
    "send_payment_link",
    "send_receipt",
    "set_amount",
    "transfer_to_human",
    "verify_identity",
]
