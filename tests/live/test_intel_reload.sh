#!/usr/bin/env bash
# Threat intel reload without restart: nightjar -i on a veth pair in a private
# network namespace with an indicator list that matches nothing; tcpreplay a
# capture (no intel alert); rewrite the list with a domain the capture queries
# over DNS, SIGHUP, wait for "intel: reloaded", replay again: that domain now
# alerts, from the same process. Needs root, iproute2 and tcpreplay; skips (77)
# without them.
set -u
. "$(dirname "$0")/lib.sh"
nj_live_setup njintel jq

"$pcapgen" -o "$tmp/in.pcap" --seed 5 --flows 30 --mix dns=100 --truth "$tmp/truth.jsonl" \
	>/dev/null 2>&1 || fail "pcapgen"
domain=$(jq -r 'select(.app=="dns") | .rrname' "$tmp/truth.jsonl" | head -1)
[ -n "$domain" ] || fail "no DNS query in the capture"
echo "192.0.2.254" >"$tmp/ind.txt" # matches nothing in the capture

mkdir -p "$tmp/live"
ip netns exec "$ns" "$nightjar" -i net_af_packet0,iface=veth0,framecnt=16384 -l "$tmp/live" \
	--set intel.enabled=yes --set intel.sources.0.path="$tmp/ind.txt" \
	--set outputs.0.eve-log.filename=eve.json >"$tmp/live.out" 2>"$tmp/live.err" &
pid=$!
nj_wait_for "$tmp/live.out" "capturing" 60 "$pid"
grep -q "capturing" "$tmp/live.out" || { cat "$tmp/live.err"; fail "nightjar did not start"; }
ip netns exec "$ns" tcpreplay -q -i veth1 --mbps 20 "$tmp/in.pcap" >/dev/null 2>&1 || fail "tcpreplay"
sleep 1

printf '%s\n' "$domain" >"$tmp/ind.txt"
kill -HUP "$pid"
nj_wait_for "$tmp/live.out" "intel: reloaded 1 indicators" 30 "$pid"
grep -q "intel: reloaded 1 indicators" "$tmp/live.out" || { cat "$tmp/live.out" "$tmp/live.err"; fail "no reload after SIGHUP"; }
ip netns exec "$ns" tcpreplay -q -i veth1 --mbps 20 "$tmp/in.pcap" >/dev/null 2>&1 || fail "tcpreplay"
sleep 1
kill -INT "$pid"
nj_wait_exit "$pid"
kill -0 "$pid" 2>/dev/null && fail "nightjar did not stop on SIGINT"
wait "$pid"; rc=$?
pid=
[ "$rc" = 0 ] || { cat "$tmp/live.err"; fail "nightjar exited $rc"; }

passed=0
alerts=$(jq -c 'select(.event_type=="alert") | .intel' "$tmp/live/eve.json")
before=$(jq -r 'select(.event_type=="alert") | .intel.indicator' "$tmp/live/eve.json" | grep -c '^192.0.2.254$')
hits=$(jq -r 'select(.event_type=="alert" and .intel.field=="dns.query") | .intel.indicator' "$tmp/live/eve.json" | grep -cxF "$domain")
[ "$before" = 0 ] || fail "the first list alerted: $alerts"
passed=$((passed + 1))
[ "$hits" -ge 1 ] || fail "no alert for $domain after the reload: $alerts"
passed=$((passed + 1))
# everything that alerted is the reloaded domain (or below it)
others=$(jq -r 'select(.event_type=="alert") | .intel.indicator' "$tmp/live/eve.json" | grep -cvxF "$domain")
[ "$others" = 0 ] || fail "alerts for other indicators: $alerts"
passed=$((passed + 1))
echo "intel reload: $hits alert(s) for $domain after SIGHUP, none before"
echo "$passed passed, 0 failed"
