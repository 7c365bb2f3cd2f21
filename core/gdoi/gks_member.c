/* SPDX-License-Identifier: BSD-2-Clause */
/* gks_member.c: the key server's membership tables. Each group lists
 * its members newest first; every member is also found by address and
 * port (ACKs, reregistrations), by address and identity (the same member
 * from a new port or NAT mapping), and by its index (SNMP walks, the
 * fan-out of a push). A member is made by a GROUPKEY-PULL (gks_pull.c)
 * and removed for want of ACKs (gks_rekey.c), by a new configuration or
 * at the end; a change arms the group's membership rekey. */
#include "config.h"
#include "core/gdoi/gks_int.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static unsigned mbucket_of(const struct sockaddr_in *sa)
{
	uint32_t h = ntohl(sa->sin_addr.s_addr) * 2654435761u ^ ntohs(sa->sin_port) * 40503u;
	return (h ^ h >> 16) % GKS_MEMBER_BUCKETS;
}

void gks_members_init(void)
{
	G.mbucket = xcalloc(GKS_MEMBER_BUCKETS, sizeof(*G.mbucket));
	G.ibucket = xcalloc(GKS_MEMBER_BUCKETS, sizeof(*G.ibucket));
}

void gks_members_fini(void)
{
	free(G.mbucket);
	free(G.ibucket);
	G.mbucket = G.ibucket = NULL;
}

/* The members of a group sorted by index, for lookups in O(log n)
 * (SNMP walks). Indexes only grow, so a new member is appended; a
 * removed one leaves a hole until holes are half the array. */
static void by_index_add(struct gks_group *g, struct gks_member *m)
{
	if (g->n_by_index == g->cap_by_index) {
		g->cap_by_index = g->cap_by_index ? 2 * g->cap_by_index : 64;
		g->by_index = xrealloc(g->by_index, g->cap_by_index * sizeof(*g->by_index));
	}
	g->by_index[g->n_by_index++] = m;
}

/* First slot whose member has index >= idx (holes skipped by callers). */
size_t gks_by_index_search(const struct gks_group *g, uint64_t idx)
{
	size_t lo = 0, hi = g->n_by_index;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		size_t k = mid;
		while (k < hi && !g->by_index[k])
			k++;
		if (k == hi) {
			hi = mid;
			continue;
		}
		if (g->by_index[k]->index < idx)
			lo = k + 1;
		else
			hi = mid;
	}
	return lo;
}

static void by_index_remove(struct gks_group *g, const struct gks_member *m)
{
	size_t i = gks_by_index_search(g, m->index);
	while (i < g->n_by_index && g->by_index[i] != m)
		i++;
	if (i == g->n_by_index)
		return;
	g->by_index[i] = NULL;
	if (++g->dead_by_index > 64 && g->dead_by_index > g->n_by_index / 2) {
		size_t k = 0;
		for (size_t j = 0; j < g->n_by_index; j++)
			if (g->by_index[j])
				g->by_index[k++] = g->by_index[j];
		g->n_by_index = k;
		g->dead_by_index = 0;
	}
}

static unsigned ibucket_of(in_addr_t addr, const char *identity)
{
	uint32_t h = 2166136261u ^ addr;
	for (const char *p = identity; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h % GKS_MEMBER_BUCKETS;
}

static void ibucket_unlink(struct gks_member *m)
{
	struct gks_member **pp = &G.ibucket[ibucket_of(m->sa.sin_addr.s_addr, m->identity)];
	while (*pp && *pp != m)
		pp = &(*pp)->inext;
	if (*pp)
		*pp = m->inext;
	m->inext = NULL;
}

static void ibucket_link(struct gks_member *m)
{
	unsigned b = ibucket_of(m->sa.sin_addr.s_addr, m->identity);
	m->inext = G.ibucket[b];
	G.ibucket[b] = m;
}

/* The member of g at this address with this identity, whatever its
 * port: the same member after a new source port or NAT mapping. */
struct gks_member *gks_member_find_identity(const struct gks_group *g, in_addr_t addr, const char *identity)
{
	for (struct gks_member *m = G.ibucket[ibucket_of(addr, identity)]; m; m = m->inext)
		if (m->group == g && m->sa.sin_addr.s_addr == addr && !strcmp(m->identity, identity))
			return m;
	return NULL;
}

static void mbucket_unlink(struct gks_member *m)
{
	struct gks_member **pp = &G.mbucket[mbucket_of(&m->sa)];
	while (*pp && *pp != m)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = m->hnext;
	m->hnext = NULL;
}

struct gks_member *gks_member_find(const struct sockaddr_in *sa)
{
	for (struct gks_member *m = G.mbucket[mbucket_of(sa)]; m; m = m->hnext)
		if (m->sa.sin_addr.s_addr == sa->sin_addr.s_addr && m->sa.sin_port == sa->sin_port)
			return m;
	return NULL;
}

void gks_round_member_gone(struct gks_group *g, struct gks_member *m)
{
	if (g->round.active && m->pending_seq == g->round.seq && g->round.outstanding)
		g->round.outstanding--;
	m->pending_seq = 0;
}

/* Unlinks and frees m. */
void gks_member_free(struct gks_member *m)
{
	struct gks_group *g = m->group;
	gks_round_member_gone(g, m);
	mbucket_unlink(m);
	ibucket_unlink(m);
	if (m->prev)
		m->prev->next = m->next;
	else
		g->members = m->next;
	if (m->next)
		m->next->prev = m->prev;
	g->n_members--;
	by_index_remove(g, m);
	OPENSSL_cleanse(m, sizeof(*m));
	free(m);
}

void gks_members_free(struct gks_group *g)
{
	while (g->members)
		gks_member_free(g->members);
	g->n_by_index = g->dead_by_index = 0;
}

/* The membership rekey comes membership_rekey_delay after the last
 * change, so that a burst of joins causes one rekey; but no later than
 * membership_rekey_max_delay after the first change it covers, so that
 * joins that never stop cannot postpone it (and the pruning of members
 * that no longer answer, which only a unicast round does) forever. */
void gks_membership_changed(struct gks_group *g)
{
	const struct cfg_smc *smc = g->cfg->smc;
	if (!smc || !smc->membership_rekey)
		return;
	uint64_t now = loop_now_us();
	if (!g->member_change_us)
		g->member_change_us = now;
	uint64_t at = now + (uint64_t)smc->membership_rekey_delay * 1000000u;
	uint64_t latest = g->member_change_us + (uint64_t)smc->membership_rekey_max_delay * 1000000u;
	if (at > latest)
		at = latest;
	loop_timer_arm_ms(&g->member_timer, at > now ? (at - now + 999) / 1000 : 0);
}

static void mbucket_link(struct gks_member *m)
{
	unsigned b = mbucket_of(&m->sa);
	m->hnext = G.mbucket[b];
	G.mbucket[b] = m;
}

struct gks_member *gks_member_add(struct gks_group *g, const struct sockaddr_in *sin, const char *addr,
				  const char *ident)
{
	struct gks_member *m = xcalloc(1, sizeof(*m));
	m->sa = *sin;
	m->group = g;
	m->index = ++G.member_index;
	snprintf(m->addr, sizeof(m->addr), "%s:%u", addr, ntohs(sin->sin_port));
	mbucket_link(m);
	m->next = g->members;
	if (g->members)
		g->members->prev = m;
	g->members = m;
	g->n_members++;
	by_index_add(g, m);
	str_copy(m->identity, ident, sizeof(m->identity));
	ibucket_link(m);
	return m;
}

void gks_member_move(struct gks_member *m, const struct sockaddr_in *sin, const char *addr)
{
	gks_round_member_gone(m->group, m);
	mbucket_unlink(m);
	m->sa = *sin;
	snprintf(m->addr, sizeof(m->addr), "%s:%u", addr, ntohs(sin->sin_port));
	mbucket_link(m);
}

void gks_member_rename(struct gks_member *m, const char *ident)
{
	ibucket_unlink(m);
	str_copy(m->identity, ident, sizeof(m->identity));
	ibucket_link(m);
}
