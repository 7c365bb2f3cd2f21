# SPDX-License-Identifier: BSD-2-Clause
# web-load.sh: a bounded wrk run against GET /api/v1/status on loopback
# (2 threads, 2 x 10 connections within the per-address limit of 16 each,
# 10 s), and the agent's CPU time for it. Prints figures; asserts nothing
# about time. Run: make bench (or with srcdir/top_builddir set).
. "$srcdir/tests/lib/tap.sh"
tap_setup
command -v wrk >/dev/null 2>&1 || { echo "# wrk is not installed (./autogen.sh --deps installs it)"; exit 0; }
agent_write_config
agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
ticks() { awk '{print $14 + $15}' "/proc/$AGENT_PID/stat"; }
hz=$(getconf CLK_TCK)
echo "# gvpn-agent $(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null), $(nproc) cores; agent and wrk on one machine"
for c in 10 16; do
	c0=$(ticks)
	out=$(wrk -t2 -c$c -d10s --timeout 2s "http://127.0.0.1:$WEB_PORT/api/v1/status" 2>&1)
	c1=$(ticks)
	rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
	lat=$(printf '%s\n' "$out" | awk '/Latency/ {print $2, $3, $4}')
	errs=$(printf '%s\n' "$out" | grep -E 'Socket errors|Non-2xx' | tr '\n' ';')
	echo "# connections $c: ${rps:-?} requests/s; latency avg/stdev/max $lat; agent CPU $(( (c1 - c0) * 1000 / hz )) ms in 10 s; ${errs:-no errors}"
done
ok_status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB_PORT/api/v1/status")
echo "# after the load the agent still answers: HTTP $ok_status"
agent_stop
