#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# sd-notify.sh: the agent as a Type=notify service. The test binds its own
# NOTIFY_SOCKET (tests/tools/dgram_recv, which stops the agent with
# SIGSTOP the moment READY=1 arrives): at that moment the SNMP, GDOI and
# web ports and the control socket are already bound; READY=1 carries a
# STATUS= line; SIGHUP gives RELOADING=1 (with MONOTONIC_USEC) then
# READY=1, also when the new config is refused; WATCHDOG=1 keeps coming
# when WATCHDOG_USEC and WATCHDOG_PID (the agent's) are set, and never
# when WATCHDOG_PID names another process; SIGTERM gives STOPPING=1.
. "${srcdir:-.}/tests/lib/tap.sh"
need ss snmpget
grep -q '^#define HAVE_LIBSYSTEMD 1' "$top_builddir/config.h" 2>/dev/null ||
	skip_all "built without libsystemd: no sd_notify messages"
RECV=$top_builddir/tests/tools/dgram_recv
[ -x "$RECV" ] || skip_all "tests/tools/dgram_recv is not built"
tap_setup
snmp_env
plan 23
T=$TAP_TMP
agent_write_gks_config

# wd.sh: execs the agent with WATCHDOG_PID set to the agent's own pid (or
# to $WD_PID when given), as systemd does.
cat >"$T/wd.sh" <<'SH'
#!/bin/sh
WATCHDOG_PID=${WD_PID:-$$}
export WATCHDOG_PID
exec "$@"
SH
chmod +x "$T/wd.sh"

recv_start() { # log file
	"$RECV" -p -s -t 600 "$T/notify.sock" "$1" &
	RECV_PID=$!
	tap_track_pid $RECV_PID
	wait_for 5 test -S "$T/notify.sock"
}
recv_stop() {
	kill -TERM "$RECV_PID" 2>/dev/null
	wait "$RECV_PID" 2>/dev/null
}
start() { # the agent under NOTIFY_SOCKET, WATCHDOG_USEC 1 s; not waited for
	NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=1000000 "$T/wd.sh" "$top_builddir/gvpn-agent" -f -c "$CONF" \
		>"$T/agent.log" 2>&1 &
	AGENT_PID=$!
	tap_track_pid $AGENT_PID
}
lines() { grep -c -- "$2" "$1" 2>/dev/null; }
at_least() { test "$(lines "$1" "$2")" -ge "$3"; } # file pattern n
has() { grep -q -- "$2" "$1" 2>/dev/null; }
stopped() { [ "$(awk '{print $3}' "/proc/$AGENT_PID/stat" 2>/dev/null)" = T ]; }
after() { # file n pattern: a line matching pattern past line n
	tail -n +"$(($2 + 1))" "$1" | grep -q -- "$3"
}

# ---- READY=1 only once everything listens -----------------------------------
ok "the notify socket is bound" recv_start "$T/notify.log"
start
ok "READY=1 arrives" wait_for 30 has "$T/notify.log" 'READY=1'
ok "the agent was stopped when it said ready" wait_for 5 stopped
like "$(ss -Hlnu "sport = :$SNMP_PORT")" "127.0.0.1:$SNMP_PORT" "at READY=1 the SNMP port is bound"
like "$(ss -Hlnu "sport = :$GKS_PORT")" "127.0.0.1:$GKS_PORT" "at READY=1 the GDOI port is bound"
like "$(ss -Hlnt "sport = :$WEB_PORT")" "127.0.0.1:$WEB_PORT" "at READY=1 the web port listens"
like "$(ss -Hlx)" "$CTL_SOCK" "at READY=1 the control socket listens"
kill -CONT "$AGENT_PID"
ready=$(grep -m1 'READY=1' "$T/notify.log")
is "${ready%% *}" "$AGENT_PID" "READY=1 comes from the agent's own pid (NotifyAccess=main)"
like "$ready" '^[0-9]+ READY=1\\nSTATUS=serving 1 group, 0 VPNs$' "READY=1 with STATUS= naming what is served"
ok "the agent answers SNMP after READY=1" snmp_v3 snmpget "$GVPN_OID.3.0"

# ---- the watchdog -------------------------------------------------------------
ok "WATCHDOG=1 keeps coming (three of them)" wait_for 30 at_least "$T/notify.log" 'WATCHDOG=1' 3
like "$(cat "$T/agent.log")" 'watchdog: 1000 ms; a keep-alive every 500 ms' "the agent says it keeps the watchdog"

# ---- SIGHUP: RELOADING=1, then READY=1 ------------------------------------------
n=$(wc -l <"$T/notify.log")
kill -HUP "$AGENT_PID"
ok "SIGHUP: READY=1 after the reload" wait_for 10 after "$T/notify.log" "$n" 'READY=1'
got=$(tail -n +"$((n + 1))" "$T/notify.log" | grep -v 'WATCHDOG=1$' | head -2 | cut -d' ' -f2-)
like "$got" '^RELOADING=1\\nMONOTONIC_USEC=[0-9]+
READY=1\\nSTATUS=serving 1 group, 0 VPNs$' "SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1"
cp "$CONF" "$T/good.json"
printf '{ "agent": 7 }\n' >"$CONF"
n=$(wc -l <"$T/notify.log")
kill -HUP "$AGENT_PID"
ok "SIGHUP with a broken config: READY=1 again" wait_for 10 after "$T/notify.log" "$n" 'READY=1'
got=$(tail -n +"$((n + 1))" "$T/notify.log" | grep -v 'WATCHDOG=1$' | head -2 | cut -d' ' -f2-)
like "$got" '^RELOADING=1\\nMONOTONIC_USEC=[0-9]+
READY=1\\nSTATUS=configuration refused, the old one in force; serving 1 group, 0 VPNs$' \
	"the broken config: RELOADING=1, then READY=1 saying the old config stays"
cp "$T/good.json" "$CONF"

# ---- SIGTERM: STOPPING=1 --------------------------------------------------------
n=$(wc -l <"$T/notify.log")
agent_stop
is "$AGENT_RC" 0 "SIGTERM: the agent exits 0"
ok "SIGTERM: STOPPING=1 arrives" wait_for 5 after "$T/notify.log" "$n" "^$AGENT_PID STOPPING=1$"
recv_stop

# ---- WATCHDOG_PID naming another process: no keep-alives -----------------------
ok "the notify socket is bound again" recv_start "$T/notify2.log"
WD_PID=1 start
ok "READY=1 arrives (WATCHDOG_PID=1)" wait_for 30 has "$T/notify2.log" 'READY=1'
wait_for 5 stopped; kill -CONT "$AGENT_PID"
# A full reload cycle later (READY=1 twice), still no keep-alive.
kill -HUP "$AGENT_PID"
ok "READY=1 again after SIGHUP (WATCHDOG_PID=1)" wait_for 10 at_least "$T/notify2.log" 'READY=1' 2
agent_stop
ok "with WATCHDOG_PID naming another process the agent sent STOPPING=1" has "$T/notify2.log" "STOPPING=1"
is "$(lines "$T/notify2.log" 'WATCHDOG=1')" 0 "and no WATCHDOG=1 at all"
recv_stop
tap_done
