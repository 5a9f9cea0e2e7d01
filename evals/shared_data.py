"""The shared real speech recordings that voice scenarios refer to (``../shared/data``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]
_GAP_S = 0.3


class SharedDataMissing(FileNotFoundError):
    """A scenario needs the shared recordings and they are not on this machine."""


def shared_data_root() -> Path:
    """``VOICEPAY_SHARED_DATA``, else ``../shared/data`` next to the repository."""
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    return Path(os.environ.get("VOICEPAY_SHARED_DATA", default))


def load_clips(paths: Sequence[str]) -> tuple[Samples, int]:
    """The clips joined with short pauses, as a caller sounds on the phone (8 kHz band).

    Raises:
        SharedDataMissing: a clip is not there.
    """
    from voice_auth.audio import TELEPHONE_RATE, load_audio, telephone_band

    root = shared_data_root()
    parts: list[Samples] = []
    for relative in paths:
        path = root / relative
        if not path.is_file():
            raise SharedDataMissing(f"shared recording not found: {path}")
        audio, rate = load_audio(path)
        parts.append(telephone_band(audio, rate))
        parts.append(np.zeros(int(_GAP_S * TELEPHONE_RATE), dtype=np.float32))
    return np.concatenate(parts), TELEPHONE_RATE
