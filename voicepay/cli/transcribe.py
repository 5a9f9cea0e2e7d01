"""``voicepay transcribe RECORDING``: a stored call's transcript for QA, card data removed.

With a Deepgram key the recording goes to Deepgram's pre-recorded API with its PCI and number
redaction on; without one the offline Whisper model transcribes it here. Either way our own card
redaction runs on the result before anything is printed or written.
"""

from __future__ import annotations

import asyncio
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from voicepay.settings import Language, Settings


class CallLanguage(StrEnum):
    """The language spoken in the recording."""

    EN = "en"
    FR = "fr"


def transcribe(
    recording: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="The call recording (WAV, FLAC, MP3)."
        ),
    ],
    language: Annotated[CallLanguage, typer.Option(help="Language spoken.")] = CallLanguage.EN,
    deepgram_url: Annotated[
        str | None,
        typer.Option(
            help="Deepgram API root (default: VOICEPAY_SPEECH__DEEPGRAM_BASE_URL or Deepgram's).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the JSON here instead of standard output."),
    ] = None,
) -> None:
    """Transcribe a stored call into JSON utterances with times, card data removed.

    Uses Deepgram (DEEPGRAM_API_KEY) with redact=pci and redact=numbers, or the offline model.
    """
    import httpx
    from deepgram.core.api_error import ApiError

    from agent.speech.config import SpeechConfigError, SpeechSettings, SpeechSetup
    from agent.speech.prerecorded import transcribe_recording
    from voicepay.logging_setup import install_pii_filter

    install_pii_filter()
    settings = Settings()
    speech: SpeechSettings = settings.speech
    if deepgram_url:
        speech = speech.model_copy(update={"deepgram_base_url": deepgram_url})
    config = SpeechSetup(speech, settings.deepgram_key, settings.openai_key)
    call_language: Language = "fr" if language is CallLanguage.FR else "en"
    try:
        transcript = asyncio.run(transcribe_recording(recording, config, language=call_language))
    except SpeechConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None
    except ApiError as error:
        typer.echo(f"error: Deepgram refused the recording (HTTP {error.status_code})", err=True)
        raise typer.Exit(code=1) from None
    except httpx.HTTPError:
        typer.echo("error: could not reach Deepgram", err=True)
        raise typer.Exit(code=1) from None
    text = json.dumps(transcript.to_json(), indent=2, ensure_ascii=False)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
