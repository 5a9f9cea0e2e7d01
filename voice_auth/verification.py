"""Enrolment and scoring of a caller's voice against a stored voiceprint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from voice_auth.audio import (
    Audio,
    QualityLimits,
    QualityReport,
    UnusableAudioError,
    prepare_speech,
    resample,
)
from voice_auth.encoders import Embedding, SpeakerEncoder
from voice_auth.scoring import cohort_stats, cosine, mean_embedding, s_norm


@dataclass(frozen=True)
class EnrolmentLimits:
    """How much speech an enrolment needs, and the gates each utterance must pass."""

    min_speech_seconds: float = 10.0
    min_utterances: int = 2
    per_utterance: QualityLimits = field(
        default_factory=lambda: QualityLimits(min_speech_seconds=0.0)
    )


@dataclass(frozen=True)
class Voiceprint:
    """A speaker model: embedding of the enrolment speech, tied to the encoder that made it.

    Attributes:
        consistency: Mean cosine between the enrolment chunks and the voiceprint; low values
            mean mixed voices or poor audio.
    """

    model_id: str
    embedding: Embedding
    speech_seconds: float
    utterances: int = 0
    consistency: float = 1.0


@dataclass(frozen=True)
class Verification:
    """Score of one utterance against a voiceprint, and the utterance's quality."""

    score: float
    quality: QualityReport


class Verifier:
    """Enrols speakers and scores utterances with one encoder.

    With a cohort (embeddings of speakers who are neither enrolled nor tested, from the same
    encoder) scores are adaptive s-normalised, so one threshold suits every speaker; without
    one, scores are plain cosine similarities. Decisions are :mod:`voice_auth.decision`'s job.
    """

    def __init__(
        self,
        encoder: SpeakerEncoder,
        cohort: npt.NDArray[np.float32] | None = None,
        cohort_top_k: int = 100,
        limits: QualityLimits | None = None,
        enrolment_chunk_seconds: float = 3.0,
    ) -> None:
        self.encoder = encoder
        self.cohort = cohort
        self.cohort_top_k = cohort_top_k
        self.limits = limits or QualityLimits()
        self.enrolment_chunk_seconds = enrolment_chunk_seconds

    @property
    def scoring(self) -> str:
        """``s-norm`` with a cohort, else ``cosine``."""
        return "cosine" if self.cohort is None else "s-norm"

    def enrol(
        self, utterances: Sequence[tuple[Audio, int]], limits: EnrolmentLimits | None = None
    ) -> Voiceprint:
        """Build a voiceprint from several utterances, each given as ``(samples, rate)``.

        Raises:
            UnusableAudioError: An utterance failed a gate, or there is too little speech.
        """
        limits = limits or EnrolmentLimits()
        if len(utterances) < limits.min_utterances:
            raise UnusableAudioError(
                f"enrolment needs {limits.min_utterances} utterances, got {len(utterances)}"
            )
        rate = self.encoder.sample_rate
        pieces: list[Audio] = []
        speech_s = 0.0
        for index, (audio, sample_rate) in enumerate(utterances, start=1):
            prepared = prepare_speech(audio, sample_rate, limits.per_utterance)
            if not prepared.quality.ok:
                raise UnusableAudioError(f"utterance {index}: {prepared.quality.reason}")
            speech_s += prepared.quality.speech_seconds
            pieces.append(resample(prepared.samples, sample_rate, rate))
        if speech_s < limits.min_speech_seconds:
            raise UnusableAudioError(
                f"too little speech to enrol: {speech_s:.1f} s heard, "
                f"{limits.min_speech_seconds:.1f} s needed"
            )
        chunks = self._embed_chunks(np.concatenate(pieces))
        embedding = mean_embedding(chunks)
        consistency = float(np.mean([cosine(embedding, chunk) for chunk in chunks]))
        return Voiceprint(self.encoder.model_id, embedding, speech_s, len(utterances), consistency)

    def _embed_chunks(self, speech: Audio) -> list[Embedding]:
        """Embed consecutive chunks as long as a verification utterance.

        Their mean matches the test condition (and each chunk gets its own level normalisation),
        which beats one embedding of all the speech and per-utterance embeddings of short
        utterances: on the shared recordings, mean EER over four enrolment splits fell from
        2.9 % to 0.8 %.
        """
        rate = self.encoder.sample_rate
        size = max(1, round(self.enrolment_chunk_seconds * rate))
        chunks = [speech[i : i + size] for i in range(0, len(speech) - size + 1, size)] or [speech]
        return [self.encoder.embed(chunk, rate) for chunk in chunks]

    def embed_utterance(
        self, audio: Audio, sample_rate: int, limits: QualityLimits | None = None
    ) -> tuple[Embedding, QualityReport]:
        """Trim, gate (with ``limits``, default the verifier's) and embed one utterance.

        Raises:
            UnusableAudioError: The utterance failed a quality gate.
        """
        prepared = prepare_speech(audio, sample_rate, limits or self.limits)
        if not prepared.quality.ok:
            raise UnusableAudioError(prepared.quality.reason)
        return self.encoder.embed(prepared.samples, sample_rate), prepared.quality

    def score(
        self, voiceprint: Voiceprint, embedding: Embedding, *, normalise: bool = True
    ) -> float:
        """Similarity of an utterance embedding to a voiceprint, s-normalised with a cohort.

        With ``normalise=False`` (or no cohort) the plain cosine similarity.
        """
        if voiceprint.model_id != self.encoder.model_id:
            raise ValueError(
                f"voiceprint was made by {voiceprint.model_id}, not {self.encoder.model_id}"
            )
        raw = cosine(voiceprint.embedding, embedding)
        if self.cohort is None or not normalise:
            return raw
        return s_norm(
            raw,
            cohort_stats(voiceprint.embedding, self.cohort, self.cohort_top_k),
            cohort_stats(embedding, self.cohort, self.cohort_top_k),
        )

    def verify(self, voiceprint: Voiceprint, audio: Audio, sample_rate: int) -> Verification:
        """Score ``audio`` against the voiceprint's speaker.

        Raises:
            UnusableAudioError: The utterance failed a quality gate: ask the caller again.
        """
        embedding, quality = self.embed_utterance(audio, sample_rate)
        return Verification(score=self.score(voiceprint, embedding), quality=quality)
