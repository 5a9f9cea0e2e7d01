"""The simulated caller's side of a payment link: open the texted link, then pay it or let it lapse.

Paying posts the scenario's card (``facts``) to the offline payment page, exactly as a person
would type it there; the page charges it and sends the signed webhook. Either way the caller then
waits until the agent, holding the line, has seen the result.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Literal

import aiohttp

from agent.workflow import LinkStatus
from evals.scenario import Scenario
from voicepay.sms import OutboxSmsSender

if TYPE_CHECKING:
    from agent.text_call import TextCall
    from agent.voice_call import VoiceCall

SEEN_TIMEOUT_S = 5.0
"""How long the caller waits for the agent to notice the paid or expired link."""
_URL = re.compile(r"https?://\S+/pay/[A-Za-z0-9_]+")


async def act_on_link(
    call: TextCall | VoiceCall, action: Literal["pay", "expire"], scenario: Scenario
) -> None:
    """Pay or expire the link in the latest payment-link text; nothing happens without one."""
    url = _last_link(call)
    if url is None:
        return
    async with aiohttp.ClientSession() as client:
        if action == "pay":
            facts = scenario.facts
            form = {
                "number": facts.card_number or "",
                "expiry": facts.expiry or "",
                "cvc": facts.security_code or "",
            }
            async with client.post(url, data=form) as response:
                await response.read()
        else:
            async with client.post(url.replace("/pay/", "/expire/")) as response:
                await response.read()
    await _until_seen(call)
    await call.settle()


def _last_link(call: TextCall | VoiceCall) -> str | None:
    sender = call.call.services.sms
    if not isinstance(sender, OutboxSmsSender):
        return None
    texts = [m["body"] for m in sender.messages() if m["purpose"] == "payment_link"]
    found = _URL.search(texts[-1]) if texts else None
    return found.group() if found else None


async def _until_seen(call: TextCall | VoiceCall) -> None:
    """Wait until the call's own view of the link is no longer open (or give up)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SEEN_TIMEOUT_S
    while loop.time() < deadline:
        if (await call.call.state()).link_status is not LinkStatus.OPEN:
            return
        await asyncio.sleep(0.01)
