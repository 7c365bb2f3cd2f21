/* SPDX-License-Identifier: BSD-2-Clause */
/* gks_base.c: what every part of the key server uses, at the bottom of
 * their dependencies: the server's one state (gks_g) and sending a
 * datagram from the right one of our addresses. */
#include "config.h"
#include "core/gdoi/gks_int.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

struct gks_server gks_g = { .fd = -1 };

/* Sends from our address src: with a wildcard listen address the kernel
 * would otherwise pick the source by route, and a member on a host with
 * several addresses (or several of ours on one link) would see the answer
 * come from an address it did not send to, and drop it. */
int gks_send_from(const struct in_addr *src, const struct sockaddr_in *to, const uint8_t *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };
	union { struct cmsghdr h; uint8_t b[CMSG_SPACE(sizeof(struct in_pktinfo))]; } ctl;
	struct msghdr mh = { .msg_name = (void *)to, .msg_namelen = sizeof(*to), .msg_iov = &iov, .msg_iovlen = 1 };
	if (src && src->s_addr != INADDR_ANY && G.local.sin_addr.s_addr == INADDR_ANY) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = &ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
		struct in_pktinfo pi = { .ipi_spec_dst = *src };
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
	if (sendmsg(G.fd, &mh, 0) < 0) {
		G.st.send_errors++;
		log_debug("gks", "sendmsg: %s", strerror(errno));
		return -1;
	}
	G.st.tx++;
	return 0;
}
