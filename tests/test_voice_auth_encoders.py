from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from shared_speech import LIBRI, SHARED_DATA, needs_shared_data

from voice_auth.audio import TELEPHONE_RATE, load_audio, prepare_speech, resample, telephone_band
from voice_auth.encoders import (
    EncoderConfig,
    EncoderUnavailableError,
    GE2EEncoder,
    SpeakerEncoder,
    create_encoder,
)
from voice_auth.scoring import cosine

REFERENCE = Path(__file__).parent / "data" / "ge2e_reference.json"

TINY_ECAPA_YAML = """\
sample_rate: 16000
n_mels: 24
compute_features: !new:speechbrain.lobes.features.Fbank
    n_mels: !ref <n_mels>
mean_var_norm: !new:speechbrain.processing.features.InputNormalization
    norm_type: sentence
    std_norm: False
embedding_model: !new:speechbrain.lobes.models.ECAPA_TDNN.ECAPA_TDNN
    input_size: !ref <n_mels>
    channels: [32, 32, 32, 32, 96]
    kernel_sizes: [5, 3, 3, 3, 1]
    dilations: [1, 2, 3, 4, 1]
    attention_channels: 16
    lin_neurons: 16
classifier: !new:speechbrain.lobes.models.ECAPA_TDNN.Classifier
    input_size: 16
    out_neurons: 4
modules:
    compute_features: !ref <compute_features>
    mean_var_norm: !ref <mean_var_norm>
    embedding_model: !ref <embedding_model>
    classifier: !ref <classifier>
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        embedding_model: !ref <embedding_model>
        classifier: !ref <classifier>
"""


def phone_speech(path: Path) -> np.ndarray:
    audio, rate = load_audio(path)
    return prepare_speech(telephone_band(audio, rate), TELEPHONE_RATE).samples


@pytest.fixture(scope="module")
def ge2e() -> GE2EEncoder:
    return GE2EEncoder()


@needs_shared_data
def test_ge2e_reproduces_resemblyzer(ge2e: GE2EEncoder) -> None:
    reference = json.loads(REFERENCE.read_text())
    audio, rate = load_audio(SHARED_DATA / reference["file"])
    ours = ge2e.embed(audio, rate)
    assert cosine(ours, np.asarray(reference["embedding"], dtype=np.float32)) > 0.9999


@needs_shared_data
def test_ge2e_embeddings_are_unit_256d_and_resampled_from_8k(ge2e: GE2EEncoder) -> None:
    speech = phone_speech(LIBRI / "2033" / "2033-164914-0001.flac")
    at_8k = ge2e.embed(speech, 8000)
    assert at_8k.shape == (256,)
    assert np.linalg.norm(at_8k) == pytest.approx(1.0, abs=1e-5)
    assert at_8k == pytest.approx(ge2e.embed(resample(speech, 8000, 16000), 16000), abs=1e-6)
    assert ge2e.sample_rate == 16000
    assert ge2e.model_id == GE2EEncoder().model_id
    assert ge2e.model_id.startswith("ge2e-")
    assert ge2e.model_version == "resemblyzer 0.1.4"


@needs_shared_data
def test_ge2e_tells_speakers_apart_over_the_phone(ge2e: GE2EEncoder) -> None:
    enrol = ge2e.embed(phone_speech(LIBRI / "1688" / "1688-142285-0000.flac"), 8000)
    same = ge2e.embed(phone_speech(LIBRI / "1688" / "1688-142285-0006.flac")[:24000], 8000)
    other = ge2e.embed(phone_speech(LIBRI / "3331" / "3331-159605-0009.flac")[:24000], 8000)
    assert cosine(enrol, same) > cosine(enrol, other) + 0.1


def test_ge2e_reports_missing_or_broken_weights(tmp_path: Path) -> None:
    with pytest.raises(EncoderUnavailableError, match="cannot load GE2E weights"):
        create_encoder(EncoderConfig(kind="ge2e", source=str(tmp_path / "missing.pt")))
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(EncoderUnavailableError, match="cannot load GE2E weights"):
        create_encoder(EncoderConfig(kind="ge2e", source=str(tmp_path / "broken.pt")))


@pytest.fixture(scope="module")
def tiny_ecapa(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, torch.nn.Module]:
    """A randomly initialised small ECAPA-TDNN saved the way SpeechBrain's hub models are."""
    from speechbrain.lobes.models.ECAPA_TDNN import ECAPA_TDNN, Classifier

    folder = tmp_path_factory.mktemp("tiny-ecapa")
    (folder / "hyperparams.yaml").write_text(TINY_ECAPA_YAML)
    torch.manual_seed(7)
    model = ECAPA_TDNN(
        input_size=24,
        channels=[32, 32, 32, 32, 96],
        kernel_sizes=[5, 3, 3, 3, 1],
        dilations=[1, 2, 3, 4, 1],
        attention_channels=16,
        lin_neurons=16,
    ).eval()
    torch.save(model.state_dict(), folder / "embedding_model.ckpt")
    torch.save(Classifier(input_size=16, out_neurons=4).state_dict(), folder / "classifier.ckpt")
    return folder, model


def expected_embedding(model: torch.nn.Module, wav16k: np.ndarray) -> np.ndarray:
    from speechbrain.lobes.features import Fbank
    from speechbrain.processing.features import InputNormalization

    with torch.inference_mode():
        wav = torch.from_numpy(wav16k).unsqueeze(0)
        feats = Fbank(n_mels=24)(wav)
        feats = InputNormalization(norm_type="sentence", std_norm=False)(feats, torch.ones(1))
        out = model(feats, torch.ones(1)).reshape(-1).numpy()
    return np.asarray(out / np.linalg.norm(out))


@needs_shared_data
def test_speechbrain_loads_a_local_checkpoint_through_from_hparams(
    tiny_ecapa: tuple[Path, torch.nn.Module], tmp_path: Path
) -> None:
    folder, model = tiny_ecapa
    encoder: SpeakerEncoder = create_encoder(
        EncoderConfig(kind="speechbrain", source=str(folder), savedir=tmp_path / "save")
    )
    assert encoder.sample_rate == 16000
    assert encoder.model_id.startswith("speechbrain-")
    speech = phone_speech(LIBRI / "2414" / "2414-128291-0001.flac")[:24000]
    at_8k = encoder.embed(speech, 8000)
    upsampled = resample(speech, 8000, 16000)
    assert at_8k.shape == (16,)
    assert at_8k == pytest.approx(expected_embedding(model, upsampled), abs=1e-5)
    assert at_8k == pytest.approx(encoder.embed(upsampled, 16000), abs=1e-6)


def test_speechbrain_reports_a_missing_local_model(tmp_path: Path) -> None:
    missing = tmp_path / "no-model-here"
    with pytest.raises(EncoderUnavailableError, match="no SpeechBrain model directory"):
        create_encoder(EncoderConfig(kind="speechbrain", source=str(missing)))


def test_loading_speechbrain_leaves_every_module_inspectable(
    tiny_ecapa: tuple[Path, torch.nn.Module], tmp_path: Path
) -> None:
    # SpeechBrain's deprecated aliases raise ImportError on attribute access when optional
    # packages (k2, flair, ...) are missing; inspect.getmodule and Hypothesis then crash.
    folder, _ = tiny_ecapa
    create_encoder(EncoderConfig(kind="speechbrain", source=str(folder), savedir=tmp_path))
    for module in list(sys.modules.values()):
        getattr(module, "__file__", None)
    assert inspect.getmodule(test_loading_speechbrain_leaves_every_module_inspectable) is not None
