# SPDX-License-Identifier: BSD-2-Clause
# agent-basic.sh: the real daemon on loopback ports, asked by the real
# tools: snmpget/snmpwalk (v3 and v2c), curl, gvpnctl; SIGTERM exits 0.
# SNMPv1 only for a community whose "versions" lists it.
. "$srcdir/tests/lib/tap.sh"
need snmpget snmpwalk curl jq
tap_setup
snmp_env
plan 31
agent_write_config

ok "the agent starts and answers on its control socket" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }

out=$(snmp_v3 snmpget -Oqv "$GVPN_OID.1.0" 2>&1)
is "$out" '"0.1.0"' "SNMPv3 authPriv GET of gvpnAgentVersion"
out=$(snmp_v3 snmpget -Oqv "$GVPN_OID.3.0" 2>&1)
is "$out" "1" "gvpnAgentConfigGeneration is 1 at start"
out=$(snmp_v3 snmpget -Oqv "$GVPN_OID.4.0" 2>&1)
is "$out" "0" "gvpnAgentConfigReloadFailures is 0 at start"
sleep 1.2
out=$(snmp_v3 snmpget -Oqv "$GVPN_OID.2.0" 2>&1)
like "$out" '^[1-9][0-9]*$' "gvpnAgentUptime counts seconds"
out=$(snmp_v3 snmpwalk -OQ "$GVPN_OID" 2>&1)
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 4 "a walk of the gvpnAgent group finds the four scalars"
like "$out" "^$GVPN_OID.4.0 = 0$" "the walk ends with gvpnAgentConfigReloadFailures"
out=$(snmpget -v2c -c testcomm -t 2 -r 1 -On -Oqv "127.0.0.1:$SNMP_PORT" "$GVPN_OID.1.0" 2>&1)
is "$out" '"0.1.0"' "SNMPv2c GET with the configured community"
out=$(snmpget -v2c -c wrongcomm -t 1 -r 0 -On "127.0.0.1:$SNMP_PORT" "$GVPN_OID.1.0" 2>&1)
like "$out" "Timeout" "a wrong community gets no answer"
out=$(snmpget -v1 -c testcomm -t 1 -r 0 -On "127.0.0.1:$SNMP_PORT" "$GVPN_OID.1.0" 2>&1)
like "$out" "Timeout" "SNMPv1 with the configured community gets no answer (\"versions\" default: v2c only)"
out=$(snmpget -v3 -l authPriv -u tester -a SHA-256 -A wrong-passphrase -x AES -X tester-priv-1 \
	-t 1 -r 0 "127.0.0.1:$SNMP_PORT" "$GVPN_OID.1.0" 2>&1)
like "$out" "Authentication failure" "a wrong v3 passphrase is refused"
out=$(snmp_v3 snmpget "$GVPN_OID.9.0" 2>&1)
like "$out" "No Such Object" "an object outside the group is noSuchObject"
out=$(snmp_v3 snmpget -Oqv .1.3.6.1.2.1.1.3.0 2>&1)
like "$out" "^[0-9]+:[0-9]+:[0-9]+:[0-9]+" "SNMPv2-MIB sysUpTime.0 is served"
out=$(snmp_v3 snmpset "$GVPN_OID.1.0" s "9.9" 2>&1)
like "$out" "notWritable|noAccess|authorizationError" "the version scalar is read-only"

status=$(curl -sS --max-time 5 "http://127.0.0.1:$WEB_PORT/api/v1/status")
like "$status" '"version":"0.1.0"' "GET /api/v1/status answers JSON with the version"
like "$status" '"generation":1' "the status has the config generation"
like "$status" "\"listen\":\\[\"udp:127.0.0.1:$SNMP_PORT\"\\]" "the status names the SNMP listener"
code=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' --max-time 5 "http://127.0.0.1:$WEB_PORT/")
is "$code" "200 text/html; charset=utf-8" "the page is served"
code=$(curl -s -o "$TAP_TMP/404" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$WEB_PORT/nope")
is "$code" "404" "an unknown path is 404"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST -d 'x' "http://127.0.0.1:$WEB_PORT/api/v1/status")
is "$code" "405" "POST to the status is 405"

out=$(ctl show status)
like "$out" "^gvpn-agent 0.1.0, pid $AGENT_PID" "gvpnctl show status names version and pid"
like "$out" "generation: +1 " "gvpnctl show status shows the generation"
out=$(ctl show events)
like "$out" "AGENT_STARTED" "gvpnctl show events lists the start event"
out=$(ctl --json show status)
like "$out" '^\{"ok":true,"result":\{"version":"0.1.0"' "gvpnctl --json prints the reply"

# Listeners: exactly what the config asks for (SNMP on udp, the web page
# on tcp; no SMUX on tcp 199, nothing on a wildcard address).
tcp=$(ss -Hltnp | grep "pid=$AGENT_PID," | awk '{print $4}' | sort | tr '\n' ' ')
udp=$(ss -Hlunp | grep "pid=$AGENT_PID," | awk '{print $4}' | sort | tr '\n' ' ')
is "$tcp|$udp" "127.0.0.1:$WEB_PORT |127.0.0.1:$SNMP_PORT " "the agent listens only where the config says (tcp: $tcp; udp: $udp)"

agent_stop TERM
is "$AGENT_RC" 0 "SIGTERM: the agent exits 0"

# SNMPv1 when a community asks for it, and only for that community.
jq '.snmp.communities += [ { name: "both", versions: ["v1", "v2c"] }, { name: "onlyv1", versions: ["v1"] } ]' \
	"$CONF" >"$CONF.new" && mv "$CONF.new" "$CONF"
ok "the agent starts again with communities both (v1, v2c) and onlyv1" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
get() { snmpget -v$1 -c $2 -t 1 -r 0 -On -Oqv "127.0.0.1:$SNMP_PORT" "$GVPN_OID.1.0" 2>&1; }
is "$(get 1 both) $(get 2c both) $(get 1 onlyv1)" '"0.1.0" "0.1.0" "0.1.0"' \
	"SNMPv1 and v2c GETs with community both, SNMPv1 with onlyv1 are answered"
like "$(get 2c onlyv1)" "Timeout" "SNMPv2c with onlyv1 gets no answer"
like "$(get 1 testcomm)" "Timeout" "SNMPv1 with testcomm (versions default) still gets no answer"
like "$(cat "$TAP_TMP/agent.log")" "SNMPv1 is enabled \(2 communities\)" "the agent says SNMPv1 is enabled, and for how many communities"
agent_stop TERM
tap_done
