# SPDX-License-Identifier: BSD-2-Clause
# snmp-set.sh: the VPN monitor settings written over SNMPv3: valid SETs
# are written to the config file and apply at once (a walk and gvpnctl
# show them); invalid ones get the SNMP error the MIB promises
# (wrongValue out of range, inconsistentValue for rekey without monitor,
# wrongType, wrongLength) and leave the file byte for byte as it was; a
# read-only user cannot write; a file changed on disk is not overwritten.
# Then the checks snmp-agentx-set.sh runs through snmpd, the same here
# (tests/lib/snmp-set-checks.sh): error-index of the faulty varbind, many
# varbinds, two managers at once, the file and a GET after each SET.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/snmp-set-checks.sh"
need snmpset snmpget jq
[ "$(id -u)" -eq 0 ] || skip_all "the VPN monitor's ICMP socket needs root"
tap_setup
plan $((24 + SET_CHECKS_PLAN))
agent_write_config "\"vpn_monitor\": { \"interval\": 10, \"threshold\": 3, \"vici_socket\": \"unix://$TAP_TMP/none.vici\",
    \"vpns\": [ { \"name\": \"site-b\", \"monitor\": true },
               { \"name\": \"site-c\" },
               { \"name\": \"w1\", \"monitor\": true }, { \"name\": \"w2\" }, { \"name\": \"w3\" }, { \"name\": \"w4\" } ] }"
W=3 # w1's index in gvpnVpnTable
# A second SNMPv3 user with write access.
sed -i 's/"v3_users": \[{ "name": "tester", "access": "ro", "auth": "sha-256", "priv": "aes-128" }\]/"v3_users": [{ "name": "tester", "access": "ro", "auth": "sha-256", "priv": "aes-128" }, { "name": "admin", "access": "rw", "auth": "sha-512", "priv": "aes-256" }, { "name": "admin2", "access": "rw" }]/' "$CONF"
cat >"$SECRETS" <<JSON
{ "snmp_users": { "tester": { "auth_passphrase": "tester-auth-1", "priv_passphrase": "tester-priv-1" },
                  "admin": { "auth_passphrase": "admin-auth-pass", "priv_passphrase": "admin-priv-pass" },
                  "admin2": { "auth_passphrase": "admin2-auth-pass", "priv_passphrase": "admin2-priv-pass" } } }
JSON
chmod 600 "$SECRETS"
ok "the agent starts with two monitored VPNs" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
snmp_env
O=.1.3.6.1.4.1.32473.1.1
adm() { local tool=$1; shift; $tool -v3 -l authPriv -u admin -a SHA-512 -A admin-auth-pass -x AES-256 -X admin-priv-pass \
	-t 3 -r 0 -On -Ov "127.0.0.1:$SNMP_PORT" "$@"; }
sum() { md5sum <"$CONF"; }

is "$(snmp_v3 snmpget -Ov $O.9.1.7.1 $O.9.1.9.1 | tr '\n' ' ')" "INTEGER: 1 INTEGER: 2 " "site-b: monitor true, rekey false"

# rekey on for site-b (monitor on): written and applied.
out=$(adm snmpset $O.9.1.9.1 i 1 2>&1); rc=$?
is "$rc" 0 "snmpset gvpnVpnRekey.1 = true succeeds" || diag "$out"
like "$(tr -d ' \t\n' <"$CONF")" '"name":"site-b","monitor":true,"rekey":true' \
	"the config file now says rekey true for site-b"
is "$(snmp_v3 snmpget -Ov $O.9.1.9.1)" "INTEGER: 1" "a GET shows the new value at once"
like "$(ctl --json show vpns)" '"name":"site-b","state":"[a-z]+","monitor":true,"optimized":false,"rekey":true' \
	"gvpnctl show vpns shows rekey on for site-b"
like "$(ctl show events)" "CONFIG_RELOADED .*changed through snmp" "the change is an event naming SNMP as its source"

# rekey on for site-c (monitor off): inconsistentValue, file untouched.
before=$(sum)
out=$(adm snmpset $O.9.1.9.2 i 1 2>&1); rc=$?
ok "snmpset gvpnVpnRekey.2 = true (monitor off) fails" test "$rc" -ne 0
like "$out" "inconsistentValue" "the error is inconsistentValue"
is "$(sum)" "$before" "the config file is unchanged"
like "$(cat "$TAP_TMP/agent.log")" "SET refused: .*rekey" "the agent logs why (the loader's message)"

# Monitor on and rekey on for site-c in one PDU: accepted.
out=$(adm snmpset $O.9.1.7.2 i 1 $O.9.1.9.2 i 1 2>&1); rc=$?
is "$rc" 0 "monitor and rekey together in one SET succeed" || diag "$out"
is "$(snmp_v3 snmpget -Ov $O.9.1.7.2 $O.9.1.9.2 | tr '\n' ' ')" "INTEGER: 1 INTEGER: 1 " "both apply"

# Ranges and types.
before=$(sum)
like "$(adm snmpset $O.8.1.0 u 1 2>&1)" "wrongValue" "gvpnMonitorInterval 1: wrongValue"
like "$(adm snmpset $O.8.2.0 u 70000 2>&1)" "wrongValue" "gvpnMonitorThreshold 70000: wrongValue"
like "$(adm snmpset $O.9.1.8.1 i 3 2>&1)" "wrongValue" "a TruthValue of 3: wrongValue"
like "$(adm snmpset $O.9.1.8.1 s yes 2>&1)" "wrongType" "a string for a TruthValue: wrongType"
like "$(adm snmpset $O.9.1.12.1 x 0A0000 2>&1)" "wrongLength" "a 3-octet IPv4 destination: wrongLength"
is "$(sum)" "$before" "none of them touched the file"
out=$(adm snmpset $O.8.1.0 u 30 $O.9.1.10.1 s lo $O.9.1.12.1 x 0A000009 2>&1); rc=$?
is "$rc" 0 "interval 30, source interface lo, destination 10.0.0.9 in one SET" || diag "$out"
like "$(ctl --json show vpns)" '"interval":30,.*"name":"site-b".*"source_interface":"lo","destination_ip":"10.0.0.9"' \
	"gvpnctl shows the new interval, source interface and destination"

mgr1() { local tool=$1; shift; $tool -v3 -l authPriv -u admin -a SHA-512 -A admin-auth-pass -x AES-256 -X admin-priv-pass \
	-t 3 -r 0 -On "127.0.0.1:$SNMP_PORT" "$@"; }
mgr2() { local tool=$1; shift; $tool -v3 -l authPriv -u admin2 -a SHA-256 -A admin2-auth-pass -x AES -X admin2-priv-pass \
	-t 3 -r 0 -On "127.0.0.1:$SNMP_PORT" "$@"; }
snmp_set_checks "master"

# A read-only user cannot write.
like "$(snmp_v3 snmpset $O.8.1.0 u 20 2>&1)" "noAccess|authorizationError|notWritable" "the read-only user is refused"

# The file changed by hand since it was loaded: not overwritten.
printf '\n' >>"$CONF"
before=$(sum)
out=$(adm snmpset $O.8.1.0 u 40 2>&1); rc=$?
ok "a SET after the file changed on disk fails" test "$rc" -ne 0
is "$(sum)" "$before" "the hand-edited file is not overwritten"

agent_stop
tap_done
