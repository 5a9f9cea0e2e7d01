"""Speaker-verification evaluation over a folder of speakers (``voicepay voice-auth eval``)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from voice_auth.audio import TELEPHONE_RATE, UnusableAudioError
from voice_auth.decision import DecisionThresholds, calibrated_thresholds
from voice_auth.encoders import Embedding, EncoderConfig, SpeakerEncoder, create_encoder
from voice_auth.scoring import equal_error_rate, error_rates
from voice_auth.trials import ProtocolConfig, SpeakerMaterial, build_material, discover_speakers
from voice_auth.verification import Verifier, Voiceprint


@dataclass(frozen=True)
class EvalConfig:
    """Evaluation settings; thresholds are in s-norm units when normalising, else cosine."""

    thresholds: DecisionThresholds
    protocol: ProtocolConfig = field(default_factory=ProtocolConfig)
    score_normalisation: bool = True
    cohort_top_k: int = 100


@dataclass(frozen=True)
class EvalReport:
    """Error rates, trial counts and latency of one evaluation run.

    ``far`` is the share of impostor trials accepted outright (score >= ``threshold``, the
    accept threshold); ``frr`` the share of genuine trials rejected outright (score <
    ``reject_threshold``).
    Trials in between are stepped up: ``frr_at_accept - frr`` of genuine trials and
    ``far_at_reject - far`` of impostor trials.
    """

    model_id: str
    scoring: str
    eer: float
    eer_threshold: float
    threshold: float
    reject_threshold: float
    far: float
    frr: float
    far_at_reject: float
    frr_at_accept: float
    trials: int
    target_trials: int
    impostor_trials: int
    enrolled_speakers: int
    impostor_speakers: int
    cohort_speakers: int
    cohort_embeddings: int
    unusable_crops: int
    rejected_files: int
    latency_ms_p50: float
    latency_ms_p95: float
    cpu_ms_p50: float
    det_png: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


@contextmanager
def _one_core() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _split(
    materials: list[SpeakerMaterial],
) -> tuple[list[SpeakerMaterial], list[SpeakerMaterial], list[SpeakerMaterial]]:
    """Enrolled speakers; then speakers too small to enrol, alternately cohort and impostor."""
    enrolled = [m for m in materials if m.enrolled]
    others = [m for m in materials if not m.enrolled and m.crops]
    return enrolled, others[0::2], others[1::2]


def _cohort(encoder: SpeakerEncoder, speakers: list[SpeakerMaterial]) -> np.ndarray[Any, Any]:
    embeddings = [encoder.embed(crop, TELEPHONE_RATE) for m in speakers for crop in m.crops]
    if len(embeddings) < 2:
        raise ValueError(
            "score normalisation needs a cohort: at least two speakers with too little audio to "
            "enrol (or turn normalisation off)"
        )
    return np.stack(embeddings)


def run_evaluation(
    data_dir: Path, encoder: SpeakerEncoder, config: EvalConfig, det_png: Path | None = None
) -> EvalReport:
    """Enrol every speaker that has enough audio and score all target and impostor trials.

    Each speaker folder is enrolled from its first recordings (after a seeded shuffle) and tested
    with 3 s speech crops of the rest, all converted to 8 kHz telephone band. Speakers with too
    little audio to enrol are split: half form the s-norm cohort, half are test impostors, so
    no impostor is ever in the cohort. Latency is measured on one CPU thread per test crop:
    trimming, quality gates, embedding and scoring, as wall-clock and as CPU time (which other
    load on the machine does not inflate).
    """
    speakers = discover_speakers(data_dir)
    materials = [build_material(n, files, config.protocol) for n, files in speakers.items()]
    enrolled, cohort_speakers, impostors = _split(materials)
    if not enrolled:
        raise ValueError(f"no speaker in {data_dir} has enough audio to enrol")
    with _one_core():
        cohort = _cohort(encoder, cohort_speakers) if config.score_normalisation else None
        verifier = Verifier(encoder, cohort, config.cohort_top_k)
        prints = {
            m.name: verifier.enrol([(a, TELEPHONE_RATE) for a in m.enrolment]) for m in enrolled
        }
        targets, others, timings, unusable = _score_trials(verifier, prints, enrolled + impostors)
    eer = equal_error_rate(targets, others)
    at_accept = error_rates(targets, others, config.thresholds.accept)
    at_reject = error_rates(targets, others, config.thresholds.reject)
    if det_png is not None:
        from voice_auth.det_plot import plot_det

        plot_det(targets, others, eer, [at_accept, at_reject], det_png, title=encoder.model_id)
    return EvalReport(
        model_id=encoder.model_id,
        scoring=verifier.scoring,
        eer=max(eer.far, eer.frr),
        eer_threshold=eer.threshold,
        threshold=config.thresholds.accept,
        reject_threshold=config.thresholds.reject,
        far=at_accept.far,
        frr=at_reject.frr,
        far_at_reject=at_reject.far,
        frr_at_accept=at_accept.frr,
        trials=len(targets) + len(others),
        target_trials=len(targets),
        impostor_trials=len(others),
        enrolled_speakers=len(enrolled),
        impostor_speakers=len(impostors),
        cohort_speakers=len(cohort_speakers),
        cohort_embeddings=0 if cohort is None else len(cohort),
        unusable_crops=unusable,
        rejected_files=sum(len(m.rejected) for m in materials),
        latency_ms_p50=float(np.percentile(timings[:, 0], 50)),
        latency_ms_p95=float(np.percentile(timings[:, 0], 95)),
        cpu_ms_p50=float(np.percentile(timings[:, 1], 50)),
        det_png=str(det_png) if det_png is not None else None,
    )


def _score_trials(
    verifier: Verifier, prints: dict[str, Voiceprint], tested: list[SpeakerMaterial]
) -> tuple[list[float], list[float], np.ndarray[Any, Any], int]:
    """Score every crop against every voiceprint; time each crop's verification (wall, CPU)."""
    targets: list[float] = []
    impostors: list[float] = []
    timings: list[tuple[float, float]] = []
    unusable = 0
    claimed_default = next(iter(prints))
    verifier.encoder.embed(tested[0].crops[0], TELEPHONE_RATE)  # warm-up, not timed
    for speaker in tested:
        claimed = speaker.name if speaker.name in prints else claimed_default
        for crop in speaker.crops:
            start, cpu_start = time.perf_counter(), time.process_time()
            try:
                embedding: Embedding = verifier.embed_utterance(crop, TELEPHONE_RATE)[0]
            except UnusableAudioError:
                unusable += 1
                continue
            verifier.score(prints[claimed], embedding)
            timings.append(
                ((time.perf_counter() - start) * 1e3, (time.process_time() - cpu_start) * 1e3)
            )
            for name, voiceprint in prints.items():
                score = verifier.score(voiceprint, embedding)
                (targets if name == speaker.name else impostors).append(score)
    if not targets or not impostors:
        raise ValueError("the data gave no target or no impostor trials")
    return targets, impostors, np.asarray(timings, dtype=np.float64), unusable


def render_text(report: EvalReport) -> str:
    """Human-readable summary of a report."""
    return "\n".join(
        [
            f"model            {report.model_id} ({report.scoring} scores)",
            f"speakers         {report.enrolled_speakers} enrolled, "
            f"{report.impostor_speakers} impostor-only, {report.cohort_speakers} in cohort "
            f"({report.cohort_embeddings} embeddings)",
            f"trials           {report.target_trials} target, {report.impostor_trials} impostor"
            f" ({report.unusable_crops} crops unusable, {report.rejected_files} files rejected)",
            f"EER              {report.eer:.2%} at threshold {report.eer_threshold:.3f}",
            f"accept >= {report.threshold:.3f}  FAR {report.far:.2%} (impostors accepted outright)",
            f"reject <  {report.reject_threshold:.3f}  FRR {report.frr:.2%} "
            "(genuine callers rejected outright)",
            f"step-up          {report.frr_at_accept - report.frr:.2%} of genuine, "
            f"{report.far_at_reject - report.far:.2%} of impostor trials",
            f"latency          p50 {report.latency_ms_p50:.1f} ms, "
            f"p95 {report.latency_ms_p95:.1f} ms per 3 s utterance "
            f"(1 thread; CPU time p50 {report.cpu_ms_p50:.1f} ms)",
            *([f"DET curve        {report.det_png}"] if report.det_png else []),
        ]
    )


def evaluate_command(
    data_dir: Path,
    encoder: EncoderConfig,
    *,
    thresholds: DecisionThresholds | None = None,
    score_normalisation: bool = True,
    det_png: Path = Path("voice-auth-det.png"),
    as_json: bool = False,
) -> str:
    """Everything ``voicepay voice-auth eval`` does except printing; returns the output text.

    Raises:
        EncoderUnavailableError: The encoder cannot be loaded.
        ValueError: No thresholds are calibrated for this encoder, or the data cannot be
            evaluated (the message says why).
    """
    if thresholds is None:
        thresholds = calibrated_thresholds(
            encoder.kind, "s-norm" if score_normalisation else "cosine"
        )
        if thresholds is None:
            raise ValueError(f"no calibrated thresholds for {encoder.kind}: pass them")
    config = EvalConfig(thresholds=thresholds, score_normalisation=score_normalisation)
    report = run_evaluation(data_dir, create_encoder(encoder), config, det_png)
    return json.dumps(report.to_dict(), indent=2) if as_json else render_text(report)
