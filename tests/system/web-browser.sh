# SPDX-License-Identifier: BSD-2-Clause
# web-browser.sh: the page in headless Chromium (Debian's chromium,
# driven by playwright-core from npm): log in (a wrong password first),
# see a VPN, turn on VPN Monitor then Rekey, apply, reload and find them
# kept; Rekey alone is refused by the server with the error next to the
# field; a KEK/TEK lifetime counts down; a screenshot is kept as an
# artifact (web-browser.png in the build directory). The config file and
# an SNMP GET show the saved settings at once.
. "$srcdir/tests/lib/tap.sh"
need node curl snmpget
[ -x /usr/bin/chromium ] || unmet "Debian's chromium is not installed (./autogen.sh --deps installs it)"
[ "$(id -u)" -eq 0 ] || unmet "the VPN monitor's ICMP socket needs root"
tap_setup
PW=$srcdir/tests/browser
if [ ! -d "$PW/node_modules/playwright-core" ]; then
	mkdir -p "$TAP_TMP/pw" && cp "$srcdir/tests/browser/package.json" "$TAP_TMP/pw/"
	(cd "$TAP_TMP/pw" && npm install --no-audit --no-fund --silent >npm.log 2>&1) ||
		unmet "playwright-core is not installed and npm cannot install it"
	PW=$TAP_TMP/pw
fi
cp "$srcdir/tests/browser/ui.mjs" "$PW/ui.mjs" 2>/dev/null || true
plan 16
agent_write_gks_config
# No membership rekey: the keys on the page stay those of the start.
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false }/' "$CONF"
sed -i "s|^}\$|, \"vpn_monitor\": { \"interval\": 10, \"threshold\": 3, \"vici_socket\": \"unix://$TAP_TMP/none.vici\", \"vpns\": [ { \"name\": \"site-b\", \"monitor\": true }, { \"name\": \"site-c\" }, { \"name\": \"site-d\" } ] }\n}|" "$CONF"
hash=$(printf 'correct horse battery\n' | "$top_builddir/gvpnctl" passwd)
sed -i "s|\"psk\": {|\"web_users\": { \"admin\": \"$hash\" },\n  \"psk\": {|" "$SECRETS"
ok "the agent starts" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
snmp_env
"$top_builddir/gvpn-member" --server 127.0.0.1:$GKS_PORT --group 1 --psk-file "$TAP_TMP/k.psk" --local 127.0.9.1 \
	--ike aes256-sha256-ecp256 >/dev/null 2>&1
before_d=$(tr -d ' \t\n' <"$CONF" | grep -o '"name":"site-d"[^}]*}')
out=$(cd "$PW" && timeout 90 node ui.mjs "http://127.0.0.1:$WEB_PORT/" admin "correct horse battery" \
	"$top_builddir/web-browser.png" 2>&1)
res() { printf '%s\n' "$out" | grep "^RESULT $1 " | head -1 | cut -d' ' -f3-; }
like "$(res login_error)" "wrong user or password" "a wrong password: the page says so"
printf "%s\n" "$out" | grep -v "^RESULT" | sed "s/^/# /" | head -20
is "$(res login)" "ok" "logged in with the right password"
like "$(res member_row)" '^127\.0\.9\.1:[0-9]+$' "the page lists the registered member"

is "$(res vpn_form)" "site-b" "the AutoKey IKE advanced form of site-b is shown"
is "$(res rekey_disabled_without_monitor)" "true" "Rekey is disabled while VPN Monitor is off"
is "$(res rekey_enabled_with_monitor)" "true" "turning VPN Monitor on enables Rekey"
is "$(res saved)" "ok" "VPN Monitor and Rekey on for site-c: saved"
is "$(res kept_monitor) $(res kept_rekey)" "true true" "after a reload of the page both are still on"
like "$(res rekey_alone_error)" "monitor" "Rekey alone on site-d: the server's error is shown next to Rekey"
read -r a b spi <<EOT
$(res countdown)
EOT
ok "a key lifetime counts down on the page (SPI $spi: $a -> $b)" test -n "$spi" -a "${b:-0}" -lt "${a:-0}"
is "$(res screenshot)" "ok" "a screenshot is taken"
ok "the screenshot is a PNG" sh -c "file '$top_builddir/web-browser.png' | grep -q 'PNG image'"
like "$(tr -d ' \t\n' <"$CONF")" '"name":"site-c","monitor":true,("optimized":false,)?"rekey":true' "the config file has site-c's new settings"
is "$(tr -d ' \t\n' <"$CONF" | grep -o '"name":"site-d"[^}]*}')" "$before_d" "site-d's refused change did not touch the file"
is "$(snmp_v3 snmpget -Ov .1.3.6.1.4.1.32473.1.1.9.1.7.2 .1.3.6.1.4.1.32473.1.1.9.1.9.2 | tr '\n' ' ')" \
	"INTEGER: 1 INTEGER: 1 " "an SNMP GET shows site-c's monitor and rekey on at once"
agent_stop
tap_done
