#!/usr/bin/env bash
# Runs tools/sv-run over the shared suricata-verify corpus with our expect list.
# Skips (77) when the corpus is not beside the checkout.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
corpus="$src/../shared/corpus/suricata-verify"
if [ ! -d "$corpus/tests" ]; then
	echo "SKIP: $corpus is absent"
	exit 77
fi
exec /usr/bin/python3 "$src/tools/sv-run" --jobs 2 --nightjar "$1" \
	--expect "$src/tools/sv-expect.txt" "$corpus"
