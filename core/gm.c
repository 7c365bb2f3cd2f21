/* gm.c: the group member side of registration (see gks.c for the
 * exchange). Each try resends the last datagram after timeout_ms; after
 * `retries` tries the registration fails. */
#include "config.h"
#include "gm.h"
#include "crypto.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

enum gm_phase { GM_IDLE, GM_MAIN, GM_PULL1, GM_PULL3, GM_DONE };

struct gm {
	struct gm_config cfg;
	gm_done_fn done;
	void *arg;
	int fd;
	struct loop_fd *h;
	struct loop_timer timer;
	enum gm_phase phase;
	struct ike_sa ike;
	uint32_t msgid;
	uint8_t iv[CRYPTO_MAX_BLOCK];
	uint8_t ni[IKE_NONCE_LEN], nr[256];
	size_t nr_len;
	uint8_t *last_out;
	size_t last_out_len;
	unsigned tries;
	uint64_t start_us, end_us;
	struct gdoi_sa policy;
	struct gdoi_kd keys;
	uint32_t seq;
	char error[200];
};

static void finish(struct gm *m, enum gm_result r)
{
	loop_timer_cancel(&m->timer);
	m->phase = r == GM_REGISTERED ? GM_DONE : GM_IDLE;
	m->end_us = loop_now_us();
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
	if (gdoi_sa_parse(sap->body, sap->len, &m->policy) < 0) {
		failf(m, "GROUPKEY-PULL message 2: malformed SA");
		return;
	}
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
	if ((seq && gdoi_seq_parse(seq->body, seq->len, &m->seq) < 0) ||
	    gdoi_kd_parse(kd->body, kd->len, &m->keys) < 0) {
		failf(m, "GROUPKEY-PULL message 4: malformed SEQ or KD");
		return;
	}
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
	for (int i = 0; i < 16 && m->phase != GM_DONE && m->phase != GM_IDLE; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		struct isakmp_hdr h;
		if (from.sin_addr.s_addr != m->cfg.server.sin_addr.s_addr ||
		    isakmp_hdr_parse(buf, (size_t)n, &h) < 0 || memcmp(h.icookie, m->ike.icky, 8))
			continue;
		if (h.exchange == ISAKMP_EXCH_INFO)
			on_notify(m, buf, h.len, &h);
		else if (h.exchange == ISAKMP_EXCH_MAIN && m->phase == GM_MAIN)
			on_main(m, buf, h.len);
		else if (h.exchange == GDOI_EXCH_PULL)
			on_pull(m, buf, h.len, &h);
	}
}

/* ---- lifecycle ------------------------------------------------------------------------- */

struct gm *gm_new(const struct gm_config *cfg, gm_done_fn done, void *arg)
{
	struct gm *m = xcalloc(1, sizeof(*m));
	m->cfg = *cfg;
	m->cfg.psk = xstrdup(cfg->psk);
	m->cfg.identity = cfg->identity ? xstrdup(cfg->identity) : NULL;
	if (!m->cfg.timeout_ms)
		m->cfg.timeout_ms = 2000;
	if (!m->cfg.retries)
		m->cfg.retries = 5;
	m->done = done;
	m->arg = arg;
	loop_timer_init(&m->timer, on_timeout, m);
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
	if (m->h)
		loop_fd_del(m->h);
	if (m->fd >= 0)
		close(m->fd);
	ike_sa_free(&m->ike);
	gdoi_kd_wipe(&m->keys);
	free(m->last_out);
	secret_free((char *)m->cfg.psk);
	free((char *)m->cfg.identity);
	OPENSSL_cleanse(m, sizeof(*m));
	free(m);
}

int gm_start(struct gm *m)
{
	ike_sa_free(&m->ike);
	ike_sa_init(&m->ike, 1, (struct sockaddr *)&m->cfg.server, sizeof(m->cfg.server));
	gdoi_kd_wipe(&m->keys);
	memset(&m->policy, 0, sizeof(m->policy));
	m->error[0] = '\0';
	struct gdoi_id id = { 0 };
	if (m->cfg.identity) {
		id.type = ISAKMP_ID_FQDN;
		id.len = strlen(m->cfg.identity) < sizeof(id.data) ? strlen(m->cfg.identity) : sizeof(id.data);
		memcpy(id.data, m->cfg.identity, id.len);
	} else {
		id.type = ISAKMP_ID_IPV4_ADDR;
		memcpy(id.data, &m->cfg.local.sin_addr, 4);
		id.len = 4;
	}
	struct gdoi_buf out;
	gdoi_buf_init(&out);
	m->start_us = loop_now_us();
	m->phase = GM_MAIN;
	if (ike_initiator_start(&m->ike, m->cfg.props, m->cfg.n_props, m->cfg.psk, &id, &out) < 0) {
		gdoi_buf_free(&out);
		failf(m, "%s", m->ike.error);
		return -1;
	}
	transmit(m, out.data, out.len);
	gdoi_buf_free(&out);
	return 0;
}

const char *gm_error(const struct gm *m) { return m->error; }
const struct gdoi_sa *gm_policy(const struct gm *m) { return &m->policy; }
const struct gdoi_kd *gm_keys(const struct gm *m) { return &m->keys; }
uint32_t gm_seq(const struct gm *m) { return m->seq; }
const struct ike_sa *gm_ike(const struct gm *m) { return &m->ike; }
const struct sockaddr_in *gm_local(const struct gm *m) { return &m->cfg.local; }
uint64_t gm_elapsed_us(const struct gm *m) { return m->end_us - m->start_us; }

static void add_hex(cJSON *o, const char *k, const uint8_t *p, size_t n)
{
	char *s = xmalloc(2 * n + 1);
	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	s[2 * n] = '\0';
	cJSON_AddStringToObject(o, k, s);
	OPENSSL_cleanse(s, 2 * n);
	free(s);
}

static void add_ident(cJSON *o, const char *k, const struct gdoi_ident *id)
{
	char a[INET6_ADDRSTRLEN], buf[80];
	if (id->type == ISAKMP_ID_IPV4_ADDR_SUBNET && id->len == 8) {
		uint32_t mask;
		memcpy(&mask, id->data + 4, 4);
		inet_ntop(AF_INET, id->data, a, sizeof(a));
		snprintf(buf, sizeof(buf), "%s/%d", a, __builtin_popcount(ntohl(mask)));
	} else if (id->type == ISAKMP_ID_IPV4_ADDR && id->len == 4) {
		inet_ntop(AF_INET, id->data, buf, sizeof(buf));
	} else {
		snprintf(buf, sizeof(buf), "type %u, %zu bytes", id->type, id->len);
	}
	cJSON_AddStringToObject(o, k, buf);
}

cJSON *gm_policy_json(const struct gm *m)
{
	cJSON *o = cJSON_CreateObject();
	char suite[64];
	ike_proposal_str(&m->ike.prop, suite, sizeof(suite));
	cJSON_AddStringToObject(o, "ike", suite);
	cJSON_AddNumberToObject(o, "seq", m->seq);
	const struct gdoi_sa *p = &m->policy;
	if (p->has_kek) {
		cJSON *k = cJSON_AddObjectToObject(o, "kek");
		add_hex(k, "spi", p->kek.spi, 16);
		cJSON_AddNumberToObject(k, "algorithm", p->kek.alg);
		cJSON_AddNumberToObject(k, "key_bits", p->kek.key_bits);
		cJSON_AddNumberToObject(k, "lifetime", p->kek.lifetime);
		cJSON_AddNumberToObject(k, "sig_hash", p->kek.sig_hash);
		cJSON_AddBoolToObject(k, "ack_requested", p->kek.ack_requested);
	}
	cJSON *teks = cJSON_AddArrayToObject(o, "teks");
	for (size_t i = 0; i < p->n_tek; i++) {
		const struct gdoi_sa_tek *t = &p->tek[i];
		cJSON *j = cJSON_CreateObject();
		char spi[16];
		snprintf(spi, sizeof(spi), "0x%08x", t->spi);
		cJSON_AddStringToObject(j, "spi", spi);
		cJSON_AddNumberToObject(j, "transform", t->transform);
		cJSON_AddNumberToObject(j, "key_bits", t->key_bits);
		cJSON_AddNumberToObject(j, "auth", t->auth_alg);
		cJSON_AddNumberToObject(j, "lifetime", t->lifetime);
		add_ident(j, "source", &t->src);
		add_ident(j, "destination", &t->dst);
		cJSON_AddItemToArray(teks, j);
	}
	if (p->has_gap)
		cJSON_AddNumberToObject(o, "activation_time_delay", p->atd);
	cJSON *keys = cJSON_AddArrayToObject(o, "keys");
	for (size_t i = 0; i < m->keys.n; i++) {
		const struct gdoi_keypkt *k = &m->keys.k[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "type", k->type == GDOI_KD_KEK ? "kek" : "tek");
		add_hex(j, "spi", k->spi, k->spi_len);
		add_hex(j, "key", k->alg_key, k->alg_key_len);
		if (k->integ_key_len)
			add_hex(j, "integrity_key", k->integ_key, k->integ_key_len);
		if (k->sig_key_len)
			cJSON_AddNumberToObject(j, "sig_key_bytes", (double)k->sig_key_len);
		cJSON_AddItemToArray(keys, j);
	}
	return o;
}
