# SPDX-License-Identifier: BSD-2-Clause
# web-api.sh: the JSON API under /api/v1/ with curl: login with a hash
# made by `gvpnctl passwd`, the session cookie's flags, every endpoint,
# each error class (400 with the field at fault, 401, 403 without or with
# a wrong CSRF token, 404, 409, 413, 429), an expired session, and
# that a refused change leaves the config file byte for byte as it was.
. "$srcdir/tests/lib/tap.sh"
need curl
[ "$(id -u)" -eq 0 ] || skip_all "the VPN monitor's ICMP socket needs root"
tap_setup
plan 51
agent_write_gks_config
sed -i 's/"sig_hash_algorithm": "sha-256" }/"sig_hash_algorithm": "sha-256", "membership_rekey": false }/' "$CONF"
sed -i "s|^}\$|, \"vpn_monitor\": { \"interval\": 10, \"threshold\": 3, \"vici_socket\": \"unix://$TAP_TMP/none.vici\", \"vpns\": [ { \"name\": \"site-b\", \"monitor\": true }, { \"name\": \"site-c\" } ] }\n}|" "$CONF"
sed -i 's/"web": { "listen": "\(127.0.0.1:[0-9]*\)" }/"web": { "listen": "\1", "session_timeout": 10 }/' "$CONF"
hash=$(printf 'correct horse battery\n' | "$top_builddir/gvpnctl" passwd)
like "$hash" '^pbkdf2-sha256\$100000\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$' "gvpnctl passwd prints a PBKDF2 hash"
sed -i "s|\"psk\": {|\"web_users\": { \"admin\": \"$hash\" },\n  \"psk\": {|" "$SECRETS"
ok "the agent starts" agent_start || { cat "$TAP_TMP/agent.log"; exit 1; }
U="http://127.0.0.1:$WEB_PORT/api/v1"
J=$TAP_TMP/jar
# code METHOD PATH [curl args...]: prints the HTTP status; the body goes to $TAP_TMP/body.
code() { local m=$1 p=$2; shift 2; curl -s -o "$TAP_TMP/body" -w '%{http_code}' -X "$m" -b "$J" -c "$J" "$@" "$U/$p"; }
body() { cat "$TAP_TMP/body"; }
sum() { md5sum <"$CONF"; }

is "$(code GET groups)" 401 "GET /groups without a session: 401"
is "$(code POST login -d '{"user":"admin","password":"wrong"}')" 401 "a wrong password: 401"
like "$(body)" '"error":"wrong user or password"' "... with a message"
is "$(code POST login -d '{"user":"admin"')" 400 "malformed JSON on login: 400"
like "$(body)" '"field":"user"' "... naming the field at fault"
is "$(code POST login -D "$TAP_TMP/headers" -d '{"user":"admin","password":"correct horse battery"}')" 200 "the right password: 200"
csrf=$(body | sed 's/.*"csrf":"\([0-9a-f]*\)".*/\1/')
like "$csrf" '^[0-9a-f]{64}$' "the login answers a CSRF token"
like "$(cat "$TAP_TMP/headers")" 'Set-Cookie: gvpn_session=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict' \
	"the session cookie is HttpOnly and SameSite=Strict (no Secure over plain HTTP on loopback)"

is "$(code GET session)" 200 "GET /session with the session: 200"
like "$(body)" "\"user\":\"admin\",\"csrf\":\"$csrf\"" "... answers the user and the same CSRF token (a reloaded page finds it)"
is "$(code GET groups)" 200 "GET /groups with the session: 200"
like "$(body)" '"groups":\[\{"name":"g1","group_id":1' "... lists group g1"
is "$(code GET vpns)" 200 "GET /vpns: 200"
like "$(body)" '"name":"site-b".*"monitor":true' "... with site-b's settings"
is "$(code GET 'members?group=1')" 200 "GET /members?group=1: 200"
is "$(code GET 'members?group=1&limit=5')" 200 "GET /members?group=1&limit=5: 200"
like "$(body)" '"members":\[\],"total":0' "... with the total"
is "$(code GET 'members?group=1&limit=x')" 400 "a bad limit: 400"
is "$(code GET sa)" 200 "GET /sa: 200"
like "$(body)" '"teks":\[\{"name":"sa1"' "... lists the TEKs"
is "$(code GET 'members?group=9')" 404 "an unknown group: 404"
is "$(code GET 'members?group=x')" 400 "a bad group id: 400"
is "$(code GET 'events?since=0')" 200 "GET /events?since=0: 200"
like "$(body)" 'WEB_CHANGE' "... shows the login as an audit event"
is "$(code GET nothing-here)" 404 "an unknown resource: 404"

# Changes need the CSRF token.
before=$(sum)
is "$(code PUT vpns/site-b -d '{"rekey":true}')" 403 "a change without the CSRF token: 403"
is "$(code PUT vpns/site-b -H "X-CSRF-Token: $(printf 'a%.0s' $(seq 64))" -d '{"rekey":true}')" 403 \
	"a change with a wrong CSRF token: 403"
is "$(sum)" "$before" "... the config file is untouched"
X=(-H "X-CSRF-Token: $csrf")
is "$(code PUT vpns/site-c "${X[@]}" -d '{"rekey":true}')" 400 "rekey without monitor: 400"
like "$(body)" '"field":"rekey"' "... the error names the field (rekey)"
is "$(sum)" "$before" "... and the config file is byte for byte as it was"
is "$(code PUT vpns/site-b "${X[@]}" -d '{"rekey":"yes"}')" 400 "a wrong type: 400"
is "$(code PUT vpns/site-b "${X[@]}" -d '{"colour":1}')" 400 "an unknown setting: 400"
is "$(code PUT vpns/nowhere "${X[@]}" -d '{"rekey":true}')" 404 "an unknown VPN: 404"
is "$(code PUT vpns/site-b "${X[@]}" -d '{"rekey":true}')" 200 "rekey on for site-b: 200"
like "$(tr -d ' \t\n' <"$CONF")" '"name":"site-b","monitor":true,"rekey":true' "... written to the config file"
like "$(ctl --json show vpns)" '"name":"site-b","state":"[a-zA-Z]+","monitor":true,"optimized":false,"rekey":true' \
	"... and applied at once"
is "$(code PUT monitor "${X[@]}" -d '{"interval":1}')" 400 "monitor interval 1: 400"
head -c 20000 /dev/zero | tr '\0' ' ' >"$TAP_TMP/big"
is "$(code PUT monitor "${X[@]}" --data-binary @"$TAP_TMP/big")" 413 "a 20 KB body: 413"
is "$(code POST groups/1/rekey "${X[@]}")" 200 "POST /groups/1/rekey: 200"
is "$(code POST vpns/site-b/rekey "${X[@]}")" 503 "POST /vpns/site-b/rekey without strongSwan: 503"
like "$(body)" "strongSwan .* not reachable" "... says strongSwan cannot be reached"
is "$(code POST vpns/nowhere/rekey "${X[@]}")" 404 "rekey of an unknown VPN: 404"
printf '\n' >>"$CONF"
is "$(code PUT vpns/site-b "${X[@]}" -d '{"rekey":false}')" 409 "the file changed on disk: 409 (conflict)"
is "$(code POST logout "${X[@]}")" 200 "logout: 200"
is "$(code GET groups)" 401 "after logout the session is gone: 401"
code POST login -d '{"user":"admin","password":"correct horse battery"}' >/dev/null
is "$(code GET groups)" 200 "a new session works"
sleep 11
is "$(code GET groups)" 401 "after 10 s without a request (session_timeout 10) the session has expired: 401"
for i in 1 2 3 4 5; do code POST login -d '{"user":"admin","password":"nope"}' >/dev/null; done
is "$(code POST login -d '{"user":"admin","password":"correct horse battery"}')" 429 \
	"after 5 failed logins in a minute the address is refused: 429"
agent_stop
tap_done
