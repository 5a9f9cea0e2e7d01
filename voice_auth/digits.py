"""Spoken-digit matching against the caller's own digits, recorded at enrolment.

At enrolment the caller counts from zero to nine, pausing between digits; each pass is cut into ten
word templates (MFCC frames). A later utterance is checked against an expected digit string by
one-pass dynamic time warping (connected-word DTW): the cost of the best alignment constrained to
the expected digits is compared with the cost of the best alignment to any digit sequence. Speech
saying other words or other digits aligns far better to some other sequence, so the relative gap
grows; the caller saying the expected digits leaves almost none.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from voice_auth.audio import (
    Audio,
    QualityLimits,
    UnusableAudioError,
    prepare_speech,
    telephone_band,
)
from voice_auth.mfcc import HOP, Frames, cepstra, normalise

DIGITS = "0123456789"
_BLOCK = HOP  # energy blocks aligned with the MFCC frames (10 ms)
# Gaps shorter than this are inside a word (stop closures in "eight", "six").
_MIN_GAP_BLOCKS = 8
_MIN_WORD_BLOCKS = 6
# Kept around each word so onsets and releases below the cut stay in the template.
_WORD_PADDING_BLOCKS = 3
_GUARD = 2


def _block_energy_db(audio: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    n = audio.size // _BLOCK
    blocks = audio[: n * _BLOCK].reshape(n, _BLOCK)
    energy = 10.0 * np.log10(np.mean(blocks**2, axis=1) + 1e-12)
    return np.asarray(np.convolve(energy, np.ones(3) / 3.0, mode="same"), dtype=np.float64)


def _runs(above: npt.NDArray[np.bool_]) -> list[list[int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], above.astype(np.int8), [0]])))
    merged: list[list[int]] = []
    for start, end in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True):
        if merged and start - merged[-1][1] < _MIN_GAP_BLOCKS:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return [run for run in merged if run[1] - run[0] >= _MIN_WORD_BLOCKS]


def split_words(band_audio: Audio, count: int) -> list[tuple[int, int]]:
    """Cut 8 kHz telephone-band audio into ``count`` words separated by pauses, as frame ranges.

    Tries energy thresholds from just above the noise floor upwards and keeps the lowest (most
    inclusive) one that yields exactly ``count`` words; returns ``[]`` when none does.
    """
    energy = _block_energy_db(np.asarray(band_audio, dtype=np.float64))
    if energy.size == 0:
        return []
    floor, peak = float(np.percentile(energy, 10)), float(np.percentile(energy, 99))
    for threshold in np.arange(floor + 3.0, peak - 3.0, 1.0):
        words = _runs(energy > threshold)
        if len(words) == count:
            return [
                (max(0, a - _WORD_PADDING_BLOCKS), min(energy.size, b + _WORD_PADDING_BLOCKS))
                for a, b in words
            ]
    return []


@dataclass(frozen=True)
class DigitTemplates:
    """One MFCC template per digit per counting pass, each pass normalised on its own speech."""

    digits: npt.NDArray[np.int8]
    lengths: npt.NDArray[np.int32]
    frames: Frames

    @classmethod
    def from_counting(cls, passes: Sequence[tuple[Audio, int]]) -> DigitTemplates:
        """Build templates from recordings of the caller counting zero to nine with pauses.

        Raises:
            UnusableAudioError: A recording could not be cut into ten digits.
        """
        if not passes:
            raise UnusableAudioError("no counting recording to take digit templates from")
        digits: list[int] = []
        words: list[Frames] = []
        for index, (audio, rate) in enumerate(passes, start=1):
            spans = split_words(telephone_band(audio, rate), len(DIGITS))
            if not spans:
                raise UnusableAudioError(
                    f"counting recording {index}: could not hear ten separate digits; the caller "
                    "should count from zero to nine with a short pause after each"
                )
            features = cepstra(audio, rate)
            pieces = [features[a:b] for a, b in spans]
            reference = np.concatenate(pieces)
            words.extend(normalise(piece, reference) for piece in pieces)
            digits.extend(range(len(DIGITS)))
        return cls(
            digits=np.asarray(digits, dtype=np.int8),
            lengths=np.asarray([len(w) for w in words], dtype=np.int32),
            frames=np.concatenate(words).astype(np.float32),
        )

    def to_payload(self) -> dict[str, Any]:
        """JSON-ready form (frames as base64 float16: half the size, no loss that matters)."""
        return {
            "digits": self.digits.tolist(),
            "lengths": self.lengths.tolist(),
            "dim": int(self.frames.shape[1]),
            "frames": base64.b64encode(self.frames.astype("<f2").tobytes()).decode(),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> DigitTemplates:
        """Inverse of :meth:`to_payload`."""
        raw = np.frombuffer(base64.b64decode(payload["frames"]), dtype="<f2")
        return cls(
            digits=np.asarray(payload["digits"], dtype=np.int8),
            lengths=np.asarray(payload["lengths"], dtype=np.int32),
            frames=raw.reshape(-1, int(payload["dim"])).astype(np.float32),
        )


def _alignment_cost(test: Frames, templates: DigitTemplates, expected: str | None) -> float:
    """Mean per-frame distance of the best alignment of ``test`` to a digit sequence.

    Every test frame is matched to one template frame; within a template the path advances 0, 1
    or 2 frames per test frame; a word starts after the previous one ends. ``expected`` fixes the
    sequence; ``None`` allows any sequence of one or more digits.
    """
    if expected is None:
        order = np.arange(templates.digits.size)
        slot_of = np.zeros(order.size, dtype=np.int64)
    else:
        picks = [
            (slot, t)
            for slot, digit in enumerate(expected)
            for t in np.flatnonzero(templates.digits == int(digit))
        ]
        order = np.asarray([t for _, t in picks], dtype=np.int64)
        slot_of = np.asarray([s for s, _ in picks], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(templates.lengths)])
    reference = np.concatenate([templates.frames[offsets[t] : offsets[t + 1]] for t in order])
    # Two columns of infinite cost before each template stop paths running across templates.
    lengths = templates.lengths[order].astype(np.int64)
    starts = np.cumsum(lengths + _GUARD) - lengths
    ends = starts + lengths - 1
    columns = np.concatenate([np.arange(a, a + n) for a, n in zip(starts, lengths, strict=True)])
    squared = (test**2).sum(1)[:, None] + (reference**2).sum(1)[None, :] - 2.0 * test @ reference.T
    local = np.full((test.shape[0], int(ends[-1]) + 1), np.inf)
    local[:, columns] = np.sqrt(np.maximum(squared, 0.0))
    slots = int(slot_of[-1]) + 1
    first_of_slot = np.searchsorted(slot_of, np.arange(slots))
    cost = np.full(local.shape[1], np.inf)
    cost[starts[slot_of == 0]] = local[0, starts[slot_of == 0]]
    best = np.empty_like(cost)
    for i in range(1, test.shape[0]):
        best[:] = cost
        np.minimum(best[1:], cost[:-1], out=best[1:])
        np.minimum(best[2:], cost[:-2], out=best[2:])
        slot_best = np.minimum.reduceat(cost[ends], first_of_slot)
        entry = slot_best if expected is None else np.concatenate([[np.inf], slot_best[:-1]])
        best[starts] = np.minimum(best[starts], entry[slot_of])
        np.add(best, local[i], out=cost)
    return float(cost[ends[slot_of == slots - 1]].min()) / int(test.shape[0])


def content_mismatch(
    audio: Audio, sample_rate: int, templates: DigitTemplates, expected: str
) -> float:
    """How much worse ``audio`` fits ``expected`` than its best-fitting digit sequence.

    ``0.0`` means the expected digits are the best explanation of the audio; a replayed recording
    of other words scores far higher. Relative, so loudness and line quality cancel out.

    Raises:
        UnusableAudioError: No speech in ``audio``.
        ValueError: ``expected`` is not a string of digits.
    """
    if not expected or not expected.isdigit() or not expected.isascii():
        raise ValueError("the expected content must be a string of digits")
    speech = prepare_speech(audio, sample_rate, QualityLimits(min_speech_seconds=0.3))
    if not speech.quality.ok:
        raise UnusableAudioError(speech.quality.reason)
    test = normalise(cepstra(speech.samples, sample_rate))
    if test.shape[0] < 2 * len(expected):
        raise UnusableAudioError("too little speech for the digits asked")
    free = _alignment_cost(test, templates, None)
    forced = _alignment_cost(test, templates, expected)
    return forced / free - 1.0 if free > 0.0 else float(forced > 0.0)
