#!/usr/bin/env bash
# The second README command: install, build and run every test: unit tests,
# pcap tests through the real binary (offline and live), tool self-tests,
# the suricata-verify corpus with our expect list, and the unit tests again
# under AddressSanitizer/UBSan. Exit status is the tests'.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh || exit 1
bash tools/build.sh || exit 1
meson test -C build --print-errorlogs --num-processes 2 "$@"
status=$?
if [ ! -f build-asan/build.ninja ]; then
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
# unit tests and the mutated-packet run of the real binary, under the sanitizers
meson test -C build-asan --suite unit --suite robust --print-errorlogs --num-processes 2 || status=1
exit $status
