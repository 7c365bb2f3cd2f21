#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# log-rsyslog-local.sh: without journald the local log goes to the syslog
# socket in the classic form. A private rsyslogd reads it with imuxsock's
# default parsing on a socket the test makes (GVPN_SYSLOG_SOCKET; and
# GVPN_JOURNAL_SOCKET empty, so a journald on this machine is not used)
# and writes "%app-name%|%procid%|%syslogfacility-text%|%syslogseverity-text%|%msg%":
# app-name is gvpn-agent, procid the agent's pid, the facility and
# severity those of the event, and the MSGID and structured data stay in
# the message. stderr has none of it.
. "${srcdir:-.}/tests/lib/tap.sh"
need rsyslogd
tap_setup
plan 12
T=$TAP_TMP
agent_write_gks_config
sed -i 's/"syslog": { "local": false }/"syslog": { "local": true, "facility": "local3" }/' "$CONF"
grep -q '"facility": "local3"' "$CONF" || { echo "Bail out! syslog settings not written into $CONF"; exit 1; }

mkdir -p "$T/work"
cat >"$T/rsyslog.conf" <<CONF
global(workDirectory="$T/work")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$T/log.sock" CreatePath="on")
template(name="fields" type="string" string="%app-name%|%procid%|%syslogfacility-text%|%syslogseverity-text%|%msg%\n")
action(type="omfile" file="$T/local.log" template="fields")
CONF
rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslogd.pid" >>"$T/rsyslogd.out" 2>&1 3>&- &
RS_PID=$!
tap_track_pid $RS_PID
ok "a private rsyslogd listens on its own syslog socket" wait_for 10 test -S "$T/log.sock" ||
	sed 's/^/#   /' "$T/rsyslogd.out"

export GVPN_JOURNAL_SOCKET="" GVPN_SYSLOG_SOCKET=$T/log.sock
ok "the agent starts" agent_start || { cat "$T/agent.log"; exit 1; }
M() { "$top_builddir/gvpn-member" --server 127.0.0.1:$GKS_PORT --psk-file "$T/k.psk" --timeout 2000 --retries 2 "$@"; }
M --group 1 --local 127.0.0.7 >"$T/m1.out" 2>&1
kill -HUP "$AGENT_PID"
has() { grep -q -- "$1" "$T/local.log" 2>/dev/null; }
ok "rsyslog wrote the reload" wait_for 10 has 'CONFIG_RELOADED'
agent_stop
is "$AGENT_RC" 0 "SIGTERM: exit 0"
wait_for 5 has AGENT_STOPPING

L=$(cat "$T/local.log" 2>/dev/null)
P=$AGENT_PID
is "$(cut -d'|' -f1,2 "$T/local.log" | sort -u)" "gvpn-agent|$P" "every line: app-name gvpn-agent, procid the agent's pid"
is "$(cut -d'|' -f3 "$T/local.log" | sort -u)" "local3" "every line: facility local3, as configured"
like "$L" "^gvpn-agent\\|$P\\|local3\\|notice\\| ?AGENT_STARTED \\[gvpn@32473 eventid=\"1\" version=\"[0-9.]+\" pid=\"$P\"\\] gvpn-agent [0-9.]+ started with $CONF$" \
	"AGENT_STARTED: MSGID, structured data and text in the message"
like "$L" "^gvpn-agent\\|$P\\|local3\\|notice\\| ?MEMBER_REGISTERED \\[gvpn@32473 eventid=\"[0-9]+\" group=\"1\" member=\"127\\.0\\.0\\.7\" identity=\"127\\.0\\.0\\.7\" index=\"[0-9]+\" suite=\"aes-256-cbc/sha-256/modp-2048\" seq=\"0\"\\] member 127\\.0\\.0\\.7" \
	"MEMBER_REGISTERED: the parameters kept in the message"
like "$L" "^gvpn-agent\\|$P\\|local3\\|notice\\| ?agent: SIGHUP: reloading $CONF$" "a log line: subsystem and text"
like "$L" "^gvpn-agent\\|$P\\|local3\\|info\\| ?syslog: log lines and events go to $T/log.sock in the classic syslog form$" \
	"the agent says where its log goes (severity info)"
is "$(grep -c 'MEMBER_REGISTERED' "$T/local.log") $(grep -c 'SIGHUP: reloading' "$T/local.log")" "1 1" "each event and line once"
unlike "$(cat "$T/agent.log")" 'MEMBER_REGISTERED|CONFIG_RELOADED|AGENT_STARTED|SIGHUP|go to' "stderr has none of them"
tap_done
