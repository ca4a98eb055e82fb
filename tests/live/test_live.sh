#!/usr/bin/env bash
# Live capture end to end: nightjar -i on one end of a veth pair inside a
# private network namespace, tcpreplay on the other end, SIGINT, clean drain.
# The flows seen live must equal the flows of the same pcap read offline.
# Needs root, iproute2 and tcpreplay; skips (77) without them.
set -u
build=${NJ_BUILD_DIR:?}
nightjar="$build/nightjar"
pcapgen="$build/tools/pcapgen/pcapgen"
if [ "$(id -u)" != 0 ] || ! command -v tcpreplay >/dev/null || ! command -v ip >/dev/null; then
	echo "SKIP: needs root, ip and tcpreplay"
	exit 77
fi
ns="njlive$$"
tmp=$(mktemp -d /tmp/nj-live-XXXXXX)
cleanup() {
	[ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }

if ! ip netns add "$ns" 2>/dev/null; then
	echo "SKIP: cannot create a network namespace here"
	exit 77
fi
ip -n "$ns" link add veth0 type veth peer name veth1 || fail "veth"
# no IPv6 neighbour discovery or MLD noise on the test link
for i in veth0 veth1 default all; do
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" 2>/dev/null
done
ip -n "$ns" link set veth0 up
ip -n "$ns" link set veth1 up
ip -n "$ns" link set lo up

"$pcapgen" --scenario default --seed 11 -o "$tmp/in.pcap" >/dev/null 2>&1 || fail "pcapgen"
mkdir -p "$tmp/live" "$tmp/off"
ip netns exec "$ns" "$nightjar" -i net_af_packet0,iface=veth0,framecnt=16384 -l "$tmp/live" \
	--set stats.interval=1 >"$tmp/live.out" 2>"$tmp/live.err" &
pid=$!
# wait until it says it is capturing
for _ in $(seq 100); do
	grep -q "capturing" "$tmp/live.out" 2>/dev/null && break
	sleep 0.1
done
grep -q "capturing" "$tmp/live.out" || { cat "$tmp/live.err"; fail "nightjar did not start"; }
ip netns exec "$ns" tcpreplay -q -i veth1 --mbps 50 "$tmp/in.pcap" >"$tmp/replay.out" 2>&1 || fail "tcpreplay: $(cat "$tmp/replay.out")"
sleep 1
kill -INT "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
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
