"""The shared real recordings (../shared/data), and a one-folder-per-speaker view of them.

Tests that read them carry ``needs_shared_data``: without the folder they are skipped, saying why.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get(
        "VOICEPAY_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
)
LIBRI = SHARED_DATA / "librispeech-test-other"
FSDD = SHARED_DATA / "fsdd" / "recordings"

needs_shared_data = pytest.mark.skipif(
    not (LIBRI.is_dir() and FSDD.is_dir()),
    reason=f"shared speech recordings not found at {SHARED_DATA} (set VOICEPAY_SHARED_DATA)",
)


def speaker_layout(destination: Path) -> Path:
    """Symlink every shared recording into ``destination/<speaker>/`` and return it.

    LibriSpeech speakers come from the file-name prefix, FSDD speakers from the middle field;
    the OSR file and each pocketsphinx folder are one speaker each.
    """

    def link(speaker: str, source: Path) -> None:
        folder = destination / speaker
        folder.mkdir(parents=True, exist_ok=True)
        (folder / source.name).symlink_to(source)

    for source in sorted(LIBRI.rglob("*.flac")):
        link("ls-" + source.name.split("-")[0], source)
    for source in sorted((SHARED_DATA / "librispeech-train-clean-100").glob("*.flac")):
        link("ls-" + source.name.split("-")[0], source)
    for source in sorted(FSDD.glob("*.wav")):
        link("fsdd-" + source.stem.split("_")[1], source)
    for source in sorted((SHARED_DATA / "osr-harvard-8k").glob("*.wav")):
        link("osr-harvard", source)
    for part in ("librivox", "cards"):
        for source in sorted((SHARED_DATA / "pocketsphinx-testdata" / part).glob("*.wav")):
            link(f"pocketsphinx-{part}", source)
    return destination
