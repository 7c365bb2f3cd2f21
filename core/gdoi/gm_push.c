/* SPDX-License-Identifier: BSD-2-Clause */
/* gm_push.c: the group member's GROUPKEY-PUSH handling (gdoi_push.h).
 * A push is opened with the member's KEK, or the one before it (for
 * retransmissions of the push that replaced it), checked against the
 * last SEQ (equal: a retransmission, ACKed again but not applied;
 * lower: a replay), applied (new TEKs after 2 x ATD, a new KEK at once,
 * DELETEs), and ACKed when the SA KEK asks for it (RFC 8263). A policy
 * whose SA KEK names a multicast group has the member listen there on
 * a second socket. */
#include "config.h"
#include "core/gdoi/gm_int.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

void gm_mcast_close(struct gm *m)
{
	if (m->mc_h)
		loop_fd_del(m->mc_h);
	if (m->mc_fd >= 0)
		close(m->mc_fd);
	m->mc_h = NULL;
	m->mc_fd = -1;
	m->mc_group.s_addr = 0;
	m->mc_port = 0;
}

static void on_mc_readable(int fd, uint32_t revents GVPN_UNUSED, void *arg)
{
	struct gm *m = arg;
	uint8_t buf[GDOI_MAX_MSG];
	for (int i = 0; i < 16 && m->mc_fd == fd; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		struct isakmp_hdr h;
		/* Anyone on the network can send to the group: only the key
		 * server's pushes are looked at (and they are signed). */
		if (from.sin_addr.s_addr != m->cfg.server.sin_addr.s_addr ||
		    isakmp_hdr_parse(buf, (size_t)n, &h) < 0 || h.exchange != GDOI_EXCH_PUSH)
			continue;
		gm_on_push(m, buf, (size_t)n, &from, 1);
	}
}

/* The group address and port of the policy's SA KEK when it is a
 * multicast one. */
static int policy_mcast(const struct gdoi_sa *p, struct in_addr *grp, uint16_t *port)
{
	if (!p->has_kek || p->kek.dst.type != ISAKMP_ID_IPV4_ADDR || p->kek.dst.len != 4 ||
	    (p->kek.dst.data[0] & 0xf0) != 0xe0)
		return 0;
	memcpy(grp, p->kek.dst.data, 4);
	*port = p->kek.dst.port ? p->kek.dst.port : GDOI_PORT;
	return 1;
}

static void mcast_event(struct gm *m, enum gm_event_kind kind, const char *error)
{
	char g[INET_ADDRSTRLEN], ifa[INET_ADDRSTRLEN], a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &m->mc_group, g, sizeof(g));
	inet_ntop(AF_INET, &m->cfg.mcast_if, ifa, sizeof(ifa));
	if (error)
		log_warn("gm", "%s: cannot receive multicast rekeys on %s:%u (interface %s): %s",
			 gm_local_str(m, a, sizeof(a)), g, m->mc_port, ifa, error);
	else
		log_debug("gm", "%s: joined %s:%u on %s", gm_local_str(m, a, sizeof(a)), g, m->mc_port, ifa);
	struct gm_event e = { .kind = kind, .mc_group = m->mc_group, .mc_if = m->cfg.mcast_if,
			      .mc_port = m->mc_port, .error = error };
	gm_emit(m, &e);
}

/* Opens (or moves, or closes) the multicast socket to follow the policy. */
void gm_mcast_follow(struct gm *m)
{
	struct in_addr grp;
	uint16_t port;
	if (!policy_mcast(&m->policy, &grp, &port)) {
		gm_mcast_close(m);
		return;
	}
	if (m->mc_fd >= 0 && m->mc_group.s_addr == grp.s_addr && m->mc_port == port)
		return;
	gm_mcast_close(m);
	m->mc_group = grp;
	m->mc_port = port;
	/* Bound to the port on any address, as every member on this host
	 * (SO_REUSEADDR lets them share it); IP_MULTICAST_ALL off so only
	 * groups joined on this socket reach it. */
	int one = 1, zero = 0;
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct ip_mreq mr = { .imr_multiaddr = grp, .imr_interface = m->cfg.mcast_if };
	const char *step = "socket";
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		step = "bind";
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0)
			goto fail;
		step = "IP_ADD_MEMBERSHIP";
		setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero));
		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
			goto fail;
		m->mc_fd = fd;
		m->mc_h = loop_fd_add(fd, EPOLLIN, on_mc_readable, m);
		if (!m->mc_h) {
			step = "epoll";
			m->mc_fd = -1;
			goto fail;
		}
		mcast_event(m, GM_EV_MULTICAST_JOINED, NULL);
		return;
	}
fail:;
	char why[160];
	snprintf(why, sizeof(why), "%s: %s", step, strerror(errno));
	if (fd >= 0)
		close(fd);
	mcast_event(m, GM_EV_MULTICAST_FAILED, why);
	m->mc_group.s_addr = 0;
	m->mc_port = 0;
}

uint64_t gm_atd_us(const struct gdoi_sa *sa, const struct gdoi_sa *fallback)
{
	if (sa->has_gap)
		return (uint64_t)sa->atd * 1000000u;
	return fallback && fallback->has_gap ? (uint64_t)fallback->atd * 1000000u : 0;
}

void gm_heartbeat_arm(struct gm *m)
{
	if (!m->cfg.heartbeat_s || !m->kek.valid)
		loop_timer_cancel(&m->hb_timer);
	else
		loop_timer_arm_ms(&m->hb_timer,
				  (uint64_t)m->cfg.heartbeat_s * m->cfg.heartbeat_misses * 1000u);
}

static void reject(struct gm *m, const char *reason, int mcast, const struct gdoi_push *p)
{
	char a[INET_ADDRSTRLEN];
	if (!strcmp(reason, "unknown_kek"))
		log_debug("gm", "%s: push not under a KEK this member holds; ignored",
			  gm_local_str(m, a, sizeof(a)));
	else if (p)
		log_info("gm", "%s: push with SEQ %u refused: %s (last SEQ %u)", gm_local_str(m, a, sizeof(a)),
			 p->seq, reason, m->seq);
	else
		log_info("gm", "%s: push refused: %s", gm_local_str(m, a, sizeof(a)), reason);
	struct gm_event e = { .kind = GM_EV_PUSH_REJECTED, .reason = reason, .multicast = mcast,
			      .replay = p != NULL, .seq = p ? p->seq : 0, .last_seq = p ? m->seq : 0 };
	gm_emit(m, &e);
}

static void send_ack(struct gm *m, const uint8_t spi[16], uint32_t seq, const struct sockaddr_in *to)
{
	char a[INET_ADDRSTRLEN], t[INET_ADDRSTRLEN + 8];
	struct gdoi_buf b;
	gdoi_buf_init(&b);
	inet_ntop(AF_INET, &to->sin_addr, t, INET_ADDRSTRLEN);
	snprintf(t + strlen(t), 8, ":%u", ntohs(to->sin_port));
	if (!m->have_ack_key || gdoi_ack_build(&b, spi, seq, &m->id, m->ack_key) < 0) {
		log_warn("gm", "%s: cannot build the ACK of SEQ %u", gm_local_str(m, a, sizeof(a)), seq);
	} else if (sendto(m->fd, b.data, b.len, 0, (const struct sockaddr *)to, sizeof(*to)) < 0) {
		log_warn("gm", "%s: ACK of SEQ %u to %s: %s", gm_local_str(m, a, sizeof(a)), seq, t,
			 strerror(errno));
	} else {
		m->st.acks_sent++;
		struct gm_event e = { .kind = GM_EV_ACK_SENT, .seq = seq, .spi = spi, .to = to };
		gm_emit(m, &e);
	}
	gdoi_buf_free(&b);
}

/* A push's SA KEK: the same KEK updates its settings (ACKs asked or
 * not); a new SPI switches to the new KEK now (its key is in the push's
 * KD) and keeps the old one to open retransmissions. */
static void rekey_kek(struct gm *m, const struct gdoi_push *p)
{
	char a[INET_ADDRSTRLEN];
	const struct gdoi_sa_kek *s = &p->sa.kek;
	if (m->kek.valid && !memcmp(s->spi, m->kek.k.spi, 16)) {
		m->kek.ack_requested = s->ack_requested;
		m->policy.kek = *s;
		return;
	}
	struct gm_kek nk;
	const char *why;
	if (gm_kek_from(m, s, p->sa.profile, &p->kd, &nk, &why) < 0) {
		log_warn("gm", "%s: push SEQ %u names a new KEK that cannot be used (%s); the old KEK stays",
			 gm_local_str(m, a, sizeof(a)), p->seq, why);
		struct gm_event e = { .kind = GM_EV_KEK_MISSING, .spi = s->spi, .error = why };
		gm_emit(m, &e);
		return;
	}
	gm_kek_drop(m, &m->prev_kek);
	m->prev_kek = m->kek;
	m->kek = nk;
	OPENSSL_cleanse(&nk, sizeof(nk));
	m->policy.kek = *s;
	m->policy.has_kek = 1;
	m->st.kek_replacements++;
	log_debug("gm", "%s: KEK replaced", gm_local_str(m, a, sizeof(a)));
	struct gm_event e = { .kind = GM_EV_KEK_REPLACED, .spi = m->kek.k.spi,
			      .old_spi = m->prev_kek.valid ? m->prev_kek.k.spi : NULL };
	gm_emit(m, &e);
}

static void apply_rekey(struct gm *m, struct gdoi_push *p)
{
	uint64_t delay = 2 * gm_atd_us(&p->sa, &m->policy);
	/* The policy as last received; KEK and GAP stay when the push has none. */
	m->policy.n_tek = p->sa.n_tek;
	memcpy(m->policy.tek, p->sa.tek, sizeof(p->sa.tek));
	if (p->sa.has_gap) {
		m->policy.has_gap = 1;
		m->policy.atd = p->sa.atd;
		m->policy.dtd = p->sa.dtd;
	}
	gdoi_kd_wipe(&m->keys);
	m->keys = p->kd;
	gm_install_teks(m, &p->sa, &p->kd, delay);
}

/* A push's DELETE payloads: TEKs (4-octet SPIs) and KEKs (16) named go
 * now. */
static void apply_deletes(struct gm *m, const struct gdoi_push *p)
{
	char a[INET_ADDRSTRLEN], hex[40];
	for (size_t d = 0; d < p->n_del; d++) {
		const struct gdoi_delete *del = &p->del[d];
		for (size_t i = 0; i < del->n; i++) {
			const uint8_t *spi = del->spi[i];
			if (del->spi_size == 4) {
				uint32_t v = (uint32_t)spi[0] << 24 | (uint32_t)spi[1] << 16 |
					     (uint32_t)spi[2] << 8 | spi[3];
				for (size_t t = m->n_tek; t-- > 0;)
					if (m->teks[t].sa.spi == v)
						gm_tek_remove(m, t, "deleted");
			} else {
				for (size_t k = 0; k < 16; k++)
					snprintf(hex + 2 * k, 3, "%02x", spi[k]);
				struct gm_kek *kek = m->prev_kek.valid && !memcmp(m->prev_kek.k.spi, spi, 16)
							     ? &m->prev_kek
							     : m->kek.valid && !memcmp(m->kek.k.spi, spi, 16) ? &m->kek
													: NULL;
				if (kek) {
					log_info("gm", "%s: KEK %s deleted by the key server", gm_local_str(m, a, sizeof(a)),
						 hex);
					gm_kek_drop(m, kek);
				}
			}
		}
	}
	gm_key_timer_arm(m);
}

/* Opens a push with the member's KEK, else the one before it; a push
 * that does not open is counted and reported. 0 (*used: the KEK it came
 * under) or -1. */
static int push_open(struct gm *m, const uint8_t *msg, size_t len, int mcast, struct gdoi_push *p,
		     const struct gm_kek **used)
{
	const struct gm_kek *k = &m->kek;
	int rc = GDOI_PUSH_EKEK;
	if (m->kek.valid)
		rc = gdoi_push_open(msg, len, &m->kek.k, m->kek.rsa, m->kek.sig_hash, p);
	if (rc == GDOI_PUSH_EKEK && m->prev_kek.valid) {
		k = &m->prev_kek;
		rc = gdoi_push_open(msg, len, &k->k, k->rsa, k->sig_hash, p);
	}
	*used = k;
	if (rc == GDOI_PUSH_OK) {
		if (p->has_sa)
			gm_selectors_in(m, &p->sa);
		return 0;
	}
	if (rc == GDOI_PUSH_EKEK)
		m->st.rejected_unknown_kek++;
	else if (rc == GDOI_PUSH_ESIG)
		m->st.rejected_sig++;
	else
		m->st.rejected_other++;
	reject(m, rc == GDOI_PUSH_EKEK ? "unknown_kek" : rc == GDOI_PUSH_ESIG ? "bad_signature" : "malformed",
	       mcast, NULL);
	return -1;
}

/* A push with a new SEQ: reported, then applied (DELETEs first, then a
 * new KEK, then the keys). */
static void push_apply(struct gm *m, struct gdoi_push *p, int mcast)
{
	struct gm_event e = { .kind = GM_EV_PUSH_RECEIVED, .seq = p->seq, .multicast = mcast };
	m->seq = p->seq;
	m->st.pushes++;
	e.push_kind = p->has_kd ? "rekey" : p->has_sa ? "heartbeat" : "delete";
	if (p->has_kd)
		m->st.rekeys++;
	else if (p->has_sa)
		m->st.heartbeats++;
	if (p->n_del) {
		apply_deletes(m, p);
		e.del = p->del;
		e.n_del = p->n_del;
	}
	gm_emit(m, &e);
	if (p->has_sa && p->sa.has_kek) {
		rekey_kek(m, p);
		gm_mcast_follow(m); /* the SA KEK may move the group */
	}
	if (p->has_sa && p->has_kd)
		apply_rekey(m, p);
	m->last_valid_us = loop_now_us();
	if (m->registered)
		gm_heartbeat_arm(m);
}

void gm_on_push(struct gm *m, const uint8_t *msg, size_t len, const struct sockaddr_in *from, int mcast)
{
	struct gdoi_push p;
	const struct gm_kek *k;
	if (push_open(m, msg, len, mcast, &p, &k) < 0)
		return;
	if (p.seq < m->seq) {
		m->st.rejected_replay++;
		reject(m, "replay", mcast, &p);
		gdoi_kd_wipe(&p.kd);
		return;
	}
	/* Taken before applying: a new KEK moves the one it came under. */
	uint8_t spi[16];
	memcpy(spi, k->k.spi, 16);
	int ack = p.has_sa && p.sa.has_kek ? p.sa.kek.ack_requested : k->ack_requested;
	if (p.seq == m->seq) {
		struct gm_event e = { .kind = GM_EV_RETRANSMISSION, .seq = p.seq, .multicast = mcast };
		m->st.retransmissions++;
		gm_emit(m, &e);
	} else {
		push_apply(m, &p, mcast);
	}
	if (ack)
		send_ack(m, spi, p.seq, from);
	gdoi_kd_wipe(&p.kd);
}
