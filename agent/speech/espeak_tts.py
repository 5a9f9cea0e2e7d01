"""An offline LiveKit TTS: Debian's espeak-ng in a subprocess, resampled to 16 kHz mono PCM.

The text goes to espeak-ng on standard input, never on its command line, so no other process
can read it from the process table. Audio is pushed as espeak-ng produces it.
"""

from __future__ import annotations

import asyncio
import shutil
import struct
from typing import Literal

from livekit import rtc
from livekit.agents import APIConnectionError, APIError, APITimeoutError, tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions

from agent.speech.config import Language, OfflineTTSSettings, SpeechConfigError
from payment_tools.ids import random_hex

SAMPLE_RATE = 16_000
"""The rate this TTS emits."""

_CHUNK = 8192
_RIFF_HEADER = 12
_CHUNK_HEADER = 8


class EspeakTTS(tts.TTS[Literal["metrics_collected", "error"]]):
    """Offline text-to-speech in English or French with espeak-ng."""

    def __init__(self, settings: OfflineTTSSettings | None = None, *, language: Language = "en"):
        """Pick the voice for ``language``; fail now if espeak-ng or the voice is missing."""
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=SAMPLE_RATE,
            num_channels=1,
        )
        self._settings = settings or OfflineTTSSettings()
        executable = shutil.which(self._settings.executable)
        if executable is None:
            raise SpeechConfigError(
                f"{self._settings.executable} is not installed (scripts/install-speech.sh)"
            )
        self._executable = executable
        self._language, self._voice = self._voice_for(language)

    @property
    def model(self) -> str:
        """The espeak-ng voice."""
        return self._voice

    @property
    def provider(self) -> str:
        """The synthesiser."""
        return "espeak-ng"

    @property
    def language(self) -> Language:
        """The language it speaks."""
        return self._language

    def update_options(self, *, language: Language) -> None:
        """Speak ``language`` from the next synthesis on (the call changed language).

        Raises:
            SpeechConfigError: no voice is configured for ``language``.
        """
        self._language, self._voice = self._voice_for(language)

    def _voice_for(self, language: Language) -> tuple[Language, str]:
        if language not in self._settings.voices:
            raise SpeechConfigError(f"no espeak-ng voice configured for language {language!r}")
        return language, self._settings.voices[language]

    def command(self) -> list[str]:
        """The espeak-ng command line (the text is not on it)."""
        rate = str(self._settings.words_per_minute)
        return [self._executable, "-v", self._voice, "-s", rate, "-b", "1", "--stdout"]

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> EspeakStream:
        """Synthesise ``text`` into 16 kHz mono frames."""
        return EspeakStream(tts=self, input_text=text, conn_options=conn_options)


class EspeakStream(tts.ChunkedStream):
    """One synthesis: runs espeak-ng and streams its WAV output as PCM."""

    def __init__(self, *, tts: EspeakTTS, input_text: str, conn_options: APIConnectOptions):
        """Start synthesising ``input_text``."""
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._espeak = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=random_hex(16),
            sample_rate=SAMPLE_RATE,
            num_channels=1,
            mime_type="audio/pcm",
        )
        try:
            await asyncio.wait_for(self._speak(output_emitter), self._conn_options.timeout)
        except TimeoutError:
            raise APITimeoutError("espeak-ng timed out", retryable=False) from None
        output_emitter.flush()

    async def _speak(self, output_emitter: tts.AudioEmitter) -> None:
        process = await asyncio.create_subprocess_exec(
            *self._espeak.command(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(self.input_text.encode())
            await process.stdin.drain()
            process.stdin.close()
            source_rate = await _read_wav_header(process.stdout)
            resampler = rtc.AudioResampler(source_rate, SAMPLE_RATE, num_channels=1)
            pending = b""
            while chunk := await process.stdout.read(_CHUNK):
                pending += chunk
                whole = len(pending) - len(pending) % 2
                for frame in resampler.push(bytearray(pending[:whole])):
                    output_emitter.push(bytes(frame.data))
                pending = pending[whole:]
            for frame in resampler.flush():
                output_emitter.push(bytes(frame.data))
            if await process.wait() != 0:
                raise APIError("espeak-ng failed", retryable=False)
        except (BrokenPipeError, ConnectionResetError):
            raise APIConnectionError("espeak-ng closed its input", retryable=False) from None
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def _read_wav_header(stdout: asyncio.StreamReader) -> int:
    """Skip to the PCM data of a 16-bit mono WAV stream and return its sample rate.

    espeak-ng writes placeholder sizes when it streams, so only the chunk layout is trusted.
    """
    try:
        riff = await stdout.readexactly(_RIFF_HEADER)
        if riff[:4] != b"RIFF" or riff[8:12] != b"WAVE":
            raise APIError("espeak-ng did not produce WAV audio", retryable=False)
        rate = 0
        while True:
            name, size = struct.unpack("<4sI", await stdout.readexactly(_CHUNK_HEADER))
            if name == b"data":
                break
            body = await stdout.readexactly(size)
            if name == b"fmt ":
                channels, rate, _, _, bits = struct.unpack("<HIIHH", body[2:16])
                if channels != 1 or bits != 16:
                    raise APIError("espeak-ng produced an unexpected format", retryable=False)
    except asyncio.IncompleteReadError:
        raise APIError("espeak-ng produced no audio", retryable=False) from None
    if rate <= 0:
        raise APIError("espeak-ng produced no format chunk", retryable=False)
    return rate
