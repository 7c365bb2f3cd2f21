# SPDX-License-Identifier: BSD-2-Clause
# tests/lib/snmp-set-checks.sh (bash): the SNMP SET checks that must give
# the same results whether the agent is the master agent (snmp-set.sh) or
# an AgentX subagent of Debian's snmpd (snmp-agentx-set.sh). Source it
# after tap.sh; never run it.
#
# The caller provides: $CONF (the agent's config file), $O (the MIB's
# base OID), and two managers with write access, each a function taking
# a Net-SNMP tool and its arguments: mgr1 TOOL ARGS..., mgr2 TOOL ARGS...
# (SNMPv3 users, -On). The config must have four VPNs named w1..w4 at
# gvpnVpnTable indexes $W (w1) to $W+3 (w4): w1 monitored, w2 not (so
# rekey on w2 is inconsistent), w3 and w4 free to change.
# snmp_set_checks runs SET_CHECKS_PLAN results.
SET_CHECKS_PLAN=21

# The setting of VPN NAME in the file ('' when absent; a missing boolean
# is false, as the loader takes it).
file_vpn() { # file_vpn NAME KEY
	jq -r --arg n "$1" --arg k "$2" '.vpn_monitor.vpns[] | select(.name == $n) | .[$k] |
		if . == null then (if ($k == "source_interface") then "" else false end) else . end' "$CONF"
}
file_mon() { jq -r --arg k "$1" '.vpn_monitor[$k]' "$CONF"; }
# TruthValue from/to the file's booleans.
tv() { case $1 in true) echo 1 ;; false) echo 2 ;; *) echo "?$1" ;; esac; }
# Values of OIDs through manager 1, one per line, strings unquoted.
sget() { mgr1 snmpget -Oqv "$@" 2>&1 | sed 's/^"\(.*\)"$/\1/'; }
# What snmpset said went wrong: "REASON FAILED-OID", or "ok".
set_result() { # set_result OUTPUT RC
	local reason failed
	reason=$(printf '%s\n' "$1" | sed -n 's/^Reason: \([A-Za-z]*\).*/\1/p' | head -1)
	failed=$(printf '%s\n' "$1" | sed -n 's/^Failed object: \(.*\)/\1/p' | head -1)
	if [ "$2" -eq 0 ] && [ -z "$reason" ]; then echo ok; else echo "${reason:-rc=$2:$(printf '%s' "$1" | head -c 200)} $failed"; fi
}
# The values of the settings the checks touch, from the file and from GETs:
# "interval threshold w1.optimized w3.monitor w3.rekey w3.if w4.optimized w4.if".
state_file() {
	echo "$(file_mon interval) $(file_mon threshold) $(tv "$(file_vpn w1 optimized)")" \
		"$(tv "$(file_vpn w3 monitor)") $(tv "$(file_vpn w3 rekey)") $(file_vpn w3 source_interface)" \
		"$(tv "$(file_vpn w4 optimized)") $(file_vpn w4 source_interface)"
}
state_get() {
	sget $O.8.1.0 $O.8.2.0 $O.9.1.8.$W $O.9.1.7.$((W + 2)) $O.9.1.9.$((W + 2)) $O.9.1.10.$((W + 2)) \
		$O.9.1.8.$((W + 3)) $O.9.1.10.$((W + 3)) | paste -sd' '
}

snmp_set_checks() { # snmp_set_checks LABEL
	local L=$1 i n=20 okrc=0 applied=0 agree=0 out rc want before state
	local int=$O.8.1.0 thr=$O.8.2.0
	local w1=$W w2=$((W + 1)) w3=$((W + 2)) w4=$((W + 3))

	# Valid SETs, one after the other: each is answered noError, is in
	# the file, and a GET then reads what the file says.
	for i in $(seq 1 $n); do
		want=$((10 + i))
		out=$(mgr1 snmpset $int u $want $O.9.1.8.$w1 i $((2 - i % 2)) 2>&1); rc=$?
		[ "$(set_result "$out" $rc)" = ok ] && okrc=$((okrc + 1))
		[ "$(file_mon interval) $(tv "$(file_vpn w1 optimized)")" = "$want $((2 - i % 2))" ] && applied=$((applied + 1))
		[ "$(state_file)" = "$(state_get)" ] && agree=$((agree + 1))
	done
	diag "$L: $applied of $n valid SETs reached the file ($okrc answered noError)"
	is "$okrc" $n "$L: $n valid SETs (interval, w1 optimized) are answered noError"
	is "$applied" $n "$L: ... each is in the config file once answered"
	is "$agree" $n "$L: ... and after each a GET reads what the file says"

	# Out of range: wrongValue at the faulty varbind, nothing written.
	before=$(md5sum <"$CONF"); state=$(state_file)
	out=$(mgr1 snmpset $int u 1 2>&1); rc=$?
	is "$(set_result "$out" $rc)" "wrongValue $int" "$L: interval 1 alone: wrongValue at varbind 1"
	out=$(mgr1 snmpset $int u 20 $thr u 70000 2>&1); rc=$?
	is "$(set_result "$out" $rc)" "wrongValue $thr" "$L: interval 20, threshold 70000: wrongValue at varbind 2 (threshold)"
	out=$(mgr1 snmpset $int u 20 $O.9.1.8.$w1 i 1 $O.9.1.9.$w3 i 7 2>&1); rc=$?
	is "$(set_result "$out" $rc)" "wrongValue $O.9.1.9.$w3" "$L: a TruthValue of 7 as varbind 3: wrongValue there"
	is "$(md5sum <"$CONF")" "$before" "$L: ... none of them touched the file"
	is "$(state_get)" "$state" "$L: ... nor what a GET reads"

	# Inconsistent (rekey on w2, whose monitor is off): found when the
	# edit is applied; the error names the rekey varbind wherever it is.
	out=$(mgr1 snmpset $O.9.1.9.$w2 i 1 2>&1); rc=$?
	is "$(set_result "$out" $rc)" "inconsistentValue $O.9.1.9.$w2" "$L: rekey on w2 (monitor off) alone: inconsistentValue at varbind 1"
	out=$(mgr1 snmpset $int u 25 $O.9.1.9.$w2 i 1 2>&1); rc=$?
	is "$(set_result "$out" $rc)" "inconsistentValue $O.9.1.9.$w2" "$L: interval 25, rekey on w2: inconsistentValue at varbind 2"
	out=$(mgr1 snmpset $O.9.1.8.$w1 i 1 $thr u 4 $O.9.1.9.$w2 i 1 $O.9.1.10.$w3 s eth7 2>&1); rc=$?
	is "$(set_result "$out" $rc)" "inconsistentValue $O.9.1.9.$w2" "$L: w1 optimized, threshold 4, rekey on w2, w3 interface: inconsistentValue at varbind 3"
	is "$(md5sum <"$CONF")" "$before" "$L: ... the refused edits left the file as it was"
	is "$(state_get)" "$state" "$L: ... and a GET reads the values from before"
	out=$(mgr1 snmpset $O.9.1.7.$w2 i 1 $O.9.1.9.$w2 i 1 2>&1); rc=$?
	is "$(set_result "$out" $rc) $(file_vpn w2 monitor) $(file_vpn w2 rekey) $(sget $O.9.1.7.$w2 $O.9.1.9.$w2 | tr '\n' ' ')" \
		"ok true true 1 1 " "$L: monitor and rekey on w2 in one SET: applied, in the file and by GET"

	# Many varbinds in one SET, over both scalars and four rows (optimized
	# and rekey need monitor: valid only together).
	out=$(mgr1 snmpset $int u 33 $thr u 5 $O.9.1.8.$w1 i 1 $O.9.1.7.$w3 i 1 $O.9.1.9.$w3 i 1 \
		$O.9.1.10.$w3 s lo $O.9.1.8.$w4 i 1 $O.9.1.10.$w4 s eth1 $O.9.1.8.$w3 i 1 $O.9.1.8.$w2 i 1 \
		$O.9.1.12.$w4 x 0A00002C $O.9.1.7.$w4 i 1 2>&1); rc=$?
	is "$(set_result "$out" $rc)" ok "$L: 12 varbinds in one SET: noError"
	is "$(state_file)" "33 5 1 1 1 lo 1 eth1" "$L: ... all of them in the file"
	is "$(state_get)" "$(state_file)" "$L: ... and a GET reads the same"
	is "$(tv "$(file_vpn w3 optimized)") $(tv "$(file_vpn w2 optimized)") $(file_vpn w4 destination_ip)" "1 1 10.0.0.44" \
		"$L: ... w3 and w2 optimized, w4's destination 10.0.0.44 too"

	# Two managers at once, each on its own row: every SET answered
	# noError and applied, so each row ends with its manager's last value
	# and the other's changes are not lost.
	local k=15
	( r=0; for i in $(seq 1 $k); do
		out=$(mgr1 snmpset $O.9.1.10.$w3 s "ma$i" 2>&1) && [ "$(set_result "$out" 0)" = ok ] && r=$((r + 1)); done
	  echo $r >"$TAP_TMP/mgr1.n" ) &
	local p1=$!
	( r=0; for i in $(seq 1 $k); do
		out=$(mgr2 snmpset $O.9.1.10.$w4 s "mb$i" $O.9.1.8.$w4 i $((2 - i % 2)) 2>&1) && [ "$(set_result "$out" 0)" = ok ] && r=$((r + 1)); done
	  echo $r >"$TAP_TMP/mgr2.n" ) &
	local p2=$!
	wait $p1 $p2
	is "$(cat "$TAP_TMP/mgr1.n") $(cat "$TAP_TMP/mgr2.n")" "$k $k" "$L: two managers SETting in parallel ($k SETs each): all answered noError"
	is "$(file_vpn w3 source_interface) $(file_vpn w4 source_interface) $(tv "$(file_vpn w4 optimized)")" "ma$k mb$k $((2 - k % 2))" \
		"$L: ... each row ends with its manager's last values in the file"
	is "$(state_get)" "$(state_file)" "$L: ... a GET reads the same"
}
