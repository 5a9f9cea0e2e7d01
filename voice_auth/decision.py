"""Accept, step up or reject a caller from a normalised verification score and two thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Scoring = Literal["s-norm", "cosine"]


class Outcome(StrEnum):
    """What the call does next."""

    ACCEPT = "accept"
    STEP_UP = "step-up"
    REJECT = "reject"


@dataclass(frozen=True)
class DecisionThresholds:
    """Scores at or above ``accept`` pass; below ``reject`` fail; in between, step up."""

    accept: float
    reject: float

    def __post_init__(self) -> None:
        if self.reject > self.accept:
            raise ValueError("the reject threshold must not exceed the accept threshold")


# Chosen on the shared recordings (8 kHz telephone band, 3 s crops; 962 target and 9,618
# impostor trials pooled over four enrolment splits, see docs/voice-auth.md): accept at the lowest
# round value whose false accepts stay under 0.1 %, reject below the highest round value that
# turns away at most 0.5 % of genuine callers.
_CALIBRATED: dict[tuple[str, Scoring], DecisionThresholds] = {
    ("ge2e", "s-norm"): DecisionThresholds(accept=3.0, reject=2.0),
    ("ge2e", "cosine"): DecisionThresholds(accept=0.84, reject=0.74),
}


def calibrated_thresholds(encoder: str, scoring: Scoring) -> DecisionThresholds | None:
    """The thresholds calibrated for ``encoder`` and ``scoring``, if any were."""
    return _CALIBRATED.get((encoder, scoring))


@dataclass(frozen=True)
class Decision:
    """The outcome, the score behind it (``None`` for unusable audio) and a reason for logs."""

    outcome: Outcome
    score: float | None
    reason: str


def decide(
    score: float | None,
    thresholds: DecisionThresholds,
    *,
    unusable_reason: str | None = None,
    high_risk: bool = False,
) -> Decision:
    """Turn a verification score into an outcome.

    Args:
        score: Normalised score of the utterance against the voiceprint; ``None`` when the audio
            failed a quality gate.
        thresholds: Accept and reject thresholds in the score's units.
        unusable_reason: Why the audio was refused; unusable audio is never accepted nor counted
            as a failure: the caller is stepped up.
        high_risk: A would-be accept is stepped up instead (e.g. a large payment), so that the
            liveness challenge runs.
    """
    if score is None or unusable_reason is not None:
        return Decision(Outcome.STEP_UP, score, f"unusable audio: {unusable_reason or 'no score'}")
    if score < thresholds.reject:
        return Decision(Outcome.REJECT, score, f"score {score:.2f} below {thresholds.reject:.2f}")
    if score < thresholds.accept:
        return Decision(
            Outcome.STEP_UP,
            score,
            f"score {score:.2f} between {thresholds.reject:.2f} and {thresholds.accept:.2f}",
        )
    if high_risk:
        return Decision(Outcome.STEP_UP, score, "high risk: liveness challenge required")
    return Decision(Outcome.ACCEPT, score, f"score {score:.2f} at or above {thresholds.accept:.2f}")
