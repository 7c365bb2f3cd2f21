# SPDX-License-Identifier: BSD-2-Clause
# valgrind.sh: a start/serve/register/reload/stop cycle of the real agent under
# valgrind memcheck: no invalid accesses, nothing definitely or indirectly
# lost. Library-internal allocations that Net-SNMP keeps for the life of
# the process are listed in valgrind.supp with the reason.
. "$srcdir/tests/lib/tap.sh"
[ "${GVPN_SANITIZERS:-no}" = yes ] && skip_all "sanitizer build: valgrind cannot run ASan binaries"
need valgrind snmpget curl
tap_setup
snmp_env
plan 8
agent_write_gks_config

AGENT_WRAPPER="valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no --suppressions=$srcdir/tests/system/valgrind.supp --log-file=$TAP_TMP/valgrind.log"
AGENT_START_TIMEOUT=60
ok "the agent starts under valgrind" agent_start || { cat "$TAP_TMP/agent.log" "$TAP_TMP/valgrind.log"; exit 1; }
out=$(snmp_v3 snmpget -t 10 -Oqv "$GVPN_OID.1.0" 2>&1)
is "$out" '"0.1.0"' "SNMPv3 GET answered under valgrind"
out=$(curl -sS --max-time 20 "http://127.0.0.1:$WEB_PORT/api/v1/status")
like "$out" '"version":"0.1.0"' "status API answered under valgrind"
ok "a member registers (and one is refused) under valgrind" "$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" \
	--group 1 --psk-file "$TAP_TMP/k.psk" --local 127.0.0.9 --timeout 10000 --ike aes256-sha256-ecp256,aes256-sha256-modp2048
"$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 7 --psk-file "$TAP_TMP/k.psk" \
	--local 127.0.0.10 --timeout 10000 >/dev/null 2>&1
kill -HUP "$AGENT_PID"
gen_is() { test "$(snmp_v3 snmpget -t 10 -Oqv "$GVPN_OID.3.0" 2>/dev/null)" = "$1"; }
ok "a reload under valgrind" wait_for 20 gen_is 2
printf '{ "agent": 1 }\n' >"$CONF"
kill -HUP "$AGENT_PID"
ok "a refused reload under valgrind" wait_for 20 grep -q CONFIG_REJECTED "$TAP_TMP/agent.log"
agent_stop TERM
is "$AGENT_RC" 0 "SIGTERM: exit 0 (99 would mean valgrind found errors or leaks)"
vg=$(cat "$TAP_TMP/valgrind.log")
like "$vg" "ERROR SUMMARY: 0 errors" "valgrind: no errors, no definite or indirect leaks" || printf '%s\n' "$vg" | sed 's/^/# /' | head -80
tap_done
