/* SPDX-License-Identifier: BSD-2-Clause */
/* snmp_tables.h: the GVPN-AGENT-MIB tables and scalars beyond gvpnAgent
 * (layout in doc/mib-design.md). */
#ifndef GVPN_SNMP_TABLES_H
#define GVPN_SNMP_TABLES_H

struct snmp_ops;

/* Registers them with the running Net-SNMP agent; 0 or -1 (logged). ops
 * (snmp_agent.h; kept) gives the model in force and applies SETs. */
int snmp_tables_init(const struct snmp_ops *ops);
/* Frees the edits of SETs still pending. */
void snmp_tables_fini(void);

/* SET for GVPN-AGENT-MIB objects, the same in master and AgentX mode:
 * every varbind of a SET is checked by reserve1 (which returns an SNMP
 * error status, or adds the change to the transaction's one edit); at
 * ACTION the edit is applied through the ops' apply_edit (validated like
 * the file, written back, applied), or refused at the varbind whose
 * change is at fault (the first varbind when none can be told) with the
 * error status of the refusal's kind: inconsistentValue for an invalid
 * edit or a file changed on disk, noCreation for a VPN that is not
 * there, commitFailed when the file could not be written. */
struct netsnmp_agent_request_info_s;
struct netsnmp_request_info_s;
struct cfg_edit;
void snmp_set_phase(struct netsnmp_agent_request_info_s *ri, struct netsnmp_request_info_s *requests,
		    int (*reserve1)(struct netsnmp_request_info_s *r, struct cfg_edit *e, void *arg), void *arg);

#endif
