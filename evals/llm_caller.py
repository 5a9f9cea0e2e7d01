"""A goal-driven simulated caller: a model plays the caller from a persona, a goal and facts.

Each turn the model sees its persona, its goal, the names of the facts it knows and what the agent
has said so far, and answers with one JSON action: ``{"say": "..."}``, ``{"keys": "<fact>"}`` or
``{"hangup": true}``. It never sees a fact's digits: for ``keys`` the harness presses them (and
``#``) itself. Whatever the agent said that holds the caller's card data is withheld from it too.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livekit.agents.llm import LLM, ChatContext

from agent.call_context import CallServices
from agent.runtime import configured_llm
from agent.text_call import TextCall
from evals.leak_scan import CardSecrets, LeakScanner
from evals.llm_judges import deterministic_options
from evals.scenario import CallerTurn, CardField, HangUpTurn, KeysTurn, SayTurn, Scenario
from evals.simulated_call import CallRun, ModelFactory, run_scenario
from payment_tools.redaction import CARD_DATA_TOKEN, mask_card_numbers

MAX_TURNS = 20
"""The most actions a simulated caller takes in one call."""
CALLER_INSTRUCTIONS = "You play the CALLER in a phone call to an automated payment assistant."
"""The first line of the simulated caller's system prompt."""
_CARD_FIELDS: dict[str, CardField] = {
    "card_number": "number",
    "expiry": "expiry",
    "security_code": "security_code",
}
_FORMAT = """Each user message is what the assistant just said. Reply with exactly ONE JSON object \
and nothing else, one of:
{"say": "<your words>"} to speak;
{"keys": "<fact name>"} to type one of your facts on the keypad (the phone types its digits and \
the hash key for you: you never see or say the digits yourself);
{"hangup": true} to hang up, once your goal is reached or cannot be reached.
Type a fact whenever the assistant asks for it; never say card details aloud."""
_INVALID = (
    "(Your last reply was not one valid action. Reply with one JSON object: say, keys with "
    "one of your fact names, or hangup.)"
)


def caller_instructions(scenario: Scenario) -> str:
    """The simulated caller's system prompt: role, persona, goal, fact names and the format."""
    facts = ", ".join(scenario.facts.known()) or "none"
    return "\n".join(
        [
            CALLER_INSTRUCTIONS,
            f"Persona: {scenario.persona or 'an ordinary customer'}",
            f"Your goal: {scenario.goal}",
            f"Facts you can type: {facts}.",
            _FORMAT,
        ]
    )


def parse_action(text: str) -> dict[str, Any] | None:
    """The JSON object in a model's reply (models sometimes wrap it in prose), if any."""
    start, end = text.find("{"), text.rfind("}")
    if not 0 <= start < end:
        return None
    try:
        action = json.loads(text[start : end + 1])
    except ValueError:
        return None
    return action if isinstance(action, dict) else None


def to_turn(action: dict[str, Any], facts: dict[str, str]) -> CallerTurn | None:
    """The turn an action asks for, with the named fact's digits keyed; ``None`` if invalid."""
    match action:
        case {"say": str(words)} if len(action) == 1 and words.strip():
            return SayTurn(say=words.strip())
        case {"keys": str(name)} if len(action) == 1 and name in facts:
            return KeysTurn(keys=facts[name] + "#", card=_CARD_FIELDS.get(name))
        case {"hangup": True} if len(action) == 1:
            return HangUpTurn(hangup=True)
    return None


class GoalCaller:
    """Plays the caller's side of one call with a model.

    Args:
        model: the model that plays the caller (not the agent's).
        scenario: the persona, goal and facts.
        seed: the trial's seed, for repeatable answers.
        max_turns: the most actions to take.
    """

    def __init__(
        self, model: LLM[Any], scenario: Scenario, *, seed: int, max_turns: int = MAX_TURNS
    ) -> None:
        self._model = model
        self._facts = scenario.facts.known()
        self._scanner = LeakScanner(CardSecrets.from_scenario(scenario))
        self._options = deterministic_options(model, seed)
        self._max_turns = max_turns
        self._context = ChatContext()
        self._context.add_message(role="system", content=caller_instructions(scenario))
        self.turns: list[CallerTurn] = []
        """The turns played, in order."""
        self.input_tokens = 0
        self.output_tokens = 0

    def _heard(self, text: str) -> str:
        masked = mask_card_numbers(text)
        return CARD_DATA_TOKEN if self._scanner.scan_text("agent", masked) else masked

    async def _next(self, heard: list[str], note: str) -> tuple[CallerTurn | None, str]:
        said = "\n".join(self._heard(line) for line in heard) or "(silence)"
        self._context.add_message(role="user", content=f"{note}\n{said}".strip())
        response = await self._model.chat(
            chat_ctx=self._context, extra_kwargs=self._options
        ).collect()
        if response.usage is not None:
            self.input_tokens += response.usage.prompt_tokens
            self.output_tokens += response.usage.completion_tokens
        action = parse_action(response.text)
        turn = to_turn(action, self._facts) if action is not None else None
        # The model's own words back, facts by name: the digits never enter its context.
        reply = json.dumps(action, ensure_ascii=False) if turn is not None else response.text
        self._context.add_message(role="assistant", content=reply)
        return turn, "" if turn is not None else _INVALID

    async def play(self, call: TextCall) -> list[float]:
        """Take turns until the call ends or ``max_turns``; returns each played turn's ms."""
        timings: list[float] = []
        events = call.call.events.history
        seen, note = 0, ""
        for _ in range(self._max_turns):
            if call.over:
                break
            heard = [str(e.data.get("text", "")) for e in events[seen:] if e.kind == "agent_said"]
            seen = len(events)
            turn, note = await self._next(heard, note)
            started = time.perf_counter()
            if isinstance(turn, SayTurn):
                await call.say(turn.say)
            elif isinstance(turn, KeysTurn):
                await call.press(turn.keys)
            elif isinstance(turn, HangUpTurn):
                await call.hang_up()
            else:
                continue
            timings.append((time.perf_counter() - started) * 1000)
            self.turns.append(turn)
        return timings


@dataclass
class GoalRun:
    """A call played by a simulated caller, and what the caller's model used."""

    run: CallRun
    turns: list[CallerTurn]
    input_tokens: int
    output_tokens: int


async def run_goal_call(
    services: CallServices,
    scenario: Scenario,
    *,
    seed: int,
    out_dir: Path,
    call_id: str,
    model: ModelFactory | None = None,
) -> GoalRun | None:
    """Run ``scenario`` as one call with a goal-driven caller (as ``run_scenario`` does a script).

    Returns ``None``, having done nothing, when the scenario has no goal or no LLM is configured.

    Args:
        services: the process's services.
        scenario: the persona, goal and facts of the caller.
        seed: the trial's seed.
        out_dir: where to write the call's artefacts.
        call_id: the call's id.
        model: builds the call's LLM instead of the configured one.
    """
    caller_model = configured_llm(services.settings) if scenario.goal else None
    if caller_model is None:
        return None
    caller = GoalCaller(caller_model, scenario, seed=seed)
    try:
        run = await run_scenario(
            services, scenario, out_dir=out_dir, call_id=call_id, model=model, player=caller.play
        )
    finally:
        await caller_model.aclose()
    return GoalRun(run, caller.turns, caller.input_tokens, caller.output_tokens)
