"""Post-call transcription for QA: Deepgram's pre-recorded API, or the offline Whisper.

Deepgram is asked to redact card numbers and every number itself (``redact=pci`` and
``redact=numbers``); our own card redaction runs on top of either engine, and on an utterance
next to one that mentions card data it removes every number that is not an amount, since a
caller's card number may straddle a pause.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from agent.speech.config import Language, SpeechConfig, SpeechConfigError, stt_provider
from payment_tools.redaction import redact_card_data

if TYPE_CHECKING:
    from agent.speech.whisper_stt import WhisperSTT

DEEPGRAM_REDACTION = ("pci", "numbers")
"""What Deepgram removes before it answers."""

_CARD_CONTEXT = "card "


@dataclass(frozen=True, slots=True)
class Utterance:
    """A stretch of one speaker's speech, with its times in seconds."""

    start: float
    end: float
    text: str
    redacted: bool
    confidence: float | None = None
    speaker: int | None = None


@dataclass(frozen=True, slots=True)
class Transcript:
    """A recording's transcript, card data removed."""

    recording: str
    provider: Literal["deepgram", "offline"]
    model: str
    language: Language
    duration_s: float
    utterances: list[Utterance]

    def to_json(self) -> dict[str, Any]:
        """The transcript as JSON-ready data."""
        return asdict(self)


async def transcribe_recording(
    path: Path, config: SpeechConfig, *, language: Language = "en"
) -> Transcript:
    """Transcribe a stored call: with Deepgram when it is the call STT, else offline.

    OpenAI as the call STT also means offline here: its API has no redaction of its own.

    Raises:
        SpeechConfigError: Deepgram is chosen without a key, or the offline model cannot hear
            ``language``.
        deepgram.core.api_error.ApiError: Deepgram refused the request.
    """
    provider = stt_provider(config)
    speech = config.speech
    if provider == "deepgram":
        key = config.deepgram_key
        assert key is not None
        return await transcribe_with_deepgram(
            path,
            api_key=key.get_secret_value(),
            base_url=speech.deepgram_base_url,
            model=speech.deepgram_stt_model,
            language=language,
        )
    from agent.speech.whisper_stt import WhisperSTT

    def offline() -> Transcript:
        recogniser = WhisperSTT(speech.offline_stt, language=language)
        return transcribe_offline(path, recogniser, language)

    return await asyncio.to_thread(offline)


async def transcribe_with_deepgram(
    path: Path,
    *,
    api_key: str,
    base_url: str,
    model: str,
    language: Language,
    timeout_s: float = 300.0,
) -> Transcript:
    """Send the recording to Deepgram's ``/v1/listen`` with PCI and number redaction on."""
    from deepgram import AsyncDeepgramClient, DeepgramClientEnvironment
    from deepgram.types.listen_v1response import ListenV1Response

    root = base_url.rstrip("/")
    environment = DeepgramClientEnvironment(
        base=root,
        production=root.replace("http", "ws", 1),
        agent=root.replace("http", "ws", 1),
        agent_rest=root,
    )
    client = AsyncDeepgramClient(api_key=api_key, environment=environment, timeout=timeout_s)
    response = await client.listen.v1.media.transcribe_file(
        request=await asyncio.to_thread(path.read_bytes),
        model=model,
        language="fr" if language == "fr" else "en-US",
        punctuate=True,
        smart_format=True,
        utterances=True,
        # The SDK types ``redact`` as one value; the API takes the parameter once per entity.
        request_options={"additional_query_parameters": {"redact": list(DEEPGRAM_REDACTION)}},
    )
    if not isinstance(response, ListenV1Response):
        raise SpeechConfigError("Deepgram accepted the recording for a callback; none is set")
    raw = [
        Utterance(
            start=item.start or 0.0,
            end=item.end or 0.0,
            text=(item.transcript or "").strip(),
            redacted=False,
            confidence=item.confidence,
            speaker=item.speaker,
        )
        for item in response.results.utterances or []
    ]
    return Transcript(
        recording=path.name,
        provider="deepgram",
        model=model,
        language=language,
        duration_s=response.metadata.duration,
        utterances=redact_utterances(raw),
    )


def transcribe_offline(path: Path, recogniser: WhisperSTT, language: Language) -> Transcript:
    """Transcribe the recording in this process with a :class:`WhisperSTT` (blocking)."""
    from faster_whisper.audio import decode_audio  # type: ignore[import-untyped]

    from agent.speech.whisper_stt import SAMPLE_RATE

    samples = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    raw = [
        Utterance(
            start=round(part.start, 2),
            end=round(part.end, 2),
            text=part.text,
            redacted=False,
            confidence=round(part.confidence, 3),
        )
        for part in recogniser.transcribe(samples, language, segmented=True)
    ]
    return Transcript(
        recording=path.name,
        provider="offline",
        model=recogniser.model,
        language=language,
        duration_s=round(len(samples) / SAMPLE_RATE, 2),
        utterances=redact_utterances(raw),
    )


def redact_utterances(utterances: list[Utterance]) -> list[Utterance]:
    """Remove card data from each utterance, strictly where it and its neighbours mention it.

    An utterance is cleaned in card context (every number but amounts goes) when the text of it
    and its neighbours together holds card data: "by card" then "4242 4242", or a card number
    split over two utterances, would each look harmless alone.
    """
    texts = [item.text for item in utterances]
    cleaned: list[Utterance] = []
    for index, item in enumerate(utterances):
        window = " ".join(texts[max(0, index - 1) : index + 2])
        if redact_card_data(window).redacted:
            text = redact_card_data(_CARD_CONTEXT + item.text).text[len(_CARD_CONTEXT) :]
        else:
            text = item.text
        cleaned.append(
            Utterance(
                start=item.start,
                end=item.end,
                text=text,
                redacted=text != item.text,
                confidence=item.confidence,
                speaker=item.speaker,
            )
        )
    return cleaned
