/* SPDX-License-Identifier: BSD-2-Clause */
/* gdoi_flood.c: test tool. Starts N Main Mode exchanges (each with fresh
 * cookies), answers each message 2 with a message 3 (so the server holds
 * a half-open exchange with a Diffie-Hellman key) and sends M datagrams
 * of junk, then exits without finishing anything: the server must bound
 * and expire these half-open exchanges and count the junk.
 *   gdoi_flood ADDR PORT N_HALF_OPEN N_JUNK */
#include "config.h"
#include "core/crypto.h"
#include "core/gdoi/gdoi.h"
#include "core/gdoi/ike.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: gdoi_flood ADDR PORT N_HALF_OPEN N_JUNK\n");
		return 2;
	}
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1)
		return 2;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return 1;
	struct ike_proposal p = { .cipher = CRYPTO_CIPHER_AES, .key_bits = 256, .hash = CRYPTO_HASH_SHA256,
				  .group = CRYPTO_DH_MODP2048, .life_seconds = 3600 };
	struct gdoi_id id = { .type = ISAKMP_ID_IPV4_ADDR, .len = 4 };
	int n = atoi(argv[3]), junk = atoi(argv[4]);
	if (n < 0 || n > 1000)
		return 2;
	struct ike_sa *sa = calloc((size_t)n + 1, sizeof(*sa));
	for (int i = 0; i < n; i++) {
		struct gdoi_buf b;
		ike_sa_init(&sa[i], 1, (struct sockaddr *)&to, sizeof(to));
		gdoi_buf_init(&b);
		if (ike_initiator_start(&sa[i], &p, 1, "x", &id, &b) == 0)
			sendto(fd, b.data, b.len, 0, (struct sockaddr *)&to, sizeof(to));
		gdoi_buf_free(&b);
	}
	/* message 2s (until 2 s of silence), each answered with message 3 */
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int got = 0; got < n;) {
		uint8_t in[GDOI_MAX_MSG];
		ssize_t len = recv(fd, in, sizeof(in), 0);
		if (len < 0)
			break;
		for (int i = 0; i < n; i++) {
			if (len < 8 || memcmp(in, sa[i].icky, 8) || sa[i].state != IKE_I_SA_SENT)
				continue;
			struct gdoi_buf b;
			gdoi_buf_init(&b);
			if (ike_input(&sa[i], in, (size_t)len, NULL, 0, NULL, NULL, &b) == 1)
				sendto(fd, b.data, b.len, 0, (struct sockaddr *)&to, sizeof(to));
			gdoi_buf_free(&b);
			got++;
		}
	}
	for (int i = 0; i < n; i++)
		ike_sa_free(&sa[i]);
	free(sa);
	for (int i = 0; i < junk; i++) {
		uint8_t buf[200];
		crypto_random(buf, sizeof(buf));
		size_t len = 1 + (size_t)(buf[0] % sizeof(buf));
		if (i % 2) {     /* a plausible header with a lying length */
			memset(buf + 8, 0, 8);
			buf[16] = ISAKMP_NP_SA;
			buf[17] = ISAKMP_VERSION;
			buf[18] = ISAKMP_EXCH_MAIN;
			len = 60;
			buf[24] = buf[25] = 0;
			buf[26] = 0x0f;
			buf[27] = 0xff;
		}
		sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to));
	}
	close(fd);
	return 0;
}
