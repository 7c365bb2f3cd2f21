# SPDX-License-Identifier: BSD-2-Clause
# gdoi-fanout.sh: a unicast rekey to a few thousand real members (issue
# 13, item 10). The agent runs without CAP_NET_ADMIN, as the systemd unit
# runs it, so its receive buffer is what net.core.rmem_max allows: when
# that is below what it asks for, it says so (how big, and how many
# copies go out at a time). The members (gvpn-member --count N --stay,
# one process) all take the push and ACK it; the round completes with
# every member's ACK, no retransmission and no datagram dropped by the
# kernel (SO_RXQ_OVFL), in batches the agent counts (fan_pauses) when the
# group is bigger than one batch. Then, as a control, the agent is
# stopped while junk fills its socket: the kernel-drop counter must rise.
# N is FANOUT_MEMBERS, or by default one batch plus 500 (2,000 to 6,000).
# Nothing about time is asserted.
. "$srcdir/tests/lib/tap.sh"
need jq
tap_setup
plan 15
T=$TAP_TMP
agent_write_gks_config "\"max_half_open_per_peer\": 64, \"max_half_open\": 20000"
# Only the rekey under test; a retransmission period as long as allowed:
# a slow machine takes its time, a lost ACK still shows as a retransmission.
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false, "retransmission_period": 60 }/' "$CONF"
ASKED=8388608   # GKS_SOCKBUF in core/gdoi/gks.c: the receive buffer the key server asks for
RMEM_MAX=$(cat /proc/sys/net/core/rmem_max)
stats() { ctl --json show groups | jq -c ".result.stats | [$1]"; }
gstat() { ctl --json show groups | jq -r ".result.stats.$1"; }
# The kernel's own count of datagrams dropped on the agent's socket (the
# SO_RXQ_OVFL figure comes from the same counter).
udp_drops() { awk -v a="$(printf '0100007F:%04X' "$GKS_PORT")" '$2 == a { print $NF }' /proc/net/udp; }
# SO_RXQ_OVFL comes with datagrams: the agent learns the count from the
# next one it reads. probe sends one (junk) and waits until it is read.
probe() {
	local m
	m=$(gstat drop_malformed)
	"$top_builddir/tests/tools/gdoi_flood" 127.0.0.1 "$GKS_PORT" 0 1
	wait_for 10 sh -c "[ \$('$top_builddir/gvpnctl' -s '$CTL_SOCK' --json show groups | jq .result.stats.drop_malformed) -gt $m ]"
}
warned() { grep -c 'warning gks: udp .*: receive buffer .* below the .* asked for' "$T/agent.log"; }

# ---- the receive buffer ------------------------------------------------------------------
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	ok "as root (CAP_NET_ADMIN) the agent starts" agent_start || { cat "$T/agent.log"; exit 1; }
	is "$(gstat rcvbuf_bytes)/$(warned)" "$((2 * ASKED))/0" \
		"... with the receive buffer it asks for (the kernel reports twice $ASKED), no warning"
	agent_stop
	AGENT_WRAPPER="setpriv --inh-caps=-net_admin --bounding-set=-net_admin"
else
	ok "as root: skipped, not root # SKIP" true
	ok "full receive buffer: skipped, not root # SKIP" true
fi
ok "without CAP_NET_ADMIN the agent starts" agent_start || { cat "$T/agent.log"; exit 1; }
[ "$RMEM_MAX" -lt "$ASKED" ] && want=$RMEM_MAX || want=$ASKED
rcvbuf=$(gstat rcvbuf_bytes)
is "$rcvbuf" $((2 * want)) "receive buffer: what net.core.rmem_max ($RMEM_MAX) allows of $ASKED (reported doubled)"
BATCH=$((rcvbuf / 2 / 1024))
[ $BATCH -ge 64 ] || BATCH=64
if [ "$RMEM_MAX" -lt "$ASKED" ]; then
	like "$(grep 'warning gks: udp' "$T/agent.log")" \
		"receive buffer $RMEM_MAX bytes, below the $ASKED asked for \\(net.core.rmem_max, and no CAP_NET_ADMIN\\): unicast rekeys go out $BATCH copies at a time" \
		"the agent warns: buffer $RMEM_MAX below $ASKED, $BATCH copies at a time"
else
	is "$(warned)" 0 "net.core.rmem_max ($RMEM_MAX) allows what it asks: no warning"
fi

# ---- members ---------------------------------------------------------------------------------
N=${FANOUT_MEMBERS:-$((BATCH + 500))}
[ "$N" -ge 2000 ] || N=2000
[ -n "${FANOUT_MEMBERS:-}" ] || [ "$N" -le 6000 ] || N=6000
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge $((N + 64)) ] || ulimit -Hn $((N + 64)) 2>/dev/null ||
	skip_all "$N members need $((N + 64)) open files; the hard limit is $(ulimit -Hn)"
diag "$N members, fan-out batch $BATCH copies (receive buffer $rcvbuf)"
"$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 1 --psk-file "$T/k.psk" \
	--local 127.20.0.1 --count "$N" --timeout 5000 --retries 5 --ike aes256-sha256-ecp256 \
	--stay --json-events >"$T/m.log" 2>"$T/m.err" &
MPID=$!
tap_track_pid $MPID
members() { ctl --json show groups | jq '.result.groups[0].members'; }
# Until all have registered, or 60 s pass without one more.
last=-1; still=0
while :; do
	have=$(members)
	[ "$have" -ge "$N" ] && break
	kill -0 $MPID 2>/dev/null || break
	if [ "$have" = "$last" ]; then still=$((still + 1)); [ $still -lt 300 ] || break; else still=0; fi
	last=$have
	sleep 0.2
done
is "$(members)/$(gstat registrations)" "$N/$N" "all $N members registered, once each"
diag "registration: $(stats '.rx_kernel_drops, .refused, .drop_half_open, .expired') kernel drops, refused, over half-open, expired"

# ---- the round ---------------------------------------------------------------------------------
before=$(stats '.retransmissions, .rx_kernel_drops, .fan_pauses, .acks')
rekey=$(ctl rekey group 1)
seq=$(printf '%s' "$rekey" | sed -n 's/.*rekey SEQ \([0-9]*\) pushed.*/\1/p')
like "$seq" '^[0-9]+$' "a rekey goes out to them (SEQ $seq)"
round() { ctl --json show rekeys | jq -c "[.result[] | select(.seq == ${seq:-0})] | last | [.targeted, .acked, .removed, .done]"; }
# Until the round is done, or a copy is sent again (a lost ACK), or 300 s.
i=0
while [ $i -lt 1500 ]; do
	[ "$(round | jq '.[3]')" = true ] && break
	[ "$(gstat retransmissions)" = "$(printf '%s' "$before" | jq '.[0]')" ] || break
	sleep 0.2; i=$((i + 1))
done
probe
after=$(stats '.retransmissions, .rx_kernel_drops, .fan_pauses, .acks')
delta() { jq -n --argjson a "$before" --argjson b "$after" "\$b[$1] - \$a[$1]"; }
is "$(round)" "[$N,$N,0,true]" "the round completes: $N targeted, $N acked, 0 removed"
is "$(delta 0)" 0 "no retransmission"
is "$(delta 1)/$(udp_drops)" 0/0 "no datagram dropped by the kernel on the agent's socket (rx_kernel_drops, SO_RXQ_OVFL; /proc/net/udp)"
is "$(delta 3)" "$N" "the agent counted $N ACKs"
pauses=$(delta 2)
if [ "$N" -gt "$BATCH" ]; then
	ok "the copies went out in batches of $BATCH: $pauses fan-out pauses (at least $(( (N - 1) / BATCH )))" \
		test "$pauses" -ge $(( (N - 1) / BATCH ))
else
	is "$pauses" 0 "$N members fit in one batch of $BATCH: no fan-out pause"
fi
diag "round: $(ctl --json show rekeys | jq -c "[.result[] | select(.seq == ${seq:-0})] | last | {duration_ms}"), fan_pauses +$pauses"
kill -TERM $MPID
wait $MPID 2>/dev/null
summary=$(grep '"event":"summary"' "$T/m.log")
is "$(printf '%s' "$summary" | jq -c '[.still_registered, .rekeys, .acks_sent, .rejected_replay + .rejected_sig + .rejected_unknown_kek + .rejected_other]')" \
	"[$N,$N,$N,0]" "every member took the rekey and ACKed it, none rejected a push, all still registered"

# ---- control: the kernel-drop counter can count ------------------------------------------------
kill -STOP "$AGENT_PID"
"$top_builddir/tests/tools/gdoi_flood" 127.0.0.1 "$GKS_PORT" 0 $((4 * rcvbuf / 512 + 1000))
kill -CONT "$AGENT_PID"
drops=$(udp_drops)
ok "with the agent stopped, junk overflowed its socket: the kernel dropped $drops" test "${drops:-0}" -gt 0
probe
is "$(gstat rx_kernel_drops)" "$drops" "the agent reports those drops (rx_kernel_drops = /proc/net/udp's count)"
agent_stop
tap_done
