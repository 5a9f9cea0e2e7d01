"""``voicepay voice-auth`` (evaluation, cohort) and ``voicepay voiceprint`` (enrol, show, delete).

torch and the encoder load inside the commands, so the rest of the CLI starts fast.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import typer
from redis.asyncio import Redis
from redis.exceptions import RedisError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from voice_auth.config import VoiceAuthConfigError, VoiceAuthSettings, voiceprint_key
from voice_auth.decision import DecisionThresholds
from voicepay.redis_client import connect
from voicepay.settings import Settings

T = TypeVar("T")

voice_auth_app = typer.Typer(
    help="Evaluate voice verification; build its cohort.", no_args_is_help=True
)
voiceprint_app = typer.Typer(help="Enrol, show and delete voiceprints.", no_args_is_help=True)

_out = Console(soft_wrap=True, highlight=False)
_err = Console(stderr=True, soft_wrap=True, highlight=False)

EncoderOption = Annotated[
    Literal["ge2e", "speechbrain"] | None,
    typer.Option("--encoder", help="Speaker encoder (default: VOICEPAY_VOICE_AUTH__ENCODER)."),
]
RedisUrlOption = Annotated[
    str | None,
    typer.Option(
        "--redis-url", help="Redis to use (default: VOICEPAY_REDIS_URL).", show_default=False
    ),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    _err.print(f"[red]{escape(message)}[/]")
    return typer.Exit(code=code)


def _eval_thresholds(
    settings: VoiceAuthSettings, accept: float | None, reject: float | None
) -> DecisionThresholds | None:
    """Thresholds from the options, else the configured ones, else ``None`` (calibrated)."""
    if accept is not None or reject is not None:
        if accept is None or reject is None:
            raise _fail("give both --accept-threshold and --reject-threshold", code=2)
        return DecisionThresholds(accept=accept, reject=reject)
    if settings.accept_threshold is not None or settings.reject_threshold is not None:
        return settings.thresholds()
    return None


@voice_auth_app.command("eval")
def evaluate(
    data_dir: Annotated[
        Path, typer.Argument(help="One sub-folder of WAV/FLAC files per speaker.", file_okay=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    det: Annotated[Path, typer.Option(help="Where to write the DET curve PNG.")] = Path(
        "voice-auth-det.png"
    ),
    encoder: EncoderOption = None,
    source: Annotated[str | None, typer.Option(help="Encoder weights or model folder.")] = None,
    snorm: Annotated[
        bool, typer.Option(help="Adaptive s-norm with a cohort from the data.")
    ] = True,
    accept_threshold: Annotated[float | None, typer.Option(show_default=False)] = None,
    reject_threshold: Annotated[float | None, typer.Option(show_default=False)] = None,
) -> None:
    """EER, false accepts and rejects at the configured thresholds, latency, and a DET curve."""
    from voice_auth.encoders import EncoderConfig, EncoderUnavailableError
    from voice_auth.evaluation import evaluate_command

    settings = VoiceAuthSettings()
    try:
        thresholds = _eval_thresholds(settings, accept_threshold, reject_threshold)
        config = EncoderConfig(encoder or settings.encoder, source or settings.encoder_source)
        text = evaluate_command(
            data_dir,
            config,
            thresholds=thresholds,
            score_normalisation=snorm,
            det_png=det,
            as_json=as_json,
        )
    except (EncoderUnavailableError, VoiceAuthConfigError, ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from None
    _out.print(text, markup=False)


@voice_auth_app.command("liveness-eval")
def liveness_eval(
    fsdd_dir: Annotated[
        Path, typer.Argument(help="FSDD-style recordings: {digit}_{speaker}_{take}.wav.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    trials: Annotated[int, typer.Option(min=1, help="Challenges per speaker.")] = 40,
    seed: Annotated[int, typer.Option(help="Seed of challenges and answers.")] = 0,
) -> None:
    """Pass rates of the digit challenge: genuine answers, replays and live impostors."""
    import torch

    from voice_auth.encoders import EncoderConfig, create_encoder
    from voice_auth.liveness_eval import evaluate_liveness, render_liveness
    from voice_auth.verification import Verifier

    settings = VoiceAuthSettings()
    torch.set_num_threads(1)
    try:
        encoder = create_encoder(EncoderConfig(settings.encoder, settings.encoder_source))
        report = evaluate_liveness(
            fsdd_dir,
            Verifier(encoder),
            speaker_threshold=settings.challenge_speaker_threshold,
            margin=settings.challenge_margin,
            trials_per_speaker=trials,
            counting_passes=settings.counting_passes,
            seed=seed,
        )
    except (ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    text = json.dumps(report.to_dict(), indent=2) if as_json else render_liveness(report)
    _out.print(text, markup=False)


@voice_auth_app.command("cohort")
def cohort(
    recordings: Annotated[
        Path, typer.Argument(help="Speech of people who will never call.", file_okay=False)
    ],
    out: Annotated[Path, typer.Option(help="Cohort file to write (.npz).")],
    encoder: EncoderOption = None,
) -> None:
    """Build the s-norm cohort file named by VOICEPAY_VOICE_AUTH__COHORT_PATH."""
    from voice_auth.cohort import build_cohort, save_cohort
    from voice_auth.encoders import EncoderConfig, EncoderUnavailableError, create_encoder

    settings = VoiceAuthSettings()
    try:
        model = create_encoder(EncoderConfig(encoder or settings.encoder, settings.encoder_source))
        embeddings = build_cohort(recordings, model)
    except (EncoderUnavailableError, ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    save_cohort(out, embeddings, model.model_id)
    _out.print(f"Wrote {len(embeddings)} embeddings of {model.model_id} to {out}.")


def _with_redis(url: str | None, action: Callable[[Redis], Awaitable[T]]) -> T:
    target = url or Settings().redis_url
    if not target:
        raise _fail(
            "No Redis configured: set VOICEPAY_REDIS_URL or pass --redis-url (a private Redis "
            "would vanish with this command, voiceprints included).",
            code=2,
        )

    async def run() -> T:
        client = connect(target)
        try:
            return await action(client)
        finally:
            await client.aclose()

    try:
        return asyncio.run(run())
    except RedisError as exc:
        raise _fail(f"Redis error: {exc}") from None


def _key() -> bytes:
    try:
        return voiceprint_key(VoiceAuthSettings(), Settings().environment)
    except VoiceAuthConfigError as exc:
        raise _fail(str(exc), code=2) from None


@voiceprint_app.command("enrol")
def enrol(
    account: Annotated[str, typer.Argument(help="Account number.")],
    utterance: Annotated[
        list[Path], typer.Option(help="Recording of free speech (repeat the option).")
    ],
    counting: Annotated[
        list[Path],
        typer.Option(help="Recording of the caller counting 0-9 with pauses (repeat)."),
    ],
    consented_by: Annotated[str, typer.Option(help="Who consented, e.g. 'caller as holder'.")],
    consent_method: Annotated[str, typer.Option(help="How consent was given.")] = (
        "keypad 1 after consent prompt"
    ),
    call_id: Annotated[str | None, typer.Option(help="Call in which consent was given.")] = None,
    redis_url: RedisUrlOption = None,
) -> None:
    """Enrol (or re-enrol) an account from recordings made with the caller's consent."""
    from agent.lockout import AuthLockout
    from voice_auth.audio import UnusableAudioError, load_audio
    from voice_auth.encoders import EncoderUnavailableError
    from voice_auth.service import VoiceAuthenticator
    from voice_auth.voiceprints import ConsentRecord

    settings, app_settings = VoiceAuthSettings(), Settings()
    consent = ConsentRecord(
        given_by=consented_by, given_at=datetime.now(UTC), method=consent_method, call_id=call_id
    )
    try:
        speech = [load_audio(path) for path in utterance]
        counts = [load_audio(path) for path in counting]
    except (OSError, RuntimeError) as exc:  # soundfile raises LibsndfileError (a RuntimeError)
        raise _fail(f"cannot read audio: {exc}") from None

    async def action(redis: Redis) -> str:
        lockout = AuthLockout(
            redis,
            max_failures=app_settings.auth.knowledge_max_attempts,
            window_s=app_settings.auth.lockout_s,
        )
        service = VoiceAuthenticator.from_settings(
            settings, app_settings.environment, redis, lockout
        )
        record = await service.enrol(account, speech, counts, consent)
        return f"{record.quality.speech_seconds:.1f} s of speech, model {record.model_id}"

    try:
        summary = _with_redis(redis_url, action)
    except (VoiceAuthConfigError, EncoderUnavailableError) as exc:
        raise _fail(str(exc), code=2) from None
    except UnusableAudioError as exc:
        raise _fail(f"Not enrolled: {exc}") from None
    _out.print(f"[green]Enrolled account {escape(account)}[/]: {escape(summary)}.")


@voiceprint_app.command("show")
def show(
    account: Annotated[str, typer.Argument(help="Account number.")],
    redis_url: RedisUrlOption = None,
) -> None:
    """Show a voiceprint's model, date, quality and consent (never the voiceprint itself)."""
    from voice_auth.voiceprints import VoiceprintError, VoiceprintRecord, VoiceprintStore

    key = _key()

    async def action(redis: Redis) -> VoiceprintRecord | None:
        return await VoiceprintStore(redis, key).get(account)

    try:
        record = _with_redis(redis_url, action)
    except VoiceprintError as exc:
        raise _fail(str(exc)) from None
    if record is None:
        raise _fail(f"Account {account} has no voiceprint.")
    table = Table(title=f"Voiceprint of account {escape(account)}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    quality = record.quality
    rows = [
        ("Model", f"{record.model_id} ({record.model_version})"),
        ("Enrolled", record.enrolled_at.isoformat(timespec="seconds")),
        ("Speech", f"{quality.speech_seconds:.1f} s in {quality.utterances} utterances"),
        ("Counting passes", str(quality.counting_passes)),
        ("Consistency", f"{quality.consistency:.3f}"),
        ("Consent", f"{record.consent.given_by}, {record.consent.method}"),
        ("Consent given", record.consent.given_at.isoformat(timespec="seconds")),
        ("Consent call", record.consent.call_id or "-"),
    ]
    for name, value in rows:
        table.add_row(name, escape(value))
    _out.print(table)


@voiceprint_app.command("delete")
def delete(
    account: Annotated[str, typer.Argument(help="Account number.")],
    redis_url: RedisUrlOption = None,
) -> None:
    """Delete an account's voiceprint, at the caller's request."""
    from voice_auth.voiceprints import VoiceprintStore

    key = _key()

    async def action(redis: Redis) -> bool:
        return await VoiceprintStore(redis, key).delete(account)

    if _with_redis(redis_url, action):
        _out.print(f"Deleted the voiceprint of account {escape(account)}.")
    else:
        _out.print(f"Account {escape(account)} had no voiceprint: nothing to delete.")
