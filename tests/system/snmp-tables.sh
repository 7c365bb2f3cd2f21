# snmp-tables.sh: an NMS view of the key server and the VPN monitor.
# snmpbulkwalk of every GVPN-AGENT-MIB table against the running agent
# with registered members (real gvpn-member processes), a rekey done and
# a monitored VPN; the values match `gvpnctl --json`. snmptable shows the
# member table by column name with the MIB loaded. Missing rows are
# noSuchInstance; a wrong v3 passphrase gets nothing.
. "$srcdir/tests/lib/tap.sh"
need snmpbulkwalk snmpget snmptable
tap_setup
plan 25
agent_write_gks_config
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false }/' "$CONF"
sed -i 's/"psk": "k" } \] } \] }/"psk": "k" } ] }, { "name": "g2", "group_id": 2, "ipsec_sa": [ { "name": "s", "match": { "source": "10.8.0.0\/16", "destination": "10.8.0.0\/16" } } ], "members": [ { "address": "127.0.0.0\/8", "psk": "k" } ] } ] }/' "$CONF"
sed -i "s|^}\$|, \"vpn_monitor\": { \"interval\": 5, \"threshold\": 3, \"vici_socket\": \"unix://$TAP_TMP/none.vici\", \"vpns\": [ { \"name\": \"site-x\", \"monitor\": false }, { \"name\": \"site-y\", \"monitor\": true, \"optimized\": true } ] }\n}|" "$CONF"
ok "the agent starts" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
snmp_env
for i in 1 2 3; do
	"$top_builddir/gvpn-member" --server 127.0.0.1:$GKS_PORT --group 1 --psk-file "$TAP_TMP/k.psk" \
		--local 127.0.7.$i --ike aes256-sha256-ecp256 --stay >"$TAP_TMP/m$i.log" 2>&1 &
	tap_track_pid $!
done
members() { ctl --json show groups | grep -o '"members":[0-9]*' | head -1 | cut -d: -f2; }
members_are() { test "$(members)" = "$1"; }
ok "three members register" wait_for 20 members_are 3
ctl rekey group 1 >/dev/null
acked() { ctl --json show rekeys | grep -q '"acked":3,"removed":0,"done":true'; }
ok "the rekey is acknowledged by all three" wait_for 10 acked
O=.1.3.6.1.4.1.32473.1.1
walk() { snmp_v3 snmpbulkwalk -Cr50 -On -Oe "$@"; }
val() { printf '%s\n' "$W" | grep "^$1 = " | sed 's/^[^=]*= [A-Za-z0-9-]*: *//; s/^"//; s/"$//'; }
W=$(walk $O)
J=$(ctl --json show registered-members group 1)
G=$(ctl --json show groups)

is "$(printf '%s\n' "$W" | grep -c "^$O.4.1.5.1\.")" 3 "gvpnMemberIdentity has a row per member"
for i in 1 2 3; do
	idx=$(printf '%s\n' "$W" | grep "^$O.4.1.5.1\.[0-9]* = STRING: \"127.0.7.$i\"" | sed "s/^$O.4.1.5.1\.\([0-9]*\) .*/\1/")
	port=$(printf '%s' "$J" | grep -o "\"address\":\"127.0.7.$i\",\"port\":[0-9]*" | cut -d: -f3)
	is "$(val $O.4.1.4.1.$idx)" "$port" "member 127.0.7.$i: gvpnMemberPort is the port gvpnctl shows ($port)"
done
is "$(printf '%s\n' "$W" | grep -c "^$O.4.1.6.1\.[0-9]* = INTEGER: 2$")" 3 "every member is active(2)"
seq=$(printf '%s' "$G" | grep -o '"seq":[0-9]*' | head -1 | cut -d: -f2)
is "$(val $O.3.1.5.1)" "$seq" "gvpnGroupSeq.1 = the group's SEQ in gvpnctl ($seq)"
is "$(printf '%s\n' "$W" | grep -c "^$O.4.1.8.1\.[0-9]* = Gauge32: $seq$")" 3 "gvpnMemberLastAckedSeq = $seq for the three"
is "$(val $O.3.1.4.1)" 3 "gvpnGroupMembers.1 = 3"
is "$(val $O.3.1.2.2)" "g2" "the group without server-member communication is listed (gvpnGroupName.2)"
is "$(val $O.3.1.3.2)" 1 "... with gvpnGroupCommunication none(1)"
kek=$(printf '%s' "$G" | grep -o '"kek":{"spi":"[0-9a-f]*' | head -1 | sed 's/.*"spi":"//')
is "$(val $O.5.1.2.1.1 | tr -d ' ' | tr 'A-F' 'a-f')" "$kek" "gvpnKekSpi.1.1 is the KEK SPI gvpnctl shows"
tek=$(printf '%s' "$G" | grep -o '"teks":\[{"name":"sa1","spi":"0x[0-9a-f]*' | head -1 | sed 's/.*"spi":"0x//')
ok "a gvpnTekSpi row holds the current TEK SPI 0x$tek with status inUse or new" \
	eval "printf '%s\n' \"\$W\" | grep -q \"^$O.6.1.3.1\.[0-9]* = Gauge32: $((16#$tek))\$\""
is "$(printf '%s\n' "$W" | grep "^$O.7.1.4\." | tail -1 | sed 's/.*= INTEGER: //')" 4 "the last gvpnRekeyReason is manual(4)"
is "$(printf '%s\n' "$W" | grep "^$O.7.1.7\." | tail -1 | sed 's/.*= Gauge32: //')" 3 "... acknowledged by 3 (gvpnRekeyAcked)"
is "$(val $O.9.1.2.2)" "site-y" "gvpnVpnName.2 = site-y"
is "$(val $O.9.1.13.1)" 3 "site-x has the monitor off: gvpnVpnTunnelState monitorDisabled(3)"
is "$(val $O.9.1.8.2)" 1 "site-y is optimized: gvpnVpnOptimized true(1)"
regs=$(ctl --json show status | grep -o '"registrations":[0-9]*' | head -1 | cut -d: -f2)
is "$(val $O.2.2.0)" "$regs" "gvpnServerRegistrations = the status' registrations ($regs)"
like "$(snmp_v3 snmpget $O.4.1.5.1.999 2>&1)" "No Such Instance" "a member that does not exist: noSuchInstance"
out=$(snmpget -v3 -l authPriv -u tester -a SHA-256 -A wrong-passphrase -x AES -X tester-priv-1 \
	-t 1 -r 0 -On "127.0.0.1:$SNMP_PORT" $O.2.1.0 2>&1)
unlike "$out" "Gauge32" "a wrong v3 passphrase gets no data"
IETF=""
for d in /usr/lib/erlang/lib/snmp-*/mibs; do [ -f "$d/INET-ADDRESS-MIB.mib" ] && IETF=$d; done
t=$(snmptable -v3 -l authPriv -u tester -a SHA-256 -A tester-auth-1 -x AES -X tester-priv-1 -t 3 -r 1 \
	-M "$srcdir/mibs:$IETF" -m GVPN-AGENT-MIB -Cf '|' "127.0.0.1:$SNMP_PORT" GVPN-AGENT-MIB::gvpnMemberTable 2>&1)
like "$t" "gvpnMemberIdentity" "snmptable names the member table's columns from the MIB"
like "$t" '127.0.7.2' "... and lists the members"
tap_done
