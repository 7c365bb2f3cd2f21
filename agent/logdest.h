/* SPDX-License-Identifier: BSD-2-Clause */
/* logdest.h: where the daemon's log lines and events go (gvpn-agent(8),
 * LOGGING): each to exactly one place. The local log socket and the
 * remote collectors (syslog_out) when the configuration asks for them;
 * stderr only when the local socket does not get them, or when stderr is
 * a terminal (a person watching), or with --log-stderr alone. Set from
 * the command line first, then from each model in force. */
#ifndef GVPN_LOGDEST_H
#define GVPN_LOGDEST_H

#include "core/cfg.h"

/* From the command line, before anything is logged: foreground (-f),
 * to_stderr_only (--log-stderr). Sets the <N> prefixes on stderr when
 * wanted (--log-stderr, or a stderr that is the journal). */
void logdest_init(int foreground, int to_stderr_only);
/* 1 when lines on stderr carry a <N> priority prefix. */
int logdest_prefix(void);
/* The configuration's errors on stderr, one a line. */
void logdest_print_errors(const struct cfg_errors *errs);
/* Events on stderr as lines like any other (the local log socket gets
 * them with their fields from syslog_out). After ev_init(). */
void logdest_events(void);

/* After loop_init(): the destinations of model c. */
void logdest_start(const struct cfg *c);
/* On a reload, from model old to n (says where lines go when that
 * changed). */
void logdest_reconfigure(const struct cfg *old, const struct cfg *n);
void logdest_stop(void);
/* The log level of model c, or debug with verbose (-v). */
void logdest_level(const struct cfg *c, int verbose);

#endif
