"""``voicepay dtmf``: find DTMF key presses in a WAV file, or mask them out of it."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Annotated

import numpy as np
import numpy.typing as npt
import typer
from rich.console import Console

from payment_tools.dtmf.detector import detect as detect_keys
from payment_tools.dtmf.masker import mask_signal
from payment_tools.dtmf.wav import read_pcm16, write_pcm16

LOOKAHEAD_MS = 20.0

dtmf_app = typer.Typer(
    name="dtmf",
    help="Find in-band DTMF key presses in a WAV file, or mask them out of it.",
    no_args_is_help=True,
)

_err = Console(stderr=True, soft_wrap=True)

WavIn = Annotated[Path, typer.Argument(help="16-bit PCM WAV file (first channel is used).")]


def _read(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    """Samples and rate of a WAV file, or exit with status 2 and a message on stderr."""
    try:
        return read_pcm16(path)
    except (OSError, EOFError, ValueError, wave.Error) as exc:
        _err.print(f"[red]Cannot read {path}:[/] {exc}")
        raise typer.Exit(code=2) from None


@dtmf_app.command()
def detect(file: WavIn) -> None:
    """Print one line per key press, ``KEY START_MS`` (tone onset in ms), and nothing else."""
    pcm, rate = _read(file)
    for hit in detect_keys(pcm, rate):
        print(f"{hit.key} {round(hit.start_sample * 1000 / rate)}")


@dtmf_app.command()
def mask(
    source: WavIn,
    target: Annotated[Path, typer.Argument(help="WAV file to write (16-bit PCM, mono).")],
) -> None:
    """Copy SOURCE to TARGET with every DTMF tone muted.

    The output has exactly as many samples as the input, sample-aligned with it. Tones are found
    with a look-ahead of 20 ms (the delay a live call would add), so each is muted from its first
    sample; everything else is copied bit for bit.
    """
    pcm, rate = _read(source)
    write_pcm16(target, mask_signal(pcm, rate, LOOKAHEAD_MS), rate)
