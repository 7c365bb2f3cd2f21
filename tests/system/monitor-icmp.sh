# SPDX-License-Identifier: BSD-2-Clause
# monitor-icmp.sh: the VPN monitor's ICMP probes against addresses in a
# private network namespace: a reachable destination is up, a path that
# breaks goes down after interval x threshold with an event, probing stops
# once down without rekey, and a destination never reached goes down
# without ever being up. (strongSwan itself is exercised by another test.)
. "$srcdir/tests/lib/tap.sh"
tap_setup
netns_setup
plan 10
N=$TAP_NETNS
ip -n $N addr add 198.51.100.2/32 dev lo
ip -n $N route add blackhole 203.0.113.5/32
agent_write_config "\"vpn_monitor\": { \"interval\": 2, \"threshold\": 2, \"vici_socket\": \"unix://$TAP_TMP/none.vici\",
    \"vpns\": [ { \"name\": \"site-a\", \"monitor\": true, \"source_interface\": \"lo\", \"destination_ip\": \"198.51.100.2\" },
                { \"name\": \"site-b\", \"monitor\": true, \"destination_ip\": \"203.0.113.5\" },
                { \"name\": \"site-c\", \"monitor\": false, \"destination_ip\": \"198.51.100.2\" } ] }"
AGENT_NETNS=$N
ok "the agent starts in the namespace" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
vstate() { ctl --json show vpns | tr '{' '\n' | grep "\"name\":\"$1\"" | sed 's/.*"state":"\([a-zA-Z]*\)".*/\1/'; }
vfield() { ctl --json show vpns | tr '{' '\n' | grep "\"name\":\"$1\"" | sed "s/.*\"$2\":\([0-9.-]*\).*/\1/"; }
state_is() { test "$(vstate "$1")" = "$2"; }

ok "site-a answers: up" wait_for 5 state_is site-a up
ok "site-b is never reached: down after interval x threshold" wait_for 10 state_is site-b down
is "$(vstate site-c)" "monitorDisabled" "site-c has the monitor off"
like "$(ctl show vpns)" "site-a +up +on +off +off +198.51.100.2" "gvpnctl show vpns lists the settings and state"

# Break site-a's path: down within (threshold + 1) x interval.
ip -n $N addr del 198.51.100.2/32 dev lo
ip -n $N route add blackhole 198.51.100.2/32
t0=$(date +%s)
ok "site-a goes down once its path breaks" wait_for 12 state_is site-a down
diag "site-a down after $(( $(date +%s) - t0 )) s (interval 2 s, threshold 2)"
like "$(ctl show events)" "TUNNEL_DOWN +VPN site-a is down: 2 consecutive probes unanswered" "the down transition is an event"
p1=$(vfield site-a probes_sent)
sleep 5
is "$(vfield site-a probes_sent)" "$p1" "without rekey, probing stops once down"
# No charon here: the agent says so, once, with what to check (not only
# "timed out" at each request).
log=$(cat "$TAP_TMP/agent.log")
like "$log" "cannot connect to charon at $TAP_TMP/none.vici: No such file or directory; is charon running" \
	"a missing VICI socket is reported with its reason"
is "$(printf '%s\n' "$log" | grep -c "cannot connect to charon")" 1 "... once, not at every retry"
tap_done
