"""Speech for voice calls: cloud STT/TTS through LiveKit plugins, or an offline pair.

:mod:`agent.speech.factory` picks by configuration (:mod:`agent.speech.config`); the offline pair
is :class:`~agent.speech.whisper_stt.WhisperSTT` (a Whisper model from a PyPI package) and
:class:`~agent.speech.espeak_tts.EspeakTTS` (Debian's espeak-ng). Importing the package or its
``config`` module loads neither LiveKit nor a model, so ``voicepay.settings`` can import it.
"""
