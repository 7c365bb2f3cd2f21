# SPDX-License-Identifier: BSD-2-Clause
# demo.sh: what `make demo` runs (conf/demo.sh), on free loopback ports, in
# its own session as a terminal would run it: it prints a web login that
# works, keeps its members registered and rekeyed, has a VPN whose monitor
# answers, shows the same live state through gvpnctl, SNMP and syslog; and
# SIGINT to its process group (Ctrl-C) stops every process it started.
. "$srcdir/tests/lib/tap.sh"
need curl setsid ps
[ "$(id -u)" -eq 0 ] || skip_all "the demo's VPN monitor needs an ICMP socket (root here)"
tap_setup
plan 27
D=$TAP_TMP/demo
OUT=$TAP_TMP/demo.out
WEB=$(free_port tcp)
SNMP=$(free_port udp)
TRAP=$(free_port udp)
GKS=$(free_port udp)
SYSLOG=$(free_port udp)
HAVE_RSYSLOG=0
command -v rsyslogd >/dev/null 2>&1 && HAVE_RSYSLOG=1

# A terminal's Ctrl-C reaches a foreground job with SIGINT at its default;
# a background job of a script starts with it ignored, so reset it.
setsid env --default-signal=INT bash "$srcdir/conf/demo.sh" --builddir "$top_builddir" --srcdir "$srcdir" \
	--dir "$D" --web-port "$WEB" --snmp-port "$SNMP" --trap-port "$TRAP" --gks-port "$GKS" \
	--syslog-port "$SYSLOG" >"$OUT" 2>&1 &
PG=$!
tap_track_pid $PG
# Whatever is left of the demo's process group goes at exit too.
trap 'kill -KILL -- -$PG 2>/dev/null; tap_cleanup' EXIT
own_group() { [ "$(ps -o pgid= -p $PG | tr -d ' ')" = "$PG" ]; }
ok "the demo runs in its own process group" wait_for 10 own_group || exit 1

ok "the demo says it is running (within 90 s)" wait_for 90 grep -q "running (Ctrl-C stops it all)" "$OUT" ||
	{ sed 's/^/#   /' "$OUT"; exit 1; }
PW=$(sed -n 's/^ *user: demo   password: \([^ ]*\)$/\1/p' "$OUT")
like "$PW" '^[A-Za-z0-9=]{12,}$' "it prints a web user (demo) and a password"
like "$(cat "$OUT")" "http://127\.0\.0\.1:$WEB/" "it prints the page's URL"
like "$(cat "$D/secrets.json")" '"demo": "pbkdf2-sha256\$[0-9]+\$' "the password's hash was made now, into the demo's secrets file"

# Every process it started, while they run.
PROCS=$(ps -o pid=,comm= -g $PG)
diag "$(echo "$PROCS" | tr '\n' ';')"
like "$PROCS" "gvpn-agent" "the agent runs in the demo's process group"
like "$PROCS" "gvpn-member" "the members run in it"
PIDS=$(echo "$PROCS" | awk '{ print $1 }' | tr '\n' ' ')

# The web login with the printed credentials, then live data.
U="http://127.0.0.1:$WEB/api/v1"
J=$TAP_TMP/jar
code() { local m=$1 p=$2; shift 2; curl -s -o "$TAP_TMP/body" -w '%{http_code}' -X "$m" -b "$J" -c "$J" "$@" "$U/$p"; }
is "$(code POST login -d '{"user":"demo","password":"not-the-password"}')" 401 "a wrong password is refused"
is "$(code POST login -d "{\"user\":\"demo\",\"password\":\"$PW\"}")" 200 "the printed user and password log in"
like "$(cat "$TAP_TMP/body")" '"user":"demo","csrf":"[0-9a-f]{64}"' "... and get a CSRF token"
like "$(curl -s "http://127.0.0.1:$WEB/")" '<html' "the page is served"

members_active() {
	code GET 'members?group=1' >/dev/null
	[ "$(grep -o '"state":"active"' "$TAP_TMP/body" | wc -l)" -eq 5 ]
}
ok "the API lists the 5 members, active" wait_for 30 members_active
vpn_up() { code GET vpns >/dev/null && grep -q '"name":"branch-lo","state":"up"' "$TAP_TMP/body"; }
ok "the API shows VPN branch-lo up" wait_for 30 vpn_up
like "$(cat "$TAP_TMP/body")" '"name":"branch-lo","state":"up".*"replies":[1-9]' "... with probes answered"

CTL_SOCK=$D/gvpnctl.sock
like "$(ctl show registered-members)" "127\.0\.0\.6:[0-9]+ +127\.0\.0\.6 +active" "gvpnctl lists the members"
rekey_acked() { ctl show rekeys | grep -Eq "$REKEY_ACKED"; }
REKEY_ACKED="membership-change +[0-9]+ +5/5/0 "
ok "gvpnctl shows the membership rekey: 5 members, 5 acknowledged" wait_for 30 rekey_acked ||
	diag "$(ctl show rekeys)"
like "$(curl -s -b "$J" "$U/groups")" '"name":"g1","group_id":1' "the API shows group g1"
like "$(ctl show vpns)" "branch-lo +up +on " "gvpnctl shows branch-lo up"

if command -v snmpwalk >/dev/null 2>&1; then
	snmp_env
	walk=$(snmpwalk -v2c -c public -On -t 2 -r 1 "127.0.0.1:$SNMP" .1.3.6.1.4.1.32473.1.1.4.1.3 2>&1)
	is "$(echo "$walk" | grep -c 'Hex-STRING: 7F 00 00 0[2-6]')" 5 "SNMP: the member table has the 5 members"
	like "$(snmpget -v2c -c public -On -t 2 -r 1 "127.0.0.1:$SNMP" .1.3.6.1.4.1.32473.1.1.9.1.13.1 2>&1)" \
		'= INTEGER: 1$' "SNMP: branch-lo's gvpnVpnTunnelState is up(1)"
else
	for i in 1 2; do _tap_result 0 "# SKIP snmpwalk is not installed"; done
fi

if [ $HAVE_RSYSLOG -eq 1 ]; then
	syslog_has() { [ "$(grep -c ' gvpn-agent MEMBER_REGISTERED ' "$D/syslog.log")" -ge 5 ] &&
		grep -q ' gvpn-agent TUNNEL_UP VPN branch-lo is up' "$D/syslog.log"; }
	ok "syslog: rsyslogd received the 5 registrations and branch-lo up" wait_for 10 syslog_has
	ok "the terminal shows the syslog lines as they arrive (the rekey, acknowledged)" \
		wait_for 10 grep -Eq "gvpn-agent REKEY_SENT .*5 members targeted, 5 acknowledged" "$OUT"
else
	for i in 1 2; do _tap_result 0 "# SKIP rsyslogd is not installed"; done
fi

# Ctrl-C: SIGINT to the whole process group, as a terminal sends it.
kill -INT -- -$PG
all_gone() {
	local p
	for p in $PIDS; do kill -0 "$p" 2>/dev/null && return 1; done
	return 0
}
ok "SIGINT stops every process the demo started (within 30 s)" wait_for 30 all_gone ||
	ps -o pid,stat,cmd -p "$(echo $PIDS | tr ' ' ',')" | sed 's/^/#   /'
wait $PG
is "$?" 130 "the demo exits with 130 (interrupted)"
like "$(cat "$OUT")" "demo: stopping:.*gvpn-agent.*gvpn-member" "it says what it stops"
left=""
for c in /proc/[0-9]*/cmdline; do
	p=${c#/proc/}; p=${p%/cmdline}
	[ "$p" = "$$" ] && continue
	tr '\0' ' ' 2>/dev/null <"$c" | grep -qF "$D" && left="$left $p"
done
is "$left" "" "no process is left that names the demo's directory"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WEB/api/v1/status")" "000" "the web port is closed"
tap_done
