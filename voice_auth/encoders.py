"""Speaker encoders behind one interface: offline GE2E and SpeechBrain's ECAPA-TDNN."""

from __future__ import annotations

import hashlib
import pickle
import re
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
import torch

from voice_auth import ge2e
from voice_auth.audio import Audio, resample

Embedding = npt.NDArray[np.float32]

DEFAULT_SPEECHBRAIN_SOURCE = "speechbrain/spkrec-ecapa-voxceleb"
EncoderKind = Literal["ge2e", "speechbrain"]


class EncoderUnavailableError(RuntimeError):
    """The configured encoder cannot be loaded; the message says what to install or fix."""


class SpeakerEncoder(Protocol):
    """Turns speech into a fixed-size, L2-normalised speaker embedding."""

    @property
    def model_id(self) -> str:
        """Identifies model and weights; embeddings from different ids must not be compared."""
        ...

    @property
    def model_version(self) -> str:
        """Where the weights came from, for the record kept with each voiceprint."""
        ...

    @property
    def sample_rate(self) -> int:
        """Rate the model works at; ``embed`` resamples other rates to it."""
        ...

    def embed(self, audio: Audio, sample_rate: int) -> Embedding:
        """Embed mono speech (silences already trimmed) given at ``sample_rate``."""
        ...


@dataclass(frozen=True)
class EncoderConfig:
    """Which encoder to build.

    Attributes:
        kind: ``"speechbrain"`` (ECAPA-TDNN via ``EncoderClassifier.from_hparams``) or
            ``"ge2e"`` (Resemblyzer's weights, works offline).
        source: SpeechBrain: local directory or model hub id (default
            ``speechbrain/spkrec-ecapa-voxceleb``). GE2E: a weights file overriding the one
            in the Resemblyzer wheel.
        savedir: SpeechBrain's local copy of the model files (default: a per-source cache
            directory under ``~/.cache/voicepay/speechbrain``).
    """

    kind: EncoderKind
    source: str | None = None
    savedir: Path | None = None


def _state_digest(module: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:12]


def _unit(vector: npt.NDArray[Any]) -> Embedding:
    flat = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(flat))
    if norm == 0.0:
        raise ValueError("the encoder produced a zero embedding")
    return flat / norm


class GE2EEncoder:
    """Resemblyzer's GE2E model (VoxCeleb + LibriSpeech trained), weights from its wheel."""

    def __init__(self, weights: Path | None = None) -> None:
        try:
            path = weights or ge2e.resemblyzer_weights_path()
            self._network = ge2e.load_network(path)
        except (OSError, KeyError, RuntimeError, pickle.UnpicklingError) as exc:
            raise EncoderUnavailableError(f"cannot load GE2E weights: {exc}") from exc
        self._mel = ge2e.MelFrontEnd()
        self._model_id = f"ge2e-{_state_digest(self._network)}"
        self._version = (
            f"weights file {path.name}" if weights else f"resemblyzer {version('Resemblyzer')}"
        )

    @property
    def model_id(self) -> str:
        """``ge2e-`` plus a digest of the loaded weights."""
        return self._model_id

    @property
    def model_version(self) -> str:
        """``resemblyzer <version>``, or the weights file's name when one was given."""
        return self._version

    @property
    def sample_rate(self) -> int:
        """16 kHz."""
        return ge2e.MODEL_RATE

    def embed(self, audio: Audio, sample_rate: int) -> Embedding:
        """Average the embeddings of overlapping 1.6 s windows, as Resemblyzer does."""
        wav = ge2e.normalise_level(resample(audio, sample_rate, ge2e.MODEL_RATE))
        starts = ge2e.partial_starts(len(wav))
        needed = (starts[-1] + ge2e.PARTIAL_FRAMES) * ge2e.HOP
        wav = np.pad(wav, (0, max(0, needed - len(wav))))
        with torch.inference_mode():
            mel = self._mel(torch.from_numpy(wav))
            windows = torch.stack([mel[s : s + ge2e.PARTIAL_FRAMES] for s in starts])
            partials = self._network(windows)
        return _unit(partials.mean(dim=0).numpy())


def _drop_deprecated_redirects() -> None:
    """Remove SpeechBrain's unloaded deprecated-alias modules from ``sys.modules``.

    SpeechBrain registers aliases such as ``speechbrain.k2_integration`` whose attribute access
    raises ImportError (not AttributeError) when an optional dependency is missing. Anything that
    walks ``sys.modules`` with ``getattr(module, "__file__", None)`` then crashes: CPython's
    ``inspect.getmodule`` (reached from torch op registration) and Hypothesis among them.
    """
    from speechbrain.utils.importutils import DeprecatedModuleRedirect

    for name, module in list(sys.modules.items()):
        if isinstance(module, DeprecatedModuleRedirect) and module.lazy_module is None:
            del sys.modules[name]


def _default_savedir(source: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", source).strip("_")
    return Path.home() / ".cache" / "voicepay" / "speechbrain" / safe


class SpeechBrainEncoder:
    """SpeechBrain ``EncoderClassifier`` (e.g. ECAPA-TDNN), loaded with ``from_hparams``."""

    def __init__(self, source: str, savedir: Path | None = None) -> None:
        local = Path(source).expanduser()
        if source.startswith(("/", ".", "~")) or local.exists():
            # SpeechBrain would take a missing directory for a hub id and fail obscurely.
            if not (local / "hyperparams.yaml").is_file():
                raise EncoderUnavailableError(
                    f"no SpeechBrain model directory (with hyperparams.yaml) at {source}"
                )
            source = str(local.resolve())
        try:
            from speechbrain.inference.speaker import EncoderClassifier
        except ImportError as exc:
            raise EncoderUnavailableError(
                f"speechbrain is not usable here ({exc}); install speechbrain and a torchaudio "
                "that matches torch"
            ) from exc
        _drop_deprecated_redirects()
        try:
            self._model: Any = EncoderClassifier.from_hparams(
                source=source,
                savedir=str(savedir or _default_savedir(source)),
                run_opts={"device": "cpu"},
            )
        except Exception as exc:  # the loader raises many unrelated types (IO, YAML, hub)
            raise EncoderUnavailableError(
                f"cannot load SpeechBrain model from {source!r}: {exc}"
            ) from exc
        self._model.eval()
        self._rate = int(getattr(self._model.hparams, "sample_rate", 16000))
        self._model_id = f"speechbrain-{_state_digest(self._model.mods.embedding_model)}"
        self._version = f"speechbrain {version('speechbrain')}, {source}"

    @property
    def model_id(self) -> str:
        """``speechbrain-`` plus a digest of the embedding model's weights."""
        return self._model_id

    @property
    def model_version(self) -> str:
        """``speechbrain <version>, <source>``."""
        return self._version

    @property
    def sample_rate(self) -> int:
        """The model's ``sample_rate`` hyperparameter (16 kHz when absent)."""
        return self._rate

    def embed(self, audio: Audio, sample_rate: int) -> Embedding:
        """Embed one utterance with ``encode_batch``."""
        wav = torch.from_numpy(resample(audio, sample_rate, self._rate)).unsqueeze(0)
        with torch.inference_mode():
            embedding = self._model.encode_batch(wav)
        return _unit(embedding.numpy())


def create_encoder(config: EncoderConfig) -> SpeakerEncoder:
    """Build the encoder ``config`` names.

    Raises:
        EncoderUnavailableError: Its package, weights or model files are missing or broken.
    """
    if config.kind == "ge2e":
        return GE2EEncoder(Path(config.source) if config.source else None)
    return SpeechBrainEncoder(config.source or DEFAULT_SPEECHBRAIN_SOURCE, config.savedir)
