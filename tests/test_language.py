"""The call's language: the keypad key at the greeting, a spoken request, or the first words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from redis.asyncio import Redis

from agent.human_desk import SimulatedDesk
from agent.language import detect_language, other_language
from agent.runtime import open_call, open_services
from agent.text_call import TextCall
from payment_tools.gateway import SandboxGateway
from prompts import PromptBook
from voicepay.accounts import AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.settings import EscalationSettings, LanguageSettings, Settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bonjour, je voudrais payer ma facture. Mon numéro de compte est le 40 11 22 33.", "fr"),
        ("Oui, c'est ça, je règle la totalité s'il vous plaît.", "fr"),
        ("quatre zéro un un deux deux trois trois", "fr"),
        ("Hi there, I want to pay my bill. My account number is 5 0 2 2 3 3 4 4.", "en"),
        ("I'd like to pay the full balance please", "en"),
        ("four oh one one two two three three", "en"),
        ("40112233", None),
        ("OK", None),
        ("", None),
    ],
)
def test_the_first_words_say_the_language(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


def test_the_recognisers_language_breaks_a_near_tie() -> None:
    assert detect_language("Oui") is None
    assert detect_language("Oui", hint="fr-FR") == "fr"
    assert detect_language("Oui, merci", hint="en-US") is None
    assert detect_language("Yes", hint="fr") is None
    assert detect_language("Yes", hint="en") == "en"


@given(st.text(max_size=200), st.sampled_from([None, "en", "fr", "fr-FR", "de", ""]))
def test_detection_is_deterministic_and_total(text: str, hint: str | None) -> None:
    first = detect_language(text, hint)
    assert first in (None, "en", "fr")
    assert detect_language(text, hint) == first


@given(st.text(alphabet="0123456789 #*", max_size=40))
def test_digits_alone_never_choose_a_language(text: str) -> None:
    assert detect_language(text) is None


def test_the_language_key_cannot_be_the_transfer_key() -> None:
    with pytest.raises(ValidationError, match="keypad_transfer_key"):
        Settings(
            language=LanguageSettings(keypad_key="5"),
            escalation=EscalationSettings(keypad_transfer_key="5"),
        )
    with pytest.raises(ValidationError):
        LanguageSettings(keypad_key="0")
    assert (other_language("en"), other_language("fr")) == ("fr", "en")


@pytest.fixture
async def english_call(redis: Redis, tmp_path: Path) -> AsyncIterator[TextCall]:
    settings = Settings()
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    async with open_services(
        settings,
        redis,
        outbox_dir=tmp_path / "outbox",
        gateway=SandboxGateway(),
        humans=SimulatedDesk(),
    ) as services:
        call = await open_call(services, language="en")
        text_call = TextCall(call)
        await text_call.start()
        yield text_call
        await text_call.close()


def _said(text_call: TextCall) -> list[str]:
    return [str(e.data["text"]) for e in text_call.call.events.history if e.kind == "agent_said"]


def _switches(text_call: TextCall) -> list[tuple[str, str]]:
    history = text_call.call.events.history
    return [(str(e.data["target"]), str(e.data["reason"])) for e in history if e.kind == "language"]


async def test_the_greeting_offers_the_other_language_on_the_keypad(
    english_call: TextCall,
) -> None:
    assert _said(english_call)[0].endswith("Pour le français, appuyez sur le 9, puis sur dièse.")


async def test_pressing_the_language_key_switches_prompts_state_and_instructions(
    english_call: TextCall,
) -> None:
    call = english_call.call
    await english_call.press("9#")
    french = PromptBook.load("fr")
    assert call.prompts is french and (await call.state()).language == "fr"
    assert english_call.agent.instructions == french.instructions()
    assert _said(english_call)[-1] == (
        "Très bien, continuons en français. " + french.text("identify.ask")
    )
    assert _switches(english_call) == [("fr", "keypad")]
    await english_call.say("Mon numéro de compte est le 40 11 22 33.")
    assert _said(english_call)[-1] == french.text("auth.ask.dob")


async def test_french_first_words_switch_the_call_to_french(english_call: TextCall) -> None:
    await english_call.say("Bonjour, mon numéro de compte est le 40 11 22 33.")
    assert _switches(english_call) == [("fr", "detected")]
    assert _said(english_call)[-1] == PromptBook.load("fr").text("auth.ask.dob")
    await english_call.say("Hello, can you hear me? I want to pay my bill.")
    assert _switches(english_call) == [("fr", "detected")], "only the first words are scored"


async def test_the_key_is_ignored_once_the_caller_is_identified(english_call: TextCall) -> None:
    await english_call.say("My account number is 5 0 2 2 3 3 4 4.")
    await english_call.press("9#")
    assert english_call.call.language == "en" and _switches(english_call) == []


async def test_a_caller_may_ask_for_french_later_in_the_call(english_call: TextCall) -> None:
    await english_call.say("My account number is 5 0 2 2 3 3 4 4.")
    await english_call.press("04071990#")
    await english_call.say("Can we do this in French please?")
    assert _switches(english_call) == [("fr", "request")]
    assert english_call.call.prompts.language == "fr"
