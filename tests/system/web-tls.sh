# SPDX-License-Identifier: BSD-2-Clause
# web-tls.sh: with a certificate configured the page and the API speak
# HTTPS, and the session cookie gets the Secure flag; plain HTTP is
# refused in the configuration on a non-loopback address.
. "$srcdir/tests/lib/tap.sh"
need curl openssl
tap_setup
plan 6
agent_write_config
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TAP_TMP/web.key" -out "$TAP_TMP/web.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
chmod 600 "$TAP_TMP/web.key"
sed -i "s|\"web\": { \"listen\": \"\(127.0.0.1:[0-9]*\)\" }|\"web\": { \"listen\": \"\1\", \"cert_file\": \"web.pem\", \"key_file\": \"web.key\" }|" "$CONF"
hash=$(printf 'tls test password\n' | "$top_builddir/gvpnctl" passwd)
sed -i "s|{ \"snmp_users\"|{ \"web_users\": { \"admin\": \"$hash\" }, \"snmp_users\"|" "$SECRETS"
ok "the agent starts with HTTPS" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
is "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TAP_TMP/web.pem" "https://127.0.0.1:$WEB_PORT/api/v1/status")" 200 \
	"GET /api/v1/status over HTTPS, the certificate verified"
h=$(curl -s -D - -o /dev/null --cacert "$TAP_TMP/web.pem" -X POST -d '{"user":"admin","password":"tls test password"}' \
	"https://127.0.0.1:$WEB_PORT/api/v1/login")
like "$h" 'Set-Cookie: gvpn_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict; Secure' "under HTTPS the session cookie is Secure"
ok "plain HTTP gets no answer on the HTTPS port" sh -c "! curl -s -m 3 http://127.0.0.1:$WEB_PORT/api/v1/status | grep -q version"
agent_stop
sed -i "s|\"listen\": \"127.0.0.1:$WEB_PORT\", \"cert_file\": \"web.pem\", \"key_file\": \"web.key\"|\"listen\": \"0.0.0.0:$WEB_PORT\"|" "$CONF"
out=$("$top_builddir/gvpn-agent" -n -c "$CONF" 2>&1); rc=$?
is "$rc" 78 "plain HTTP on 0.0.0.0: the configuration is refused"
like "$out" 'web.listen: "0.0.0.0:[0-9]+" is not a loopback address; plain HTTP is allowed only on loopback' "... saying why"
tap_done
