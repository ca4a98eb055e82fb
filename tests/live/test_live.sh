#!/usr/bin/env bash
# Live capture end to end: nightjar -i on one end of a veth pair inside a
# private network namespace, tcpreplay on the other end, SIGINT, clean drain.
# The flows seen live must equal the flows of the same pcap read offline.
# Needs root, iproute2 and tcpreplay; skips (77) without them.
set -u
. "$(dirname "$0")/lib.sh"
nj_live_setup njlive

"$pcapgen" --scenario default --seed 11 -o "$tmp/in.pcap" >/dev/null 2>&1 || fail "pcapgen"
mkdir -p "$tmp/live" "$tmp/off"
ip netns exec "$ns" "$nightjar" -i net_af_packet0,iface=veth0,framecnt=16384 -l "$tmp/live" \
	--set stats.interval=1 >"$tmp/live.out" 2>"$tmp/live.err" &
pid=$!
# wait until it says it is capturing
nj_wait_for "$tmp/live.out" "capturing" 60 "$pid"
grep -q "capturing" "$tmp/live.out" || { cat "$tmp/live.err"; fail "nightjar did not start"; }
ip netns exec "$ns" tcpreplay -q -i veth1 --mbps 50 "$tmp/in.pcap" >"$tmp/replay.out" 2>&1 || fail "tcpreplay: $(cat "$tmp/replay.out")"
sleep 1
kill -INT "$pid"
nj_wait_exit "$pid"
kill -0 "$pid" 2>/dev/null && fail "nightjar did not stop on SIGINT"
wait "$pid"; rc=$?
pid=
[ "$rc" = 0 ] || { cat "$tmp/live.err"; fail "nightjar exited $rc"; }

"$nightjar" -r "$tmp/in.pcap" -l "$tmp/off" >/dev/null 2>&1 || fail "offline run"
key='select(.event_type=="flow") | [.src_ip,.src_port,.dest_ip,.dest_port,.proto,.flow.pkts_toserver,.flow.pkts_toclient,.flow.bytes_toserver,.flow.bytes_toclient] | @csv'
zstd -dc "$tmp/live/eve.json.zst" | jq -r "$key" | sort >"$tmp/live.flows"
zstd -dc "$tmp/off/eve.json.zst" | jq -r "$key" | sort >"$tmp/off.flows"
nlive=$(wc -l <"$tmp/live.flows")
noff=$(wc -l <"$tmp/off.flows")
passed=0
[ "$noff" -gt 50 ] || fail "offline gave only $noff flows"
passed=$((passed + 1))
if ! diff -q "$tmp/live.flows" "$tmp/off.flows" >/dev/null; then
	diff "$tmp/live.flows" "$tmp/off.flows" | head -10
	fail "live flows ($nlive) differ from offline flows ($noff)"
fi
passed=$((passed + 1))
zstd -dc "$tmp/live/eve.json.zst" | jq -e 'select(.event_type=="stats")' >/dev/null || fail "no stats event"
passed=$((passed + 1))
echo "live: $nlive flows, same as offline"
echo "$passed passed, 0 failed"
