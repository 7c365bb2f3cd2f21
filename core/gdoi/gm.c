/* SPDX-License-Identifier: BSD-2-Clause */
/* gm.c: the group member. Registration (see gks_pull.c for the exchange):
 * each try resends the last datagram after timeout_ms; after `retries`
 * tries the registration fails. After it, GROUPKEY-PUSH messages
 * (gdoi_push.h) from the key server are opened with the member's KEK (or
 * the one before, for retransmissions of the push that replaced it),
 * checked against the last SEQ, applied, and ACKed when the SA KEK asks
 * for it. TEKs live in a small table with their activation and expiry
 * times; one timer per member drives it.
 *
 * Length (about 1,300 lines, over the ~900 of core/): registration,
 * push handling and the key table all work on the one struct gm and
 * call into each other (a push installs TEKs and replaces the KEK; a
 * lost heartbeat reregisters). Its status and policy JSON live in
 * core/views/gm_json.c; the event details are still built here as
 * cJSON, because gm_event_fn hands them to the callers (gvpn-member,
 * tests) as JSON: typed events would change that interface. Splitting
 * the push handling and the key table into files of their own behind a
 * private header is the next step. */
#include "config.h"
#include "core/gdoi/gm.h"
#include "core/crypto.h"
#include "core/gdoi/gdoi_push.h"
#include "core/log.h"
#include "core/loop.h"
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

enum gm_phase { GM_IDLE, GM_MAIN, GM_PULL1, GM_PULL3, GM_DONE };

/* A KEK as the member holds it: key, the server's public key and the
 * hash its signatures use. Two KEKs may share one RSA key. */
struct gm_kek {
	int valid;
	struct gdoi_kek k;
	struct crypto_rsa *rsa;
	int sig_hash;                  /* CRYPTO_HASH_* */
	int ack_requested;
};

struct gm {
	struct gm_config cfg;
	gm_done_fn done;
	void *arg;
	int fd;
	struct loop_fd *h;
	struct loop_timer timer;       /* retransmissions of the registration */
	enum gm_phase phase;
	struct ike_sa ike;
	struct gdoi_id id;             /* what Main Mode message 5 carries; ACKs too */
	uint32_t msgid;
	uint8_t iv[CRYPTO_MAX_BLOCK];
	uint8_t ni[IKE_NONCE_LEN], nr[256];
	size_t nr_len;
	uint8_t *last_out;
	size_t last_out_len;
	unsigned tries;
	uint64_t start_us, end_us;
	struct gdoi_sa new_policy;     /* from PULL message 2, until message 4 */
	struct gdoi_sa policy;
	struct gdoi_kd keys;
	uint32_t seq;
	char error[200];
	/* after registration */
	int ever_registered;           /* 0: the next registration is a first one */
	int registered;                /* and heartbeats not lost */
	int rereg;                     /* the exchange running is a reregistration */
	uint8_t ack_key[GDOI_ACK_KEY_LEN];
	int have_ack_key;
	struct gm_kek kek, prev_kek;
	struct gm_tek *teks;
	size_t n_tek;
	uint64_t tek_order;
	struct loop_timer key_timer;   /* next TEK activation or expiry */
	struct loop_timer hb_timer;    /* heartbeat watch, then reregistration retries */
	uint64_t last_valid_us;
	int mc_fd;
	struct loop_fd *mc_h;
	struct in_addr mc_group;
	uint16_t mc_port;
	struct gm_stats st;
};

static void apply_registration(struct gm *m, struct gdoi_kd *kd, uint32_t seq);
static void rereg_finished(struct gm *m, enum gm_result r);

/* ---- events ---------------------------------------------------------------------------- */

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

void gm_ident_str(const struct gdoi_ident *id, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	if (id->type == ISAKMP_ID_IPV4_ADDR_SUBNET && id->len == 8) {
		uint32_t mask;
		memcpy(&mask, id->data + 4, 4);
		inet_ntop(AF_INET, id->data, a, sizeof(a));
		snprintf(buf, len, "%s/%d", a, __builtin_popcount(ntohl(mask)));
	} else if (id->type == ISAKMP_ID_IPV4_ADDR && id->len == 4) {
		inet_ntop(AF_INET, id->data, buf, (socklen_t)len);
	} else {
		snprintf(buf, len, "type %u, %zu bytes", id->type, id->len);
	}
}

static void add_ident(cJSON *o, const char *k, const struct gdoi_ident *id)
{
	char buf[80];
	gm_ident_str(id, buf, sizeof(buf));
	cJSON_AddStringToObject(o, k, buf);
}

static void add_spi32(cJSON *o, const char *k, uint32_t spi)
{
	char s[16];
	snprintf(s, sizeof(s), "0x%08x", spi);
	cJSON_AddStringToObject(o, k, s);
}

/* Hands detail to the event callback and deletes it. */
static void emit(struct gm *m, const char *event, cJSON *detail)
{
	if (m->cfg.event)
		m->cfg.event(m, event, detail, m->cfg.event_arg);
	cJSON_Delete(detail);
}

static const char *local_str(const struct gm *m, char *buf, size_t len)
{
	inet_ntop(AF_INET, &m->cfg.local.sin_addr, buf, (socklen_t)len);
	return buf;
}

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

/* The gdoi.h profile to parse with: -1 tries both. */
static int wire_profile(const struct gm *m)
{
	switch (m->cfg.profile) {
	case GM_PROFILE_RFC6407: return GDOI_PROFILE_RFC6407;
	case GM_PROFILE_GDOID: return GDOI_PROFILE_GDOID;
	default: return -1;
	}
}

/* SA TEK selectors in host order (gdoid on a little-endian host) are
 * turned around to network order. */
static void selectors_in(const struct gm *m, struct gdoi_sa *sa)
{
	int le = m->cfg.selector_order == GM_SELECTORS_LE ||
		 (m->cfg.selector_order == GM_SELECTORS_AUTO && sa->profile == GDOI_PROFILE_GDOID);
	if (le)
		gdoi_sa_swap_selectors(sa);
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
	if (gdoi_sa_parse_profile(sap->body, sap->len, wire_profile(m), &m->new_policy) < 0) {
		failf(m, "GROUPKEY-PULL message 2: malformed SA");
		return;
	}
	selectors_in(m, &m->new_policy);
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

/* ---- the key table --------------------------------------------------------------------- */

const char *gm_tek_state_name(enum gm_tek_state s)
{
	switch (s) {
	case GM_TEK_PENDING: return "pending";
	case GM_TEK_ACTIVE: return "active";
	default: return "old";
	}
}

static int same_ident(const struct gdoi_ident *a, const struct gdoi_ident *b)
{
	return a->type == b->type && a->port == b->port && a->len == b->len &&
	       !memcmp(a->data, b->data, a->len);
}

static int same_selector(const struct gdoi_sa_tek *a, const struct gdoi_sa_tek *b)
{
	return a->ip_proto == b->ip_proto && same_ident(&a->src, &b->src) && same_ident(&a->dst, &b->dst);
}

static cJSON *tek_json(const struct gm_tek *t)
{
	cJSON *o = cJSON_CreateObject();
	add_spi32(o, "spi", t->sa.spi);
	cJSON_AddStringToObject(o, "state", gm_tek_state_name(t->state));
	add_ident(o, "source", &t->sa.src);
	add_ident(o, "destination", &t->sa.dst);
	return o;
}

static void tek_event(struct gm *m, const char *event, const struct gm_tek *t, const char *reason)
{
	if (!m->cfg.event)
		return;
	cJSON *o = tek_json(t);
	if (reason)
		cJSON_AddStringToObject(o, "reason", reason);
	if (!strcmp(event, "tek_installed")) {
		cJSON_AddNumberToObject(o, "activate_in_s", (double)(t->activate_us - t->installed_us) / 1e6);
		cJSON_AddNumberToObject(o, "lifetime", t->sa.lifetime);
	}
	emit(m, event, o);
}

static void tek_remove(struct gm *m, size_t i, const char *reason)
{
	char a[INET_ADDRSTRLEN];
	log_debug("gm", "%s: TEK 0x%08x removed (%s)", local_str(m, a, sizeof(a)), m->teks[i].sa.spi,
		  reason);
	tek_event(m, "tek_removed", &m->teks[i], reason);
	OPENSSL_cleanse(&m->teks[i], sizeof(m->teks[i]));
	memmove(&m->teks[i], &m->teks[i + 1], (m->n_tek - i - 1) * sizeof(*m->teks));
	m->n_tek--;
}

static void teks_clear(struct gm *m)
{
	if (m->teks)
		OPENSSL_cleanse(m->teks, m->n_tek * sizeof(*m->teks));
	free(m->teks);
	m->teks = NULL;
	m->n_tek = 0;
	loop_timer_cancel(&m->key_timer);
}

/* The newest TEK of a selector that is active protects outbound
 * traffic; the ones it replaces become old. */
static void tek_activate(struct gm *m, size_t i)
{
	struct gm_tek *t = &m->teks[i];
	t->state = GM_TEK_ACTIVE;
	for (size_t j = 0; j < m->n_tek; j++) {
		struct gm_tek *o = &m->teks[j];
		if (j == i || o->state != GM_TEK_ACTIVE || !same_selector(&o->sa, &t->sa))
			continue;
		if (o->order < t->order)
			o->state = GM_TEK_OLD;
		else
			t->state = GM_TEK_OLD;
	}
}

static void key_timer_arm(struct gm *m)
{
	uint64_t next = UINT64_MAX;
	for (size_t i = 0; i < m->n_tek; i++) {
		const struct gm_tek *t = &m->teks[i];
		if (t->state == GM_TEK_PENDING && t->activate_us < next)
			next = t->activate_us;
		if (t->expire_us < next)
			next = t->expire_us;
	}
	if (next == UINT64_MAX)
		loop_timer_cancel(&m->key_timer);
	else
		loop_timer_arm_at(&m->key_timer, next);
}

static void on_key_timer(struct loop_timer *tm GVPN_UNUSED, void *arg)
{
	struct gm *m = arg;
	uint64_t now = loop_now_us();
	/* Due activations in the order they were due, then expiries. */
	for (;;) {
		size_t best = m->n_tek;
		for (size_t i = 0; i < m->n_tek; i++) {
			const struct gm_tek *t = &m->teks[i];
			if (t->state == GM_TEK_PENDING && t->activate_us <= now && t->expire_us > now &&
			    (best == m->n_tek || t->activate_us < m->teks[best].activate_us))
				best = i;
		}
		if (best == m->n_tek)
			break;
		tek_activate(m, best);
		tek_event(m, "tek_activated", &m->teks[best], NULL);
	}
	for (size_t i = 0; i < m->n_tek;) {
		if (m->teks[i].expire_us <= now)
			tek_remove(m, i, "expired");
		else
			i++;
	}
	key_timer_arm(m);
}

static const struct gdoi_keypkt *kd_find(const struct gdoi_kd *kd, uint8_t type, const uint8_t *spi,
					 size_t spi_len)
{
	for (size_t i = 0; i < kd->n; i++)
		if (kd->k[i].type == type && kd->k[i].spi_len == spi_len && !memcmp(kd->k[i].spi, spi, spi_len))
			return &kd->k[i];
	return NULL;
}

/* Adds the TEK of policy s with its key from kd, to be used after
 * delay_us; a TEK already held is left as it is. Keeps the two newest
 * per selector. */
static void tek_install(struct gm *m, const struct gdoi_sa_tek *s, const struct gdoi_kd *kd,
			uint64_t delay_us)
{
	char a[INET_ADDRSTRLEN];
	uint32_t be = htonl(s->spi);
	const struct gdoi_keypkt *k = kd_find(kd, GDOI_KD_TEK, (const uint8_t *)&be, 4);
	if (!k) {
		log_info("gm", "%s: TEK 0x%08x has no key in the key download; ignored",
			 local_str(m, a, sizeof(a)), s->spi);
		return;
	}
	for (size_t i = 0; i < m->n_tek; i++)
		if (m->teks[i].sa.spi == s->spi && same_selector(&m->teks[i].sa, s))
			return;
	m->teks = xrealloc(m->teks, (m->n_tek + 1) * sizeof(*m->teks));
	size_t idx = m->n_tek++;
	struct gm_tek *t = &m->teks[idx];
	memset(t, 0, sizeof(*t));
	t->sa = *s;
	t->enc_key_len = k->alg_key_len < sizeof(t->enc_key) ? k->alg_key_len : sizeof(t->enc_key);
	memcpy(t->enc_key, k->alg_key, t->enc_key_len);
	t->integ_key_len = k->integ_key_len < sizeof(t->integ_key) ? k->integ_key_len : sizeof(t->integ_key);
	memcpy(t->integ_key, k->integ_key, t->integ_key_len);
	t->order = ++m->tek_order;
	t->installed_us = loop_now_us();
	t->activate_us = t->installed_us + delay_us;
	t->expire_us = s->lifetime ? t->installed_us + (uint64_t)s->lifetime * 1000000u : UINT64_MAX;
	t->state = GM_TEK_PENDING;
	if (!delay_us)
		tek_activate(m, idx);
	log_debug("gm", "%s: TEK 0x%08x installed, %s", local_str(m, a, sizeof(a)), s->spi,
		  gm_tek_state_name(t->state));
	tek_event(m, "tek_installed", t, NULL);
	/* Older TEKs of the selector beyond the newest two go. */
	for (;;) {
		size_t n = 0, oldest = m->n_tek;
		for (size_t i = 0; i < m->n_tek; i++) {
			if (!same_selector(&m->teks[i].sa, s))
				continue;
			n++;
			if (oldest == m->n_tek || m->teks[i].order < m->teks[oldest].order)
				oldest = i;
		}
		if (n <= 2)
			break;
		tek_remove(m, oldest, "superseded");
	}
	key_timer_arm(m);
}

static void install_teks(struct gm *m, const struct gdoi_sa *sa, const struct gdoi_kd *kd,
			 uint64_t delay_us)
{
	for (size_t i = 0; i < sa->n_tek; i++)
		tek_install(m, &sa->tek[i], kd, delay_us);
}

/* ---- KEKs ------------------------------------------------------------------------------ */

static int sig_hash_of(uint16_t h)
{
	switch (h) {
	case GDOI_SIG_HASH_MD5: return CRYPTO_HASH_MD5;
	case GDOI_SIG_HASH_SHA1: return CRYPTO_HASH_SHA1;
	case GDOI_SIG_HASH_SHA256: return CRYPTO_HASH_SHA256;
	case GDOI_SIG_HASH_SHA384: return CRYPTO_HASH_SHA384;
	case GDOI_SIG_HASH_SHA512: return CRYPTO_HASH_SHA512;
	default: return 0;
	}
}

static int kek_cipher_of(uint16_t alg)
{
	switch (alg) {
	case GDOI_KEK_ALG_DES: return CRYPTO_CIPHER_DES;
	case GDOI_KEK_ALG_3DES: return CRYPTO_CIPHER_3DES;
	case GDOI_KEK_ALG_AES: return CRYPTO_CIPHER_AES;
	default: return 0;
	}
}

static struct gm_kek *kek_other(struct gm *m, const struct gm_kek *k)
{
	return k == &m->kek ? &m->prev_kek : &m->kek;
}

static void kek_drop(struct gm *m, struct gm_kek *k)
{
	if (k->rsa && k->rsa != kek_other(m, k)->rsa)
		crypto_rsa_free(k->rsa);
	OPENSSL_cleanse(k, sizeof(*k));
}

/* The KEK key packet for SA KEK s: the one labelled with its SPI, or
 * (gdoid names a new KEK's key by the KEK that sealed the push) the one
 * labelled with the SPI of the KEK held now. */
static const struct gdoi_keypkt *kek_packet(const struct gm *m, const struct gdoi_sa_kek *s,
					    const struct gdoi_kd *kd)
{
	const struct gdoi_keypkt *k = kd_find(kd, GDOI_KD_KEK, s->spi, 16);
	if (!k && m->kek.valid)
		k = kd_find(kd, GDOI_KD_KEK, m->kek.k.spi, 16);
	return k;
}

/* KEK_ALGORITHM_KEY is the key alone (RFC 6407 5.6.2.1 as we read it)
 * or IV | key (RFC 3547, gdoid, TrustCore); the KEK's algorithm and key
 * length tell which (gdoid's AES IV is as long as the key). Sets iv and
 * returns the key's offset, or -1. */
static long kek_key_layout(const struct gdoi_keypkt *k, int cipher, size_t key_len, uint8_t *iv)
{
	size_t block = crypto_cipher_block(cipher);
	size_t iv_len = cipher == CRYPTO_CIPHER_AES ? key_len : block;

	if (k->alg_key_len == key_len)
		return 0;
	if (iv_len <= CRYPTO_MAX_BLOCK && k->alg_key_len == iv_len + key_len) {
		memcpy(iv, k->alg_key, block);
		return (long)iv_len;
	}
	return -1;
}

/* The KEK that SA KEK s (of a policy read with profile) names, with its
 * key from kd; the server's public key from kd, else (a rekey that keeps
 * it) the current KEK's. */
static int kek_from(struct gm *m, const struct gdoi_sa_kek *s, int profile, const struct gdoi_kd *kd,
		    struct gm_kek *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	const struct gdoi_keypkt *k = kek_packet(m, s, kd);
	int cipher = kek_cipher_of(s->alg);
	unsigned bits = cipher == CRYPTO_CIPHER_AES ? s->key_bits : 0;
	size_t key_len = crypto_cipher_key_len(cipher, bits);
	long at = -1;
	*why = NULL;
	if (!k)
		*why = "no KEK key packet for its SPI";
	else if (!key_len || key_len > sizeof(out->k.key) ||
		 (at = kek_key_layout(k, cipher, key_len, out->k.iv)) < 0)
		*why = "unknown algorithm or a key of the wrong length";
	else if (profile == GDOI_PROFILE_GDOID && at == 0)
		*why = "the gdoid profile needs the static IV with the key";
	else if (!sig_hash_of(s->sig_hash))
		*why = "unknown signature hash";
	if (*why)
		return -1;
	if (k->sig_key_len) {
		out->rsa = crypto_rsa_from_public_der(k->sig_key, k->sig_key_len);
		if (!out->rsa) {
			*why = "the server's public key does not parse";
			return -1;
		}
	} else if (m->kek.valid && m->kek.rsa) {
		out->rsa = m->kek.rsa;
	} else {
		*why = "no server public key";
		return -1;
	}
	memcpy(out->k.spi, s->spi, 16);
	out->k.cipher = cipher;
	out->k.key_bits = bits;
	out->k.profile = profile;
	memcpy(out->k.key, k->alg_key + at, key_len);
	out->k.key_len = key_len;
	out->sig_hash = sig_hash_of(s->sig_hash);
	out->ack_requested = s->ack_requested;
	out->valid = 1;
	return 0;
}

/* ---- multicast ------------------------------------------------------------------------- */

static void mcast_close(struct gm *m)
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

static void on_push(struct gm *m, const uint8_t *msg, size_t len, const struct sockaddr_in *from,
		    int mcast);

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
		on_push(m, buf, (size_t)n, &from, 1);
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

static void mcast_event(struct gm *m, const char *event, const char *error)
{
	char g[INET_ADDRSTRLEN], ifa[INET_ADDRSTRLEN], a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &m->mc_group, g, sizeof(g));
	inet_ntop(AF_INET, &m->cfg.mcast_if, ifa, sizeof(ifa));
	if (error)
		log_warn("gm", "%s: cannot receive multicast rekeys on %s:%u (interface %s): %s",
			 local_str(m, a, sizeof(a)), g, m->mc_port, ifa, error);
	else
		log_debug("gm", "%s: joined %s:%u on %s", local_str(m, a, sizeof(a)), g, m->mc_port, ifa);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "group", g);
	cJSON_AddNumberToObject(o, "port", m->mc_port);
	cJSON_AddStringToObject(o, "interface", ifa);
	if (error)
		cJSON_AddStringToObject(o, "error", error);
	emit(m, event, o);
}

/* Opens (or moves, or closes) the multicast socket to follow the policy. */
static void mcast_follow(struct gm *m)
{
	struct in_addr grp;
	uint16_t port;
	if (!policy_mcast(&m->policy, &grp, &port)) {
		mcast_close(m);
		return;
	}
	if (m->mc_fd >= 0 && m->mc_group.s_addr == grp.s_addr && m->mc_port == port)
		return;
	mcast_close(m);
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
		mcast_event(m, "multicast_joined", NULL);
		return;
	}
fail:;
	char why[160];
	snprintf(why, sizeof(why), "%s: %s", step, strerror(errno));
	if (fd >= 0)
		close(fd);
	mcast_event(m, "multicast_failed", why);
	m->mc_group.s_addr = 0;
	m->mc_port = 0;
}

/* ---- GROUPKEY-PUSH --------------------------------------------------------------------- */

static uint64_t atd_us(const struct gdoi_sa *sa, const struct gdoi_sa *fallback)
{
	if (sa->has_gap)
		return (uint64_t)sa->atd * 1000000u;
	return fallback && fallback->has_gap ? (uint64_t)fallback->atd * 1000000u : 0;
}

static void heartbeat_arm(struct gm *m)
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
			  local_str(m, a, sizeof(a)));
	else if (p)
		log_info("gm", "%s: push with SEQ %u refused: %s (last SEQ %u)", local_str(m, a, sizeof(a)),
			 p->seq, reason, m->seq);
	else
		log_info("gm", "%s: push refused: %s", local_str(m, a, sizeof(a)), reason);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddBoolToObject(o, "multicast", mcast);
	if (p) {
		cJSON_AddNumberToObject(o, "seq", p->seq);
		cJSON_AddNumberToObject(o, "last_seq", m->seq);
	}
	emit(m, "push_rejected", o);
}

static void send_ack(struct gm *m, const uint8_t spi[16], uint32_t seq, const struct sockaddr_in *to)
{
	char a[INET_ADDRSTRLEN], t[INET_ADDRSTRLEN + 8];
	struct gdoi_buf b;
	gdoi_buf_init(&b);
	inet_ntop(AF_INET, &to->sin_addr, t, INET_ADDRSTRLEN);
	snprintf(t + strlen(t), 8, ":%u", ntohs(to->sin_port));
	if (!m->have_ack_key || gdoi_ack_build(&b, spi, seq, &m->id, m->ack_key) < 0) {
		log_warn("gm", "%s: cannot build the ACK of SEQ %u", local_str(m, a, sizeof(a)), seq);
	} else if (sendto(m->fd, b.data, b.len, 0, (const struct sockaddr *)to, sizeof(*to)) < 0) {
		log_warn("gm", "%s: ACK of SEQ %u to %s: %s", local_str(m, a, sizeof(a)), seq, t,
			 strerror(errno));
	} else {
		m->st.acks_sent++;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "seq", seq);
		add_hex(o, "kek_spi", spi, 16);
		cJSON_AddStringToObject(o, "to", t);
		emit(m, "ack_sent", o);
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
	if (kek_from(m, s, p->sa.profile, &p->kd, &nk, &why) < 0) {
		log_warn("gm", "%s: push SEQ %u names a new KEK that cannot be used (%s); the old KEK stays",
			 local_str(m, a, sizeof(a)), p->seq, why);
		cJSON *o = cJSON_CreateObject();
		add_hex(o, "spi", s->spi, 16);
		cJSON_AddStringToObject(o, "error", why);
		emit(m, "kek_missing", o);
		return;
	}
	kek_drop(m, &m->prev_kek);
	m->prev_kek = m->kek;
	m->kek = nk;
	m->policy.kek = *s;
	m->policy.has_kek = 1;
	m->st.kek_replacements++;
	log_debug("gm", "%s: KEK replaced", local_str(m, a, sizeof(a)));
	cJSON *o = cJSON_CreateObject();
	if (m->prev_kek.valid)
		add_hex(o, "old_spi", m->prev_kek.k.spi, 16);
	add_hex(o, "new_spi", nk.k.spi, 16);
	emit(m, "kek_replaced", o);
}

static void apply_rekey(struct gm *m, struct gdoi_push *p)
{
	uint64_t delay = 2 * atd_us(&p->sa, &m->policy);
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
	install_teks(m, &p->sa, &p->kd, delay);
}

/* A push's DELETE payloads: TEKs (4-octet SPIs) and KEKs (16) named go
 * now. Returns the SPIs as a JSON array of hex strings. */
static cJSON *apply_deletes(struct gm *m, const struct gdoi_push *p)
{
	char a[INET_ADDRSTRLEN], hex[40];
	cJSON *spis = cJSON_CreateArray();
	for (size_t d = 0; d < p->n_del; d++) {
		const struct gdoi_delete *del = &p->del[d];
		for (size_t i = 0; i < del->n; i++) {
			const uint8_t *spi = del->spi[i];
			if (del->spi_size == 4) {
				uint32_t v = (uint32_t)spi[0] << 24 | (uint32_t)spi[1] << 16 |
					     (uint32_t)spi[2] << 8 | spi[3];
				snprintf(hex, sizeof(hex), "0x%08x", v);
				for (size_t t = m->n_tek; t-- > 0;)
					if (m->teks[t].sa.spi == v)
						tek_remove(m, t, "deleted");
			} else {
				for (size_t k = 0; k < 16; k++)
					snprintf(hex + 2 * k, 3, "%02x", spi[k]);
				struct gm_kek *kek = m->prev_kek.valid && !memcmp(m->prev_kek.k.spi, spi, 16)
							     ? &m->prev_kek
							     : m->kek.valid && !memcmp(m->kek.k.spi, spi, 16) ? &m->kek
													: NULL;
				if (kek) {
					log_info("gm", "%s: KEK %s deleted by the key server", local_str(m, a, sizeof(a)),
						 hex);
					kek_drop(m, kek);
				}
			}
			cJSON_AddItemToArray(spis, cJSON_CreateString(hex));
		}
	}
	key_timer_arm(m);
	return spis;
}

static void on_push(struct gm *m, const uint8_t *msg, size_t len, const struct sockaddr_in *from,
		    int mcast)
{
	struct gdoi_push p;
	const struct gm_kek *k = &m->kek;
	int rc = GDOI_PUSH_EKEK;
	if (m->kek.valid)
		rc = gdoi_push_open(msg, len, &m->kek.k, m->kek.rsa, m->kek.sig_hash, &p);
	if (rc == GDOI_PUSH_EKEK && m->prev_kek.valid) {
		k = &m->prev_kek;
		rc = gdoi_push_open(msg, len, &k->k, k->rsa, k->sig_hash, &p);
	}
	if (rc == GDOI_PUSH_OK && p.has_sa)
		selectors_in(m, &p.sa);
	if (rc != GDOI_PUSH_OK) {
		if (rc == GDOI_PUSH_EKEK)
			m->st.rejected_unknown_kek++;
		else if (rc == GDOI_PUSH_ESIG)
			m->st.rejected_sig++;
		else
			m->st.rejected_other++;
		reject(m, rc == GDOI_PUSH_EKEK ? "unknown_kek" : rc == GDOI_PUSH_ESIG ? "bad_signature"
										: "malformed", mcast, NULL);
		return;
	}
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
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "seq", p.seq);
	if (p.seq == m->seq) {
		m->st.retransmissions++;
		cJSON_AddBoolToObject(o, "multicast", mcast);
		emit(m, "retransmission", o);
	} else {
		m->seq = p.seq;
		m->st.pushes++;
		const char *kind = p.has_kd ? "rekey" : p.has_sa ? "heartbeat" : "delete";
		if (p.has_kd)
			m->st.rekeys++;
		else if (p.has_sa)
			m->st.heartbeats++;
		cJSON_AddStringToObject(o, "kind", kind);
		cJSON_AddBoolToObject(o, "multicast", mcast);
		if (p.n_del)
			cJSON_AddItemToObject(o, "deleted", apply_deletes(m, &p));
		emit(m, "push_received", o);
		if (p.has_sa && p.sa.has_kek) {
			rekey_kek(m, &p);
			mcast_follow(m); /* the SA KEK may move the group */
		}
		if (p.has_sa && p.has_kd)
			apply_rekey(m, &p);
		m->last_valid_us = loop_now_us();
		if (m->registered)
			heartbeat_arm(m);
	}
	if (ack)
		send_ack(m, spi, p.seq, from);
	gdoi_kd_wipe(&p.kd);
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
		on_push(m, msg, len, from, 0);
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
	kek_drop(m, &m->prev_kek);
	kek_drop(m, &m->kek);
	const char *why = NULL;
	if (m->policy.has_kek && kek_from(m, &m->policy.kek, m->policy.profile, kd, &m->kek, &why) < 0)
		log_warn("gm", "%s: the group's KEK cannot be used (%s): pushes will be ignored",
			 local_str(m, a, sizeof(a)), why);
	install_teks(m, &m->policy, kd, first ? 0 : atd_us(&m->policy, NULL));
	mcast_follow(m);
	m->ever_registered = 1;
	m->registered = 1;
	m->last_valid_us = loop_now_us();
	heartbeat_arm(m);
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
			 local_str(m, a, sizeof(a)), secs, m->cfg.heartbeat_misses);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "seconds", secs);
		cJSON_AddNumberToObject(o, "last_seq", m->seq);
		emit(m, "heartbeat_lost", o);
	}
	reregister(m);
}

static void rereg_finished(struct gm *m, enum gm_result r)
{
	char a[INET_ADDRSTRLEN];
	m->rereg = 0;
	cJSON *o = cJSON_CreateObject();
	if (r == GM_REGISTERED) {
		m->st.reregistrations++;
		log_info("gm", "%s: reregistered, SEQ %u", local_str(m, a, sizeof(a)), m->seq);
		cJSON_AddNumberToObject(o, "seq", m->seq);
		cJSON_AddNumberToObject(o, "elapsed_ms", (double)gm_elapsed_us(m) / 1000.0);
		emit(m, "reregistered", o);
		return;
	}
	m->st.reregistration_failures++;
	log_warn("gm", "%s: reregistration failed: %s; next try in %u s", local_str(m, a, sizeof(a)),
		 m->error, m->cfg.heartbeat_s);
	cJSON_AddStringToObject(o, "error", m->error);
	cJSON_AddNumberToObject(o, "retry_in_s", m->cfg.heartbeat_s);
	emit(m, "reregistration_failed", o);
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
	loop_timer_init(&m->key_timer, on_key_timer, m);
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
	teks_clear(m);
	mcast_close(m);
	if (m->h)
		loop_fd_del(m->h);
	if (m->fd >= 0)
		close(m->fd);
	kek_drop(m, &m->prev_kek);
	kek_drop(m, &m->kek);
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
	teks_clear(m);
	mcast_close(m);
	kek_drop(m, &m->prev_kek);
	kek_drop(m, &m->kek);
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
