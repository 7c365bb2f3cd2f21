# SPDX-License-Identifier: BSD-2-Clause
# gdoi-attack.sh: the key server attacked from outside (issue 13, items
# 4-7), the real agent on loopback, real gvpn-member processes as the
# victims, tests/tools/gdoi_attack as the attacker; sources anywhere in
# 127/8 stand for spoofed addresses.
#  4. Blind message 1+3 pairs (responder cookie zero or guessed) from
#     300 addresses cost no Diffie-Hellman (dh_computed) and no half-open
#     slot; a member registers after them. A victim's captured messages
#     1, 3 and 5 replayed to a fresh responder: message 1 gets a new
#     cookie, messages 3 and 5 no answer, no DH, no refusal event.
#  5. Datagrams injected into a victim's exchange through a relay (from
#     the victim's own address and port): a message 3 without KE before
#     the victim's, 64 random bytes before its message 5, its message 1
#     from another address. The victim registers each time; the drop is
#     counted.
#  6. Message 1s from 700 addresses take no half-open slot; embryonic
#     exchanges stay at max_half_open, the oldest evicted; a member
#     registers while the flood goes on.
#  7. Thousands of junk datagrams and ACKs that do not verify log a few
#     lines, then "N similar messages ... suppressed" (the counts add up
#     to what was sent); repeated wrong PSKs from one address give three
#     refusal events, the rest aggregated, then a back-off (its message
#     3s dropped and counted); other addresses are not affected.
. "$srcdir/tests/lib/tap.sh"
need jq
tap_setup
plan 70
GKS_PORT=$(free_port udp)
SRV=127.0.0.1:$GKS_PORT
agent_write_config "\"group_vpn_server\": {
    \"listen\": \"$SRV\", \"max_half_open\": 1000,
    \"groups\": [ { \"name\": \"g1\", \"group_id\": 1,
        \"server_member_communication\": { \"communication_type\": \"unicast\", \"membership_rekey\": false,
          \"encryption_algorithm\": \"aes-256-cbc\", \"sig_hash_algorithm\": \"sha-256\" },
        \"ipsec_sa\": [ { \"name\": \"sa1\", \"match\": { \"source\": \"10.1.0.0/16\", \"destination\": \"10.2.0.0/16\" } } ],
        \"members\": [ { \"address\": \"127.0.0.0/8\", \"psk\": \"k\" } ] } ] }"
cat >"$SECRETS" <<JSON
{ "snmp_users": { "tester": { "auth_passphrase": "tester-auth-1", "priv_passphrase": "tester-priv-1" } },
  "psk": { "k": "attack test key" } }
JSON
chmod 600 "$SECRETS"
printf 'attack test key\n' >"$TAP_TMP/k.psk"
printf 'not the group key\n' >"$TAP_TMP/bad.psk"
chmod 600 "$TAP_TMP"/*.psk
ATTACK=$top_builddir/tests/tools/gdoi_attack
LOG=$TAP_TMP/agent.log

st() { ctl --json show groups | jq -r ".result.stats.$1 // -1"; }
st_gt() { [ "$(st "$1")" -gt "$2" ]; }
# register LOCAL [gvpn-member options]: one registration (SERVER and PSK
# may name another server address or key file).
register() {
	local addr=$1; shift
	"$top_builddir/gvpn-member" --server "${SERVER:-$SRV}" --group 1 --psk-file "${PSK:-$TAP_TMP/k.psk}" \
		--local "$addr" "$@" 2>&1
}
# refusal_events ADDR: REGISTRATION_REFUSED events naming ADDR.
refusal_events() {
	ctl --json show events | jq "[.. | objects | select(.msgid? == \"REGISTRATION_REFUSED\" and .params.member == \"$1\")] | length"
}
# relay_start MODE BACK_ADDR OTHER_ADDR [DIR]: the relay in front of the
# server (FRONT); the server sees the member at BACK_ADDR:BACK_PORT.
relay_start() {
	FRONT=$(free_port udp)
	BACK_PORT=$(free_port udp)
	"$ATTACK" relay "$SRV" "127.0.0.1:$FRONT" "$2:$BACK_PORT" "$3" "$1" ${4:+"$4"} >"$TAP_TMP/relay.out" 2>&1 &
	RELAY_PID=$!
	tap_track_pid $RELAY_PID
	wait_for 10 grep -q "relay: ready" "$TAP_TMP/relay.out"
}
relay_stop() {
	kill -TERM "$RELAY_PID"
	wait "$RELAY_PID"
	RELAY_OUT=$(cat "$TAP_TMP/relay.out")
}

ok "the agent starts" agent_start || { cat "$LOG"; exit 1; }

# ---- 4: blind message 1+3 pairs ----
out=$("$ATTACK" blind "$SRV" 127.10.0.1 300 2>&1)
is "$out" "blind: 300 sources, 300 message 2s received, 600 message 3s sent without our cookie (300 zero, 300 guessed), 0 answered" \
	"blind pairs from 300 addresses: each message 1 answered, none of the 600 message 3s"
is "$(st dh_computed)" 0 "the blind message 3s cost no Diffie-Hellman"
is "$(st half_open)" 0 "and take no half-open slot"
is "$(st drop_malformed)" 300 "the 300 with a zero responder cookie are dropped and counted (drop_malformed)"
is "$(st drop_unknown_sa)" 300 "the 300 with a guessed cookie are dropped and counted (drop_unknown_sa)"
like "$(register 127.0.1.1)" "^127.0.1.1: registered" "a member registers after the blind flood"
is "$(st dh_computed)" 1 "its message 3 is the only one that made a Diffie-Hellman"

# ---- 5: datagrams injected into a victim's exchange ----
reg=$(st registrations) mal=$(st drop_malformed) dh=$(st dh_computed)
relay_start msg3-noke 127.0.5.1 127.0.5.2
out=$(SERVER=127.0.0.1:$FRONT register 127.0.5.3)
relay_stop
like "$RELAY_OUT" "injected: a message 3 without KE" "a message 3 without KE is injected from the victim's address and port"
like "$out" "^127.0.5.3: registered" "the victim still registers"
is "$(st registrations)" $((reg + 1)) "the registration is counted"
ok "the injected message 3 is dropped and counted (drop_malformed)" test "$(st drop_malformed)" -gt "$mal"
is "$(st dh_computed)" $((dh + 1)) "only the victim's own message 3 made a Diffie-Hellman"

reg=$(st registrations) mal=$(st drop_malformed) refused=$(st refused)
relay_start msg5-noise 127.0.5.11 127.0.5.12
out=$(SERVER=127.0.0.1:$FRONT register 127.0.5.13)
relay_stop
like "$RELAY_OUT" "injected: 64 random bytes flagged encrypted" "64 random bytes are injected before the victim's message 5"
like "$out" "^127.0.5.13: registered" "the victim still registers"
is "$(st registrations)" $((reg + 1)) "the registration is counted"
ok "the injected message 5 is dropped and counted (drop_malformed)" test "$(st drop_malformed)" -gt "$mal"
is "$(st refused)" "$refused" "no refusal counted"
is "$(refusal_events 127.0.5.11)" 0 "no refusal (wrong PSK) event against the victim's address"

reg=$(st registrations)
relay_start msg1-elsewhere 127.0.5.21 127.0.5.22
out=$(SERVER=127.0.0.1:$FRONT register 127.0.5.23)
relay_stop
like "$RELAY_OUT" "injected: the member's message 1 again from another address" "the victim's message 1 is replayed from another address"
like "$RELAY_OUT" "other: answered with responder cookie ([0-9a-f]{16}), the member's is [0-9a-f]{16}" \
	"the replay gets an exchange of its own"
c=$(printf '%s\n' "$RELAY_OUT" | sed -n 's/^other: answered with responder cookie \([0-9a-f]*\), the member.s is \([0-9a-f]*\)$/\1 \2/p')
ok "with a cookie other than the victim's (exchanges told apart by address and port too)" \
	test -n "$c" -a "${c% *}" != "${c#* }"
like "$out" "^127.0.5.23: registered" "the victim still registers"
is "$(st registrations)" $((reg + 1)) "the registration is counted"

# ---- 4: a victim's exchange captured, replayed to a fresh responder ----
mkdir "$TAP_TMP/capture"
relay_start pass 127.0.5.31 127.0.5.32 "$TAP_TMP/capture"
out=$(SERVER=127.0.0.1:$FRONT register 127.0.5.33)
relay_stop
like "$out" "^127.0.5.33: registered" "a victim registers through a capturing relay"
is "$(printf '%s\n' "$RELAY_OUT" | grep -c '^captured: message [135] ')" 3 "its messages 1, 3 and 5 are captured"
agent_stop
ok "the agent restarts (a fresh responder)" agent_start || { cat "$LOG"; exit 1; }
out=$("$ATTACK" replay "$SRV" "127.0.5.31:$BACK_PORT" "$TAP_TMP/capture" 2>&1)
like "$out" "replay: message 1 answered with a new responder cookie" \
	"the replayed message 1 starts a new exchange with a new cookie"
like "$out" "replay: 8 captured message 3s and 5s sent, 0 answered" \
	"the captured message 3 and 5, as they were and with a zero cookie, twice each: not answered"
is "$(st dh_computed)" 0 "the replay costs no Diffie-Hellman"
is "$(st drop_unknown_sa)" 4 "the four with the captured cookie are dropped as unknown SA"
is "$(st drop_malformed)" 4 "the four with a zero cookie are dropped and counted"
is "$(st refused)" 0 "the replayed message 5 is no refusal"
is "$(refusal_events 127.0.5.31)" 0 "and no wrong-PSK event against the victim's address"

# ---- 7: junk and ACKs that do not verify: a few log lines ----
like "$(register 127.0.8.1)" "^127.0.8.1: registered" "a member registers (its address will send bad ACKs)"
mport=$(ctl --json show registered-members | jq -r '.. | objects | select(.address? == "127.0.8.1") | .port' | head -1)
spi=$(ctl --json show groups | jq -r '.result.groups[0].kek.spi' | sed 's/^0x//')
like "$mport:$spi" "^[0-9]+:[0-9a-f]{32}$" "its port and the group's KEK SPI are known"
lines=$(wc -l <"$LOG") mal=$(st drop_malformed)
out=$("$ATTACK" junk "$SRV" 127.0.8.2 3000 2>&1)
is "$out" "junk: 3000 datagrams that do not parse" "3000 junk datagrams sent"
is "$(st drop_malformed)" $((mal + 3000)) "all dropped and counted"
out=$("$ATTACK" acks "$SRV" "127.0.8.1:$mport" "$spi" 3000 2>&1)
is "$out" "acks: 3000 ACKs whose HASH does not verify, 0 answered" "3000 ACKs with a bad HASH sent from the member's address and port"
is "$(st drop_ack_bad)" 3000 "all dropped and counted (drop_ack_bad)"
added=$(( $(wc -l <"$LOG") - lines ))
ok "6000 bad datagrams add only a few log lines ($added)" test "$added" -le 25
nack=$(grep -Ec "gks: ACK from 127.0.8.1:[0-9]+ with a HASH that does not verify: dropped" "$LOG")
ok "ACKs that do not verify are logged a few times ($nack), not 3000" test "$nack" -ge 1 -a "$nack" -le 15
ACKS_SENT=3000
ACK_T0=$(date +%s)

# ---- 6: message 1s from 700 addresses ----
ev=$(st embryonic_evicted)
"$ATTACK" flood1 "$SRV" 127.20.0.1 700 1000 >"$TAP_TMP/flood.out" 2>&1 &
FLOOD_PID=$!
tap_track_pid $FLOOD_PID
ok "message 1s from 700 addresses fill the embryonic table: the oldest are evicted" \
	wait_for 60 st_gt embryonic_evicted "$ev"
is "$(st embryonic)" 1000 "embryonic exchanges stay at max_half_open (1000)"
is "$(st half_open)" 0 "message 1s take no half-open slot"
like "$(register 127.0.9.1)" "^127.0.9.1: registered" "a member registers during the flood"
ev=$(st embryonic_evicted)
ok "the flood goes on after the registration" wait_for 30 st_gt embryonic_evicted "$ev"
kill -TERM "$FLOOD_PID"
wait "$FLOOD_PID"
out=$(cat "$TAP_TMP/flood.out")
like "$out" "flood1: [0-9]+ message 1s from 700 addresses" "the flood came from 700 addresses"
n=$(printf '%s\n' "$out" | sed -n 's/^flood1: \([0-9]*\) message 1s.*/\1/p')
ok "more message 1s ($n) than max_half_open" test "${n:-0}" -gt 1000
is "$(st half_open)" 0 "no half-open exchange is left"
is "$(st drop_half_open)" 0 "and none was refused for want of a slot"

# ---- 7: wrong PSKs from one address ----
fails=0
for i in 1 2 3 4 5; do
	out=$(PSK=$TAP_TMP/bad.psk register 127.0.7.1 --timeout 500 --retries 3)
	case $out in *AUTHENTICATION-FAILED*) fails=$((fails + 1)) ;; *) diag "try $i: $out" ;; esac
done
is "$fails" 5 "five registrations with a wrong PSK from 127.0.7.1 are refused (AUTHENTICATION-FAILED)"
is "$(st refused)" 5 "five refusals counted"
is "$(refusal_events 127.0.7.1)" 3 "three refusal events for the address"
is "$(st refusals_aggregated)" 2 "the other two aggregated (summed into one event at the end of the minute)"
is "$(grep -c 'gks: registration from 127.0.7.1 refused' "$LOG")" 3 "three refusal log lines"
is "$(st backoffs)" 1 "five failed authentications back the address off"
like "$(cat "$LOG")" "127.0.7.1: 5 failed authentications within 60 s: no new exchange from it for 10 s" "the back-off is logged"
out=$(PSK=$TAP_TMP/bad.psk register 127.0.7.1 --timeout 500 --retries 2)
like "$out" "no answer from the key server" "a sixth try from the address gets no answer to its message 3"
ok "its message 3s are dropped and counted (drop_backoff)" test "$(st drop_backoff)" -ge 1
is "$(st refused)" 5 "and refused no more"
like "$(register 127.0.7.2)" "^127.0.7.2: registered" "a member at another address registers meanwhile"
out=$(PSK=$TAP_TMP/bad.psk register 127.0.7.3 --timeout 500 --retries 3)
like "$out" "AUTHENTICATION-FAILED" "a wrong PSK from a third address is refused as usual"
is "$(refusal_events 127.0.7.3)" 1 "with its own refusal event"

# ---- 7: after the log window, the suppressed ACK lines are counted ----
suppressed() { grep -c "similar messages (ACKs that do not verify) suppressed" "$LOG"; }
# One more bad ACK a second until the 10 s window has passed (at most 60 s).
deadline=$(( $(date +%s) + 60 ))
while [ "$(suppressed)" -eq 0 ] && [ "$(date +%s)" -lt "$deadline" ]; do
	"$ATTACK" acks "$SRV" "127.0.8.1:$mport" "$spi" 1 >/dev/null 2>&1 && ACKS_SENT=$((ACKS_SENT + 1))
	sleep 1
done
diag "the summary came $(( $(date +%s) - ACK_T0 )) s after the ACK flood, after $((ACKS_SENT - 3000)) more ACKs"
ok "a later bad ACK brings an \"N similar messages (ACKs that do not verify) suppressed\" line" test "$(suppressed)" -ge 1
is "$(st drop_ack_bad)" "$ACKS_SENT" "every bad ACK counted"
logged=$(grep -Ec "gks: ACK from 127.0.8.1:[0-9]+ with a HASH that does not verify: dropped" "$LOG")
summed=$(sed -n 's/.* \([0-9][0-9]*\) similar messages (ACKs that do not verify) suppressed.*/\1/p' "$LOG" | awk '{s += $1} END {print s + 0}')
is "$((logged + summed))" "$ACKS_SENT" "the ACK lines logged ($logged) and suppressed ($summed) add up to the ACKs sent"
ok "the agent is still running" kill -0 "$AGENT_PID"
unlike "$(cat "$LOG")" "AddressSanitizer|runtime error|LeakSanitizer" "no sanitizer report"
agent_stop
is "$AGENT_RC" 0 "SIGTERM: exit 0"
tap_done
