#!/usr/bin/env bash
# Installs the Debian packages bench/dtmf_vs_spandsp.py needs; the DTMF tests need none of them.
#   libspandsp-dev                 SpanDSP's dtmf_rx, the reference receiver (loaded with ctypes)
#   flac                           decodes the LibriSpeech FLAC files of ../shared/data
#   timidity timgm6mb-soundfont    render MIDI music for the music talk-off corpus
#   planetblupi-music-midi         the MIDI music itself
# Idempotent: installs only what is missing, and updates the package lists only then.
set -euo pipefail

packages=(libspandsp-dev flac timidity timgm6mb-soundfont planetblupi-music-midi)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "please install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
