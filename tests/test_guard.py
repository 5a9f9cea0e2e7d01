"""The last line of defence: no LLM request ever carries a card number, even if redaction fails."""

from __future__ import annotations

from pathlib import Path

from livekit.agents import llm
from redis.asyncio import Redis
from scripted_llm import ScriptedToolLLM

from agent.guard import holds_card_number
from agent.ingress import CallerIngress
from agent.runtime import open_call, open_services
from agent.text_call import TextCall
from evals.leak_scan import iter_strings
from payment_tools.redaction import contains_luhn_run
from voicepay.accounts import AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.settings import Settings


def context(*texts: str, tool_output: str | None = None) -> llm.ChatContext:
    ctx = llm.ChatContext.empty()
    for text in texts:
        ctx.add_message(role="user", content=text)
    if tool_output is not None:
        ctx.items.append(llm.FunctionCall(call_id="c", name="t", arguments="{}"))
        ctx.items.append(
            llm.FunctionCallOutput(call_id="c", name="t", output=tool_output, is_error=False)
        )
    return ctx


def test_the_guard_sees_messages_arguments_and_tool_outputs() -> None:
    assert holds_card_number(context("my card is 4242 4242 4242 4242"))
    assert holds_card_number(context("hi", tool_output='{"x": "5555-5555-5555-4444"}'))
    assert not holds_card_number(context("account 50223344, pay $259.99, card ending 4242"))


class LeakyIngress(CallerIngress):
    """A broken ingress that forgets to redact: the variant the guard must catch."""

    def redact(self, text: str) -> str:
        return text

    async def accept(self, text: str, *, language: str | None = None) -> str | None:
        self._call.events.emit("caller_said", text="(unredacted)")
        return text


async def test_an_unredacted_card_number_never_reaches_the_model(
    redis: Redis, tmp_path: Path
) -> None:
    settings = Settings()
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    async with open_services(settings, redis, outbox_dir=tmp_path) as services:
        call = await open_call(services, language="en")
        model = ScriptedToolLLM()
        text_call = TextCall(call, model=model)
        text_call.agent.ingress = LeakyIngress(call)
        await text_call.start()
        await text_call.say("my card is 4242 4242 4242 4242")
        await text_call.say("sorry, what should I do?")
        await text_call.close()
    assert model.requests, "the model was never asked anything"
    texts = [text for request in model.requests for text in iter_strings(request)]
    assert not [text for text in texts if contains_luhn_run(text)]
    assert "guard_alert" in [e.kind for e in call.events.history]
    assert "[card data removed]" in str(model.requests[0])
