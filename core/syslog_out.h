/* SPDX-License-Identifier: BSD-2-Clause */
/* syslog_out.h: the events of the bus as RFC 5424 syslog, to the local
 * syslog socket and to remote collectors (UDP, TCP, TLS), each with its
 * own bounded queue; nothing here ever blocks the event loop. */
#ifndef GVPN_SYSLOG_OUT_H
#define GVPN_SYSLOG_OUT_H

#include <stddef.h>
#include "cfg.h"
#include "syslog_tx.h"

int syslog_out_init(const struct cfg_syslog *s);
void syslog_out_fini(void);
/* Rebuilds the transports when the settings changed (a reload); the
 * queues of unchanged settings are kept. */
void syslog_out_reconfigure(const struct cfg_syslog *old, const struct cfg_syslog *s);
/* 1 when events go to the local syslog socket in RFC 5424 form. */
int syslog_out_local(void);

/* Messages still queued over all transports. */
size_t syslog_out_pending(void);
size_t syslog_out_count(void);
/* The i-th collector (the local socket first, when on): what it is and
 * its counters; -1 past the end. */
int syslog_out_get(size_t i, const char **transport, const char **host, long *port,
		   const struct syslog_tx_stats **st);

#endif
