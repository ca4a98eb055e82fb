#!/bin/bash
# Fusion at volume on pcapgen data:
#   test_pcapgen_fusion.sh SRC_ROOT BUILD_ROOT [PCAPGEN [reference]]
#
# pcapgen writes a capture and the endpoint events its client hosts would have
# logged (2 s clock skew, Sysmon's 15 s network-event batches, 3% of events
# lost); build/nightjar -r makes the EVE; nightjar-fuse joins the two; and
# score_joins.py holds the joins against pcapgen's endpoint truth:
#   winlogbeat, sysmon-json  >= 99% of network events on the right flow, 0 wrong
#                            joins, every carved file with a Sysmon 15 hash joined
#                            to its process
#   osquery                  >= 99% of network events, 0 wrong, >= 95% of carved
#                            files joined to the process that wrote them (the
#                            writer comes from process_file_events, whose rows
#                            are lost at 3% too)
#   NAT                      >= 99% of network events (all hosts), 0 wrong: a
#                            branch office behind one outside address, NAT map
#                            from pcapgen; NAT'd lookups that two hosts' records
#                            fit equally are declined, not guessed (the reference
#                            joiner does not translate: rate reported only)
# Skips (77) when nightjar-fuse is not built. NJ_FUSE=path overrides the binary.
# With "reference", tests/fusion/ref_join.py (a plain test oracle) stands in for
# nightjar-fuse: it shows the data can be joined and holds the scorer against a
# real joiner.
set -u
src=$1
build=$2
gen=${3:-$build/tools/pcapgen/pcapgen}
mode=${4:-fuse}
here=$src/tests/fusion
py=/usr/bin/python3

fuse=${NJ_FUSE:-}
if [ "$mode" = reference ]; then
	fuse="$py $here/ref_join.py --eve"
elif [ -z "$fuse" ]; then
	for c in "$build/nightjar-fuse" "$build/export/fuse/nightjar-fuse"; do
		[ -x "$c" ] && fuse=$c && break
	done
fi
if [ "$mode" != reference ] && { [ -z "$fuse" ] || [ ! -x "$fuse" ]; }; then
	echo "SKIP: nightjar-fuse not built"
	exit 77
fi
nj=$build/nightjar
[ -x "$nj" ] || { echo "FAIL: $nj not built"; exit 1; }
[ -x "$gen" ] || { echo "FAIL: $gen not built"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

cat >"$tmp/nightjar.yaml" <<'EOF'
%YAML 1.1
---
community-id: yes
community-id-seed: 0
outputs:
  - eve-log:
      enabled: yes
      filename: eve.json
      types:
        - http
        - dns
        - tls
        - files:
            force-hash: [md5, sha256]
        - smb
        - flow
stream:
  reassembly:
    depth: 0
EOF

# case NAME GEN_ARGS FORMAT SCORE_ARGS [FUSE_ARGS]
case_run() {
	local name=$1 gargs=$2 fmt=$3 sargs=$4 fargs=${5:-}
	local d=$tmp/$name
	mkdir -p "$d"
	echo "== $name"
	# shellcheck disable=SC2086
	if ! "$gen" $gargs -o "$d/cap.pcap" --endpoint-out "$d/ep.json" \
		--endpoint-format "$fmt" --endpoint-truth "$d/truth.jsonl" \
		--endpoint-nat-map "$d/nat.yaml" 2>"$d/gen.err"; then
		echo "FAIL: pcapgen: $(cat "$d/gen.err")"
		fails=$((fails + 1))
		return
	fi
	grep endpoint "$d/gen.err"
	if ! "$nj" -r "$d/cap.pcap" -l "$d" -c "$tmp/nightjar.yaml" >"$d/nj.out" 2>&1; then
		echo "FAIL: nightjar -r: $(tail -5 "$d/nj.out")"
		fails=$((fails + 1))
		return
	fi
	local t0 t1
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	local cmd=("$fuse" -e "$d/eve.json" -i "$fmt:$d/ep.json" -o "$d/fused.json" --once)
	# shellcheck disable=SC2206
	[ "$mode" = reference ] && cmd=($fuse "$d/eve.json" -i "$fmt:$d/ep.json" -o "$d/fused.json")
	# shellcheck disable=SC2086
	if ! "${cmd[@]}" $fargs >"$d/fuse.out" 2>&1; then
		echo "FAIL: $mode: $(tail -5 "$d/fuse.out")"
		fails=$((fails + 1))
		return
	fi
	t1=$(date +%s.%N)
	echo "$mode: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s," \
		"$(wc -l <"$d/eve.json") EVE lines, $(wc -l <"$d/ep.json") endpoint events"
	# shellcheck disable=SC2086
	if ! $py "$here/score_joins.py" --fusion "$d/fused.json" --truth "$d/truth.jsonl" \
		--eve "$d/eve.json" --label "$name" $sargs; then
		fails=$((fails + 1))
	fi
}

base="--seed 31 --flows 1500 --duration 900 --concurrency 32 --ipv6-share 10"
base="$base --mix http=30,tls=35,dns=25,smb=5,icmp=2,ntp=3"
ep="--endpoint-skew 2 --endpoint-batch 15 --endpoint-loss 0.03"

case_run winlogbeat "$base $ep" winlogbeat ""
case_run sysmon-json "$base $ep" sysmon-json ""
case_run osquery "$base $ep" osquery "--min-file-rate 0.95"
# NAT: only the branch office (64 hosts) is behind it, so more flows for volume
nat="--seed 32 --flows 4000 --duration 1200 --concurrency 32 --ipv6-share 0"
nat="$nat --mix http=10,tls=45,dns=40,ntp=5 --endpoint-nat"
natcfg="-c $tmp/nat/nat.yaml"
natrate="--min-net-rate 0.99"
[ "$mode" = reference ] && natcfg="" && natrate="--min-net-rate 0"
case_run nat "$nat $ep" winlogbeat "$natrate --min-file-rate 0" "$natcfg"

if [ "$fails" -ne 0 ]; then
	echo "FAIL: $fails case(s)"
	exit 1
fi
echo "ok"
