/* SPDX-License-Identifier: BSD-2-Clause */
/* pcapw.h: writes datagrams as a libpcap file (Ethernet/IPv4/UDP around
 * each payload) so tshark can decode what the agent saw in plaintext. A
 * debugging aid: the file holds decrypted key material. */
#ifndef GVPN_PCAPW_H
#define GVPN_PCAPW_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct pcapw;
/* Creates (truncates) path with mode 0600; NULL on failure (logged). */
struct pcapw *pcapw_open(const char *path);
/* One UDP datagram from src to dst (IPv4; other families are skipped). */
void pcapw_udp(struct pcapw *w, const struct sockaddr_in *src, const struct sockaddr_in *dst,
	       const void *payload, size_t len);
void pcapw_close(struct pcapw *w);

#endif
