# SPDX-License-Identifier: BSD-2-Clause
# syslog-agent.sh: every event kind of the agent reaches a real rsyslog
# over UDP, TCP and TLS at once, and rsyslog's own RFC 5424 parser
# extracts APP-NAME, MSGID and the structured data exactly. Everything
# (agent, rsyslogd, member, probes) runs in a private network namespace.
. "$srcdir/tests/lib/tap.sh"
need rsyslogd openssl
[ -n "$(find /usr/lib* -name lmnsd_gtls.so 2>/dev/null | head -1)" ] || unmet "rsyslog-gnutls is not installed"
tap_setup
netns_setup
N=$TAP_NETNS
plan 22
T=$TAP_TMP
UDP=20514; TCP=20601; TLS=20602; GKS=20848
rsyslog_setup $UDP $TCP $TLS || unmet "openssl could not make the test certificates"
port_open() { ip netns exec $N bash -c "exec 9<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
rsyslog_start() {
	rm -f "$T/rsyslogd.pid"
	ip netns exec $N rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslogd.pid" >>"$T/rsyslogd.out" 2>&1 3>&- &
	RS_PID=$!
	tap_track_pid $RS_PID
	wait_for 10 port_open $TLS
}
ok "rsyslogd starts in the namespace" rsyslog_start

ip -n $N addr add 198.51.100.2/32 dev lo
agent_write_config "\"vpn_monitor\": { \"interval\": 2, \"threshold\": 2, \"vici_socket\": \"unix://$T/none.vici\",
    \"vpns\": [ { \"name\": \"site-a\", \"monitor\": true, \"rekey\": true, \"source_interface\": \"lo\", \"destination_ip\": \"198.51.100.2\" } ] },
  \"group_vpn_server\": { \"listen\": \"127.0.0.1:$GKS\",
    \"groups\": [ { \"name\": \"g1\", \"group_id\": 1,
        \"ipsec_sa\": [ { \"name\": \"sa1\", \"match\": { \"source\": \"10.1.0.0/16\", \"destination\": \"10.2.0.0/16\" } } ],
        \"members\": [ { \"address\": \"127.0.0.0/8\", \"psk\": \"k\" } ] } ] }"
COLL="{ \"transport\": \"udp\", \"host\": \"127.0.0.1\", \"port\": $UDP }, { \"transport\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": $TCP, \"queue\": 5 }, { \"transport\": \"tls\", \"host\": \"127.0.0.1\", \"port\": $TLS, \"ca_file\": \"$T/ca.pem\" }"
sed -i "s|\"syslog\": { \"local\": false }|\"syslog\": { \"local\": false, \"facility\": \"local3\", \"collectors\": [ $COLL ] }|" "$CONF"
grep -q '"collectors"' "$CONF" || { echo "Bail out! the collectors were not written into $CONF"; exit 1; }
cat >"$SECRETS" <<JSON
{ "snmp_users": { "tester": { "auth_passphrase": "tester-auth-1", "priv_passphrase": "tester-priv-1" } },
  "psk": { "k": "syslog test key" } }
JSON
chmod 600 "$SECRETS"; printf 'syslog test key\n' >"$T/k.psk"; chmod 600 "$T/k.psk"
AGENT_NETNS=$N
ok "the agent starts" agent_start || { cat "$T/agent.log"; exit 1; }
M() { ip netns exec $N "$top_builddir/gvpn-member" --server 127.0.0.1:$GKS --psk-file "$T/k.psk" --timeout 2000 --retries 2 "$@"; }
vstate() { ctl --json show vpns | grep -o '"state":"[a-zA-Z]*"' | head -1 | cut -d'"' -f4; }
state_is() { test "$(vstate)" = "$1"; }

# Make every kind of event happen.
M --group 1 --local 127.0.0.7 >/dev/null                              # MEMBER_REGISTERED
M --group 9 --local 127.0.0.8 >/dev/null 2>&1                          # REGISTRATION_REFUSED
ctl reload >/dev/null                                                  # CONFIG_RELOADED
cp "$CONF" "$T/good.json"; printf '{ "agent": 7 }\n' >"$CONF"; ctl reload >/dev/null 2>&1; cp "$T/good.json" "$CONF"  # CONFIG_REJECTED
wait_for 10 state_is up                                                # TUNNEL_UP
ip -n $N addr del 198.51.100.2/32 dev lo; ip -n $N route add blackhole 198.51.100.2/32
wait_for 15 state_is down                                              # TUNNEL_DOWN, TUNNEL_REKEY_ATTEMPT
ip -n $N route del blackhole 198.51.100.2/32; ip -n $N addr add 198.51.100.2/32 dev lo
ok "the tunnel comes back (rekey)" wait_for 15 state_is up             # TUNNEL_REKEY_SUCCEEDED
ctl --json show events >"$T/events.json"

# The collector dies for a while: the agent goes on, the TCP queue (5)
# overflows and says so, and after a restart the agent reconnects.
kill -TERM $RS_PID; wait $RS_PID 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do ctl reload >/dev/null; done
ok "with the collector dead the agent keeps running and answering" ctl show status
tcpstat() { ctl --json show status | grep -o "\"transport\":\"tcp\"[^}]*" | grep -o "\"$1\":[a-z0-9]*" | cut -d: -f2; }
tcp_is() { test "$(tcpstat "$1")" = "$2"; }
ok "the TCP collector is seen down" wait_for 10 tcp_is connected false
like "$(tcpstat dropped_queue)" '^([7-9]|1[0-9])$' "the TCP queue of 5 overflowed: the drop counter says what was lost ($(tcpstat dropped_queue))"
ok "rsyslogd restarts" rsyslog_start
ok "the agent reconnects to the TCP collector" wait_for 30 tcp_is connected true
ctl reload >/dev/null
like "$(tcpstat reconnects)" '^[1-9][0-9]*$' "reconnects are counted"
agent_stop                                                             # AGENT_STOPPING
is "$AGENT_RC" 0 "SIGTERM: exit 0"
sleep 1

for tr in udp tcp tls; do
	f=$T/$tr.log
	got=$(cut -d'|' -f1,2 "$f" 2>/dev/null | sort -u | tr '\n' ' ')
	is "$got" "gvpn-agent|AGENT_STARTED gvpn-agent|AGENT_STOPPING gvpn-agent|CONFIG_REJECTED gvpn-agent|CONFIG_RELOADED gvpn-agent|MEMBER_REGISTERED gvpn-agent|REGISTRATION_REFUSED gvpn-agent|TUNNEL_DOWN gvpn-agent|TUNNEL_REKEY_ATTEMPT gvpn-agent|TUNNEL_REKEY_SUCCEEDED gvpn-agent|TUNNEL_UP " \
		"$tr: rsyslog parsed APP-NAME and MSGID of all ten event kinds"
	id=$(grep -o '"id":[0-9]*,"time":"[^"]*","msgid":"CONFIG_RELOADED"' "$T/events.json" | head -1 | sed 's/"id":\([0-9]*\).*/\1/')
	like "$(cat "$f")" "^gvpn-agent\\|CONFIG_RELOADED\\|\\[gvpn@32473 eventid=\"$id\" file=\"$CONF\" generation=\"2\"\\]\\|configuration $CONF reloaded; generation 2$" \
		"$tr: the structured data of CONFIG_RELOADED is exact (eventid, file, generation)"
	like "$(cat "$f")" "^gvpn-agent\\|MEMBER_REGISTERED\\|\\[gvpn@32473 eventid=\"[0-9]+\" group=\"1\" member=\"127.0.0.7\" identity=\"127.0.0.7\" index=\"[0-9]+\" suite=\"aes-256-cbc/sha-256/modp-2048\" seq=\"0\"\\]\\|member 127.0.0.7" \
		"$tr: the structured data of MEMBER_REGISTERED is exact"
	like "$(cat "$f")" "^gvpn-agent\\|REGISTRATION_REFUSED\\|\\[gvpn@32473 eventid=\"[0-9]+\" member=\"127.0.0.8\" group=\"9\" reason=\"unknown group\"\\]\\|registration from 127.0.0.8 refused: unknown group$" \
		"$tr: the structured data of REGISTRATION_REFUSED is exact"
done
tap_done
