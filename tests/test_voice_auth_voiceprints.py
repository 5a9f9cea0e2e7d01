from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from redis.asyncio import Redis

from voice_auth.digits import DigitTemplates
from voice_auth.voiceprints import (
    ConsentRecord,
    EnrolmentQuality,
    VoiceprintError,
    VoiceprintRecord,
    VoiceprintStore,
)

KEY = bytes(range(32))
CONSENT = ConsentRecord(
    given_by="caller authenticated as Ada Lovelace",
    given_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
    call_id="call-123",
)


async def stored(redis: Redis, account: str = "40112233") -> str:
    value = await redis.get(VoiceprintStore.redis_key(account))
    assert isinstance(value, str)
    return value


def templates(seed: int = 0) -> DigitTemplates:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(20, 40, size=10).astype(np.int32)
    frames = rng.standard_normal((int(lengths.sum()), 24)).astype(np.float32)
    return DigitTemplates(np.arange(10, dtype=np.int8), lengths, frames)


def record(account: str = "40112233", seed: int = 0) -> VoiceprintRecord:
    embedding = np.random.default_rng(seed).standard_normal(256).astype(np.float32)
    return VoiceprintRecord(
        account=account,
        model_id="ge2e-0123456789ab",
        model_version="resemblyzer 0.1.4",
        embedding=embedding / np.linalg.norm(embedding),
        digit_templates=templates(seed),
        enrolled_at=datetime(2026, 11, 2, 9, 31, tzinfo=UTC),
        quality=EnrolmentQuality(
            speech_seconds=14.2, utterances=4, consistency=0.91, counting_passes=2
        ),
        consent=CONSENT,
    )


async def test_voiceprint_round_trips_with_its_consent_and_provenance(redis: Redis) -> None:
    store = VoiceprintStore(redis, KEY)
    original = record()
    await store.enrol(original)
    loaded = await store.get("40112233")
    assert loaded is not None
    assert np.array_equal(loaded.embedding, original.embedding)
    assert (loaded.model_id, loaded.model_version) == (original.model_id, original.model_version)
    assert loaded.consent == CONSENT
    assert loaded.consent.method == "keypad 1 after consent prompt"
    assert loaded.quality == original.quality
    assert loaded.enrolled_at == original.enrolled_at
    assert np.allclose(loaded.digit_templates.frames, original.digit_templates.frames, atol=2e-3)
    assert await store.get("40119999") is None


async def test_stored_voiceprint_is_unreadable_without_the_key(redis: Redis) -> None:
    original = record()
    await VoiceprintStore(redis, KEY).enrol(original)
    keys = await redis.keys("*")
    assert keys == ["voicepay:voiceprint:40112233"]
    value = await stored(redis)
    envelope = json.loads(value)
    assert set(envelope) == {"format", "model_id", "nonce", "ciphertext"}
    ciphertext = base64.b64decode(envelope["ciphertext"])
    embedding_bytes = original.embedding.astype("<f4").tobytes()
    assert embedding_bytes[:16] not in ciphertext
    assert base64.b64encode(embedding_bytes)[:16].decode() not in value
    # Checked in the readable fields and in the ciphertext's bytes: its base64 text can spell
    # any short word by chance.
    readable = json.dumps({k: v for k, v in envelope.items() if k != "ciphertext"})
    for plain in ("Ada", "call-123", "consistency"):
        assert plain not in readable and plain.encode() not in ciphertext
    with pytest.raises(VoiceprintError, match="wrong key or tampered"):
        await VoiceprintStore(redis, os.urandom(32)).get("40112233")


async def test_a_voiceprint_moved_to_another_account_does_not_decrypt(redis: Redis) -> None:
    store = VoiceprintStore(redis, KEY)
    await store.enrol(record())
    await redis.set(store.redis_key("40119999"), await stored(redis))
    with pytest.raises(VoiceprintError, match="wrong key or tampered"):
        await store.get("40119999")


async def test_a_relabelled_model_id_does_not_decrypt(redis: Redis) -> None:
    store = VoiceprintStore(redis, KEY)
    await store.enrol(record())
    envelope = json.loads(await stored(redis))
    envelope["model_id"] = "speechbrain-000000000000"
    await redis.set(store.redis_key("40112233"), json.dumps(envelope))
    with pytest.raises(VoiceprintError, match="wrong key or tampered"):
        await store.get("40112233")


async def test_malformed_or_unknown_values_are_reported(redis: Redis) -> None:
    store = VoiceprintStore(redis, KEY)
    await redis.set(store.redis_key("1"), "not json")
    with pytest.raises(VoiceprintError, match="malformed"):
        await store.get("1")
    await redis.set(store.redis_key("2"), json.dumps({"format": 99}))
    with pytest.raises(VoiceprintError, match="unknown voiceprint format 99"):
        await store.get("2")


async def test_re_enrolment_replaces_with_a_fresh_nonce(redis: Redis) -> None:
    store = VoiceprintStore(redis, KEY)
    await store.enrol(record(seed=1))
    first = json.loads(await stored(redis))
    await store.enrol(record(seed=2))
    second = json.loads(await stored(redis))
    assert first["nonce"] != second["nonce"]
    loaded = await store.get("40112233")
    assert loaded is not None
    assert np.array_equal(loaded.embedding, record(seed=2).embedding)
    assert len(await redis.keys("*")) == 1


async def test_deletion_on_request_removes_the_voiceprint(redis: Redis) -> None:
    store = VoiceprintStore(redis, KEY)
    await store.enrol(record())
    assert await store.exists("40112233")
    assert await store.delete("40112233") is True
    assert await store.get("40112233") is None
    assert await redis.keys("*") == []
    assert await store.delete("40112233") is False


def test_the_key_must_be_256_bits() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        VoiceprintStore(Redis(), b"too short")


@settings(max_examples=50)
@given(
    frames=arrays(
        np.float32,
        st.tuples(st.integers(10, 60), st.just(24)),
        elements=st.floats(-50, 50, width=32),
    ),
)
def test_digit_templates_survive_the_payload_to_half_precision(frames: np.ndarray) -> None:
    lengths = np.array([frames.shape[0]], dtype=np.int32)
    original = DigitTemplates(np.array([7], dtype=np.int8), lengths, frames)
    restored = DigitTemplates.from_payload(json.loads(json.dumps(original.to_payload())))
    assert restored.digits.tolist() == [7]
    assert restored.lengths.tolist() == lengths.tolist()
    assert np.allclose(restored.frames, frames, rtol=1e-3, atol=1e-3)
