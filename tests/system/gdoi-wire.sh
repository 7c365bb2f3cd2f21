# SPDX-License-Identifier: BSD-2-Clause
# gdoi-wire.sh: tshark agrees with the wire format. A registration is
# captured on the loopback interface and decoded (Main Mode and the
# encrypted GROUPKEY-PULL); the agent's plaintext debug pcap of the same
# exchange shows the GDOI payloads (SA KEK, SA TEK, KD, SEQ). Neither has a
# malformed-packet or warning-level expert item. Then a unicast rekey:
# the GROUPKEY-PUSH (exchange 33, encrypted) and the member's ACK
# (exchange 35, HDR, HASH, SEQ, ID in clear) on the wire, and the push's
# plaintext (SEQ, SA KEK, SA TEK, KD) in the debug pcap.
. "$srcdir/tests/lib/tap.sh"
need tshark
[ "$(id -u)" -eq 0 ] || skip_all "capturing on lo needs root"
tap_setup
plan 19
agent_write_gks_config "\"debug_pcap\": \"plain.pcap\""
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false }/' "$CONF"
ok "the agent starts" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }

tshark -i lo -f "udp port $GKS_PORT" -w "$TAP_TMP/wire.pcap" >"$TAP_TMP/tshark.log" 2>&1 &
TSHARK=$!
tap_track_pid $TSHARK
wait_for 20 grep -q "Capturing on" "$TAP_TMP/tshark.log"
sleep 0.5
ok "a member registers while tshark captures" "$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" \
	--group 1 --psk-file "$TAP_TMP/k.psk" --local 127.0.0.20
sleep 0.5
kill -INT $TSHARK; wait $TSHARK 2>/dev/null

D="-d udp.port==$GKS_PORT,isakmp"
# Only this member's datagrams: tests run in parallel on the same lo.
wire=$(tshark -r "$TAP_TMP/wire.pcap" $D -Y "ip.addr == 127.0.0.20" -T fields -e isakmp.exchangetype 2>/dev/null)
is "$(printf '%s\n' "$wire" | tr '\n' ' ')" "2 2 2 2 2 2 32 32 32 32 " "on the wire: 6 Main Mode and 4 GROUPKEY-PULL messages"
bad=$(tshark -r "$TAP_TMP/wire.pcap" $D -Y '_ws.malformed || _ws.expert.severity >= warning' 2>/dev/null)
is "$bad" "" "on the wire: no malformed packet, no warning"
v=$(tshark -r "$TAP_TMP/wire.pcap" $D -V 2>/dev/null)
like "$v" "Payload: Security Association \(1\)" "on the wire: the phase 1 SA is decoded"
like "$v" "Payload: Key Exchange \(4\)" "on the wire: KE is decoded"

f() { tshark -r "$TAP_TMP/plain.pcap" $D -T fields -e "$1" 2>/dev/null | grep -v '^$' | tr '\n' ' '; }
bad=$(tshark -r "$TAP_TMP/plain.pcap" $D -Y '_ws.malformed || _ws.expert.severity >= warning' 2>/dev/null)
is "$bad" "" "plaintext pcap: no malformed packet, no warning"
is "$(f isakmp.exchangetype)" "2 2 32 32 32 32 " \
	"plaintext pcap: Main Mode 5-6 and the four GROUPKEY-PULL messages"
like "$(f isakmp.sak.spi)" "^[0-9a-f]{32} $" "plaintext: SA KEK decoded (its 16-byte SPI)"
like "$(f isakmp.sat.spi)" "^[0-9a-f]{8} $" "plaintext: SA TEK decoded (its SPI)"
like "$(f isakmp.kd.payload.type)" "^2,1 $" "plaintext: KD decoded (the KEK key packet first, then the TEK)"
is "$(f isakmp.seq.seq)" "0 " "plaintext: SEQ decoded"

# A rekey and its acknowledgement.
tshark -i lo -f "udp port $GKS_PORT" -w "$TAP_TMP/push.pcap" >"$TAP_TMP/tshark2.log" 2>&1 &
TSHARK=$!
tap_track_pid $TSHARK
wait_for 20 grep -q "Capturing on" "$TAP_TMP/tshark2.log"
"$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 1 --psk-file "$TAP_TMP/k.psk" \
	--local 127.0.0.21 --stay --json-events >"$TAP_TMP/m.log" 2>&1 &
MPID=$!
tap_track_pid $MPID
wait_for 20 grep -q '"event":"registered"' "$TAP_TMP/m.log"
ctl rekey group 1 >/dev/null
ok "the member acknowledges the rekey" wait_for 10 grep -q '"event":"ack_sent"' "$TAP_TMP/m.log"
sleep 0.5
kill -INT $TSHARK; wait $TSHARK 2>/dev/null
kill -TERM $MPID; wait $MPID 2>/dev/null
p() { tshark -r "$TAP_TMP/push.pcap" $D "$@" 2>/dev/null; }
is "$(p -Y 'isakmp.exchangetype >= 33 && ip.addr == 127.0.0.21' -T fields -e isakmp.exchangetype -e isakmp.flags | tr '\t\n' ', ')" "33,0x01 35,0x00 " \
	"on the wire: one push (exchange 33, encrypted) and one ACK (exchange 35, in clear)"
is "$(p -Y '_ws.malformed || _ws.expert.severity >= warning')" "" "on the wire: no malformed packet, no warning"
ack=$(p -Y 'isakmp.exchangetype == 35' -V)
like "$ack" "Payload: Hash \(8\)" "the ACK carries HASH"
is "$(p -Y 'isakmp.exchangetype == 35' -T fields -e isakmp.seq.seq)" "1" "the ACK carries SEQ 1"
like "$ack" "Payload: Identification \(5\)" "the ACK carries the member's ID"
is "$(f isakmp.exchangetype)" "2 2 32 32 32 32 2 2 32 32 32 32 33 " "plaintext pcap: the second registration and the push"
tap_done
