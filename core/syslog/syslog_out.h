/* SPDX-License-Identifier: BSD-2-Clause */
/* syslog_out.h: the events of the bus as RFC 5424 syslog to remote
 * collectors (UDP, TCP, TLS), and the events and log lines to the local
 * log socket in a form the local daemon understands: journald's native
 * protocol when journald runs, else the classic syslog form on /dev/log.
 * Each destination has its own bounded queue; nothing here ever blocks
 * the event loop.
 *
 * The local socket: $GVPN_JOURNAL_SOCKET when set and not empty, else
 * /run/systemd/journal/socket when that socket exists (native protocol);
 * otherwise $GVPN_SYSLOG_SOCKET when set and not empty, else /dev/log
 * (classic form). GVPN_JOURNAL_SOCKET set but empty never uses journald.
 * Events less severe than the log level are not sent there (the remote
 * collectors get every event). */
#ifndef GVPN_SYSLOG_OUT_H
#define GVPN_SYSLOG_OUT_H

#include <stddef.h>
#include "core/cfg.h"
#include "core/syslog/syslog_tx.h"

enum syslog_local { SYSLOG_LOCAL_OFF, SYSLOG_LOCAL_JOURNAL, SYSLOG_LOCAL_BSD };

/* local: 1 to send events and log lines (as a log sink) to the local
 * socket, 0 for none (the caller decides from s->local and how it runs). */
int syslog_out_init(const struct cfg_syslog *s, int local);
void syslog_out_fini(void);
/* Rebuilds the transports when the settings changed (a reload); the
 * queues of unchanged settings are kept. */
void syslog_out_reconfigure(const struct cfg_syslog *old, const struct cfg_syslog *s, int local);
/* Logs where the events and log lines go (after init or a reconfigure,
 * once the caller has chosen whether stderr has them too). */
void syslog_out_log_where(void);
/* enum syslog_local: what the local socket gets now. */
int syslog_out_local(void);

/* Messages still queued over all transports. */
size_t syslog_out_pending(void);
size_t syslog_out_count(void);
/* The i-th collector (the local socket first, when on): what it is and
 * its counters; -1 past the end. */
int syslog_out_get(size_t i, const char **transport, const char **host, long *port,
		   const struct syslog_tx_stats **st);

#endif
