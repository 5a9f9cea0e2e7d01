"""Voice authentication configuration, from ``VOICEPAY_VOICE_AUTH__*`` environment variables."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from voice_auth.decision import DecisionThresholds, Scoring, calibrated_thresholds

KEY_BYTES = 32
# Used only in the dev environment, and only when no key is configured: voiceprints written with
# it are readable by anyone with this source code.
DEV_KEY = base64.b64encode(b"voicepay-dev-voiceprint-key-0000").decode()


class VoiceAuthConfigError(ValueError):
    """Voice authentication cannot start safely with this configuration."""


class VoiceAuthSettings(BaseSettings):
    """Encoder, thresholds, enrolment rules and the voiceprint encryption key.

    ``key`` is the base64 of 32 random bytes (``openssl rand -base64 32``) keying AES-256-GCM
    for voiceprints at rest. It is required outside the ``dev`` environment.
    ``accept_threshold`` and ``reject_threshold`` are in the units of the scoring in use
    (s-norm with ``cohort_path``, else cosine); unset, the values calibrated for GE2E apply.
    """

    model_config = SettingsConfigDict(
        env_prefix="VOICEPAY_VOICE_AUTH__", env_file=".env", extra="ignore"
    )

    key: SecretStr | None = None
    encoder: Literal["ge2e", "speechbrain"] = "ge2e"
    encoder_source: str | None = None
    cohort_path: Path | None = None
    accept_threshold: float | None = None
    reject_threshold: float | None = None
    min_enrolment_speech_s: float = Field(10.0, ge=3.0)
    min_enrolment_utterances: int = Field(2, ge=2)
    offer_enrolment: bool = Field(
        True, description="Offer voice ID at the end of a call verified by the keypad."
    )
    counting_passes: int = Field(2, ge=1, le=5)
    challenge_digits: int = Field(4, ge=3, le=8)
    challenge_margin: float = Field(0.045, gt=0.0, lt=1.0)
    challenge_speaker_threshold: float = Field(0.75, gt=-1.0, lt=1.0)

    @property
    def scoring(self) -> Scoring:
        """``s-norm`` when a cohort file is configured, else plain ``cosine``."""
        return "s-norm" if self.cohort_path is not None else "cosine"

    def thresholds(self) -> DecisionThresholds:
        """The configured thresholds, or the calibrated ones for this encoder and scoring.

        Raises:
            VoiceAuthConfigError: Only one of the two is set, they are inverted, or no
                calibration exists for this encoder.
        """
        accept, reject = self.accept_threshold, self.reject_threshold
        if accept is None and reject is None:
            calibrated = calibrated_thresholds(self.encoder, self.scoring)
            if calibrated is None:
                raise VoiceAuthConfigError(
                    f"no calibrated thresholds for {self.encoder} with {self.scoring} scoring: "
                    "set VOICEPAY_VOICE_AUTH__ACCEPT_THRESHOLD and __REJECT_THRESHOLD"
                )
            return calibrated
        if accept is None or reject is None:
            raise VoiceAuthConfigError("set both accept_threshold and reject_threshold, or neither")
        if reject > accept:
            raise VoiceAuthConfigError("reject_threshold must not exceed accept_threshold")
        return DecisionThresholds(accept=accept, reject=reject)


def voiceprint_key(
    settings: VoiceAuthSettings, environment: Literal["dev", "test", "prod"]
) -> bytes:
    """The 32-byte AES-GCM key for voiceprints.

    Raises:
        VoiceAuthConfigError: No key, or the dev placeholder, outside ``dev``; or a key that is
            not the base64 of exactly 32 bytes.
    """
    encoded = settings.key.get_secret_value() if settings.key is not None else None
    if encoded is None or encoded == DEV_KEY:
        if environment != "dev":
            raise VoiceAuthConfigError(
                "VOICEPAY_VOICE_AUTH__KEY must be set to a secret outside the dev environment"
            )
        encoded = DEV_KEY
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise VoiceAuthConfigError("VOICEPAY_VOICE_AUTH__KEY is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise VoiceAuthConfigError(
            f"VOICEPAY_VOICE_AUTH__KEY must decode to {KEY_BYTES} bytes, not {len(key)}"
        )
    return key


def voiceprint_redis_key(account: str) -> str:
    """The Redis key holding ``account``'s voiceprint (cheap: no model stack is imported)."""
    if not account:
        raise ValueError("an account number is needed")
    return f"voicepay:voiceprint:{account}"
