#!/usr/bin/env bash
# The second README command: install, build and run every test (unit tests,
# pcap tests through the real binary, tool self-tests, and the
# suricata-verify corpus with our expect list). Exit status is the tests'.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh || exit 1
bash tools/build.sh || exit 1
meson test -C build --print-errorlogs --num-processes 2 "$@"
