/* SPDX-License-Identifier: BSD-2-Clause */
/* test_gdoi.c: unit tests of core/gdoi/gdoi.c, the ISAKMP/GDOI codec.
 *
 * Round trips build a payload or message with the builders, parse it
 * back and compare every field. Rejection tests hand-craft or damage
 * messages; the truncation test feeds every prefix of valid messages in
 * exactly sized heap copies, so AddressSanitizer catches any read past
 * the end. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/gdoi/gdoi.h"
#include "core/util.h"

/* ---- sample data ---------------------------------------------------------- */

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

static void sample_hdr(struct isakmp_hdr *h, uint8_t exch)
{
	memset(h, 0, sizeof(*h));
	fill(h->icookie, 8, 1);
	fill(h->rcookie, 8, 2);
	h->version = ISAKMP_VERSION;
	h->exchange = exch;
	h->flags = ISAKMP_FLAG_AUTH;
	h->msgid = 0xdeadbeef;
}

static void sample_p1(struct gdoi_p1_sa *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->doi = ISAKMP_DOI_IPSEC;
	sa->situation = ISAKMP_SIT_IDENTITY_ONLY;
	sa->proposal = 1;
	sa->n = 3;
	for (size_t i = 0; i < sa->n; i++) {
		struct gdoi_p1_transform *t = &sa->t[i];
		t->num = (uint8_t)(i + 1);
		t->cipher = i == 2 ? 5 : 7;
		t->key_bits = i == 2 ? 0 : (unsigned)(128 + 64 * i);
		t->hash = (int)(2 + i);
		t->auth = i ? OAKLEY_AUTH_PSK : OAKLEY_AUTH_RSA_SIG;
		t->group = i == 1 ? 19 : 14;
		/* 86400 does not fit a TV: a 4-byte TLV life duration. */
		t->life_seconds = i == 0 ? 86400 : 3600;
	}
}

static void sample_sa(struct gdoi_sa *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->doi = GDOI_DOI;
	sa->has_kek = 1;
	sa->kek.protocol = 17;
	sa->kek.src = (struct gdoi_ident){ ISAKMP_ID_IPV4_ADDR, 848, { 192, 0, 2, 1 }, 4 };
	sa->kek.dst = (struct gdoi_ident){ ISAKMP_ID_IPV4_ADDR, 849, { 239, 1, 2, 3 }, 4 };
	fill(sa->kek.spi, 16, 9);
	sa->kek.mgmt_alg = 0;
	sa->kek.alg = GDOI_KEK_ALG_AES;
	sa->kek.key_bits = 256;
	sa->kek.lifetime = 100000;
	sa->kek.sig_hash = GDOI_SIG_HASH_SHA512;
	sa->kek.sig_alg = GDOI_SIG_ALG_RSA;
	sa->kek.sig_key_bits = 2048;
	sa->kek.ack_requested = 1;
	sa->n_tek = 2;
	for (size_t i = 0; i < 2; i++) {
		struct gdoi_sa_tek *t = &sa->tek[i];
		t->protocol = GDOI_PROTO_IPSEC_ESP;
		t->ip_proto = i ? 17 : 0;
		t->src = (struct gdoi_ident){ ISAKMP_ID_IPV4_ADDR_SUBNET, 0,
					      { 10, (uint8_t)i, 0, 0, 255, 255, 0, 0 }, 8 };
		t->dst = (struct gdoi_ident){ ISAKMP_ID_IPV6_ADDR_SUBNET, (uint16_t)(i * 500), { 0 }, 32 };
		fill(t->dst.data, 32, (uint8_t)(40 + i));
		t->transform = i ? GDOI_ESP_3DES : GDOI_ESP_AES;
		t->spi = 0xa0000000u + (uint32_t)i;
		t->auth_alg = i ? GDOI_AUTH_HMAC_SHA1 : GDOI_AUTH_HMAC_SHA2_256;
		t->key_bits = i ? 0 : 256;
		t->lifetime = i ? 3600 : 90000;
		t->encap = GDOI_ENCAP_TUNNEL;
	}
	sa->has_gap = 1;
	sa->atd = 15;
	sa->dtd = 30;
}

static void sample_kd(struct gdoi_kd *kd)
{
	memset(kd, 0, sizeof(*kd));
	kd->n = 3;
	kd->k[0].type = GDOI_KD_KEK;
	fill(kd->k[0].spi, 16, 9);
	kd->k[0].spi_len = 16;
	fill(kd->k[0].alg_key, 32, 3);
	kd->k[0].alg_key_len = 32;
	fill(kd->k[0].sig_key, 300, 5);
	kd->k[0].sig_key_len = 300;
	for (size_t i = 1; i < 3; i++) {
		struct gdoi_keypkt *k = &kd->k[i];
		k->type = GDOI_KD_TEK;
		fill(k->spi, 4, (uint8_t)i);
		k->spi_len = 4;
		fill(k->alg_key, 16 * i, (uint8_t)(20 + i));
		k->alg_key_len = 16 * i;
		fill(k->integ_key, 20 + i, (uint8_t)(30 + i));
		k->integ_key_len = 20 + i;
	}
}

/* ---- helpers ---------------------------------------------------------------- */

/* A payload built alone in b: its body starts after the generic header. */
static const uint8_t *body_of(const struct gdoi_buf *b, size_t *len)
{
	*len = b->len - 4;
	return b->data + 4;
}

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	assert_non_null(d);
	if (n)
		memcpy(d, p, n);
	return d;
}

static void assert_ident_eq(const struct gdoi_ident *a, const struct gdoi_ident *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->data, b->data, a->len);
}

static void assert_kek_eq(const struct gdoi_sa_kek *a, const struct gdoi_sa_kek *b)
{
	assert_int_equal(a->protocol, b->protocol);
	assert_ident_eq(&a->src, &b->src);
	assert_ident_eq(&a->dst, &b->dst);
	assert_memory_equal(a->spi, b->spi, 16);
	assert_int_equal(a->mgmt_alg, b->mgmt_alg);
	assert_int_equal(a->alg, b->alg);
	assert_int_equal(a->key_bits, b->key_bits);
	assert_int_equal(a->lifetime, b->lifetime);
	assert_int_equal(a->sig_hash, b->sig_hash);
	assert_int_equal(a->sig_alg, b->sig_alg);
	assert_int_equal(a->sig_key_bits, b->sig_key_bits);
	assert_int_equal(a->ack_requested, b->ack_requested);
}

static void assert_tek_eq(const struct gdoi_sa_tek *a, const struct gdoi_sa_tek *b)
{
	assert_int_equal(a->protocol, b->protocol);
	assert_int_equal(a->ip_proto, b->ip_proto);
	assert_ident_eq(&a->src, &b->src);
	assert_ident_eq(&a->dst, &b->dst);
	assert_int_equal(a->transform, b->transform);
	assert_int_equal(a->spi, b->spi);
	assert_int_equal(a->auth_alg, b->auth_alg);
	assert_int_equal(a->key_bits, b->key_bits);
	assert_int_equal(a->lifetime, b->lifetime);
	assert_int_equal(a->encap, b->encap);
}

static void assert_sa_eq(const struct gdoi_sa *a, const struct gdoi_sa *b)
{
	assert_int_equal(a->doi, b->doi);
	assert_int_equal(a->situation, b->situation);
	assert_int_equal(a->has_kek, b->has_kek);
	if (a->has_kek)
		assert_kek_eq(&a->kek, &b->kek);
	assert_int_equal(a->n_tek, b->n_tek);
	for (size_t i = 0; i < a->n_tek; i++)
		assert_tek_eq(&a->tek[i], &b->tek[i]);
	assert_int_equal(a->has_gap, b->has_gap);
	assert_int_equal(a->atd, b->atd);
	assert_int_equal(a->dtd, b->dtd);
}

static void assert_kd_eq(const struct gdoi_kd *a, const struct gdoi_kd *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct gdoi_keypkt *x = &a->k[i], *y = &b->k[i];
		assert_int_equal(x->type, y->type);
		assert_int_equal(x->spi_len, y->spi_len);
		assert_memory_equal(x->spi, y->spi, x->spi_len);
		assert_int_equal(x->alg_key_len, y->alg_key_len);
		assert_memory_equal(x->alg_key, y->alg_key, x->alg_key_len);
		assert_int_equal(x->integ_key_len, y->integ_key_len);
		assert_memory_equal(x->integ_key, y->integ_key, x->integ_key_len);
		assert_int_equal(x->sig_key_len, y->sig_key_len);
		assert_memory_equal(x->sig_key, y->sig_key, x->sig_key_len);
	}
}

/* ---- round trips ---------------------------------------------------------------- */

static void test_hdr_roundtrip(void **state)
{
	struct isakmp_hdr h, p;
	uint8_t buf[ISAKMP_HDR_LEN];

	(void)state;
	sample_hdr(&h, GDOI_EXCH_PUSH);
	h.np = GDOI_NP_SEQ;
	h.len = ISAKMP_HDR_LEN;
	isakmp_hdr_write(buf, &h);
	assert_int_equal(isakmp_hdr_parse(buf, sizeof(buf), &p), 0);
	assert_memory_equal(p.icookie, h.icookie, 8);
	assert_memory_equal(p.rcookie, h.rcookie, 8);
	assert_int_equal(p.np, h.np);
	assert_int_equal(p.version, h.version);
	assert_int_equal(p.exchange, h.exchange);
	assert_int_equal(p.flags, h.flags);
	assert_int_equal(p.msgid, h.msgid);
	assert_int_equal(p.len, h.len);
}

static void test_p1_sa_roundtrip(void **state)
{
	struct gdoi_buf b;
	struct gdoi_p1_sa in, out;
	const uint8_t *body;
	size_t len;

	(void)state;
	sample_p1(&in);
	gdoi_buf_init(&b);
	gdoi_put_p1_sa(&b, &in);
	assert_int_equal(b.data[0], ISAKMP_NP_NONE);
	body = body_of(&b, &len);
	assert_int_equal(gdoi_p1_sa_parse(body, len, &out), 0);
	assert_int_equal(out.doi, in.doi);
	assert_int_equal(out.situation, in.situation);
	assert_int_equal(out.proposal, in.proposal);
	assert_int_equal(out.n, in.n);
	for (size_t i = 0; i < in.n; i++) {
		assert_int_equal(out.t[i].num, in.t[i].num);
		assert_int_equal(out.t[i].cipher, in.t[i].cipher);
		assert_int_equal(out.t[i].key_bits, in.t[i].key_bits);
		assert_int_equal(out.t[i].hash, in.t[i].hash);
		assert_int_equal(out.t[i].auth, in.t[i].auth);
		assert_int_equal(out.t[i].group, in.t[i].group);
		assert_int_equal(out.t[i].life_seconds, in.t[i].life_seconds);
		assert_non_null(out.t[i].raw);
		assert_true(out.t[i].raw_len > 8);
	}
	gdoi_buf_free(&b);
}

static void test_opaque_payloads_roundtrip(void **state)
{
	static const uint8_t types[] = { ISAKMP_NP_KE, ISAKMP_NP_NONCE, ISAKMP_NP_HASH, ISAKMP_NP_SIG };
	static const size_t lens[] = { 256, 32, 20, 256 };
	struct gdoi_buf b;
	struct gdoi_chain c;
	uint8_t data[256];

	(void)state;
	fill(data, sizeof(data), 77);
	gdoi_buf_init(&b);
	for (size_t i = 0; i < 4; i++)
		gdoi_put_payload(&b, types[i], data, lens[i]);
	assert_int_equal(gdoi_chain_parse(ISAKMP_NP_KE, b.data, b.len, 0, &c), 0);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.used, b.len);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(c.p[i].type, types[i]);
		assert_int_equal(c.p[i].len, lens[i]);
		assert_int_equal(c.p[i].raw_len, lens[i] + 4);
		assert_memory_equal(c.p[i].body, data, lens[i]);
	}
	assert_ptr_equal(gdoi_chain_find(&c, ISAKMP_NP_HASH), &c.p[2]);
	assert_null(gdoi_chain_find(&c, GDOI_NP_KD));
	assert_int_equal(gdoi_chain_count(&c, ISAKMP_NP_SIG), 1);
	gdoi_buf_free(&b);
}

static void check_id(uint8_t type, const void *data, size_t len)
{
	struct gdoi_id in = { .type = type, .proto = 17, .port = 848 }, out;
	struct gdoi_buf b;
	const uint8_t *body;
	size_t blen;

	memcpy(in.data, data, len);
	in.len = len;
	gdoi_buf_init(&b);
	gdoi_put_id(&b, &in);
	body = body_of(&b, &blen);
	assert_int_equal(gdoi_id_parse(body, blen, &out), 0);
	assert_int_equal(out.type, in.type);
	assert_int_equal(out.proto, in.proto);
	assert_int_equal(out.port, in.port);
	assert_int_equal(out.len, in.len);
	assert_memory_equal(out.data, in.data, in.len);
	gdoi_buf_free(&b);
}

static void test_id_roundtrip(void **state)
{
	uint8_t v6[32];

	(void)state;
	fill(v6, sizeof(v6), 11);
	check_id(ISAKMP_ID_IPV4_ADDR, "\xc0\x00\x02\x01", 4);
	check_id(ISAKMP_ID_FQDN, "gks.example.net", 15);
	check_id(ISAKMP_ID_USER_FQDN, "gm@example.net", 14);
	check_id(ISAKMP_ID_IPV4_ADDR_SUBNET, "\x0a\x00\x00\x00\xff\x00\x00\x00", 8);
	check_id(ISAKMP_ID_IPV6_ADDR, v6, 16);
	check_id(ISAKMP_ID_IPV6_ADDR_SUBNET, v6, 32);
	check_id(ISAKMP_ID_KEY_ID, "\x00\x00\x04\xd2", 4);  /* group id 1234 */
}

static void test_notify_roundtrip(void **state)
{
	struct gdoi_buf b;
	struct gdoi_notify n;
	const uint8_t *body;
	size_t len;

	(void)state;
	gdoi_buf_init(&b);
	gdoi_put_notify(&b, GDOI_DOI, ISAKMP_PROTO_ISAKMP, ISAKMP_N_INITIAL_CONTACT, "abc", 3);
	body = body_of(&b, &len);
	assert_int_equal(gdoi_notify_parse(body, len, &n), 0);
	assert_int_equal(n.doi, GDOI_DOI);
	assert_int_equal(n.proto, ISAKMP_PROTO_ISAKMP);
	assert_int_equal(n.type, ISAKMP_N_INITIAL_CONTACT);
	assert_int_equal(n.spi_len, 0);
	assert_int_equal(n.data_len, 3);
	assert_memory_equal(n.data, "abc", 3);
	gdoi_buf_free(&b);
}

static void test_gdoi_sa_roundtrip(void **state)
{
	struct gdoi_buf b;
	struct gdoi_sa in, out;
	const uint8_t *body;
	size_t len;

	(void)state;
	sample_sa(&in);
	gdoi_buf_init(&b);
	gdoi_put_sa(&b, &in);
	body = body_of(&b, &len);
	/* RFC 6407 5.2: SA Attribute Next Payload is two octets, SA KEK first. */
	assert_int_equal(body[8], 0);
	assert_int_equal(body[9], GDOI_NP_SAK);
	assert_int_equal(gdoi_sa_parse(body, len, &out), 0);
	assert_sa_eq(&in, &out);
	gdoi_buf_free(&b);
}

static void test_gdoi_sa_tek_only(void **state)
{
	struct gdoi_buf b;
	struct gdoi_sa in, out;
	const uint8_t *body;
	size_t len;

	(void)state;
	sample_sa(&in);
	in.has_kek = 0;
	in.has_gap = 0;
	in.atd = in.dtd = 0;
	memset(&in.kek, 0, sizeof(in.kek));
	gdoi_buf_init(&b);
	gdoi_put_sa(&b, &in);
	body = body_of(&b, &len);
	assert_int_equal(body[9], GDOI_NP_SAT);
	assert_int_equal(gdoi_sa_parse(body, len, &out), 0);
	assert_sa_eq(&in, &out);
	gdoi_buf_free(&b);
}

/* gdoid's layouts: six octets after the SA KEK's SPI, one-octet SA TEK
 * identification lengths; read back as gdoid's, and told apart from
 * RFC 6407's by the automatic parse. */
static void test_gdoi_sa_gdoid_profile(void **state)
{
	struct gdoi_buf b;
	struct gdoi_sa in, out;
	const uint8_t *body;
	size_t len;

	(void)state;
	for (int profile = GDOI_PROFILE_RFC6407; profile <= GDOI_PROFILE_GDOID; profile++) {
		sample_sa(&in);
		in.profile = profile;
		in.tek[0].dst = (struct gdoi_ident){ ISAKMP_ID_IPV4_ADDR, 0, { 239, 1, 1, 1 }, 4 };
		in.tek[1].dst = (struct gdoi_ident){ ISAKMP_ID_IPV4_ADDR, 53, { 239, 1, 1, 2 }, 4 };
		gdoi_buf_init(&b);
		gdoi_put_sa(&b, &in);
		body = body_of(&b, &len);
		/* SA KEK: after SA header (12), its generic header (4), protocol,
		 * two identifications of 4 + 4 octets, the SPI: 4 or 6 zero octets,
		 * then the first attribute (AF set). */
		size_t at = 12 + 4 + 1 + 8 + 8 + 16;
		size_t res = profile == GDOI_PROFILE_GDOID ? 6 : 4;
		for (size_t i = 0; i < res; i++)
			assert_int_equal(body[at + i], 0);
		assert_int_equal(body[at + res] & 0x80, 0x80);
		assert_int_equal(gdoi_sa_parse_profile(body, len, profile, &out), 0);
		assert_int_equal(out.profile, profile);
		assert_sa_eq(&in, &out);
		assert_int_equal(gdoi_sa_parse_profile(body, len, -1, &out), 0);
		assert_int_equal(out.profile, profile);
		assert_sa_eq(&in, &out);
		/* The other profile's parse fails. */
		assert_int_equal(gdoi_sa_parse_profile(body, len, !profile, &out), -1);
		gdoi_buf_free(&b);
	}
}

/* Host-order selectors (gdoid on x86): each IPv4 address, mask and port
 * turned around; IPv6 untouched; twice is the identity. */
static void test_swap_selectors(void **state)
{
	struct gdoi_sa sa, orig;

	(void)state;
	sample_sa(&sa);
	sa.tek[1].src = (struct gdoi_ident){ ISAKMP_ID_IPV4_ADDR, 0x1234, { 10, 77, 0, 2 }, 4 };
	orig = sa;
	gdoi_sa_swap_selectors(&sa);
	static const uint8_t net_le[] = { 0, 0, 0, 10, 0, 0, 255, 255 };
	assert_memory_equal(sa.tek[0].src.data, net_le, 8);
	static const uint8_t addr_le[] = { 2, 0, 77, 10 };
	assert_memory_equal(sa.tek[1].src.data, addr_le, 4);
	assert_int_equal(sa.tek[1].src.port, 0x3412);
	assert_memory_equal(sa.tek[0].dst.data, orig.tek[0].dst.data, 32);   /* IPv6 */
	gdoi_sa_swap_selectors(&sa);
	assert_sa_eq(&orig, &sa);
}

static void test_delete_roundtrip(void **state)
{
	struct gdoi_buf b;
	struct gdoi_delete in = { .doi = GDOI_DOI, .proto = GDOI_PROTO_IPSEC_ESP, .spi_size = 4, .n = 3,
				  .spi = { { 1, 2, 3, 4 }, { 5, 6, 7, 8 }, { 9, 10, 11, 12 } } }, out;
	const uint8_t *body;
	size_t len;

	(void)state;
	gdoi_buf_init(&b);
	gdoi_put_delete(&b, &in);
	body = body_of(&b, &len);
	assert_int_equal(len, 8 + 3 * 4);
	assert_int_equal(gdoi_delete_parse(body, len, &out), 0);
	assert_int_equal(out.doi, GDOI_DOI);
	assert_int_equal(out.proto, GDOI_PROTO_IPSEC_ESP);
	assert_int_equal(out.n, 3);
	assert_memory_equal(out.spi[2], in.spi[2], 4);
	/* Every truncation, a count that lies, SPI sizes other than 4 and 16. */
	for (size_t n = 0; n < len; n++)
		assert_int_equal(gdoi_delete_parse(body, n, &out), -1);
	uint8_t bad[64];
	memcpy(bad, body, len);
	bad[7] = 4;
	assert_int_equal(gdoi_delete_parse(bad, len, &out), -1);
	bad[7] = 0;
	assert_int_equal(gdoi_delete_parse(bad, 8, &out), -1);
	memcpy(bad, body, len);
	bad[5] = 3;
	assert_int_equal(gdoi_delete_parse(bad, len, &out), -1);
	uint8_t many[8 + 17 * 4] = { 0, 0, 0, 2, 1, 4, 0, 17 };
	assert_int_equal(gdoi_delete_parse(many, sizeof(many), &out), -1);
	gdoi_buf_free(&b);
}

static void test_gap_roundtrip(void **state)
{
	struct gdoi_buf b;
	const uint8_t *body;
	size_t len;
	uint16_t atd, dtd;

	(void)state;
	gdoi_buf_init(&b);
	gdoi_put_gap(&b, 900, 12);
	assert_int_equal(b.data[0], ISAKMP_NP_NONE);
	body = body_of(&b, &len);
	assert_int_equal(gdoi_gap_parse(body, len, &atd, &dtd), 0);
	assert_int_equal(atd, 900);
	assert_int_equal(dtd, 12);
	gdoi_buf_free(&b);
}

static void test_kd_roundtrip(void **state)
{
	struct gdoi_buf b;
	struct gdoi_kd in, out;
	const uint8_t *body;
	size_t len;

	(void)state;
	sample_kd(&in);
	gdoi_buf_init(&b);
	gdoi_put_kd(&b, &in);
	body = body_of(&b, &len);
	assert_int_equal(gdoi_kd_parse(body, len, &out), 0);
	assert_kd_eq(&in, &out);
	gdoi_kd_wipe(&out);
	assert_int_equal(out.n, 0);
	assert_int_equal(out.k[0].sig_key[0], 0);
	gdoi_buf_free(&b);
}

static void test_seq_roundtrip(void **state)
{
	struct gdoi_buf b;
	const uint8_t *body;
	size_t len;
	uint32_t seq;

	(void)state;
	gdoi_buf_init(&b);
	gdoi_put_seq(&b, 0x89abcdef);
	body = body_of(&b, &len);
	assert_int_equal(gdoi_seq_parse(body, len, &seq), 0);
	assert_int_equal(seq, 0x89abcdef);
	gdoi_buf_free(&b);
}

/* ---- whole messages ----------------------------------------------------------------- */

/* GROUPKEY-PULL message 2 and 4 shapes plus a push, as one builder. */
static void build_msg(struct gdoi_buf *b, int which)
{
	struct isakmp_hdr h;
	uint8_t hash[20];
	struct gdoi_sa sa;
	struct gdoi_kd kd;
	struct gdoi_p1_sa p1;
	struct gdoi_id id = { .type = ISAKMP_ID_KEY_ID, .data = { 0, 0, 0, 7 }, .len = 4 };

	fill(hash, sizeof(hash), 3);
	sample_hdr(&h, which == 0 ? ISAKMP_EXCH_MAIN : which == 3 ? GDOI_EXCH_PUSH : GDOI_EXCH_PULL);
	gdoi_buf_init(b);
	gdoi_put_hdr(b, &h);
	switch (which) {
	case 0:
		sample_p1(&p1);
		gdoi_put_p1_sa(b, &p1);
		gdoi_put_payload(b, ISAKMP_NP_VID, hash, 16);
		break;
	case 1:
		sample_sa(&sa);
		gdoi_put_payload(b, ISAKMP_NP_HASH, hash, sizeof(hash));
		gdoi_put_payload(b, ISAKMP_NP_NONCE, hash, 16);
		gdoi_put_sa(b, &sa);
		break;
	case 2:
		sample_kd(&kd);
		gdoi_put_payload(b, ISAKMP_NP_HASH, hash, sizeof(hash));
		gdoi_put_seq(b, 5);
		gdoi_put_kd(b, &kd);
		gdoi_put_id(b, &id);
		break;
	default:
		sample_sa(&sa);
		sample_kd(&kd);
		gdoi_put_seq(b, 6);
		gdoi_put_sa(b, &sa);
		gdoi_put_kd(b, &kd);
		gdoi_put_payload(b, ISAKMP_NP_SIG, hash, sizeof(hash));
		gdoi_put_notify(b, GDOI_DOI, 0, ISAKMP_N_INITIAL_CONTACT, NULL, 0);
		break;
	}
	gdoi_finish(b);
}

static void test_message_roundtrip(void **state)
{
	struct gdoi_buf b;
	struct isakmp_hdr h;
	struct gdoi_chain c;
	struct gdoi_sa sa, want_sa;
	struct gdoi_kd kd, want_kd;
	uint32_t seq;

	(void)state;
	sample_sa(&want_sa);
	sample_kd(&want_kd);
	build_msg(&b, 3);
	assert_int_equal(isakmp_hdr_parse(b.data, b.len, &h), 0);
	assert_int_equal(h.len, b.len);
	assert_int_equal(h.np, GDOI_NP_SEQ);
	assert_int_equal(gdoi_chain_parse(h.np, b.data + ISAKMP_HDR_LEN, h.len - ISAKMP_HDR_LEN, 0, &c), 0);
	assert_int_equal(c.n, 5);
	assert_int_equal(c.p[1].type, ISAKMP_NP_SA);
	assert_int_equal(c.p[2].type, GDOI_NP_KD);
	assert_int_equal(c.p[3].type, ISAKMP_NP_SIG);
	assert_int_equal(c.p[4].type, ISAKMP_NP_N);
	assert_int_equal(gdoi_seq_parse(c.p[0].body, c.p[0].len, &seq), 0);
	assert_int_equal(seq, 6);
	assert_int_equal(gdoi_sa_parse(c.p[1].body, c.p[1].len, &sa), 0);
	assert_sa_eq(&want_sa, &sa);
	assert_int_equal(gdoi_kd_parse(c.p[2].body, c.p[2].len, &kd), 0);
	assert_kd_eq(&want_kd, &kd);
	gdoi_buf_free(&b);

	build_msg(&b, 0);
	assert_int_equal(isakmp_hdr_parse(b.data, b.len, &h), 0);
	assert_int_equal(h.np, ISAKMP_NP_SA);
	assert_int_equal(gdoi_chain_parse(h.np, b.data + ISAKMP_HDR_LEN, h.len - ISAKMP_HDR_LEN, 0, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.p[1].type, ISAKMP_NP_VID);
	gdoi_buf_free(&b);
}

/* Every parser over one payload; the return value only matters in that
 * nothing may crash or read out of bounds. */
static void parse_any(const struct gdoi_payload *p)
{
	struct gdoi_p1_sa p1;
	struct gdoi_id id;
	struct gdoi_sa sa;
	struct gdoi_kd kd;
	struct gdoi_notify n;
	struct gdoi_attr attrs[GDOI_MAX_ATTRS];
	uint16_t a, d;
	uint32_t s;
	size_t na;

	(void)gdoi_p1_sa_parse(p->body, p->len, &p1);
	(void)gdoi_id_parse(p->body, p->len, &id);
	(void)gdoi_sa_parse(p->body, p->len, &sa);
	(void)gdoi_gap_parse(p->body, p->len, &a, &d);
	(void)gdoi_kd_parse(p->body, p->len, &kd);
	gdoi_kd_wipe(&kd);
	(void)gdoi_seq_parse(p->body, p->len, &s);
	(void)gdoi_notify_parse(p->body, p->len, &n);
	(void)gdoi_attrs_parse(p->body, p->len, attrs, GDOI_MAX_ATTRS, &na);
}

static void truncate_one(const uint8_t *msg, size_t full, size_t cut)
{
	uint8_t *m = dup_exact(msg, cut);
	struct isakmp_hdr h;
	struct gdoi_chain c;
	int hr = isakmp_hdr_parse(m, cut, &h);

	/* The header names the full length: any shorter buffer fails. */
	assert_int_equal(hr, cut < full ? -1 : 0);
	if (cut > ISAKMP_HDR_LEN) {
		for (int pad = 0; pad < 2; pad++)
			if (gdoi_chain_parse(msg[16], m + ISAKMP_HDR_LEN, cut - ISAKMP_HDR_LEN, pad, &c) == 0)
				for (size_t i = 0; i < c.n; i++)
					parse_any(&c.p[i]);
	}
	free(m);
}

/* Payload bodies cut short: every specific parser must fail cleanly. */
static void truncate_bodies(const uint8_t *msg, size_t len)
{
	struct gdoi_chain c;

	assert_int_equal(gdoi_chain_parse(msg[16], msg + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN, 0, &c), 0);
	for (size_t i = 0; i < c.n; i++) {
		for (size_t cut = 0; cut < c.p[i].len; cut++) {
			struct gdoi_payload p = c.p[i];
			uint8_t *body = dup_exact(p.body, cut);

			p.body = body;
			p.len = cut;
			parse_any(&p);
			free(body);
		}
	}
}

static void test_truncated_prefixes(void **state)
{
	(void)state;
	for (int which = 0; which < 4; which++) {
		struct gdoi_buf b;

		build_msg(&b, which);
		for (size_t cut = 0; cut <= b.len; cut++)
			truncate_one(b.data, b.len, cut);
		truncate_bodies(b.data, b.len);
		gdoi_buf_free(&b);
	}
}

static void test_truncated_specific_fail(void **state)
{
	struct gdoi_buf b;
	struct gdoi_sa sa, sa_out;
	struct gdoi_kd kd, kd_out;
	const uint8_t *body;
	size_t len;

	(void)state;
	sample_sa(&sa);
	gdoi_buf_init(&b);
	gdoi_put_sa(&b, &sa);
	body = body_of(&b, &len);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *m = dup_exact(body, cut);
		assert_int_equal(gdoi_sa_parse(m, cut, &sa_out), -1);
		free(m);
	}
	gdoi_buf_free(&b);

	sample_kd(&kd);
	gdoi_buf_init(&b);
	gdoi_put_kd(&b, &kd);
	body = body_of(&b, &len);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *m = dup_exact(body, cut);
		assert_int_equal(gdoi_kd_parse(m, cut, &kd_out), -1);
		free(m);
	}
	gdoi_buf_free(&b);
}

/* ---- rejection --------------------------------------------------------------------- */

static void test_payload_len_below_4(void **state)
{
	uint8_t chain[] = { 0, 0, 0, 3, 0xaa, 0xbb };
	struct gdoi_chain c;

	(void)state;
	assert_int_equal(gdoi_chain_parse(ISAKMP_NP_HASH, chain, sizeof(chain), 0, &c), -1);
	chain[3] = 0;
	assert_int_equal(gdoi_chain_parse(ISAKMP_NP_HASH, chain, sizeof(chain), 1, &c), -1);
	chain[3] = 4;   /* the minimum: an empty body */
	assert_int_equal(gdoi_chain_parse(ISAKMP_NP_HASH, chain, 4, 0, &c), 0);
	assert_int_equal(c.p[0].len, 0);
}

static void test_payload_len_beyond_buffer(void **state)
{
	uint8_t chain[] = { 0, 0, 0, 9, 1, 2, 3, 4 };
	struct gdoi_chain c;

	(void)state;
	assert_int_equal(gdoi_chain_parse(ISAKMP_NP_NONCE, chain, sizeof(chain), 1, &c), -1);
	chain[3] = 8;
	assert_int_equal(gdoi_chain_parse(ISAKMP_NP_NONCE, chain, sizeof(chain), 0, &c), 0);
}

static void test_chain_too_long(void **state)
{
	struct gdoi_buf b;
	struct gdoi_chain c;

	(void)state;
	gdoi_buf_init(&b);
	for (int i = 0; i < GDOI_MAX_PAYLOADS; i++)
		gdoi_put_payload(&b, ISAKMP_NP_VID, "v", 1);
	assert_int_equal(gdoi_chain_parse(ISAKMP_NP_VID, b.data, b.len, 0, &c), 0);
	assert_int_equal(c.n, GDOI_MAX_PAYLOADS);
	gdoi_put_payload(&b, ISAKMP_NP_VID, "v", 1);
	assert_int_equal(gdoi_chain_parse(ISAKMP_NP_VID, b.data, b.len, 0, &c), -1);
	gdoi_buf_free(&b);
}

static void test_unknown_payload_type(void **state)
{
	uint8_t chain[] = { 14, 0, 0, 4, 0, 0, 0, 4 };
	struct gdoi_chain c;

	(void)state;
	assert_int_equal(gdoi_chain_parse(14, chain + 4, 4, 0, &c), -1);
	assert_int_equal(gdoi_chain_parse(ISAKMP_NP_HASH, chain, sizeof(chain), 0, &c), -1);
	chain[0] = 99;
	assert_int_equal(gdoi_chain_parse(ISAKMP_NP_HASH, chain, sizeof(chain), 0, &c), -1);
	chain[0] = GDOI_NP_GAP;
	assert_int_equal(gdoi_chain_parse(ISAKMP_NP_HASH, chain, sizeof(chain), 0, &c), 0);
	assert_string_equal(gdoi_payload_name(GDOI_NP_SAK), "SA KEK");
	assert_string_equal(gdoi_payload_name(99), "?");
}

static void test_attr_tlv_past_end(void **state)
{
	uint8_t attrs[] = { 0x80, 1, 0, 5, 0x00, 2, 0, 3, 0xaa, 0xbb };
	struct gdoi_attr a[4];
	size_t n;
	uint16_t atd, dtd;

	(void)state;
	assert_int_equal(gdoi_attrs_parse(attrs, sizeof(attrs), a, 4, &n), -1);
	attrs[7] = 2;
	assert_int_equal(gdoi_attrs_parse(attrs, sizeof(attrs), a, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_true(a[0].tv);
	assert_int_equal(a[0].value, 5);
	assert_false(a[1].tv);
	assert_int_equal(a[1].value, 0xaabb);
	/* A lone half attribute and too many attributes fail too. */
	assert_int_equal(gdoi_attrs_parse(attrs, 3, a, 4, &n), -1);
	assert_int_equal(gdoi_attrs_parse(attrs, sizeof(attrs), a, 1, &n), -1);
	attrs[7] = 3;
	assert_int_equal(gdoi_gap_parse(attrs, sizeof(attrs), &atd, &dtd), -1);
}

/* Offset of the SA TEK's source ID data length inside a built SA body. */
static void test_sat_id_len_past_end(void **state)
{
	struct gdoi_buf b;
	struct gdoi_sa in, out;
	uint8_t *body;
	size_t len, sat;

	(void)state;
	sample_sa(&in);
	in.has_kek = 0;
	in.has_gap = 0;
	in.n_tek = 1;
	gdoi_buf_init(&b);
	gdoi_put_sa(&b, &in);
	body = b.data + 4;
	len = b.len - 4;
	sat = 12;       /* DOI, situation, SA attribute next payload, reserved */
	/* generic 4, protocol id, ip proto, src type, src port 2, src len 2 */
	assert_int_equal(body[sat + 4 + 5] << 8 | body[sat + 4 + 6], 8);
	assert_int_equal(gdoi_sa_parse(body, len, &out), 0);
	body[sat + 4 + 6] = 200;
	assert_int_equal(gdoi_sa_parse(body, len, &out), -1);
	body[sat + 4 + 6] = 8;
	body[sat + 4 + 5] = 1;  /* 264: larger than struct gdoi_ident can hold */
	assert_int_equal(gdoi_sa_parse(body, len, &out), -1);
	gdoi_buf_free(&b);
}

static void test_sa_chain_rejects(void **state)
{
	struct gdoi_buf b;
	struct gdoi_sa in, out;
	uint8_t *body;
	size_t len;

	(void)state;
	sample_sa(&in);
	gdoi_buf_init(&b);
	gdoi_put_sa(&b, &in);
	body = b.data + 4;
	len = b.len - 4;
	body[9] = ISAKMP_NP_HASH;       /* not an SA attribute payload */
	assert_int_equal(gdoi_sa_parse(body, len, &out), -1);
	body[9] = GDOI_NP_SAK;
	body[8] = 1;                    /* 0x010f: not a payload type */
	assert_int_equal(gdoi_sa_parse(body, len, &out), -1);
	body[8] = 0;
	body[3] = 1;                    /* IPsec DOI, not GDOI */
	assert_int_equal(gdoi_sa_parse(body, len, &out), -1);
	body[3] = 2;
	assert_int_equal(gdoi_sa_parse(body, len, &out), 0);
	gdoi_buf_free(&b);
}

static void put_keypkt_raw(struct gdoi_buf *b, uint8_t type, uint16_t klen, uint8_t spi_len,
			   uint16_t alen)
{
	uint8_t key[1100];

	fill(key, sizeof(key), 1);
	gdoi_put_u8(b, type);
	gdoi_put_u8(b, 0);
	gdoi_put_u16(b, klen);
	gdoi_put_u8(b, spi_len);
	gdoi_put_bytes(b, key, spi_len);
	gdoi_put_attr_data(b, 1, key, alen);
}

static int kd_try(uint16_t count, uint8_t type, int16_t klen_delta, uint8_t spi_len, uint16_t alen,
		  int trailing)
{
	struct gdoi_buf b;
	struct gdoi_kd kd;
	uint8_t *m;
	int rc;
	uint16_t klen = (uint16_t)(5 + spi_len + 4 + alen + klen_delta);

	gdoi_buf_init(&b);
	gdoi_put_u16(&b, count);
	gdoi_put_u16(&b, 0);
	put_keypkt_raw(&b, type, klen, spi_len, alen);
	for (int i = 0; i < trailing; i++)
		gdoi_put_u8(&b, 0);
	m = dup_exact(b.data, b.len);
	rc = gdoi_kd_parse(m, b.len, &kd);
	if (rc < 0)
		assert_int_equal(kd.n, 0);     /* wiped on failure */
	free(m);
	gdoi_buf_free(&b);
	return rc;
}

static void test_kd_inconsistent(void **state)
{
	(void)state;
	assert_int_equal(kd_try(1, GDOI_KD_TEK, 0, 4, 16, 0), 0);
	assert_int_equal(kd_try(1, GDOI_KD_TEK, 1, 4, 16, 0), -1);   /* length past the end */
	assert_int_equal(kd_try(1, GDOI_KD_TEK, -1, 4, 16, 0), -1);  /* cuts the attribute */
	assert_int_equal(kd_try(1, GDOI_KD_TEK, -23, 4, 16, 0), -1); /* ends inside the SPI */
	assert_int_equal(kd_try(2, GDOI_KD_TEK, 0, 4, 16, 0), -1);   /* more packets than fit */
	assert_int_equal(kd_try(0, GDOI_KD_TEK, 0, 4, 16, 0), -1);   /* bytes nobody claims */
	assert_int_equal(kd_try(1, GDOI_KD_TEK, 0, 4, 16, 1), -1);
	assert_int_equal(kd_try(GDOI_MAX_KEYPKTS + 1, GDOI_KD_TEK, 0, 4, 16, 0), -1);
	assert_int_equal(kd_try(1, GDOI_KD_TEK, 0, 17, 16, 0), -1);  /* SPI too long */
	assert_int_equal(kd_try(1, GDOI_KD_TEK, 0, 4, 65, 0), -1);   /* key longer than the buffer */
	assert_int_equal(kd_try(1, GDOI_KD_KEK, 0, 16, 65, 0), -1);
	assert_int_equal(kd_try(1, 3, 0, 4, 16, 0), -1);             /* LKH: unsupported */
}

static void test_kd_sig_key_too_long(void **state)
{
	struct gdoi_buf b;
	struct gdoi_kd kd;

	(void)state;
	gdoi_buf_init(&b);
	gdoi_put_u16(&b, 1);
	gdoi_put_u16(&b, 0);
	put_keypkt_raw(&b, GDOI_KD_KEK, 0, 16, 0);
	b.len -= 4;     /* drop the empty attribute: add a 1025-byte SIG key */
	{
		uint8_t key[1025];
		fill(key, sizeof(key), 2);
		gdoi_put_attr_data(&b, 2, key, sizeof(key));
	}
	b.data[6] = (uint8_t)((b.len - 4) >> 8);
	b.data[7] = (uint8_t)(b.len - 4);
	assert_int_equal(gdoi_kd_parse(b.data, b.len, &kd), -1);
	gdoi_buf_free(&b);
}

static void test_padding(void **state)
{
	struct gdoi_buf b;
	struct gdoi_chain c;

	(void)state;
	gdoi_buf_init(&b);
	gdoi_put_payload(&b, ISAKMP_NP_HASH, "hash", 4);
	for (int i = 0; i < 255; i++)
		gdoi_put_u8(&b, 0);
	assert_int_equal(gdoi_chain_parse(ISAKMP_NP_HASH, b.data, b.len, 1, &c), 0);
	assert_int_equal(c.used, 8);
	assert_int_equal(gdoi_chain_parse(ISAKMP_NP_HASH, b.data, b.len, 0, &c), -1);
	assert_int_equal(gdoi_chain_parse(ISAKMP_NP_HASH, b.data, 9, 0, &c), -1);
	gdoi_put_u8(&b, 0);     /* 256 bytes of padding */
	assert_int_equal(gdoi_chain_parse(ISAKMP_NP_HASH, b.data, b.len, 1, &c), -1);
	gdoi_buf_free(&b);
}

static void test_hdr_rejects(void **state)
{
	struct isakmp_hdr h, p;
	uint8_t buf[ISAKMP_HDR_LEN + 4] = { 0 };

	(void)state;
	sample_hdr(&h, ISAKMP_EXCH_INFO);
	h.len = ISAKMP_HDR_LEN;
	isakmp_hdr_write(buf, &h);
	assert_int_equal(isakmp_hdr_parse(buf, sizeof(buf), &p), 0);
	buf[17] = 0x20;         /* version 2.0 */
	assert_int_equal(isakmp_hdr_parse(buf, sizeof(buf), &p), -1);
	buf[17] = 0x11;         /* a newer minor version is still ISAKMP 1 */
	assert_int_equal(isakmp_hdr_parse(buf, sizeof(buf), &p), 0);
	buf[17] = 0x10;
	buf[27] = ISAKMP_HDR_LEN + 5;   /* longer than the buffer */
	assert_int_equal(isakmp_hdr_parse(buf, sizeof(buf), &p), -1);
	buf[27] = ISAKMP_HDR_LEN - 1;   /* shorter than a header */
	assert_int_equal(isakmp_hdr_parse(buf, sizeof(buf), &p), -1);
	buf[27] = ISAKMP_HDR_LEN + 4;
	assert_int_equal(isakmp_hdr_parse(buf, sizeof(buf), &p), 0);
	assert_int_equal(isakmp_hdr_parse(buf, ISAKMP_HDR_LEN - 1, &p), -1);
}

static void test_p1_rejects(void **state)
{
	struct gdoi_buf b;
	struct gdoi_p1_sa in, out;
	uint8_t *body;
	size_t len;

	(void)state;
	sample_p1(&in);
	gdoi_buf_init(&b);
	gdoi_put_p1_sa(&b, &in);
	body = b.data + 4;
	len = b.len - 4;
	body[8 + 7] = 4;        /* four transforms announced, three present */
	assert_int_equal(gdoi_p1_sa_parse(body, len, &out), -1);
	body[8 + 7] = 2;        /* two announced: the second says another follows */
	assert_int_equal(gdoi_p1_sa_parse(body, len, &out), -1);
	body[8 + 7] = 3;
	body[8] = ISAKMP_NP_P;  /* a second proposal that is not there */
	assert_int_equal(gdoi_p1_sa_parse(body, len, &out), -1);
	body[8] = 0;
	assert_int_equal(gdoi_p1_sa_parse(body, len, &out), 0);
	gdoi_buf_free(&b);
}

/* One transform: AES, a 128-byte group prime (type 6, unused here) and
 * a group attribute given as a TLV of group_len bytes. */
static void build_p1_raw(struct gdoi_buf *b, size_t group_len)
{
	uint8_t prime[128] = { 0 };
	size_t sa, prop, t;

	prime[group_len - 1] = 14;
	gdoi_buf_init(b);
	sa = gdoi_begin(b, ISAKMP_NP_SA);
	gdoi_put_u32(b, ISAKMP_DOI_IPSEC);
	gdoi_put_u32(b, ISAKMP_SIT_IDENTITY_ONLY);
	b->np_at = SIZE_MAX;
	prop = gdoi_begin(b, ISAKMP_NP_P);
	gdoi_put_u32(b, 0x01010001);    /* #1, PROTO_ISAKMP, no SPI, 1 transform */
	b->np_at = SIZE_MAX;
	t = gdoi_begin(b, ISAKMP_NP_T);
	gdoi_put_u32(b, 0x01010000);
	gdoi_put_attr(b, OAKLEY_ENCRYPTION, 7);
	gdoi_put_attr_data(b, 6, prime, sizeof(prime));
	gdoi_put_attr_data(b, OAKLEY_GROUP, prime, group_len);
	gdoi_end(b, t);
	gdoi_end(b, prop);
	gdoi_end(b, sa);
}

/* Attributes the codec does not use are skipped unchecked; a used one
 * that is not a number of 1..4 bytes is refused. */
static void test_p1_unused_attr(void **state)
{
	struct gdoi_buf b;
	struct gdoi_p1_sa out;

	(void)state;
	build_p1_raw(&b, 4);
	assert_int_equal(gdoi_p1_sa_parse(b.data + 4, b.len - 4, &out), 0);
	assert_int_equal(out.t[0].cipher, 7);
	assert_int_equal(out.t[0].group, 14);
	gdoi_buf_free(&b);
	build_p1_raw(&b, 5);
	assert_int_equal(gdoi_p1_sa_parse(b.data + 4, b.len - 4, &out), -1);
	gdoi_buf_free(&b);
}

/* ---- phase 1 offers of several proposals ------------------------------------------ */

/* An SA body of n_prop proposals (numbered 1..) of n_t transforms each;
 * the k-th transform overall (from 0) has a life of 1000 + k seconds, so
 * a walk's order can be checked. */
static void build_offer(struct gdoi_buf *b, size_t n_prop, size_t n_t)
{
	size_t k = 0, sa;

	gdoi_buf_init(b);
	sa = gdoi_begin(b, ISAKMP_NP_SA);
	gdoi_put_u32(b, ISAKMP_DOI_IPSEC);
	gdoi_put_u32(b, ISAKMP_SIT_IDENTITY_ONLY);
	b->np_at = SIZE_MAX;
	for (size_t i = 0; i < n_prop; i++) {
		size_t prop = gdoi_begin(b, ISAKMP_NP_P);

		gdoi_put_u8(b, (uint8_t)(i + 1));
		gdoi_put_u8(b, ISAKMP_PROTO_ISAKMP);
		gdoi_put_u8(b, 0);
		gdoi_put_u8(b, (uint8_t)n_t);
		b->np_at = SIZE_MAX;
		for (size_t j = 0; j < n_t; j++, k++) {
			size_t t = gdoi_begin(b, ISAKMP_NP_T);

			gdoi_put_u32(b, (uint32_t)(j + 1) << 24 | ISAKMP_KEY_IKE << 16);
			gdoi_put_attr(b, OAKLEY_ENCRYPTION, 7);
			gdoi_put_attr(b, OAKLEY_HASH, 4);
			gdoi_put_attr(b, OAKLEY_LIFE_TYPE, OAKLEY_LIFE_SECONDS);
			gdoi_put_attr(b, OAKLEY_LIFE_DURATION, (uint32_t)(1000 + k));
			gdoi_end(b, t);
		}
		gdoi_end(b, prop);
		b->np_at = prop;
	}
	gdoi_end(b, sa);
}

struct walk_log {
	size_t n;
	size_t last_index;
	int bad;
};

static void walk_check(void *arg, const struct gdoi_p1_prop *p, const struct gdoi_p1_transform *t)
{
	struct walk_log *w = arg;

	if (t->life_seconds != 1000 + w->n || p->num != p->index + 1 || p->index < w->last_index ||
	    t->raw_len < 8 || t->raw[0] > ISAKMP_NP_T || p->proto != ISAKMP_PROTO_ISAKMP)
		w->bad = 1;
	w->last_index = p->index;
	w->n++;
}

static int walk(const struct gdoi_buf *b, size_t *n)
{
	struct walk_log w = { 0 };
	uint32_t doi = 0, sit = 0;
	int rc = gdoi_p1_sa_walk(b->data + 4, b->len - 4, &doi, &sit, walk_check, &w);

	assert_false(w.bad);
	if (rc == 0) {
		assert_int_equal(doi, ISAKMP_DOI_IPSEC);
		assert_int_equal(sit, ISAKMP_SIT_IDENTITY_ONLY);
	}
	*n = w.n;
	return rc;
}

/* TrustCore's shape: 4 proposals, 65 transforms each, all visited in
 * order; the one-proposal parser (for answers) refuses it. */
static void test_p1_walk_proposals(void **state)
{
	struct gdoi_buf b;
	struct gdoi_p1_sa sa;
	size_t n;

	(void)state;
	build_offer(&b, 4, 65);
	assert_int_equal(walk(&b, &n), 0);
	assert_int_equal(n, 260);
	assert_int_equal(gdoi_p1_sa_parse(b.data + 4, b.len - 4, &sa), -1);
	gdoi_buf_free(&b);
	build_offer(&b, 1, GDOI_MAX_TRANSFORMS + 1);
	assert_int_equal(walk(&b, &n), 0);
	assert_int_equal(gdoi_p1_sa_parse(b.data + 4, b.len - 4, &sa), -1);
	gdoi_buf_free(&b);
	build_offer(&b, 1, GDOI_MAX_TRANSFORMS);
	assert_int_equal(gdoi_p1_sa_parse(b.data + 4, b.len - 4, &sa), 0);
	assert_int_equal(sa.n, GDOI_MAX_TRANSFORMS);
	assert_int_equal(sa.t[GDOI_MAX_TRANSFORMS - 1].life_seconds, 1000 + GDOI_MAX_TRANSFORMS - 1);
	gdoi_buf_free(&b);
}

static void test_p1_walk_bounds(void **state)
{
	static const struct { size_t n_prop, n_t; int rc; } cases[] = {
		{ GDOI_P1_MAX_PROPOSALS, 1, 0 },
		{ GDOI_P1_MAX_PROPOSALS + 1, 1, -1 },
		{ 2, 255, 0 },
		{ 3, 170, 0 },                  /* 510 */
		{ 4, 128, 0 },                  /* 512 */
		{ 3, 171, -1 },                 /* 513 */
		{ 16, 33, -1 },                 /* 528 */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct gdoi_buf b;
		size_t n;

		build_offer(&b, cases[i].n_prop, cases[i].n_t);
		assert_int_equal(walk(&b, &n), cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(n, cases[i].n_prop * cases[i].n_t);
		else
			assert_true(n <= GDOI_P1_MAX_OFFER);
		gdoi_buf_free(&b);
	}
}

/* Offsets in a build_offer(2, 3) body: proposal 1 at 8, its transforms
 * 12 bytes + 4 attributes (4 bytes each) = 24 bytes. */
#define OFFER_P1 8
#define OFFER_T_LEN 24
#define OFFER_P2 (OFFER_P1 + 8 + 3 * OFFER_T_LEN)

static void test_p1_walk_lies(void **state)
{
	struct gdoi_buf b;
	uint8_t *body;
	size_t len, n;

	(void)state;
	build_offer(&b, 2, 3);
	body = b.data + 4;
	len = b.len - 4;
	assert_int_equal(walk(&b, &n), 0);
	assert_int_equal(body[OFFER_P1], ISAKMP_NP_P);
	assert_int_equal(body[OFFER_P2], ISAKMP_NP_NONE);
	assert_int_equal(len, OFFER_P2 + 8 + 3 * OFFER_T_LEN);

	static const struct { size_t at; uint8_t v; } lies[] = {
		{ OFFER_P1 + 7, 4 },            /* 4 transforms announced, 3 there */
		{ OFFER_P1 + 7, 2 },            /* 2 announced, a third follows */
		{ OFFER_P1 + 7, 0 },
		{ OFFER_P1 + 5, 2 },            /* not PROTO_ISAKMP */
		{ OFFER_P1 + 6, 200 },          /* an SPI longer than the proposal */
		{ OFFER_P1, ISAKMP_NP_NONE },   /* the second proposal is left over */
		{ OFFER_P1, ISAKMP_NP_T },      /* a proposal that says a T follows */
		{ OFFER_P2, ISAKMP_NP_P },      /* a third proposal that is not there */
		{ OFFER_P1 + 3, 8 },            /* proposal length shorter than its transforms */
		{ OFFER_P1 + 2, 1 },            /* proposal length past the SA */
		{ OFFER_P1 + 8 + 3, 3 },        /* transform length below its header */
		{ OFFER_P1 + 8 + 2, 1 },        /* transform length past the proposal */
		{ OFFER_P1 + 8 + 5, 2 },        /* transform id not KEY_IKE */
	};
	for (size_t i = 0; i < ARRAY_SIZE(lies); i++) {
		uint8_t keep = body[lies[i].at];

		body[lies[i].at] = lies[i].v;
		if (walk(&b, &n) != -1)
			fail_msg("lie %zu (offset %zu = %u) accepted", i, lies[i].at, lies[i].v);
		body[lies[i].at] = keep;
	}
	assert_int_equal(walk(&b, &n), 0);
	/* every truncation, with the walk reading only what it was given */
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *m = dup_exact(body, cut);

		assert_int_equal(gdoi_p1_sa_walk(m, cut, NULL, NULL, NULL, NULL), -1);
		free(m);
	}
	gdoi_buf_free(&b);
}

struct pick {
	size_t want, n;
	struct gdoi_p1_prop p;
	struct gdoi_p1_transform t;
};

static void pick_nth(void *arg, const struct gdoi_p1_prop *p, const struct gdoi_p1_transform *t)
{
	struct pick *k = arg;

	if (k->n++ == k->want) {
		k->p = *p;
		k->t = *t;
	}
}

/* The answer carries the chosen proposal's number and the transform as
 * received, as the only (last) transform. */
static void test_p1_choice(void **state)
{
	struct gdoi_buf b, out;
	struct pick k = { .want = 4 * 65 - 1 };
	struct gdoi_p1_sa sa;

	(void)state;
	build_offer(&b, 4, 65);
	assert_int_equal(gdoi_p1_sa_walk(b.data + 4, b.len - 4, NULL, NULL, pick_nth, &k), 0);
	assert_int_equal(k.p.num, 4);
	assert_int_equal(k.t.raw[0], ISAKMP_NP_NONE);   /* the last one already */
	gdoi_buf_init(&out);
	gdoi_put_p1_choice(&out, GDOI_DOI, 0, &k.p, &k.t);
	assert_int_equal(gdoi_p1_sa_parse(out.data + 4, out.len - 4, &sa), 0);
	assert_int_equal(sa.doi, GDOI_DOI);
	assert_int_equal(sa.situation, 0);
	assert_int_equal(sa.proposal, 4);
	assert_int_equal(sa.n, 1);
	assert_int_equal(sa.t[0].num, 65);
	assert_int_equal(sa.t[0].life_seconds, 1000 + 4 * 65 - 1);
	assert_int_equal(sa.t[0].raw_len, k.t.raw_len);
	assert_memory_equal(sa.t[0].raw, k.t.raw, k.t.raw_len);
	gdoi_buf_free(&out);

	k = (struct pick){ .want = 70 };               /* proposal 2, transform 6: not the last */
	assert_int_equal(gdoi_p1_sa_walk(b.data + 4, b.len - 4, NULL, NULL, pick_nth, &k), 0);
	assert_int_equal(k.t.raw[0], ISAKMP_NP_T);
	gdoi_buf_init(&out);
	gdoi_put_p1_choice(&out, ISAKMP_DOI_IPSEC, ISAKMP_SIT_IDENTITY_ONLY, &k.p, &k.t);
	assert_int_equal(gdoi_p1_sa_parse(out.data + 4, out.len - 4, &sa), 0);
	assert_int_equal(sa.proposal, 2);
	assert_int_equal(sa.t[0].num, 6);
	assert_int_equal(sa.t[0].raw[0], ISAKMP_NP_NONE);
	assert_memory_equal(sa.t[0].raw + 1, k.t.raw + 1, k.t.raw_len - 1);
	gdoi_buf_free(&out);
	gdoi_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_roundtrip),
		cmocka_unit_test(test_p1_sa_roundtrip),
		cmocka_unit_test(test_opaque_payloads_roundtrip),
		cmocka_unit_test(test_id_roundtrip),
		cmocka_unit_test(test_notify_roundtrip),
		cmocka_unit_test(test_gdoi_sa_roundtrip),
		cmocka_unit_test(test_gdoi_sa_tek_only),
		cmocka_unit_test(test_gdoi_sa_gdoid_profile),
		cmocka_unit_test(test_delete_roundtrip),
		cmocka_unit_test(test_swap_selectors),
		cmocka_unit_test(test_gap_roundtrip),
		cmocka_unit_test(test_kd_roundtrip),
		cmocka_unit_test(test_seq_roundtrip),
		cmocka_unit_test(test_message_roundtrip),
		cmocka_unit_test(test_truncated_prefixes),
		cmocka_unit_test(test_truncated_specific_fail),
		cmocka_unit_test(test_payload_len_below_4),
		cmocka_unit_test(test_payload_len_beyond_buffer),
		cmocka_unit_test(test_chain_too_long),
		cmocka_unit_test(test_unknown_payload_type),
		cmocka_unit_test(test_attr_tlv_past_end),
		cmocka_unit_test(test_sat_id_len_past_end),
		cmocka_unit_test(test_sa_chain_rejects),
		cmocka_unit_test(test_kd_inconsistent),
		cmocka_unit_test(test_kd_sig_key_too_long),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_hdr_rejects),
		cmocka_unit_test(test_p1_rejects),
		cmocka_unit_test(test_p1_unused_attr),
		cmocka_unit_test(test_p1_walk_proposals),
		cmocka_unit_test(test_p1_walk_bounds),
		cmocka_unit_test(test_p1_walk_lies),
		cmocka_unit_test(test_p1_choice),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
