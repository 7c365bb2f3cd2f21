# SPDX-License-Identifier: BSD-2-Clause
# gdoi-limits.sh: bad packets are dropped and counted without harm;
# half-open phase 1 exchanges (message 3 answered, with a DH key) are
# bounded per peer and in total and expire; an exchange that has only
# seen message 1 holds no half-open slot; a registration still works
# afterwards.
. "$srcdir/tests/lib/tap.sh"
tap_setup
plan 19
GKS_PORT=$(free_port udp)
agent_write_config "\"group_vpn_server\": {
    \"listen\": \"127.0.0.1:$GKS_PORT\", \"max_half_open_per_peer\": 10, \"max_half_open\": 1000,
    \"half_open_timeout\": 5,
    \"groups\": [ { \"name\": \"g1\", \"group_id\": 1,
        \"ipsec_sa\": [ { \"name\": \"sa1\", \"match\": { \"source\": \"10.1.0.0/16\", \"destination\": \"10.2.0.0/16\" } } ],
        \"members\": [ { \"address\": \"127.0.0.0/8\", \"psk\": \"k\" }, { \"identity\": \"gm.example.net\", \"psk\": \"id\" } ] } ] }"
cat >"$SECRETS" <<JSON
{ "snmp_users": { "tester": { "auth_passphrase": "tester-auth-1", "priv_passphrase": "tester-priv-1" } },
  "psk": { "k": "limits key", "id": "identity key" } }
JSON
chmod 600 "$SECRETS"
printf 'limits key\n' >"$TAP_TMP/k.psk"; printf 'identity key\n' >"$TAP_TMP/id.psk"; chmod 600 "$TAP_TMP"/*.psk
ok "the agent starts" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
stat() { ctl --json show groups | sed "s/.*\"$1\":\([0-9]*\).*/\1/"; }
stat_is() { test "$(stat "$1")" = "$2"; }

"$top_builddir/tests/tools/gdoi_flood" 127.0.0.1 "$GKS_PORT" 25 200
ok "half-open: 10 kept from one peer" wait_for 5 stat_is half_open 10
is "$(stat drop_half_open)" 15 "half-open: the 15 message 3s over the per-peer limit are dropped and counted"
is "$(stat embryonic)" 15 "the 15 refused stay embryonic (message 1 only, no DH, no half-open slot)"
like "$(stat drop_malformed)" '^[1-9][0-9]*$' "junk datagrams are dropped and counted as malformed"
ok "the agent is still running after the junk" kill -0 "$AGENT_PID"
ok "half-open exchanges expire after half_open_timeout" wait_for 10 stat_is expired 10
is "$(stat half_open)" 0 "no half-open exchange is left"
ok "a member still registers afterwards" "$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" \
	--group 1 --psk-file "$TAP_TMP/k.psk" --local 127.0.0.9
out=$("$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 1 --psk-file "$TAP_TMP/id.psk" \
	--local 127.0.0.10 --identity gm.example.net 2>&1)
like "$out" "^127.0.0.10: registered" "a member known by identity (ID_FQDN) registers with its own key"
cat >"$TAP_TMP/member.json" <<JSON
{ "server": "127.0.0.1:$GKS_PORT", "group": 1, "psk_file": "$TAP_TMP/k.psk",
  "local": "127.0.0.11", "ike": ["aes128-sha256-ecp256", "aes256-sha256-modp2048"] }
JSON
ok "gvpn-member -c FILE registers with the settings in the file" "$top_builddir/gvpn-member" -c "$TAP_TMP/member.json"
printf '{ "server": "127.0.0.1:%s",\n  "group": 0 }\n' "$GKS_PORT" >"$TAP_TMP/bad-member.json"
out=$("$top_builddir/gvpn-member" -c "$TAP_TMP/bad-member.json" 2>&1)
like "$out" "bad-member.json:2:12: group: 0 is out of range \(allowed 1..65535\)" "a bad gvpn-member file is refused with file:line:col"
# Reload: group 1 removed, group 3 added; the agent keeps serving.
sed -i 's/"name": "g1", "group_id": 1,/"name": "g3", "group_id": 3,/' "$CONF"
out=$(ctl reload 2>&1)
like "$out" "generation 2" "a reload that replaces group 1 by group 3 is accepted"
out=$("$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 3 --psk-file "$TAP_TMP/k.psk" --local 127.0.0.12 2>&1)
like "$out" "^127.0.0.12: registered" "the group added by the reload serves registrations"
out=$("$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 1 --psk-file "$TAP_TMP/k.psk" --local 127.0.0.13 2>&1)
like "$out" "INVALID-ID-INFORMATION" "the group removed by the reload is unknown now"
like "$(ctl show groups)" "Group g3 \(id 3\): 1 member," "the new group has only its own member; group 1 and its members are gone"
spi1=$(ctl show groups | grep -o 'SPI 0x[0-9a-f]*')
sed -i 's/"group_id": 3,/"group_id": 3, "activation_time_delay": 20,/' "$CONF"
ctl reload >/dev/null
g=$(ctl show groups)
like "$g" "Group g3 \(id 3\): 1 member," "a reload that only changes group 3's settings keeps its members"
is "$(printf '%s\n' "$g" | grep -o 'SPI 0x[0-9a-f]*')" "$spi1" "and keeps the TEK of the unchanged ipsec_sa"
agent_stop
is "$AGENT_RC" 0 "SIGTERM after the reload: exit 0"
tap_done
