#!/usr/bin/env bash
# Installs the speaker-verification stack (voice_auth) into the project venv. Idempotent: every
# step is a pinned install that pip skips when already satisfied, or a removal of files that may be
# gone already. Usage: scripts/install-voice-auth.sh [VENV]   (default .venv)
set -euo pipefail

venv="${1:-${VENV:-.venv}}"
pip=("$venv/bin/python" -m pip install --quiet)

# 1. CPU torch first, pinned. 2.13.0 is the CPU build kept on this machine kind's disk (pip's
#    find-links); asking for plain "torch", or letting a later package ask for a newer one, would
#    pull a CUDA build of several GB.
"${pip[@]}" torch==2.13.0

# 2. The ordinary dependencies of the encoders, the evaluation and the DET plot. torch is already
#    there, so none of them can replace it.
"${pip[@]}" \
    'cryptography>=42' 'soundfile>=0.12.1' 'scipy>=1.11' 'matplotlib>=3.8' \
    'hyperpyyaml>=1.2' 'huggingface_hub>=0.8' 'sentencepiece>=0.1.91' 'joblib>=1.3' 'tqdm>=4.42' \
    'requests>=2.20' 'packaging>=23'

# 3. Without their declared dependencies:
#    - resemblyzer only ships the GE2E weights we load (voice_auth/ge2e.py never imports it); its
#      own requirements (librosa, webrtcvad, which compiles C) would be dead weight;
#    - speechbrain requires torchaudio>=2.7.1; left to pip, older torchaudio releases pin their
#      torch and the resolver may swap our torch for a CUDA build;
#    - torchaudio 2.11.0 is the newest release (there is none for torch 2.13). SpeechBrain only
#      needs it importable; its Python code runs beside torch 2.13 (step 4).
"${pip[@]}" --no-deps resemblyzer==0.1.4 speechbrain==1.1.2 torchaudio==2.11.0

# 4. torchaudio's compiled extensions are built against torch 2.11's C++ ABI: loading them beside
#    torch 2.13 fails ("undefined symbol") and makes `import torchaudio` raise. Without them
#    torchaudio falls back to its pure-Python paths, which is all SpeechBrain's ECAPA path uses.
#    find_spec locates the package without importing (and so without loading) it.
ta_dir="$("$venv/bin/python" -c \
    'import importlib.util, pathlib; s = importlib.util.find_spec("torchaudio"); print(pathlib.Path(s.origin).parent)')"
rm -f "$ta_dir"/lib/*.so

# 5. Fail now, not in the first call, if the stack does not import.
"$venv/bin/python" -c 'import torch, torchaudio, speechbrain.inference.speaker, soundfile, scipy.signal, matplotlib, cryptography'
