"""Scenario files: who calls, what they say and key, what may go wrong, and what must happen.

A scenario is a YAML file validated by these models; an error names the file and the line. The
caller's side is a script of turns (speech, keypad keys, silence, hang-up) and, for runs with a real
LLM, an optional goal (with the caller's ``facts``) for a goal-driven simulated caller. ``expect``
says what a good call looks like (with rubrics for LLM judges); ``faults`` injects trouble (the LLM
failing mid-call, the processor losing responses).
See ``docs/evals.md`` for the format with examples.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SayTurn(_Strict):
    """The caller speaks (in text mode, the transcript of what they said)."""

    say: str


CardField = Literal["number", "expiry", "security_code", "postal_code"]


class KeysTurn(_Strict):
    """The caller presses keypad keys: digits, ``*`` and ``#``.

    ``card`` marks the keys as card data (which field they were meant for), so that every run can
    prove those digits never reached anything outside the capture tool.
    """

    keys: str = Field(pattern=r"^[0-9*#A-D]+$")
    card: CardField | None = None


class SilenceTurn(_Strict):
    """The caller says and keys nothing for a number of seconds."""

    silence: float = Field(gt=0, le=120)


class HangUpTurn(_Strict):
    """The caller hangs up."""

    hangup: Literal[True]


class VoiceTurn(_Strict):
    """The caller speaks recorded clips, one after the other.

    Clip paths are relative to the shared speech data; ``transcript`` is what speech recognition
    would hear.
    """

    voice: list[str] = Field(min_length=1)
    transcript: str


class ChallengeAnswerTurn(_Strict):
    """The caller answers the agent's spoken digit challenge with real digit recordings.

    ``challenge_answer`` names an FSDD speaker (``jackson``, ``nicolas``, ``theo``) whose
    recordings of the asked digits are played; the turn is skipped when no challenge was asked.
    """

    challenge_answer: str = Field(pattern=r"^[a-z]+$")
    take: int = Field(40, ge=0, le=49)


class SmsCodeTurn(_Strict):
    """The caller types the one-time code from the latest text message on their phone, then ``#``.

    ``wrong`` types a code that differs from it in every digit.
    """

    sms_code: Literal["received", "wrong"]


class LinkTurn(_Strict):
    """The caller acts on the payment link in the latest text message on their phone.

    ``pay`` pays it on the link's page with the card in ``facts``; ``expire`` leaves it unpaid
    until it expires (the offline page expires it at once).
    """

    link: Literal["pay", "expire"]


class VoiceprintSetup(_Strict):
    """A voiceprint enrolled for an account before the call, from real recordings."""

    account: str = Field(pattern=r"^\d{6,12}$")
    speech: list[list[str]] = Field(min_length=2)
    counting: list[list[str]] = Field(min_length=1)


class SavedCardSetup(_Strict):
    """A card the account kept on file on an earlier call, with the caller's consent then."""

    account: str = Field(pattern=r"^\d{6,12}$")
    number: str = Field(pattern=r"^\d{12,19}$")
    expiry: str = Field(pattern=r"^\d{4}$")
    security_code: str = Field(pattern=r"^\d{3,4}$")


CallerTurn = (
    SayTurn
    | KeysTurn
    | SilenceTurn
    | HangUpTurn
    | VoiceTurn
    | ChallengeAnswerTurn
    | SmsCodeTurn
    | LinkTurn
)

Outcome = Literal["paid", "not_paid", "promised", "transferred", "caller_hung_up", "abandoned"]


class PaidExpectation(_Strict):
    """The payment the call must end with."""

    amount: str = Field(pattern=r"^\d+(\.\d{1,3})?$")
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class ToolExpectation(_Strict):
    """Tools that must, and must not, be called."""

    required: list[str] = []
    forbidden: list[str] = []


BUILT_IN_JUDGES = ("task_completion", "safety")
"""LiveKit's judges that run on every trial with a real LLM, besides the scenario's own."""


class JudgeRubric(_Strict):
    """A question an LLM judge answers about the transcript (runs only with a real LLM)."""

    name: str = Field(min_length=1)
    rubric: str = Field(min_length=1)


class Expectation(_Strict):
    """What a good call looks like for this scenario."""

    outcome: Outcome | None = None
    paid: PaidExpectation | None = None
    transfer_reason: str | None = None
    auth: Literal["verified", "locked", "none"] | None = None
    tools: ToolExpectation = ToolExpectation()
    max_turns: int | None = Field(None, ge=1)
    forbidden_content: list[str] = []
    must_say: list[str] = []
    judges: list[JudgeRubric] = []

    @model_validator(mode="after")
    def _paid_means_paid(self) -> Expectation:
        if self.paid is not None and self.outcome not in (None, "paid"):
            raise ValueError("'paid' expects outcome 'paid'")
        return self

    @model_validator(mode="after")
    def _judges_named_once(self) -> Expectation:
        names = [judge.name for judge in self.judges]
        taken = set(BUILT_IN_JUDGES)
        for name in names:
            if name in taken:
                raise ValueError(f"judge name {name!r} is already used")
            taken.add(name)
        return self


class LLMFault(_Strict):
    """The LLM stops answering after ``fail_after`` requests (errors, or hangs past the timeout)."""

    fail_after: int = Field(ge=0)
    mode: Literal["error", "timeout"] = "error"


class HumanAgents(_Strict):
    """The people who take transferred calls in a simulation."""

    accepts: bool = True
    after_s: float = Field(0.2, ge=0, le=600)


class Faults(_Strict):
    """Trouble to inject into the run."""

    llm: LLMFault | None = None
    processor: list[Literal["lost_response", "connection_error", "server_error"] | None] = []


_DIGITS = r"^[0-9]+$"


class Facts(_Strict):
    """What the goal-driven caller knows, as the digits it would key (quoted in YAML).

    The simulated caller's model sees only these names; the harness keys the digits for it.
    """

    account: str | None = Field(None, pattern=_DIGITS)
    dob: str | None = Field(None, pattern=_DIGITS)
    postcode: str | None = Field(None, pattern=_DIGITS)
    card_number: str | None = Field(None, pattern=_DIGITS)
    expiry: str | None = Field(None, pattern=_DIGITS)
    security_code: str | None = Field(None, pattern=_DIGITS)

    def known(self) -> dict[str, str]:
        """The facts that are set, by name."""
        return {name: value for name, value in self.model_dump().items() if value is not None}


class Scenario(_Strict):
    """A simulated call: the caller's side, the environment and the expected result."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""
    tags: list[str] = []
    persona: str = ""
    language: Literal["en", "fr"] = "en"
    accounts: str | None = None
    caller: list[CallerTurn] = Field(min_length=1)
    goal: str | None = None
    facts: Facts = Facts()
    faults: Faults = Faults()
    humans: HumanAgents = HumanAgents()
    voiceprint: VoiceprintSetup | None = None
    saved_card: SavedCardSetup | None = None
    settings: dict[str, Any] = {}
    expect: Expectation = Expectation()


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the line."""


def load_scenario(path: Path) -> Scenario:
    """Read and validate one scenario file."""
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except OSError as error:
        raise ScenarioError(f"{path}: {error.strerror}") from None
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 0
        raise ScenarioError(f"{path}:{line}: {error.problem}") from None
    try:
        return Scenario.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        line = _line_of(node, first["loc"])
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise ScenarioError(f"{path}:{line}: {where}: {first['msg']}") from None


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int:
    """The 1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def find_scenarios(paths: list[Path]) -> list[Path]:
    """Every scenario file under the given files or folders, sorted, without duplicates."""
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(path.rglob("*.yaml"))
        else:
            found.add(path)
    return sorted(found)


DEMO_DIR = Path(__file__).parent / "suites" / "demo"


def demo_scenarios() -> dict[str, Path]:
    """The demo scenarios shipped with VoicePay, by name."""
    return {path.stem: path for path in sorted(DEMO_DIR.glob("*.yaml"))}
