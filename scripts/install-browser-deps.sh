#!/usr/bin/env bash
# Install what the browser tests need: Debian's Chromium (+ fonts). Idempotent: does nothing when
# /usr/bin/chromium is already there. Playwright's own browser download is never used (it fails offline);
# the tests drive /usr/bin/chromium through the python `playwright` client from the test extras.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
    echo "chromium: already installed ($(/usr/bin/chromium --version 2>/dev/null || echo unknown version))"
    exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core fonts-liberation >/dev/null
echo "chromium: installed ($(/usr/bin/chromium --version 2>/dev/null || echo unknown version))"
