/* SPDX-License-Identifier: BSD-2-Clause */
/* snmp_notify.h: GVPN-AGENT-MIB notifications from the event bus, their
 * targets, and the gvpnNotify*Enable switches. */
#ifndef GVPN_SNMP_NOTIFY_H
#define GVPN_SNMP_NOTIFY_H

#include <stdint.h>
#include "core/cfg.h"

/* Before init_snmp(): checks the targets. -1 on a bad one. */
int snmp_notify_config(const struct cfg_snmp *s);
/* After init_snmp(): opens the targets' sessions (snmp_target.h). */
void snmp_notify_start(const struct cfg_snmp *s);
/* 1 when a and b name different targets (they take a restart). */
int snmp_notify_targets_differ(const struct cfg_snmp *a, const struct cfg_snmp *b);
/* After the agent is up: registers the enable scalars, subscribes to
 * the event bus. ops (snmp_agent.h; kept) gives the model in force, whose
 * switches say which notifications go out. */
struct snmp_ops;
int snmp_notify_init(const struct snmp_ops *ops);
void snmp_notify_fini(void);
/* Notifications sent since start, per kind (enum cfg_notify_kind). */
uint64_t snmp_notify_sent(int kind);
/* ... and those Net-SNMP could not build for its sinks. */
uint64_t snmp_notify_failed(int kind);

#endif
