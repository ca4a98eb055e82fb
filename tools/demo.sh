#!/usr/bin/env bash
# The first README command: install, build, generate the bundled demo capture
# with our own generator, run Nightjar on it with our example rules, and say
# where the EVE output went.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh
mkdir -p out
./build/tools/pcapgen/pcapgen --scenario default --seed 1 -o out/demo.pcap
rm -f out/eve.json.zst
./build/nightjar -r out/demo.pcap -l out -S rules/example.rules
echo
echo "EVE output: $(pwd)/out/eve.json.zst  (read it with: zstd -dc out/eve.json.zst | jq .)"
zstd -dc out/eve.json.zst | /usr/bin/python3 -c '
import sys, json, collections
c = collections.Counter(json.loads(l)["event_type"] for l in sys.stdin)
print("events by type:", ", ".join("%s=%d" % kv for kv in sorted(c.items())))'
