#!/bin/sh
# tests/system/mib.sh: GVPN-AGENT-MIB is clean under smilint -l 6 and
# Net-SNMP's parser resolves every object to the OIDs the agent serves.
#
# Debian ships the IETF modules GVPN-AGENT-MIB imports only inside
# erlang-snmp (as *.mib); without them, smilint or snmptranslate the test
# is skipped.  GVPN_MIB=FILE checks another copy of the module (used to
# make sure this test can fail).
. "$srcdir/tests/lib/tap.sh"

MIB=${GVPN_MIB:-$srcdir/mibs/GVPN-AGENT-MIB.txt}
MIBDIR=$(dirname "$MIB")

command -v smilint >/dev/null 2>&1 || skip_all "smilint (libsmi) not installed"
command -v snmptranslate >/dev/null 2>&1 || skip_all "snmptranslate (Net-SNMP) not installed"
IETF=""
for d in /usr/lib/erlang/lib/snmp-*/mibs; do
	[ -f "$d/SNMPv2-SMI.mib" ] && IETF=$d
done
[ -n "$IETF" ] || skip_all "IETF MIB modules not found (install erlang-snmp)"
[ -r "$MIB" ] || skip_all "$MIB not readable"

tap_setup

# name -> numeric OID the C code and NMS configurations rely on.
OIDS="gvpnAgentMIB .1.3.6.1.4.1.32473.1
gvpnNotifications .1.3.6.1.4.1.32473.1.0
gvpnAgentVersion .1.3.6.1.4.1.32473.1.1.1.1
gvpnAgentUptime .1.3.6.1.4.1.32473.1.1.1.2
gvpnAgentConfigGeneration .1.3.6.1.4.1.32473.1.1.1.3
gvpnAgentConfigReloadFailures .1.3.6.1.4.1.32473.1.1.1.4
gvpnAgentCompliance .1.3.6.1.4.1.32473.1.2.1.1
gvpnAgentScalarsGroup .1.3.6.1.4.1.32473.1.2.2.1
gvpnServerMembers .1.3.6.1.4.1.32473.1.1.2.1
gvpnGroupSeq .1.3.6.1.4.1.32473.1.1.3.1.5
gvpnMemberState .1.3.6.1.4.1.32473.1.1.4.1.6
gvpnKekSpi .1.3.6.1.4.1.32473.1.1.5.1.2
gvpnTekStatus .1.3.6.1.4.1.32473.1.1.6.1.9
gvpnRekeyAcked .1.3.6.1.4.1.32473.1.1.7.1.7
gvpnMonitorInterval .1.3.6.1.4.1.32473.1.1.8.1
gvpnVpnRekey .1.3.6.1.4.1.32473.1.1.9.1.9
gvpnVpnLastChange .1.3.6.1.4.1.32473.1.1.9.1.24
gvpnNotifyTunnelRekeyResultEnable .1.3.6.1.4.1.32473.1.1.10.8
gvpnSyslogMessagesDropped .1.3.6.1.4.1.32473.1.1.11.2
gvpnMemberRegistered .1.3.6.1.4.1.32473.1.0.1
gvpnRekeySent .1.3.6.1.4.1.32473.1.0.3
gvpnTunnelRekeyResult .1.3.6.1.4.1.32473.1.0.8"
# Every object and notification the module defines, read from the file.
NAMES=$(awk '/^[a-z][A-Za-z0-9]* +(OBJECT-TYPE|NOTIFICATION-TYPE)/ { print $1 }' "$MIB")
N_NAMES=$(printf '%s\n' "$NAMES" | wc -l)

plan $((11 + 14 + 3))

# smilint: levels 1-3 are errors, 4-6 warnings; level 6 must be silent.
lint=$(SMIPATH=$IETF smilint -l 6 -s -m "$MIB" 2>&1)
rc=$?
is "$rc" 0 "smilint -l 6 exits 0"
is "$lint" "" "smilint -l 6 prints nothing"

# Net-SNMP: ignore the system snmp.conf (Debian's says "mibs :"), load only
# this module and what it imports, keep any state in the temp dir.
snmptr() {
	SNMPCONFPATH=/nonexistent SNMP_PERSISTENT_DIR="$TAP_TMP/snmp" MIBS= \
		snmptranslate -Pw -M "$MIBDIR:$IETF" -m GVPN-AGENT-MIB "$@"
}

echo "$OIDS" | {
	while read -r name oid; do
		got=$(snmptr -On "GVPN-AGENT-MIB::$name" 2>>"$TAP_TMP/snmptranslate.err")
		is "$got" "$oid" "snmptranslate GVPN-AGENT-MIB::$name is $oid"
	done
	# The subshell's failures must reach the parent: pass them out.
	echo "$TAP_N $TAP_FAILED" >"$TAP_TMP/counts"
}
read -r TAP_N TAP_FAILED <"$TAP_TMP/counts"

# Every object resolves under the module's arc.
bad=""
for n in $NAMES; do
	o=$(snmptr -On "GVPN-AGENT-MIB::$n" 2>>"$TAP_TMP/snmptranslate.err")
	case "$o" in .1.3.6.1.4.1.32473.1.*) ;; *) bad="$bad $n" ;; esac
done
is "$bad" "" "snmptranslate finds all $N_NAMES objects and notifications under .1.3.6.1.4.1.32473.1"
like "$N_NAMES" '^(1[0-9][0-9]|[2-9][0-9])$' "the module defines the tables' columns ($N_NAMES names)"
like "$(snmptr -Td GVPN-AGENT-MIB::gvpnVpnRekey 2>/dev/null)" "MAX-ACCESS[[:space:]]+read-write" \
	"gvpnVpnRekey is read-write"

# Net-SNMP's parser errors and warnings (-Pw).  Not problems: its notice
# that it skips the macro definitions in SNMPv2-SMI, and the state
# directory it creates on first use.
warn=$(grep -Ev '^(Created directory|[A-Z-]+ MACRO \(lines [0-9.]+ parsed and ignored\))' \
	"$TAP_TMP/snmptranslate.err")
is "$warn" "" "Net-SNMP parses the module without warnings"

tap_done
