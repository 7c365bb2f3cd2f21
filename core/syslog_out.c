/* SPDX-License-Identifier: BSD-2-Clause */
/* syslog_out.c: one subscriber on the event bus; one formatter call per
 * transport (each has its own size limit); one bounded queue each. */
#include "config.h"
#include "syslog_out.h"
#include "ev.h"
#include "log.h"
#include "syslog_fmt.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
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
	int local;
	char hostname[256];
	struct out outs[SYSLOG_OUT_MAX];
	size_t n;
} O;

static void on_event(const struct event *e, void *arg GVPN_UNUSED)
{
	char buf[SYSLOG_TX_LOCAL_MAX + 1];
	struct syslog_fmt_opts o = { .facility = O.facility, .hostname = O.hostname,
				     .procid = (long)getpid() };
	for (size_t i = 0; i < O.n; i++) {
		o.max_len = O.outs[i].max_len;
		int len = syslog_fmt_event(e, &o, buf, sizeof(buf));
		if (len > 0)
			syslog_tx_send(O.outs[i].tx, buf, (size_t)len);
	}
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

static void build(const struct cfg_syslog *s)
{
	O.facility = s->facility;
	O.local = 0;
	if (s->local) {
		add(syslog_tx_new_local(1000), "local", SYSLOG_TX_DEV_LOG, 0, SYSLOG_TX_LOCAL_MAX);
		O.local = O.n > 0;
	}
	for (size_t i = 0; i < s->n_collectors; i++) {
		const struct cfg_collector *c = &s->collectors[i];
		size_t max = c->transport == CFG_TRANSPORT_UDP ? SYSLOG_TX_UDP_MAX : SYSLOG_TX_LOCAL_MAX;
		add(syslog_tx_new(c), cfg_enum_name(cfg_transport_names, c->transport), c->host, c->port, max);
	}
}

static void clear(void)
{
	for (size_t i = 0; i < O.n; i++) {
		syslog_tx_free(O.outs[i].tx);
		free(O.outs[i].host);
	}
	O.n = 0;
	O.local = 0;
}

int syslog_out_init(const struct cfg_syslog *s)
{
	if (gethostname(O.hostname, sizeof(O.hostname) - 1) < 0)
		str_copy(O.hostname, "-", sizeof(O.hostname));
	build(s);
	if (!O.subscribed && ev_subscribe(on_event, NULL) == 0)
		O.subscribed = 1;
	for (size_t i = 0; i < O.n; i++)
		log_info("syslog", "events go to %s %s%s%.0ld in RFC 5424 form", O.outs[i].transport,
			 O.outs[i].host, O.outs[i].port ? ":" : "", O.outs[i].port);
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
	if (a->local != b->local || a->facility != b->facility || a->n_collectors != b->n_collectors)
		return 0;
	for (size_t i = 0; i < a->n_collectors; i++) {
		const struct cfg_collector *x = &a->collectors[i], *y = &b->collectors[i];
		if (x->transport != y->transport || x->port != y->port || x->queue != y->queue ||
		    !str_eq(x->host, y->host) || !str_eq(x->ca_file, y->ca_file))
			return 0;
	}
	return 1;
}

void syslog_out_reconfigure(const struct cfg_syslog *old, const struct cfg_syslog *s)
{
	if (same(old, s))
		return; /* keep the connections and their queues */
	log_notice("syslog", "syslog settings changed: reconnecting the collectors");
	clear();
	build(s);
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
