/* SPDX-License-Identifier: BSD-2-Clause */
/* mon_icmp.c: ICMP echo over one socket. A raw socket (CAP_NET_RAW) is
 * preferred; an unprivileged "ping" socket (SOCK_DGRAM, IPPROTO_ICMP) is
 * the fallback where net.ipv4.ping_group_range allows it. Each request
 * gets a wire sequence number from one counter; a small table maps it
 * back to the VPN and the monitor's own sequence. The source address is
 * chosen per packet with IP_PKTINFO. */
#include "config.h"
#include "core/monitor/mon_icmp.h"
#include "core/monitor/mon_vici.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define ICMP_SLOTS 1024       /* probes in flight, all VPNs together */
#define ICMP_PAYLOAD 16

struct slot {
	char vpn[64];
	uint16_t mon_seq;
	uint16_t wire_seq;
	uint64_t sent_us;
	int used;
};

static struct {
	int fd;
	int raw;
	uint16_t ident;
	uint16_t next_seq;
	struct loop_fd *h;
	struct slot slots[ICMP_SLOTS];
	uint64_t sent, dropped;
} I = { .fd = -1 };

static uint16_t checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* The IPv4 address of an interface, or -1. With several, one outside
 * 127/8 wins: a site address put on lo beside 127.0.0.1 is what the
 * tunnel's traffic selectors cover. */
static int if_addr(const char *ifname, struct in_addr *out)
{
	struct ifaddrs *ifs, *i;
	int rc = -1;
	if (getifaddrs(&ifs) < 0)
		return -1;
	for (i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp(i->ifa_name, ifname))
			continue;
		struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		int loopback = (ntohl(a.s_addr) >> 24) == 127;
		if (rc < 0 || !loopback) {
			*out = a;
			rc = 0;
			if (!loopback)
				break;
		}
	}
	freeifaddrs(ifs);
	return rc;
}

static void on_readable(int fd, uint32_t revents GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	uint8_t buf[1500];
	for (int n = 0; n < 64; n++) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0)
			return;
		const uint8_t *p = buf;
		size_t l = (size_t)len;
		if (I.raw) { /* raw sockets deliver the IP header too */
			if (l < 20 || (p[0] >> 4) != 4 || (size_t)(p[0] & 0x0f) * 4 > l) {
				I.dropped++;
				continue;
			}
			size_t ihl = (size_t)(p[0] & 0x0f) * 4;
			p += ihl;
			l -= ihl;
		}
		if (l < 8 || p[0] != ICMP_ECHOREPLY) {
			if (l < 8 || p[0] != ICMP_ECHO) /* our own requests on lo are not drops */
				I.dropped++;
			continue;
		}
		uint16_t id = (uint16_t)(p[4] << 8 | p[5]), seq = (uint16_t)(p[6] << 8 | p[7]);
		if (I.raw && id != I.ident)
			continue; /* someone else's ping */
		struct slot *s = &I.slots[seq % ICMP_SLOTS];
		if (!s->used || s->wire_seq != seq) {
			I.dropped++;
			continue;
		}
		s->used = 0;
		mon_reply(s->vpn, s->mon_seq, loop_now_us() - s->sent_us);
	}
}

int mon_icmp_init(void)
{
	I.fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	I.raw = I.fd >= 0;
	if (I.fd < 0)
		I.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (I.fd < 0) {
		log_err("mon", "no ICMP socket (raw needs CAP_NET_RAW; ping sockets need "
			"net.ipv4.ping_group_range): %s", strerror(errno));
		return -1;
	}
	int on = 1;
	setsockopt(I.fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
	I.ident = (uint16_t)(getpid() & 0xffff);
	I.next_seq = (uint16_t)(loop_now_us() & 0xffff);
	I.h = loop_fd_add(I.fd, EPOLLIN, on_readable, NULL);
	if (!I.h)
		return -1;
	log_info("mon", "ICMP prober on a %s socket", I.raw ? "raw" : "ping");
	return 0;
}

void mon_icmp_fini(void)
{
	if (I.h)
		loop_fd_del(I.h);
	if (I.fd >= 0)
		close(I.fd);
	memset(&I, 0, sizeof(I));
	I.fd = -1;
}

int mon_icmp_probe(void *arg GVPN_UNUSED, struct mon_vpn *v, uint16_t mon_seq)
{
	const struct cfg_vpn *c = mon_vpn_cfg(v);
	struct sockaddr_in to = { .sin_family = AF_INET };
	const char *dst = c->destination_ip;
	struct vici_ike_sa ike;
	/* Default destination: the remote gateway of the IKE SA (VICI). */
	if (!dst && mon_vici_child(mon_vpn_name(v), NULL, &ike) == 0)
		dst = ike.remote_host;
	if (I.fd < 0 || !dst || inet_pton(AF_INET, dst, &to.sin_addr) != 1)
		return -1;
	uint16_t seq = I.next_seq++;
	struct slot *s = &I.slots[seq % ICMP_SLOTS];
	str_copy(s->vpn, mon_vpn_name(v), sizeof(s->vpn));
	s->mon_seq = mon_seq;
	s->wire_seq = seq;
	s->sent_us = loop_now_us();
	s->used = 1;

	uint8_t pkt[8 + ICMP_PAYLOAD] = { ICMP_ECHO, 0 };
	pkt[4] = (uint8_t)(I.ident >> 8);
	pkt[5] = (uint8_t)I.ident;
	pkt[6] = (uint8_t)(seq >> 8);
	pkt[7] = (uint8_t)seq;
	memcpy(pkt + 8, "gvpn-agent probe", ICMP_PAYLOAD);
	uint16_t sum = checksum(pkt, sizeof(pkt));
	memcpy(pkt + 2, &sum, 2);

	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] = { 0 };
	struct iovec iov = { pkt, sizeof(pkt) };
	struct msghdr mh = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov, .msg_iovlen = 1 };
	struct in_addr src;
	if (c->source_interface && if_addr(c->source_interface, &src) == 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
		struct in_pktinfo pi = { .ipi_spec_dst = src };
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	}
	if (sendmsg(I.fd, &mh, 0) < 0) {
		s->used = 0;
		log_debug("mon", "VPN %s: echo to %s: %s", mon_vpn_name(v), dst, strerror(errno));
		return -1;
	}
	I.sent++;
	return 0;
}

uint64_t mon_icmp_sent(void)
{
	return I.sent;
}

uint64_t mon_icmp_dropped(void)
{
	return I.dropped;
}
