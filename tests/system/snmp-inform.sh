# SPDX-License-Identifier: BSD-2-Clause
# snmp-inform.sh: SNMPv3 informs to real snmptrapd receivers never stall
# the agent, and survive a receiver that restarts with a new engine ID.
#
# Two inform targets. "dead": an snmptrapd stopped (SIGSTOP) before the
# agent starts: its socket takes the informs and the engine ID probes,
# nobody reads them, no ICMP error comes back; timeout 2 s x 6 tries =
# 12 s per inform, a queue of 4. Throughout a burst of 10 GDOI
# registrations (real gvpn-member, each one an event and so an inform),
# SNMP GETs and "gvpnctl show status" run beside them; every one of them
# must succeed with a 2 s client timeout (gvpn-member: 2 tries of 2 s),
# which a single 12 s stall (Net-SNMP's synchronous engine ID discovery,
# once per inform) would break. The dead target's dropped counter moves,
# in gvpnctl and in gvpnNotifyTargetTable. Once it runs, its informs are
# acknowledged; stopped again, they are retransmitted (retried moves).
# "restarts": an snmptrapd restarted with a new engine ID (engineID in
# its configuration, a fresh persistent directory); the inform sent
# meanwhile and the next one arrive, the agent reports the new engine ID
# and one engine change.
# The latencies are printed as diagnostics, never asserted
# (tests/bench/inform-dead.sh compares them with and without a dead target).
. "$srcdir/tests/lib/tap.sh"
need snmptrapd snmpget jq
tap_setup
snmp_env
plan 24
DEAD_PORT=$(free_port udp)
LIVE_PORT=$(free_port udp)
agent_write_gks_config
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false }/' "$CONF"
sed -i "s/\"v3_users\": \[/\"notification_targets\": [\n              { \"address\": \"udp:127.0.0.1:$DEAD_PORT\", \"user\": \"tester\", \"type\": \"inform\", \"timeout\": 2, \"retries\": 5, \"queue\": 4 },\n              { \"address\": \"udp:127.0.0.1:$LIVE_PORT\", \"user\": \"tester\", \"type\": \"inform\", \"timeout\": 1, \"retries\": 1 } ],\n            \"v3_users\": [/" "$CONF"

# trapd PORT NAME: snmptrapd on PORT with the engine ID "gvpn-NAME" (RFC
# 3411 text format: 80001f8804 then the text) and its state in a
# directory of its own, logging "TYPE, version, user|varbinds".
trapd() {
	mkdir -p "$TAP_TMP/$2"
	printf 'engineID gvpn-%s\ncreateUser tester SHA-256 tester-auth-1 AES tester-priv-1\nauthUser log tester\n' "$2" \
		>"$TAP_TMP/$2.conf"
	SNMP_PERSISTENT_DIR="$TAP_TMP/$2" snmptrapd -f -On -F '%P|%v\n' -Lf "$TAP_TMP/$2.log" -C -c "$TAP_TMP/$2.conf" \
		"udp:127.0.0.1:$1" >/dev/null 2>&1 &
	TRAPD_PID=$!
	tap_track_pid $!
	wait_for 10 grep -q "NET-SNMP version" "$TAP_TMP/$2.log"
}
engine_of() { printf '80001f8804'; printf 'gvpn-%s' "$1" | od -An -tx1 | tr -d ' \n'; }
trapd "$DEAD_PORT" dead || diag "snmptrapd (dead) did not say it started"
DEAD_PID=$TRAPD_PID
trapd "$LIVE_PORT" live1 || diag "snmptrapd (live1) did not say it started"
LIVE_PID=$TRAPD_PID

kill -STOP $DEAD_PID
ok "the agent starts with two SNMPv3 inform targets" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
# tgt N FIELD: a field of target N (0, 1) in gvpnctl's status.
tgt() { ctl --json show status | jq -r ".result.snmp.notification_targets[$1].$2"; }
known() { [[ "$(tgt "$1" engine_id)" =~ ^[0-9a-f]{10,64}$ ]]; }
ok "the engine ID of the live receiver is discovered" wait_for 20 known 1

# ---- a burst of registrations while the "dead" receiver does not answer ----------
now_ms() { echo $(($(date +%s%N) / 1000000)); }
register() { # register ADDR: one registration, 2 tries of 2 s
	"$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 1 --psk-file "$TAP_TMP/k.psk" \
		--local "$1" --ike aes256-sha256-ecp256 --timeout 2000 --retries 2 >>"$TAP_TMP/members.log" 2>&1
}
: >"$TAP_TMP/reg.ms"; : >"$TAP_TMP/reg.fail"; : >"$TAP_TMP/get.ms"; : >"$TAP_TMP/ctl.ms"; : >"$TAP_TMP/fail"
(
	for i in $(seq 1 10); do
		t0=$(now_ms)
		if register "127.3.0.$i"; then echo $(($(now_ms) - t0)) >>"$TAP_TMP/reg.ms"; else echo "$i" >>"$TAP_TMP/reg.fail"; fi
	done
	touch "$TAP_TMP/burst.done"
) &
BURST=$!
tap_track_pid $BURST
# GETs and gvpnctl beside the burst, and for 14 s after it (longer than
# one inform's 12 s of retries) so they also overlap the time-outs.
end=0
while :; do
	if [ -e "$TAP_TMP/burst.done" ]; then
		[ "$end" -ne 0 ] || end=$(($(date +%s) + 14))
		[ "$(date +%s)" -lt "$end" ] || break
	fi
	t0=$(now_ms)
	if snmp_v3 snmpget -t 2 -r 0 $GVPN_OID.2.0 >/dev/null 2>&1; then echo $(($(now_ms) - t0)) >>"$TAP_TMP/get.ms"
	else echo "GET at $(date +%T.%N)" >>"$TAP_TMP/fail"; fi
	t0=$(now_ms)
	if timeout 2 "$top_builddir/gvpnctl" -s "$CTL_SOCK" show status >/dev/null 2>&1; then echo $(($(now_ms) - t0)) >>"$TAP_TMP/ctl.ms"
	else echo "gvpnctl at $(date +%T.%N)" >>"$TAP_TMP/fail"; fi
	sleep 0.2
done
wait $BURST
stats() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR) printf "%d, median %d ms, max %d ms", NR, v[int((NR + 1) / 2)], v[NR]; else print 0 }'; }
diag "registrations: $(stats "$TAP_TMP/reg.ms"); SNMP GETs: $(stats "$TAP_TMP/get.ms"); gvpnctl: $(stats "$TAP_TMP/ctl.ms")"
is "$(wc -l <"$TAP_TMP/reg.ms") $(cat "$TAP_TMP/reg.fail" | tr '\n' ' ')" "10 " \
	"all 10 registrations succeed with 2 s timeouts while a receiver is dead" || tail -5 "$TAP_TMP/members.log"
is "$(cat "$TAP_TMP/fail")" "" "every SNMP GET (2 s timeout) and gvpnctl call (2 s) during and after the burst succeeds"
like "$(wc -l <"$TAP_TMP/get.ms") $(wc -l <"$TAP_TMP/ctl.ms")" '^([5-9]|[1-9][0-9]+) ([5-9]|[1-9][0-9]+)$' \
	"... at least 5 of each were made"
is "$(ctl --json show status | jq '.result.key_server.registrations')" 10 "the key server counted the 10 registrations"

# The informs to the dead receiver wait for its engine ID, 4 at most;
# the others, and those whose probe goes unanswered, are dropped.
dropped() { [ "$(tgt 0 dropped)" -ge 6 ]; }
ok "the dead target's dropped counter reaches 6 or more (10 informs, a queue of 4)" wait_for 45 dropped
like "$(tgt 0 sent) $(tgt 0 acknowledged) $(tgt 0 queued) [$(tgt 0 engine_id)]" '^0 0 [0-4] \[\]$' \
	"... none sent (its engine ID is not known), none acknowledged, 4 at most queued"
like "$(ctl show status | grep "notifications: udp:127.0.0.1:$DEAD_PORT")" \
	"informs \\(SNMPv3\\): 0 sent, 0 acknowledged, 0 retried, ([6-9]|[1-9][0-9]+) dropped, [0-4] queued\$" \
	"gvpnctl show status prints the target's counters"
T=.1.3.6.1.4.1.32473.1.1.12.1
get() { snmp_v3 snmpget -Ov "$@" 2>&1 | tr '\n' ' ' | sed 's/ *$//'; }
is "$(get $T.2.1 $T.3.1 $T.4.1 $T.10.1)" "STRING: \"udp:127.0.0.1:$DEAD_PORT\" INTEGER: 2 INTEGER: 3 \"\"" \
	"gvpnNotifyTargetTable row 1: the address, inform(2), snmpv3(3), no engine ID"
like "$(get $T.8.1 $T.5.1)" '^Counter32: ([6-9]|[1-9][0-9]+) Counter32: 0$' \
	"... gvpnNotifyTargetDropped (6 or more), gvpnNotifyTargetSent (0)"
is "$(get $T.6.2)" "Counter32: 10" "row 2, the live receiver: its 10 informs acknowledged (gvpnNotifyTargetAcked.2)"
is "$(grep -c '^INFORM, SNMP v3, user tester' "$TAP_TMP/live1.log")" 10 "... and logged by its snmptrapd"

# The dead receiver runs: its engine ID is discovered, informs acknowledged.
kill -CONT $DEAD_PID
n=10
acked() {
	n=$((n + 1))
	register "127.3.1.$n"
	sleep 2
	[ "$(tgt 0 acknowledged)" -gt 0 ]
}
ok "once it runs, its informs are acknowledged" wait_for 60 acked
is "$(get $T.10.1 | tr -d ' ')" "Hex-STRING:$(engine_of dead | tr a-f A-F)" "... and gvpnNotifyTargetEngineId.1 is its engine ID (gvpn-dead)"
# Stopped again: the inform of the next registration is retransmitted.
kill -STOP $DEAD_PID
register 127.3.1.200
retried() { [ "$(tgt 0 retried)" -gt 0 ]; }
ok "stopped again, the target's retried counter moves" wait_for 20 retried
like "$(get $T.7.1)" '^Counter32: [1-9]' "... in gvpnNotifyTargetRetried.1 too"
kill -CONT $DEAD_PID

# ---- the other receiver restarts with a new engine ID ----------------------------------
e1=$(tgt 1 engine_id)
acked1=$(tgt 1 acknowledged)
kill -TERM $LIVE_PID
wait $LIVE_PID 2>/dev/null
trapd "$LIVE_PORT" live2 || diag "snmptrapd (live2) did not say it started"
register 127.3.2.1
ok "the inform sent after the restart arrives at the new snmptrapd" \
	wait_for 30 grep -q "^INFORM, SNMP v3, user tester.*STRING: \"127.3.2.1\"" "$TAP_TMP/live2.log"
is "$(tgt 1 engine_id)" "$(engine_of live2)" "the agent reports the new engine ID (gvpn-live2)"
is "$e1" "$(engine_of live1)" "... in place of the old one (gvpn-live1)"
is "$(tgt 1 engine_changes)" 1 "... and one engine change"
register 127.3.2.2
ok "the next inform arrives too" wait_for 20 grep -q "STRING: \"127.3.2.2\"" "$TAP_TMP/live2.log"
more() { [ "$(tgt 1 acknowledged)" -ge $((acked1 + 2)) ]; }
ok "... and both are counted as acknowledged" wait_for 10 more
ok "the agent logs the change" grep -q "engine ID changed from $e1 to $(tgt 1 engine_id)" "$TAP_TMP/agent.log"
agent_stop
tap_done
