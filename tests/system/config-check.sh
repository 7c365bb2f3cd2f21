# SPDX-License-Identifier: BSD-2-Clause
# config-check.sh: gvpn-agent -n accepts good configs and rejects bad ones
# with every error and its file:line:col, without starting anything.
. "$srcdir/tests/lib/tap.sh"
tap_setup
plan 12
agent_write_config

out=$("$top_builddir/gvpn-agent" -n -c "$CONF" 2>&1); rc=$?
is "$rc" 0 "-n on a valid config exits 0"
like "$out" "configuration OK" "-n says the config is OK"

out=$("$top_builddir/gvpn-agent" -n -c "$srcdir/conf/demo.json" 2>&1); rc=$?
is "$rc" 78 "the shipped demo config without its secrets file is refused (exit 78, EX_CONFIG)"

mkdir -p "$TAP_TMP/demo"
cp "$srcdir/conf/demo.json" "$TAP_TMP/demo/gvpn-agent.json"
cp "$srcdir/conf/demo-secrets.json" "$TAP_TMP/demo/secrets.json"
chmod 600 "$TAP_TMP/demo/secrets.json"
ok "the demo config with its secrets is valid" "$top_builddir/gvpn-agent" -n -c "$TAP_TMP/demo/gvpn-agent.json"

# Four mistakes at once: every one must be reported, in order, located.
cat >"$TAP_TMP/bad.json" <<'JSON'
{
  "agent": { "log_level": "loud" },
  "web": { "listen": "127.0.0.1:8080", "colour": "blue" },
  "vpn_monitor": { "interval": 1,
    "vpns": [{ "name": "b", "monitor": false, "rekey": true }] }
}
JSON
out=$("$top_builddir/gvpn-agent" -n -c "$TAP_TMP/bad.json" 2>&1); rc=$?
is "$rc" 78 "-n on a bad config exits 78 (EX_CONFIG)"
like "$out" "bad.json:2:27: agent.log_level: \"loud\" is not one of: emerg, alert, crit, err, warning, notice, info, debug" \
	"bad enum named with line:col and allowed values"
like "$out" "bad.json:3:40: web.colour: unknown key" "unknown key located at the key"
like "$out" "bad.json:4:32: vpn_monitor.interval: 1 is out of range \(allowed 2..3600\)" "out of range value with the allowed range"
like "$out" "bad.json:5:56: vpn_monitor.vpns\[0\].rekey: rekey cannot be used alone; turn on monitor too" \
	"rekey without monitor refused"
like "$out" "4 errors; configuration refused" "all four errors reported, not the first only"

printf '{\n  "agent": {\n    "log_level": "info"\n  \n' >"$TAP_TMP/trunc.json"
out=$("$top_builddir/gvpn-agent" -n -c "$TAP_TMP/trunc.json" 2>&1)
like "$out" "trunc.json:[0-9]+:[0-9]+: invalid JSON" "truncated JSON reported with line:col"

chmod 644 "$SECRETS"
out=$("$top_builddir/gvpn-agent" -n -c "$CONF" 2>&1)
like "$out" "secrets.json: refused: mode 0644 .*chmod 600" "a world-readable secrets file is refused"
tap_done
