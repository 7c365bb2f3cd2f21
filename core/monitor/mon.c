/* SPDX-License-Identifier: BSD-2-Clause */
/* mon.c: the VPN monitor's decisions (see mon.h and the seed). Every
 * monitored VPN has one timer. At each tick the probe sent at the
 * previous tick is judged (answered, or one more consecutive miss),
 * `threshold` misses make the tunnel down, and the next probe goes out
 * unless:
 *   - the tunnel is down and rekey is off: probing stops until strongSwan
 *     reports the child up again;
 *   - optimized is on and the child SA's inbound and outbound counters
 *     both grew since the last tick: that traffic counts as a reply.
 * While down with rekey, each tick also asks for a new negotiation. Only
 * a reply (or the counters, when optimized) brings a tunnel up. */
#include "config.h"
#include "core/monitor/mon.h"
#include "core/ev.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mon_vpn {
	char name[64];
	const struct cfg_vpn *cfg;
	enum mon_state state;
	struct loop_timer tick;
	uint16_t seq;
	int outstanding;
	unsigned misses;
	int have_counters;
	uint64_t last_in, last_out;
	/* the last MON_HISTORY probes: answered?, rtt (-1: counted by traffic) */
	uint8_t hist_ok[MON_HISTORY];
	int64_t hist_rtt[MON_HISTORY];
	size_t hist_n, hist_next;
	int64_t delay_last_us;
	uint64_t probes_sent, replies, rekey_attempts, rekey_successes, state_changes;
	uint64_t last_change_us;
};

static struct {
	struct mon_ops ops;
	void *arg;
	const struct cfg_mon *cfg;
	struct mon_vpn **vpns;
	size_t n;
} M;

static const char *const state_names[] = {
	[MON_DISABLED] = "monitorDisabled", [MON_PENDING] = "pending", [MON_UP] = "up", [MON_DOWN] = "down",
};

const char *mon_state_name(enum mon_state s)
{
	return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

static uint64_t interval_us(void)
{
	return (uint64_t)(M.cfg ? M.cfg->interval : 10) * 1000000u;
}

static unsigned threshold(void)
{
	return (unsigned)(M.cfg ? M.cfg->threshold : 10);
}

static void history(struct mon_vpn *v, int ok, int64_t rtt)
{
	v->hist_ok[v->hist_next] = (uint8_t)ok;
	v->hist_rtt[v->hist_next] = rtt;
	v->hist_next = (v->hist_next + 1) % MON_HISTORY;
	if (v->hist_n < MON_HISTORY)
		v->hist_n++;
}

static void set_state(struct mon_vpn *v, enum mon_state s)
{
	if (v->state == s)
		return;
	v->state = s;
	v->state_changes++;
	v->last_change_us = loop_now_us();
}

static void publish(struct mon_vpn *v, enum ev_kind kind, const char *text)
{
	struct event e;
	ev_begin(&e, kind);
	ev_param_str(&e, "vpn", v->name);
	ev_param_str(&e, "state", mon_state_name(v->state));
	ev_param_uint(&e, "misses", v->misses);
	if (v->cfg->destination_ip)
		ev_param_str(&e, "destination", v->cfg->destination_ip);
	if (M.ops.annotate)
		M.ops.annotate(M.arg, v, &e);
	ev_publish(&e, "VPN %s %s", v->name, text);
}

static void go_down(struct mon_vpn *v)
{
	int was_up = v->state == MON_UP;
	set_state(v, MON_DOWN);
	char why[96];
	snprintf(why, sizeof(why), "is down: %u consecutive probes unanswered", v->misses);
	publish(v, EV_TUNNEL_DOWN, why);
	/* Seed: "If the state of VPN monitoring for the tunnel changes from
	 * up to down, the security device de-activates its Phase 2 SA". */
	if (was_up && M.ops.terminate)
		M.ops.terminate(M.arg, v);
}

static void alive(struct mon_vpn *v, int64_t rtt)
{
	v->misses = 0;
	history(v, 1, rtt);
	if (rtt >= 0)
		v->delay_last_us = rtt;
	if (v->state == MON_UP)
		return;
	int was_down = v->state == MON_DOWN;
	set_state(v, MON_UP);
	if (was_down && v->cfg->rekey && v->rekey_attempts) {
		v->rekey_successes++;
		publish(v, EV_TUNNEL_REKEY_SUCCEEDED, "rekey succeeded: the tunnel is up again");
	}
	publish(v, EV_TUNNEL_UP, "is up");
}

/* optimized: both directions carried traffic since the last tick. */
static int traffic_seen(struct mon_vpn *v)
{
	uint64_t in, out;
	if (!M.ops.counters || M.ops.counters(M.arg, v, &in, &out) < 0) {
		v->have_counters = 0;
		return 0;
	}
	int grew = v->have_counters && in > v->last_in && out > v->last_out;
	v->last_in = in;
	v->last_out = out;
	v->have_counters = 1;
	return grew;
}

static void on_tick(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct mon_vpn *v = arg;
	if (v->outstanding) {
		v->outstanding = 0;
		v->misses++;
		history(v, 0, -1);
	}
	if (v->misses >= threshold() && v->state != MON_DOWN)
		go_down(v);
	if (v->state == MON_DOWN && !v->cfg->rekey && v->misses >= threshold()) {
		log_info("mon", "VPN %s is down: probing stops until the child SA is up again", v->name);
		return;
	}
	loop_timer_arm_us(&v->tick, interval_us());
	if (v->state == MON_DOWN) {
		v->rekey_attempts++;
		publish(v, EV_TUNNEL_REKEY_ATTEMPT, "is down: renegotiating (rekey)");
		if (M.ops.initiate)
			M.ops.initiate(M.arg, v);
	}
	if (v->cfg->optimized && traffic_seen(v)) {
		alive(v, -1);
		return;
	}
	v->seq++;
	v->probes_sent++;
	v->outstanding = 1;
	if (M.ops.probe && M.ops.probe(M.arg, v, v->seq) < 0)
		log_debug("mon", "VPN %s: probe %u could not be sent", v->name, v->seq);
}

static void start(struct mon_vpn *v)
{
	if (v->state == MON_DISABLED)
		set_state(v, MON_PENDING);
	v->outstanding = 0;
	v->have_counters = 0;
	loop_timer_arm_us(&v->tick, 0);
}

static void stop(struct mon_vpn *v)
{
	loop_timer_cancel(&v->tick);
	v->outstanding = 0;
	v->misses = 0;
	set_state(v, MON_DISABLED);
}

int mon_init(const struct mon_ops *ops, void *arg)
{
	memset(&M, 0, sizeof(M));
	M.ops = *ops;
	M.arg = arg;
	return 0;
}

static void vpn_free(struct mon_vpn *v)
{
	loop_timer_cancel(&v->tick);
	free(v);
}

void mon_fini(void)
{
	for (size_t i = 0; i < M.n; i++)
		vpn_free(M.vpns[i]);
	free(M.vpns);
	memset(&M, 0, sizeof(M));
}

static struct mon_vpn *find(const char *name)
{
	for (size_t i = 0; i < M.n; i++)
		if (M.vpns[i] && !strcmp(M.vpns[i]->name, name))
			return M.vpns[i];
	return NULL;
}

void mon_configure(const struct cfg_mon *m)
{
	size_t n = m ? m->n_vpns : 0;
	struct mon_vpn **nv = xcalloc(n ? n : 1, sizeof(*nv));
	M.cfg = m;
	for (size_t i = 0; i < n; i++) {
		const struct cfg_vpn *c = &m->vpns[i];
		struct mon_vpn *v = find(c->name);
		if (v) {
			/* Keep it: detach from the old list. */
			for (size_t j = 0; j < M.n; j++)
				if (M.vpns[j] == v)
					M.vpns[j] = NULL;
		} else {
			v = xcalloc(1, sizeof(*v));
			str_copy(v->name, c->name, sizeof(v->name));
			loop_timer_init(&v->tick, on_tick, v);
			v->state = MON_DISABLED;
			v->delay_last_us = -1;
			v->last_change_us = loop_now_us();
		}
		int was_on = v->cfg && v->cfg->monitor;
		int was_rekey = v->cfg && v->cfg->rekey;
		v->cfg = c;
		if (!c->monitor && v->state != MON_DISABLED)
			stop(v);
		else if (c->monitor && !was_on)
			start(v);
		else if (c->monitor && c->rekey && !was_rekey && v->state == MON_DOWN &&
			 !loop_timer_armed(&v->tick))
			loop_timer_arm_us(&v->tick, 0); /* rekey turned on while probing had stopped */
		nv[i] = v;
	}
	for (size_t j = 0; j < M.n; j++)
		if (M.vpns[j])
			vpn_free(M.vpns[j]);
	free(M.vpns);
	M.vpns = nv;
	M.n = n;
}

void mon_reply(const char *name, uint16_t seq, uint64_t rtt_us)
{
	struct mon_vpn *v = find(name);
	if (!v || !v->outstanding || seq != v->seq)
		return; /* late, duplicate or not ours */
	v->outstanding = 0;
	v->replies++;
	alive(v, (int64_t)rtt_us);
}

void mon_child_updown(const char *name, int up)
{
	struct mon_vpn *v = find(name);
	if (!v || !v->cfg->monitor)
		return;
	v->have_counters = 0;
	/* Seed: without rekey, probing that stopped at "down" starts again
	 * when the tunnel is negotiated again; the state stays down until a
	 * probe answers. */
	if (up && v->state == MON_DOWN && !loop_timer_armed(&v->tick)) {
		v->misses = 0;
		log_info("mon", "VPN %s: child SA up again, probing resumes", v->name);
		loop_timer_arm_us(&v->tick, 0);
	}
}

static void fill(const struct mon_vpn *v, struct mon_vpn_status *st)
{
	memset(st, 0, sizeof(*st));
	st->name = v->name;
	st->state = v->state;
	st->monitor = v->cfg->monitor;
	st->optimized = v->cfg->optimized;
	st->rekey = v->cfg->rekey;
	st->consecutive_misses = v->misses;
	st->probes_sent = v->probes_sent;
	st->replies = v->replies;
	st->rekey_attempts = v->rekey_attempts;
	st->rekey_successes = v->rekey_successes;
	st->state_changes = v->state_changes;
	st->delay_last_us = v->delay_last_us;
	st->last_change_us = v->last_change_us;
	unsigned ok = 0, timed = 0;
	int64_t sum = 0;
	for (size_t i = 0; i < v->hist_n; i++) {
		ok += v->hist_ok[i];
		if (v->hist_ok[i] && v->hist_rtt[i] >= 0) {
			sum += v->hist_rtt[i];
			timed++;
		}
	}
	st->availability = v->hist_n ? (unsigned)(100u * ok / v->hist_n) : 0;
	st->delay_avg_us = timed ? sum / timed : -1;
}

int mon_status(const char *name, struct mon_vpn_status *st)
{
	const struct mon_vpn *v = find(name);
	if (!v)
		return -1;
	fill(v, st);
	return 0;
}

size_t mon_count(void)
{
	return M.n;
}

int mon_status_at(size_t i, struct mon_vpn_status *st)
{
	if (i >= M.n)
		return -1;
	fill(M.vpns[i], st);
	return 0;
}

const char *mon_vpn_name(const struct mon_vpn *v)
{
	return v->name;
}

const struct cfg_vpn *mon_vpn_cfg(const struct mon_vpn *v)
{
	return v->cfg;
}
