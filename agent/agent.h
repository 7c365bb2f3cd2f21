/* SPDX-License-Identifier: BSD-2-Clause */
/* agent.h: the gvpn-agent daemon's shared state (agent.c), and what its
 * parts in agent/ offer each other: the status document (status.c),
 * /metrics (metrics.c), the control socket (ctl_server.c). Reloads and
 * edits are in reload.h, where log lines go in logdest.h. The SNMP glue
 * and the web server do not include this: they reach the agent through
 * their ops tables (snmp_ops, web_ops), filled in main.c. */
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

unsigned long agent_uptime_seconds(void);

/* The service manager's STATUS= line ("serving N groups, M VPNs") after
 * what; with ready, READY=1 too (svc.h). */
void agent_report(int ready, const char *what);

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
