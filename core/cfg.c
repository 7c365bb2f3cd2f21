/* SPDX-License-Identifier: BSD-2-Clause */
/* cfg.c: the config model's schema, cross-field checks, the secrets file
 * and loading. The walker itself is in cfg_schema.c. */
#include "config.h"
#include "core/cfg.h"
#include "core/cfg_schema.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define CFG_MAX_BYTES (16u * 1024 * 1024)

/* ---- enum names (order = enum values) ------------------------------------ */

static const char *const log_level_names[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", NULL };
/* syslog facility codes 0..23 by their RFC 5424 names */
static const char *const facility_names[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", "ntp", "audit", "alert", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7", NULL };
const char *const cfg_snmp_mode_names[] = { "master", "agentx", NULL };
const char *const cfg_access_names[] = { "ro", "rw", NULL };
static const char *const auth_names[] = { "sha-256", "sha-384", "sha-512", "sha-1", "md5", NULL };
static const char *const priv_names[] = { "aes-128", "aes-192", "aes-256", "des", "none", NULL };
const char *const cfg_transport_names[] = { "udp", "tcp", "tls", NULL };
const char *const cfg_comm_type_names[] = { "unicast", "multicast", NULL };
const char *const cfg_wire_profile_names[] = { "rfc6407", "gdoid", NULL };
const char *const cfg_byte_order_names[] = { "big-endian", "little-endian", NULL };
const char *const cfg_enc_names[] = {
	"3des-cbc", "aes-128-cbc", "aes-192-cbc", "aes-256-cbc", "des-cbc", NULL };
const char *const cfg_hash_names[] = { "md5", "sha1", "sha-256", "sha-384", "sha-512", NULL };
const char *const cfg_dh_names[] = {
	"modp-1024", "modp-1536", "modp-2048", "modp-3072", "ecp-256", "ecp-384", NULL };
const int cfg_dh_numbers[] = { 2, 5, 14, 15, 19, 20 };
const char *const cfg_proposal_names[] = {
	"esp-aes256-sha256", "esp-aes256-sha1", "esp-aes192-sha256", "esp-aes128-sha256",
	"esp-aes128-sha1", "esp-3des-sha1", "esp-3des-md5", "esp-des-md5", NULL };

const char *cfg_enum_name(const char *const *names, int v)
{
	for (int i = 0; names[i]; i++)
		if (i == v)
			return names[i];
	return "?";
}

/* ---- value checks ---------------------------------------------------------- */

/* Strict decimal: digits only (no sign, no space), at most max. */
static int parse_dec(const char *s, long max, long *out)
{
	long v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

int cfg_valid_ip(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int cfg_valid_prefix(const char *s)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return 0;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	unsigned char buf[16];
	int max;
	if (inet_pton(AF_INET, addr, buf) == 1)
		max = 32;
	else if (inet_pton(AF_INET6, addr, buf) == 1)
		max = 128;
	else
		return 0;
	long len;
	return parse_dec(slash + 1, max, &len) == 0;
}

int cfg_parse_hostport(const char *s, char *host, size_t hostlen, long *port)
{
	const char *colon;
	const char *h = s;
	size_t hl;
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (!cfg_valid_ip(host))
		return -1;
	long p;
	if (parse_dec(colon + 1, 65535, &p) < 0 || p < 1)
		return -1;
	*port = p;
	return 0;
}

int cfg_addr_match(const char *a, const char *addr)
{
	unsigned char net[16], ip[16];
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(a, '/');
	if (!slash)
		return !strcmp(a, addr) ||
		       (inet_pton(AF_INET6, a, net) == 1 && inet_pton(AF_INET6, addr, ip) == 1 &&
			!memcmp(net, ip, 16));
	if ((size_t)(slash - a) >= sizeof(buf))
		return 0;
	memcpy(buf, a, (size_t)(slash - a));
	buf[slash - a] = '\0';
	long bits;
	int fam = strchr(buf, ':') ? AF_INET6 : AF_INET;
	size_t alen = fam == AF_INET ? 4 : 16;
	if (parse_dec(slash + 1, (long)alen * 8, &bits) < 0 || inet_pton(fam, buf, net) != 1 ||
	    inet_pton(fam, addr, ip) != 1)
		return 0;
	for (long i = 0; i < bits; i++) {
		unsigned m = 0x80u >> (i % 8);
		if ((net[i / 8] & m) != (ip[i / 8] & m))
			return 0;
	}
	return 1;
}

static int check_hostport(const char *v, char *why, size_t n)
{
	char host[INET6_ADDRSTRLEN + 1];
	long port;
	if (cfg_parse_hostport(v, host, sizeof(host), &port) < 0) {
		snprintf(why, n, "is not ADDRESS:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)");
		return -1;
	}
	return 0;
}

static int check_ip(const char *v, char *why, size_t n)
{
	if (!cfg_valid_ip(v)) {
		snprintf(why, n, "is not an IPv4 or IPv6 address");
		return -1;
	}
	return 0;
}

static int check_prefix(const char *v, char *why, size_t n)
{
	if (!cfg_valid_prefix(v)) {
		snprintf(why, n, "is not an address prefix (e.g. 10.0.0.0/8)");
		return -1;
	}
	return 0;
}

/* Net-SNMP transport specifiers: [udp|tcp|udp6|tcp6:]ADDR:PORT, or a port. */
static int check_snmp_transport(const char *v, char *why, size_t n)
{
	static const char *const prefixes[] = { "udp:", "tcp:", "udp6:", "tcp6:" };
	const char *rest = v;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncmp(v, prefixes[i], strlen(prefixes[i])))
			rest = v + strlen(prefixes[i]);
	char host[INET6_ADDRSTRLEN + 1];
	long port;
	long p;
	if (parse_dec(rest, 65535, &p) == 0 && p >= 1)
		return 0;
	if (cfg_parse_hostport(rest, host, sizeof(host), &port) == 0)
		return 0;
	snprintf(why, n, "is not a transport like udp:127.0.0.1:1161, udp:161 or tcp:[::1]:161");
	return -1;
}

static int check_vici(const char *v, char *why, size_t n)
{
	if (strncmp(v, "unix://", 7) || v[7] != '/') {
		snprintf(why, n, "is not a unix:///absolute/path socket URI");
		return -1;
	}
	return 0;
}

static int check_ifname(const char *v, char *why, size_t n)
{
	if (strlen(v) > 15 || strchr(v, '/') || strchr(v, ' ')) {
		snprintf(why, n, "is not an interface name (at most 15 characters, no '/' or spaces)");
		return -1;
	}
	return 0;
}

static int check_ip_or_prefix(const char *v, char *why, size_t n)
{
	if (!cfg_valid_ip(v) && !cfg_valid_prefix(v)) {
		snprintf(why, n, "is not an address or a prefix (e.g. 10.0.0.2 or 10.0.0.0/24)");
		return -1;
	}
	return 0;
}

int cfg_valid_pull_id(const char *s)
{
	const char *dash = strchr(s, '-');
	struct in_addr a, b;
	char lo[INET_ADDRSTRLEN];

	if (inet_pton(AF_INET, s, &a) == 1)
		return 1;
	if (strchr(s, '/'))
		return cfg_valid_prefix(s) && !strchr(s, ':');
	if (dash && (size_t)(dash - s) < sizeof(lo) && isdigit((unsigned char)s[0])) {
		memcpy(lo, s, (size_t)(dash - s));
		lo[dash - s] = '\0';
		return inet_pton(AF_INET, lo, &a) == 1 && inet_pton(AF_INET, dash + 1, &b) == 1 &&
		       ntohl(a.s_addr) <= ntohl(b.s_addr);
	}
	if (!*s || strlen(s) > 255)
		return 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-_@+", *p))
			return 0;
	return 1;
}

static int check_pull_id(const char *v, char *why, size_t n)
{
	if (!cfg_valid_pull_id(v)) {
		snprintf(why, n, "is not an IPv4 address, prefix (10.0.0.0/24), range "
			 "(10.0.0.1-10.0.0.9) or name (group@example.net)");
		return -1;
	}
	return 0;
}

static int check_source(const char *v, char *why, size_t n)
{
	if (strcmp(v, "default") && !cfg_valid_ip(v) && !cfg_valid_prefix(v)) {
		snprintf(why, n, "is not an address, a prefix (10.0.0.0/8) or \"default\"");
		return -1;
	}
	return 0;
}

static int check_community_version(const char *v, char *why, size_t n)
{
	if (strcmp(v, "v1") && strcmp(v, "v2c")) {
		snprintf(why, n, "is not an SNMP version a community serves (\"v1\" or \"v2c\")");
		return -1;
	}
	return 0;
}

static int check_passphrase(const char *v, char *why, size_t n)
{
	if (strlen(v) < 8) {
		snprintf(why, n, "passphrase is shorter than 8 characters (SNMPv3 USM requires 8 or more)");
		return -1;
	}
	return 0;
}

/* ---- schema --------------------------------------------------------------- */

#define OFF(T, m) offsetof(T, m)
#define F_BOOL(k, T, m, d) { .key = k, .type = CF_BOOL, .off = OFF(T, m), .flags = CF_HASDEF, .def = d }
#define F_INT(k, T, m, lo, hi, d) \
	{ .key = k, .type = CF_INT, .off = OFF(T, m), .flags = CF_HASDEF, .min = lo, .max = hi, .def = d }
#define F_INT_REQ(k, T, m, lo, hi) \
	{ .key = k, .type = CF_INT, .off = OFF(T, m), .flags = CF_REQUIRED, .min = lo, .max = hi }
#define F_INT_OPT(k, T, m, lo, hi) { .key = k, .type = CF_INT, .off = OFF(T, m), .min = lo, .max = hi }
#define F_STR(k, T, m, d, chk) \
	{ .key = k, .type = CF_STR, .off = OFF(T, m), .flags = CF_HASDEF, .defstr = d, .check = chk }
#define F_STR_REQ(k, T, m, chk) { .key = k, .type = CF_STR, .off = OFF(T, m), .flags = CF_REQUIRED, .check = chk }
#define F_SECRET(k, T, m, chk) { .key = k, .type = CF_STR, .off = OFF(T, m), .flags = CF_SECRET, .check = chk }
#define F_ENUM(k, T, m, nm, d) \
	{ .key = k, .type = CF_ENUM, .off = OFF(T, m), .flags = CF_HASDEF, .names = nm, .def = d }
#define F_ENUM_REQ(k, T, m, nm) { .key = k, .type = CF_ENUM, .off = OFF(T, m), .flags = CF_REQUIRED, .names = nm }
#define F_LIST(k, T, m, cnt, d, chk) \
	{ .key = k, .type = CF_STRLIST, .off = OFF(T, m), .flags = CF_HASDEF, .defstr = d, \
	  .count_off = OFF(T, cnt), .check = chk }
#define F_OBJ(k, T, m, s) { .key = k, .type = CF_OBJ, .off = OFF(T, m), .sub = &s }
#define F_OBJ_REQ(k, T, m, s) { .key = k, .type = CF_OBJ, .off = OFF(T, m), .flags = CF_REQUIRED, .sub = &s }
#define F_OPTOBJ(k, T, m, s) { .key = k, .type = CF_OPTOBJ, .off = OFF(T, m), .sub = &s }
#define F_ARRAY(k, T, m, cnt, s) { .key = k, .type = CF_ARRAY, .off = OFF(T, m), .sub = &s, .count_off = OFF(T, cnt) }
#define F_OBJMAP(k, T, m, cnt, s) { .key = k, .type = CF_OBJMAP, .off = OFF(T, m), .sub = &s, .count_off = OFF(T, cnt) }
#define F_STRMAP(k, T, m, cnt) { .key = k, .type = CF_STRMAP, .off = OFF(T, m), .count_off = OFF(T, cnt) }
#define F_END { .key = NULL }

static void validate_collector(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path);
static void validate_community(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path);
static void validate_snmp(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path);
static void validate_smc(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path);
static void validate_member(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path);
static void validate_group(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path);
static void validate_gks(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path);
static void validate_vpn(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path);
static void validate_mon(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path);

static const struct cfg_field agent_fields[] = {
	F_STR("state_dir", struct cfg_agent, state_dir, LOCALSTATEDIR "/lib/gvpn-agent", NULL),
	F_STR("control_socket", struct cfg_agent, control_socket, RUNSTATEDIR "/gvpn-agent/gvpnctl.sock", NULL),
	F_STR("secrets_file", struct cfg_agent, secrets_file, "secrets.json", NULL),
	F_STR("pid_file", struct cfg_agent, pid_file, NULL, NULL),
	F_ENUM("log_level", struct cfg_agent, log_level, log_level_names, LOG_INFO),
	F_INT("event_history", struct cfg_agent, event_history, 16, 100000, 1000),
	F_END
};
static const struct cfg_schema agent_schema = { "agent", sizeof(struct cfg_agent), agent_fields, NULL };

static const struct cfg_field v3user_fields[] = {
	F_STR_REQ("name", struct cfg_snmp_user, name, NULL),
	F_ENUM("access", struct cfg_snmp_user, access, cfg_access_names, CFG_ACCESS_RO),
	F_ENUM("auth", struct cfg_snmp_user, auth, auth_names, CFG_AUTH_SHA256),
	F_ENUM("priv", struct cfg_snmp_user, priv, priv_names, CFG_PRIV_AES128),
	F_END
};
static const struct cfg_schema v3user_schema = { "an SNMPv3 user", sizeof(struct cfg_snmp_user), v3user_fields, NULL };

static const struct cfg_field community_fields[] = {
	F_STR_REQ("name", struct cfg_snmp_community, name, NULL),
	F_ENUM("access", struct cfg_snmp_community, access, cfg_access_names, CFG_ACCESS_RO),
	F_STR("source", struct cfg_snmp_community, source, "127.0.0.1", check_source),
	F_LIST("versions", struct cfg_snmp_community, versions, n_versions, "v2c", check_community_version),
	F_END
};
static const struct cfg_schema community_schema = {
	"an SNMP community", sizeof(struct cfg_snmp_community), community_fields, validate_community };

const char *const cfg_notify_names[] = { "member_registered", "member_removed", "rekey_sent",
					  "kek_replaced", "tek_replaced", "tunnel_up", "tunnel_down",
					  "tunnel_rekey_result", NULL };
static const char *const target_type_names[] = { "trap", "inform", NULL };
static const char *const target_version_names[] = { "v3", "v2c", NULL };

static const struct cfg_field target_fields[] = {
	F_STR_REQ("address", struct cfg_snmp_target, address, check_snmp_transport),
	F_ENUM("type", struct cfg_snmp_target, inform, target_type_names, 0),
	F_ENUM("version", struct cfg_snmp_target, v2c, target_version_names, 0),
	F_STR("user", struct cfg_snmp_target, user, NULL, NULL),
	F_STR("community", struct cfg_snmp_target, community, NULL, NULL),
	F_INT("timeout", struct cfg_snmp_target, timeout, 1, 300, 1),
	F_INT("retries", struct cfg_snmp_target, retries, 0, 20, 5),
	F_INT("queue", struct cfg_snmp_target, queue, 1, 100000, 100),
	F_END
};
static const struct cfg_schema target_schema = {
	"a notification target", sizeof(struct cfg_snmp_target), target_fields, NULL };

static const struct cfg_field notify_fields[] = {
	{ .key = "member_registered", .type = CF_BOOL, .off = 0, .flags = CF_HASDEF, .def = 1 },
	{ .key = "member_removed", .type = CF_BOOL, .off = sizeof(int) * 1, .flags = CF_HASDEF, .def = 1 },
	{ .key = "rekey_sent", .type = CF_BOOL, .off = sizeof(int) * 2, .flags = CF_HASDEF, .def = 1 },
	{ .key = "kek_replaced", .type = CF_BOOL, .off = sizeof(int) * 3, .flags = CF_HASDEF, .def = 1 },
	{ .key = "tek_replaced", .type = CF_BOOL, .off = sizeof(int) * 4, .flags = CF_HASDEF, .def = 1 },
	{ .key = "tunnel_up", .type = CF_BOOL, .off = sizeof(int) * 5, .flags = CF_HASDEF, .def = 1 },
	{ .key = "tunnel_down", .type = CF_BOOL, .off = sizeof(int) * 6, .flags = CF_HASDEF, .def = 1 },
	{ .key = "tunnel_rekey_result", .type = CF_BOOL, .off = sizeof(int) * 7, .flags = CF_HASDEF, .def = 1 },
	F_END
};
static const struct cfg_schema notify_schema = {
	"snmp.notifications", sizeof(int) * CFG_NOTIFY_COUNT, notify_fields, NULL };

static const struct cfg_field snmp_fields[] = {
	F_BOOL("enabled", struct cfg_snmp, enabled, 1),
	F_ENUM("mode", struct cfg_snmp, mode, cfg_snmp_mode_names, CFG_SNMP_MASTER),
	F_LIST("listen", struct cfg_snmp, listen, n_listen, "udp:161", check_snmp_transport),
	F_STR("agentx_socket", struct cfg_snmp, agentx_socket, "/var/agentx/master", NULL),
	F_ARRAY("v3_users", struct cfg_snmp, v3_users, n_v3_users, v3user_schema),
	F_ARRAY("communities", struct cfg_snmp, communities, n_communities, community_schema),
	F_LIST("trap_sinks", struct cfg_snmp, trap_sinks, n_trap_sinks, NULL, check_snmp_transport),
	F_ARRAY("notification_targets", struct cfg_snmp, targets, n_targets, target_schema),
	F_OBJ("notifications", struct cfg_snmp, notify, notify_schema),
	F_END
};
static const struct cfg_schema snmp_schema = { "snmp", sizeof(struct cfg_snmp), snmp_fields, validate_snmp };

static const struct cfg_field collector_fields[] = {
	F_ENUM_REQ("transport", struct cfg_collector, transport, cfg_transport_names),
	F_STR_REQ("host", struct cfg_collector, host, NULL),
	F_INT_OPT("port", struct cfg_collector, port, 1, 65535),
	F_STR("ca_file", struct cfg_collector, ca_file, NULL, NULL),
	F_INT("queue", struct cfg_collector, queue, 1, 1000000, 1000),
	F_END
};
static const struct cfg_schema collector_schema = {
	"a syslog collector", sizeof(struct cfg_collector), collector_fields, validate_collector };

static const struct cfg_field syslog_fields[] = {
	F_BOOL("local", struct cfg_syslog, local, 1),
	F_ENUM("facility", struct cfg_syslog, facility, facility_names, 3),
	F_ARRAY("collectors", struct cfg_syslog, collectors, n_collectors, collector_schema),
	F_END
};
static const struct cfg_schema syslog_schema = { "syslog", sizeof(struct cfg_syslog), syslog_fields, NULL };

static const struct cfg_field web_fields[] = {
	F_BOOL("enabled", struct cfg_web, enabled, 1),
	F_STR("listen", struct cfg_web, listen, "127.0.0.1:8080", check_hostport),
	F_STR("cert_file", struct cfg_web, cert_file, NULL, NULL),
	F_STR("key_file", struct cfg_web, key_file, NULL, NULL),
	F_INT("session_timeout", struct cfg_web, session_timeout, 10, 86400, 900),
	F_END
};
static const struct cfg_schema web_schema = { "web", sizeof(struct cfg_web), web_fields, NULL };

static const struct cfg_field smc_fields[] = {
	F_ENUM_REQ("communication_type", struct cfg_smc, communication_type, cfg_comm_type_names),
	F_ENUM_REQ("encryption_algorithm", struct cfg_smc, encryption_algorithm, cfg_enc_names),
	F_ENUM_REQ("sig_hash_algorithm", struct cfg_smc, sig_hash_algorithm, cfg_hash_names),
	F_INT("lifetime_seconds", struct cfg_smc, lifetime_seconds, 300, 86400, 3600),
	F_INT("heartbeat", struct cfg_smc, heartbeat, 2, 86400, 300),
	F_INT("number_of_retransmission", struct cfg_smc, number_of_retransmission, 0, 60, 2),
	F_INT("retransmission_period", struct cfg_smc, retransmission_period, 2, 60, 10),
	F_STR("multicast_group", struct cfg_smc, multicast_group, NULL, check_ip),
	F_INT("multicast_port", struct cfg_smc, multicast_port, 1, 65535, 848),
	F_STR("multicast_interface", struct cfg_smc, multicast_interface, NULL, check_ifname),
	F_INT("multicast_ttl", struct cfg_smc, multicast_ttl, 1, 255, 1),
	F_BOOL("membership_rekey", struct cfg_smc, membership_rekey, 1),
	F_INT("membership_rekey_delay", struct cfg_smc, membership_rekey_delay, 1, 3600, 10),
	F_INT("membership_rekey_max_delay", struct cfg_smc, membership_rekey_max_delay, 0, 86400, 0),
	F_END
};
static const struct cfg_schema smc_schema = {
	"server_member_communication", sizeof(struct cfg_smc), smc_fields, validate_smc };

static const struct cfg_field match_fields[] = {
	F_STR_REQ("source", struct cfg_match, source, check_prefix),
	F_STR_REQ("destination", struct cfg_match, destination, check_prefix),
	F_INT("protocol", struct cfg_match, protocol, 0, 255, 0),
	F_INT("source_port", struct cfg_match, source_port, 0, 65535, 0),
	F_INT("destination_port", struct cfg_match, destination_port, 0, 65535, 0),
	F_END
};
static const struct cfg_schema match_schema = { "match", sizeof(struct cfg_match), match_fields, NULL };

static const struct cfg_field ipsec_sa_fields[] = {
	F_STR_REQ("name", struct cfg_ipsec_sa, name, NULL),
	F_INT("lifetime_seconds", struct cfg_ipsec_sa, lifetime_seconds, 180, 86400, 3600),
	F_ENUM("proposal", struct cfg_ipsec_sa, proposal, cfg_proposal_names, 0),
	F_OBJ_REQ("match", struct cfg_ipsec_sa, match, match_schema),
	F_END
};
static const struct cfg_schema ipsec_sa_schema = {
	"an ipsec_sa", sizeof(struct cfg_ipsec_sa), ipsec_sa_fields, NULL };

static const struct cfg_field member_fields[] = {
	F_STR("address", struct cfg_member, address, NULL, check_ip_or_prefix),
	F_STR("identity", struct cfg_member, identity, NULL, NULL),
	F_STR_REQ("psk", struct cfg_member, psk, NULL),
	F_END
};
static const struct cfg_schema member_schema = {
	"a member", sizeof(struct cfg_member), member_fields, validate_member };

static const struct cfg_field group_fields[] = {
	F_STR_REQ("name", struct cfg_group, name, NULL),
	F_INT_REQ("group_id", struct cfg_group, group_id, 1, 65535),
	F_ENUM("wire_profile", struct cfg_group, wire_profile, cfg_wire_profile_names, CFG_WIRE_RFC6407),
	F_ENUM("key_id_byte_order", struct cfg_group, key_id_byte_order, cfg_byte_order_names,
	       CFG_BIG_ENDIAN),
	F_ENUM("selector_byte_order", struct cfg_group, selector_byte_order, cfg_byte_order_names,
	       CFG_BIG_ENDIAN),
	F_LIST("pull_ids", struct cfg_group, pull_ids, n_pull_ids, NULL, check_pull_id),
	F_INT("activation_time_delay", struct cfg_group, activation_time_delay, 10, 900, 15),
	F_INT("anti_replay_time_window", struct cfg_group, anti_replay_time_window, 60, 360, 100),
	F_OPTOBJ("server_member_communication", struct cfg_group, smc, smc_schema),
	F_ARRAY("ipsec_sa", struct cfg_group, ipsec_sa, n_ipsec_sa, ipsec_sa_schema),
	F_ARRAY("members", struct cfg_group, members, n_members, member_schema),
	F_END
};
static const struct cfg_schema group_schema = { "a group", sizeof(struct cfg_group), group_fields, validate_group };

static const struct cfg_field ike_proposal_fields[] = {
	F_ENUM("encryption", struct cfg_ike_proposal, encryption, cfg_enc_names, CFG_ENC_AES256_CBC),
	F_ENUM("hash", struct cfg_ike_proposal, hash, cfg_hash_names, CFG_HASH_SHA256),
	F_ENUM("dh_group", struct cfg_ike_proposal, dh_group, cfg_dh_names, 2),
	F_INT("lifetime_seconds", struct cfg_ike_proposal, lifetime_seconds, 180, 86400, 86400),
	F_END
};
static const struct cfg_schema ike_proposal_schema = {
	"an IKE proposal", sizeof(struct cfg_ike_proposal), ike_proposal_fields, NULL };

static const struct cfg_field gks_fields[] = {
	F_STR("listen", struct cfg_gks, listen, "0.0.0.0:848", check_hostport),
	F_ARRAY("ike_proposals", struct cfg_gks, ike_proposals, n_ike_proposals, ike_proposal_schema),
	F_INT("max_half_open", struct cfg_gks, max_half_open, 1, 1000000, 10000),
	F_INT("max_half_open_per_peer", struct cfg_gks, max_half_open_per_peer, 1, 10000, 16),
	F_INT("half_open_timeout", struct cfg_gks, half_open_timeout, 5, 600, 30),
	F_STR("debug_pcap", struct cfg_gks, debug_pcap, NULL, NULL),
	F_STR("signing_key", struct cfg_gks, signing_key, NULL, NULL),
	F_ARRAY("groups", struct cfg_gks, groups, n_groups, group_schema),
	F_END
};
static const struct cfg_schema gks_schema = { "group_vpn_server", sizeof(struct cfg_gks), gks_fields, validate_gks };

static const struct cfg_field vpn_fields[] = {
	F_STR_REQ("name", struct cfg_vpn, name, NULL),
	F_BOOL("monitor", struct cfg_vpn, monitor, 0),
	F_BOOL("optimized", struct cfg_vpn, optimized, 0),
	F_BOOL("rekey", struct cfg_vpn, rekey, 0),
	F_STR("source_interface", struct cfg_vpn, source_interface, NULL, check_ifname),
	F_STR("destination_ip", struct cfg_vpn, destination_ip, NULL, check_ip),
	F_END
};
static const struct cfg_schema vpn_schema = { "a vpn", sizeof(struct cfg_vpn), vpn_fields, validate_vpn };

static const struct cfg_field mon_fields[] = {
	F_INT("interval", struct cfg_mon, interval, 2, 3600, 10),
	F_INT("threshold", struct cfg_mon, threshold, 1, 65536, 10),
	F_STR("vici_socket", struct cfg_mon, vici_socket, "unix:///var/run/charon.vici", check_vici),
	F_ARRAY("vpns", struct cfg_mon, vpns, n_vpns, vpn_schema),
	F_END
};
static const struct cfg_schema mon_schema = { "vpn_monitor", sizeof(struct cfg_mon), mon_fields, validate_mon };

static const struct cfg_field root_fields[] = {
	F_OBJ("agent", struct cfg, agent, agent_schema),
	F_OBJ("snmp", struct cfg, snmp, snmp_schema),
	F_OBJ("syslog", struct cfg, syslog, syslog_schema),
	F_OBJ("web", struct cfg, web, web_schema),
	F_OPTOBJ("group_vpn_server", struct cfg, gks, gks_schema),
	F_OPTOBJ("vpn_monitor", struct cfg, mon, mon_schema),
	F_END
};
static const struct cfg_schema root_schema = { "the top level", sizeof(struct cfg), root_fields, NULL };

/* secrets file */
static const struct cfg_field snmp_secret_fields[] = {
	F_SECRET("auth_passphrase", struct cfg_snmp_secret, auth_passphrase, check_passphrase),
	F_SECRET("priv_passphrase", struct cfg_snmp_secret, priv_passphrase, check_passphrase),
	F_END
};
static const struct cfg_schema snmp_secret_schema = {
	"an SNMP user's secrets", sizeof(struct cfg_snmp_secret), snmp_secret_fields, NULL };

static const struct cfg_field secrets_fields[] = {
	F_STRMAP("psk", struct cfg_secrets, psk, n_psk),
	F_OBJMAP("snmp_users", struct cfg_secrets, snmp_users, n_snmp_users, snmp_secret_schema),
	F_STRMAP("web_users", struct cfg_secrets, web_users, n_web_users),
	F_STRMAP("metrics_tokens", struct cfg_secrets, metrics_tokens, n_metrics_tokens),
	F_END
};
static const struct cfg_schema secrets_schema = {
	"the secrets file", sizeof(struct cfg_secrets), secrets_fields, NULL };

/* ---- cross-field checks ----------------------------------------------------- */

static const cJSON *child_at(const cJSON *node, const char *key)
{
	const cJSON *c = cfg_member(node, key);
	return c ? c : node;
}

static void validate_collector(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path)
{
	struct cfg_collector *c = obj;
	if (!c->port)
		c->port = c->transport == CFG_TRANSPORT_TLS ? 6514 : 514;
	if (c->transport == CFG_TRANSPORT_TLS && !c->ca_file)
		cfg_err(ctx, child_at(node, "transport"), 0, path,
			"transport tls needs ca_file (the CA that signed the collector's certificate)");
}

/* Reports elements of an array whose char * at name_off repeats an
 * earlier one (each duplicate once, against the first use). */
static void check_unique(struct cfg_ctx *ctx, const void *arr, size_t n, size_t size,
			 size_t name_off, const cJSON *nodes, const char *path, const char *list)
{
	char sub[600];
	for (size_t i = 0; i < n; i++) {
		const char *a = *(char *const *)((const char *)arr + i * size + name_off);
		for (size_t j = 0; a && j < i; j++) {
			const char *b = *(char *const *)((const char *)arr + j * size + name_off);
			if (!b || strcmp(a, b))
				continue;
			snprintf(sub, sizeof(sub), "%s.%s[%zu].name", path, list, i);
			cfg_err(ctx, child_at(cJSON_GetArrayItem(nodes, (int)i), "name"), 0, sub,
				"\"%s\" is already used by %s[%zu]", a, list, j);
			break;
		}
	}
}

static const char *field_path(char *buf, size_t len, const char *path, const char *key)
{
	snprintf(buf, len, "%s.%s", path, key);
	return buf;
}

/* SNMPv1 only when asked for: a community serves the versions listed. */
static void validate_community(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path)
{
	struct cfg_snmp_community *c = obj;
	char fld[320];
	for (size_t i = 0; i < c->n_versions; i++) {
		c->v1 |= !strcmp(c->versions[i], "v1");
		c->v2c |= !strcmp(c->versions[i], "v2c");
	}
	const cJSON *v = cfg_member(node, "versions");
	if (v && cJSON_IsArray(v) && cJSON_GetArraySize(v) == 0)
		cfg_err(ctx, child_at(node, "versions"), 0, field_path(fld, sizeof(fld), path, "versions"),
			"is empty: list \"v2c\", \"v1\" or both (or remove the community)");
}

static void validate_snmp(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path)
{
	struct cfg_snmp *s = obj;
	check_unique(ctx, s->v3_users, s->n_v3_users, sizeof(*s->v3_users),
		     offsetof(struct cfg_snmp_user, name), cfg_member(node, "v3_users"), path, "v3_users");
	const cJSON *tg = cfg_member(node, "notification_targets");
	for (size_t i = 0; i < s->n_targets; i++) {
		const struct cfg_snmp_target *t = &s->targets[i];
		const cJSON *at = cJSON_GetArrayItem(tg, (int)i);
		char sub[300], fld[320];
		snprintf(sub, sizeof(sub), "%s.notification_targets[%zu]", path, i);
		if (!t->address)
			continue; /* reported as missing */
		static const char *const inform_only[] = { "timeout", "retries", "queue" };
		for (size_t k = 0; !t->inform && k < ARRAY_SIZE(inform_only); k++)
			if (cfg_member(at, inform_only[k]))
				cfg_err(ctx, child_at(at, inform_only[k]), 0,
					field_path(fld, sizeof(fld), sub, inform_only[k]),
					"only informs are queued and retried (\"type\": \"inform\"); traps go out at once");
		if (!t->v2c) {
			size_t u;
			for (u = 0; t->user && u < s->n_v3_users; u++)
				if (!strcmp(s->v3_users[u].name, t->user))
					break;
			if (!t->user)
				cfg_err(ctx, at, 0, sub, "an SNMPv3 target needs \"user\": one of snmp.v3_users");
			else if (u == s->n_v3_users)
				cfg_err(ctx, child_at(at, "user"), 0, field_path(fld, sizeof(fld), sub, "user"),
					"\"%s\" is not one of snmp.v3_users", t->user);
			if (t->community)
				cfg_err(ctx, child_at(at, "community"), 0, field_path(fld, sizeof(fld), sub, "community"),
					"only SNMPv2c targets have a community (\"version\": \"v2c\")");
		} else {
			if (!t->community && !s->n_communities)
				cfg_err(ctx, at, 0, sub,
					"an SNMPv2c target needs \"community\" (or a configured community)");
			if (t->user)
				cfg_err(ctx, child_at(at, "user"), 0, field_path(fld, sizeof(fld), sub, "user"),
					"only SNMPv3 targets have a user");
		}
	}
	const cJSON *l = cfg_member(node, "listen");
	if (s->enabled && s->mode == CFG_SNMP_MASTER && cJSON_IsArray(l) && cJSON_GetArraySize(l) == 0)
		cfg_err(ctx, child_at(node, "listen"), 0, path,
			"listen is empty; a master agent needs at least one address");
}

static void validate_smc(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path)
{
	struct cfg_smc *s = obj;
	const cJSON *g = cfg_member(node, "multicast_group");
	if (s->communication_type == CFG_COMM_MULTICAST && (!g || cJSON_IsNull(g)) &&
	    cfg_member(node, "communication_type"))
		cfg_err(ctx, child_at(node, "communication_type"), 0, path,
			"communication_type multicast needs multicast_group");
	/* Absent: six times the quiet delay. */
	if (!s->membership_rekey_max_delay)
		s->membership_rekey_max_delay = 6 * s->membership_rekey_delay;
	else if (s->membership_rekey_max_delay < s->membership_rekey_delay)
		cfg_err(ctx, child_at(node, "membership_rekey_max_delay"), 0, path,
			"membership_rekey_max_delay (%ld) is shorter than membership_rekey_delay (%ld)",
			s->membership_rekey_max_delay, s->membership_rekey_delay);
}

static void validate_member(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path)
{
	struct cfg_member *m = obj;
	const cJSON *a = cfg_member(node, "address"), *i = cfg_member(node, "identity");
	if (!m->address && !m->identity && (!a || cJSON_IsNull(a)) && (!i || cJSON_IsNull(i)))
		cfg_err(ctx, node, 0, path, "a member needs an address or an identity");
}

static void check_interval(struct cfg_ctx *ctx, const cJSON *at, const char *path,
			   const char *what, long lifetime, long atd)
{
	if (lifetime && atd && lifetime <= 4 * atd) /* 0: already reported as invalid */
		cfg_err(ctx, at, 0, path,
			"%s %ld leaves no rekey interval: it must exceed 4 x activation_time_delay (%ld)",
			what, lifetime, 4 * atd);
}

/* 1 when prefix is one IPv4 address ("a.b.c.d" or "a.b.c.d/32"). */
static int one_ipv4(const char *prefix)
{
	const char *slash = prefix ? strchr(prefix, '/') : NULL;
	char a[INET_ADDRSTRLEN];
	struct in_addr x;
	size_t n = slash ? (size_t)(slash - prefix) : (prefix ? strlen(prefix) : 0);

	if (!prefix || n >= sizeof(a) || (slash && strcmp(slash, "/32")))
		return 0;
	memcpy(a, prefix, n);
	a[n] = '\0';
	return inet_pton(AF_INET, a, &x) == 1;
}

/* What the gdoid wire profile cannot carry (doc/interop.md): gdoid takes
 * rekeys only by multicast and never acknowledges them, AES KEKs only
 * of 128 bits (its static IV is as long as the key), signatures with
 * md5, sha1 or sha-256 (it numbers sha-384 and sha-512 alike), and reads a TEK's
 * destination as one IPv4 address and its source as IPv4. */
static void validate_gdoid_profile(struct cfg_ctx *ctx, const struct cfg_group *g, const cJSON *node,
				   const char *path)
{
	const cJSON *smc = cfg_member(node, "server_member_communication");
	const cJSON *sas = cfg_member(node, "ipsec_sa");
	char sub[600];

	if (g->smc && g->smc->communication_type == CFG_COMM_UNICAST) {
		snprintf(sub, sizeof(sub), "%s.server_member_communication.communication_type", path);
		cfg_err(ctx, child_at(smc, "communication_type"), 0, sub,
			"wire_profile gdoid: gdoid members take rekeys by multicast only and send no ACKs; "
			"use multicast");
	}
	if (g->smc && (g->smc->encryption_algorithm == CFG_ENC_AES192_CBC ||
		       g->smc->encryption_algorithm == CFG_ENC_AES256_CBC)) {
		snprintf(sub, sizeof(sub), "%s.server_member_communication.encryption_algorithm", path);
		cfg_err(ctx, child_at(smc, "encryption_algorithm"), 0, sub,
			"wire_profile gdoid: gdoid takes AES KEKs of 128 bits only; use aes-128-cbc or 3des-cbc");
	}
	if (g->smc && g->smc->sig_hash_algorithm > CFG_HASH_SHA256) {
		snprintf(sub, sizeof(sub), "%s.server_member_communication.sig_hash_algorithm", path);
		cfg_err(ctx, child_at(smc, "sig_hash_algorithm"), 0, sub,
			"wire_profile gdoid: gdoid verifies md5, sha1 and sha-256 signatures only");
	}
	for (size_t i = 0; i < g->n_ipsec_sa; i++) {
		const struct cfg_match *m = &g->ipsec_sa[i].match;
		const cJSON *mj = cfg_member(cJSON_GetArrayItem(sas, (int)i), "match");
		if (m->destination && !one_ipv4(m->destination)) {
			snprintf(sub, sizeof(sub), "%s.ipsec_sa[%zu].match.destination", path, i);
			cfg_err(ctx, child_at(mj, "destination"), 0, sub,
				"wire_profile gdoid: gdoid reads a TEK destination as one IPv4 address "
				"(a.b.c.d or a.b.c.d/32)");
		}
		if (m->source && strchr(m->source, ':')) {
			snprintf(sub, sizeof(sub), "%s.ipsec_sa[%zu].match.source", path, i);
			cfg_err(ctx, child_at(mj, "source"), 0, sub,
				"wire_profile gdoid: gdoid reads IPv4 TEK sources only");
		}
	}
}

static void validate_group(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path)
{
	struct cfg_group *g = obj;
	char sub[600];
	if (g->smc) {
		const cJSON *smc = cfg_member(node, "server_member_communication");
		snprintf(sub, sizeof(sub), "%s.server_member_communication.lifetime_seconds", path);
		check_interval(ctx, child_at(smc, "lifetime_seconds"), sub, "KEK lifetime_seconds",
			       g->smc->lifetime_seconds, g->activation_time_delay);
	}
	const cJSON *sas = cfg_member(node, "ipsec_sa");
	for (size_t i = 0; i < g->n_ipsec_sa; i++) {
		const cJSON *sa = cJSON_GetArrayItem(sas, (int)i);
		snprintf(sub, sizeof(sub), "%s.ipsec_sa[%zu].lifetime_seconds", path, i);
		check_interval(ctx, child_at(sa, "lifetime_seconds"), sub, "TEK lifetime_seconds",
			       g->ipsec_sa[i].lifetime_seconds, g->activation_time_delay);
	}
	check_unique(ctx, g->ipsec_sa, g->n_ipsec_sa, sizeof(*g->ipsec_sa),
		     offsetof(struct cfg_ipsec_sa, name), sas, path, "ipsec_sa");
	if (g->wire_profile == CFG_WIRE_GDOID)
		validate_gdoid_profile(ctx, g, node, path);
	/* gdoid runs on little-endian hosts in practice and writes its
	 * selectors in host order: that is the gdoid profile's default. */
	if (g->wire_profile == CFG_WIRE_GDOID && !cfg_member(node, "selector_byte_order"))
		g->selector_byte_order = CFG_LITTLE_ENDIAN;
}

static void validate_gks(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path)
{
	struct cfg_gks *k = obj;
	if (!cfg_member(node, "ike_proposals")) {
		/* Modern defaults: AES-256, SHA-256, MODP-2048 or ECP-256. */
		k->ike_proposals = xcalloc(2, sizeof(*k->ike_proposals));
		k->n_ike_proposals = 2;
		for (size_t i = 0; i < 2; i++) {
			k->ike_proposals[i].encryption = CFG_ENC_AES256_CBC;
			k->ike_proposals[i].hash = CFG_HASH_SHA256;
			k->ike_proposals[i].dh_group = i == 0 ? 2 : 4;
			k->ike_proposals[i].lifetime_seconds = 86400;
		}
	}
	const cJSON *groups = cfg_member(node, "groups");
	char sub[600];
	for (size_t i = 0; i < k->n_groups; i++) {
		const cJSON *g = cJSON_GetArrayItem(groups, (int)i);
		for (size_t j = 0; j < i; j++) {
			if (k->groups[i].group_id && k->groups[i].group_id == k->groups[j].group_id) {
				snprintf(sub, sizeof(sub), "%s.groups[%zu].group_id", path, i);
				cfg_err(ctx, child_at(g, "group_id"), 0, sub,
					"%ld is already used by groups[%zu]", k->groups[i].group_id, j);
				break;
			}
		}
	}
	check_unique(ctx, k->groups, k->n_groups, sizeof(*k->groups), offsetof(struct cfg_group, name),
		     groups, path, "groups");
}

static void validate_vpn(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path)
{
	struct cfg_vpn *v = obj;
	char sub[600];
	if (v->rekey && !v->monitor) {
		snprintf(sub, sizeof(sub), "%s.rekey", path);
		cfg_err(ctx, child_at(node, "rekey"), 0, sub,
			"rekey cannot be used alone; turn on monitor too");
	}
	if (v->optimized && !v->monitor) {
		snprintf(sub, sizeof(sub), "%s.optimized", path);
		cfg_err(ctx, child_at(node, "optimized"), 0, sub,
			"optimized is an option of the VPN monitor; turn on monitor too");
	}
}

static void validate_mon(struct cfg_ctx *ctx, void *obj, const cJSON *node, const char *path)
{
	struct cfg_mon *m = obj;
	check_unique(ctx, m->vpns, m->n_vpns, sizeof(*m->vpns), offsetof(struct cfg_vpn, name),
		     cfg_member(node, "vpns"), path, "vpns");
}

/* ---- secrets ------------------------------------------------------------------- */

void cfg_secrets_free(struct cfg_secrets *s)
{
	cfg_schema_free(&secrets_schema, s);
	memset(s, 0, sizeof(*s));
}

const char *cfg_secret_psk(const struct cfg_secrets *s, const char *name)
{
	for (size_t i = 0; i < s->n_psk; i++)
		if (!strcmp(s->psk[i].name, name))
			return s->psk[i].value;
	return NULL;
}

static const struct cfg_snmp_secret *snmp_secret(const struct cfg_secrets *s, const char *name)
{
	for (size_t i = 0; i < s->n_snmp_users; i++)
		if (!strcmp(s->snmp_users[i].name, name))
			return &s->snmp_users[i];
	return NULL;
}

/* Mode 0600 (or stricter), whoever owns it; or 0640 when root owns it and
 * its group is the agent's: the packaged root:gvpn 0640, which only root
 * can change and only the agent's group can read. Any other group could
 * be people: refused, also for an agent running as root. */
int cfg_secrets_mode_ok(const struct stat *st, gid_t egid)
{
	mode_t perm = st->st_mode & 07777;
	if (!(perm & 077))
		return 1;
	return (perm & 077) == 040 && st->st_uid == 0 && st->st_gid == egid;
}

int cfg_secrets_load(const char *path, struct cfg_secrets *out, struct cfg_errors *errs)
{
	size_t start = errs->n;
	memset(out, 0, sizeof(*out));
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0; /* no secrets: fine unless something needs one */
		cfg_errors_add(errs, "%s: cannot read the secrets file: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		cfg_errors_add(errs, "%s: the secrets file is not a regular file", path);
		return -1;
	}
	if (!cfg_secrets_mode_ok(&st, getegid())) {
		unsigned perm = (unsigned)(st.st_mode & 07777);
		if ((perm & 077) == 040 && st.st_uid == 0)
			cfg_errors_add(errs, "%s: refused: mode %04o lets group %ld read it, and the agent runs as "
				       "group %ld; the secrets file must be mode 0600, or 0640 owned by root with "
				       "the agent's group (chmod 600 %s, or run the agent as that group)",
				       path, perm, (long)st.st_gid, (long)getegid(), path);
		else
			cfg_errors_add(errs, "%s: refused: mode %04o lets group or others read or write it; "
				       "the secrets file must be mode 0600, or 0640 owned by root with the "
				       "agent's group (chmod 600 %s)", path, perm, path);
		return -1;
	}
	size_t len;
	char *text = file_read_all(path, CFG_MAX_BYTES, &len);
	if (!text) {
		cfg_errors_add(errs, "%s: cannot read the secrets file: %s", path, strerror(errno));
		return -1;
	}
	struct cfg_ctx ctx;
	cJSON *root = NULL;
	if (cfg_doc_parse(&ctx, path, text, len, 1, errs, &root) == 0) {
		cfg_schema_apply(&ctx, &secrets_schema, root, out, "");
		cfg_doc_sort_errors(&ctx);
	}
	cfg_doc_free(&ctx);
	cJSON_Delete(root);
	OPENSSL_cleanse(text, len);
	free(text);
	out->loaded = 1;
	/* A token is all a scraper shows: one short enough to guess is refused. */
	for (size_t i = 0; i < out->n_metrics_tokens; i++)
		if (strlen(out->metrics_tokens[i].value) < CFG_METRICS_TOKEN_MIN)
			cfg_errors_add(errs, "%s: metrics_tokens.%s: a token must have at least %d characters "
				       "(e.g. openssl rand -hex 32)", path, out->metrics_tokens[i].name,
				       CFG_METRICS_TOKEN_MIN);
	if (errs->n > start) {
		cfg_secrets_free(out);
		return -1;
	}
	return 0;
}

/* ---- loading ---------------------------------------------------------------------- */

/* Makes *p absolute against dir (when relative). */
static void resolve(char **p, const char *dir)
{
	if (!*p || **p == '/')
		return;
	char *abs = xasprintf("%s/%s", dir, *p);
	free(*p);
	*p = abs;
}

/* Plain HTTP carries the session cookie in clear: only on loopback. */
static void check_web(struct cfg_ctx *ctx, const struct cfg_web *w, const cJSON *node)
{
	if (!w->enabled)
		return;
	if ((!w->cert_file) != (!w->key_file)) {
		cfg_err(ctx, node, 0, "web", "cert_file and key_file go together (HTTPS needs both)");
		return;
	}
	char host[INET6_ADDRSTRLEN + 1];
	long port;
	if (w->cert_file || !w->listen || cfg_parse_hostport(w->listen, host, sizeof(host), &port) < 0)
		return;
	if (strncmp(host, "127.", 4) && strcmp(host, "::1"))
		cfg_err(ctx, child_at(node, "listen"), 0, "web.listen",
			"\"%s\" is not a loopback address; plain HTTP is allowed only on loopback "
			"(set cert_file and key_file for HTTPS)", w->listen);
}

static void link_secrets(struct cfg_ctx *ctx, struct cfg *c, const cJSON *root)
{
	const char *sf = c->agent.secrets_file;
	const cJSON *users = cfg_member(cfg_member(root, "snmp"), "v3_users");
	for (size_t i = 0; i < c->snmp.n_v3_users; i++) {
		struct cfg_snmp_user *u = &c->snmp.v3_users[i];
		const cJSON *node = cJSON_GetArrayItem(users, (int)i);
		char path[64];
		snprintf(path, sizeof(path), "snmp.v3_users[%zu]", i);
		if (!u->name)
			continue;
		const struct cfg_snmp_secret *s = snmp_secret(&c->secrets, u->name);
		if (!s || !s->auth_passphrase) {
			cfg_err(ctx, node, 0, path, "user \"%s\" has no auth_passphrase in %s (snmp_users.%s)",
				u->name, sf, u->name);
			continue;
		}
		if (u->priv != CFG_PRIV_NONE && !s->priv_passphrase) {
			cfg_err(ctx, node, 0, path, "user \"%s\" has no priv_passphrase in %s (snmp_users.%s)",
				u->name, sf, u->name);
			continue;
		}
		u->auth_passphrase = xstrdup(s->auth_passphrase);
		if (s->priv_passphrase)
			u->priv_passphrase = xstrdup(s->priv_passphrase);
	}
	if (!c->gks)
		return;
	const cJSON *groups = cfg_member(cfg_member(root, "group_vpn_server"), "groups");
	for (size_t g = 0; g < c->gks->n_groups; g++) {
		struct cfg_group *grp = &c->gks->groups[g];
		const cJSON *members = cfg_member(cJSON_GetArrayItem(groups, (int)g), "members");
		for (size_t m = 0; m < grp->n_members; m++) {
			struct cfg_member *mem = &grp->members[m];
			if (!mem->psk)
				continue;
			const char *v = cfg_secret_psk(&c->secrets, mem->psk);
			if (!v) {
				char path[96];
				snprintf(path, sizeof(path), "group_vpn_server.groups[%zu].members[%zu].psk", g, m);
				cfg_err(ctx, child_at(cJSON_GetArrayItem(members, (int)m), "psk"), 0, path,
					"no pre-shared key named \"%s\" in %s (psk.%s)", mem->psk, sf, mem->psk);
				continue;
			}
			mem->psk_value = xstrdup(v);
		}
	}
}

static void free_linked_secrets(struct cfg *c)
{
	for (size_t i = 0; i < c->snmp.n_v3_users; i++) {
		secret_free(c->snmp.v3_users[i].auth_passphrase);
		secret_free(c->snmp.v3_users[i].priv_passphrase);
	}
	if (c->gks)
		for (size_t g = 0; g < c->gks->n_groups; g++)
			for (size_t m = 0; m < c->gks->groups[g].n_members; m++)
				secret_free(c->gks->groups[g].members[m].psk_value);
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	free_linked_secrets(c);
	cfg_secrets_free(&c->secrets);
	cfg_schema_free(&root_schema, c);
	free(c->path);
	free(c->dir);
	free(c);
}

struct cfg *cfg_load_text(const char *path, const char *text, size_t len, struct cfg_errors *errs)
{
	size_t start = errs->n;
	struct cfg *c = xcalloc(1, sizeof(*c));
	char *real = realpath(path, NULL);
	c->path = real ? real : xstrdup(path);
	char *copy = xstrdup(c->path);
	c->dir = xstrdup(dirname(copy));
	free(copy);

	struct cfg_ctx ctx;
	cJSON *root = NULL;
	if (cfg_doc_parse(&ctx, path, text, len, 0, errs, &root) == 0) {
		cfg_schema_apply(&ctx, &root_schema, root, c, "");
		resolve(&c->agent.state_dir, c->dir);
		resolve(&c->agent.control_socket, c->dir);
		resolve(&c->agent.secrets_file, c->dir);
		resolve(&c->agent.pid_file, c->dir);
		resolve(&c->web.cert_file, c->dir);
		if (c->gks) {
			resolve(&c->gks->debug_pcap, c->dir);
			resolve(&c->gks->signing_key, c->dir);
		}
		resolve(&c->web.key_file, c->dir);
		for (size_t i = 0; i < c->syslog.n_collectors; i++)
			resolve(&c->syslog.collectors[i].ca_file, c->dir);
		check_web(&ctx, &c->web, cfg_member(root, "web"));
		cfg_doc_sort_errors(&ctx);
		if (c->agent.secrets_file &&
		    cfg_secrets_load(c->agent.secrets_file, &c->secrets, errs) == 0)
			link_secrets(&ctx, c, root);
	}
	cfg_doc_free(&ctx);
	cJSON_Delete(root);
	if (errs->n > start) {
		cfg_free(c);
		return NULL;
	}
	return c;
}

struct cfg *cfg_load(const char *path, struct cfg_errors *errs)
{
	size_t len;
	char *text = file_read_all(path, CFG_MAX_BYTES, &len);
	if (!text) {
		if (errno == EFBIG)
			cfg_errors_add(errs, "%s: the file is larger than %u bytes", path, CFG_MAX_BYTES);
		else
			cfg_errors_add(errs, "%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	struct cfg *c = cfg_load_text(path, text, len, errs);
	free(text);
	return c;
}
