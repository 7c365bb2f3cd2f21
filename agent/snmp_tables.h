/* SPDX-License-Identifier: BSD-2-Clause */
/* snmp_tables.h: the GVPN-AGENT-MIB tables and scalars beyond gvpnAgent
 * (layout in doc/mib-design.md). */
#ifndef GVPN_SNMP_TABLES_H
#define GVPN_SNMP_TABLES_H

/* Registers them with the running Net-SNMP agent; 0 or -1 (logged). */
int snmp_tables_init(void);

/* SET for GVPN-AGENT-MIB objects: every varbind of a PDU is checked by
 * reserve1 (which returns an SNMP error status, or adds the change to
 * the PDU's one edit); at ACTION the edit is applied through
 * agent_apply_edit() (validated like the file, written back, applied),
 * or every varbind fails with inconsistentValue. */
struct netsnmp_agent_request_info_s;
struct netsnmp_request_info_s;
struct cfg_edit;
void snmp_set_phase(struct netsnmp_agent_request_info_s *ri, struct netsnmp_request_info_s *requests,
		    int (*reserve1)(struct netsnmp_request_info_s *r, struct cfg_edit *e, void *arg), void *arg);

#endif
