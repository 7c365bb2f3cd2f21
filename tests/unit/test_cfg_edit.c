/* SPDX-License-Identifier: BSD-2-Clause */
/* test_cfg_edit.c: unit tests of core/cfg_edit.c, the changes the agent
 * makes to its own configuration file (SNMP SET, the web page): edits that
 * apply (bool, integer, string, remove; VPNs found by name; other keys and
 * their order untouched; mode kept; the file re-reads to the same values),
 * edits that are refused with the file byte for byte as it was (the
 * loader's own messages, ranges, unknown VPNs, wrong types, malformed
 * paths), and a file changed behind the agent's back; the kind of each
 * refusal, and the table of the settings the agent changes itself.
 *
 * Every test works in a fresh temporary directory (removed afterwards). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/cfg.h"
#include "core/cfg_edit.h"

/* Hand-formatted on purpose (two-space indents, keys in no sorted order)
 * so that normalization and key order can be told apart. */
static const char CONF_TEXT[] =
	"{\n"
	"  \"syslog\": { \"local\": false },\n"
	"  \"vpn_monitor\": {\n"
	"    \"threshold\": 3,\n"
	"    \"interval\": 10,\n"
	"    \"vici_socket\": \"unix:///nonexistent/charon.vici\",\n"
	"    \"vpns\": [\n"
	"      { \"name\": \"vpn1\", \"monitor\": true, \"rekey\": true },\n"
	"      { \"name\": \"site.b\", \"monitor\": false },\n"
	"      { \"name\": \"vpn3\", \"monitor\": true, \"optimized\": true, \"destination_ip\": \"192.0.2.1\" }\n"
	"    ]\n"
	"  },\n"
	"  \"web\": { \"enabled\": false }\n"
	"}\n";

static const char SECRETS_TEXT[] = "{ \"psk\": { \"k\": \"not-a-real-key\" } }\n";

/* ---- fixture -------------------------------------------------------------- */

static struct {
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];     /* the config file */
	char secrets[PATH_MAX + 32];
	struct cfg_edit *e;
	struct cfg_errors errs;
	struct cfg *models[32]; size_t nmodels;
	char *mem[32]; size_t nmem;
} T;

static void *keep(void *p)
{
	assert_non_null(p);
	assert_true(T.nmem < sizeof(T.mem) / sizeof(T.mem[0]));
	T.mem[T.nmem++] = p;
	return p;
}

static struct cfg *track(struct cfg *c)
{
	assert_true(T.nmodels < sizeof(T.models) / sizeof(T.models[0]));
	T.models[T.nmodels++] = c;
	return c;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_true(write(fd, text, len) == (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	assert_non_null(m);
	int ch;
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(f);
	fclose(m);
	return keep(buf);
}

static int setup(void **state)
{
	(void)state;
	memset(&T, 0, sizeof(T));
	const char *tmp = getenv("TMPDIR");
	char templ[PATH_MAX];
	snprintf(templ, sizeof(templ), "%s/test_cfg_edit.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(templ) || !realpath(templ, T.dir))
		return -1;
	snprintf(T.path, sizeof(T.path), "%s/gvpn-agent.json", T.dir);
	snprintf(T.secrets, sizeof(T.secrets), "%s/secrets.json", T.dir);
	write_text(T.path, CONF_TEXT, 0640);
	write_text(T.secrets, SECRETS_TEXT, 0600);
	T.e = cfg_edit_new();
	cfg_errors_init(&T.errs);
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
	cfg_edit_free(T.e);
	cfg_errors_free(&T.errs);
	for (size_t i = 0; i < T.nmodels; i++)
		cfg_free(T.models[i]);
	for (size_t i = 0; i < T.nmem; i++)
		free(T.mem[i]);
	return nftw(T.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- helpers ------------------------------------------------------------------ */

/* text with its first `from` replaced by `to`. */
static char *replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	assert_non_null(at);
	char *s = NULL;
	assert_true(asprintf(&s, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)) > 0);
	return keep(s);
}

static void dump_errs(void)
{
	for (size_t i = 0; i < T.errs.n; i++)
		print_message("#   error[%zu]: %s\n", i, T.errs.msg[i]);
}

static struct cfg *load_stamp(struct cfg_edit_stamp *st)
{
	struct cfg *c = cfg_edit_load(T.path, st, &T.errs);
	if (!c)
		dump_errs();
	assert_non_null(c);
	return track(c);
}

/* Prepares T.e against the file as loaded now, and commits it. Returns
 * the model prepare built. */
static struct cfg *apply_ok(void)
{
	struct cfg_edit_stamp st, written;
	load_stamp(&st);
	char *text = NULL;
	struct cfg_edit_fault f = { CFG_EDIT_IO, 12345 };
	struct cfg *n = cfg_edit_prepare(T.e, T.path, &st, &text, &T.errs, &f);
	if (!n)
		dump_errs();
	assert_non_null(n);
	track(n);
	assert_int_equal(T.errs.n, 0);
	assert_int_equal(f.kind, CFG_EDIT_OK);
	assert_int_equal(f.tag, -1);
	assert_non_null(text);
	keep(text);
	assert_int_equal(cfg_edit_commit(T.path, text, &written), 0);
	assert_string_equal(read_text(T.path), text);
	/* The stamp of what was written is the stamp of the file as it now
	 * loads: the next edit needs no reload. */
	struct cfg_edit_stamp again;
	load_stamp(&again);
	assert_memory_equal(written.digest, again.digest, sizeof(again.digest));
	return n;
}

/* Prepares T.e, which must be refused as kind with exactly the messages
 * given (NULL: one message that contains `contains`), leaving the file
 * byte for byte as it was and not even rewritten. */
static void refused(enum cfg_edit_err kind, size_t n, const char *const *msgs, const char *contains)
{
	struct stat before, after;
	assert_int_equal(stat(T.path, &before), 0);
	char *text_before = read_text(T.path);
	struct cfg_edit_stamp st;
	load_stamp(&st);
	char *text = (char *)"not touched";
	struct cfg_edit_fault f = { CFG_EDIT_OK, 12345 };
	struct cfg *c = cfg_edit_prepare(T.e, T.path, &st, &text, &T.errs, &f);
	track(c);
	if (c || T.errs.n != n)
		dump_errs();
	assert_null(c);
	assert_null(text);
	assert_int_equal(f.kind, kind);
	assert_int_equal(T.errs.n, n);
	for (size_t i = 0; i < n; i++) {
		if (msgs)
			assert_string_equal(T.errs.msg[i], msgs[i]);
		else if (!strstr(T.errs.msg[i], contains))
			fail_msg("\"%s\" does not contain \"%s\"", T.errs.msg[i], contains);
	}
	assert_string_equal(read_text(T.path), text_before);
	assert_int_equal(stat(T.path, &after), 0);
	assert_true(before.st_ino == after.st_ino);
	assert_true(before.st_mtim.tv_sec == after.st_mtim.tv_sec && before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);
}

static void refused1(enum cfg_edit_err kind, const char *msg)
{
	refused(kind, 1, &msg, NULL);
}

static const struct cfg_vpn *vpn(const struct cfg *c, const char *name)
{
	assert_non_null(c->mon);
	for (size_t i = 0; i < c->mon->n_vpns; i++)
		if (!strcmp(c->mon->vpns[i].name, name))
			return &c->mon->vpns[i];
	fail_msg("no VPN %s in the model", name);
	return NULL;
}

/* The keys of the object at path ("" the root; "vpns[i]" by position) of
 * the file, comma-separated, in the file's order. */
static char *keys_of(const char *path)
{
	cJSON *root = cJSON_Parse(read_text(T.path));
	assert_non_null(root);
	const cJSON *o = root;
	if (*path) {
		o = cJSON_GetObjectItemCaseSensitive(root, "vpn_monitor");
		if (strcmp(path, "vpn_monitor"))
			o = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "vpns"), atoi(path + 5));
	}
	char *s = calloc(1, 512);
	assert_non_null(s);
	const cJSON *it;
	cJSON_ArrayForEach(it, o) {
		if (*s)
			strcat(s, ",");
		strcat(s, it->string);
	}
	cJSON_Delete(root);
	return keep(s);
}

/* ---- edits that apply ----------------------------------------------------------- */

static void test_set_bool_int_str(void **state)
{
	(void)state;
	struct stat sec_before, sec_after;
	assert_int_equal(stat(T.secrets, &sec_before), 0);
	cfg_edit_int(T.e, "vpn_monitor.interval", 30);
	cfg_edit_bool(T.e, "vpn_monitor.vpns[vpn1].rekey", 0);                 /* replaced */
	cfg_edit_str(T.e, "vpn_monitor.vpns[site.b].source_interface", "lo");  /* added; a dot in the name */
	cfg_edit_str(T.e, "vpn_monitor.vpns[vpn3].destination_ip", "198.51.100.7");
	assert_int_equal(cfg_edit_count(T.e), 4);
	struct cfg *n = apply_ok();

	/* The model prepare returned... */
	assert_int_equal(n->mon->interval, 30);
	assert_int_equal(n->mon->threshold, 3);
	assert_false(vpn(n, "vpn1")->rekey);
	assert_true(vpn(n, "vpn1")->monitor);
	assert_string_equal(vpn(n, "site.b")->source_interface, "lo");
	assert_string_equal(vpn(n, "vpn3")->destination_ip, "198.51.100.7");
	assert_true(vpn(n, "vpn3")->optimized);

	/* ... is what the written file loads to. */
	struct cfg_errors e;
	cfg_errors_init(&e);
	struct cfg *r = track(cfg_load(T.path, &e));
	assert_non_null(r);
	cfg_errors_free(&e);
	assert_int_equal(r->mon->interval, 30);
	assert_int_equal(r->mon->threshold, 3);
	assert_string_equal(r->mon->vici_socket, "unix:///nonexistent/charon.vici");
	assert_int_equal(r->mon->n_vpns, 3);
	assert_string_equal(r->mon->vpns[0].name, "vpn1");
	assert_string_equal(r->mon->vpns[1].name, "site.b");
	assert_string_equal(r->mon->vpns[2].name, "vpn3");
	assert_false(r->mon->vpns[0].rekey);
	assert_true(r->mon->vpns[0].monitor);
	assert_string_equal(r->mon->vpns[1].source_interface, "lo");
	assert_null(r->mon->vpns[1].destination_ip);
	assert_string_equal(r->mon->vpns[2].destination_ip, "198.51.100.7");
	assert_true(r->mon->vpns[2].optimized);
	assert_false(r->web.enabled);
	assert_false(r->syslog.local);

	/* Key order is kept; a new key goes last in its object. */
	assert_string_equal(keys_of(""), "syslog,vpn_monitor,web");
	assert_string_equal(keys_of("vpn_monitor"), "threshold,interval,vici_socket,vpns");
	assert_string_equal(keys_of("vpns[0]"), "name,monitor,rekey");
	assert_string_equal(keys_of("vpns[1]"), "name,monitor,source_interface");
	assert_string_equal(keys_of("vpns[2]"), "name,monitor,optimized,destination_ip");

	/* Printed by cJSON (formatting normalized), ending in a newline. */
	const char *text = read_text(T.path);
	assert_non_null(strstr(text, "\n\t\"vpn_monitor\":\t{\n"));
	assert_int_equal(text[strlen(text) - 1], '\n');

	/* The secrets file is read, never written. */
	assert_string_equal(read_text(T.secrets), SECRETS_TEXT);
	assert_int_equal(stat(T.secrets, &sec_after), 0);
	assert_true(sec_before.st_ino == sec_after.st_ino && sec_before.st_mtim.tv_nsec == sec_after.st_mtim.tv_nsec);
}

static void test_remove(void **state)
{
	(void)state;
	cfg_edit_remove(T.e, "vpn_monitor.threshold");                  /* default 10 */
	cfg_edit_remove(T.e, "vpn_monitor.vpns[vpn3].optimized");       /* default off */
	cfg_edit_str(T.e, "vpn_monitor.vpns[vpn3].destination_ip", NULL); /* NULL string: remove */
	cfg_edit_remove(T.e, "vpn_monitor.vpns[vpn1].source_interface"); /* not there: nothing */
	cfg_edit_remove(T.e, "snmp.listen");                            /* no "snmp": nothing created */
	struct cfg *n = apply_ok();
	assert_int_equal(n->mon->threshold, 10);
	assert_false(vpn(n, "vpn3")->optimized);
	assert_null(vpn(n, "vpn3")->destination_ip);
	assert_true(vpn(n, "vpn3")->monitor);
	assert_string_equal(keys_of(""), "syslog,vpn_monitor,web");
	assert_string_equal(keys_of("vpn_monitor"), "interval,vici_socket,vpns");
	assert_string_equal(keys_of("vpns[0]"), "name,monitor,rekey");
	assert_string_equal(keys_of("vpns[2]"), "name,monitor");
}

static void test_set_adds_objects(void **state)
{
	(void)state;
	/* A plain object path that is not in the file yet is created. */
	cfg_edit_bool(T.e, "snmp.notifications.tunnel_up", 0);
	struct cfg *n = apply_ok();
	assert_false(n->snmp.notify[CFG_NOTIFY_TUNNEL_UP]);
	assert_true(n->snmp.notify[CFG_NOTIFY_TUNNEL_DOWN]);
	assert_string_equal(keys_of(""), "syslog,vpn_monitor,web,snmp");
}

static void test_monitor_and_rekey_together(void **state)
{
	(void)state;
	/* Each change alone would be refused or not; together they are valid. */
	cfg_edit_bool(T.e, "vpn_monitor.vpns[site.b].monitor", 1);
	cfg_edit_bool(T.e, "vpn_monitor.vpns[site.b].rekey", 1);
	struct cfg *n = apply_ok();
	assert_true(vpn(n, "site.b")->monitor);
	assert_true(vpn(n, "site.b")->rekey);
}

static void test_mode_kept(void **state)
{
	(void)state;
	struct stat st;
	static const mode_t modes[] = { 0640, 0600, 0644 };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(chmod(T.path, modes[i]), 0);
		cfg_edit_free(T.e);
		T.e = cfg_edit_new();
		cfg_edit_int(T.e, "vpn_monitor.interval", 20 + (long)i);
		apply_ok();
		assert_int_equal(stat(T.path, &st), 0);
		assert_int_equal(st.st_mode & 07777, modes[i]);
	}
	/* No temp file is left behind. */
	char tmp[PATH_MAX + 64];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", T.path, (long)getpid());
	assert_int_not_equal(access(tmp, F_OK), 0);
}

static void test_symlink_kept(void **state)
{
	(void)state;
	/* The config named through a link: the target is rewritten, the link
	 * stays a link. */
	char link[PATH_MAX + 32];
	snprintf(link, sizeof(link), "%s/link.json", T.dir);
	assert_int_equal(symlink("gvpn-agent.json", link), 0);
	cfg_edit_int(T.e, "vpn_monitor.interval", 60);
	char *text = NULL;
	struct cfg *n = track(cfg_edit_prepare(T.e, link, NULL, &text, &T.errs, NULL));
	assert_non_null(n);
	keep(text);
	assert_int_equal(cfg_edit_commit(link, text, NULL), 0);
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_string_equal(read_text(T.path), text);
}

static void test_no_change_writes_nothing(void **state)
{
	(void)state;
	struct stat before, after;
	assert_int_equal(stat(T.path, &before), 0);
	cfg_edit_int(T.e, "vpn_monitor.interval", 10);             /* as it is */
	cfg_edit_remove(T.e, "vpn_monitor.vpns[vpn1].optimized");  /* not there */
	struct cfg_edit_stamp st;
	load_stamp(&st);
	char *text = (char *)"x";
	struct cfg *n = track(cfg_edit_prepare(T.e, T.path, &st, &text, &T.errs, NULL));
	assert_non_null(n);
	assert_null(text);
	assert_int_equal(n->mon->interval, 10);
	assert_string_equal(read_text(T.path), CONF_TEXT);
	assert_int_equal(stat(T.path, &after), 0);
	assert_true(before.st_ino == after.st_ino);
}

/* ---- edits that are refused ------------------------------------------------------ */

static void test_rekey_without_monitor(void **state)
{
	(void)state;
	cfg_edit_bool(T.e, "vpn_monitor.vpns[site.b].rekey", 1);
	refused1(CFG_EDIT_INVALID, "vpn_monitor.vpns[site.b].rekey: rekey cannot be used alone; turn on monitor too");
}

static void test_monitor_off_under_rekey(void **state)
{
	(void)state;
	/* The loader faults rekey; the edit's setting of the same VPN is
	 * named first (not the other change). */
	cfg_edit_int(T.e, "vpn_monitor.interval", 20);
	cfg_edit_bool(T.e, "vpn_monitor.vpns[vpn1].monitor", 0);
	refused1(CFG_EDIT_INVALID, "vpn_monitor.vpns[vpn1].monitor: vpn_monitor.vpns[vpn1].rekey: "
		 "rekey cannot be used alone; turn on monitor too");
}

static void test_rename_to_taken_name(void **state)
{
	(void)state;
	/* The loader faults the element by its (new, duplicate) name; the
	 * edit's only change is named first. */
	cfg_edit_str(T.e, "vpn_monitor.vpns[vpn3].name", "vpn1");
	refused1(CFG_EDIT_INVALID, "vpn_monitor.vpns[vpn3].name: vpn_monitor.vpns[vpn1].name: \"vpn1\" is already used by vpns[0]");
}

static void test_out_of_range(void **state)
{
	(void)state;
	cfg_edit_int(T.e, "vpn_monitor.interval", 1);
	cfg_edit_int(T.e, "vpn_monitor.threshold", 70000);
	static const char *const msgs[] = {
		"vpn_monitor.threshold: 70000 is out of range (allowed 1..65536)",
		"vpn_monitor.interval: 1 is out of range (allowed 2..3600)",
	};
	refused(CFG_EDIT_INVALID, 2, msgs, NULL);
}

static void test_unknown_vpn(void **state)
{
	(void)state;
	cfg_edit_int(T.e, "vpn_monitor.interval", 20);
	cfg_edit_bool(T.e, "vpn_monitor.vpns[nowhere].rekey", 1);
	refused1(CFG_EDIT_NOT_FOUND, "vpn_monitor.vpns[nowhere].rekey: no VPN named \"nowhere\"");
}

static void test_wrong_type(void **state)
{
	(void)state;
	cfg_edit_str(T.e, "vpn_monitor.interval", "ten");
	refused1(CFG_EDIT_INVALID, "vpn_monitor.interval: expected an integer, got string \"ten\"");
}

static void test_wrong_type_bool(void **state)
{
	(void)state;
	cfg_edit_int(T.e, "vpn_monitor.vpns[vpn3].optimized", 1);
	refused(CFG_EDIT_INVALID, 1, NULL, "vpn_monitor.vpns[vpn3].optimized: expected true or false");
}

static void test_bad_address(void **state)
{
	(void)state;
	cfg_edit_str(T.e, "vpn_monitor.vpns[vpn3].destination_ip", "not-an-address");
	refused(CFG_EDIT_INVALID, 1, NULL, "vpn_monitor.vpns[vpn3].destination_ip: \"not-an-address\"");
}

static void test_unknown_key(void **state)
{
	(void)state;
	cfg_edit_bool(T.e, "vpn_monitor.vpns[vpn1].colour", 1);
	refused(CFG_EDIT_INVALID, 1, NULL, "vpn_monitor.vpns[vpn1].colour: ");
}

static void test_bad_paths(void **state)
{
	(void)state;
	cfg_edit_int(T.e, "vpn_monitor.interval.x", 1);
	cfg_edit_bool(T.e, "vpn_monitor.vpns[vpn1]", 1);
	cfg_edit_bool(T.e, "vpn_monitor..interval", 1);
	cfg_edit_bool(T.e, "vpn_monitor.vpns[vpn1.rekey", 1);
	cfg_edit_bool(T.e, "vpn_monitor.vpns[].rekey", 1);
	cfg_edit_bool(T.e, "vpn_monitor.vici_socket[a].b", 1);
	static const char *const msgs[] = {
		"vpn_monitor.interval.x: \"interval\" is not an object",
		"vpn_monitor.vpns[vpn1]: the path names an element of \"vpns\", not a setting",
		"vpn_monitor..interval: malformed path (an empty key)",
		"vpn_monitor.vpns[vpn1.rekey: malformed path (\"[NAME]\" expected after \"vpns\")",
		"vpn_monitor.vpns[].rekey: malformed path (\"[NAME]\" expected after \"vpns\")",
		"vpn_monitor.vici_socket[a].b: no element of \"vici_socket\" named \"a\"",
	};
	refused(CFG_EDIT_INVALID, 6, msgs, NULL);
}

/* ---- the file changed behind the agent's back -------------------------------------- */

static void test_changed_on_disk(void **state)
{
	(void)state;
	struct cfg_edit_stamp st;
	load_stamp(&st);
	/* Someone edits the file by hand and has not reloaded yet. */
	char *hand_text = replace(CONF_TEXT, "\"threshold\": 3", "\"threshold\": 5");
	write_text(T.path, hand_text, 0640);

	cfg_edit_int(T.e, "vpn_monitor.interval", 30);
	char *text = (char *)"x";
	struct cfg_edit_fault f = { CFG_EDIT_OK, 12345 };
	struct cfg *n = track(cfg_edit_prepare(T.e, T.path, &st, &text, &T.errs, &f));
	assert_null(n);
	assert_null(text);
	assert_int_equal(f.kind, CFG_EDIT_CONFLICT);
	assert_int_equal(f.tag, -1);
	assert_int_equal(T.errs.n, 1);
	if (!strstr(T.errs.msg[0], "the configuration file changed on disk since it was loaded; reload it first"))
		fail_msg("unexpected message: %s", T.errs.msg[0]);
	assert_non_null(strstr(T.errs.msg[0], T.path));
	assert_string_equal(read_text(T.path), hand_text);

	/* After a reload (a new stamp) the same edit goes through and keeps
	 * the hand edit. */
	cfg_errors_free(&T.errs);
	cfg_errors_init(&T.errs);
	n = apply_ok();
	assert_int_equal(n->mon->threshold, 5);
	assert_int_equal(n->mon->interval, 30);
}

static void test_touched_only_is_not_a_change(void **state)
{
	(void)state;
	/* The stamp is the content: a touch, or the same text written anew,
	 * loses nobody's edit. */
	struct cfg_edit_stamp st;
	load_stamp(&st);
	write_text(T.path, CONF_TEXT, 0640);
	cfg_edit_int(T.e, "vpn_monitor.interval", 30);
	char *text = NULL;
	struct cfg *n = track(cfg_edit_prepare(T.e, T.path, &st, &text, &T.errs, NULL));
	assert_non_null(n);
	keep(text);
}

static void test_file_gone(void **state)
{
	(void)state;
	struct cfg_edit_stamp st;
	load_stamp(&st);
	assert_int_equal(unlink(T.path), 0);
	cfg_edit_int(T.e, "vpn_monitor.interval", 30);
	char *text = (char *)"x";
	struct cfg_edit_fault f = { CFG_EDIT_OK, 12345 };
	assert_null(track(cfg_edit_prepare(T.e, T.path, &st, &text, &T.errs, &f)));
	assert_null(text);
	assert_int_equal(f.kind, CFG_EDIT_IO);
	assert_int_equal(f.tag, -1);
	assert_int_equal(T.errs.n, 1);
	assert_non_null(strstr(T.errs.msg[0], "cannot read"));
	assert_int_not_equal(access(T.path, F_OK), 0);
}

static void test_commit_failure_leaves_file(void **state)
{
	(void)state;
	/* The temp file cannot be created (a directory holds its name, which
	 * stops root too): the commit fails and the file stays as it was. */
	cfg_edit_int(T.e, "vpn_monitor.interval", 30);
	char *text = NULL;
	assert_non_null(track(cfg_edit_prepare(T.e, T.path, NULL, &text, &T.errs, NULL)));
	keep(text);
	char tmp[PATH_MAX + 64];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", T.path, (long)getpid());
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(cfg_edit_commit(T.path, text, NULL), -1);
	assert_string_equal(read_text(T.path), CONF_TEXT);
}

/* ---- which change is at fault (SNMP's error-index) ------------------------------ */

/* The tag of the change at fault; the kind must be kind. */
static long prepare_fault(const struct cfg_edit_stamp *st, enum cfg_edit_err kind)
{
	char *text = (char *)"x";
	struct cfg_edit_fault f = { CFG_EDIT_OK, 12345 };
	cfg_errors_free(&T.errs);
	cfg_errors_init(&T.errs);
	assert_null(track(cfg_edit_prepare(T.e, T.path, st, &text, &T.errs, &f)));
	assert_null(text);
	assert_int_equal(f.kind, kind);
	return f.tag;
}

static void test_fault_tag(void **state)
{
	(void)state;
	/* The loader refuses the rekey beside monitor off: the tag of the
	 * rekey change, wherever it is in the edit. */
	cfg_edit_tag(T.e, 1);
	cfg_edit_int(T.e, "vpn_monitor.interval", 30);
	cfg_edit_tag(T.e, 2);
	cfg_edit_bool(T.e, "vpn_monitor.vpns[vpn3].optimized", 0);
	cfg_edit_tag(T.e, 3);
	cfg_edit_bool(T.e, "vpn_monitor.vpns[site.b].rekey", 1);
	assert_int_equal(prepare_fault(NULL, CFG_EDIT_INVALID), 3);

	/* An element no VPN has: that change's tag. */
	cfg_edit_free(T.e);
	T.e = cfg_edit_new();
	cfg_edit_tag(T.e, 7);
	cfg_edit_int(T.e, "vpn_monitor.interval", 30);
	cfg_edit_tag(T.e, 8);
	cfg_edit_bool(T.e, "vpn_monitor.vpns[nope].monitor", 1);
	assert_int_equal(prepare_fault(NULL, CFG_EDIT_NOT_FOUND), 8);

	/* Out of range, the first of two changes. */
	cfg_edit_free(T.e);
	T.e = cfg_edit_new();
	cfg_edit_tag(T.e, 4);
	cfg_edit_int(T.e, "vpn_monitor.threshold", 0);
	cfg_edit_tag(T.e, 5);
	cfg_edit_int(T.e, "vpn_monitor.interval", 30);
	assert_int_equal(prepare_fault(NULL, CFG_EDIT_INVALID), 4);

	/* No one change to blame: the file changed on disk. */
	struct cfg_edit_stamp st;
	load_stamp(&st);
	write_text(T.path, replace(CONF_TEXT, "\"threshold\": 3", "\"threshold\": 5"), 0640);
	assert_int_equal(prepare_fault(&st, CFG_EDIT_CONFLICT), -1);
}

/* ---- the kind of a refusal (web: 409, 404, 400, 500) ------------------------------ */

static void test_kind_first_error_wins(void **state)
{
	(void)state;
	/* Several changes refused: the kind is the first one's. */
	cfg_edit_bool(T.e, "vpn_monitor.vpns[nowhere].rekey", 1);
	cfg_edit_bool(T.e, "vpn_monitor..interval", 1);
	static const char *const msgs[] = {
		"vpn_monitor.vpns[nowhere].rekey: no VPN named \"nowhere\"",
		"vpn_monitor..interval: malformed path (an empty key)",
	};
	refused(CFG_EDIT_NOT_FOUND, 2, msgs, NULL);
	cfg_errors_free(&T.errs);
	cfg_errors_init(&T.errs);
	cfg_edit_free(T.e);
	T.e = cfg_edit_new();
	cfg_edit_bool(T.e, "vpn_monitor..interval", 1);
	cfg_edit_bool(T.e, "vpn_monitor.vpns[nowhere].rekey", 1);
	refused(CFG_EDIT_INVALID, 2, (const char *const[]){ msgs[1], msgs[0] }, NULL);
}

static void test_kind_element_of_no_array(void **state)
{
	(void)state;
	/* "[NAME]" after a key that is no array: a malformed edit, not a
	 * missing element. */
	cfg_edit_bool(T.e, "vpn_monitor.vici_socket[a].b", 1);
	refused1(CFG_EDIT_INVALID, "vpn_monitor.vici_socket[a].b: no element of \"vici_socket\" named \"a\"");
}

static void test_kind_not_json(void **state)
{
	(void)state;
	/* Not checked against a stamp, and no longer JSON: reload first. */
	write_text(T.path, "[1, 2]\n", 0640);
	cfg_edit_int(T.e, "vpn_monitor.interval", 30);
	char *text = (char *)"x";
	struct cfg_edit_fault f = { CFG_EDIT_OK, 12345 };
	assert_null(track(cfg_edit_prepare(T.e, T.path, NULL, &text, &T.errs, &f)));
	assert_null(text);
	assert_int_equal(f.kind, CFG_EDIT_CONFLICT);
	assert_int_equal(f.tag, -1);
	assert_int_equal(T.errs.n, 1);
	assert_non_null(strstr(T.errs.msg[0], "not a JSON object"));
}

static void test_kind_secrets_invalid(void **state)
{
	(void)state;
	/* The edit is fine but the secrets file is not: invalid, no change
	 * to blame. */
	struct cfg_edit_stamp st;
	load_stamp(&st);
	write_text(T.secrets, "{ \"psk\": ", 0600);
	cfg_edit_tag(T.e, 9);
	cfg_edit_int(T.e, "vpn_monitor.interval", 30);
	assert_int_equal(prepare_fault(&st, CFG_EDIT_INVALID), -1);
}

/* ---- the settings table ------------------------------------------------------------ */

static void test_settings_find_and_path(void **state)
{
	(void)state;
	assert_int_equal(cfg_setting_find(CFG_SCOPE_VPN, "rekey"), CFG_SETTING_VPN_REKEY);
	assert_int_equal(cfg_setting_find(CFG_SCOPE_VPN, "destination_ip"), CFG_SETTING_VPN_DESTINATION_IP);
	assert_int_equal(cfg_setting_find(CFG_SCOPE_MONITOR, "threshold"), CFG_SETTING_MON_THRESHOLD);
	assert_int_equal(cfg_setting_find(CFG_SCOPE_MONITOR, "rekey"), -1);   /* a VPN's, not the monitor's */
	assert_int_equal(cfg_setting_find(CFG_SCOPE_VPN, "interval"), -1);
	assert_int_equal(cfg_setting_find(CFG_SCOPE_VPN, "name"), -1);        /* not changed by the agent */
	assert_string_equal(keep(cfg_setting_path(CFG_SETTING_VPN_OPTIMIZED, "site.b")),
			    "vpn_monitor.vpns[site.b].optimized");
	assert_string_equal(keep(cfg_setting_path(CFG_SETTING_MON_INTERVAL, NULL)), "vpn_monitor.interval");
}

/* Prepares T.e, which must be valid (whether it changes the file or not). */
static void accepted(void)
{
	char *text = NULL;
	struct cfg_edit_fault f = { CFG_EDIT_IO, 12345 };
	struct cfg *n = track(cfg_edit_prepare(T.e, T.path, NULL, &text, &T.errs, &f));
	if (!n)
		dump_errs();
	assert_non_null(n);
	free(text);
	assert_int_equal(T.errs.n, 0);
	assert_int_equal(f.kind, CFG_EDIT_OK);
}

/* Each setting, through its path, is one the loader knows and takes a
 * value of its type; each INT's range is exactly the loader's. */
static void test_settings_match_loader(void **state)
{
	(void)state;
	for (int i = 0; i < CFG_SETTING_COUNT; i++) {
		const struct cfg_setting *s = &cfg_settings[i];
		char *path = keep(cfg_setting_path((enum cfg_setting_id)i, "vpn3"));
		long ok[2] = { s->min, s->max }, bad[2] = { s->min - 1, s->max + 1 };
		for (int j = 0; j < (s->type == CFG_SETTING_INT ? 2 : 1); j++) {
			cfg_edit_free(T.e);
			T.e = cfg_edit_new();
			if (s->type == CFG_SETTING_BOOL)
				cfg_edit_bool(T.e, path, 1);
			else if (s->type == CFG_SETTING_STR)
				cfg_edit_str(T.e, path, i == CFG_SETTING_VPN_DESTINATION_IP ? "192.0.2.9" : "lo");
			else
				cfg_edit_int(T.e, path, ok[j]);
			accepted();
			if (s->type != CFG_SETTING_INT)
				continue;
			cfg_edit_free(T.e);
			T.e = cfg_edit_new();
			cfg_edit_int(T.e, path, bad[j]);
			refused(CFG_EDIT_INVALID, 1, NULL, "is out of range");
			cfg_errors_free(&T.errs);
			cfg_errors_init(&T.errs);
		}
	}
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_set_bool_int_str),
		T_(test_remove),
		T_(test_set_adds_objects),
		T_(test_monitor_and_rekey_together),
		T_(test_mode_kept),
		T_(test_symlink_kept),
		T_(test_no_change_writes_nothing),
		T_(test_rekey_without_monitor),
		T_(test_monitor_off_under_rekey),
		T_(test_rename_to_taken_name),
		T_(test_out_of_range),
		T_(test_unknown_vpn),
		T_(test_wrong_type),
		T_(test_wrong_type_bool),
		T_(test_bad_address),
		T_(test_unknown_key),
		T_(test_bad_paths),
		T_(test_changed_on_disk),
		T_(test_touched_only_is_not_a_change),
		T_(test_file_gone),
		T_(test_commit_failure_leaves_file),
		T_(test_fault_tag),
		T_(test_kind_first_error_wins),
		T_(test_kind_element_of_no_array),
		T_(test_kind_not_json),
		T_(test_kind_secrets_invalid),
		T_(test_settings_find_and_path),
		T_(test_settings_match_loader),
	};
	return cmocka_run_group_tests_name("cfg_edit", tests, NULL, NULL);
}
