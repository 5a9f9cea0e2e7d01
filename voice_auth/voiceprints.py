"""Voiceprints in Redis, encrypted at rest with AES-256-GCM, with the caller's recorded consent.

One key per account, ``voicepay:voiceprint:<account>``, holding a JSON envelope: the format
version, the model id, a fresh random 96-bit nonce and the ciphertext. The model id travels in
clear (a verifier must know which encoder to load) but is bound to the ciphertext, with the account
number, as associated data: moving a voiceprint to another account or relabelling its model makes
decryption fail. Everything else, embedding and digit templates included, is inside.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis

from voice_auth.config import voiceprint_redis_key
from voice_auth.digits import DigitTemplates

FORMAT_VERSION = 1
_NONCE_BYTES = 12

Embedding = npt.NDArray[np.float32]


class VoiceprintError(Exception):
    """A stored voiceprint cannot be read: wrong key, tampered with, or an unknown format."""


class ConsentRecord(BaseModel):
    """Who agreed to voice enrolment, when, and how the agreement was given."""

    model_config = ConfigDict(frozen=True)

    given_by: str = Field(min_length=1, description="e.g. 'caller authenticated as holder'.")
    given_at: datetime
    method: str = "keypad 1 after consent prompt"
    call_id: str | None = None


class EnrolmentQuality(BaseModel):
    """How good the enrolment audio was."""

    model_config = ConfigDict(frozen=True)

    speech_seconds: float
    utterances: int
    consistency: float
    counting_passes: int


@dataclass(frozen=True)
class VoiceprintRecord:
    """Everything stored for one account: the speaker model, its provenance and the consent."""

    account: str
    model_id: str
    model_version: str
    embedding: Embedding
    digit_templates: DigitTemplates
    enrolled_at: datetime
    quality: EnrolmentQuality
    consent: ConsentRecord

    def _payload(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "embedding": base64.b64encode(self.embedding.astype("<f4").tobytes()).decode(),
            "digit_templates": self.digit_templates.to_payload(),
            "enrolled_at": self.enrolled_at.isoformat(),
            "quality": self.quality.model_dump(mode="json"),
            "consent": self.consent.model_dump(mode="json"),
        }

    @classmethod
    def _from_payload(cls, account: str, model_id: str, payload: dict[str, Any]) -> Self:
        return cls(
            account=account,
            model_id=model_id,
            model_version=payload["model_version"],
            embedding=np.frombuffer(base64.b64decode(payload["embedding"]), dtype="<f4").astype(
                np.float32
            ),
            digit_templates=DigitTemplates.from_payload(payload["digit_templates"]),
            enrolled_at=datetime.fromisoformat(payload["enrolled_at"]),
            quality=EnrolmentQuality.model_validate(payload["quality"]),
            consent=ConsentRecord.model_validate(payload["consent"]),
        )


def _associated_data(account: str, model_id: str) -> bytes:
    return json.dumps([account, model_id]).encode()


class VoiceprintStore:
    """Reads and writes encrypted voiceprints.

    Args:
        redis: An asyncio Redis client (``decode_responses`` either way).
        key: The 32-byte AES key (see :func:`voice_auth.config.voiceprint_key`).
    """

    def __init__(self, redis: Redis, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the voiceprint key must be 32 bytes (AES-256)")
        self._redis = redis
        self._aead = AESGCM(key)

    @staticmethod
    def redis_key(account: str) -> str:
        """The Redis key holding ``account``'s voiceprint."""
        return voiceprint_redis_key(account)

    async def enrol(self, record: VoiceprintRecord) -> None:
        """Store ``record``, replacing any earlier voiceprint of the account (re-enrolment)."""
        nonce = os.urandom(_NONCE_BYTES)
        plaintext = json.dumps(record._payload()).encode()
        sealed = self._aead.encrypt(
            nonce, plaintext, _associated_data(record.account, record.model_id)
        )
        envelope = {
            "format": FORMAT_VERSION,
            "model_id": record.model_id,
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(sealed).decode(),
        }
        await self._redis.set(self.redis_key(record.account), json.dumps(envelope))

    async def get(self, account: str) -> VoiceprintRecord | None:
        """The account's voiceprint, or ``None`` when it has none.

        Raises:
            VoiceprintError: The stored value cannot be decrypted or understood.
        """
        raw = await self._redis.get(self.redis_key(account))
        if raw is None:
            return None
        try:
            envelope = json.loads(raw)
            if envelope.get("format") != FORMAT_VERSION:
                raise VoiceprintError(f"unknown voiceprint format {envelope.get('format')!r}")
            model_id = str(envelope["model_id"])
            plaintext = self._aead.decrypt(
                base64.b64decode(envelope["nonce"]),
                base64.b64decode(envelope["ciphertext"]),
                _associated_data(account, model_id),
            )
            return VoiceprintRecord._from_payload(account, model_id, json.loads(plaintext))
        except InvalidTag:
            raise VoiceprintError(
                f"voiceprint of account {account} does not decrypt: wrong key or tampered with"
            ) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise VoiceprintError(f"voiceprint of account {account} is malformed") from exc

    async def delete(self, account: str) -> bool:
        """Delete the account's voiceprint (on the caller's request); whether there was one."""
        return bool(await self._redis.delete(self.redis_key(account)))

    async def exists(self, account: str) -> bool:
        """Whether the account has a voiceprint, without decrypting it."""
        return bool(await self._redis.exists(self.redis_key(account)))
