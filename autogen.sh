#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# autogen.sh: prepares a fresh checkout for building.
#   ./autogen.sh [--deps] [configure options...]
# --deps installs the missing Debian packages needed to build and to run
# the tests (as root; otherwise it prints the apt-get command to run), then
# autoreconf and configure run as usual.
set -e
cd "$(dirname "$0")"

# Build dependencies, then what the tests use (Net-SNMP's tools as the NMS,
# smitools for smilint, erlang-snmp for the IETF MIB modules, curl,
# valgrind, cmocka for unit tests; debhelper to build the .deb and systemd
# for the sysusers.d and tmpfiles.d steps of installing it; prometheus only
# for its promtool, which lints GET /metrics in web-metrics.sh).
BUILD_PKGS="autoconf automake libtool pkg-config make gcc libsnmp-dev libmicrohttpd-dev libcjson-dev libssl-dev libsystemd-dev"
TEST_PKGS="libcmocka-dev snmp smitools erlang-snmp curl valgrind procps iproute2 tshark clang libclang-rt-14-dev strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins iptables iputils-ping rsyslog rsyslog-gnutls openssl chromium wrk file jq snmpd snmptrapd patch build-essential debhelper systemd prometheus"

deps=0
if [ "${1:-}" = "--deps" ]; then
	deps=1
	shift
fi

if [ $deps -eq 1 ]; then
	missing=""
	for p in $BUILD_PKGS $TEST_PKGS; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
			missing="$missing $p"
		fi
	done
	# Node.js and npm (the browser test): any installation will do; Debian's
	# packages only when there is none (they conflict with others).
	command -v node >/dev/null 2>&1 || missing="$missing nodejs"
	command -v npm >/dev/null 2>&1 || missing="$missing npm"
	if [ -n "$missing" ]; then
		echo "autogen.sh: missing packages:$missing"
		if [ "$(id -u)" -eq 0 ]; then
			export DEBIAN_FRONTEND=noninteractive
			# Wait for another apt (unattended-upgrades on a fresh
			# machine) rather than fail on its lock.
			apt-get -o DPkg::Lock::Timeout=600 update
			apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $missing
		else
			echo "autogen.sh: run as root:  apt-get update && apt-get install -y$missing" >&2
			exit 1
		fi
	else
		echo "autogen.sh: all build and test packages are installed"
	fi
	# The browser test drives Debian's chromium with playwright-core (npm);
	# no browser is downloaded.
	if [ ! -d tests/browser/node_modules/playwright-core ] && command -v npm >/dev/null 2>&1; then
		(cd tests/browser && npm install --no-audit --no-fund --silent) ||
			echo "autogen.sh: npm could not install playwright-core; the browser test will try again" >&2
	fi
fi

for tool in autoreconf pkg-config; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "autogen.sh: $tool is missing; run ./autogen.sh --deps (or apt-get install autoconf automake libtool pkg-config)" >&2
		exit 1
	fi
done

mkdir -p m4 build-aux
autoreconf --install --force
./configure "$@"
