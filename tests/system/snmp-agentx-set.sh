# SPDX-License-Identifier: BSD-2-Clause
# snmp-agentx-set.sh: SNMP SETs through Debian's snmpd (private config, as
# in snmp-agentx.sh) to gvpn-agent as its AgentX subagent behave as in
# master mode (snmp-set.sh runs the same checks, tests/lib/snmp-set-checks.sh):
# valid SETs answered noError are in the file and read back by GET;
# wrongValue and inconsistentValue name the faulty varbind (2nd, 3rd);
# many varbinds in one SET; two managers SETting at once.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/snmp-set-checks.sh"
need snmpd snmpset snmpget jq
[ "$(id -u)" -eq 0 ] || skip_all "the VPN monitor's ICMP socket needs root"
tap_setup
plan $((4 + SET_CHECKS_PLAN))

O=.1.3.6.1.4.1.32473.1.1
AX=$TAP_TMP/agentx.sock
agent_write_config
jq --arg ax "$AX" --arg v "unix://$TAP_TMP/none.vici" '.snmp = (.snmp | del(.listen, .communities) | .mode = "agentx" | .agentx_socket = $ax)
  | .vpn_monitor = { interval: 10, threshold: 3, vici_socket: $v,
      vpns: [ { name: "w1", monitor: true }, { name: "w2" }, { name: "w3" }, { name: "w4" } ] }' \
	"$CONF" >"$CONF.new" && mv "$CONF.new" "$CONF"
W=1

mkdir -p "$TAP_TMP/snmpd"
cat >"$TAP_TMP/snmpd.conf" <<CONF
master agentx
agentXSocket unix:$AX
agentXPerms 0600 0700
createUser admin SHA-256 admin-auth-pass AES admin-priv-pass
createUser admin2 SHA-256 admin2-auth-pass AES admin2-priv-pass
rwuser admin priv
rwuser admin2 priv
CONF
SNMPD_PID=
start_snmpd() {
	rm -f "$AX"
	SNMP_PERSISTENT_DIR=$TAP_TMP/snmpd SNMPCONFPATH=$TAP_TMP/snmpd MIBS= \
		snmpd -f -Lo -C -c "$TAP_TMP/snmpd.conf" -p "$TAP_TMP/snmpd.pid" "udp:127.0.0.1:$SNMP_PORT" \
		>>"$TAP_TMP/snmpd.log" 2>&1 &
	SNMPD_PID=$!
	tap_track_pid $SNMPD_PID
	wait_for 10 test -S "$AX"
}
ok "Debian's snmpd starts as AgentX master (private config, $AX)" start_snmpd ||
	{ cat "$TAP_TMP/snmpd.log"; exit 1; }
ok "gvpn-agent starts in agentx mode with four VPNs" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
snmp_env
mgr() { # mgr USER TOOL ARGS...
	local u=$1 tool=$2; shift 2
	$tool -v3 -l authPriv -u $u -a SHA-256 -A $u-auth-pass -x AES -X $u-priv-pass -t 5 -r 0 -On \
		"127.0.0.1:$SNMP_PORT" "$@"
}
mgr1() { mgr admin "$@"; }
mgr2() { mgr admin2 "$@"; }
registered() { mgr1 snmpget -Oqv $O.9.1.2.4 2>/dev/null | grep -q w4; }
ok "snmpd answers for the VPN table (the subagent registered)" wait_for 20 registered ||
	{ cat "$TAP_TMP/agent.log" "$TAP_TMP/snmpd.log"; exit 1; }

snmp_set_checks "through snmpd"

like "$(cat "$TAP_TMP/agent.log")" "SET refused: .*rekey" "the agent logs why it refused the rekey on w2"
agent_stop
tap_done
