/* SPDX-License-Identifier: BSD-2-Clause */
/* test_ike.c: unit tests of core/gdoi/ike.c, IKEv1 Main Mode with pre-shared
 * keys and the helpers for exchanges under the phase 1 SA.
 *
 * An initiator and a responder run in one process: what one side writes
 * into a gdoi_buf is fed to the other, no sockets involved. Both sides
 * agreeing is not enough (a mistake made the same way on both sides would
 * pass), so every suite is also re-checked against the formulas of RFC
 * 2409 section 5 and appendix B, computed here from the public fields of
 * the SAs and the messages on the wire. Damaged, retransmitted and
 * out-of-order messages must fail cleanly or be answered as before;
 * AddressSanitizer and LeakSanitizer catch what the assertions do not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/gdoi/gdoi.h"
#include "core/gdoi/ike.h"
#include "core/log.h"

#define N_MSG 8     /* m[1]..m[6] are Main Mode messages, m[7] a scratch answer */
#define LIFE 28800

/* ---- suites ------------------------------------------------------------------ */

static const struct ike_proposal AES256_SHA256_MODP2048 = {
	CRYPTO_CIPHER_AES, 256, CRYPTO_HASH_SHA256, CRYPTO_DH_MODP2048, LIFE };
static const struct ike_proposal AES128_SHA1_MODP1024 = {
	CRYPTO_CIPHER_AES, 128, CRYPTO_HASH_SHA1, CRYPTO_DH_MODP1024, LIFE };
static const struct ike_proposal TDES_MD5_MODP1536 = {
	CRYPTO_CIPHER_3DES, 0, CRYPTO_HASH_MD5, CRYPTO_DH_MODP1536, LIFE };
static const struct ike_proposal AES256_SHA512_ECP384 = {
	CRYPTO_CIPHER_AES, 256, CRYPTO_HASH_SHA512, CRYPTO_DH_ECP384, LIFE };
static const struct ike_proposal AES192_SHA384_ECP256 = {
	CRYPTO_CIPHER_AES, 192, CRYPTO_HASH_SHA384, CRYPTO_DH_ECP256, LIFE };
/* Cheap Diffie-Hellman, for tests that run many exchanges. */
static const struct ike_proposal FAST = {
	CRYPTO_CIPHER_AES, 256, CRYPTO_HASH_SHA256, CRYPTO_DH_ECP256, LIFE };

static const struct ike_proposal *const suites[] = {
	&AES256_SHA256_MODP2048, &AES128_SHA1_MODP1024, &TDES_MD5_MODP1536,
	&AES256_SHA512_ECP384, &AES192_SHA384_ECP256,
};

static const char PSK[] = "correct horse battery staple";
static const char *const psk_right[] = { PSK };

static int same_proposal(const struct ike_proposal *a, const struct ike_proposal *b)
{
	return a->cipher == b->cipher && a->key_bits == b->key_bits && a->hash == b->hash &&
	       a->group == b->group;
}

/* ---- the responder's pre-shared key source ------------------------------------ */

struct psk_src {
	const char *const *keys;
	size_t n;
	size_t calls;
	size_t max_idx;
	struct sockaddr_in peer;      /* as passed on the last call */
};

static const char *psk_cb(void *arg, const struct sockaddr *peer, size_t idx)
{
	struct psk_src *s = arg;
	s->calls++;
	if (idx > s->max_idx)
		s->max_idx = idx;
	memcpy(&s->peer, peer, sizeof(s->peer));
	return idx < s->n ? s->keys[idx] : NULL;
}

/* ---- two peers in one process --------------------------------------------------- */

struct mm {
	struct ike_sa i, r;
	struct sockaddr_in ia, ra;
	struct gdoi_buf m[N_MSG];
	struct gdoi_id id_i;
	struct psk_src src;
	const struct ike_proposal *allowed;
	size_t n_allowed;
};

static void mm_init(struct mm *x, const char *const *r_keys, size_t n_keys)
{
	static const uint8_t addr_i[4] = { 192, 0, 2, 10 };
	memset(x, 0, sizeof(*x));
	x->ia.sin_family = x->ra.sin_family = AF_INET;
	x->ia.sin_port = x->ra.sin_port = htons(GDOI_PORT);
	memcpy(&x->ia.sin_addr, addr_i, 4);
	x->ra.sin_addr.s_addr = htonl(0xc0000201);
	ike_sa_init(&x->i, 1, (const struct sockaddr *)&x->ra, sizeof(x->ra));
	ike_sa_init(&x->r, 0, (const struct sockaddr *)&x->ia, sizeof(x->ia));
	for (size_t k = 0; k < N_MSG; k++)
		gdoi_buf_init(&x->m[k]);
	x->id_i.type = ISAKMP_ID_IPV4_ADDR;
	x->id_i.proto = 17;
	x->id_i.port = GDOI_PORT;
	memcpy(x->id_i.data, addr_i, 4);
	x->id_i.len = 4;
	x->src.keys = r_keys;
	x->src.n = n_keys;
}

static void mm_free(struct mm *x)
{
	ike_sa_free(&x->i);
	ike_sa_free(&x->r);
	for (size_t k = 0; k < N_MSG; k++)
		gdoi_buf_free(&x->m[k]);
}

static void mm_start(struct mm *x, const struct ike_proposal *offer, size_t n_offer,
		     const struct ike_proposal *allowed, size_t n_allowed, const char *psk)
{
	x->allowed = allowed;
	x->n_allowed = n_allowed;
	assert_int_equal(ike_initiator_start(&x->i, offer, n_offer, psk, &x->id_i, &x->m[1]), 0);
	assert_int_equal(x->i.state, IKE_I_SA_SENT);
}

/* Hands msg to the side that receives Main Mode message k (odd: the
 * responder); the answer goes to out, emptied first. */
static int mm_deliver(struct mm *x, int k, const uint8_t *msg, size_t len, struct gdoi_buf *out)
{
	gdoi_buf_free(out);
	if (k % 2)
		return ike_input(&x->r, msg, len, x->allowed, x->n_allowed, psk_cb, &x->src, out);
	return ike_input(&x->i, msg, len, NULL, 0, NULL, NULL, out);
}

/* Message k as sent, answer into m[k + 1]. */
static int mm_feed(struct mm *x, int k)
{
	return mm_deliver(x, k, x->m[k].data, x->m[k].len, &x->m[k + 1]);
}

/* Delivers messages 1..upto, each of which must succeed. */
static void mm_until(struct mm *x, int upto)
{
	for (int k = 1; k <= upto; k++) {
		int rc = mm_feed(x, k);
		const struct ike_sa *to = k % 2 ? &x->r : &x->i;
		if (rc != (k == 6 ? 0 : 1))
			fail_msg("message %d: ike_input returned %d (%s)", k, rc, to->error);
	}
}

static void mm_full(struct mm *x, const struct ike_proposal *offer, size_t n_offer,
		    const struct ike_proposal *allowed, size_t n_allowed, const char *psk)
{
	mm_start(x, offer, n_offer, allowed, n_allowed, psk);
	mm_until(x, 6);
	assert_int_equal(x->i.state, IKE_ESTABLISHED);
	assert_int_equal(x->r.state, IKE_ESTABLISHED);
}

/* Brings a pair to the point where message `upto` has been delivered. */
static void mm_fast_until(struct mm *x, int upto)
{
	mm_init(x, psk_right, 1);
	mm_start(x, &FAST, 1, &FAST, 1, PSK);
	mm_until(x, upto);
}

static void mm_fast_established(struct mm *x)
{
	mm_fast_until(x, 6);
	assert_int_equal(x->i.state, IKE_ESTABLISHED);
	assert_int_equal(x->r.state, IKE_ESTABLISHED);
}

/* ---- message helpers ---------------------------------------------------------- */

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 29);
}

static void put_main_hdr(struct gdoi_buf *b, const uint8_t icky[8], const uint8_t rcky[8],
			 uint8_t flags)
{
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = ISAKMP_EXCH_MAIN,
				.flags = flags };
	memcpy(h.icookie, icky, 8);
	memcpy(h.rcookie, rcky, 8);
	gdoi_put_hdr(b, &h);
}

/* The payload of the type in a plaintext message (fails the test if absent). */
static struct gdoi_payload payload_of(const struct gdoi_buf *m, uint8_t type)
{
	struct gdoi_chain c;
	assert_true(m->len > ISAKMP_HDR_LEN);
	assert_int_equal(gdoi_chain_parse(m->data[16], m->data + ISAKMP_HDR_LEN,
					  m->len - ISAKMP_HDR_LEN, 0, &c), 0);
	const struct gdoi_payload *p = gdoi_chain_find(&c, type);
	assert_non_null(p);
	return *p;
}

static void to_transform(const struct ike_proposal *p, uint8_t num, struct gdoi_p1_transform *t)
{
	memset(t, 0, sizeof(*t));
	t->num = num;
	t->cipher = p->cipher;
	t->key_bits = p->key_bits;
	t->hash = p->hash;
	t->auth = OAKLEY_AUTH_PSK;
	t->group = p->group;
	t->life_seconds = p->life_seconds;
}

/* A message 2 to x's initiator choosing the n given transforms. */
static void craft_msg2(const struct mm *x, const struct gdoi_p1_transform *t, size_t n,
		       struct gdoi_buf *b)
{
	static const uint8_t rcky[8] = { 0x52, 0x52, 0x52, 0x52, 0x52, 0x52, 0x52, 0x52 };
	struct gdoi_p1_sa sa = { .doi = x->i.doi, .situation = x->i.situation, .proposal = 1, .n = n };
	if (n)
		memcpy(sa.t, t, n * sizeof(*t));
	gdoi_buf_init(b);
	put_main_hdr(b, x->i.icky, rcky, 0);
	gdoi_put_p1_sa(b, &sa);
	gdoi_finish(b);
}

/* A message 3 or 4 to sa (its cookies) with the given KE and nonce (NULL:
 * the payload is left out). */
static void craft_ke(const struct ike_sa *sa, const uint8_t *ke, size_t ke_len,
		     const uint8_t *nonce, size_t nonce_len, struct gdoi_buf *b)
{
	gdoi_buf_init(b);
	put_main_hdr(b, sa->icky, sa->rcky, 0);
	if (ke)
		gdoi_put_payload(b, ISAKMP_NP_KE, ke, ke_len);
	if (nonce)
		gdoi_put_payload(b, ISAKMP_NP_NONCE, nonce, nonce_len);
	gdoi_finish(b);
}

static int contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++) {
		size_t k = 0;
		while (k < n && hay[k] && tolower((unsigned char)hay[k]) == needle[k])
			k++;
		if (k == n)
			return 1;
	}
	return 0;
}

static void assert_failed(const struct ike_sa *sa, int rc)
{
	assert_int_equal(rc, -1);
	assert_int_equal(sa->state, IKE_FAILED);
	assert_true(sa->error[0] != '\0');
}

/* Refused without harm: -1, a reason, and the exchange goes on as before. */
static void assert_ignored(const struct ike_sa *sa, enum ike_state before, int rc)
{
	assert_int_equal(rc, -1);
	assert_int_equal(sa->state, before);
	assert_true(sa->error[0] != '\0');
	assert_int_equal(sa->notify, 0);
}

/* ---- what both sides must agree on --------------------------------------------- */

static void assert_same_id(const struct gdoi_id *a, const struct gdoi_id *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->data, b->data, a->len);
}

static void check_agree(const struct mm *x, const struct ike_proposal *suite, const char *psk)
{
	const struct ike_sa *i = &x->i, *r = &x->r;
	size_t hl = crypto_hash_len(suite->hash);
	size_t bl = crypto_cipher_block(suite->cipher);
	size_t kl = crypto_cipher_key_len(suite->cipher, suite->key_bits);

	assert_true(same_proposal(&i->prop, suite));
	assert_true(same_proposal(&r->prop, suite));
	assert_int_equal(r->prop.life_seconds, suite->life_seconds);
	assert_memory_equal(i->icky, r->icky, 8);
	assert_memory_equal(i->rcky, r->rcky, 8);

	assert_int_equal(i->keys.hash_len, hl);
	assert_int_equal(r->keys.hash_len, hl);
	assert_int_equal(i->keys.enc_key_len, kl);
	assert_int_equal(r->keys.enc_key_len, kl);
	assert_memory_equal(i->keys.skeyid_d, r->keys.skeyid_d, hl);
	assert_memory_equal(i->keys.skeyid_a, r->keys.skeyid_a, hl);
	assert_memory_equal(i->keys.skeyid_e, r->keys.skeyid_e, hl);
	assert_memory_equal(i->keys.enc_key, r->keys.enc_key, kl);
	assert_int_equal(i->gxy_len, crypto_dh_secret_len(suite->group));
	assert_int_equal(r->gxy_len, i->gxy_len);
	assert_memory_equal(i->gxy, r->gxy, i->gxy_len);

	assert_int_equal(i->block, bl);
	assert_int_equal(r->block, bl);
	assert_memory_equal(i->p1_last, r->p1_last, bl);
	static const uint32_t msgids[] = { 1, 0x12345678, 0xfffffffe };
	uint8_t iv_i[CRYPTO_MAX_BLOCK], iv_r[CRYPTO_MAX_BLOCK], iv_other[CRYPTO_MAX_BLOCK];
	for (size_t k = 0; k < sizeof(msgids) / sizeof(msgids[0]); k++) {
		assert_int_equal(ike_exchange_iv(i, msgids[k], iv_i), 0);
		assert_int_equal(ike_exchange_iv(r, msgids[k], iv_r), 0);
		assert_memory_equal(iv_i, iv_r, bl);
		assert_int_equal(ike_exchange_iv(i, msgids[k] + 1, iv_other), 0);
		assert_memory_not_equal(iv_i, iv_other, bl);
	}

	assert_same_id(&r->id_peer, &x->id_i);
	assert_same_id(&i->id_peer, &r->id_local);
	assert_non_null(r->psk);
	assert_string_equal(r->psk, psk);
}

/* ---- the same, from RFC 2409 and the wire ------------------------------------------ */

/* Decrypts the body of an encrypted message with key and iv (advanced)
 * and returns its ID and HASH payloads; the copy is left in buf. */
static void open_p1(const struct gdoi_buf *m, const struct ike_proposal *s, const uint8_t *key,
		    size_t kl, uint8_t *iv, uint8_t *buf, struct gdoi_payload *id,
		    struct gdoi_payload *hash)
{
	size_t body = m->len - ISAKMP_HDR_LEN, bl = crypto_cipher_block(s->cipher);
	struct gdoi_chain c;
	assert_true(m->data[19] & ISAKMP_FLAG_ENC);
	assert_int_equal(body % bl, 0);
	memcpy(buf, m->data, m->len);
	assert_int_equal(crypto_cbc_decrypt(s->cipher, key, kl, iv, buf + ISAKMP_HDR_LEN, body), 0);
	assert_memory_equal(iv, m->data + m->len - bl, bl);
	assert_int_equal(gdoi_chain_parse(buf[16], buf + ISAKMP_HDR_LEN, body, 1, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.p[0].type, ISAKMP_NP_ID);
	assert_int_equal(c.p[1].type, ISAKMP_NP_HASH);
	/* ike_seal pads with zeros, less than a block */
	assert_true(body - c.used < bl);
	for (size_t k = c.used; k < body; k++)
		assert_int_equal(buf[ISAKMP_HDR_LEN + k], 0);
	*id = c.p[0];
	*hash = c.p[1];
}

static void check_rfc2409(const struct mm *x, const struct ike_proposal *s, const char *psk)
{
	const struct ike_sa *i = &x->i, *r = &x->r;
	int hash = s->hash, cipher = s->cipher;
	size_t hl = crypto_hash_len(hash), bl = crypto_cipher_block(cipher);
	size_t kl = crypto_cipher_key_len(cipher, s->key_bits), gl = crypto_dh_pub_len(s->group);
	uint8_t skeyid[CRYPTO_MAX_HASH], d[CRYPTO_MAX_HASH], a[CRYPTO_MAX_HASH], e[CRYPTO_MAX_HASH];
	uint8_t key[2 * CRYPTO_MAX_HASH], h[CRYPTO_MAX_HASH], iv[CRYPTO_MAX_HASH];
	const uint8_t o0 = 0, o1 = 1, o2 = 2;

	/* what went over the wire is what the SAs computed with */
	struct gdoi_payload sa1 = payload_of(&x->m[1], ISAKMP_NP_SA);
	struct gdoi_payload ke3 = payload_of(&x->m[3], ISAKMP_NP_KE);
	struct gdoi_payload n3 = payload_of(&x->m[3], ISAKMP_NP_NONCE);
	struct gdoi_payload ke4 = payload_of(&x->m[4], ISAKMP_NP_KE);
	struct gdoi_payload n4 = payload_of(&x->m[4], ISAKMP_NP_NONCE);
	assert_int_equal(ke3.len, gl);
	assert_int_equal(ke4.len, gl);
	assert_memory_equal(ke3.body, i->gxi, gl);
	assert_memory_equal(ke4.body, r->gxr, gl);
	assert_int_equal(n3.len, i->ni_len);
	assert_memory_equal(n3.body, i->ni, n3.len);
	assert_int_equal(n4.len, r->nr_len);
	assert_memory_equal(n4.body, r->nr, n4.len);

	/* SKEYID = prf(pre-shared-key, Ni_b | Nr_b) and its three children */
	struct crypto_iov nonces[] = { { n3.body, n3.len }, { n4.body, n4.len } };
	assert_int_equal(crypto_prf(hash, psk, strlen(psk), nonces, 2, skeyid), 0);
	assert_memory_equal(skeyid, i->keys.skeyid, hl);
	assert_memory_equal(skeyid, r->keys.skeyid, hl);
	struct crypto_iov vd[] = { { i->gxy, i->gxy_len }, { i->icky, 8 }, { i->rcky, 8 }, { &o0, 1 } };
	assert_int_equal(crypto_prf(hash, skeyid, hl, vd, 4, d), 0);
	struct crypto_iov va[] = { { d, hl }, { i->gxy, i->gxy_len }, { i->icky, 8 }, { i->rcky, 8 },
				   { &o1, 1 } };
	assert_int_equal(crypto_prf(hash, skeyid, hl, va, 5, a), 0);
	struct crypto_iov ve[] = { { a, hl }, { i->gxy, i->gxy_len }, { i->icky, 8 }, { i->rcky, 8 },
				   { &o2, 1 } };
	assert_int_equal(crypto_prf(hash, skeyid, hl, ve, 5, e), 0);
	assert_memory_equal(d, i->keys.skeyid_d, hl);
	assert_memory_equal(a, i->keys.skeyid_a, hl);
	assert_memory_equal(e, i->keys.skeyid_e, hl);

	/* appendix B: K1 = prf(SKEYID_e, 0), K2 = prf(SKEYID_e, K1) when too short */
	if (kl <= hl) {
		memcpy(key, e, kl);
	} else {
		struct crypto_iov k1 = { &o0, 1 }, k2 = { key, hl };
		assert_int_equal(crypto_prf(hash, e, hl, &k1, 1, key), 0);
		assert_int_equal(crypto_prf(hash, e, hl, &k2, 1, key + hl), 0);
		assert_true(kl <= 2 * hl);
	}
	assert_memory_equal(key, i->keys.enc_key, kl);

	/* message 5: IV = hash(g^xi | g^xr), HASH_I over SAi_b and IDii_b */
	uint8_t *buf = malloc(x->m[5].len > x->m[6].len ? x->m[5].len : x->m[6].len);
	assert_non_null(buf);
	struct crypto_iov g[] = { { i->gxi, gl }, { r->gxr, gl } };
	assert_int_equal(crypto_hash(hash, g, 2, h), 0);
	memcpy(iv, h, bl);
	struct gdoi_payload id, hp;
	open_p1(&x->m[5], s, key, kl, iv, buf, &id, &hp);
	struct crypto_iov hi[] = { { i->gxi, gl }, { r->gxr, gl }, { i->icky, 8 }, { i->rcky, 8 },
				   { sa1.body, sa1.len }, { id.body, id.len } };
	assert_int_equal(crypto_prf(hash, skeyid, hl, hi, 6, h), 0);
	assert_int_equal(hp.len, hl);
	assert_memory_equal(h, hp.body, hl);
	struct gdoi_id parsed;
	assert_int_equal(gdoi_id_parse(id.body, id.len, &parsed), 0);
	assert_same_id(&parsed, &x->id_i);

	/* message 6: IV goes on from message 5's last block; HASH_R */
	open_p1(&x->m[6], s, key, kl, iv, buf, &id, &hp);
	struct crypto_iov hr[] = { { r->gxr, gl }, { i->gxi, gl }, { i->rcky, 8 }, { i->icky, 8 },
				   { sa1.body, sa1.len }, { id.body, id.len } };
	assert_int_equal(crypto_prf(hash, skeyid, hl, hr, 6, h), 0);
	assert_memory_equal(h, hp.body, hl);
	free(buf);

	/* later exchanges: IV = hash(last block of message 6 | M-ID) */
	const uint8_t *last = x->m[6].data + x->m[6].len - bl;
	assert_memory_equal(i->p1_last, last, bl);
	const uint8_t mid[4] = { 0xa1, 0xb2, 0xc3, 0xd4 };
	struct crypto_iov vi[] = { { last, bl }, { mid, 4 } };
	assert_int_equal(crypto_hash(hash, vi, 2, h), 0);
	assert_int_equal(ike_exchange_iv(r, 0xa1b2c3d4, iv), 0);
	assert_memory_equal(iv, h, bl);
}

/* ---- full Main Mode ------------------------------------------------------------------ */

static void test_main_mode_suites(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(suites) / sizeof(suites[0]); k++) {
		struct mm x;
		char name[64];
		ike_proposal_str(suites[k], name, sizeof(name));
		print_message("# suite %s\n", name);
		mm_init(&x, psk_right, 1);
		mm_full(&x, suites[k], 1, suites[k], 1, PSK);
		for (int m = 1; m <= 6; m++)
			assert_int_equal(!!(x.m[m].data[19] & ISAKMP_FLAG_ENC), m >= 5);
		assert_int_equal(x.m[7].len, 0);  /* message 6 gets no answer */
		check_agree(&x, suites[k], PSK);
		check_rfc2409(&x, suites[k], PSK);
		assert_int_equal(x.src.peer.sin_addr.s_addr, x.ia.sin_addr.s_addr);
		mm_free(&x);
	}
}

static void test_proposal_str(void **state)
{
	char buf[64];
	(void)state;
	ike_proposal_str(&AES256_SHA256_MODP2048, buf, sizeof(buf));
	assert_string_equal(buf, "aes-256-cbc/sha-256/modp-2048");
	assert_false(ike_proposal_weak(&AES256_SHA256_MODP2048));
	assert_true(ike_proposal_weak(&TDES_MD5_MODP1536));
	assert_true(ike_proposal_weak(&AES128_SHA1_MODP1024));
	assert_string_equal(ike_state_name(IKE_ESTABLISHED), "ESTABLISHED");
	assert_string_equal(ike_state_name((enum ike_state)99), "?");
}

/* ---- choosing a transform ------------------------------------------------------------- */

/* Offers offer[], allows allowed[]; the responder's choice must be want
 * (the want-th transform, counted from 1, in message 2). */
static void expect_choice(const struct ike_proposal *offer, size_t n_offer,
			  const struct ike_proposal *allowed, size_t n_allowed, size_t want)
{
	struct mm x;
	struct gdoi_p1_sa sa;
	mm_init(&x, psk_right, 1);
	mm_full(&x, offer, n_offer, allowed, n_allowed, PSK);
	struct gdoi_payload p = payload_of(&x.m[2], ISAKMP_NP_SA);
	assert_int_equal(gdoi_p1_sa_parse(p.body, p.len, &sa), 0);
	assert_int_equal(sa.n, 1);
	assert_int_equal(sa.t[0].num, want);
	check_agree(&x, &offer[want - 1], PSK);
	mm_free(&x);
}

static void test_first_offered_wins(void **state)
{
	struct ike_proposal a = FAST, b = FAST, c = FAST, bad = FAST;
	(void)state;
	a.key_bits = 128;
	b.hash = CRYPTO_HASH_SHA384;
	c.group = CRYPTO_DH_ECP384;
	bad.group = 99;                 /* unsupported: skipped even if "allowed" */

	const struct ike_proposal offer_abc[] = { a, b, c };
	const struct ike_proposal allow_cb[] = { c, b };
	expect_choice(offer_abc, 3, allow_cb, 2, 2);          /* b: offered before c */
	const struct ike_proposal offer_cba[] = { c, b, a };
	expect_choice(offer_cba, 3, allow_cb, 2, 1);          /* now c comes first */
	const struct ike_proposal allow_all[] = { a, b, c };
	expect_choice(offer_cba, 3, allow_all, 3, 1);         /* not the responder's order */
	const struct ike_proposal offer_bad[] = { bad, b, a };
	const struct ike_proposal allow_bad[] = { bad, a, b };
	expect_choice(offer_bad, 3, allow_bad, 3, 2);
	const struct ike_proposal allow_a[] = { a };
	expect_choice(offer_abc, 3, allow_a, 1, 1);
	expect_choice(offer_cba, 3, allow_a, 1, 3);           /* the last one offered */
}

static void expect_no_proposal(const struct ike_proposal *offer, size_t n_offer,
			       const struct ike_proposal *allowed, size_t n_allowed)
{
	struct mm x;
	mm_init(&x, psk_right, 1);
	mm_start(&x, offer, n_offer, allowed, n_allowed, PSK);
	assert_failed(&x.r, mm_feed(&x, 1));
	assert_int_equal(x.r.notify, ISAKMP_N_NO_PROPOSAL_CHOSEN);
	assert_int_equal(x.m[2].len, 0);
	mm_free(&x);
}

static void test_no_proposal_chosen(void **state)
{
	struct ike_proposal bits = FAST, hash = FAST, group = FAST, cipher = FAST;
	(void)state;
	bits.key_bits = 128;
	hash.hash = CRYPTO_HASH_SHA512;
	group.group = CRYPTO_DH_MODP2048;
	cipher.cipher = CRYPTO_CIPHER_3DES;
	cipher.key_bits = 0;
	const struct ike_proposal allowed[] = { bits, hash, group, cipher };
	/* each differs from every allowed one in at least one attribute */
	expect_no_proposal(&FAST, 1, allowed, 4);
	expect_no_proposal(&FAST, 1, NULL, 0);
	const struct ike_proposal offer[] = { FAST, AES256_SHA512_ECP384 };
	expect_no_proposal(offer, 2, &TDES_MD5_MODP1536, 1);
}

/* ---- pre-shared keys ------------------------------------------------------------------ */

static void test_wrong_psk(void **state)
{
	static const char *const keys[] = { "not the key", "nor this one" };
	struct mm x;
	(void)state;
	mm_init(&x, keys, 2);
	mm_start(&x, &FAST, 1, &FAST, 1, PSK);
	mm_until(&x, 4);
	/* the first failure could be an injected datagram: the exchange waits */
	assert_ignored(&x.r, IKE_R_KE_SENT, mm_feed(&x, 5));
	assert_int_equal(x.r.auth_failures, 1);
	assert_int_equal(x.m[6].len, 0);
	/* the member's retransmission, the same bytes: now it has failed */
	assert_failed(&x.r, mm_feed(&x, 5));
	assert_int_equal(x.r.notify, ISAKMP_N_AUTHENTICATION_FAILED);
	assert_true(contains_ci(x.r.error, "authentication"));
	assert_null(x.r.psk);
	assert_int_equal(x.m[6].len, 0);
	assert_int_equal(x.src.max_idx, 2);   /* both tried, then NULL */
	assert_int_equal(x.i.state, IKE_I_AUTH_SENT);
	mm_free(&x);
}

static void test_no_psk_at_all(void **state)
{
	struct mm x;
	(void)state;
	mm_init(&x, NULL, 0);
	mm_start(&x, &FAST, 1, &FAST, 1, PSK);
	mm_until(&x, 4);
	assert_ignored(&x.r, IKE_R_KE_SENT, mm_feed(&x, 5));
	assert_failed(&x.r, mm_feed(&x, 5));
	assert_int_equal(x.r.notify, ISAKMP_N_AUTHENTICATION_FAILED);
	mm_free(&x);

	/* no callback either */
	mm_init(&x, NULL, 0);
	mm_start(&x, &FAST, 1, &FAST, 1, PSK);
	mm_until(&x, 4);
	assert_ignored(&x.r, IKE_R_KE_SENT,
		       ike_input(&x.r, x.m[5].data, x.m[5].len, &FAST, 1, NULL, NULL, &x.m[6]));
	assert_failed(&x.r, ike_input(&x.r, x.m[5].data, x.m[5].len, &FAST, 1, NULL, NULL, &x.m[6]));
	assert_int_equal(x.r.notify, ISAKMP_N_AUTHENTICATION_FAILED);
	mm_free(&x);
}

static void test_psk_third_candidate(void **state)
{
	static const char *const keys[] = { "first guess", "second guess", PSK, "never asked" };
	struct mm x;
	(void)state;
	mm_init(&x, keys, 4);
	mm_full(&x, &FAST, 1, &FAST, 1, PSK);
	check_agree(&x, &FAST, PSK);
	check_rfc2409(&x, &FAST, PSK);
	assert_int_equal(x.src.calls, 3);
	assert_int_equal(x.src.max_idx, 2);
	assert_int_equal(x.src.peer.sin_family, AF_INET);
	assert_int_equal(x.src.peer.sin_addr.s_addr, x.ia.sin_addr.s_addr);
	assert_ptr_not_equal(x.r.psk, keys[2]);   /* a copy it owns */
	mm_free(&x);
}

/* ---- a responder that does not play by the rules ------------------------------------- */

static void expect_msg2_refused(const struct gdoi_p1_transform *t, size_t n)
{
	struct mm x;
	struct gdoi_buf b;
	const struct ike_proposal offer[] = { FAST, AES256_SHA512_ECP384 };
	mm_init(&x, psk_right, 1);
	mm_start(&x, offer, 2, offer, 2, PSK);
	craft_msg2(&x, t, n, &b);
	assert_failed(&x.i, mm_deliver(&x, 2, b.data, b.len, &x.m[3]));
	assert_int_equal(x.m[3].len, 0);
	gdoi_buf_free(&b);
	mm_free(&x);
}

static void test_msg2_not_offered(void **state)
{
	struct gdoi_p1_transform t[2];
	struct ike_proposal p;
	(void)state;

	/* sanity: the offered transform, crafted the same way, is taken */
	struct mm x;
	struct gdoi_buf b;
	mm_init(&x, psk_right, 1);
	mm_start(&x, &FAST, 1, &FAST, 1, PSK);
	to_transform(&FAST, 1, &t[0]);
	craft_msg2(&x, t, 1, &b);
	assert_int_equal(mm_deliver(&x, 2, b.data, b.len, &x.m[3]), 1);
	assert_int_equal(x.i.state, IKE_I_KE_SENT);
	gdoi_buf_free(&b);
	mm_free(&x);

	p = FAST;
	p.key_bits = 128;
	to_transform(&p, 1, &t[0]);
	expect_msg2_refused(t, 1);
	p = FAST;
	p.hash = CRYPTO_HASH_SHA1;
	to_transform(&p, 1, &t[0]);
	expect_msg2_refused(t, 1);
	p = FAST;
	p.group = CRYPTO_DH_MODP2048;
	to_transform(&p, 1, &t[0]);
	expect_msg2_refused(t, 1);
	/* a mix of the two offered ones */
	p = AES256_SHA512_ECP384;
	p.group = CRYPTO_DH_ECP256;
	to_transform(&p, 1, &t[0]);
	expect_msg2_refused(t, 1);
	/* the offered suite with signatures instead of pre-shared keys */
	to_transform(&FAST, 1, &t[0]);
	t[0].auth = OAKLEY_AUTH_RSA_SIG;
	expect_msg2_refused(t, 1);
	/* two transforms, both offered: a choice must be one */
	to_transform(&FAST, 1, &t[0]);
	to_transform(&AES256_SHA512_ECP384, 2, &t[1]);
	expect_msg2_refused(t, 2);
	expect_msg2_refused(t, 0);
}

/* ---- retransmissions and messages out of turn ------------------------------------------ */

static void expect_same_answer(struct mm *x, int k)
{
	struct gdoi_buf again;
	gdoi_buf_init(&again);
	const struct ike_sa *to = k % 2 ? &x->r : &x->i;
	enum ike_state before = to->state;
	int rc = mm_deliver(x, k, x->m[k].data, x->m[k].len, &again);
	if (k == 6) {
		assert_int_equal(rc, 0);
		assert_int_equal(again.len, 0);
	} else {
		assert_int_equal(rc, 1);
		assert_int_equal(again.len, x->m[k + 1].len);
		assert_memory_equal(again.data, x->m[k + 1].data, again.len);
	}
	assert_int_equal(to->state, before);
	gdoi_buf_free(&again);
}

static void test_retransmissions(void **state)
{
	struct mm x;
	struct ike_sa snap;
	(void)state;
	mm_init(&x, psk_right, 1);
	mm_start(&x, &FAST, 1, &FAST, 1, PSK);
	for (int k = 1; k <= 6; k++) {
		assert_int_equal(mm_feed(&x, k), k == 6 ? 0 : 1);
		const struct ike_sa *to = k % 2 ? &x.r : &x.i;
		memcpy(&snap, to, sizeof(snap));
		expect_same_answer(&x, k);
		expect_same_answer(&x, k);
		/* nothing was recomputed: same cookies, DH values, nonces, keys, IV */
		assert_memory_equal(to->rcky, snap.rcky, 8);
		assert_ptr_equal(to->dh, snap.dh);
		assert_memory_equal(to->gxi, snap.gxi, sizeof(snap.gxi));
		assert_memory_equal(to->gxr, snap.gxr, sizeof(snap.gxr));
		assert_memory_equal(to->ni, snap.ni, sizeof(snap.ni));
		assert_memory_equal(to->nr, snap.nr, sizeof(snap.nr));
		assert_memory_equal(&to->keys, &snap.keys, sizeof(snap.keys));
		assert_memory_equal(to->iv, snap.iv, sizeof(snap.iv));
		assert_memory_equal(to->p1_last, snap.p1_last, sizeof(snap.p1_last));
	}
	memset(&snap, 0, sizeof(snap));
	check_agree(&x, &FAST, PSK);
	mm_free(&x);
}

/* A message 1 with x's cookie offering something else: not a duplicate. */
static void craft_other_msg1(const struct mm *x, struct gdoi_buf *b)
{
	static const uint8_t zero[8];
	struct gdoi_p1_sa sa = { .doi = ISAKMP_DOI_IPSEC, .situation = ISAKMP_SIT_IDENTITY_ONLY,
				 .proposal = 1, .n = 2 };
	to_transform(&AES256_SHA512_ECP384, 1, &sa.t[0]);
	to_transform(&FAST, 2, &sa.t[1]);
	gdoi_buf_init(b);
	put_main_hdr(b, x->i.icky, zero, 0);
	gdoi_put_p1_sa(b, &sa);
	gdoi_finish(b);
}

/* An "encrypted" message: len bytes of noise with sa's cookies. */
static void craft_noise(const struct ike_sa *sa, size_t len, struct gdoi_buf *b)
{
	uint8_t noise[64];
	fill(noise, sizeof(noise), 7);
	gdoi_buf_init(b);
	put_main_hdr(b, sa->icky, sa->rcky, ISAKMP_FLAG_ENC);
	b->data[16] = ISAKMP_NP_ID;
	gdoi_put_bytes(b, noise, len);
	gdoi_finish(b);
}

static void test_out_of_turn(void **state)
{
	struct mm x;
	struct gdoi_buf b;
	uint8_t zero[CRYPTO_MAX_HASH] = { 0 };
	(void)state;

	/* a stale copy of message 1 after message 3: ignored, the exchange
	 * goes on (spoofed or late datagrams must not tear it down) */
	mm_fast_until(&x, 3);
	assert_ignored(&x.r, IKE_R_KE_SENT, mm_deliver(&x, 1, x.m[1].data, x.m[1].len, &x.m[7]));
	mm_free(&x);

	/* another message 1 (same cookie, other offer) after message 3 */
	mm_fast_until(&x, 3);
	craft_other_msg1(&x, &b);
	assert_ignored(&x.r, IKE_R_KE_SENT, mm_deliver(&x, 1, b.data, b.len, &x.m[7]));
	gdoi_buf_free(&b);
	mm_free(&x);

	/* message 5 in clear */
	mm_fast_until(&x, 4);
	gdoi_buf_init(&b);
	put_main_hdr(&b, x.i.icky, x.i.rcky, 0);
	gdoi_put_id(&b, &x.id_i);
	gdoi_put_payload(&b, ISAKMP_NP_HASH, zero, 32);
	gdoi_finish(&b);
	assert_ignored(&x.r, IKE_R_KE_SENT, mm_deliver(&x, 5, b.data, b.len, &x.m[6]));
	assert_null(x.r.psk);
	gdoi_buf_free(&b);
	mm_free(&x);

	/* an encrypted message where message 3 is expected */
	mm_fast_until(&x, 1);
	craft_noise(&x.r, 48, &b);
	assert_ignored(&x.r, IKE_R_SA_SENT, mm_deliver(&x, 3, b.data, b.len, &x.m[4]));
	gdoi_buf_free(&b);
	mm_free(&x);

	/* message 6 in clear (a message 4 with another nonce) */
	mm_fast_until(&x, 4);
	uint8_t nonce[32];
	fill(nonce, sizeof(nonce), 99);
	craft_ke(&x.i, x.r.gxr, x.i.gx_len, nonce, sizeof(nonce), &b);
	assert_ignored(&x.i, IKE_I_AUTH_SENT, mm_deliver(&x, 6, b.data, b.len, &x.m[7]));
	gdoi_buf_free(&b);
	mm_free(&x);

	/* message 4 while message 2 is expected */
	mm_fast_until(&x, 0);
	craft_ke(&x.i, zero, crypto_dh_pub_len(FAST.group), nonce, sizeof(nonce), &b);
	assert_failed(&x.i, mm_deliver(&x, 2, b.data, b.len, &x.m[3]));
	gdoi_buf_free(&b);
	mm_free(&x);

	/* message 2 to an initiator that never started, and to the responder */
	mm_fast_until(&x, 1);
	struct ike_sa fresh;
	ike_sa_init(&fresh, 1, NULL, 0);
	gdoi_buf_init(&b);
	assert_failed(&fresh, ike_input(&fresh, x.m[2].data, x.m[2].len, NULL, 0, NULL, NULL, &b));
	ike_sa_free(&fresh);
	/* to the responder it is a message 3 without KE: ignored, it may be
	 * injected before the genuine one */
	assert_ignored(&x.r, IKE_R_SA_SENT, mm_deliver(&x, 1, x.m[2].data, x.m[2].len, &b));
	gdoi_buf_free(&b);
	mm_free(&x);

	/* not a Main Mode message at all */
	mm_fast_until(&x, 1);
	gdoi_buf_init(&b);
	gdoi_put_bytes(&b, x.m[2].data, x.m[2].len);
	b.data[18] = ISAKMP_EXCH_INFO;
	assert_ignored(&x.i, IKE_I_SA_SENT, mm_deliver(&x, 2, b.data, b.len, &x.m[3]));
	gdoi_buf_free(&b);
	mm_free(&x);

	/* anything new after the exchange ended: message 5 and 6, one bit off */
	mm_fast_established(&x);
	x.m[5].data[x.m[5].len - 1] ^= 0x80;
	assert_ignored(&x.r, IKE_ESTABLISHED, mm_deliver(&x, 5, x.m[5].data, x.m[5].len, &x.m[7]));
	x.m[6].data[x.m[6].len - 1] ^= 0x80;
	assert_ignored(&x.i, IKE_ESTABLISHED, mm_deliver(&x, 6, x.m[6].data, x.m[6].len, &x.m[7]));
	mm_free(&x);
}

/* ---- injected and replayed messages (issue 13, items 4 and 5) ------------------------------- */

/* x's message 3 with another responder cookie into b. */
static void msg3_with_rcky(const struct mm *x, const uint8_t rcky[8], struct gdoi_buf *b)
{
	gdoi_buf_init(b);
	gdoi_put_bytes(b, x->m[3].data, x->m[3].len);
	memcpy(b->data + 8, rcky, 8);
}

/* A blind spoofer does not know our responder cookie: message 3 with
 * none or another one gets no answer and costs no Diffie-Hellman. */
static void test_msg3_blind_cookie(void **state)
{
	static const uint8_t zero[8], other[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	const uint8_t *bad[] = { zero, other };
	struct mm x;
	struct gdoi_buf b;
	(void)state;
	mm_fast_until(&x, 2);
	for (size_t k = 0; k < 2; k++) {
		msg3_with_rcky(&x, bad[k], &b);
		assert_ignored(&x.r, IKE_R_SA_SENT, mm_deliver(&x, 3, b.data, b.len, &x.m[4]));
		assert_null(x.r.dh);
		assert_int_equal(x.m[4].len, 0);
		gdoi_buf_free(&b);
	}
	mm_until(&x, 6);   /* the genuine message 3 still works */
	assert_int_equal(x.r.state, IKE_ESTABLISHED);
	mm_free(&x);
}

/* Message 3 captured from one exchange and replayed to a fresh one
 * (its message 1 replayed first): the cookie is not the new one. */
static void test_msg3_replayed(void **state)
{
	struct mm x;
	(void)state;
	mm_fast_established(&x);
	struct ike_sa fresh;
	struct gdoi_buf out;
	gdoi_buf_init(&out);
	ike_sa_init(&fresh, 0, (const struct sockaddr *)&x.ia, sizeof(x.ia));
	assert_int_equal(ike_input(&fresh, x.m[1].data, x.m[1].len, &FAST, 1, psk_cb, &x.src, &out), 1);
	assert_memory_not_equal(fresh.rcky, x.r.rcky, 8);
	gdoi_buf_free(&out);
	assert_ignored(&fresh, IKE_R_SA_SENT,
		       ike_input(&fresh, x.m[3].data, x.m[3].len, &FAST, 1, psk_cb, &x.src, &out));
	assert_null(fresh.dh);
	assert_int_equal(out.len, 0);
	/* nor with the cookie zeroed */
	static const uint8_t zero[8];
	struct gdoi_buf b;
	msg3_with_rcky(&x, zero, &b);
	assert_ignored(&fresh, IKE_R_SA_SENT, ike_input(&fresh, b.data, b.len, &FAST, 1, psk_cb, &x.src, &out));
	assert_null(fresh.dh);
	gdoi_buf_free(&b);
	gdoi_buf_free(&out);
	ike_sa_free(&fresh);
	mm_free(&x);
}

/* The owner may choose the responder cookie (a stateless one) before
 * message 1: message 2 carries it. */
static void test_preset_cookie(void **state)
{
	static const uint8_t mine[8] = { 0xc0, 0x0c, 0x1e, 0x5a, 0x11, 0x22, 0x33, 0x44 };
	struct mm x;
	(void)state;
	mm_init(&x, psk_right, 1);
	memcpy(x.r.rcky, mine, 8);
	mm_start(&x, &FAST, 1, &FAST, 1, PSK);
	mm_until(&x, 6);
	assert_memory_equal(x.m[2].data + 8, mine, 8);
	assert_memory_equal(x.i.rcky, mine, 8);
	assert_int_equal(x.r.state, IKE_ESTABLISHED);
	mm_free(&x);
}

/* Someone who sees the cookies sends a message 3 without KE, or with a
 * bad one, before the genuine one: ignored, the exchange goes on. */
static void test_msg3_injected(void **state)
{
	uint8_t nonce[16], ke[CRYPTO_MAX_DH] = { 0 };
	struct mm x;
	struct gdoi_buf b;
	(void)state;
	fill(nonce, sizeof(nonce), 1);
	mm_fast_until(&x, 2);
	craft_ke(&x.r, NULL, 0, nonce, sizeof(nonce), &b);
	assert_ignored(&x.r, IKE_R_SA_SENT, mm_deliver(&x, 3, b.data, b.len, &x.m[7]));
	gdoi_buf_free(&b);
	craft_ke(&x.r, ke, crypto_dh_pub_len(FAST.group), nonce, sizeof(nonce), &b);
	assert_ignored(&x.r, IKE_R_SA_SENT, mm_deliver(&x, 3, b.data, b.len, &x.m[7]));
	assert_null(x.r.dh);
	gdoi_buf_free(&b);
	mm_until(&x, 6);
	assert_int_equal(x.r.state, IKE_ESTABLISHED);
	assert_int_equal(x.i.state, IKE_ESTABLISHED);
	mm_free(&x);
}

/* 64 bytes of noise with the cookies before the genuine message 5: the
 * genuine one still authenticates. Three different failures end it. */
static void test_msg5_injected(void **state)
{
	struct mm x;
	struct gdoi_buf b;
	(void)state;
	mm_fast_until(&x, 4);
	craft_noise(&x.r, 64, &b);
	assert_ignored(&x.r, IKE_R_KE_SENT, mm_deliver(&x, 5, b.data, b.len, &x.m[6]));
	assert_int_equal(x.r.auth_failures, 1);
	gdoi_buf_free(&b);
	assert_int_equal(mm_feed(&x, 5), 1);
	assert_int_equal(x.r.state, IKE_ESTABLISHED);
	assert_int_equal(mm_feed(&x, 6), 0);
	assert_int_equal(x.i.state, IKE_ESTABLISHED);
	mm_free(&x);

	mm_fast_until(&x, 4);
	for (size_t k = 0; k < IKE_MAX_AUTH_FAILURES; k++) {
		craft_noise(&x.r, 16 * (k + 1), &b);
		int rc = mm_deliver(&x, 5, b.data, b.len, &x.m[6]);
		if (k + 1 < IKE_MAX_AUTH_FAILURES)
			assert_ignored(&x.r, IKE_R_KE_SENT, rc);
		else
			assert_failed(&x.r, rc);
		gdoi_buf_free(&b);
	}
	assert_int_equal(x.r.notify, ISAKMP_N_AUTHENTICATION_FAILED);
	mm_free(&x);
}

/* ---- damaged messages ---------------------------------------------------------------------- */

static void test_tamper_msg5(void **state)
{
	(void)state;
	for (size_t off = 0;; off++) {
		struct mm x;
		mm_fast_until(&x, 4);
		size_t body = x.m[5].len - ISAKMP_HDR_LEN;
		if (off == body) {
			mm_free(&x);
			break;
		}
		x.m[5].data[ISAKMP_HDR_LEN + off] ^= (uint8_t)(1u << (off % 8));
		assert_ignored(&x.r, IKE_R_KE_SENT, mm_feed(&x, 5));   /* the first time */
		assert_failed(&x.r, mm_feed(&x, 5));
		assert_int_equal(x.r.notify, ISAKMP_N_AUTHENTICATION_FAILED);
		assert_null(x.r.psk);
		assert_int_equal(x.m[6].len, 0);
		mm_free(&x);
	}
}

static void test_tamper_msg6(void **state)
{
	(void)state;
	for (size_t off = 0;; off++) {
		struct mm x;
		mm_fast_until(&x, 5);
		size_t body = x.m[6].len - ISAKMP_HDR_LEN;
		if (off == body) {
			mm_free(&x);
			break;
		}
		x.m[6].data[ISAKMP_HDR_LEN + off] ^= (uint8_t)(0x80u >> (off % 8));
		assert_failed(&x.i, mm_feed(&x, 6));
		mm_free(&x);
	}
}

/* Sets the header length to the buffer's after changing it. */
static void set_len(struct gdoi_buf *b, size_t len)
{
	b->len = len;
	gdoi_finish(b);
}

static void test_bad_encrypted_length(void **state)
{
	struct mm x;
	(void)state;

	/* message 5 one byte short: not whole blocks, so not the member's:
	 * ignored, however often, and not counted as a failed authentication */
	mm_fast_until(&x, 4);
	set_len(&x.m[5], x.m[5].len - 1);
	for (int k = 0; k < 4; k++)
		assert_ignored(&x.r, IKE_R_KE_SENT, mm_feed(&x, 5));
	assert_int_equal(x.r.auth_failures, 0);
	mm_free(&x);
	/* one block short: whole blocks, but the HASH is cut: fails when
	 * the same bytes come again */
	mm_fast_until(&x, 4);
	set_len(&x.m[5], x.m[5].len - x.i.block);   /* the responder has no keys yet */
	assert_ignored(&x.r, IKE_R_KE_SENT, mm_feed(&x, 5));
	assert_failed(&x.r, mm_feed(&x, 5));
	mm_free(&x);
	/* the header alone */
	mm_fast_until(&x, 4);
	set_len(&x.m[5], ISAKMP_HDR_LEN);
	for (int k = 0; k < 4; k++)
		assert_ignored(&x.r, IKE_R_KE_SENT, mm_feed(&x, 5));
	assert_int_equal(x.r.auth_failures, 0);
	mm_free(&x);

	/* message 6: one byte short, less than a block, the header alone */
	mm_fast_until(&x, 5);
	set_len(&x.m[6], x.m[6].len - 1);
	assert_failed(&x.i, mm_feed(&x, 6));
	mm_free(&x);
	mm_fast_until(&x, 5);
	set_len(&x.m[6], ISAKMP_HDR_LEN + 8);
	assert_failed(&x.i, mm_feed(&x, 6));
	mm_free(&x);
	mm_fast_until(&x, 5);
	set_len(&x.m[6], ISAKMP_HDR_LEN);
	assert_failed(&x.i, mm_feed(&x, 6));
	mm_free(&x);
}

/* Message 3 (to_responder) or 4 with the given KE and nonce; rc wanted. */
static void try_ke_nonce(int to_responder, const uint8_t *ke, size_t ke_len, const uint8_t *nonce,
			 size_t nonce_len, int want)
{
	struct mm x;
	struct gdoi_buf b;
	mm_fast_until(&x, to_responder ? 1 : 3);
	struct ike_sa *to = to_responder ? &x.r : &x.i;
	craft_ke(to, ke, ke_len, nonce, nonce_len, &b);
	int rc = mm_deliver(&x, to_responder ? 3 : 4, b.data, b.len, &x.m[7]);
	if (want < 0 && to_responder) {
		/* the responder ignores it (it may be injected) before any DH */
		assert_ignored(to, IKE_R_SA_SENT, rc);
		assert_null(to->dh);
		assert_int_equal(x.m[7].len, 0);
	} else if (want < 0) {
		assert_failed(to, rc);
	} else {
		if (rc != want)
			fail_msg("KE %zu, nonce %zu: %d (%s)", ke_len, nonce_len, rc, to->error);
		size_t got = to_responder ? to->ni_len : to->nr_len;
		assert_int_equal(got, nonce_len);
		assert_memory_equal(to_responder ? to->ni : to->nr, nonce, nonce_len);
		assert_int_equal(to->state, to_responder ? IKE_R_KE_SENT : IKE_I_AUTH_SENT);
	}
	gdoi_buf_free(&b);
	mm_free(&x);
}

static void test_bad_ke(void **state)
{
	uint8_t ke[CRYPTO_MAX_DH + 1], nonce[32];
	size_t gl = crypto_dh_pub_len(FAST.group);
	(void)state;
	fill(nonce, sizeof(nonce), 3);
	for (int side = 0; side < 2; side++) {
		fill(ke, sizeof(ke), 11);
		try_ke_nonce(side, ke, gl - 1, nonce, sizeof(nonce), -1);
		try_ke_nonce(side, ke, gl + 1, nonce, sizeof(nonce), -1);
		try_ke_nonce(side, ke, 0, nonce, sizeof(nonce), -1);
		try_ke_nonce(side, ke, crypto_dh_pub_len(CRYPTO_DH_MODP2048), nonce, sizeof(nonce), -1);
		try_ke_nonce(side, ke, gl, nonce, sizeof(nonce), -1);   /* not on the curve */
		memset(ke, 0, sizeof(ke));
		try_ke_nonce(side, ke, gl, nonce, sizeof(nonce), -1);   /* zero */
		try_ke_nonce(side, NULL, 0, nonce, sizeof(nonce), -1);  /* no KE */
		try_ke_nonce(side, ke, gl, NULL, 0, -1);                /* no nonce */
	}

	/* the initiator fails on missing payloads with INVALID-PAYLOAD-TYPE;
	 * the responder sends nothing */
	struct mm x;
	struct gdoi_buf b;
	mm_fast_until(&x, 3);
	craft_ke(&x.i, ke, gl, NULL, 0, &b);
	assert_failed(&x.i, mm_deliver(&x, 4, b.data, b.len, &x.m[5]));
	assert_int_equal(x.i.notify, ISAKMP_N_INVALID_PAYLOAD_TYPE);
	gdoi_buf_free(&b);
	mm_free(&x);
	mm_fast_until(&x, 1);
	craft_ke(&x.r, ke, gl, NULL, 0, &b);
	assert_ignored(&x.r, IKE_R_SA_SENT, mm_deliver(&x, 3, b.data, b.len, &x.m[4]));
	gdoi_buf_free(&b);
	mm_free(&x);
}

static void test_nonce_length(void **state)
{
	static const struct { size_t len; int ok; } cases[] = {
		{ 0, 0 }, { 4, 0 }, { 7, 0 }, { 8, 1 }, { 32, 1 }, { 256, 1 }, { 257, 0 },
	};
	uint8_t ke[CRYPTO_MAX_DH], nonce[300];
	size_t kl;
	(void)state;
	struct crypto_dh *dh = crypto_dh_new(FAST.group);
	assert_non_null(dh);
	assert_int_equal(crypto_dh_public(dh, ke, &kl), 0);
	fill(nonce, sizeof(nonce), 5);
	for (int side = 0; side < 2; side++)
		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
			try_ke_nonce(side, ke, kl, nonce, cases[k].len, cases[k].ok ? 1 : -1);
	crypto_dh_free(dh);
}

/* ---- sealing and opening under the phase 1 SA ----------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_pull(const struct ike_sa *sa, uint32_t msgid, struct gdoi_buf *b)
{
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = GDOI_EXCH_PULL,
				.msgid = msgid };
	memcpy(h.icookie, sa->icky, 8);
	memcpy(h.rcookie, sa->rcky, 8);
	gdoi_buf_init(b);
	gdoi_put_hdr(b, &h);
}

/* from seals messages of every length up to two blocks and more, to opens
 * them; both IVs go on from message to message. */
static void seal_open_all(const struct ike_sa *from, const struct ike_sa *to, uint32_t msgid)
{
	size_t bl = from->block;
	uint8_t iv_s[CRYPTO_MAX_BLOCK], iv_o[CRYPTO_MAX_BLOCK], data[80];
	assert_int_equal(ike_exchange_iv(from, msgid, iv_s), 0);
	assert_int_equal(ike_exchange_iv(to, msgid, iv_o), 0);
	for (size_t n = 0; n <= 2 * bl + 1; n++) {
		struct gdoi_buf b;
		uint8_t *plain, *orig;
		put_pull(from, msgid, &b);
		fill(data, n, (uint8_t)n);
		gdoi_put_payload(&b, ISAKMP_NP_NONCE, data, n);
		gdoi_finish(&b);
		size_t len = b.len, body = len - ISAKMP_HDR_LEN;
		size_t padded = (body + bl - 1) / bl * bl;
		orig = malloc(len);
		assert_non_null(orig);
		memcpy(orig, b.data, len);

		assert_int_equal(ike_seal(from, &b, iv_s), 0);
		assert_int_equal(b.len, ISAKMP_HDR_LEN + padded);
		assert_int_equal((b.len - ISAKMP_HDR_LEN) % bl, 0);
		assert_int_equal(b.data[19], ISAKMP_FLAG_ENC);
		assert_int_equal(be32(b.data + 24), b.len);
		assert_memory_equal(b.data, orig, 19);               /* cookies, np, version, exchange */
		assert_memory_equal(b.data + 20, orig + 20, 4);      /* message id */
		assert_memory_not_equal(b.data + ISAKMP_HDR_LEN, orig + ISAKMP_HDR_LEN, body);
		assert_memory_equal(iv_s, b.data + b.len - bl, bl);

		assert_int_equal(ike_open(to, b.data, b.len, iv_o, &plain), 0);
		assert_non_null(plain);
		assert_memory_equal(plain, b.data, ISAKMP_HDR_LEN);
		assert_memory_equal(plain + ISAKMP_HDR_LEN, orig + ISAKMP_HDR_LEN, body);
		for (size_t k = len; k < b.len; k++)
			assert_int_equal(plain[k], 0);
		assert_memory_equal(iv_o, iv_s, bl);
		free(plain);
		free(orig);
		gdoi_buf_free(&b);
	}
}

static void test_seal_open(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(suites) / sizeof(suites[0]); k++) {
		struct mm x;
		mm_init(&x, psk_right, 1);
		mm_full(&x, suites[k], 1, suites[k], 1, PSK);
		seal_open_all(&x.i, &x.r, 0x01020304);
		seal_open_all(&x.r, &x.i, 0xfeedf00d);
		mm_free(&x);
	}
}

/* An exact-size heap copy, so AddressSanitizer sees any read past len. */
static uint8_t *dup_bytes(const uint8_t *p, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);
	assert_non_null(d);
	memcpy(d, p, len);
	return d;
}

static void expect_open_refused(const struct ike_sa *sa, const uint8_t *msg, size_t len)
{
	uint8_t iv[CRYPTO_MAX_BLOCK];
	uint8_t *plain = (uint8_t *)1;
	uint8_t *copy = dup_bytes(msg, len);
	assert_int_equal(ike_exchange_iv(sa, 7, iv), 0);
	assert_int_equal(ike_open(sa, copy, len, iv, &plain), -1);
	assert_null(plain);
	free(copy);
}

static void test_open_rejects(void **state)
{
	struct mm x;
	struct gdoi_buf b;
	uint8_t iv[CRYPTO_MAX_BLOCK], data[5] = { 1, 2, 3, 4, 5 };
	(void)state;
	mm_fast_established(&x);
	put_pull(&x.i, 7, &b);
	gdoi_put_payload(&b, ISAKMP_NP_NONCE, data, sizeof(data));
	gdoi_finish(&b);
	assert_int_equal(ike_exchange_iv(&x.i, 7, iv), 0);
	assert_int_equal(ike_seal(&x.i, &b, iv), 0);
	assert_int_equal(b.len, ISAKMP_HDR_LEN + 16);

	expect_open_refused(&x.r, b.data, b.len - 1);
	expect_open_refused(&x.r, b.data, b.len - 15);
	gdoi_put_u8(&b, 0);
	expect_open_refused(&x.r, b.data, b.len);              /* one byte more */
	b.len--;
	expect_open_refused(&x.r, b.data, ISAKMP_HDR_LEN);     /* nothing to decrypt */
	expect_open_refused(&x.r, b.data, ISAKMP_HDR_LEN - 1);
	expect_open_refused(&x.r, b.data, 0);
	b.data[19] &= (uint8_t)~ISAKMP_FLAG_ENC;
	expect_open_refused(&x.r, b.data, b.len);              /* no E flag */

	/* and an SA that has no keys yet */
	b.data[19] |= ISAKMP_FLAG_ENC;
	struct ike_sa fresh;
	ike_sa_init(&fresh, 0, NULL, 0);
	uint8_t *plain = (uint8_t *)1;
	assert_int_equal(ike_open(&fresh, b.data, b.len, iv, &plain), -1);
	assert_null(plain);
	ike_sa_free(&fresh);
	gdoi_buf_free(&b);
	mm_free(&x);
}

/* Before message 5 there is no cipher block size: ike_open and
 * ike_exchange_iv refuse, and so must ike_seal (today it divides by zero,
 * ike.c ike_seal: "sa->block - body % sa->block"). The buffer is freed
 * by the teardown, so a crash here leaks nothing. */
static struct gdoi_buf seal_buf;

static int free_seal_buf(void **state)
{
	(void)state;
	gdoi_buf_free(&seal_buf);
	return 0;
}

static void test_seal_without_keys(void **state)
{
	struct ike_sa sa;
	uint8_t iv[CRYPTO_MAX_BLOCK] = { 0 }, data[5] = { 0 };
	(void)state;
	ike_sa_init(&sa, 1, NULL, 0);
	assert_int_equal(ike_exchange_iv(&sa, 9, iv), -1);
	put_pull(&sa, 9, &seal_buf);
	gdoi_put_payload(&seal_buf, ISAKMP_NP_NONCE, data, sizeof(data));
	gdoi_finish(&seal_buf);
	assert_int_equal(ike_seal(&sa, &seal_buf, iv), -1);
	ike_sa_free(&sa);
}

/* ---- HASH(n) of later exchanges ---------------------------------------------------------- */

struct hashed {
	struct gdoi_buf b;
	size_t hash_at;       /* offset of the HASH payload */
};

/* HDR, HASH, NONCE, ID with the hash filled for msgid and prefix. */
static void build_hashed(const struct ike_sa *sa, uint32_t msgid, const struct crypto_iov *prefix,
			 size_t n_prefix, struct hashed *m)
{
	uint8_t zero[CRYPTO_MAX_HASH] = { 0 }, nonce[20];
	struct gdoi_id id = { .type = ISAKMP_ID_KEY_ID, .len = 5 };
	memcpy(id.data, "group", 5);
	fill(nonce, sizeof(nonce), 77);
	put_pull(sa, msgid, &m->b);
	m->hash_at = m->b.len;
	gdoi_put_payload(&m->b, ISAKMP_NP_HASH, zero, sa->keys.hash_len);
	gdoi_put_payload(&m->b, ISAKMP_NP_NONCE, nonce, sizeof(nonce));
	gdoi_put_id(&m->b, &id);
	gdoi_finish(&m->b);
	size_t after = m->hash_at + 4 + sa->keys.hash_len;
	assert_int_equal(ike_hash_a(sa, msgid, prefix, n_prefix, m->b.data + after,
				    m->b.len - after, m->b.data + m->hash_at + 4), 0);
}

/* ike_check_hash_a on a message (parsed as an exact-size copy); -2 when
 * the chain does not even parse. */
static int check_hashed(const struct ike_sa *sa, uint32_t msgid, const struct crypto_iov *prefix,
			size_t n_prefix, const uint8_t *msg, size_t len, int allow_pad)
{
	struct gdoi_chain c;
	uint8_t *copy = dup_bytes(msg, len);
	int rc = -2;
	if (gdoi_chain_parse(copy[16], copy + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN, allow_pad, &c) == 0)
		rc = ike_check_hash_a(sa, msgid, prefix, n_prefix, &c, copy + ISAKMP_HDR_LEN);
	free(copy);
	return rc;
}

static void test_hash_a(void **state)
{
	struct mm x;
	struct hashed m;
	uint8_t ni[16], nr[24], h[CRYPTO_MAX_HASH];
	const uint32_t msgid = 0x0badcafe;
	(void)state;
	fill(ni, sizeof(ni), 1);
	fill(nr, sizeof(nr), 2);
	struct crypto_iov pre[2] = { { ni, sizeof(ni) }, { nr, sizeof(nr) } };
	mm_init(&x, psk_right, 1);
	mm_full(&x, &AES256_SHA512_ECP384, 1, &AES256_SHA512_ECP384, 1, PSK);
	size_t hl = x.i.keys.hash_len;
	build_hashed(&x.i, msgid, pre, 2, &m);
	const uint8_t *hash = m.b.data + m.hash_at + 4;
	size_t after = m.hash_at + 4 + hl;

	/* prf(SKEYID_a, M-ID | Ni_b | Nr_b | rest), computed here */
	const uint8_t mid[4] = { 0x0b, 0xad, 0xca, 0xfe };
	struct crypto_iov v[] = { { mid, 4 }, { ni, sizeof(ni) }, { nr, sizeof(nr) },
				  { m.b.data + after, m.b.len - after } };
	assert_int_equal(crypto_prf(x.i.keys.hash, x.i.keys.skeyid_a, hl, v, 4, h), 0);
	assert_memory_equal(h, hash, hl);

	/* verifies on both sides, with and without block padding */
	assert_int_equal(check_hashed(&x.r, msgid, pre, 2, m.b.data, m.b.len, 0), 0);
	assert_int_equal(check_hashed(&x.i, msgid, pre, 2, m.b.data, m.b.len, 0), 0);
	gdoi_put_bytes(&m.b, "\0\0\0\0\0", 5);
	assert_int_equal(check_hashed(&x.r, msgid, pre, 2, m.b.data, m.b.len, 1), 0);
	m.b.len -= 5;

	/* another msgid, another or a missing prefix */
	assert_int_equal(check_hashed(&x.r, msgid + 1, pre, 2, m.b.data, m.b.len, 0), -1);
	assert_int_equal(check_hashed(&x.r, msgid, pre, 1, m.b.data, m.b.len, 0), -1);
	assert_int_equal(check_hashed(&x.r, msgid, NULL, 0, m.b.data, m.b.len, 0), -1);
	struct crypto_iov swapped[2] = { pre[1], pre[0] };
	assert_int_equal(check_hashed(&x.r, msgid, swapped, 2, m.b.data, m.b.len, 0), -1);
	nr[5] ^= 1;
	assert_int_equal(check_hashed(&x.r, msgid, pre, 2, m.b.data, m.b.len, 0), -1);
	nr[5] ^= 1;

	/* any byte of the hash or after it */
	size_t checked = 0;
	for (size_t off = m.hash_at + 4; off < m.b.len; off++) {
		m.b.data[off] ^= 0x20;
		int rc = check_hashed(&x.r, msgid, pre, 2, m.b.data, m.b.len, 0);
		if (rc != -2) {
			assert_int_equal(rc, -1);
			checked++;
		}
		m.b.data[off] ^= 0x20;
	}
	assert_true(checked >= m.b.len - m.hash_at - 4 - 8);   /* all but a few header bytes */
	assert_int_equal(check_hashed(&x.r, msgid, pre, 2, m.b.data, m.b.len, 0), 0);
	gdoi_buf_free(&m.b);

	/* HASH not first, or of the wrong length */
	uint8_t body[8] = { 0 };
	put_pull(&x.i, msgid, &m.b);
	gdoi_put_payload(&m.b, ISAKMP_NP_NONCE, body, sizeof(body));
	gdoi_put_payload(&m.b, ISAKMP_NP_HASH, hash, 0);
	gdoi_finish(&m.b);
	assert_int_equal(check_hashed(&x.r, msgid, pre, 2, m.b.data, m.b.len, 0), -1);
	gdoi_buf_free(&m.b);
	build_hashed(&x.i, msgid, pre, 2, &m);
	memcpy(h, m.b.data + m.hash_at + 4, hl);
	gdoi_buf_free(&m.b);
	put_pull(&x.i, msgid, &m.b);
	gdoi_put_payload(&m.b, ISAKMP_NP_HASH, h, hl - 1);
	gdoi_finish(&m.b);
	assert_int_equal(check_hashed(&x.r, msgid, pre, 2, m.b.data, m.b.len, 0), -1);
	gdoi_buf_free(&m.b);

	/* an empty chain; too many prefix parts */
	struct gdoi_chain none = { 0 };
	assert_int_equal(ike_check_hash_a(&x.r, msgid, NULL, 0, &none, NULL), -1);
	struct crypto_iov seven[7] = { { ni, 1 }, { ni, 1 }, { ni, 1 }, { ni, 1 }, { ni, 1 },
				       { ni, 1 }, { ni, 1 } };
	assert_int_equal(ike_hash_a(&x.r, msgid, seven, 7, ni, 1, h), -1);
	assert_int_equal(ike_hash_a(&x.r, msgid, seven, 6, ni, 1, h), 0);
	mm_free(&x);
}

/* ---- the plaintext hook ------------------------------------------------------------------- */

struct seen {
	uint8_t *msg[4];
	size_t len[4];
	int inbound[4];
	size_t n;
};

static void record(void *arg, const uint8_t *msg, size_t len, int inbound)
{
	struct seen *s = arg;
	assert_true(s->n < 4);
	s->msg[s->n] = dup_bytes(msg, len);
	s->len[s->n] = len;
	s->inbound[s->n++] = inbound;
}

static void test_plain_hook(void **state)
{
	struct mm x;
	struct seen si = { 0 }, sr = { 0 };
	(void)state;
	mm_init(&x, psk_right, 1);
	x.i.plain_hook = x.r.plain_hook = record;
	x.i.hook_arg = &si;
	x.r.hook_arg = &sr;
	mm_full(&x, &FAST, 1, &FAST, 1, PSK);
	assert_int_equal(si.n, 2);
	assert_int_equal(sr.n, 2);
	assert_int_equal(si.inbound[0], 0);   /* message 5 out */
	assert_int_equal(sr.inbound[0], 1);   /* message 5 in */
	assert_int_equal(sr.inbound[1], 0);   /* message 6 out */
	assert_int_equal(si.inbound[1], 1);   /* message 6 in */
	/* what one side sealed is what the other opened, padding left out */
	assert_int_equal(si.len[0], sr.len[0]);
	assert_memory_equal(si.msg[0], sr.msg[0], si.len[0]);
	assert_int_equal(sr.len[1], si.len[1]);
	assert_memory_equal(sr.msg[1], si.msg[1], sr.len[1]);
	for (size_t k = 0; k < 2; k++) {
		const uint8_t *p = si.msg[k];
		assert_int_equal(p[19] & ISAKMP_FLAG_ENC, 0);
		assert_int_equal(be32(p + 24), si.len[k]);
		assert_int_equal(p[16], ISAKMP_NP_ID);
		struct gdoi_chain c;
		assert_int_equal(gdoi_chain_parse(p[16], p + ISAKMP_HDR_LEN, si.len[k] - ISAKMP_HDR_LEN,
						  0, &c), 0);
		free(si.msg[k]);
		free(sr.msg[k]);
	}
	mm_free(&x);
}

/* ---- freeing in every state ---------------------------------------------------------------- */

static void assert_wiped(const struct ike_sa *sa)
{
	static const uint8_t zero[sizeof(sa->gxy)];
	assert_null(sa->psk);
	assert_null(sa->dh);
	assert_null(sa->sai_b);
	assert_null(sa->last_in);
	assert_null(sa->last_out);
	assert_memory_equal(&sa->keys, zero, sizeof(sa->keys));
	assert_memory_equal(sa->gxy, zero, sizeof(sa->gxy));
	assert_memory_equal(sa->ni, zero, sizeof(sa->ni));
	assert_memory_equal(sa->nr, zero, sizeof(sa->nr));
	assert_memory_equal(sa->iv, zero, sizeof(sa->iv));
}

static void free_and_check(struct mm *x)
{
	ike_sa_free(&x->i);
	ike_sa_free(&x->r);
	assert_wiped(&x->i);
	assert_wiped(&x->r);
	for (size_t k = 0; k < N_MSG; k++)
		gdoi_buf_free(&x->m[k]);
}

static void test_free_every_state(void **state)
{
	static const struct { int upto; enum ike_state i, r; } steps[] = {
		{ -1, IKE_NEW, IKE_NEW },
		{ 0, IKE_I_SA_SENT, IKE_NEW },
		{ 1, IKE_I_SA_SENT, IKE_R_SA_SENT },
		{ 2, IKE_I_KE_SENT, IKE_R_SA_SENT },
		{ 3, IKE_I_KE_SENT, IKE_R_KE_SENT },
		{ 4, IKE_I_AUTH_SENT, IKE_R_KE_SENT },
		{ 5, IKE_I_AUTH_SENT, IKE_ESTABLISHED },
		{ 6, IKE_ESTABLISHED, IKE_ESTABLISHED },
	};
	struct mm x;
	struct gdoi_buf b;
	uint8_t zero[CRYPTO_MAX_DH] = { 0 }, nonce[16] = { 0 };
	static const char *const wrong[] = { "wrong" };
	(void)state;

	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		mm_init(&x, psk_right, 1);
		if (steps[k].upto >= 0)
			mm_start(&x, &FAST, 1, &FAST, 1, PSK);
		mm_until(&x, steps[k].upto);
		assert_int_equal(x.i.state, steps[k].i);
		assert_int_equal(x.r.state, steps[k].r);
		free_and_check(&x);
	}

	/* FAILED at each point where something is held */
	mm_init(&x, psk_right, 1);                                   /* nothing to offer */
	assert_int_equal(ike_initiator_start(&x.i, &FAST, 0, PSK, &x.id_i, &x.m[1]), -1);
	assert_int_equal(x.i.state, IKE_FAILED);
	free_and_check(&x);

	mm_init(&x, psk_right, 1);                                   /* message 1 refused */
	mm_start(&x, &FAST, 1, &TDES_MD5_MODP1536, 1, PSK);
	assert_failed(&x.r, mm_feed(&x, 1));
	free_and_check(&x);

	mm_fast_until(&x, 1);                                        /* message 2 refused */
	craft_msg2(&x, NULL, 0, &b);
	assert_failed(&x.i, mm_deliver(&x, 2, b.data, b.len, &x.m[3]));
	gdoi_buf_free(&b);
	free_and_check(&x);

	mm_fast_until(&x, 1);                      /* message 3: KE zero, ignored before any DH */
	craft_ke(&x.r, zero, crypto_dh_pub_len(FAST.group), nonce, sizeof(nonce), &b);
	assert_ignored(&x.r, IKE_R_SA_SENT, mm_deliver(&x, 3, b.data, b.len, &x.m[4]));
	assert_null(x.r.dh);
	gdoi_buf_free(&b);
	free_and_check(&x);

	mm_fast_until(&x, 3);                                        /* message 4: KE zero */
	craft_ke(&x.i, zero, crypto_dh_pub_len(FAST.group), nonce, sizeof(nonce), &b);
	assert_failed(&x.i, mm_deliver(&x, 4, b.data, b.len, &x.m[5]));
	gdoi_buf_free(&b);
	free_and_check(&x);

	mm_init(&x, wrong, 1);                      /* message 5: wrong key, and retransmitted */
	mm_start(&x, &FAST, 1, &FAST, 1, PSK);
	mm_until(&x, 4);
	assert_ignored(&x.r, IKE_R_KE_SENT, mm_feed(&x, 5));
	assert_failed(&x.r, mm_feed(&x, 5));
	free_and_check(&x);

	mm_fast_until(&x, 5);                                        /* message 6 damaged */
	x.m[6].data[ISAKMP_HDR_LEN] ^= 1;
	assert_failed(&x.i, mm_feed(&x, 6));
	free_and_check(&x);

	mm_fast_established(&x);                                     /* late message */
	assert_int_equal(mm_deliver(&x, 1, x.m[1].data, x.m[1].len, &x.m[7]), -1);
	free_and_check(&x);
}

static void test_start_rejects(void **state)
{
	struct ike_proposal many[IKE_MAX_PROPOSALS + 1];
	struct mm x;
	(void)state;
	for (size_t k = 0; k < IKE_MAX_PROPOSALS + 1; k++)
		many[k] = FAST;
	mm_init(&x, psk_right, 1);
	assert_int_equal(ike_initiator_start(&x.i, many, IKE_MAX_PROPOSALS + 1, PSK, &x.id_i, &x.m[1]),
			 -1);
	assert_int_equal(x.i.state, IKE_FAILED);
	mm_free(&x);
	/* eight is allowed, and the responder takes the first */
	many[0].key_bits = 128;
	expect_choice(many, IKE_MAX_PROPOSALS, many, IKE_MAX_PROPOSALS, 1);
}

/* ---- DOIs and offers as other members send them ------------------------------------------ */

static uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Message 1 and 2 carry the DOI and situation the initiator chose. */
static void expect_doi(uint32_t doi, uint32_t sit)
{
	struct mm x;
	mm_init(&x, psk_right, 1);
	if (doi)
		assert_int_equal(ike_set_p1_doi(&x.i, doi), 0);
	mm_full(&x, &FAST, 1, &FAST, 1, PSK);
	for (int k = 1; k <= 2; k++) {
		struct gdoi_payload p = payload_of(&x.m[k], ISAKMP_NP_SA);
		assert_int_equal(be32_at(p.body), doi ? doi : GDOI_DOI);
		assert_int_equal(be32_at(p.body + 4), sit);
	}
	assert_int_equal(x.r.doi, doi ? doi : GDOI_DOI);
	assert_int_equal(x.r.situation, sit);
	check_agree(&x, &FAST, PSK);
	mm_free(&x);
}

static void test_doi_accepted(void **state)
{
	struct ike_sa sa;
	(void)state;
	expect_doi(0, 0);                                       /* the default: GDOI */
	expect_doi(GDOI_DOI, 0);
	expect_doi(ISAKMP_DOI_IPSEC, ISAKMP_SIT_IDENTITY_ONLY);
	ike_sa_init(&sa, 1, NULL, 0);
	assert_int_equal(ike_set_p1_doi(&sa, 3), -1);
	assert_int_equal(ike_set_p1_doi(&sa, 0), -1);
	assert_int_equal(sa.doi, GDOI_DOI);
	assert_int_equal(sa.situation, 0);
	ike_sa_free(&sa);
	ike_sa_init(&sa, 0, NULL, 0);
	assert_int_equal(sa.doi, ISAKMP_DOI_IPSEC);             /* a responder's notifies */
	ike_sa_free(&sa);
}

/* One transform of a crafted offer; attributes the responder does not
 * use (a lifetime in kilobytes) must come back in the answer all the same. */
static void put_transform(struct gdoi_buf *b, uint8_t num, const struct ike_proposal *p, int auth)
{
	size_t at = gdoi_begin(b, ISAKMP_NP_T);
	gdoi_put_u8(b, num);
	gdoi_put_u8(b, ISAKMP_KEY_IKE);
	gdoi_put_u16(b, 0);
	gdoi_put_attr(b, OAKLEY_ENCRYPTION, (uint32_t)p->cipher);
	if (p->key_bits)
		gdoi_put_attr(b, OAKLEY_KEY_LENGTH, p->key_bits);
	gdoi_put_attr(b, OAKLEY_HASH, (uint32_t)p->hash);
	gdoi_put_attr(b, OAKLEY_AUTH, (uint32_t)auth);
	gdoi_put_attr(b, OAKLEY_GROUP, (uint32_t)p->group);
	gdoi_put_attr(b, OAKLEY_LIFE_TYPE, 2);                  /* kilobytes */
	gdoi_put_attr(b, OAKLEY_LIFE_DURATION, 100000);
	gdoi_put_attr(b, OAKLEY_LIFE_TYPE, OAKLEY_LIFE_SECONDS);
	gdoi_put_attr(b, OAKLEY_LIFE_DURATION, p->life_seconds);
	gdoi_end(b, at);
}

/* Transform k of n in a crafted offer: something the responder (allowing
 * FAST only) refuses for one reason or another, except the last one
 * when last_ok. */
static void offer_transform(struct gdoi_buf *b, size_t k, size_t n, int last_ok, uint8_t num)
{
	struct ike_proposal p = FAST;
	int auth = OAKLEY_AUTH_PSK;
	p.life_seconds = (uint32_t)(86400 + k);
	if (k + 1 < n || !last_ok) {
		switch (k % 5) {
		case 0: p.cipher = CRYPTO_CIPHER_3DES; p.key_bits = 0; break;
		case 1: p.hash = CRYPTO_HASH_SHA1; break;
		case 2: auth = OAKLEY_AUTH_RSA_SIG; break;      /* FAST, but signatures */
		case 3: p.group = CRYPTO_DH_MODP2048; break;
		default: p.group = 99; break;                   /* unknown to us */
		}
	}
	put_transform(b, num, &p, auth);
}

/* A message 1 with icky: an SA (doi, sit) of n_prop proposals numbered
 * first_num.. with n_t transforms each. */
static void craft_offer(const uint8_t icky[8], uint32_t doi, uint32_t sit, size_t n_prop,
			size_t n_t, int last_ok, struct gdoi_buf *b)
{
	static const uint8_t zero[8];
	gdoi_buf_init(b);
	put_main_hdr(b, icky, zero, 0);
	size_t sa = gdoi_begin(b, ISAKMP_NP_SA);
	gdoi_put_u32(b, doi);
	gdoi_put_u32(b, sit);
	b->np_at = SIZE_MAX;
	for (size_t i = 0, k = 0; i < n_prop; i++) {
		size_t prop = gdoi_begin(b, ISAKMP_NP_P);
		gdoi_put_u8(b, (uint8_t)(10 + i));
		gdoi_put_u8(b, ISAKMP_PROTO_ISAKMP);
		gdoi_put_u8(b, 0);
		gdoi_put_u8(b, (uint8_t)n_t);
		b->np_at = SIZE_MAX;
		for (size_t j = 0; j < n_t; j++, k++)
			offer_transform(b, k, n_prop * n_t, last_ok, (uint8_t)(j + 1));
		gdoi_end(b, prop);
		b->np_at = prop;
	}
	gdoi_end(b, sa);
	b->np_at = sa;
	gdoi_finish(b);
}

/* A fresh responder (allowing FAST) fed msg as message 1. */
static int offer_to_responder(struct mm *x, const struct gdoi_buf *msg)
{
	mm_init(x, psk_right, 1);
	x->allowed = &FAST;
	x->n_allowed = 1;
	return mm_deliver(x, 1, msg->data, msg->len, &x->m[2]);
}

static void expect_refused(const struct gdoi_buf *msg, int notify, uint32_t notify_doi)
{
	struct mm x;
	assert_failed(&x.r, offer_to_responder(&x, msg));
	assert_int_equal(x.r.notify, notify);
	assert_int_equal(x.r.doi, notify_doi);
	assert_int_equal(x.m[2].len, 0);
	mm_free(&x);
}

static void test_doi_refused(void **state)
{
	static const uint8_t icky[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const struct { uint32_t doi, sit; int notify; uint32_t notify_doi; } cases[] = {
		{ 3, 0, ISAKMP_N_DOI_NOT_SUPPORTED, ISAKMP_DOI_IPSEC },
		{ 0, 0, ISAKMP_N_DOI_NOT_SUPPORTED, ISAKMP_DOI_IPSEC },
		{ 0xffffffff, 1, ISAKMP_N_DOI_NOT_SUPPORTED, ISAKMP_DOI_IPSEC },
		{ ISAKMP_DOI_IPSEC, 0, ISAKMP_N_SITUATION_NOT_SUPPORTED, ISAKMP_DOI_IPSEC },
		{ ISAKMP_DOI_IPSEC, 3, ISAKMP_N_SITUATION_NOT_SUPPORTED, ISAKMP_DOI_IPSEC },
		{ GDOI_DOI, 1, ISAKMP_N_SITUATION_NOT_SUPPORTED, GDOI_DOI },
	};
	struct gdoi_buf b;
	struct mm x;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		craft_offer(icky, cases[i].doi, cases[i].sit, 1, 1, 1, &b);
		expect_refused(&b, cases[i].notify, cases[i].notify_doi);
		gdoi_buf_free(&b);
	}
	/* the same offer with a supported DOI is taken */
	craft_offer(icky, GDOI_DOI, 0, 1, 1, 1, &b);
	assert_int_equal(offer_to_responder(&x, &b), 1);
	assert_int_equal(x.r.doi, GDOI_DOI);
	assert_memory_equal(x.r.icky, icky, 8);
	mm_free(&x);
	gdoi_buf_free(&b);
}

/* TrustCore's shape: 4 proposals, 65 transforms each, only the last one
 * allowed. The answer is that proposal's number and that transform as
 * received; the exchange then completes with HASH_I/HASH_R over the
 * whole offer. */
static void test_many_proposals(void **state)
{
	struct mm x;
	struct gdoi_buf b;
	struct gdoi_p1_sa sa;
	(void)state;
	for (int doi = ISAKMP_DOI_IPSEC; doi <= GDOI_DOI; doi++) {
		uint32_t sit = doi == GDOI_DOI ? 0 : ISAKMP_SIT_IDENTITY_ONLY;
		mm_init(&x, psk_right, 1);
		assert_int_equal(ike_set_p1_doi(&x.i, (uint32_t)doi), 0);
		mm_start(&x, &FAST, 1, &FAST, 1, PSK);
		/* the initiator "sent" the crafted offer instead of its own */
		craft_offer(x.i.icky, (uint32_t)doi, sit, 4, 65, 1, &b);
		struct gdoi_payload offered = payload_of(&b, ISAKMP_NP_SA);
		free(x.i.sai_b);
		x.i.sai_b_len = offered.len;
		x.i.sai_b = malloc(offered.len);
		memcpy(x.i.sai_b, offered.body, offered.len);
		gdoi_buf_free(&x.m[1]);
		gdoi_put_bytes(&x.m[1], b.data, b.len);
		gdoi_buf_free(&b);

		assert_int_equal(mm_feed(&x, 1), 1);
		struct gdoi_payload p = payload_of(&x.m[2], ISAKMP_NP_SA);
		assert_int_equal(gdoi_p1_sa_parse(p.body, p.len, &sa), 0);
		assert_int_equal(sa.doi, doi);
		assert_int_equal(sa.situation, sit);
		assert_int_equal(sa.proposal, 13);
		assert_int_equal(sa.n, 1);
		assert_int_equal(sa.t[0].num, 65);
		assert_int_equal(sa.t[0].life_seconds, 86400 + 259);
		/* the last transform offered, byte for byte */
		assert_int_equal(sa.t[0].raw_len, p.len - 8 - 8);
		assert_memory_equal(sa.t[0].raw, x.i.sai_b + x.i.sai_b_len - sa.t[0].raw_len,
				    sa.t[0].raw_len);
		assert_int_equal(x.r.prop.life_seconds, 86400 + 259);
		for (int k = 2; k <= 6; k++)
			if (mm_feed(&x, k) != (k == 6 ? 0 : 1))
				fail_msg("message %d refused: %s", k, (k % 2 ? &x.r : &x.i)->error);
		assert_int_equal(x.i.state, IKE_ESTABLISHED);
		assert_int_equal(x.r.state, IKE_ESTABLISHED);
		struct ike_proposal chosen = FAST;
		chosen.life_seconds = 86400 + 259;
		check_agree(&x, &chosen, PSK);
		mm_free(&x);
	}
}

static void test_many_proposals_none_allowed(void **state)
{
	static const uint8_t icky[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	struct gdoi_buf b;
	struct mm x;
	(void)state;
	craft_offer(icky, ISAKMP_DOI_IPSEC, ISAKMP_SIT_IDENTITY_ONLY, 4, 65, 0, &b);
	expect_refused(&b, ISAKMP_N_NO_PROPOSAL_CHOSEN, ISAKMP_DOI_IPSEC);
	assert_failed(&x.r, offer_to_responder(&x, &b));
	assert_non_null(strstr(x.r.error, "260 transforms in 4 proposals"));
	mm_free(&x);
	gdoi_buf_free(&b);
	/* the limits: 64 proposals, 512 transforms in all */
	craft_offer(icky, GDOI_DOI, 0, 64, 8, 1, &b);
	assert_int_equal(offer_to_responder(&x, &b), 1);
	mm_free(&x);
	gdoi_buf_free(&b);
	craft_offer(icky, GDOI_DOI, 0, 65, 1, 1, &b);
	expect_refused(&b, ISAKMP_N_PAYLOAD_MALFORMED, GDOI_DOI);
	gdoi_buf_free(&b);
	craft_offer(icky, GDOI_DOI, 0, 3, 171, 1, &b);
	expect_refused(&b, ISAKMP_N_PAYLOAD_MALFORMED, GDOI_DOI);
	gdoi_buf_free(&b);
}

/* Sets the SA payload's and the message's length fields after the SA
 * body was cut to body_len bytes. */
static void cut_sa(struct gdoi_buf *b, size_t body_len)
{
	b->len = ISAKMP_HDR_LEN + 4 + body_len;
	b->data[ISAKMP_HDR_LEN + 2] = (uint8_t)((body_len + 4) >> 8);
	b->data[ISAKMP_HDR_LEN + 3] = (uint8_t)(body_len + 4);
	gdoi_finish(b);
}

/* Offers whose lengths and counts lie, and every truncation of the SA
 * body: refused with PAYLOAD-MALFORMED, nothing read out of bounds. */
static void test_offer_lies(void **state)
{
	static const uint8_t icky[8] = { 7, 7, 7, 7, 7, 7, 7, 7 };
	const size_t sa_at = ISAKMP_HDR_LEN, p1 = sa_at + 4 + 8;
	struct gdoi_buf b;
	(void)state;
	craft_offer(icky, ISAKMP_DOI_IPSEC, ISAKMP_SIT_IDENTITY_ONLY, 4, 65, 1, &b);
	size_t full = b.len - sa_at - 4;
	static const struct { size_t at; uint8_t v; } lies[] = {
		{ 7, 66 },      /* 66 transforms announced in proposal 1, 65 there */
		{ 7, 64 },      /* 64: a 65th follows */
		{ 7, 0 },
		{ 7, 255 },
		{ 5, 3 },       /* not PROTO_ISAKMP */
		{ 6, 4 },       /* an SPI that eats the first transform's header */
		{ 0, 0 },       /* proposals 2..4 left over */
		{ 0, ISAKMP_NP_T },
		{ 2, 0xff },    /* proposal length past the SA */
		{ 3, 4 },       /* proposal length shorter than its header */
		{ 8 + 2, 0xff },/* transform length past the proposal */
		{ 8 + 5, 2 },   /* transform id not KEY_IKE */
	};
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		uint8_t keep = b.data[p1 + lies[i].at];
		b.data[p1 + lies[i].at] = lies[i].v;
		expect_refused(&b, ISAKMP_N_PAYLOAD_MALFORMED, ISAKMP_DOI_IPSEC);
		b.data[p1 + lies[i].at] = keep;
	}
	/* the message without an SA at all */
	struct gdoi_buf none;
	gdoi_buf_init(&none);
	put_main_hdr(&none, icky, (const uint8_t[8]){ 0 }, 0);
	gdoi_put_payload(&none, ISAKMP_NP_VID, "vid", 3);
	gdoi_finish(&none);
	expect_refused(&none, ISAKMP_N_PAYLOAD_MALFORMED, ISAKMP_DOI_IPSEC);
	gdoi_buf_free(&none);
	/* every cut; each responder reads only the bytes it was given */
	uint8_t *copy = malloc(b.len);
	memcpy(copy, b.data, b.len);
	for (size_t cut = 0; cut < full; cut++) {
		struct gdoi_buf m;
		gdoi_buf_init(&m);
		gdoi_put_bytes(&m, copy, ISAKMP_HDR_LEN + 4 + cut);
		cut_sa(&m, cut);
		struct gdoi_buf exact;
		gdoi_buf_init(&exact);
		gdoi_put_bytes(&exact, m.data, m.len);
		gdoi_buf_free(&m);
		struct mm x;
		int rc = offer_to_responder(&x, &exact);
		if (rc != -1 || x.r.notify != ISAKMP_N_PAYLOAD_MALFORMED)
			fail_msg("SA body cut to %zu of %zu bytes: rc %d notify %d", cut, full, rc,
				 x.r.notify);
		mm_free(&x);
		gdoi_buf_free(&exact);
	}
	free(copy);
	gdoi_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_main_mode_suites),
		cmocka_unit_test(test_proposal_str),
		cmocka_unit_test(test_first_offered_wins),
		cmocka_unit_test(test_no_proposal_chosen),
		cmocka_unit_test(test_wrong_psk),
		cmocka_unit_test(test_no_psk_at_all),
		cmocka_unit_test(test_psk_third_candidate),
		cmocka_unit_test(test_msg2_not_offered),
		cmocka_unit_test(test_retransmissions),
		cmocka_unit_test(test_out_of_turn),
		cmocka_unit_test(test_msg3_blind_cookie),
		cmocka_unit_test(test_msg3_replayed),
		cmocka_unit_test(test_preset_cookie),
		cmocka_unit_test(test_msg3_injected),
		cmocka_unit_test(test_msg5_injected),
		cmocka_unit_test(test_tamper_msg5),
		cmocka_unit_test(test_tamper_msg6),
		cmocka_unit_test(test_bad_encrypted_length),
		cmocka_unit_test(test_bad_ke),
		cmocka_unit_test(test_nonce_length),
		cmocka_unit_test(test_seal_open),
		cmocka_unit_test(test_open_rejects),
		cmocka_unit_test_teardown(test_seal_without_keys, free_seal_buf),
		cmocka_unit_test(test_hash_a),
		cmocka_unit_test(test_plain_hook),
		cmocka_unit_test(test_free_every_state),
		cmocka_unit_test(test_start_rejects),
		cmocka_unit_test(test_doi_accepted),
		cmocka_unit_test(test_doi_refused),
		cmocka_unit_test(test_many_proposals),
		cmocka_unit_test(test_many_proposals_none_allowed),
		cmocka_unit_test(test_offer_lies),
	};
	/* failures are expected here by the dozen: keep crypto's log quiet */
	log_stderr(0);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
