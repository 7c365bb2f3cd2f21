# SPDX-License-Identifier: BSD-2-Clause
# gdoid.sh: interoperability with gdoid, Cisco's GDOI reference
# implementation (RFC 3547 era, derived from isakmpd), used as test
# equipment: its source, build fixes and configs are in
# $srcdir/../shared/interop/gdoid (see its README.md); it is built once into
# the build tree and never becomes part of the project.
#
#   ns KS: $VK 10.77.0.1 (key server) -- veth -- ns GM: $VG 10.77.0.2 (member)
#   multicast rekeys go to 239.77.1.1:848 (224.0.0.0/4 routed on the veth)
#
# A: gdoid as group member -> gvpn-agent as key server, group 1 with
#    "wire_profile": "gdoid", multicast server-member communication, 3DES
#    KEK, heartbeats every 2 s: Main Mode, GROUPKEY-PULL with the same
#    TEK/KEK keys on both sides, the TEK selectors gdoid installs, a policy
#    removed by a reload reaching gdoid as a DELETE, a manual rekey (new TEKs
#    and a new KEK: gvpnctl rekey rotates every key; a scheduled KEK rekey
#    would take lifetime_seconds >= 300 less 4 x activation_time_delay), the
#    next push sealed with that new KEK, and the heartbeats.
# B: gvpn-member --profile gdoid -> gdoid as key server: Main Mode,
#    GROUPKEY-PULL with the same keys, the selectors, gdoid's own TEK rekey
#    (REKEY_PERIOD) and KEK rekey (KEK_REKEY_PERIOD; gdoid has no minimum for
#    either: atoi, defaults 10 and 25 s, timers started by the first PULL),
#    and the SEQ, D, SIG push gdoid sends when it shuts down (SIGTERM or
#    SIGINT: gdoi_rekey_delete_sas() deletes every TEK it gave out; nothing
#    else sends one, not even the -f FIFO).
# tshark captures the veth for the whole test and decodes every message;
# the plaintext is decoded too: the agent's debug_pcap and gdoid's own
# packet logs (-l).
#
# What gdoid logs and this test reads (with -DA=90; the shared patch adds
# the "INTEROP" lines):
#   member:  "SPI found (KD) <u> (0x<spi>)" then "INTEROP TEK secrecy key (24
#            bytes): <hex>", "INTEROP TEK integrity key (20 bytes): <hex>",
#            "INTEROP KEK secrecy attribute (32 bytes): <IV||key>";
#            per push: "rekey_udp_handle_message: GOT A REKEY MESSAGE!!!",
#            "Mesg 70 ICOOKIE:/RCOOKIE:" (the KEK it is sealed with), "GOT SEQ #
#            of: N (PUSH)", "group_handle_incoming_kek: Got New KEK SPI: a b",
#            "ipsec_delete_spi_list: DELETE made us delete SA" (it finds only
#            the phase 2 SAs of its PULL; a TEK from a push gives "could not
#            locate IPsec SA"), "gdoi_ipsec_deliver_keys: src S M dst D M"
#            (selectors, ntohl'd), "DONE WITH REKEY (RECEIVE)!!!" (logged even
#            after "Aborting processing of Rekey message": the verdict needs
#            both).
#   server:  "gdoi_add_ipsec_spi_to_list: Adding TEK SPI <u> (<d>) (0x<spi>)"
#            in HOST byte order; "gdoi_rekey_sender: Timer sprung!!!" (TEK
#            rekey), "gdoi_kek_rekey_sender: Timer sprung!!!" (KEK rekey),
#            "SENT SEQ # of: N (PUSH)", "gdoi_add_deleted_sa: Deleting SPI (SA)
#            <u> (<d>) (0x<spi>)" (network order). It does not log the keys
#            it sends: they are read from the plaintext of its packet log (-l,
#            Main Mode and PULL; its pushes are logged encrypted) and of its
#            debug dump ("rekey_crypto_encrypt: before encryption:").
. "$srcdir/tests/lib/tap.sh"
tap_setup
GDOID_SHARED=$srcdir/../shared/interop/gdoid
[ -d "$GDOID_SHARED" ] || unmet "gdoid test equipment not found ($GDOID_SHARED)"
[ "$(id -u)" -eq 0 ] || unmet "network namespaces need root"
need ip tshark openssl flock jq perl ss
T=$TAP_TMP
GDOID_DIR=$top_builddir/tests/interop/gdoid-build
GDOID=$GDOID_DIR/gdoid/src/gdoid
KS=gvpn-iop-ks-$$ GM=gvpn-iop-gm-$$ VK=iopk$$ VG=iopg$$
PSK=interop-psk-0123456789
REKEY_PERIOD=10 KEK_REKEY_PERIOD=15
iop_cleanup() {
	tap_cleanup
	[ "$BASHPID" = "$TAP_MAIN_PID" ] || return 0
	ip netns del "$KS" 2>/dev/null
	ip netns del "$GM" 2>/dev/null
}
trap iop_cleanup EXIT
plan 27

# ---- helpers -------------------------------------------------------------------
# check DESC FUNC [ARGS...]: one TAP line for FUNC's status; FUNC's output
# is the evidence, printed as diagnostics whatever the result.
check() {
	local desc=$1; shift
	"$@" >"$T/.check.out" 2>&1
	local rc=$?
	_tap_result $rc "$desc"
	sed 's/^/#   /' "$T/.check.out" | head -"${CHECK_LINES:-40}"
	return $rc
}
# req VAR WHAT: fails (rc 1) with a reason when an earlier step did not happen,
# so that nothing is compared with an empty string.
req() {
	[ "${!1:-0}" = 1 ] && return 0
	echo "not checked: $2 did not happen"
	return 1
}
bail() { echo "Bail out! $*"; exit 1; }
# wait_slow SECS cmd...: wait_for for commands that run tshark (every 0.5 s).
wait_slow() {
	local end=$(( $(date +%s) + $1 )); shift
	until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -lt "$end" ] || return 1; sleep 0.5; done
}
# gd_start NAME NS CONF: gdoid in namespace NS, logs in $T/NAME.log, its
# plaintext packet log in $T/NAME.plog; sets GD_PID.
gd_start() {
	ip netns exec "$2" "$GDOID" -d -n -p848 -DA=90 -f "$T/$1.fifo" -i "$T/$1.pid" -l "$T/$1.plog" \
		-c "$3" >"$T/$1.log" 2>&1 &
	GD_PID=$!
	tap_track_pid $GD_PID
}
# stop_pid PID [SIGNAL]: signals a process we started and waits (5 s) for it.
stop_pid() {
	kill -"${2:-TERM}" "$1" 2>/dev/null
	local i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
# gd_conf TEMPLATE OUT: a shared config with the placeholders filled, mode 0600.
gd_conf() {
	sed -e "s|@RUN@|$T|g" -e "s|@KS@|10.77.0.1|g" -e "s|@REKEY_PERIOD@|$REKEY_PERIOD|g" \
		-e "s|@KEK_REKEY_PERIOD@|$KEK_REKEY_PERIOD|g" "$GDOID_SHARED/conf/$1" >"$2" && chmod 600 "$2"
}
# Lines gdoid logs (log_print/log_error are class "Default") that mean a
# message or a part of it was refused.
GD_ERR='Abort|[Ff]ail|does not match|out of range|[Mm]issing|[Ii]nvalid|[Uu]nsupported|[Uu]nknown|not valid|[Ee]rror|could not|[Ww]rong|[Mm]alformed|[Tt]oo (short|long|big)|[Mm]ismatch'
gd_errors() { grep -E "^[0-9.]+ Default .*($GD_ERR)" "$@" | grep -v 'udp_make: bind\|udp_init: could not allocate default'; }
# gm_pushes LOG: one line per push the gdoid member received, tab separated:
# SEQ VERDICT SEALING-KEK SA-KEK DELETED TEK-SPIS ERRORS NOT-FOUND D-PAYLOADS
# INSTALLED (gdoi_ipsec_deliver_keys calls),
# from "GOT A REKEY MESSAGE" to "DONE WITH REKEY" (unrelated lines follow it).
gm_pushes() {
	awk -v ERR="$GD_ERR" '
	function pad(x, n) { sub(/^0x/, "", x); while (length(x) < n) x = "0" x; return x }
	function flush() { if (n) printf "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d\t%d\n", seq, (done && err == "" ? "accepted" : "refused"), ic rc, nk, nd, teks, err, nf, dp, inst; n = 0 }
	/rekey_udp_handle_message: GOT A REKEY MESSAGE/ { flush(); n = 1; seq = "?"; done = 0; err = ic = rc = nk = teks = nf = ""; nd = dp = inst = 0; next }
	!n { next }
	/ Mesg 70 ICOOKIE: / && ic == "" { ic = pad($NF, 16) }
	/ Mesg 70 RCOOKIE: / && rc == "" { rc = pad($NF, 16) }
	/ Default GOT SEQ # of: [0-9]+ \(PUSH\)/ { seq = $(NF - 1) }
	/ Default group_handle_incoming_kek: Got New KEK SPI: / { nk = pad($(NF - 1), 16) pad($NF, 16) }
	/ Default  SPI found \(KD\) / { s = $0; sub(/.*\(0x/, "", s); sub(/\).*/, "", s); teks = teks (teks == "" ? "" : ",") pad(s, 8) }
	/ message_parse_payloads: .* payload DELETE$/ { dp++ }
	/DELETE made us delete SA/ { nd++ }
	/ gdoi_ipsec_deliver_keys: src / { inst++ }
	/could not locate IPsec SA \(SPI / { s = $0; sub(/.*\(SPI /, "", s); sub(/,.*/, "", s); nf = nf (nf == "" ? "" : ",") pad(s, 8) }
	/DONE WITH REKEY \(RECEIVE\)/ { done = 1; flush() }
	$2 == "Default" && $0 ~ ERR && $0 !~ /udp_make: bind|default GDOI UDP port/ { e = $0; sub(/^[0-9.]+ Default /, "", e); err = err (err == "" ? "" : " | ") e }
	END { flush() }' "$1"
}
gm_push() { gm_pushes "$1" | awk -F'\t' -v s="$2" '$1 == s'; }
# gm_keys LOG: what the gdoid member received, as hex patterns of its KD:
# LABEL tek SPI SPI||0001 len key||0002 len key, LABEL kek - 0001 len IV||key
# (LABEL: pull, or the push's SEQ).
gm_keys() {
	awk '
	function hx(n) { return sprintf("%04x", n) }
	function len(  n) { n = $(NF - 2); sub(/\(/, "", n); return n + 0 }
	/ Default GOT SEQ # of: [0-9]+ \((PUSH|PULL)\)/ { lab = ($NF == "(PULL)" ? "pull" : $(NF - 1)) }
	/ Default  SPI found \(KD\) / { if (tek != "") print lab, "tek", spi, tek; s = $0; sub(/.*\(0x/, "", s); sub(/\).*/, "", s); while (length(s) < 8) s = "0" s; spi = s; tek = s }
	/ Default INTEROP TEK secrecy key / { tek = tek "0001" hx(len()) $NF }
	/ Default INTEROP TEK integrity key / { tek = tek "0002" hx(len()) $NF }
	/ Default INTEROP KEK secrecy attribute / { print lab, "kek", "-", "0001" hx(len()) $NF }
	/rekey_udp_handle_message: GOT A REKEY MESSAGE|exchange_finalize/ { if (tek != "") print lab, "tek", spi, tek; tek = "" }
	END { if (tek != "") print lab, "tek", spi, tek }' "$1" | sort -u
}
# plain_msgs PCAP: the plaintext ISAKMP messages of a pcap: EXCH SEQ HEX.
plain_msgs() {
	tshark -r "$1" -d udp.port==848,isakmp -T fields -e isakmp.exchangetype -e isakmp.seq.seq -e udp.payload 2>/dev/null
}
# plain_of PCAP LABEL: the plaintext of the GROUPKEY-PULL messages (pull)
# or of the push with SEQ LABEL.
plain_of() {
	if [ "$2" = pull ]; then plain_msgs "$1" | awk -F'\t' '$1 == 32 { print $3 }'
	else plain_msgs "$1" | awk -F'\t' -v s="$2" '$1 == 33 && $2 == s { print $3 }'; fi
}
# keys_in PCAP LABEL: every key gdoid (member A) logged for LABEL is in the
# agent's plaintext of that message, under the same SPI.
keys_in() {
	local pcap=$1 lab=$2 k plain n=0 bad=0 kind spi pat
	k=$(gm_keys "$T/gm-a.log" | awk -v l="$lab" '$1 == l')
	plain=$(plain_of "$pcap" "$lab" | tr -d '\n')
	[ -n "$k" ] || { echo "gdoid logged no keys for $lab"; return 1; }
	[ -n "$plain" ] || { echo "no plaintext message for $lab in $pcap"; return 1; }
	while read -r _ kind spi pat; do
		n=$((n + 1)); [ "$spi" = - ] || spi=" $spi"
		if printf '%s' "$plain" | grep -q "$pat"; then
			echo "$kind${spi#-}: equal: gdoid's $(printf '%s' "$pat" | cut -c1-48)... is in the agent's KD"
		else
			echo "$kind${spi#-}: DIFFERS: gdoid logged $pat, not in the agent's plaintext"; bad=1
		fi
	done <<<"$k"
	[ $bad = 0 ] && [ $n -gt 0 ]
}
fix_plog() { # gdoid's -l packet log on LP64 has 16-byte timevals in its record headers
	perl -e 'binmode STDIN; binmode STDOUT; local $/; my $d = <STDIN>; print substr($d, 0, 24); my $o = 24;
		while ($o + 24 <= length $d) { my ($s, $u, $c, $l) = unpack("Q< Q< V V", substr($d, $o, 24));
		print pack("VVVV", $s, $u, $c, $l), substr($d, $o + 24, $c); $o += 24 + $c }' <"$1" >"$2"
}
# spi_wire U: gdoid's "Adding TEK SPI" value U (host order) as the SPI on the
# wire (byte-swapped on a little-endian host).
LE=$(printf '\001\000' | od -An -tu2 | tr -d ' ')
spi_wire() {
	local h; h=$(printf '%08x' "$1")
	if [ "$LE" = 1 ]; then echo "${h:6:2}${h:4:2}${h:2:2}${h:0:2}"; else echo "$h"; fi
}

# ---- gdoid, built once into the build tree ---------------------------------------
build_gdoid() {
	mkdir -p "$GDOID_DIR" || return 1
	(
		flock -w 300 9 || { echo "timed out waiting for another build of gdoid"; exit 1; }
		if [ -x "$GDOID" ]; then echo "already built: $GDOID"; exit 0; fi
		rm -rf "$GDOID_DIR/gdoid"
		if ! sh "$GDOID_SHARED/build.sh" "$GDOID_DIR"; then
			tail -20 "$GDOID_DIR/gdoid/make.log" "$GDOID_DIR/gdoid/configure.log" 2>/dev/null
			exit 1
		fi
	) 9>"$GDOID_DIR.lock"
}
check "gdoid is built (once, cached in $GDOID_DIR)" build_gdoid || bail "gdoid did not build"

# ---- two namespaces, a veth pair, multicast routes ---------------------------------
ns_setup() {
	ip netns add "$KS" && ip netns add "$GM" &&
	ip link add "$VK" netns "$KS" type veth peer name "$VG" netns "$GM" &&
	ip -n "$KS" addr add 10.77.0.1/24 dev "$VK" &&
	ip -n "$GM" addr add 10.77.0.2/24 dev "$VG" || return 1
	local n
	for n in "$KS:$VK" "$GM:$VG"; do
		ip -n "${n%%:*}" link set lo up && ip -n "${n%%:*}" link set "${n##*:}" up &&
		ip -n "${n%%:*}" route add 224.0.0.0/4 dev "${n##*:}" || return 1
	done
	echo "$KS ($VK 10.77.0.1) -- $GM ($VG 10.77.0.2), 224.0.0.0/4 on each"
}
check "two namespaces joined by a veth pair" ns_setup || bail "cannot set up the namespaces"

ip netns exec "$GM" tshark -i "$VG" -f udp -w "$T/wire.pcap" >"$T/tshark.log" 2>&1 &
TSHARK=$!
tap_track_pid $TSHARK
wait_for 20 grep -q "Capturing on" "$T/tshark.log" || bail "tshark does not capture: $(cat "$T/tshark.log")"

# ==== A: gdoid member -> gvpn-agent key server ======================================
agent_write_config "\"group_vpn_server\": {
    \"listen\": \"10.77.0.1:848\", \"debug_pcap\": \"plain.pcap\",
    \"ike_proposals\": [ { \"encryption\": \"3des-cbc\", \"hash\": \"sha1\", \"dh_group\": \"modp-1024\" } ],
    \"groups\": [ { \"name\": \"iop\", \"group_id\": 1, \"wire_profile\": \"gdoid\",
        \"server_member_communication\": { \"communication_type\": \"multicast\",
          \"multicast_group\": \"239.77.1.1\", \"multicast_port\": 848, \"multicast_interface\": \"$VK\",
          \"encryption_algorithm\": \"3des-cbc\", \"sig_hash_algorithm\": \"sha-256\",
          \"heartbeat\": 2, \"membership_rekey\": false },
        \"ipsec_sa\": [
          { \"name\": \"audio\", \"proposal\": \"esp-3des-sha1\", \"match\": { \"source\": \"10.77.0.2/32\", \"destination\": \"239.1.1.2/32\" } },
          { \"name\": \"video\", \"proposal\": \"esp-3des-sha1\", \"match\": { \"source\": \"10.77.0.2/32\", \"destination\": \"239.1.1.1/32\" } } ],
        \"members\": [ { \"address\": \"10.77.0.2\", \"psk\": \"iop\" } ] } ] }"
cat >"$SECRETS" <<JSON
{ "snmp_users": { "tester": { "auth_passphrase": "tester-auth-1", "priv_passphrase": "tester-priv-1" } },
  "psk": { "iop": "$PSK" } }
JSON
chmod 600 "$SECRETS"
AGENT_NETNS=$KS
A_AGENT=0
a_agent() {
	if agent_start; then echo "agent pid $AGENT_PID in $KS, listening on 10.77.0.1:848"; return 0; fi
	echo "the agent did not start; its log:"; tail -15 "$T/agent.log"; return 1
}
check "A: gvpn-agent starts in $KS with the group's \"wire_profile\": \"gdoid\" (multicast, 3DES KEK)" a_agent && A_AGENT=1

gd_conf gdoid-gm.conf "$T/gdoid-gm.conf"
[ $A_AGENT = 1 ] && { gd_start gm-a "$GM" "$T/gdoid-gm.conf"; GM_A=$GD_PID; }
GLOG=$T/gm-a.log
A_MM=0 A_REG=0
a_mm() {
	req A_AGENT "the agent's start" || return 1
	if wait_for 20 grep -qE 'exchange_finalize: .* Default-main-mode policy initiator phase 1 doi 2 exchange 2 ' "$GLOG"; then
		grep -E 'exchange_finalize: phase 1 done' "$GLOG" | head -1 | cut -c1-200; return 0
	fi
	echo "gdoid:"; gd_errors "$GLOG" | tail -10; echo "agent:"; tail -5 "$T/agent.log"; return 1
}
check "A: Main Mode between gdoid (member) and gvpn-agent completes" a_mm && A_MM=1
a_pull() {
	req A_MM "Main Mode" || return 1
	if wait_for 15 grep -qE 'exchange_finalize: .* Default-group-mode policy initiator phase 2 doi 2 exchange 32 ' "$GLOG"; then
		grep -E 'GOT SEQ # of: [0-9]+ \(PULL\)|INTEROP|SPI found \(KD\)' "$GLOG" | sed 's/^[0-9.]* Default *//'
		gd_errors "$GLOG" | tail -5
		grep -q 'INTEROP TEK secrecy key' "$GLOG"; return
	fi
	echo "gdoid:"; gd_errors "$GLOG" | tail -10; echo "agent:"; tail -5 "$T/agent.log"; return 1
}
check "A: GROUPKEY-PULL completes: gdoid receives the TEKs and the KEK" a_pull && A_REG=1

# The agent's TEK SPIs (show sa) are the ones gdoid received.
sa_json() { ctl --json show sa; }
agent_teks() { sa_json | jq -r ".result.groups[0].teks[] | select(.status == \"$1\" or \"$1\" == \"all\") | .spi[2:]" | sort; }
a_spis() {
	req A_REG "the registration" || return 1
	local ours theirs
	ours=$(agent_teks all | tr '\n' ' ')
	theirs=$(gm_keys "$GLOG" | awk '$1 == "pull" && $2 == "tek" { print $3 }' | sort | tr '\n' ' ')
	echo "agent (show sa): $ours"; echo "gdoid (SPI found (KD)): $theirs"
	[ -n "$ours" ] && [ "$ours" = "$theirs" ]
}
check "A: the TEK SPIs are equal on both sides" a_spis
check "A: the TEK keys and the KEK (IV||key) gdoid received are the agent's (debug_pcap KD)" \
	eval 'req A_REG "the registration" && keys_in "$T/plain.pcap" pull'

# gdoid reads the TEK selectors with a byte order of its own: its key
# server writes them swapped on a little-endian host and its member reads
# them back the same way (gdoid <-> gdoid logs "gdoi_ipsec_deliver_keys: src
# a4d0002 ffffffff dst ef010101 ffffffff" for 10.77.0.2 -> 239.1.1.1).
a_selectors() {
	req A_REG "the registration" || return 1
	local got
	got=$(sed -n 's/.* gdoi_ipsec_deliver_keys: src \([0-9a-f]*\) [0-9a-f]* dst \([0-9a-f]*\) .*/\1 -> \2/p' "$GLOG" | sort -u | tr '\n' ',')
	echo "gdoid (gdoi_ipsec_deliver_keys, ntohl'd): $got"
	echo "configured: 10.77.0.2 -> 239.1.1.1 and 239.1.1.2, which gdoid logs as a4d0002 -> ef010101, a4d0002 -> ef010102"
	echo "the agent's SA TEK IDs (type 1, port 0, length 4, address) in its PULL plaintext: $(plain_of "$T/plain.pcap" pull | grep -oE '01000004(0a4d0002|02004d0a|ef01010[12]|0[12]0101ef)' | sort -u | tr '\n' ' ')"
	[ "$got" = "a4d0002 -> ef010101,a4d0002 -> ef010102," ]
}
check "A: gdoid installs the TEK selectors the agent configured (10.77.0.2 -> 239.1.1.1/.2)" a_selectors

# A policy removed by a reload: the agent pushes a DELETE for its TEK. Done
# before any rekey: gdoid's member finds (gdoi_sa_lookup: phase 2 SAs only)
# the TEKs of its GROUPKEY-PULL but never those of a push ("could not locate
# IPsec SA"), so only a TEK from the registration can show the deletion.
a_delete() {
	req A_REG "the registration" || return 1
	local audio last p s sent
	audio=$(sa_json | jq -r '.result.groups[0].teks[] | select(.name == "audio") | .spi[2:]' | sort -u | tr '\n' ' ')
	echo "audio's TEK(s) before the reload: $audio"
	last=$(gm_pushes "$GLOG" | awk -F'\t' '$1 ~ /^[0-9]+$/ { s = $1 } END { print s + 0 }')
	sed -i '/"name": "audio"/d' "$CONF"
	echo "gvpnctl reload: $(ctl reload)"
	del() { gm_pushes "$GLOG" | awk -F'\t' -v l="$last" '$1 ~ /^[0-9]+$/ && $1 > l && $9 > 0' | head -1; }
	wait_for 10 eval '[ -n "$(del)" ]'
	p=$(del)
	if [ -z "$p" ]; then
		echo "no push with a DELETE payload reached gdoid; pushes after SEQ $last:"
		gm_pushes "$GLOG" | awk -F'\t' -v l="$last" '$1 == "?" || $1 > l' | tail -5
		return 1
	fi
	s=$(printf '%s' "$p" | cut -f1)
	sent=$(tshark -r "$T/plain.pcap" -d udp.port==848,isakmp -Y "isakmp.seq.seq == $s" -T fields -e isakmp.delete.spi 2>/dev/null | tr ',' ' ')
	echo "agent's push SEQ $s deletes (debug_pcap): $sent"
	echo "gdoid: SEQ $s $(printf '%s' "$p" | cut -f2): $(printf '%s' "$p" | cut -f9) DELETE payload(s), $(printf '%s' "$p" | cut -f5) SA(s) deleted; not found: $(printf '%s' "$p" | cut -f8) $(printf '%s' "$p" | cut -f7)"
	[ -n "$audio" ] && [ "$(printf '%s' "$p" | cut -f2)" = accepted ] && [ "$(printf '%s' "$p" | cut -f5)" -ge 1 ] &&
		[ -z "$(printf '%s' "$p" | cut -f8)" ]
}
check "A: a policy removed by gvpnctl reload reaches gdoid as a DELETE, which removes its TEK" a_delete

# A rekey: new TEKs and a new KEK (gvpnctl rekey rotates every key), pushed
# under the old KEK.
A_RK1=0
a_rekey1() {
	req A_REG "the registration" || return 1
	local out before
	before=$(agent_teks all)
	out=$(ctl rekey group 1); echo "gvpnctl rekey group 1: $out"
	NEW1=$(agent_teks all | grep -vxF "$before")
	S1=$(printf '%s' "$out" | sed -n 's/.*rekey SEQ \([0-9]*\).*/\1/p')
	[ -n "$S1" ] || return 1
	wait_for 10 eval '[ -n "$(gm_push "$GLOG" "$S1")" ]'
	local p; p=$(gm_push "$GLOG" "$S1")
	[ -n "$p" ] || { echo "gdoid logged no push with SEQ $S1; pushes it got:"; gm_pushes "$GLOG" | tail -5; return 1; }
	echo "gdoid: SEQ $S1: $(printf '%s' "$p" | cut -f2) (sealed with KEK $(printf '%s' "$p" | cut -f3), TEKs $(printf '%s' "$p" | cut -f6), $(printf '%s' "$p" | cut -f10) installed)"
	printf '%s' "$p" | cut -f7 | grep . && return 1
	[ "$(printf '%s' "$p" | cut -f2)" = accepted ] && [ "$(printf '%s' "$p" | cut -f10)" -ge 1 ]
}
check "A: gvpnctl rekey group 1: gdoid decrypts the push, verifies its signature and installs the TEKs" a_rekey1 && A_RK1=1
a_rekey1_keys() {
	req A_RK1 "the rekey" || return 1
	local new theirs s
	new=$NEW1; theirs=$(gm_push "$GLOG" "$S1" | cut -f6 | tr ',' '\n')
	echo "agent's new TEKs: $(echo $new)"; echo "in gdoid's push SEQ $S1: $(echo $theirs)"
	[ -n "$new" ] || return 1
	for s in $new; do printf '%s\n' "$theirs" | grep -qx "$s" || { echo "$s missing at gdoid"; return 1; }; done
	keys_in "$T/plain.pcap" "$S1"
}
check "A: the new TEKs (SPIs and keys) are equal on both sides" a_rekey1_keys
A_KEK=0
a_kek() {
	req A_RK1 "the rekey" || return 1
	K2=$(sa_json | jq -r '.result.groups[0].kek.spi')
	local theirs; theirs=$(gm_push "$GLOG" "$S1" | cut -f4)
	echo "agent's KEK now: $K2"; echo "gdoid: Got New KEK SPI: $theirs"
	[ -n "$K2" ] && [ "$K2" = "$theirs" ]
}
check "A: KEK rollover: gdoid takes the new KEK SPI the agent announces" a_kek && A_KEK=1
a_kek_used() {
	req A_KEK "the KEK rollover" || return 1
	local out p; out=$(ctl rekey group 1); echo "gvpnctl rekey group 1: $out"
	S2=$(printf '%s' "$out" | sed -n 's/.*rekey SEQ \([0-9]*\).*/\1/p')
	[ -n "$S2" ] || return 1
	wait_for 10 eval '[ -n "$(gm_push "$GLOG" "$S2")" ]'
	p=$(gm_push "$GLOG" "$S2")
	[ -n "$p" ] || { echo "gdoid logged no push with SEQ $S2; pushes it got:"; gm_pushes "$GLOG" | tail -5; return 1; }
	echo "gdoid: SEQ $S2 sealed with KEK $(printf '%s' "$p" | cut -f3): $(printf '%s' "$p" | cut -f2)"
	printf '%s' "$p" | cut -f7 | grep . && return 1
	[ "$(printf '%s' "$p" | cut -f3)" = "$K2" ] && [ "$(printf '%s' "$p" | cut -f2)" = accepted ]
}
check "A: the next push, sealed with the new KEK, is decrypted and taken by gdoid" a_kek_used

# Heartbeats: pushes in the agent's plaintext that are not rekeys, sent
# after gdoid registered; every one must reach gdoid and be taken.
hb_seqs() {
	local rk pull
	rk=$(ctl --json show rekeys | jq -r '.result[].seq' | tr '\n' ' ')
	pull=$(sed -n 's/.* Default GOT SEQ # of: \([0-9]*\) (PULL).*/\1/p' "$GLOG" | head -1)
	plain_msgs "$T/plain.pcap" | awk -F'\t' -v rk=" $rk" -v p="${pull:-0}" \
		'$1 == 33 && $2 > p && index(rk " ", " " $2 " ") == 0 { print $2 }'
}
hb_two() { [ "$(hb_seqs | wc -l)" -ge 2 ]; }
a_heartbeat() {
	req A_REG "the registration" || return 1
	wait_slow 10 hb_two
	local s p bad=0 n=0
	for s in $(hb_seqs); do
		wait_for 3 eval '[ -n "$(gm_push "$GLOG" "$s")" ]'
		p=$(gm_push "$GLOG" "$s"); n=$((n + 1))
		if [ -z "$p" ]; then echo "heartbeat SEQ $s: gdoid logged nothing it took"; bad=1
		else echo "heartbeat SEQ $s: $(printf '%s' "$p" | cut -f2) $(printf '%s' "$p" | cut -f7)"
			[ "$(printf '%s' "$p" | cut -f2)" = accepted ] || bad=1; fi
	done
	echo "agent: $(ctl --json show groups | jq -c '.result.groups[0] | {heartbeat, heartbeats, pushes}')"
	[ $n -ge 2 ] && [ $bad = 0 ]
}
check "A: heartbeats (every 2 s) are taken by gdoid without an error line" a_heartbeat

# A new KEK cipher by a reload: the KEK is replaced at once (pushed under the
# old one), the way gdoid's own KEK rekey works; gdoid takes AES KEKs of 128
# bits only (IV || key = 32 octets).
a_kek_aes() {
	req A_REG "the registration" || return 1
	local last old new p q
	old=$(sa_json | jq -r '.result.groups[0].kek.spi')
	last=$(gm_pushes "$GLOG" | awk -F'\t' '$1 ~ /^[0-9]+$/ { s = $1 } END { print s + 0 }')
	sed -i 's/"encryption_algorithm": "3des-cbc"/"encryption_algorithm": "aes-128-cbc"/' "$CONF"
	echo "gvpnctl reload: $(ctl reload)"
	new=$(sa_json | jq -r '.result.groups[0].kek | "\(.spi) \(.algorithm)"')
	echo "agent's KEK: $old -> $new"
	new=${new%% *}
	# the push announcing it, then one sealed with it
	wait_for 10 eval '[ -n "$(gm_pushes "$GLOG" | awk -F"\t" -v l="$last" -v k="$new" '\''$1 ~ /^[0-9]+$/ && $1 > l && $3 == k'\'')" ]'
	p=$(gm_pushes "$GLOG" | awk -F'\t' -v l="$last" -v k="$new" '$1 ~ /^[0-9]+$/ && $1 > l && $4 == k' | head -1)
	q=$(gm_pushes "$GLOG" | awk -F'\t' -v l="$last" -v k="$new" '$1 ~ /^[0-9]+$/ && $1 > l && $3 == k' | head -1)
	echo "gdoid, push announcing it: $(printf '%s' "$p" | cut -f1,2,3,7 | tr '\t' ' ')"
	echo "gdoid, first push sealed with it: $(printf '%s' "$q" | cut -f1,2,3,7 | tr '\t' ' ')"
	echo "gdoid's KEK keys (IV||key): $(grep -o 'INTEROP KEK secrecy attribute ([0-9]* bytes)' "$GLOG" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
	[ -n "$new" ] && [ "$new" != "$old" ] && [ "$(printf '%s' "$p" | cut -f2)" = accepted ] &&
		[ "$(printf '%s' "$q" | cut -f2)" = accepted ]
}
check "A: a reload to an AES-128 KEK replaces the KEK; gdoid takes it and opens the pushes sealed with it" a_kek_aes

[ -n "${GM_A:-}" ] && stop_pid "$GM_A"
[ $A_AGENT = 1 ] && agent_stop
[ -f "$GLOG" ] && diag "A: gdoid's errors: $(gd_errors "$GLOG" | sed 's/^[0-9.]* Default //' | sort | uniq -c | head -10 | tr '\n' ';')"

# ==== B: gvpn-member -> gdoid key server ============================================
openssl genrsa -traditional -out "$T/gdoid-ks-rsa.pem" 2048 2>/dev/null &&
	openssl rsa -traditional -in "$T/gdoid-ks-rsa.pem" -outform DER -out "$T/gdoid-ks-rsa.der" 2>/dev/null ||
	bail "openssl cannot make the key server's RSA key"
# (-traditional on both: OpenSSL 3 otherwise writes a PKCS#8 DER that gdoid
# refuses with "gdoi_read_keypair: d2i_RSAPrivateKey_bio failed".)
gd_conf gdoid-ks.conf "$T/gdoid-ks.conf"
printf '%s\n' "$PSK" >"$T/iop.psk"; chmod 600 "$T/iop.psk"
KLOG=$T/ks-b.log MLOG=$T/member-b.log
B_KS=0 B_MM=0 B_REG=0
ks_up() { ip netns exec "$KS" ss -Huln | grep -q '10\.77\.0\.1:848 '; }
b_ks() {
	gd_start ks-b "$KS" "$T/gdoid-ks.conf"; KS_B=$GD_PID
	if wait_for 10 ks_up; then echo "gdoid pid $KS_B, REKEY_PERIOD $REKEY_PERIOD s, KEK_REKEY_PERIOD $KEK_REKEY_PERIOD s"; return 0; fi
	tail -5 "$KLOG"; return 1
}
check "B: gdoid (key server) listens on 10.77.0.1:848 in $KS" b_ks && B_KS=1
if [ $B_KS = 1 ]; then
	ip netns exec "$GM" "$top_builddir/gvpn-member" --server 10.77.0.1 --group 1 --psk-file "$T/iop.psk" \
		--local 10.77.0.2 --multicast-interface 10.77.0.2 --ike 3des-sha1-modp1024 --profile gdoid \
		--stay --json-events >"$MLOG" 2>&1 &
	MEMBER=$!
	tap_track_pid $MEMBER
fi
ev() { grep "^{\"event\":\"$1\"" "$MLOG"; }
# has EVENT KEY VALUE: the member printed EVENT with KEY equal to VALUE.
has() { ev "$1" | grep -qF "\"$2\":\"$3\""; }
b_mm() {
	req B_KS "gdoid's start" || return 1
	if wait_for 15 grep -q 'exchange_finalize: phase 1 done: initiator id 0a4d0002' "$KLOG"; then
		grep 'exchange_finalize: phase 1 done' "$KLOG" | head -1 | cut -c1-200; return 0
	fi
	echo "gdoid:"; gd_errors "$KLOG" | tail -5; grep -E 'exchange_setup_p1|expected' "$KLOG" | tail -3
	echo "gvpn-member:"; tail -5 "$MLOG"; return 1
}
check "B: Main Mode between gvpn-member and gdoid (key server) completes" b_mm && B_MM=1
b_pull() {
	req B_MM "Main Mode" || return 1
	wait_for 15 eval 'ev registered >/dev/null || ev failed >/dev/null'
	if ev registered >/dev/null; then ev registered | jq -c '.policy | {seq, kek: .kek.spi, teks: [.teks[].spi]}'; return 0; fi
	echo "gvpn-member:"; tail -5 "$MLOG"; echo "gdoid:"; gd_errors "$KLOG" | tail -5; return 1
}
check "B: GROUPKEY-PULL completes: gvpn-member registers" b_pull && B_REG=1
# gdoid's TEK SPIs, in network order, in the order it made them.
ks_teks() { sed -n 's/.* Default gdoi_add_ipsec_spi_to_list: Adding TEK SPI \([0-9]*\) .*/\1/p' "$KLOG" | while read -r u; do spi_wire "$u"; done | awk '!seen[$0]++'; }
b_spis() {
	req B_REG "the registration" || return 1
	local ours theirs
	ours=$(ev registered | jq -r '.policy.teks[].spi[2:]' | sort | tr '\n' ' ')
	theirs=$(ks_teks | head -1)
	echo "gvpn-member: $ours"; echo "gdoid (Adding TEK SPI, byte-swapped from host order): $theirs"
	[ -n "$theirs" ] && [ "$ours" = "$theirs " ]
}
check "B: the TEK SPI is equal on both sides" b_spis
# The keys gvpn-member printed are in gdoid's plaintext (its packet log).
b_keys() {
	req B_REG "the registration" || return 1
	fix_plog "$T/ks-b.plog" "$T/ks-b.pcap"
	local plain n=0 bad=0 type spi key ik pat
	plain=$(plain_of "$T/ks-b.pcap" pull | tr -d '\n')
	[ -n "$plain" ] || { echo "no GROUPKEY-PULL plaintext in gdoid's packet log"; return 1; }
	while IFS=$'\t' read -r type spi key ik; do
		n=$((n + 1))
		if [ "$type" = tek ]; then
			pat="${spi}0001$(printf '%04x' $((${#key} / 2)))${key}"
			[ -z "$ik" ] || pat="${pat}0002$(printf '%04x' $((${#ik} / 2)))${ik}"
		else
			pat="10${spi}0001[0-9a-f]{4}([0-9a-f]{16})?${key}"
		fi
		if printf '%s' "$plain" | grep -qE "$pat"; then echo "$type $spi: equal (in gdoid's KD)"
		else echo "$type $spi: DIFFERS: gvpn-member has key $key${ik:+ integrity $ik}"; bad=1; fi
	done < <(ev registered | jq -r '.policy.keys[] | [.type, .spi, .key, (.integrity_key // "")] | @tsv')
	[ $n -ge 2 ] && [ $bad = 0 ]
}
check "B: the TEK and KEK keys gvpn-member received are the ones gdoid sent" b_keys

# gdoid's key server writes the TEK selectors byte-swapped on a little-endian
# host (its config: 10.77.0.2 -> 239.1.1.1); a member that interoperates
# with it must read them as gdoid's own member does.
b_selectors() {
	req B_REG "the registration" || return 1
	local got; got=$(ev registered | jq -r '.policy.teks[] | "\(.source) -> \(.destination)"' | tr '\n' ' ')
	echo "gvpn-member: $got"; echo "gdoid's config: 10.77.0.2 -> 239.1.1.1 (little-endian host: $([ "$LE" = 1 ] && echo yes || echo no))"
	fix_plog "$T/ks-b.plog" "$T/ks-b.pcap"
	echo "gdoid's SA TEK IDs (type 1, port 0, length 4, address) in its PULL plaintext: $(plain_of "$T/ks-b.pcap" pull | grep -oE '01000004(0a4d0002|02004d0a|ef01010[12]|0[12]0101ef)' | sort -u | tr '\n' ' ')"
	[ "$got" = "10.77.0.2 -> 239.1.1.1 " ] || [ "$got" = "10.77.0.2/32 -> 239.1.1.1/32 " ]
}
check "B: gvpn-member reads gdoid's TEK selectors as configured (10.77.0.2 -> 239.1.1.1)" b_selectors

# gdoid's pushes, from its log: SEQ KIND NEW-TEK-SPIS DELETED-SPIS.
ks_pushes() {
	awk -v le="$LE" '
	function wire(h) { sub(/^0x/, "", h); while (length(h) < 8) h = "0" h; return le == 1 ? substr(h, 7, 2) substr(h, 5, 2) substr(h, 3, 2) substr(h, 1, 2) : h }
	function pad(h) { sub(/^0x/, "", h); while (length(h) < 8) h = "0" h; return h }
	function flush() { if (seq != "") print seq, kind, (teks == "" ? "-" : teks), (dels == "" ? "-" : dels); seq = "" }
	/gdoi_rekey_sender: Timer sprung/ { flush(); kind = "tek"; teks = dels = "" }
	/gdoi_kek_rekey_sender: Timer sprung/ { flush(); kind = "kek"; teks = dels = "" }
	/gdoi_rekey_delete_sas: Deleting SAs/ { flush(); kind = "delete"; teks = dels = "" }
	/ Default SENT SEQ # of: [0-9]+ \(PUSH\)/ { seq = $(NF - 1) }
	/ Default gdoi_add_ipsec_spi_to_list: Adding TEK SPI / { s = $0; sub(/.*\(0x/, "", s); sub(/\).*/, "", s); s = wire(s); if (!(s in known)) { known[s] = 1; teks = teks (teks == "" ? "" : ",") s } }
	/ Default gdoi_add_deleted_sa: Deleting SPI \(SA\) / { s = $0; sub(/.*\(0x/, "", s); sub(/\).*/, "", s); dels = dels (dels == "" ? "" : ",") pad(s) }
	END { flush() }' "$KLOG"
}
# ks_plain SEQ: gdoid's plaintext of its push SEQ, from its debug dump
# ("rekey_crypto_encrypt: before encryption:"; its packet log holds the
# pushes encrypted).
ks_plain() {
	awk -v s="$1" '
	/ Default SENT SEQ # of: [0-9]+ \(PUSH\)/ { seq = $(NF - 1) }
	/ Cryp 10 rekey_crypto_encrypt: before encryption:/ { on = (seq == s); next }
	on && / Cryp 10 [0-9a-f ]+$/ { sub(/^[0-9.]+ Cryp 10 /, ""); gsub(/ /, ""); printf "%s", $0; next }
	{ on = 0 }' "$KLOG"
}
pushed() { ev push_received | jq -r "select(.seq == $1) | .kind"; }
B_TEK=0
b_tek() {
	req B_REG "the registration" || return 1
	local p s spi
	wait_for $((REKEY_PERIOD + 8)) eval '[ -n "$(ks_pushes | awk '\''$2 == "tek"'\'')" ]'
	p=$(ks_pushes | awk '$2 == "tek"' | head -1)
	[ -n "$p" ] || { echo "gdoid sent no TEK rekey"; return 1; }
	set -- $p; s=$1 spi=$3
	echo "gdoid: TEK rekey SEQ $s, new TEK $spi"
	wait_for 5 eval '[ -n "$(pushed $s)" ]'
	echo "gvpn-member: $(ev push_received | jq -c "select(.seq == $s)")"
	ev push_rejected | tail -3
	echo "gvpn-member: $(ev tek_installed | jq -c "select(.spi == \"0x$spi\") | {spi, state, activate_in_s}")"
	echo "(gvpn-member prints no keys for a push, only SPIs: the pushed keys are not compared)"
	[ "$(pushed "$s")" = rekey ] && has tek_installed spi "0x$spi"
}
check "B: gdoid's TEK rekey (REKEY_PERIOD $REKEY_PERIOD s) is applied by gvpn-member: same new SPI" b_tek && B_TEK=1
b_kek() {
	req B_REG "the registration" || return 1
	local p s n kek old next
	wait_for $((KEK_REKEY_PERIOD + 8)) eval '[ -n "$(ks_pushes | awk '\''$2 == "kek"'\'')" ]'
	p=$(ks_pushes | awk '$2 == "kek"' | head -1)
	[ -n "$p" ] || { echo "gdoid sent no KEK rekey"; return 1; }
	s=${p%% *}
	echo "gdoid: KEK rekey SEQ $s"
	wait_for 5 eval '[ -n "$(pushed $s)" ]'
	echo "gvpn-member: $(ev push_received | jq -c "select(.seq == $s)")"
	echo "gvpn-member: $(ev kek_replaced | jq -c '{old_spi, new_spi}' | tr '\n' ' ')"
	ev push_rejected | tail -3
	# The new KEK's SPI is in gdoid's plaintext of that push (its SA KEK),
	# and is not the KEK of the registration.
	kek=$(ev kek_replaced | jq -r '.new_spi' | head -1)
	old=$(ev registered | jq -r '.policy.kek.spi')
	if [ -n "$kek" ] && [ "$kek" != "$old" ] && ks_plain "$s" | grep -q "$kek"; then
		echo "new KEK $kek is in gdoid's SA KEK of SEQ $s (registration's KEK: $old)"
	else
		echo "gvpn-member's new KEK (${kek:-none}) is not in gdoid's plaintext of SEQ $s"; kek=""
	fi
	# The next push is sealed with the new KEK.
	wait_for $((REKEY_PERIOD + 5)) eval '[ -n "$(ks_pushes | awk -v s='"$s"' '\''$1 > s'\'')" ]'
	next=$(ks_pushes | awk -v s="$s" '$1 > s { print $1; exit }')
	[ -n "$next" ] && wait_for 5 eval '[ -n "$(pushed $next)" ]'
	echo "next push from gdoid: SEQ ${next:-none}; gvpn-member: $(ev push_received | jq -c "select(.seq == ${next:-0})")"
	[ -n "$kek" ] && has kek_replaced new_spi "$kek" && [ -n "$(pushed "$s")" ] &&
		[ -n "$next" ] && [ -n "$(pushed "$next")" ]
}
check "B: gdoid's KEK rekey (KEK_REKEY_PERIOD $KEK_REKEY_PERIOD s) is applied, and the next push under the new KEK taken" b_kek
# gdoid sends SEQ, D, SIG for every TEK it gave out when it shuts down.
b_delete() {
	req B_REG "the registration" || return 1
	stop_pid "$KS_B" TERM
	local p s dels spi bad=0 n=0 why
	p=$(ks_pushes | awk '$2 == "delete"' | head -1)
	[ -n "$p" ] || { echo "gdoid sent no DELETE push"; gd_errors "$KLOG" | tail -3; return 1; }
	set -- $p; s=$1 dels=$4
	echo "gdoid (SIGTERM): SEQ $s deletes $dels"
	wait_for 5 eval '[ -n "$(pushed $s)" ] || has push_rejected seq "$s" || ev push_rejected | grep -q "\"seq\":$s[,}]"'
	echo "gvpn-member: $(ev push_received | jq -c "select(.seq == $s)")"
	ev push_rejected | tail -3 | grep . && bad=1
	for spi in ${dels//,/ }; do
		# TEKs the member holds must go; one superseded or expired before is gone already.
		has tek_installed spi "0x$spi" || { echo "0x$spi: never installed by gvpn-member"; continue; }
		why=$(ev tek_removed | grep -F "\"spi\":\"0x$spi\"" | jq -r .reason | head -1)
		case $why in
		deleted) n=$((n + 1)); echo "0x$spi: removed (deleted)" ;;
		"") echo "0x$spi: NOT removed"; bad=1 ;;
		*) echo "0x$spi: removed before, $why" ;;
		esac
	done
	[ -n "$(pushed "$s")" ] && [ $n -gt 0 ] && [ $bad = 0 ]
}
check "B: gdoid's SEQ, D, SIG push (sent on SIGTERM) is taken and the TEKs removed" b_delete
[ -n "${MEMBER:-}" ] && stop_pid "$MEMBER"

# ==== tshark decodes everything =====================================================
sleep 0.5
stop_pid $TSHARK INT
# problems PCAP: tshark's errors and warnings, one line each: FRAME WHERE TEXT,
# WHERE "sa-kek-prefix" for the known gdoid layout (2 bytes after the SA KEK's
# 4 reserved octets: tshark then reads an attribute of type 0 and throws),
# "other" for anything else.
problems() { # PCAP [FILTER]
	tshark -r "$1" -d udp.port==848,isakmp ${2:+-Y "$2"} -V 2>/dev/null | awk '
	/^Frame [0-9]+:/ { f = $2; sub(/:/, "", f); kek = 0; t0 = 0 }
	/SA Attribute Next Payload: 000f/ { kek = 1 }
	/^ *Payload: / { kek = 0 }
	kek && /Attribute \(t=0,/ { t0 = 1 }
	/\[Malformed Packet|\[Expert Info \((Warning|Error)/ { w = $0; sub(/^ */, "", w); print f, (kek && t0 ? "sa-kek-prefix" : "other"), w }'
}
t_decode() { # PCAP WHAT MIN [FILTER]
	local n bad kek
	[ -s "$1" ] || { echo "$2: no capture"; return 1; }
	n=$(plain_msgs "$1" | awk -F'\t' '$1 != ""' | wc -l)
	echo "$2: $n ISAKMP messages; exchange x count: $(plain_msgs "$1" | awk -F'\t' '$1 != "" { print $1 }' | sort -n | uniq -c | awk '{ printf "%s x%s ", $2, $1 }')"
	problems "$1" ${4:+"$4"} >"$T/.problems"
	kek=$(awk '$2 == "sa-kek-prefix" { print $1 }' "$T/.problems" | sort -un | tr '\n' ' ')
	[ -z "$kek" ] || echo "known, not counted: the gdoid SA KEK prefix (22 bytes: SPI and 6 octets, where RFC 6407 has 4; tshark reads the 2 extra as an attribute of type 0 and throws) in frames: $kek"
	bad=$(awk '$2 == "other"' "$T/.problems")
	[ -z "$bad" ] || { echo "other problems (frame, text):"; printf '%s\n' "$bad" | cut -d' ' -f1,3- | head -12; }
	[ -z "$bad" ] && [ "$n" -ge "$3" ]
}
check "tshark decodes every message on the veth (both directions) without a problem" t_decode "$T/wire.pcap" "wire" 10
check "tshark decodes the agent's plaintext (debug_pcap) without a problem but the SA KEK prefix" \
	t_decode "$T/plain.pcap" "agent's debug_pcap" 4
t_gdoid_plain() {
	local f rc=0
	for f in gm-a ks-b; do
		[ -s "$T/$f.plog" ] || { echo "$f: no packet log"; rc=1; continue; }
		fix_plog "$T/$f.plog" "$T/$f.pcap"
		# Its pushes are logged after encryption: only Main Mode and the PULL are plaintext.
		t_decode "$T/$f.pcap" "gdoid $f packet log (pushes left out)" 4 "isakmp.exchangetype != 33" || rc=1
	done
	return $rc
}
check "tshark decodes gdoid's plaintext (packet logs, both directions) without a problem but the SA KEK prefix" t_gdoid_plain
tap_done
