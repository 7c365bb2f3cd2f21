/* SPDX-License-Identifier: BSD-2-Clause */
/* test_syslog_fmt.c: unit tests of core/syslog/syslog_fmt.c, struct event ->
 * RFC 5424 message (and the classic local form), and of core/syslog/journal_fmt.c
 * (journald's native protocol). valid() is an independent parser of the RFC 5424
 * grammar (header fields, SD elements, escapes, UTF-8) that every output
 * goes through, whatever the cap. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "core/ev.h"
#include "core/syslog/journal_fmt.h"
#include "core/syslog/syslog_fmt.h"

/* 2026-11-23T10:11:12.123456Z */
#define T_SEC 1795428672
#define T_NSEC 123456789L
#define T_STR "2026-11-23T10:11:12.123456Z"

/* ---- an RFC 5424 validator ------------------------------------------------ */

static int pua(unsigned char c)
{
	return c >= 33 && c <= 126;
}

static size_t u8len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp, min;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0 : len;
}

static int utf8_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t l = u8len((const unsigned char *)s + i, n - i);
		if (!l)
			return 0;
		i += l;
	}
	return 1;
}

/* A token of 1..max PRINTUSASCII up to the next SP; *p moves past the SP. */
static int token(const char **p, size_t max, char *copy, size_t copysize)
{
	const char *s = *p;
	size_t n = 0;
	while (pua((unsigned char)s[n]))
		n++;
	if (n < 1 || n > max || s[n] != ' ')
		return 0;
	if (copy) {
		if (n >= copysize)
			return 0;
		memcpy(copy, s, n);
		copy[n] = '\0';
	}
	*p = s + n + 1;
	return 1;
}

static int sd_name(const char **p)
{
	size_t n = 0;
	const char *s = *p;
	while (pua((unsigned char)s[n]) && s[n] != '=' && s[n] != ']' && s[n] != '"')
		n++;
	if (n < 1 || n > 32)
		return 0;
	*p = s + n;
	return 1;
}

static int timestamp_ok(const char *t)
{
	if (!strcmp(t, "-"))
		return 1;
	int y, mo, d, h, mi, s, n = 0;
	char frac[8];
	/* strict shape: YYYY-MM-DDTHH:MM:SS.ffffffZ */
	if (strlen(t) != 27 || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%6[0-9]Z%n", &y, &mo, &d, &h, &mi, &s,
				      frac, &n) != 7 || n != 27)
		return 0;
	return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 60;
}

struct parsed {
	int pri;
	char ts[64], host[300], app[64], procid[140], msgid[40];
	int nil_sd;
	unsigned nelems, nparams;
	const char *msg; /* after the SP, or NULL */
};

/* 1 if m is a valid RFC 5424 message (as this formatter must write it). */
static int valid(const char *m, struct parsed *r)
{
	memset(r, 0, sizeof(*r));
	const char *p = m;
	if (*p++ != '<')
		return 0;
	int nd = 0;
	r->pri = 0;
	while (*p >= '0' && *p <= '9' && nd < 4)
		r->pri = r->pri * 10 + (*p++ - '0'), nd++;
	if (nd < 1 || nd > 3 || (nd > 1 && m[1] == '0') || r->pri > 191)
		return 0;
	if (strncmp(p, ">1 ", 3))
		return 0;
	p += 3;
	if (!token(&p, 64, r->ts, sizeof(r->ts)) || !timestamp_ok(r->ts) ||
	    !token(&p, 255, r->host, sizeof(r->host)) || !token(&p, 48, r->app, sizeof(r->app)) ||
	    !token(&p, 128, r->procid, sizeof(r->procid)) || !token(&p, 32, r->msgid, sizeof(r->msgid)))
		return 0;
	if (*p == '-') {
		r->nil_sd = 1;
		p++;
	} else {
		if (*p != '[')
			return 0;
		while (*p == '[') {
			p++;
			if (!sd_name(&p))
				return 0;
			while (*p == ' ') {
				p++;
				if (!sd_name(&p) || *p++ != '=' || *p++ != '"')
					return 0;
				const char *v = p;
				while (*p && *p != '"') {
					if (*p == ']')
						return 0;
					if (*p == '\\') {
						if (p[1] != '"' && p[1] != '\\' && p[1] != ']')
							return 0;
						p++;
					}
					p++;
				}
				if (*p++ != '"' || !utf8_ok(v, (size_t)(p - 1 - v)))
					return 0;
				r->nparams++;
			}
			if (*p++ != ']')
				return 0;
			r->nelems++;
		}
	}
	if (*p == '\0')
		return 1;
	if (*p != ' ')
		return 0;
	r->msg = p + 1;
	if (!strncmp(r->msg, "\xef\xbb\xbf", 3))
		return utf8_ok(r->msg + 3, strlen(r->msg + 3));
	return 1;
}

static void test_validator(void **state)
{
	(void)state;
	struct parsed r;
	static const char *const bad[] = {
		"<192>1 - h a p m -", "<027>1 - h a p m -", "<27>2 - h a p m -",
		"<27>1 2026-11-23T10:11:12Z h a p m -", "<27>1 - h a p m",
		"<27>1 - h a p m [x k=\"v\"", "<27>1 - h a p m [x k=\"a]b\"]",
		"<27>1 - h a p m [x k=\"a\\qb\"]", "<27>1 - h a p m [x k=v]",
		"<27>1 - h a p m [x k=\"\xff\"]", "<27>1 - h a p m -x",
		"<27>1 - h a p m - \xef\xbb\xbf\xff",
		"<27>1 - h a p 012345678901234567890123456789012 -",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (valid(bad[i], &r))
			fail_msg("validator accepted %s", bad[i]);
	assert_true(valid("<0>1 - h a p m -", &r));
	assert_true(valid("<27>1 - h a p m [x k=\"a\\]\\\"\\\\\"][y] any \xff", &r));
	assert_int_equal(r.nelems, 2);
	assert_int_equal(r.nparams, 1);
}

/* ---- helpers -------------------------------------------------------------- */

static struct syslog_fmt_opts opts(void)
{
	struct syslog_fmt_opts o = {
		.facility = 3, .hostname = "gw1.example.net", .app_name = NULL, .procid = 4242,
	};
	return o;
}

static void mkevent(struct event *e, enum ev_kind kind, uint64_t id)
{
	ev_begin(e, kind);
	e->id = id;
	e->when.tv_sec = T_SEC;
	e->when.tv_nsec = T_NSEC;
}

static void text(struct event *e, const char *t)
{
	snprintf(e->text, sizeof(e->text), "%s", t);
}

/* A parameter stored as given, past ev_param's own escaping (which keeps
 * what the agent publishes clean): the formatters must still cope with
 * control characters and invalid UTF-8 on their own. */
static void raw_param(struct event *e, const char *name, const char *value)
{
	ev_param_str(e, name, "");
	snprintf(e->params[e->nparams - 1].value, EV_VALUE_MAX, "%s", value);
}

static int fmt(const struct event *e, const struct syslog_fmt_opts *o, char *out, size_t cap)
{
	int n = syslog_fmt_event(e, o, out, cap);
	if (n >= 0) {
		struct parsed r;
		assert_int_equal((size_t)n, strlen(out));
		if (!valid(out, &r))
			fail_msg("invalid RFC 5424 message: %s", out);
	}
	return n;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_exact(void **state)
{
	(void)state;
	struct event e;
	struct syslog_fmt_opts o = opts();
	char out[1024];
	mkevent(&e, EV_TUNNEL_DOWN, 17);
	ev_param(&e, "vpn", "%s", "vpn-a");
	ev_param(&e, "reason", "%s", "a \"quoted\" \\ back]slash");
	text(&e, "VPN vpn-a is down");
	int n = fmt(&e, &o, out, sizeof(out));
	const char *want = "<27>1 " T_STR " gw1.example.net gvpn-agent 4242 TUNNEL_DOWN "
			   "[gvpn@32473 eventid=\"17\" vpn=\"vpn-a\" reason=\"a \\\"quoted\\\" \\\\ back\\]slash\"] "
			   "VPN vpn-a is down";
	assert_string_equal(out, want);
	assert_int_equal(n, (int)strlen(want));
}

static void test_sd_id(void **state)
{
	(void)state;
	assert_string_equal(SYSLOG_FMT_SD_ID, "gvpn@32473");
}

static void test_no_params_bom(void **state)
{
	(void)state;
	struct event e;
	struct syslog_fmt_opts o = opts();
	char out[512];
	mkevent(&e, EV_AGENT_STOPPING, 9);
	text(&e, "gvpn-agent stopping");
	o.bom = 1;
	fmt(&e, &o, out, sizeof(out));
	assert_string_equal(out, "<29>1 " T_STR " gw1.example.net gvpn-agent 4242 AGENT_STOPPING "
				 "[gvpn@32473 eventid=\"9\"] \xef\xbb\xbfgvpn-agent stopping");
	/* no text: no MSG, no trailing SP */
	text(&e, "");
	fmt(&e, &o, out, sizeof(out));
	assert_string_equal(out, "<29>1 " T_STR " gw1.example.net gvpn-agent 4242 AGENT_STOPPING "
				 "[gvpn@32473 eventid=\"9\"]");
}

static void test_pri(void **state)
{
	(void)state;
	static const struct {
		int fac, sev, pri;
	} cases[] = {
		{ 3, LOG_ERR, 27 }, { 23, LOG_DEBUG, 191 }, { 0, LOG_EMERG, 0 },
		{ 3, -5, 24 },      /* clamped to emerg */
		{ 3, 42, 31 },      /* clamped to debug */
	};
	struct event e;
	struct syslog_fmt_opts o = opts();
	char out[512], want[16];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mkevent(&e, EV_AGENT_STARTED, 1);
		e.severity = cases[i].sev;
		o.facility = cases[i].fac;
		assert_true(fmt(&e, &o, out, sizeof(out)) > 0);
		snprintf(want, sizeof(want), "<%d>1 ", cases[i].pri);
		assert_memory_equal(out, want, strlen(want));
	}
	o.facility = 24;
	assert_int_equal(syslog_fmt_event(&e, &o, out, sizeof(out)), -1);
	o.facility = -1;
	assert_int_equal(syslog_fmt_event(&e, &o, out, sizeof(out)), -1);
	o.facility = LOG_DAEMON; /* 24: the syslog.h value, not the code */
	assert_int_equal(syslog_fmt_event(&e, &o, out, sizeof(out)), -1);
	assert_int_equal(syslog_fmt_facility_code("daemon"), 3);
	assert_int_equal(syslog_fmt_facility_code("local7"), 23);
	assert_int_equal(syslog_fmt_facility_code("kern"), 0);
	assert_int_equal(syslog_fmt_facility_code("nope"), -1);
	assert_string_equal(syslog_fmt_severity_name(LOG_ERR), "err");
	assert_string_equal(syslog_fmt_severity_name(LOG_DEBUG), "debug");
	assert_null(syslog_fmt_severity_name(8));
	assert_null(syslog_fmt_severity_name(-1));
}

static void test_timestamp(void **state)
{
	(void)state;
	struct event e;
	struct syslog_fmt_opts o = opts();
	char out[512];
	struct parsed r;
	mkevent(&e, EV_AGENT_STARTED, 1);
	fmt(&e, &o, out, sizeof(out));
	assert_true(valid(out, &r));
	assert_string_equal(r.ts, T_STR);
	e.when.tv_sec = 0;
	e.when.tv_nsec = 999;
	fmt(&e, &o, out, sizeof(out));
	valid(out, &r);
	assert_string_equal(r.ts, "1970-01-01T00:00:00.000000Z");
	e.when.tv_nsec = 999999999;
	fmt(&e, &o, out, sizeof(out));
	valid(out, &r);
	assert_string_equal(r.ts, "1970-01-01T00:00:00.999999Z");
	e.when.tv_sec = (time_t)400000000000LL; /* year > 9999 */
	fmt(&e, &o, out, sizeof(out));
	valid(out, &r);
	assert_string_equal(r.ts, "-");
}

static void test_header_fields(void **state)
{
	(void)state;
	struct event e;
	struct syslog_fmt_opts o = opts();
	char out[1024], host[300];
	struct parsed r;
	mkevent(&e, EV_AGENT_STARTED, 1);
	o.hostname = "bad host";
	o.app_name = "app";
	o.procid = 0;
	fmt(&e, &o, out, sizeof(out));
	valid(out, &r);
	assert_string_equal(r.host, "-");
	assert_string_equal(r.app, "app");
	assert_string_equal(r.procid, "-");
	memset(host, 'h', 256);
	host[256] = '\0';
	o.hostname = host;
	o.app_name = "a-name-that-is-far-longer-than-forty-eight-characters-long";
	fmt(&e, &o, out, sizeof(out));
	valid(out, &r);
	assert_string_equal(r.host, "-");
	assert_string_equal(r.app, "-");
	host[255] = '\0';
	o.hostname = NULL;
	fmt(&e, &o, out, sizeof(out));
	valid(out, &r);
	assert_string_equal(r.host, "-");
	o.hostname = host;
	fmt(&e, &o, out, sizeof(out));
	valid(out, &r);
	assert_string_equal(r.host, host);
	e.kind = EV_KIND_COUNT; /* unknown kind: still a MSGID */
	fmt(&e, &o, out, sizeof(out));
	valid(out, &r);
	assert_string_equal(r.msgid, "UNKNOWN");
}

static void test_param_names(void **state)
{
	(void)state;
	struct event e;
	struct syslog_fmt_opts o = opts();
	char out[1024];
	mkevent(&e, EV_CONFIG_REJECTED, 3);
	ev_param(&e, "a b", "1");
	ev_param(&e, "x=y", "2");
	ev_param(&e, "q\"]", "3");
	ev_param(&e, "", "dropped");
	ev_param(&e, "eventid", "dropped");
	ev_param(&e, "caf\xc3\xa9", "4");
	ev_param(&e, "ok", "5");
	fmt(&e, &o, out, sizeof(out));
	const char *sd = strchr(out, '[');
	assert_non_null(sd);
	assert_string_equal(sd, "[gvpn@32473 eventid=\"3\" a_b=\"1\" x_y=\"2\" q__=\"3\" caf__=\"4\" ok=\"5\"]");
}

static void test_values_utf8(void **state)
{
	(void)state;
	struct event e;
	struct syslog_fmt_opts o = opts();
	char out[1024];
	mkevent(&e, EV_REGISTRATION_REFUSED, 4);
	ev_param(&e, "ok", "caf\xc3\xa9 \xe2\x82\xac");
	raw_param(&e, "bad", "a\xff" "b\xc3" "c\xed\xa0\x80");
	text(&e, "bad \xc0\xaf text");
	fmt(&e, &o, out, sizeof(out));
	const char *sd = strchr(out, '[');
	assert_string_equal(sd, "[gvpn@32473 eventid=\"4\" ok=\"caf\xc3\xa9 \xe2\x82\xac\" "
				"bad=\"a?b?c???\"] bad ?? text");
}

/* Every cap from nothing to everything: valid or -1, within the limit, and
 * the cut order is MSG, then params from the end, then SD "-". */
static void sweep(const struct event *e, int bom, const char *full_msg)
{
	struct syslog_fmt_opts o = opts();
	o.bom = bom;
	char full[4096], out[4096];
	int fl = fmt(e, &o, full, sizeof(full));
	assert_true(fl > 0);
	int min = -1, saw_cut_msg = 0, saw_dropped = 0, saw_nil = 0;
	unsigned prev_params = 0;
	for (size_t cap = 0; cap <= (size_t)fl + 2; cap++) {
		char *buf = malloc(cap ? cap : 1);
		int n = fmt(e, &o, buf, cap);
		if (n < 0) {
			assert_int_equal(min, -1); /* -1 only below some size */
			free(buf);
			continue;
		}
		if (min < 0)
			min = (int)cap;
		assert_true((size_t)n <= cap - 1);
		struct parsed r;
		assert_true(valid(buf, &r));
		assert_true(r.nparams >= prev_params);
		prev_params = r.nparams;
		saw_nil |= r.nil_sd;
		saw_dropped |= !r.nil_sd && r.nparams < e->nparams + 1;
		saw_cut_msg |= r.msg && n < fl;
		if (r.msg) {
			/* MSG only with the whole SD; a prefix of the full one */
			assert_int_equal(r.nparams, e->nparams + 1);
			assert_memory_equal(buf, full, (size_t)n);
			const char *m = r.msg + (bom ? 3 : 0);
			assert_true(strlen(m) >= 1);
			assert_true(!strncmp(full_msg, m, strlen(m)));
			assert_true(utf8_ok(m, strlen(m)));
		}
		if (cap > (size_t)fl)
			assert_string_equal(buf, full);
		free(buf);
	}
	assert_true(min > 0);
	assert_true(saw_nil && saw_dropped && saw_cut_msg);
	/* the same through max_len, with a big buffer */
	for (size_t lim = 1; lim <= (size_t)fl; lim += 7) {
		o.max_len = lim;
		int n = fmt(e, &o, out, sizeof(out));
		assert_true(n < 0 || (size_t)n <= lim);
	}
}

static void test_caps(void **state)
{
	(void)state;
	struct event e;
	mkevent(&e, EV_TUNNEL_DOWN, 123456);
	ev_param(&e, "vpn", "vpn-\"a\"");
	ev_param(&e, "state", "down");
	ev_param(&e, "misses", "10");
	ev_param(&e, "remote", "192.0.2.1]\\");
	const char *t = "VPN vpn-\"a\" is down: 10 consecutive probes unanswered";
	text(&e, t);
	sweep(&e, 0, t);
	sweep(&e, 1, t);
}

static void test_caps_multibyte(void **state)
{
	(void)state;
	struct event e;
	/* 2-, 3- and 4-byte characters, in values and in MSG */
	const char *t = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80x\xe2\x82\xac\xf0\x9f\x98\x80\xc3\xa9";
	mkevent(&e, EV_MEMBER_REGISTERED, 77);
	ev_param(&e, "identity", "%s", t);
	ev_param(&e, "suite", "\xf0\x9f\x98\x80\"]");
	text(&e, t);
	sweep(&e, 0, t);
	sweep(&e, 1, t);
}

static void test_caps_big(void **state)
{
	(void)state;
	struct event e;
	char v[EV_VALUE_MAX], t[EV_TEXT_MAX], out[SYSLOG_FMT_UDP_MAX + 1];
	struct syslog_fmt_opts o = opts();
	memset(v, ']', sizeof(v) - 1); /* every byte escaped */
	v[sizeof(v) - 1] = '\0';
	memset(t, 'm', sizeof(t) - 1);
	t[sizeof(t) - 1] = '\0';
	mkevent(&e, EV_TUNNEL_UP, 5);
	for (int i = 0; i < EV_MAX_PARAMS; i++)
		ev_param(&e, "p0123456789012345678901234567890", "%s", v); /* 31 chars */
	text(&e, t);
	char *full = malloc(8192);
	int fl = fmt(&e, &o, full, 8192);
	assert_true(fl > SYSLOG_FMT_UDP_MAX);
	int n = fmt(&e, &o, out, sizeof(out));
	assert_true(n > 0 && n <= SYSLOG_FMT_UDP_MAX);
	struct parsed r;
	assert_true(valid(out, &r));
	assert_null(r.msg);
	assert_true(r.nparams < EV_MAX_PARAMS + 1);
	o.max_len = 300;
	n = fmt(&e, &o, full, 8192);
	assert_true(n > 0 && n <= 300);
	free(full);
}

static void test_bad_args(void **state)
{
	(void)state;
	struct event e;
	struct syslog_fmt_opts o = opts();
	char out[64];
	mkevent(&e, EV_AGENT_STARTED, 1);
	assert_int_equal(syslog_fmt_event(NULL, &o, out, sizeof(out)), -1);
	assert_int_equal(syslog_fmt_event(&e, NULL, out, sizeof(out)), -1);
	assert_int_equal(syslog_fmt_event(&e, &o, NULL, sizeof(out)), -1);
	assert_int_equal(syslog_fmt_event(&e, &o, out, 0), -1);
	assert_int_equal(syslog_fmt_event(&e, &o, out, 5), -1);
	assert_string_equal(out, "");
	e.nparams = 1000; /* corrupt: clamped, not overrun */
	char big[8192];
	assert_true(fmt(&e, &o, big, sizeof(big)) > 0);
}

static void test_every_kind(void **state)
{
	(void)state;
	struct syslog_fmt_opts o = opts();
	o.facility = 16; /* local0 */
	char out[1024];
	for (int k = 0; k < EV_KIND_COUNT; k++) {
		struct event e;
		struct parsed r;
		mkevent(&e, (enum ev_kind)k, (uint64_t)k + 1);
		ev_param(&e, "k", "%d", k);
		text(&e, "text");
		int n = fmt(&e, &o, out, sizeof(out));
		assert_true(n > 0);
		assert_true(valid(out, &r));
		assert_string_equal(r.msgid, ev_kind_msgid((enum ev_kind)k));
		assert_string_not_equal(r.msgid, "UNKNOWN");
		assert_true(strlen(r.msgid) <= 32);
		assert_int_equal(r.pri, 16 * 8 + ev_kind_severity((enum ev_kind)k));
		assert_int_equal(r.nelems, 1);
		assert_int_equal(r.nparams, 2);
		assert_non_null(syslog_fmt_severity_name(ev_kind_severity((enum ev_kind)k)));
	}
}

/* ---- the classic local form ------------------------------------------------ */

static void test_bsd_event(void **state)
{
	(void)state;
	struct syslog_fmt_opts o = opts();
	o.bsd = 1;
	struct event e;
	char out[1024];
	mkevent(&e, EV_MEMBER_REGISTERED, 7);
	raw_param(&e, "member", "a\nb");
	ev_param(&e, "q", "x\"y]");
	text(&e, "text\nPRIORITY=0 \xff");
	int n = syslog_fmt_event(&e, &o, out, sizeof(out));
	const char *want = "<29>Nov 23 10:11:12 gvpn-agent[4242]: MEMBER_REGISTERED "
			   "[gvpn@32473 eventid=\"7\" member=\"a?b\" q=\"x\\\"y\\]\"] text?PRIORITY=0 ?";
	assert_string_equal(out, want);
	assert_int_equal(n, (int)strlen(want));
	o.procid = 0; /* no pid: no brackets */
	e.nparams = 0;
	text(&e, "");
	syslog_fmt_event(&e, &o, out, sizeof(out));
	assert_string_equal(out, "<29>Nov 23 10:11:12 gvpn-agent: MEMBER_REGISTERED [gvpn@32473 eventid=\"7\"]");
}

static void test_bsd_line(void **state)
{
	(void)state;
	struct syslog_fmt_opts o = opts();
	struct timespec when = { .tv_sec = T_SEC + 86400 * 10 };
	char out[256];
	int n = syslog_fmt_line(LOG_INFO, "syslog", "hello\nworld\t\xc3\xa9", &when, &o, out, sizeof(out));
	assert_string_equal(out, "<30>Dec  3 10:11:12 gvpn-agent[4242]: syslog: hello?world?\xc3\xa9");
	assert_int_equal(n, (int)strlen(out));
	/* Cut on a character boundary: the two-byte e-acute does not fit. */
	o.max_len = strlen("<30>Dec  3 10:11:12 gvpn-agent[4242]: syslog: hello?world?") + 1;
	syslog_fmt_line(LOG_INFO, "syslog", "hello\nworld\t\xc3\xa9", &when, &o, out, sizeof(out));
	assert_string_equal(out, "<30>Dec  3 10:11:12 gvpn-agent[4242]: syslog: hello?world?");
	o.max_len = 0;
	syslog_fmt_line(42, NULL, "x", &when, &o, out, sizeof(out)); /* clamped, no subsystem */
	assert_string_equal(out, "<31>Dec  3 10:11:12 gvpn-agent[4242]: x");
	o.facility = 24;
	assert_int_equal(syslog_fmt_line(LOG_INFO, "s", "x", &when, &o, out, sizeof(out)), -1);
	o.facility = 3;
	assert_int_equal(syslog_fmt_line(LOG_INFO, "s", "x", &when, &o, out, 10), -1);
}

/* ---- journald's native protocol ------------------------------------------ */

static void test_journal_names(void **state)
{
	(void)state;
	char n[JOURNAL_FMT_NAME_MAX + 1];
	assert_int_equal(journal_fmt_param_name("spi-in", n, sizeof(n)), 11);
	assert_string_equal(n, "GVPN_SPI_IN");
	assert_int_equal(journal_fmt_param_name("a.b c=\xc3\xa9_9", n, sizeof(n)), 15);
	assert_string_equal(n, "GVPN_A_B_C____9");
	assert_int_equal(journal_fmt_param_name("", n, sizeof(n)), 0);
	assert_int_equal(journal_fmt_param_name("msgid", n, sizeof(n)), 0);
	assert_int_equal(journal_fmt_param_name("EventId", n, sizeof(n)), 0);
	assert_int_equal(journal_fmt_param_name("subsystem", n, sizeof(n)), 0);
	assert_int_equal(journal_fmt_param_name("abc", n, 8), 0); /* no room */
}

static void test_journal_event(void **state)
{
	(void)state;
	struct journal_fmt_opts o = { .facility = 16 };
	struct event e;
	char out[2048];
	mkevent(&e, EV_CONFIG_RELOADED, 12);
	raw_param(&e, "file", "/etc/a\nPRIORITY=0");
	ev_param(&e, "msgid", "forged");
	raw_param(&e, "bad", "\xff");
	text(&e, "reloaded");
	int n = journal_fmt_event(&e, &o, out, sizeof(out));
	static const char want[] = "MESSAGE=reloaded\nPRIORITY=5\nSYSLOG_FACILITY=16\nSYSLOG_IDENTIFIER=gvpn-agent\n"
				   "GVPN_MSGID=CONFIG_RELOADED\nGVPN_EVENTID=12\n"
				   "GVPN_FILE\n\x11\0\0\0\0\0\0\0/etc/a\nPRIORITY=0\n"
				   "GVPN_BAD=?\n";
	assert_int_equal(n, (int)sizeof(want) - 1);
	assert_memory_equal(out, want, sizeof(want) - 1);
	/* Too small for the parameters: they go, the fixed fields stay. */
	size_t fixed = strlen("MESSAGE=reloaded\nPRIORITY=5\nSYSLOG_FACILITY=16\nSYSLOG_IDENTIFIER=gvpn-agent\n"
			      "GVPN_MSGID=CONFIG_RELOADED\nGVPN_EVENTID=12\n");
	assert_int_equal(journal_fmt_event(&e, &o, out, fixed + 5), (int)fixed);
	assert_int_equal(journal_fmt_event(&e, &o, out, fixed - 1), -1);
	o.facility = -1;
	assert_int_equal(journal_fmt_event(&e, &o, out, sizeof(out)), -1);
}

static void test_journal_line(void **state)
{
	(void)state;
	struct journal_fmt_opts o = { .facility = 3, .identifier = "x" };
	char out[512];
	int n = journal_fmt_line(LOG_ERR, "gks", "two\nlines", &o, out, sizeof(out));
	static const char want[] = "MESSAGE\n\x0e\0\0\0\0\0\0\0gks: two\nlines\nPRIORITY=3\n"
				   "SYSLOG_FACILITY=3\nSYSLOG_IDENTIFIER=x\nGVPN_SUBSYSTEM=gks\n";
	assert_int_equal(n, (int)sizeof(want) - 1);
	assert_memory_equal(out, want, sizeof(want) - 1);
	n = journal_fmt_line(-3, NULL, "plain", &o, out, sizeof(out));
	static const char want2[] = "MESSAGE=plain\nPRIORITY=0\nSYSLOG_FACILITY=3\nSYSLOG_IDENTIFIER=x\n";
	assert_int_equal(n, (int)sizeof(want2) - 1);
	assert_memory_equal(out, want2, sizeof(want2) - 1);
	assert_int_equal(journal_fmt_line(LOG_ERR, "gks", NULL, &o, out, sizeof(out)), -1);
}

int main(void)
{
	setenv("TZ", "UTC", 1); /* the classic form's time is local time */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bsd_event),
		cmocka_unit_test(test_bsd_line),
		cmocka_unit_test(test_journal_names),
		cmocka_unit_test(test_journal_event),
		cmocka_unit_test(test_journal_line),
		cmocka_unit_test(test_validator),
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_sd_id),
		cmocka_unit_test(test_no_params_bom),
		cmocka_unit_test(test_pri),
		cmocka_unit_test(test_timestamp),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_param_names),
		cmocka_unit_test(test_values_utf8),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_caps_multibyte),
		cmocka_unit_test(test_caps_big),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_every_kind),
	};
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
