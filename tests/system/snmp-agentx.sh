# snmp-agentx.sh: gvpn-agent as an AgentX subagent of the system's snmpd
# (started here with a private configuration): the same GVPN-AGENT-MIB
# rows are served through snmpd, members and all.
. "$srcdir/tests/lib/tap.sh"
need snmpd snmpbulkwalk snmpget
tap_setup
plan 9
agent_write_gks_config
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false }/' "$CONF"
AX=$TAP_TMP/agentx.sock
sed -i "s|\"snmp\": { \"listen\": \[\"udp:127.0.0.1:$SNMP_PORT\"\],|\"snmp\": { \"mode\": \"agentx\", \"agentx_socket\": \"$AX\",|" "$CONF"
mkdir -p "$TAP_TMP/snmpd"
cat >"$TAP_TMP/snmpd.conf" <<CONF
master agentx
agentXSocket $AX
agentXPerms 0600 0700
createUser tester SHA-256 tester-auth-1 AES tester-priv-1
rouser tester priv
CONF
start_snmpd() {
	SNMP_PERSISTENT_DIR=$TAP_TMP/snmpd SNMPCONFPATH=$TAP_TMP/snmpd MIBS= snmpd -f -Lf "$TAP_TMP/snmpd.log" -C \
		-c "$TAP_TMP/snmpd.conf" -p "$TAP_TMP/snmpd.pid" "udp:127.0.0.1:$SNMP_PORT" &
	SNMPD_PID=$!
	tap_track_pid $SNMPD_PID
	wait_for 10 test -S "$AX"
}
ok "the system's snmpd starts as AgentX master (private config)" start_snmpd
ok "gvpn-agent starts as its AgentX subagent" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
like "$(cat "$TAP_TMP/agent.log")" "AgentX subagent of $AX" "the agent says it is a subagent"
snmp_env
O=.1.3.6.1.4.1.32473.1.1
registered() { snmp_v3 snmpget -Ov $O.1.1.0 2>/dev/null | grep -q STRING; }
ok "snmpd answers for gvpnAgentVersion (the subagent registered)" wait_for 10 registered
for i in 1 2; do
	"$top_builddir/gvpn-member" --server 127.0.0.1:$GKS_PORT --group 1 --psk-file "$TAP_TMP/k.psk" \
		--local 127.0.8.$i --ike aes256-sha256-ecp256 >/dev/null 2>&1
done
W=$(snmp_v3 snmpbulkwalk -Cr50 -On $O.4)
is "$(printf '%s\n' "$W" | grep -c "^$O.4.1.5.1\.")" 2 "through snmpd: two rows in gvpnMemberTable"
like "$W" "$O.4.1.5.1.[0-9]+ = STRING: \"127.0.8.2\"" "through snmpd: the second member's identity"
is "$(snmp_v3 snmpget -Ov $O.2.1.0)" "Gauge32: 2" "through snmpd: gvpnServerMembers = 2"
like "$(snmp_v3 snmpbulkwalk -On $O.3)" "$O.3.1.2.1 = STRING: \"g1\"" "through snmpd: gvpnGroupTable"
kill -TERM $SNMPD_PID; wait $SNMPD_PID 2>/dev/null
sleep 1
ok "with snmpd gone the agent keeps running and answering gvpnctl" ctl show status
agent_stop
tap_done
