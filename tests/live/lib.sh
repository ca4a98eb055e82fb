# Shared set-up of the live tests: sourced, not run. nj_live_setup NAME [TOOL...]
# checks root, ip, tcpreplay and the extra tools (else exit 77), creates a private
# network namespace $ns with a veth pair veth0 <-> veth1 (no IPv6 chatter) and a
# temporary directory $tmp, and removes both (and kills $pid) on exit. fail MSG
# ends the test.
build=${NJ_BUILD_DIR:?}
nightjar="$build/nightjar"
pcapgen="$build/tools/pcapgen/pcapgen"

fail() {
	echo "FAIL: $*"
	echo "0 passed, 1 failed"
	exit 1
}

nj_live_cleanup() {
	[ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}

nj_live_setup() {
	local name=$1 t
	shift
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root"
		exit 77
	fi
	for t in ip tcpreplay "$@"; do
		if ! command -v "$t" >/dev/null; then
			echo "SKIP: needs $t"
			exit 77
		fi
	done
	ns="$name$$"
	tmp=$(mktemp -d "/tmp/nj-$name-XXXXXX")
	trap nj_live_cleanup EXIT
	if ! ip netns add "$ns" 2>/dev/null; then
		echo "SKIP: cannot create a network namespace here"
		exit 77
	fi
	ip -n "$ns" link add veth0 type veth peer name veth1 || fail "veth"
	# no IPv6 neighbour discovery or MLD noise on the test link
	for t in veth0 veth1 default all; do
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$t.disable_ipv6=1" 2>/dev/null
	done
	ip -n "$ns" link set veth0 up
	ip -n "$ns" link set veth1 up
	ip -n "$ns" link set lo up
}
