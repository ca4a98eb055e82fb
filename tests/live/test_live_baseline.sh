#!/usr/bin/env bash
# Live baseline learning: nightjar -i in learn mode with a 1 s write interval
# on one end of a veth pair in a private network namespace, tcpreplay on the
# other. While it runs, the baseline file must be rewritten (per-worker
# snapshots merged by the control thread) and hold the flows that ended; at
# SIGINT it must be written once more with every flow, and it must equal what
# an offline run learns from the same capture.
# Needs root, iproute2 and tcpreplay; skips (77) without them.
set -u
. "$(dirname "$0")/lib.sh"
nj_live_setup njbl

"$pcapgen" --scenario default --seed 11 --ipv6-share 0 -o "$tmp/in.pcap" >/dev/null 2>&1 ||
	fail "pcapgen"
mkdir -p "$tmp/live" "$tmp/off"
bl=(--set baseline.mode=learn --set 'baseline.groups.clients=[10.0.0.0/8]')
# short timeouts, so flows end (and are learned) while the capture runs
ip netns exec "$ns" "$nightjar" -i net_af_packet0,iface=veth0,framecnt=16384 -l "$tmp/live" \
	"${bl[@]}" --set baseline.file="$tmp/live.yaml" --set baseline.write-interval=1 \
	--set flow-timeouts.tcp.closed=1 --set flow-timeouts.tcp.established=2 \
	--set flow-timeouts.tcp.new=2 --set flow-timeouts.udp.new=2 \
	--set flow-timeouts.udp.established=2 --set flow-timeouts.icmp.new=2 \
	--set flow-timeouts.icmp.established=2 >"$tmp/live.out" 2>"$tmp/live.err" &
pid=$!
nj_wait_for "$tmp/live.out" "capturing" 60 "$pid"
grep -q "capturing" "$tmp/live.out" || { cat "$tmp/live.err"; fail "nightjar did not start"; }
ip netns exec "$ns" tcpreplay -q -i veth1 --mbps 50 "$tmp/in.pcap" >"$tmp/replay.out" 2>&1 ||
	fail "tcpreplay: $(cat "$tmp/replay.out")"
# a periodic write with learned flows, before the stop
mid=0
for _ in $(seq 100); do
	if [ -f "$tmp/live.yaml" ]; then
		mid=$(sed -n 's/^  flows: \([0-9]*\)$/\1/p' "$tmp/live.yaml" | head -1)
		[ "${mid:-0}" -gt 50 ] && break
	fi
	sleep 0.1
done
passed=0
[ "${mid:-0}" -gt 50 ] || fail "no periodic baseline write with flows (learned ${mid:-none})"
passed=$((passed + 1))
kill -INT "$pid"
nj_wait_exit "$pid"
kill -0 "$pid" 2>/dev/null && fail "nightjar did not stop on SIGINT"
wait "$pid"; rc=$?
pid=
[ "$rc" = 0 ] || { cat "$tmp/live.err"; fail "nightjar exited $rc"; }
[ ! -e "$tmp/live.yaml.tmp" ] || fail "temporary file left behind"
passed=$((passed + 1))

"$nightjar" -r "$tmp/in.pcap" -l "$tmp/off" "${bl[@]}" --set baseline.file="$tmp/off.yaml" \
	>/dev/null 2>&1 || fail "offline run"
# the same profiles, peers and services (counts and times differ: live timestamps)
keys() { grep -E '^  - |^      ' "$1" | sed 's/: [0-9]*$//'; }
if ! diff <(keys "$tmp/live.yaml") <(keys "$tmp/off.yaml") >"$tmp/diff"; then
	head -10 "$tmp/diff"
	fail "live baseline differs from the offline one"
fi
passed=$((passed + 1))
echo "live baseline: periodic write with $mid flows, final file as offline"
echo "$passed passed, 0 failed"
