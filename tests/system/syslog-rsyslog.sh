#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# syslog-rsyslog.sh: core/syslog_tx against a real rsyslogd (private config,
# ports and files in TAP_TMP): RFC 5426 UDP, RFC 6587 octet-counted TCP and
# RFC 5425 TLS (gtls driver, CA and server certificate made here), exact
# file contents through a "%APP-NAME%|%MSGID%|%STRUCTURED-DATA%|%msg%"
# template; then the collector is stopped, messages queue and the oldest
# beyond the queue are dropped, and after a restart on the same port the
# sender reconnects and delivers the rest, its drop counter equal to what
# was lost. Driven by tests/tools/syslog_send.
. "${srcdir:-.}/tests/lib/tap.sh"

need rsyslogd openssl
[ -x "$top_builddir/tests/tools/syslog_send" ] || unmet "tests/tools/syslog_send is not built"
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || [ -n "$(find /usr/lib* -name lmnsd_gtls.so 2>/dev/null | head -1)" ] ||
	unmet "rsyslog-gnutls (lmnsd_gtls) is not installed"

tap_setup
plan 15

SEND=$top_builddir/tests/tools/syslog_send
T=$TAP_TMP
UDP_PORT=$(free_port udp)
TCP_PORT=$(free_port tcp)
TLS_PORT=$(free_port tcp)
while [ "$TLS_PORT" = "$TCP_PORT" ]; do TLS_PORT=$(free_port tcp); done

# ---- certificates (and one from another CA) and rsyslog's config -------
rsyslog_setup "$UDP_PORT" "$TCP_PORT" "$TLS_PORT" &&
	(cd "$T" && openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other-ca.pem -days 2 \
		-subj /CN=other-ca) >>"$T/openssl.log" 2>&1 ||
	{ cat "$T/openssl.log" >&2; unmet "openssl could not make the test certificates"; }


RS_PID=""
port_open() { # tcp port listening on 127.0.0.1
	(exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
rsyslog_start() {
	rm -f "$T/rsyslogd.pid"
	rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslogd.pid" >>"$T/rsyslogd.out" 2>&1 3>&- &
	RS_PID=$!
	tap_track_pid $RS_PID
	wait_for 10 port_open "$TCP_PORT" && wait_for 10 port_open "$TLS_PORT"
}
rsyslog_stop() {
	kill -TERM "$RS_PID" 2>/dev/null
	local i=0
	while kill -0 "$RS_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	wait "$RS_PID" 2>/dev/null
	! kill -0 "$RS_PID" 2>/dev/null
}
lines_in() { # file n: the file has at least n lines
	[ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]
}

ok "rsyslogd starts with a private config" rsyslog_start || {
	sed 's/^/#   /' "$T/rsyslogd.out"; }

M1='<134>1 2026-01-02T03:04:05.000Z host gvpn-agent 42 KMD_VPN_UP [gvpn@32473 vpn="v1" peer="192.0.2.1"] VPN v1 from 192.0.2.1 is up.'
M2='<131>1 2026-01-02T03:04:06.000Z host gvpn-agent 42 KMD_VPN_DOWN - VPN v1 from 192.0.2.1 is down. Reason: peer timeout'
WANT='gvpn-agent|KMD_VPN_UP|[gvpn@32473 vpn="v1" peer="192.0.2.1"]|VPN v1 from 192.0.2.1 is up.
gvpn-agent|KMD_VPN_DOWN|-|VPN v1 from 192.0.2.1 is down. Reason: peer timeout'

for tr in udp tcp tls; do
	case $tr in
	udp) port=$UDP_PORT; extra="" ;;
	tcp) port=$TCP_PORT; extra="" ;;
	tls) port=$TLS_PORT; extra=$T/ca.pem ;;
	esac
	ok "$tr: syslog_send delivers two messages" "$SEND" -t 10 $tr 127.0.0.1 "$port" $extra "$M1" "$M2"
	wait_for 5 lines_in "$T/$tr.log" 2
	is "$(cat "$T/$tr.log" 2>/dev/null)" "$WANT" "$tr: rsyslog wrote exactly the fields sent"
done

# A certificate from another CA, or a host name the certificate does not
# carry: the handshake fails and nothing is sent.
OUT=$("$SEND" -t 2 tls 127.0.0.1 "$TLS_PORT" "$T/other-ca.pem" "$M1" 2>&1)
like "$OUT" 'sent=0 .*queued=1' "tls: a server certificate from another CA is refused"
OUT=$("$SEND" -t 2 tls localhost "$TLS_PORT" "$T/ca.pem" "$M1" 2>&1)
like "$OUT" 'sent=0 .*queued=1' "tls: a certificate without the host name is refused"

# ---- collector down: queue, drop the oldest, reconnect ------------------
mkfifo "$T/in"
"$SEND" -i -q 5 -t 60 tcp 127.0.0.1 "$TCP_PORT" "<14>1 - - app - - - first" <"$T/in" >"$T/send.out" 2>"$T/send.err" &
SEND_PID=$!
tap_track_pid $SEND_PID
exec 3>"$T/in"
wait_for 10 lines_in "$T/tcp.log" 3
ok "tcp: connected and the first message arrived" grep -qx -- 'app|-|-|first' "$T/tcp.log"
ok "rsyslogd stops" rsyslog_stop
wait_for 10 grep -qx disconnected "$T/send.out"
for i in 1 2 3 4 5 6 7 8; do echo "<14>1 - - app - - - q$i" >&3; done
sleep 0.5
ok "rsyslogd restarts on the same ports" rsyslog_start
exec 3>&-
wait "$SEND_PID"
is "$?" 0 "syslog_send reconnected and drained its queue"
like "$(tail -n 1 "$T/send.out")" '^sent=6 dropped=3 reconnects=[1-9]' "counters: 6 sent, the 3 oldest of 8 dropped, reconnected"
wait_for 5 lines_in "$T/tcp.log" 8
is "$(tail -n +3 "$T/tcp.log" | cut -d'|' -f4 | tr '\n' ' ')" "first q4 q5 q6 q7 q8 " \
	"after the restart rsyslog got q4..q8 (q1..q3 were dropped)"

rsyslog_stop
tap_done
