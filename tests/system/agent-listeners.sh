# SPDX-License-Identifier: BSD-2-Clause
# agent-listeners.sh: the agent listens where its config says and
# nowhere else. For six configs (nothing but the control socket; SNMP on
# a UDP and a TCP port; the web page; a GDOI key server; an AgentX
# subagent of a private snmpd; all of them with a notification target,
# syslog collectors and, as root, the VPN monitor) the real agent starts
# and `ss` lists every socket of its PID (TCP, UDP, raw, packet, unix):
# the ones anyone can reach (TCP and unix listeners, UDP and raw sockets
# not connected to a peer, unix datagram sockets with a name) must be
# exactly those the config names plus the control socket. Net-SNMP's
# defaults (SMUX on tcp 199, udp 161, an AgentX master socket) and
# sockets on 0.0.0.0 would all show up here.
. "$srcdir/tests/lib/tap.sh"
need ss jq snmpd
tap_setup
plan 17
ROOT=""
[ "$(id -u)" -eq 0 ] && ROOT=1 # the VPN monitor needs an ICMP socket (CAP_NET_RAW)

# listeners PID: one line per socket anyone can reach, sorted:
# "tcp ADDR:PORT", "udp ADDR:PORT", "raw ADDR:PROTO", "packet ...",
# "unix PATH" (stream and seqpacket listeners, named datagram sockets).
listeners() {
	ss -Hanp -t -u -w -x -0 | grep "pid=$1," | awk '
		$1 == "tcp" && $2 == "LISTEN" { print "tcp " $5 }
		$1 == "udp" && $2 == "UNCONN" { print "udp " $5 }
		$1 == "raw" && $2 == "UNCONN" { print "raw " $5 }
		$1 ~ /^p_/                    { print "packet " $5 }
		($1 == "u_str" || $1 == "u_seq") && $2 == "LISTEN" { print "unix " $5 }
		$1 == "u_dgr" && $5 != "*"    { print "unix " $5 }' | sort
}
# all_sockets PID: everything, for the diagnostics.
all_sockets() { ss -Hanp -t -u -w -x -0 | grep "pid=$1," | awk '{ print $1, $2, $5, $6 }'; }

# matches EXPECTED...: the agent's listeners are exactly EXPECTED (a
# "udp ADDR:*" entry stands for one socket on ADDR on any port: the
# client socket of a notification target).
matches() {
	local got want line
	got=$(listeners "$AGENT_PID" | while read -r line; do
		if printf '%s\n' "$@" | grep -qxF -- "$line"; then echo "$line"
		elif printf '%s\n' "$@" | grep -qxF -- "${line%:*}:*"; then echo "${line%:*}:*"
		else echo "$line"; fi
	done | sort)
	want=$(printf '%s\n' "$@" | sort)
	[ "$got" = "$want" ] && return 0
	echo "got:"; printf '%s\n' "$got" | sed 's/^/  /'; echo "want:"; printf '%s\n' "$want" | sed 's/^/  /'
	echo "all of the agent's sockets:"; all_sockets "$AGENT_PID" | sed 's/^/  /'
	return 1
}

# write_config JQ_FILTER: the base config (agent section only: SNMP and
# the web page off, no local syslog) changed by the filter.
write_config() {
	CTL_SOCK=$TAP_TMP/gvpnctl.sock
	CONF=$TAP_TMP/gvpn-agent.json
	SECRETS=$TAP_TMP/secrets.json
	rm -f "$CTL_SOCK"
	jq -n "{ agent: { state_dir: \"state\", control_socket: \"gvpnctl.sock\", log_level: \"info\" },
		 snmp: { enabled: false }, web: { enabled: false }, syslog: { local: false } } | $1" >"$CONF"
	cat >"$SECRETS" <<JSON
{ "snmp_users": { "tester": { "auth_passphrase": "tester-auth-1", "priv_passphrase": "tester-priv-1" } },
  "psk": { "k": "group key for tests" } }
JSON
	chmod 600 "$SECRETS"
}
# run NAME EXPECTED...: starts the agent on $CONF, compares, stops it.
run() {
	local name=$1; shift
	if ! agent_start; then
		ok "$name: the agent starts" false; cat "$TAP_TMP/agent.log"; return 1
	fi
	ok "$name: the agent listens on exactly: $(printf '%s; ' "$@")" matches "$@"
	agent_stop
	is "$AGENT_RC" 0 "$name: the agent stops cleanly"
}

SNMP_PORT=$(free_port udp)
SNMP_TCP=$(free_port tcp)
WEB_PORT=$(free_port tcp)
GKS_PORT=$(free_port udp)
TRAP_PORT=$(free_port udp)
SL_UDP=$(free_port udp)
SL_TCP=$(free_port tcp)
SNMP_ON='.snmp = { listen: ["udp:127.0.0.1:'$SNMP_PORT'", "tcp:127.0.0.1:'$SNMP_TCP'"],
	v3_users: [{ name: "tester", access: "ro", auth: "sha-256", priv: "aes-128" }] }'
WEB_ON='.web = { listen: "127.0.0.1:'$WEB_PORT'" }'
GKS_ON='.group_vpn_server = { listen: "127.0.0.1:'$GKS_PORT'", groups: [ { name: "g1", group_id: 1,
	server_member_communication: { communication_type: "unicast", encryption_algorithm: "aes-256-cbc",
	  sig_hash_algorithm: "sha-256" },
	ipsec_sa: [ { name: "sa1", match: { source: "10.1.0.0/16", destination: "10.2.0.0/16" } } ],
	members: [ { address: "127.0.0.0/8", psk: "k" } ] } ] }'
CTL="unix $TAP_TMP/gvpnctl.sock"

# 1. Nothing configured but the agent itself.
write_config '.'
run "minimal" "$CTL"

# 2. SNMP (master) on a UDP and a TCP port: no SMUX on tcp 199, no udp 161.
write_config "$SNMP_ON"
run "SNMP master" "udp 127.0.0.1:$SNMP_PORT" "tcp 127.0.0.1:$SNMP_TCP" "$CTL"
like "$(cat "$TAP_TMP/agent.log")" "master agent listening on udp:127.0.0.1:$SNMP_PORT,tcp:127.0.0.1:$SNMP_TCP" \
	"... the agent said where it listens"

# 3. The web page.
write_config "$WEB_ON"
run "web" "tcp 127.0.0.1:$WEB_PORT" "$CTL"

# 4. A GDOI key server.
write_config "$GKS_ON"
run "GDOI key server" "udp 127.0.0.1:$GKS_PORT" "$CTL"

# 5. An AgentX subagent of a private snmpd: the connection to the master
# is a client socket; the agent opens no SNMP port (and no master socket).
AX=$TAP_TMP/agentx.sock
mkdir -p "$TAP_TMP/snmpd"
printf 'master agentx\nagentXSocket unix:%s\nagentXPerms 0600 0700\n' "$AX" >"$TAP_TMP/snmpd.conf"
AX_PORT=$(free_port udp)
SNMP_PERSISTENT_DIR=$TAP_TMP/snmpd SNMPCONFPATH=$TAP_TMP/snmpd MIBS= \
	snmpd -f -Lo -C -c "$TAP_TMP/snmpd.conf" "udp:127.0.0.1:$AX_PORT" >"$TAP_TMP/snmpd.log" 2>&1 &
tap_track_pid $!
ok "a private snmpd is the AgentX master ($AX)" wait_for 10 test -S "$AX" || cat "$TAP_TMP/snmpd.log"
write_config '.snmp = { mode: "agentx", agentx_socket: "'$AX'" }'
agentx_up() { ss -Hxap | grep "pid=$AGENT_PID," | grep -q "^u_str *ESTAB "; }
if agent_start; then
	ok "AgentX: the subagent is connected to the master" wait_for 10 agentx_up
	ok "AgentX: the agent listens on exactly: $CTL" matches "$CTL"
	agent_stop
	is "$AGENT_RC" 0 "AgentX: the agent stops cleanly"
else
	ok "AgentX: the agent starts" false; cat "$TAP_TMP/agent.log"
fi

# 6. All of it: SNMP with a notification target, the web page, the key
# server, local logging (journald or /dev/log: a client socket), syslog
# collectors over UDP and TCP, and (as root) the VPN monitor
# with its ICMP socket. The target's client socket is on 127.0.0.1; the
# UDP collector's is connected to it (not a listener).
MON='.'
RAW=()
if [ -n "$ROOT" ]; then
	MON='.vpn_monitor = { interval: 2, threshold: 2, vici_socket: "unix://'$TAP_TMP'/none.vici",
		vpns: [ { name: "site-a", monitor: true, destination_ip: "127.0.0.1" } ] }'
	RAW=("raw 0.0.0.0:1")
fi
write_config "$SNMP_ON | .snmp.notification_targets = [ { address: \"udp:127.0.0.1:$TRAP_PORT\", user: \"tester\" } ]
	| $WEB_ON | $GKS_ON | $MON
	| .syslog.local = true
	| .syslog.collectors = [ { transport: \"udp\", host: \"127.0.0.1\", port: $SL_UDP },
				 { transport: \"tcp\", host: \"127.0.0.1\", port: $SL_TCP } ]"
if agent_start; then
	# Preconditions: the client sockets exist, or "not a listener" says nothing.
	collector() { ss -Hanup | grep "pid=$AGENT_PID," | grep -q "^ESTAB .* 127\.0\.0\.1:[0-9]* *127\.0\.0\.1:$SL_UDP "; }
	ok "everything: the UDP syslog collector's socket exists, connected to 127.0.0.1:$SL_UDP" wait_for 10 collector
	ok "everything: the agent listens on exactly: SNMP (udp, tcp), the target's client socket on 127.0.0.1, web, GDOI${ROOT:+, ICMP}, control" \
		matches "udp 127.0.0.1:$SNMP_PORT" "tcp 127.0.0.1:$SNMP_TCP" "udp 127.0.0.1:*" \
		"tcp 127.0.0.1:$WEB_PORT" "udp 127.0.0.1:$GKS_PORT" ${RAW[@]+"${RAW[@]}"} "$CTL"
	unlike "$(listeners "$AGENT_PID" | grep -v '^raw ')" ':199$|:161$|0\.0\.0\.0:|\[::\]|\*:' \
		"everything: nothing on tcp 199, udp 161 or a wildcard address (but the ICMP socket)"
	agent_stop
	is "$AGENT_RC" 0 "everything: the agent stops cleanly"
else
	ok "everything: the agent starts" false; cat "$TAP_TMP/agent.log"
fi
tap_done
