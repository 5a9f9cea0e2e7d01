#!/usr/bin/env bash
# Installs the system packages VoicePay's demo and tests need when they are missing:
# redis-server (call state) and chromium (the eval report's browser test).
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing system packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
elif command -v sudo >/dev/null 2>&1; then
  sudo apt-get update -qq && sudo apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "please install: ${missing[*]} (e.g. apt-get install ${missing[*]})" >&2
  exit 1
fi
