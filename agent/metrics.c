/* SPDX-License-Identifier: BSD-2-Clause */
/* metrics.c: GET /metrics, the agent's counters and gauges in Prometheus'
 * text format. Nothing is counted here: every value comes from the
 * accessor its subsystem already has for gvpnctl, the web API and the
 * MIB (gks_stats(), gks_*_lookup(), mon_status_at(), syslog_out_get(),
 * snmp_notify_sent()), so the three views cannot drift apart. */
#include "config.h"
#include "agent/agent.h"
#include "core/crypto.h"
#include "core/ev.h"
#include "core/gdoi/gks.h"
#include "core/gdoi/gks_view.h"
#include "core/monitor/mon.h"
#include "core/prom.h"
#include "snmp/snmp_notify.h"
#include "snmp/snmp_target.h"
#include "core/syslog/syslog_out.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define GAUGE "gauge"
#define COUNTER "counter"

static void agent_metrics(struct prom *p)
{
	prom_family(p, "gvpn_build_info", GAUGE, "gvpn-agent's version; always 1");
	prom_u64(p, "gvpn_build_info", 1, "version", PACKAGE_VERSION, NULL);
	prom_family(p, "gvpn_agent_start_time_seconds", GAUGE, "When the agent started, seconds since the epoch");
	prom_double(p, "gvpn_agent_start_time_seconds",
		    (double)A.started.tv_sec + (double)A.started.tv_nsec / 1e9, NULL);
	prom_family(p, "gvpn_config_generation", GAUGE, "Configuration generation: 1 at start, +1 per reload or edit applied");
	prom_u64(p, "gvpn_config_generation", A.generation, NULL);
	prom_family(p, "gvpn_config_reload_failures_total", COUNTER, "Reloads refused (the old configuration was kept)");
	prom_u64(p, "gvpn_config_reload_failures_total", A.reload_failures, NULL);
	prom_family(p, "gvpn_events_published_total", COUNTER, "Events published on the event bus");
	prom_u64(p, "gvpn_events_published_total", ev_last_id(), NULL);
}

/* ---- key server ------------------------------------------------------------------------- */

/* A key server-wide counter or gauge from struct gks_stats. */
struct gks_stat {
	const char *name, *type, *help;
	size_t off;
	const char *reason;  /* the label of a family split by reason */
};

#define ST(f) offsetof(struct gks_stats, f)
static const struct gks_stat gks_stat_table[] = {
	{ "gvpn_gks_registrations_total", COUNTER, "Completed GROUPKEY-PULL registrations", ST(registrations), NULL },
	{ "gvpn_gks_registrations_refused_total", COUNTER, "Registrations refused (authentication, group, membership)",
	  ST(refused), NULL },
	{ "gvpn_gks_acks_total", COUNTER, "Rekey ACKs that verified", ST(acks), NULL },
	{ "gvpn_gks_acks_duplicate_total", COUNTER, "Verified ACKs of a push already acknowledged", ST(acks_duplicate), NULL },
	{ "gvpn_gks_ack_drops_total", COUNTER, "ACKs dropped, by reason", ST(drop_ack_unknown), "unknown_member_or_kek" },
	{ "gvpn_gks_ack_drops_total", NULL, NULL, ST(drop_ack_bad), "bad_hash" },
	{ "gvpn_gks_drops_total", COUNTER, "Datagrams dropped, by reason", ST(drop_malformed), "malformed" },
	{ "gvpn_gks_drops_total", NULL, NULL, ST(drop_unknown_sa), "unknown_sa" },
	{ "gvpn_gks_drops_total", NULL, NULL, ST(drop_half_open), "half_open_limit" },
	{ "gvpn_gks_drops_total", NULL, NULL, ST(drop_backoff), "backoff" },
	{ "gvpn_gks_rx_kernel_drops_total", COUNTER, "Datagrams the kernel dropped for a full receive buffer",
	  ST(rx_kernel_drops), NULL },
	{ "gvpn_gks_send_errors_total", COUNTER, "sendto() failures", ST(send_errors), NULL },
	{ "gvpn_gks_seq_save_errors_total", COUNTER, "SEQ reservations that could not be saved", ST(seq_save_errors), NULL },
	{ "gvpn_gks_pushes_held_total", COUNTER, "Rekey pushes held (and retried) for want of a saved SEQ",
	  ST(pushes_held), NULL },
	{ "gvpn_gks_exchanges_expired_total", COUNTER, "Half-open exchanges that timed out", ST(expired), NULL },
	{ "gvpn_gks_backoffs_total", COUNTER, "Addresses backed off after repeated failed authentications",
	  ST(backoffs), NULL },
	{ "gvpn_gks_members_moved_total", COUNTER, "Members that reregistered from a new port", ST(members_moved), NULL },
	{ "gvpn_gks_half_open_exchanges", GAUGE, "Exchanges now past message 3 and not established", ST(half_open), NULL },
	{ "gvpn_gks_embryonic_exchanges", GAUGE, "Exchanges now past message 1 without a message 3", ST(embryonic), NULL },
	{ "gvpn_gks_phase1_sas", GAUGE, "Phase 1 SAs now", ST(sas), NULL },
};
#undef ST

static void gks_server_metrics(struct prom *p)
{
	const struct gks_stats *s = gks_stats();
	for (size_t i = 0; i < ARRAY_SIZE(gks_stat_table); i++) {
		const struct gks_stat *t = &gks_stat_table[i];
		uint64_t v;
		memcpy(&v, (const char *)s + t->off, sizeof(v));
		if (t->type)
			prom_family(p, t->name, t->type, t->help);
		prom_u64(p, t->name, v, t->reason ? "reason" : NULL, t->reason, NULL);
	}
}

/* A per-group counter or gauge from struct gks_group_info. */
struct group_stat {
	const char *name, *type, *help;
	size_t off, size;
};

#define GI(f) offsetof(struct gks_group_info, f), sizeof(((struct gks_group_info *)0)->f)
static const struct group_stat group_table[] = {
	{ "gvpn_gks_members", GAUGE, "Members registered in the group now", GI(members) },
	{ "gvpn_gks_rekeys_total", COUNTER, "Rekeys of the group (new KEK and TEKs)", GI(rekeys) },
	{ "gvpn_gks_pushes_total", COUNTER, "Rekey pushes sent to the group", GI(pushes) },
	{ "gvpn_gks_heartbeats_total", COUNTER, "Heartbeat pushes sent to the group", GI(heartbeats) },
	{ "gvpn_gks_retransmissions_total", COUNTER, "Unicast rekey copies sent again for want of an ACK",
	  GI(retransmissions) },
	{ "gvpn_gks_members_removed_total", COUNTER, "Members removed for want of ACKs", GI(removed) },
	{ "gvpn_gks_seq", GAUGE, "The group's last rekey SEQ", GI(seq) },
	{ "gvpn_gks_next_rekey_seconds", GAUGE, "Seconds until the group's next scheduled rekey (0: none)",
	  GI(next_rekey) },
};
#undef GI

static uint64_t field_u64(const void *obj, size_t off, size_t size)
{
	const char *at = (const char *)obj + off;
	if (size == sizeof(uint64_t)) {
		uint64_t v;
		memcpy(&v, at, sizeof(v));
		return v;
	}
	if (size == sizeof(uint32_t)) {
		uint32_t v;
		memcpy(&v, at, sizeof(v));
		return v;
	}
	size_t v;   /* members */
	memcpy(&v, at, sizeof(v));
	return v;
}

static struct gks_group_info *groups_now(size_t *n)
{
	struct gks_group_info *g = NULL, gi;
	size_t cap = 0;
	*n = 0;
	for (int r = gks_group_lookup(0, 1, &gi); r == 0; r = gks_group_lookup(gi.group_id, 1, &gi)) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			g = xrealloc(g, cap * sizeof(*g));
		}
		g[(*n)++] = gi;
	}
	return g;
}

static const char *group_name(const struct gks_group_info *g, size_t n, long id)
{
	for (size_t i = 0; i < n; i++)
		if (g[i].group_id == id)
			return g[i].name;
	return "";
}

static void gks_lifetime_metrics(struct prom *p, const struct gks_group_info *g, size_t n)
{
	char id[24], spi[40];
	struct gks_kek_info k;
	prom_family(p, "gvpn_gks_kek_remaining_seconds", GAUGE,
		    "Seconds left of each KEK's lifetime (1 the current, 2 the previous)");
	for (int r = gks_kek_lookup(0, 0, 1, &k); r == 0; r = gks_kek_lookup(k.group_id, k.index, 1, &k)) {
		snprintf(id, sizeof(id), "%ld", k.group_id);
		for (size_t i = 0; i < sizeof(k.spi); i++)
			snprintf(spi + 2 * i, 3, "%02x", k.spi[i]);
		prom_u64(p, "gvpn_gks_kek_remaining_seconds", k.remaining, "group_id", id,
			 "group", group_name(g, n, k.group_id), "spi", spi, NULL);
	}
	struct gks_tek_info t;
	prom_family(p, "gvpn_gks_tek_remaining_seconds", GAUGE,
		    "Seconds left of each TEK's lifetime, old TEKs still valid included");
	for (int r = gks_tek_lookup(0, 0, 1, &t); r == 0; r = gks_tek_lookup(t.group_id, t.index, 1, &t)) {
		snprintf(id, sizeof(id), "%ld", t.group_id);
		snprintf(spi, sizeof(spi), "0x%08x", t.spi);   /* as gvpnctl shows it */
		prom_u64(p, "gvpn_gks_tek_remaining_seconds", t.remaining, "group_id", id,
			 "group", group_name(g, n, t.group_id), "policy", t.policy, "spi", spi, NULL);
	}
}

static void gks_metrics(struct prom *p)
{
	if (!A.cfg->gks)
		return;
	gks_server_metrics(p);
	size_t n;
	struct gks_group_info *g = groups_now(&n);
	char id[24];
	for (size_t f = 0; f < ARRAY_SIZE(group_table); f++) {
		const struct group_stat *t = &group_table[f];
		prom_family(p, t->name, t->type, t->help);
		for (size_t i = 0; i < n; i++) {
			snprintf(id, sizeof(id), "%ld", g[i].group_id);
			prom_u64(p, t->name, field_u64(&g[i], t->off, t->size), "group_id", id, "group", g[i].name, NULL);
		}
	}
	gks_lifetime_metrics(p, g, n);
	free(g);
}

/* ---- VPN monitor ------------------------------------------------------------------------- */

static void vpn_state_metrics(struct prom *p)
{
	static const enum mon_state states[] = { MON_DISABLED, MON_PENDING, MON_UP, MON_DOWN };
	struct mon_vpn_status st;
	prom_family(p, "gvpn_vpn_up", GAUGE, "1 when the monitor finds the tunnel up, else 0");
	for (size_t i = 0; i < mon_count(); i++)
		if (mon_status_at(i, &st) == 0)
			prom_u64(p, "gvpn_vpn_up", st.state == MON_UP, "vpn", st.name, NULL);
	prom_family(p, "gvpn_vpn_state", GAUGE, "The tunnel's monitor state: 1 for the state it is in");
	for (size_t i = 0; i < mon_count(); i++)
		if (mon_status_at(i, &st) == 0)
			for (size_t s = 0; s < ARRAY_SIZE(states); s++)
				prom_u64(p, "gvpn_vpn_state", st.state == states[s], "vpn", st.name,
					 "state", mon_state_name(states[s]), NULL);
}

enum vpn_field { VF_PROBES, VF_REPLIES, VF_MISSES, VF_REKEY_ATTEMPTS, VF_REKEY_OK, VF_CHANGES };

static uint64_t vpn_field(const struct mon_vpn_status *st, enum vpn_field f)
{
	switch (f) {
	case VF_PROBES: return st->probes_sent;
	case VF_REPLIES: return st->replies;
	case VF_MISSES: return st->consecutive_misses;
	case VF_REKEY_ATTEMPTS: return st->rekey_attempts;
	case VF_REKEY_OK: return st->rekey_successes;
	case VF_CHANGES: return st->state_changes;
	}
	return 0;
}

static void vpn_metrics(struct prom *p)
{
	static const struct { const char *name, *type, *help; enum vpn_field f; } table[] = {
		{ "gvpn_vpn_probes_total", COUNTER, "Monitor probes sent", VF_PROBES },
		{ "gvpn_vpn_probe_replies_total", COUNTER, "Monitor probes answered", VF_REPLIES },
		{ "gvpn_vpn_consecutive_misses", GAUGE, "Probes missed in a row now", VF_MISSES },
		{ "gvpn_vpn_rekey_attempts_total", COUNTER, "Renegotiations the monitor started", VF_REKEY_ATTEMPTS },
		{ "gvpn_vpn_rekey_successes_total", COUNTER, "Renegotiations that brought the tunnel up",
		  VF_REKEY_OK },
		{ "gvpn_vpn_state_changes_total", COUNTER, "Changes of the tunnel's monitor state", VF_CHANGES },
	};
	if (!A.cfg->mon)
		return;
	vpn_state_metrics(p);
	struct mon_vpn_status st;
	for (size_t f = 0; f < ARRAY_SIZE(table); f++) {
		prom_family(p, table[f].name, table[f].type, table[f].help);
		for (size_t i = 0; i < mon_count(); i++)
			if (mon_status_at(i, &st) == 0)
				prom_u64(p, table[f].name, vpn_field(&st, table[f].f), "vpn", st.name, NULL);
	}
	prom_family(p, "gvpn_vpn_availability_ratio", GAUGE, "Share of the last 30 probes answered (0 to 1)");
	for (size_t i = 0; i < mon_count(); i++)
		if (mon_status_at(i, &st) == 0)
			prom_double(p, "gvpn_vpn_availability_ratio", st.availability / 100.0, "vpn", st.name, NULL);
	/* No sample before the first reply: a delay of 0 would be a lie. */
	prom_family(p, "gvpn_vpn_probe_delay_seconds", GAUGE, "Round-trip time of the last answered probe");
	for (size_t i = 0; i < mon_count(); i++)
		if (mon_status_at(i, &st) == 0 && st.delay_last_us >= 0)
			prom_double(p, "gvpn_vpn_probe_delay_seconds", (double)st.delay_last_us / 1e6, "vpn", st.name, NULL);
	prom_family(p, "gvpn_vpn_probe_delay_avg_seconds", GAUGE, "Mean round-trip time over the answered of the last 30 probes");
	for (size_t i = 0; i < mon_count(); i++)
		if (mon_status_at(i, &st) == 0 && st.delay_avg_us >= 0)
			prom_double(p, "gvpn_vpn_probe_delay_avg_seconds", (double)st.delay_avg_us / 1e6, "vpn", st.name,
				    NULL);
}

/* ---- syslog collectors and SNMP notifications --------------------------------------------- */

enum sl_field { SL_SENT, SL_DROP_QUEUE, SL_DROP_ERROR, SL_DROP_SIZE, SL_QUEUED, SL_CONNECTED, SL_RECONNECTS };

static uint64_t sl_field(const struct syslog_tx_stats *st, enum sl_field f)
{
	switch (f) {
	case SL_SENT: return st->sent;
	case SL_DROP_QUEUE: return st->dropped_queue;
	case SL_DROP_ERROR: return st->dropped_error;
	case SL_DROP_SIZE: return st->dropped_size;
	case SL_QUEUED: return st->queued;
	case SL_CONNECTED: return st->connected != 0;
	case SL_RECONNECTS: return st->reconnects;
	}
	return 0;
}

static void syslog_metrics(struct prom *p)
{
	static const struct { const char *name, *type, *help; enum sl_field f; const char *reason; } table[] = {
		{ "gvpn_syslog_sent_total", COUNTER, "Messages handed to the kernel, per collector", SL_SENT, NULL },
		{ "gvpn_syslog_dropped_total", COUNTER, "Messages lost, per collector and reason", SL_DROP_QUEUE,
		  "queue_full" },
		{ "gvpn_syslog_dropped_total", NULL, NULL, SL_DROP_ERROR, "send_error" },
		{ "gvpn_syslog_dropped_total", NULL, NULL, SL_DROP_SIZE, "size" },
		{ "gvpn_syslog_queue_depth", GAUGE, "Messages waiting in the collector's queue", SL_QUEUED, NULL },
		{ "gvpn_syslog_connected", GAUGE, "1 while the collector's connection is up (datagram: the last send worked)",
		  SL_CONNECTED, NULL },
		{ "gvpn_syslog_reconnects_total", COUNTER, "Connection attempts after the first", SL_RECONNECTS, NULL },
	};
	if (!syslog_out_count())
		return;
	for (size_t f = 0; f < ARRAY_SIZE(table); f++) {
		if (table[f].type)
			prom_family(p, table[f].name, table[f].type, table[f].help);
		for (size_t i = 0; i < syslog_out_count(); i++) {
			const char *tr, *host;
			long port;
			const struct syslog_tx_stats *st;
			char ps[24];
			if (syslog_out_get(i, &tr, &host, &port, &st) < 0)
				continue;
			snprintf(ps, sizeof(ps), "%ld", port);
			prom_u64(p, table[f].name, sl_field(st, table[f].f), "transport", tr, "host", host, "port", ps,
				 table[f].reason ? "reason" : NULL, table[f].reason, NULL);
		}
	}
}

static void snmp_metrics(struct prom *p)
{
	if (!A.cfg->snmp.enabled)
		return;
	prom_family(p, "gvpn_snmp_notifications_sent_total", COUNTER, "SNMP notifications sent, per kind");
	for (int k = 0; k < CFG_NOTIFY_COUNT; k++)
		prom_u64(p, "gvpn_snmp_notifications_sent_total", snmp_notify_sent(k), "notification",
			 cfg_notify_names[k], NULL);
	prom_family(p, "gvpn_snmp_notifications_failed_total", COUNTER,
		    "SNMP notifications Net-SNMP could not build for its targets, per kind");
	for (int k = 0; k < CFG_NOTIFY_COUNT; k++)
		prom_u64(p, "gvpn_snmp_notifications_failed_total", snmp_notify_failed(k), "notification",
			 cfg_notify_names[k], NULL);
	/* Per notification target: what each receiver got. */
	static const struct {
		const char *name, *type, *help;
	} tf[] = {
		{ "gvpn_snmp_target_sent_total", COUNTER, "Notifications sent to the target (informs: first copies)" },
		{ "gvpn_snmp_target_acknowledged_total", COUNTER, "Informs the target acknowledged" },
		{ "gvpn_snmp_target_retried_total", COUNTER, "Inform retransmissions to the target" },
		{ "gvpn_snmp_target_dropped_total", COUNTER,
		  "Notifications for the target dropped: queue full, retries exhausted, refused, not sendable" },
		{ "gvpn_snmp_target_queued", GAUGE, "Informs waiting or unacknowledged" },
		{ "gvpn_snmp_target_engine_changes_total", COUNTER, "Times the target's SNMP engine ID was found changed" },
	};
	size_t n = snmp_target_count();
	for (size_t f = 0; n && f < ARRAY_SIZE(tf); f++) {
		prom_family(p, tf[f].name, tf[f].type, tf[f].help);
		for (size_t i = 0; i < n; i++) {
			struct snmp_target_info t;
			if (snmp_target_get(i, &t) < 0)
				continue;
			uint64_t v = f == 0 ? t.sent : f == 1 ? t.acked : f == 2 ? t.retried : f == 3 ? t.dropped :
				     f == 4 ? t.queued : t.engine_changes;
			prom_u64(p, tf[f].name, v, "target", t.address, "kind", t.inform ? "inform" : "trap", NULL);
		}
	}
}

char *metrics_text(size_t *len)
{
	struct prom *p = prom_new();
	agent_metrics(p);
	gks_metrics(p);
	vpn_metrics(p);
	syslog_metrics(p);
	snmp_metrics(p);
	return prom_finish(p, len);
}

/* Every token is compared, in constant time over its SHA-256, so the
 * answer's timing tells nothing of which one came close, or how long. */
const char *metrics_token_name(const char *token)
{
	const struct cfg_secrets *s = &A.cfg->secrets;
	uint8_t want[32], got[32];
	const char *found = NULL;
	struct crypto_iov iov = { token, strlen(token) };
	if (crypto_hash(CRYPTO_HASH_SHA256, &iov, 1, got) < 0)
		return NULL;
	for (size_t i = 0; i < s->n_metrics_tokens; i++) {
		struct crypto_iov t = { s->metrics_tokens[i].value, strlen(s->metrics_tokens[i].value) };
		if (crypto_hash(CRYPTO_HASH_SHA256, &t, 1, want) == 0 && !CRYPTO_memcmp(want, got, sizeof(got)))
			found = s->metrics_tokens[i].name;
	}
	OPENSSL_cleanse(want, sizeof(want));
	return found;
}
