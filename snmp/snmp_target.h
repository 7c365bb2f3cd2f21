/* SPDX-License-Identifier: BSD-2-Clause */
/* snmp_target.h: the notification targets (snmp.notification_targets,
 * then snmp.trap_sinks), each with a Net-SNMP session of its own, and
 * sending to them without ever blocking the event loop: traps go out at
 * once; informs wait in a bounded queue per target, are retransmitted
 * by Net-SNMP as the target's timeout and retries say, and are counted
 * as acknowledged or dropped. The SNMPv3 engine ID of an inform
 * receiver is discovered by an asynchronous probe, and discovered again
 * when the receiver stops accepting our informs (it restarted with a new
 * engine ID). */
#ifndef GVPN_SNMP_TARGET_H
#define GVPN_SNMP_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include "core/cfg.h"

/* After init_snmp(): opens a session per target. A target whose address
 * cannot be opened is logged and kept, every notification for it
 * counted as dropped. The passphrases are checked by the caller. */
void snmp_target_open(const struct cfg_snmp *s);
/* Closes the sessions; queued and unacknowledged informs are lost. */
void snmp_target_close(void);

/* Sends one notification to every target: vars is snmpTrapOID.0 and the
 * varbinds (not consumed); sysUpTime.0 is put first here. -1 when the
 * notification could not be built, else 0 (each target counts its own
 * delivery). */
struct variable_list;
int snmp_target_send(const struct variable_list *vars);

struct snmp_target_info {
	const char *address;
	int inform;                 /* 0 trap, 1 inform */
	int v2c;                    /* 0 SNMPv3, 1 SNMPv2c */
	uint64_t sent;              /* traps sent; informs sent a first time */
	uint64_t acked;             /* informs acknowledged */
	uint64_t retried;           /* inform retransmissions */
	uint64_t dropped;           /* queue full, retries exhausted, refused or not sendable */
	unsigned queued;            /* informs waiting or unacknowledged */
	uint64_t engine_changes;    /* the receiver's engine ID found changed */
	const unsigned char *engine_id; /* SNMPv3 informs: the receiver's, once known */
	size_t engine_id_len;       /* 0: not known (yet) */
};
size_t snmp_target_count(void);
/* 0, or -1 when i is out of range. */
int snmp_target_get(size_t i, struct snmp_target_info *out);

/* Net-SNMP's names of the configured algorithms (for createUser in
 * snmp_agent.c, and usm_lookup_auth_type/usm_lookup_priv_type of the
 * notification sessions here); snmp_priv_token() is NULL for no
 * privacy. */
const char *snmp_auth_token(int auth);
const char *snmp_priv_token(int priv);

#endif
