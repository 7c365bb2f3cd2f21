# SPDX-License-Identifier: BSD-2-Clause
# gdoi-churn.sh: members that keep joining do not postpone the membership
# rekey forever (issue 13, item 8). The rekey waits for
# membership_rekey_delay (5 s) of quiet, but no longer than
# membership_rekey_max_delay (8 s) after the first join it covers: with a
# real gvpn-member joining every half second for 12 s, the first
# membership rekey goes out while members are still joining (it targets
# fewer members than joined in all), and its round removes a member that
# stopped answering. Without the cap, the first rekey would have come
# only after the last join, to every member.
. "$srcdir/tests/lib/tap.sh"
tap_setup
plan 8
N=24
agent_write_gks_config
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "heartbeat": 600, "retransmission_period": 2, "number_of_retransmission": 1, "membership_rekey_delay": 5, "membership_rekey_max_delay": 8 }/' "$CONF"
ok "the agent starts (membership_rekey_delay 5, membership_rekey_max_delay 8)" agent_start ||
	{ cat "$TAP_TMP/agent.log"; exit 1; }

members() { ctl --json show groups | sed 's/.*"members":\([0-9]*\).*/\1/'; }
members_are() { test "$(members)" = "$1"; }
M="$top_builddir/gvpn-member --server 127.0.0.1:$GKS_PORT --group 1 --psk-file $TAP_TMP/k.psk
   --ike aes256-sha256-ecp256 --stay --heartbeat 0 --json-events"

# One member, then stopped (SIGSTOP: its socket stays, nothing is read):
# the first membership rekey's round must find it and remove it.
$M --local 127.0.6.250 >"$TAP_TMP/stopped.log" 2>&1 &
STOPPED=$!
tap_track_pid $STOPPED
wait_for 20 members_are 1 || { echo "Bail out! the first member did not register"; exit 1; }
kill -STOP $STOPPED
first=$(date +%s)

# Then one member every half second; each must be in before the next
# (a join that took 5 s would be quiet enough for the rekey anyway:
# then this test would prove nothing, and says so).
maxgap=0 prev=$first joined=1
for i in $(seq 1 $N); do
	$M --local 127.0.6.$i >"$TAP_TMP/m$i.log" 2>&1 &
	tap_track_pid $!
	wait_for 20 grep -q '"event":"registered"' "$TAP_TMP/m$i.log" || break
	now=$(date +%s)
	[ $((now - prev)) -gt $maxgap ] && maxgap=$((now - prev))
	prev=$now joined=$((i + 1))
	sleep 0.5
done
last=$(date +%s)
is "$joined" $((N + 1)) "$((N + 1)) members joined, one after the other"
ok "no gap of 5 s between joins (the longest: ${maxgap} s), joins for $((last - first)) s" \
	test "$maxgap" -lt 5 -a $((last - first)) -gt 8

rekeys() { ctl --json show rekeys; }
mc() { rekeys | grep -o '"reason":"membership-change","seq":[0-9]*,"targeted":[0-9]*[^}]*' | head -1; }
has_mc() { test -n "$(mc)"; }
ok "a membership rekey went out" wait_for 20 has_mc
r=$(mc)
diag "first membership rekey: $r"
targeted=$(printf '%s' "$r" | grep -o '"targeted":[0-9]*' | cut -d: -f2)
ok "it went out while members were still joining: it targeted $targeted of the $((N + 1))" \
	test "${targeted:-0}" -gt 1 -a "${targeted:-99}" -lt $((N + 1))
seq=$(printf '%s' "$r" | grep -o '"seq":[0-9]*' | cut -d: -f2)
round_done() { rekeys | grep -q "\"seq\":$seq,\"targeted\":$targeted,\"acked\":$((targeted - 1)),\"removed\":1,\"done\":true"; }
ok "its round removed the member that stopped answering (SEQ $seq: $((targeted - 1)) ACKs, 1 removed)" wait_for 20 round_done
like "$(ctl show events)" "MEMBER_REMOVED .*127\\.0\\.6\\.250:[0-9]+ .*no ACK of SEQ $seq" "MEMBER_REMOVED names the stopped member"
# After the last join and the quiet delay, a membership rekey reaches
# all the live members, and they all acknowledge it.
last_all() {
	rekeys | grep -o '"reason":"membership-change","seq":[0-9]*,"targeted":[0-9]*,"acked":[0-9]*,"removed":0,"done":true' |
		tail -1 | grep -q "\"targeted\":$N,\"acked\":$N,"
}
ok "after the last join, a membership rekey reaches and is acknowledged by all $N live members" wait_for 30 last_all
kill -CONT $STOPPED 2>/dev/null
tap_done
