/* SPDX-License-Identifier: BSD-2-Clause */
/* gdoi_attack.c: test tool. Attacks the key server from outside as a
 * hostile network would (issue 13, items 4 to 7), for
 * tests/system/gdoi-attack.sh. Sources are 127/8 addresses: Linux binds
 * any of them on loopback, so each stands for a spoofed address. Every
 * mode prints what it did, so a test can tell an attack that was not
 * made from one that did no harm.
 *
 *   gdoi_attack blind SERVER FIRST N
 *     From N addresses from FIRST on: message 1, then (without reading
 *     our cookie into it) message 3 with a valid KE and the responder
 *     cookie all zero, and again with a guessed one. Counts answers.
 *   gdoi_attack flood1 SERVER FIRST N_ADDRS RATE
 *     Message 1s with fresh cookies from N_ADDRS addresses in turn, RATE
 *     a second at most, each from a socket closed after the send (the
 *     answers are not read), until SIGTERM or SIGINT.
 *   gdoi_attack relay SERVER FRONT BACK OTHER MODE [DIR]
 *     A member sends to FRONT (127.0.0.1:PORT); its datagrams go on to
 *     the server from BACK (ADDR:PORT), the answers back. MODE pass,
 *     msg3-noke (a message 3 with only a NONCE, the exchange's cookies,
 *     from BACK before the member's), msg5-noise (64 random bytes with
 *     the encryption flag before the member's message 5) or
 *     msg1-elsewhere (the member's message 1 sent again from OTHER).
 *     With DIR, the member's first messages 1, 3 and 5 are saved there
 *     (m1, m3, m5). Until SIGTERM or SIGINT.
 *   gdoi_attack replay SERVER LOCAL DIR
 *     From LOCAL (ADDR:PORT): DIR's m1, then m3 and m5 each twice as
 *     captured and twice with the responder cookie zeroed.
 *   gdoi_attack junk SERVER LOCAL N
 *     N datagrams that do not parse: short random bytes, and headers
 *     whose length field lies.
 *   gdoi_attack acks SERVER LOCAL KEK_SPI N
 *     From LOCAL (ADDR:PORT, a member's): N ACKs for KEK_SPI (32 hex
 *     digits) whose HASH does not verify.
 *
 * SERVER is ADDR:PORT. Floods are paced by barriers: every 64 datagrams
 * a message 1 from the same socket, and the server's message 2 to it,
 * show that everything sent before has been read (the server reads its
 * socket in order), so no datagram is lost to a full receive buffer
 * however slow the server is. */
#include "config.h"
#include "core/crypto.h"
#include "core/gdoi/gdoi.h"
#include "core/gdoi/gdoi_push.h"
#include "core/gdoi/ike.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BARRIER_EVERY 64
#define WAIT_MS 10000            /* for an answer that must come */

static const struct ike_proposal PROP = { .cipher = CRYPTO_CIPHER_AES, .key_bits = 256,
					  .hash = CRYPTO_HASH_SHA256, .group = CRYPTO_DH_MODP2048,
					  .life_seconds = 3600 };
static struct sockaddr_in server;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "gdoi_attack: %s\n", what);
	exit(1);
}

/* ADDR or ADDR:PORT */
static void parse_addr(const char *s, struct sockaddr_in *a)
{
	char host[64];
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	if (n >= sizeof(host))
		die("address too long");
	memcpy(host, s, n);
	host[n] = 0;
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(colon ? (uint16_t)atoi(colon + 1) : 0);
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
		fprintf(stderr, "gdoi_attack: %s: not an IPv4 address\n", s);
		exit(2);
	}
}

/* The i-th address from first on, skipping host parts 0 and 255. */
static struct sockaddr_in nth_addr(const struct sockaddr_in *first, unsigned i)
{
	struct sockaddr_in a = *first;
	uint32_t h = ntohl(first->sin_addr.s_addr);
	for (unsigned k = 0; k < i; k++) {
		h++;
		while ((h & 0xff) == 0 || (h & 0xff) == 0xff)
			h++;
	}
	a.sin_addr.s_addr = htonl(h);
	a.sin_port = 0;
	return a;
}

static int bound_socket(const struct sockaddr_in *local)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)local, sizeof(*local)) < 0) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &local->sin_addr, a, sizeof(a));
		fprintf(stderr, "gdoi_attack: bind %s:%u: %s\n", a, ntohs(local->sin_port), strerror(errno));
		exit(1);
	}
	return fd;
}

static void send_to_server(int fd, const void *msg, size_t len)
{
	if (sendto(fd, msg, len, 0, (const struct sockaddr *)&server, sizeof(server)) < 0)
		die("sendto");
}

/* One datagram within ms milliseconds; its length, or -1. */
static ssize_t recv_wait(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, ms) <= 0)
		return -1;
	return recv(fd, buf, cap, 0);
}

/* Datagrams waiting on fd now (read and dropped). */
static unsigned drain(int fd)
{
	uint8_t buf[GDOI_MAX_MSG];
	unsigned n = 0;
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

/* A message 1 with fresh cookies into out (sa keeps the initiator's state). */
static void msg1_build(struct ike_sa *sa, struct gdoi_buf *out)
{
	struct gdoi_id id = { .type = ISAKMP_ID_IPV4_ADDR, .len = 4 };
	ike_sa_init(sa, 1, (const struct sockaddr *)&server, sizeof(server));
	if (ike_initiator_start(sa, &PROP, 1, "x", &id, out) < 0)
		die("cannot build message 1");
}

/* Waits for the message 2 answering sa's message 1 on fd (others are
 * counted in *other when given); 0, or -1 after WAIT_MS. */
static int wait_msg2(int fd, const struct ike_sa *sa, uint8_t rcky[8], unsigned *other)
{
	uint8_t buf[GDOI_MAX_MSG];
	for (;;) {
		ssize_t n = recv_wait(fd, buf, sizeof(buf), WAIT_MS);
		if (n < 0)
			return -1;
		if (n >= ISAKMP_HDR_LEN && !memcmp(buf, sa->icky, 8) && buf[18] == ISAKMP_EXCH_MAIN) {
			if (rcky)
				memcpy(rcky, buf + 8, 8);
			return 0;
		}
		if (other)
			++*other;
	}
}

/* Everything sent to the server from fd before is read once this
 * returns: a message 1 from fd has been answered. */
static void barrier(int fd, unsigned *other)
{
	struct ike_sa sa;
	struct gdoi_buf b;
	gdoi_buf_init(&b);
	msg1_build(&sa, &b);
	send_to_server(fd, b.data, b.len);
	gdoi_buf_free(&b);
	if (wait_msg2(fd, &sa, NULL, other) < 0)
		die("the server did not answer a message 1 (barrier)");
	ike_sa_free(&sa);
}

static void hex(const uint8_t *p, size_t n, char *out, size_t size)
{
	for (size_t i = 0; i < n && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, size - 2 * i, "%02x", p[i]);
}

/* ---- blind message 1 + 3 pairs ---- */

/* A message 3 as a blind attacker makes it: a valid KE and a nonce
 * under the exchange's initiator cookie and a responder cookie it has
 * not seen. */
static void blind_msg3(const uint8_t icky[8], const uint8_t rcky[8], const uint8_t *ke, size_t ke_len,
		       struct gdoi_buf *out)
{
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = ISAKMP_EXCH_MAIN };
	uint8_t nonce[32];
	memcpy(h.icookie, icky, 8);
	memcpy(h.rcookie, rcky, 8);
	crypto_random(nonce, sizeof(nonce));
	gdoi_put_hdr(out, &h);
	gdoi_put_payload(out, ISAKMP_NP_KE, ke, ke_len);
	gdoi_put_payload(out, ISAKMP_NP_NONCE, nonce, sizeof(nonce));
	gdoi_finish(out);
}

static int do_blind(const struct sockaddr_in *first, unsigned n)
{
	struct crypto_dh *dh = crypto_dh_new(PROP.group);
	uint8_t ke[CRYPTO_MAX_DH];
	size_t ke_len = 0;
	if (!dh || crypto_dh_public(dh, ke, &ke_len) < 0)
		die("cannot make a Diffie-Hellman public value");
	int *fds = calloc(n, sizeof(*fds));
	unsigned got2 = 0, sent3 = 0, answered = 0;
	for (unsigned i = 0; i < n; i++) {
		struct sockaddr_in a = nth_addr(first, i);
		struct ike_sa sa;
		struct gdoi_buf b;
		gdoi_buf_init(&b);
		fds[i] = bound_socket(&a);
		msg1_build(&sa, &b);
		send_to_server(fds[i], b.data, b.len);
		gdoi_buf_free(&b);
		if (wait_msg2(fds[i], &sa, NULL, NULL) == 0)
			got2++;
		static const uint8_t zero[8];
		uint8_t guess[8];
		crypto_random(guess, sizeof(guess));
		for (int k = 0; k < 2; k++) {
			gdoi_buf_init(&b);
			blind_msg3(sa.icky, k ? guess : zero, ke, ke_len, &b);
			send_to_server(fds[i], b.data, b.len);
			gdoi_buf_free(&b);
			sent3++;
		}
		ike_sa_free(&sa);
	}
	struct sockaddr_in probe_addr = nth_addr(first, n);
	int probe = bound_socket(&probe_addr);
	barrier(probe, NULL);
	for (unsigned i = 0; i < n; i++) {
		answered += drain(fds[i]);
		close(fds[i]);
	}
	close(probe);
	free(fds);
	crypto_dh_free(dh);
	printf("blind: %u sources, %u message 2s received, %u message 3s sent without our cookie "
	       "(%u zero, %u guessed), %u answered\n", n, got2, sent3, sent3 / 2, sent3 / 2, answered);
	return 0;
}

/* ---- message 1 flood ---- */

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int do_flood1(const struct sockaddr_in *first, unsigned n_addrs, unsigned rate)
{
	unsigned long sent = 0;
	unsigned used = 0;
	double due = now_s();
	while (!stop) {
		unsigned i = (unsigned)(sent % n_addrs);
		struct sockaddr_in a = nth_addr(first, i);
		struct ike_sa sa;
		struct gdoi_buf b;
		gdoi_buf_init(&b);
		int fd = bound_socket(&a);
		msg1_build(&sa, &b);
		send_to_server(fd, b.data, b.len);
		close(fd);
		gdoi_buf_free(&b);
		ike_sa_free(&sa);
		sent++;
		if (used < n_addrs)
			used++;
		if (sent == n_addrs)
			printf("flood1: every one of the %u addresses has sent a message 1\n", n_addrs);
		/* at most rate a second, and after a stall no burst to catch
		 * up (it would evict a member's exchange sooner than the rate
		 * says) */
		due += 1.0 / rate;
		double ahead = due - now_s();
		if (ahead < 0) {
			due -= ahead;
		} else {
			struct timespec d = { .tv_sec = (time_t)ahead,
					      .tv_nsec = (long)((ahead - (double)(time_t)ahead) * 1e9) };
			nanosleep(&d, NULL);
		}
	}
	printf("flood1: %lu message 1s from %u addresses\n", sent, used);
	return 0;
}

/* ---- relay with injections ---- */

enum { MM_1 = 1, MM_3 = 3, MM_5 = 5 };

static int mm_msg_no(const uint8_t *msg, size_t len)
{
	static const uint8_t zero[8];
	if (len < ISAKMP_HDR_LEN || msg[18] != ISAKMP_EXCH_MAIN)
		return 0;
	if (!memcmp(msg + 8, zero, 8))
		return MM_1;
	return msg[19] & ISAKMP_FLAG_ENC ? MM_5 : MM_3;
}

/* A datagram with msg's header (its cookies) and the given body. */
static void inject(int fd, const uint8_t *msg, uint8_t np, uint8_t flags, const uint8_t *body, size_t n)
{
	uint8_t buf[ISAKMP_HDR_LEN + 256];
	memcpy(buf, msg, ISAKMP_HDR_LEN);
	buf[16] = np;
	buf[19] = flags;
	memcpy(buf + ISAKMP_HDR_LEN, body, n);
	size_t len = ISAKMP_HDR_LEN + n;
	buf[24] = buf[25] = 0;
	buf[26] = (uint8_t)(len >> 8);
	buf[27] = (uint8_t)len;
	send_to_server(fd, buf, len);
}

static void save(const char *dir, int no, const uint8_t *msg, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/m%d", dir, no);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(msg, 1, len, f) != len || fclose(f) != 0)
		die("cannot save a captured message");
	printf("captured: message %d (%zu bytes)\n", no, len);
}

struct relay {
	int front, back, other;
	const char *mode, *dir;
	struct sockaddr_in member;
	int have_member, injected, saved[6];
	uint8_t member_rcky[8];
	int have_rcky;
};

static void relay_from_member(struct relay *r, const uint8_t *msg, size_t len)
{
	int no = mm_msg_no(msg, len);
	if (r->dir && no && !r->saved[no]) {
		save(r->dir, no, msg, len);
		r->saved[no] = 1;
	}
	if (!r->injected && no == MM_3 && !strcmp(r->mode, "msg3-noke")) {
		/* a NONCE payload alone, sent as the member */
		uint8_t nonce[20] = { 0, 0, 0, 20 };
		crypto_random(nonce + 4, 16);
		inject(r->back, msg, ISAKMP_NP_NONCE, 0, nonce, sizeof(nonce));
		r->injected = 1;
		printf("injected: a message 3 without KE, with the exchange's cookies, before the member's\n");
	}
	if (!r->injected && no == MM_5 && !strcmp(r->mode, "msg5-noise")) {
		uint8_t noise[64];
		crypto_random(noise, sizeof(noise));
		inject(r->back, msg, ISAKMP_NP_ID, ISAKMP_FLAG_ENC, noise, sizeof(noise));
		r->injected = 1;
		printf("injected: 64 random bytes flagged encrypted, with the exchange's cookies, before the member's message 5\n");
	}
	send_to_server(r->back, msg, len);
	if (!r->injected && no == MM_1 && !strcmp(r->mode, "msg1-elsewhere")) {
		send_to_server(r->other, msg, len);
		r->injected = 1;
		printf("injected: the member's message 1 again from another address\n");
	}
	fflush(stdout);
}

static void relay_from_server(struct relay *r, const uint8_t *msg, size_t len)
{
	if (!r->have_rcky && len >= ISAKMP_HDR_LEN && msg[18] == ISAKMP_EXCH_MAIN) {
		memcpy(r->member_rcky, msg + 8, 8);
		r->have_rcky = 1;
	}
	if (r->have_member)
		sendto(r->front, msg, len, 0, (const struct sockaddr *)&r->member, sizeof(r->member));
}

static void relay_from_other(struct relay *r, const uint8_t *msg, size_t len)
{
	if (len < ISAKMP_HDR_LEN)
		return;
	char a[17], b[17];
	hex(msg + 8, 8, a, sizeof(a));
	hex(r->member_rcky, 8, b, sizeof(b));
	printf("other: answered with responder cookie %s, the member's is %s\n", a, r->have_rcky ? b : "unknown");
	fflush(stdout);
}

static int do_relay(const char *front_s, const char *back_s, const char *other_s, const char *mode,
		    const char *dir)
{
	if (strcmp(mode, "pass") && strcmp(mode, "msg3-noke") && strcmp(mode, "msg5-noise") &&
	    strcmp(mode, "msg1-elsewhere"))
		die("relay MODE: pass, msg3-noke, msg5-noise or msg1-elsewhere");
	struct sockaddr_in front, back, other;
	parse_addr(front_s, &front);
	parse_addr(back_s, &back);
	parse_addr(other_s, &other);
	struct relay r = { .front = bound_socket(&front), .back = bound_socket(&back),
			   .other = bound_socket(&other), .mode = mode, .dir = dir };
	printf("relay: ready\n");
	fflush(stdout);
	uint8_t buf[GDOI_MAX_MSG];
	while (!stop) {
		struct pollfd p[3] = { { .fd = r.back, .events = POLLIN }, { .fd = r.front, .events = POLLIN },
				       { .fd = r.other, .events = POLLIN } };
		if (poll(p, 3, 200) <= 0)
			continue;
		ssize_t n;
		if (p[0].revents & POLLIN && (n = recv(r.back, buf, sizeof(buf), 0)) > 0)
			relay_from_server(&r, buf, (size_t)n);
		if (p[1].revents & POLLIN) {
			socklen_t fl = sizeof(r.member);
			n = recvfrom(r.front, buf, sizeof(buf), 0, (struct sockaddr *)&r.member, &fl);
			if (n > 0) {
				r.have_member = 1;
				relay_from_member(&r, buf, (size_t)n);
			}
		}
		if (p[2].revents & POLLIN && (n = recv(r.other, buf, sizeof(buf), 0)) > 0)
			relay_from_other(&r, buf, (size_t)n);
	}
	printf("relay: done, %s\n", r.injected ? "injected" : "nothing injected");
	close(r.front);
	close(r.back);
	close(r.other);
	return 0;
}

/* ---- replay of a captured exchange ---- */

static size_t load(const char *dir, const char *name, uint8_t *buf, size_t cap)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		die("a captured message is missing");
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	if (n < ISAKMP_HDR_LEN)
		die("a captured message is too short");
	return n;
}

static int do_replay(const char *local_s, const char *dir)
{
	static uint8_t m1[GDOI_MAX_MSG], m3[GDOI_MAX_MSG], m5[GDOI_MAX_MSG];
	size_t l1 = load(dir, "m1", m1, sizeof(m1)), l3 = load(dir, "m3", m3, sizeof(m3)),
	       l5 = load(dir, "m5", m5, sizeof(m5));
	struct sockaddr_in local;
	parse_addr(local_s, &local);
	int fd = bound_socket(&local);
	send_to_server(fd, m1, l1);
	uint8_t buf[GDOI_MAX_MSG];
	ssize_t n;
	do
		n = recv_wait(fd, buf, sizeof(buf), WAIT_MS);
	while (n >= 0 && (n < ISAKMP_HDR_LEN || memcmp(buf, m1, 8)));
	if (n < 0)
		printf("replay: message 1 not answered\n");
	else
		printf("replay: message 1 answered with %s responder cookie\n",
		       memcmp(buf + 8, m3 + 8, 8) ? "a new" : "the captured");
	unsigned sent = 0;
	for (int k = 0; k < 4; k++) {
		uint8_t *m = k < 2 ? m3 : m5;
		size_t l = k < 2 ? l3 : l5;
		for (int twice = 0; twice < 2; twice++, sent++)
			send_to_server(fd, m, l);
		if (k % 2 == 0)
			memset(m + 8, 0, 8);   /* next: the same with the responder cookie zeroed */
	}
	unsigned answered = 0;
	barrier(fd, &answered);
	answered += drain(fd);
	close(fd);
	printf("replay: %u captured message 3s and 5s sent, %u answered\n", sent, answered);
	return 0;
}

/* ---- junk and bad ACKs ---- */

static int do_junk(const char *local_s, unsigned n)
{
	struct sockaddr_in local;
	parse_addr(local_s, &local);
	int fd = bound_socket(&local);
	for (unsigned i = 0; i < n; i++) {
		uint8_t buf[200];
		size_t len;
		crypto_random(buf, sizeof(buf));
		if (i % 2) {
			len = 1 + buf[0] % (ISAKMP_HDR_LEN - 1);     /* shorter than a header */
		} else {                                          /* a header whose length lies */
			memset(buf + 8, 0, 8);
			buf[16] = ISAKMP_NP_SA;
			buf[17] = ISAKMP_VERSION;
			buf[18] = ISAKMP_EXCH_MAIN;
			len = 60;
			buf[24] = buf[25] = 0;
			buf[26] = 0x0f;
			buf[27] = 0xff;
		}
		send_to_server(fd, buf, len);
		if (i % BARRIER_EVERY == BARRIER_EVERY - 1)
			barrier(fd, NULL);
	}
	barrier(fd, NULL);
	close(fd);
	printf("junk: %u datagrams that do not parse\n", n);
	return 0;
}

static int do_acks(const char *local_s, const char *spi_hex, unsigned n)
{
	struct sockaddr_in local;
	parse_addr(local_s, &local);
	uint8_t spi[16], key[GDOI_ACK_KEY_LEN];
	if (strlen(spi_hex) != 32)
		die("KEK_SPI: 32 hex digits");
	for (int i = 0; i < 16; i++) {
		unsigned v;
		if (sscanf(spi_hex + 2 * i, "%2x", &v) != 1)
			die("KEK_SPI: 32 hex digits");
		spi[i] = (uint8_t)v;
	}
	crypto_random(key, sizeof(key));      /* not the member's: the HASH fails */
	struct gdoi_id id = { .type = ISAKMP_ID_IPV4_ADDR, .len = 4 };
	memcpy(id.data, &local.sin_addr, 4);
	struct gdoi_buf b;
	gdoi_buf_init(&b);
	if (gdoi_ack_build(&b, spi, 1, &id, key) < 0)
		die("cannot build an ACK");
	int fd = bound_socket(&local);
	unsigned other = 0;
	for (unsigned i = 0; i < n; i++) {
		send_to_server(fd, b.data, b.len);
		if (i % BARRIER_EVERY == BARRIER_EVERY - 1)
			barrier(fd, &other);
	}
	barrier(fd, &other);
	close(fd);
	gdoi_buf_free(&b);
	printf("acks: %u ACKs whose HASH does not verify, %u answered\n", n, other);
	return 0;
}

static unsigned count_arg(const char *s, unsigned max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || !v || v > max) {
		fprintf(stderr, "gdoi_attack: %s: a count from 1 to %u\n", s, max);
		exit(2);
	}
	return (unsigned)v;
}

static int usage(void)
{
	fprintf(stderr, "usage: gdoi_attack blind SERVER FIRST N\n"
			"       gdoi_attack flood1 SERVER FIRST N_ADDRS RATE\n"
			"       gdoi_attack relay SERVER FRONT BACK OTHER MODE [DIR]\n"
			"       gdoi_attack replay SERVER LOCAL DIR\n"
			"       gdoi_attack junk SERVER LOCAL N\n"
			"       gdoi_attack acks SERVER LOCAL KEK_SPI N\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return usage();
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_addr(argv[2], &server);
	const char *mode = argv[1];
	struct sockaddr_in first;
	if (!strcmp(mode, "blind") && argc == 5) {
		parse_addr(argv[3], &first);
		return do_blind(&first, count_arg(argv[4], 1000));
	}
	if (!strcmp(mode, "flood1") && argc == 6) {
		parse_addr(argv[3], &first);
		return do_flood1(&first, count_arg(argv[4], 60000), count_arg(argv[5], 1000000));
	}
	if (!strcmp(mode, "relay") && (argc == 7 || argc == 8))
		return do_relay(argv[3], argv[4], argv[5], argv[6], argc == 8 ? argv[7] : NULL);
	if (!strcmp(mode, "replay") && argc == 5)
		return do_replay(argv[3], argv[4]);
	if (!strcmp(mode, "junk") && argc == 5)
		return do_junk(argv[3], count_arg(argv[4], 1000000));
	if (!strcmp(mode, "acks") && argc == 6)
		return do_acks(argv[3], argv[4], count_arg(argv[5], 1000000));
	return usage();
}
