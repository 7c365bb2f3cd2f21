/* SPDX-License-Identifier: BSD-2-Clause */
/* gvpn_member.c: gvpn-member, a GDOI group member for Linux and a load
 * generator: registers one or many members (each on its own loopback
 * address) with a key server and reports each step; with --stay the
 * members then take the server's pushes (rekeys, heartbeats), ACK them
 * and reregister when heartbeats stop, until SIGINT or SIGTERM. */
#include "config.h"
#include "core/cfg_schema.h"
#include "core/gdoi/gm.h"
#include "core/views/gm_json.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

static struct {
	int json;
	int stay;
	size_t count, done, ok;
	struct gm **members;
	uint64_t start_us;
	int stop;
} R;

/* The optional JSON file (-c): the same settings as the options, which
 * override it. Loaded by the config schema walker, so errors come with
 * file:line:col like the agent's. */
struct member_file {
	char *server;
	long group;
	char *psk_file;
	char *local;
	long count;
	char **ike;
	size_t n_ike;
	char *identity;
	long timeout_ms;
	long retries;
	int stay;
	long heartbeat;
	long heartbeat_misses;
	char *multicast_interface;
	char *profile;
	long phase1_doi;
};

static const struct cfg_field member_file_fields[] = {
	{ .key = "server", .type = CF_STR, .off = offsetof(struct member_file, server) },
	{ .key = "group", .type = CF_INT, .off = offsetof(struct member_file, group), .min = 1, .max = 65535 },
	{ .key = "psk_file", .type = CF_STR, .off = offsetof(struct member_file, psk_file) },
	{ .key = "local", .type = CF_STR, .off = offsetof(struct member_file, local) },
	{ .key = "count", .type = CF_INT, .off = offsetof(struct member_file, count), .min = 1, .max = 100000 },
	{ .key = "ike", .type = CF_STRLIST, .off = offsetof(struct member_file, ike),
	  .count_off = offsetof(struct member_file, n_ike) },
	{ .key = "identity", .type = CF_STR, .off = offsetof(struct member_file, identity) },
	{ .key = "timeout_ms", .type = CF_INT, .off = offsetof(struct member_file, timeout_ms), .min = 100, .max = 600000 },
	{ .key = "retries", .type = CF_INT, .off = offsetof(struct member_file, retries), .min = 1, .max = 100 },
	{ .key = "stay", .type = CF_BOOL, .off = offsetof(struct member_file, stay) },
	{ .key = "heartbeat", .type = CF_INT, .off = offsetof(struct member_file, heartbeat), .min = 0, .max = 86400 },
	{ .key = "heartbeat_misses", .type = CF_INT, .off = offsetof(struct member_file, heartbeat_misses),
	  .min = 1, .max = 100 },
	{ .key = "multicast_interface", .type = CF_STR, .off = offsetof(struct member_file, multicast_interface) },
	{ .key = "profile", .type = CF_STR, .off = offsetof(struct member_file, profile) },
	{ .key = "phase1_doi", .type = CF_INT, .off = offsetof(struct member_file, phase1_doi), .min = 1, .max = 2 },
	{ .key = NULL },
};
static const struct cfg_schema member_file_schema = {
	"gvpn-member's configuration", sizeof(struct member_file), member_file_fields, NULL };

/* 0, or -1 with every error printed. */
static int load_member_file(const char *path, struct member_file *mf)
{
	size_t len;
	struct cfg_errors errs;
	cfg_errors_init(&errs);
	char *text = file_read_all(path, 1 << 20, &len);
	if (!text) {
		fprintf(stderr, "gvpn-member: %s: %s\n", path, strerror(errno));
		return -1;
	}
	struct cfg_ctx ctx;
	cJSON *root = NULL;
	if (cfg_doc_parse(&ctx, path, text, len, 0, &errs, &root) == 0) {
		cfg_schema_apply(&ctx, &member_file_schema, root, mf, "");
		cfg_doc_sort_errors(&ctx);
	}
	cfg_doc_free(&ctx);
	cJSON_Delete(root);
	free(text);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	int rc = errs.n ? -1 : 0;
	cfg_errors_free(&errs);
	return rc;
}

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: gvpn-member --server ADDR[:PORT] --group ID --psk-file FILE [options]\n"
		"       gvpn-member -c FILE [options]\n"
		"Registers with a GDOI key server (IKEv1 Main Mode + GROUPKEY-PULL) and prints\n"
		"the policy and keys it receives; with --stay, then takes its pushes.\n"
		"  -c, --config FILE         JSON with any of: server, group, psk_file, local,\n"
		"                            count, ike (array of suites), identity, timeout_ms,\n"
		"                            retries, stay, heartbeat, heartbeat_misses,\n"
		"                            multicast_interface, profile, phase1_doi; the command\n"
		"                            line wins\n"
		"  -s, --server ADDR[:PORT]  key server (port 848 by default)\n"
		"  -g, --group ID            group id (1-65535)\n"
		"  -k, --psk-file FILE       pre-shared key (first line; mode 0600)\n"
		"  -l, --local ADDR          local address (with --count: the first of a range)\n"
		"  -n, --count N             run N members, on consecutive local addresses\n"
		"  -i, --ike LIST            IKE suites to offer, comma separated, e.g.\n"
		"                            aes256-sha256-modp2048,aes256-sha256-ecp256 (default)\n"
		"                            ciphers aes128 aes192 aes256 3des des; hashes md5 sha1\n"
		"                            sha256 sha384 sha512; groups modp1024 modp1536 modp2048\n"
		"                            modp3072 ecp256 ecp384\n"
		"      --identity NAME       send ID_FQDN NAME instead of the local address\n"
		"      --timeout MS          per-try timeout (default 2000)\n"
		"      --retries N           tries per message (default 5)\n"
		"  -S, --stay                after registering, take GROUPKEY-PUSH rekeys and\n"
		"                            heartbeats, ACK them, until SIGINT or SIGTERM\n"
		"      --heartbeat S         with --stay: reregister when no push came for\n"
		"                            S x misses seconds (0: off, the default)\n"
		"      --heartbeat-misses N  heartbeats missed before reregistering (default 3)\n"
		"      --multicast-interface ADDR\n"
		"                            join multicast rekey groups on this interface\n"
		"                            address (default: chosen by the routing table)\n"
		"      --profile NAME        wire layouts to read: auto (default: told apart by\n"
		"                            their lengths), rfc6407, or gdoid (Cisco's reference\n"
		"                            key server); see gvpn-member(8)\n"
		"      --selector-byte-order big-endian|little-endian\n"
		"                            how the key server writes SA TEK addresses and ports\n"
		"                            (default: little-endian, gdoid's x86 host order, when\n"
		"                            the policy has gdoid's layouts; else big-endian)\n"
		"      --pull-id ADDR|NAME   name the group in GROUPKEY-PULL by an IPv4 address\n"
		"                            (ID_IPV4_ADDR) or a name (ID_USER_FQDN with an @, else\n"
		"                            ID_FQDN) instead of --group as a KEY_ID, as DigiCert\n"
		"                            TrustCore's member does (see pull_ids)\n"
		"      --phase1-doi N        DOI of the Main Mode SA offered: 2 (GDOI, situation 0;\n"
		"                            the default, which gdoid requires) or 1 (IPsec,\n"
		"                            SIT_IDENTITY_ONLY)\n"
		"  -j, --json-events         one JSON object per line for each event\n"
		"  -v, --verbose             debug logging on stderr\n"
		"  -h, --help, -V, --version\n"
		"SIGUSR1 prints each member's key table and counters (a \"state\" event).\n"
		"Exit status: 0 when every member registered (with --stay: is still registered\n"
		"at the end), 1 otherwise, 2 on usage errors or too few file descriptors.\n");
}

static int parse_suite(const char *s, struct ike_proposal *p)
{
	static const struct { const char *n; int c; unsigned bits; } ciphers[] = {
		{ "aes128", CRYPTO_CIPHER_AES, 128 }, { "aes192", CRYPTO_CIPHER_AES, 192 },
		{ "aes256", CRYPTO_CIPHER_AES, 256 }, { "3des", CRYPTO_CIPHER_3DES, 0 },
		{ "des", CRYPTO_CIPHER_DES, 0 } };
	static const struct { const char *n; int h; } hashes[] = {
		{ "md5", CRYPTO_HASH_MD5 }, { "sha1", CRYPTO_HASH_SHA1 }, { "sha256", CRYPTO_HASH_SHA256 },
		{ "sha384", CRYPTO_HASH_SHA384 }, { "sha512", CRYPTO_HASH_SHA512 } };
	static const struct { const char *n; int g; } groups[] = {
		{ "modp1024", 2 }, { "modp1536", 5 }, { "modp2048", 14 }, { "modp3072", 15 },
		{ "ecp256", 19 }, { "ecp384", 20 } };
	char c[16], h[16], g[16];
	if (sscanf(s, "%15[^-]-%15[^-]-%15s", c, h, g) != 3)
		return -1;
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < ARRAY_SIZE(ciphers); i++)
		if (!strcmp(c, ciphers[i].n)) {
			p->cipher = ciphers[i].c;
			p->key_bits = ciphers[i].bits;
		}
	for (size_t i = 0; i < ARRAY_SIZE(hashes); i++)
		if (!strcmp(h, hashes[i].n))
			p->hash = hashes[i].h;
	for (size_t i = 0; i < ARRAY_SIZE(groups); i++)
		if (!strcmp(g, groups[i].n))
			p->group = groups[i].g;
	p->life_seconds = 86400;
	return p->cipher && p->hash && p->group ? 0 : -1;
}

static int parse_suites(const char *list, struct gm_config *cfg)
{
	char *copy = xstrdup(list), *save = NULL;
	cfg->n_props = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (cfg->n_props == IKE_MAX_PROPOSALS || parse_suite(t, &cfg->props[cfg->n_props]) < 0) {
			fprintf(stderr, "gvpn-member: bad or too many IKE suites near '%s'\n", t);
			free(copy);
			return -1;
		}
		cfg->n_props++;
	}
	free(copy);
	return cfg->n_props ? 0 : -1;
}

static char *read_psk(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "gvpn-member: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (st.st_mode & 077) {
		fprintf(stderr, "gvpn-member: %s: refused: mode %04o; a key file must be mode 0600 (chmod 600 %s)\n",
			path, (unsigned)(st.st_mode & 07777), path);
		return NULL;
	}
	char *text = file_read_all(path, 4096, NULL);
	if (!text) {
		fprintf(stderr, "gvpn-member: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	text[strcspn(text, "\r\n")] = '\0';
	if (!*text) {
		fprintf(stderr, "gvpn-member: %s: the key is empty\n", path);
		secret_free(text);
		return NULL;
	}
	return text;
}

static int parse_addr(const char *s, uint16_t def_port, struct sockaddr_in *sa)
{
	char host[64];
	long port = def_port;
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	if (n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (colon) {
		char *end;
		port = strtol(colon + 1, &end, 10);
		if (*end || port < 0 || port > 65535)
			return -1;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void emit(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	cJSON_Delete(o);
}

/* A gm event as one JSON line, or as "member: event key=value ...". */
static void on_event(struct gm *m, const char *event, cJSON *detail, void *arg GVPN_UNUSED)
{
	char local[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &gm_local(m)->sin_addr, local, sizeof(local));
	if (R.json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "event", event);
		cJSON_AddStringToObject(o, "member", local);
		while (detail->child) {
			cJSON *it = cJSON_DetachItemViaPointer(detail, detail->child);
			cJSON_AddItemToObject(o, it->string, it);
		}
		emit(o);
		return;
	}
	char line[1024];
	size_t off = (size_t)snprintf(line, sizeof(line), "%s: %s", local, event);
	for (const cJSON *it = detail->child; it && off < sizeof(line); it = it->next) {
		char *v = cJSON_IsString(it) ? NULL : cJSON_PrintUnformatted(it);
		off += (size_t)snprintf(line + off, sizeof(line) - off, " %s=%s", it->string,
					v ? v : it->valuestring);
		free(v);
	}
	printf("%s\n", line);
	fflush(stdout);
}

static void on_gm_event(struct gm *m, const struct gm_event *ev, void *arg)
{
	cJSON *detail = gm_event_json(ev);
	on_event(m, ev->name, detail, arg);
	cJSON_Delete(detail);
}

static void on_done(struct gm *m, enum gm_result r, void *arg GVPN_UNUSED)
{
	const struct ike_sa *ike = gm_ike(m);
	char local[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &gm_local(m)->sin_addr, local, sizeof(local));
	R.done++;
	if (r == GM_REGISTERED)
		R.ok++;
	if (R.json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "event", r == GM_REGISTERED ? "registered" : "failed");
		cJSON_AddStringToObject(o, "member", local);
		cJSON_AddNumberToObject(o, "elapsed_ms", (double)gm_elapsed_us(m) / 1000.0);
		if (r == GM_REGISTERED)
			cJSON_AddItemToObject(o, "policy", gm_policy_json(m));
		else
			cJSON_AddStringToObject(o, "error", gm_error(m));
		emit(o);
	} else if (r == GM_REGISTERED) {
		char suite[64];
		ike_proposal_str(&ike->prop, suite, sizeof(suite));
		printf("%s: registered (%s), %zu TEK%s, SEQ %u\n", local, suite, gm_policy(m)->n_tek,
		       gm_policy(m)->n_tek == 1 ? "" : "s", gm_seq(m));
	} else {
		printf("%s: registration failed: %s\n", local, gm_error(m));
	}
	/* With --stay the members go on taking pushes, if any registered. */
	if (R.done == R.count && (!R.stay || !R.ok))
		loop_stop();
}

static void on_signal(int signo GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	loop_stop();
}

static void on_usr1(int signo GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	for (size_t i = 0; i < R.count; i++) {
		if (!R.members[i])
			continue;
		cJSON *st = gm_status_json(R.members[i]);
		on_event(R.members[i], "state", st, NULL);
		cJSON_Delete(st);
	}
}

/* Every member holds a socket (two with multicast rekeys): the soft
 * limit goes up to the hard one, and a count that cannot fit is refused
 * before anything starts. */
static int raise_nofile(size_t count)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return 0;
	}
	rlim_t need = (rlim_t)count + 16;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		fprintf(stderr,
			"gvpn-member: %zu members need %llu open files (a socket each, and a few more), "
			"but the limit is %llu, the hard limit; raise it (ulimit -Hn, systemd LimitNOFILE=) "
			"or run fewer members\n",
			count, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

/* A number in [min, max], all of s. */
static int parse_num(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "server", required_argument, NULL, 's' }, { "group", required_argument, NULL, 'g' },
		{ "psk-file", required_argument, NULL, 'k' }, { "local", required_argument, NULL, 'l' },
		{ "count", required_argument, NULL, 'n' }, { "ike", required_argument, NULL, 'i' },
		{ "identity", required_argument, NULL, 'I' }, { "timeout", required_argument, NULL, 'T' },
		{ "retries", required_argument, NULL, 'R' }, { "json-events", no_argument, NULL, 'j' },
		{ "stay", no_argument, NULL, 'S' }, { "heartbeat", required_argument, NULL, 'H' },
		{ "heartbeat-misses", required_argument, NULL, 'M' },
		{ "multicast-interface", required_argument, NULL, 'F' },
		{ "profile", required_argument, NULL, 'P' },
		{ "phase1-doi", required_argument, NULL, 'D' },
		{ "pull-id", required_argument, NULL, 'G' },
		{ "selector-byte-order", required_argument, NULL, 'O' },
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	struct gm_config cfg = { 0 };
	const char *server = NULL, *psk_file = NULL, *local = NULL, *ike = NULL, *conf = NULL;
	const char *mcast_if = NULL, *profile = NULL;
	long group = 0, count = 0, heartbeat = -1, misses = 0, p1_doi = 0;
	int opt;
	struct member_file mf = { 0 };
	while ((opt = getopt_long(argc, argv, "c:s:g:k:l:n:i:jSvhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 's': server = optarg; break;
		case 'g': group = strtol(optarg, NULL, 10); break;
		case 'k': psk_file = optarg; break;
		case 'l': local = optarg; break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'i': ike = optarg; break;
		case 'I': cfg.identity = optarg; break;
		case 'T': cfg.timeout_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'R': cfg.retries = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'j': R.json = 1; break;
		case 'S': R.stay = 1; break;
		case 'H':
			if (parse_num(optarg, 0, 86400, &heartbeat) < 0) {
				fprintf(stderr, "gvpn-member: --heartbeat: seconds from 0 to 86400\n");
				return 2;
			}
			break;
		case 'M':
			if (parse_num(optarg, 1, 100, &misses) < 0) {
				fprintf(stderr, "gvpn-member: --heartbeat-misses: a number from 1 to 100\n");
				return 2;
			}
			break;
		case 'F': mcast_if = optarg; break;
		case 'P': profile = optarg; break;
		case 'G': cfg.pull_id = optarg; break;
		case 'O':
			if (!strcmp(optarg, "big-endian")) {
				cfg.selector_order = GM_SELECTORS_BE;
			} else if (!strcmp(optarg, "little-endian")) {
				cfg.selector_order = GM_SELECTORS_LE;
			} else {
				fprintf(stderr, "gvpn-member: --selector-byte-order: big-endian or little-endian\n");
				return 2;
			}
			break;
		case 'D':
			if (parse_num(optarg, 1, 2, &p1_doi) < 0) {
				fprintf(stderr, "gvpn-member: --phase1-doi: 1 (IPsec) or 2 (GDOI)\n");
				return 2;
			}
			break;
		case 'v': log_set_level(LOG_DEBUG); break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("gvpn-member %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	char *ike_joined = NULL;
	if (conf) {
		if (load_member_file(conf, &mf) < 0)
			return 2;
		server = server ? server : mf.server;
		psk_file = psk_file ? psk_file : mf.psk_file;
		local = local ? local : mf.local;
		group = group ? group : mf.group;
		count = count ? count : mf.count;
		if (!cfg.identity)
			cfg.identity = mf.identity;
		if (!cfg.timeout_ms)
			cfg.timeout_ms = (unsigned)mf.timeout_ms;
		if (!cfg.retries)
			cfg.retries = (unsigned)mf.retries;
		R.stay = R.stay || mf.stay;
		if (heartbeat < 0)
			heartbeat = mf.heartbeat;
		if (!misses)
			misses = mf.heartbeat_misses;
		if (!mcast_if)
			mcast_if = mf.multicast_interface;
		if (!profile)
			profile = mf.profile;
		if (!p1_doi)
			p1_doi = mf.phase1_doi;
		if (!ike && mf.n_ike) {
			size_t n = 1;
			for (size_t i = 0; i < mf.n_ike; i++)
				n += strlen(mf.ike[i]) + 1;
			ike_joined = xcalloc(1, n);
			size_t off = 0;
			for (size_t i = 0; i < mf.n_ike; i++)
				off += (size_t)snprintf(ike_joined + off, n - off, "%s%s", i ? "," : "", mf.ike[i]);
			ike = ike_joined;
		}
	}
	if (!local)
		local = "127.0.0.1";
	if (!count)
		count = 1;
	if (!server || !psk_file || group < 1 || group > 65535 || count < 1 || count > 100000) {
		usage(stderr);
		return 2;
	}
	if (parse_addr(server, GDOI_PORT, &cfg.server) < 0 || parse_addr(local, 0, &cfg.local) < 0) {
		fprintf(stderr, "gvpn-member: bad address in --server or --local\n");
		return 2;
	}
	if (mcast_if && inet_pton(AF_INET, mcast_if, &cfg.mcast_if) != 1) {
		fprintf(stderr, "gvpn-member: bad address in --multicast-interface: %s\n", mcast_if);
		return 2;
	}
	if (!profile || !strcmp(profile, "auto")) {
		cfg.profile = GM_PROFILE_AUTO;
	} else if (!strcmp(profile, "rfc6407")) {
		cfg.profile = GM_PROFILE_RFC6407;
	} else if (!strcmp(profile, "gdoid")) {
		cfg.profile = GM_PROFILE_GDOID;
	} else {
		fprintf(stderr, "gvpn-member: --profile: auto, rfc6407 or gdoid, not %s\n", profile);
		return 2;
	}
	cfg.p1_doi = (uint32_t)p1_doi;
	cfg.heartbeat_s = heartbeat > 0 ? (unsigned)heartbeat : 0;
	cfg.heartbeat_misses = (unsigned)misses;
	if (R.stay)
		cfg.event = on_gm_event;
	if (raise_nofile((size_t)count) < 0)
		return 2;
	if (parse_suites(ike ? ike : "aes256-sha256-modp2048,aes256-sha256-ecp256", &cfg) < 0)
		return 2;
	char *psk = read_psk(psk_file);
	free(ike_joined);
	if (!psk)
		return 2;
	cfg.psk = psk;
	cfg.group_id = (uint32_t)group;
	log_init("gvpn-member");
	if (loop_init() < 0)
		return 1;
	loop_signal_add(SIGINT, on_signal, NULL);
	loop_signal_add(SIGTERM, on_signal, NULL);
	loop_signal_add(SIGUSR1, on_usr1, NULL);
	R.count = (size_t)count;
	R.members = xcalloc(R.count, sizeof(*R.members));
	uint32_t base = ntohl(cfg.local.sin_addr.s_addr);
	int rc = 1;
	R.start_us = loop_now_us();
	for (size_t i = 0; i < R.count; i++) {
		cfg.local.sin_addr.s_addr = htonl(base + (uint32_t)i);
		R.members[i] = gm_new(&cfg, on_done, NULL);
		if (!R.members[i] || gm_start(R.members[i]) < 0) {
			R.count = i + (R.members[i] != NULL);
			break;
		}
	}
	if (R.done < R.count || (R.stay && R.ok))
		loop_run();
	double secs = (double)(loop_now_us() - R.start_us) / 1e6;
	size_t still = 0;
	struct gm_stats sum = { 0 };
	for (size_t i = 0; i < R.count; i++) {
		if (!R.members[i])
			continue;
		const struct gm_stats *s = gm_stats(R.members[i]);
		still += gm_registered(R.members[i]) ? 1 : 0;
		sum.pushes += s->pushes;
		sum.rekeys += s->rekeys;
		sum.heartbeats += s->heartbeats;
		sum.retransmissions += s->retransmissions;
		sum.acks_sent += s->acks_sent;
		sum.rejected_replay += s->rejected_replay;
		sum.rejected_sig += s->rejected_sig;
		sum.rejected_unknown_kek += s->rejected_unknown_kek;
		sum.rejected_other += s->rejected_other;
		sum.heartbeat_losses += s->heartbeat_losses;
		sum.reregistrations += s->reregistrations;
	}
	if (R.json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "event", "summary");
		cJSON_AddNumberToObject(o, "members", (double)count);
		cJSON_AddNumberToObject(o, "registered", (double)R.ok);
		cJSON_AddNumberToObject(o, "failed", (double)((size_t)count - R.ok));
		cJSON_AddNumberToObject(o, "seconds", secs);
		cJSON_AddNumberToObject(o, "per_second", secs > 0 ? (double)R.ok / secs : 0);
		if (R.stay) {
			cJSON_AddNumberToObject(o, "still_registered", (double)still);
			const struct { const char *k; uint64_t v; } c[] = {
				{ "pushes", sum.pushes }, { "rekeys", sum.rekeys },
				{ "heartbeats", sum.heartbeats }, { "retransmissions", sum.retransmissions },
				{ "acks_sent", sum.acks_sent }, { "rejected_replay", sum.rejected_replay },
				{ "rejected_sig", sum.rejected_sig },
				{ "rejected_unknown_kek", sum.rejected_unknown_kek },
				{ "rejected_other", sum.rejected_other },
				{ "heartbeat_losses", sum.heartbeat_losses },
				{ "reregistrations", sum.reregistrations },
			};
			for (size_t i = 0; i < ARRAY_SIZE(c); i++)
				cJSON_AddNumberToObject(o, c[i].k, (double)c[i].v);
		}
		emit(o);
	} else {
		if (count > 1)
			printf("%zu of %ld members registered in %.3f s (%.1f/s)\n", R.ok, count,
			       secs, secs > 0 ? (double)R.ok / secs : 0);
		if (R.stay)
			printf("%zu of %ld still registered; %llu pushes (%llu rekeys, %llu heartbeats), "
			       "%llu ACKs, %llu rejected, %llu heartbeat losses, %llu reregistrations\n",
			       still, count, (unsigned long long)sum.pushes, (unsigned long long)sum.rekeys,
			       (unsigned long long)sum.heartbeats, (unsigned long long)sum.acks_sent,
			       (unsigned long long)(sum.rejected_replay + sum.rejected_sig +
						    sum.rejected_unknown_kek + sum.rejected_other),
			       (unsigned long long)sum.heartbeat_losses,
			       (unsigned long long)sum.reregistrations);
	}
	if (R.stay)
		rc = still == (size_t)count ? 0 : 1;
	else
		rc = R.ok == (size_t)count ? 0 : 1;
	for (size_t i = 0; i < R.count; i++)
		gm_free(R.members[i]);
	free(R.members);
	secret_free(psk);
	cfg_schema_free(&member_file_schema, &mf);
	loop_fini();
	return rc;
}
