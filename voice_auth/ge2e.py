"""GE2E speaker encoder network and its mel front end, matching Resemblyzer's pretrained model.

Resemblyzer's wheel ships the weights (``resemblyzer/pretrained.pt``, 17 MB) but importing the
package pulls in librosa and webrtcvad. This module reproduces the network (3-layer LSTM, 256-d
embedding) and front end (40-band Slaney mel power spectrogram, 25 ms / 10 ms at 16 kHz) in torch
and numpy, and reads the weights file without importing Resemblyzer.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

MODEL_RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 40
PARTIAL_FRAMES = 160
# Resemblyzer's defaults: 1.6 s windows started every 0.77 s, a short tail kept if 75 % covered.
PARTIAL_STEP_FRAMES = 77
MIN_TAIL_COVERAGE = 0.75
# Training audio was normalised to this level (raising quiet audio only).
TARGET_DBFS = -30.0
_HIDDEN = 256


class GE2ENetwork(nn.Module):
    """LSTM encoder mapping mel frames to an L2-normalised 256-d speaker embedding."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(N_MELS, _HIDDEN, num_layers=3, batch_first=True)
        self.linear = nn.Linear(_HIDDEN, _HIDDEN)

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        """Embed a batch of mel windows shaped (batch, frames, 40)."""
        _, (hidden, _) = self.lstm(mels)
        return nn.functional.normalize(torch.relu(self.linear(hidden[-1])), dim=1)


def resemblyzer_weights_path() -> Path:
    """Locate ``pretrained.pt`` inside the installed Resemblyzer wheel without importing it.

    Raises:
        FileNotFoundError: Resemblyzer is not installed or its weights file is missing.
    """
    spec = importlib.util.find_spec("resemblyzer")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / "pretrained.pt"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "GE2E weights not found: install them with `pip install --no-deps resemblyzer==0.1.4`"
    )


def load_network(weights: Path) -> GE2ENetwork:
    """Build the network and load Resemblyzer's checkpoint into it."""
    checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
    state = {
        key: value
        for key, value in checkpoint["model_state"].items()
        if key.startswith(("lstm.", "linear."))
    }
    network = GE2ENetwork()
    network.load_state_dict(state, strict=True)
    return network.eval()


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    linear = hz / (200.0 / 3.0)
    log_part = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, linear)


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    linear = mel * (200.0 / 3.0)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log_part, linear)


def slaney_mel_filterbank(
    sample_rate: int = MODEL_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS
) -> npt.NDArray[np.float32]:
    """Slaney-style, area-normalised triangular mel filters (librosa's default), (n_mels, bins)."""
    fft_hz = np.linspace(0.0, sample_rate / 2.0, 1 + n_fft // 2)
    low, high = _hz_to_mel(np.array([0.0, sample_rate / 2.0]))
    mel_hz = _mel_to_hz(np.linspace(float(low), float(high), n_mels + 2))
    widths = np.diff(mel_hz)
    ramps = mel_hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_hz[2:] - mel_hz[:-2]))[:, None]
    return weights.astype(np.float32)


class MelFrontEnd:
    """Power mel spectrogram as Resemblyzer computes it (centre-padded Hann STFT)."""

    def __init__(self) -> None:
        self._window = torch.hann_window(N_FFT, periodic=True)
        self._filters = torch.from_numpy(slaney_mel_filterbank())

    def __call__(self, wav: torch.Tensor) -> torch.Tensor:
        """Mel power frames, shaped (frames, 40), for a 16 kHz waveform."""
        spec = torch.stft(
            wav,
            N_FFT,
            hop_length=HOP,
            window=self._window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        power = spec.real**2 + spec.imag**2
        return (self._filters @ power).T


def partial_starts(n_samples: int) -> list[int]:
    """Start frames of the 1.6 s windows that cover an utterance of ``n_samples`` at 16 kHz."""
    n_frames = n_samples // HOP + 1
    starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + PARTIAL_STEP_FRAMES + 1)))
    starts = starts[::PARTIAL_STEP_FRAMES]
    tail = (n_samples - starts[-1] * HOP) / (PARTIAL_FRAMES * HOP)
    if tail < MIN_TAIL_COVERAGE and len(starts) > 1:
        starts.pop()
    return starts


def normalise_level(wav: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Raise quiet audio to the training level; loud audio is left alone."""
    rms = float(np.sqrt(np.mean(np.asarray(wav, dtype=np.float64) ** 2))) if wav.size else 0.0
    if rms <= 0.0:
        return wav
    gain_db = TARGET_DBFS - 20.0 * np.log10(rms)
    if gain_db <= 0.0:
        return wav
    return np.asarray(wav * (10.0 ** (gain_db / 20.0)), dtype=np.float32)
