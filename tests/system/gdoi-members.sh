# SPDX-License-Identifier: BSD-2-Clause
# gdoi-members.sh: the key server's member bookkeeping (issue 13, items 9
# and 8), with the real member code.
# Item 9: after a registration "last ACK" is empty (gvpnctl, SNMP) until
# the member ACKs a push, even when the group's SEQ is above 0; an ACK
# for a SEQ never pushed, with a valid HASH under the member's own ACK
# key and from its own socket (tests/tools/gdoi_ack, core/gdoi/gm.c), is
# dropped and counted and sets nothing; a real ACK of a push does.
# Item 8: a member that registers again from a new source port keeps one
# entry (moved, counted); another identity behind the same address gets
# an entry of its own.
. "$srcdir/tests/lib/tap.sh"
need jq snmpget
tap_setup
plan 23
agent_write_gks_config
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false }/' "$CONF"
ok "the agent starts" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
T=$TAP_TMP
gstat() { ctl --json show groups | jq -r ".result.stats.$1"; }
member() { # member ADDR: the JSON of the members registered from ADDR
	ctl --json show registered-members | jq -c "[.result.members[] | select(.address == \"$1\")]"
}
last_ack_text() { # last_ack_text ADDR: the "last ACK" column of show registered-members
	ctl show registered-members | awk -v a="$1" 'index($2, a ":") == 1 { print $6 }'
}
snmp_env
last_ack_snmp() { # last_ack_snmp INDEX: gvpnMemberLastAckedSeq.1.INDEX
	snmp_v3 snmpget -Oqv ".1.3.6.1.4.1.32473.1.1.4.1.8.1.$1"
}
# Two ports free now and different from each other.
two_ports() {
	P1=$(free_port udp)
	P2=$(free_port udp)
	while [ "$P2" = "$P1" ]; do P2=$(free_port udp); done
}

# ---- item 9: "last ACK" ---------------------------------------------------------------
# A rekey before anyone registers: the group's SEQ is 1, so a "last ACK"
# set at registration would show.
like "$(ctl rekey group 1)" 'rekey SEQ 1 pushed' "the group's SEQ is 1 before the member registers"
two_ports
"$top_builddir/tests/tools/gdoi_ack" "127.0.0.1:$GKS_PORT" 1 "$T/k.psk" "127.0.0.7:$P1" >"$T/ack.log" 2>&1 &
ACK_PID=$!
tap_track_pid $ACK_PID
ok "the member (gdoi_ack, core/gdoi/gm.c) registers with SEQ 1" wait_for 20 grep -q '"event":"registered","seq":1,' "$T/ack.log" ||
	cat "$T/ack.log"
idx=$(member 127.0.0.7 | jq '.[0].index')
is "$(member 127.0.0.7 | jq -c '.[0] | [.port, .last_acked_seq, .rekeys_sent]')" "[$P1,0,0]" \
	"show registered-members --json: port $P1, last_acked_seq 0, nothing sent"
is "$(last_ack_text 127.0.0.7)" "-" "show registered-members: last ACK '-' (none)"
is "$(last_ack_snmp "$idx")" 0 "SNMP gvpnMemberLastAckedSeq.1.$idx: 0 (none)"

# Its HASH spoilt: the server finds the member and its KEK, and the HASH
# fails (this shows the forged ACKs reach it as the member's own).
bad0=$(gstat drop_ack_bad); unk0=$(gstat drop_ack_unknown); acks0=$(gstat acks)
kill -USR1 $ACK_PID
ok "an ACK from the member's socket with a spoilt HASH fails to verify (drop_ack_bad $bad0 -> +1)" \
	wait_for 10 sh -c "[ \$('$top_builddir/gvpnctl' -s '$CTL_SOCK' --json show groups | jq .result.stats.drop_ack_bad) -eq $((bad0 + 1)) ]"
# The same with a valid HASH, for SEQ 2: never pushed.
kill -USR2 $ACK_PID
ok "the ACK of SEQ 2 (never pushed) with a valid HASH is dropped: drop_ack_unknown $unk0 -> +1" \
	wait_for 10 sh -c "[ \$('$top_builddir/gvpnctl' -s '$CTL_SOCK' --json show groups | jq .result.stats.drop_ack_unknown) -eq $((unk0 + 1)) ]"
is "$(grep -c '"event":"forged_ack","hash":"[a-z]*","seq":2}' "$T/ack.log")" 2 "gdoi_ack sent both forged ACKs (SEQ 2), no error"
is "$(gstat drop_ack_bad)/$(gstat acks)" "$((bad0 + 1))/$acks0" "its HASH verified (drop_ack_bad unchanged) and it was not counted as an ACK"
is "$(member 127.0.0.7 | jq -c '.[0].last_acked_seq')/$(last_ack_text 127.0.0.7)/$(last_ack_snmp "$idx")" "0/-/0" \
	"last ACK still none (JSON 0, gvpnctl '-', SNMP 0)"

# A real push and its real ACK.
like "$(ctl rekey group 1)" 'rekey SEQ 2 pushed' "a rekey pushes SEQ 2 to the member"
ok "the member ACKs it" wait_for 20 grep -q '"event":"ack_sent","seq":2,' "$T/ack.log"
ok "the agent counts that ACK: last_acked_seq 2" \
	wait_for 10 sh -c "[ \"\$('$top_builddir/gvpnctl' -s '$CTL_SOCK' --json show registered-members | jq -c '[.result.members[] | select(.address == \"127.0.0.7\")][0] | [.last_acked_seq, .rekeys_acked]')\" = '[2,1]' ]"
is "$(last_ack_text 127.0.0.7)/$(last_ack_snmp "$idx")/$(gstat acks)" "2/2/$((acks0 + 1))" \
	"gvpnctl and SNMP show last ACK 2; acks +1"
# After the push: an ACK for the next SEQ, not pushed either.
unk1=$(gstat drop_ack_unknown)
kill -USR2 $ACK_PID
ok "a valid ACK of SEQ 3 (not pushed) is dropped too: drop_ack_unknown +1" \
	wait_for 10 sh -c "[ \$('$top_builddir/gvpnctl' -s '$CTL_SOCK' --json show groups | jq .result.stats.drop_ack_unknown) -eq $((unk1 + 1)) ]"
is "$(member 127.0.0.7 | jq -c '.[0].last_acked_seq')/$(gstat acks)/$(gstat drop_ack_bad)" "2/$((acks0 + 1))/$((bad0 + 1))" \
	"last ACK stays 2, no ACK counted, its HASH verified"
kill -TERM $ACK_PID

# ---- item 8: one entry per member, whatever its port -------------------------------------
member_run() { # member_run LOCAL [OPTIONS...]: registers once and exits
	"$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 1 --psk-file "$T/k.psk" \
		--ike aes256-sha256-ecp256 --local "$@"
}
two_ports
moved0=$(gstat members_moved)
ok "a member registers from 127.0.0.5:$P1" member_run "127.0.0.5:$P1"
first=$(member 127.0.0.5 | jq -c '.[0] | [.index, .port, .registrations]')
ok "... and registers again from a new port, $P2" member_run "127.0.0.5:$P2"
is "$(member 127.0.0.5 | jq -c 'map([.index, .port, .registrations])')" \
	"[[$(printf '%s' "$first" | jq '.[0]'),$P2,2]]" \
	"one entry ($first before): the same index, now at port $P2, 2 registrations"
is "$(gstat members_moved)" $((moved0 + 1)) "members_moved $moved0 -> $((moved0 + 1))"
P3=$(free_port udp)
ok "another identity behind the same address registers (port $P3)" member_run "127.0.0.5:$P3" --identity other.example
is "$(member 127.0.0.5 | jq -c 'map([.identity, .port]) | sort') $(gstat members_moved)" \
	"[[\"127.0.0.5\",$P2],[\"other.example\",$P3]] $((moved0 + 1))" \
	"it gets an entry of its own; members_moved stays $((moved0 + 1))"
agent_stop
tap_done
