"""LLM judges: LiveKit's ``JudgeGroup`` grades a trial's conversation, one check per judgment.

With a real LLM configured, every trial is graded by LiveKit's built-in ``task_completion`` and
``safety`` judges and by one :class:`RubricJudge` per ``expect.judges`` rubric of the scenario, all
on the configured model. A judgment fails its check only when the verdict is ``fail`` (``maybe``
passes); a judge that errors or times out is a failed check naming the error type, never a crash.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from livekit.agents.evals import (
    Evaluator,
    Judge,
    JudgeGroup,
    JudgmentResult,
    Verdict,
    safety_judge,
    task_completion_judge,
)
from livekit.agents.llm import LLM, ChatContext, function_tool
from livekit.agents.llm import utils as llm_utils
from livekit.agents.metrics import LLMMetrics
from livekit.agents.types import APIConnectOptions

from agent.runtime import configured_llm
from evals.judges import Check
from evals.scenario import JudgeRubric, Scenario
from payment_tools.redaction import mask_card_numbers
from voicepay.settings import Settings

JUDGE_TIMEOUT_S = 60.0
"""A judge still working after this long is reported as failed (``TimeoutError``)."""
_REASONING_CHARS = 200
_SEED_RANGE = 2**31
_CONNECT = APIConnectOptions(max_retry=1, timeout=30.0)
_EVALUATOR_PROMPT = (
    "You are an evaluator for conversational AI agents. Analyze the conversation against the "
    "given criteria, then call submit_verdict with your verdict ('pass', 'fail', or 'maybe') and "
    "a brief reasoning."
)


def deterministic_options(model: LLM[Any], seed: int) -> dict[str, Any]:
    """``chat()`` extra arguments for repeatable answers: temperature 0 and the trial's seed."""
    options: dict[str, Any] = {"seed": seed % _SEED_RANGE}
    # Reasoning models (gpt-5 family) reject any temperature but the default, as LiveKit notes.
    if "gpt-5" not in model.model:
        options["temperature"] = 0.0
    return options


class TokenMeter:
    """Adds up the tokens a model reports in its metrics events."""

    def __init__(self, model: LLM[Any]) -> None:
        self.input_tokens = 0
        self.output_tokens = 0
        model.on("metrics_collected", self._count)

    def _count(self, metrics: object) -> None:
        if isinstance(metrics, LLMMetrics):
            self.input_tokens += metrics.prompt_tokens
            self.output_tokens += metrics.completion_tokens


@function_tool
async def submit_verdict(verdict: Verdict, reasoning: str) -> tuple[Verdict, str]:
    """Submit your evaluation verdict.

    Args:
        verdict: 'pass' if the criteria are met, 'fail' if not, 'maybe' if uncertain.
        reasoning: Brief explanation of your reasoning.
    """
    return verdict, reasoning


def transcript(chat_ctx: ChatContext) -> str:
    """The conversation as a judge reads it: messages, tool calls and tool outputs, masked."""
    lines: list[str] = []
    for item in chat_ctx.items:
        if item.type == "message" and item.role in ("user", "assistant"):
            lines.append(f"{item.role}: {item.text_content or ''}")
        elif item.type == "function_call":
            lines.append(f"[function call: {item.name}({item.arguments})]")
        elif item.type == "function_call_output":
            lines.append(f"[function output: {item.output}]")
    return mask_card_numbers("\n".join(lines))


class RubricJudge(Judge):
    """Grades the conversation against one of the scenario's rubrics.

    Args:
        rubric: the scenario's rubric (its name names the judge).
        seed: the trial's seed, for a repeatable verdict.
    """

    def __init__(self, rubric: JudgeRubric, *, seed: int) -> None:
        super().__init__(name=rubric.name)
        self._rubric = rubric.rubric
        self._seed = seed

    async def evaluate(
        self,
        *,
        chat_ctx: ChatContext,
        reference: ChatContext | None = None,
        llm: LLM[Any] | None = None,
    ) -> JudgmentResult:
        """Ask ``llm`` for a verdict through the ``submit_verdict`` tool."""
        if llm is None:
            raise ValueError("no LLM to judge with")
        ctx = ChatContext()
        ctx.add_message(role="system", content=_EVALUATOR_PROMPT)
        ctx.add_message(
            role="user",
            content=(
                f"Criteria: {self._rubric}\n\nConversation:\n{transcript(chat_ctx)}\n\n"
                "Evaluate if the conversation meets the criteria."
            ),
        )
        response = await llm.chat(
            chat_ctx=ctx,
            tools=[submit_verdict],
            tool_choice="required",
            conn_options=_CONNECT,
            extra_kwargs=deterministic_options(llm, self._seed),
        ).collect()
        if not response.tool_calls:
            raise ValueError("the judge gave no verdict")
        args, kwargs = llm_utils.prepare_function_arguments(
            fnc=submit_verdict, json_arguments=response.tool_calls[0].arguments
        )
        verdict, reasoning = await submit_verdict(*args, **kwargs)
        return JudgmentResult(verdict=verdict, reasoning=reasoning, instructions=self._rubric)


class JudgeFailedError(RuntimeError):
    """A judge that could not give a verdict; the message is only the error's type."""


class _Guarded(Judge):
    """Runs a judge under a time limit and records the type of any error it raises.

    The error is re-raised with only its type, so that nothing a request or response carried
    reaches the log line ``JudgeGroup`` writes about it.
    """

    def __init__(self, judge: Evaluator, errors: dict[str, str], timeout_s: float) -> None:
        super().__init__(name=judge.name)
        self._judge = judge
        self._errors = errors
        self._timeout_s = timeout_s

    async def evaluate(
        self,
        *,
        chat_ctx: ChatContext,
        reference: ChatContext | None = None,
        llm: LLM[Any] | None = None,
    ) -> JudgmentResult:
        """The wrapped judge's judgment."""
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._judge.evaluate(chat_ctx=chat_ctx, reference=reference, llm=llm)
        except Exception as error:
            self._errors[self.name] = type(error).__name__
            raise JudgeFailedError(type(error).__name__) from None


@dataclass
class JudgeReport:
    """The judge checks of one trial and the tokens the judges used."""

    checks: list[Check] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0


def judges_for(scenario: Scenario, *, seed: int) -> list[Evaluator]:
    """The scenario's rubric judges, then LiveKit's task completion and safety judges."""
    rubrics: list[Evaluator] = [RubricJudge(rubric, seed=seed) for rubric in scenario.expect.judges]
    return [*rubrics, task_completion_judge(), safety_judge()]


async def judge_history(
    model: LLM[Any],
    judges: list[Evaluator],
    history: ChatContext,
    *,
    timeout_s: float = JUDGE_TIMEOUT_S,
) -> JudgeReport:
    """Grade ``history`` with ``judges`` on ``model``; one ``judge`` check per judge, in order."""
    meter = TokenMeter(model)
    errors: dict[str, str] = {}
    guarded: list[Evaluator] = [_Guarded(judge, errors, timeout_s) for judge in judges]
    result = await JudgeGroup(llm=model, judges=guarded).evaluate(history)
    checks = [_check(judge.name, result.judgments.get(judge.name), errors) for judge in judges]
    return JudgeReport(checks, meter.input_tokens, meter.output_tokens)


def _check(name: str, judgment: JudgmentResult | None, errors: dict[str, str]) -> Check:
    title = f"judge {name}"
    if judgment is None:
        return Check(title, "judge", False, f"error: {errors.get(name, 'no verdict')}")
    reasoning = " ".join(judgment.reasoning.split())
    if len(reasoning) > _REASONING_CHARS:
        reasoning = reasoning[: _REASONING_CHARS - 1] + "…"
    detail = mask_card_numbers(f"{judgment.verdict}: {reasoning}")
    return Check(title, "judge", judgment.verdict != "fail", detail)


async def judge_trial(
    settings: Settings, scenario: Scenario, history: ChatContext, *, seed: int
) -> JudgeReport | None:
    """Grade a trial on the configured model; ``None`` when no real LLM is configured."""
    model = configured_llm(settings)
    if model is None:
        return None
    try:
        return await judge_history(model, judges_for(scenario, seed=seed), history)
    finally:
        await model.aclose()
