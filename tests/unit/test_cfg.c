/* SPDX-License-Identifier: BSD-2-Clause */
/* test_cfg.c: unit tests of core/cfg.c and core/cfg_schema.c: loading the
 * JSON configuration into the typed model, the error messages
 * ("file:line:col: key.path: message", every error at once), the
 * cross-field checks, address checks and the secrets file.
 *
 * Every test works in a fresh temporary directory (removed afterwards).
 * Configuration texts are written with '`' markers in front of the token
 * an error must point at: doc_init() strips the markers and records the
 * line:col of each, so the expected messages are computed, not guessed.
 * Expected message i goes with marker i. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "core/cfg.h"

#define CONF "gvpn-agent.json"
#define MARK '`'
#define MAXMARK 32

/* ---- fixture: temp dir, and everything a test allocates ------------------- */

static struct {
	char dir[PATH_MAX];      /* realpath of this test's temp dir */
	char cwd[PATH_MAX];      /* restored by teardown */
	void **mem; size_t nmem, capmem;
	struct cfg **cfgs; size_t ncfg, capcfg;
	struct cfg_errors **errs; size_t nerrs, caperrs;
} T;

static void *keep(void *p)
{
	assert_non_null(p);
	if (T.nmem == T.capmem) {
		T.capmem = T.capmem ? T.capmem * 2 : 64;
		T.mem = realloc(T.mem, T.capmem * sizeof(*T.mem));
		assert_non_null(T.mem);
	}
	T.mem[T.nmem++] = p;
	return p;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, f);
	int r = vasprintf(&s, f, ap);
	va_end(ap);
	assert_true(r >= 0);
	return keep(s);
}

/* Models are freed by teardown, so a failed assertion leaks nothing. */
static struct cfg *track(struct cfg *c)
{
	if (T.ncfg == T.capcfg) {
		T.capcfg = T.capcfg ? T.capcfg * 2 : 8;
		T.cfgs = realloc(T.cfgs, T.capcfg * sizeof(*T.cfgs));
		assert_non_null(T.cfgs);
	}
	T.cfgs[T.ncfg++] = c;
	return c;
}

static void untrack_free(struct cfg *c)
{
	for (size_t i = 0; i < T.ncfg; i++)
		if (T.cfgs[i] == c)
			T.cfgs[i] = NULL;
	cfg_free(c);
}

static struct cfg_errors *new_errs(void)
{
	if (T.nerrs == T.caperrs) {
		T.caperrs = T.caperrs ? T.caperrs * 2 : 8;
		T.errs = realloc(T.errs, T.caperrs * sizeof(*T.errs));
		assert_non_null(T.errs);
	}
	struct cfg_errors *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	cfg_errors_init(e);
	T.errs[T.nerrs++] = e;
	return e;
}

static int setup(void **state)
{
	(void)state;
	memset(&T, 0, sizeof(T));
	if (!getcwd(T.cwd, sizeof(T.cwd)))
		return -1;
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	char templ[PATH_MAX];
	snprintf(templ, sizeof(templ), "%s/test_cfg.XXXXXX", tmp);
	if (!mkdtemp(templ))
		return -1;
	if (!realpath(templ, T.dir)) {
		rmdir(templ);
		return -1;
	}
	return 0;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int teardown(void **state)
{
	(void)state;
	if (chdir(T.cwd) < 0)
		return -1;
	for (size_t i = 0; i < T.ncfg; i++)
		cfg_free(T.cfgs[i]);
	for (size_t i = 0; i < T.nerrs; i++) {
		cfg_errors_free(T.errs[i]);
		free(T.errs[i]);
	}
	for (size_t i = 0; i < T.nmem; i++)
		free(T.mem[i]);
	free(T.cfgs);
	free(T.errs);
	free(T.mem);
	int rc = nftw(T.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	struct stat st;
	if (rc != 0 || stat(T.dir, &st) == 0)
		return -1;
	return 0;
}

/* ---- documents with markers ------------------------------------------------ */

struct doc {
	char *text;
	size_t len;
	size_t nmark;
	size_t off[MAXMARK];
	unsigned line[MAXMARK], col[MAXMARK];
};

static void doc_init(struct doc *d, const char *tmpl)
{
	memset(d, 0, sizeof(*d));
	d->text = keep(malloc(strlen(tmpl) + 1));
	unsigned line = 1, col = 1;
	for (const char *p = tmpl; *p; p++) {
		if (*p == MARK) {
			assert_true(d->nmark < MAXMARK);
			d->off[d->nmark] = d->len;
			d->line[d->nmark] = line;
			d->col[d->nmark] = col;
			d->nmark++;
			continue;
		}
		d->text[d->len++] = *p;
		if (*p == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	d->text[d->len] = '\0';
}

static char *write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	char *path = fmt("%s/%s", T.dir, name);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_true(write(fd, data, len) == (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
	return path;
}

/* The config file, from a template with markers. */
static char *put_conf(struct doc *d, const char *tmpl)
{
	doc_init(d, tmpl);
	return write_file(CONF, d->text, d->len, 0644);
}

static char *put_secrets(struct doc *d, const char *tmpl, mode_t mode)
{
	doc_init(d, tmpl);
	return write_file("secrets.json", d->text, d->len, mode);
}

/* Where the model expects the default secrets file. */
static char *secrets_path(void)
{
	return fmt("%s/secrets.json", T.dir);
}

/* A failure with its explanation as a TAP comment. */
#define FAIL(...) do { \
	print_message("# " __VA_ARGS__); \
	print_message("\n"); \
	fail(); \
} while (0)

static struct cfg *load(const char *path, struct cfg_errors **ep)
{
	*ep = new_errs();
	return track(cfg_load(path, *ep));
}

static void dump_errs(const struct cfg_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		print_message("#   error[%zu]: %s\n", i, e->msg[i]);
}

static void expect_n(const struct cfg_errors *e, size_t n)
{
	if (e->n != n) {
		dump_errs(e);
		FAIL("expected %zu error(s), got %zu", n, e->n);
	}
}

static struct cfg *load_ok(const char *path)
{
	struct cfg_errors *e;
	struct cfg *c = load(path, &e);
	expect_n(e, 0);
	assert_non_null(c);
	return c;
}

/* Loads path, which must fail with exactly the messages given, located at
 * the markers of d in order. */
static void expect_errs_(const struct cfg_errors *e, const char *file, const struct doc *d,
			 const char *const *msg, size_t n)
{
	expect_n(e, n);
	assert_true(d->nmark >= n);
	for (size_t i = 0; i < n; i++) {
		char *want = fmt("%s:%u:%u: %s", file, d->line[i], d->col[i], msg[i]);
		if (strcmp(e->msg[i], want)) {
			dump_errs(e);
			print_message("#   wanted[%zu]: %s\n", i, want);
		}
		assert_string_equal(e->msg[i], want);
	}
}
#define MSGS(...) (const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)
#define EXPECT_ERRS(e, file, d, ...) expect_errs_((e), (file), (d), MSGS(__VA_ARGS__))

static void load_fail(const char *path, const struct doc *d, const char *const *msg, size_t n)
{
	struct cfg_errors *e;
	struct cfg *c = load(path, &e);
	expect_errs_(e, path, d, msg, n);
	assert_null(c);
}
#define LOAD_FAIL(path, d, ...) load_fail((path), (d), MSGS(__VA_ARGS__))

static int has_err(const struct cfg_errors *e, const char *want)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->msg[i], want))
			return 1;
	return 0;
}

#define assert_str(a, b) do { \
	const char *a_ = (a); \
	if (!a_) \
		FAIL("%s is NULL, wanted \"%s\"", #a, (b)); \
	assert_string_equal(a_, (b)); \
} while (0)

/* A source file of the project (conf/demo.json), wherever the build is. */
static char *read_src(const char *rel, size_t *len)
{
	const char *cands[3] = { getenv("srcdir"), NULL, "." };
	const char *self = __FILE__;
	const char *tail = "tests/unit/test_cfg.c";
	size_t sl = strlen(self), tl = strlen(tail);
	if (sl >= tl && !strcmp(self + sl - tl, tail))
		cands[1] = sl == tl ? "." : fmt("%.*s", (int)(sl - tl), self);
	for (size_t i = 0; i < 3; i++) {
		if (!cands[i])
			continue;
		char *p = fmt("%s/%s", cands[i], rel);
		FILE *f = fopen(p, "rb");
		if (!f)
			continue;
		char *buf = keep(malloc(1 << 20));
		*len = fread(buf, 1, (1 << 20) - 1, f);
		buf[*len] = '\0';
		fclose(f);
		return buf;
	}
	FAIL("cannot find %s (set srcdir)", rel);
	return NULL;
}

/* A secrets file that satisfies the configs below. */
static const char *const SECRETS_OK =
	"{\n"
	"  \"psk\": { \"k1\": \"a-long-random-psk\" },\n"
	"  \"snmp_users\": { \"nms\": { \"auth_passphrase\": \"auth-pass-1\",\n"
	"                             \"priv_passphrase\": \"priv-pass-1\" } }\n"
	"}\n";

/* ---- loading valid files ---------------------------------------------------- */

static void check_defaults(const struct cfg *c)
{
	assert_str(c->agent.state_dir, LOCALSTATEDIR "/lib/gvpn-agent");
	assert_str(c->agent.control_socket, RUNSTATEDIR "/gvpn-agent/gvpnctl.sock");
	assert_str(c->agent.secrets_file, fmt("%s/secrets.json", T.dir));
	assert_null(c->agent.pid_file);
	assert_int_equal(c->agent.log_level, LOG_INFO);
	assert_int_equal(c->agent.event_history, 1000);

	assert_int_equal(c->snmp.enabled, 1);
	assert_int_equal(c->snmp.mode, CFG_SNMP_MASTER);
	assert_int_equal(c->snmp.n_listen, 1);
	assert_non_null(c->snmp.listen);
	assert_str(c->snmp.listen[0], "udp:161");
	assert_str(c->snmp.agentx_socket, "/var/agentx/master");
	assert_int_equal(c->snmp.n_v3_users, 0);
	assert_int_equal(c->snmp.n_communities, 0);
	assert_int_equal(c->snmp.n_trap_sinks, 0);

	assert_int_equal(c->syslog.local, 1);
	assert_int_equal(c->syslog.facility, 3); /* daemon */
	assert_int_equal(c->syslog.n_collectors, 0);

	assert_int_equal(c->web.enabled, 1);
	assert_str(c->web.listen, "127.0.0.1:8080");
	assert_null(c->web.cert_file);
	assert_null(c->web.key_file);
	assert_int_equal(c->web.session_timeout, 900);

	assert_null(c->gks);
	assert_null(c->mon);
	assert_int_equal(c->secrets.loaded, 0);
}

/* BUG A: a section that is left out takes no defaults. */
static void test_empty_object_defaults(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d, "{}\n");
	struct cfg *c = load_ok(p);
	assert_str(c->path, p);
	assert_str(c->dir, T.dir);
	check_defaults(c);
}

/* The same defaults when each section is there but empty. */
static void test_empty_sections_defaults(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d, "{ \"agent\": {}, \"snmp\": {}, \"syslog\": {}, \"web\": {} }\n");
	struct cfg *c = load_ok(p);
	check_defaults(c);
}

/* BUG A, its worst effect: without an "agent" section no secrets file is
 * read, members get no key and a missing key goes unreported. */
static void test_omitted_agent_still_uses_secrets(void **state)
{
	(void)state;
	struct doc d, s;
	char *p = put_conf(&d,
		"{\n"
		"  \"group_vpn_server\": { \"groups\": [{ \"name\": \"g1\", \"group_id\": 1,\n"
		"    \"members\": [{ \"address\": \"192.0.2.10\", \"psk\": `\"k1\" }] }] }\n"
		"}\n");
	put_secrets(&s, SECRETS_OK, 0600);
	struct cfg *c = load_ok(p);
	assert_non_null(c->gks);
	assert_str(c->gks->groups[0].members[0].psk_value, "a-long-random-psk");

	assert_int_equal(unlink(secrets_path()), 0);
	LOAD_FAIL(p, &d, fmt("group_vpn_server.groups[0].members[0].psk: no pre-shared key named \"k1\" "
			     "in %s (psk.k1)", secrets_path()));
}

static void test_demo_config(void **state)
{
	(void)state;
	size_t len, slen;
	char *conf = read_src("conf/demo.json", &len);
	char *sec = read_src("conf/demo-secrets.json", &slen);
	char *p = write_file(CONF, conf, len, 0644);
	write_file("secrets.json", sec, slen, 0600);
	struct cfg *c = load_ok(p);

	assert_str(c->path, p);
	assert_str(c->agent.state_dir, fmt("%s/state", T.dir));
	assert_str(c->agent.control_socket, fmt("%s/gvpnctl.sock", T.dir));
	assert_str(c->agent.secrets_file, secrets_path());
	assert_int_equal(c->agent.log_level, LOG_INFO);
	assert_int_equal(c->secrets.loaded, 1);

	assert_int_equal(c->snmp.n_listen, 1);
	assert_str(c->snmp.listen[0], "udp:127.0.0.1:1161");
	assert_int_equal(c->snmp.n_v3_users, 1);
	const struct cfg_snmp_user *u = &c->snmp.v3_users[0];
	assert_str(u->name, "demo");
	assert_int_equal(u->access, CFG_ACCESS_RW);
	assert_int_equal(u->auth, CFG_AUTH_SHA256);
	assert_int_equal(u->priv, CFG_PRIV_AES128);
	assert_str(u->auth_passphrase, "demo-auth-pass");
	assert_str(u->priv_passphrase, "demo-priv-pass");
	assert_int_equal(c->snmp.n_communities, 1);
	assert_str(c->snmp.communities[0].name, "public");
	assert_int_equal(c->snmp.communities[0].access, CFG_ACCESS_RO);
	assert_str(c->snmp.communities[0].source, "127.0.0.1");
	assert_int_equal(c->snmp.communities[0].v2c, 1); /* "versions" default: SNMPv2c only */
	assert_int_equal(c->snmp.communities[0].v1, 0);
	assert_int_equal(c->snmp.n_trap_sinks, 1);
	assert_str(c->snmp.trap_sinks[0], "udp:127.0.0.1:1162");

	assert_int_equal(c->syslog.local, 0);
	assert_str(c->web.listen, "127.0.0.1:8080");

	assert_non_null(c->gks);
	assert_str(c->gks->listen, "127.0.0.1:8848");
	assert_int_equal(c->gks->n_groups, 1);
	const struct cfg_group *g = &c->gks->groups[0];
	assert_str(g->name, "g1");
	assert_int_equal(g->group_id, 1);
	assert_int_equal(g->activation_time_delay, 15);
	assert_int_equal(g->anti_replay_time_window, 100);
	assert_non_null(g->smc);
	assert_int_equal(g->smc->communication_type, CFG_COMM_UNICAST);
	assert_int_equal(g->smc->encryption_algorithm, CFG_ENC_AES256_CBC);
	assert_int_equal(g->smc->sig_hash_algorithm, CFG_HASH_SHA256);
	assert_int_equal(g->smc->lifetime_seconds, 300);
	assert_int_equal(g->smc->heartbeat, 10);
	assert_int_equal(g->smc->number_of_retransmission, 2);
	assert_int_equal(g->smc->retransmission_period, 5);
	assert_int_equal(g->smc->membership_rekey, 1);
	assert_int_equal(g->smc->membership_rekey_delay, 5);
	assert_int_equal(g->smc->membership_rekey_max_delay, 30);
	assert_null(c->gks->signing_key);
	assert_int_equal(g->n_ipsec_sa, 1);
	assert_str(g->ipsec_sa[0].name, "sa1");
	assert_str(cfg_enum_name(cfg_proposal_names, g->ipsec_sa[0].proposal), "esp-aes256-sha256");
	assert_str(g->ipsec_sa[0].match.source, "10.0.0.0/8");
	assert_str(g->ipsec_sa[0].match.destination, "10.0.0.0/8");
	assert_int_equal(g->ipsec_sa[0].match.protocol, 0);
	assert_int_equal(g->n_members, 1);
	assert_str(g->members[0].address, "127.0.0.0/8");
	assert_str(g->members[0].psk, "g1-members");
	assert_str(g->members[0].psk_value, "demo-group-1-preshared-key");
	assert_str(cfg_secret_psk(&c->secrets, "g1-members"), "demo-group-1-preshared-key");
	assert_null(cfg_secret_psk(&c->secrets, "nope"));

	assert_non_null(c->mon);
	assert_int_equal(c->mon->interval, 3);
	assert_int_equal(c->mon->threshold, 3);
	assert_str(c->mon->vici_socket, "unix:///var/run/charon.vici");
	assert_int_equal(c->mon->n_vpns, 2);
	const struct cfg_vpn *v = &c->mon->vpns[0];
	assert_str(v->name, "branch-lo");
	assert_int_equal(v->monitor, 1);
	assert_int_equal(v->optimized, 0);
	assert_int_equal(v->rekey, 0);
	assert_str(v->source_interface, "lo");
	assert_str(v->destination_ip, "127.0.0.10");
	v = &c->mon->vpns[1];
	assert_str(v->name, "site-b");
	assert_int_equal(v->monitor, 0);
	assert_str(v->destination_ip, "198.51.100.2");
}

/* Relative file names resolve against the config's directory, not the
 * working directory; absolute ones stay. */
static void test_relative_paths(void **state)
{
	(void)state;
	struct doc d, s;
	char *p = put_conf(&d,
		"{\n"
		"  \"agent\": { \"state_dir\": \"st\", \"control_socket\": \"run/ctl.sock\",\n"
		"             \"secrets_file\": \"sub/secrets.json\", \"pid_file\": \"/abs/agent.pid\" },\n"
		"  \"syslog\": { \"collectors\": [\n"
		"    { \"transport\": \"tls\", \"host\": \"logs.example.net\", \"ca_file\": \"ca.pem\" },\n"
		"    { \"transport\": \"udp\", \"host\": \"192.0.2.5\" },\n"
		"    { \"transport\": \"tcp\", \"host\": \"192.0.2.6\", \"port\": 10514, \"queue\": 5 } ] },\n"
		"  \"web\": { \"listen\": \"0.0.0.0:8443\", \"cert_file\": \"tls/web.pem\", \"key_file\": \"/k/web.key\" }\n"
		"}\n");
	assert_int_equal(mkdir(fmt("%s/sub", T.dir), 0700), 0);
	doc_init(&s, SECRETS_OK);
	write_file("sub/secrets.json", s.text, s.len, 0600);

	assert_int_equal(chdir("/"), 0);
	struct cfg *c = load_ok(p);
	assert_str(c->agent.state_dir, fmt("%s/st", T.dir));
	assert_str(c->agent.control_socket, fmt("%s/run/ctl.sock", T.dir));
	assert_str(c->agent.secrets_file, fmt("%s/sub/secrets.json", T.dir));
	assert_str(c->agent.pid_file, "/abs/agent.pid");
	assert_int_equal(c->secrets.loaded, 1);
	assert_str(cfg_secret_psk(&c->secrets, "k1"), "a-long-random-psk");
	assert_int_equal(c->syslog.n_collectors, 3);
	assert_str(c->syslog.collectors[0].ca_file, fmt("%s/ca.pem", T.dir));
	assert_int_equal(c->syslog.collectors[0].transport, CFG_TRANSPORT_TLS);
	assert_int_equal(c->syslog.collectors[0].port, 6514);
	assert_int_equal(c->syslog.collectors[0].queue, 1000);
	assert_int_equal(c->syslog.collectors[1].transport, CFG_TRANSPORT_UDP);
	assert_int_equal(c->syslog.collectors[1].port, 514);
	assert_int_equal(c->syslog.collectors[2].port, 10514);
	assert_int_equal(c->syslog.collectors[2].queue, 5);
	assert_str(c->web.cert_file, fmt("%s/tls/web.pem", T.dir));
	assert_str(c->web.key_file, "/k/web.key");

	/* Named relative to the working directory: the model still holds
	 * absolute paths. */
	assert_int_equal(chdir(T.dir), 0);
	c = load_ok(CONF);
	assert_str(c->path, p);
	assert_str(c->dir, T.dir);
	assert_str(c->agent.state_dir, fmt("%s/st", T.dir));
	assert_str(c->agent.secrets_file, fmt("%s/sub/secrets.json", T.dir));
	assert_int_equal(chdir(T.cwd), 0);
}

/* cfg_load_text: the path names the text in messages and anchors
 * relative paths, even when no such file exists. */
static void test_load_text(void **state)
{
	(void)state;
	struct doc d;
	char *p = fmt("%s/virtual.json", T.dir);
	doc_init(&d, "{ \"agent\": { \"state_dir\": \"st\" }, \"web\": { \"session_timeout\": 61 } }");
	struct cfg_errors *e = new_errs();
	struct cfg *c = track(cfg_load_text(p, d.text, d.len, e));
	expect_n(e, 0);
	assert_non_null(c);
	assert_str(c->path, p);
	assert_str(c->agent.state_dir, fmt("%s/st", T.dir));
	assert_int_equal(c->web.session_timeout, 61);

	doc_init(&d, "{ \"agent\": {\n  \"event_history\": `0 } }");
	e = new_errs();
	c = track(cfg_load_text(p, d.text, d.len, e));
	assert_null(c);
	EXPECT_ERRS(e, p, &d, "agent.event_history: 0 is out of range (allowed 16..100000)");
}

/* ---- types, ranges, keys ------------------------------------------------------ */

/* The example of the documentation, to the column. */
static void test_error_format_example(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{\"group_vpn_server\": {\"groups\": [\n"
		"  {\"name\": \"g1\", \"group_id\": 1,\n"
		"    \"activation_time_delay\": `5}]}}\n");
	assert_int_equal(d.line[0], 3);
	assert_int_equal(d.col[0], 30);
	struct cfg_errors *e;
	assert_null(load(p, &e));
	expect_n(e, 1);
	assert_string_equal(e->msg[0], fmt("%s:3:30: group_vpn_server.groups[0].activation_time_delay: "
					   "5 is out of range (allowed 10..900)", p));
}

static void test_wrong_types(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{\n"
		"  \"agent\": { \"control_socket\": `5, \"log_level\": `5, \"event_history\": `\"abc\" },\n"
		"  \"snmp\": { \"enabled\": `1, \"listen\": [\"udp:161\", `5], \"v3_users\": `\"nms\",\n"
		"            \"trap_sinks\": `\"udp:127.0.0.1:162\" },\n"
		"  \"syslog\": { \"local\": `\"yes\", \"collectors\": `{} },\n"
		"  \"web\": { \"enabled\": `1.5, \"listen\": `8080, \"session_timeout\": `false },\n"
		"  \"group_vpn_server\": `[],\n"
		"  \"vpn_monitor\": { \"interval\": `\"10\",\n"
		"    \"threshold\": `\"0123456789012345678901234567890123456789xyz\",\n"
		"    \"vpns\": [`7, `[], `\"site-b\"] }\n"
		"}\n");
	LOAD_FAIL(p, &d,
		"agent.control_socket: expected a string, got number 5",
		"agent.log_level: expected a string, got number 5",
		"agent.event_history: expected an integer, got string \"abc\"",
		"snmp.enabled: expected true or false, got number 1",
		"snmp.listen[1]: expected a string, got number 5",
		"snmp.v3_users: expected an array of objects, got string \"nms\"",
		"snmp.trap_sinks: expected an array of strings, got string \"udp:127.0.0.1:162\"",
		"syslog.local: expected true or false, got string \"yes\"",
		"syslog.collectors: expected an array of objects, got an object",
		"web.enabled: expected true or false, got number 1.5",
		"web.listen: expected a string, got number 8080",
		"web.session_timeout: expected an integer, got false",
		"group_vpn_server: expected an object, got an array",
		"vpn_monitor.interval: expected an integer, got string \"10\"",
		"vpn_monitor.threshold: expected an integer, got string \"0123456789012345678901234567890123456...\"",
		"vpn_monitor.vpns[0]: expected an object, got number 7",
		"vpn_monitor.vpns[1]: expected an object, got an array",
		"vpn_monitor.vpns[2]: expected an object, got string \"site-b\"");
}

static void test_root_not_object(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d, "`[ {} ]\n");
	LOAD_FAIL(p, &d, "expected an object, got an array");
	/* a bare string is a valid JSON document, but not a config */
	p = put_conf(&d, "\n  `\"agent\"\n");
	LOAD_FAIL(p, &d, "expected an object, got string \"agent\"");
}

static void test_out_of_range(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{\n"
		"  \"agent\": { \"event_history\": `15 },\n"
		"  \"web\": { \"session_timeout\": `86401 },\n"
		"  \"group_vpn_server\": { \"groups\": [\n"
		"    { \"name\": \"g1\", \"group_id\": `0, \"activation_time_delay\": `901,\n"
		"      \"anti_replay_time_window\": `1.5 },\n"
		"    { \"name\": \"g2\", \"group_id\": `65536, \"activation_time_delay\": `-3,\n"
		"      \"anti_replay_time_window\": `100.25 } ] },\n"
		"  \"vpn_monitor\": { \"interval\": `1e9, \"threshold\": `0 }\n"
		"}\n");
	LOAD_FAIL(p, &d,
		"agent.event_history: 15 is out of range (allowed 16..100000)",
		"web.session_timeout: 86401 is out of range (allowed 10..86400)",
		"group_vpn_server.groups[0].group_id: 0 is out of range (allowed 1..65535)",
		"group_vpn_server.groups[0].activation_time_delay: 901 is out of range (allowed 10..900)",
		"group_vpn_server.groups[0].anti_replay_time_window: 1.5 is not an integer (allowed 60..360)",
		"group_vpn_server.groups[1].group_id: 65536 is out of range (allowed 1..65535)",
		"group_vpn_server.groups[1].activation_time_delay: -3 is out of range (allowed 10..900)",
		"group_vpn_server.groups[1].anti_replay_time_window: 100.25 is not an integer (allowed 60..360)",
		"vpn_monitor.interval: 1000000000 is out of range (allowed 2..3600)",
		"vpn_monitor.threshold: 0 is out of range (allowed 1..65536)");
}

/* The ends of each range are allowed; 1e3 and 20.0 are integers. */
static void test_range_limits_accepted(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{\n"
		"  \"agent\": { \"event_history\": 16 },\n"
		"  \"web\": { \"session_timeout\": 86400 },\n"
		"  \"group_vpn_server\": { \"groups\": [\n"
		"    { \"name\": \"g1\", \"group_id\": 1, \"activation_time_delay\": 10,\n"
		"      \"anti_replay_time_window\": 360 },\n"
		"    { \"name\": \"g2\", \"group_id\": 65535, \"activation_time_delay\": 900,\n"
		"      \"anti_replay_time_window\": 60 } ] },\n"
		"  \"vpn_monitor\": { \"interval\": 3600, \"threshold\": 65536 }\n"
		"}\n");
	struct cfg *c = load_ok(p);
	assert_int_equal(c->agent.event_history, 16);
	assert_int_equal(c->web.session_timeout, 86400);
	assert_int_equal(c->gks->groups[0].group_id, 1);
	assert_int_equal(c->gks->groups[1].group_id, 65535);
	assert_int_equal(c->gks->groups[1].activation_time_delay, 900);
	assert_int_equal(c->gks->groups[1].anti_replay_time_window, 60);
	assert_int_equal(c->mon->interval, 3600);
	assert_int_equal(c->mon->threshold, 65536);
	assert_int_equal(c->mon->n_vpns, 0);

	p = put_conf(&d, "{ \"agent\": { \"event_history\": 1e3 }, \"web\": { \"session_timeout\": 20.0e1 },"
			 " \"vpn_monitor\": { \"interval\": 2, \"threshold\": 1 } }");
	c = load_ok(p);
	assert_int_equal(c->agent.event_history, 1000);
	assert_int_equal(c->web.session_timeout, 200);
	assert_int_equal(c->mon->interval, 2);
	assert_int_equal(c->mon->threshold, 1);
}

static void test_unknown_keys(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{\n"
		"  `\"agnet\": {},\n"
		"  `\"Web\": {},\n"
		"  \"web\": { `\"listn\": \"127.0.0.1:8080\" },\n"
		"  \"group_vpn_server\": { \"groups\": [{ \"name\": \"g1\", \"group_id\": 1,\n"
		"    \"ipsec_sa\": [{ \"name\": \"sa1\", \"match\": { \"source\": \"10.0.0.0/8\",\n"
		"                   \"destination\": \"10.0.0.0/8\", `\"proto\": 6 } }] }] }\n"
		"}\n");
	LOAD_FAIL(p, &d,
		"agnet: unknown key (known keys in the top level: agent, snmp, syslog, web, "
		"group_vpn_server, vpn_monitor)",
		"Web: unknown key (known keys in the top level: agent, snmp, syslog, web, "
		"group_vpn_server, vpn_monitor)",
		"web.listn: unknown key (known keys in web: enabled, listen, cert_file, key_file, session_timeout)",
		"group_vpn_server.groups[0].ipsec_sa[0].match.proto: unknown key (known keys in match: "
		"source, destination, protocol, source_port, destination_port)");
}

static void test_bad_enum(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{\n"
		"  \"agent\": { \"log_level\": `\"verbose\" },\n"
		"  \"snmp\": { \"mode\": `\"proxy\",\n"
		"            \"communities\": [{ \"name\": \"public\", \"access\": `\"write\" }] },\n"
		"  \"group_vpn_server\": { \"groups\": [{ \"name\": \"g1\", \"group_id\": 1,\n"
		"    \"server_member_communication\": { \"communication_type\": `\"broadcast\",\n"
		"      \"encryption_algorithm\": `\"aes-512-cbc\", \"sig_hash_algorithm\": `\"SHA-256\" },\n"
		"    \"ipsec_sa\": [{ \"name\": \"sa1\", \"proposal\": `\"esp-null\",\n"
		"                   \"match\": { \"source\": \"10.0.0.0/8\", \"destination\": \"10.0.0.0/8\" } }] }] }\n"
		"}\n");
	LOAD_FAIL(p, &d,
		"agent.log_level: \"verbose\" is not one of: emerg, alert, crit, err, warning, notice, info, debug",
		"snmp.mode: \"proxy\" is not one of: master, agentx",
		"snmp.communities[0].access: \"write\" is not one of: ro, rw",
		"group_vpn_server.groups[0].server_member_communication.communication_type: "
		"\"broadcast\" is not one of: unicast, multicast",
		"group_vpn_server.groups[0].server_member_communication.encryption_algorithm: "
		"\"aes-512-cbc\" is not one of: 3des-cbc, aes-128-cbc, aes-192-cbc, aes-256-cbc, des-cbc",
		"group_vpn_server.groups[0].server_member_communication.sig_hash_algorithm: "
		"\"SHA-256\" is not one of: md5, sha1, sha-256, sha-384, sha-512",
		"group_vpn_server.groups[0].ipsec_sa[0].proposal: \"esp-null\" is not one of: esp-aes256-sha256, "
		"esp-aes256-sha1, esp-aes192-sha256, esp-aes128-sha256, esp-aes128-sha1, esp-3des-sha1, "
		"esp-3des-md5, esp-des-md5");

	/* facility: the message lists what is allowed */
	p = put_conf(&d, "{ \"syslog\": { \"facility\": `\"local8\" } }");
	struct cfg_errors *e;
	assert_null(load(p, &e));
	expect_n(e, 1);
	char *pre = fmt("%s:%u:%u: syslog.facility: \"local8\" is not one of: ", p, d.line[0], d.col[0]);
	assert_int_equal(strncmp(e->msg[0], pre, strlen(pre)), 0);
	assert_non_null(strstr(e->msg[0], "daemon"));
	assert_non_null(strstr(e->msg[0], "authpriv"));
	assert_non_null(strstr(e->msg[0], "local0"));
	assert_non_null(strstr(e->msg[0], "local7"));

	/* and every name maps to its value */
	p = put_conf(&d,
		"{ \"agent\": { \"log_level\": \"debug\" },\n"
		"  \"syslog\": { \"facility\": \"local3\" },\n"
		"  \"snmp\": { \"mode\": \"agentx\" } }");
	struct cfg *c = load_ok(p);
	assert_int_equal(c->agent.log_level, LOG_DEBUG);
	assert_int_equal(c->syslog.facility, LOG_LOCAL3 >> 3);
	assert_int_equal(c->snmp.mode, CFG_SNMP_AGENTX);
}

static void test_missing_required(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{\n"
		"  \"syslog\": { \"collectors\": [``{ \"port\": 514 }] },\n"
		"  \"group_vpn_server\": { \"groups\": [\n"
		"    ``{ \"activation_time_delay\": 20 },\n"
		"    { \"name\": \"g2\", \"group_id\": 2,\n"
		"      \"server_member_communication\": `{ \"communication_type\": \"unicast\",\n"
		"                                       \"sig_hash_algorithm\": \"sha1\" },\n"
		"      \"ipsec_sa\": [{ \"name\": \"sa1\", \"match\": `{ \"destination\": \"10.0.0.0/8\" } }],\n"
		"      \"members\": [`{ \"address\": \"192.0.2.1\" }] } ] },\n"
		"  \"vpn_monitor\": { \"vpns\": [`{ \"monitor\": true }] }\n"
		"}\n");
	LOAD_FAIL(p, &d,
		"syslog.collectors[0].transport: required key is missing",
		"syslog.collectors[0].host: required key is missing",
		"group_vpn_server.groups[0].name: required key is missing",
		"group_vpn_server.groups[0].group_id: required key is missing",
		"group_vpn_server.groups[1].server_member_communication.encryption_algorithm: "
		"required key is missing",
		"group_vpn_server.groups[1].ipsec_sa[0].match.source: required key is missing",
		"group_vpn_server.groups[1].members[0].psk: required key is missing",
		"vpn_monitor.vpns[0].name: required key is missing");
}

/* BUG B: "match" is documented as required, but an ipsec_sa without it
 * loads with match.source == NULL. */
static void test_ipsec_sa_match_required(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{\"group_vpn_server\": {\"groups\": [{\"name\": \"g1\", \"group_id\": 1,\n"
		"  \"ipsec_sa\": [`{\"name\": \"sa1\"}]}]}}\n");
	LOAD_FAIL(p, &d, "group_vpn_server.groups[0].ipsec_sa[0].match: required key is missing");
}

static void test_empty_string(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{ \"agent\": { \"pid_file\": `\"\" },\n"
		"  \"vpn_monitor\": { \"vpns\": [{ \"name\": `\"\" }] } }");
	LOAD_FAIL(p, &d,
		"agent.pid_file: must not be empty",
		"vpn_monitor.vpns[0].name: must not be empty");
}

/* ---- malformed JSON ------------------------------------------------------------ */

static void test_bad_json(void **state)
{
	(void)state;
	struct doc d;
	char *p;

	/* a missing comma */
	p = put_conf(&d,
		"{\n"
		"  \"agent\": { \"log_level\": \"info\" `\"event_history\": 20 }\n"
		"}\n");
	LOAD_FAIL(p, &d, "invalid JSON near '\"event_history\":'");

	/* a missing value */
	p = put_conf(&d, "{\n  \"web\": {\n    \"listen\": `}\n}\n");
	LOAD_FAIL(p, &d, "invalid JSON near '}'");

	/* trailing garbage */
	p = put_conf(&d, "{ \"agent\": {} }\n`}\n");
	LOAD_FAIL(p, &d, "invalid JSON: unexpected text after the document");
	p = put_conf(&d, "{}\n\n  `{}");
	LOAD_FAIL(p, &d, "invalid JSON: unexpected text after the document");

	/* truncated after a line break: the end of the file */
	p = put_conf(&d, "{\n  \"agent\": {\n`");
	LOAD_FAIL(p, &d, "invalid JSON: unexpected end of file");

	/* a NUL byte */
	doc_init(&d, "{ \"agent\":\n  {`#} }\n");
	d.text[d.off[0]] = '\0';
	p = write_file(CONF, d.text, d.len, 0644);
	LOAD_FAIL(p, &d, "invalid JSON: NUL byte in the file");

	/* empty, or only white space */
	p = put_conf(&d, "`");
	LOAD_FAIL(p, &d, "invalid JSON: unexpected end of file");
	p = put_conf(&d, " \t\r\n\n`");
	LOAD_FAIL(p, &d, "invalid JSON: unexpected end of file");

	/* no such file */
	p = fmt("%s/nope.json", T.dir);
	struct cfg_errors *e;
	assert_null(load(p, &e));
	expect_n(e, 1);
	assert_string_equal(e->msg[0], fmt("%s: cannot read: %s", p, strerror(ENOENT)));
}

/* BUG C: a file cut short in the middle of a line is reported at its last
 * character, as "near '5'", not at its end as "unexpected end of file". */
static void test_bad_json_truncated(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d, "{\n  \"agent\": { \"event_history\": 20`");
	LOAD_FAIL(p, &d, "invalid JSON: unexpected end of file");
	p = put_conf(&d, "{\n  \"agent\": { \"state_dir\": \"/var/lib/gvpn`");
	LOAD_FAIL(p, &d, "invalid JSON: unexpected end of file");
}

/* BUG D: cJSON takes any byte below 0x20 as white space; RFC 8259 does
 * not, so this file loads. The position scanner does not skip them either,
 * so an error in such a file is located at 1:1. */
static void test_bad_json_control_char(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d, "{\n  `\f\"agent\": { \"event_history\": 20 }\n}\n");
	struct cfg_errors *e;
	struct cfg *c = load(p, &e);
	expect_n(e, 1);
	char *pre = fmt("%s:2:3: invalid JSON", p);
	if (strncmp(e->msg[0], pre, strlen(pre)))
		FAIL("got \"%s\", wanted it to start with \"%s\"", e->msg[0], pre);
	assert_null(c);
}

static void test_duplicate_key(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{\n"
		"  \"web\": { \"listen\": \"127.0.0.1:8080\",\n"
		"           `\"listen\": \"127.0.0.1:8081\" },\n"
		"  \"agent\": {},\n"
		"  `\"web\": {}\n"
		"}\n");
	LOAD_FAIL(p, &d,
		"web.listen: duplicate key (first given at line 2)",
		"web: duplicate key (first given at line 2)");

	p = put_conf(&d,
		"{ \"group_vpn_server\": { \"groups\": [\n"
		"  { \"name\": \"g1\", \"group_id\": 1 },\n"
		"  { \"name\": \"g2\", \"group_id\": 2,\n"
		"    `\"name\": \"g3\" } ] } }\n");
	LOAD_FAIL(p, &d, "group_vpn_server.groups[1].name: duplicate key (first given at line 3)");
}

/* BUG G: a duplicate key stops the check; the other errors of the file
 * are not reported. */
static void test_duplicate_key_other_errors_reported(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{\n"
		"  \"agent\": { \"event_history\": `1 },\n"
		"  \"web\": { \"listen\": \"127.0.0.1:8080\", `\"listen\": \"127.0.0.1:8081\" }\n"
		"}\n");
	struct cfg_errors *e;
	assert_null(load(p, &e));
	char *range = fmt("%s:%u:%u: agent.event_history: 1 is out of range (allowed 16..100000)",
			  p, d.line[0], d.col[0]);
	char *dup = fmt("%s:%u:%u: web.listen: duplicate key (first given at line 3)", p, d.line[1], d.col[1]);
	if (e->n != 2 || !has_err(e, range) || !has_err(e, dup)) {
		dump_errs(e);
		FAIL("wanted both:\n#   %s\n#   %s", range, dup);
	}
}

/* ---- every error at once ------------------------------------------------------- */

static void test_many_errors_all_reported(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{\n"
		"  \"agent\": { \"event_history\": `10 },\n"
		"  \"snmp\": { \"mode\": `\"proxy\" },\n"
		"  \"web\": { \"listen\": `\"127.0.0.1\" },\n"
		"  \"vpn_monitor\": { \"vpns\": [{ \"name\": \"site-b\", \"rekey\": `true }] }\n"
		"}\n");
	LOAD_FAIL(p, &d,
		"agent.event_history: 10 is out of range (allowed 16..100000)",
		"snmp.mode: \"proxy\" is not one of: master, agentx",
		"web.listen: \"127.0.0.1\" is not ADDRESS:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)",
		"vpn_monitor.vpns[0].rekey: rekey cannot be used alone; turn on monitor too");
}

/* BUG F: errors come in schema order (and unknown keys before everything
 * else in their object), not in the order of the file. */
static void test_errors_in_document_order(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{\n"
		"  \"web\": { \"session_timeout\": `1 },\n"
		"  \"agent\": { \"event_history\": `1, `\"bogus\": true },\n"
		"  \"snmp\": { \"listen\": [`\"udp:127.0.0.1:99999\", \"udp:161\"] }\n"
		"}\n");
	LOAD_FAIL(p, &d,
		"web.session_timeout: 1 is out of range (allowed 10..86400)",
		"agent.event_history: 1 is out of range (allowed 16..100000)",
		"agent.bogus: unknown key (known keys in agent: state_dir, control_socket, secrets_file, "
		"pid_file, log_level, event_history)",
		"snmp.listen[0]: \"udp:127.0.0.1:99999\" is not a transport like udp:127.0.0.1:1161, "
		"udp:161 or tcp:[::1]:161");
}

/* Escaped quotes and brackets inside strings, a UTF-8 BOM and nested
 * arrays do not throw the positions off. */
static void test_positions(void **state)
{
	(void)state;
	struct doc d, s;
	put_secrets(&s, SECRETS_OK, 0600);
	char *p = put_conf(&d,
		"\xEF\xBB\xBF{\n"
		"  \"agent\": { \"state_dir\": \"a\\\"}]b\\\\\", \"pid_file\": \"{[,:\", \"event_history\": `1 },\n"
		"  \"group_vpn_server\": { \"groups\": [\n"
		"    { \"name\": \"g\\u0031\", \"group_id\": 1, \"members\": [] },\n"
		"    { \"name\": \"g2\", \"group_id\": 2, \"members\": [\n"
		"        { \"address\": \"192.0.2.1\", \"psk\": \"k1\" },\n"
		"        { \"address\": `\"192.0.2.x\", \"psk\": \"k1\" } ] } ] }\n"
		"}\n");
	LOAD_FAIL(p, &d,
		"agent.event_history: 1 is out of range (allowed 16..100000)",
		"group_vpn_server.groups[1].members[1].address: \"192.0.2.x\" is not an address or a prefix (e.g. 10.0.0.2 or 10.0.0.0/24)");
}

/* ---- cross-field checks ----------------------------------------------------------- */

static void test_vpn_options_need_monitor(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{ \"vpn_monitor\": { \"vpns\": [\n"
		"    { \"name\": \"a\", \"rekey\": `true },\n"
		"    { \"name\": \"b\", \"monitor\": false, \"optimized\": `true },\n"
		"    { \"name\": \"c\", \"monitor\": true, \"optimized\": true, \"rekey\": true },\n"
		"    { \"name\": \"d\", \"rekey\": `true, \"optimized\": `true } ] } }\n");
	LOAD_FAIL(p, &d,
		"vpn_monitor.vpns[0].rekey: rekey cannot be used alone; turn on monitor too",
		"vpn_monitor.vpns[1].optimized: optimized is an option of the VPN monitor; turn on monitor too",
		"vpn_monitor.vpns[3].rekey: rekey cannot be used alone; turn on monitor too",
		"vpn_monitor.vpns[3].optimized: optimized is an option of the VPN monitor; turn on monitor too");

	p = put_conf(&d,
		"{ \"vpn_monitor\": { \"vpns\": [\n"
		"    { \"name\": \"c\", \"monitor\": true, \"optimized\": true, \"rekey\": true,\n"
		"      \"source_interface\": \"eth0.100\", \"destination_ip\": \"2001:db8::2\" },\n"
		"    { \"name\": \"e\", \"rekey\": false, \"optimized\": false } ] } }\n");
	struct cfg *c = load_ok(p);
	assert_int_equal(c->mon->n_vpns, 2);
	assert_int_equal(c->mon->vpns[0].optimized, 1);
	assert_str(c->mon->vpns[0].destination_ip, "2001:db8::2");
	assert_int_equal(c->mon->vpns[1].monitor, 0);
	assert_null(c->mon->vpns[1].source_interface);
}

static void test_duplicate_group_id_and_name(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{ \"group_vpn_server\": { \"groups\": [\n"
		"    { \"name\": \"g1\", \"group_id\": 7 },\n"
		"    { \"name\": \"g2\", \"group_id\": `7 },\n"
		"    { \"name\": `\"g1\", \"group_id\": 8 } ] } }\n");
	LOAD_FAIL(p, &d,
		"group_vpn_server.groups[1].group_id: 7 is already used by groups[0]",
		"group_vpn_server.groups[2].name: \"g1\" is already used by groups[0]");
}

static void test_duplicate_names(void **state)
{
	(void)state;
	struct doc d, s;
	put_secrets(&s, SECRETS_OK, 0600);
	char *p = put_conf(&d,
		"{ \"agent\": {},\n"
		"  \"snmp\": { \"v3_users\": [{ \"name\": \"nms\" }, { \"name\": `\"nms\", \"access\": \"rw\" }] },\n"
		"  \"group_vpn_server\": { \"groups\": [{ \"name\": \"g1\", \"group_id\": 1, \"ipsec_sa\": [\n"
		"    { \"name\": \"sa1\", \"match\": { \"source\": \"10.0.0.0/8\", \"destination\": \"10.0.0.0/8\" } },\n"
		"    { \"name\": `\"sa1\", \"match\": { \"source\": \"10.1.0.0/16\", \"destination\": \"10.0.0.0/8\" } }\n"
		"  ] }] },\n"
		"  \"vpn_monitor\": { \"vpns\": [{ \"name\": \"site-b\" }, { \"name\": `\"site-b\", \"monitor\": true }] }\n"
		"}\n");
	LOAD_FAIL(p, &d,
		"snmp.v3_users[1].name: \"nms\" is already used by v3_users[0]",
		"group_vpn_server.groups[0].ipsec_sa[1].name: \"sa1\" is already used by ipsec_sa[0]",
		"vpn_monitor.vpns[1].name: \"site-b\" is already used by vpns[0]");
}

#define SMC_UNICAST "\"communication_type\": \"unicast\", \"encryption_algorithm\": \"aes-128-cbc\", " \
	"\"sig_hash_algorithm\": \"sha-256\""
#define MATCH "\"match\": { \"source\": \"10.0.0.0/8\", \"destination\": \"10.0.0.0/8\" }"

/* What gdoid cannot read is refused under wire_profile gdoid, each where
 * it is written; a group it can read loads with its settings. */
static void test_gdoid_profile(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{ \"group_vpn_server\": { \"groups\": [{ \"name\": \"g1\", \"group_id\": 1,\n"
		"    \"wire_profile\": \"gdoid\",\n"
		"    \"server_member_communication\": { \"communication_type\": `\"unicast\",\n"
		"      \"encryption_algorithm\": `\"aes-256-cbc\", \"sig_hash_algorithm\": \"sha1\" },\n"
		"    \"ipsec_sa\": [ { \"name\": \"a\", \"match\": { \"source\": `\"2001:db8::/32\",\n"
		"      \"destination\": `\"239.1.1.0/24\" } } ] }] } }\n");
	LOAD_FAIL(p, &d,
		  "group_vpn_server.groups[0].server_member_communication.communication_type: wire_profile gdoid: "
		  "gdoid members take rekeys by multicast only and send no ACKs; use multicast",
		  "group_vpn_server.groups[0].server_member_communication.encryption_algorithm: wire_profile gdoid: "
		  "gdoid takes AES KEKs of 128 bits only; use aes-128-cbc or 3des-cbc",
		  "group_vpn_server.groups[0].ipsec_sa[0].match.source: wire_profile gdoid: gdoid reads IPv4 TEK "
		  "sources only",
		  "group_vpn_server.groups[0].ipsec_sa[0].match.destination: wire_profile gdoid: gdoid reads a TEK "
		  "destination as one IPv4 address (a.b.c.d or a.b.c.d/32)");

	p = put_conf(&d,
		"{ \"group_vpn_server\": { \"groups\": [{ \"name\": \"g1\", \"group_id\": 1,\n"
		"    \"wire_profile\": `\"cisco\", \"key_id_byte_order\": `\"middle\",\n"
		"    \"pull_ids\": [ \"10.1.1.1\", `\"10.1.1.9-10.1.1.1\", `\"a b\" ] }] } }\n");
	LOAD_FAIL(p, &d,
		  "group_vpn_server.groups[0].wire_profile: \"cisco\" is not one of: rfc6407, gdoid",
		  "group_vpn_server.groups[0].key_id_byte_order: \"middle\" is not one of: big-endian, little-endian",
		  "group_vpn_server.groups[0].pull_ids[1]: \"10.1.1.9-10.1.1.1\" is not an IPv4 address, prefix "
		  "(10.0.0.0/24), range (10.0.0.1-10.0.0.9) or name (group@example.net)",
		  "group_vpn_server.groups[0].pull_ids[2]: \"a b\" is not an IPv4 address, prefix (10.0.0.0/24), "
		  "range (10.0.0.1-10.0.0.9) or name (group@example.net)");

	p = put_conf(&d,
		"{ \"group_vpn_server\": { \"groups\": [{ \"name\": \"g1\", \"group_id\": 1,\n"
		"    \"wire_profile\": \"gdoid\", \"key_id_byte_order\": \"little-endian\",\n"
		"    \"pull_ids\": [ \"239.1.1.1\", \"10.0.0.0/8\", \"10.1.1.1-10.1.1.9\", \"grp@example.net\" ],\n"
		"    \"server_member_communication\": { \"communication_type\": \"multicast\",\n"
		"      \"multicast_group\": \"239.77.1.1\",\n"
		"      \"encryption_algorithm\": \"aes-128-cbc\", \"sig_hash_algorithm\": \"sha1\" },\n"
		"    \"ipsec_sa\": [ { \"name\": \"a\", \"match\": { \"source\": \"10.77.0.0/24\",\n"
		"      \"destination\": \"239.1.1.1/32\" } } ] }] } }\n");
	struct cfg *c = load_ok(p);
	const struct cfg_group *g = &c->gks->groups[0];
	assert_int_equal(g->wire_profile, CFG_WIRE_GDOID);
	assert_int_equal(g->key_id_byte_order, CFG_LITTLE_ENDIAN);
	assert_int_equal(g->selector_byte_order, CFG_LITTLE_ENDIAN); /* the gdoid profile's default */
	assert_int_equal(g->n_pull_ids, 4);
	assert_str(g->pull_ids[3], "grp@example.net");

	p = put_conf(&d, "{ \"group_vpn_server\": { \"groups\": [{ \"name\": \"g1\", \"group_id\": 1 }] } }\n");
	c = load_ok(p);
	assert_int_equal(c->gks->groups[0].wire_profile, CFG_WIRE_RFC6407);
	assert_int_equal(c->gks->groups[0].key_id_byte_order, CFG_BIG_ENDIAN);
	assert_int_equal(c->gks->groups[0].selector_byte_order, CFG_BIG_ENDIAN);
	assert_int_equal(c->gks->groups[0].n_pull_ids, 0);
}

static void test_multicast_needs_group(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{ \"group_vpn_server\": { \"groups\": [{ \"name\": \"g1\", \"group_id\": 1,\n"
		"    \"server_member_communication\": { \"communication_type\": `\"multicast\",\n"
		"      \"encryption_algorithm\": \"aes-128-cbc\", \"sig_hash_algorithm\": \"sha-256\" } }] } }\n");
	LOAD_FAIL(p, &d, "group_vpn_server.groups[0].server_member_communication: "
			 "communication_type multicast needs multicast_group");

	p = put_conf(&d,
		"{ \"group_vpn_server\": { \"groups\": [{ \"name\": \"g1\", \"group_id\": 1,\n"
		"    \"server_member_communication\": { \"communication_type\": \"multicast\",\n"
		"      \"encryption_algorithm\": \"3des-cbc\", \"sig_hash_algorithm\": \"sha-512\",\n"
		"      \"multicast_group\": \"239.1.1.1\", \"multicast_interface\": \"eth0\" } }] } }\n");
	struct cfg *c = load_ok(p);
	const struct cfg_smc *smc = c->gks->groups[0].smc;
	assert_non_null(smc);
	assert_int_equal(smc->communication_type, CFG_COMM_MULTICAST);
	assert_int_equal(smc->encryption_algorithm, CFG_ENC_3DES_CBC);
	assert_int_equal(smc->sig_hash_algorithm, CFG_HASH_SHA512);
	assert_str(smc->multicast_group, "239.1.1.1");
	assert_str(smc->multicast_interface, "eth0");
	assert_int_equal(smc->multicast_port, 848);
	assert_int_equal(smc->multicast_ttl, 1);
	assert_str(c->gks->listen, "0.0.0.0:848");
}

static void test_lifetime_vs_activation_delay(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{ \"group_vpn_server\": { \"groups\": [\n"
		"  { \"name\": \"g1\", \"group_id\": 1, \"activation_time_delay\": 100,\n"
		"    \"server_member_communication\": { " SMC_UNICAST ", \"lifetime_seconds\": `400 },\n"
		"    \"ipsec_sa\": [{ \"name\": \"sa1\", \"lifetime_seconds\": `400, " MATCH " }] },\n"
		"  { \"name\": \"g2\", \"group_id\": 2, \"activation_time_delay\": 900,\n"
		"    \"server_member_communication\": `{ " SMC_UNICAST " } },\n"
		"  { \"name\": \"g3\", \"group_id\": 3, \"activation_time_delay\": 100,\n"
		"    \"server_member_communication\": { " SMC_UNICAST ", \"lifetime_seconds\": 401 },\n"
		"    \"ipsec_sa\": [{ \"name\": \"sa1\", \"lifetime_seconds\": 401, " MATCH " }] } ] } }\n");
	LOAD_FAIL(p, &d,
		"group_vpn_server.groups[0].server_member_communication.lifetime_seconds: KEK lifetime_seconds "
		"400 leaves no rekey interval: it must exceed 4 x activation_time_delay (400)",
		"group_vpn_server.groups[0].ipsec_sa[0].lifetime_seconds: TEK lifetime_seconds "
		"400 leaves no rekey interval: it must exceed 4 x activation_time_delay (400)",
		"group_vpn_server.groups[1].server_member_communication.lifetime_seconds: KEK lifetime_seconds "
		"3600 leaves no rekey interval: it must exceed 4 x activation_time_delay (3600)");

	p = put_conf(&d,
		"{ \"group_vpn_server\": { \"groups\": [\n"
		"  { \"name\": \"g3\", \"group_id\": 3, \"activation_time_delay\": 100,\n"
		"    \"server_member_communication\": { " SMC_UNICAST ", \"lifetime_seconds\": 401 },\n"
		"    \"ipsec_sa\": [{ \"name\": \"sa1\", \"lifetime_seconds\": 401, " MATCH " }] } ] } }\n");
	struct cfg *c = load_ok(p);
	assert_int_equal(c->gks->groups[0].smc->lifetime_seconds, 401);
	assert_int_equal(c->gks->groups[0].ipsec_sa[0].lifetime_seconds, 401);
}

/* The push settings: defaults, and signing_key resolved against the
 * config's directory like every other path. */
static void test_push_defaults(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{ \"group_vpn_server\": { \"groups\": [\n"
		"  { \"name\": \"g1\", \"group_id\": 1, \"server_member_communication\": { " SMC_UNICAST " } } ] } }\n");
	struct cfg *c = load_ok(p);
	assert_null(c->gks->signing_key);
	const struct cfg_smc *smc = c->gks->groups[0].smc;
	assert_int_equal(smc->heartbeat, 300);
	assert_int_equal(smc->membership_rekey, 1);
	assert_int_equal(smc->membership_rekey_delay, 10);
	assert_int_equal(smc->number_of_retransmission, 2);
	assert_int_equal(smc->retransmission_period, 10);

	p = put_conf(&d, "{ \"group_vpn_server\": { \"signing_key\": \"keys/gks.pem\", \"groups\": [] } }\n");
	assert_int_equal(chdir("/"), 0);
	c = load_ok(p);
	assert_str(c->gks->signing_key, fmt("%s/keys/gks.pem", T.dir));
	assert_int_equal(chdir(T.cwd), 0);
	p = put_conf(&d, "{ \"group_vpn_server\": { \"signing_key\": \"/etc/gvpn-agent/gks.pem\" } }\n");
	c = load_ok(p);
	assert_str(c->gks->signing_key, "/etc/gvpn-agent/gks.pem");
}

static void test_push_ranges(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{ \"group_vpn_server\": { \"signing_key\": `\"\", \"groups\": [\n"
		"  { \"name\": \"g1\", \"group_id\": 1, \"server_member_communication\": { " SMC_UNICAST ",\n"
		"      \"heartbeat\": `1, \"membership_rekey\": `1, \"membership_rekey_delay\": `0 } },\n"
		"  { \"name\": \"g2\", \"group_id\": 2, \"server_member_communication\": { " SMC_UNICAST ",\n"
		"      \"heartbeat\": `86401, \"membership_rekey\": `\"false\", \"membership_rekey_delay\": `3601 } } ] } }\n");
	LOAD_FAIL(p, &d,
		"group_vpn_server.signing_key: must not be empty",
		"group_vpn_server.groups[0].server_member_communication.heartbeat: 1 is out of range (allowed 2..86400)",
		"group_vpn_server.groups[0].server_member_communication.membership_rekey: expected true or false, "
		"got number 1",
		"group_vpn_server.groups[0].server_member_communication.membership_rekey_delay: "
		"0 is out of range (allowed 1..3600)",
		"group_vpn_server.groups[1].server_member_communication.heartbeat: "
		"86401 is out of range (allowed 2..86400)",
		"group_vpn_server.groups[1].server_member_communication.membership_rekey: expected true or false, "
		"got string \"false\"",
		"group_vpn_server.groups[1].server_member_communication.membership_rekey_delay: "
		"3601 is out of range (allowed 1..3600)");

	p = put_conf(&d,
		"{ \"group_vpn_server\": { \"groups\": [\n"
		"  { \"name\": \"g1\", \"group_id\": 1, \"server_member_communication\": { " SMC_UNICAST ",\n"
		"      \"heartbeat\": 2, \"membership_rekey\": false, \"membership_rekey_delay\": 1 } },\n"
		"  { \"name\": \"g2\", \"group_id\": 2, \"server_member_communication\": { " SMC_UNICAST ",\n"
		"      \"heartbeat\": 86400, \"membership_rekey\": true, \"membership_rekey_delay\": 3600 } } ] } }\n");
	struct cfg *c = load_ok(p);
	const struct cfg_smc *s1 = c->gks->groups[0].smc, *s2 = c->gks->groups[1].smc;
	assert_int_equal(s1->heartbeat, 2);
	assert_int_equal(s1->membership_rekey, 0);
	assert_int_equal(s1->membership_rekey_delay, 1);
	assert_int_equal(s2->heartbeat, 86400);
	assert_int_equal(s2->membership_rekey, 1);
	assert_int_equal(s2->membership_rekey_delay, 3600);
}

/* Notification targets and switches. */
static void test_snmp_notifications(void **state)
{
	(void)state;
	struct doc d, sd;
	put_secrets(&sd, SECRETS_OK, 0600);
	char *p = put_conf(&d,
		"{ \"snmp\": { \"v3_users\": [ { \"name\": \"nms\" } ],\n"
		"  \"notification_targets\": [ `{ \"address\": \"udp:127.0.0.1:162\" },\n"
		"    { \"address\": \"udp:127.0.0.1:162\", \"user\": `\"nobody\" },\n"
		"    `{ \"address\": \"udp:127.0.0.1:162\", \"version\": \"v2c\", \"user\": `\"nms\" },\n"
		"    { \"address\": \"udp:127.0.0.1:162\", \"user\": \"nms\", \"community\": `\"c\" },\n"
		"    { \"address\": \"udp:127.0.0.1:162\", \"type\": `\"notify\", \"user\": \"nms\" },\n"
		"    { \"address\": \"udp:127.0.0.1:162\", \"version\": `\"v1\", \"user\": \"nms\" },\n"
		"    { \"address\": `\"127.0.0.1\", \"user\": \"nms\" },\n"
		"    `{ \"user\": \"nms\" },\n"
		"    { \"address\": \"udp:127.0.0.1:162\", \"user\": \"nms\", \"timeout\": `5, \"queue\": `10 },\n"
		"    { \"address\": \"udp:127.0.0.1:162\", \"user\": \"nms\", \"type\": \"inform\", \"retries\": `21,\n"
		"      \"timeout\": `0, \"queue\": `0 } ],\n"
		"  \"notifications\": { \"rekey_sent\": `1, `\"member_left\": true } } }\n");
	LOAD_FAIL(p, &d,
		"snmp.notification_targets[0]: an SNMPv3 target needs \"user\": one of snmp.v3_users",
		"snmp.notification_targets[1].user: \"nobody\" is not one of snmp.v3_users",
		"snmp.notification_targets[2]: an SNMPv2c target needs \"community\" (or a configured community)",
		"snmp.notification_targets[2].user: only SNMPv3 targets have a user",
		"snmp.notification_targets[3].community: only SNMPv2c targets have a community (\"version\": \"v2c\")",
		"snmp.notification_targets[4].type: \"notify\" is not one of: trap, inform",
		"snmp.notification_targets[5].version: \"v1\" is not one of: v3, v2c",
		"snmp.notification_targets[6].address: \"127.0.0.1\" is not a transport like udp:127.0.0.1:1161, "
		"udp:161 or tcp:[::1]:161",
		"snmp.notification_targets[7].address: required key is missing",
		"snmp.notification_targets[8].timeout: only informs are queued and retried (\"type\": \"inform\"); "
		"traps go out at once",
		"snmp.notification_targets[8].queue: only informs are queued and retried (\"type\": \"inform\"); "
		"traps go out at once",
		"snmp.notification_targets[9].retries: 21 is out of range (allowed 0..20)",
		"snmp.notification_targets[9].timeout: 0 is out of range (allowed 1..300)",
		"snmp.notification_targets[9].queue: 0 is out of range (allowed 1..100000)",
		"snmp.notifications.rekey_sent: expected true or false, got number 1",
		"snmp.notifications.member_left: unknown key (known keys in snmp.notifications: member_registered, "
		"member_removed, rekey_sent, kek_replaced, tek_replaced, tunnel_up, tunnel_down, tunnel_rekey_result)");

	p = put_conf(&d,
		"{ \"snmp\": { \"communities\": [ { \"name\": \"c1\" } ], \"v3_users\": [ { \"name\": \"nms\" } ],\n"
		"  \"trap_sinks\": [ \"udp:127.0.0.1:1162\" ],\n"
		"  \"notification_targets\": [ { \"address\": \"udp:127.0.0.1:162\", \"version\": \"v2c\", \"type\": \"inform\" },\n"
		"    { \"address\": \"udp:[::1]:162\", \"user\": \"nms\" },\n"
		"    { \"address\": \"udp:127.0.0.1:163\", \"version\": \"v2c\", \"community\": \"traps\", \"type\": \"trap\" },\n"
		"    { \"address\": \"udp:127.0.0.1:164\", \"user\": \"nms\", \"type\": \"inform\", \"timeout\": 3, \"retries\": 0,\n"
		"      \"queue\": 7 } ],\n"
		"  \"notifications\": { \"tunnel_up\": false, \"rekey_sent\": true } } }\n");
	struct cfg *c = load_ok(p);
	assert_int_equal(c->snmp.n_trap_sinks, 1);
	assert_int_equal(c->snmp.n_targets, 4);
	assert_int_equal(c->snmp.targets[0].v2c, 1);
	assert_int_equal(c->snmp.targets[0].inform, 1);
	assert_null(c->snmp.targets[0].community);
	assert_str(c->snmp.targets[1].address, "udp:[::1]:162");
	assert_int_equal(c->snmp.targets[1].v2c, 0);
	assert_int_equal(c->snmp.targets[1].inform, 0);
	assert_str(c->snmp.targets[1].user, "nms");
	assert_int_equal(c->snmp.targets[2].inform, 0);
	assert_str(c->snmp.targets[2].community, "traps");
	/* Informs: Net-SNMP's defaults (1 s, 5 retries), a queue of 100. */
	assert_int_equal(c->snmp.targets[0].timeout, 1);
	assert_int_equal(c->snmp.targets[0].retries, 5);
	assert_int_equal(c->snmp.targets[0].queue, 100);
	assert_int_equal(c->snmp.targets[3].timeout, 3);
	assert_int_equal(c->snmp.targets[3].retries, 0);
	assert_int_equal(c->snmp.targets[3].queue, 7);
	assert_int_equal(c->snmp.notify[CFG_NOTIFY_TUNNEL_UP], 0);
	assert_int_equal(c->snmp.notify[CFG_NOTIFY_REKEY_SENT], 1);
	for (int k = 0; k < CFG_NOTIFY_COUNT; k++)
		if (k != CFG_NOTIFY_TUNNEL_UP)
			assert_int_equal(c->snmp.notify[k], 1);
	assert_str(cfg_notify_names[CFG_NOTIFY_TUNNEL_REKEY_RESULT], "tunnel_rekey_result");
	assert_null(cfg_notify_names[CFG_NOTIFY_COUNT]);
}

/* BUG I (1): a lifetime that is out of range is then also reported as
 * "lifetime_seconds 0 leaves no rekey interval", a value never written. */
static void test_lifetime_range_error_alone(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{ \"group_vpn_server\": { \"groups\": [\n"
		"  { \"name\": \"g1\", \"group_id\": 1,\n"
		"    \"server_member_communication\": { " SMC_UNICAST ", \"lifetime_seconds\": `100 },\n"
		"    \"ipsec_sa\": [{ \"name\": \"sa1\", \"lifetime_seconds\": `100, " MATCH " }] } ] } }\n");
	LOAD_FAIL(p, &d,
		"group_vpn_server.groups[0].server_member_communication.lifetime_seconds: "
		"100 is out of range (allowed 300..86400)",
		"group_vpn_server.groups[0].ipsec_sa[0].lifetime_seconds: 100 is out of range (allowed 180..86400)");
}

/* BUG I (2): an invalid multicast_group is then also reported missing. */
static void test_multicast_bad_group_error_alone(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{ \"group_vpn_server\": { \"groups\": [{ \"name\": \"g1\", \"group_id\": 1,\n"
		"    \"server_member_communication\": { \"communication_type\": \"multicast\",\n"
		"      \"encryption_algorithm\": \"aes-128-cbc\", \"sig_hash_algorithm\": \"sha-256\",\n"
		"      \"multicast_group\": `\"239.1.1\" } }] } }\n");
	LOAD_FAIL(p, &d, "group_vpn_server.groups[0].server_member_communication.multicast_group: "
			 "\"239.1.1\" is not an IPv4 or IPv6 address");
}

/* BUG I (3): an invalid listen entry is then also reported as "listen is
 * empty". */
static void test_snmp_listen_bad_error_alone(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d, "{ \"snmp\": { \"listen\": [`\"udp:localhost:161\"] } }\n");
	LOAD_FAIL(p, &d, "snmp.listen[0]: \"udp:localhost:161\" is not a transport like "
			 "udp:127.0.0.1:1161, udp:161 or tcp:[::1]:161");
}

static void test_snmp_listen_empty(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d, "{ \"snmp\": { \"listen\": `[] } }\n");
	LOAD_FAIL(p, &d, "snmp: listen is empty; a master agent needs at least one address");

	p = put_conf(&d, "{ \"snmp\": { \"mode\": \"agentx\", \"listen\": [] } }\n");
	struct cfg *c = load_ok(p);
	assert_int_equal(c->snmp.n_listen, 0);
	p = put_conf(&d, "{ \"snmp\": { \"enabled\": false, \"listen\": [] } }\n");
	c = load_ok(p);
	assert_int_equal(c->snmp.enabled, 0);

	p = put_conf(&d,
		"{ \"snmp\": { \"listen\": [\"udp6:[::1]:161\", \"tcp:161\", \"161\", \"udp:127.0.0.1:1161\"],\n"
		"            \"trap_sinks\": [`\"udp:localhost:162\", \"udp:[2001:db8::9]:162\"] } }\n");
	LOAD_FAIL(p, &d, "snmp.trap_sinks[0]: \"udp:localhost:162\" is not a transport like "
			 "udp:127.0.0.1:1161, udp:161 or tcp:[::1]:161");
}

static void test_tls_collector_needs_ca(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{ \"syslog\": { \"collectors\": [\n"
		"    { \"transport\": `\"tls\", \"host\": \"logs.example.net\" },\n"
		"    { \"transport\": \"tls\", \"host\": \"logs.example.net\", \"ca_file\": \"/etc/ssl/ca.pem\" },\n"
		"    { \"transport\": \"tcp\", \"host\": \"192.0.2.9\" } ] } }\n");
	LOAD_FAIL(p, &d, "syslog.collectors[0]: transport tls needs ca_file "
			 "(the CA that signed the collector's certificate)");
}

static void test_web_plain_http_only_on_loopback(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d, "{ \"web\": { \"listen\": `\"0.0.0.0:8080\" } }\n");
	LOAD_FAIL(p, &d, "web.listen: \"0.0.0.0:8080\" is not a loopback address; plain HTTP is allowed "
			 "only on loopback (set cert_file and key_file for HTTPS)");
	p = put_conf(&d, "{ \"web\": { \"listen\": `\"[2001:db8::1]:80\" } }\n");
	LOAD_FAIL(p, &d, "web.listen: \"[2001:db8::1]:80\" is not a loopback address; plain HTTP is allowed "
			 "only on loopback (set cert_file and key_file for HTTPS)");

	static const char *const ok[] = {
		"{ \"web\": { \"listen\": \"127.0.0.2:8080\" } }",
		"{ \"web\": { \"listen\": \"[::1]:8080\" } }",
		"{ \"web\": { \"listen\": \"0.0.0.0:8443\", \"cert_file\": \"w.pem\", \"key_file\": \"w.key\" } }",
		"{ \"web\": { \"enabled\": false, \"listen\": \"0.0.0.0:8080\" } }",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		p = put_conf(&d, ok[i]);
		load_ok(p);
	}
}

static void test_web_cert_needs_key(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d, "{ \"web\": `{ \"listen\": \"0.0.0.0:8443\", \"cert_file\": \"web.pem\" } }\n");
	LOAD_FAIL(p, &d, "web: cert_file and key_file go together (HTTPS needs both)");
	p = put_conf(&d, "{\n  \"web\": `{ \"key_file\": \"web.key\" } }\n");
	LOAD_FAIL(p, &d, "web: cert_file and key_file go together (HTTPS needs both)");
}

static void test_member_needs_address_or_identity(void **state)
{
	(void)state;
	struct doc d, s;
	put_secrets(&s, SECRETS_OK, 0600);
	char *p = put_conf(&d,
		"{ \"agent\": {}, \"group_vpn_server\": { \"groups\": [{ \"name\": \"g1\", \"group_id\": 1,\n"
		"    \"members\": [`{ \"psk\": \"k1\" },\n"
		"                { \"identity\": \"member-2@example.net\", \"psk\": \"k1\" }] }] } }\n");
	LOAD_FAIL(p, &d, "group_vpn_server.groups[0].members[0]: a member needs an address or an identity");
}

/* BUG E: "address": null counts as given, so the check is skipped. */
static void test_member_null_address(void **state)
{
	(void)state;
	struct doc d, s;
	put_secrets(&s, SECRETS_OK, 0600);
	char *p = put_conf(&d,
		"{ \"agent\": {}, \"group_vpn_server\": { \"groups\": [{ \"name\": \"g1\", \"group_id\": 1,\n"
		"    \"members\": [`{ \"address\": null, \"psk\": \"k1\" }] }] } }\n");
	LOAD_FAIL(p, &d, "group_vpn_server.groups[0].members[0]: a member needs an address or an identity");
}

/* ---- addresses ---------------------------------------------------------------------- */

static void test_bad_addresses(void **state)
{
	(void)state;
	struct doc d, s;
	put_secrets(&s, SECRETS_OK, 0600);
	char *p = put_conf(&d,
		"{\n"
		"  \"agent\": {},\n"
		"  \"web\": { \"listen\": `\"127.0.0.1\" },\n"
		"  \"group_vpn_server\": { \"listen\": `\"0.0.0.0:0\",\n"
		"    \"groups\": [{ \"name\": \"g1\", \"group_id\": 1,\n"
		"      \"ipsec_sa\": [\n"
		"        { \"name\": \"sa1\", \"match\": { \"source\": `\"10.0.0.0/33\", \"destination\": `\"10.0.0.300/8\" } },\n"
		"        { \"name\": \"sa2\", \"match\": { \"source\": `\"10.0.0.0\", \"destination\": `\"2001:db8::/129\" } }],\n"
		"      \"members\": [{ \"address\": `\"192.0.2.256\", \"psk\": \"k1\" }] }] },\n"
		"  \"vpn_monitor\": { \"vici_socket\": `\"unix://run/charon.vici\", \"vpns\": [\n"
		"    { \"name\": \"a\", \"destination_ip\": `\"198.51.100.300\" },\n"
		"    { \"name\": \"b\", \"source_interface\": `\"a-very-long-ifname0\", \"destination_ip\": `\"example.net\" }] }\n"
		"}\n");
	LOAD_FAIL(p, &d,
		"web.listen: \"127.0.0.1\" is not ADDRESS:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)",
		"group_vpn_server.listen: \"0.0.0.0:0\" is not ADDRESS:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)",
		"group_vpn_server.groups[0].ipsec_sa[0].match.source: \"10.0.0.0/33\" is not an address prefix "
		"(e.g. 10.0.0.0/8)",
		"group_vpn_server.groups[0].ipsec_sa[0].match.destination: \"10.0.0.300/8\" is not an address "
		"prefix (e.g. 10.0.0.0/8)",
		"group_vpn_server.groups[0].ipsec_sa[1].match.source: \"10.0.0.0\" is not an address prefix "
		"(e.g. 10.0.0.0/8)",
		"group_vpn_server.groups[0].ipsec_sa[1].match.destination: \"2001:db8::/129\" is not an address "
		"prefix (e.g. 10.0.0.0/8)",
		"group_vpn_server.groups[0].members[0].address: \"192.0.2.256\" is not an address or a prefix (e.g. 10.0.0.2 or 10.0.0.0/24)",
		"vpn_monitor.vici_socket: \"unix://run/charon.vici\" is not a unix:///absolute/path socket URI",
		"vpn_monitor.vpns[0].destination_ip: \"198.51.100.300\" is not an IPv4 or IPv6 address",
		"vpn_monitor.vpns[1].source_interface: \"a-very-long-ifname0\" is not an interface name "
		"(at most 15 characters, no '/' or spaces)",
		"vpn_monitor.vpns[1].destination_ip: \"example.net\" is not an IPv4 or IPv6 address");
}

static void test_web_listen_forms(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:", "127.0.0.1:80x",
		"localhost:8080", ":8080", "::1:8080", "[::1]8080", "[::1]", "[]:80", "[::1:8080",
		"1.2.3.4.5:80",
	};
	static const char *const good[] = { "[::1]:8080", "127.0.0.1:65535", "127.0.0.1:1", "[::ffff:127.0.0.1]:80" };
	struct doc d;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *p = put_conf(&d, fmt("{ \"web\": { \"listen\": `\"%s\" } }", bad[i]));
		LOAD_FAIL(p, &d, fmt("web.listen: \"%s\" is not ADDRESS:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)",
				     bad[i]));
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *p = put_conf(&d, fmt("{ \"web\": { \"listen\": \"%s\", \"cert_file\": \"c\", \"key_file\": \"k\" } }",
					   good[i]));
		struct cfg *c = load_ok(p);
		assert_str(c->web.listen, good[i]);
	}
}

static void test_address_helpers(void **state)
{
	(void)state;
	char host[64];
	long port = 0;
	assert_int_equal(cfg_parse_hostport("[::1]:8080", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 8080);
	assert_int_equal(cfg_parse_hostport("192.0.2.1:848", host, sizeof(host), &port), 0);
	assert_string_equal(host, "192.0.2.1");
	assert_int_equal(port, 848);
	assert_int_equal(cfg_parse_hostport("192.0.2.1:848", host, 9, &port), -1); /* host too long for buf */
	assert_int_equal(cfg_parse_hostport("127.0.0.1", host, sizeof(host), &port), -1);
	assert_int_equal(cfg_parse_hostport("127.0.0.1:0", host, sizeof(host), &port), -1);

	static const char *const ip_ok[] = { "127.0.0.1", "0.0.0.0", "::1", "2001:db8::1", "::ffff:192.0.2.1" };
	static const char *const ip_bad[] = { "", "1.2.3", "256.1.1.1", "1.2.3.4/32", "example.net", "::g", " 1.2.3.4" };
	for (size_t i = 0; i < sizeof(ip_ok) / sizeof(ip_ok[0]); i++)
		assert_true(cfg_valid_ip(ip_ok[i]));
	for (size_t i = 0; i < sizeof(ip_bad) / sizeof(ip_bad[0]); i++)
		assert_false(cfg_valid_ip(ip_bad[i]));

	static const char *const pfx_ok[] = {
		"10.0.0.0/8", "0.0.0.0/0", "192.0.2.1/32", "2001:db8::/32", "::/0", "::1/128" };
	static const char *const pfx_bad[] = {
		"10.0.0.0/33", "10.0.0.300/8", "10.0.0.0", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
		"2001:db8::/129", "/8", "any", "", "10.0.0.0/99999999999999999999" };
	for (size_t i = 0; i < sizeof(pfx_ok) / sizeof(pfx_ok[0]); i++)
		if (!cfg_valid_prefix(pfx_ok[i]))
			FAIL("\"%s\" should be a valid prefix", pfx_ok[i]);
	for (size_t i = 0; i < sizeof(pfx_bad) / sizeof(pfx_bad[0]); i++)
		if (cfg_valid_prefix(pfx_bad[i]))
			FAIL("\"%s\" should not be a valid prefix", pfx_bad[i]);
}

/* ---- the secrets file ------------------------------------------------------------------ */

/* needs the psk k1 and SNMP user nms (priv aes-128) */
static const char *const CONF_NEEDS_SECRETS =
	"{\n"
	"  \"agent\": {},\n"
	"  \"snmp\": { \"v3_users\": [`{ \"name\": \"nms\" }] },\n"
	"  \"group_vpn_server\": { \"groups\": [{ \"name\": \"g1\", \"group_id\": 1,\n"
	"    \"members\": [{ \"address\": \"192.0.2.10\", \"psk\": `\"k1\" }] }] }\n"
	"}\n";

static void test_secrets_mode_refused(void **state)
{
	(void)state;
	struct doc d, s;
	char *p = put_conf(&d, CONF_NEEDS_SECRETS);
	char *sf = secrets_path();
	static const mode_t modes[] = { 0644, 0640, 0604, 0660, 0602, 0620, 0666 };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		/* root's own 0640 file with the agent's group (0) is accepted:
		 * test_secrets_mode_rules */
		if (modes[i] == 0640 && geteuid() == 0 && getegid() == 0)
			continue;
		put_secrets(&s, SECRETS_OK, modes[i]);
		struct cfg_errors *e;
		assert_null(load(p, &e));
		expect_n(e, 1);
		assert_int_equal(strncmp(e->msg[0], sf, strlen(sf)), 0);
		assert_non_null(strstr(e->msg[0], "chmod 600"));
		assert_non_null(strstr(e->msg[0], fmt("mode %04o", (unsigned)modes[i])));
		if (modes[i] == 0644)
			assert_string_equal(e->msg[0],
				fmt("%s: refused: mode 0644 lets group or others read or write it; "
				    "the secrets file must be mode 0600, or 0640 owned by root with the "
				    "agent's group (chmod 600 %s)", sf, sf));
	}
}

static void test_secrets_mode_accepted(void **state)
{
	(void)state;
	struct doc d, s;
	char *p = put_conf(&d, CONF_NEEDS_SECRETS);
	static const mode_t modes[] = { 0600, 0400 };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		put_secrets(&s, SECRETS_OK, modes[i]);
		struct cfg *c = load_ok(p);
		assert_int_equal(c->secrets.loaded, 1);
		assert_str(c->gks->groups[0].members[0].psk_value, "a-long-random-psk");
		assert_str(c->snmp.v3_users[0].auth_passphrase, "auth-pass-1");
		assert_str(c->snmp.v3_users[0].priv_passphrase, "priv-pass-1");
	}
}

/* The packaged root:gvpn 0640: only for an agent running as that group. */
static void test_secrets_mode_rules(void **state)
{
	(void)state;
	static const struct {
		mode_t mode;
		uid_t uid;
		gid_t gid;
		int ok;
	} cases[] = {
		{ 0600, 1000, 1000, 1 }, { 0400, 0, 0, 1 }, { 0600, 0, 42, 1 },
		{ 0640, 0, 42, 1 },	 /* root-owned, the agent's group */
		{ 0440, 0, 42, 1 },	 /* the same, read-only for root too */
		{ 0640, 0, 43, 0 },	 /* another group */
		{ 0640, 1000, 42, 0 },	 /* not root-owned: its owner could widen it */
		{ 0660, 0, 42, 0 },	 { 0650, 0, 42, 0 }, { 0644, 0, 42, 0 }, { 0604, 0, 42, 0 },
		{ 0641, 0, 42, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stat st;
		memset(&st, 0, sizeof(st));
		st.st_mode = S_IFREG | cases[i].mode;
		st.st_uid = cases[i].uid;
		st.st_gid = cases[i].gid;
		if (cfg_secrets_mode_ok(&st, 42) != cases[i].ok)
			fail_msg("mode %04o uid %d gid %d: expected %s", (unsigned)cases[i].mode, (int)cases[i].uid,
				 (int)cases[i].gid, cases[i].ok ? "accepted" : "refused");
	}
}

/* As root: a root-owned 0640 file loads when its group is the agent's and
 * is refused with the two groups named when it is not. */
static void test_secrets_mode_group_as_root(void **state)
{
	(void)state;
	if (geteuid() != 0 || getegid() != 0) {
		skip();
		return;
	}
	struct doc d, s;
	char *p = put_conf(&d, CONF_NEEDS_SECRETS);
	char *sf = secrets_path();
	put_secrets(&s, SECRETS_OK, 0640);
	assert_int_equal(chown(sf, 0, 0), 0);
	struct cfg *c = load_ok(p);
	assert_str(c->gks->groups[0].members[0].psk_value, "a-long-random-psk");
	assert_int_equal(chown(sf, 0, 4242), 0);
	struct cfg_errors *e;
	assert_null(load(p, &e));
	expect_n(e, 1);
	assert_string_equal(e->msg[0],
		fmt("%s: refused: mode 0640 lets group 4242 read it, and the agent runs as group 0; the secrets "
		    "file must be mode 0600, or 0640 owned by root with the agent's group (chmod 600 %s, or run "
		    "the agent as that group)", sf, sf));
}

static void test_secrets_missing_ok_when_unneeded(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{ \"agent\": {},\n"
		"  \"snmp\": { \"communities\": [{ \"name\": \"public\" }, { \"name\": \"private\", \"access\": \"rw\","
		" \"source\": \"10.0.0.0/8\" }] },\n"
		"  \"group_vpn_server\": { \"groups\": [{ \"name\": \"g1\", \"group_id\": 1 }] } }\n");
	struct cfg *c = load_ok(p);
	assert_int_equal(c->secrets.loaded, 0);
	assert_int_equal(c->snmp.n_communities, 2);
	assert_str(c->snmp.communities[0].source, "127.0.0.1");
	assert_int_equal(c->snmp.communities[0].access, CFG_ACCESS_RO);
	assert_int_equal(c->snmp.communities[1].access, CFG_ACCESS_RW);
	assert_int_equal(c->gks->groups[0].n_members, 0);
	assert_null(c->gks->groups[0].smc);
}

static void test_secrets_missing_but_needed(void **state)
{
	(void)state;
	struct doc d, s;
	char *p = put_conf(&d, CONF_NEEDS_SECRETS);
	char *sf = secrets_path();
	LOAD_FAIL(p, &d,
		fmt("snmp.v3_users[0]: user \"nms\" has no auth_passphrase in %s (snmp_users.nms)", sf),
		fmt("group_vpn_server.groups[0].members[0].psk: no pre-shared key named \"k1\" in %s (psk.k1)", sf));

	/* present, but without those names */
	put_secrets(&s, "{ \"psk\": { \"k2\": \"another-psk\" }, \"snmp_users\": {}, \"web_users\": {} }", 0600);
	LOAD_FAIL(p, &d,
		fmt("snmp.v3_users[0]: user \"nms\" has no auth_passphrase in %s (snmp_users.nms)", sf),
		fmt("group_vpn_server.groups[0].members[0].psk: no pre-shared key named \"k1\" in %s (psk.k1)", sf));
}

static void test_secrets_snmp_passphrases(void **state)
{
	(void)state;
	struct doc d, s;
	char *sf = secrets_path();
	put_secrets(&s, "{ \"snmp_users\": { \"nms\": { \"auth_passphrase\": \"12345678\" },\n"
			"                  \"mon\": { \"auth_passphrase\": \"abcdefgh\" } } }", 0600);
	char *p = put_conf(&d,
		"{ \"agent\": {}, \"snmp\": { \"v3_users\": [\n"
		"    `{ \"name\": \"nms\", \"auth\": \"sha-512\" },\n"
		"    { \"name\": \"mon\", \"auth\": \"md5\", \"priv\": \"none\" } ] } }\n");
	LOAD_FAIL(p, &d, fmt("snmp.v3_users[0]: user \"nms\" has no priv_passphrase in %s (snmp_users.nms)", sf));

	p = put_conf(&d,
		"{ \"agent\": {}, \"snmp\": { \"v3_users\": [\n"
		"    { \"name\": \"mon\", \"auth\": \"md5\", \"priv\": \"none\" } ] } }\n");
	struct cfg *c = load_ok(p);
	assert_int_equal(c->snmp.v3_users[0].auth, CFG_AUTH_MD5);
	assert_int_equal(c->snmp.v3_users[0].priv, CFG_PRIV_NONE);
	assert_str(c->snmp.v3_users[0].auth_passphrase, "abcdefgh");
	assert_null(c->snmp.v3_users[0].priv_passphrase);
}

static void test_secrets_short_passphrase(void **state)
{
	(void)state;
	struct doc d, s;
	char *p = put_conf(&d, CONF_NEEDS_SECRETS);
	char *sf = put_secrets(&s,
		"{ \"psk\": { \"k1\": \"a-long-random-psk\" },\n"
		"  \"snmp_users\": { \"nms\": { \"auth_passphrase\": `\"1234567\",\n"
		"                           \"priv_passphrase\": \"12345678\" } } }\n", 0600);
	struct cfg_errors *e;
	assert_null(load(p, &e));
	EXPECT_ERRS(e, sf, &s, "snmp_users.nms.auth_passphrase: passphrase is shorter than 8 characters "
			       "(SNMPv3 USM requires 8 or more)");
	assert_null(strstr(e->msg[0], "1234567"));
}

static void test_secrets_bad_json(void **state)
{
	(void)state;
	struct doc d, s;
	char *p = put_conf(&d, CONF_NEEDS_SECRETS);
	char *sf = put_secrets(&s,
		"{\n"
		"  \"psk\": { \"k1\": \"a-long-random-psk\" }\n"
		"  `\"snmp_users\": {}\n"
		"}\n", 0600);
	struct cfg_errors *e;
	assert_null(load(p, &e));
	expect_n(e, 1);
	char *pre = fmt("%s:3:3: invalid JSON", sf);
	if (strncmp(e->msg[0], pre, strlen(pre)))
		FAIL("got \"%s\", wanted it to start with \"%s\"", e->msg[0], pre);

	sf = put_secrets(&s, "{ `\"psks\": {}, \"psk\": { \"k1\": `[] },\n  \"snmp_users\": { \"nms\": { `\"auth\": \"x\" } } }", 0600);
	assert_null(load(p, &e));
	EXPECT_ERRS(e, sf, &s,
		"psks: unknown key (known keys in the secrets file: psk, snmp_users, web_users, metrics_tokens)",
		"psk.k1: expected a string, got an array",
		"snmp_users.nms.auth: unknown key (known keys in an SNMP user's secrets: auth_passphrase, "
		"priv_passphrase)");
}

/* BUG H: error messages about the secrets file quote what is in it, so a
 * key or passphrase can end up in the log. */
static void test_secrets_not_in_messages(void **state)
{
	(void)state;
	struct doc d, s;
	char *p = put_conf(&d, CONF_NEEDS_SECRETS);
	static const struct { const char *text, *secret; } cases[] = {
		{ "{ \"psk\": { \"k1\": hunter2hunter2 } }", "hunter2" },
		{ "{ \"psk\": { \"k1\": \"hunter2hunter2\" \"k2\": \"x\" } }", "hunter2" },
		{ "{ \"psk\": \"hunter2hunter2\" }", "hunter2" },
		{ "{ \"snmp_users\": { \"nms\": \"hunter2hunter2\" } }", "hunter2" },
		{ "{ \"snmp_users\": { \"nms\": { \"auth_passphrase\": 87654321 } } }", "8765" },
		{ "{ \"snmp_users\": { \"nms\": { \"auth_passphrase\": 87654321 } } }", "8.76" },
	};
	int leaked = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *sf = put_secrets(&s, cases[i].text, 0600);
		struct cfg_errors *e;
		assert_null(load(p, &e));
		assert_true(e->n >= 1);
		for (size_t j = 0; j < e->n; j++) {
			assert_int_equal(strncmp(e->msg[j], sf, strlen(sf)), 0);
			if (strstr(e->msg[j], cases[i].secret)) {
				print_message("#   secrets case %zu leaks: %s\n", i, e->msg[j]);
				leaked++;
			}
		}
	}
	assert_int_equal(leaked, 0);
}

static void test_secrets_direct(void **state)
{
	(void)state;
	struct doc s;
	struct cfg_secrets sec;
	struct cfg_errors *e = new_errs();
	char *sf = put_secrets(&s,
		"{ \"psk\": { \"a\": \"psk-a-value\", \"b\": \"psk-b-value\" },\n"
		"  \"snmp_users\": { \"nms\": { \"auth_passphrase\": \"auth-pass-1\" } },\n"
		"  \"web_users\": { \"admin\": \"$6$salt$hash\" } }\n", 0600);
	assert_int_equal(cfg_secrets_load(sf, &sec, e), 0);
	expect_n(e, 0);
	assert_int_equal(sec.loaded, 1);
	assert_int_equal(sec.n_psk, 2);
	assert_str(cfg_secret_psk(&sec, "a"), "psk-a-value");
	assert_str(cfg_secret_psk(&sec, "b"), "psk-b-value");
	assert_null(cfg_secret_psk(&sec, "c"));
	assert_int_equal(sec.n_snmp_users, 1);
	assert_str(sec.snmp_users[0].name, "nms");
	assert_str(sec.snmp_users[0].auth_passphrase, "auth-pass-1");
	assert_null(sec.snmp_users[0].priv_passphrase);
	assert_int_equal(sec.n_web_users, 1);
	assert_str(sec.web_users[0].name, "admin");
	assert_str(sec.web_users[0].value, "$6$salt$hash");
	cfg_secrets_free(&sec);
	assert_int_equal(sec.loaded, 0);
	assert_null(sec.psk);
	assert_int_equal(sec.n_psk, 0);
	assert_null(sec.snmp_users);
	cfg_secrets_free(&sec); /* twice is harmless */

	/* missing: fine, nothing loaded */
	assert_int_equal(cfg_secrets_load(fmt("%s/none.json", T.dir), &sec, e), 0);
	expect_n(e, 0);
	assert_int_equal(sec.loaded, 0);
	assert_null(cfg_secret_psk(&sec, "a"));

	/* not a regular file */
	assert_int_equal(mkdir(fmt("%s/dir.json", T.dir), 0700), 0);
	assert_int_equal(cfg_secrets_load(fmt("%s/dir.json", T.dir), &sec, e), -1);
	expect_n(e, 1);
	assert_string_equal(e->msg[0], fmt("%s/dir.json: the secrets file is not a regular file", T.dir));
	assert_int_equal(sec.loaded, 0);
}

/* ---- ownership ------------------------------------------------------------------------ */

static void test_free_null_and_errors(void **state)
{
	(void)state;
	cfg_free(NULL);
	struct cfg_errors e;
	cfg_errors_init(&e);
	cfg_errors_free(&e);
	cfg_errors_add(&e, "%s %d", "first", 1);
	for (int i = 0; i < 20; i++)
		cfg_errors_add(&e, "more %d", i);
	assert_int_equal(e.n, 21);
	assert_string_equal(e.msg[0], "first 1");
	assert_string_equal(e.msg[20], "more 19");
	cfg_errors_free(&e);
	assert_int_equal(e.n, 0);
	assert_null(e.msg);

	assert_string_equal(cfg_enum_name(cfg_enc_names, CFG_ENC_AES256_CBC), "aes-256-cbc");
	assert_string_equal(cfg_enum_name(cfg_hash_names, CFG_HASH_SHA1), "sha1");
	assert_string_equal(cfg_enum_name(cfg_transport_names, CFG_TRANSPORT_TLS), "tls");
	assert_string_equal(cfg_enum_name(cfg_comm_type_names, 99), "?");
	assert_string_equal(cfg_enum_name(cfg_access_names, -1), "?");
}

static void test_load_twice_independent(void **state)
{
	(void)state;
	struct doc d, s;
	char *p = put_conf(&d, CONF_NEEDS_SECRETS);
	put_secrets(&s, SECRETS_OK, 0600);
	struct cfg *a = load_ok(p);
	struct cfg *b = load_ok(p);
	assert_ptr_not_equal(a, b);
	assert_ptr_not_equal(a->agent.secrets_file, b->agent.secrets_file);
	assert_ptr_not_equal(a->gks, b->gks);
	assert_ptr_not_equal(a->gks->groups, b->gks->groups);
	assert_ptr_not_equal(a->gks->groups[0].members[0].psk_value, b->gks->groups[0].members[0].psk_value);
	assert_ptr_not_equal(a->snmp.v3_users[0].auth_passphrase, b->snmp.v3_users[0].auth_passphrase);
	assert_ptr_not_equal(a->secrets.psk, b->secrets.psk);
	untrack_free(a);
	/* b is untouched by freeing a (ASan would see a use after free) */
	assert_str(b->path, p);
	assert_str(b->gks->groups[0].name, "g1");
	assert_str(b->gks->groups[0].members[0].psk_value, "a-long-random-psk");
	assert_str(b->snmp.v3_users[0].priv_passphrase, "priv-pass-1");
	assert_str(cfg_secret_psk(&b->secrets, "k1"), "a-long-random-psk");
	untrack_free(b);
}

/* cfg_load adds to the list it is given, and fails only for its own
 * errors. */
static void test_errors_accumulate(void **state)
{
	(void)state;
	struct doc d;
	struct cfg_errors *e = new_errs();
	cfg_errors_add(e, "an earlier error");
	char *p = put_conf(&d, "{ \"web\": {} }");
	struct cfg *c = track(cfg_load(p, e));
	assert_non_null(c);
	assert_int_equal(e->n, 1);
	p = put_conf(&d, "{ \"web\": { \"session_timeout\": `0 } }");
	assert_null(track(cfg_load(p, e)));
	assert_int_equal(e->n, 2);
	assert_string_equal(e->msg[0], "an earlier error");
	assert_string_equal(e->msg[1], fmt("%s:%u:%u: web.session_timeout: 0 is out of range (allowed 10..86400)",
					   p, d.line[0], d.col[0]));
}

/* A community serves SNMPv2c unless "versions" says otherwise; SNMPv1
 * only when listed. */
static void test_community_versions(void **state)
{
	(void)state;
	struct doc d;
	char *p = put_conf(&d,
		"{ \"snmp\": { \"communities\": [ { \"name\": \"a\" },\n"
		"    { \"name\": \"b\", \"versions\": [\"v1\", \"v2c\"] },\n"
		"    { \"name\": \"c\", \"versions\": [\"v1\"] } ] } }\n");
	struct cfg *c = load_ok(p);
	assert_int_equal(c->snmp.n_communities, 3);
	assert_int_equal(c->snmp.communities[0].v1, 0);
	assert_int_equal(c->snmp.communities[0].v2c, 1);
	assert_int_equal(c->snmp.communities[1].v1, 1);
	assert_int_equal(c->snmp.communities[1].v2c, 1);
	assert_int_equal(c->snmp.communities[2].v1, 1);
	assert_int_equal(c->snmp.communities[2].v2c, 0);

	p = put_conf(&d,
		"{ \"snmp\": { \"communities\": [ { \"name\": \"a\", \"versions\": [`\"v3\"] },\n"
		"    { \"name\": \"b\", \"versions\": `[] },\n"
		"    { \"name\": \"c\", \"versions\": `\"v1\" } ] } }\n");
	LOAD_FAIL(p, &d,
		"snmp.communities[0].versions[0]: \"v3\" is not an SNMP version a community serves (\"v1\" or \"v2c\")",
		"snmp.communities[1].versions: is empty: list \"v2c\", \"v1\" or both (or remove the community)",
		"snmp.communities[2].versions: expected an array of strings, got string \"v1\"");
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_empty_object_defaults),
		T_(test_empty_sections_defaults),
		T_(test_omitted_agent_still_uses_secrets),
		T_(test_demo_config),
		T_(test_relative_paths),
		T_(test_load_text),
		T_(test_error_format_example),
		T_(test_wrong_types),
		T_(test_root_not_object),
		T_(test_out_of_range),
		T_(test_range_limits_accepted),
		T_(test_unknown_keys),
		T_(test_bad_enum),
		T_(test_community_versions),
		T_(test_missing_required),
		T_(test_ipsec_sa_match_required),
		T_(test_empty_string),
		T_(test_bad_json),
		T_(test_bad_json_truncated),
		T_(test_bad_json_control_char),
		T_(test_duplicate_key),
		T_(test_duplicate_key_other_errors_reported),
		T_(test_many_errors_all_reported),
		T_(test_errors_in_document_order),
		T_(test_positions),
		T_(test_vpn_options_need_monitor),
		T_(test_duplicate_group_id_and_name),
		T_(test_duplicate_names),
		T_(test_multicast_needs_group),
		T_(test_gdoid_profile),
		T_(test_lifetime_vs_activation_delay),
		T_(test_push_defaults),
		T_(test_push_ranges),
		T_(test_snmp_notifications),
		T_(test_lifetime_range_error_alone),
		T_(test_multicast_bad_group_error_alone),
		T_(test_snmp_listen_bad_error_alone),
		T_(test_snmp_listen_empty),
		T_(test_tls_collector_needs_ca),
		T_(test_web_plain_http_only_on_loopback),
		T_(test_web_cert_needs_key),
		T_(test_member_needs_address_or_identity),
		T_(test_member_null_address),
		T_(test_bad_addresses),
		T_(test_web_listen_forms),
		T_(test_address_helpers),
		T_(test_secrets_mode_refused),
		T_(test_secrets_mode_accepted),
		T_(test_secrets_mode_rules),
		T_(test_secrets_mode_group_as_root),
		T_(test_secrets_missing_ok_when_unneeded),
		T_(test_secrets_missing_but_needed),
		T_(test_secrets_snmp_passphrases),
		T_(test_secrets_short_passphrase),
		T_(test_secrets_bad_json),
		T_(test_secrets_not_in_messages),
		T_(test_secrets_direct),
		T_(test_free_null_and_errors),
		T_(test_load_twice_independent),
		T_(test_errors_accumulate),
	};
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
