/* SPDX-License-Identifier: BSD-2-Clause */
/* snmp_agent.h: the embedded Net-SNMP agent (master, or AgentX subagent),
 * driven from the event loop: no agent_check_and_process(), no threads. */
#ifndef GVPN_SNMP_AGENT_H
#define GVPN_SNMP_AGENT_H

#include "core/cfg.h"
#include "core/cfg_edit.h"

/* What the SNMP glue needs of the agent, as web_ops for the web server:
 * the glue never reaches into the agent's state directly. */
struct snmp_ops {
	/* The model in force: it changes on every reload, so ask again each
	 * time (never keep the pointer). */
	const struct cfg *(*cfg)(void);
	unsigned (*generation)(void);        /* gvpnAgentConfigGeneration */
	unsigned (*reload_failures)(void);   /* gvpnAgentConfigReloadFailures */
	unsigned long (*uptime)(void);       /* gvpnAgentUptime, seconds */
	/* A SET's edit, validated, written and applied as agent_apply_edit()
	 * (reload.h) does: CFG_EDIT_OK, or why it was refused with errs and
	 * fault filled. */
	enum cfg_edit_err (*apply_edit)(const struct cfg_edit *e, struct cfg_errors *errs,
					struct cfg_edit_fault *fault);
};

/* state_dir holds Net-SNMP's persistent file (engine ID, boots). ops
 * (kept, not copied) must stay valid until snmp_agent_fini(). */
int snmp_agent_init(const struct cfg_snmp *s, const char *state_dir, const struct snmp_ops *ops);
void snmp_agent_fini(void);
/* 1 when the SNMP settings of a and b differ in a way that needs a restart. */
int snmp_agent_needs_restart(const struct cfg_snmp *a, const struct cfg_snmp *b);

#endif
