/* SPDX-License-Identifier: BSD-2-Clause */
/* test_ev.c: unit tests of core/ev.c, the event bus and its history ring. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ev.h"
#include "core/log.h"

#define CAP 8

/* A subscriber / history visitor that keeps copies of what it is given. */
struct capture {
	size_t n;
	struct event ev[64];
	const struct event *last_ptr;
};

static void on_capture(const struct event *e, void *arg)
{
	struct capture *c = arg;
	c->last_ptr = e;
	if (c->n < ARRAY_SIZE(c->ev))
		c->ev[c->n] = *e;
	c->n++;
}

static struct capture cap_a, cap_b, hist;

static int setup(void **state)
{
	(void)state;
	ev_init(CAP);
	memset(&cap_a, 0, sizeof(cap_a));
	memset(&cap_b, 0, sizeof(cap_b));
	memset(&hist, 0, sizeof(hist));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ev_fini();
	return 0;
}

static uint64_t publish_numbered(int i)
{
	struct event e;
	ev_begin(&e, EV_CONFIG_RELOADED);
	ev_param(&e, "n", "%d", i);
	return ev_publish(&e, "event number %d", i);
}

/* ---- ids -------------------------------------------------------------------- */

static void test_ids_start_at_one(void **state)
{
	(void)state;
	assert_int_equal(ev_last_id(), 0);
	assert_int_equal(ev_history_len(), 0);
	assert_int_equal(ev_history_since(0, on_capture, &hist), 0);

	for (int i = 1; i <= 5; i++) {
		struct event e;
		ev_begin(&e, EV_AGENT_STARTED);
		uint64_t id = ev_publish(&e, "started %d", i);
		assert_int_equal(id, (uint64_t)i);
		assert_int_equal(e.id, id);
		assert_int_equal(ev_last_id(), id);
	}
}

/* ---- history ring ------------------------------------------------------------- */

static void check_consecutive(const struct capture *c, uint64_t first, size_t n)
{
	assert_int_equal(c->n, n);
	for (size_t i = 0; i < n; i++) {
		char want[64];
		uint64_t id = first + i;
		snprintf(want, sizeof(want), "event number %d", (int)id);
		assert_int_equal(c->ev[i].id, id);
		assert_string_equal(c->ev[i].text, want);
		snprintf(want, sizeof(want), "%d", (int)id);
		assert_string_equal(ev_get_param(&c->ev[i], "n"), want);
		assert_int_equal(c->ev[i].kind, EV_CONFIG_RELOADED);
	}
}

static void test_ring_keeps_last_cap(void **state)
{
	(void)state;
	assert_int_equal(ev_history_cap(), CAP);

	for (int i = 1; i <= 3; i++)
		publish_numbered(i);
	assert_int_equal(ev_history_len(), 3);
	assert_int_equal(ev_history_since(0, on_capture, &hist), 3);
	check_consecutive(&hist, 1, 3);

	for (int i = 4; i <= CAP; i++)
		publish_numbered(i);
	assert_int_equal(ev_history_len(), CAP);
	memset(&hist, 0, sizeof(hist));
	assert_int_equal(ev_history_since(0, on_capture, &hist), CAP);
	check_consecutive(&hist, 1, CAP);

	/* cap + 5 in all: the first five are gone. */
	for (int i = CAP + 1; i <= CAP + 5; i++)
		publish_numbered(i);
	assert_int_equal(ev_last_id(), CAP + 5);
	assert_int_equal(ev_history_len(), CAP);
	assert_int_equal(ev_history_cap(), CAP);
	memset(&hist, 0, sizeof(hist));
	assert_int_equal(ev_history_since(0, on_capture, &hist), CAP);
	check_consecutive(&hist, 6, CAP);

	/* Several times round the ring. */
	for (int i = CAP + 6; i <= 5 * CAP + 3; i++)
		publish_numbered(i);
	assert_int_equal(ev_history_len(), CAP);
	memset(&hist, 0, sizeof(hist));
	assert_int_equal(ev_history_since(0, on_capture, &hist), CAP);
	check_consecutive(&hist, 4 * CAP + 4, CAP);
}

static void test_ring_cap_zero_means_one(void **state)
{
	(void)state;
	ev_init(0);
	assert_int_equal(ev_history_cap(), 1);
	for (int i = 1; i <= 3; i++)
		publish_numbered(i);
	assert_int_equal(ev_history_len(), 1);
	assert_int_equal(ev_history_since(0, on_capture, &hist), 1);
	check_consecutive(&hist, 3, 1);
}

static void test_history_since(void **state)
{
	(void)state;
	for (int i = 1; i <= CAP + 5; i++)
		publish_numbered(i);

	assert_int_equal(ev_history_since(10, on_capture, &hist), 3);
	check_consecutive(&hist, 11, 3);

	memset(&hist, 0, sizeof(hist));
	assert_int_equal(ev_history_since(CAP + 4, on_capture, &hist), 1);
	check_consecutive(&hist, CAP + 5, 1);

	/* Up to date, or from the future: nothing. */
	memset(&hist, 0, sizeof(hist));
	assert_int_equal(ev_history_since(CAP + 5, on_capture, &hist), 0);
	assert_int_equal(ev_history_since(1000, on_capture, &hist), 0);
	assert_int_equal(hist.n, 0);

	/* Older than the oldest kept: everything kept. */
	assert_int_equal(ev_history_since(3, on_capture, &hist), CAP);
	check_consecutive(&hist, 6, CAP);

	/* Before wrapping. */
	ev_init(16);
	for (int i = 1; i <= 5; i++)
		publish_numbered(i);
	memset(&hist, 0, sizeof(hist));
	assert_int_equal(ev_history_since(2, on_capture, &hist), 3);
	check_consecutive(&hist, 3, 3);
}

/* ---- subscribers and parameters --------------------------------------------------- */

static void test_subscribers_get_everything(void **state)
{
	(void)state;
	assert_int_equal(ev_subscribe(on_capture, &cap_a), 0);
	assert_int_equal(ev_subscribe(on_capture, &cap_b), 0);

	struct timespec t0, t1;
	clock_gettime(CLOCK_REALTIME, &t0);
	struct event e;
	ev_begin(&e, EV_CONFIG_REJECTED);
	assert_int_equal(e.kind, EV_CONFIG_REJECTED);
	assert_int_equal(e.severity, ev_kind_severity(EV_CONFIG_REJECTED));
	assert_int_equal(e.nparams, 0);
	ev_param(&e, "path", "%s", "/etc/gvpn-agent/gvpn-agent.json");
	ev_param(&e, "line", "%u", 42u);
	ev_param(&e, "ratio", "%.2f", 0.5);
	ev_param(&e, "hex", "0x%04x", 0xbeefu);
	ev_param(&e, "empty", "%s", "");
	uint64_t id = ev_publish(&e, "configuration %s rejected at line %u", "gvpn-agent.json", 42u);
	clock_gettime(CLOCK_REALTIME, &t1);

	assert_int_equal(id, 1);
	assert_int_equal(cap_a.n, 1);
	assert_int_equal(cap_b.n, 1);
	const struct capture *caps[] = { &cap_a, &cap_b };
	for (size_t k = 0; k < ARRAY_SIZE(caps); k++) {
		const struct event *g = &caps[k]->ev[0];
		assert_int_equal(g->id, 1);
		assert_int_equal(g->kind, EV_CONFIG_REJECTED);
		assert_int_equal(g->severity, LOG_WARNING);
		assert_int_equal(g->nparams, 5);
		assert_string_equal(g->params[0].name, "path");
		assert_string_equal(g->params[0].value, "/etc/gvpn-agent/gvpn-agent.json");
		assert_string_equal(ev_get_param(g, "line"), "42");
		assert_string_equal(ev_get_param(g, "ratio"), "0.50");
		assert_string_equal(ev_get_param(g, "hex"), "0xbeef");
		assert_string_equal(ev_get_param(g, "empty"), "");
		assert_null(ev_get_param(g, "missing"));
		assert_null(ev_get_param(g, ""));
		assert_null(ev_get_param(g, "Line")); /* names are case-sensitive */
		assert_string_equal(g->text, "configuration gvpn-agent.json rejected at line 42");
		/* Stamped with the wall clock at publication. */
		assert_true(g->when.tv_sec > 0);
		assert_true(g->when.tv_sec >= t0.tv_sec && g->when.tv_sec <= t1.tv_sec);
	}
	/* The history holds the same event. */
	assert_int_equal(ev_history_since(0, on_capture, &hist), 1);
	assert_memory_equal(&hist.ev[0], &cap_a.ev[0], sizeof(struct event));

	/* Every later event reaches both, in order. */
	for (int i = 2; i <= 20; i++)
		publish_numbered(i);
	assert_int_equal(cap_a.n, 20);
	assert_int_equal(cap_b.n, 20);
	for (size_t i = 1; i < 20; i++) {
		assert_int_equal(cap_a.ev[i].id, i + 1);
		assert_int_equal(cap_b.ev[i].id, i + 1);
	}

	/* A parameter given twice: lookup finds the first. */
	ev_begin(&e, EV_AGENT_STOPPING);
	ev_param(&e, "why", "%s", "first");
	ev_param(&e, "why", "%s", "second");
	assert_int_equal(e.nparams, 2);
	assert_string_equal(ev_get_param(&e, "why"), "first");
}

static void test_unsubscribe(void **state)
{
	(void)state;
	assert_int_equal(ev_subscribe(on_capture, &cap_a), 0);
	assert_int_equal(ev_subscribe(on_capture, &cap_b), 0);
	publish_numbered(1);
	assert_int_equal(cap_a.n, 1);
	assert_int_equal(cap_b.n, 1);

	/* Same function, other argument: only that one goes. */
	ev_unsubscribe(on_capture, &cap_a);
	publish_numbered(2);
	assert_int_equal(cap_a.n, 1);
	assert_int_equal(cap_b.n, 2);

	/* Unknown subscriptions: no-ops. */
	ev_unsubscribe(on_capture, &hist);
	ev_unsubscribe(on_capture, &cap_a);
	publish_numbered(3);
	assert_int_equal(cap_a.n, 1);
	assert_int_equal(cap_b.n, 3);

	ev_unsubscribe(on_capture, &cap_b);
	publish_numbered(4);
	assert_int_equal(cap_a.n, 1);
	assert_int_equal(cap_b.n, 3);

	/* The slot can be used again. */
	assert_int_equal(ev_subscribe(on_capture, &cap_a), 0);
	publish_numbered(5);
	assert_int_equal(cap_a.n, 2);
	assert_int_equal(cap_a.ev[1].id, 5);
	ev_unsubscribe(on_capture, &cap_a);
}

static void test_subscriber_limit(void **state)
{
	(void)state;
	struct capture *many = calloc(32, sizeof(*many));
	assert_non_null(many);
	size_t ok = 0;
	for (size_t i = 0; i < 32; i++)
		if (ev_subscribe(on_capture, &many[i]) == 0)
			ok++;
	assert_true(ok >= 1 && ok < 32); /* bounded, and it says so */
	publish_numbered(1);
	for (size_t i = 0; i < 32; i++)
		assert_int_equal(many[i].n, i < ok ? 1 : 0);
	/* Freeing one slot makes room for one more. */
	ev_unsubscribe(on_capture, &many[0]);
	assert_int_equal(ev_subscribe(on_capture, &many[ok]), 0);
	assert_int_equal(ev_subscribe(on_capture, &many[ok + 1]), -1);
	for (size_t i = 0; i < 32; i++)
		ev_unsubscribe(on_capture, &many[i]);
	free(many);
}

/* A subscriber may look at the history (its event is already there) and
 * may publish in turn. */
static int reentered;

static void on_reenter(const struct event *e, void *arg)
{
	struct capture *c = arg;
	if (e->kind != EV_AGENT_STARTED)
		return;
	memset(c, 0, sizeof(*c));
	assert_int_equal(ev_history_since(e->id - 1, on_capture, c), 1);
	assert_int_equal(c->ev[0].id, e->id);
	if (!reentered++) {
		struct event f;
		ev_begin(&f, EV_AGENT_STOPPING);
		assert_int_equal(ev_publish(&f, "nested"), e->id + 1);
	}
}

static void test_subscriber_reentry(void **state)
{
	(void)state;
	reentered = 0;
	assert_int_equal(ev_subscribe(on_reenter, &hist), 0);
	assert_int_equal(ev_subscribe(on_capture, &cap_a), 0);
	struct event e;
	ev_begin(&e, EV_AGENT_STARTED);
	assert_int_equal(ev_publish(&e, "outer"), 1);
	assert_int_equal(ev_last_id(), 2);
	assert_int_equal(cap_a.n, 2);
	assert_int_equal(ev_history_len(), 2);
	assert_int_equal(e.id, 1);
	assert_string_equal(e.text, "outer");
}

/* ---- limits -------------------------------------------------------------------- */

static unsigned warnings;

static void count_warnings(int severity, const char *subsys, const char *msg, void *arg)
{
	(void)msg;
	(void)arg;
	if (severity == LOG_WARNING && !strcmp(subsys, "ev"))
		warnings++;
}

static void test_too_many_params(void **state)
{
	(void)state;
	struct {
		struct event e;
		unsigned char guard[256];
	} w;
	memset(w.guard, 0xa5, sizeof(w.guard));
	warnings = 0;
	assert_int_equal(log_add_sink(count_warnings, NULL), 0);

	ev_begin(&w.e, EV_AGENT_STARTED);
	for (int i = 0; i < EV_MAX_PARAMS + 5; i++) {
		char name[16];
		snprintf(name, sizeof(name), "p%d", i);
		ev_param(&w.e, name, "value-%d", i);
	}
	log_remove_sink(count_warnings, NULL);

	assert_int_equal(w.e.nparams, EV_MAX_PARAMS);
	assert_int_equal(warnings, 5);
	for (int i = 0; i < EV_MAX_PARAMS + 5; i++) {
		char name[16], value[32];
		snprintf(name, sizeof(name), "p%d", i);
		snprintf(value, sizeof(value), "value-%d", i);
		if (i < EV_MAX_PARAMS)
			assert_string_equal(ev_get_param(&w.e, name), value);
		else
			assert_null(ev_get_param(&w.e, name));
	}
	assert_string_equal(w.e.text, "");
	for (size_t i = 0; i < sizeof(w.guard); i++)
		assert_int_equal(w.guard[i], 0xa5);

	assert_int_equal(ev_subscribe(on_capture, &cap_a), 0);
	ev_publish(&w.e, "many parameters");
	assert_int_equal(cap_a.ev[0].nparams, EV_MAX_PARAMS);
	assert_string_equal(ev_get_param(&cap_a.ev[0], "p11"), "value-11");
	for (size_t i = 0; i < sizeof(w.guard); i++)
		assert_int_equal(w.guard[i], 0xa5);
}

static void test_long_strings_truncated(void **state)
{
	(void)state;
	char big[4 * EV_TEXT_MAX];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[EV_TEXT_MAX - 2] = 'L'; /* the last character that fits */
	big[EV_TEXT_MAX - 1] = 'C'; /* the first that does not */

	struct {
		struct event e;
		unsigned char guard[256];
	} w;
	memset(w.guard, 0xa5, sizeof(w.guard));
	assert_int_equal(ev_subscribe(on_capture, &cap_a), 0);

	ev_begin(&w.e, EV_CONFIG_REJECTED);
	/* A value and a name that are too long, too. */
	ev_param(&w.e, "value", "%s", big);
	char longname[2 * EV_NAME_MAX];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ev_param(&w.e, longname, "%s", "v");
	ev_publish(&w.e, "%s", big);

	const struct event *evs[] = { &w.e, &cap_a.ev[0], NULL };
	assert_int_equal(ev_history_since(0, on_capture, &hist), 1);
	evs[2] = &hist.ev[0];
	for (size_t k = 0; k < ARRAY_SIZE(evs); k++) {
		const struct event *g = evs[k];
		assert_int_equal(strnlen(g->text, EV_TEXT_MAX), EV_TEXT_MAX - 1);
		assert_int_equal(g->text[EV_TEXT_MAX - 1], '\0');
		assert_int_equal(g->text[EV_TEXT_MAX - 2], 'L');
		assert_memory_equal(g->text, big, EV_TEXT_MAX - 1);

		const char *v = ev_get_param(g, "value");
		assert_non_null(v);
		assert_int_equal(strnlen(v, EV_VALUE_MAX), EV_VALUE_MAX - 1);
		assert_memory_equal(v, big, EV_VALUE_MAX - 1);

		assert_int_equal(strnlen(g->params[1].name, EV_NAME_MAX), EV_NAME_MAX - 1);
		assert_string_equal(ev_get_param(g, g->params[1].name), "v");
		assert_null(ev_get_param(g, longname));
	}
	for (size_t i = 0; i < sizeof(w.guard); i++)
		assert_int_equal(w.guard[i], 0xa5);

	/* Exactly EV_TEXT_MAX - 1 characters fit whole. */
	big[EV_TEXT_MAX - 1] = '\0';
	struct event e;
	ev_begin(&e, EV_CONFIG_REJECTED);
	ev_publish(&e, "%s", big);
	assert_string_equal(e.text, big);
}

/* ---- catalogue ----------------------------------------------------------------- */

static void test_kind_catalogue(void **state)
{
	(void)state;
	/* Every kind: a valid RFC 5424 MSGID (1 to 32 printable US-ASCII
	 * characters, no space), unique, and a syslog severity. */
	for (int k = 0; k < EV_KIND_COUNT; k++) {
		const char *id = ev_kind_msgid((enum ev_kind)k);
		assert_non_null(id);
		assert_string_not_equal(id, "UNKNOWN");
		size_t len = strlen(id);
		assert_true(len >= 1 && len <= 32);
		for (size_t i = 0; i < len; i++)
			assert_true(id[i] >= 33 && id[i] <= 126);
		for (int j = 0; j < k; j++)
			assert_string_not_equal(id, ev_kind_msgid((enum ev_kind)j));
		int sev = ev_kind_severity((enum ev_kind)k);
		assert_true(sev >= LOG_EMERG && sev <= LOG_DEBUG);

		struct event e;
		ev_begin(&e, (enum ev_kind)k);
		assert_int_equal(e.severity, sev);
	}

	static const struct {
		enum ev_kind kind;
		const char *msgid;
		int severity;
	} known[] = {
		{ EV_AGENT_STARTED, "AGENT_STARTED", LOG_NOTICE },
		{ EV_AGENT_STOPPING, "AGENT_STOPPING", LOG_NOTICE },
		{ EV_CONFIG_RELOADED, "CONFIG_RELOADED", LOG_NOTICE },
		{ EV_CONFIG_REJECTED, "CONFIG_REJECTED", LOG_WARNING },
	};
	for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
		assert_string_equal(ev_kind_msgid(known[i].kind), known[i].msgid);
		assert_int_equal(ev_kind_severity(known[i].kind), known[i].severity);
	}

	/* Out of range, both ways. */
	const enum ev_kind bad[] = {
		EV_KIND_COUNT, (enum ev_kind)(EV_KIND_COUNT + 1),
		(enum ev_kind)1000000, (enum ev_kind)-1,
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_string_equal(ev_kind_msgid(bad[i]), "UNKNOWN");
		assert_int_equal(ev_kind_severity(bad[i]), LOG_NOTICE);
	}
	struct event e;
	ev_begin(&e, EV_KIND_COUNT);
	assert_int_equal(e.severity, LOG_NOTICE);
}

/* ---- lifecycle ------------------------------------------------------------------ */

static void test_fini_then_init(void **state)
{
	(void)state;
	for (int i = 1; i <= 5; i++)
		publish_numbered(i);
	assert_int_equal(ev_last_id(), 5);

	ev_fini();
	assert_int_equal(ev_last_id(), 0);
	assert_int_equal(ev_history_len(), 0);
	assert_int_equal(ev_history_since(0, on_capture, &hist), 0);

	ev_init(4);
	assert_int_equal(ev_history_cap(), 4);
	assert_int_equal(ev_history_len(), 0);
	assert_int_equal(publish_numbered(1), 1);
	assert_int_equal(publish_numbered(2), 2);
	assert_int_equal(ev_history_since(0, on_capture, &hist), 2);
	check_consecutive(&hist, 1, 2);

	/* ev_init on a live bus also starts again. */
	ev_init(2);
	assert_int_equal(ev_last_id(), 0);
	assert_int_equal(publish_numbered(1), 1);
	ev_fini();
	ev_fini(); /* twice is harmless */
}

/* Publishing without a ring (before ev_init / after ev_fini) still numbers
 * events and reaches subscribers; nothing is kept. */
static void test_publish_without_ring(void **state)
{
	(void)state;
	ev_fini();
	assert_int_equal(ev_subscribe(on_capture, &cap_a), 0);
	assert_int_equal(publish_numbered(1), 1);
	assert_int_equal(publish_numbered(2), 2);
	assert_int_equal(cap_a.n, 2);
	assert_int_equal(ev_history_len(), 0);
	assert_int_equal(ev_history_since(0, on_capture, &hist), 0);
	ev_unsubscribe(on_capture, &cap_a);
}

/* ---- log_limited (log.c): the rate limit every flood-prone message uses ---- */

static char lim_lines[16][256];
static size_t lim_n;

static void lim_sink(int severity, const char *subsys, const char *msg, void *arg)
{
	(void)severity;
	(void)subsys;
	(void)arg;
	if (lim_n < 16)
		snprintf(lim_lines[lim_n], sizeof(lim_lines[0]), "%s", msg);
	lim_n++;
}

static void test_log_limited(void **state)
{
	(void)state;
	struct log_limit l = { .burst = 3, .window_us = 10000000u, .what = "(drops)" };
	int old = log_get_level();
	log_set_level(LOG_DEBUG);
	log_stderr(0);
	lim_n = 0;
	assert_int_equal(log_add_sink(lim_sink, NULL), 0);
	uint64_t t = 1000000000u;
	for (int i = 0; i < 100; i++)
		log_limited(&l, t + (uint64_t)i * 1000u, LOG_INFO, "test", "drop %d", i);
	assert_int_equal(lim_n, 3);                 /* the burst, then silence */
	assert_string_equal(lim_lines[2], "drop 2");
	assert_int_equal(l.suppressed, 97);
	/* The next window: the count first, then the message. */
	log_limited(&l, t + 10000000u, LOG_INFO, "test", "drop %d", 100);
	assert_int_equal(lim_n, 5);
	assert_string_equal(lim_lines[3], "97 similar messages (drops) suppressed");
	assert_string_equal(lim_lines[4], "drop 100");
	/* Below the level: neither logged nor counted. */
	log_set_level(LOG_WARNING);
	log_limited(&l, t + 10000001u, LOG_INFO, "test", "quiet");
	assert_int_equal(lim_n, 5);
	log_remove_sink(lim_sink, NULL);
	log_set_level(old);
	log_stderr(1);
}

/* Numbers travel typed: a reader gets the number the publisher gave, and
 * text that merely looks like a number is not one. */
static void test_typed_params(void **state)
{
	(void)state;
	struct event e;
	uint64_t v = 99;
	ev_begin(&e, EV_REKEY_SENT);
	ev_param_uint(&e, "seq", 4294967296ull);
	ev_param_int(&e, "group", 1234);
	ev_param_int(&e, "delta", -5);
	ev_param(&e, "text", "%u", 17u);
	ev_param_str(&e, "name", "a b");
	ev_param_str(&e, "none", NULL);
	assert_int_equal(ev_get_uint(&e, "seq", &v), 0);
	assert_true(v == 4294967296ull);
	assert_string_equal(ev_get_param(&e, "seq"), "4294967296");
	assert_int_equal(ev_get_uint(&e, "group", &v), 0);
	assert_true(v == 1234);
	assert_string_equal(ev_get_param(&e, "delta"), "-5");
	v = 99;
	assert_int_equal(ev_get_uint(&e, "delta", &v), -1);
	assert_int_equal(ev_get_uint(&e, "text", &v), -1);
	assert_int_equal(ev_get_uint(&e, "missing", &v), -1);
	assert_true(v == 99);
	assert_string_equal(ev_get_param(&e, "name"), "a b");
	assert_string_equal(ev_get_param(&e, "none"), "");
}

/* Outside text cannot forge a line or carry invalid UTF-8: control
 * characters and bad bytes arrive as \xNN in parameters and text. */
static void test_params_escaped(void **state)
{
	(void)state;
	struct event e;
	ev_begin(&e, EV_WEB_LOGIN_FAILED);
	ev_param_str(&e, "user", "x\nAGENT_STARTED: forged");
	ev_param(&e, "address", "%s", "10.0.0.1\r\xff");
	ev_publish(&e, "login failed for %s", "x\nforged\xc3");
	assert_string_equal(ev_get_param(&e, "user"), "x\\x0aAGENT_STARTED: forged");
	assert_string_equal(ev_get_param(&e, "address"), "10.0.0.1\\x0d\\xff");
	assert_string_equal(e.text, "login failed for x\\x0aforged\\xc3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_limited),
		cmocka_unit_test(test_typed_params),
		cmocka_unit_test_setup_teardown(test_params_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_start_at_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_keeps_last_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_cap_zero_means_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_since, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribers_get_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsubscribe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscriber_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscriber_reentry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_strings_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kind_catalogue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fini_then_init, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_without_ring, setup, teardown),
	};

	log_stderr(0); /* the expected "parameter dropped" warnings */
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
