"""The score-normalisation cohort: embeddings of speakers who will never call, kept in a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from voice_auth.audio import TELEPHONE_RATE, load_audio, prepare_speech, telephone_band
from voice_auth.encoders import SpeakerEncoder
from voice_auth.trials import AUDIO_SUFFIXES

Cohort = npt.NDArray[np.float32]

_CROP_SECONDS = 3.0
_CROPS_PER_FILE = 3


def build_cohort(recordings: Path, encoder: SpeakerEncoder) -> Cohort:
    """Embed up to three 3 s telephone-band speech crops of every recording below a folder.

    The speakers should resemble callers (language, channel) but never be enrolled or tested.

    Raises:
        ValueError: Fewer than two crops came out of the folder.
    """
    length = round(_CROP_SECONDS * TELEPHONE_RATE)
    embeddings = []
    for path in sorted(p for p in recordings.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES):
        audio, rate = load_audio(path)
        speech = prepare_speech(telephone_band(audio, rate), TELEPHONE_RATE).samples
        for i in range(min(_CROPS_PER_FILE, len(speech) // length)):
            crop = speech[i * length : (i + 1) * length]
            embeddings.append(encoder.embed(crop, TELEPHONE_RATE))
    if len(embeddings) < 2:
        raise ValueError(f"{recordings} gave {len(embeddings)} speech crops; a cohort needs two")
    return np.stack(embeddings).astype(np.float32)


def save_cohort(path: Path, cohort: Cohort, model_id: str) -> None:
    """Write the cohort with the id of the model that made it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        np.savez(out, embeddings=cohort, model_id=np.array(model_id))


def load_cohort(path: Path, model_id: str) -> Cohort:
    """Read a cohort written by :func:`save_cohort` for the model ``model_id``.

    Raises:
        ValueError: The file was made by another model, or is not a cohort file.
        OSError: The file cannot be read.
    """
    with np.load(path, allow_pickle=False) as data:
        if "embeddings" not in data or "model_id" not in data:
            raise ValueError(f"{path} is not a cohort file")
        made_by = str(data["model_id"])
        if made_by != model_id:
            raise ValueError(f"cohort {path} was made by {made_by}, not {model_id}")
        return np.asarray(data["embeddings"], dtype=np.float32)
