#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tests/system/mib.sh: GVPN-AGENT-MIB is clean under smilint -l 6 and
# Net-SNMP's parser resolves every object to the OIDs the agent serves
# (doc/mib-design.md), with the access and notification varbinds the
# handlers implement.
#
# The IETF modules GVPN-AGENT-MIB imports (SNMPv2-SMI, SNMPv2-TC,
# SNMPv2-CONF, SNMP-FRAMEWORK-MIB, INET-ADDRESS-MIB) come from the first
# directory that has them all: $IETF_MIBDIR, Debian's erlang-snmp (as
# *.mib), or /usr/share/snmp/mibs (with or without ietf/); without them,
# smilint or snmptranslate the test is skipped.  GVPN_MIB=FILE checks
# another copy of the module (used to make sure this test can fail).
. "$srcdir/tests/lib/tap.sh"
LC_ALL=C
export LC_ALL

MIB=${GVPN_MIB:-$srcdir/mibs/GVPN-AGENT-MIB.txt}
MIBDIR=$(dirname "$MIB")

command -v smilint >/dev/null 2>&1 || unmet "smilint (libsmi) not installed"
command -v smidump >/dev/null 2>&1 || unmet "smidump (libsmi) not installed"
command -v snmptranslate >/dev/null 2>&1 || unmet "snmptranslate (Net-SNMP) not installed"

# A directory with every module GVPN-AGENT-MIB imports, under any of the
# names libsmi and Net-SNMP look for.
has_imports() {
	for m in SNMPv2-SMI SNMPv2-TC SNMPv2-CONF SNMP-FRAMEWORK-MIB INET-ADDRESS-MIB; do
		[ -f "$1/$m" ] || [ -f "$1/$m.txt" ] || [ -f "$1/$m.mib" ] || [ -f "$1/$m.my" ] || return 1
	done
}
IETF=""
for d in ${IETF_MIBDIR:-} /usr/lib/erlang/lib/snmp-*/mibs /usr/share/snmp/mibs/ietf /usr/share/snmp/mibs; do
	[ -z "$IETF" ] && [ -d "$d" ] && has_imports "$d" && IETF=$d
done
[ -n "$IETF" ] || unmet "IETF MIB modules not found (install erlang-snmp or set IETF_MIBDIR)"
[ -r "$MIB" ] || unmet "$MIB not readable"

tap_setup

P=.1.3.6.1.4.1.32473.1

# name -> numeric OID the C code and NMS configurations rely on.
OIDS="gvpnAgentMIB $P
gvpnNotifications $P.0
gvpnAgentVersion $P.1.1.1
gvpnAgentUptime $P.1.1.2
gvpnAgentConfigGeneration $P.1.1.3
gvpnAgentConfigReloadFailures $P.1.1.4
gvpnAgentCompliance $P.2.1.1
gvpnAgentScalarsGroup $P.2.2.1
gvpnServerMembers $P.1.2.1
gvpnGroupSeq $P.1.3.1.5
gvpnMemberState $P.1.4.1.6
gvpnKekSpi $P.1.5.1.2
gvpnTekStatus $P.1.6.1.9
gvpnRekeyAcked $P.1.7.1.7
gvpnMonitorInterval $P.1.8.1
gvpnVpnRekey $P.1.9.1.9
gvpnVpnLastChange $P.1.9.1.24
gvpnNotifyTunnelRekeyResultEnable $P.1.10.8
gvpnSyslogMessagesDropped $P.1.11.2
gvpnNotifyTargetDropped $P.1.12.1.8
gvpnMemberRegistered $P.0.1
gvpnRekeySent $P.0.3
gvpnTunnelRekeyResult $P.0.8"
N_OIDS=$(printf '%s\n' "$OIDS" | wc -l)

# doc/mib-design.md's whole layout: an arc under $P, then the objects
# numbered 1, 2, ... under it ("-" skips a number).
LAYOUT="0 gvpnMemberRegistered gvpnMemberRemoved gvpnRekeySent gvpnKekReplaced
  gvpnTekReplaced gvpnTunnelUp gvpnTunnelDown gvpnTunnelRekeyResult
1 - - gvpnGroupTable gvpnMemberTable gvpnKekTable gvpnTekTable gvpnRekeyTable - gvpnVpnTable
  - - gvpnNotifyTargetTable
1.1 gvpnAgentVersion gvpnAgentUptime gvpnAgentConfigGeneration gvpnAgentConfigReloadFailures
1.2 gvpnServerMembers gvpnServerRegistrations gvpnServerRegistrationsRefused
  gvpnServerRekeysSent gvpnServerRetransmissions gvpnServerMembersRemoved
  gvpnServerHeartbeats gvpnServerAcks gvpnServerDrops gvpnServerSeqSaveErrors
  gvpnServerPushesHeld
1.3 gvpnGroupEntry
1.3.1 gvpnGroupId gvpnGroupName gvpnGroupCommunication gvpnGroupMembers gvpnGroupSeq
  gvpnGroupNextRekey gvpnGroupRekeys gvpnGroupHeartbeats gvpnGroupRetransmissions
  gvpnGroupMembersRemoved gvpnGroupActivationTimeDelay
1.4 gvpnMemberEntry
1.4.1 gvpnMemberIndex gvpnMemberAddressType gvpnMemberAddress gvpnMemberPort
  gvpnMemberIdentity gvpnMemberState gvpnMemberRegisteredSince gvpnMemberLastAckedSeq
  gvpnMemberRekeysSent gvpnMemberRekeysAcked gvpnMemberRetransmissions
1.5 gvpnKekEntry
1.5.1 gvpnKekIndex gvpnKekSpi gvpnKekAlgorithm gvpnKekKeyBits gvpnKekSigHash
  gvpnKekSigKeyBits gvpnKekOriginalLifetime gvpnKekRemainingLifetime gvpnKekStatus
1.6 gvpnTekEntry
1.6.1 gvpnTekIndex gvpnTekPolicy gvpnTekSpi gvpnTekEncryption gvpnTekKeyBits
  gvpnTekIntegrity gvpnTekOriginalLifetime gvpnTekRemainingLifetime gvpnTekStatus
1.7 gvpnRekeyEntry
1.7.1 gvpnRekeyIndex gvpnRekeyTime gvpnRekeyGroupId gvpnRekeyReason gvpnRekeySeq
  gvpnRekeyTargeted gvpnRekeyAcked gvpnRekeyRemoved gvpnRekeyDuration gvpnRekeyDone
1.8 gvpnMonitorInterval gvpnMonitorThreshold
1.9 gvpnVpnEntry
1.9.1 gvpnVpnIndex gvpnVpnName gvpnVpnLocalGatewayType gvpnVpnLocalGateway
  gvpnVpnRemoteGatewayType gvpnVpnRemoteGateway gvpnVpnMonitor gvpnVpnOptimized
  gvpnVpnRekey gvpnVpnSourceInterface gvpnVpnDestinationIpType gvpnVpnDestinationIp
  gvpnVpnTunnelState gvpnVpnPhase1State gvpnVpnPhase2State gvpnVpnPhase1LifetimeLeft
  gvpnVpnPhase2LifetimeLeft gvpnVpnDelayLast gvpnVpnDelayAvg gvpnVpnAvailability
  gvpnVpnConsecutiveMisses gvpnVpnRekeyAttempts gvpnVpnRekeySuccesses gvpnVpnLastChange
1.10 gvpnNotifyMemberRegisteredEnable gvpnNotifyMemberRemovedEnable
  gvpnNotifyRekeySentEnable gvpnNotifyKekReplacedEnable gvpnNotifyTekReplacedEnable
  gvpnNotifyTunnelUpEnable gvpnNotifyTunnelDownEnable gvpnNotifyTunnelRekeyResultEnable
1.11 gvpnSyslogMessagesSent gvpnSyslogMessagesDropped
1.12 gvpnNotifyTargetEntry
1.12.1 gvpnNotifyTargetIndex gvpnNotifyTargetAddress gvpnNotifyTargetType gvpnNotifyTargetVersion
  gvpnNotifyTargetSent gvpnNotifyTargetAcked gvpnNotifyTargetRetried gvpnNotifyTargetDropped
  gvpnNotifyTargetQueued gvpnNotifyTargetEngineId gvpnNotifyTargetEngineChanges"
# "name oid" for every object of the layout, sorted by name.
LAYOUT_OIDS=$(printf '%s\n' "$LAYOUT" | awk -v p="$P" '
	/^[0-9]/ { arc = $1; n = 0; first = 2 }
	/^ /     { first = 1 }
	{ for (i = first; i <= NF; i++) { n++; if ($i != "-") print $i, p "." arc "." n } }' | sort)

# The objects doc/mib-design.md makes writable; the rest are read-only,
# but for tables, rows and index columns (not-accessible).
RW="gvpnMonitorInterval gvpnMonitorThreshold gvpnVpnMonitor gvpnVpnOptimized gvpnVpnRekey
gvpnVpnSourceInterface gvpnVpnDestinationIpType gvpnVpnDestinationIp
gvpnNotifyMemberRegisteredEnable gvpnNotifyMemberRemovedEnable gvpnNotifyRekeySentEnable
gvpnNotifyKekReplacedEnable gvpnNotifyTekReplacedEnable gvpnNotifyTunnelUpEnable
gvpnNotifyTunnelDownEnable gvpnNotifyTunnelRekeyResultEnable"

# doc/mib-design.md's notification varbinds, in order.
VARBINDS="gvpnMemberRegistered gvpnMemberAddressType, gvpnMemberAddress, gvpnMemberIdentity, gvpnGroupSeq
gvpnMemberRemoved gvpnMemberAddressType, gvpnMemberAddress, gvpnMemberIdentity, gvpnMemberLastAckedSeq
gvpnRekeySent gvpnRekeyGroupId, gvpnRekeyReason, gvpnRekeySeq, gvpnRekeyTargeted, gvpnRekeyAcked, gvpnRekeyRemoved
gvpnKekReplaced gvpnKekSpi, gvpnKekStatus
gvpnTekReplaced gvpnTekPolicy, gvpnTekSpi, gvpnTekStatus
gvpnTunnelUp gvpnVpnName, gvpnVpnTunnelState
gvpnTunnelDown gvpnVpnName, gvpnVpnTunnelState, gvpnVpnConsecutiveMisses
gvpnTunnelRekeyResult gvpnVpnName, gvpnVpnTunnelState, gvpnVpnRekeyAttempts, gvpnVpnRekeySuccesses"

# Every object and notification the module defines, read from the file.
NAMES=$(awk '/^[a-z][A-Za-z0-9]* +(OBJECT-TYPE|NOTIFICATION-TYPE)/ { print $1 }' "$MIB")
N_NAMES=$(printf '%s\n' "$NAMES" | wc -l)
# The index columns, read from the INDEX clauses.
INDEXES=$(sed -n 's/^ *INDEX *{\(.*\)}.*/\1/p' "$MIB" | tr -s ', ' '\n' | grep . | sort -u)

plan $((2 + N_OIDS + 9))

# smilint: levels 1-3 are errors, 4-6 warnings; level 6 must be silent.
lint=$(SMIPATH=$IETF smilint -l 6 -s -m "$MIB" 2>&1)
rc=$?
is "$rc" 0 "smilint -l 6 exits 0"
is "$lint" "" "smilint -l 6 prints nothing"

# Net-SNMP: ignore the system snmp.conf (Debian's says "mibs :"), load only
# this module and what it imports, keep any state in the temp dir.
snmptr() {
	SNMPCONFPATH=/nonexistent SNMP_PERSISTENT_DIR="$TAP_TMP/snmp" MIBS='' \
		snmptranslate -Pw -M "$MIBDIR:$IETF" -m GVPN-AGENT-MIB "$@" 2>>"$TAP_TMP/snmptranslate.err"
}

while read -r name oid; do
	is "$(snmptr -On "GVPN-AGENT-MIB::$name")" "$oid" "snmptranslate GVPN-AGENT-MIB::$name is $oid"
done <<EOF
$OIDS
EOF

# Every object resolves under the module's arc.
bad=""
: >"$TAP_TMP/oids"
for n in $NAMES; do
	o=$(snmptr -On "GVPN-AGENT-MIB::$n")
	echo "$n $o" >>"$TAP_TMP/oids"
	case "$o" in $P.*) ;; *) bad="$bad $n" ;; esac
done
is "$bad" "" "snmptranslate finds all $N_NAMES objects and notifications under $P"
like "$N_NAMES" '^(1[0-9][0-9]|[2-9][0-9])$' "the module defines the tables' columns ($N_NAMES names)"

# The names read from the file are exactly the objects and notifications
# libsmi finds (nothing the awk above misses).
smi=$(SMIPATH=$IETF smidump -f identifiers "$MIB" 2>/dev/null |
	awk '$3 ~ /^(scalar|table|row|column|notification)$/ { print $2 }' | sort)
is "$(printf '%s\n' "$NAMES" | sort)" "$smi" "the names read from the module are the ones smidump lists"

# Every object has the OID doc/mib-design.md gives it, and the layout
# covers every object of the module.
printf '%s\n' "$LAYOUT_OIDS" | cut -d' ' -f1 >"$TAP_TMP/layout"
is "$(sort "$TAP_TMP/oids" | join - "$TAP_TMP/layout")" "$LAYOUT_OIDS" \
	"every object has the OID of doc/mib-design.md's layout"
is "$(printf '%s\n' "$NAMES" | sort)" "$(printf '%s\n' "$LAYOUT_OIDS" | cut -d' ' -f1)" \
	"doc/mib-design.md's layout has every object of the module"

like "$(snmptr -Td GVPN-AGENT-MIB::gvpnVpnRekey)" "MAX-ACCESS[[:space:]]+read-write" \
	"gvpnVpnRekey is read-write"

# MAX-ACCESS of every object: read-write as the design says,
# not-accessible for tables, rows and index columns, else read-only.
# shellcheck disable=SC2046,SC2086
got=$(snmptr -Td $(printf 'GVPN-AGENT-MIB::%s\n' $NAMES) |
	awk '/^GVPN-AGENT-MIB::/ { sub(/^GVPN-AGENT-MIB::/, ""); n = $0 }
	     /^  MAX-ACCESS/ { print n, $2 }' | sort)
want=$(for n in $NAMES; do
	# shellcheck disable=SC2086
	if printf '%s\n' $RW | grep -qx "$n"; then echo "$n read-write"
	elif printf '%s\n' "$INDEXES" | grep -qx "$n"; then echo "$n not-accessible"
	else case "$n" in
		*Table | *Entry) echo "$n not-accessible" ;;
		*) grep -Eq "^$n +NOTIFICATION-TYPE" "$MIB" || echo "$n read-only" ;;
	esac; fi
done | sort)
is "$got" "$want" "MAX-ACCESS: the design's read-write objects, not-accessible indexes, the rest read-only"

# The notifications carry the design's varbinds, in its order.
# shellcheck disable=SC2046
got=$(snmptr -Td $(printf '%s\n' "$VARBINDS" | awk '{ print "GVPN-AGENT-MIB::" $1 }') |
	awk '/^GVPN-AGENT-MIB::/ { sub(/^GVPN-AGENT-MIB::/, ""); n = $0 }
	     /^  OBJECTS/ { sub(/^  OBJECTS[[:space:]]*\{ */, ""); sub(/ *\}$/, ""); print n, $0 }')
is "$got" "$VARBINDS" "the notifications carry doc/mib-design.md's varbinds"

# Net-SNMP's parser errors and warnings (-Pw).  Not problems: its notice
# that it skips the macro definitions in SNMPv2-SMI, and the state
# directory it creates on first use.
warn=$(grep -Ev '^(Created directory|[A-Z-]+ MACRO \(lines [0-9.]+ parsed and ignored\))' \
	"$TAP_TMP/snmptranslate.err")
is "$warn" "" "Net-SNMP parses the module without warnings"

tap_done
