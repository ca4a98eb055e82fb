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

# Wait (up to $3 seconds, default 60) until file $1 holds the text $2, giving up early when
# process $4 (if given) has exited. A loaded CI machine can take many seconds to start EAL.
nj_wait_for() {
	local file=$1 text=$2 secs=${3:-60} p=${4:-} i
	for ((i = 0; i < secs * 10; i++)); do
		grep -q "$text" "$file" 2>/dev/null && return 0
		[ -n "$p" ] && ! kill -0 "$p" 2>/dev/null && break
		sleep 0.1
	done
	grep -q "$text" "$file" 2>/dev/null
}

# Wait (up to 30 s) for process $1 to exit.
nj_wait_exit() {
	local i
	for ((i = 0; i < 300; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}
