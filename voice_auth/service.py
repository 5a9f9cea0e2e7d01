"""Voice authentication for a call: enrol, verify passively, step up with a challenge, lock out."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, Protocol

import torch
from redis.asyncio import Redis

from voice_auth.audio import Audio, UnusableAudioError
from voice_auth.cohort import load_cohort
from voice_auth.config import VoiceAuthSettings, voiceprint_key
from voice_auth.decision import Decision, DecisionThresholds, Outcome, decide
from voice_auth.digits import DigitTemplates
from voice_auth.encoders import EncoderConfig, create_encoder
from voice_auth.liveness import Challenge, Language, check_answer, new_challenge
from voice_auth.verification import EnrolmentLimits, Verifier, Voiceprint
from voice_auth.voiceprints import (
    ConsentRecord,
    EnrolmentQuality,
    VoiceprintRecord,
    VoiceprintStore,
)


class FailureCounter(Protocol):
    """Per-account failure counting with lockout (``agent.lockout.AuthLockout`` fits)."""

    async def is_locked(self, account: str) -> bool:
        """Whether the account is locked now."""
        ...

    async def record_failure(self, account: str) -> bool:
        """Count a failure; whether the account is now locked."""
        ...

    async def clear(self, account: str) -> None:
        """Forget the failures after a success."""
        ...


class NotEnrolledError(LookupError):
    """The account has no voiceprint: use another way to authenticate."""


class VoiceAuthenticator:
    """Everything a call needs from voice authentication, for any number of accounts.

    Embedding runs in a worker thread so the call's event loop keeps serving audio.
    """

    def __init__(
        self,
        store: VoiceprintStore,
        verifier: Verifier,
        thresholds: DecisionThresholds,
        lockout: FailureCounter,
        *,
        enrolment: EnrolmentLimits | None = None,
        counting_passes: int = 2,
        challenge_digits: int = 4,
        challenge_margin: float = 0.045,
        challenge_speaker_threshold: float = 0.75,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.verifier = verifier
        self.thresholds = thresholds
        self.lockout = lockout
        self.enrolment = enrolment or EnrolmentLimits()
        self.counting_passes = counting_passes
        self.challenge_digits = challenge_digits
        self.challenge_margin = challenge_margin
        self.challenge_speaker_threshold = challenge_speaker_threshold
        self._rng = rng

    @classmethod
    def from_settings(
        cls,
        settings: VoiceAuthSettings,
        environment: Literal["dev", "test", "prod"],
        redis: Redis,
        lockout: FailureCounter,
        *,
        rng: random.Random | None = None,
    ) -> VoiceAuthenticator:
        """Load the encoder (and cohort) the settings name; limits torch to one thread.

        One thread per verification: torch's default of one per core makes concurrent calls in
        a worker contend, and one core meets the latency target.

        Raises:
            VoiceAuthConfigError: Key or thresholds are missing or invalid.
            EncoderUnavailableError: The encoder cannot be loaded.
        """
        torch.set_num_threads(1)
        store = VoiceprintStore(redis, voiceprint_key(settings, environment))
        encoder = create_encoder(EncoderConfig(settings.encoder, settings.encoder_source))
        cohort = (
            load_cohort(settings.cohort_path, encoder.model_id) if settings.cohort_path else None
        )
        return cls(
            store,
            Verifier(encoder, cohort),
            settings.thresholds(),
            lockout,
            enrolment=EnrolmentLimits(
                min_speech_seconds=settings.min_enrolment_speech_s,
                min_utterances=settings.min_enrolment_utterances,
            ),
            counting_passes=settings.counting_passes,
            challenge_digits=settings.challenge_digits,
            challenge_margin=settings.challenge_margin,
            challenge_speaker_threshold=settings.challenge_speaker_threshold,
            rng=rng,
        )

    async def enrol(
        self,
        account: str,
        utterances: Sequence[tuple[Audio, int]],
        counting: Sequence[tuple[Audio, int]],
        consent: ConsentRecord,
    ) -> VoiceprintRecord:
        """Enrol (or re-enrol, replacing the old voiceprint) from recorded, consented speech.

        Args:
            account: Account number.
            utterances: Free speech, ``(samples, rate)`` each; the counting passes count too.
            counting: Recordings of the caller counting zero to nine, pausing after each digit.
            consent: The caller's recorded consent; nothing is stored without one.

        Raises:
            UnusableAudioError: Too little speech, too few utterances or counting passes, or a
                recording that fails a gate; the message says which.
        """
        if len(counting) < self.counting_passes:
            raise UnusableAudioError(
                f"enrolment needs {self.counting_passes} counting recordings, got {len(counting)}"
            )

        def build() -> tuple[Voiceprint, DigitTemplates]:
            templates = DigitTemplates.from_counting(counting)
            voiceprint = self.verifier.enrol([*utterances, *counting], self.enrolment)
            return voiceprint, templates

        voiceprint, templates = await asyncio.to_thread(build)
        record = VoiceprintRecord(
            account=account,
            model_id=voiceprint.model_id,
            model_version=self.verifier.encoder.model_version,
            embedding=voiceprint.embedding,
            digit_templates=templates,
            enrolled_at=datetime.now(UTC),
            quality=EnrolmentQuality(
                speech_seconds=round(voiceprint.speech_seconds, 2),
                utterances=voiceprint.utterances,
                consistency=round(voiceprint.consistency, 4),
                counting_passes=len(counting),
            ),
            consent=consent,
        )
        await self.store.enrol(record)
        return record

    async def _voiceprint(self, account: str) -> VoiceprintRecord:
        record = await self.store.get(account)
        if record is None:
            raise NotEnrolledError(f"account {account} has no voiceprint")
        return record

    async def verify(
        self, account: str, audio: Audio, sample_rate: int, *, high_risk: bool = False
    ) -> Decision:
        """Passive verification of what the caller said: accept, step up or reject.

        A reject counts as a failed identity check towards the lockout; unusable audio and
        step-ups do not. An accept clears the account's failures.

        Raises:
            NotEnrolledError: The account has no voiceprint.
            VoiceprintError: The stored voiceprint cannot be read.
        """
        if await self.lockout.is_locked(account):
            return Decision(Outcome.REJECT, None, "account locked after repeated failures")
        record = await self._voiceprint(account)
        voiceprint = Voiceprint(record.model_id, record.embedding, record.quality.speech_seconds)
        try:
            result = await asyncio.to_thread(self.verifier.verify, voiceprint, audio, sample_rate)
        except UnusableAudioError as exc:
            return decide(None, self.thresholds, unusable_reason=str(exc))
        return await self._settle(
            account, decide(result.score, self.thresholds, high_risk=high_risk)
        )

    def challenge(self, language: Language = "en") -> Challenge:
        """A fresh random digit challenge for a step-up."""
        return new_challenge(language, length=self.challenge_digits, rng=self._rng)

    async def answer_challenge(
        self, account: str, challenge: Challenge, audio: Audio, sample_rate: int
    ) -> Decision:
        """Accept only if the answer holds the challenge's digits in the enrolled voice.

        A wrong answer counts towards the lockout; unusable audio steps up again (ask again).

        Raises:
            NotEnrolledError: The account has no voiceprint.
            VoiceprintError: The stored voiceprint cannot be read.
        """
        if await self.lockout.is_locked(account):
            return Decision(Outcome.REJECT, None, "account locked after repeated failures")
        record = await self._voiceprint(account)
        voiceprint = Voiceprint(record.model_id, record.embedding, record.quality.speech_seconds)
        try:
            result = await asyncio.to_thread(
                check_answer,
                self.verifier,
                voiceprint,
                record.digit_templates,
                challenge,
                audio,
                sample_rate,
                speaker_threshold=self.challenge_speaker_threshold,
                margin=self.challenge_margin,
            )
        except UnusableAudioError as exc:
            return decide(None, self.thresholds, unusable_reason=str(exc))
        outcome = Outcome.ACCEPT if result.passed else Outcome.REJECT
        return await self._settle(account, Decision(outcome, result.speaker_score, result.reason))

    async def _settle(self, account: str, decision: Decision) -> Decision:
        if decision.outcome is Outcome.ACCEPT:
            await self.lockout.clear(account)
        elif decision.outcome is Outcome.REJECT and await self.lockout.record_failure(account):
            return Decision(decision.outcome, decision.score, f"{decision.reason}; account locked")
        return decision

    async def delete(self, account: str) -> bool:
        """Delete the account's voiceprint on the caller's request; whether there was one."""
        return await self.store.delete(account)
