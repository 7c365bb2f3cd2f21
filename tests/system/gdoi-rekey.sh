# SPDX-License-Identifier: BSD-2-Clause
# gdoi-rekey.sh: unicast rekeys between the real agent and real
# gvpn-member processes over loopback (seeds rekey-messages.txt and
# server-member-communication.txt):
# - `gvpnctl rekey group 1` sends one copy to each member; every member
#   verifies it, applies it and ACKs; the agent sees every ACK;
# - heartbeats reach the members as pushes with a new SEQ, never ACKed;
# - a member that stops answering is sent the rekey 1 + 2 times, then
#   removed from the membership list, and an event says so; it gets no
#   further rekeys;
# - the agent restarts: SEQ goes on above the last one (saved in the
#   state dir), and the members, missing heartbeats from the new agent,
#   reregister by themselves.
. "$srcdir/tests/lib/tap.sh"
tap_setup
plan 28
agent_write_gks_config
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "heartbeat": 2, "retransmission_period": 2, "number_of_retransmission": 2, "membership_rekey": false }/' "$CONF"
ok "the agent starts with unicast server-member communication" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }

M="$top_builddir/gvpn-member --server 127.0.0.1:$GKS_PORT --group 1 --psk-file $TAP_TMP/k.psk
   --ike aes256-sha256-ecp256 --stay --heartbeat 2 --heartbeat-misses 3 --json-events"
for i in 1 2 3; do
	$M --local 127.0.4.$i >"$TAP_TMP/m$i.log" 2>&1 &
	eval "MPID$i=$!"
	tap_track_pid $!
done
members() { ctl --json show groups | sed 's/.*"members":\([0-9]*\).*/\1/'; }
members_are() { test "$(members)" = "$1"; }
ok "three members register" wait_for 20 members_are 3

# A manual rekey: one copy per member, all ACK.
out=$(ctl rekey group 1); rc=$?
is "$rc" 0 "gvpnctl rekey group 1 exits 0"
seq=$(ctl --json show rekeys | grep -o '"reason":"manual","seq":[0-9]*' | tail -1 | sed 's/.*://')
like "$seq" '^[0-9]+$' "the rekey is listed in show rekeys with its SEQ ($seq)"
rekey_done() { ctl --json show rekeys | grep -q "\"seq\":$seq,\"targeted\":3,\"acked\":3,\"removed\":0,\"done\":true"; }
ok "the agent received an ACK from each of the three members" wait_for 10 rekey_done
for i in 1 2 3; do
	like "$(cat "$TAP_TMP/m$i.log")" "\"event\":\"ack_sent\".*\"seq\":$seq" "member $i verified, applied and acknowledged SEQ $seq"
done
regs=$(ctl show registered-members group 1)
is "$(printf '%s\n' "$regs" | grep -c "active")" 3 "show registered-members: the three members are active"
like "$regs" "127\\.0\\.4\\.2:[0-9]+ .*$seq" "show registered-members shows the last ACKed SEQ"
like "$(ctl show events)" "REKEY_SENT .*rekey SEQ $seq of group g1 \\(1\\): 3 members targeted, 3 acknowledged, 0 removed" \
	"the rekey round is an event with its counts"

# Heartbeats: pushes with a new SEQ, never ACKed.
sleep 5
hb=$(grep -c '"event":"push_received".*"kind":"heartbeat"' "$TAP_TMP/m1.log")
like "$hb" '^[1-9][0-9]*$' "member 1 received heartbeats ($hb)"
hbseq=$(grep '"kind":"heartbeat"' "$TAP_TMP/m1.log" | tail -1 | grep -o '"seq":[0-9]*' | cut -d: -f2)
ok "heartbeat SEQ ($hbseq) is above the rekey's ($seq)" test "${hbseq:-0}" -gt "$seq"
is "$(grep -c "\"event\":\"ack_sent\".*\"seq\":$hbseq\\b" "$TAP_TMP/m1.log")" 0 "heartbeats are not acknowledged"

# Member 3 stops answering (SIGSTOP: its socket stays, nothing is read).
kill -STOP $MPID3
ctl rekey group 1 >/dev/null
seq2=$(ctl --json show rekeys | grep -o '"reason":"manual","seq":[0-9]*' | tail -1 | sed 's/.*://')
removed() { ctl --json show rekeys | grep -q "\"seq\":$seq2,\"targeted\":3,\"acked\":2,\"removed\":1,\"done\":true"; }
ok "a member that never ACKs is removed after the retransmissions (2 + 1 sends, 2 s apart)" wait_for 15 removed
like "$(ctl show events)" "MEMBER_REMOVED .*member 127\\.0\\.4\\.3:[0-9]+ \\(127\\.0\\.4\\.3\\) removed from group g1 \\(1\\): no ACK of SEQ $seq2 after 3 sends" \
	"the removal is an event naming the member, the SEQ and the 3 sends"
like "$(ctl show events)" "REKEY_RETRANSMITTED .*\\(copy 3 of 3\\) to 1 member without an ACK" "the third copy went to the silent member only"
regs=$(ctl show registered-members group 1)
ok "show registered-members no longer lists it" eval '! printf "%s" "$regs" | grep -q "127\.0\.4\.3:"'
is "$(members)" 2 "the membership list has two members"
ctl rekey group 1 >/dev/null
seq3=$(ctl --json show rekeys | grep -o '"reason":"manual","seq":[0-9]*' | tail -1 | sed 's/.*://')
done3() { ctl --json show rekeys | grep -q "\"seq\":$seq3,\"targeted\":2,\"acked\":2,\"removed\":0,\"done\":true"; }
ok "the next rekey targets the two active members only" wait_for 10 done3
kill -KILL $MPID3; wait $MPID3 2>/dev/null

# The agent restarts: members reregister after missed heartbeats.
agent_stop
is "$AGENT_RC" 0 "the agent stops (SIGTERM, exit 0)"
lastseq=$(tr -d ' \t\n' <"$TAP_TMP/state/gks-seq.json" | grep -o '"1":[0-9]*' | cut -d: -f2)
like "$lastseq" '^[0-9]+$' "the last SEQ ($lastseq) was saved in the state dir"
ok "the agent starts again" agent_start
ok "both members detect the lost heartbeats and reregister by themselves" wait_for 30 members_are 2
like "$(cat "$TAP_TMP/m1.log")" '"event":"heartbeat_lost"' "member 1 reported the lost heartbeats"
like "$(cat "$TAP_TMP/m1.log")" '"event":"reregistered"' "member 1 reported its reregistration"
ctl rekey group 1 >/dev/null
seq4=$(ctl --json show rekeys | grep -o '"reason":"manual","seq":[0-9]*' | tail -1 | sed 's/.*://')
ok "after the restart SEQ goes on above the saved one ($seq4 > $lastseq)" test "${seq4:-0}" -gt "$lastseq"
done4() { ctl --json show rekeys | grep -q "\"seq\":$seq4,\"targeted\":2,\"acked\":2,"; }
ok "the reregistered members acknowledge the new agent's rekey" wait_for 10 done4

kill -TERM $MPID1 $MPID2 2>/dev/null; wait $MPID1 $MPID2 2>/dev/null
agent_stop
tap_done
