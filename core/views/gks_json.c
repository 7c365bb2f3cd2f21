/* SPDX-License-Identifier: BSD-2-Clause */
/* gks_json.c: the key server's JSON views (gks_json.h), from the
 * snapshots of core/gdoi/gks_view.h and the counters of gks_stats().
 * Times to come are whole seconds from now (rounded down); points in
 * time are UTC, ISO 8601. */
#include "config.h"
#include "core/views/gks_json.h"
#include "core/cfg.h"
#include "core/crypto.h"
#include "core/gdoi/gdoi.h"
#include "core/gdoi/gks.h"
#include "core/gdoi/gks_view.h"
#include "core/loop.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void add_time(cJSON *o, const char *k, time_t t)
{
	struct tm tm;
	char buf[40];
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, k, buf);
}

static double secs_until(uint64_t when_us)
{
	uint64_t now = loop_now_us();
	return when_us > now ? (double)((when_us - now) / 1000000u) : 0;
}

static void add_num(cJSON *o, const char *k, double v)
{
	cJSON_AddNumberToObject(o, k, v);
}

/* ---- members ------------------------------------------------------------------------ */

static const char *member_state(int state)
{
	return state == 1 ? "registered" : state == 2 ? "active" : "ack-pending";
}

static void member_json(const struct gks_member_info *m, void *arg)
{
	cJSON *mj = cJSON_CreateObject();
	char a[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET, &m->addr, a, sizeof(a));
	add_num(mj, "index", m->index);
	add_num(mj, "group_id", (double)m->group_id);
	cJSON_AddStringToObject(mj, "address", a);
	add_num(mj, "port", m->port);
	cJSON_AddStringToObject(mj, "identity", m->identity);
	add_time(mj, "registered", m->registered);
	add_num(mj, "registrations", m->registrations);
	cJSON_AddStringToObject(mj, "state", member_state(m->state));
	add_num(mj, "last_acked_seq", m->last_acked_seq);
	add_num(mj, "rekeys_sent", (double)m->rekeys_sent);
	add_num(mj, "rekeys_acked", (double)m->rekeys_acked);
	add_num(mj, "retransmissions", (double)m->retransmissions);
	cJSON_AddItemToArray(arg, mj);
}

cJSON *gks_members_json(long group_id)
{
	return gks_members_json_limit(group_id, 0);
}

cJSON *gks_members_json_limit(long group_id, size_t limit)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, "members");
	long total = gks_members_each(group_id, limit, member_json, arr);
	if (total < 0) {
		cJSON_Delete(o);
		return NULL;
	}
	if (limit)
		add_num(o, "total", (double)total);
	return o;
}

/* ---- groups, KEKs and TEKs ------------------------------------------------------------ */

static cJSON *tek_json(const struct gks_tek_info *t)
{
	static const char *const status[] = { "", "new", "inUse", "old" };
	cJSON *tj = cJSON_CreateObject();
	char spi[16];
	snprintf(spi, sizeof(spi), "0x%08x", t->spi);
	cJSON_AddStringToObject(tj, "name", t->policy);
	cJSON_AddStringToObject(tj, "spi", spi);
	cJSON_AddStringToObject(tj, "proposal", cfg_enum_name(cfg_proposal_names, t->proposal));
	cJSON_AddStringToObject(tj, "status", status[t->status]);
	add_num(tj, "lifetime", t->lifetime);
	add_num(tj, "remaining", secs_until(t->expires_us));
	if (t->status != 3)
		add_num(tj, "next_rekey", secs_until(t->due_us));
	return tj;
}

static cJSON *kek_json(const struct gks_kek_info *k)
{
	cJSON *o = cJSON_CreateObject();
	char spi[40];
	for (size_t i = 0; i < sizeof(k->spi); i++)
		snprintf(spi + 2 * i, sizeof(spi) - 2 * i, "%02x", k->spi[i]);
	cJSON_AddStringToObject(o, "spi", spi);
	cJSON_AddStringToObject(o, "algorithm", crypto_cipher_name(k->cipher, k->cipher_key_bits));
	cJSON_AddStringToObject(o, "sig_hash", cfg_enum_name(cfg_hash_names, k->sig_hash - 1));
	add_num(o, "sig_key_bits", k->sig_key_bits);
	add_num(o, "lifetime", k->lifetime);
	add_num(o, "remaining", secs_until(k->expires_us));
	add_num(o, "next_rekey", secs_until(k->due_us));
	return o;
}

static void add_smc(cJSON *j, const struct cfg_smc *smc)
{
	cJSON_AddStringToObject(j, "communication", !smc ? "none" : cfg_enum_name(cfg_comm_type_names,
										  smc->communication_type));
	if (!smc)
		return;
	add_num(j, "heartbeat", (double)smc->heartbeat);
	add_num(j, "number_of_retransmission", (double)smc->number_of_retransmission);
	add_num(j, "retransmission_period", (double)smc->retransmission_period);
	if (smc->communication_type == CFG_COMM_MULTICAST && smc->multicast_group) {
		cJSON_AddStringToObject(j, "multicast_group", smc->multicast_group);
		add_num(j, "multicast_port", (double)smc->multicast_port);
	}
}

static void add_round(cJSON *j, const struct gks_group_info *g)
{
	if (!g->round.active)
		return;
	cJSON *r = cJSON_AddObjectToObject(j, "rekey_in_flight");
	add_num(r, "seq", g->round.seq);
	cJSON_AddStringToObject(r, "reason", g->round.reason);
	add_num(r, "targeted", (double)g->round.targeted);
	add_num(r, "acked", (double)g->round.acked);
	add_num(r, "outstanding", (double)g->round.outstanding);
	add_num(r, "sends", g->round.sends);
}

static void add_keys(cJSON *j, const struct gks_group_info *g, int sa_detail)
{
	struct gks_kek_info k;
	if (gks_kek_lookup(g->group_id, 1, 0, &k) == 0)
		cJSON_AddItemToObject(j, "kek", kek_json(&k));
	struct gks_tek_info t[2 * GDOI_MAX_TEKS];
	size_t n = gks_group_teks(g->group_id, sa_detail, t, 2 * GDOI_MAX_TEKS);
	cJSON *teks = cJSON_AddArrayToObject(j, "teks");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(teks, tek_json(&t[i]));
}

static cJSON *group_json(const struct gks_group_info *g, int sa_detail)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "name", g->name);
	add_num(j, "group_id", (double)g->group_id);
	add_num(j, "seq", g->seq);
	add_num(j, "members", (double)g->members);
	add_num(j, "activation_time_delay", (double)g->cfg->activation_time_delay);
	add_smc(j, g->cfg->smc);
	add_num(j, "next_rekey", g->rekey_armed ? (double)g->next_rekey : -1);
	add_num(j, "rekeys", (double)g->rekeys);
	add_num(j, "pushes", (double)g->pushes);
	add_num(j, "heartbeats", (double)g->heartbeats);
	add_num(j, "heartbeats_deferred", (double)g->heartbeats_deferred);
	add_num(j, "retransmissions", (double)g->retransmissions);
	add_num(j, "members_removed", (double)g->removed);
	if (g->rekeys)
		add_time(j, "last_rekey", g->last_rekey.tv_sec);
	add_round(j, g);
	add_keys(j, g, sa_detail);
	return j;
}

static cJSON *groups_json(int sa_detail)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *gs = cJSON_AddArrayToObject(o, "groups");
	struct gks_group_info g;
	for (size_t i = 0; gks_group_at(i, &g) == 0; i++)
		cJSON_AddItemToArray(gs, group_json(&g, sa_detail));
	return o;
}

/* ---- the server --------------------------------------------------------------------- */

static void add_stats(cJSON *o, const struct gks_stats *s)
{
	const struct { const char *k; uint64_t v; } c[] = {
		{ "registrations", s->registrations }, { "refused", s->refused },
		{ "drop_malformed", s->drop_malformed }, { "drop_unknown_sa", s->drop_unknown_sa },
		{ "drop_half_open", s->drop_half_open }, { "expired", s->expired },
		{ "half_open", s->half_open }, { "embryonic", s->embryonic },
		{ "embryonic_evicted", s->embryonic_evicted }, { "dh_computed", s->dh_computed },
		{ "phase1_sas", s->sas }, { "rekeys_sent", s->rekeys_sent },
		{ "retransmissions", s->retransmissions }, { "heartbeats", s->heartbeats },
		{ "pulls_answered", s->pulls_answered }, { "catch_ups", s->catch_ups },
		{ "members_moved", s->members_moved }, { "refusals_aggregated", s->refusals_aggregated },
		{ "backoffs", s->backoffs }, { "drop_backoff", s->drop_backoff },
		{ "fan_pauses", s->fan_pauses }, { "rx_kernel_drops", s->rx_kernel_drops },
		{ "rcvbuf_bytes", s->rcvbuf_bytes }, { "acks", s->acks },
		{ "acks_duplicate", s->acks_duplicate }, { "drop_ack_unknown", s->drop_ack_unknown },
		{ "drop_ack_bad", s->drop_ack_bad }, { "members_removed", s->members_removed },
		{ "send_errors", s->send_errors }, { "seq_save_errors", s->seq_save_errors },
		{ "pushes_held", s->pushes_held },
	};
	cJSON *st = cJSON_AddObjectToObject(o, "stats");
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		add_num(st, c[i].k, (double)c[i].v);
}

cJSON *gks_status_json(void)
{
	cJSON *o = groups_json(0);
	add_stats(o, gks_stats());
	return o;
}

cJSON *gks_sa_json(void)
{
	return groups_json(1);
}

static cJSON *rekey_json(const struct gks_rekey_info *h)
{
	cJSON *j = cJSON_CreateObject();
	add_num(j, "index", h->index);
	add_time(j, "time", h->when);
	add_num(j, "group_id", (double)h->group_id);
	cJSON_AddStringToObject(j, "reason", h->reason_text);
	add_num(j, "seq", h->seq);
	add_num(j, "targeted", h->targeted);
	add_num(j, "acked", h->acked);
	add_num(j, "removed", h->removed);
	cJSON_AddBoolToObject(j, "done", h->done);
	add_num(j, "duration_ms", (double)h->duration_us / 1000.0);
	return j;
}

cJSON *gks_history_json(void)
{
	cJSON *arr = cJSON_CreateArray();
	uint32_t first, last;
	struct gks_rekey_info h;
	gks_rekey_range(&first, &last);
	for (uint32_t i = first; first && i <= last; i++)
		if (gks_rekey_lookup(i, 0, &h) == 0)
			cJSON_AddItemToArray(arr, rekey_json(&h));
	return arr;
}
