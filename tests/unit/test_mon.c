/* SPDX-License-Identifier: BSD-2-Clause */
/* test_mon.c: the VPN monitor's decisions under a fake clock with a fake
 * probe and fake strongSwan actions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/ev.h"
#include "core/loop.h"
#include "core/monitor/mon.h"

#define S 1000000ull

static uint64_t now_us;
static uint64_t fake_clock(void) { return now_us; }

static struct {
	unsigned probes, terminates, initiates;
	uint16_t last_seq;
	char last_vpn[64];
	int have_sa;
	uint64_t in, out;
	unsigned ev[EV_KIND_COUNT];
	char last_text[EV_TEXT_MAX];
} F;

static int f_probe(void *arg, struct mon_vpn *v, uint16_t seq)
{
	(void)arg;
	F.probes++;
	F.last_seq = seq;
	snprintf(F.last_vpn, sizeof(F.last_vpn), "%s", mon_vpn_name(v));
	return 0;
}

static int f_counters(void *arg, struct mon_vpn *v, uint64_t *in, uint64_t *out)
{
	(void)arg;
	(void)v;
	if (!F.have_sa)
		return -1;
	*in = F.in;
	*out = F.out;
	return 0;
}

static void f_terminate(void *arg, struct mon_vpn *v) { (void)arg; (void)v; F.terminates++; }
static void f_initiate(void *arg, struct mon_vpn *v) { (void)arg; (void)v; F.initiates++; }

static void on_event(const struct event *e, void *arg)
{
	(void)arg;
	F.ev[e->kind]++;
	snprintf(F.last_text, sizeof(F.last_text), "%s", e->text);
}

static const struct mon_ops ops = { .probe = f_probe, .counters = f_counters, .terminate = f_terminate, .initiate = f_initiate };

static struct cfg_vpn vpns[2];
static struct cfg_mon mcfg;

/* Advances the fake clock to t, firing every timer at its exact time. */
static void run_until(uint64_t t)
{
	uint64_t d;
	while ((d = loop_next_deadline_us()) <= t) {
		if (d > now_us)
			now_us = d;
		loop_run_timers();
	}
	now_us = t;
}

static enum mon_state state_of(const char *name)
{
	struct mon_vpn_status st;
	assert_int_equal(mon_status(name, &st), 0);
	return st.state;
}

static void reply(const char *name)
{
	mon_reply(name, F.last_seq, 1500);
}

static int setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	now_us = 1000 * S;
	loop_set_clock(fake_clock);
	ev_init(100);
	ev_subscribe(on_event, NULL);
	memset(vpns, 0, sizeof(vpns));
	vpns[0] = (struct cfg_vpn){ .name = "a", .monitor = 1 };
	vpns[1] = (struct cfg_vpn){ .name = "b", .monitor = 1 };
	mcfg = (struct cfg_mon){ .interval = 10, .threshold = 3, .vpns = vpns, .n_vpns = 1 };
	mon_init(&ops, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mon_fini();
	ev_fini();
	loop_set_clock(NULL);
	return 0;
}

static void test_down_after_exactly_threshold_misses(void **state)
{
	(void)state;
	uint64_t t0 = now_us;
	mon_configure(&mcfg);
	run_until(t0);
	assert_int_equal(F.probes, 1);             /* probing starts at once */
	assert_int_equal(state_of("a"), MON_PENDING);
	run_until(t0 + 30 * S - 1);
	assert_int_equal(state_of("a"), MON_PENDING);  /* 2 misses so far */
	assert_int_equal(F.ev[EV_TUNNEL_DOWN], 0);
	run_until(t0 + 30 * S);
	assert_int_equal(state_of("a"), MON_DOWN);     /* the third miss */
	assert_int_equal(F.ev[EV_TUNNEL_DOWN], 1);
	assert_int_equal(F.terminates, 0);             /* it was never up */
	assert_non_null(strstr(F.last_text, "3 consecutive probes unanswered"));
}

static void test_up_on_first_reply(void **state)
{
	(void)state;
	mon_configure(&mcfg);
	run_until(now_us);
	assert_int_equal(state_of("a"), MON_PENDING);
	reply("a");
	assert_int_equal(state_of("a"), MON_UP);
	assert_int_equal(F.ev[EV_TUNNEL_UP], 1);
	struct mon_vpn_status st;
	mon_status("a", &st);
	assert_int_equal(st.delay_last_us, 1500);
	assert_int_equal(st.availability, 100);
}

static void test_up_to_down_terminates_once(void **state)
{
	(void)state;
	uint64_t t0 = now_us;
	mon_configure(&mcfg);
	run_until(t0);
	reply("a");
	assert_int_equal(state_of("a"), MON_UP);
	/* a miss (probe 2, judged at 20 s), then a reply to probe 3: the
	 * count starts again */
	run_until(t0 + 20 * S);
	struct mon_vpn_status st;
	mon_status("a", &st);
	assert_int_equal(st.consecutive_misses, 1);
	reply("a");
	mon_status("a", &st);
	assert_int_equal(st.consecutive_misses, 0);
	assert_int_equal(state_of("a"), MON_UP);
	run_until(t0 + 60 * S - 1);                /* probes 4, 5 missed */
	assert_int_equal(state_of("a"), MON_UP);
	run_until(t0 + 60 * S);                    /* probe 6 missed: the third */
	assert_int_equal(state_of("a"), MON_DOWN);
	assert_int_equal(F.terminates, 1);
	run_until(t0 + 200 * S);
	assert_int_equal(F.terminates, 1);
	assert_int_equal(F.ev[EV_TUNNEL_DOWN], 1);
}

static void test_no_probes_while_down_without_rekey(void **state)
{
	(void)state;
	uint64_t t0 = now_us;
	mon_configure(&mcfg);
	run_until(t0 + 30 * S);
	assert_int_equal(state_of("a"), MON_DOWN);
	unsigned probes = F.probes;
	run_until(t0 + 500 * S);
	assert_int_equal(F.probes, probes);       /* probing stopped */
	assert_int_equal(F.initiates, 0);
	/* strongSwan reports the child up: probing resumes, still down */
	mon_child_updown("a", 1);
	run_until(now_us);
	assert_int_equal(F.probes, probes + 1);
	assert_int_equal(state_of("a"), MON_DOWN); /* VICI alone does not bring it up */
	reply("a");
	assert_int_equal(state_of("a"), MON_UP);
	assert_int_equal(F.ev[EV_TUNNEL_REKEY_SUCCEEDED], 0);
}

static void test_rekey_initiates_every_interval_until_reply(void **state)
{
	(void)state;
	vpns[0].rekey = 1;
	uint64_t t0 = now_us;
	mon_configure(&mcfg);
	run_until(t0);
	reply("a");                               /* up: probe 1 answered */
	run_until(t0 + 40 * S - 1);
	assert_int_equal(state_of("a"), MON_UP);
	run_until(t0 + 40 * S);                   /* probes 2, 3, 4 missed: down */
	assert_int_equal(state_of("a"), MON_DOWN);
	assert_int_equal(F.terminates, 1);
	assert_int_equal(F.initiates, 1);         /* at the tick that found it down */
	unsigned probes = F.probes;
	run_until(t0 + 80 * S);
	assert_int_equal(F.initiates, 5);         /* every interval */
	assert_int_equal(F.probes, probes + 4);   /* and probing never stops */
	mon_child_updown("a", 1);                 /* VICI says up: not proof */
	assert_int_equal(state_of("a"), MON_DOWN);
	reply("a");
	assert_int_equal(state_of("a"), MON_UP);
	assert_int_equal(F.ev[EV_TUNNEL_REKEY_SUCCEEDED], 1);
	assert_int_equal(F.ev[EV_TUNNEL_UP], 2);
	run_until(t0 + 110 * S);
	reply("a");
	assert_int_equal(F.initiates, 5);         /* no more once up */
	struct mon_vpn_status st;
	mon_status("a", &st);
	assert_int_equal(st.rekey_attempts, 5);
	assert_int_equal(st.rekey_successes, 1);
}

static void test_rekey_probes_from_configuration(void **state)
{
	(void)state;
	vpns[0].rekey = 1;
	uint64_t t0 = now_us;
	mon_configure(&mcfg);                     /* never up */
	run_until(t0 + 30 * S);
	assert_int_equal(state_of("a"), MON_DOWN);
	assert_int_equal(F.terminates, 0);
	assert_int_equal(F.initiates, 1);
	run_until(t0 + 1000 * S);
	assert_int_equal(F.probes, 101);          /* never stops */
}

static void test_optimized_skips_probe_when_traffic_flows(void **state)
{
	(void)state;
	vpns[0].optimized = 1;
	F.have_sa = 1;
	uint64_t t0 = now_us;
	mon_configure(&mcfg);
	run_until(t0);
	assert_int_equal(F.probes, 1);            /* no counters seen before: probe */
	reply("a");
	for (int i = 1; i <= 5; i++) {            /* both counters grow each interval */
		F.in += 1000;
		F.out += 900;
		run_until(t0 + (uint64_t)i * 10 * S);
	}
	assert_int_equal(F.probes, 1);            /* every probe skipped */
	assert_int_equal(state_of("a"), MON_UP);
	F.in += 1000;                             /* only inbound grows: probe */
	run_until(t0 + 60 * S);
	assert_int_equal(F.probes, 2);
	run_until(t0 + 70 * S);                   /* nothing grows: probe */
	assert_int_equal(F.probes, 3);
	struct mon_vpn_status st;
	mon_status("a", &st);
	assert_int_equal(st.consecutive_misses, 1);
}

static void test_optimized_traffic_brings_it_up(void **state)
{
	(void)state;
	vpns[0].optimized = 1;
	F.have_sa = 1;
	uint64_t t0 = now_us;
	mon_configure(&mcfg);
	run_until(t0);
	F.in += 10;
	F.out += 10;
	run_until(t0 + 10 * S);
	assert_int_equal(state_of("a"), MON_UP);
	assert_int_equal(F.probes, 1);
}

static void test_stale_reply_ignored(void **state)
{
	(void)state;
	uint64_t t0 = now_us;
	mon_configure(&mcfg);
	run_until(t0 + 10 * S);
	mon_reply("a", (uint16_t)(F.last_seq - 1), 100);  /* the previous probe, late */
	assert_int_equal(state_of("a"), MON_PENDING);
	mon_reply("nope", F.last_seq, 100);
	assert_int_equal(state_of("a"), MON_PENDING);
	reply("a");
	reply("a");                                       /* a duplicate */
	struct mon_vpn_status st;
	mon_status("a", &st);
	assert_int_equal(st.replies, 1);
}

static void test_monitor_off_and_live_changes(void **state)
{
	(void)state;
	mcfg.n_vpns = 2;
	vpns[1].monitor = 0;
	uint64_t t0 = now_us;
	mon_configure(&mcfg);
	run_until(t0 + 5 * S);
	assert_int_equal(state_of("b"), MON_DISABLED);
	assert_int_equal(F.probes, 1);                 /* only a */
	/* turn b on: a keeps its schedule */
	struct cfg_vpn v2[2] = { vpns[0], vpns[1] };
	v2[1].monitor = 1;
	struct cfg_mon m2 = mcfg;
	m2.vpns = v2;
	mon_configure(&m2);
	run_until(t0 + 5 * S);
	assert_int_equal(F.probes, 2);                 /* b probes at once */
	assert_string_equal(F.last_vpn, "b");
	run_until(t0 + 10 * S);
	assert_int_equal(F.probes, 3);                 /* a at its own time */
	assert_string_equal(F.last_vpn, "a");
	/* b off again; a untouched */
	mon_configure(&mcfg);
	assert_int_equal(state_of("b"), MON_DISABLED);
	run_until(t0 + 20 * S);
	assert_int_equal(F.probes, 4);
	assert_string_equal(F.last_vpn, "a");
}

static void test_rekey_turned_on_while_down(void **state)
{
	(void)state;
	uint64_t t0 = now_us;
	mon_configure(&mcfg);
	run_until(t0 + 30 * S);
	assert_int_equal(state_of("a"), MON_DOWN);
	unsigned probes = F.probes;
	struct cfg_vpn v2[1] = { vpns[0] };
	v2[0].rekey = 1;
	struct cfg_mon m2 = mcfg;
	m2.vpns = v2;
	mon_configure(&m2);
	run_until(t0 + 31 * S);
	assert_int_equal(F.initiates, 1);
	assert_int_equal(F.probes, probes + 1);
}

static void test_availability_over_last_30(void **state)
{
	(void)state;
	mcfg.threshold = 1000;
	uint64_t t0 = now_us;
	mon_configure(&mcfg);
	for (int i = 0; i < 60; i++) {
		run_until(t0 + (uint64_t)i * 10 * S);
		if (i % 2)
			mon_reply("a", F.last_seq, (uint64_t)(1000 * (i + 1)));
	}
	run_until(t0 + 600 * S);     /* judges the last probe (a miss) */
	struct mon_vpn_status st;
	mon_status("a", &st);
	assert_int_equal(st.availability, 50);
	assert_true(st.delay_avg_us > 30000);  /* only recent delays count */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_down_after_exactly_threshold_misses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_up_on_first_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_up_to_down_terminates_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_probes_while_down_without_rekey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_initiates_every_interval_until_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_probes_from_configuration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optimized_skips_probe_when_traffic_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optimized_traffic_brings_it_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_reply_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_off_and_live_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_turned_on_while_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_availability_over_last_30, setup, teardown),
	};
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
