# SPDX-License-Identifier: BSD-2-Clause
# gdoi-races.sh: a rekey between GROUPKEY-PULL messages 2 and 4 of a real
# gvpn-member's registration (issue 13, item 1). A relay (gdoi_relay)
# between the member and the agent holds the agent's message 2 while a
# hook forces a rekey (gvpnctl rekey group 1) and waits for it; only then
# does the member see message 2 and send message 3. The member must end
# up with keys that match what the agent pushes: it takes the rekey that
# overtook its registration and the next one, ACKs both, and stays.
# Before the fix message 4 carried the new keys under message 2's old
# SA, and the member could open none of the next pushes.
. "$srcdir/tests/lib/tap.sh"
need jq
tap_setup
plan 15
agent_write_gks_config
# No membership rekey: the only rekeys are the two this test asks for.
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false }/' "$CONF"
ok "the agent starts" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
T=$TAP_TMP
RELAY_PORT=$(free_port udp)

# The hook runs while message 2 is held: the keys before, the rekey, the
# wait until the agent lists it, the keys after.
cat >"$T/hook.sh" <<EOF
ctl() { "$top_builddir/gvpnctl" -s "$CTL_SOCK" "\$@"; }
ctl --json show sa >"$T/before.json" || exit 1
ctl rekey group 1 >"$T/rekey.out" 2>&1 || exit 1
i=0
until ctl --json show rekeys | grep -q '"reason":"manual"'; do
	i=\$((i + 1)); [ \$i -lt 100 ] || exit 1; sleep 0.1
done
ctl --json show sa >"$T/after.json"
EOF
"$top_builddir/tests/tools/gdoi_relay" "127.0.0.1:$RELAY_PORT" "127.0.0.1:$GKS_PORT" "sh $T/hook.sh" >"$T/relay.log" 2>&1 &
tap_track_pid $!
# A per-try timeout well beyond the hook's time: no message 1 is sent again.
"$top_builddir/gvpn-member" --server "127.0.0.1:$RELAY_PORT" --group 1 --psk-file "$T/k.psk" --local 127.0.0.2 \
	--ike aes256-sha256-ecp256 --timeout 30000 --stay --json-events >"$T/m.log" 2>&1 &
tap_track_pid $!
ok "the member registers through the relay" wait_for 40 grep -q '"event":"registered"' "$T/m.log" ||
	{ cat "$T/m.log" "$T/relay.log"; }

# The order on the wire: message 2 held, the hook done, then message 3
# and message 4 of the same exchange.
order=$(awk '
	/^held s>m 32 / { id = $4; step = 1; next }
	step == 1 && /^hook exit 0$/ { step = 2; next }
	step == 2 && $1 == "m>s" && $2 == 32 && $3 == id { step = 3; next }
	step == 3 && $1 == "s>m" && $2 == 32 && $3 == id { step = 4; next }
	END { print step + 0 }' "$T/relay.log")
is "$order" 4 "relay: message 2 held, the hook ran, then messages 3 and 4 (step $order of 4)" ||
	sed 's/^/#   /' "$T/relay.log"
like "$(cat "$T/rekey.out" 2>/dev/null)" 'rekey SEQ 1 pushed' "the hook forced a rekey (SEQ 1) while message 2 was held"
tek0=$(jq -r '.result.groups[0].teks[0].spi' "$T/before.json" 2>/dev/null)
tek1=$(jq -r '.result.groups[0].teks[0].spi' "$T/after.json" 2>/dev/null)
kek0=$(jq -r '.result.groups[0].kek.spi' "$T/before.json" 2>/dev/null)
kek1=$(jq -r '.result.groups[0].kek.spi' "$T/after.json" 2>/dev/null)
ok "the rekey replaced the KEK ($kek0 -> $kek1) and the TEK ($tek0 -> $tek1)" \
	sh -c "[ -n '$tek0' ] && [ '$tek0' != null ] && [ -n '$tek1' ] && [ '$tek1' != '$tek0' ] && [ '$kek1' != '$kek0' ]"
reg=$(grep '"event":"registered"' "$T/m.log" | head -1)
is "$(printf '%s' "$reg" | jq -r '[.policy.seq, .policy.kek.spi, .policy.teks[0].spi] | join(" ")')" "0 $kek0 $tek0" \
	"message 2 and 4 gave the keys of before the rekey, consistently (SEQ 0, KEK $kek0, TEK $tek0)"
stats() { ctl --json show groups | jq -r ".result.stats.$1"; }
is "$(stats catch_ups)" 1 "the agent saw the registration span the rekey (catch_ups 1)"
ok "the member takes the rekey that overtook its registration (SEQ 1) and ACKs it" \
	wait_for 20 sh -c "grep -q '\"event\":\"push_received\",.*\"seq\":1,\"kind\":\"rekey\"' '$T/m.log' &&
		grep -q '\"event\":\"ack_sent\",.*\"seq\":1,' '$T/m.log'"
like "$(grep '"event":"kek_replaced"' "$T/m.log" | head -1)" "\"old_spi\":\"$kek0\",\"new_spi\":\"$kek1\"" \
	"the member moved from the old KEK to the rekey's"
round_of() { ctl --json show rekeys | jq -c "[.result[] | select(.seq == $1)] | last | [.targeted, .acked, .removed, .done]"; }
ok "the agent's round for SEQ 1 completes: 1 targeted, 1 acked, 0 removed" wait_for 20 sh -c "[ \"\$('$top_builddir/gvpnctl' -s '$CTL_SOCK' --json show rekeys | jq -c '[.result[] | select(.seq == 1)] | last | [.targeted, .acked, .removed, .done]')\" = '[1,1,0,true]' ]" ||
	ctl show rekeys | sed 's/^/#   /'

# The next rekey is under the keys the member now holds.
like "$(ctl rekey group 1)" 'rekey SEQ 2 pushed' "a second rekey goes out (SEQ 2)"
ok "the member opens and ACKs it" wait_for 20 sh -c "grep -q '\"event\":\"push_received\",.*\"seq\":2,\"kind\":\"rekey\"' '$T/m.log' &&
		grep -q '\"event\":\"ack_sent\",.*\"seq\":2,' '$T/m.log'"
ok "the agent's round for SEQ 2 completes: 1 targeted, 1 acked, 0 removed" wait_for 20 sh -c "[ \"\$('$top_builddir/gvpnctl' -s '$CTL_SOCK' --json show rekeys | jq -c '[.result[] | select(.seq == 2)] | last | [.targeted, .acked, .removed, .done]')\" = '[1,1,0,true]' ]" ||
	{ round_of 2; ctl show rekeys | sed 's/^/#   /'; }
unlike "$(cat "$T/m.log")" '"event":"(push_rejected|kek_missing|heartbeat_lost|reregistered)"' \
	"the member rejected no push and never lost its registration"
is "$(ctl --json show groups | jq -c '[.result.groups[0].members, .result.stats.members_removed, .result.stats.registrations]')" \
	"[1,0,1]" "the agent keeps the member: 1 member, 0 removed, 1 registration"
agent_stop
tap_done
