/* SPDX-License-Identifier: BSD-2-Clause */
/* gks.c: the group key server's frame, the top of its parts: its UDP
 * socket (RFC 6407: port 848), the dispatch of each datagram (ACKs to
 * the rekey rounds, Main Mode and GROUPKEY-PULL to the exchange they
 * belong to), start, stop, and reload (groups and policies matched to
 * the new model keep their keys, SEQ and members). The server's parts
 * and what each owns: gks_int.h. */
#include "config.h"
#include "core/gdoi/gks_int.h"
#include "core/gdoi/pcapw.h"
#include "core/util.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <unistd.h>

#include <openssl/crypto.h>

static void on_datagram(const uint8_t *msg, size_t len, const struct sockaddr_in *from)
{
	struct isakmp_hdr h;
	G.st.rx++;
	if (isakmp_hdr_parse(msg, len, &h) < 0) {
		G.st.drop_malformed++;
		return;
	}
	if (h.exchange == GDOI_EXCH_PUSH_ACK) {
		gks_on_ack(msg, len, from);
		return;
	}
	struct gks_peer *p = gks_peer_for(&h, from);
	if (!p)
		return;
	switch (h.exchange) {
	case ISAKMP_EXCH_MAIN:
		gks_on_main(p, msg, len);
		break;
	case GDOI_EXCH_PULL:
		gks_on_pull(p, msg, len, &h);
		break;
	default:
		G.st.drop_malformed++;
	}
}

void gks_input(const uint8_t *msg, size_t len, const struct sockaddr_in *from)
{
	if (G.cfg)
		on_datagram(msg, len, from);
}

static void on_readable(int fd, uint32_t revents GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	uint8_t buf[GDOI_MAX_MSG];
	union { struct cmsghdr h; uint8_t b[CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(struct in_pktinfo))]; } ctl;
	for (int i = 0; i < 256; i++) {
		struct sockaddr_in from;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
				     .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
		ssize_t n = recvmsg(fd, &mh, 0);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("gks", "recvmsg: %s", strerror(errno));
			return;
		}
		G.rx_local = G.local.sin_addr;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
				uint32_t drops;
				memcpy(&drops, CMSG_DATA(c), sizeof(drops));
				G.st.rx_kernel_drops = drops;
			} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;
				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				G.rx_local = pi.ipi_addr;
			}
		}
		if (from.sin_family == AF_INET && mh.msg_namelen >= sizeof(from))
			on_datagram(buf, (size_t)n, &from);
	}
}

/* ---- setup ---------------------------------------------------------------------------- */

static void load_proposals(const struct cfg_gks *k)
{
	G.n_props = 0;
	for (size_t i = 0; i < k->n_ike_proposals && G.n_props < IKE_MAX_PROPOSALS; i++) {
		const struct cfg_ike_proposal *cp = &k->ike_proposals[i];
		struct ike_proposal *p = &G.props[G.n_props++];
		p->cipher = gks_cipher_of(cp->encryption, &p->key_bits);
		p->hash = gks_hash_of(cp->hash);
		p->group = cfg_dh_numbers[cp->dh_group];
		p->life_seconds = (uint32_t)cp->lifetime_seconds;
		char s[64];
		ike_proposal_str(p, s, sizeof(s));
		if (ike_proposal_weak(p))
			log_warn("gks", "IKE proposal %s is weak; accepted because it is configured", s);
	}
}

static int open_socket(const char *listen)
{
	char host[INET6_ADDRSTRLEN + 1];
	long port;
	if (cfg_parse_hostport(listen, host, sizeof(host), &port) < 0 ||
	    inet_pton(AF_INET, host, &G.local.sin_addr) != 1) {
		log_err("gks", "listen address %s: only IPv4 is supported for now", listen);
		return -1;
	}
	G.local.sin_family = AF_INET;
	G.local.sin_port = htons((uint16_t)port);
	G.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (G.fd < 0 || bind(G.fd, (struct sockaddr *)&G.local, sizeof(G.local)) < 0) {
		log_err("gks", "cannot listen on udp %s: %s", listen, strerror(errno));
		return -1;
	}
	/* Room for a burst of registrations (every member after a restart)
	 * and of ACKs; beyond net.core.rmem_max only with CAP_NET_ADMIN. */
	int sz = GKS_SOCKBUF, got = 0, one = 1;
	socklen_t gl = sizeof(got);
	if (setsockopt(G.fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(G.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(G.fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(G.fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(G.fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	/* Which of our addresses each datagram came to (a wildcard listen
	 * address): the answer goes from that one. */
	if (G.local.sin_addr.s_addr == INADDR_ANY)
		setsockopt(G.fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	if (getsockopt(G.fd, SOL_SOCKET, SO_RCVBUF, &got, &gl) < 0)
		got = 0;
	G.st.rcvbuf_bytes = (uint64_t)(got > 0 ? got : 0);
	/* The kernel reports twice what it accounts payload against; an ACK
	 * costs about GKS_ACK_TRUESIZE of it. Half of that room per batch. */
	G.fan_batch = (size_t)(got > 0 ? got : 0) / 2 / GKS_ACK_TRUESIZE;
	if (G.fan_batch < GKS_FAN_MIN)
		G.fan_batch = GKS_FAN_MIN;
	if (got / 2 < sz)
		log_warn("gks", "udp %s: receive buffer %d bytes, below the %d asked for (net.core.rmem_max, and "
				"no CAP_NET_ADMIN): unicast rekeys go out %zu copies at a time", listen, got / 2, sz,
			 G.fan_batch);
	G.h = loop_fd_add(G.fd, EPOLLIN, on_readable, NULL);
	return G.h ? 0 : -1;
}

static struct gks_group *group_new(const struct cfg_group *cg)
{
	struct gks_group *g = xcalloc(1, sizeof(*g));
	g->cfg = cg;
	gks_rounds_init_group(g);
	/* Every SEQ up to the saved reservation may have been used. */
	uint32_t saved = gks_seq_saved(cg->group_id);
	g->seq = saved;
	g->seq_reserved = saved;
	return g;
}

static void group_free(struct gks_group *g)
{
	if (!g)
		return;
	gks_rounds_stop_group(g);
	gks_members_free(g);
	free(g->by_index);
	OPENSSL_cleanse(g, sizeof(*g));
	free(g);
}

int gks_init(const struct cfg *c)
{
	if (!c->gks)
		return 0;
	G.cfg = c;
	gks_members_init();
	gks_peers_init();
	gks_refusals_init();
	G.lim_refused.what = "(refusals)";
	G.lim_drop.what = "(half-open limit)";
	G.lim_ack.what = "(ACKs that do not verify)";
	G.lim_pull.what = "(bad GROUPKEY-PULL messages)";
	G.lim_mm.what = "(failed Main Modes)";
	G.lim_expired.what = "(expired exchanges)";
	G.lim_backoff.what = "(backed-off addresses)";
	load_proposals(c->gks);
	if (gks_keys_init(c) < 0)
		return -1;
	if (c->gks->debug_pcap)
		G.pcap = pcapw_open(c->gks->debug_pcap);
	if (open_socket(c->gks->listen) < 0)
		return -1;
	G.n_groups = c->gks->n_groups;
	G.groups = xcalloc(G.n_groups ? G.n_groups : 1, sizeof(*G.groups));
	for (size_t i = 0; i < G.n_groups; i++) {
		struct gks_group *g = G.groups[i] = group_new(&c->gks->groups[i]);
		if (gks_group_keys(g) < 0) {
			log_err("gks", "cannot create keys for group %s", g->cfg->name);
			return -1;
		}
		gks_group_start(g);
	}
	log_info("gks", "group key server on udp %s: %zu group%s", c->gks->listen, G.n_groups,
		 G.n_groups == 1 ? "" : "s");
	return 0;
}

void gks_fini(void)
{
	gks_peers_fini();
	gks_refusals_fini();
	for (size_t i = 0; i < G.n_groups; i++)
		group_free(G.groups[i]);
	free(G.groups);
	gks_members_fini();
	if (G.h)
		loop_fd_del(G.h);
	if (G.fd >= 0)
		close(G.fd);
	gks_keys_fini();
	pcapw_close(G.pcap);
	OPENSSL_cleanse(&G, sizeof(G));
	memset(&G, 0, sizeof(G));
	G.fd = -1;
}

/* Moves a group to its new model. Returns 1 when its policies (TEKs)
 * were added or deleted, or its KEK's algorithm changed, so the members
 * need a rekey. */
static int group_update(struct gks_group *g, const struct cfg_group *cg)
{
	const struct cfg_smc *os = g->cfg->smc, *ns = cg->smc;
	g->cfg = cg;
	/* Server-member communication configured (or its type changed):
	 * the seed clears the membership list. */
	if (ns && (!os || os->communication_type != ns->communication_type)) {
		if (g->n_members)
			log_notice("gks", "group %s: server-member communication %s: membership list of %zu cleared",
				   cg->name, os ? "changed" : "configured", g->n_members);
		if (g->round.active)
			gks_round_end(g);
		gks_members_free(g);
	}
	if (!ns && g->round.active)
		gks_round_end(g);
	return gks_keys_update(g);
}

/* Moves live state to the groups of a new model: a group is the same
 * group when its group_id is, a TEK policy the same when its name and
 * proposal are; they keep their keys, SEQ and members. New groups and
 * policies get fresh keys; removed ones are dropped. A policy added or
 * deleted rekeys the group's members (the seed's "group SA changed"). */
void gks_reconfigure(const struct cfg *c)
{
	if (!G.cfg || !c->gks)
		return;
	size_t n = c->gks->n_groups;
	struct gks_group **ng = xcalloc(n ? n : 1, sizeof(*ng));
	int *policy_changed = xcalloc(n ? n : 1, sizeof(int));
	for (size_t j = 0; j < n; j++) {
		const struct cfg_group *cg = &c->gks->groups[j];
		for (size_t i = 0; i < G.n_groups && !ng[j]; i++)
			if (G.groups[i] && G.groups[i]->cfg->group_id == cg->group_id) {
				ng[j] = G.groups[i];
				G.groups[i] = NULL;
			}
		if (ng[j]) {
			policy_changed[j] = group_update(ng[j], cg);
		} else {
			ng[j] = group_new(cg);
			gks_group_keys(ng[j]);
		}
	}
	/* Registrations in flight for a group that is gone are dropped. */
	for (size_t i = 0; i < G.n_groups; i++) {
		if (!G.groups[i])
			continue;
		for (struct gks_peer *p = G.all, *next; p; p = next) {
			next = p->all_next;
			if (p->group == G.groups[i])
				gks_peer_free(p);
		}
		group_free(G.groups[i]);
	}
	free(G.groups);
	G.groups = ng;
	G.n_groups = n;
	G.cfg = c;
	load_proposals(c->gks);
	for (size_t j = 0; j < n; j++) {
		gks_group_start(ng[j]);
		if (policy_changed[j])
			gks_rekey(ng[j], "policy-change", 0);
	}
	free(policy_changed);
}

int gks_rekey_group(long group_id)
{
	for (size_t i = 0; i < G.n_groups; i++) {
		struct gks_group *g = G.groups[i];
		if (g->cfg->group_id != group_id)
			continue;
		gks_rekey(g, "manual", 1);
		return g->cfg->smc ? (int)g->seq : 0;
	}
	return -1;
}

const struct gks_stats *gks_stats(void)
{
	/* The kernel's drop count now, not as of the last datagram read
	 * (SO_RXQ_OVFL comes with a datagram: a drop in the last burst
	 * would not show until the next one). */
#ifdef SO_MEMINFO
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t l = sizeof(mi);
	if (G.h && getsockopt(G.fd, SOL_SOCKET, SO_MEMINFO, mi, &l) == 0 &&
	    l > SK_MEMINFO_DROPS * sizeof(uint32_t))
		G.st.rx_kernel_drops = mi[SK_MEMINFO_DROPS];
#endif
	return &G.st;
}

size_t gks_member_count(void)
{
	size_t n = 0;
	for (size_t i = 0; i < G.n_groups; i++)
		n += G.groups[i]->n_members;
	return n;
}

