# SPDX-License-Identifier: BSD-2-Clause
# reload.sh: SIGHUP and gvpnctl reload. A valid new config is swapped in
# (generation +1); a broken one is refused, the old one keeps serving, the
# failure is counted and published as an event.
. "$srcdir/tests/lib/tap.sh"
need snmpget curl
tap_setup
snmp_env
plan 17
agent_write_config

ok "the agent starts" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
gen() { snmp_v3 snmpget -Oqv "$GVPN_OID.3.0" 2>/dev/null; }
fails() { snmp_v3 snmpget -Oqv "$GVPN_OID.4.0" 2>/dev/null; }
gen_is() { test "$(gen)" = "$1"; }
fails_is() { test "$(fails)" = "$1"; }

# A valid change: log level to debug.
sed -i 's/"log_level": "info"/"log_level": "debug"/' "$CONF"
kill -HUP "$AGENT_PID"
ok "SIGHUP with a valid config: generation becomes 2" wait_for 5 gen_is 2
like "$(cat "$TAP_TMP/agent.log")" "CONFIG_RELOADED: configuration .* reloaded; generation 2" "the reload is logged as an event"

# A broken config: the agent keeps generation 2 and keeps serving.
cp "$CONF" "$TAP_TMP/good.json"
printf '{ "agent": { "log_level": "debug" }, "web": { "listen": "127.0.0.1:99999" }\n' >"$CONF"
kill -HUP "$AGENT_PID"
ok "SIGHUP with a broken config: the failure is counted" wait_for 5 fails_is 1
is "$(gen)" 2 "the old config (generation 2) stays in force"
ok "the agent is still running" kill -0 "$AGENT_PID"
log=$(cat "$TAP_TMP/agent.log")
like "$log" "gvpn-agent.json:2:1: invalid JSON" "the log names the error with line:col"
like "$log" "CONFIG_REJECTED: configuration .* refused .* generation 2 stays in force" "the refusal is an event"
status=$(curl -sS --max-time 5 "http://127.0.0.1:$WEB_PORT/api/v1/status")
like "$status" '"generation":2,"reload_failures":1' "the web API still answers, with generation 2 and 1 failure"

# gvpnctl reload reports the errors and exits 1.
printf '{ "vpn_monitor": { "threshold": 0 } }\n' >"$CONF"
out=$(ctl reload 2>&1); rc=$?
is "$rc" 1 "gvpnctl reload of a bad config exits 1"
like "$out" "vpn_monitor.threshold: 0 is out of range \(allowed 1..65536\)" "gvpnctl reload prints the error"
is "$(fails)" 2 "the second failure is counted"
out=$(ctl show events)
like "$out" "CONFIG_REJECTED" "show events lists the refusals"

# Restore the good config with gvpnctl reload.
cp "$TAP_TMP/good.json" "$CONF"
out=$(ctl reload 2>&1); rc=$?
is "$rc" 0 "gvpnctl reload of a good config exits 0"
like "$out" "generation 3" "and says generation 3"
is "$(gen)" 3 "SNMP shows generation 3"

agent_stop TERM
is "$AGENT_RC" 0 "SIGTERM: exit 0"
tap_done
