/* SPDX-License-Identifier: BSD-2-Clause */
/* log.h: the one logging API. Every message has a severity (syslog(3)
 * levels) and a subsystem tag. Sinks plug in behind it: stderr (the
 * default) and extra sinks such as the local log socket (syslog_out). */
#ifndef GVPN_LOG_H
#define GVPN_LOG_H

#include <stdint.h>
#include <syslog.h>
#include "core/util.h"

typedef void (*log_sink_fn)(int severity, const char *subsys, const char *msg, void *arg);

void log_init(const char *ident);
void log_fini(void);

/* Messages above this severity (numerically larger) are dropped. */
void log_set_level(int severity);
int log_get_level(void);
/* Parses "debug", "info", "notice", "warning", "err"/"error", "crit"; -1 if unknown. */
int log_level_parse(const char *name);
const char *log_level_name(int severity);

/* stderr sink: on by default. */
void log_stderr(int on);
/* 1: stderr lines are "<N>subsys: msg", N the severity, as sd-daemon(3)
 * reads them (systemd's stdout/stderr capture, and others), without the
 * timestamp the reader adds itself; 0 (default): "TIME LEVEL subsys: msg". */
void log_stderr_prefix(int on);

/* Extra sinks (at most a few). Returns 0 or -1 when full. */
int log_add_sink(log_sink_fn fn, void *arg);
void log_remove_sink(log_sink_fn fn, void *arg);

void log_msg(int severity, const char *subsys, const char *fmt, ...) GVPN_PRINTF(3, 4);
/* The same, to stderr only (for lines another sink already carries). */
void log_msg_stderr(int severity, const char *subsys, const char *fmt, ...) GVPN_PRINTF(3, 4);

/* Rate-limited messages of one kind (a dropped datagram, a refusal):
 * at most `burst` (default 5) per `window_us` (default 10 s); the rest
 * are counted, and the first message let through afterwards is preceded
 * by "N similar messages suppressed". Zero-initialize; the clock is
 * CLOCK_MONOTONIC, or now_us when non-zero (tests). */
struct log_limit {
	unsigned burst;
	uint64_t window_us;
	uint64_t start_us;
	unsigned n;
	unsigned long suppressed;
	const char *what;          /* names the kind in the suppression line */
};
void log_limited(struct log_limit *l, uint64_t now_us, int severity, const char *subsys, const char *fmt, ...)
	GVPN_PRINTF(5, 6);

#define log_err(ss, ...)     log_msg(LOG_ERR, ss, __VA_ARGS__)
#define log_warn(ss, ...)    log_msg(LOG_WARNING, ss, __VA_ARGS__)
#define log_notice(ss, ...)  log_msg(LOG_NOTICE, ss, __VA_ARGS__)
#define log_info(ss, ...)    log_msg(LOG_INFO, ss, __VA_ARGS__)
#define log_debug(ss, ...)   log_msg(LOG_DEBUG, ss, __VA_ARGS__)

#endif
