"""Q.24-style DTMF receiver test vectors (AT&T/Bellcore column of ITU-T Q.24).

Every category plays each of the 16 keys ``REPEATS`` times with random tone phases and random
sample alignment. Must-detect categories pass when exactly the played keys come out, in order;
must-reject categories pass when nothing comes out. Each vector can be passed through a channel:
clean, G.711 mu-law, or the 300-3400 Hz voice band followed by mu-law.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from payment_tools.dtmf.channel import mulaw_roundtrip, telephone_bandpass
from payment_tools.dtmf.tones import KEYS, dbm0_to_power, dtmf_tone

FS = 8000
REPEATS = 3
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Tone:
    """One tone burst of a vector."""

    key: str
    ms: float = 50.0
    level: float = -10.0
    twist: float = 0.0
    row_dev: float = 0.0
    col_dev: float = 0.0
    gap_ms: float = 0.0
    """An interruption of this length in the middle of the tone (0: none)."""


@dataclass(frozen=True)
class Category:
    """A named set of tones, each played after a pause, with what a receiver must do."""

    name: str
    must_detect: bool
    tones: list[Tone]
    pause_ms: float = 60.0
    noise_dbm0: float | None = None
    expected: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Vector:
    """A rendered category: the samples, the keys expected and their onsets."""

    category: Category
    channel: str
    samples: FloatArray
    keys: str
    onsets: list[int]


def _every_key(**kw: float) -> list[Tone]:
    return [Tone(k, **kw) for k in KEYS for _ in range(REPEATS)]


def categories() -> list[Category]:
    """All must-detect and must-reject categories."""
    cats = [Category("every key, 50 ms, -10 dBm0", True, _every_key())]
    for ms in (40.0, 50.0, 70.0, 100.0):
        cats.append(Category(f"duration {ms:.0f} ms", True, _every_key(ms=ms), pause_ms=40.0))
    cats.append(Category("pause 40 ms, same key twice", True, _every_key(ms=40.0), pause_ms=40.0))
    for dev in (0.015, -0.015):
        pct = f"{dev * 100:+.1f} %"
        cats.append(Category(f"deviation {pct} both", True, _every_key(row_dev=dev, col_dev=dev)))
        cats.append(Category(f"deviation {pct} row", True, _every_key(row_dev=dev)))
        cats.append(Category(f"deviation {pct} column", True, _every_key(col_dev=dev)))
    cats.append(
        Category(
            "deviation +1.5 % row, -1.5 % col", True, _every_key(row_dev=0.015, col_dev=-0.015)
        )
    )
    for twist, level in ((4.0, -20.0), (-8.0, -12.0), (4.0, -25.0), (-8.0, -17.0)):
        cats.append(
            Category(
                f"twist {twist:+.0f} dB, low tone {level:.0f} dBm0",
                True,
                _every_key(twist=twist, level=level),
            )
        )
    for level in (-3.0, -10.0, -20.0, -25.0):
        cats.append(Category(f"level {level:.0f} dBm0 per tone", True, _every_key(level=level)))
    cats.append(
        Category("level -25 dBm0, 40 ms", True, _every_key(level=-25.0, ms=40.0), pause_ms=40.0)
    )
    cats.append(
        Category(
            "noise: -20 dBm0 tones, -35 dBm0 noise", True, _every_key(level=-20.0), noise_dbm0=-35.0
        )
    )
    cats.append(
        Category(
            "noise: -25 dBm0 tones, -37 dBm0 noise", True, _every_key(level=-25.0), noise_dbm0=-37.0
        )
    )
    cats.append(
        Category("interruption 10 ms in 100 ms tone", True, _every_key(ms=100.0, gap_ms=10.0))
    )
    for ms in (23.0, 20.0, 15.0):
        cats.append(
            Category(f"reject: duration {ms:.0f} ms", False, _every_key(ms=ms), pause_ms=40.0)
        )
    for dev in (0.035, -0.035):
        pct = f"{dev * 100:+.1f} %"
        cats.append(
            Category(f"reject: deviation {pct} both", False, _every_key(row_dev=dev, col_dev=dev))
        )
        cats.append(Category(f"reject: deviation {pct} row", False, _every_key(row_dev=dev)))
        cats.append(Category(f"reject: deviation {pct} column", False, _every_key(col_dev=dev)))
    cats.append(Category("reject: level -55 dBm0", False, _every_key(level=-55.0)))
    return cats


CHANNELS: dict[str, Callable[[FloatArray], FloatArray]] = {
    "clean": lambda x: x,
    "mu-law": mulaw_roundtrip,
    "band+mu": lambda x: mulaw_roundtrip(telephone_bandpass(x, FS)),
}


def render(cat: Category, channel: str, seed: int = 0) -> Vector:
    """Render a category through a channel into one continuous recording."""
    rng = np.random.default_rng(seed)
    parts: list[FloatArray] = [np.zeros(int(rng.integers(200, 400)))]
    pos = len(parts[0])
    keys, onsets = "", []
    for tone in cat.tones:
        n = round(tone.ms * FS / 1000)
        phase = (float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0, 2 * np.pi)))
        burst = dtmf_tone(
            tone.key,
            n,
            FS,
            level_dbm0=tone.level,
            twist_db=tone.twist,
            row_deviation=tone.row_dev,
            col_deviation=tone.col_dev,
            phase=phase,
        )
        if tone.gap_ms:
            gap = round(tone.gap_ms * FS / 1000)
            mid = (n - gap) // 2
            burst[mid : mid + gap] = 0.0
        keys += tone.key
        onsets.append(pos)
        pause = round(cat.pause_ms * FS / 1000) + int(rng.integers(0, 17))
        parts += [burst, np.zeros(pause)]
        pos += n + pause
    parts.append(np.zeros(400))
    x = np.concatenate(parts)
    if cat.noise_dbm0 is not None:
        noise = rng.normal(0.0, 1.0, len(x))
        noise = telephone_bandpass(noise, FS)
        noise *= np.sqrt(dbm0_to_power(cat.noise_dbm0) / np.mean(noise**2))
        x = x + noise
    return Vector(cat, channel, CHANNELS[channel](x), keys, onsets)
