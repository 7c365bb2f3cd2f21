# SPDX-License-Identifier: BSD-2-Clause
# web-metrics.sh: GET /metrics of the real agent, with a key server group
# whose name holds a quote, a backslash and a newline, three real
# gvpn-member members, a rekey they ACK, an SNMP notification target and
# a VPN (its name as awkward) whose monitor gets real ICMP answers from
# 127.0.0.1. Checked: `promtool check metrics` (Prometheus' own linter)
# finds nothing, and would find the escapes done wrong; the values are
# those of `gvpnctl --json show status/groups/vpns/events`; the bearer
# token and a web login both work; no auth, a wrong token, another scheme
# get 401 and no metric; a short token is refused by `gvpn-agent -n`.
. "$srcdir/tests/lib/tap.sh"
need curl jq promtool
[ "$(id -u)" -eq 0 ] || skip_all "the VPN monitor's ICMP socket needs root"
tap_setup
plan 44

# promtool must tell a broken exposition from a good one, or its "clean"
# below says nothing.
printf '# HELP m m\n# TYPE m gauge\nm{l="a\nb"} 1\n' >"$TAP_TMP/bad.prom"
printf '# HELP m m\n# TYPE m gauge\nm{l="a\\nb\\"c\\\\"} 1\n' >"$TAP_TMP/good.prom"
ok "promtool refuses a label value with a raw newline" eval '! promtool check metrics <"$TAP_TMP/bad.prom"'
ok "... and passes it escaped" promtool check metrics <"$TAP_TMP/good.prom"

agent_write_gks_config
TRAP_PORT=$(free_port udp)
# The group: g"1\x<newline>y. No membership rekeys, heartbeats only every
# 300 s: nothing pushes between the reads compared below.
sed -i 's/"name": "g1"/"name": "g\\"1\\\\x\\ny"/' "$CONF"
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false }/' "$CONF"
sed -i "s/\"v3_users\": \[/\"notification_targets\": [ { \"address\": \"udp:127.0.0.1:$TRAP_PORT\", \"user\": \"tester\" } ],\n            \"v3_users\": [/" "$CONF"
sed -i "s|^}\$|, \"vpn_monitor\": { \"interval\": 2, \"threshold\": 3, \"vici_socket\": \"unix://$TAP_TMP/none.vici\",\n    \"vpns\": [ { \"name\": \"site\\\\\"a\\\\\\\\b\\\\nc\", \"monitor\": true, \"destination_ip\": \"127.0.0.1\" },\n                { \"name\": \"plain\", \"monitor\": false } ] }\n}|" "$CONF"
TOKEN=$(openssl rand -hex 32)
hash=$(printf 'metrics pass word\n' | "$top_builddir/gvpnctl" passwd)
sed -i "s|\"psk\": {|\"web_users\": { \"admin\": \"$hash\" },\n  \"metrics_tokens\": { \"prometheus\": \"$TOKEN\" },\n  \"psk\": {|" "$SECRETS"
is "$(jq -r '.group_vpn_server.groups[0].name, .vpn_monitor.vpns[0].name' "$CONF")" \
	"$(printf 'g"1\\x\ny\nsite"a\\b\nc')" "the config names the group and the VPN with a quote, a backslash and a newline"
ok "the agent starts" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }

U="http://127.0.0.1:$WEB_PORT/metrics"
M=$TAP_TMP/metrics.txt
# get FILE [curl args]: GET /metrics; prints "STATUS CONTENT-TYPE", the body in FILE.
get() { local f=$1; shift; curl -s -o "$f" -D "$f.headers" -w '%{http_code} %{content_type}' --max-time 10 "$@" "$U"; }
# val SERIES: the value of the sample whose name and labels are exactly SERIES.
val() { S="$1 " awk 'index($0, ENVIRON["S"]) == 1 { print substr($0, length(ENVIRON["S"]) + 1) }' "$M"; }

# ---- refusals first: nothing leaks ----------------------------------------------
is "$(get "$TAP_TMP/none")" "401 application/json" "no session, no token: 401"
like "$(cat "$TAP_TMP/none.headers")" 'WWW-Authenticate: Bearer realm="gvpn-agent"' "... asking for a bearer token"
unlike "$(cat "$TAP_TMP/none")" 'gvpn_' "... and no metric in the body"
# The token with its last character changed (not merely set: it may be 0).
case $TOKEN in *0) WRONG=${TOKEN%?}1 ;; *) WRONG=${TOKEN%?}0 ;; esac
is "$(get "$TAP_TMP/wrong" -H "Authorization: Bearer $WRONG")" "401 application/json" "a wrong token: 401"
unlike "$(cat "$TAP_TMP/wrong")" 'gvpn_' "... and no metric in the body"
is "$(get "$TAP_TMP/basic" -u "admin:metrics pass word")" "401 application/json" \
	"HTTP Basic with the web user's password: 401 (bearer or a session only)"
like "$(ctl show events)" "WEB_LOGIN_FAILED .*metrics request with a wrong or no bearer token" "a wrong token is an audit event"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" "$U")" 405 "POST /metrics: 405"

# ---- members, a rekey ----------------------------------------------------------
MB="$top_builddir/gvpn-member --server 127.0.0.1:$GKS_PORT --group 1 --psk-file $TAP_TMP/k.psk --stay"
for i in 1 2 3; do
	$MB --local 127.0.6.$i >"$TAP_TMP/m$i.log" 2>&1 &
	tap_track_pid $!
done
members_are() { test "$(ctl --json show groups | jq '.result.groups[0].members')" = "$1"; }
ok "three members register" wait_for 30 members_are 3
ctl rekey group 1 >/dev/null
seq=$(ctl --json show rekeys | jq '[.result[] | select(.reason == "manual")] | last | .seq')
like "$seq" '^[0-9]+$' "a manual rekey (SEQ $seq)"
acked() { ctl --json show rekeys | jq -e ".result[] | select(.seq == $seq and .acked == 3 and .done)"; }
ok "... acknowledged by the three members" wait_for 20 acked
vpn_up() { ctl --json show vpns | jq -e '.result.vpns[0] | select(.state == "up" and .delay_last_ms > 0)'; }
ok "the VPN's monitor gets answers from 127.0.0.1: up, with a delay" wait_for 20 vpn_up

# ---- with the token ------------------------------------------------------------
is "$(get "$M" -H "Authorization: Bearer $TOKEN")" "200 text/plain; version=0.0.4; charset=utf-8" \
	"the bearer token: 200, text format 0.0.4"
status=$(ctl --json show status)
groups=$(ctl --json show groups)
vpns=$(ctl --json show vpns)
events=$(ctl --json show events)
out=$(promtool check metrics <"$M" 2>&1; echo "rc=$?")
is "$out" "rc=0" "promtool check metrics: clean"
G='group_id="1",group="g\"1\\x\ny"'
is "$(val "gvpn_gks_members{$G}")" 3 "members of the group: 3, its name escaped in the label"
is "$(val "gvpn_gks_members{$G}")" "$(jq '.result.groups[0].members' <<<"$groups")" "... as show groups says"
is "$(val gvpn_gks_registrations_total)" "$(jq '.result.key_server.registrations' <<<"$status")" \
	"registrations as show status says ($(jq '.result.key_server.registrations' <<<"$status"))"
p=$(val "gvpn_gks_pushes_total{$G}")
like "$p" '^[1-9][0-9]*$' "the group's pushes counted ($p)"
is "$p" "$(jq '.result.groups[0].pushes' <<<"$groups")" "... as show groups says"
is "$(val gvpn_gks_acks_total)" "$(jq '.result.key_server.acks' <<<"$status")" "ACKs as show status says"
is "$(val "gvpn_gks_retransmissions_total{$G}")" "$(jq '.result.groups[0].retransmissions' <<<"$groups")" \
	"the group's retransmissions as show groups says"
is "$(val "gvpn_gks_members_removed_total{$G}")" 0 "no member removed"

# Lifetimes: read before show groups, so its figures are at most the metric's.
kspi=$(jq -r '.result.groups[0].kek.spi' <<<"$groups")
kmet=$(val "gvpn_gks_kek_remaining_seconds{$G,spi=\"$kspi\"}")
kjson=$(jq '.result.groups[0].kek.remaining' <<<"$groups")
klife=$(jq '.result.groups[0].kek.lifetime' <<<"$groups")
ok "the KEK's remaining lifetime, labelled with its SPI $kspi: $kjson <= $kmet <= $klife" \
	test -n "$kmet" -a "$kjson" -gt 0 -a "$kjson" -le "${kmet:-0}" -a "${kmet:-0}" -le "$klife"
tspi=$(jq -r '.result.groups[0].teks[0].spi' <<<"$groups")
tmet=$(val "gvpn_gks_tek_remaining_seconds{$G,policy=\"sa1\",spi=\"$tspi\"}")
tjson=$(jq '.result.groups[0].teks[0].remaining' <<<"$groups")
ok "the TEK's, labelled with its policy and SPI $tspi: $tjson <= $tmet" \
	test -n "$tmet" -a "$tjson" -gt 0 -a "$tjson" -le "${tmet:-0}"

V='vpn="site\"a\\b\nc"'
is "$(val "gvpn_vpn_up{$V}") $(val "gvpn_vpn_state{$V,state=\"up\"}") $(val "gvpn_vpn_state{$V,state=\"down\"}")" "1 1 0" \
	"the VPN is up (gvpn_vpn_up and its state), its name escaped"
d=$(val "gvpn_vpn_probe_delay_seconds{$V}")
ok "... with a probe delay in seconds ($d)" awk -v d="$d" 'BEGIN { exit !(d > 0 && d < 10) }'
probes=$(val "gvpn_vpn_probes_total{$V}")
ok "its probes ($probes) are at most show vpns' count, read later ($(jq '.result.vpns[0].probes_sent' <<<"$vpns"))" \
	test -n "$probes" -a "${probes:-0}" -ge 1 -a "${probes:-0}" -le "$(jq '.result.vpns[0].probes_sent' <<<"$vpns")"
is "$(val 'gvpn_vpn_state{vpn="plain",state="monitorDisabled"}')" 1 "the VPN with the monitor off is in monitorDisabled"
is "$(grep -c '^gvpn_vpn_probe_delay_seconds{vpn="plain"}' "$M")" 0 "... and has no delay (none measured)"

regs=$(jq '[.result[] | select(.msgid == "MEMBER_REGISTERED")] | length' <<<"$events")
is "$(val 'gvpn_snmp_notifications_sent_total{notification="member_registered"}')" "$regs" \
	"SNMP notifications sent for registrations: one per MEMBER_REGISTERED event ($regs)"
is "$(val 'gvpn_snmp_notifications_failed_total{notification="member_registered"}')" 0 "... none failed"
T="target=\"udp:127.0.0.1:$TRAP_PORT\",kind=\"trap\""
is "$(val "gvpn_snmp_target_sent_total{$T}")" "$(jq "[.result.snmp.notification_targets[] | select(.address == \"udp:127.0.0.1:$TRAP_PORT\") | .sent][0]" <<<"$status")" \
	"the trap target's sent count is the one in show status"
like "$(val "gvpn_build_info{version=\"$(jq -r '.result.version' <<<"$status")\"}")" '^1$' "build info with the version"
is "$(val gvpn_config_generation)" "$(jq '.result.config.generation' <<<"$status")" "the config generation"

# ---- with a web login instead ----------------------------------------------------
J=$TAP_TMP/jar
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$J" -d '{"user":"admin","password":"metrics pass word"}' \
	"http://127.0.0.1:$WEB_PORT/api/v1/login")
is "$code" 200 "a web login"
is "$(get "$M" -b "$J")" "200 text/plain; version=0.0.4; charset=utf-8" "the session cookie: 200"
is "$(val "gvpn_gks_members{$G}")" 3 "... the same metrics"
out=$(promtool check metrics <"$M" 2>&1; echo "rc=$?")
is "$out" "rc=0" "... promtool: clean"

# ---- a token too short to be a secret ------------------------------------------------
sed -i "s|\"$TOKEN\"|\"short-token\"|" "$SECRETS"
out=$("$top_builddir/gvpn-agent" -n -c "$CONF" 2>&1); rc=$?
like "$rc $out" "^78 .*metrics_tokens\\.prometheus: a token must have at least 32 characters" \
	"gvpn-agent -n refuses a metrics token shorter than 32 characters"

agent_stop
is "$AGENT_RC" 0 "SIGTERM: the agent exits 0"
tap_done
