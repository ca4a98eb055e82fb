#!/usr/bin/env bash
# Rewrites the key table at the end of docs/configuration.md from the binary's
# registry (nightjar --dump-config-keys); the prose above the table is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/nightjar}
doc=docs/configuration.md
marker='is here.'
head -n "$(grep -n "$marker" "$doc" | tail -1 | cut -d: -f1)" "$doc" >"$doc.new"
echo >>"$doc.new"
"$bin" --dump-config-keys >>"$doc.new"
mv "$doc.new" "$doc"
