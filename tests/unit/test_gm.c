/* SPDX-License-Identifier: BSD-2-Clause */
/* test_gm.c: unit tests of core/gdoi/gm.c, the group member, after
 * registration: GROUPKEY-PUSH rekeys and heartbeats, ACKs, SEQ rules,
 * KEK replacement, the TEK table and its timing, multicast rekeys, and
 * reregistration when heartbeats stop.
 *
 * A small key server runs in the test, on the same event loop: it
 * answers Main Mode with the ike.c responder and GROUPKEY-PULL by hand,
 * derives the ACK key from its own side of the phase 1 SA (so an ACK
 * that verifies proves the member derived the same key), and builds
 * pushes with gdoi_push.c. Member and server talk over loopback UDP; the
 * loop runs on a fake clock that only the test moves, so 2 x ATD,
 * lifetimes and 30 s of missed heartbeats take no time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/crypto.h"
#include "core/gdoi/gdoi.h"
#include "core/gdoi/gdoi_push.h"
#include "core/gdoi/gm.h"
#include "core/views/gm_json.h"
#include "core/gdoi/ike.h"
#include "core/log.h"
#include "core/loop.h"

#define MEMBER_ADDR "127.0.0.2"
#define SERVER_ADDR "127.0.0.1"
#define ATD 10
#define SEQ0 7

static const struct ike_proposal FAST = {
	CRYPTO_CIPHER_AES, 256, CRYPTO_HASH_SHA256, CRYPTO_DH_ECP256, 28800 };
static const char PSK[] = "group member test key";

/* ---- fake clock ------------------------------------------------------------ */

static uint64_t fake_now;
static uint64_t fake_clock(void) { return fake_now; }

/* ---- RSA keys: made once, they are slow ------------------------------------- */

static struct crypto_rsa *server_rsa, *rogue_rsa;

static int group_setup(void **state)
{
	(void)state;
	log_set_level(LOG_WARNING);
	server_rsa = crypto_rsa_generate(2048);
	rogue_rsa = crypto_rsa_generate(2048);
	return server_rsa && rogue_rsa ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	crypto_rsa_free(server_rsa);
	crypto_rsa_free(rogue_rsa);
	return 0;
}

/* ---- events the member reports -------------------------------------------- */

#define MAX_EV 512
static struct {
	char name[40];
	cJSON *d;
} evs[MAX_EV];
static size_t n_ev;

static void on_event(struct gm *m, const char *event, cJSON *detail, void *arg)
{
	(void)m;
	(void)arg;
	assert_true(n_ev < MAX_EV);
	snprintf(evs[n_ev].name, sizeof(evs[n_ev].name), "%s", event);
	evs[n_ev].d = cJSON_Duplicate(detail, 1);
	n_ev++;
}

static void on_gm_event(struct gm *m, const struct gm_event *ev, void *arg)
{
	cJSON *detail = gm_event_json(ev);
	on_event(m, ev->name, detail, arg);
	cJSON_Delete(detail);
}

static size_t ev_count(const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < n_ev; i++)
		n += !strcmp(evs[i].name, name);
	return n;
}

static const cJSON *ev_last(const char *name)
{
	for (size_t i = n_ev; i-- > 0;)
		if (!strcmp(evs[i].name, name))
			return evs[i].d;
	fail_msg("no %s event", name);
	return NULL;
}

static const char *ev_str(const cJSON *d, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, k);
	assert_non_null(v);
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static double ev_num(const cJSON *d, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, k);
	assert_non_null(v);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static int ev_bool(const cJSON *d, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, k);
	assert_non_null(v);
	assert_true(cJSON_IsBool(v));
	return cJSON_IsTrue(v);
}

static void ev_clear(void)
{
	for (size_t i = 0; i < n_ev; i++)
		cJSON_Delete(evs[i].d);
	n_ev = 0;
}

/* ---- the group: KEK, TEK policies, keys ------------------------------------ */

struct kek {
	struct gdoi_kek k;
	struct crypto_rsa *rsa;    /* signs pushes (not owned) */
};

static void kek_new(struct kek *k)
{
	memset(k, 0, sizeof(*k));
	assert_int_equal(crypto_random(k->k.spi, 16), 0);
	k->k.cipher = CRYPTO_CIPHER_AES;
	k->k.key_bits = 256;
	k->k.key_len = 32;
	assert_int_equal(crypto_random(k->k.key, 32), 0);
	k->rsa = server_rsa;
}

static void subnet(struct gdoi_ident *id, const char *a, unsigned bits)
{
	memset(id, 0, sizeof(*id));
	id->type = ISAKMP_ID_IPV4_ADDR_SUBNET;
	assert_int_equal(inet_pton(AF_INET, a, id->data), 1);
	uint32_t mask = htonl(bits ? 0xffffffffu << (32 - bits) : 0);
	memcpy(id->data + 4, &mask, 4);
	id->len = 8;
}

/* The SA KEK of k; dst a multicast group (or NULL for unicast). */
static void sa_set_kek(struct gdoi_sa *sa, const struct kek *k, int ack, const char *mc_group,
		       uint16_t mc_port)
{
	struct gdoi_sa_kek *s = &sa->kek;
	memset(s, 0, sizeof(*s));
	sa->has_kek = 1;
	s->protocol = IPPROTO_UDP;
	s->src.type = s->dst.type = ISAKMP_ID_IPV4_ADDR;
	s->src.len = s->dst.len = 4;
	inet_pton(AF_INET, SERVER_ADDR, s->src.data);
	s->src.port = GDOI_PORT;
	if (mc_group) {
		inet_pton(AF_INET, mc_group, s->dst.data);
		s->dst.port = mc_port;
	}
	memcpy(s->spi, k->k.spi, 16);
	s->alg = GDOI_KEK_ALG_AES;
	s->key_bits = 256;
	s->lifetime = 3600;
	s->sig_hash = GDOI_SIG_HASH_SHA256;
	s->sig_alg = GDOI_SIG_ALG_RSA;
	s->sig_key_bits = 2048;
	s->ack_requested = ack ? GDOI_ACK_REQUESTED_SHA256 : 0;
}

/* TEK policy n (0: 10.1/16 -> 10.2/16, 1: 10.3/16 -> 10.4/16). */
static void sa_add_tek(struct gdoi_sa *sa, int n, uint32_t spi, uint32_t lifetime)
{
	struct gdoi_sa_tek *t = &sa->tek[sa->n_tek++];
	memset(t, 0, sizeof(*t));
	t->protocol = GDOI_PROTO_IPSEC_ESP;
	subnet(&t->src, n ? "10.3.0.0" : "10.1.0.0", 16);
	subnet(&t->dst, n ? "10.4.0.0" : "10.2.0.0", 16);
	t->transform = GDOI_ESP_AES;
	t->spi = spi;
	t->auth_alg = GDOI_AUTH_HMAC_SHA2_256;
	t->key_bits = 256;
	t->lifetime = lifetime;
	t->encap = GDOI_ENCAP_TUNNEL;
}

static void tek_key_of(uint32_t spi, uint8_t key[32])
{
	for (size_t i = 0; i < 32; i++)
		key[i] = (uint8_t)(spi * 7 + i);
}

static void kd_add_tek(struct gdoi_kd *kd, uint32_t spi)
{
	struct gdoi_keypkt *k = &kd->k[kd->n++];
	memset(k, 0, sizeof(*k));
	k->type = GDOI_KD_TEK;
	uint32_t be = htonl(spi);
	memcpy(k->spi, &be, 4);
	k->spi_len = 4;
	tek_key_of(spi, k->alg_key);
	k->alg_key_len = 32;
	memset(k->integ_key, 0x5a, 32);
	k->integ_key_len = 32;
}

static void kd_add_kek(struct gdoi_kd *kd, const struct kek *kk)
{
	struct gdoi_keypkt *k = &kd->k[kd->n++];
	memset(k, 0, sizeof(*k));
	k->type = GDOI_KD_KEK;
	memcpy(k->spi, kk->k.spi, 16);
	k->spi_len = 16;
	memcpy(k->alg_key, kk->k.key, kk->k.key_len);
	k->alg_key_len = kk->k.key_len;
	k->sig_key_len = sizeof(k->sig_key);
	assert_int_equal(crypto_rsa_public_der(kk->rsa, k->sig_key, &k->sig_key_len), 0);
}

/* ---- the in-test key server ------------------------------------------------- */

#define MAX_ACKS 16
struct srv {
	int fd;
	struct sockaddr_in addr;
	struct loop_fd *h;
	int answer;                 /* 0: a dead server, it only counts */
	size_t mm1_seen;            /* Main Mode message 1 datagrams received */
	size_t registrations;
	struct ike_sa ike;
	int have_ike;
	uint32_t msgid;
	uint8_t iv[CRYPTO_MAX_BLOCK];
	uint8_t ni[256], nr[32];
	size_t ni_len;
	int pull;                   /* 0, 2 (message 2 sent), 4 (message 4 sent) */
	/* what a registration hands out */
	struct kek kek;
	struct gdoi_sa sa;
	struct gdoi_kd kd;
	uint32_t seq;
	uint8_t ack_key[GDOI_ACK_KEY_LEN];
	/* ACKs received */
	uint8_t ack[MAX_ACKS][512];
	size_t ack_len[MAX_ACKS];
	size_t n_ack;
};

static const char *psk_cb(void *arg, const struct sockaddr *peer, size_t idx)
{
	(void)arg;
	(void)peer;
	return idx == 0 ? PSK : NULL;
}

static void srv_send(struct srv *s, const struct sockaddr_in *to, const uint8_t *p, size_t len)
{
	assert_int_equal(sendto(s->fd, p, len, 0, (const struct sockaddr *)to, sizeof(*to)), (ssize_t)len);
}

static void pull_hdr(struct srv *s, struct gdoi_buf *b)
{
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = GDOI_EXCH_PULL,
				.flags = ISAKMP_FLAG_ENC, .msgid = s->msgid };
	memcpy(h.icookie, s->ike.icky, 8);
	memcpy(h.rcookie, s->ike.rcky, 8);
	gdoi_put_hdr(b, &h);
}

/* GROUPKEY-PULL messages 1 and 3, answered with 2 and 4 (as gks_pull.c). */
static void srv_pull(struct srv *s, const uint8_t *msg, size_t len, const struct isakmp_hdr *h,
		     const struct sockaddr_in *from)
{
	if (s->pull == 0) {
		s->msgid = h->msgid;
		assert_int_equal(ike_exchange_iv(&s->ike, s->msgid, s->iv), 0);
	}
	uint8_t *plain;
	assert_int_equal(ike_open(&s->ike, msg, len, s->iv, &plain), 0);
	struct gdoi_chain c;
	const uint8_t *chain = plain + ISAKMP_HDR_LEN;
	assert_int_equal(gdoi_chain_parse(h->np, chain, len - ISAKMP_HDR_LEN, 1, &c), 0);
	struct gdoi_buf out;
	gdoi_buf_init(&out);
	pull_hdr(s, &out);
	size_t hash_at = out.len;
	uint8_t zero[CRYPTO_MAX_HASH] = { 0 };
	size_t hl = s->ike.keys.hash_len;
	gdoi_put_payload(&out, ISAKMP_NP_HASH, zero, hl);
	if (s->pull == 0) {
		const struct gdoi_payload *np = gdoi_chain_find(&c, ISAKMP_NP_NONCE);
		assert_non_null(np);
		assert_int_equal(ike_check_hash_a(&s->ike, s->msgid, NULL, 0, &c, chain), 0);
		memcpy(s->ni, np->body, np->len);
		s->ni_len = np->len;
		crypto_random(s->nr, sizeof(s->nr));
		gdoi_put_payload(&out, ISAKMP_NP_NONCE, s->nr, sizeof(s->nr));
		gdoi_put_sa(&out, &s->sa);
		struct crypto_iov pre[] = { { s->ni, s->ni_len } };
		assert_int_equal(ike_hash_a(&s->ike, s->msgid, pre, 1, out.data + hash_at + 4 + hl,
					    out.len - hash_at - 4 - hl, out.data + hash_at + 4), 0);
		s->pull = 2;
	} else {
		struct crypto_iov pre[] = { { s->ni, s->ni_len }, { s->nr, sizeof(s->nr) } };
		assert_int_equal(ike_check_hash_a(&s->ike, s->msgid, pre, 2, &c, chain), 0);
		gdoi_put_seq(&out, s->seq);
		gdoi_put_kd(&out, &s->kd);
		assert_int_equal(ike_hash_a(&s->ike, s->msgid, pre, 2, out.data + hash_at + 4 + hl,
					    out.len - hash_at - 4 - hl, out.data + hash_at + 4), 0);
		s->pull = 4;
		s->registrations++;
		/* The server's side of the ACK key. */
		assert_int_equal(gdoi_ack_key(s->ike.keys.skeyid_a, hl, s->ike.icky, s->ike.rcky,
					      s->ack_key), 0);
	}
	free(plain);
	assert_int_equal(ike_seal(&s->ike, &out, s->iv), 0);
	srv_send(s, from, out.data, out.len);
	gdoi_buf_free(&out);
}

static void srv_datagram(struct srv *s, const uint8_t *msg, size_t len, const struct sockaddr_in *from)
{
	struct isakmp_hdr h;
	static const uint8_t zero[8];
	if (isakmp_hdr_parse(msg, len, &h) < 0)
		return;
	if (h.exchange == GDOI_EXCH_PUSH_ACK) {
		assert_true(s->n_ack < MAX_ACKS && len <= sizeof(s->ack[0]));
		memcpy(s->ack[s->n_ack], msg, len);
		s->ack_len[s->n_ack++] = len;
		return;
	}
	if (h.exchange == ISAKMP_EXCH_MAIN && !memcmp(h.rcookie, zero, 8))
		s->mm1_seen++;
	if (!s->answer)
		return;
	if (h.exchange == ISAKMP_EXCH_MAIN) {
		if (!s->have_ike || memcmp(h.icookie, s->ike.icky, 8)) {
			ike_sa_free(&s->ike);
			ike_sa_init(&s->ike, 0, (const struct sockaddr *)from, sizeof(*from));
			s->have_ike = 1;
			s->pull = 0;
		}
		struct gdoi_buf out;
		gdoi_buf_init(&out);
		int rc = ike_input(&s->ike, msg, len, &FAST, 1, psk_cb, NULL, &out);
		if (rc == 1)
			srv_send(s, from, out.data, out.len);
		gdoi_buf_free(&out);
	} else if (h.exchange == GDOI_EXCH_PULL && s->have_ike && s->ike.state == IKE_ESTABLISHED) {
		srv_pull(s, msg, len, &h, from);
	}
}

static void srv_readable(int fd, uint32_t revents, void *arg)
{
	(void)revents;
	struct srv *s = arg;
	uint8_t buf[GDOI_MAX_MSG];
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		srv_datagram(s, buf, (size_t)n, &from);
	}
}

/* ---- fixture: a server with one TEK policy and a registered member --------- */

struct fx {
	struct srv s;
	struct gm *m;
	int done, result;
	struct gm_config cfg;
};
static struct fx F;

static void on_done(struct gm *m, enum gm_result r, void *arg)
{
	(void)m;
	(void)arg;
	F.done++;
	F.result = r;
}

/* The loop, a few rounds: loopback delivery is immediate. */
static void pump(void)
{
	for (int i = 0; i < 10; i++)
		assert_int_equal(loop_run_once(1), 0);
}

static void pump_until(const int *flag, int want)
{
	for (int i = 0; i < 2000 && *flag != want; i++)
		assert_int_equal(loop_run_once(2), 0);
	assert_int_equal(*flag, want);
}

/* Moves the fake clock by ms and runs what fell due. */
static void advance_ms(uint64_t ms)
{
	fake_now += ms * 1000u;
	loop_run_timers();
	pump();
}

static void srv_open(struct srv *s)
{
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(s->fd >= 0);
	s->addr.sin_family = AF_INET;
	inet_pton(AF_INET, SERVER_ADDR, &s->addr.sin_addr);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&s->addr, sizeof(s->addr)), 0);
	socklen_t l = sizeof(s->addr);
	getsockname(s->fd, (struct sockaddr *)&s->addr, &l);
	s->h = loop_fd_add(s->fd, EPOLLIN, srv_readable, s);
	assert_non_null(s->h);
	s->answer = 1;
}

/* The group a registration hands out: KEK k, TEK policy 0 with spi. */
static void srv_group(struct srv *s, int ack, const char *mc_group, uint16_t mc_port, uint32_t tek_spi,
		      uint32_t tek_life)
{
	memset(&s->sa, 0, sizeof(s->sa));
	memset(&s->kd, 0, sizeof(s->kd));
	s->sa.doi = GDOI_DOI;
	sa_set_kek(&s->sa, &s->kek, ack, mc_group, mc_port);
	sa_add_tek(&s->sa, 0, tek_spi, tek_life);
	s->sa.has_gap = 1;
	s->sa.atd = s->sa.dtd = ATD;
	kd_add_tek(&s->kd, tek_spi);
	kd_add_kek(&s->kd, &s->kek);
}

static int setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	ev_clear();
	fake_now = 1000000000u;
	loop_set_clock(fake_clock);
	if (loop_init() < 0)
		return -1;
	srv_open(&F.s);
	kek_new(&F.s.kek);
	F.s.seq = SEQ0;
	srv_group(&F.s, 1, NULL, 0, 0x1001, 3600);
	struct gm_config *c = &F.cfg;
	c->server = F.s.addr;
	c->local.sin_family = AF_INET;
	inet_pton(AF_INET, MEMBER_ADDR, &c->local.sin_addr);
	c->group_id = 1;
	c->psk = PSK;
	c->props[0] = FAST;
	c->n_props = 1;
	c->timeout_ms = 1000;
	c->retries = 2;
	c->event = on_gm_event;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gm_free(F.m);
	if (F.s.h)
		loop_fd_del(F.s.h);
	close(F.s.fd);
	ike_sa_free(&F.s.ike);
	gdoi_kd_wipe(&F.s.kd);
	loop_fini();
	loop_set_clock(NULL);
	ev_clear();
	return 0;
}

/* Creates the member from F.cfg and registers it. */
static void start_member(void)
{
	F.m = gm_new(&F.cfg, on_done, NULL);
	assert_non_null(F.m);
	assert_int_equal(gm_start(F.m), 0);
	pump_until(&F.done, 1);
	assert_int_equal(F.result, GM_REGISTERED);
	assert_true(gm_registered(F.m));
	assert_int_equal(F.s.registrations, 1);
}

/* ---- pushes ------------------------------------------------------------------ */

/* A push under k with SEQ seq, the SA sa and (unless NULL) kd, signed by signer. */
static void push_build(struct gdoi_buf *b, const struct kek *k, struct crypto_rsa *signer, uint32_t seq,
		       const struct gdoi_sa *sa, const struct gdoi_kd *kd)
{
	gdoi_buf_init(b);
	gdoi_push_hdr(b, &k->k);
	gdoi_put_seq(b, seq);
	gdoi_put_sa(b, sa);
	if (kd)
		gdoi_put_kd(b, kd);
	assert_int_equal(gdoi_push_seal(b, &k->k, signer, CRYPTO_HASH_SHA256), 0);
}

static void push_to_member(const struct gdoi_buf *b)
{
	srv_send(&F.s, gm_local(F.m), b->data, b->len);
	pump();
}

/* A rekey push under the server's KEK: TEK policy 0 with tek_spi, the
 * server's KEK in SA KEK (ack as asked). */
static void send_rekey(uint32_t seq, uint32_t tek_spi, int ack)
{
	struct gdoi_sa sa = { .doi = GDOI_DOI, .has_gap = 1, .atd = ATD, .dtd = ATD };
	struct gdoi_kd kd = { 0 };
	sa_set_kek(&sa, &F.s.kek, ack, NULL, 0);
	sa_add_tek(&sa, 0, tek_spi, 3600);
	kd_add_tek(&kd, tek_spi);
	struct gdoi_buf b;
	push_build(&b, &F.s.kek, server_rsa, seq, &sa, &kd);
	push_to_member(&b);
	gdoi_buf_free(&b);
}

static void send_heartbeat(uint32_t seq, int ack)
{
	struct gdoi_sa sa = { .doi = GDOI_DOI };
	sa_set_kek(&sa, &F.s.kek, ack, NULL, 0);
	struct gdoi_buf b;
	push_build(&b, &F.s.kek, server_rsa, seq, &sa, NULL);
	push_to_member(&b);
	gdoi_buf_free(&b);
}

/* The ACK number i: verifies under the server's ACK key, for kek_spi and seq,
 * from the member's phase 1 identity. */
static void assert_ack(size_t i, const uint8_t kek_spi[16], uint32_t seq)
{
	assert_true(i < F.s.n_ack);
	const uint8_t *a = F.s.ack[i];
	size_t len = F.s.ack_len[i];
	assert_int_equal(gdoi_ack_verify(a, len, F.s.ack_key), 0);
	uint8_t wrong[GDOI_ACK_KEY_LEN];
	memcpy(wrong, F.s.ack_key, sizeof(wrong));
	wrong[0] ^= 1;
	assert_int_equal(gdoi_ack_verify(a, len, wrong), -1);
	uint8_t spi[16];
	uint32_t got_seq;
	struct gdoi_id id;
	assert_int_equal(gdoi_ack_parse(a, len, spi, &got_seq, &id), 0);
	assert_memory_equal(spi, kek_spi, 16);
	assert_int_equal(got_seq, seq);
	assert_int_equal(id.type, ISAKMP_ID_IPV4_ADDR);
	assert_int_equal(id.len, 4);
	assert_memory_equal(id.data, &gm_local(F.m)->sin_addr, 4);
}

static const struct gm_tek *tek_by_spi(uint32_t spi)
{
	for (size_t i = 0; i < gm_tek_count(F.m); i++)
		if (gm_tek_at(F.m, i)->sa.spi == spi)
			return gm_tek_at(F.m, i);
	return NULL;
}

static enum gm_tek_state state_of(uint32_t spi)
{
	const struct gm_tek *t = tek_by_spi(spi);
	if (!t)
		fail_msg("TEK 0x%x not held", spi);
	return t->state;
}

/* ---- tests --------------------------------------------------------------------- */

static void test_registration_installs_keys(void **state)
{
	(void)state;
	start_member();
	assert_int_equal(gm_seq(F.m), SEQ0);
	assert_int_equal(gm_tek_count(F.m), 1);
	const struct gm_tek *t = gm_tek_at(F.m, 0);
	assert_int_equal(t->sa.spi, 0x1001);
	assert_int_equal(t->state, GM_TEK_ACTIVE); /* first registration: at once */
	uint8_t key[32];
	tek_key_of(0x1001, key);
	assert_int_equal(t->enc_key_len, 32);
	assert_memory_equal(t->enc_key, key, 32);
	assert_int_equal(t->expire_us, t->installed_us + 3600ull * 1000000u);
	const cJSON *d = ev_last("tek_installed");
	assert_string_equal(ev_str(d, "spi"), "0x00001001");
	assert_string_equal(ev_str(d, "state"), "active");
	assert_string_equal(ev_str(d, "source"), "10.1.0.0/16");
	assert_int_equal(ev_count("multicast_joined"), 0);

	cJSON *st = gm_status_json(F.m);
	char *s = cJSON_PrintUnformatted(st);
	assert_non_null(strstr(s, "\"registered\":true,\"seq\":7"));
	assert_non_null(strstr(s, "\"state\":\"active\""));
	assert_null(strstr(s, "\"previous_spi\""));
	free(s);
	cJSON_Delete(st);
}

static void test_rekey_applied_and_acked(void **state)
{
	(void)state;
	start_member();
	send_rekey(SEQ0 + 1, 0x2002, 1);
	const cJSON *d = ev_last("push_received");
	assert_int_equal(ev_num(d, "seq"), SEQ0 + 1);
	assert_string_equal(ev_str(d, "kind"), "rekey");
	assert_false(ev_bool(d, "multicast"));
	assert_int_equal(gm_seq(F.m), SEQ0 + 1);
	assert_int_equal(gm_tek_count(F.m), 2);
	assert_int_equal(state_of(0x2002), GM_TEK_PENDING);
	assert_int_equal(state_of(0x1001), GM_TEK_ACTIVE);
	d = ev_last("tek_installed");
	assert_string_equal(ev_str(d, "spi"), "0x00002002");
	assert_string_equal(ev_str(d, "state"), "pending");
	assert_int_equal(ev_num(d, "activate_in_s"), 2 * ATD);
	/* The ACK: under the key the server derived on its side. */
	assert_int_equal(F.s.n_ack, 1);
	assert_ack(0, F.s.kek.k.spi, SEQ0 + 1);
	assert_int_equal(ev_num(ev_last("ack_sent"), "seq"), SEQ0 + 1);
	const struct gm_stats *st = gm_stats(F.m);
	assert_int_equal(st->pushes, 1);
	assert_int_equal(st->rekeys, 1);
	assert_int_equal(st->acks_sent, 1);
	assert_int_equal(gm_policy(F.m)->tek[0].spi, 0x2002);
}

static void test_retransmission_reacked_not_reapplied(void **state)
{
	(void)state;
	start_member();
	send_rekey(SEQ0 + 1, 0x2002, 1);
	assert_int_equal(F.s.n_ack, 1);
	size_t installed = ev_count("tek_installed");
	/* The same SEQ again, even with other content, is not applied. */
	send_rekey(SEQ0 + 1, 0x3003, 1);
	assert_int_equal(ev_count("retransmission"), 1);
	assert_int_equal(ev_num(ev_last("retransmission"), "seq"), SEQ0 + 1);
	assert_null(tek_by_spi(0x3003));
	assert_int_equal(ev_count("tek_installed"), installed);
	assert_int_equal(ev_count("push_received"), 1);
	assert_int_equal(gm_stats(F.m)->rekeys, 1);
	assert_int_equal(gm_stats(F.m)->retransmissions, 1);
	/* but ACKed again */
	assert_int_equal(F.s.n_ack, 2);
	assert_ack(1, F.s.kek.k.spi, SEQ0 + 1);
	assert_int_equal(gm_seq(F.m), SEQ0 + 1);
}

static void test_old_seq_rejected(void **state)
{
	(void)state;
	start_member();
	struct gdoi_sa sa = { .doi = GDOI_DOI };
	sa_set_kek(&sa, &F.s.kek, 1, NULL, 0);
	struct gdoi_buf first;
	push_build(&first, &F.s.kek, server_rsa, SEQ0 + 1, &sa, NULL);
	push_to_member(&first);
	send_heartbeat(SEQ0 + 2, 1);
	assert_int_equal(gm_seq(F.m), SEQ0 + 2);
	assert_int_equal(F.s.n_ack, 2);
	/* The first push, replayed as captured. */
	push_to_member(&first);
	gdoi_buf_free(&first);
	const cJSON *d = ev_last("push_rejected");
	assert_string_equal(ev_str(d, "reason"), "replay");
	assert_int_equal(ev_num(d, "seq"), SEQ0 + 1);
	assert_int_equal(ev_num(d, "last_seq"), SEQ0 + 2);
	/* A SEQ below the registration's, freshly signed. */
	send_rekey(SEQ0 - 1, 0x4004, 1);
	assert_null(tek_by_spi(0x4004));
	assert_int_equal(gm_stats(F.m)->rejected_replay, 2);
	assert_int_equal(ev_count("push_rejected"), 2);
	assert_int_equal(F.s.n_ack, 2);
	assert_int_equal(gm_seq(F.m), SEQ0 + 2);
}

static void test_bad_signature_rejected(void **state)
{
	(void)state;
	start_member();
	struct gdoi_sa sa = { .doi = GDOI_DOI, .has_gap = 1, .atd = ATD };
	struct gdoi_kd kd = { 0 };
	sa_set_kek(&sa, &F.s.kek, 1, NULL, 0);
	sa_add_tek(&sa, 0, 0x5005, 3600);
	kd_add_tek(&kd, 0x5005);
	struct gdoi_buf b;
	push_build(&b, &F.s.kek, rogue_rsa, SEQ0 + 1, &sa, &kd);
	push_to_member(&b);
	gdoi_buf_free(&b);
	assert_string_equal(ev_str(ev_last("push_rejected"), "reason"), "bad_signature");
	assert_int_equal(gm_stats(F.m)->rejected_sig, 1);
	assert_null(tek_by_spi(0x5005));
	assert_int_equal(gm_seq(F.m), SEQ0);
	assert_int_equal(F.s.n_ack, 0);
	assert_int_equal(ev_count("push_received"), 0);
	/* The same push signed right is taken. */
	send_rekey(SEQ0 + 1, 0x5005, 1);
	assert_non_null(tek_by_spi(0x5005));
	assert_int_equal(F.s.n_ack, 1);
}

static void test_unknown_kek_and_malformed(void **state)
{
	(void)state;
	start_member();
	struct kek other;
	kek_new(&other);
	struct gdoi_sa sa = { .doi = GDOI_DOI };
	sa_set_kek(&sa, &other, 1, NULL, 0);
	struct gdoi_buf b;
	push_build(&b, &other, server_rsa, SEQ0 + 1, &sa, NULL);
	push_to_member(&b);
	gdoi_buf_free(&b);
	assert_string_equal(ev_str(ev_last("push_rejected"), "reason"), "unknown_kek");
	assert_int_equal(gm_stats(F.m)->rejected_unknown_kek, 1);
	assert_int_equal(gm_seq(F.m), SEQ0);
	/* The member's KEK cookies on noise. */
	uint8_t noise[28 + 64];
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = GDOI_EXCH_PUSH,
				.flags = ISAKMP_FLAG_ENC, .np = GDOI_NP_SEQ, .len = sizeof(noise) };
	memcpy(h.icookie, F.s.kek.k.spi, 8);
	memcpy(h.rcookie, F.s.kek.k.spi + 8, 8);
	isakmp_hdr_write(noise, &h);
	memset(noise + 28, 0xa5, 64);
	srv_send(&F.s, gm_local(F.m), noise, sizeof(noise));
	pump();
	assert_string_equal(ev_str(ev_last("push_rejected"), "reason"), "malformed");
	assert_int_equal(gm_stats(F.m)->rejected_other, 1);
	assert_int_equal(gm_seq(F.m), SEQ0);
	assert_int_equal(F.s.n_ack, 0);
	assert_int_equal(ev_count("push_received"), 0);
}

static void test_heartbeat(void **state)
{
	(void)state;
	start_member();
	send_heartbeat(SEQ0 + 1, 0);
	const cJSON *d = ev_last("push_received");
	assert_string_equal(ev_str(d, "kind"), "heartbeat");
	assert_int_equal(gm_seq(F.m), SEQ0 + 1);
	assert_int_equal(gm_stats(F.m)->heartbeats, 1);
	assert_int_equal(gm_stats(F.m)->rekeys, 0);
	assert_int_equal(gm_tek_count(F.m), 1);
	assert_int_equal(state_of(0x1001), GM_TEK_ACTIVE);
	pump();
	assert_int_equal(F.s.n_ack, 0);
	assert_int_equal(ev_count("ack_sent"), 0);
	/* Without an SA KEK, the last SA KEK's setting holds: no ACK ... */
	struct gdoi_sa gap_only = { .doi = GDOI_DOI, .has_gap = 1, .atd = ATD };
	struct gdoi_buf b;
	push_build(&b, &F.s.kek, server_rsa, SEQ0 + 2, &gap_only, NULL);
	push_to_member(&b);
	gdoi_buf_free(&b);
	assert_int_equal(gm_seq(F.m), SEQ0 + 2);
	assert_int_equal(F.s.n_ack, 0);
	/* A heartbeat whose SA KEK asks for an ACK gets one ... */
	send_heartbeat(SEQ0 + 3, 1);
	assert_int_equal(F.s.n_ack, 1);
	assert_ack(0, F.s.kek.k.spi, SEQ0 + 3);
	/* ... and so does the next one without an SA KEK. */
	push_build(&b, &F.s.kek, server_rsa, SEQ0 + 4, &gap_only, NULL);
	push_to_member(&b);
	gdoi_buf_free(&b);
	assert_int_equal(gm_seq(F.m), SEQ0 + 4);
	assert_int_equal(F.s.n_ack, 2);
	assert_ack(1, F.s.kek.k.spi, SEQ0 + 4);
	assert_int_equal(gm_stats(F.m)->heartbeats, 4);
	assert_int_equal(gm_tek_count(F.m), 1);
}

static void test_tek_activation_after_two_atd(void **state)
{
	(void)state;
	start_member();
	send_rekey(SEQ0 + 1, 0x2002, 0);
	assert_int_equal(state_of(0x2002), GM_TEK_PENDING);
	advance_ms(2 * ATD * 1000 - 1);
	assert_int_equal(state_of(0x2002), GM_TEK_PENDING);
	assert_int_equal(state_of(0x1001), GM_TEK_ACTIVE);
	assert_int_equal(ev_count("tek_activated"), 0);
	advance_ms(1);
	assert_int_equal(state_of(0x2002), GM_TEK_ACTIVE);
	assert_int_equal(state_of(0x1001), GM_TEK_OLD);
	const cJSON *d = ev_last("tek_activated");
	assert_string_equal(ev_str(d, "spi"), "0x00002002");
	assert_string_equal(ev_str(d, "state"), "active");
	cJSON *st = gm_status_json(F.m);
	char *s = cJSON_PrintUnformatted(st);
	assert_non_null(strstr(s, "{\"spi\":\"0x00001001\",\"state\":\"old\""));
	assert_non_null(strstr(s, "{\"spi\":\"0x00002002\",\"state\":\"active\""));
	free(s);
	cJSON_Delete(st);
}

static void test_two_newest_teks_kept(void **state)
{
	(void)state;
	/* A second policy whose TEK must not be touched by policy 0's rekeys. */
	sa_add_tek(&F.s.sa, 1, 0x1111, 3600);
	kd_add_tek(&F.s.kd, 0x1111);
	start_member();
	assert_int_equal(gm_tek_count(F.m), 2);
	send_rekey(SEQ0 + 1, 0x2002, 0);
	assert_int_equal(gm_tek_count(F.m), 3);
	assert_int_equal(ev_count("tek_removed"), 0);
	send_rekey(SEQ0 + 2, 0x3003, 0);
	assert_int_equal(gm_tek_count(F.m), 3);
	assert_null(tek_by_spi(0x1001));
	assert_int_equal(state_of(0x2002), GM_TEK_PENDING);
	assert_int_equal(state_of(0x3003), GM_TEK_PENDING);
	assert_int_equal(state_of(0x1111), GM_TEK_ACTIVE);
	const cJSON *d = ev_last("tek_removed");
	assert_string_equal(ev_str(d, "spi"), "0x00001001");
	assert_string_equal(ev_str(d, "reason"), "superseded");
	assert_string_equal(ev_str(d, "state"), "active");
	/* Both due at once: the newer wins, the older is old. */
	advance_ms(2 * ATD * 1000);
	assert_int_equal(state_of(0x3003), GM_TEK_ACTIVE);
	assert_int_equal(state_of(0x2002), GM_TEK_OLD);
}

static void test_tek_expiry(void **state)
{
	(void)state;
	srv_group(&F.s, 1, NULL, 0, 0x1001, 100);
	start_member();
	advance_ms(99 * 1000);
	assert_int_equal(gm_tek_count(F.m), 1);
	advance_ms(1000);
	assert_int_equal(gm_tek_count(F.m), 0);
	const cJSON *d = ev_last("tek_removed");
	assert_string_equal(ev_str(d, "reason"), "expired");
	assert_string_equal(ev_str(d, "spi"), "0x00001001");
}

static void test_kek_replaced(void **state)
{
	(void)state;
	start_member();
	struct kek old = F.s.kek, next;
	kek_new(&next);
	/* Push SEQ+1 under the old KEK names the next one. */
	struct gdoi_sa sa = { .doi = GDOI_DOI, .has_gap = 1, .atd = ATD };
	struct gdoi_kd kd = { 0 };
	sa_set_kek(&sa, &next, 1, NULL, 0);
	sa_add_tek(&sa, 0, 0x2002, 3600);
	kd_add_tek(&kd, 0x2002);
	kd_add_kek(&kd, &next);
	struct gdoi_buf rekey;
	push_build(&rekey, &old, server_rsa, SEQ0 + 1, &sa, &kd);
	push_to_member(&rekey);
	assert_int_equal(ev_count("kek_replaced"), 1);
	const cJSON *d = ev_last("kek_replaced");
	char hex[33];
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", next.k.spi[i]);
	assert_string_equal(ev_str(d, "new_spi"), hex);
	assert_int_equal(F.s.n_ack, 1);
	assert_ack(0, old.k.spi, SEQ0 + 1);
	assert_memory_equal(gm_policy(F.m)->kek.spi, next.k.spi, 16);
	/* The next push comes under the new KEK. */
	F.s.kek = next;
	send_heartbeat(SEQ0 + 2, 1);
	assert_int_equal(gm_seq(F.m), SEQ0 + 2);
	assert_int_equal(F.s.n_ack, 2);
	assert_ack(1, next.k.spi, SEQ0 + 2);
	/* A late retransmission of the push under the old KEK is still
	 * opened (a replay now) ... */
	push_to_member(&rekey);
	assert_string_equal(ev_str(ev_last("push_rejected"), "reason"), "replay");
	/* ... and one of the newest SEQ under the old KEK is re-ACKed with
	 * the old KEK's cookies. */
	gdoi_buf_free(&rekey);
	struct gdoi_sa hb = { .doi = GDOI_DOI };
	sa_set_kek(&hb, &next, 1, NULL, 0);
	push_build(&rekey, &old, server_rsa, SEQ0 + 2, &hb, NULL);
	push_to_member(&rekey);
	gdoi_buf_free(&rekey);
	assert_int_equal(ev_count("retransmission"), 1);
	assert_int_equal(F.s.n_ack, 3);
	assert_ack(2, old.k.spi, SEQ0 + 2);
	cJSON *st = gm_status_json(F.m);
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "kek"), "previous_spi"));
	cJSON_Delete(st);
}

static void test_kek_named_without_key(void **state)
{
	(void)state;
	start_member();
	struct kek next;
	kek_new(&next);
	struct gdoi_sa sa = { .doi = GDOI_DOI };
	struct gdoi_kd kd = { 0 };
	sa_set_kek(&sa, &next, 0, NULL, 0);
	sa_add_tek(&sa, 0, 0x2002, 3600);
	kd_add_tek(&kd, 0x2002);
	struct gdoi_buf b;
	push_build(&b, &F.s.kek, server_rsa, SEQ0 + 1, &sa, &kd);
	push_to_member(&b);
	gdoi_buf_free(&b);
	assert_int_equal(ev_count("kek_missing"), 1);
	assert_int_equal(ev_count("kek_replaced"), 0);
	/* The old KEK stays in use. */
	send_heartbeat(SEQ0 + 2, 0);
	assert_int_equal(gm_seq(F.m), SEQ0 + 2);
}

static void test_heartbeat_loss_reregisters(void **state)
{
	(void)state;
	F.cfg.heartbeat_s = 10;
	F.cfg.heartbeat_misses = 3;
	start_member();
	advance_ms(15 * 1000);
	send_heartbeat(SEQ0 + 1, 0);            /* restarts the watch */
	advance_ms(30 * 1000 - 1);
	assert_int_equal(ev_count("heartbeat_lost"), 0);
	assert_true(gm_registered(F.m));
	/* The server restarts: new KEK and TEK; it says nothing for now. */
	F.s.answer = 0;
	size_t mm1 = F.s.mm1_seen;
	kek_new(&F.s.kek);
	F.s.seq = 1;
	srv_group(&F.s, 1, NULL, 0, 0x7007, 3600);
	advance_ms(1);
	assert_int_equal(ev_count("heartbeat_lost"), 1);
	assert_int_equal(ev_num(ev_last("heartbeat_lost"), "seconds"), 30);
	assert_false(gm_registered(F.m));
	assert_int_equal(F.s.mm1_seen, mm1 + 1); /* reregistration: Main Mode message 1 */
	/* No answer: 2 tries of 1 s, then a retry every heartbeat_s. */
	advance_ms(1000);
	assert_int_equal(F.s.mm1_seen, mm1 + 2);
	advance_ms(1000);
	assert_int_equal(ev_count("reregistration_failed"), 1);
	assert_int_equal(ev_num(ev_last("reregistration_failed"), "retry_in_s"), 10);
	advance_ms(10 * 1000 - 1);
	assert_int_equal(F.s.mm1_seen, mm1 + 2);
	/* The restarted server's pushes are under a KEK the member does not
	 * hold: ignored. */
	send_heartbeat(2, 0);
	assert_string_equal(ev_str(ev_last("push_rejected"), "reason"), "unknown_kek");
	assert_false(gm_registered(F.m));
	F.s.answer = 1;
	advance_ms(1);
	for (int i = 0; i < 2000 && !ev_count("reregistered"); i++)
		assert_int_equal(loop_run_once(2), 0);
	assert_int_equal(ev_count("reregistered"), 1);
	assert_true(gm_registered(F.m));
	assert_int_equal(F.done, 1);              /* the done callback ran once only */
	assert_int_equal(gm_seq(F.m), 1);
	assert_int_equal(gm_stats(F.m)->reregistrations, 1);
	assert_int_equal(gm_stats(F.m)->heartbeat_losses, 1);
	/* A TEK first seen at a reregistration waits ATD; the old stays. */
	assert_int_equal(state_of(0x7007), GM_TEK_PENDING);
	assert_int_equal(state_of(0x1001), GM_TEK_ACTIVE);
	advance_ms(ATD * 1000 - 1);
	assert_int_equal(state_of(0x7007), GM_TEK_PENDING);
	advance_ms(1);
	assert_int_equal(state_of(0x7007), GM_TEK_ACTIVE);
	assert_int_equal(state_of(0x1001), GM_TEK_OLD);
	/* The new KEK is the member's now, and the ACK key is the new one. */
	send_heartbeat(2, 1);
	assert_int_equal(gm_seq(F.m), 2);
	assert_int_equal(F.s.n_ack, 1);
	assert_ack(0, F.s.kek.k.spi, 2);
}

/* A TEK from a reregistration (ATD) overtakes an older one from a rekey
 * (2 x ATD): when the older one's time comes, the newer stays active. */
static void test_newer_tek_stays_active(void **state)
{
	(void)state;
	F.cfg.heartbeat_s = 1;
	F.cfg.heartbeat_misses = 1;
	start_member();
	send_rekey(SEQ0 + 1, 0x2002, 0);          /* active at +20 s */
	srv_group(&F.s, 1, NULL, 0, 0x7007, 3600);
	advance_ms(1000);                          /* heartbeat lost: reregisters */
	for (int i = 0; i < 2000 && !ev_count("reregistered"); i++)
		assert_int_equal(loop_run_once(2), 0);
	assert_int_equal(ev_count("reregistered"), 1);
	assert_int_equal(state_of(0x7007), GM_TEK_PENDING); /* active at +11 s */
	assert_int_equal(state_of(0x2002), GM_TEK_PENDING);
	assert_null(tek_by_spi(0x1001));           /* the two newest only */
	F.s.answer = 0;
	advance_ms(10 * 1000);
	assert_int_equal(state_of(0x7007), GM_TEK_ACTIVE);
	assert_int_equal(state_of(0x2002), GM_TEK_PENDING);
	advance_ms(9 * 1000);
	assert_int_equal(state_of(0x2002), GM_TEK_OLD);
	assert_int_equal(state_of(0x7007), GM_TEK_ACTIVE);
}

static void test_heartbeat_off(void **state)
{
	(void)state;
	start_member();
	size_t mm1 = F.s.mm1_seen;
	advance_ms(3600 * 1000);
	assert_int_equal(ev_count("heartbeat_lost"), 0);
	assert_int_equal(F.s.mm1_seen, mm1);
	assert_true(gm_registered(F.m));
}

static uint16_t free_udp_port(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &l);
	close(fd);
	return ntohs(a.sin_port);
}

static void send_multicast(int fd, const struct gdoi_buf *b, const char *group, uint16_t port)
{
	struct in_addr ifa;
	inet_pton(AF_INET, SERVER_ADDR, &ifa);
	assert_int_equal(setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof(ifa)), 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, group, &to.sin_addr);
	assert_int_equal(sendto(fd, b->data, b->len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)b->len);
	pump();
}

static void test_multicast_rekey(void **state)
{
	(void)state;
	const char *group = "239.255.84.8";
	uint16_t port = free_udp_port();
	srv_group(&F.s, 0, group, port, 0x1001, 3600);
	inet_pton(AF_INET, SERVER_ADDR, &F.cfg.mcast_if);
	start_member();
	if (ev_count("multicast_failed"))
		skip();                        /* no multicast on lo here */
	const cJSON *d = ev_last("multicast_joined");
	assert_string_equal(ev_str(d, "group"), group);
	assert_int_equal(ev_num(d, "port"), port);
	assert_string_equal(ev_str(d, "interface"), SERVER_ADDR);

	struct gdoi_sa sa = { .doi = GDOI_DOI, .has_gap = 1, .atd = ATD };
	struct gdoi_kd kd = { 0 };
	sa_set_kek(&sa, &F.s.kek, 0, group, port);
	sa_add_tek(&sa, 0, 0x2002, 3600);
	kd_add_tek(&kd, 0x2002);
	struct gdoi_buf b;
	push_build(&b, &F.s.kek, server_rsa, SEQ0 + 1, &sa, &kd);
	send_multicast(F.s.fd, &b, group, port);
	d = ev_last("push_received");
	assert_true(ev_bool(d, "multicast"));
	assert_string_equal(ev_str(d, "kind"), "rekey");
	assert_int_equal(gm_seq(F.m), SEQ0 + 1);
	assert_int_equal(state_of(0x2002), GM_TEK_PENDING);
	assert_int_equal(F.s.n_ack, 0);           /* no ACK unless asked */
	gdoi_buf_free(&b);

	/* The same group from another address: not the key server. */
	int other = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in oa = { .sin_family = AF_INET };
	inet_pton(AF_INET, "127.0.0.3", &oa.sin_addr);
	assert_int_equal(bind(other, (struct sockaddr *)&oa, sizeof(oa)), 0);
	push_build(&b, &F.s.kek, server_rsa, SEQ0 + 2, &sa, NULL);
	size_t before = n_ev;
	send_multicast(other, &b, group, port);
	close(other);
	gdoi_buf_free(&b);
	assert_int_equal(n_ev, before);
	assert_int_equal(gm_seq(F.m), SEQ0 + 1);

	/* With KEK_ACK_REQUESTED the ACK goes to the server by unicast. */
	sa_set_kek(&sa, &F.s.kek, 1, group, port);
	push_build(&b, &F.s.kek, server_rsa, SEQ0 + 3, &sa, NULL);
	send_multicast(F.s.fd, &b, group, port);
	gdoi_buf_free(&b);
	assert_int_equal(gm_seq(F.m), SEQ0 + 3);
	assert_int_equal(F.s.n_ack, 1);
	assert_ack(0, F.s.kek.k.spi, SEQ0 + 3);
	char to[32];
	snprintf(to, sizeof(to), "%s:%u", SERVER_ADDR, ntohs(F.s.addr.sin_port));
	assert_string_equal(ev_str(ev_last("ack_sent"), "to"), to);
}

static void test_pushes_from_elsewhere_ignored(void **state)
{
	(void)state;
	start_member();
	int other = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in oa = { .sin_family = AF_INET };
	inet_pton(AF_INET, "127.0.0.3", &oa.sin_addr);
	assert_int_equal(bind(other, (struct sockaddr *)&oa, sizeof(oa)), 0);
	struct gdoi_sa sa = { .doi = GDOI_DOI };
	sa_set_kek(&sa, &F.s.kek, 1, NULL, 0);
	struct gdoi_buf b;
	push_build(&b, &F.s.kek, server_rsa, SEQ0 + 1, &sa, NULL);
	size_t before = n_ev;
	assert_int_equal(sendto(other, b.data, b.len, 0, (const struct sockaddr *)gm_local(F.m),
				sizeof(struct sockaddr_in)), (ssize_t)b.len);
	pump();
	close(other);
	assert_int_equal(n_ev, before);
	assert_int_equal(gm_seq(F.m), SEQ0);
	/* The very same bytes from the server are taken. */
	push_to_member(&b);
	gdoi_buf_free(&b);
	assert_int_equal(gm_seq(F.m), SEQ0 + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_registration_installs_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_applied_and_acked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmission_reacked_not_reapplied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_seq_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_signature_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_kek_and_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tek_activation_after_two_atd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_newest_teks_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tek_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kek_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kek_named_without_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_loss_reregisters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_tek_stays_active, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multicast_rekey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pushes_from_elsewhere_ignored, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
