/* SPDX-License-Identifier: BSD-2-Clause */
/* snmp_agent.h: the embedded Net-SNMP agent (master, or AgentX subagent),
 * driven from the event loop: no agent_check_and_process(), no threads. */
#ifndef GVPN_SNMP_AGENT_H
#define GVPN_SNMP_AGENT_H

#include "core/cfg.h"

/* state_dir holds Net-SNMP's persistent file (engine ID, boots). */
int snmp_agent_init(const struct cfg_snmp *s, const char *state_dir);
void snmp_agent_fini(void);
/* 1 when the SNMP settings of a and b differ in a way that needs a restart. */
int snmp_agent_needs_restart(const struct cfg_snmp *a, const struct cfg_snmp *b);

/* Net-SNMP's names of the configured algorithms (for createUser, and
 * usm_lookup_auth_type/usm_lookup_priv_type of the notification
 * sessions); snmp_priv_token() is NULL for no privacy. */
const char *snmp_auth_token(int auth);
const char *snmp_priv_token(int priv);

#endif
