/* SPDX-License-Identifier: BSD-2-Clause */
/* syslog_send.c: test tool. Sends messages to a collector through
 * core/syslog_tx on the event loop, then prints its counters.
 *   syslog_send [-q QUEUE] [-t SECONDS] [-i] udp|tcp|tls HOST PORT [CA_FILE] [MSG...]
 * CA_FILE is taken for tls only. With -i, every line read from stdin is
 * one more message (read as it comes, on the loop); the tool then waits
 * for end of input. It prints "connected" / "disconnected" when that
 * changes and, at the end, "sent=N dropped=N reconnects=N queued=N".
 * Exits 0 once everything was handed to the kernel, 1 on timeout. */
#include "config.h"
#include "core/cfg.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/syslog/syslog_tx.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static struct {
	struct syslog_tx *t;
	struct loop_fd *in_h;
	int in_eof;
	char buf[65536];
	size_t blen;
} S;

static void on_stdin(int fd, uint32_t revents, void *arg)
{
	(void)revents; (void)arg;
	ssize_t n = read(fd, S.buf + S.blen, sizeof(S.buf) - S.blen);
	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		if (S.blen)
			syslog_tx_send(S.t, S.buf, S.blen);
		S.blen = 0;
		loop_fd_del(S.in_h);
		S.in_eof = 1;
		return;
	}
	S.blen += (size_t)n;
	char *p = S.buf, *nl;
	while ((nl = memchr(p, '\n', S.blen - (size_t)(p - S.buf)))) {
		syslog_tx_send(S.t, p, (size_t)(nl - p));
		p = nl + 1;
	}
	S.blen -= (size_t)(p - S.buf);
	memmove(S.buf, p, S.blen);
	if (S.blen == sizeof(S.buf))
		S.blen = 0;   /* an over-long line: not a syslog message anyway */
}

static int usage(void)
{
	fprintf(stderr, "usage: syslog_send [-q QUEUE] [-t SECONDS] [-i] udp|tcp|tls HOST PORT [CA_FILE] [MSG...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	long queue = 100, timeout_s = 10;
	int from_stdin = 0, opt;
	while ((opt = getopt(argc, argv, "q:t:i")) != -1) {
		switch (opt) {
		case 'q': queue = atol(optarg); break;
		case 't': timeout_s = atol(optarg); break;
		case 'i': from_stdin = 1; break;
		default: return usage();
		}
	}
	if (argc - optind < 3)
		return usage();
	struct cfg_collector c = { .host = argv[optind + 1], .port = atol(argv[optind + 2]), .queue = queue };
	const char *tr = argv[optind];
	if (!strcmp(tr, "udp"))
		c.transport = CFG_TRANSPORT_UDP;
	else if (!strcmp(tr, "tcp"))
		c.transport = CFG_TRANSPORT_TCP;
	else if (!strcmp(tr, "tls"))
		c.transport = CFG_TRANSPORT_TLS;
	else
		return usage();
	int i = optind + 3;
	if (c.transport == CFG_TRANSPORT_TLS) {
		if (i >= argc)
			return usage();
		c.ca_file = argv[i++];
	}

	signal(SIGPIPE, SIG_IGN);
	log_init("syslog_send");
	log_set_level(LOG_INFO);
	if (loop_init() < 0)
		return 1;
	S.t = syslog_tx_new(&c);
	if (!S.t)
		return 1;
	for (; i < argc; i++)
		syslog_tx_send(S.t, argv[i], strlen(argv[i]));
	if (from_stdin && !(S.in_h = loop_fd_add(0, EPOLLIN, on_stdin, NULL)))
		return 1;
	S.in_eof = !from_stdin;

	const struct syslog_tx_stats *s = syslog_tx_stats(S.t);
	uint64_t end = loop_now_us() + (uint64_t)timeout_s * 1000000u;
	int was = 0, rc = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (loop_now_us() < end) {
		loop_run_once(50);
		if (s->connected != was) {
			was = s->connected;
			printf("%s\n", was ? "connected" : "disconnected");
		}
		if (S.in_eof && s->queued == 0 && (c.transport == CFG_TRANSPORT_UDP || s->connected)) {
			rc = 0;
			break;
		}
	}
	printf("sent=%llu dropped=%llu reconnects=%llu queued=%zu\n", (unsigned long long)s->sent,
	       (unsigned long long)s->dropped, (unsigned long long)s->reconnects, s->queued);
	syslog_tx_free(S.t);
	loop_fini();
	log_fini();
	return rc;
}
