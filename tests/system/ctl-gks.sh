# SPDX-License-Identifier: BSD-2-Clause
# ctl-gks.sh: the key server through gvpnctl, without members: show
# groups / sa / registered-members / rekeys, a manual rekey (SEQ, events,
# history, old TEK), errors for unknown groups and bad IDs, SEQ and the
# signing key kept in the state directory across a restart, a configured
# signing_key that does not exist, and an agent without a key server.
. "$srcdir/tests/lib/tap.sh"
tap_setup
plan 50

# g1: unicast server-member communication; g2: none.
write_conf() { # write_conf [EXTRA_GKS_KEYS]
	GKS_PORT=$(free_port udp)
	agent_write_config "\"group_vpn_server\": {
    \"listen\": \"127.0.0.1:$GKS_PORT\"${1:+, $1},
    \"groups\": [ { \"name\": \"g1\", \"group_id\": 1,
        \"server_member_communication\": { \"communication_type\": \"unicast\",
          \"encryption_algorithm\": \"aes-256-cbc\", \"sig_hash_algorithm\": \"sha-256\" },
        \"ipsec_sa\": [ { \"name\": \"sa1\", \"match\": { \"source\": \"10.1.0.0/16\", \"destination\": \"10.2.0.0/16\" } } ],
        \"members\": [ { \"address\": \"127.0.0.0/8\", \"psk\": \"k\" } ] },
      { \"name\": \"g2\", \"group_id\": 2,
        \"ipsec_sa\": [ { \"name\": \"sb1\", \"match\": { \"source\": \"10.3.0.0/16\", \"destination\": \"10.4.0.0/16\" } } ],
        \"members\": [ { \"address\": \"127.0.0.0/8\", \"psk\": \"k\" } ] } ] }"
	cat >"$SECRETS" <<JSON
{ "snmp_users": { "tester": { "auth_passphrase": "tester-auth-1", "priv_passphrase": "tester-priv-1" } },
  "psk": { "k": "group key for tests" } }
JSON
	chmod 600 "$SECRETS"
}
write_conf
T0=$(date +%s)
ok "the agent starts with a key server" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }

# ---- show groups ----------------------------------------------------------------
g=$(ctl show groups)
like "$g" '^Group g1 \(id 1\): 0 members, communication unicast, SEQ 0, next rekey in [0-9]+ s, heartbeat 300 s$' \
	"show groups: g1's header (unicast, SEQ 0, next rekey in lifetime - 4 x ATD = 3540 s, heartbeat)"
like "$g" '^  KEK SPI [0-9a-f]{32} aes-256-cbc, signed sha-256 RSA 2048, lifetime 3600 s, remaining [0-9]+ s, next rekey in [0-9]+ s$' \
	"show groups: g1's KEK line"
like "$g" '^  TEK sa1 +SPI 0x[0-9a-f]{8} esp-aes256-sha256 inUse, lifetime 3600 s, remaining [0-9]+ s, next rekey in [0-9]+ s$' \
	"show groups: g1's TEK line"
like "$g" '^Group g2 \(id 2\): 0 members, communication none, SEQ 0, next rekey in [0-9]+ s$' \
	"show groups: g2 has no server-member communication and no heartbeat"
rem=$(printf '%s\n' "$g" | grep -o 'remaining [0-9]* s' | cut -d' ' -f2 | tr '\n' ' ')
nxt=$(printf '%s\n' "$g" | grep -o 'next rekey in [0-9]* s' | cut -d' ' -f4 | tr '\n' ' ')
ok "show groups: KEK and TEK remaining lifetimes count down from 3600 s since the start ($rem)" counts_down 3600 "$T0" $rem
ok "show groups: every next rekey counts down from 3540 s since the start ($nxt)" counts_down 3540 "$T0" $nxt
is "$(printf '%s\n' "$g" | grep -c '^  KEK ')" 1 "only g1 has a KEK"
like "$g" '^Pushes: 0 rekeys, 0 retransmissions, 0 heartbeats; ACKs 0' "show groups ends with the push counters"
spi1=$(printf '%s\n' "$g" | sed -n 's/^  TEK sa1 *SPI \(0x[0-9a-f]*\).*/\1/p')
kek1=$(printf '%s\n' "$g" | sed -n 's/^  KEK SPI \([0-9a-f]*\).*/\1/p')

# ---- rekey group ------------------------------------------------------------------
out=$(ctl rekey group 1); rc=$?
is "$rc/$out" "0/group 1: rekey SEQ 1 pushed" "rekey group 1: SEQ 1 pushed"
r=$(ctl show rekeys)
like "$r" '^ +1 [0-9T:-]+Z +1 manual +1 +0/0/0 +[0-9.]+ +yes$' "show rekeys lists it: group 1, manual, SEQ 1, 0/0/0, done"
g=$(ctl show groups)
like "$g" '^Group g1 \(id 1\): 0 members, communication unicast, SEQ 1,' "show groups: g1 at SEQ 1"
like "$g" '^  rekeys 1, pushes 1, heartbeats 0, retransmissions 0, members removed 0, last rekey [0-9T:-]+Z$' \
	"show groups: g1's counters"
unlike "$g" "KEK SPI $kek1" "the KEK was replaced"
like "$g" '^  TEK sa1 +SPI 0x[0-9a-f]{8} esp-aes256-sha256 new,' "the new TEK waits for activation (status new)"
like "$g" '^Pushes: 1 rekeys,' "the server counts one rekey push"
e=$(ctl show events)
like "$e" 'REKEY_STARTED +group g1 \(1\): rekey SEQ 1 \(manual\) sent unicast to 0 members' "REKEY_STARTED event"
like "$e" 'REKEY_SENT +rekey SEQ 1 of group g1 \(1\): 0 members targeted' "REKEY_SENT event"
like "$e" "KEK_REPLACED +group g1 \\(1\\): KEK $kek1 replaced" "KEK_REPLACED event"
like "$e" "TEK_REPLACED +group g1 \\(1\\): TEK sa1 $spi1 replaced" "TEK_REPLACED event"
sa=$(ctl show sa)
like "$sa" '^Group g1 \(id 1\): communication unicast, SEQ 1, activation_time_delay 15 s$' "show sa: g1's header"
like "$sa" "^  TEK sa1 +SPI $spi1 esp-aes256-sha256 old, lifetime 3600 s, remaining [0-9]+ s\$" \
	"show sa lists the replaced TEK as old"
is "$(printf '%s\n' "$sa" | grep -c '^  TEK sa1 ')" 2 "show sa: the new and the old TEK of sa1"

out=$(ctl rekey group 2); rc=$?
is "$rc/$out" "0/group 2: keys replaced (no server-member communication: nothing pushed)" \
	"rekey group 2 (no server-member communication): keys replaced, nothing pushed"
like "$(ctl show groups)" '^Group g2 \(id 2\): 0 members, communication none, SEQ 0,' "g2's SEQ stays 0"
is "$(ctl --json rekey group 1)" '{"ok":true,"result":{"group_id":1,"seq":2,"pushed":true}}' \
	"--json rekey group 1: the reply with SEQ 2"

# ---- errors ------------------------------------------------------------------------
out=$(ctl rekey group 9 2>&1); rc=$?
is "$rc/$out" "1/gvpnctl: no group 9" "rekey group 9: exit 1, no group 9"
out=$(ctl rekey group x 2>&1); rc=$?
is "$rc" 2 "rekey group x: usage error, exit 2"
like "$out" "group ID must be a number from 1 to 65535, not 'x'" "rekey group x: the message says why"
out=$(ctl rekey group 65536 2>&1); rc=$?
is "$rc" 2 "rekey group 65536: usage error, exit 2"
out=$(ctl rekey group 2>&1); rc=$?
is "$rc/$out" "2/gvpnctl: usage: rekey group ID (ID from 1 to 65535)" "rekey group without an ID: usage error"
out=$(ctl show registered-members group 9 2>&1); rc=$?
is "$rc/$out" "1/gvpnctl: no group 9" "show registered-members group 9: exit 1, no group 9"
out=$(ctl show registered-members group 1); rc=$?
is "$rc/$out" "0/0 members" "show registered-members group 1: none yet"

# ---- state directory -------------------------------------------------------------
seqf=$TAP_TMP/state/gks-seq.json
like "$(tr -d ' \n\t' <"$seqf")" '"1":64' "gks-seq.json holds g1's SEQ reservation (64 at a time, saved before use)"
is "$(stat -c %a "$TAP_TMP/state/gks-signing-key.pem")" 600 "gks-signing-key.pem was created with mode 600"
like "$(ctl show status)" '^  pushes: +2 rekeys, 0 retransmissions, 0 heartbeats, 0 ACKs' "show status: the key server's push counters"
sum=$(sha256sum <"$TAP_TMP/state/gks-signing-key.pem")
agent_stop
is "$AGENT_RC" 0 "SIGTERM: exit 0"

ok "the agent starts again" agent_start || cat "$TAP_TMP/agent.log"
like "$(ctl show groups)" '^Group g1 \(id 1\): 0 members, communication unicast, SEQ 64,' \
	"after the restart SEQ goes on from the reservation: nothing up to it is used again"
is "$(ctl rekey group 1 2>&1)" "group 1: rekey SEQ 65 pushed" "the first push after the restart has SEQ 65"
like "$(tr -d ' \n\t' <"$seqf")" '"1":128' "and a new reservation was saved before it"
is "$(sha256sum <"$TAP_TMP/state/gks-signing-key.pem")" "$sum" "the signing key is kept, not made again"
agent_stop

# ---- a SEQ file that does not parse: the agent refuses to start --------------------
cp "$seqf" "$TAP_TMP/seq.good"
printf '{"1": 12' >"$seqf"
timeout 30 "$top_builddir/gvpn-agent" -f -c "$CONF" >"$TAP_TMP/agent.log" 2>&1; rc=$?
ok "a corrupt gks-seq.json: the agent refuses to start (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
like "$(cat "$TAP_TMP/agent.log")" "gks-seq.json is unreadable or not a JSON object: the last SEQ of each group is lost.*write \{\"<group_id>\": N\}" \
	"the log says why and how to recover"
: >"$seqf"
timeout 30 "$top_builddir/gvpn-agent" -f -c "$CONF" >"$TAP_TMP/agent.log" 2>&1; rc=$?
ok "an empty gks-seq.json: refused too (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
cp "$TAP_TMP/seq.good" "$seqf"

# ---- signing_key --------------------------------------------------------------------
write_conf '"signing_key": "missing.pem"'
timeout 30 "$top_builddir/gvpn-agent" -f -c "$CONF" >"$TAP_TMP/agent.log" 2>&1; rc=$?
ok "a configured signing_key that does not exist: the agent refuses to start" test "$rc" -ne 0 -a "$rc" -ne 124
like "$(cat "$TAP_TMP/agent.log")" "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $TAP_TMP/missing.pem && chmod 600 $TAP_TMP/missing.pem" \
	"the log says how to create it (path resolved against the config's directory)"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TAP_TMP/missing.pem" 2>/dev/null && chmod 600 "$TAP_TMP/missing.pem"
ok "with the key created by that command the agent starts" agent_start || cat "$TAP_TMP/agent.log"
agent_stop

# ---- no key server ------------------------------------------------------------------
agent_write_config
agent_start || cat "$TAP_TMP/agent.log"
out=$(ctl rekey group 1 2>&1); rc=$?
is "$rc/$out" "1/gvpnctl: no key server: the configuration has no group_vpn_server section" \
	"without a key server: rekey group 1 is a clear error"
agent_stop
is "$AGENT_RC" 0 "SIGTERM: exit 0"
tap_done
