# SPDX-License-Identifier: BSD-2-Clause
# gdoi-register.sh: the real agent as key server and gvpn-member as
# members, over loopback: registration with each IKE suite; wrong PSK,
# unknown group and a member outside the group's list are refused with a
# clear log line and an event; 1,000 members registering at once.
. "$srcdir/tests/lib/tap.sh"
tap_setup
GKS_PORT=$(free_port udp)
SUITES="aes256-sha256-modp2048 aes256-sha256-ecp256 aes128-sha256-modp3072 aes192-sha384-ecp384 aes256-sha512-modp2048 aes128-sha1-modp1024 3des-sha1-modp1024 3des-md5-modp1536"
plan $(( $(echo $SUITES | wc -w) * 4 + 26 ))
agent_write_config "\"group_vpn_server\": {
    \"listen\": \"127.0.0.1:$GKS_PORT\",
    \"debug_pcap\": \"plain.pcap\",
    \"ike_proposals\": [
      { \"encryption\": \"aes-256-cbc\", \"hash\": \"sha-256\", \"dh_group\": \"modp-2048\" },
      { \"encryption\": \"aes-256-cbc\", \"hash\": \"sha-256\", \"dh_group\": \"ecp-256\" },
      { \"encryption\": \"aes-128-cbc\", \"hash\": \"sha-256\", \"dh_group\": \"modp-3072\" },
      { \"encryption\": \"aes-192-cbc\", \"hash\": \"sha-384\", \"dh_group\": \"ecp-384\" },
      { \"encryption\": \"aes-256-cbc\", \"hash\": \"sha-512\", \"dh_group\": \"modp-2048\" },
      { \"encryption\": \"aes-128-cbc\", \"hash\": \"sha1\", \"dh_group\": \"modp-1024\" },
      { \"encryption\": \"3des-cbc\", \"hash\": \"sha1\", \"dh_group\": \"modp-1024\" },
      { \"encryption\": \"3des-cbc\", \"hash\": \"md5\", \"dh_group\": \"modp-1536\" } ],
    \"groups\": [
      { \"name\": \"g1\", \"group_id\": 1, \"pull_ids\": [ \"239.192.0.1\", \"g1@example.net\", \"10.200.0.0/16\" ],
        \"server_member_communication\": { \"communication_type\": \"unicast\",
          \"encryption_algorithm\": \"aes-256-cbc\", \"sig_hash_algorithm\": \"sha-256\" },
        \"ipsec_sa\": [ { \"name\": \"sa1\", \"proposal\": \"esp-aes256-sha256\",
                         \"match\": { \"source\": \"10.1.0.0/16\", \"destination\": \"10.2.0.0/16\" } },
                       { \"name\": \"sa2\", \"proposal\": \"esp-3des-sha1\",
                         \"match\": { \"source\": \"10.3.0.0/16\", \"destination\": \"10.4.0.0/16\", \"protocol\": 17 } } ],
        \"members\": [ { \"address\": \"127.0.0.0/8\", \"psk\": \"g1-key\" } ] },
      { \"name\": \"g2\", \"group_id\": 2,
        \"ipsec_sa\": [ { \"name\": \"only\", \"match\": { \"source\": \"10.9.0.0/16\", \"destination\": \"10.9.0.0/16\" } } ],
        \"members\": [ { \"address\": \"127.0.0.5\", \"psk\": \"g2-key\" } ] } ] }"
cat >"$SECRETS" <<JSON
{ "snmp_users": { "tester": { "auth_passphrase": "tester-auth-1", "priv_passphrase": "tester-priv-1" } },
  "psk": { "g1-key": "group one pre-shared key", "g2-key": "group two pre-shared key" } }
JSON
chmod 600 "$SECRETS"
printf 'group one pre-shared key\n' >"$TAP_TMP/g1.psk"
printf 'not the right key\n' >"$TAP_TMP/wrong.psk"
chmod 600 "$TAP_TMP"/*.psk
T0=$(date +%s)
ok "the agent starts with a key server" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
M="$top_builddir/gvpn-member --server 127.0.0.1:$GKS_PORT --timeout 3000 --retries 3 --json-events"

# The KEK and TEK lifetimes a member gets are what remains of the keys
# made when the agent started (3600 s): between 3600 less the seconds
# since then (rounded up) and 3600, however slow the machine.
lifetimes() { printf '%s\n' "$1" | grep -o '"lifetime":[0-9]*' | cut -d: -f2 | tr '\n' ' '; }
lifetimes_ok() { [ $(lifetimes "$1" | wc -w) -eq 3 ] && counts_down 3600 "$T0" $(lifetimes "$1"); }
n=10
for s in $SUITES; do
	n=$((n + 1))
	out=$($M --group 1 --psk-file "$TAP_TMP/g1.psk" --local 127.0.0.$n --ike "$s" 2>&1); rc=$?
	is "$rc" 0 "$s: gvpn-member registers (exit 0)" || echo "# $out"
	like "$out" '"event":"registered".*"teks":\[\{"spi":"0x[0-9a-f]{8}","transform":12,"key_bits":256,"auth":5,"lifetime":[0-9]+,"source":"10.1.0.0/16","destination":"10.2.0.0/16"\},\{[^}]*"transform":3' \
		"$s: both TEK policies received with selectors and algorithms"
	like "$out" '"kek":\{"spi":"[0-9a-f]{32}","algorithm":3,"key_bits":256,"lifetime":[0-9]+,"sig_hash":3,"ack_requested":false\}.*"keys":\[\{"type":"kek","spi":"[0-9a-f]{32}","key":"[0-9a-f]{64}","sig_key_bytes":29[0-9]\}.*\{"type":"tek","spi":"[0-9a-f]{8}","key":"[0-9a-f]{64}","integrity_key":"[0-9a-f]{64}"\}' \
		"$s: KEK policy and the KD with the KEK key first, then the TEK keys"
	ok "$s: remaining lifetimes between the age of the agent and 3600 s ($(lifetimes "$out"))" lifetimes_ok "$out"
done
log=$(cat "$TAP_TMP/agent.log")
like "$log" "IKE proposal 3des-cbc/md5/modp-1536 is weak" "weak configured proposals are logged as weak"
like "$log" "phase 1 SA with 127.0.0.1[0-9] uses a weak suite: aes-128-cbc/sha1/modp-1024" "a weak phase 1 SA is logged"
like "$log" "MEMBER_REGISTERED: member 127.0.0.11 .*registered to group g1 \(1\) with aes-256-cbc/sha-256/modp-2048" "registration is an event"

# Refusals: each with a log line and an event.
out=$($M --group 1 --psk-file "$TAP_TMP/wrong.psk" --local 127.0.0.40 2>&1); rc=$?
is "$rc" 1 "wrong PSK: gvpn-member fails"
like "$out" "AUTHENTICATION-FAILED" "wrong PSK: the member is told authentication failed"
like "$(cat "$TAP_TMP/agent.log")" "registration from 127.0.0.40 refused: authentication failed" "wrong PSK: a clear log line"
out=$($M --group 99 --psk-file "$TAP_TMP/g1.psk" --local 127.0.0.41 2>&1); rc=$?
is "$rc" 1 "unknown group: gvpn-member fails"
like "$out" "refused: notify INVALID-ID-INFORMATION" "unknown group: the member is told, in a protected notify"
like "$(cat "$TAP_TMP/agent.log")" "registration from 127.0.0.41 refused: unknown group" "unknown group: a clear log line"
out=$($M --group 2 --psk-file "$TAP_TMP/g1.psk" --local 127.0.0.42 2>&1); rc=$?
is "$rc" 1 "not in the group's list: gvpn-member fails"
like "$out" "refused: notify AUTHENTICATION-FAILED" "not a member: the member is told, in a protected notify"
like "$(cat "$TAP_TMP/agent.log")" "registration from 127.0.0.42 refused: not a member of this group" "not a member: a clear log line"
ev=$(ctl show events)
like "$ev" "REGISTRATION_REFUSED +registration from 127.0.0.40 refused: authentication failed" "wrong PSK: an event"
like "$ev" "REGISTRATION_REFUSED +registration from 127.0.0.41 refused: unknown group" "unknown group: an event"
like "$ev" "REGISTRATION_REFUSED +registration from 127.0.0.42 refused: not a member" "not a member: an event"

# A PULL that names the group by address or name (pull_ids), as
# DigiCert TrustCore's member does.
out=$($M --group 1 --pull-id 239.192.0.1 --psk-file "$TAP_TMP/g1.psk" --local 127.0.0.50 2>&1)
like "$out" '"event":"registered"' "a PULL naming the group by an address of its pull_ids registers" || echo "# $out"
out=$($M --group 1 --pull-id g1@example.net --psk-file "$TAP_TMP/g1.psk" --local 127.0.0.51 2>&1)
like "$out" '"event":"registered"' "a PULL naming the group by a USER_FQDN of its pull_ids registers" || echo "# $out"
out=$($M --group 1 --pull-id 10.200.3.4 --psk-file "$TAP_TMP/g1.psk" --local 127.0.0.52 2>&1)
like "$out" '"event":"registered"' "an address inside a pull_ids prefix names the group too" || echo "# $out"
out=$($M --group 1 --pull-id 239.192.0.2 --psk-file "$TAP_TMP/g1.psk" --local 127.0.0.53 2>&1); rc=$?
like "$rc $out" "^1 .*refused: notify INVALID-ID-INFORMATION" "an address no group lists: refused as an unknown group"
like "$(cat "$TAP_TMP/agent.log")" "registration from 127.0.0.53 refused: unknown group" "... with a clear log line"

# 1,000 members at once, each from its own loopback address.
out=$($M --group 1 --psk-file "$TAP_TMP/g1.psk" --local 127.1.0.1 --count 1000 --timeout 10000 --ike aes256-sha256-ecp256 2>&1); rc=$?
summary=$(printf '%s\n' "$out" | grep '"event":"summary"')
is "$rc" 0 "1,000 concurrent members: gvpn-member exits 0"
like "$summary" '"members":1000,"registered":1000,"failed":0' "1,000 concurrent members all registered"
diag "$summary"
groups=$(ctl show groups)
like "$groups" "Group g1 \(id 1\): 1011 members" "gvpnctl show groups lists 1,011 members of g1"
like "$(ctl show registered-members group 1)" "^1 +127.1.3.232:[0-9]+ +127.1.3.232 +active " "the last of the 1,000 is listed with its identity"

agent_stop TERM
is "$AGENT_RC" 0 "SIGTERM: exit 0"
tap_done
