# snmp-walk.sh: wall and agent CPU time of snmpbulkwalk over
# gvpnMemberTable with 10,000 and 100,000 members (registered for real by
# one gvpn-member process), SNMPv3 authPriv and v2c, 50 and 100
# repetitions. Prints figures; asserts nothing about time.
# Run: make bench (or with srcdir/top_builddir set); COUNTS="10000" to
# run one size only.
. "$srcdir/tests/lib/tap.sh"
tap_setup
# One socket per simulated member: the members are spread over
# gvpn-member processes of at most 15,000 each, one after the other, so
# each fits the usual 20,000 descriptor limit.
PER=15000
ticks() { awk '{print $14 + $15}' "/proc/$AGENT_PID/stat"; }
hz=$(getconf CLK_TCK)
echo "# gvpn-agent $(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null), $(nproc) cores; agent, members and snmpbulkwalk on one machine"
printf '%8s %-9s %4s %10s %8s %12s %12s %14s\n' members version -Cr varbinds seconds varbinds/s "agent CPU ms" "client CPU ms"
for n in ${COUNTS:-10000 100000}; do
	agent_write_gks_config "\"max_half_open_per_peer\": 64, \"max_half_open\": 200000"
	sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false }/' "$CONF"
	agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
	snmp_env
	left=$n base=$((6 << 16))
	while [ $left -gt 0 ]; do
		c=$(( left < PER ? left : PER ))
		"$top_builddir/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 1 --psk-file "$TAP_TMP/k.psk" \
			--local "127.$((base >> 16)).$(((base >> 8) & 255)).$(((base & 255) + 1))" --count $c \
			--timeout 5000 --retries 5 --ike aes256-sha256-ecp256 >/dev/null 2>&1
		left=$((left - c)); base=$((base + c + 256))
	done
	got=$(ctl --json show groups | grep -o '"members":[0-9]*' | head -1 | cut -d: -f2)
	[ "$got" = "$n" ] || echo "# only $got of $n members registered"
	for v in v3 v2c; do
		for r in 50 100; do
			if [ $v = v3 ]; then set -- snmpbulkwalk -v3 -l authPriv -u tester -a SHA-256 -A tester-auth-1 \
				-x AES -X tester-priv-1 -t 5 -r 1 -On "127.0.0.1:$SNMP_PORT"; else
				set -- snmpbulkwalk -v2c -c testcomm -t 5 -r 1 -On "127.0.0.1:$SNMP_PORT"; fi
			c0=$(ticks); t0=$(date +%s.%N)
			{ /usr/bin/time -f '%U %S' -o "$TAP_TMP/client" "$@" -Cr$r -Oq .1.3.6.1.4.1.32473.1.1.4 >"$TAP_TMP/walk"; } 2>/dev/null
			t1=$(date +%s.%N); c1=$(ticks)
			vb=$(wc -l <"$TAP_TMP/walk")
			cl=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$TAP_TMP/client")
			awk -v n=$n -v v=$v -v r=$r -v vb=$vb -v a=$t0 -v b=$t1 -v c=$(( (c1 - c0) * 1000 / hz )) -v cl=$cl \
				'BEGIN { printf "%8d %-9s %4d %10d %8.2f %12.0f %12d %14d\n", n, v, r, vb, b - a, vb / (b - a), c, cl }'
		done
	done
	agent_stop
done
