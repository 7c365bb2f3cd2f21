/* SPDX-License-Identifier: BSD-2-Clause */
/* syslog_out.c: one subscriber on the event bus; one formatter call per
 * transport (each has its own size limit); one bounded queue each. The
 * local socket is also a log sink, for the plain log lines. */
#include "config.h"
#include "core/syslog/syslog_out.h"
#include "core/ev.h"
#include "core/log.h"
#include "core/syslog/journal_fmt.h"
#include "core/syslog/syslog_fmt.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SYSLOG_OUT_MAX 32

struct out {
	struct syslog_tx *tx;
	const char *transport;
	char *host;
	long port;
	size_t max_len;
};

static struct {
	int subscribed;
	int facility;
	int local;             /* enum syslog_local; when on, outs[0] is the local socket */
	int local_wanted;      /* as last asked for */
	char hostname[256];
	struct out outs[SYSLOG_OUT_MAX];
	size_t n;
} O;

/* The local socket's form of the event or line into buf; its length or -1. */
static int local_event(const struct event *e, char *buf, size_t cap)
{
	if (O.local == SYSLOG_LOCAL_JOURNAL) {
		struct journal_fmt_opts jo = { .facility = O.facility };
		return journal_fmt_event(e, &jo, buf, cap);
	}
	struct syslog_fmt_opts o = { .facility = O.facility, .procid = (long)getpid(), .bsd = 1,
				     .max_len = SYSLOG_TX_LOCAL_MAX };
	return syslog_fmt_event(e, &o, buf, cap);
}

static void on_event(const struct event *e, void *arg GVPN_UNUSED)
{
	char buf[SYSLOG_TX_LOCAL_MAX + 1];
	struct syslog_fmt_opts o = { .facility = O.facility, .hostname = O.hostname,
				     .procid = (long)getpid() };
	for (size_t i = 0; i < O.n; i++) {
		int len;
		if (i == 0 && O.local) {
			if (e->severity > log_get_level())
				continue;
			len = local_event(e, buf, sizeof(buf));
		} else {
			o.max_len = O.outs[i].max_len;
			len = syslog_fmt_event(e, &o, buf, sizeof(buf));
		}
		if (len > 0)
			syslog_tx_send(O.outs[i].tx, buf, (size_t)len);
	}
}

/* The log sink of the local socket (log_msg has filtered the level). */
static void on_line(int severity, const char *subsys, const char *msg, void *arg GVPN_UNUSED)
{
	char buf[SYSLOG_TX_LOCAL_MAX + 1];
	int len;
	if (!O.local || !O.n)
		return;
	if (O.local == SYSLOG_LOCAL_JOURNAL) {
		struct journal_fmt_opts jo = { .facility = O.facility };
		len = journal_fmt_line(severity, subsys, msg, &jo, buf, sizeof(buf));
	} else {
		struct syslog_fmt_opts o = { .facility = O.facility, .procid = (long)getpid(), .bsd = 1,
					     .max_len = SYSLOG_TX_LOCAL_MAX };
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		len = syslog_fmt_line(severity, subsys, msg, &now, &o, buf, sizeof(buf));
	}
	if (len > 0)
		syslog_tx_send(O.outs[0].tx, buf, (size_t)len);
}

/* Which local socket, in which form (see syslog_out.h). */
static int pick_local(const char **path)
{
	const char *j = getenv("GVPN_JOURNAL_SOCKET");
	struct stat st;
	if (j && *j) {
		*path = j;
		return SYSLOG_LOCAL_JOURNAL;
	}
	if (!j && stat(JOURNAL_FMT_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode)) {
		*path = JOURNAL_FMT_SOCKET;
		return SYSLOG_LOCAL_JOURNAL;
	}
	const char *d = getenv("GVPN_SYSLOG_SOCKET");
	*path = d && *d ? d : SYSLOG_TX_DEV_LOG;
	return SYSLOG_LOCAL_BSD;
}

static void add(struct syslog_tx *tx, const char *transport, const char *host, long port, size_t max)
{
	if (!tx || O.n == SYSLOG_OUT_MAX) {
		syslog_tx_free(tx);
		return;
	}
	struct out *o = &O.outs[O.n++];
	o->tx = tx;
	o->transport = transport;
	o->host = xstrdup(host);
	o->port = port;
	o->max_len = max;
}

static void build(const struct cfg_syslog *s, int local)
{
	O.facility = s->facility;
	O.local = 0;
	O.local_wanted = local;
	if (local) {
		const char *path;
		int form = pick_local(&path);
		add(syslog_tx_new_unix(path, 1000), form == SYSLOG_LOCAL_JOURNAL ? "journal" : "local", path, 0,
		    SYSLOG_TX_LOCAL_MAX);
		if (O.n > 0 && log_add_sink(on_line, NULL) == 0)
			O.local = form;
	}
	for (size_t i = 0; i < s->n_collectors; i++) {
		const struct cfg_collector *c = &s->collectors[i];
		size_t max = c->transport == CFG_TRANSPORT_UDP ? SYSLOG_TX_UDP_MAX : SYSLOG_TX_LOCAL_MAX;
		add(syslog_tx_new(c), cfg_enum_name(cfg_transport_names, c->transport), c->host, c->port, max);
	}
}

static void clear(void)
{
	log_remove_sink(on_line, NULL);
	for (size_t i = 0; i < O.n; i++) {
		syslog_tx_free(O.outs[i].tx);
		free(O.outs[i].host);
	}
	O.n = 0;
	O.local = 0;
}

void syslog_out_log_where(void)
{
	for (size_t i = 0; i < O.n; i++) {
		if (i == 0 && O.local)
			log_info("syslog", "log lines and events go to %s in %s", O.outs[i].host,
				 O.local == SYSLOG_LOCAL_JOURNAL ? "journald's native protocol"
								 : "the classic syslog form");
		else
			log_info("syslog", "events go to %s %s%s%.0ld in RFC 5424 form", O.outs[i].transport,
				 O.outs[i].host, O.outs[i].port ? ":" : "", O.outs[i].port);
	}
}

int syslog_out_init(const struct cfg_syslog *s, int local)
{
	if (gethostname(O.hostname, sizeof(O.hostname) - 1) < 0)
		str_copy(O.hostname, "-", sizeof(O.hostname));
	build(s, local);
	if (!O.subscribed && ev_subscribe(on_event, NULL) == 0)
		O.subscribed = 1;
	return 0;
}

void syslog_out_fini(void)
{
	if (O.subscribed)
		ev_unsubscribe(on_event, NULL);
	clear();
	memset(&O, 0, sizeof(O));
}

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int same(const struct cfg_syslog *a, const struct cfg_syslog *b)
{
	if ( a->facility != b->facility || a->n_collectors != b->n_collectors)
		return 0;
	for (size_t i = 0; i < a->n_collectors; i++) {
		const struct cfg_collector *x = &a->collectors[i], *y = &b->collectors[i];
		if (x->transport != y->transport || x->port != y->port || x->queue != y->queue ||
		    !str_eq(x->host, y->host) || !str_eq(x->ca_file, y->ca_file))
			return 0;
	}
	return 1;
}

void syslog_out_reconfigure(const struct cfg_syslog *old, const struct cfg_syslog *s, int local)
{
	if (same(old, s) && !local == !O.local_wanted)
		return; /* keep the connections and their queues */
	log_notice("syslog", "syslog settings changed: reconnecting the collectors");
	clear();
	build(s, local);
}

int syslog_out_local(void)
{
	return O.local;
}

size_t syslog_out_pending(void)
{
	size_t n = 0;
	for (size_t i = 0; i < O.n; i++)
		n += syslog_tx_stats(O.outs[i].tx)->queued;
	return n;
}

size_t syslog_out_count(void)
{
	return O.n;
}

int syslog_out_get(size_t i, const char **transport, const char **host, long *port,
		   const struct syslog_tx_stats **st)
{
	if (i >= O.n)
		return -1;
	*transport = O.outs[i].transport;
	*host = O.outs[i].host;
	*port = O.outs[i].port;
	*st = syslog_tx_stats(O.outs[i].tx);
	return 0;
}
