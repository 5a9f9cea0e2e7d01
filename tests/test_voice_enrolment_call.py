"""Voice ID in the call: enrolment offered after a keypad-verified call, and the step-up factors.

Full simulated calls with real recordings (FSDD speakers), the production agent in text mode, the
directed-dialog model and a real Redis: the caller who agrees is enrolled from what they say on the
call and is recognised by voice on their next call; a caller who says no is not asked again; when
the voice cannot vouch for the caller, the keypad factors and the texted one-time code decide.
"""

from __future__ import annotations

import base64
import random
import re
from pathlib import Path

from pydantic import SecretStr
from redis.asyncio import Redis
from shared_speech import needs_shared_data

from agent.call_context import CallServices
from agent.runtime import open_services
from agent.voice_identity import VoiceAuth
from evals.scenario import DEMO_DIR, KeysTurn, Scenario, SmsCodeTurn, load_scenario
from evals.simulated_call import CallRun, run_scenario
from evals.trial import enrol_voiceprint
from voice_auth.config import VoiceAuthSettings
from voicepay.accounts import AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.settings import Settings

SUITE = DEMO_DIR.parent / "voice-auth"
OFFER = "recognise you by your voice"
ACCOUNT = "50229911"


async def _call(
    redis: Redis,
    scenario: Scenario,
    out: Path,
    *,
    seed: int = 7,
    settings: Settings | None = None,
) -> tuple[CallRun, CallServices]:
    settings = settings or Settings()
    async with open_services(settings, redis, outbox_dir=out / "outbox") as services:
        services.voice = VoiceAuth(
            settings.voice_auth,
            settings.environment,
            redis,
            services.lockout,
            rng=random.Random(seed),
        )
        if scenario.voiceprint is not None:
            await enrol_voiceprint(services, scenario.voiceprint)
        run = await run_scenario(services, scenario, out_dir=out)
        return run, services


def _files_holding(directory: Path, text: str) -> list[Path]:
    return [p for p in sorted(directory.rglob("*")) if p.is_file() and text in p.read_text()]


def _agent_said(run: CallRun) -> str:
    return " ".join(str(e.data.get("text", "")) for e in run.events if e.kind == "agent_said")


@needs_shared_data
async def test_a_caller_who_agrees_is_enrolled_and_recognised_next_time(
    redis: Redis, tmp_path: Path
) -> None:
    await AccountRepository(redis, Settings().auth.pepper).load_fixture(DEMO_ACCOUNTS)
    enrolment = load_scenario(SUITE / "voice-enrolment-in-call.yaml")
    first, services = await _call(redis, enrolment, tmp_path / "first")
    assert first.state.outcome == "paid" and first.state.auth_method == "knowledge_factor"
    assert [e.data for e in first.events if e.kind == "voice_enrolment"] == [
        {"consent": True, "enrolled": True}
    ]
    assert services.voice is not None
    record = await (await services.voice.service()).store.get(ACCOUNT)
    assert record is not None and record.consent.call_id == first.state.call_id
    assert "spoken yes" in record.consent.method and record.quality.speech_seconds >= 10

    next_call = Scenario.model_validate(
        {
            "name": "theo-calls-again",
            "language": "en",
            "caller": [
                {
                    "voice": [f"fsdd/recordings/{d}_theo_12.wav" for d in ACCOUNT],
                    "transcript": " ".join(ACCOUNT),
                },
                {"challenge_answer": "theo", "take": 40},
                {"challenge_answer": "theo", "take": 41},
                {"say": "The minimum payment."},
                {"keys": "5555555555554444#", "card": "number"},
                {"keys": "0429#", "card": "expiry"},
                {"keys": "316#", "card": "security_code"},
                {"say": "Yes."},
                {"say": "No."},
            ],
        }
    )
    second, _ = await _call(redis, next_call, tmp_path / "second")
    assert second.state.outcome == "paid"
    assert second.state.auth_method == "voice_and_challenge"
    keypad_purposes = {e.data.get("purpose") for e in second.events if e.kind == "keypad_entry"}
    assert "knowledge_factor" not in keypad_purposes
    assert OFFER not in _agent_said(second)


@needs_shared_data
async def test_a_caller_who_says_no_is_not_asked_again(redis: Redis, tmp_path: Path) -> None:
    await AccountRepository(redis, Settings().auth.pepper).load_fixture(DEMO_ACCOUNTS)
    declines = load_scenario(SUITE / "voice-no-voiceprint.yaml")
    first, services = await _call(redis, declines, tmp_path / "first")
    assert OFFER in _agent_said(first)
    assert [e.data for e in first.events if e.kind == "voice_enrolment"] == [
        {"consent": False, "enrolled": False}
    ]
    assert services.voice is not None and not await services.voice.enrolled(ACCOUNT)
    again, _ = await _call(redis, declines, tmp_path / "again")
    assert again.state.outcome == "paid"
    assert OFFER not in _agent_said(again)


async def test_a_text_only_caller_is_never_offered_voice_id(redis: Redis, tmp_path: Path) -> None:
    await AccountRepository(redis, Settings().auth.pepper).load_fixture(DEMO_ACCOUNTS)
    typed = load_scenario(DEMO_DIR / "happy-path.yaml")
    run, _ = await _call(redis, typed, tmp_path)
    assert run.state.outcome == "paid"
    assert OFFER not in _agent_said(run)
    assert not [e for e in run.events if e.kind == "voice_enrolment"]


@needs_shared_data
async def test_the_texted_code_is_typed_but_never_heard_logged_or_stored(
    redis: Redis, tmp_path: Path
) -> None:
    await AccountRepository(redis, Settings().auth.pepper).load_fixture(DEMO_ACCOUNTS)
    scenario = load_scenario(SUITE / "voice-doubtful-sms-code.yaml")
    run, _ = await _call(redis, scenario, tmp_path)
    assert run.state.outcome == "paid"
    assert run.state.auth_method == "voice_doubtful+knowledge_factor+sms_code"
    (sms,) = _files_holding(tmp_path / "outbox", '"one_time_code"')
    code = re.search(r"\b\d{6}\b", sms.read_text())
    assert code is not None
    assert _files_holding(tmp_path, code.group()) == [sms]
    for key in await redis.keys("*"):
        dumped = await redis.dump(key)
        assert dumped is None or code.group().encode() not in dumped, key
    assert code.group() not in str(run.history.to_dict())


@needs_shared_data
async def test_an_unreadable_voiceprint_falls_back_to_the_keypad_factors(
    redis: Redis, tmp_path: Path
) -> None:
    def keyed(seed: bytes) -> Settings:
        key = SecretStr(base64.b64encode(seed * 32).decode())
        return Settings(voice_auth=VoiceAuthSettings(key=key))

    await AccountRepository(redis, Settings().auth.pepper).load_fixture(DEMO_ACCOUNTS)
    genuine = load_scenario(SUITE / "voice-genuine-caller.yaml")
    await _call(redis, genuine, tmp_path / "enrolled", settings=keyed(b"a"))
    await AccountRepository(redis, Settings().auth.pepper).load_fixture(DEMO_ACCOUNTS)
    after_key_change = genuine.model_copy(
        update={
            "voiceprint": None,
            "caller": [
                genuine.caller[0],
                KeysTurn(keys="04071990#"),
                SmsCodeTurn(sms_code="received"),
                *genuine.caller[3:],
            ],
        }
    )
    run, _ = await _call(redis, after_key_change, tmp_path / "rotated", settings=keyed(b"b"))
    assert run.state.outcome == "paid"
    assert run.state.auth_method == "voice_doubtful+knowledge_factor+sms_code"
    checks = [e.data["decision"] for e in run.events if e.kind == "voice_check"]
    assert checks == ["unreadable"]
