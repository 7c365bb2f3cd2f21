/* snmp_tables.h: the GVPN-AGENT-MIB tables and scalars beyond gvpnAgent
 * (layout in doc/mib-design.md). */
#ifndef GVPN_SNMP_TABLES_H
#define GVPN_SNMP_TABLES_H

/* Registers them with the running Net-SNMP agent; 0 or -1 (logged). */
int snmp_tables_init(void);

#endif
