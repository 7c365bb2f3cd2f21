/* SPDX-License-Identifier: BSD-2-Clause */
/* agent.h: the gvpn-agent daemon's shared state and wiring between its
 * parts (main, control socket, status, SNMP glue). */
#ifndef GVPN_AGENT_H
#define GVPN_AGENT_H

#include <stdint.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "core/cfg.h"

struct agent {
	struct cfg *cfg;            /* the model in force */
	const char *cfg_path;       /* owned; absolute */
	int verbose;                /* -v: debug logging whatever the config says */
	unsigned generation;        /* 1 at start, +1 per successful reload */
	unsigned reload_failures;   /* reloads refused (old config kept) */
	uint64_t start_us;          /* loop clock at start */
	struct timespec started;    /* wall clock at start */
	struct timespec last_reload;
};

extern struct agent A;

/* Reloads the config file: on success swaps it in; on failure keeps the
 * old one, fills errs and publishes CONFIG_REJECTED. 0 or -1. */
int agent_reload(struct cfg_errors *errs);

/* A change made through SNMP or the web page (source "snmp", "web"):
 * validated like the file, written to it atomically, then applied like a
 * reload (CONFIG_RELOADED with source=...). Refused, with the file and
 * the model untouched and no event (the caller reports), when invalid or
 * when the file changed on disk since it was loaded. An edit that
 * changes nothing writes nothing. 0, or -1 with errs and, when fault is
 * not NULL, in *fault the tag of the change at fault (-1: none can be
 * told; see cfg_edit_prepare_at). */
struct cfg_edit;
int agent_apply_edit(const struct cfg_edit *e, struct cfg_errors *errs, const char *source, long *fault);

unsigned long agent_uptime_seconds(void);

/* The status document shared by gvpnctl, the web API (and later SNMP). */
cJSON *status_json(void);
/* The VPN monitor's settings and per-VPN state. */
cJSON *status_vpns_json(void);
/* The event history since id as a JSON array. */
cJSON *status_events_json(uint64_t since);

/* GET /metrics: Prometheus text (caller frees) and its length. */
char *metrics_text(size_t *len);
/* The name of the secrets file's metrics token equal to token, or NULL. */
const char *metrics_token_name(const char *token);

/* Control socket for gvpnctl. */
int ctl_init(const char *path);
void ctl_fini(void);

#endif
