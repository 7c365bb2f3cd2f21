# SPDX-License-Identifier: BSD-2-Clause
# tests/lib/tap.sh (bash): a tiny TAP producer for the shell system tests, plus
# helpers shared by them (temp dirs, free ports, starting the agent by PID
# and stopping only what the test started). Source it; never run it.
#
#   . "$srcdir/tests/lib/tap.sh"
#   plan 3
#   ok "description" test -f x          # runs the command, ok if it exits 0
#   is "$got" "$want" "description"     # string equality, shows both on failure
#   like "$text" 'regex' "description"  # grep -E match
#   skip_all "reason"                   # whole script skipped (TAP 1..0 # SKIP)
set -u

TAP_N=0
TAP_FAILED=0
: "${srcdir:=.}"
: "${top_builddir:=.}"
TAP_PIDS=""
TAP_TMP=""

plan() { echo "1..$1"; }

skip_all() { echo "1..0 # SKIP $*"; exit 0; }

_tap_result() { # status desc
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

ok() { # desc cmd...
	local desc=$1; shift
	"$@" >"$TAP_TMP/.ok.out" 2>&1
	local rc=$?
	_tap_result $rc "$desc"
	[ $rc -eq 0 ] || { echo "# command: $*"; sed 's/^/#   /' "$TAP_TMP/.ok.out" | head -40; }
	return $rc
}

is() { # got want desc
	if [ "$1" = "$2" ]; then _tap_result 0 "$3"; else
		_tap_result 1 "$3"; echo "#   got:  '$1'"; echo "#   want: '$2'"; return 1; fi
}

like() { # text regex desc
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then _tap_result 0 "$3"; else
		_tap_result 1 "$3"; echo "#   text: $(printf '%s' "$1" | head -c 2000)"; echo "#   does not match: $2"; return 1; fi
}

unlike() { # text regex desc
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		_tap_result 1 "$3"; echo "#   text: $(printf '%s' "$1" | head -c 2000)"; echo "#   unexpectedly matches: $2"; return 1
	else _tap_result 0 "$3"; fi
}

diag() { echo "# $*"; }

# A private temp dir, removed at exit along with every process we started.
tap_setup() {
	TAP_MAIN_PID=$BASHPID
	TAP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/gvpn-test.XXXXXX")
	trap tap_cleanup EXIT
}

tap_cleanup() {
	# Subshells inherit the trap: only the test's own shell cleans up.
	[ "$BASHPID" = "$TAP_MAIN_PID" ] || return 0
	local p
	for p in $TAP_PIDS; do
		kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null
	done
	for p in $TAP_PIDS; do
		local i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	[ -z "${TAP_NETNS:-}" ] || ip netns del "$TAP_NETNS" 2>/dev/null
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$TAP_TMP"
}

# netns_setup: a private network namespace (deleted at exit) with lo up;
# skips the script unless root can create one.
netns_setup() {
	[ "$(id -u)" -eq 0 ] || skip_all "network namespaces need root"
	command -v ip >/dev/null 2>&1 || unmet "iproute2 (ip) is not installed"
	TAP_NETNS="gvpn-test-$$"
	ip netns add "$TAP_NETNS" 2>/dev/null || unmet "cannot create a network namespace here"
	ip -n "$TAP_NETNS" link set lo up
}

tap_track_pid() { TAP_PIDS="$TAP_PIDS $1"; }

# free_port tcp|udp: a port nobody is bound to on 127.0.0.1 right now.
free_port() {
	"$top_builddir/tests/freeport" "${1:-tcp}"
}

# wait_for SECONDS cmd...: polls cmd every 0.1 s until it succeeds.
wait_for() {
	local limit=$(( $1 * 10 )); shift
	local i=0
	while [ $i -lt $limit ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

tap_done() {
	[ "$TAP_FAILED" -eq 0 ]
}

# ---- the agent under test ---------------------------------------------------
# agent_write_config [EXTRA_TOP_LEVEL_JSON]: a config on free loopback ports
# in $TAP_TMP. Sets SNMP_PORT, WEB_PORT, CTL_SOCK, CONF, SECRETS.
agent_write_config() {
	SNMP_PORT=$(free_port udp)
	WEB_PORT=$(free_port tcp)
	CTL_SOCK=$TAP_TMP/gvpnctl.sock
	CONF=$TAP_TMP/gvpn-agent.json
	SECRETS=$TAP_TMP/secrets.json
	cat >"$CONF" <<JSON
{
  "agent": { "state_dir": "state", "control_socket": "gvpnctl.sock", "log_level": "info" },
  "snmp": { "listen": ["udp:127.0.0.1:$SNMP_PORT"],
            "v3_users": [{ "name": "tester", "access": "ro", "auth": "sha-256", "priv": "aes-128" }],
            "communities": [{ "name": "testcomm", "source": "127.0.0.1" }] },
  "syslog": { "local": false },
  "web": { "listen": "127.0.0.1:$WEB_PORT" }${1:+,
  $1}
}
JSON
	cat >"$SECRETS" <<JSON
{ "snmp_users": { "tester": { "auth_passphrase": "tester-auth-1", "priv_passphrase": "tester-priv-1" } } }
JSON
	chmod 600 "$SECRETS"
}

# agent_start [ARGS...]: starts gvpn-agent -f on $CONF (plus ARGS, e.g. a
# wrapper set in $AGENT_WRAPPER) and waits for its control socket.
agent_start() {
	${AGENT_NETNS:+ip netns exec $AGENT_NETNS} ${AGENT_WRAPPER:-} "$top_builddir/gvpn-agent" -f -c "$CONF" "$@" >"$TAP_TMP/agent.log" 2>&1 &
	AGENT_PID=$!
	tap_track_pid $AGENT_PID
	wait_for "${AGENT_START_TIMEOUT:-20}" test -S "$CTL_SOCK" && wait_for 5 ctl show status
}

# agent_stop [SIGNAL]: sends SIGTERM (or SIGNAL) and waits; sets AGENT_RC.
agent_stop() {
	kill -"${1:-TERM}" "$AGENT_PID" 2>/dev/null
	local i=0
	while kill -0 "$AGENT_PID" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -KILL "$AGENT_PID"; AGENT_RC=137
	else
		wait "$AGENT_PID" 2>/dev/null; AGENT_RC=$?
	fi
}

# counts_down FULL SINCE VALUE...: each VALUE is what remains of FULL
# seconds counted from the epoch time SINCE (taken before the thing
# started): FULL less the seconds since then, rounded up, up to FULL.
# However slow the machine, never an exact figure.
counts_down() {
	local full=$1 since=$2 v low
	shift 2
	[ $# -gt 0 ] || return 1
	low=$((full - ($(date +%s) - since) - 1))
	for v in "$@"; do
		case $v in ''|*[!0-9]*) return 1 ;; esac
		[ "$v" -le "$full" ] && [ "$v" -ge "$low" ] || return 1
	done
}

ctl() { "$top_builddir/gvpnctl" -s "$CTL_SOCK" "$@"; }

# Net-SNMP's command line tools, kept away from /etc/snmp, ~/.snmp and
# /var/lib/snmp, loading no MIB unless asked.
snmp_env() {
	mkdir -p "$TAP_TMP/snmpclient/cert_indexes"
	export SNMP_PERSISTENT_DIR="$TAP_TMP/snmpclient" SNMPCONFPATH="$TAP_TMP/snmpclient" MIBS=""
}
snmp_v3() { # snmp_v3 TOOL [ARGS...]
	local tool=$1; shift
	$tool -v3 -l authPriv -u tester -a SHA-256 -A tester-auth-1 -x AES -X tester-priv-1 \
		-t 2 -r 1 -On "127.0.0.1:$SNMP_PORT" "$@"
}
# need CMD... : a tool the whole script needs. Missing: as root (where
# ./autogen.sh --deps installs every tool, as on CI) the script fails;
# otherwise it is skipped.
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || case $c in
			/*) [ -x "$c" ] ;;
			*) false ;;
		esac || need_missing "$c"
	done
}
need_missing() { unmet "$1 is not installed (./autogen.sh --deps installs it)"; }
# unmet REASON: a precondition of the whole script is missing. As root
# (CI, and wherever ./autogen.sh --deps could install everything) that is
# a failure, never a skip; otherwise the script is skipped.
unmet() {
	if [ "$(id -u)" -eq 0 ]; then
		echo "1..1"
		echo "not ok 1 - $*"
		exit 1
	fi
	skip_all "$*"
}

GVPN_OID=.1.3.6.1.4.1.32473.1.1.1

# agent_write_gks_config [EXTRA_GKS_KEYS]: agent_write_config plus a key
# server on a free port (GKS_PORT) with one group g1 (id 1, unicast
# server-member communication, one ipsec_sa) that every 127/8 member may
# join with the key in $TAP_TMP/k.psk.
agent_write_gks_config() {
	GKS_PORT=$(free_port udp)
	agent_write_config "\"group_vpn_server\": {
    \"listen\": \"127.0.0.1:$GKS_PORT\"${1:+, $1},
    \"groups\": [ { \"name\": \"g1\", \"group_id\": 1,
        \"server_member_communication\": { \"communication_type\": \"unicast\",
          \"encryption_algorithm\": \"aes-256-cbc\", \"sig_hash_algorithm\": \"sha-256\" },
        \"ipsec_sa\": [ { \"name\": \"sa1\", \"match\": { \"source\": \"10.1.0.0/16\", \"destination\": \"10.2.0.0/16\" } } ],
        \"members\": [ { \"address\": \"127.0.0.0/8\", \"psk\": \"k\" } ] } ] }"
	cat >"$SECRETS" <<JSON
{ "snmp_users": { "tester": { "auth_passphrase": "tester-auth-1", "priv_passphrase": "tester-priv-1" } },
  "psk": { "k": "group key for tests" } }
JSON
	chmod 600 "$SECRETS"
	printf 'group key for tests\n' >"$TAP_TMP/k.psk"
	chmod 600 "$TAP_TMP/k.psk"
}

# rsyslog_setup UDP_PORT TCP_PORT TLS_PORT: a CA and a server certificate
# for 127.0.0.1 (ca.pem, srv.pem, srv.key) and a private rsyslog.conf in
# $TAP_TMP receiving RFC 5424 on the three ports and writing
# "%APP-NAME%|%MSGID%|%STRUCTURED-DATA%|%msg%" lines to udp.log, tcp.log
# and tls.log. Returns 1 when openssl cannot make the certificates.
rsyslog_setup() {
	local T=$TAP_TMP
	(
		cd "$T" &&
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=gvpn-test-ca &&
		openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 &&
		printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >srv.ext &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile srv.ext
	) >"$T/openssl.log" 2>&1 || return 1
	mkdir -p "$T/work"
	cat >"$T/rsyslog.conf" <<CONF
global(workDirectory="$T/work")
module(load="imudp")
module(load="imtcp")
template(name="fields" type="string" string="%APP-NAME%|%MSGID%|%STRUCTURED-DATA%|%msg%\n")
ruleset(name="udp") { action(type="omfile" file="$T/udp.log" template="fields") }
ruleset(name="tcp") { action(type="omfile" file="$T/tcp.log" template="fields") }
ruleset(name="tls") { action(type="omfile" file="$T/tls.log" template="fields") }
input(type="imudp" address="127.0.0.1" port="$1" ruleset="udp")
input(type="imtcp" address="127.0.0.1" port="$2" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="$3" ruleset="tls"
      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon"
      streamDriver.CAFile="$T/ca.pem" streamDriver.CertFile="$T/srv.pem" streamDriver.KeyFile="$T/srv.key")
CONF
}
