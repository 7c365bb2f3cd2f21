/* SPDX-License-Identifier: BSD-2-Clause */
/* gm.c: the group member. Registration (see gks_pull.c for the exchange):
 * each try resends the last datagram after timeout_ms; after `retries`
 * tries the registration fails. After it, GROUPKEY-PUSH messages
 * (gdoi_push.h) from the key server are opened with the member's KEK (or
 * the one before, for retransmissions of the push that replaced it),
 * checked against the last SEQ, applied, and ACKed when the SA KEK asks
 * for it. TEKs live in a small table with their activation and expiry
 * times; one timer per member drives it. This file holds the
 * registration, the member's socket, the heartbeat watch and the life
 * cycle; the rest and how the parts depend on each other: gm_int.h. Its
 * JSON (state, policy, events) is core/views/gm_json.c's. */
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

static void apply_registration(struct gm *m, struct gdoi_kd *kd, uint32_t seq);
static void rereg_finished(struct gm *m, enum gm_result r);

/* ---- registration: retransmissions and outcome ------------------------------------------ */

static void finish(struct gm *m, enum gm_result r)
{
	loop_timer_cancel(&m->timer);
	m->phase = r == GM_REGISTERED ? GM_DONE : GM_IDLE;
	m->end_us = loop_now_us();
	if (m->rereg) {
		rereg_finished(m, r);
		return;
	}
	if (m->done)
		m->done(m, r, m->arg);
}

static void failf(struct gm *m, const char *fmt, ...) GVPN_PRINTF(2, 3);
static void failf(struct gm *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->error, sizeof(m->error), fmt, ap);
	va_end(ap);
	finish(m, GM_FAILED);
}

static void transmit(struct gm *m, const uint8_t *buf, size_t len)
{
	free(m->last_out);
	m->last_out = xmalloc(len);
	memcpy(m->last_out, buf, len);
	m->last_out_len = len;
	m->tries = 1;
	if (sendto(m->fd, buf, len, 0, (struct sockaddr *)&m->cfg.server, sizeof(m->cfg.server)) < 0)
		log_debug("gm", "sendto: %s", strerror(errno));
	loop_timer_arm_ms(&m->timer, m->cfg.timeout_ms);
}

static void on_timeout(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct gm *m = arg;
	if (m->tries >= m->cfg.retries) {
		failf(m, "no answer from the key server after %u tries", m->tries);
		return;
	}
	m->tries++;
	sendto(m->fd, m->last_out, m->last_out_len, 0, (struct sockaddr *)&m->cfg.server,
	       sizeof(m->cfg.server));
	loop_timer_arm_ms(&m->timer, m->cfg.timeout_ms);
}

/* ---- GROUPKEY-PULL --------------------------------------------------------- */

static void pull_hdr(const struct gm *m, struct gdoi_buf *b)
{
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = GDOI_EXCH_PULL,
				.flags = ISAKMP_FLAG_ENC, .msgid = m->msgid };
	memcpy(h.icookie, m->ike.icky, 8);
	memcpy(h.rcookie, m->ike.rcky, 8);
	gdoi_put_hdr(b, &h);
}

static int seal_hash(struct gm *m, struct gdoi_buf *b, size_t hash_at, const struct crypto_iov *pre,
		     size_t n_pre)
{
	size_t after = hash_at + 4 + m->ike.keys.hash_len;
	if (ike_hash_a(&m->ike, m->msgid, pre, n_pre, b->data + after, b->len - after,
		       b->data + hash_at + 4) < 0)
		return -1;
	return ike_seal(&m->ike, b, m->iv);
}

static void send_pull1(struct gm *m)
{
	do
		crypto_random(&m->msgid, sizeof(m->msgid));
	while (!m->msgid);
	ike_exchange_iv(&m->ike, m->msgid, m->iv);
	crypto_random(m->ni, sizeof(m->ni));
	struct gdoi_buf b;
	gdoi_buf_init(&b);
	pull_hdr(m, &b);
	size_t hash_at = b.len;
	uint8_t zero[CRYPTO_MAX_HASH] = { 0 };
	gdoi_put_payload(&b, ISAKMP_NP_HASH, zero, m->ike.keys.hash_len);
	gdoi_put_payload(&b, ISAKMP_NP_NONCE, m->ni, sizeof(m->ni));
	struct gdoi_id gid = { .type = ISAKMP_ID_KEY_ID, .len = 4 };
	gid.data[0] = (uint8_t)(m->cfg.group_id >> 24);
	gid.data[1] = (uint8_t)(m->cfg.group_id >> 16);
	gid.data[2] = (uint8_t)(m->cfg.group_id >> 8);
	gid.data[3] = (uint8_t)m->cfg.group_id;
	if (m->cfg.pull_id && inet_pton(AF_INET, m->cfg.pull_id, gid.data) == 1) {
		gid.type = ISAKMP_ID_IPV4_ADDR;
	} else if (m->cfg.pull_id) {
		gid.type = strchr(m->cfg.pull_id, '@') ? ISAKMP_ID_USER_FQDN : ISAKMP_ID_FQDN;
		gid.len = strlen(m->cfg.pull_id) < sizeof(gid.data) ? strlen(m->cfg.pull_id) : sizeof(gid.data);
		memcpy(gid.data, m->cfg.pull_id, gid.len);
	}
	gdoi_put_id(&b, &gid);
	if (seal_hash(m, &b, hash_at, NULL, 0) < 0) {
		gdoi_buf_free(&b);
		failf(m, "cannot build GROUPKEY-PULL message 1");
		return;
	}
	m->phase = GM_PULL1;
	transmit(m, b.data, b.len);
	gdoi_buf_free(&b);
}

static int check_hash(const struct gm *m, const struct gdoi_chain *c, const uint8_t *chain,
		      const struct crypto_iov *pre, size_t n_pre)
{
	return ike_check_hash_a(&m->ike, m->msgid, pre, n_pre, c, chain);
}

static void on_pull2(struct gm *m, const struct gdoi_chain *c, const uint8_t *chain)
{
	struct crypto_iov pre1[] = { { m->ni, sizeof(m->ni) } };
	const struct gdoi_payload *np = gdoi_chain_find(c, ISAKMP_NP_NONCE);
	const struct gdoi_payload *sap = gdoi_chain_find(c, ISAKMP_NP_SA);
	if (check_hash(m, c, chain, pre1, 1) < 0 || !np || !sap || np->len < 8 ||
	    np->len > sizeof(m->nr)) {
		failf(m, "GROUPKEY-PULL message 2: bad HASH(2) or missing payloads");
		return;
	}
	if (gdoi_sa_parse_profile(sap->body, sap->len, gm_wire_profile(m), &m->new_policy) < 0) {
		failf(m, "GROUPKEY-PULL message 2: malformed SA");
		return;
	}
	gm_selectors_in(m, &m->new_policy);
	memcpy(m->nr, np->body, np->len);
	m->nr_len = np->len;
	struct gdoi_buf b;
	gdoi_buf_init(&b);
	pull_hdr(m, &b);
	size_t hash_at = b.len;
	uint8_t zero[CRYPTO_MAX_HASH] = { 0 };
	gdoi_put_payload(&b, ISAKMP_NP_HASH, zero, m->ike.keys.hash_len);
	struct crypto_iov pre[] = { { m->ni, sizeof(m->ni) }, { m->nr, m->nr_len } };
	if (seal_hash(m, &b, hash_at, pre, 2) < 0) {
		gdoi_buf_free(&b);
		failf(m, "cannot build GROUPKEY-PULL message 3");
		return;
	}
	m->phase = GM_PULL3;
	transmit(m, b.data, b.len);
	gdoi_buf_free(&b);
}

static void on_pull4(struct gm *m, const struct gdoi_chain *c, const uint8_t *chain)
{
	struct crypto_iov pre[] = { { m->ni, sizeof(m->ni) }, { m->nr, m->nr_len } };
	const struct gdoi_payload *seq = gdoi_chain_find(c, GDOI_NP_SEQ);
	const struct gdoi_payload *kd = gdoi_chain_find(c, GDOI_NP_KD);
	if (check_hash(m, c, chain, pre, 2) < 0 || !kd) {
		failf(m, "GROUPKEY-PULL message 4: bad HASH(4) or no KD");
		return;
	}
	uint32_t n = 0;
	struct gdoi_kd keys = { 0 };
	if ((seq && gdoi_seq_parse(seq->body, seq->len, &n) < 0) ||
	    gdoi_kd_parse(kd->body, kd->len, &keys) < 0) {
		gdoi_kd_wipe(&keys);
		failf(m, "GROUPKEY-PULL message 4: malformed SEQ or KD");
		return;
	}
	apply_registration(m, &keys, n);
	gdoi_kd_wipe(&keys);
	finish(m, GM_REGISTERED);
}

static void on_pull(struct gm *m, const uint8_t *msg, size_t len, const struct isakmp_hdr *h)
{
	if (h->msgid != m->msgid || (m->phase != GM_PULL1 && m->phase != GM_PULL3))
		return;
	uint8_t iv[CRYPTO_MAX_BLOCK], *plain;
	memcpy(iv, m->iv, sizeof(iv));
	if (ike_open(&m->ike, msg, len, iv, &plain) < 0)
		return;
	struct gdoi_chain c;
	const uint8_t *chain = plain + ISAKMP_HDR_LEN;
	if (gdoi_chain_parse(h->np, chain, len - ISAKMP_HDR_LEN, 1, &c) == 0) {
		memcpy(m->iv, iv, sizeof(iv));
		loop_timer_cancel(&m->timer);
		if (m->phase == GM_PULL1)
			on_pull2(m, &c, chain);
		else
			on_pull4(m, &c, chain);
	}
	OPENSSL_cleanse(plain, len);
	free(plain);
}

/* ---- Main Mode and notifies ----------------------------------------------------------- */

/* An informational exchange: in clear during Main Mode, else protected
 * by the phase 1 SA with HASH(1) = prf(SKEYID_a, M-ID | N) (RFC 2409 5.7);
 * a protected one that does not verify is ignored. */
static void on_notify(struct gm *m, const uint8_t *msg, size_t len, const struct isakmp_hdr *h)
{
	struct gdoi_chain c;
	uint8_t *plain = NULL;
	const uint8_t *body = msg + ISAKMP_HDR_LEN;
	const struct gdoi_payload *np = NULL;
	if (h->flags & ISAKMP_FLAG_ENC) {
		uint8_t iv[CRYPTO_MAX_BLOCK];
		if (m->ike.state != IKE_ESTABLISHED || ike_exchange_iv(&m->ike, h->msgid, iv) < 0 ||
		    ike_open(&m->ike, msg, len, iv, &plain) < 0)
			return;
		body = plain + ISAKMP_HDR_LEN;
		if (gdoi_chain_parse(h->np, body, len - ISAKMP_HDR_LEN, 1, &c) < 0 ||
		    ike_check_hash_a(&m->ike, h->msgid, NULL, 0, &c, body) < 0) {
			free(plain);
			return;
		}
		np = gdoi_chain_find(&c, ISAKMP_NP_N);
	} else {
		if (gdoi_chain_parse(h->np, body, len - ISAKMP_HDR_LEN, 0, &c) < 0)
			return;
		np = gdoi_chain_find(&c, ISAKMP_NP_N);
	}
	struct gdoi_notify n;
	if (np && gdoi_notify_parse(np->body, np->len, &n) == 0)
		failf(m, "the key server refused: notify %s (%u)",
		      n.type == ISAKMP_N_AUTHENTICATION_FAILED ? "AUTHENTICATION-FAILED" :
		      n.type == ISAKMP_N_NO_PROPOSAL_CHOSEN ? "NO-PROPOSAL-CHOSEN" :
		      n.type == ISAKMP_N_INVALID_ID_INFORMATION ? "INVALID-ID-INFORMATION" : "other",
		      n.type);
	free(plain);
}

static void on_main(struct gm *m, const uint8_t *msg, size_t len)
{
	struct gdoi_buf out;
	gdoi_buf_init(&out);
	int rc = ike_input(&m->ike, msg, len, NULL, 0, NULL, NULL, &out);
	if (rc < 0 && m->ike.state != IKE_FAILED) {
		gdoi_buf_free(&out);
		return; /* not for this exchange: ignored */
	}
	if (rc < 0) {
		gdoi_buf_free(&out);
		failf(m, "Main Mode: %s", m->ike.error);
		return;
	}
	if (rc == 1)
		transmit(m, out.data, out.len);
	gdoi_buf_free(&out);
	if (m->ike.state == IKE_ESTABLISHED) {
		loop_timer_cancel(&m->timer);
		send_pull1(m);
	}
}

static void on_readable(int fd, uint32_t revents GVPN_UNUSED, void *arg)
{
	struct gm *m = arg;
	uint8_t buf[GDOI_MAX_MSG];
	for (int i = 0; i < 16; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		gm_input(m, buf, (size_t)n, &from);
	}
}

void gm_input(struct gm *m, const uint8_t *msg, size_t len, const struct sockaddr_in *from)
{
	struct isakmp_hdr h;
	if (from->sin_addr.s_addr != m->cfg.server.sin_addr.s_addr || isakmp_hdr_parse(msg, len, &h) < 0)
		return;
	if (h.exchange == GDOI_EXCH_PUSH) {
		gm_on_push(m, msg, len, from, 0);
		return;
	}
	if (m->phase == GM_DONE || m->phase == GM_IDLE || memcmp(h.icookie, m->ike.icky, 8))
		return;
	if (h.exchange == ISAKMP_EXCH_INFO)
		on_notify(m, msg, h.len, &h);
	else if (h.exchange == ISAKMP_EXCH_MAIN && m->phase == GM_MAIN)
		on_main(m, msg, h.len);
	else if (h.exchange == GDOI_EXCH_PULL)
		on_pull(m, msg, h.len, &h);
}

/* ---- registration applied; heartbeats and reregistration ------------------------------- */

/* Message 4 verified: policy, KEK, TEKs and SEQ take effect. After a
 * first registration TEKs are used at once; after a reregistration the
 * ones not held yet wait ATD. */
static void apply_registration(struct gm *m, struct gdoi_kd *kd, uint32_t seq)
{
	char a[INET_ADDRSTRLEN];
	int first = !m->ever_registered;
	m->policy = m->new_policy;
	gdoi_kd_wipe(&m->keys);
	m->keys = *kd;
	m->seq = seq;
	m->have_ack_key = gdoi_ack_key(m->ike.keys.skeyid_a, m->ike.keys.hash_len, m->ike.icky,
				       m->ike.rcky, m->ack_key) == 0;
	/* The registration names the KEK: the old ones go first, so the
	 * server's public key comes from this key download. */
	gm_kek_drop(m, &m->prev_kek);
	gm_kek_drop(m, &m->kek);
	const char *why = NULL;
	if (m->policy.has_kek && gm_kek_from(m, &m->policy.kek, m->policy.profile, kd, &m->kek, &why) < 0)
		log_warn("gm", "%s: the group's KEK cannot be used (%s): pushes will be ignored",
			 gm_local_str(m, a, sizeof(a)), why);
	gm_install_teks(m, &m->policy, kd, first ? 0 : gm_atd_us(&m->policy, NULL));
	gm_mcast_follow(m);
	m->ever_registered = 1;
	m->registered = 1;
	m->last_valid_us = loop_now_us();
	gm_heartbeat_arm(m);
}

static void reregister(struct gm *m);

static void on_hb_timer(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct gm *m = arg;
	char a[INET_ADDRSTRLEN];
	if (m->registered) {
		double secs = (double)(loop_now_us() - m->last_valid_us) / 1e6;
		m->registered = 0;
		m->st.heartbeat_losses++;
		log_info("gm", "%s: no push from the key server for %.0f s (%u heartbeats missed): reregistering",
			 gm_local_str(m, a, sizeof(a)), secs, m->cfg.heartbeat_misses);
		struct gm_event e = { .kind = GM_EV_HEARTBEAT_LOST, .seconds = secs, .last_seq = m->seq };
		gm_emit(m, &e);
	}
	reregister(m);
}

static void rereg_finished(struct gm *m, enum gm_result r)
{
	char a[INET_ADDRSTRLEN];
	m->rereg = 0;
	if (r == GM_REGISTERED) {
		m->st.reregistrations++;
		log_info("gm", "%s: reregistered, SEQ %u", gm_local_str(m, a, sizeof(a)), m->seq);
		struct gm_event e = { .kind = GM_EV_REREGISTERED, .seq = m->seq,
				      .elapsed_ms = (double)gm_elapsed_us(m) / 1000.0 };
		gm_emit(m, &e);
		return;
	}
	m->st.reregistration_failures++;
	log_warn("gm", "%s: reregistration failed: %s; next try in %u s", gm_local_str(m, a, sizeof(a)),
		 m->error, m->cfg.heartbeat_s);
	struct gm_event e = { .kind = GM_EV_REREGISTRATION_FAILED, .error = m->error,
			      .retry_in_s = m->cfg.heartbeat_s };
	gm_emit(m, &e);
	if (m->cfg.heartbeat_s)
		loop_timer_arm_ms(&m->hb_timer, (uint64_t)m->cfg.heartbeat_s * 1000u);
}

/* ---- lifecycle ------------------------------------------------------------------------- */

struct gm *gm_new(const struct gm_config *cfg, gm_done_fn done, void *arg)
{
	struct gm *m = xcalloc(1, sizeof(*m));
	m->cfg = *cfg;
	m->cfg.psk = xstrdup(cfg->psk);
	m->cfg.identity = cfg->identity ? xstrdup(cfg->identity) : NULL;
	m->cfg.pull_id = cfg->pull_id ? xstrdup(cfg->pull_id) : NULL;
	if (!m->cfg.timeout_ms)
		m->cfg.timeout_ms = 2000;
	if (!m->cfg.retries)
		m->cfg.retries = 5;
	if (!m->cfg.heartbeat_misses)
		m->cfg.heartbeat_misses = 3;
	m->done = done;
	m->arg = arg;
	m->mc_fd = -1;
	loop_timer_init(&m->timer, on_timeout, m);
	loop_timer_init(&m->key_timer, gm_on_key_timer, m);
	loop_timer_init(&m->hb_timer, on_hb_timer, m);
	m->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0 || bind(m->fd, (struct sockaddr *)&m->cfg.local, sizeof(m->cfg.local)) < 0) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &m->cfg.local.sin_addr, a, sizeof(a));
		log_err("gm", "cannot bind %s:%u: %s", a, ntohs(m->cfg.local.sin_port), strerror(errno));
		gm_free(m);
		return NULL;
	}
	socklen_t l = sizeof(m->cfg.local);
	getsockname(m->fd, (struct sockaddr *)&m->cfg.local, &l);
	m->h = loop_fd_add(m->fd, EPOLLIN, on_readable, m);
	if (!m->h) {
		gm_free(m);
		return NULL;
	}
	return m;
}

void gm_free(struct gm *m)
{
	if (!m)
		return;
	loop_timer_cancel(&m->timer);
	loop_timer_cancel(&m->hb_timer);
	gm_teks_clear(m);
	gm_mcast_close(m);
	if (m->h)
		loop_fd_del(m->h);
	if (m->fd >= 0)
		close(m->fd);
	gm_kek_drop(m, &m->prev_kek);
	gm_kek_drop(m, &m->kek);
	ike_sa_free(&m->ike);
	gdoi_kd_wipe(&m->keys);
	free(m->last_out);
	secret_free((char *)m->cfg.psk);
	free((char *)m->cfg.identity);
	free((char *)m->cfg.pull_id);
	OPENSSL_cleanse(m, sizeof(*m));
	free(m);
}

/* Main Mode message 1 of a registration or reregistration. */
static int exchange_start(struct gm *m)
{
	loop_timer_cancel(&m->timer);
	ike_sa_free(&m->ike);
	ike_sa_init(&m->ike, 1, (struct sockaddr *)&m->cfg.server, sizeof(m->cfg.server));
	if (m->cfg.p1_doi && ike_set_p1_doi(&m->ike, m->cfg.p1_doi) < 0) {
		failf(m, "phase 1 DOI %u is not supported (1: IPsec, 2: GDOI)", m->cfg.p1_doi);
		return -1;
	}
	memset(&m->new_policy, 0, sizeof(m->new_policy));
	m->error[0] = '\0';
	struct gdoi_id *id = &m->id;
	memset(id, 0, sizeof(*id));
	if (m->cfg.identity) {
		id->type = ISAKMP_ID_FQDN;
		id->len = strlen(m->cfg.identity) < sizeof(id->data) ? strlen(m->cfg.identity) : sizeof(id->data);
		memcpy(id->data, m->cfg.identity, id->len);
	} else {
		id->type = ISAKMP_ID_IPV4_ADDR;
		memcpy(id->data, &m->cfg.local.sin_addr, 4);
		id->len = 4;
	}
	struct gdoi_buf out;
	gdoi_buf_init(&out);
	m->start_us = loop_now_us();
	m->phase = GM_MAIN;
	if (ike_initiator_start(&m->ike, m->cfg.props, m->cfg.n_props, m->cfg.psk, id, &out) < 0) {
		gdoi_buf_free(&out);
		failf(m, "%s", m->ike.error);
		return -1;
	}
	transmit(m, out.data, out.len);
	gdoi_buf_free(&out);
	return 0;
}

static void reregister(struct gm *m)
{
	m->rereg = 1;
	exchange_start(m); /* a failure comes back through finish() */
}

int gm_start(struct gm *m)
{
	loop_timer_cancel(&m->hb_timer);
	gm_teks_clear(m);
	gm_mcast_close(m);
	gm_kek_drop(m, &m->prev_kek);
	gm_kek_drop(m, &m->kek);
	gdoi_kd_wipe(&m->keys);
	memset(&m->policy, 0, sizeof(m->policy));
	m->seq = 0;
	m->have_ack_key = 0;
	m->ever_registered = m->registered = m->rereg = 0;
	return exchange_start(m);
}

const char *gm_error(const struct gm *m) { return m->error; }
const struct gdoi_sa *gm_policy(const struct gm *m) { return &m->policy; }
const struct gdoi_kd *gm_keys(const struct gm *m) { return &m->keys; }
uint32_t gm_seq(const struct gm *m) { return m->seq; }
const struct ike_sa *gm_ike(const struct gm *m) { return &m->ike; }
const struct sockaddr_in *gm_local(const struct gm *m) { return &m->cfg.local; }
uint64_t gm_elapsed_us(const struct gm *m) { return m->end_us - m->start_us; }
int gm_registered(const struct gm *m) { return m->registered; }
size_t gm_tek_count(const struct gm *m) { return m->n_tek; }
const struct gm_tek *gm_tek_at(const struct gm *m, size_t i) { return i < m->n_tek ? &m->teks[i] : NULL; }
const struct gm_stats *gm_stats(const struct gm *m) { return &m->st; }

int gm_kek_spi(const struct gm *m, int previous, uint8_t spi[16])
{
	const struct gm_kek *k = previous ? &m->prev_kek : &m->kek;
	if (!k->valid)
		return 0;
	memcpy(spi, k->k.spi, 16);
	return 1;
}

int gm_multicast(const struct gm *m, struct in_addr *group, uint16_t *port)
{
	if (m->mc_fd < 0)
		return 0;
	*group = m->mc_group;
	*port = m->mc_port;
	return 1;
}
