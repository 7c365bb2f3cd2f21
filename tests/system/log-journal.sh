#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# log-journal.sh: the local log in journald's native protocol. A private
# journald cannot run here, so the test binds the datagram socket itself
# (tests/tools/dgram_recv -j, which decodes the protocol independently and
# flags any broken datagram or field name) and points the agent at it with
# GVPN_JOURNAL_SOCKET. Events (start, a registration, a refusal, a reload)
# and log lines arrive once each with SYSLOG_IDENTIFIER, PRIORITY,
# SYSLOG_FACILITY, MESSAGE, GVPN_MSGID and the parameters as GVPN_*
# fields; a config path holding "\nPRIORITY=0" and a member identity
# trying the same forge no field; stderr carries none of it. With
# --log-stderr the same messages go to stderr only, with <N> prefixes, one
# line each; under systemd (JOURNAL_STREAM naming stderr) stderr lines get
# <N> prefixes too.
. "${srcdir:-.}/tests/lib/tap.sh"
RECV=$top_builddir/tests/tools/dgram_recv
[ -x "$RECV" ] || skip_all "tests/tools/dgram_recv is not built"
tap_setup
plan 27
T=$TAP_TMP
agent_write_gks_config
# The config in a directory whose name holds a newline and a would-be field.
D="$T/cfg"$'\n'"PRIORITY=0"
mkdir "$D"
sed 's/"syslog": { "local": false }/"syslog": { "local": true }/' "$CONF" >"$D/gvpn-agent.json"
mv "$SECRETS" "$D/secrets.json"
grep -q '"local": true' "$D/gvpn-agent.json" || { echo "Bail out! syslog.local not set in the config"; exit 1; }
CONF=$D/gvpn-agent.json
CTL_SOCK=$D/gvpnctl.sock
# The agent writes the newline as \x0a (str_escape), and dgram_recv its
# backslash as \\; as a regex:
ESC_CONF="$T/cfg\\\\\\\\x0aPRIORITY=0/gvpn-agent.json"

"$RECV" -j -t 600 "$T/journal.sock" "$T/journal.log" &
RECV_PID=$!
tap_track_pid $RECV_PID
ok "the journal stand-in socket is bound" wait_for 5 test -S "$T/journal.sock"

export GVPN_JOURNAL_SOCKET=$T/journal.sock
ok "the agent starts" agent_start || { cat "$T/agent.log"; exit 1; }
M() { "$top_builddir/gvpn-member" --server 127.0.0.1:$GKS_PORT --psk-file "$T/k.psk" --timeout 2000 --retries 2 "$@"; }
M --group 1 --local 127.0.0.7 --identity $'x\nPRIORITY=0' >"$T/m1.out" 2>&1
M --group 9 --local 127.0.0.8 >"$T/m2.out" 2>&1
kill -HUP "$AGENT_PID"
has() { grep -q -- "$1" "$T/journal.log" 2>/dev/null; }
ok "the reload arrives" wait_for 10 has 'GVPN_MSGID=CONFIG_RELOADED'
agent_stop
is "$AGENT_RC" 0 "SIGTERM: exit 0"
wait_for 5 has 'GVPN_MSGID=AGENT_STOPPING'

J=$(cat "$T/journal.log")
dg() { grep -- "$1" "$T/journal.log" | head -1; } # the first datagram with that field
count() { grep -c -- "$1" "$T/journal.log"; }
unlike "$J" '^INVALID' "every datagram is valid native protocol with valid field names"
# Per datagram: exactly one of each fixed field, however the values look.
bad=$(awk -F'\t' '{ p = m = i = f = 0
	for (k = 1; k <= NF; k++) { split($k, a, "="); n = a[1]
		p += n == "PRIORITY"; m += n == "MESSAGE"; f += n == "SYSLOG_FACILITY"
		i += $k == "SYSLOG_IDENTIFIER=gvpn-agent" }
	if (p != 1 || m != 1 || i != 1 || f != 1) print NR ": " $0 }' "$T/journal.log")
is "$bad" "" "every datagram has one PRIORITY, one MESSAGE, one SYSLOG_FACILITY and SYSLOG_IDENTIFIER=gvpn-agent"
like "$(count .)" '^[1-9][0-9]+$' "datagrams arrived ($(count .))"

like "$(dg GVPN_MSGID=AGENT_STARTED)" "^MESSAGE=gvpn-agent [0-9.]+ started with $ESC_CONF	PRIORITY=5	SYSLOG_FACILITY=3	SYSLOG_IDENTIFIER=gvpn-agent	GVPN_MSGID=AGENT_STARTED	GVPN_EVENTID=1	GVPN_VERSION=[0-9.]+	GVPN_PID=$AGENT_PID$" \
	"AGENT_STARTED: exact fields; the path's newline escaped (\\x0a) inside MESSAGE"
like "$(dg GVPN_MSGID=MEMBER_REGISTERED)" "^MESSAGE=member 127\\.0\\.0\\.7 \\(x\\.PRIORITY=0\\) registered.*	PRIORITY=5	.*	GVPN_GROUP=1	GVPN_MEMBER=127\\.0\\.0\\.7	GVPN_IDENTITY=x\\.PRIORITY=0	GVPN_INDEX=[0-9]+	GVPN_SUITE=aes-256-cbc/sha-256/modp-2048	GVPN_SEQ=0$" \
	"MEMBER_REGISTERED: the parameters as GVPN_* fields, the identity one value"
like "$(dg GVPN_MSGID=REGISTRATION_REFUSED)" "^MESSAGE=registration from 127\\.0\\.0\\.8 refused: unknown group	PRIORITY=4	SYSLOG_FACILITY=3	SYSLOG_IDENTIFIER=gvpn-agent	GVPN_MSGID=REGISTRATION_REFUSED	GVPN_EVENTID=[0-9]+	GVPN_MEMBER=127\\.0\\.0\\.8	GVPN_GROUP=9	GVPN_REASON=unknown group$" \
	"REGISTRATION_REFUSED: PRIORITY 4 (warning) and the reason"
like "$(dg GVPN_MSGID=CONFIG_RELOADED)" "^MESSAGE=configuration $ESC_CONF reloaded; generation 2	PRIORITY=5	.*	GVPN_FILE=$ESC_CONF	GVPN_GENERATION=2$" \
	"CONFIG_RELOADED: a value with a newline arrives whole, the newline escaped"
like "$(dg 'GVPN_SUBSYSTEM=agent')" "^MESSAGE=agent: SIGHUP: reloading $ESC_CONF	PRIORITY=5	SYSLOG_FACILITY=3	SYSLOG_IDENTIFIER=gvpn-agent	GVPN_SUBSYSTEM=agent$" \
	"a log line: MESSAGE, PRIORITY and GVPN_SUBSYSTEM"
like "$(count '\\\\x0aPRIORITY=0')" '^[1-9]' "values with an escaped newline before PRIORITY=0 arrived ($(count '\\\\x0aPRIORITY=0') datagrams)"
is "$(count '\\nPRIORITY=0')" 0 "no raw newline reached the journal in a value"
is "$(grep -c $'^PRIORITY=0\|\tPRIORITY=0' "$T/journal.log")" 0 "none of them forged a field PRIORITY=0"
is "$(count GVPN_MSGID=MEMBER_REGISTERED) $(count GVPN_MSGID=CONFIG_RELOADED) $(count 'SIGHUP: reloading')" "1 1 1" \
	"each event and log line arrives once"
# Nothing of it on stderr: one destination per message.
S=$(cat "$T/agent.log")
unlike "$S" 'MEMBER_REGISTERED|CONFIG_RELOADED|AGENT_STARTED|SIGHUP|registered|go to' "stderr has none of the events or log lines the journal has"
like "$(dg 'GVPN_SUBSYSTEM=syslog')" "MESSAGE=syslog: log lines and events go to $T/journal.sock in journald's native protocol" \
	"the agent says where its log goes, in the journal"

# ---- --log-stderr: stderr only, <N> prefixes, one line per message ---------------
n=$(count .)
ok "the agent starts with --log-stderr" agent_start --log-stderr
kill -HUP "$AGENT_PID"
stderr_has() { grep -q -- "$1" "$T/agent.log"; }
ok "--log-stderr: the reload is logged on stderr" wait_for 10 stderr_has 'CONFIG_RELOADED'
agent_stop
S=$(cat "$T/agent.log")
like "$S" '^<5>event: AGENT_STARTED: gvpn-agent .* started with ' "--log-stderr: AGENT_STARTED with <5> (notice)"
like "$S" "^<5>agent: SIGHUP: reloading $T/cfg\\\\x0aPRIORITY=0/gvpn-agent.json$" "--log-stderr: the newline in a message cannot start a line of its own (\\x0a)"
is "$(grep -vc '^<[0-7]>' "$T/agent.log")" 0 "--log-stderr: every stderr line has a <N> prefix"
is "$(count .)" "$n" "--log-stderr: nothing went to the journal socket"

# ---- under systemd: JOURNAL_STREAM names stderr -----------------------------------
sed -i 's/"syslog": { "local": true }/"syslog": { "local": false }/' "$CONF"
: >"$T/agent.log"
export JOURNAL_STREAM=$(stat -c '%d:%i' "$T/agent.log")
ok "the agent starts with JOURNAL_STREAM naming its stderr (syslog.local off)" agent_start
agent_stop
unset JOURNAL_STREAM
S=$(cat "$T/agent.log")
like "$S" '^<5>event: AGENT_STARTED: ' "JOURNAL_STREAM: stderr lines with <N> prefixes"
is "$(grep -vc '^<[0-7]>' "$T/agent.log")" 0 "JOURNAL_STREAM: every line prefixed"
kill -TERM $RECV_PID
tap_done
