/* SPDX-License-Identifier: BSD-2-Clause */
/* gdoi_relay.c: test tool. A UDP relay between group members and a key
 * server that can stop a registration half way: it holds the server's
 * first GROUPKEY-PULL datagram (message 2), runs a shell command (the
 * test's: force a rekey and wait for it), and only when that command has
 * exited passes message 2 on, so the member's message 3, and the
 * server's message 4, come after whatever the command did. Everything
 * else is passed on as it comes, both ways, for as long as the relay
 * runs (pushes and ACKs too: the server knows the member by the relay's
 * address). Each datagram is logged to stdout in order:
 *   m>s|s>m EXCH MSGID LEN      (EXCH: ISAKMP exchange type; MSGID hex)
 *   held s>m 32 MSGID LEN / hook exit N / released
 * Stops on SIGTERM or SIGINT.
 *   gdoi_relay LISTEN_ADDR:PORT SERVER_ADDR:PORT HOOK_COMMAND */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PEERS 16
#define EXCH_PULL 32             /* GROUPKEY-PULL (RFC 6407) */

struct peer {
	struct sockaddr_in member;   /* the member's address, as the relay sees it */
	int fd;                      /* the relay's socket towards the server for it */
};

static volatile sig_atomic_t stop;

static void on_signal(int signo)
{
	(void)signo;
	stop = 1;
}

static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

/* "m>s 32 0badcafe 76": direction, exchange type, message ID, length. */
static void log_dgram(const char *what, const uint8_t *d, ssize_t len)
{
	if (len >= 28)
		printf("%s %u %02x%02x%02x%02x %zd\n", what, d[18], d[20], d[21], d[22], d[23], len);
	else
		printf("%s short %zd\n", what, len);
	fflush(stdout);
}

static struct peer *peer_for(struct peer *peers, size_t *n, const struct sockaddr_in *from,
			     const struct sockaddr_in *server)
{
	for (size_t i = 0; i < *n; i++)
		if (peers[i].member.sin_addr.s_addr == from->sin_addr.s_addr &&
		    peers[i].member.sin_port == from->sin_port)
			return &peers[i];
	if (*n == MAX_PEERS)
		return NULL;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_addr.s_addr = server->sin_addr.s_addr };
	/* From the server's own loopback address, on a port of its own. */
	if (fd < 0 || bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0) {
		perror("gdoi_relay: upstream socket");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	peers[*n].member = *from;
	peers[*n].fd = fd;
	return &peers[(*n)++];
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: gdoi_relay LISTEN_ADDR:PORT SERVER_ADDR:PORT HOOK_COMMAND\n");
		return 2;
	}
	struct sockaddr_in listen_sa, server;
	if (parse_addr(argv[1], &listen_sa) < 0 || parse_addr(argv[2], &server) < 0) {
		fprintf(stderr, "gdoi_relay: bad address\n");
		return 2;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int lfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&listen_sa, sizeof(listen_sa)) < 0) {
		perror("gdoi_relay: listen");
		return 1;
	}
	struct peer peers[MAX_PEERS];
	size_t n_peers = 0;
	int held = 0;
	uint8_t buf[65536];
	while (!stop) {
		struct pollfd pfd[MAX_PEERS + 1];
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (size_t i = 0; i < n_peers; i++)
			pfd[i + 1] = (struct pollfd){ .fd = peers[i].fd, .events = POLLIN };
		size_t n_pfd = n_peers + 1;
		if (poll(pfd, n_pfd, 1000) < 0) {
			if (errno == EINTR)
				continue;
			perror("gdoi_relay: poll");
			return 1;
		}
		if (pfd[0].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t len = recvfrom(lfd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			struct peer *p = len >= 0 ? peer_for(peers, &n_peers, &from, &server) : NULL;
			if (p) {
				log_dgram("m>s", buf, len);
				sendto(p->fd, buf, (size_t)len, 0, (struct sockaddr *)&server, sizeof(server));
			}
		}
		for (size_t i = 1; i < n_pfd; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			struct peer *p = &peers[i - 1];
			ssize_t len = recv(p->fd, buf, sizeof(buf), 0);
			if (len < 0)
				continue;
			if (!held && len >= 28 && buf[18] == EXCH_PULL) {
				held = 1;
				log_dgram("held s>m", buf, len);
				int rc = system(argv[3]);
				printf("hook exit %d\n", rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128);
				printf("released\n");
				fflush(stdout);
			}
			log_dgram("s>m", buf, len);
			sendto(lfd, buf, (size_t)len, 0, (struct sockaddr *)&p->member, sizeof(p->member));
		}
	}
	for (size_t i = 0; i < n_peers; i++)
		close(peers[i].fd);
	close(lfd);
	return 0;
}
