#!/usr/bin/env bash
# Installs what Nightjar needs to build, run and test on Debian 12 (as root).
# Idempotent: does nothing when everything is already there.
set -euo pipefail

PKGS=(
	build-essential meson ninja-build pkg-config
	dpdk dpdk-dev libdpdk-dev libpcap-dev
	libhyperscan-dev libpcre2-dev libyara-dev libjansson-dev libmaxminddb-dev
	libzstd-dev zstd libyaml-dev zlib1g-dev libbrotli-dev libssl-dev libmagic-dev
	python3 python3-yaml jq tcpreplay iproute2 clang-format
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: missing packages (${missing[*]}); run as root" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi
