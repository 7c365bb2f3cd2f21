# SPDX-License-Identifier: BSD-2-Clause
# rekey.sh: a unicast rekey to every member until each has acknowledged
# it, at REKEY_SIZES members (default 10000 50000 100000) simulated by
# gvpn-member processes (--count, --stay), one agent per size. Prints,
# per size: the round's time (the agent's own: first copy to last ACK,
# REKEY_SENT's duration), that time per member as a ratio to the
# smallest size's in the same run (1.00 = scales linearly), the
# retransmissions the round needed, datagrams the kernel dropped on the
# agent's socket (SO_RXQ_OVFL, and UDP RcvbufErrors from /proc/net/snmp
# for the whole machine: members' sockets included), the fan-out pauses
# (batches of copies with the loop reading ACKs in between) and the
# agent's CPU. Asserts nothing about time. Run: make bench (or with
# srcdir/top_builddir set).
. "$srcdir/tests/lib/tap.sh"
tap_setup
SIZES=${REKEY_SIZES:-10000 50000 100000}
agent_write_gks_config "\"max_half_open_per_peer\": 64, \"max_half_open\": 20000"
# Membership rekeys off: the only rekey is the one measured. A long
# retransmission period: a retransmission shows as one, not as time.
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false, "retransmission_period": 30 }/' "$CONF"
ticks() { awk '{print $14 + $15}' "/proc/$AGENT_PID/stat"; }
hz=$(getconf CLK_TCK)
members() { ctl --json show groups | sed 's/.*"members":\([0-9]*\).*/\1/'; }
stat_of() { ctl --json show groups | grep -o "\"$1\":[0-9]*" | head -1 | cut -d: -f2; }
rcvbuf_errors() { awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' /proc/net/snmp; }
running() { local s; s=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ]; }

# Members in as few processes as the descriptor limit allows, one after
# the other (started together they starve the agent and time out).
register_members() {
	local n=$1 base=$2 off=0 per c a i lim cur last
	lim=$(ulimit -Hn)
	[ "$lim" = unlimited ] && lim=$((n + 64))
	if [ "$lim" -lt $((n + 64)) ] && ulimit -Hn $((n + 64)) 2>/dev/null; then
		lim=$((n + 64))
	fi
	ulimit -Sn "$lim" 2>/dev/null
	per=$((lim - 64))
	[ $per -gt 25000 ] && per=25000
	while [ $off -lt "$n" ]; do
		c=$((n - off < per ? n - off : per))
		a=$((base + off))
		"$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 1 --psk-file "$TAP_TMP/k.psk" \
			--local "127.$((a >> 16)).$(((a >> 8) & 255)).$((a & 255))" --count $c --timeout 5000 --retries 5 \
			--ike aes256-sha256-ecp256 --stay >"$TAP_TMP/members-$base-$off.log" 2>&1 &
		MPIDS="$MPIDS $!"
		tap_track_pid $!
		off=$((off + c))
		i=0; last=-1
		while [ "$(members)" -lt "$off" ] && running $! && [ $i -lt 300 ]; do
			cur=$(members); [ "$cur" = "$last" ] && i=$((i + 1)) || i=0; last=$cur
			sleep 0.2
		done
	done
}

echo "# gvpn-agent $(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null), $(nproc) cores; agent and members on one machine"
printf '%8s %10s %14s %10s %8s %8s %12s %10s %8s %12s\n' members "register s" "rekey->ACKs ms" "ms/member" \
	acked retx "kernel drops" "rcvbuf err" pauses "agent CPU ms"
base=$((8 * 65536 + 1))
ref=""
for n in $SIZES; do
	agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }   # a fresh agent for each size
	MPIDS=""
	t0=$(date +%s.%N)
	register_members "$n" "$base"
	t1=$(date +%s.%N)
	have=$(members)
	last=$(ctl --json show rekeys | grep -o '"index":[0-9]*' | tail -1 | cut -d: -f2)
	c0=$(ticks); e0=$(rcvbuf_errors); d0=$(stat_of rx_kernel_drops); p0=$(stat_of fan_pauses)
	ctl rekey group 1 >/dev/null
	rec=""
	for i in $(seq 1 1200); do
		rec=$(ctl --json show rekeys | grep -o '{"index":'"$((${last:-0} + 1))"',[^}]*}')
		case "$rec" in *'"done":true'*) break ;; esac
		sleep 0.1
	done
	c1=$(ticks); e1=$(rcvbuf_errors); d1=$(stat_of rx_kernel_drops); p1=$(stat_of fan_pauses)
	dur=$(printf '%s' "$rec" | sed 's/.*"duration_ms":\([0-9.]*\).*/\1/')
	acked=$(printf '%s' "$rec" | sed 's/.*"acked":\([0-9]*\).*/\1/')
	retx=$(stat_of retransmissions)
	per=$(awk -v d="$dur" -v n="$have" 'BEGIN { printf "%.4f", d / n }')
	[ -z "$ref" ] && ref=$per
	printf '%8d %10.1f %14s %10s %8s %8s %12s %10s %8s %12d\n' "$have" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$dur" \
		"$(awk -v p="$per" -v r="$ref" 'BEGIN { printf "x%.2f", p / r }')" "$acked" "${retx:-0}" \
		$(( ${d1:-0} - ${d0:-0} )) $(( ${e1:-0} - ${e0:-0} )) $(( ${p1:-0} - ${p0:-0} )) \
		$(( (c1 - c0) * 1000 / hz ))
	agent_stop
	for p in $MPIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $MPIDS; do wait "$p" 2>/dev/null; done
	base=$((base + n + 256))
done
echo "# ms/member: the round's time per member as a ratio to the first size's (1.00: linear)"
