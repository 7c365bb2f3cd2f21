/* SPDX-License-Identifier: BSD-2-Clause */
/* status.c: the agent's status as JSON, one builder for every consumer. */
#include "config.h"
#include "agent/agent.h"
#include "core/ev.h"
#include "core/gdoi/gks.h"
#include "core/syslog/syslog_out.h"
#include "core/monitor/mon.h"
#include "core/monitor/mon_vici.h"
#include "core/log.h"
#include "core/loop.h"
#include "snmp/snmp_target.h"

#include <stdio.h>
#include <unistd.h>

static void add_time(cJSON *o, const char *key, const struct timespec *ts)
{
	struct tm tm;
	char buf[64];
	gmtime_r(&ts->tv_sec, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000);
	cJSON_AddStringToObject(o, key, buf);
}

static cJSON *str_array(char **v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

/* One object per notification target, in the order of the MIB's table. */
static cJSON *targets_json(void)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < snmp_target_count(); i++) {
		struct snmp_target_info t;
		if (snmp_target_get(i, &t) < 0)
			continue;
		char engine[2 * 32 + 1] = "";
		for (size_t k = 0; k < t.engine_id_len && k < 32; k++)
			snprintf(engine + 2 * k, 3, "%02x", t.engine_id[k]);
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "address", t.address);
		cJSON_AddStringToObject(j, "type", t.inform ? "inform" : "trap");
		cJSON_AddStringToObject(j, "version", t.v2c ? "v2c" : "v3");
		cJSON_AddNumberToObject(j, "sent", (double)t.sent);
		cJSON_AddNumberToObject(j, "acknowledged", (double)t.acked);
		cJSON_AddNumberToObject(j, "retried", (double)t.retried);
		cJSON_AddNumberToObject(j, "dropped", (double)t.dropped);
		cJSON_AddNumberToObject(j, "queued", (double)t.queued);
		cJSON_AddStringToObject(j, "engine_id", engine);
		cJSON_AddNumberToObject(j, "engine_changes", (double)t.engine_changes);
		cJSON_AddItemToArray(a, j);
	}
	return a;
}

cJSON *status_json(void)
{
	const struct cfg *c = A.cfg;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "version", PACKAGE_VERSION);
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
	cJSON_AddNumberToObject(o, "uptime_seconds", (double)agent_uptime_seconds());
	add_time(o, "started", &A.started);

	cJSON *cf = cJSON_AddObjectToObject(o, "config");
	cJSON_AddStringToObject(cf, "file", c->path);
	cJSON_AddNumberToObject(cf, "generation", A.generation);
	cJSON_AddNumberToObject(cf, "reload_failures", A.reload_failures);
	add_time(cf, "loaded", &A.last_reload);

	cJSON *s = cJSON_AddObjectToObject(o, "snmp");
	cJSON_AddBoolToObject(s, "enabled", c->snmp.enabled);
	cJSON_AddStringToObject(s, "mode", cfg_enum_name(cfg_snmp_mode_names, c->snmp.mode));
	cJSON_AddItemToObject(s, "listen", str_array(c->snmp.listen, c->snmp.n_listen));
	cJSON_AddItemToObject(s, "notification_targets", targets_json());

	cJSON *w = cJSON_AddObjectToObject(o, "web");
	cJSON_AddBoolToObject(w, "enabled", c->web.enabled);
	cJSON_AddStringToObject(w, "listen", c->web.listen ? c->web.listen : "");
	cJSON_AddBoolToObject(w, "https", c->web.cert_file != NULL);

	if (c->gks) {
		const struct gks_stats *g = gks_stats();
		cJSON *k = cJSON_AddObjectToObject(o, "key_server");
		cJSON_AddStringToObject(k, "listen", c->gks->listen);
		cJSON_AddNumberToObject(k, "groups", (double)c->gks->n_groups);
		cJSON_AddNumberToObject(k, "members", (double)gks_member_count());
		cJSON_AddNumberToObject(k, "registrations", (double)g->registrations);
		cJSON_AddNumberToObject(k, "refused", (double)g->refused);
		cJSON_AddNumberToObject(k, "drops", (double)(g->drop_malformed + g->drop_unknown_sa +
							      g->drop_half_open));
		cJSON_AddNumberToObject(k, "half_open", (double)g->half_open);
		cJSON_AddNumberToObject(k, "rekeys_sent", (double)g->rekeys_sent);
		cJSON_AddNumberToObject(k, "retransmissions", (double)g->retransmissions);
		cJSON_AddNumberToObject(k, "heartbeats", (double)g->heartbeats);
		cJSON_AddNumberToObject(k, "acks", (double)g->acks);
		cJSON_AddNumberToObject(k, "ack_drops", (double)(g->drop_ack_unknown + g->drop_ack_bad));
		cJSON_AddNumberToObject(k, "members_removed", (double)g->members_removed);
		cJSON_AddNumberToObject(k, "send_errors", (double)g->send_errors);
		cJSON_AddNumberToObject(k, "seq_save_errors", (double)g->seq_save_errors);
		cJSON_AddNumberToObject(k, "pushes_held", (double)g->pushes_held);
	}

	cJSON *sl = cJSON_AddArrayToObject(o, "syslog");
	for (size_t i = 0; i < syslog_out_count(); i++) {
		const char *tr, *host;
		long port;
		const struct syslog_tx_stats *st;
		if (syslog_out_get(i, &tr, &host, &port, &st) < 0)
			continue;
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "transport", tr);
		cJSON_AddStringToObject(j, "host", host);
		cJSON_AddNumberToObject(j, "port", (double)port);
		cJSON_AddBoolToObject(j, "connected", st->connected);
		cJSON_AddNumberToObject(j, "sent", (double)st->sent);
		cJSON_AddNumberToObject(j, "dropped", (double)st->dropped);
		cJSON_AddNumberToObject(j, "dropped_queue", (double)st->dropped_queue);
		cJSON_AddNumberToObject(j, "dropped_error", (double)st->dropped_error);
		cJSON_AddNumberToObject(j, "reconnects", (double)st->reconnects);
		cJSON_AddNumberToObject(j, "queued", (double)st->queued);
		cJSON_AddItemToArray(sl, j);
	}

	cJSON *e = cJSON_AddObjectToObject(o, "events");
	cJSON_AddNumberToObject(e, "published", (double)ev_last_id());
	cJSON_AddNumberToObject(e, "kept", (double)ev_history_len());
	cJSON_AddNumberToObject(e, "capacity", (double)ev_history_cap());
	return o;
}

static void add_event(const struct event *e, void *arg)
{
	cJSON *a = arg, *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)e->id);
	add_time(o, "time", &e->when);
	cJSON_AddStringToObject(o, "msgid", ev_kind_msgid(e->kind));
	cJSON_AddStringToObject(o, "severity", log_level_name(e->severity));
	cJSON_AddStringToObject(o, "text", e->text);
	cJSON *p = cJSON_AddObjectToObject(o, "params");
	for (unsigned i = 0; i < e->nparams; i++)
		cJSON_AddStringToObject(p, e->params[i].name, e->params[i].value);
	cJSON_AddItemToArray(a, o);
}

cJSON *status_vpns_json(void)
{
	cJSON *o = cJSON_CreateObject();
	const struct cfg_mon *m = A.cfg->mon;
	cJSON_AddNumberToObject(o, "interval", m ? (double)m->interval : 0);
	cJSON_AddNumberToObject(o, "threshold", m ? (double)m->threshold : 0);
	cJSON *a = cJSON_AddArrayToObject(o, "vpns");
	for (size_t i = 0; i < mon_count(); i++) {
		struct mon_vpn_status st;
		if (mon_status_at(i, &st) < 0)
			continue;
		const struct cfg_vpn *c = &m->vpns[i];
		cJSON *v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "name", st.name);
		cJSON_AddStringToObject(v, "state", mon_state_name(st.state));
		cJSON_AddBoolToObject(v, "monitor", st.monitor);
		cJSON_AddBoolToObject(v, "optimized", st.optimized);
		cJSON_AddBoolToObject(v, "rekey", st.rekey);
		cJSON_AddStringToObject(v, "source_interface", c->source_interface ? c->source_interface : "");
		cJSON_AddStringToObject(v, "destination_ip", c->destination_ip ? c->destination_ip : "");
		cJSON_AddNumberToObject(v, "consecutive_misses", st.consecutive_misses);
		cJSON_AddNumberToObject(v, "probes_sent", (double)st.probes_sent);
		cJSON_AddNumberToObject(v, "replies", (double)st.replies);
		cJSON_AddNumberToObject(v, "availability", st.availability);
		cJSON_AddNumberToObject(v, "delay_last_ms", st.delay_last_us < 0 ? -1 : (double)st.delay_last_us / 1000.0);
		cJSON_AddNumberToObject(v, "delay_avg_ms", st.delay_avg_us < 0 ? -1 : (double)st.delay_avg_us / 1000.0);
		cJSON_AddNumberToObject(v, "rekey_attempts", (double)st.rekey_attempts);
		cJSON_AddNumberToObject(v, "rekey_successes", (double)st.rekey_successes);
		cJSON_AddNumberToObject(v, "seconds_since_change",
					(double)((loop_now_us() - st.last_change_us) / 1000000u));
		/* strongSwan's view, as of the last list-sas (at most one interval old) */
		struct vici_child_sa ch;
		struct vici_ike_sa ike;
		if (mon_vici_child(st.name, &ch, &ike) == 0) {
			char spi[16];
			cJSON *cj = cJSON_AddObjectToObject(v, "child_sa");
			snprintf(spi, sizeof(spi), "%08x", ch.spi_in);
			cJSON_AddStringToObject(cj, "spi_in", spi);
			snprintf(spi, sizeof(spi), "%08x", ch.spi_out);
			cJSON_AddStringToObject(cj, "spi_out", spi);
			cJSON_AddNumberToObject(cj, "bytes_in", (double)ch.bytes_in);
			cJSON_AddNumberToObject(cj, "bytes_out", (double)ch.bytes_out);
			cJSON_AddNumberToObject(cj, "packets_in", (double)ch.packets_in);
			cJSON_AddNumberToObject(cj, "packets_out", (double)ch.packets_out);
			cJSON_AddNumberToObject(cj, "rekey_in", (double)ch.rekey_time);
			cJSON_AddNumberToObject(cj, "expires_in", (double)ch.life_time);
			cJSON *ij = cJSON_AddObjectToObject(v, "ike_sa");
			cJSON_AddStringToObject(ij, "name", ike.name);
			cJSON_AddStringToObject(ij, "state", ike.state);
			cJSON_AddStringToObject(ij, "local", ike.local_host);
			cJSON_AddStringToObject(ij, "remote", ike.remote_host);
			cJSON_AddNumberToObject(ij, "rekey_in", (double)ike.rekey_time);
			cJSON_AddNumberToObject(ij, "reauth_in", (double)ike.reauth_time);
		} else {
			cJSON_AddNullToObject(v, "child_sa");
		}
		cJSON_AddItemToArray(a, v);
	}
	return o;
}

cJSON *status_events_json(uint64_t since)
{
	cJSON *a = cJSON_CreateArray();
	ev_history_since(since, add_event, a);
	return a;
}
