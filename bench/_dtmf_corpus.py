"""Talk-off material made to sound like a caller: 8 kHz, 300-3400 Hz, G.711 mu-law.

Real speech from ../shared/data, and music: the MIDI soundtrack of Debian's
``planetblupi-music-midi`` rendered by ``timidity`` with ``timgm6mb-soundfont`` (all installed by
``scripts/install-dtmf-bench.sh``; the music corpus is skipped when they are missing). FLAC files
are decoded with Debian's ``flac``. Each recording is band-limited and brought to 8 kHz, set to an
active level of ``SPEECH_DBM0``, then passed through the voice band and mu-law. Prepared corpora
are cached as .npz files under the temporary directory.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from payment_tools.dtmf.channel import mulaw_roundtrip, telephone_bandpass
from payment_tools.dtmf.tones import dbm0_to_power

DATA = Path(
    os.environ.get("VOICEPAY_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
CACHE = Path(tempfile.gettempdir()) / "voicepay-dtmf-bench-v2"
FS = 8000
SPEECH_DBM0 = -20.0
FloatArray = npt.NDArray[np.float64]

CORPORA: dict[str, tuple[str, str]] = {
    "librispeech-test-other": ("librispeech-test-other", "*.flac"),
    "librispeech-train-clean": ("librispeech-train-clean-100", "*.flac"),
    "fsdd-digits": ("fsdd/recordings", "*.wav"),
    "osr-harvard": ("osr-harvard-8k", "*.wav"),
    "pocketsphinx": ("pocketsphinx-testdata", "*.wav"),
}
MIDI = Path("/usr/share/planetblupi/music")
TIMIDITY_CFG = Path("/etc/timidity/timgm6mb.cfg")


def _decode(path: Path) -> tuple[FloatArray, int]:
    raw = path.read_bytes()
    if path.suffix == ".flac":
        raw = subprocess.run(
            ["flac", "-d", "-c", "-s", str(path)], check=True, capture_output=True
        ).stdout
    with wave.open(io.BytesIO(raw), "rb") as w:
        ch, rate, width = w.getnchannels(), w.getframerate(), w.getsampwidth()
        frames = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError(f"{path}: not 16-bit PCM")
    pcm = np.frombuffer(frames, dtype="<i2").reshape(-1, ch)[:, 0]
    return pcm.astype(np.float64) / 32768.0, rate


def _to_8k(x: FloatArray, rate: int) -> FloatArray:
    """Band-limit to 300-3400 Hz at the source rate, then keep every (rate / 8000)th sample."""
    if rate == FS:
        return x
    if rate % FS:
        raise ValueError(f"cannot bring {rate} Hz to 8 kHz by decimation")
    out: FloatArray = telephone_bandpass(x, rate)[:: rate // FS]
    return out


def _active_level(x: FloatArray) -> float:
    """Mean power over the 20 ms frames within 30 dB of the loudest (speech, not pauses)."""
    n = len(x) // 160
    frames = (x[: n * 160].reshape(n, 160) ** 2).mean(axis=1)
    active = frames[frames > frames.max() * 1e-3]
    return float(active.mean())


def prepare(path: Path) -> FloatArray:
    """One recording as a caller would sound."""
    x, rate = _decode(path)
    x = _to_8k(x, rate)
    x = x - x.mean()
    x *= np.sqrt(dbm0_to_power(SPEECH_DBM0) / _active_level(x))
    out: FloatArray = mulaw_roundtrip(telephone_bandpass(x, FS))
    return out


def _render_midi() -> list[Path]:
    out = CACHE / "midi"
    out.mkdir(parents=True, exist_ok=True)
    wavs = []
    for mid in sorted(MIDI.glob("*.mid")):
        wav = out / (mid.stem + ".wav")
        if not wav.exists():
            cmd = ["timidity", "-c", str(TIMIDITY_CFG), "-s", str(FS), "--output-mono", "-Ow"]
            subprocess.run([*cmd, "-o", str(wav), str(mid)], check=True, capture_output=True)
        wavs.append(wav)
    return wavs


def music_available() -> bool:
    """Whether the MIDI soundtrack and a renderer are installed."""
    return MIDI.is_dir() and TIMIDITY_CFG.exists()


def speech_available() -> list[str]:
    """The speech corpora present in the shared data."""
    return [name for name, (folder, _) in CORPORA.items() if (DATA / folder).is_dir()]


def corpus(name: str) -> list[FloatArray]:
    """All recordings of a corpus (a key of CORPORA, or "music-midi"), prepared and cached."""
    CACHE.mkdir(parents=True, exist_ok=True)
    cache = CACHE / f"{name}.npz"
    if cache.exists():
        with np.load(cache) as z:
            return [z[f"arr_{i}"] for i in range(len(z.files))]
    if name == "music-midi":
        files = _render_midi()
    else:
        folder, pattern = CORPORA[name]
        files = sorted((DATA / folder).rglob(pattern))
    items = [prepare(f) for f in files]
    np.savez(cache, *items)
    return items
