"""Turning a folder of speakers into enrolment audio and 3 s telephone-band test crops."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voice_auth.audio import (
    TELEPHONE_RATE,
    Audio,
    PreparedSpeech,
    load_audio,
    prepare_speech,
    telephone_band,
)
from voice_auth.verification import EnrolmentLimits

AUDIO_SUFFIXES = frozenset({".wav", ".flac"})


@dataclass(frozen=True)
class ProtocolConfig:
    """How recordings become enrolments and trials.

    Attributes:
        crop_seconds: Length of each test crop, in seconds of speech.
        enrolment: Speech and utterances an enrolment needs (as in production).
        max_crops_per_file: Non-overlapping crops taken from one long recording.
        seed: Shuffles each speaker's recordings before enrolment is picked.
    """

    crop_seconds: float = 3.0
    enrolment: EnrolmentLimits = field(default_factory=EnrolmentLimits)
    max_crops_per_file: int = 3
    seed: int = 0


@dataclass
class SpeakerMaterial:
    """One speaker's audio at 8 kHz, telephone band.

    Attributes:
        enrolment: Whole recordings for enrolment (silences still in, as a caller gives them).
        crops: Test crops of ``crop_seconds`` of speech each, silences trimmed.
        rejected: Recordings refused by a quality gate, with the reason.
    """

    name: str
    enrolment: list[Audio] = field(default_factory=list)
    crops: list[Audio] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    @property
    def enrolled(self) -> bool:
        """True when the speaker has an enrolment and something left to test it with."""
        return bool(self.enrolment) and bool(self.crops)


def discover_speakers(data_dir: Path) -> dict[str, list[Path]]:
    """Map each sub-folder of ``data_dir`` to the WAV/FLAC files anywhere below it."""
    if not data_dir.is_dir():
        raise FileNotFoundError(f"no such directory: {data_dir}")
    speakers: dict[str, list[Path]] = {}
    for folder in sorted(p for p in data_dir.iterdir() if p.is_dir()):
        files = sorted(
            p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()
        )
        if files:
            speakers[folder.name] = files
    return speakers


def _crops(speech: Audio, length: int, limit: int) -> list[Audio]:
    count = min(limit, len(speech) // length)
    return [speech[i * length : (i + 1) * length] for i in range(count)]


def _enrolment_count(prepared: list[PreparedSpeech], limits: EnrolmentLimits) -> int:
    total = 0.0
    for count, item in enumerate(prepared, start=1):
        total += item.quality.speech_seconds
        if total >= limits.min_speech_seconds and count >= limits.min_utterances:
            return count
    return 0


def build_material(name: str, files: list[Path], config: ProtocolConfig) -> SpeakerMaterial:
    """Split one speaker's recordings into enrolment audio and test crops.

    Recordings are shuffled (seeded), then taken for enrolment until they hold enough speech
    from enough recordings; the rest give crops. Recordings shorter than a crop are pooled in
    order. A speaker with no crop left after enrolment is not enrolled: all recordings give crops.
    """
    material = SpeakerMaterial(name=name)
    ordered = list(files)
    random.Random(f"{config.seed}:{name}").shuffle(ordered)
    usable: list[tuple[Audio, PreparedSpeech]] = []
    for path in ordered:
        audio, rate = load_audio(path)
        phone = telephone_band(audio, rate)
        prepared = prepare_speech(phone, TELEPHONE_RATE, config.enrolment.per_utterance)
        if prepared.quality.ok:
            usable.append((phone, prepared))
        else:
            material.rejected.append(f"{path.name}: {prepared.quality.reason}")

    length = round(config.crop_seconds * TELEPHONE_RATE)

    def crops_from(items: list[tuple[Audio, PreparedSpeech]]) -> list[Audio]:
        crops: list[Audio] = []
        pool: list[Audio] = []
        for _, prepared in items:
            if len(prepared.samples) >= length:
                crops.extend(_crops(prepared.samples, length, config.max_crops_per_file))
            else:
                pool.append(prepared.samples)
        if pool:
            pooled = np.concatenate(pool)
            crops.extend(_crops(pooled, length, len(pooled) // length))
        return crops

    taken = _enrolment_count([p for _, p in usable], config.enrolment)
    material.crops = crops_from(usable[taken:])
    if taken and material.crops:
        material.enrolment = [phone for phone, _ in usable[:taken]]
    else:
        material.crops = crops_from(usable)
    return material
