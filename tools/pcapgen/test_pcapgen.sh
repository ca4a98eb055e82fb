#!/bin/bash
# pcapgen tests: test_pcapgen.sh CASE PCAPGEN PCAPCHECK
#   determinism  same seed -> byte-identical output; another seed -> different
#   check        every checksum, length and TCP sequence is right (default and bench)
#   reorder      --reorder/--duplicate still give valid checksums (seq check relaxed)
#   http_file    SHA-256 printed by pcapgen equals the one of the reassembled body
#   given        --http-file/--smb-file carry the file's exact bytes (HTTP body SHA-256)
set -u
case_name=$1
gen=$2
check=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

case "$case_name" in
determinism)
	"$gen" --scenario default --seed 42 -o "$tmp/a.pcap" 2>/dev/null || fail "run a"
	"$gen" --scenario default --seed 42 -o "$tmp/b.pcap" 2>/dev/null || fail "run b"
	"$gen" --scenario default --seed 43 -o "$tmp/c.pcap" 2>/dev/null || fail "run c"
	cmp -s "$tmp/a.pcap" "$tmp/b.pcap" || fail "same seed gave different files"
	cmp -s "$tmp/a.pcap" "$tmp/c.pcap" && fail "different seeds gave the same file"
	"$gen" --seed 5 --flows 50 --mix http=1,tls=1,dns=1,smb=1,icmp=1,ntp=1 --ipv6-share 30 \
		--reorder 5 --duplicate 5 -o "$tmp/d.pcap" 2>/dev/null || fail "run d"
	"$gen" --seed 5 --flows 50 --mix http=1,tls=1,dns=1,smb=1,icmp=1,ntp=1 --ipv6-share 30 \
		--reorder 5 --duplicate 5 -o "$tmp/e.pcap" 2>/dev/null || fail "run e"
	cmp -s "$tmp/d.pcap" "$tmp/e.pcap" || fail "custom options not deterministic"
	;;
check)
	"$gen" --scenario default --seed 7 -o "$tmp/a.pcap" 2>/dev/null || fail "gen default"
	"$check" "$tmp/a.pcap" || fail "pcapcheck default"
	"$gen" --scenario bench --packets 100000 --seed 8 --ipv6-share 20 -o "$tmp/b.pcap" \
		2>/dev/null || fail "gen bench"
	"$check" "$tmp/b.pcap" || fail "pcapcheck bench"
	"$gen" --seed 9 --flows 40 --mss 536 --mix smb=1,tls=1 --smb-file-size 300000 \
		-o "$tmp/c.pcap" 2>/dev/null || fail "gen smb"
	"$check" "$tmp/c.pcap" || fail "pcapcheck smb"
	;;
reorder)
	"$gen" --scenario default --seed 3 --reorder 10 --duplicate 5 -o "$tmp/a.pcap" \
		2>/dev/null || fail "gen"
	"$check" --allow-reorder "$tmp/a.pcap" || fail "pcapcheck --allow-reorder"
	# the strict check must notice the reordering
	"$check" --quiet "$tmp/a.pcap" 2>/dev/null && fail "strict check missed the reordering"
	;;
http_file)
	"$gen" --scenario http-file --http-file-size 1048576 --seed 11 -o "$tmp/f.pcap" \
		2>"$tmp/err" || fail "gen"
	want=$(sed -n 's/.*http-file size 1048576 sha256 \([0-9a-f]\{64\}\).*/\1/p' "$tmp/err")
	[ -n "$want" ] || fail "no SHA-256 on stderr: $(cat "$tmp/err")"
	got=$("$check" --http-body-sha256 "$tmp/f.pcap" | sed -n 's/^http-body size 1048576 sha256 //p')
	[ "$want" = "$got" ] || fail "sha256 mismatch: pcapgen $want, pcapcheck '$got'"
	;;
given)
	# --http-file/--smb-file: a 200 KB file (several SMB chunks, many segments), alone and
	# first in the default scenario; the HTTP body reassembled is the file itself
	head -c 200000 /dev/urandom >"$tmp/given.bin"
	want=$(sha256sum "$tmp/given.bin" | cut -d' ' -f1)
	"$gen" --http-file "$tmp/given.bin" --smb-file "$tmp/given.bin" -o "$tmp/g.pcap" \
		2>/dev/null || fail "gen given"
	"$check" "$tmp/g.pcap" || fail "pcapcheck given"
	got=$("$check" --http-body-sha256 "$tmp/g.pcap" | sed -n 's/^http-body size 200000 sha256 //p')
	[ "$want" = "$got" ] || fail "given: sha256 mismatch: file $want, pcapcheck '$got'"
	"$gen" --scenario default --seed 4 --http-file "$tmp/given.bin" -o "$tmp/h.pcap" \
		2>/dev/null || fail "gen default + given"
	"$check" "$tmp/h.pcap" || fail "pcapcheck default + given"
	"$gen" --http-file "$tmp/nope" -o "$tmp/x.pcap" 2>/dev/null && fail "a missing file was accepted"
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "ok: $case_name"
