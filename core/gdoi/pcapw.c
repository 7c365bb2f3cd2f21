/* SPDX-License-Identifier: BSD-2-Clause */
/* pcapw.c: a minimal libpcap writer (magic a1b2c3d4, link type Ethernet). */
#include "config.h"
#include "core/gdoi/pcapw.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

struct pcapw {
	FILE *f;
};

static void put32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

struct pcapw *pcapw_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!f) {
		log_err("pcap", "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	uint8_t gh[24] = { 0 };
	put32le(gh, 0xa1b2c3d4);
	gh[4] = 2;              /* version 2.4 */
	gh[6] = 4;
	put32le(gh + 16, 65535); /* snaplen */
	put32le(gh + 20, 1);     /* LINKTYPE_ETHERNET */
	fwrite(gh, 1, sizeof(gh), f);
	fflush(f);
	struct pcapw *w = xcalloc(1, sizeof(*w));
	w->f = f;
	log_warn("pcap", "writing decrypted GDOI messages to %s: it contains key material", path);
	return w;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void pcapw_udp(struct pcapw *w, const struct sockaddr_in *src, const struct sockaddr_in *dst,
	       const void *payload, size_t len)
{
	if (!w || src->sin_family != AF_INET || dst->sin_family != AF_INET || len > 65000)
		return;
	uint8_t hdr[14 + 20 + 8] = { 0 };
	hdr[12] = 0x08;                         /* EtherType IPv4 */
	uint8_t *ip = hdr + 14, *udp = ip + 20;
	size_t iplen = 20 + 8 + len;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8);
	ip[3] = (uint8_t)iplen;
	ip[8] = 64;
	ip[9] = 17;                              /* UDP */
	memcpy(ip + 12, &src->sin_addr, 4);
	memcpy(ip + 16, &dst->sin_addr, 4);
	uint16_t sum = ip_checksum(ip, 20);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	memcpy(udp, &src->sin_port, 2);
	memcpy(udp + 2, &dst->sin_port, 2);
	udp[4] = (uint8_t)((8 + len) >> 8);
	udp[5] = (uint8_t)(8 + len);            /* checksum 0: none (IPv4) */
	struct timeval tv;
	gettimeofday(&tv, NULL);
	uint8_t rec[16];
	put32le(rec, (uint32_t)tv.tv_sec);
	put32le(rec + 4, (uint32_t)tv.tv_usec);
	put32le(rec + 8, (uint32_t)(sizeof(hdr) + len));
	put32le(rec + 12, (uint32_t)(sizeof(hdr) + len));
	fwrite(rec, 1, sizeof(rec), w->f);
	fwrite(hdr, 1, sizeof(hdr), w->f);
	fwrite(payload, 1, len, w->f);
	fflush(w->f);
}

void pcapw_close(struct pcapw *w)
{
	if (!w)
		return;
	fclose(w->f);
	free(w);
}
