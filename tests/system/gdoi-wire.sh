# gdoi-wire.sh: tshark agrees with the wire format. A registration is
# captured on the loopback interface and decoded (Main Mode and the
# encrypted GROUPKEY-PULL); the agent's plaintext debug pcap of the same
# exchange shows the GDOI payloads (SA KEK, SA TEK, KD, SEQ). Neither has a
# malformed-packet or warning-level expert item.
. "$srcdir/tests/lib/tap.sh"
need tshark
[ "$(id -u)" -eq 0 ] || skip_all "capturing on lo needs root"
tap_setup
plan 12
agent_write_gks_config "\"debug_pcap\": \"plain.pcap\""
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
wire=$(tshark -r "$TAP_TMP/wire.pcap" $D -T fields -e isakmp.exchangetype 2>/dev/null)
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
like "$(f isakmp.kd.payload.type)" "^1,2 $" "plaintext: KD decoded (a TEK and a KEK key packet)"
is "$(f isakmp.seq.seq)" "0 " "plaintext: SEQ decoded"
tap_done
