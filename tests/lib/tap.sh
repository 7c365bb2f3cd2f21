# tests/lib/tap.sh: a tiny TAP producer for the shell system tests, plus
# helpers shared by them (temp dirs, free ports, starting the agent by PID
# and stopping only what the test started). Source it; never run it.
#
#   . "$srcdir/tests/lib/tap.sh"
#   plan 3
#   ok "description" test -f x          # runs the command, ok if it exits 0
#   is "$got" "$want" "description"     # string equality, shows both on failure
#   like "$text" 'regex' "description"  # grep -E match
#   skip_all "reason"                   # whole script skipped (TAP 1..0 # SKIP)
set -u

TAP_N=0
TAP_FAILED=0
: "${srcdir:=.}"
: "${top_builddir:=.}"
TAP_PIDS=""
TAP_TMP=""

plan() { echo "1..$1"; }

skip_all() { echo "1..0 # SKIP $*"; exit 0; }

_tap_result() { # status desc
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

ok() { # desc cmd...
	local desc=$1; shift
	"$@" >"$TAP_TMP/.ok.out" 2>&1
	local rc=$?
	_tap_result $rc "$desc"
	[ $rc -eq 0 ] || { echo "# command: $*"; sed 's/^/#   /' "$TAP_TMP/.ok.out" | head -40; }
	return $rc
}

is() { # got want desc
	if [ "$1" = "$2" ]; then _tap_result 0 "$3"; else
		_tap_result 1 "$3"; echo "#   got:  '$1'"; echo "#   want: '$2'"; return 1; fi
}

like() { # text regex desc
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then _tap_result 0 "$3"; else
		_tap_result 1 "$3"; echo "#   text: $(printf '%s' "$1" | head -c 2000)"; echo "#   does not match: $2"; return 1; fi
}

unlike() { # text regex desc
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		_tap_result 1 "$3"; echo "#   text: $(printf '%s' "$1" | head -c 2000)"; echo "#   unexpectedly matches: $2"; return 1
	else _tap_result 0 "$3"; fi
}

diag() { echo "# $*"; }

# A private temp dir, removed at exit along with every process we started.
tap_setup() {
	TAP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/gvpn-test.XXXXXX")
	trap tap_cleanup EXIT
}

tap_cleanup() {
	local p
	for p in $TAP_PIDS; do
		kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null
	done
	for p in $TAP_PIDS; do
		local i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$TAP_TMP"
}

tap_track_pid() { TAP_PIDS="$TAP_PIDS $1"; }

# free_port tcp|udp: a port nobody is bound to on 127.0.0.1 right now.
free_port() {
	"$top_builddir/tests/freeport" "${1:-tcp}"
}

# wait_for SECONDS cmd...: polls cmd every 0.1 s until it succeeds.
wait_for() {
	local limit=$(( $1 * 10 )); shift
	local i=0
	while [ $i -lt $limit ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

tap_done() {
	[ "$TAP_FAILED" -eq 0 ]
}
