# SPDX-License-Identifier: BSD-2-Clause
# gdoi-wildcard.sh: the key server listening on the wildcard address
# (0.0.0.0, as the shipped example does) answers each member from the
# address the member sent to, and pushes its rekeys from it. In a private
# namespace with two addresses on lo, a member at 192.0.2.10 registers
# with the server at 192.0.2.1: the kernel's own choice of source for an
# answer to 192.0.2.10 would be 192.0.2.10, which the member drops (it
# was: "no answer from the key server"). Then a rekey, and its ACK.
. "$srcdir/tests/lib/tap.sh"
need tshark
netns_setup
tap_setup
plan 7
NS=$TAP_NETNS
ip -n "$NS" addr add 192.0.2.1/32 dev lo && ip -n "$NS" addr add 192.0.2.10/32 dev lo ||
	{ echo "Bail out! cannot add the addresses"; exit 1; }
agent_write_gks_config
sed -i "s/\"listen\": \"127.0.0.1:$GKS_PORT\"/\"listen\": \"0.0.0.0:$GKS_PORT\"/; s/\"address\": \"127.0.0.0\\/8\"/\"address\": \"192.0.2.0\\/24\"/" "$CONF"
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false }/' "$CONF"
grep -q "\"0.0.0.0:$GKS_PORT\"" "$CONF" || { echo "Bail out! the listen address was not set"; exit 1; }
AGENT_NETNS=$NS
ok "the agent starts in a private namespace, the key server on 0.0.0.0:$GKS_PORT" agent_start ||
	{ cat "$TAP_TMP/agent.log"; exit 1; }
ip netns exec "$NS" tshark -i lo -n -l -f "udp port $GKS_PORT" -T fields -e ip.src -e ip.dst \
	>"$TAP_TMP/wire" 2>"$TAP_TMP/tshark.err" &
TSHARK=$!
tap_track_pid $TSHARK
wait_for 10 grep -q "Capturing on" "$TAP_TMP/tshark.err" || { echo "Bail out! tshark did not start"; exit 1; }
ip netns exec "$NS" "$top_builddir/gvpn-member" --server "192.0.2.1:$GKS_PORT" --group 1 --psk-file "$TAP_TMP/k.psk" \
	--local 192.0.2.10 --ike aes256-sha256-ecp256 --timeout 3000 --retries 2 --stay --json-events \
	>"$TAP_TMP/m.log" 2>&1 &
tap_track_pid $!
ok "the member at 192.0.2.10 registers with 192.0.2.1" wait_for 20 grep -q '"event":"registered"' "$TAP_TMP/m.log" ||
	sed 's/^/#   /' "$TAP_TMP/m.log"
ctl rekey group 1 >/dev/null
seq=$(ctl --json show rekeys | grep -o '"reason":"manual","seq":[0-9]*' | tail -1 | sed 's/.*://')
acked() { ctl --json show rekeys | grep -q "\"seq\":$seq,\"targeted\":1,\"acked\":1,"; }
ok "a rekey (SEQ $seq) reaches it and it acknowledges" wait_for 15 acked
like "$(cat "$TAP_TMP/m.log")" "\"event\":\"ack_sent\".*\"seq\":$seq" "the member verified and acknowledged SEQ $seq"
sleep 1
kill -INT $TSHARK 2>/dev/null
wait_for 10 sh -c "! kill -0 $TSHARK 2>/dev/null"
wire=$(sort "$TAP_TMP/wire" | uniq -c)
diag "on the wire (count, source, destination):"
printf '%s\n' "$wire" | sed 's/^/#   /'
like "$wire" "192\\.0\\.2\\.1	192\\.0\\.2\\.10" "the server's datagrams went from 192.0.2.1 to 192.0.2.10"
unlike "$wire" "192\\.0\\.2\\.10	192\\.0\\.2\\.10" "none from 192.0.2.10 to itself"
agent_stop
is "$AGENT_RC" 0 "the agent stops (SIGTERM, exit 0)"
tap_done
