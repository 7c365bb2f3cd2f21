# rekey.sh: how long a unicast rekey takes to reach and be acknowledged
# by every member, for 1,000 and 10,000 members simulated by one
# gvpn-member process (--count, --stay), and the agent's CPU time for
# it. The time is the agent's own: from the first copy sent to the last
# ACK received (REKEY_SENT's duration). Prints figures; asserts nothing
# about time. Run: make bench (or with srcdir/top_builddir set).
. "$srcdir/tests/lib/tap.sh"
tap_setup
agent_write_gks_config "\"max_half_open_per_peer\": 64, \"max_half_open\": 20000"
# Membership rekeys off: the only rekey is the one measured.
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false }/' "$CONF"
ticks() { awk '{print $14 + $15}' "/proc/$AGENT_PID/stat"; }
hz=$(getconf CLK_TCK)
members() { ctl --json show groups | sed 's/.*"members":\([0-9]*\).*/\1/'; }
echo "# gvpn-agent $(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null), $(nproc) cores; agent and members on one machine"
printf '%8s %12s %14s %14s %8s %8s\n' members "register s" "rekey->ACKs ms" "agent CPU ms" acked removed
base=1
for n in 1000 10000; do
	agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }   # a fresh agent: no members left from the last run
	"$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 1 --psk-file "$TAP_TMP/k.psk" \
		--local "127.3.$((base / 256)).$((base % 256))" --count $n --timeout 20000 --retries 3 \
		--ike aes256-sha256-ecp256 --stay >"$TAP_TMP/members-$n.log" 2>&1 &
	mpid=$!
	tap_track_pid $mpid
	t0=$(date +%s.%N)
	want=$(( $(members) + n ))
	until [ "$(members)" -ge "$want" ] || ! kill -0 $mpid 2>/dev/null; do sleep 0.2; done
	t1=$(date +%s.%N)
	last=$(ctl --json show rekeys | grep -o '"index":[0-9]*' | tail -1 | cut -d: -f2)
	c0=$(ticks)
	ctl rekey group 1 >/dev/null
	rec=""
	for i in $(seq 1 600); do
		rec=$(ctl --json show rekeys | grep -o '{"index":'"$((${last:-0} + 1))"',[^}]*}')
		case "$rec" in *'"done":true'*) break ;; esac
		sleep 0.1
	done
	c1=$(ticks)
	dur=$(printf '%s' "$rec" | sed 's/.*"duration_ms":\([0-9.]*\).*/\1/')
	acked=$(printf '%s' "$rec" | sed 's/.*"acked":\([0-9]*\).*/\1/')
	removed=$(printf '%s' "$rec" | sed 's/.*"removed":\([0-9]*\).*/\1/')
	printf '%8d %12.2f %14s %14d %8s %8s\n' "$n" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$dur" \
		$(( (c1 - c0) * 1000 / hz )) "$acked" "$removed"
	agent_stop
	kill -TERM $mpid 2>/dev/null; wait $mpid 2>/dev/null
	base=$((base + n + 256))
done
