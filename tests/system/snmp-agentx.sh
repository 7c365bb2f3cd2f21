# SPDX-License-Identifier: BSD-2-Clause
# snmp-agentx.sh: gvpn-agent as an AgentX subagent of the system's snmpd,
# started here with a private configuration (nothing from /etc/snmp or
# /var/lib/snmp). Through snmpd, snmpbulkwalk -Cr50 -On of the
# GVPN-AGENT-MIB tables gives the rows gvpnctl shows (registered members,
# a rekey, KEKs and TEKs, two groups, the VPNs when root can probe);
# GET and GETNEXT at the edges behave as in master mode. When snmpd
# stops, the agent keeps running (and does not spin); when snmpd comes
# back, the subagent registers again; started before snmpd, it says why
# it cannot connect (once) and registers when snmpd comes up.
. "$srcdir/tests/lib/tap.sh"
need snmpd snmpbulkwalk snmpget snmpgetnext jq
tap_setup
plan 32

O=.1.3.6.1.4.1.32473.1.1
agent_write_gks_config
AX=$TAP_TMP/agentx.sock
MON=""
[ "$(id -u)" -eq 0 ] && MON=1 # the monitor needs an ICMP socket (CAP_NET_RAW)
jq --arg ax "$AX" '.snmp = (.snmp | del(.listen, .communities) | .mode = "agentx" | .agentx_socket = $ax)
  | .group_vpn_server.groups[0].server_member_communication.membership_rekey = false
  | .group_vpn_server.groups += [ { name: "g2", group_id: 2,
      ipsec_sa: [ { name: "s2", match: { source: "10.8.0.0/16", destination: "10.9.0.0/16" } } ],
      members: [ { address: "127.0.0.0/8", psk: "k" } ] } ]' "$CONF" >"$CONF.new" && mv "$CONF.new" "$CONF"
if [ -n "$MON" ]; then
	jq --arg v "unix://$TAP_TMP/none.vici" '.vpn_monitor = { interval: 2, threshold: 2, vici_socket: $v,
	    vpns: [ { name: "site-x", monitor: false }, { name: "site-y", monitor: true, destination_ip: "127.0.0.1" } ] }' \
		"$CONF" >"$CONF.new" && mv "$CONF.new" "$CONF"
fi

mkdir -p "$TAP_TMP/snmpd"
cat >"$TAP_TMP/snmpd.conf" <<CONF
master agentx
agentXSocket unix:$AX
agentXPerms 0600 0700
createUser tester SHA-256 tester-auth-1 AES tester-priv-1
rouser tester priv
CONF
start_snmpd() {
	rm -f "$AX"
	SNMP_PERSISTENT_DIR=$TAP_TMP/snmpd SNMPCONFPATH=$TAP_TMP/snmpd MIBS= \
		snmpd -f -Lo -C -c "$TAP_TMP/snmpd.conf" -p "$TAP_TMP/snmpd.pid" "udp:127.0.0.1:$SNMP_PORT" \
		>>"$TAP_TMP/snmpd.log" 2>&1 &
	SNMPD_PID=$!
	tap_track_pid $SNMPD_PID
	wait_for 10 test -S "$AX"
}
stop_snmpd() {
	kill -TERM $SNMPD_PID
	local i=0
	while kill -0 $SNMPD_PID 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	! kill -0 $SNMPD_PID 2>/dev/null && wait $SNMPD_PID 2>/dev/null
	return 0
}
ok "the system's snmpd starts as AgentX master (private config, $AX)" start_snmpd ||
	{ cat "$TAP_TMP/snmpd.log"; exit 1; }
ok "gvpn-agent starts in agentx mode" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
like "$(cat "$TAP_TMP/agent.log")" "AgentX subagent of $AX" "the agent says it is a subagent of that socket"
snmp_env
if command -v ss >/dev/null 2>&1; then
	like "$(ss -Hulpn "sport = :$SNMP_PORT" 2>&1)" "pid=$SNMPD_PID," "udp 127.0.0.1:$SNMP_PORT is snmpd's, not the agent's"
else
	_tap_result 0 "udp 127.0.0.1:$SNMP_PORT is snmpd's, not the agent's # SKIP ss (iproute2) is not installed"
fi

V3="-v3 -l authPriv -u tester -a SHA-256 -A tester-auth-1 -x AES -X tester-priv-1 -t 2 -r 1"
v3() { local tool=$1; shift; $tool $V3 -On "127.0.0.1:$SNMP_PORT" "$@"; }
registered() { v3 snmpget -Oqv $O.1.1.0 2>/dev/null | grep -q '^"\?[0-9]'; }
ok "snmpd answers for gvpnAgentVersion (the subagent registered)" wait_for 10 registered

member() { # member GROUP ADDRESS [ARGS...]
	local g=$1 a=$2; shift 2
	"$top_builddir/gvpn-member" --server 127.0.0.1:$GKS_PORT --group $g --psk-file "$TAP_TMP/k.psk" \
		--local $a --ike aes256-sha256-ecp256 --stay "$@" >"$TAP_TMP/m-$a.log" 2>&1 &
	tap_track_pid $!
}
member 1 127.0.8.1
member 1 127.0.8.2 --identity gm2.example
member 1 127.0.8.3
member 2 127.0.8.4
gmembers() { ctl --json show groups | jq -r '[.result.groups[].members] | map(tostring) | join(",")'; }
members_are() { test "$(gmembers)" = "$1"; }
ok "three members register in g1, one in g2" wait_for 20 members_are 3,1
kek_before=$(ctl --json show groups | jq -r '.result.groups[0].kek.spi')
ctl rekey group 1 >/dev/null
rekey_done() { ctl --json show rekeys | jq -e '.result[-1] | .reason == "manual" and .acked == 3 and .done'; }
ok "gvpnctl rekey group 1: acknowledged by the three" wait_for 10 rekey_done
vpn_up() { ctl --json show vpns | jq -e '.result.vpns[1].state == "up"'; }
[ -z "$MON" ] || wait_for 10 vpn_up

# Net-SNMP's output as OID|TYPE|VALUE (strings unquoted, Hex-STRING as lowercase hex).
norm() {
	awk 'function flush() {
		if (o == "") return
		if (t == "Hex-STRING") { gsub(/ /, "", v); v = tolower(v) }
		else if (t == "STRING") { sub(/^"/, "", v); sub(/"$/, "", v) }
		print o "|" t "|" v
	}
	/^\.[0-9]/ { flush(); o = $1; r = substr($0, index($0, " = ") + 3)
		if (r == "\"\"") { t = "STRING"; v = "" }
		else if (index(r, ": ")) { t = substr(r, 1, index(r, ": ") - 1); v = substr(r, index(r, ": ") + 2) }
		else { t = ""; v = r }
		next }
	{ v = v " " $0 }
	END { flush() }'
}
v3 snmpbulkwalk -Cr50 $O >"$TAP_TMP/w.raw" 2>"$TAP_TMP/w.err"
is "$?" 0 "through snmpd: snmpbulkwalk -Cr50 of the whole subtree exits 0 (OIDs increasing)"
norm <"$TAP_TMP/w.raw" >"$TAP_TMP/w"
val() { awk -F'|' -v o="$O.$1" '$1 == o { print $3; exit }' "$TAP_TMP/w"; }
rows() { awk -F'|' -v p="$O.$1." 'index($1, p) == 1 { print substr($1, length(p) + 1) }' "$TAP_TMP/w"; }
count() { awk -F'|' -v p="$O.$1." 'index($1, p) == 1' "$TAP_TMP/w" | wc -l; }
hex2ip() { printf '%d.%d.%d.%d' 0x${1:0:2} 0x${1:2:2} 0x${1:4:2} 0x${1:6:2}; }

nvpn=0; [ -z "$MON" ] || nvpn=2
# 4 + 11 + 2 + 8 + 2 scalars; groups 2 x 10; members 4 x 10; KEKs 2 x 8;
# TEKs 3 x 8 (g1's new and old, g2's); one rekey x 9; VPNs x 23.
is "$(awk -F'|' '$2 != ""' "$TAP_TMP/w" | wc -l)" $((27 + 20 + 40 + 16 + 24 + 9 + nvpn * 23)) \
	"through snmpd: every scalar and row is there ($((27 + 20 + 40 + 16 + 24 + 9 + nvpn * 23)) varbinds)"
is "$(val 2.1.0) $(rows 4.1.5 | wc -l)" "$(ctl --json show status | jq .result.key_server.members) 4" \
	"through snmpd: gvpnServerMembers and the member rows = show status' members"
exp=$(ctl --json show registered-members | jq -r '.result.members | sort_by(.group_id, .index)[] |
	"\(.group_id).\(.index) \(.address) \(.port) \(.identity) \({registered: 1, active: 2}[.state]) \(.last_acked_seq) \(.rekeys_acked)"')
got=$(for r in $(rows 4.1.5); do echo "$r $(hex2ip "$(val 4.1.3.$r)") $(val 4.1.4.$r) $(val 4.1.5.$r) $(val 4.1.6.$r) $(val 4.1.8.$r) $(val 4.1.10.$r)"; done)
is "$got" "$exp" "through snmpd: each member's index, address, port, identity, state, last ACKed SEQ, rekeys acked"
exp=$(ctl --json show groups | jq -r '.result.groups[] | "\(.group_id) \(.name) \(.members) \(.seq) \(.rekeys)"')
got=$(for g in $(rows 3.1.2); do echo "$g $(val 3.1.2.$g) $(val 3.1.4.$g) $(val 3.1.5.$g) $(val 3.1.7.$g)"; done)
is "$got" "$exp" "through snmpd: gvpnGroupTable name, members, SEQ, rekeys"
is "$(val 5.1.2.1.1) $(val 5.1.2.1.2) $(rows 5.1.2 | tr '\n' ' ')" \
	"$(ctl --json show sa | jq -r '.result.groups[0].kek.spi') $kek_before 1.1 1.2 " \
	"through snmpd: gvpnKekTable: the current and the previous KEK SPI, no row for g2"
exp=$(ctl --json show sa | jq -r '.result.groups[] | .group_id as $g | .teks[] | "\($g) \(.name) \(.spi) \({new: 1, inUse: 2, old: 3}[.status])"' | sort)
got=$(for r in $(rows 6.1.2); do printf '%s %s 0x%08x %s\n' "${r%%.*}" "$(val 6.1.2.$r)" "$(val 6.1.3.$r)" "$(val 6.1.9.$r)"; done | sort)
is "$got" "$exp" "through snmpd: gvpnTekTable group, policy, SPI, status = show sa"
exp=$(ctl --json show rekeys | jq -r '.result[] | "\(.index) \(.group_id) 4 \(.seq) \(.targeted) \(.acked)"')
got=$(for k in $(rows 7.1.2); do echo "$k $(val 7.1.3.$k) $(val 7.1.4.$k) $(val 7.1.5.$k) $(val 7.1.6.$k) $(val 7.1.7.$k)"; done)
is "$got" "$exp" "through snmpd: gvpnRekeyTable group, reason manual(4), SEQ, targeted, acked"
if [ -n "$MON" ]; then
	is "$(val 9.1.2.1) $(val 9.1.13.1) $(val 9.1.2.2) $(val 9.1.7.2) $(val 9.1.13.2) $(val 9.1.20.2)" \
		"site-x 3 site-y 1 1 100" "through snmpd: gvpnVpnTable site-x monitorDisabled, site-y monitored, up, 100% available"
else
	_tap_result 0 "through snmpd: gvpnVpnTable # SKIP the VPN monitor needs root (ICMP socket)"
fi

NSI="No Such Instance currently exists at this OID"
is "$(v3 snmpget $O.4.1.5.1.999 $O.5.1.2.1.3 $O.7.1.4.999 2>&1 | norm | cut -d'|' -f3 | tr '\n' ';')" "$NSI;$NSI;$NSI;" \
	"through snmpd: GET of a missing member, KEK, rekey: noSuchInstance"
first=$(rows 4.1.5 | head -1); last=$(rows 4.1.5 | tail -1)
is "$(v3 snmpgetnext $O.4.1.5.$last $O.4.1.11.$last $O.5.1.2.1.4294967295 | cut -d' ' -f1 | tr '\n' ' ')" \
	"$O.4.1.6.$first $O.5.1.2.1.1 $O.5.1.3.1.1 " \
	"through snmpd: GETNEXT past the last member goes to the next column, past the table to the next table"

# snmpd goes away: the agent goes on, without spinning on the dead socket.
ok "snmpd stops (SIGTERM)" stop_snmpd
sleep 1
ok "with snmpd gone the agent keeps running and answering gvpnctl" eval "kill -0 $AGENT_PID && ctl show status"
ticks() { awk '{ print $14 + $15 }' "/proc/$AGENT_PID/stat"; }
t0=$(ticks); sleep 3; t1=$(ticks)
ok "... idle: $(( (t1 - t0) * 1000 / $(getconf CLK_TCK) )) ms of CPU in 3 s (under 300)" \
	test $(( (t1 - t0) * 1000 / $(getconf CLK_TCK) )) -lt 300
ok "... and its members stay registered" members_are 3,1

# snmpd comes back on the same socket. Net-SNMP's subagent retries every
# 15 s (agentXPingInterval unset), so within 15 s plus the poll.
ok "snmpd starts again" start_snmpd
t0=$(date +%s)
ok "the subagent registers again with the new snmpd (Net-SNMP retries every 15 s)" wait_for 25 registered
diag "registered again $(( $(date +%s) - t0 )) s after snmpd came back"
v3 snmpbulkwalk -Cr50 $O.4.1.5 2>&1 | norm >"$TAP_TMP/w"
is "$(v3 snmpget -Oqv $O.2.1.0 2>&1) $(rows 4.1.5 | wc -l)" "4 4" \
	"through the new snmpd: gvpnServerMembers and the member rows are the four members again"
agent_stop
is "$AGENT_RC" 0 "the agent stops (SIGTERM, exit 0)"

# Started before its master agent (boot order): it says why it cannot
# connect (Net-SNMP's own warning has no reason) and what to check, once,
# and registers when snmpd comes up.
ok "snmpd stops again" stop_snmpd
rm -f "$AX"
ok "the agent starts while no master agent runs" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
said() { grep -q "AgentX: cannot connect to the master agent at $AX: No such file or directory; is snmpd running" "$TAP_TMP/agent.log"; }
ok "it says why it cannot connect, and what to check" wait_for 5 said
start_snmpd
ok "the subagent registers once snmpd is up (it retries every 15 s)" wait_for 25 registered
log=$(cat "$TAP_TMP/agent.log")
unlike "$log" "Failed to connect to the agentx master agent" "no reasonless Net-SNMP warning"
is "$(printf '%s\n' "$log" | grep -c "AgentX: cannot connect")" 1 "the reason is said once, not at every retry"
agent_stop
tap_done
