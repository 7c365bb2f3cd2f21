/* SPDX-License-Identifier: BSD-2-Clause */
/* gks_refuse.c: the key server's refusals and back-offs, by source
 * address. A refusal is counted always, logged (rate-limited) and
 * published as an event the first few times per address and minute,
 * then summed into one event at the minute's end, so a storm of bad
 * registrations cannot flood the collectors. Repeated failed
 * authentications from one address start a back-off: no message 3, so
 * no Diffie-Hellman, from it for 10 s, doubled each time up to 5 min. */
#include "config.h"
#include "core/gdoi/gks_int.h"
#include "core/ev.h"
#include "core/util.h"

#include <stdlib.h>

static unsigned src_bucket(in_addr_t a)
{
	uint32_t h = (uint32_t)a * 2654435761u;
	return (h ^ h >> 16) % GKS_SRC_BUCKETS;
}

/* The record of an address, made on first use (NULL when GKS_SRC_MAX
 * addresses are tracked already: then nothing is aggregated for it). */
static struct gks_src *src_get(in_addr_t a)
{
	unsigned b = src_bucket(a);
	for (struct gks_src *t = G.src[b]; t; t = t->next)
		if (t->addr == a)
			return t;
	if (G.n_src >= GKS_SRC_MAX)
		return NULL;
	struct gks_src *t = xcalloc(1, sizeof(*t));
	t->addr = a;
	t->next = G.src[b];
	G.src[b] = t;
	G.n_src++;
	return t;
}

/* Ends t's counting window: the refusals not published as events go
 * out as one. */
static void src_window_end(struct gks_src *t, uint64_t now)
{
	if (t->suppressed) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &t->addr, a, sizeof(a));
		struct event e;
		ev_begin(&e, EV_REGISTRATION_REFUSED);
		ev_param_str(&e, "member", a);
		ev_param_str(&e, "reason", t->last_reason);
		ev_param_uint(&e, "count", t->suppressed);
		ev_publish(&e, "%u more registrations from %s refused in %llu s (the last: %s)", t->suppressed, a,
			   (unsigned long long)(GKS_SRC_WINDOW_US / 1000000u), t->last_reason);
	}
	t->window_us = now;
	t->refusals = t->suppressed = t->auth_fails = 0;
}

/* Every minute: aggregated refusal events of ended windows, and records
 * idle for ten windows dropped. */
static void on_src_timer(struct loop_timer *tm GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	uint64_t now = loop_now_us();
	loop_timer_arm_ms(&G.src_timer, GKS_SRC_WINDOW_US / 1000u);
	for (unsigned b = 0; b < GKS_SRC_BUCKETS; b++)
		for (struct gks_src **pp = &G.src[b]; *pp;) {
			struct gks_src *t = *pp;
			if (now - t->window_us >= GKS_SRC_WINDOW_US)
				src_window_end(t, now);
			if (now - t->last_us >= 10 * GKS_SRC_WINDOW_US && t->backoff_until_us <= now) {
				*pp = t->next;
				free(t);
				G.n_src--;
				continue;
			}
			pp = &t->next;
		}
}

/* A failed authentication from a: GKS_AUTH_FAILS in a window start a
 * back-off (no message 3, so no Diffie-Hellman, from that address) of
 * 10 s, doubled each time up to 5 minutes. */
void gks_src_auth_failed(in_addr_t a)
{
	uint64_t now = loop_now_us();
	struct gks_src *t = src_get(a);
	if (!t)
		return;
	if (now - t->window_us >= GKS_SRC_WINDOW_US)
		src_window_end(t, now);
	t->last_us = now;
	if (++t->auth_fails < GKS_AUTH_FAILS)
		return;
	if (!t->backoff_s)
		t->backoff_s = GKS_BACKOFF_MIN_S;
	t->backoff_until_us = now + (uint64_t)t->backoff_s * 1000000u;
	char s[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, s, sizeof(s));
	log_notice("gks", "%s: %u failed authentications within %llu s: no new exchange from it for %u s", s,
		   t->auth_fails, (unsigned long long)(GKS_SRC_WINDOW_US / 1000000u), t->backoff_s);
	G.st.backoffs++;
	t->auth_fails = 0;
	t->backoff_s = t->backoff_s * 2 > GKS_BACKOFF_MAX_S ? GKS_BACKOFF_MAX_S : t->backoff_s * 2;
}

int gks_src_backed_off(in_addr_t a)
{
	for (struct gks_src *t = G.src[src_bucket(a)]; t; t = t->next)
		if (t->addr == a)
			return t->backoff_until_us > loop_now_us();
	return 0;
}

/* A refusal: counted always; logged (rate-limited) and published as an
 * event the first GKS_SRC_EVENTS times per address and window, then
 * aggregated into one event at the window's end. */
void gks_refused(const struct gks_peer *p, const char *group, const char *reason)
{
	G.st.refused++;
	uint64_t now = loop_now_us();
	struct gks_src *t = src_get(((const struct sockaddr_in *)&p->ike.peer)->sin_addr.s_addr);
	if (t) {
		if (now - t->window_us >= GKS_SRC_WINDOW_US)
			src_window_end(t, now);
		t->last_us = now;
		if (++t->refusals > GKS_SRC_EVENTS) {
			t->suppressed++;
			str_copy(t->last_reason, reason, sizeof(t->last_reason));
			G.st.refusals_aggregated++;
			return;
		}
	}
	log_limited(&G.lim_refused, now, LOG_WARNING, "gks", "registration from %s refused: %s", p->addr, reason);
	struct event e;
	ev_begin(&e, EV_REGISTRATION_REFUSED);
	ev_param_str(&e, "member", p->addr);
	if (group)
		ev_param_str(&e, "group", group);
	ev_param_str(&e, "reason", reason);
	ev_publish(&e, "registration from %s refused: %s", p->addr, reason);
}

void gks_refusals_init(void)
{
	loop_timer_init(&G.src_timer, on_src_timer, NULL);
	loop_timer_arm_ms(&G.src_timer, GKS_SRC_WINDOW_US / 1000u);
}

void gks_refusals_fini(void)
{
	loop_timer_cancel(&G.src_timer);
	for (unsigned b = 0; b < GKS_SRC_BUCKETS; b++)
		for (struct gks_src *t = G.src[b], *next; t; t = next) {
			next = t->next;
			free(t);
		}
}
