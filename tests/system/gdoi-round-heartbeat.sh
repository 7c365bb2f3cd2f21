# SPDX-License-Identifier: BSD-2-Clause
# gdoi-round-heartbeat.sh: a unicast rekey round is never overtaken by a
# heartbeat. The agent and a real gvpn-member run in a network namespace
# this test makes; iptables there drops the first copy of the rekey on
# its way to the member (a policy added by a reload: the KEK stays) while
# heartbeats (every 2 s) are due. The member
# must take the retransmission (same SEQ), acknowledge it and stay:
# before the fix a heartbeat with a higher SEQ got through first and the
# retransmissions were refused as replays until the member was removed.
. "$srcdir/tests/lib/tap.sh"
need iptables
netns_setup
tap_setup
plan 9
agent_write_gks_config
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "heartbeat": 2, "retransmission_period": 6, "number_of_retransmission": 2, "membership_rekey": false }/' "$CONF"
NS=$TAP_NETNS
AGENT_NETNS=$NS
ok "the agent starts in a private namespace" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
ip netns exec "$NS" "$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 1 --psk-file "$TAP_TMP/k.psk" \
	--local 127.0.0.2 --ike aes256-sha256-ecp256 --stay --heartbeat 2 --heartbeat-misses 10 --json-events \
	>"$TAP_TMP/m.log" 2>&1 &
tap_track_pid $!
heartbeats() { grep -c '"event":"push_received".*"kind":"heartbeat"' "$TAP_TMP/m.log"; }
ok "a member registers and takes heartbeats" wait_for 20 sh -c "[ \$(grep -c '\"kind\":\"heartbeat\"' '$TAP_TMP/m.log') -ge 1 ]"
# The first copy of the rekey does not reach the member.
drop="OUTPUT -p udp --sport $GKS_PORT -d 127.0.0.2 -j DROP"
ip netns exec "$NS" iptables -A $drop || { echo "Bail out! iptables in the namespace failed"; exit 1; }
# A policy added by a reload: a rekey with the new TEK under the KEK the
# member holds (a manual rekey would also replace the KEK, and heartbeats
# under the new KEK would not reach the member at all).
sed -i 's|"ipsec_sa": \[ { "name": "sa1"|"ipsec_sa": [ { "name": "sa0", "match": { "source": "10.5.0.0/16", "destination": "10.6.0.0/16" } }, { "name": "sa1"|' "$CONF"
ctl reload >/dev/null
seq=$(ctl --json show rekeys | grep -o '"reason":"policy-change","seq":[0-9]*' | tail -1 | sed 's/.*://')
sleep 1
ip netns exec "$NS" iptables -D $drop
like "$seq" '^[0-9]+$' "the rekey went out with SEQ $seq (its first copy dropped)"
# Heartbeats fall due (every 2 s) before the retransmission (6 s).
round_done() { ctl --json show rekeys | grep -q "\"seq\":$seq,\"targeted\":1,\"acked\":1,\"removed\":0,\"done\":true"; }
ok "the retransmission reaches the member, which acknowledges it: acked 1, removed 0" wait_for 20 round_done
like "$(cat "$TAP_TMP/m.log")" "\"event\":\"retransmission\".*\"seq\":$seq|\"event\":\"push_received\",.*\"seq\":$seq,\"kind\":\"rekey\"" \
	"the member took SEQ $seq from the retransmission"
unlike "$(cat "$TAP_TMP/m.log")" '"reason":"replay"' "no push was refused as a replay"
deferred=$(ctl --json show groups | jq '.result.groups[0].heartbeats_deferred')
ok "heartbeats waited while the round was open ($deferred deferred)" test "${deferred:-0}" -ge 1
n=$(heartbeats)
ok "heartbeats resume after the round, above its SEQ" wait_for 10 sh -c "[ \$(grep -c '\"kind\":\"heartbeat\"' '$TAP_TMP/m.log') -gt $n ]"
is "$(ctl --json show groups | jq '.result.groups[0].members')" 1 "the member is still on the list"
agent_stop
tap_done
