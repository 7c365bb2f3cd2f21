# SPDX-License-Identifier: BSD-2-Clause
# restart.sh: the SNMP engine ID survives a restart and snmpEngineBoots
# counts restarts (both persisted in the agent's state dir), so an NMS's
# USM state stays valid; a stale control socket left by a killed agent
# does not stop the next start.
. "$srcdir/tests/lib/tap.sh"
need snmpget
tap_setup
snmp_env
plan 8
agent_write_config
ENGINE_ID=.1.3.6.1.6.3.10.2.1.1.0
ENGINE_BOOTS=.1.3.6.1.6.3.10.2.1.2.0

ok "first start" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
id1=$(snmp_v3 snmpget -Oqv $ENGINE_ID 2>&1)
boots1=$(snmp_v3 snmpget -Oqv $ENGINE_BOOTS 2>&1)
agent_stop TERM
ok "second start" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
id2=$(snmp_v3 snmpget -Oqv $ENGINE_ID 2>&1)
boots2=$(snmp_v3 snmpget -Oqv $ENGINE_BOOTS 2>&1)
like "$id1" '^"?[0-9A-F ]{10,}' "snmpEngineID is served"
is "$id2" "$id1" "the engine ID is the same after a restart"
is "$boots2" "$((boots1 + 1))" "snmpEngineBoots went up by one"

# A crash leaves the socket file behind; the next start must clear it.
agent_stop KILL
ok "the socket file of the killed agent is still there" test -S "$CTL_SOCK"
ok "a start after a crash succeeds" agent_start
agent_stop TERM
is "$AGENT_RC" 0 "SIGTERM: exit 0"
tap_done
