"""Getting the receiver's machine code ready before a call needs it.

The detector's and masker's inner loops are compiled by numba on first use (seconds in a fresh
checkout, under half a second from its cache), which must not happen inside a live call.
"""

from __future__ import annotations

import numpy as np

from payment_tools.dtmf.detector import detect
from payment_tools.dtmf.masker import mask_signal
from payment_tools.dtmf.tones import dtmf_tone

_WARM_KEY = "5"


def warm_up(sample_rate: int = 48_000) -> None:
    """Run the detector and the masker once on a key press, in floats and in 16-bit PCM."""
    pause = np.zeros(sample_rate // 10)
    press = np.concatenate([pause, dtmf_tone(_WARM_KEY, sample_rate // 10, sample_rate), pause])
    pcm = np.round(press * 32767).astype(np.int16)
    for samples in (press, pcm):
        detect(samples, sample_rate)
        mask_signal(samples, sample_rate)
