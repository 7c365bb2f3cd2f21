/* SPDX-License-Identifier: BSD-2-Clause */
/* gm_json.c: a group member's JSON views (gm_json.h), from the
 * accessors and typed events of core/gdoi/gm.h. */
#include "config.h"
#include "core/views/gm_json.h"
#include "core/loop.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static void add_hex(cJSON *o, const char *k, const uint8_t *p, size_t n)
{
	char *s = xmalloc(2 * n + 1);
	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	s[2 * n] = '\0';
	cJSON_AddStringToObject(o, k, s);
	OPENSSL_cleanse(s, 2 * n);
	free(s);
}

static void add_ident(cJSON *o, const char *k, const struct gdoi_ident *id)
{
	char buf[80];
	gm_ident_str(id, buf, sizeof(buf));
	cJSON_AddStringToObject(o, k, buf);
}

static void add_spi32(cJSON *o, const char *k, uint32_t spi)
{
	char s[16];
	snprintf(s, sizeof(s), "0x%08x", spi);
	cJSON_AddStringToObject(o, k, s);
}

/* ---- policy ---------------------------------------------------------------------------- */

static void add_sa_kek(cJSON *o, const struct gdoi_sa_kek *kek)
{
	cJSON *k = cJSON_AddObjectToObject(o, "kek");
	add_hex(k, "spi", kek->spi, 16);
	cJSON_AddNumberToObject(k, "algorithm", kek->alg);
	cJSON_AddNumberToObject(k, "key_bits", kek->key_bits);
	cJSON_AddNumberToObject(k, "lifetime", kek->lifetime);
	cJSON_AddNumberToObject(k, "sig_hash", kek->sig_hash);
	cJSON_AddBoolToObject(k, "ack_requested", kek->ack_requested);
}

static cJSON *sa_tek_json(const struct gdoi_sa_tek *t)
{
	cJSON *j = cJSON_CreateObject();
	add_spi32(j, "spi", t->spi);
	cJSON_AddNumberToObject(j, "transform", t->transform);
	cJSON_AddNumberToObject(j, "key_bits", t->key_bits);
	cJSON_AddNumberToObject(j, "auth", t->auth_alg);
	cJSON_AddNumberToObject(j, "lifetime", t->lifetime);
	add_ident(j, "source", &t->src);
	add_ident(j, "destination", &t->dst);
	return j;
}

static cJSON *keypkt_json(const struct gdoi_keypkt *k)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "type", k->type == GDOI_KD_KEK ? "kek" : "tek");
	add_hex(j, "spi", k->spi, k->spi_len);
	add_hex(j, "key", k->alg_key, k->alg_key_len);
	if (k->integ_key_len)
		add_hex(j, "integrity_key", k->integ_key, k->integ_key_len);
	if (k->sig_key_len)
		cJSON_AddNumberToObject(j, "sig_key_bytes", (double)k->sig_key_len);
	return j;
}

cJSON *gm_policy_json(const struct gm *m)
{
	cJSON *o = cJSON_CreateObject();
	char suite[64];
	ike_proposal_str(&gm_ike(m)->prop, suite, sizeof(suite));
	cJSON_AddStringToObject(o, "ike", suite);
	cJSON_AddNumberToObject(o, "seq", gm_seq(m));
	const struct gdoi_sa *p = gm_policy(m);
	if (p->has_kek)
		add_sa_kek(o, &p->kek);
	cJSON *teks = cJSON_AddArrayToObject(o, "teks");
	for (size_t i = 0; i < p->n_tek; i++)
		cJSON_AddItemToArray(teks, sa_tek_json(&p->tek[i]));
	if (p->has_gap)
		cJSON_AddNumberToObject(o, "activation_time_delay", p->atd);
	cJSON *keys = cJSON_AddArrayToObject(o, "keys");
	const struct gdoi_kd *kd = gm_keys(m);
	for (size_t i = 0; i < kd->n; i++)
		cJSON_AddItemToArray(keys, keypkt_json(&kd->k[i]));
	return o;
}

/* ---- status ---------------------------------------------------------------------------- */

static void add_ms(cJSON *o, const char *k, uint64_t us)
{
	if (us == UINT64_MAX)
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddNumberToObject(o, k, (double)(us / 1000u));
}

static void add_kek(cJSON *o, const struct gm *m)
{
	uint8_t spi[16];
	struct in_addr grp;
	uint16_t port;
	if (!gm_kek_spi(m, 0, spi))
		return;
	cJSON *k = cJSON_AddObjectToObject(o, "kek");
	add_hex(k, "spi", spi, 16);
	if (gm_kek_spi(m, 1, spi))
		add_hex(k, "previous_spi", spi, 16);
	if (gm_multicast(m, &grp, &port)) {
		char g[INET_ADDRSTRLEN], buf[INET_ADDRSTRLEN + 8];
		inet_ntop(AF_INET, &grp, g, sizeof(g));
		snprintf(buf, sizeof(buf), "%s:%u", g, port);
		cJSON_AddStringToObject(k, "multicast", buf);
	}
}

static cJSON *tek_json(const struct gm_tek *t, uint64_t now)
{
	cJSON *j = cJSON_CreateObject();
	add_spi32(j, "spi", t->sa.spi);
	cJSON_AddStringToObject(j, "state", gm_tek_state_name(t->state));
	add_ident(j, "source", &t->sa.src);
	add_ident(j, "destination", &t->sa.dst);
	add_ms(j, "installed_ms", t->installed_us);
	add_ms(j, "activate_ms", t->activate_us);
	add_ms(j, "expire_ms", t->expire_us);
	if (t->expire_us == UINT64_MAX)
		cJSON_AddNullToObject(j, "expires_in_s");
	else
		cJSON_AddNumberToObject(j, "expires_in_s",
					t->expire_us > now ? (double)((t->expire_us - now) / 1000u) / 1e3 : 0);
	return j;
}

static void add_stats(cJSON *o, const struct gm_stats *s)
{
	cJSON *st = cJSON_AddObjectToObject(o, "stats");
	const struct { const char *k; uint64_t v; } c[] = {
		{ "pushes", s->pushes }, { "rekeys", s->rekeys }, { "heartbeats", s->heartbeats },
		{ "retransmissions", s->retransmissions }, { "acks_sent", s->acks_sent },
		{ "rejected_replay", s->rejected_replay }, { "rejected_sig", s->rejected_sig },
		{ "rejected_unknown_kek", s->rejected_unknown_kek }, { "rejected_other", s->rejected_other },
		{ "kek_replacements", s->kek_replacements }, { "heartbeat_losses", s->heartbeat_losses },
		{ "reregistrations", s->reregistrations },
		{ "reregistration_failures", s->reregistration_failures },
	};
	for (size_t i = 0; i < ARRAY_SIZE(c); i++)
		cJSON_AddNumberToObject(st, c[i].k, (double)c[i].v);
}

cJSON *gm_status_json(const struct gm *m)
{
	uint64_t now = loop_now_us();
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "registered", gm_registered(m));
	cJSON_AddNumberToObject(o, "seq", gm_seq(m));
	add_kek(o, m);
	cJSON *a = cJSON_AddArrayToObject(o, "teks");
	for (size_t i = 0; i < gm_tek_count(m); i++)
		cJSON_AddItemToArray(a, tek_json(gm_tek_at(m, i), now));
	add_stats(o, gm_stats(m));
	return o;
}

/* ---- events ---------------------------------------------------------------------------- */

static void tek_fields(cJSON *o, const struct gm_event *ev)
{
	const struct gm_tek *t = ev->tek;
	add_spi32(o, "spi", t->sa.spi);
	cJSON_AddStringToObject(o, "state", gm_tek_state_name(t->state));
	add_ident(o, "source", &t->sa.src);
	add_ident(o, "destination", &t->sa.dst);
	if (ev->reason)
		cJSON_AddStringToObject(o, "reason", ev->reason);
	if (ev->kind == GM_EV_TEK_INSTALLED) {
		cJSON_AddNumberToObject(o, "activate_in_s", (double)(t->activate_us - t->installed_us) / 1e6);
		cJSON_AddNumberToObject(o, "lifetime", t->sa.lifetime);
	}
}

/* The SPIs DELETE payloads named: TEKs as 0x%08x, KEKs in hex. */
static cJSON *deleted_json(const struct gdoi_delete *del, size_t n_del)
{
	cJSON *spis = cJSON_CreateArray();
	char hex[40];
	for (size_t d = 0; d < n_del; d++)
		for (size_t i = 0; i < del[d].n; i++) {
			const uint8_t *spi = del[d].spi[i];
			if (del[d].spi_size == 4)
				snprintf(hex, sizeof(hex), "0x%08x", (uint32_t)spi[0] << 24 | (uint32_t)spi[1] << 16 |
									 (uint32_t)spi[2] << 8 | spi[3]);
			else
				for (size_t k = 0; k < 16; k++)
					snprintf(hex + 2 * k, 3, "%02x", spi[k]);
			cJSON_AddItemToArray(spis, cJSON_CreateString(hex));
		}
	return spis;
}

static void push_fields(cJSON *o, const struct gm_event *ev)
{
	if (ev->kind == GM_EV_PUSH_REJECTED) {
		cJSON_AddStringToObject(o, "reason", ev->reason);
		cJSON_AddBoolToObject(o, "multicast", ev->multicast);
		if (ev->replay) {
			cJSON_AddNumberToObject(o, "seq", ev->seq);
			cJSON_AddNumberToObject(o, "last_seq", ev->last_seq);
		}
		return;
	}
	cJSON_AddNumberToObject(o, "seq", ev->seq);
	if (ev->kind == GM_EV_PUSH_RECEIVED)
		cJSON_AddStringToObject(o, "kind", ev->push_kind);
	cJSON_AddBoolToObject(o, "multicast", ev->multicast);
	if (ev->kind == GM_EV_PUSH_RECEIVED && ev->n_del)
		cJSON_AddItemToObject(o, "deleted", deleted_json(ev->del, ev->n_del));
}

static void ack_fields(cJSON *o, const struct gm_event *ev)
{
	char t[INET_ADDRSTRLEN + 8];
	inet_ntop(AF_INET, &ev->to->sin_addr, t, INET_ADDRSTRLEN);
	snprintf(t + strlen(t), 8, ":%u", ntohs(ev->to->sin_port));
	cJSON_AddNumberToObject(o, "seq", ev->seq);
	add_hex(o, "kek_spi", ev->spi, 16);
	cJSON_AddStringToObject(o, "to", t);
}

static void kek_fields(cJSON *o, const struct gm_event *ev)
{
	if (ev->kind == GM_EV_KEK_MISSING) {
		add_hex(o, "spi", ev->spi, 16);
		cJSON_AddStringToObject(o, "error", ev->error);
		return;
	}
	if (ev->old_spi)
		add_hex(o, "old_spi", ev->old_spi, 16);
	add_hex(o, "new_spi", ev->spi, 16);
}

static void mcast_fields(cJSON *o, const struct gm_event *ev)
{
	char g[INET_ADDRSTRLEN], ifa[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &ev->mc_group, g, sizeof(g));
	inet_ntop(AF_INET, &ev->mc_if, ifa, sizeof(ifa));
	cJSON_AddStringToObject(o, "group", g);
	cJSON_AddNumberToObject(o, "port", ev->mc_port);
	cJSON_AddStringToObject(o, "interface", ifa);
	if (ev->error)
		cJSON_AddStringToObject(o, "error", ev->error);
}

static void rereg_fields(cJSON *o, const struct gm_event *ev)
{
	switch (ev->kind) {
	case GM_EV_HEARTBEAT_LOST:
		cJSON_AddNumberToObject(o, "seconds", ev->seconds);
		cJSON_AddNumberToObject(o, "last_seq", ev->last_seq);
		break;
	case GM_EV_REREGISTERED:
		cJSON_AddNumberToObject(o, "seq", ev->seq);
		cJSON_AddNumberToObject(o, "elapsed_ms", ev->elapsed_ms);
		break;
	default:
		cJSON_AddStringToObject(o, "error", ev->error);
		cJSON_AddNumberToObject(o, "retry_in_s", ev->retry_in_s);
	}
}

cJSON *gm_event_json(const struct gm_event *ev)
{
	cJSON *o = cJSON_CreateObject();
	switch (ev->kind) {
	case GM_EV_PUSH_RECEIVED:
	case GM_EV_PUSH_REJECTED:
	case GM_EV_RETRANSMISSION:
		push_fields(o, ev);
		break;
	case GM_EV_ACK_SENT:
		ack_fields(o, ev);
		break;
	case GM_EV_KEK_REPLACED:
	case GM_EV_KEK_MISSING:
		kek_fields(o, ev);
		break;
	case GM_EV_TEK_INSTALLED:
	case GM_EV_TEK_ACTIVATED:
	case GM_EV_TEK_REMOVED:
		tek_fields(o, ev);
		break;
	case GM_EV_MULTICAST_JOINED:
	case GM_EV_MULTICAST_FAILED:
		mcast_fields(o, ev);
		break;
	case GM_EV_HEARTBEAT_LOST:
	case GM_EV_REREGISTERED:
	case GM_EV_REREGISTRATION_FAILED:
		rereg_fields(o, ev);
		break;
	}
	return o;
}
