/* SPDX-License-Identifier: BSD-2-Clause */
/* dgram_recv.c: test tool. Binds a unix datagram socket (the test's own
 * NOTIFY_SOCKET, or its stand-in for journald's socket) and writes each
 * datagram received as one line of OUT, flushed at once:
 *   dgram_recv [-j] [-t SECONDS] PATH OUT
 * Bytes are escaped so a datagram stays one line: "\\" for a backslash,
 * "\n", "\t", and "\xNN" for other control characters. With -j each
 * datagram is decoded as journald's native protocol (NAME=value lines,
 * or NAME, newline, 64-bit little-endian length, value, newline) and
 * written as its fields joined by tabs, "NAME=value" with the value
 * escaped; a datagram that breaks the protocol or journald's field-name
 * rules (A-Z 0-9 _, no leading digit or underscore, at most 64) is
 * written as "INVALID: reason". With -p each line starts with the
 * sender's pid and a space (SO_PASSCRED). With -s the sender of the first
 * datagram holding a READY=1 line is stopped (SIGSTOP) before that line
 * is written, so the test sees the agent as it was when it said ready.
 * Stops after SECONDS (default 120) or on SIGTERM, and removes PATH. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int signo)
{
	(void)signo;
	stop = 1;
}

static void put_escaped(FILE *f, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\')
			fputs("\\\\", f);
		else if (p[i] == '\n')
			fputs("\\n", f);
		else if (p[i] == '\t')
			fputs("\\t", f);
		else if (p[i] < 0x20 || p[i] == 0x7f)
			fprintf(f, "\\x%02x", p[i]);
		else
			fputc(p[i], f);
	}
}

static const char *name_error(const unsigned char *p, size_t n)
{
	if (n == 0)
		return "empty field name";
	if (n > 64)
		return "field name longer than 64";
	if (p[0] == '_')
		return "field name starts with an underscore";
	if (p[0] >= '0' && p[0] <= '9')
		return "field name starts with a digit";
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
			return "field name with a character outside A-Z 0-9 _";
	return NULL;
}

/* Decodes into f; returns NULL or why the datagram is invalid (then
 * nothing was written). */
static const char *journal(FILE *f, const unsigned char *p, size_t n)
{
	char *out = NULL;
	size_t olen = 0;
	FILE *m = open_memstream(&out, &olen);
	const char *err = NULL;
	size_t i = 0;
	if (!m)
		return "out of memory";
	if (n == 0)
		err = "empty datagram";
	while (!err && i < n) {
		size_t s = i;
		while (i < n && p[i] != '=' && p[i] != '\n')
			i++;
		if (i == n) {
			err = "field without '=' or newline";
			break;
		}
		size_t nl = i - s;
		if ((err = name_error(p + s, nl)))
			break;
		const unsigned char *v;
		size_t vl;
		if (p[i] == '=') {
			size_t e = i + 1;
			while (e < n && p[e] != '\n')
				e++;
			if (e == n) {
				err = "value without its final newline";
				break;
			}
			v = p + i + 1;
			vl = e - i - 1;
			i = e + 1;
		} else {
			uint64_t len = 0;
			if (n - i - 1 < 8) {
				err = "binary field cut in its length";
				break;
			}
			for (int k = 7; k >= 0; k--)
				len = len << 8 | p[i + 1 + (size_t)k];
			if (len > n - i - 9 || n - i - 9 - len < 1 || p[i + 9 + len] != '\n') {
				err = "binary field length does not match";
				break;
			}
			v = p + i + 9;
			vl = (size_t)len;
			i = i + 9 + (size_t)len + 1;
		}
		if (ftell(m) > 0)
			fputc('\t', m);
		fwrite(p + s, 1, nl, m);
		fputc('=', m);
		put_escaped(m, v, vl);
	}
	fclose(m);
	if (!err)
		fwrite(out, 1, olen, f);
	free(out);
	return err;
}

/* A line "READY=1" in a notify datagram. */
static int is_ready(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i + 7 <= n; i++)
		if ((i == 0 || p[i - 1] == '\n') && !memcmp(p + i, "READY=1", 7) && (i + 7 == n || p[i + 7] == '\n'))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int jmode = 0, pids = 0, stop_ready = 0, opt;
	long seconds = 120;
	while ((opt = getopt(argc, argv, "jpst:")) != -1) {
		switch (opt) {
		case 'j': jmode = 1; break;
		case 'p': pids = 1; break;
		case 's': stop_ready = 1; break;
		case 't': seconds = strtol(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (argc - optind != 2) {
usage:
		fprintf(stderr, "usage: dgram_recv [-j] [-p] [-s] [-t SECONDS] PATH OUT\n");
		return 2;
	}
	const char *path = argv[optind];
	FILE *f = fopen(argv[optind + 1], "a");
	if (!f) {
		perror(argv[optind + 1]);
		return 1;
	}
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "dgram_recv: %s: path too long\n", path);
		return 1;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "dgram_recv: %s: %s\n", path, strerror(errno));
		return 1;
	}
	/* The journal socket is big: let a burst of datagrams wait. */
	int rcv = 1 << 20, one = 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if ((pids || stop_ready) && setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		perror("SO_PASSCRED");
		return 1;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	static unsigned char buf[1 << 17];
	time_t end = time(NULL) + seconds;
	while (!stop && time(NULL) < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct ucred))];
		} c;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &c, .msg_controllen = sizeof(c) };
		ssize_t n = recvmsg(fd, &mh, 0);
		if (n < 0)
			continue;
		pid_t sender = 0;
		for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h))
			if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS) {
				struct ucred uc;
				memcpy(&uc, CMSG_DATA(h), sizeof(uc));
				sender = uc.pid;
			}
		if (stop_ready && sender > 0 && is_ready(buf, (size_t)n)) {
			kill(sender, SIGSTOP);
			stop_ready = 0;
		}
		if (pids)
			fprintf(f, "%ld ", (long)sender);
		if (jmode) {
			const char *err = journal(f, buf, (size_t)n);
			if (err)
				fprintf(f, "INVALID: %s", err);
		} else {
			put_escaped(f, buf, (size_t)n);
		}
		fputc('\n', f);
		fflush(f);
	}
	close(fd);
	unlink(path);
	fclose(f);
	return 0;
}
