# snmp-notify.sh: snmptrapd (Net-SNMP's own trap receiver) receives each
# GVPN-AGENT-MIB notification kind as an SNMPv3 authPriv trap, with the
# varbinds the MIB names: member registered and removed, rekey sent, KEK
# and TEK replaced (key server with a real gvpn-member), tunnel up, down
# and rekey result (the ICMP monitor in a private namespace). A switch
# set to false over SNMP stops its kind; an inform target gets informs.
. "$srcdir/tests/lib/tap.sh"
need snmptrapd snmpget snmpset
tap_setup
netns_setup
plan 17
N=$TAP_NETNS
IN="ip netns exec $N"
TRAP_PORT=1162 INFORM_PORT=1163
agent_write_gks_config
# Fast retransmissions, no membership rekeys; a rw user; two notification
# targets (traps and informs, SNMPv3 authPriv); a monitored VPN with rekey.
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "retransmission_period": 2, "number_of_retransmission": 1, "membership_rekey": false }/' "$CONF"
sed -i "s/\"v3_users\": \[{ \"name\": \"tester\", \"access\": \"ro\"/\"notification_targets\": [ { \"address\": \"udp:127.0.0.1:$TRAP_PORT\", \"user\": \"tester\" }, { \"address\": \"udp:127.0.0.1:$INFORM_PORT\", \"user\": \"tester\", \"type\": \"inform\" } ],\n            \"v3_users\": [{ \"name\": \"tester\", \"access\": \"rw\"/" "$CONF"
sed -i "s|^}\$|, \"vpn_monitor\": { \"interval\": 2, \"threshold\": 2, \"vici_socket\": \"unix://$TAP_TMP/none.vici\", \"vpns\": [ { \"name\": \"site-a\", \"monitor\": true, \"rekey\": true, \"source_interface\": \"lo\", \"destination_ip\": \"198.51.100.2\" } ] }\n}|" "$CONF"
AGENT_NETNS=$N
ok "the agent starts with two SNMPv3 notification targets" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
snmp_env
v3() { local t=$1; shift; $IN $t -v3 -l authPriv -u tester -a SHA-256 -A tester-auth-1 -x AES -X tester-priv-1 -t 3 -r 0 -On "127.0.0.1:$SNMP_PORT" "$@"; }
engine=$(v3 snmpget -Ov .1.3.6.1.6.3.10.2.1.1.0 | tr -d '\n' | sed 's/Hex-STRING: //; s/[^0-9A-Fa-f]//g')
like "$engine" '^[0-9A-F]{10,64}$' "the agent's engine ID ($engine)"
start_trapd() { # PORT LOG
	mkdir -p "$TAP_TMP/trapd$1"
	cat >"$TAP_TMP/trapd$1.conf" <<CONF
createUser -e 0x$engine tester SHA-256 tester-auth-1 AES tester-priv-1
createUser tester SHA-256 tester-auth-1 AES tester-priv-1
authUser log tester
CONF
	SNMP_PERSISTENT_DIR="$TAP_TMP/trapd$1" $IN snmptrapd -f -On -Lf "$2" -C -c "$TAP_TMP/trapd$1.conf" \
		"udp:127.0.0.1:$1" >/dev/null 2>&1 &
	tap_track_pid $!
}
start_trapd $TRAP_PORT "$TAP_TMP/traps.log"
start_trapd $INFORM_PORT "$TAP_TMP/informs.log"
sleep 1
N0=.1.3.6.1.4.1.32473.1.0
got() { grep -q "$1" "${2:-$TAP_TMP/traps.log}"; }

# Key server: a member registers (gvpnMemberRegistered), a rekey
# (gvpnRekeySent, gvpnKekReplaced, gvpnTekReplaced).
$IN "$top_builddir/gvpn-member" --server 127.0.0.1:$GKS_PORT --group 1 --psk-file "$TAP_TMP/k.psk" --local 127.0.0.21 \
	--ike aes256-sha256-ecp256 --stay >"$TAP_TMP/m.log" 2>&1 &
MPID=$!; tap_track_pid $MPID
ok "gvpnMemberRegistered arrives" wait_for 10 got "$N0.1\b"
like "$(cat "$TAP_TMP/traps.log")" "32473.1.1.4.1.5.1.1 = STRING: \"?127.0.0.21" "... with gvpnMemberIdentity of row (group 1, member 1)"
$IN "$top_builddir/gvpnctl" -s "$CTL_SOCK" rekey group 1 >/dev/null
ok "gvpnRekeySent arrives" wait_for 10 got "$N0.3\b"
like "$(cat "$TAP_TMP/traps.log")" "32473.1.1.7.1.4.1 = INTEGER: 4" "... with gvpnRekeyReason manual(4)"
ok "gvpnKekReplaced arrives" got "$N0.4\b"
ok "gvpnTekReplaced arrives" got "$N0.5\b"
ok "informs reach the inform target too" wait_for 10 got "$N0.3\b" "$TAP_TMP/informs.log"

# The member stops answering: removed after 1 + 1 sends (gvpnMemberRemoved).
kill -STOP $MPID
$IN "$top_builddir/gvpnctl" -s "$CTL_SOCK" rekey group 1 >/dev/null
ok "gvpnMemberRemoved arrives" wait_for 15 got "$N0.2\b"
kill -KILL $MPID 2>/dev/null

# The monitor: site-a's destination does not answer yet (down), then
# it does (the rekey option brings it back: rekey result, then up).
ok "gvpnTunnelDown arrives" wait_for 15 got "$N0.7\b"
like "$(cat "$TAP_TMP/traps.log")" "32473.1.1.9.1.2.1 = STRING: \"?site-a" "... naming the VPN (gvpnVpnName.1)"
ip -n $N addr add 198.51.100.2/32 dev lo
ok "gvpnTunnelRekeyResult arrives when the rekey option brings it back" wait_for 15 got "$N0.8\b"
ok "gvpnTunnelUp arrives" wait_for 10 got "$N0.6\b"

# Switch gvpnRekeySent off over SNMP: no more of it, others still come.
out=$(v3 snmpset .1.3.6.1.4.1.32473.1.1.10.3.0 i 2 2>&1)
ok "snmpset gvpnNotifyRekeySentEnable.0 = false succeeds" test $? -eq 0 || diag "$out"
n3=$(grep -c "$N0.3\b" "$TAP_TMP/traps.log")
n4=$(grep -c "$N0.4\b" "$TAP_TMP/traps.log")
$IN "$top_builddir/gvpnctl" -s "$CTL_SOCK" rekey group 1 >/dev/null
more_kek() { test "$(grep -c "$N0.4\b" "$TAP_TMP/traps.log")" -gt "$n4"; }
ok "the next rekey's gvpnKekReplaced still arrives" wait_for 10 more_kek
sleep 1
is "$(grep -c "$N0.3\b" "$TAP_TMP/traps.log")" "$n3" "with its switch off, gvpnRekeySent is no longer sent (gvpnKekReplaced still is)"
agent_stop
tap_done
