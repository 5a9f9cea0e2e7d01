from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from livekit.plugins import deepgram, openai
from pydantic import SecretStr

from agent.speech.config import (
    Provider,
    SpeechConfigError,
    SpeechSettings,
    SpeechSetup,
    stt_provider,
    tts_provider,
)
from agent.speech.factory import make_stt, make_tts

Choice = Literal["auto", "offline", "deepgram", "openai"]
KEY = SecretStr("k-123")


def setup(*, deepgram_key: bool = False, openai_key: bool = False, **speech: object) -> SpeechSetup:
    return SpeechSetup(
        SpeechSettings.model_validate(speech),
        deepgram_key=KEY if deepgram_key else None,
        openai_key=KEY if openai_key else None,
    )


def test_auto_uses_the_offline_pair_without_keys() -> None:
    config = setup()
    assert stt_provider(config) == "offline"
    assert tts_provider(config, "en") == "offline"
    assert tts_provider(config, "fr") == "offline"


def test_auto_prefers_deepgram_for_stt_and_openai_for_tts() -> None:
    config = setup(deepgram_key=True, openai_key=True)
    assert stt_provider(config) == "deepgram"
    assert tts_provider(config, "fr") == "openai"


def test_deepgram_tts_only_for_languages_with_a_voice() -> None:
    config = setup(deepgram_key=True)
    assert tts_provider(config, "en") == "deepgram"
    assert tts_provider(config, "fr") == "offline"
    with pytest.raises(SpeechConfigError, match="no Deepgram voice"):
        tts_provider(setup(deepgram_key=True, tts_provider="deepgram"), "fr")


def test_an_explicit_cloud_choice_needs_its_key() -> None:
    with pytest.raises(SpeechConfigError, match="DEEPGRAM_API_KEY"):
        stt_provider(setup(stt_provider="deepgram"))
    with pytest.raises(SpeechConfigError, match="OPENAI_API_KEY"):
        tts_provider(setup(tts_provider="openai"), "en")
    assert stt_provider(setup(deepgram_key=True, stt_provider="offline")) == "offline"


@given(
    choice=st.sampled_from(["auto", "offline", "deepgram", "openai"]),
    deepgram_key=st.booleans(),
    openai_key=st.booleans(),
    language=st.sampled_from(["en", "fr"]),
)
def test_a_resolved_provider_always_has_what_it_needs(
    choice: Choice, deepgram_key: bool, openai_key: bool, language: Literal["en", "fr"]
) -> None:
    config = setup(
        deepgram_key=deepgram_key, openai_key=openai_key, stt_provider=choice, tts_provider=choice
    )
    keys: dict[Provider, bool] = {"offline": True, "deepgram": deepgram_key, "openai": openai_key}
    resolvers: list[Callable[[], Provider]] = [
        lambda: stt_provider(config),
        lambda: tts_provider(config, language),
    ]
    for resolve in resolvers:
        try:
            provider = resolve()
        except SpeechConfigError:
            assert choice != "auto" and choice != "offline"
            continue
        assert keys[provider]
        assert choice in ("auto", provider)


def test_factories_build_the_cloud_plugins_with_keys() -> None:
    config = setup(deepgram_key=True, openai_key=True, deepgram_base_url="http://127.0.0.1:9/")
    stt = make_stt(config, "fr")
    assert isinstance(stt, deepgram.STT)
    assert stt.model == "nova-3"
    assert isinstance(make_tts(config, "en"), openai.TTS)
    assert isinstance(make_tts(setup(deepgram_key=True), "en"), deepgram.TTS)
    assert isinstance(make_stt(setup(openai_key=True, stt_provider="openai"), "en"), openai.STT)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_factories_fall_back_to_the_offline_pair() -> None:
    config = setup(deepgram_key=True)
    tts = make_tts(config, "fr")
    assert (tts.provider, tts.model) == ("espeak-ng", "fr-fr")
    assert make_tts(setup(), "en").sample_rate == 16_000


def test_offline_tts_needs_espeak_ng() -> None:
    config = setup(offline_tts={"executable": "no-such-espeak"})
    with pytest.raises(SpeechConfigError, match="not installed"):
        make_tts(config, "en")
