"""One trial: a scenario run once through the real agent, judged and scanned for leaks."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from redis.asyncio import Redis

from agent.call_context import CallContext, CallServices
from agent.human_desk import SimulatedDesk
from agent.offline_llm import DirectedDialogLLM
from agent.recorder import RECORDING_FILE
from agent.runtime import build_llm, open_services
from agent.voice_identity import VoiceAuth
from evals.faulty_llm import FaultyLLM
from evals.judges import (
    Check,
    behaviour_checks,
    containment_check,
    policy_checks,
    task_checks,
)
from evals.leak_scan import CardSecrets, Leak, LeakScanner, iter_strings
from evals.llm_caller import GoalRun, run_goal_call
from evals.llm_judges import JudgeReport, judge_trial
from evals.saved_card_setup import keep_card_on_file
from evals.scenario import Scenario, VoiceprintSetup
from evals.shared_data import load_clips
from evals.simulated_call import CallMode, CallRun, ModelFactory, run_scenario
from payment_tools.gateway import Fault, FaultPlan, SandboxGateway
from payment_tools.redaction import mask_card_numbers
from voicepay.accounts import AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.logging_setup import JsonFormatter, install_pii_filter
from voicepay.settings import Settings

LLMMode = Literal["offline", "openai"]
TRIAL_TIMEOUT_S = 120.0
"""A trial still running after this long is stopped and reported as an error."""
VOICE_TRIAL_TIMEOUT_S = 600.0
"""The same for a voice-mode trial (speech recognition runs on the CPU)."""
_WORDS_PER_SECOND = 2.6
_SECONDS_PER_KEY = 0.35


class CheckResult(BaseModel):
    """A judged check, as stored in the report."""

    name: str
    kind: str
    passed: bool
    detail: str = ""


class TrialResult(BaseModel):
    """Everything the report needs about one trial."""

    scenario: str
    file: str
    trial: int
    status: Literal["ok", "error"]
    passed: bool
    task_success: bool
    checks: list[CheckResult] = []
    error: str | None = None
    outcome: str | None = None
    expected_outcome: str | None = None
    transfer_reason: str | None = None
    expected_transfer_reason: str | None = None
    auth: str | None = None
    expected_auth: str | None = None
    leaks: list[str] = []
    turns: int = 0
    handle_time_s: float = 0.0
    turn_ms: list[float] = []
    input_tokens: int = 0
    output_tokens: int = 0
    judge_input_tokens: int = 0
    judge_output_tokens: int = 0
    caller_input_tokens: int = 0
    caller_output_tokens: int = 0
    tools: list[str] = []
    duration_s: float = 0.0
    artefacts: str = ""

    @property
    def policy_violations(self) -> int:
        """How many always-on policy rules this trial broke."""
        return sum(1 for c in self.checks if c.kind == "policy" and not c.passed)


def scenario_settings(scenario: Scenario, llm_mode: LLMMode) -> Settings:
    """The settings a scenario runs with: its overrides on top of the environment."""
    overrides: dict[str, Any] = dict(scenario.settings)
    llm_overrides = dict(overrides.pop("llm", {}))
    llm_overrides["provider"] = llm_mode
    return Settings(llm=llm_overrides, **overrides)


def _model_factory(scenario: Scenario, settings: Settings) -> ModelFactory | None:
    fault = scenario.faults.llm
    if fault is None:
        return None

    def build(call: CallContext) -> Any:
        primary = call.services.llm or DirectedDialogLLM(call)
        return build_llm(
            call, primary=FaultyLLM(primary, fail_after=fault.fail_after, mode=fault.mode)
        )

    return build


@contextmanager
def _trial_logs(path: Path) -> Iterator[None]:
    """Every log record during the trial, through the production filter, to ``logs.jsonl``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    install_pii_filter()
    previous = root.level
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.setLevel(previous)
        root.removeHandler(handler)
        handler.close()


def handle_time(run: CallRun, scenario: Scenario) -> float:
    """Simulated handle time: speech at a natural pace, key presses, and the caller's silences."""
    seconds = 0.0
    for event in run.events:
        if event.kind in ("agent_said", "caller_said"):
            seconds += len(str(event.data.get("text", "")).split()) / _WORDS_PER_SECOND
        elif event.kind == "keypad":
            seconds += int(event.data.get("keys", 0)) * _SECONDS_PER_KEY
    seconds += sum(getattr(turn, "silence", 0.0) for turn in scenario.caller[: run.turns])
    return round(seconds, 1)


async def run_trial(
    scenario: Scenario,
    *,
    file: Path,
    trial: int,
    redis: Redis,
    out_dir: Path,
    llm_mode: LLMMode,
    seed: int | None = None,
    mode: CallMode = "text",
) -> TrialResult:
    """Run, judge and scan one trial; any failure is reported in the result, never raised.

    With a real LLM, a scenario with a ``goal`` is played by a goal-driven simulated caller and
    LLM judges grade the call too; both sample with ``seed`` (by default, drawn from ``random``,
    which the runner seeds per trial). In ``voice`` mode the script is played as audio and the
    call's recording is scanned for card data too.
    """
    started = time.perf_counter()
    base = TrialResult(
        scenario=scenario.name,
        file=str(file),
        trial=trial,
        status="ok",
        passed=False,
        task_success=False,
        expected_outcome=scenario.expect.outcome,
        expected_transfer_reason=scenario.expect.transfer_reason,
        expected_auth=scenario.expect.auth,
        artefacts=str(out_dir),
    )
    if seed is None:
        seed = random.getrandbits(31) if llm_mode == "openai" else 0
    try:
        await redis.flushdb()
        with _trial_logs(out_dir / "logs.jsonl"):
            settings = scenario_settings(scenario, llm_mode)
            timeout = VOICE_TRIAL_TIMEOUT_S if mode == "voice" else TRIAL_TIMEOUT_S
            async with asyncio.timeout(timeout):
                run, goal = await _run(
                    scenario, settings, file.parent, trial, redis, out_dir, seed, mode
                )
            judged = await judge_trial(settings, scenario, run.history, seed=seed)
        leaks = await _scan(scenario, run, redis, out_dir)
        if mode == "voice":
            leaks += await _scan_recording(scenario, settings, out_dir)
    except Exception:
        detail = mask_card_numbers(traceback.format_exc(limit=6))
        return base.model_copy(
            update={"status": "error", "error": detail, "duration_s": time.perf_counter() - started}
        )
    checks = [
        *task_checks(scenario, run),
        *behaviour_checks(scenario, run, run.turns),
        *policy_checks(run),
        containment_check(leaks),
        *(judged.checks if judged is not None else []),
    ]
    task = [c for c in checks if c.kind == "task"]
    return base.model_copy(
        update={
            "passed": all(c.passed for c in checks),
            "task_success": all(c.passed for c in task),
            "checks": [CheckResult(**_as_dict(c)) for c in checks],
            "outcome": run.summary["outcome"],
            "transfer_reason": run.summary["transfer_reason"],
            "auth": run.summary["auth"]["status"],
            "leaks": sorted({f"{leak.kind}@{leak.where}" for leak in leaks}),
            "turns": run.turns,
            "handle_time_s": handle_time(run, _played(scenario, goal)),
            "turn_ms": [round(ms, 2) for ms in run.turn_ms],
            "input_tokens": run.input_tokens,
            "output_tokens": run.output_tokens,
            **_llm_tokens(goal, judged),
            "tools": [str(e.data["name"]) for e in run.events if e.kind == "tool_call"],
            "duration_s": round(time.perf_counter() - started, 3),
        }
    )


def _as_dict(check: Check) -> dict[str, Any]:
    return {"name": check.name, "kind": check.kind, "passed": check.passed, "detail": check.detail}


def _played(scenario: Scenario, goal: GoalRun | None) -> Scenario:
    """The scenario with the caller turns actually played (a simulated caller's, if any)."""
    return scenario if goal is None else scenario.model_copy(update={"caller": goal.turns})


def _llm_tokens(goal: GoalRun | None, judged: JudgeReport | None) -> dict[str, int]:
    return {
        "caller_input_tokens": goal.input_tokens if goal is not None else 0,
        "caller_output_tokens": goal.output_tokens if goal is not None else 0,
        "judge_input_tokens": judged.input_tokens if judged is not None else 0,
        "judge_output_tokens": judged.output_tokens if judged is not None else 0,
    }


async def _run(
    scenario: Scenario,
    settings: Settings,
    base_dir: Path,
    trial: int,
    redis: Redis,
    out_dir: Path,
    seed: int,
    mode: CallMode,
) -> tuple[CallRun, GoalRun | None]:
    fixture = base_dir / scenario.accounts if scenario.accounts else DEMO_ACCOUNTS
    await AccountRepository(redis, settings.auth.pepper).load_fixture(fixture)
    gateway = SandboxGateway(
        faults=FaultPlan.of(charge=[Fault(f) if f else None for f in scenario.faults.processor])
    )
    humans = SimulatedDesk(accepts=scenario.humans.accepts, after_s=scenario.humans.after_s)
    async with open_services(
        settings, redis, outbox_dir=out_dir / "outbox", gateway=gateway, humans=humans
    ) as services:
        if scenario.voiceprint is not None:
            # Challenges drawn from the trial's seed, so a scripted caller can be replayed.
            services.voice = VoiceAuth(
                settings.voice_auth,
                settings.environment,
                redis,
                services.lockout,
                rng=random.Random(seed),
            )
            await enrol_voiceprint(services, scenario.voiceprint)
        if scenario.saved_card is not None:
            await keep_card_on_file(services, scenario.saved_card, scenario.language)
        call_id, model = f"{scenario.name}-t{trial}", _model_factory(scenario, settings)
        goal = await run_goal_call(
            services, scenario, seed=seed, out_dir=out_dir, call_id=call_id, model=model
        )
        if goal is not None:
            return goal.run, goal
        run = await run_scenario(
            services, scenario, out_dir=out_dir, call_id=call_id, model=model, mode=mode
        )
        return run, None


async def enrol_voiceprint(services: CallServices, setup: VoiceprintSetup) -> None:
    """Enrol the scenario's voiceprint from the shared recordings, with a recorded consent."""
    from voice_auth.voiceprints import ConsentRecord

    if services.voice is None:
        raise RuntimeError("voice authentication is not configured")
    service = await services.voice.service()
    consent = ConsentRecord(
        given_by="caller", given_at=datetime.now(UTC), method="eval fixture", call_id="enrolment"
    )
    await service.enrol(
        setup.account,
        [load_clips(utterance) for utterance in setup.speech],
        [load_clips(counting) for counting in setup.counting],
        consent,
    )


async def _scan(scenario: Scenario, run: CallRun, redis: Redis, out_dir: Path) -> list[Leak]:
    scanner = LeakScanner(CardSecrets.from_scenario(scenario))
    # The recording is audio, not text: it is scanned as audio (_scan_recording).
    audio = f"file:{RECORDING_FILE}"
    leaks = [leak for leak in scanner.scan_files(out_dir) if not leak.where.startswith(audio)]
    leaks += await scanner.scan_redis(redis)
    leaks += scanner.scan_many("chat_history", iter_strings(run.history.to_dict()))
    leaks += scanner.scan_json("events", [event.to_json() for event in run.events])
    return leaks


async def _scan_recording(scenario: Scenario, settings: Settings, out_dir: Path) -> list[Leak]:
    from evals.recording_scan import scan_recording

    scan = await asyncio.to_thread(
        scan_recording,
        out_dir,
        CardSecrets.from_scenario(scenario),
        language=scenario.language,
        stt=settings.speech.offline_stt,
    )
    return scan.leaks()
