/* SPDX-License-Identifier: BSD-2-Clause */
/* log.c: severity filter and fan-out to the sinks. */
#include "config.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define LOG_MAX_SINKS 8

static struct {
	int level;
	int to_stderr;
	int prefix;
	char ident[32];
	struct {
		log_sink_fn fn;
		void *arg;
	} sinks[LOG_MAX_SINKS];
} lg = { .level = LOG_INFO, .to_stderr = 1, .ident = "gvpn" };

static const char *const level_names[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

void log_init(const char *ident)
{
	str_copy(lg.ident, ident, sizeof(lg.ident));
}

void log_fini(void)
{
	memset(lg.sinks, 0, sizeof(lg.sinks));
}

void log_set_level(int severity)
{
	lg.level = severity;
}

int log_get_level(void)
{
	return lg.level;
}

int log_level_parse(const char *name)
{
	if (!strcmp(name, "error"))
		return LOG_ERR;
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++)
		if (!strcmp(name, level_names[i]))
			return (int)i;
	return -1;
}

const char *log_level_name(int severity)
{
	if (severity < 0 || (size_t)severity >= ARRAY_SIZE(level_names))
		return "?";
	return level_names[severity];
}

void log_stderr(int on)
{
	lg.to_stderr = on;
}

void log_stderr_prefix(int on)
{
	lg.prefix = on;
}

int log_add_sink(log_sink_fn fn, void *arg)
{
	for (size_t i = 0; i < LOG_MAX_SINKS; i++) {
		if (!lg.sinks[i].fn) {
			lg.sinks[i].fn = fn;
			lg.sinks[i].arg = arg;
			return 0;
		}
	}
	return -1;
}

void log_remove_sink(log_sink_fn fn, void *arg)
{
	for (size_t i = 0; i < LOG_MAX_SINKS; i++)
		if (lg.sinks[i].fn == fn && lg.sinks[i].arg == arg)
			lg.sinks[i].fn = NULL;
}

static void to_stderr(int severity, const char *subsys, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char when[32];
	if (lg.prefix) {
		fprintf(stderr, "<%d>%s: %s\n", severity < 0 ? 0 : severity > 7 ? 7 : severity, subsys, msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s %s: %s\n", when, ts.tv_nsec / 1000000, log_level_name(severity),
		subsys, msg);
}

void log_msg(int severity, const char *subsys, const char *fmt, ...)
{
	if (severity > lg.level)
		return;
	char raw[1024], msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* One message is one line in every sink: a newline or other control
	 * character (from a peer's name, a user name, a VPN name) must not
	 * start a line of its own, which a reader would take for another
	 * message, and bytes that are not UTF-8 must not reach a collector
	 * that expects it. Both are written as \xNN. */
	str_escape(msg, sizeof(msg), raw);

	if (lg.to_stderr)
		to_stderr(severity, subsys, msg);
	for (size_t i = 0; i < LOG_MAX_SINKS; i++)
		if (lg.sinks[i].fn)
			lg.sinks[i].fn(severity, subsys, msg, lg.sinks[i].arg);
}

void log_limited(struct log_limit *l, uint64_t now_us, int severity, const char *subsys, const char *fmt, ...)
{
	if (severity > lg.level)
		return;
	if (!now_us) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	}
	uint64_t window = l->window_us ? l->window_us : 10000000u;
	unsigned burst = l->burst ? l->burst : 5;
	if (!l->start_us || now_us - l->start_us >= window) {
		l->start_us = now_us;
		l->n = 0;
	}
	if (l->n >= burst) {
		l->suppressed++;
		return;
	}
	l->n++;
	if (l->suppressed) {
		log_msg(severity, subsys, "%lu similar messages%s%s suppressed", l->suppressed,
			l->what ? " " : "", l->what ? l->what : "");
		l->suppressed = 0;
	}
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(severity, subsys, "%s", msg);
}

void log_msg_stderr(int severity, const char *subsys, const char *fmt, ...)
{
	if (severity > lg.level || !lg.to_stderr)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	to_stderr(severity, subsys, msg);
}
