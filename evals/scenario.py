"""Scenario files: who calls, in which language, and what they say and key, turn by turn."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Turn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SayTurn(_Turn):
    """The caller speaks (in text mode, the transcript of what they said)."""

    say: str


CardField = Literal["number", "expiry", "security_code", "postal_code"]


class KeysTurn(_Turn):
    """The caller presses keypad keys: digits, ``*`` and ``#``.

    ``card`` marks the keys as card data (which field they were meant for), so that every run can
    prove those digits never reached anything outside the capture tool.
    """

    keys: str = Field(pattern=r"^[0-9*#A-D]+$")
    card: CardField | None = None


class SilenceTurn(_Turn):
    """The caller says and keys nothing for a number of seconds."""

    silence: float = Field(gt=0, le=120)


class HangUpTurn(_Turn):
    """The caller hangs up."""

    hangup: Literal[True]


CallerTurn = SayTurn | KeysTurn | SilenceTurn | HangUpTurn


class Scenario(BaseModel):
    """A scripted caller."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    language: Literal["en", "fr"] = "en"
    caller: list[CallerTurn]


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file."""


def load_scenario(path: Path) -> Scenario:
    """Read and validate one scenario file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Scenario.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as error:
        raise ScenarioError(f"{path}: {error}") from None


DEMO_DIR = Path(__file__).parent / "suites" / "demo"


def demo_scenarios() -> dict[str, Path]:
    """The demo scenarios shipped with VoicePay, by name."""
    return {path.stem: path for path in sorted(DEMO_DIR.glob("*.yaml"))}
