/* SPDX-License-Identifier: BSD-2-Clause */
/* agent.c: the daemon's shared state (struct agent A, see agent.h) and
 * what it tells the service manager about it. Depends on nothing else in
 * agent/ but svc.c, so every other file may use it. */
#include "config.h"
#include "agent/agent.h"
#include "agent/svc.h"
#include "core/loop.h"

struct agent A;

unsigned long agent_uptime_seconds(void)
{
	return (unsigned long)((loop_now_us() - A.start_us) / 1000000u);
}

void agent_report(int ready, const char *what)
{
	size_t groups = A.cfg->gks ? A.cfg->gks->n_groups : 0, vpns = A.cfg->mon ? A.cfg->mon->n_vpns : 0;
	if (ready)
		svc_ready("%sserving %zu group%s, %zu VPN%s", what, groups, groups == 1 ? "" : "s", vpns,
			  vpns == 1 ? "" : "s");
	else
		svc_status("%sserving %zu group%s, %zu VPN%s", what, groups, groups == 1 ? "" : "s", vpns,
			   vpns == 1 ? "" : "s");
}
