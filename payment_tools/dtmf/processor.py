"""A LiveKit audio frame processor that masks in-band DTMF and reports the keys it hears.

Installed as the agent's input processor (the ``noise_cancellation`` slot of LiveKit's audio
input options), it sits between the caller's track and everything downstream: VAD, STT, the
agent, any recording made from the agent's input. Each frame comes back the same size, delayed
by the masker's look-ahead (20 ms), with key tones muted. The unmasked audio also goes to a
Q.24 receiver whose keys are passed, with their start time on the caller's clock, to ``on_key``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from livekit import rtc

from payment_tools.dtmf.detector import DetectorParams, DtmfDetector
from payment_tools.dtmf.masker import DtmfMasker, MaskerParams

KeyCallback = Callable[[str, float, float], None]
"""Receives a key, and the start and end of its tone in seconds on the processor's clock."""


class DtmfMaskingProcessor(rtc.FrameProcessor[rtc.AudioFrame]):
    """Masks DTMF in mono 16-bit frames (any rate from 8 kHz) and reports the keys.

    Args:
        on_key: called with ``(key, start_s, end_s)`` for each key press found in the audio,
            e.g. :meth:`payment_tools.dtmf.merge.DualSourceKeys.inband`.
        lookahead_ms: the masker's look-ahead, which is also the delay added to the audio.
        clock: the clock ``start_s`` and ``end_s`` are on; the newest sample of a frame is
            taken to arrive when the frame is processed.
        detector_params: receiver thresholds.
        masker_params: masker thresholds.
    """

    def __init__(
        self,
        on_key: KeyCallback | None = None,
        *,
        lookahead_ms: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
        detector_params: DetectorParams | None = None,
        masker_params: MaskerParams | None = None,
    ) -> None:
        self.on_key = on_key
        self._lookahead_ms = lookahead_ms
        self._clock = clock
        self._detector_params = detector_params
        self._masker_params = masker_params
        self._enabled = True
        self._rate = 0
        self._received = 0
        self._masker: DtmfMasker | None = None
        self._detector: DtmfDetector | None = None

    @property
    def enabled(self) -> bool:
        """Whether LiveKit passes frames through this processor."""
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self._enabled = value

    @property
    def lookahead_s(self) -> float:
        """Delay added to the audio, in seconds."""
        return self._lookahead_ms / 1000.0

    def process(self, frame: rtc.AudioFrame) -> rtc.AudioFrame:
        """Return the frame's worth of audio leaving the look-ahead, with key tones muted.

        Raises:
            ValueError: if the frame is not mono or its rate is below 8 kHz.
        """
        if frame.num_channels != 1:
            raise ValueError("DtmfMaskingProcessor needs mono frames")
        if frame.sample_rate != self._rate:
            self._start(frame.sample_rate)
        assert self._masker is not None and self._detector is not None
        pcm = np.frombuffer(frame.data, dtype=np.int16, count=frame.samples_per_channel)
        masked = self._masker.process(pcm)
        self._received += len(pcm)
        hits = self._detector.process(pcm)
        if self._masker.muting:
            # A tone is under way: have its key confirmed as soon as it ends.
            hits += self._detector.drain()
        if hits and self.on_key is not None:
            now = self._clock()
            for hit in hits:
                start = now - (self._received - hit.start_sample) / self._rate
                end = now - (self._received - hit.end_sample) / self._rate
                self.on_key(hit.key, start, end)
        return rtc.AudioFrame(masked.tobytes(), self._rate, 1, len(masked), userdata=frame.userdata)

    def _start(self, sample_rate: int) -> None:
        """Begin a new stream at ``sample_rate`` (also after a change of rate)."""
        masker = DtmfMasker(sample_rate, self._lookahead_ms, self._masker_params)
        self._detector = DtmfDetector(sample_rate, self._detector_params)
        self._masker, self._rate, self._received = masker, sample_rate, 0

    def _process(self, frame: rtc.AudioFrame) -> rtc.AudioFrame:
        return self.process(frame)

    def _close(self) -> None:
        self._masker = self._detector = None
        self._rate = 0
