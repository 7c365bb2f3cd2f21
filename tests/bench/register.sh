# SPDX-License-Identifier: BSD-2-Clause
# register.sh: registrations per second against the real agent over
# loopback, at 100 and 1,000 concurrent members, for MODP-2048 and ECP-256,
# and the agent's resident memory per registered member. Prints figures;
# asserts nothing about time. Run: make bench (or with srcdir/top_builddir set).
. "$srcdir/tests/lib/tap.sh"
tap_setup
agent_write_gks_config "\"max_half_open_per_peer\": 64"
# Membership rekeys off: these members exit after registering, and the
# figures are about registration alone.
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false }/' "$CONF"
agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$AGENT_PID/status"; }
rss0=$(rss)
echo "# gvpn-agent $(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null), $(nproc) cores; server and members on one machine"
printf '%-10s %8s %10s %12s %10s\n' suite members seconds "reg/s" failed
base=1
for suite in modp2048 ecp256; do
	for n in 100 1000; do
		out=$("$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 1 --psk-file "$TAP_TMP/k.psk" \
			--local "127.2.$((base / 256)).$((base % 256))" --count $n --timeout 20000 --retries 3 \
			--ike "aes256-sha256-$suite" --json-events | grep '"event":"summary"')
		base=$((base + n + 256))
		s=$(printf '%s' "$out" | sed 's/.*"seconds":\([0-9.e+-]*\).*/\1/')
		r=$(printf '%s' "$out" | sed 's/.*"per_second":\([0-9.e+-]*\).*/\1/')
		f=$(printf '%s' "$out" | sed 's/.*"failed":\([0-9]*\).*/\1/')
		printf '%-10s %8d %10.3f %12.1f %10s\n' "$suite" "$n" "$s" "$r" "$f"
	done
done
sleep 11   # phase 1 SAs linger 10 s after a registration; measure members only
members=$(ctl --json show groups | sed 's/.*"members":\([0-9]*\).*/\1/')
rss1=$(rss)
echo "# agent RSS: ${rss0} KiB at start, ${rss1} KiB with ${members} registered members:" \
	"$(( (rss1 - rss0) * 1024 / (members > 0 ? members : 1) )) bytes per member"
agent_stop
