# SPDX-License-Identifier: BSD-2-Clause
# deb-install.sh: the Debian package as an admin gets it. "make deb" builds
# it with dpkg-buildpackage from a clean copy of the distributed tree; dpkg
# installs it into a fresh root (this machine's root under a copy-on-write
# overlay, so the real dpkg and maintainer scripts run against the real
# installed libraries while the machine itself is left untouched: no
# debootstrap, no mirror, seconds instead of minutes); then the files, modes
# and owners, the gvpn user made from the sysusers.d file, "gvpn-agent -n"
# on the shipped config, and the installed daemon started from that root
# as gvpn with only CAP_NET_BIND_SERVICE and CAP_NET_RAW (setpriv), in a
# network namespace, serving SNMP on udp 161 and GDOI on udp 848 to
# snmpget and gvpn-member with the secrets postinst made. Purge at the end.
# Needs root (skipped otherwise); as root, a missing tool is a failure.
. "$srcdir/tests/lib/tap.sh"
[ "$(id -u)" -eq 0 ] || skip_all "installing a package into a root, namespaces and setpriv need root"
tap_setup
plan 34
T=$TAP_TMP
OV=$T/ov
R=$OV/root
MOUNTS=""
NS=""

deb_cleanup() {
	[ "$BASHPID" = "$TAP_MAIN_PID" ] || return 0
	tap_cleanup_pids
	[ -z "$NS" ] || ip netns del "$NS" 2>/dev/null
	local m
	for m in $MOUNTS; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
	tap_cleanup
}
# tap_cleanup kills what we started; the mounts can only go after that.
tap_cleanup_pids() {
	local p
	for p in $TAP_PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $TAP_PIDS; do
		local i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -KILL "$p" 2>/dev/null
	done
	TAP_PIDS=""
}
trap deb_cleanup EXIT

missing=""
for c in dpkg-buildpackage dh setpriv ip ss snmpget jq chroot; do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
is "$missing" "" "the tools are installed (./autogen.sh --deps installs them)" || exit 1

# 1. Build (or take the one GVPN_DEB names, made by "make deb").
if [ -n "${GVPN_DEB:-}" ]; then
	DEB=$GVPN_DEB
	ok "the .deb made before: $DEB" test -f "$DEB"
else
	DEB_BUILD_OPTIONS="nocheck noddebs parallel=2" timeout 600 make -s -C "$top_builddir" deb DEB_DIR="$T/deb" \
		>"$T/build.log" 2>&1
	rc=$?
	is "$rc" 0 "make deb: dpkg-buildpackage -us -uc -b builds the package" ||
		{ tail -30 "$T/build.log" | sed 's/^/#   /'; exit 1; }
	DEB=$(ls "$T"/deb/gvpn-agent_*.deb 2>/dev/null | head -1)
fi
ok "the .deb is there" test -f "$DEB" || exit 1
VERSION=$(sed -n 's/^PACKAGE_VERSION = //p' "$top_builddir/Makefile")
is "$(dpkg-deb -f "$DEB" Package Version | tr '\n' ' ')" "Package: gvpn-agent Version: $VERSION " \
	"the package is gvpn-agent at configure's version"

# 2. A fresh root: this machine's / under an overlay whose upper layer is a
# tmpfs of ours; private /proc, /dev (a few nodes), /run and /tmp.
mkdir -p "$OV"
mount -t tmpfs -o mode=0755 tmpfs "$OV" && MOUNTS="$OV"
mkdir -p "$OV/upper" "$OV/work" "$R"
mount -t overlay overlay -o "lowerdir=/,upperdir=$OV/upper,workdir=$OV/work" "$R" && MOUNTS="$R $MOUNTS"
ok "an overlay root over this machine's /" mountpoint -q "$R" || exit 1
mount -t proc proc "$R/proc" && MOUNTS="$R/proc $MOUNTS"
mount -t tmpfs -o mode=0755 tmpfs "$R/dev" && MOUNTS="$R/dev $MOUNTS"
for d in null zero random urandom; do
	touch "$R/dev/$d" && mount --bind "/dev/$d" "$R/dev/$d" && MOUNTS="$R/dev/$d $MOUNTS"
done
mount -t tmpfs -o mode=0755 tmpfs "$R/run" && MOUNTS="$R/run $MOUNTS"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp" && MOUNTS="$R/tmp $MOUNTS"
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"; }
# Fresh: no earlier gvpn-agent or gvpn user from this machine, no man-db
# rebuild, no service started (there is no /run/systemd/system in it).
in_root dpkg --purge gvpn-agent >/dev/null 2>&1
in_root userdel gvpn >/dev/null 2>&1
in_root groupdel gvpn >/dev/null 2>&1
rm -f "$R/var/lib/man-db/auto-update"
ok "the root has no gvpn user before the install" sh -c "! grep -q '^gvpn:' '$R/etc/passwd'"

# 3. Install.
host_state() { ls -l /usr/sbin/gvpn-agent /etc/gvpn-agent 2>&1; grep -c '^gvpn:' /etc/passwd; dpkg-query -W gvpn-agent 2>&1; }
host_before=$(host_state)
cp "$DEB" "$R/tmp/"
out=$(in_root dpkg -i "/tmp/$(basename "$DEB")" 2>&1); rc=$?
is "$rc" 0 "dpkg -i installs it" || echo "$out" | sed 's/^/#   /'
is "$(in_root dpkg-query -W -f '${Status}' gvpn-agent)" "install ok installed" "dpkg lists it installed"
is "$(host_state)" "$host_before" "this machine itself is untouched (programs, /etc/gvpn-agent, users, dpkg)"

# 4. Files, modes, owners.
files="/usr/sbin/gvpn-agent /usr/bin/gvpnctl /usr/bin/gvpn-member /usr/share/snmp/mibs/GVPN-AGENT-MIB.txt
/usr/share/man/man8/gvpn-agent.8.gz /usr/share/man/man8/gvpnctl.8.gz /usr/share/man/man8/gvpn-member.8.gz
/usr/share/man/man5/gvpn-agent.json.5.gz /lib/systemd/system/gvpn-agent.service /usr/lib/sysusers.d/gvpn-agent.conf
/usr/lib/tmpfiles.d/gvpn-agent.conf /usr/share/doc/gvpn-agent/copyright /usr/share/doc/gvpn-agent/examples/gvpn-agent.json"
absent=""
for f in $files; do [ -e "$R$f" ] || absent="$absent $f"; done
is "$absent" "" "binaries, man pages, MIB, unit, sysusers.d, tmpfiles.d and examples are installed"
ok "the README is in /usr/share/doc/gvpn-agent" sh -c "ls '$R/usr/share/doc/gvpn-agent/' | grep -q '^README.md'"
is "$(in_root dpkg-query -W -f '${Conffiles}' gvpn-agent | awk '{print $1}' | tr '\n' ' ')" "/etc/gvpn-agent/gvpn-agent.json " \
	"the configuration is the one conffile"
ok "no secrets and no .example under /etc in the package" sh -c "! dpkg-deb -c '$DEB' | grep -E '/etc/.*(secrets|\.example)'"
pw=$(grep '^gvpn:' "$R/etc/passwd")
like "$pw" '^gvpn:x:[0-9]+:[0-9]+:gvpn-agent daemon:/var/lib/gvpn-agent:/usr/sbin/nologin$' \
	"postinst made the system user gvpn from the sysusers.d file"
GVPN_UID=$(echo "$pw" | cut -d: -f3)
ok "gvpn is a system user (uid below 1000)" test "${GVPN_UID:-1000}" -lt 1000
st() { in_root stat -c '%U:%G %a' "$1"; }
is "$(st /etc/gvpn-agent)" "root:gvpn 2770" "/etc/gvpn-agent is root:gvpn 2770 (SETs and web edits rename files in it)"
is "$(st /etc/gvpn-agent/gvpn-agent.json)" "root:gvpn 640" "the configuration is root:gvpn 0640"
is "$(st /etc/gvpn-agent/secrets.json)" "root:gvpn 640" "postinst made the secrets root:gvpn 0640"
is "$(st /var/lib/gvpn-agent) $(st /run/gvpn-agent)" "gvpn:gvpn 750 gvpn:gvpn 750" \
	"tmpfiles.d made the state and runtime directories"
unit=$(cat "$R/lib/systemd/system/gvpn-agent.service")
like "$(echo "$unit" | grep -E '^(ExecStart|ReadWritePaths|RestartPreventExitStatus|User)=' | tr '\n' ' ')" \
	'^User=gvpn ExecStart=/usr/sbin/gvpn-agent -f -c /etc/gvpn-agent/gvpn-agent.json RestartPreventExitStatus=78 ReadWritePaths=/etc/gvpn-agent $' \
	"the unit: user gvpn, /usr and /etc paths, no restart on a config error, the config directory writable"

# 5. The shipped configuration checks, as root refused only for the group.
SECRETS=$R/etc/gvpn-agent/secrets.json
PSK=$(jq -r '.psk["g1-members"]' "$SECRETS")
AUTH=$(jq -r '.snmp_users.nms.auth_passphrase' "$SECRETS")
PRIV=$(jq -r '.snmp_users.nms.priv_passphrase' "$SECRETS")
like "$PSK $AUTH $PRIV" '^[0-9a-f]{36} [0-9a-f]{36} [0-9a-f]{36}$' "the secrets are fresh random values"
as_gvpn() {
	in_root setpriv --reuid gvpn --regid gvpn --init-groups \
		--inh-caps -all,+net_bind_service,+net_raw --ambient-caps +net_bind_service,+net_raw \
		--bounding-set -all,+net_bind_service,+net_raw --no-new-privs "$@"
}
out=$(as_gvpn /usr/sbin/gvpn-agent -n 2>&1); rc=$?
is "$rc $out" "0 /etc/gvpn-agent/gvpn-agent.json: configuration OK" "gvpn-agent -n as gvpn: the shipped configuration is valid"
out=$(in_root /usr/sbin/gvpn-agent -n 2>&1); rc=$?
is "$rc" 78 "as root, -n refuses root:gvpn secrets (exit 78: not the agent's group)"
like "$out" "secrets.json: refused: mode 0640 lets group [0-9]+ read it, and the agent runs as group 0" "... and says why"

# 6. The daemon from the package, as gvpn with two capabilities, in a
# namespace with the example's member address, on the shipped config as
# it is: the key server on 0.0.0.0:848 answers the member from the address
# the member sent to (192.0.2.1; the kernel's own choice would be
# 192.0.2.10, whose answer the member drops).
NS="gvpn-deb-$$"
ip netns add "$NS" && ip -n "$NS" link set lo up && ip -n "$NS" addr add 192.0.2.1/32 dev lo && ip -n "$NS" addr add 192.0.2.10/32 dev lo
ip netns exec "$NS" chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin LC_ALL=C setpriv \
	--reuid gvpn --regid gvpn --init-groups \
	--inh-caps -all,+net_bind_service,+net_raw --ambient-caps +net_bind_service,+net_raw \
	--bounding-set -all,+net_bind_service,+net_raw --no-new-privs \
	/usr/sbin/gvpn-agent -f -c /etc/gvpn-agent/gvpn-agent.json >"$T/agent.log" 2>&1 &
AGENT=$!
tap_track_pid $AGENT
ok "the installed agent binds udp 161 and udp 848 in the namespace" wait_for 30 sh -c \
	"ip netns exec '$NS' ss -Hlunp | grep -q '0.0.0.0:161 .*pid=$AGENT,' && ip netns exec '$NS' ss -Hlunp | grep -q '0.0.0.0:848 .*pid=$AGENT,'" ||
	{ sed 's/^/#   /' "$T/agent.log"; exit 1; }
status=$(cat "/proc/$AGENT/status")
G=$(grep '^gvpn:' "$R/etc/group" | cut -d: -f3)
U=$GVPN_UID
is "$(echo "$status" | awk '/^Uid:|^Gid:/ {printf "%s %s %s %s %s ", $1, $2, $3, $4, $5}')" \
	"Uid: $U $U $U $U Gid: $G $G $G $G " "it runs as gvpn:gvpn"
# CAP_NET_BIND_SERVICE is bit 10, CAP_NET_RAW bit 13: 0x2400.
is "$(echo "$status" | awk '/^Cap(Prm|Eff|Bnd|Amb):|^NoNewPrivs:/ {printf "%s %s ", $1, $2}')" \
	"CapPrm: 0000000000002400 CapEff: 0000000000002400 CapBnd: 0000000000002400 CapAmb: 0000000000002400 NoNewPrivs: 1 " \
	"with CAP_NET_BIND_SERVICE and CAP_NET_RAW only"
out=$(ip netns exec "$NS" timeout 20 snmpget -v3 -l authPriv -u nms -a SHA-256 -A "$AUTH" -x AES -X "$PRIV" \
	-t 2 -r 2 -Oqv 127.0.0.1:161 "$GVPN_OID.1.0" 2>"$T/snmpget.err")
# (stderr apart: a first snmpget on a fresh machine says "Created directory")
is "$out" "\"$VERSION\"" "snmpget on udp 161 as the example's user nms: gvpnAgentVersion" ||
	sed 's/^/#   /' "$T/snmpget.err"
(umask 077; printf '%s\n' "$PSK" >"$R/tmp/g1.psk")
out=$(ip netns exec "$NS" chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin LC_ALL=C timeout 30 \
	gvpn-member --server 192.0.2.1:848 --group 1 --psk-file /tmp/g1.psk --local 192.0.2.10 \
	--timeout 3000 --retries 3 --json-events 2>&1); rc=$?
is "$rc" 0 "gvpn-member (installed) registers with group g1 on udp 848 as the example's member 192.0.2.10" ||
	echo "$out" | sed 's/^/#   /'
like "$out" '"event":"registered"' "... and says so"
like "$(in_root gvpnctl -s /run/gvpn-agent/gvpnctl.sock show registered-members group 1 2>&1)" "192\.0\.2\.10" \
	"gvpnctl (installed) lists the member through the agent's control socket in /run/gvpn-agent"
kill -TERM "$AGENT"
wait "$AGENT"; rc=$?
is "$rc" 0 "SIGTERM: the agent exits 0"
TAP_PIDS=""

# 7. Purge.
out=$(in_root dpkg --purge gvpn-agent 2>&1); rc=$?
is "$rc" 0 "dpkg --purge removes it" || echo "$out" | sed 's/^/#   /'
left=""
for f in /etc/gvpn-agent /var/lib/gvpn-agent /usr/sbin/gvpn-agent /lib/systemd/system/gvpn-agent.service; do
	[ ! -e "$R$f" ] || left="$left $f"
done
is "$left" "" "nothing of it is left (configuration, secrets, state, programs, unit)"
tap_done
