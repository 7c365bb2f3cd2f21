/* SPDX-License-Identifier: BSD-2-Clause */
/* reload.c: reloads and edits of the model in force (see reload.h). The
 * optional parts (SNMP, web, VPN monitor) are each reconfigured through
 * one function here. */
#include "config.h"
#include "agent/reload.h"
#include "agent/agent.h"
#include "agent/logdest.h"
#include "core/ev.h"
#include "core/gdoi/gks.h"
#include "core/log.h"
#include "core/monitor/mon.h"
#include "core/monitor/mon_vici.h"
#include "snmp/snmp_agent.h"
#include "web/web.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The version of the file the model in force came from: an edit made
 * by the agent must not overwrite changes made by hand since. */
static struct cfg_edit_stamp loaded;

struct cfg *agent_load(const char *path, struct cfg_errors *errs)
{
	return cfg_edit_load(path, &loaded, errs);
}

/* ---- the parts, from model old to n ------------------------------------------------ */

/* SNMP: everything but the notification switches takes a restart. The
 * running settings stay in the model, so status and the MIB show what
 * is actually in force. */
static void reload_snmp(struct cfg *old, struct cfg *n)
{
	if (snmp_agent_needs_restart(&old->snmp, &n->snmp))
		log_warn("config", "snmp settings changed: they take effect when the agent restarts");
	struct cfg_snmp tmp = n->snmp;
	n->snmp = old->snmp;
	old->snmp = tmp;
	/* ... except the notification switches, which apply at once. */
	memcpy(n->snmp.notify, old->snmp.notify, sizeof(n->snmp.notify));
}

/* The web server: every setting takes a restart. */
static void reload_web(struct cfg *old, struct cfg *n)
{
	if (web_needs_restart(&old->web, &n->web))
		log_warn("config", "web settings changed: they take effect when the agent restarts");
	struct cfg_web tmp = n->web;
	n->web = old->web;
	old->web = tmp;
}

/* The VPN monitor: its VPNs and timing apply at once; its socket, or a
 * monitor where there was none, at the restart. */
static void reload_monitor(const struct cfg *old, const struct cfg *n)
{
	if (n->mon && old->mon && strcmp(n->mon->vici_socket, old->mon->vici_socket))
		log_warn("config", "vpn_monitor.vici_socket changed: that takes effect when the agent restarts");
	if (n->mon && !old->mon)
		log_warn("config", "vpn_monitor added: it starts when the agent restarts");
	else
		mon_configure(n->mon);
	if (n->mon)
		mon_vici_set_interval((unsigned)n->mon->interval);
}

/* ---- the rest of the model ------------------------------------------------------------ */

/* Paths and the history size take a restart: the running ones stay. */
static void reload_agent_paths(struct cfg *old, struct cfg *n)
{
	if (strcmp(old->agent.control_socket, n->agent.control_socket) ||
	    strcmp(old->agent.state_dir, n->agent.state_dir) || old->agent.event_history != n->agent.event_history)
		log_warn("config", "agent paths or event_history changed: they take effect when the agent restarts");
	struct cfg_agent tmp = n->agent;
	n->agent.control_socket = old->agent.control_socket;
	n->agent.state_dir = old->agent.state_dir;
	n->agent.event_history = old->agent.event_history;
	old->agent.control_socket = tmp.control_socket;
	old->agent.state_dir = tmp.state_dir;
}

/* The key server is started, stopped or moved only at a restart; its
 * groups and timing apply at once. */
static void reload_gks(struct cfg *old, struct cfg *n)
{
	if ((old->gks && n->gks && strcmp(old->gks->listen, n->gks->listen)) || !old->gks != !n->gks)
		log_warn("config", "group_vpn_server added, removed or moved: that takes effect when the agent restarts");
	if (old->gks && !n->gks) { /* the running key server keeps its section until the restart */
		n->gks = old->gks;
		old->gks = NULL;
	}
	gks_reconfigure(n);
}

static void publish_reloaded(const char *source)
{
	struct event e;
	ev_begin(&e, EV_CONFIG_RELOADED);
	ev_param_str(&e, "file", A.cfg_path);
	ev_param_uint(&e, "generation", A.generation);
	if (strcmp(source, "file")) {
		ev_param_str(&e, "source", source);
		ev_publish(&e, "configuration %s changed through %s; generation %u", A.cfg_path, source,
			   A.generation);
	} else {
		ev_publish(&e, "configuration %s reloaded; generation %u", A.cfg_path, A.generation);
	}
}

/* Swaps in a validated model n (from the file or an edit). */
static void apply_model(struct cfg *n, const char *source)
{
	struct cfg *old = A.cfg;
	reload_snmp(old, n);
	reload_web(old, n);
	reload_agent_paths(old, n);
	reload_gks(old, n);
	logdest_reconfigure(old, n);
	reload_monitor(old, n);
	cfg_free(old);
	A.cfg = n;
	A.generation++;
	clock_gettime(CLOCK_REALTIME, &A.last_reload);
	logdest_level(n, A.verbose);
	publish_reloaded(source);
}

/* ---- edits and reloads ------------------------------------------------------------------- */

enum cfg_edit_err agent_apply_edit(const struct cfg_edit *ed, struct cfg_errors *errs, const char *source,
				   struct cfg_edit_fault *fault)
{
	char *text = NULL;
	struct cfg_edit_stamp written;
	struct cfg_edit_fault f = { CFG_EDIT_OK, -1 };
	struct cfg *n = NULL;
	if (!cfg_edit_count(ed))
		goto done;
	n = cfg_edit_prepare(ed, A.cfg_path, &loaded, &text, errs, &f);
	if (!n || !text) /* refused, or the values asked for are in force already */
		goto done;
	if (cfg_edit_commit(A.cfg_path, text, &written) < 0) {
		cfg_errors_add(errs, "%s: cannot write: %s", A.cfg_path, strerror(errno));
		f.kind = CFG_EDIT_IO;
		goto done;
	}
	loaded = written;
	log_notice("config", "%s: %zu setting%s changed through %s", A.cfg_path, cfg_edit_count(ed),
		   cfg_edit_count(ed) == 1 ? "" : "s", source);
	apply_model(n, source);
	n = NULL; /* in force now */
done:
	free(text);
	cfg_free(n);
	if (fault)
		*fault = f;
	return f.kind;
}

static void publish_rejected(const struct cfg_errors *errs)
{
	struct event e;
	ev_begin(&e, EV_CONFIG_REJECTED);
	ev_param_str(&e, "file", A.cfg_path);
	ev_param_uint(&e, "errors", errs->n);
	ev_param_uint(&e, "generation", A.generation);
	ev_publish(&e, "configuration %s refused (%zu error%s, first: %s); generation %u stays in force",
		   A.cfg_path, errs->n, errs->n == 1 ? "" : "s", errs->n ? errs->msg[0] : "?", A.generation);
}

int agent_reload(struct cfg_errors *errs)
{
	struct cfg_edit_stamp st;
	struct cfg *n = cfg_edit_load(A.cfg_path, &st, errs);
	if (!n) {
		A.reload_failures++;
		for (size_t i = 0; i < errs->n; i++)
			log_err("config", "%s", errs->msg[i]);
		publish_rejected(errs);
		return -1;
	}
	loaded = st;
	apply_model(n, "file");
	agent_report(0, "");
	return 0;
}
