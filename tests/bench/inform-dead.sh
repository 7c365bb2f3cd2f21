# SPDX-License-Identifier: BSD-2-Clause
# inform-dead.sh: what an SNMPv3 inform target that never answers costs
# the rest of the agent. Twice, without such a target and then with one
# (a real snmptrapd, stopped with SIGSTOP: its socket takes the informs,
# nobody reads them, no ICMP error comes back): ROUNDS GDOI registrations
# by gvpn-member, one after the other, each one an event and so an
# inform, while SNMPv3 GETs and "gvpnctl show status" run in a loop
# beside them. Prints the median and worst latency of each, in ms, and
# the ratio of the medians (dead target / none). Clients wait up to 60 s:
# the figures are what they waited, not time-outs.
# Asserts nothing about time. Run: make bench (or with srcdir/top_builddir set).
. "$srcdir/tests/lib/tap.sh"
need snmptrapd snmpget
tap_setup
snmp_env
ROUNDS=${ROUNDS:-5}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# stats FILE: "median worst" of the numbers in FILE, one a line.
stats() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (!NR) { print "- -"; exit }
	print v[int((NR + 1) / 2)], v[NR] }'; }

# run NAME: ROUNDS registrations with GETs and gvpnctl beside them.
run() {
	local name=$1 i t0 a=0 d=$TAP_TMP/$1
	mkdir -p "$d"
	: >"$d/reg"; : >"$d/get"; : >"$d/ctl"
	(
		for i in $(seq 1 "$ROUNDS"); do
			t0=$(now_ms)
			"$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 1 --psk-file "$TAP_TMP/k.psk" \
				--local "127.3.$((a + 1)).$i" --timeout 60000 --retries 1 >/dev/null 2>&1 &&
				echo $(($(now_ms) - t0)) >>"$d/reg"
		done
		touch "$d/done"
	) &
	tap_track_pid $!
	while [ ! -e "$d/done" ]; do
		t0=$(now_ms)
		snmpget -v3 -l authPriv -u tester -a SHA-256 -A tester-auth-1 -x AES -X tester-priv-1 -t 60 -r 0 \
			-On "127.0.0.1:$SNMP_PORT" $GVPN_OID.2.0 >/dev/null 2>&1 && echo $(($(now_ms) - t0)) >>"$d/get"
		t0=$(now_ms)
		ctl show status >/dev/null 2>&1 && echo $(($(now_ms) - t0)) >>"$d/ctl"
		sleep 0.05
	done
	set -- $(stats "$d/reg") $(stats "$d/get") $(stats "$d/ctl")
	printf '%-12s %6s %9s %9s %9s %9s %9s %9s\n' "$name" "$(wc -l <"$d/reg")" "$1" "$2" "$3" "$4" "$5" "$6"
	eval "MED_${name//-/_}=\"$1 $3 $5\""
}

start() { # start [TARGET-JSON]
	agent_write_gks_config
	sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false }/' "$CONF"
	[ -z "$1" ] || sed -i "s/\"v3_users\": \[/\"notification_targets\": [ $1 ],\n            \"v3_users\": [/" "$CONF"
	AGENT_START_TIMEOUT=60 agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
}

echo "# gvpn-agent $(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null), $(nproc) cores; $ROUNDS registrations per run"
printf '%-12s %6s %9s %9s %9s %9s %9s %9s\n' target regs "reg med" "reg max" "get med" "get max" "ctl med" "ctl max"
start ""
run none
agent_stop

# The dead target: snmptrapd bound to its port, then stopped.
TRAPD_PORT=$(free_port udp)
mkdir -p "$TAP_TMP/trapd"
printf 'createUser tester SHA-256 tester-auth-1 AES tester-priv-1\nauthUser log tester\n' >"$TAP_TMP/trapd.conf"
SNMP_PERSISTENT_DIR="$TAP_TMP/trapd" snmptrapd -f -Lf "$TAP_TMP/trapd.log" -C -c "$TAP_TMP/trapd.conf" \
	"udp:127.0.0.1:$TRAPD_PORT" >/dev/null 2>&1 &
TRAPD=$!
tap_track_pid $TRAPD
wait_for 10 grep -q "NET-SNMP version" "$TAP_TMP/trapd.log" || echo "# snmptrapd did not say it started"
kill -STOP $TRAPD
start "{ \"address\": \"udp:127.0.0.1:$TRAPD_PORT\", \"user\": \"tester\", \"type\": \"inform\" }"
run dead-inform
echo "# the agent's status while its inform target is dead:"
ctl show status | grep "notifications:" | sed 's/^/#   /'
agent_stop
kill -CONT $TRAPD

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-") printf "%.1f", a / b; else print "-" }'; }
set -- $MED_none; n1=$1 n2=$2 n3=$3
set -- $MED_dead_inform
echo "# median latency, dead inform target / none: registration $(ratio "$1" "$n1"), SNMP GET $(ratio "$2" "$n2")," \
	"gvpnctl $(ratio "$3" "$n3")"
