/* SPDX-License-Identifier: BSD-2-Clause */
/* logdest.c: where the daemon's log lines and events go (see logdest.h). */
#include "config.h"
#include "agent/logdest.h"
#include "core/ev.h"
#include "core/log.h"
#include "core/syslog/syslog_out.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static struct {
	int foreground;
	int to_stderr_only;  /* --log-stderr */
	int prefix;          /* <N> prefixes on stderr */
} L;

/* systemd connects stderr to the journal and says so in JOURNAL_STREAM
 * ("device:inode" of that stream); a stderr redirected elsewhere since
 * does not count. */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void logdest_init(int foreground, int to_stderr_only)
{
	L.to_stderr_only = to_stderr_only;
	L.foreground = foreground || to_stderr_only;
	L.prefix = to_stderr_only || stderr_is_journal();
	log_stderr_prefix(L.prefix);
}

int logdest_prefix(void)
{
	return L.prefix;
}

void logdest_print_errors(const struct cfg_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "%s%s\n", L.prefix ? "<3>" : "", errs->msg[i]);
}

static void log_event(const struct event *e, void *arg GVPN_UNUSED)
{
	log_msg_stderr(e->severity, "event", "%s: %s", ev_kind_msgid(e->kind), e->text);
}

void logdest_events(void)
{
	ev_subscribe(log_event, NULL);
}

/* 1 when log lines and events go to the local log socket. */
static int local_wanted(const struct cfg *c)
{
	return !L.to_stderr_only && (c->syslog.local || !L.foreground);
}

/* stderr gets the lines only when the local socket does not, or when it
 * is a terminal (a person watching: no log has them twice). */
static void apply_stderr(void)
{
	if (!L.foreground && !L.to_stderr_only)
		log_stderr(0); /* daemonized: stderr is /dev/null */
	else
		log_stderr(!syslog_out_local() || isatty(STDERR_FILENO));
}

void logdest_start(const struct cfg *c)
{
	syslog_out_init(&c->syslog, local_wanted(c));
	apply_stderr();
	syslog_out_log_where();
}

void logdest_reconfigure(const struct cfg *old, const struct cfg *n)
{
	int was = syslog_out_local();
	syslog_out_reconfigure(&old->syslog, &n->syslog, local_wanted(n));
	apply_stderr();
	if (syslog_out_local() != was)
		syslog_out_log_where();
}

void logdest_stop(void)
{
	syslog_out_fini();
}

void logdest_level(const struct cfg *c, int verbose)
{
	log_set_level(verbose ? LOG_DEBUG : c->agent.log_level);
}
