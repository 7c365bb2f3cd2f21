# SPDX-License-Identifier: BSD-2-Clause
# snmp-tables.sh: an NMS view of the key server and the VPN monitor.
# The agent runs a key server with two groups (g1 unicast rekeys, g2
# without server-member communication), four real gvpn-member processes
# (--stay), one `gvpnctl rekey group 1`, two syslog collectors and, when
# root can make a network namespace, three monitored VPNs (up, down,
# monitor off; as in monitor-icmp.sh). snmpbulkwalk -Cr50 -On of every
# GVPN-AGENT-MIB table and scalar group, numeric so no MIB is needed,
# must give the values `gvpnctl --json` shows. Also: missing rows are
# noSuchInstance, non-columns noSuchObject; GETNEXT crosses from the
# last row of a column to the next column; a wrong v3 passphrase gets no
# data; SNMPv2c is refused until a community is configured; snmptable
# names the member table's columns from mibs/GVPN-AGENT-MIB.txt.
. "$srcdir/tests/lib/tap.sh"
need snmpbulkwalk snmpget snmpgetnext snmptable jq
tap_setup
plan 53

O=.1.3.6.1.4.1.32473.1.1
INNS=""
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null 2>&1 && ip netns add "gvpn-test-$$" 2>/dev/null; then
	TAP_NETNS=gvpn-test-$$
	ip -n $TAP_NETNS link set lo up
	ip -n $TAP_NETNS addr add 198.51.100.2/32 dev lo
	ip -n $TAP_NETNS route add blackhole 203.0.113.5/32
	INNS="ip netns exec $TAP_NETNS"
	AGENT_NETNS=$TAP_NETNS
else
	diag "no network namespace (needs root): the VPN monitor checks are skipped"
fi
skip() { _tap_result 0 "$1 # SKIP no network namespace for the VPN monitor"; }

agent_write_gks_config
SINK_UDP=$(free_port udp)
SINK_TCP=$(free_port tcp)
jq --argjson u "$SINK_UDP" --argjson t "$SINK_TCP" '
  del(.snmp.communities)
  | .group_vpn_server.groups[0].server_member_communication.membership_rekey = false
  | .group_vpn_server.groups += [ { name: "g2", group_id: 2,
      ipsec_sa: [ { name: "s2", proposal: "esp-aes128-sha1", lifetime_seconds: 1800,
                    match: { source: "10.8.0.0/16", destination: "10.9.0.0/16" } } ],
      members: [ { address: "127.0.0.0/8", psk: "k" } ] } ]
  | .syslog.collectors = [ { transport: "udp", host: "127.0.0.1", port: $u },
                           { transport: "tcp", host: "127.0.0.1", port: $t, queue: 1 } ]' \
	"$CONF" >"$CONF.new" && mv "$CONF.new" "$CONF"
[ -z "$INNS" ] || { jq --arg v "unix://$TAP_TMP/none.vici" '.vpn_monitor = { interval: 2, threshold: 2, vici_socket: $v,
    vpns: [ { name: "site-a", monitor: true, rekey: true, source_interface: "lo", destination_ip: "198.51.100.2" },
            { name: "site-b", monitor: true, optimized: true, destination_ip: "203.0.113.5" },
            { name: "site-c", monitor: false } ] }' "$CONF" >"$CONF.new" && mv "$CONF.new" "$CONF"; }
ok "the agent starts (key server, two groups, two syslog collectors${INNS:+, VPN monitor})" agent_start ||
	{ cat "$TAP_TMP/agent.log"; exit 1; }
snmp_env

member() { # member GROUP ADDRESS [ARGS...]
	local g=$1 a=$2; shift 2
	$INNS "$top_builddir/gvpn-member" --server 127.0.0.1:$GKS_PORT --group $g --psk-file "$TAP_TMP/k.psk" \
		--local $a --ike aes256-sha256-ecp256 --stay "$@" >"$TAP_TMP/m-$a.log" 2>&1 &
	tap_track_pid $!
}
member 1 127.0.7.1
member 1 127.0.7.2
member 1 127.0.7.3 --identity gm3.example
member 2 127.0.7.4
gmembers() { ctl --json show groups | jq -r '[.result.groups[].members] | map(tostring) | join(",")'; }
members_are() { test "$(gmembers)" = "$1"; }
ok "three members register in g1, one in g2" wait_for 20 members_are 3,1
kek_before=$(ctl --json show groups | jq -r '.result.groups[0].kek.spi')
tek_before=$(ctl --json show groups | jq -r '.result.groups[0].teks[0].spi')
ctl rekey group 1 >/dev/null
rekey_done() { ctl --json show rekeys | jq -e '.result[-1] | .reason == "manual" and .acked == 3 and .done' ; }
ok "gvpnctl rekey group 1: acknowledged by the three" wait_for 10 rekey_done
vstate() { ctl --json show vpns | jq -r --arg n "$1" '.result.vpns[] | select(.name == $n) | .state'; }
vpns_settled() { test "$(vstate site-a)/$(vstate site-b)" = up/down; }
if [ -n "$INNS" ]; then ok "site-a is up, site-b down (blackholed)" wait_for 15 vpns_settled
else skip "site-a is up, site-b down (blackholed)"; fi

# ---- helpers ---------------------------------------------------------------------
V3="-v3 -l authPriv -u tester -a SHA-256 -A tester-auth-1 -x AES -X tester-priv-1 -t 2 -r 1"
v3() { # v3 TOOL [ARGS...]: SNMPv3 authPriv as tester, in the agent's namespace, numeric OIDs
	local tool=$1; shift
	$INNS $tool $V3 -On "127.0.0.1:$SNMP_PORT" "$@"
}
# Net-SNMP's output as OID|TYPE|VALUE lines: STRING without quotes,
# Hex-STRING as lowercase hex digits (continuation lines joined).
norm() {
	awk 'function flush() {
		if (o == "") return
		if (t == "Hex-STRING") { gsub(/ /, "", v); v = tolower(v) }
		else if (t == "STRING") { sub(/^"/, "", v); sub(/"$/, "", v) }
		print o "|" t "|" v
	}
	/^\.[0-9]/ { flush(); o = $1; r = substr($0, index($0, " = ") + 3)
		if (r == "\"\"") { t = "STRING"; v = "" }
		else if (index(r, ": ")) { t = substr(r, 1, index(r, ": ") - 1); v = substr(r, index(r, ": ") + 2) }
		else { t = ""; v = r }
		next }
	{ v = v " " $0 }
	END { flush() }'
}
walk() { # walk SUBTREE: snmpbulkwalk -Cr50 into $TAP_TMP/w (normalized); WALK_RC
	v3 snmpbulkwalk -Cr50 "$O${1:+.$1}" >"$TAP_TMP/w.raw" 2>"$TAP_TMP/w.err"
	WALK_RC=$?
	norm <"$TAP_TMP/w.raw" >"$TAP_TMP/w"
}
val() { awk -F'|' -v o="$O.$1" '$1 == o { print $3; exit }' "$TAP_TMP/w"; }
rows() { # rows COLUMN-PREFIX: the index parts of the walked OIDs under it
	awk -F'|' -v p="$O.$1." 'index($1, p) == 1 { print substr($1, length(p) + 1) }' "$TAP_TMP/w"
}
# stable SUBTREE EXPECT-FUNCTION: walks SUBTREE while gvpnctl's view
# (what EXPECT-FUNCTION prints) stays the same, so the members, probes
# and collectors cannot change a value between the two; EXP is that view.
# stable SUBTREE VIEW [CLOCK]: walks until gvpnctl's VIEW is the same before
# and after the walk; CLOCK (a command printing a time value) is read just
# before and just after the walk, into B1 and B2, so a time the walk read
# can be checked to lie between them however long the walk took.
stable() {
	local i e1
	for i in 1 2 3 4 5; do
		e1=$($2)
		[ -z "${3:-}" ] || B1=$($3)
		walk "$1"
		[ -z "${3:-}" ] || B2=$($3)
		EXP=$($2)
		[ "$e1" = "$EXP" ] && return 0
	done
	diag "gvpnctl's view of $1 kept changing during the walks"
}
hex2ip() { printf '%d.%d.%d.%d' 0x${1:0:2} 0x${1:2:2} 0x${1:4:2} 0x${1:6:2}; }
hex2date() { # DateAndTime (hex) as gvpnctl prints UTC times
	local h=$1
	printf '%04d-%02d-%02dT%02d:%02d:%02dZ' 0x${h:0:4} 0x${h:4:2} 0x${h:6:2} 0x${h:8:2} 0x${h:10:2} 0x${h:12:2}
	[ "${h:14:8}" = 002b0000 ] || printf ' (not UTC+0: %s)' "${h:14:8}"
}
hex2epoch() { date -u -d "$(hex2date "$1" | sed 's/T/ /; s/Z//')" +%s; }
within() { [ "$1" -ge $(($2 - $3)) ] && [ "$1" -le $(($2 + $3)) ]; } # within GOT WANT SLACK
# between GOT A B: GOT lies between A and B (either order), +-1 s for rounding.
between() {
	local lo=$2 hi=$3
	[ "$lo" -le "$hi" ] || { lo=$3; hi=$2; }
	[ "$1" -ge $((lo - 1)) ] && [ "$1" -le $((hi + 1)) ]
}
uptime_now() { ctl --json show status | jq .result.uptime_seconds; }
next_rekey_now() { ctl --json show groups | jq '.result.groups[0].next_rekey'; }
kek_remaining_now() { ctl --json show sa | jq '.result.groups[0].kek.remaining'; }

# ---- gvpnAgent, gvpnServer, gvpnMonitor, gvpnSyslog scalars -------------------------------
scalars_view() {
	ctl --json show status | jq -r '.result | [.version, .config.generation, .config.reload_failures,
	  (.key_server | .members, .registrations, .refused, .rekeys_sent, .retransmissions,
	   .members_removed, .heartbeats, .acks, .drops + .ack_drops, .seq_save_errors, .pushes_held),
	  ([.syslog[].sent] | add), ([.syslog[].dropped] | add)] | map(tostring) | join(" ")'
	ctl --json show vpns | jq -r '.result | "\(.interval) \(.threshold)"'
}
stable "" scalars_view uptime_now
is "$WALK_RC" 0 "snmpbulkwalk -Cr50 of the whole subtree exits 0 (OIDs increasing)"
cp "$TAP_TMP/w" "$TAP_TMP/all"
got="$(val 1.1.0) $(val 1.3.0) $(val 1.4.0) $(val 2.1.0) $(val 2.2.0) $(val 2.3.0) $(val 2.4.0) $(val 2.5.0) $(val 2.6.0) $(val 2.7.0) $(val 2.8.0) $(val 2.9.0) $(val 2.10.0) $(val 2.11.0) $(val 11.1.0) $(val 11.2.0)
$(val 8.1.0) $(val 8.2.0)"
is "$got" "$EXP" "the scalars (version, config generation and reload failures, the eleven server counters, syslog sent/dropped, monitor interval/threshold) = show status / show vpns"
like "$(val 11.1.0)" '^[1-9][0-9]*$' "gvpnSyslogMessagesSent counts the events sent to the collectors ($(val 11.1.0))"
ok "gvpnAgentUptime ($(val 1.2.0)) lies between the uptimes in show status before and after the walk ($B1, $B2)" \
	between "$(val 1.2.0)" "$B1" "$B2"
is "$(awk -F'|' '$1 ~ /\.0$/ { print $2 }' "$TAP_TMP/w" | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')" \
	"Counter32:13 Gauge32:5 INTEGER:8 STRING:1 " "the scalars' types: 13 Counter32, 5 Gauge32/Unsigned32, 8 TruthValue, 1 string"

# ---- gvpnGroupTable -------------------------------------------------------------------
groups_view() {
	ctl --json show groups | jq -r '.result.groups | sort_by(.group_id)[] | [.group_id, .name,
	  ({none: 1, unicast: 2, multicast: 3}[.communication]), .members, .seq, .rekeys, .heartbeats,
	  .retransmissions, .members_removed, .activation_time_delay] | map(tostring) | join(" ")'
}
stable 3 groups_view next_rekey_now
got=$(for g in $(rows 3.1.2); do echo "$g $(val 3.1.2.$g) $(val 3.1.3.$g) $(val 3.1.4.$g) $(val 3.1.5.$g) $(val 3.1.7.$g) $(val 3.1.8.$g) $(val 3.1.9.$g) $(val 3.1.10.$g) $(val 3.1.11.$g)"; done)
is "$got" "$EXP" "gvpnGroupTable: id, name, communication (unicast 2, none 1), members, SEQ, rekeys, heartbeats, retransmissions, removed, ATD = show groups"
ok "gvpnGroupNextRekey.1 ($(val 3.1.6.1)) lies between next_rekey before and after the walk ($B1, $B2)" \
	between "$(val 3.1.6.1)" "$B1" "$B2"

# ---- gvpnMemberTable ------------------------------------------------------------------
members_view() {
	ctl --json show registered-members | jq -r '.result.members | sort_by(.group_id, .index)[] |
	  [.group_id, .index, 1, .address, .port, .identity, ({registered: 1, active: 2, "ack-pending": 3}[.state]),
	   .registered, .last_acked_seq, .rekeys_sent, .rekeys_acked, .retransmissions] | map(tostring) | join(" ")'
}
stable 4 members_view
is "$(rows 4.1.5 | tr . ' ')" "$(printf '%s\n' "$EXP" | cut -d' ' -f1,2)" \
	"gvpnMemberTable has exactly the rows (group, index) of show registered-members"
is "$(rows 4.1.5 | wc -l)" "$(ctl --json show status | jq .result.key_server.members)" \
	"... as many as the members in show status (4)"
printf '%s\n' "$EXP" | while read -r g i rest; do
	r=$g.$i
	got="$g $i $(val 4.1.2.$r) $(hex2ip "$(val 4.1.3.$r)") $(val 4.1.4.$r) $(val 4.1.5.$r) $(val 4.1.6.$r) $(hex2date "$(val 4.1.7.$r)") $(val 4.1.8.$r) $(val 4.1.9.$r) $(val 4.1.10.$r) $(val 4.1.11.$r)"
	is "$got" "$g $i $rest" "member $g.$i: address type and address, port, identity, state, registered since, last ACKed SEQ, rekeys sent/acked, retransmissions"
	echo "$TAP_N $TAP_FAILED" >"$TAP_TMP/counts"
done
read -r TAP_N TAP_FAILED <"$TAP_TMP/counts"
seq=$(ctl --json show groups | jq '.result.groups[0].seq')
is "$(awk -F'|' -v p="$O.4.1.8.1." 'index($1, p) == 1 { print $3 }' "$TAP_TMP/w" | sort -u)" "$seq" \
	"every g1 member last ACKed the group's SEQ ($seq)"
is "$(awk -F'|' -v p="$O.4.1." 'index($1, p) == 1 { split(substr($1, length(p) + 1), a, "."); t = $2; if (t == "Hex-STRING") t = "STRING"; print a[1] ":" t }' "$TAP_TMP/w" | sort -un | tr '\n' ' ')" \
	"2:INTEGER 3:STRING 4:Gauge32 5:STRING 6:INTEGER 7:STRING 8:Gauge32 9:Counter32 10:Counter32 11:Counter32 " \
	"the member columns have the MIB's types"

# ---- gvpnKekTable ---------------------------------------------------------------------
kek_view() {
	ctl --json show sa | jq -r '.result.groups[] | select(.kek) | [.group_id, 1, .kek.spi,
	  (if (.kek.algorithm | startswith("aes")) then 3 else 0 end), (.kek.algorithm | capture("(?<b>[0-9]+)").b),
	  ({md5: 1, sha1: 2, "sha-256": 3, "sha-384": 4, "sha-512": 5}[.kek.sig_hash]), .kek.sig_key_bits,
	  .kek.lifetime, 2] | map(tostring) | join(" ")'
}
stable 5 kek_view kek_remaining_now
is "$(val 5.1.2.1.1) $(val 5.1.3.1.1) $(val 5.1.4.1.1) $(val 5.1.5.1.1) $(val 5.1.6.1.1) $(val 5.1.7.1.1) $(val 5.1.9.1.1)" \
	"$(printf '%s\n' "$EXP" | cut -d' ' -f3-)" "gvpnKekTable 1.1: SPI, algorithm, key bits, signature hash and key bits, lifetime, inUse = show sa"
ok "gvpnKekRemainingLifetime.1.1 ($(val 5.1.8.1.1)) lies between remaining before and after the walk ($B1, $B2)" \
	between "$(val 5.1.8.1.1)" "$B1" "$B2"
is "$(val 5.1.2.1.2) $(val 5.1.9.1.2)" "$kek_before 3" "gvpnKekTable 1.2: the KEK before the rekey ($kek_before), old(3)"
is "$(rows 5.1.2 | tr '\n' ' ')" "1.1 1.2 " "no KEK rows for g2 (no server-member communication)"

# ---- gvpnTekTable ---------------------------------------------------------------------
tek_view() {
	ctl --json show sa | jq -r '.result.groups[] | .group_id as $g | .teks[] | [$g, .name, .spi,
	  ({aes: 12, "3des": 3, des: 2}[.proposal | capture("esp-(?<c>[a-z0-9]+?)(?<b>[0-9]*)-").c]),
	  (.proposal | (capture("esp-aes(?<b>[0-9]+)-").b // (if test("3des") then "192" else "64" end))),
	  ({md5: 1, sha1: 2, sha256: 5, sha384: 6, sha512: 7}[.proposal | capture("-(?<h>[a-z0-9]+)$").h]),
	  .lifetime, ({new: 1, inUse: 2, old: 3}[.status])] | map(tostring) | join(" ")' | sort
}
stable 6 tek_view
got=$(for r in $(rows 6.1.2); do printf '%s %s 0x%08x %s %s %s %s %s\n' "${r%%.*}" "$(val 6.1.2.$r)" "$(val 6.1.3.$r)" \
	"$(val 6.1.4.$r)" "$(val 6.1.5.$r)" "$(val 6.1.6.$r)" "$(val 6.1.7.$r)" "$(val 6.1.9.$r)"; done | sort)
is "$got" "$EXP" "gvpnTekTable: group, policy, SPI, encryption, key bits, integrity, lifetime, status of every TEK = show sa (current and old)"
is "$(rows 6.1.2 | wc -l)" 3 "three TEK rows: g1's new and old, g2's"
like "$got" "^1 sa1 $tek_before [0-9 ]+ 3\$" "the TEK before the rekey ($tek_before) is old(3)"

# ---- gvpnRekeyTable -------------------------------------------------------------------
rekeys_view() {
	ctl --json show rekeys | jq -r '.result[] | [.index, .time, .group_id,
	  ({scheduled: 1, membership: 2, policy: 3, manual: 4}[.reason | sub("[-_ ].*"; "")] // 4), .seq, .targeted,
	  .acked, .removed, (.duration_ms | floor), (if .done then 1 else 2 end)] | map(tostring) | join(" ")'
}
stable 7 rekeys_view
got=$(for k in $(rows 7.1.2); do echo "$k $(hex2date "$(val 7.1.2.$k)") $(val 7.1.3.$k) $(val 7.1.4.$k) $(val 7.1.5.$k) $(val 7.1.6.$k) $(val 7.1.7.$k) $(val 7.1.8.$k) $(val 7.1.9.$k) $(val 7.1.10.$k)"; done)
is "$got" "$EXP" "gvpnRekeyTable = show rekeys: time, group, reason, SEQ, targeted, acked, removed, duration, done"
last=$(rows 7.1.2 | tail -1)
is "$(val 7.1.3.$last) $(val 7.1.4.$last) $(val 7.1.5.$last) $(val 7.1.6.$last) $(val 7.1.7.$last) $(val 7.1.10.$last)" \
	"1 4 $seq 3 3 1" "the last rekey: group 1, manual(4), SEQ $seq, 3 targeted, 3 acked, done"

# ---- gvpnVpnTable ---------------------------------------------------------------------
vpns_view() {
	ctl --json show vpns | jq -r '.result.vpns | to_entries[] | .key as $k | .value | [$k + 1, .name,
	  (if .monitor then 1 else 2 end), (if .optimized then 1 else 2 end), (if .rekey then 1 else 2 end),
	  .source_interface, ((.destination_ip // "") | if . == "" then 0 else 1 end), (.destination_ip // ""),
	  ({up: 1, down: 2, monitorDisabled: 3}[.state]),
	  (if .delay_last_ms < 0 then 0 else (.delay_last_ms | floor) end),
	  (if .delay_avg_ms < 0 then 0 else (.delay_avg_ms | floor) end),
	  .availability, .consecutive_misses, .rekey_attempts, .rekey_successes] | map(tostring) | join(" ")'
}
if [ -n "$INNS" ]; then
	stable 9 vpns_view
	got=$(for v in $(rows 9.1.2); do d=$(val 9.1.12.$v); [ -z "$d" ] || d=$(hex2ip "$d")
		echo "$v $(val 9.1.2.$v) $(val 9.1.7.$v) $(val 9.1.8.$v) $(val 9.1.9.$v) $(val 9.1.10.$v) $(val 9.1.11.$v) $d $(val 9.1.13.$v) $(val 9.1.18.$v) $(val 9.1.19.$v) $(val 9.1.20.$v) $(val 9.1.21.$v) $(val 9.1.22.$v) $(val 9.1.23.$v)"; done)
	is "$got" "$EXP" "gvpnVpnTable = show vpns: name, monitor/optimized/rekey, interface, destination, state, delays, availability, misses, rekeys"
	is "$(val 9.1.13.1) $(val 9.1.13.2) $(val 9.1.13.3)" "1 2 3" "gvpnVpnTunnelState: site-a up(1), site-b down(2), site-c monitorDisabled(3)"
	is "$(val 9.1.14.1) $(val 9.1.15.1) $(val 9.1.16.1) $(val 9.1.17.1) $(val 9.1.3.1) $(val 9.1.4.1)" "2 2 -1 -1 0 " \
		"without strongSwan: phase 1/2 down, lifetimes -1, no gateway address"
	ago=$(ctl --json show vpns | jq '.result.vpns[1].seconds_since_change')
	ok "gvpnVpnLastChange.2 = now - seconds_since_change ($ago s) +- 2 s" \
		within "$(hex2epoch "$(val 9.1.24.2)")" $(( $(date +%s) - ago )) 2
else
	for d in "gvpnVpnTable = show vpns" "gvpnVpnTunnelState up/down/monitorDisabled" "without strongSwan: phase 1/2 down" \
		"gvpnVpnLastChange"; do skip "$d"; done
fi

# ---- the whole subtree in one walk ------------------------------------------------------
values() { awk -F'|' '$2 != ""' "$1" | wc -l; } # not the noSuchObject line of an empty walk
n_all=$(values "$TAP_TMP/all")
n_parts=0
for t in 1 2 3 4 5 6 7 8 9 10 11; do walk $t; n_parts=$((n_parts + $(values "$TAP_TMP/w"))); done
is "$n_all" "$n_parts" "the whole subtree in one walk has as many varbinds as the 11 walks of its parts ($n_parts)"

# ---- GET and GETNEXT at the edges -------------------------------------------------------
v3get() { v3 snmpget "$@" 2>&1 | norm | cut -d'|' -f3 | tr '\n' ';'; }
NSI="No Such Instance currently exists at this OID"
NSO="No Such Object available on this agent at this OID"
is "$(v3get $O.3.1.2.3 $O.4.1.5.1.999 $O.4.1.5.3.1 $O.5.1.2.2.1 $O.5.1.2.1.3 $O.5.1.2.1.0 $O.6.1.2.1.999 $O.7.1.4.999 $O.9.1.2.9)" \
	"$NSI;$NSI;$NSI;$NSI;$NSI;$NSI;$NSI;$NSI;$NSI;" \
	"GET of a missing row (group 3, member 1.999 and 3.1, KEK 2.1, 1.3, 1.0, TEK 1.999, rekey 999, VPN 9): noSuchInstance"
is "$(v3get $O.4.1.5.1 $O.4.1.5.1.1.7 $O.2.1.0.1)" "$NSI;$NSI;$NSI;" "GET with a short or long index: noSuchInstance"
is "$(v3get $O.4.1.1.1.1 $O.4.1.12.1.1 $O.4.2.1 $O.2.12.0)" "$NSO;$NSO;$NSO;$NSO;" \
	"GET of an index column, a column past the last, or no object at all: noSuchObject"
walk 4
first1=$(rows 4.1.5 | head -1)
last_g1=$(rows 4.1.5 | grep '^1\.' | tail -1)
last=$(rows 4.1.5 | tail -1)
is "$(v3 snmpgetnext $O.4.1.5.$last | cut -d' ' -f1)" "$O.4.1.6.$first1" \
	"GETNEXT past the last member (gvpnMemberIdentity.$last) gives the next column's first row"
is "$(v3 snmpgetnext $O.4.1.5.$last_g1 | cut -d' ' -f1)" "$O.4.1.5.$last" \
	"GETNEXT past g1's last member gives g2's first member in the same column"
is "$(v3 snmpgetnext $O.4.1.11.$last | cut -d' ' -f1)" "$O.5.1.2.1.1" \
	"GETNEXT past the member table's last instance gives the KEK table's first"
is "$(v3 snmpgetnext $O.4.1.5.1.4294967295 $O.4.1.5.4294967295 $O.4.1.1 $O.4.1.5.1 | cut -d' ' -f1 | tr '\n' ' ')" \
	"$O.4.1.5.$last $O.4.1.6.$first1 $O.4.1.2.$first1 $O.4.1.5.$first1 " \
	"GETNEXT from member 1.4294967295, group 4294967295, the index column and a partial index"
is "$(v3 snmpgetnext $O.5.1.2.1.2 $O.5.1.2.1.4294967295 $O.5.1.2.1.0 | cut -d' ' -f1 | tr '\n' ' ')" \
	"$O.5.1.3.1.1 $O.5.1.3.1.1 $O.5.1.2.1.1 " "GETNEXT in gvpnKekTable after KEK 1.2, 1.4294967295 (no wrap to 1.0) and from 1.0"

# ---- security ---------------------------------------------------------------------------------
wd() { v3 snmpget -Oqv .1.3.6.1.6.3.15.1.1.5.0; } # usmStatsWrongDigests
wd0=$(wd)
out=$($INNS snmpget -v3 -l authPriv -u tester -a SHA-256 -A wrong-passphrase -x AES -X tester-priv-1 \
	-t 1 -r 0 -On "127.0.0.1:$SNMP_PORT" $O.2.1.0 2>&1)
like "$out" "Authentication failure" "a wrong v3 auth passphrase: authentication failure"
unlike "$out" "$O.2.1.0 =" "... and no value"
is "$(wd)" "$((wd0 + 1))" "... counted in usmStatsWrongDigests ($wd0 -> $((wd0 + 1)))"
out=$($INNS snmpget -v3 -l authPriv -u tester -a SHA-256 -A tester-auth-1 -x AES -X wrong-priv-pass \
	-t 1 -r 0 -On "127.0.0.1:$SNMP_PORT" $O.2.1.0 2>&1)
unlike "$out" "$O.2.1.0 =" "a wrong v3 privacy passphrase gets no value ($(printf '%s' "$out" | head -1))"
out=$($INNS snmpget -v3 -l authNoPriv -u tester -a SHA-256 -A tester-auth-1 -t 1 -r 0 -On "127.0.0.1:$SNMP_PORT" $O.2.1.0 2>&1)
unlike "$out" "$O.2.1.0 = Gauge32" "authNoPriv for a user configured with privacy gets no value"
v2c() { $INNS snmpget -v2c -c "$1" -t 1 -r 0 -On "127.0.0.1:$SNMP_PORT" $O.1.1.0 2>&1; }
unlike "$(v2c public)$(v2c testcomm)" "$O.1.1.0 =" "no community configured: SNMPv2c (public, testcomm) gets no answer"

# ---- snmptable with the MIB ---------------------------------------------------------------------
IETF=""
for d in /usr/lib/erlang/lib/snmp-*/mibs; do [ -f "$d/INET-ADDRESS-MIB.mib" ] && IETF=$d; done
[ -n "$IETF" ] || diag "IETF MIB modules not found (erlang-snmp): snmptable cannot load GVPN-AGENT-MIB"
# (Not -On: with it, snmptable finds no columns.)
t=$($INNS snmptable $V3 -M "+$srcdir/mibs${IETF:+:$IETF}" -m +GVPN-AGENT-MIB -Cf '|' -Ci "127.0.0.1:$SNMP_PORT" \
	GVPN-AGENT-MIB::gvpnMemberTable 2>&1)
is "$(printf '%s\n' "$t" | grep '^index|')" \
	"index|gvpnMemberAddressType|gvpnMemberAddress|gvpnMemberPort|gvpnMemberIdentity|gvpnMemberState|gvpnMemberRegisteredSince|gvpnMemberLastAckedSeq|gvpnMemberRekeysSent|gvpnMemberRekeysAcked|gvpnMemberRetransmissions" \
	"snmptable -m +GVPN-AGENT-MIB names the member table's columns"
like "$t" "^1\\.[0-9]+\\|ipv4\\|[^|]*\\|[0-9]+\\|\"?gm3\\.example\"?\\|active\\|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2},[0-9:.]+,\\+0:0\\|" \
	"... and shows gm3.example, its state by name and the registration time as a DateAndTime"
is "$(printf '%s\n' "$t" | grep -c '^[12]\.[0-9]*|')" 4 "... one line per member"

# ---- SNMPv2c once configured ----------------------------------------------------------------
agent_stop
jq '.snmp.communities = [ { name: "testcomm", source: "127.0.0.1" } ]' "$CONF" >"$CONF.new" && mv "$CONF.new" "$CONF"
agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
like "$(v2c testcomm)" "$O.1.1.0 = STRING" "with community testcomm configured (after a restart), SNMPv2c answers"
unlike "$(v2c public)" "$O.1.1.0 =" "... and only for that community"
agent_stop
is "$AGENT_RC" 0 "the agent stops (SIGTERM, exit 0)"
tap_done
