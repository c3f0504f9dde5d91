#!/usr/bin/env bash
# The browser the UI tests drive (tests/ui): Debian's Chromium at /usr/bin/chromium.
# Playwright never downloads a browser of its own. Installs the package when it is
# missing; idempotent and quiet.
set -euo pipefail

SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"

if ! command -v chromium >/dev/null 2>&1; then
  echo "browser: installing Debian's chromium (for the UI tests)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
command -v chromium >/dev/null || { echo "browser: chromium is not installed (apt-get install chromium)" >&2; exit 1; }
