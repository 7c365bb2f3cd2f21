# SPDX-License-Identifier: BSD-2-Clause
# snmp-notify.sh: snmptrapd (Net-SNMP's own receiver) gets each
# GVPN-AGENT-MIB notification kind as an SNMPv3 authPriv trap, with the
# varbinds the MIB names and the instance suffixes of real rows: member
# registered and removed, rekey sent, KEK and TEK replaced (key server
# with a real gvpn-member), tunnel down, rekey result and up (the ICMP
# monitor in a private namespace). SNMPv3 informs, SNMPv2c informs and
# the legacy trap_sinks reach their receivers too. A switch set to false
# over SNMP is written to the file and stops its kind, and only it.
# OIDs are numeric (-On): the test does not depend on the MIB file.
. "$srcdir/tests/lib/tap.sh"
need snmptrapd snmpget snmpset
tap_setup
netns_setup
plan 37
N=$TAP_NETNS
IN="ip netns exec $N"
TRAP_PORT=1162 INFORM_PORT=1163 V2_PORT=1164   # inside the private namespace
agent_write_gks_config
# Fast retransmissions, no membership rekeys; a rw user; the targets:
# SNMPv3 traps, SNMPv3 informs, SNMPv2c informs and a legacy v2c trap
# sink (community: the first configured one, "testcomm"); a monitored
# VPN with rekey whose destination does not answer yet.
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "retransmission_period": 2, "number_of_retransmission": 1, "membership_rekey": false }/' "$CONF"
sed -i "s/\"v3_users\": \[{ \"name\": \"tester\", \"access\": \"ro\"/\"notification_targets\": [ { \"address\": \"udp:127.0.0.1:$TRAP_PORT\", \"user\": \"tester\" }, { \"address\": \"udp:127.0.0.1:$INFORM_PORT\", \"user\": \"tester\", \"type\": \"inform\" }, { \"address\": \"udp:127.0.0.1:$V2_PORT\", \"version\": \"v2c\", \"community\": \"v2inform\", \"type\": \"inform\" } ],\n            \"trap_sinks\": [ \"udp:127.0.0.1:$V2_PORT\" ],\n            \"v3_users\": [{ \"name\": \"tester\", \"access\": \"rw\"/" "$CONF"
sed -i "s|^}\$|, \"vpn_monitor\": { \"interval\": 2, \"threshold\": 2, \"vici_socket\": \"unix://$TAP_TMP/none.vici\", \"vpns\": [ { \"name\": \"site-a\", \"monitor\": true, \"rekey\": true, \"source_interface\": \"lo\", \"destination_ip\": \"198.51.100.2\" } ] }\n}|" "$CONF"
AGENT_NETNS=$N
ok "the agent starts with SNMPv3 and SNMPv2c notification targets" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
snmp_env
v3() { local t=$1; shift; $IN $t -v3 -l authPriv -u tester -a SHA-256 -A tester-auth-1 -x AES -X tester-priv-1 -t 3 -r 0 -On "127.0.0.1:$SNMP_PORT" "$@"; }
engine=$(v3 snmpget -Ov .1.3.6.1.6.3.10.2.1.1.0 | tr -d '\n' | sed 's/Hex-STRING: //; s/[^0-9A-Fa-f]//g')
like "$engine" '^[0-9A-F]{10,64}$' "the agent's engine ID (snmpEngineID.0: $engine)"

# One line per notification: "TRAP2, SNMP v3, user tester, context |varbinds".
start_trapd() { # PORT LOG CONFIG-LINES
	mkdir -p "$TAP_TMP/trapd$1"
	printf '%s\n' "$3" >"$TAP_TMP/trapd$1.conf"
	SNMP_PERSISTENT_DIR="$TAP_TMP/trapd$1" $IN snmptrapd -f -On -F '%P|%v\n' -Lf "$2" -C -c "$TAP_TMP/trapd$1.conf" \
		"udp:127.0.0.1:$1" >/dev/null 2>&1 &
	tap_track_pid $!
}
# Traps come from the agent's engine (-e); informs go to snmptrapd's own.
USERS="createUser -e 0x$engine tester SHA-256 tester-auth-1 AES tester-priv-1
createUser tester SHA-256 tester-auth-1 AES tester-priv-1
authUser log tester"
TRAPS=$TAP_TMP/traps.log INFORMS=$TAP_TMP/informs.log V2=$TAP_TMP/v2c.log
start_trapd $TRAP_PORT "$TRAPS" "$USERS"
start_trapd $INFORM_PORT "$INFORMS" "$USERS"
start_trapd $V2_PORT "$V2" "authCommunity log testcomm
authCommunity log v2inform"
trapd_up() { grep -q "NET-SNMP version" "$TRAPS" && grep -q "NET-SNMP version" "$INFORMS" && grep -q "NET-SNMP version" "$V2"; }
wait_for 10 trapd_up || diag "snmptrapd did not say it started"

N0=.1.3.6.1.4.1.32473.1.0
O=.1.3.6.1.4.1.32473.1.1
TAB=$(printf '\t')
# notes K [FILE]: the lines of notification gvpnNotifications.K; count K [FILE].
notes() { grep -F "OID: $N0.$1$TAB" "${2:-$TRAPS}"; }
count() { notes "$@" | wc -l; }
got() { test "$(count "$@")" -gt 0; }
# value LINE OID: the value of varbind OID in a logged line ("TYPE: value").
value() { printf '%s\n' "$1" | tr '\t' '\n' | grep -F "$2 = " | head -1 | sed "s/^[^=]*= //"; }
get() { v3 snmpget -Ov "$1" 2>&1 | tr -d '\n'; }

# ---- key server: a member registers, then a manual rekey ---------------------------
$IN "$top_builddir/gvpn-member" --server 127.0.0.1:$GKS_PORT --group 1 --psk-file "$TAP_TMP/k.psk" --local 127.0.0.21 \
	--ike aes256-sha256-ecp256 --stay >"$TAP_TMP/m.log" 2>&1 &
MPID=$!; tap_track_pid $MPID
ok "gvpnMemberRegistered arrives" wait_for 10 got 1
l=$(notes 1 | head -1)
like "$l" '^TRAP2, SNMP v3, user tester' "... as an SNMPv3 trap from user tester"
is "$(value "$l" $O.4.1.2.1.1) $(value "$l" $O.4.1.3.1.1) $(value "$l" $O.4.1.5.1.1) $(value "$l" $O.3.1.5.1)" \
	'INTEGER: 1 Hex-STRING: 7F 00 00 15  STRING: "127.0.0.21" Gauge32: 0' \
	"... with the member row (1,1): address type ipv4, 127.0.0.21, identity; gvpnGroupSeq.1 0"
is "$(get $O.4.1.5.1.1)" 'STRING: "127.0.0.21"' "... and row (1,1) is the member's row in gvpnMemberTable"

ctl rekey group 1 >/dev/null
ok "gvpnRekeySent arrives" wait_for 10 got 3
l=$(notes 3 | head -1)
is "$(value "$l" $O.7.1.3.1) $(value "$l" $O.7.1.4.1) $(value "$l" $O.7.1.5.1) $(value "$l" $O.7.1.6.1) $(value "$l" $O.7.1.7.1) $(value "$l" $O.7.1.8.1)" \
	"Gauge32: 1 INTEGER: 4 Gauge32: 1 Gauge32: 1 Gauge32: 1 Gauge32: 0" \
	"... rekey row 1: group 1, reason manual(4), SEQ 1, 1 targeted, 1 acked, 0 removed"
is "$(get $O.7.1.5.1)" "Gauge32: 1" "... matching gvpnRekeySeq.1 in the table"
ok "gvpnKekReplaced arrives (before the round ends)" got 4
l=$(notes 4 | head -1)
kspi=$(value "$l" $O.5.1.2.1.1)
like "$kspi" '^Hex-STRING: ([0-9A-F]{2} ){16}$' "... with gvpnKekSpi.1.1, 16 bytes"
is "$(value "$l" $O.5.1.9.1.1)" "INTEGER: 2" "... and gvpnKekStatus.1.1 inUse(2)"
is "$(get $O.5.1.2.1.1 | sed 's/ *$//')" "$(printf '%s' "$kspi" | sed 's/ *$//')" "... the SPI of the current KEK row (1,1)"
ok "gvpnTekReplaced arrives" got 5
l=$(notes 5 | head -1)
tidx=$(printf '%s\n' "$l" | tr '\t' '\n' | sed -n "s/^$O.6.1.3.1.\([0-9]*\) = .*/\1/p" | head -1)
like "$(value "$l" $O.6.1.2.1.$tidx) $(value "$l" $O.6.1.9.1.$tidx)" '^STRING: "sa1" INTEGER: [12]$' \
	"... with gvpnTekPolicy \"sa1\" and a status new or inUse (row 1.$tidx)"
is "$(get $O.6.1.3.1.$tidx)" "$(value "$l" $O.6.1.3.1.$tidx)" "... and the new SPI, the one of TEK row (1,$tidx)"

ok "SNMPv3 informs reach the inform target" wait_for 10 got 3 "$INFORMS"
like "$(notes 1 "$INFORMS")" '^INFORM, SNMP v3, user tester' "... as INFORM PDUs"
like "$(notes 1 "$V2" | grep '^TRAP2')" '^TRAP2, SNMP v2c, community testcomm\|' \
	"the legacy trap_sinks entry gets SNMPv2c traps with the first configured community"
like "$(notes 1 "$V2" | grep '^INFORM')" '^INFORM, SNMP v2c, community v2inform\|' \
	"the SNMPv2c inform target gets informs with its own community"

# ---- the member stops answering: removed after 1 + 1 sends -------------------------
kill -STOP $MPID
ctl rekey group 1 >/dev/null
ok "gvpnMemberRemoved arrives" wait_for 15 got 2
l=$(notes 2 | head -1)
is "$(value "$l" $O.4.1.3.1.1) $(value "$l" $O.4.1.5.1.1) $(value "$l" $O.4.1.8.1.1)" \
	'Hex-STRING: 7F 00 00 15  STRING: "127.0.0.21" Gauge32: 1' \
	"... for row (1,1), 127.0.0.21, last acknowledged SEQ 1"
{ kill -KILL $MPID; wait $MPID; } 2>/dev/null

# ---- the monitor: site-a's destination does not answer yet (down), then --------
# ---- it does (the rekey option brings it back: rekey result, then up) ---------------
ok "gvpnTunnelDown arrives" wait_for 15 got 7
l=$(notes 7 | head -1)
like "$(value "$l" $O.9.1.2.1) $(value "$l" $O.9.1.13.1) $(value "$l" $O.9.1.21.1)" \
	'^STRING: "site-a" INTEGER: 2 Gauge32: [2-9]$' "... for VPN row 1: site-a, state down(2), 2+ consecutive misses"
is "$(count 8)$(count 6)" "00" "no rekey result and no up while the destination is silent"
ip -n $N addr add 198.51.100.2/32 dev lo
ok "gvpnTunnelRekeyResult arrives when the rekey option brings site-a back" wait_for 15 got 8
l=$(notes 8 | head -1)
like "$(value "$l" $O.9.1.2.1) $(value "$l" $O.9.1.13.1) $(value "$l" $O.9.1.22.1) $(value "$l" $O.9.1.23.1)" \
	'^STRING: "site-a" INTEGER: 1 Counter32: [1-9][0-9]* Counter32: 1$' \
	"... site-a up(1), the rekey attempts made and 1 success"
ok "gvpnTunnelUp arrives" wait_for 10 got 6
is "$(value "$(notes 6 | head -1)" $O.9.1.2.1) $(value "$(notes 6 | head -1)" $O.9.1.13.1)" 'STRING: "site-a" INTEGER: 1' \
	"... for site-a, state up(1)"

# ---- switch gvpnRekeySent off over SNMP ----------------------------------------------------
is "$(get $O.10.3.0)" "INTEGER: 1" "gvpnNotifyRekeySentEnable.0 reads true(1) (the default)"
like "$(v3 snmpset $O.10.3.0 i 3 2>&1)" "wrongValue" "a TruthValue other than 1 or 2 is wrongValue"
like "$(v3 snmpset $O.10.3.0 s yes 2>&1)" "wrongType" "a string is wrongType"
out=$(v3 snmpset $O.10.3.0 i 2 2>&1)
ok "snmpset gvpnNotifyRekeySentEnable.0 = false(2) succeeds" test $? -eq 0 || diag "$out"
like "$(tr -d ' \t\n' <"$CONF")" '"notifications":\{[^}]*"rekey_sent":false' "... and is written to the file (snmp.notifications.rekey_sent)"
n3=$(count 3) n4=$(count 4) i3=$(count 3 "$INFORMS")
ctl rekey group 1 >/dev/null
more_kek() { test "$(count 4)" -gt "$n4"; }
ok "the next rekey's gvpnKekReplaced still arrives" wait_for 10 more_kek
sleep 1
is "$(count 3) $(count 3 "$INFORMS")" "$n3 $i3" "with its switch off, gvpnRekeySent is no longer sent to any target"

# Unacknowledged informs would be sent again (1 s timeout): each was acknowledged once.
is "$(count 1 "$INFORMS") $(notes 1 "$V2" | grep -c '^INFORM')" "1 1" "each inform was logged once: snmptrapd's acknowledgement was taken"
agent_stop
tap_done
