#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# demo.sh: what `make demo` runs. Starts, on loopback only, the agent with
# conf/demo.json, a web user whose password is made now, a few
# `gvpn-member --stay` members that the key server rekeys, a VPN whose
# monitor probes a loopback address (when an ICMP socket is allowed), and a
# private rsyslogd that receives the agent's syslog; prints where to look;
# on Ctrl-C (SIGINT) or SIGTERM stops every process it started, by PID.
set -u

usage() {
	cat <<EOF
Usage: demo.sh [options]
  --builddir DIR     where gvpn-agent, gvpnctl and gvpn-member are (default .)
  --srcdir DIR       the source tree, for conf/ (default: this script's ../)
  --dir DIR          the demo's working directory, emptied first
                     (default: BUILDDIR/demo)
  --web-port N       web page and API on 127.0.0.1:N (default 8080)
  --snmp-port N      SNMP on udp 127.0.0.1:N (default 1161)
  --trap-port N      traps to udp 127.0.0.1:N (default 1162)
  --gks-port N       the key server on udp 127.0.0.1:N (default 8848)
  --syslog-port N    the private rsyslogd on udp 127.0.0.1:N (default 5514)
  --members N        members to keep registered, 1..200 (default 5)
  --no-follow        do not copy the syslog lines to the terminal
  -h, --help         this text
EOF
}

BUILD=.
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=
WEB_PORT=8080 SNMP_PORT=1161 TRAP_PORT=1162 GKS_PORT=8848 SYSLOG_PORT=5514
MEMBERS=5
FOLLOW=1
while [ $# -gt 0 ]; do
	case $1 in
	--builddir|--srcdir|--dir|--*-port|--members)
		[ $# -ge 2 ] || { echo "demo: $1 needs a value" >&2; exit 2; } ;;
	esac
	case $1 in
	--builddir) BUILD=$2; shift ;;
	--srcdir) SRC=$2; shift ;;
	--dir) DIR=$2; shift ;;
	--web-port) WEB_PORT=$2; shift ;;
	--snmp-port) SNMP_PORT=$2; shift ;;
	--trap-port) TRAP_PORT=$2; shift ;;
	--gks-port) GKS_PORT=$2; shift ;;
	--syslog-port) SYSLOG_PORT=$2; shift ;;
	--members) MEMBERS=$2; shift ;;
	--no-follow) FOLLOW=0 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "demo: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

die() { echo "demo: $*" >&2; exit 1; }

for n in "$WEB_PORT" "$SNMP_PORT" "$TRAP_PORT" "$GKS_PORT" "$SYSLOG_PORT"; do
	case $n in ''|*[!0-9]*) die "'$n' is not a port number" ;; esac
	[ "$n" -ge 1 ] && [ "$n" -le 65535 ] || die "'$n' is not a port number"
done
case $MEMBERS in ''|*[!0-9]*) die "--members wants a number from 1 to 200" ;; esac
[ "$MEMBERS" -ge 1 ] && [ "$MEMBERS" -le 200 ] || die "--members wants a number from 1 to 200"

BUILD=$(cd "$BUILD" && pwd) || die "no build directory"
: "${DIR:=$BUILD/demo}"
for p in gvpn-agent gvpnctl gvpn-member; do
	[ -x "$BUILD/$p" ] || die "$BUILD/$p is missing: run make first"
done
[ -f "$SRC/conf/demo.json" ] || die "$SRC/conf/demo.json is missing (--srcdir)"

# ---- processes: each one started is recorded, and stopped by PID ----------
# PIDS is newest first, so the members stop before the agent, and the agent
# before the rsyslogd that receives its last event.
PIDS=""
NAMES=""
started() { PIDS="$1 $PIDS"; NAMES="$NAMES $2"; }

stop_all() {
	trap '' INT TERM HUP
	local p i left=""
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null
			left="$left $p"
		fi
		# No "wait $p" here: inside a trap bash may already have reaped a
		# child without noting it, and would then wait for it forever.
	done
	PIDS=""
	[ -z "$left" ] || echo "demo: killed (SIGKILL) what did not stop within 5 s:$left" >&2
}

on_signal() {
	echo ""
	echo "demo: stopping:$NAMES"
	stop_all
	echo "demo: stopped; the logs stay in $DIR"
	exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP
trap 'stop_all' EXIT

# ---- the working directory and the config ----------------------------------
case $DIR in /|"$HOME"|"$BUILD"|"$SRC") die "refusing to empty $DIR" ;; esac
if [ -f "$DIR/demo.pid" ]; then
	read -r other <"$DIR/demo.pid"
	case $other in ''|*[!0-9]*) ;; *)
		if tr '\0' ' ' 2>/dev/null <"/proc/$other/cmdline" | grep -q 'demo\.sh'; then
			die "a demo already runs in $DIR (pid $other); stop it first (Ctrl-C there, or kill -INT $other)"
		fi ;;
	esac
fi
rm -rf "$DIR" && mkdir -p "$DIR/state" "$DIR/rsyslog" || die "cannot make $DIR"
DIR=$(cd "$DIR" && pwd)
echo $$ >"$DIR/demo.pid"
umask 077

# An ICMP socket for the monitor: raw as root, else a ping socket when
# net.ipv4.ping_group_range covers one of our groups. Without either the
# agent would not start with a vpn_monitor section, so it goes.
icmp_allowed() {
	[ "$(id -u)" -eq 0 ] && return 0
	local lo hi g
	read -r lo hi </proc/sys/net/ipv4/ping_group_range 2>/dev/null || return 1
	for g in $(id -G); do
		[ "$g" -ge "$lo" ] && [ "$g" -le "$hi" ] && return 0
	done
	return 1
}
WITH_VPN=1
icmp_allowed || WITH_VPN=0

sed -e "s|\"udp:127.0.0.1:1161\"|\"udp:127.0.0.1:$SNMP_PORT\"|" \
	-e "s|\"udp:127.0.0.1:1162\"|\"udp:127.0.0.1:$TRAP_PORT\"|" \
	-e "s|\"port\": 5514|\"port\": $SYSLOG_PORT|" \
	-e "s|\"127.0.0.1:8080\"|\"127.0.0.1:$WEB_PORT\"|" \
	-e "s|\"127.0.0.1:8848\"|\"127.0.0.1:$GKS_PORT\"|" \
	-e "s|unix:///var/run/charon.vici|unix://$DIR/no-charon.vici|" \
	"$SRC/conf/demo.json" >"$DIR/gvpn-agent.json" || die "cannot write the config"
if [ $WITH_VPN -eq 0 ]; then
	# Cut the last section (vpn_monitor) and close the object again.
	awk '/^  "vpn_monitor"/ { cut = 1 } !cut { lines[n++] = $0 }
	     END { sub(/,[ \t]*$/, "", lines[n - 1]); for (i = 0; i < n; i++) print lines[i]; print "}" }' \
		"$DIR/gvpn-agent.json" >"$DIR/gvpn-agent.json.new" && mv "$DIR/gvpn-agent.json.new" "$DIR/gvpn-agent.json"
fi

# The web login: a password made now, hashed by gvpnctl passwd.
PASSWORD=$(head -c 12 /dev/urandom | base64 | tr '+/' 'xy')
[ ${#PASSWORD} -ge 12 ] || die "cannot make a password from /dev/urandom"
HASH=$(printf '%s\n' "$PASSWORD" | "$BUILD/gvpnctl" passwd) || die "gvpnctl passwd failed"
sed "s|\"web_users\": {}|\"web_users\": { \"demo\": \"$HASH\" }|" "$SRC/conf/demo-secrets.json" >"$DIR/secrets.json"
grep -q '"demo": "pbkdf2' "$DIR/secrets.json" || die "could not put the web user into secrets.json"
printf 'demo-group-1-preshared-key\n' >"$DIR/g1.psk"
chmod 600 "$DIR/gvpn-agent.json" "$DIR/secrets.json" "$DIR/g1.psk"
"$BUILD/gvpn-agent" -n -c "$DIR/gvpn-agent.json" >"$DIR/check.log" 2>&1 ||
	{ cat "$DIR/check.log" >&2; die "the generated config is not valid"; }

CTL=("$BUILD/gvpnctl" -s "$DIR/gvpnctl.sock")
wait_for() { # SECONDS cmd...
	local i=0 limit=$(($1 * 10))
	shift
	while [ $i -lt $limit ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# ---- syslog: a private rsyslogd on loopback --------------------------------
WITH_SYSLOG=0
if command -v rsyslogd >/dev/null 2>&1; then
	cat >"$DIR/rsyslog/rsyslog.conf" <<CONF
global(workDirectory="$DIR/rsyslog")
module(load="imudp")
template(name="demo" type="string"
         string="%timereported:::date-rfc3339% %app-name% %msgid% %msg% %structured-data%\n")
ruleset(name="demo") { action(type="omfile" file="$DIR/syslog.log" template="demo") }
input(type="imudp" address="127.0.0.1" port="$SYSLOG_PORT" ruleset="demo")
CONF
	: >"$DIR/syslog.log"
	rsyslogd -n -f "$DIR/rsyslog/rsyslog.conf" -i "$DIR/rsyslog/rsyslogd.pid" >"$DIR/rsyslogd.log" 2>&1 &
	started $! rsyslogd
	if wait_for 5 test -s "$DIR/rsyslog/rsyslogd.pid"; then
		WITH_SYSLOG=1
	else
		echo "demo: rsyslogd did not start (see $DIR/rsyslogd.log); syslog is not shown" >&2
	fi
else
	echo "demo: rsyslogd is not installed (apt-get install rsyslog); syslog is not shown" >&2
fi

# ---- the agent -------------------------------------------------------------
"$BUILD/gvpn-agent" -f -c "$DIR/gvpn-agent.json" >"$DIR/agent.log" 2>&1 &
AGENT_PID=$!
started $AGENT_PID gvpn-agent
if ! wait_for 20 "${CTL[@]}" show status; then
	tail -20 "$DIR/agent.log" >&2
	die "the agent did not start (log: $DIR/agent.log; a port in use? see --help for other ports)"
fi

# ---- the members: one process, consecutive addresses from 127.0.0.2 --------
"$BUILD/gvpn-member" --server "127.0.0.1:$GKS_PORT" --group 1 --psk-file "$DIR/g1.psk" \
	--local 127.0.0.2 --count "$MEMBERS" --stay --heartbeat 10 >"$DIR/members.log" 2>&1 &
started $! gvpn-member
registered() {
	[ "$("${CTL[@]}" show registered-members group 1 | grep -c ' active\| registered\| ack-pending')" -ge "$MEMBERS" ]
}
wait_for 30 registered ||
	echo "demo: not all $MEMBERS members registered within 30 s (see $DIR/members.log)" >&2

# ---- what to look at -------------------------------------------------------
B=$BUILD
[ "$B" = "$(pwd)" ] && B=.
D=$DIR
case $D in "$(pwd)"/*) D=${D#"$(pwd)"/} ;; esac
MIBS=""
for m in /usr/lib/erlang/lib/snmp-*/mibs; do [ -d "$m" ] && MIBS="$SRC/mibs:$m"; done
cat <<EOF

gvpn-agent demo: running (Ctrl-C stops it all).

  Web page:  http://127.0.0.1:$WEB_PORT/
             user: demo   password: $PASSWORD
  CLI:       $B/gvpnctl -s $D/gvpnctl.sock show registered-members
             $B/gvpnctl -s $D/gvpnctl.sock show groups       (show vpns, show rekeys, show events)
EOF
if [ -n "$MIBS" ]; then
	cat <<EOF
  SNMP:      snmptable -v2c -c public -Cb -M +$MIBS -m GVPN-AGENT-MIB \\
                 127.0.0.1:$SNMP_PORT GVPN-AGENT-MIB::gvpnMemberTable     (or gvpnVpnTable)
EOF
else
	cat <<EOF
  SNMP:      snmpwalk -v2c -c public 127.0.0.1:$SNMP_PORT .1.3.6.1.4.1.32473.1.1.4     (the member table)
EOF
fi
cat <<EOF
             SNMPv3: snmpget -v3 -l authPriv -u demo -a SHA-256 -A demo-auth-pass -x AES -X demo-priv-pass \\
                 127.0.0.1:$SNMP_PORT .1.3.6.1.4.1.32473.1.1.1.1.0
EOF
if [ $WITH_SYSLOG -eq 1 ]; then
	echo "  Syslog:    tail -f $D/syslog.log     (RFC 5424 over UDP to a private rsyslogd)"
fi
cat <<EOF
  API:       curl http://127.0.0.1:$WEB_PORT/api/v1/status
  Logs:      $D/agent.log, $D/members.log; config: $D/gvpn-agent.json

  Group 1 (unicast rekeys): $MEMBERS members from 127.0.0.2 stay registered;
  heartbeats every 10 s, the TEK is rekeyed every 2 min, the KEK every 4 min.
EOF
if [ $WITH_VPN -eq 1 ]; then
	echo "  VPN branch-lo: the monitor pings 127.0.0.10 every 3 s (up); site-b is not monitored."
else
	cat <<EOF
  No VPN monitor: it needs an ICMP socket, which this user may not open.
  Run as root, or allow ping sockets: sudo sysctl net.ipv4.ping_group_range="0 2147483647"
EOF
fi
echo ""

# ---- wait: for a signal, or for the agent to end -------------------------
if [ $WITH_SYSLOG -eq 1 ] && [ $FOLLOW -eq 1 ]; then
	echo "Syslog as it arrives:"
	tail -n +1 -f "$DIR/syslog.log" &
	started $! tail
fi
while kill -0 "$AGENT_PID" 2>/dev/null; do
	wait "$AGENT_PID"
done
echo "demo: the agent ended (see $DIR/agent.log); stopping the rest" >&2
stop_all
exit 1
