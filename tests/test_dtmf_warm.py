"""The worker's warm-up compiles the keypad receiver's loops, which still find keys after it."""

from __future__ import annotations

import numpy as np
from numba.core.registry import CPUDispatcher

from payment_tools.dtmf import _purity, _segments, _windows, detect
from payment_tools.dtmf.tones import dtmf_tone
from payment_tools.dtmf.warm import warm_up

# The loops Python calls; the others are compiled inside them.
ENTRY_LOOPS = {"_purities", "_explained", "_summaries", "_rank"}


def test_warm_up_compiles_the_receiver_loops_and_keys_are_still_found() -> None:
    warm_up(16_000)
    compiled = {
        name
        for module in (_purity, _segments, _windows)
        for name, value in vars(module).items()
        if isinstance(value, CPUDispatcher) and value.signatures
    }
    assert ENTRY_LOOPS <= compiled
    pause = np.zeros(1600)
    press = np.concatenate([pause, dtmf_tone("7", 1600, 16_000), pause])
    assert [hit.key for hit in detect(np.round(press * 32767).astype(np.int16), 16_000)] == ["7"]
