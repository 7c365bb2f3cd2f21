# SPDX-License-Identifier: BSD-2-Clause
# gdoi-multicast.sh: multicast rekeys (seed rekey-messages.txt): the agent
# sends ONE copy of each rekey and heartbeat from the configured outgoing
# interface to the group's multicast address; members in their own
# network namespaces, joined to the agent's namespace by veth pairs on a
# bridge, receive and apply it and send no ACK; the membership list keeps
# members registered since the configuration, even one that has gone.
#
#   ns S (agent): br0 10.77.0.1/24 -- veth -- ns M1: 10.77.0.11
#                                  -- veth -- ns M2: 10.77.0.12
. "$srcdir/tests/lib/tap.sh"
tap_setup
[ "$(id -u)" -eq 0 ] || unmet "network namespaces need root"
need ip tshark
S=gvpn-mc-s-$$ M1=gvpn-mc-a-$$ M2=gvpn-mc-b-$$
cleanup_ns() { tap_cleanup; for n in $S $M1 $M2; do ip netns del $n 2>/dev/null; done; }
trap cleanup_ns EXIT
for n in $S $M1 $M2; do
	ip netns add $n 2>/dev/null || unmet "cannot create network namespaces here"
	ip -n $n link set lo up
done
ip -n $S link add br0 type bridge mcast_snooping 0
ip -n $S addr add 10.77.0.1/24 dev br0
ip -n $S link set br0 up
i=0
for n in $M1 $M2; do
	i=$((i + 1))
	ip link add vs$i-$$ netns $S type veth peer name vm$i-$$ netns $n
	ip -n $S link set vs$i-$$ master br0 up
	ip -n $n addr add 10.77.0.1$i/24 dev vm$i-$$
	ip -n $n link set vm$i-$$ up
done
plan 13

GKS_PORT=8848 MC_PORT=8849
agent_write_config "\"group_vpn_server\": {
    \"listen\": \"10.77.0.1:$GKS_PORT\",
    \"groups\": [ { \"name\": \"mc\", \"group_id\": 7,
        \"server_member_communication\": { \"communication_type\": \"multicast\",
          \"multicast_group\": \"239.77.0.1\", \"multicast_port\": $MC_PORT, \"multicast_interface\": \"br0\",
          \"multicast_ttl\": 1, \"heartbeat\": 2, \"membership_rekey\": false,
          \"encryption_algorithm\": \"aes-128-cbc\", \"sig_hash_algorithm\": \"sha-256\" },
        \"ipsec_sa\": [ { \"name\": \"video\", \"match\": { \"source\": \"10.77.0.0/24\", \"destination\": \"239.1.0.0/16\" } } ],
        \"members\": [ { \"address\": \"10.77.0.0/24\", \"psk\": \"k\" } ] } ] }"
cat >"$SECRETS" <<JSON
{ "snmp_users": { "tester": { "auth_passphrase": "tester-auth-1", "priv_passphrase": "tester-priv-1" } },
  "psk": { "k": "multicast group key" } }
JSON
chmod 600 "$SECRETS"
printf 'multicast group key\n' >"$TAP_TMP/k.psk"; chmod 600 "$TAP_TMP/k.psk"
ip netns exec $S tshark -i br0 -w "$TAP_TMP/br0.pcap" -f "udp port $MC_PORT" >"$TAP_TMP/tshark.log" 2>&1 &
TSHARK=$!; tap_track_pid $TSHARK
wait_for 20 grep -q "Capturing on" "$TAP_TMP/tshark.log"
AGENT_NETNS=$S
ok "the agent starts in its namespace with multicast server-member communication" agent_start ||
	{ cat "$TAP_TMP/agent.log"; exit 1; }
sleep 1
i=0
for n in $M1 $M2; do
	i=$((i + 1))
	ip netns exec $n "$top_builddir/gvpn-member" --server 10.77.0.1:$GKS_PORT --group 7 --psk-file "$TAP_TMP/k.psk" \
		--local 10.77.0.1$i --multicast-interface 10.77.0.1$i --ike aes256-sha256-ecp256 --stay --json-events \
		>"$TAP_TMP/m$i.log" 2>&1 &
	eval "MPID$i=$!"; tap_track_pid $!
done
members() { ctl --json show groups | sed 's/.*"members":\([0-9]*\).*/\1/'; }
members_are() { test "$(members)" = "$1"; }
ok "both members register over unicast" wait_for 20 members_are 2
sleep 1
ctl rekey group 7 >/dev/null
seq=$(ctl --json show rekeys | grep -o '"reason":"manual","seq":[0-9]*' | tail -1 | sed 's/.*://')
like "$(ctl show events)" "REKEY_SENT .*rekey SEQ $seq of group mc \\(7\\): 2 members targeted, 0 acknowledged, 0 removed" \
	"the rekey round ends at once: multicast rekeys are not acknowledged"
got_rekey() { grep -q "\"event\":\"push_received\".*\"seq\":$seq.*\"multicast\":true" "$TAP_TMP/m$1.log"; }
ok "member 1 (namespace $M1) received the multicast rekey and applied it" wait_for 10 got_rekey 1
ok "member 2 (namespace $M2) received the multicast rekey and applied it" wait_for 10 got_rekey 2
is "$(cat "$TAP_TMP/m1.log" "$TAP_TMP/m2.log" | grep -c '"event":"ack_sent"')" 0 "no member sent an ACK"
got_hb() { grep -q '"event":"push_received".*"kind":"heartbeat".*"multicast":true' "$TAP_TMP/m$1.log"; }
ok "heartbeats arrive by multicast too" wait_for 10 got_hb 2

# A member goes away: with multicast it stays on the list (the seed).
kill -TERM $MPID2; wait $MPID2 2>/dev/null
ctl rekey group 7 >/dev/null
sleep 3
is "$(members)" 2 "a member that has gone stays on the multicast membership list"
like "$(ctl show registered-members group 7)" "10\\.77\\.0\\.12:[0-9]+ .*registered" "show registered-members still lists it"

sleep 1
pushes() { ctl --json show groups | grep -o '"pushes":[0-9]*,"heartbeats":[0-9]*' | awk -F'[:,]' '{print $2 + $4}'; }
n_before=$(pushes)
sleep 0.5
kill -INT $TSHARK; wait $TSHARK 2>/dev/null
n_after=$(pushes)
fields=$(tshark -r "$TAP_TMP/br0.pcap" -T fields -e ip.src -e ip.dst -e udp.dstport -e ip.ttl 2>/dev/null | sort | uniq -c)
like "$fields" "10\\.77\\.0\\.1	239\\.77\\.0\\.1	$MC_PORT	1" "pushes leave br0 from 10.77.0.1 to 239.77.0.1:$MC_PORT with TTL 1"
n_push=$(tshark -r "$TAP_TMP/br0.pcap" -Y "ip.dst == 239.77.0.1" 2>/dev/null | wc -l)
# Heartbeats go on while the capture stops: the count lies between the
# pushes made before and after it (a copy per member would be about twice).
ok "one copy per push on the wire (not one per member): $n_push packets for $n_before..$n_after pushes" \
	test "$n_push" -ge "$n_before" -a "$n_push" -le "$n_after"
like "$(tshark -r "$TAP_TMP/br0.pcap" -d udp.port==$MC_PORT,isakmp -T fields -e isakmp.exchangetype 2>/dev/null | sort -u | tr '\n' ' ')" \
	"^33 $" "tshark decodes each as ISAKMP exchange 33 (GROUPKEY-PUSH)"
kill -TERM $MPID1; wait $MPID1 2>/dev/null
agent_stop
is "$AGENT_RC" 0 "SIGTERM: exit 0"
tap_done
