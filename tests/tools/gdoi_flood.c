/* gdoi_flood.c: test tool. Sends N Main Mode first messages (each a new
 * exchange with fresh cookies) and M datagrams of junk to a key server,
 * then exits without finishing anything: the server must bound and
 * expire these half-open exchanges and count the junk.
 *   gdoi_flood ADDR PORT N_HALF_OPEN N_JUNK */
#include "config.h"
#include "crypto.h"
#include "gdoi.h"
#include "ike.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
	for (int i = 0; i < n; i++) {
		struct ike_sa sa;
		struct gdoi_buf b;
		ike_sa_init(&sa, 1, (struct sockaddr *)&to, sizeof(to));
		gdoi_buf_init(&b);
		if (ike_initiator_start(&sa, &p, 1, "x", &id, &b) == 0)
			sendto(fd, b.data, b.len, 0, (struct sockaddr *)&to, sizeof(to));
		gdoi_buf_free(&b);
		ike_sa_free(&sa);
	}
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
