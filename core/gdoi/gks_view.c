/* SPDX-License-Identifier: BSD-2-Clause */
/* gks_view.c: the key server's state as read-only snapshots
 * (gks_view.h): ordered lookups for the MIB tables (O(log n) for
 * members) and walks in the server's own order for the JSON views.
 * Changes nothing. */
#include "config.h"
#include "core/gdoi/gks_int.h"
#include "core/gdoi/gks_view.h"
#include "core/util.h"

#include <string.h>

/* 1 registered (no ACKs expected), 2 active, 3 ack-pending. */
static int member_state(const struct gks_group *g, const struct gks_member *m)
{
	if (!g->cfg->smc)
		return 1;
	if (g->cfg->smc->communication_type == CFG_COMM_MULTICAST)
		return 1;
	return m->pending_seq ? 3 : 2;
}

static int reason_code(const char *r)
{
	return !strncmp(r, "scheduled", 9) ? 1 : !strncmp(r, "membership", 10) ? 2 :
	       !strncmp(r, "policy", 6) ? 3 : 4;
}

/* Groups in group_id order: the one equal to id, or (next) the first above. */
static struct gks_group *group_ordered(long id, int next)
{
	struct gks_group *best = NULL;
	for (size_t i = 0; i < G.n_groups; i++) {
		struct gks_group *g = G.groups[i];
		long gid = g->cfg->group_id;
		if (!next && gid == id)
			return g;
		if (next && gid > id && (!best || gid < best->cfg->group_id))
			best = g;
	}
	return best;
}

static void group_info(const struct gks_group *g, struct gks_group_info *out)
{
	const struct cfg_smc *smc = g->cfg->smc;
	memset(out, 0, sizeof(*out));
	out->group_id = g->cfg->group_id;
	str_copy(out->name, g->cfg->name, sizeof(out->name));
	out->communication = !smc ? 1 : smc->communication_type == CFG_COMM_UNICAST ? 2 : 3;
	out->members = g->n_members;
	out->seq = g->seq;
	out->next_rekey = loop_timer_armed(&g->rekey_timer)
				  ? (uint32_t)(loop_timer_remaining_us(&g->rekey_timer) / 1000000u) : 0;
	out->rekeys = g->rekeys;
	out->pushes = g->pushes;
	out->heartbeats = g->heartbeats;
	out->retransmissions = g->retransmissions;
	out->removed = g->removed;
	out->atd = (uint32_t)g->cfg->activation_time_delay;
	out->cfg = g->cfg;
	out->rekey_armed = loop_timer_armed(&g->rekey_timer);
	out->heartbeats_deferred = g->heartbeats_deferred;
	out->last_rekey = g->last_rekey;
	if (g->round.active) {
		out->round.active = 1;
		out->round.seq = g->round.seq;
		str_copy(out->round.reason, g->round.reason, sizeof(out->round.reason));
		out->round.targeted = g->round.targeted;
		out->round.acked = g->round.acked;
		out->round.outstanding = g->round.outstanding;
		out->round.sends = g->round.sends;
	}
}

int gks_group_lookup(long group_id, int next, struct gks_group_info *out)
{
	const struct gks_group *g = group_ordered(group_id, next);
	if (!g)
		return -1;
	group_info(g, out);
	return 0;
}

static void member_info(const struct gks_group *g, const struct gks_member *m, struct gks_member_info *out)
{
	memset(out, 0, sizeof(*out));
	out->group_id = g->cfg->group_id;
	out->index = (uint32_t)m->index;
	out->addr = m->sa.sin_addr;
	out->port = ntohs(m->sa.sin_port);
	str_copy(out->identity, m->identity, sizeof(out->identity));
	out->state = member_state(g, m);
	out->registered = m->registered.tv_sec;
	out->registrations = m->registrations;
	out->last_acked_seq = m->last_acked_seq;
	out->rekeys_sent = m->rekeys_sent;
	out->rekeys_acked = m->rekeys_acked;
	out->retransmissions = m->retransmissions;
}

int gks_member_lookup(long group_id, uint32_t index, int next, struct gks_member_info *out)
{
	const struct gks_group *g = group_ordered(group_id, 0);
	if (g) {
		size_t i = gks_by_index_search(g, next ? (uint64_t)index + 1 : index);
		while (i < g->n_by_index && !g->by_index[i])
			i++;
		if (i < g->n_by_index && (next || g->by_index[i]->index == index)) {
			member_info(g, g->by_index[i], out);
			return 0;
		}
	}
	if (!next)
		return -1;
	for (g = group_ordered(group_id, 1); g; g = group_ordered(g->cfg->group_id, 1))
		for (size_t i = 0; i < g->n_by_index; i++)
			if (g->by_index[i]) {
				member_info(g, g->by_index[i], out);
				return 0;
			}
	return -1;
}

static int kek_info(const struct gks_group *g, unsigned index, struct gks_kek_info *out)
{
	const struct gks_kek *k = index == 1 ? &g->kek : &g->prev_kek;
	if (!g->has_kek || !g->cfg->smc || (index == 2 && (!g->has_prev_kek || k->expires_us <= loop_now_us())))
		return -1;
	memset(out, 0, sizeof(*out));
	out->group_id = g->cfg->group_id;
	out->index = index;
	memcpy(out->spi, k->k.spi, 16);
	out->alg = k->alg;
	out->key_bits = k->bits;
	out->cipher = k->k.cipher;
	out->cipher_key_bits = k->k.key_bits;
	out->due_us = k->due_us;
	out->expires_us = k->expires_us;
	out->sig_hash = g->cfg->smc->sig_hash_algorithm + 1;
	out->sig_key_bits = (unsigned)crypto_rsa_size(G.rsa) * 8;
	out->lifetime = k->lifetime;
	out->remaining = gks_remaining_s(k->expires_us);
	out->status = index == 1 ? 2 : 3;
	return 0;
}

int gks_kek_lookup(long group_id, unsigned index, int next, struct gks_kek_info *out)
{
	const struct gks_group *g = group_ordered(group_id, 0);
	if (!next)
		return g ? kek_info(g, index, out) : -1;
	for (unsigned i = index + 1; g && i <= 2; i++)
		if (kek_info(g, i, out) == 0)
			return 0;
	for (g = group_ordered(group_id, 1); g; g = group_ordered(g->cfg->group_id, 1))
		for (unsigned i = 1; i <= 2; i++)
			if (kek_info(g, i, out) == 0)
				return 0;
	return -1;
}

static void tek_info(const struct gks_group *g, const struct gks_tek *t, int status, struct gks_tek_info *out)
{
	memset(out, 0, sizeof(*out));
	out->group_id = g->cfg->group_id;
	out->index = t->index;
	str_copy(out->policy, t->name, sizeof(out->policy));
	out->proposal = t->proposal;
	out->due_us = t->due_us;
	out->expires_us = t->expires_us;
	out->spi = t->spi;
	out->transform = t->transform;
	out->key_bits = t->key_bits ? t->key_bits : (unsigned)t->enc_len * 8;
	out->auth = t->auth_alg;
	out->lifetime = t->lifetime;
	out->remaining = gks_remaining_s(t->expires_us);
	out->status = status;
}

/* The TEK of g with the smallest index > after (or == when !next). */
static int tek_in_group(const struct gks_group *g, uint32_t idx, int next, struct gks_tek_info *out)
{
	const struct gks_tek *best = NULL;
	int status = 0;
	uint64_t now = loop_now_us();
	for (int old = 0; old < 2; old++) {
		size_t n = old ? g->n_old : g->n_tek;
		for (size_t i = 0; i < n; i++) {
			const struct gks_tek *t = old ? &g->old[i] : &g->tek[i];
			if (old && t->expires_us <= now)
				continue;
			if (next ? t->index <= idx : t->index != idx)
				continue;
			if (!best || t->index < best->index) {
				best = t;
				status = old ? 3 : now < t->active_us ? 1 : 2;
			}
		}
	}
	if (!best)
		return -1;
	tek_info(g, best, status, out);
	return 0;
}

int gks_tek_lookup(long group_id, uint32_t index, int next, struct gks_tek_info *out)
{
	const struct gks_group *g = group_ordered(group_id, 0);
	if (g && tek_in_group(g, index, next, out) == 0)
		return 0;
	if (!next)
		return -1;
	for (g = group_ordered(group_id, 1); g; g = group_ordered(g->cfg->group_id, 1))
		if (tek_in_group(g, 0, 1, out) == 0)
			return 0;
	return -1;
}

int gks_rekey_lookup(uint32_t index, int next, struct gks_rekey_info *out)
{
	uint64_t first = G.hist_count > GKS_HISTORY ? G.hist_count - GKS_HISTORY + 1 : 1;
	uint64_t want = next ? (uint64_t)index + 1 : index;
	if (want < first)
		want = next ? first : 0;
	if (!want || want > G.hist_count)
		return -1;
	const struct gks_history *h = &G.hist[(want - 1) % GKS_HISTORY];
	memset(out, 0, sizeof(*out));
	out->index = (uint32_t)h->index;
	out->when = h->when.tv_sec;
	out->group_id = h->group_id;
	out->reason = reason_code(h->reason);
	str_copy(out->reason_text, h->reason, sizeof(out->reason_text));
	out->duration_us = h->duration_us;
	out->seq = h->seq;
	out->targeted = (uint32_t)h->targeted;
	out->acked = (uint32_t)h->acked;
	out->removed = (uint32_t)h->removed;
	out->duration_ms = (uint32_t)(h->duration_us / 1000u);
	out->done = h->done;
	return 0;
}

/* ---- in the server's own order ---------------------------------------------------------- */

size_t gks_group_count(void)
{
	return G.n_groups;
}

int gks_group_at(size_t pos, struct gks_group_info *out)
{
	if (pos >= G.n_groups)
		return -1;
	group_info(G.groups[pos], out);
	return 0;
}

size_t gks_group_teks(long group_id, int old, struct gks_tek_info *out, size_t max)
{
	const struct gks_group *g = group_ordered(group_id, 0);
	uint64_t now = loop_now_us();
	size_t n = 0;
	if (!g)
		return 0;
	for (size_t t = 0; t < g->n_tek && n < max; t++)
		tek_info(g, &g->tek[t], now < g->tek[t].active_us ? 1 : 2, &out[n++]);
	for (size_t t = 0; old && t < g->n_old && n < max; t++)
		if (g->old[t].expires_us > now)
			tek_info(g, &g->old[t], 3, &out[n++]);
	return n;
}

long gks_members_each(long group_id, size_t limit, gks_member_fn fn, void *arg)
{
	struct gks_member_info mi;
	int found = 0;
	size_t n = 0, total = 0;
	for (size_t i = 0; i < G.n_groups; i++) {
		const struct gks_group *g = G.groups[i];
		if (group_id && g->cfg->group_id != group_id)
			continue;
		found = 1;
		total += g->n_members;
		for (const struct gks_member *m = g->members; m && (!limit || n < limit); m = m->next, n++) {
			member_info(g, m, &mi);
			fn(&mi, arg);
		}
	}
	return group_id && !found ? -1 : (long)total;
}

void gks_rekey_range(uint32_t *first, uint32_t *last)
{
	*last = (uint32_t)G.hist_count;
	*first = G.hist_count > GKS_HISTORY ? (uint32_t)(G.hist_count - GKS_HISTORY + 1) : G.hist_count ? 1 : 0;
}
