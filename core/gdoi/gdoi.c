/* SPDX-License-Identifier: BSD-2-Clause */
/* gdoi.c: the ISAKMP/GDOI message codec. Parsers walk untrusted bytes
 * with a bounds-checked reader (struct rd): every read is checked
 * against the container it comes from, payload chains are walked by
 * loops with a fixed bound (never recursion), and any inconsistency is
 * -1. Builders append to a gdoi_buf and patch next-payload and length
 * fields once a payload is complete.
 *
 * Layouts follow RFC 2408 (ISAKMP), RFC 2407 (IPsec DOI), RFC 2409
 * appendix A (phase 1 attributes), RFC 6407 (GDOI payloads) and RFC 8263
 * (KEK_ACK_REQUESTED). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/gdoi/gdoi.h"
#include "core/util.h"

#define NP_NONE SIZE_MAX        /* gdoi_buf.np_at: nothing to patch */
#define ATTR_AF 0x8000          /* RFC 2408 3.3: Attribute Format bit, 1 = TV */
#define MAX_PAD 255             /* RFC 2408 3.5 is silent; a CBC pad is < 256 */

/* KEK attributes, RFC 6407 5.3 (5.3.1-5.3.7); 8 was KE_OAKLEY_GROUP in
 * RFC 3547 and is reserved now. 9 is RFC 8263's KEK_ACK_REQUESTED. */
enum {
	KEK_MANAGEMENT_ALGORITHM = 1, KEK_ALGORITHM = 2, KEK_KEY_LENGTH = 3,
	KEK_KEY_LIFETIME = 4, SIG_HASH_ALGORITHM = 5, SIG_ALGORITHM = 6,
	SIG_KEY_LENGTH = 7, KEK_ACK_REQUESTED = 9,
};
/* IPsec SA attributes used in SA TEK ESP, RFC 2407 4.5. */
enum {
	IPSEC_LIFE_TYPE = 1, IPSEC_LIFE_DURATION = 2, IPSEC_ENCAP_MODE = 4,
	IPSEC_AUTH_ALG = 5, IPSEC_KEY_LENGTH = 6,
};
#define IPSEC_LIFE_SECONDS 1
#define IPSEC_GROUP_DESC 3
#define OAKLEY_PRF 13           /* RFC 2409 appendix A */
/* GAP attributes, RFC 6407 5.4 (5.4.1, 5.4.2). */
enum { GAP_ATD = 1, GAP_DTD = 2, GAP_SENDER_ID_REQUEST = 3 };
/* Key packet attributes, RFC 6407 5.6.1 (TEK) and 5.6.2 (KEK). */
enum { KD_TEK_ALG_KEY = 1, KD_TEK_INTEG_KEY = 2, KD_TEK_SRC_AUTH_KEY = 3 };
enum { KD_KEK_ALG_KEY = 1, KD_KEK_SIG_KEY = 2 };

/* ---- bounded reader ------------------------------------------------------ */

struct rd {
	const uint8_t *p;
	size_t len, off;
};

static void rd_init(struct rd *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
}

static size_t rd_left(const struct rd *r)
{
	return r->len - r->off;
}

static int rd_bytes(struct rd *r, size_t n, const uint8_t **out)
{
	if (n > rd_left(r))
		return -1;
	*out = r->p + r->off;
	r->off += n;
	return 0;
}

static int rd_u8(struct rd *r, uint8_t *v)
{
	const uint8_t *b;

	if (rd_bytes(r, 1, &b) < 0)
		return -1;
	*v = b[0];
	return 0;
}

static int rd_u16(struct rd *r, uint16_t *v)
{
	const uint8_t *b;

	if (rd_bytes(r, 2, &b) < 0)
		return -1;
	*v = (uint16_t)(b[0] << 8 | b[1]);
	return 0;
}

static int rd_u32(struct rd *r, uint32_t *v)
{
	const uint8_t *b;

	if (rd_bytes(r, 4, &b) < 0)
		return -1;
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return 0;
}

static int rd_copy(struct rd *r, size_t n, void *dst, size_t cap)
{
	const uint8_t *b;

	if (n > cap || rd_bytes(r, n, &b) < 0)
		return -1;
	if (n)
		memcpy(dst, b, n);
	return 0;
}

/* Reads a generic payload header (RFC 2408 3.2) and the body it covers. */
static int rd_payload(struct rd *r, uint8_t *np, struct rd *body)
{
	uint8_t res;
	uint16_t plen;
	const uint8_t *b;

	if (rd_u8(r, np) < 0 || rd_u8(r, &res) < 0 || rd_u16(r, &plen) < 0)
		return -1;
	if (plen < 4 || rd_bytes(r, plen - 4u, &b) < 0)
		return -1;
	rd_init(body, b, plen - 4u);
	return 0;
}

/* ---- header and chain ----------------------------------------------------- */

int isakmp_hdr_parse(const uint8_t *buf, size_t buf_len, struct isakmp_hdr *h)
{
	struct rd r;

	rd_init(&r, buf, buf_len);
	if (rd_copy(&r, 8, h->icookie, 8) < 0 || rd_copy(&r, 8, h->rcookie, 8) < 0 ||
	    rd_u8(&r, &h->np) < 0 || rd_u8(&r, &h->version) < 0 ||
	    rd_u8(&r, &h->exchange) < 0 || rd_u8(&r, &h->flags) < 0 ||
	    rd_u32(&r, &h->msgid) < 0 || rd_u32(&r, &h->len) < 0)
		return -1;
	/* RFC 2408 5.1: a major version above ours is rejected. */
	if ((h->version >> 4) != (ISAKMP_VERSION >> 4))
		return -1;
	if (h->len < ISAKMP_HDR_LEN || h->len > buf_len)
		return -1;
	return 0;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void isakmp_hdr_write(uint8_t out[ISAKMP_HDR_LEN], const struct isakmp_hdr *h)
{
	memcpy(out, h->icookie, 8);
	memcpy(out + 8, h->rcookie, 8);
	out[16] = h->np;
	out[17] = h->version;
	out[18] = h->exchange;
	out[19] = h->flags;
	put_be32(out + 20, h->msgid);
	put_be32(out + 24, h->len);
}

static int known_payload(uint8_t t)
{
	return (t >= ISAKMP_NP_SA && t <= ISAKMP_NP_VID) ||
	       (t >= GDOI_NP_SAK && t <= GDOI_NP_SEQ) || t == GDOI_NP_GAP;
}

int gdoi_chain_parse(uint8_t first, const uint8_t *buf, size_t len, int allow_pad,
		     struct gdoi_chain *c)
{
	struct rd r;
	uint8_t type = first;

	memset(c, 0, sizeof(*c));
	rd_init(&r, buf, len);
	while (type != ISAKMP_NP_NONE) {
		struct gdoi_payload *p;
		struct rd body;
		size_t start = r.off;
		uint8_t np;

		if (c->n == GDOI_MAX_PAYLOADS || !known_payload(type))
			return -1;
		if (rd_payload(&r, &np, &body) < 0)
			return -1;
		p = &c->p[c->n++];
		p->type = type;
		p->raw = buf + start;
		p->raw_len = r.off - start;
		p->body = body.p;
		p->len = body.len;
		type = np;
	}
	c->used = r.off;
	/* Only an encrypted body carries block padding after the chain. */
	if (rd_left(&r) && (!allow_pad || rd_left(&r) > MAX_PAD))
		return -1;
	return 0;
}

const struct gdoi_payload *gdoi_chain_find(const struct gdoi_chain *c, uint8_t type)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->p[i].type == type)
			return &c->p[i];
	return NULL;
}

size_t gdoi_chain_count(const struct gdoi_chain *c, uint8_t type)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->p[i].type == type;
	return n;
}

/* ---- data attributes -------------------------------------------------------- */

static int attr_read(struct rd *r, struct gdoi_attr *a)
{
	uint16_t t, v;

	if (rd_u16(r, &t) < 0 || rd_u16(r, &v) < 0)
		return -1;
	memset(a, 0, sizeof(*a));
	a->type = t & (uint16_t)~ATTR_AF;
	if (t & ATTR_AF) {
		a->tv = 1;
		a->value = v;
		return 0;
	}
	if (rd_bytes(r, v, &a->data) < 0)
		return -1;
	a->len = v;
	for (size_t i = 0; i < a->len && a->len <= 4; i++)
		a->value = a->value << 8 | a->data[i];
	return 0;
}

int gdoi_attrs_parse(const uint8_t *buf, size_t len, struct gdoi_attr *out, size_t max, size_t *n)
{
	struct rd r;

	*n = 0;
	rd_init(&r, buf, len);
	while (rd_left(&r)) {
		if (*n == max || attr_read(&r, &out[*n]) < 0)
			return -1;
		(*n)++;
	}
	return 0;
}

/* A numeric attribute: TV, or a TLV of 1..4 bytes (RFC 2408 3.3 lets a
 * variable-length attribute carry a small number). */
static int attr_num(const struct gdoi_attr *a, uint32_t *v)
{
	if (!a->tv && (a->len < 1 || a->len > 4))
		return -1;
	*v = a->value;
	return 0;
}

static int attr_u16(const struct gdoi_attr *a, uint16_t *v)
{
	uint32_t x;

	if (attr_num(a, &x) < 0 || x > 0xffff)
		return -1;
	*v = (uint16_t)x;
	return 0;
}

/* ---- phase 1 SA --------------------------------------------------------------- */

static int p1_attr(const struct gdoi_attr *a, struct gdoi_p1_transform *t, uint16_t *life_type)
{
	uint32_t v;

	/* Unused attributes (a group prime, say) are skipped unchecked. */
	if (a->type == 0 || a->type > OAKLEY_KEY_LENGTH || a->type == OAKLEY_PRF ||
	    (a->type > OAKLEY_GROUP && a->type < OAKLEY_LIFE_TYPE))
		return 0;
	if (attr_num(a, &v) < 0)
		return -1;
	switch (a->type) {
	case OAKLEY_ENCRYPTION: t->cipher = (int)v; break;
	case OAKLEY_HASH: t->hash = (int)v; break;
	case OAKLEY_AUTH: t->auth = (int)v; break;
	case OAKLEY_GROUP: t->group = (int)v; break;
	case OAKLEY_KEY_LENGTH: t->key_bits = v; break;
	case OAKLEY_LIFE_TYPE: *life_type = (uint16_t)v; break;
	case OAKLEY_LIFE_DURATION:
		/* RFC 2409 appendix A: a duration applies to the type before it. */
		if (*life_type == OAKLEY_LIFE_SECONDS)
			t->life_seconds = v;
		break;
	default: break;
	}
	return 0;
}

static int p1_transform_parse(struct rd *body, struct gdoi_p1_transform *t)
{
	struct gdoi_attr attrs[GDOI_MAX_ATTRS];
	uint8_t id;
	uint16_t res, life_type = 0;
	size_t n;

	if (rd_u8(body, &t->num) < 0 || rd_u8(body, &id) < 0 || rd_u16(body, &res) < 0)
		return -1;
	if (id != ISAKMP_KEY_IKE)
		return -1;
	if (gdoi_attrs_parse(body->p + body->off, rd_left(body), attrs, GDOI_MAX_ATTRS, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (p1_attr(&attrs[i], t, &life_type) < 0)
			return -1;
	return 0;
}

/* RFC 2408 3.5/3.6: a proposal with its transform chain (each T payload
 * names the next one; the last says 0, and the count must match). budget
 * is what is left of GDOI_P1_MAX_OFFER. */
static int p1_proposal_walk(struct rd *prop, struct gdoi_p1_prop *p, size_t *budget,
			    gdoi_p1_visit_fn visit, void *arg)
{
	uint8_t np = ISAKMP_NP_T;

	if (rd_u8(prop, &p->num) < 0 || rd_u8(prop, &p->proto) < 0 ||
	    rd_u8(prop, &p->spi_len) < 0 || rd_u8(prop, &p->n_transforms) < 0 ||
	    rd_bytes(prop, p->spi_len, &p->spi) < 0)
		return -1;
	if (p->proto != ISAKMP_PROTO_ISAKMP || p->n_transforms == 0 || p->n_transforms > *budget)
		return -1;
	*budget -= p->n_transforms;
	for (size_t i = 0; i < p->n_transforms; i++) {
		struct gdoi_p1_transform t;
		struct rd body;
		size_t start = prop->off;

		if (np != ISAKMP_NP_T || rd_payload(prop, &np, &body) < 0)
			return -1;
		memset(&t, 0, sizeof(t));
		t.raw = prop->p + start;
		t.raw_len = prop->off - start;
		if (p1_transform_parse(&body, &t) < 0)
			return -1;
		if (visit)
			visit(arg, p, &t);
	}
	return np == ISAKMP_NP_NONE && rd_left(prop) == 0 ? 0 : -1;
}

int gdoi_p1_sa_walk(const uint8_t *body, size_t len, uint32_t *doi, uint32_t *situation,
		    gdoi_p1_visit_fn visit, void *arg)
{
	struct rd r;
	uint32_t d, s;
	uint8_t np = ISAKMP_NP_P;
	size_t budget = GDOI_P1_MAX_OFFER;

	rd_init(&r, body, len);
	if (rd_u32(&r, &d) < 0 || rd_u32(&r, &s) < 0)
		return -1;
	if (doi)
		*doi = d;
	if (situation)
		*situation = s;
	/* The proposals are a chain of their own inside the SA body. */
	for (size_t i = 0; np != ISAKMP_NP_NONE; i++) {
		struct gdoi_p1_prop p = { .index = i };
		struct rd prop;

		if (np != ISAKMP_NP_P || i == GDOI_P1_MAX_PROPOSALS ||
		    rd_payload(&r, &np, &prop) < 0 ||
		    p1_proposal_walk(&prop, &p, &budget, visit, arg) < 0)
			return -1;
	}
	return rd_left(&r) ? -1 : 0;
}

struct p1_collect {
	struct gdoi_p1_sa *sa;
	int bad;
};

static void p1_collect(void *arg, const struct gdoi_p1_prop *p, const struct gdoi_p1_transform *t)
{
	struct p1_collect *c = arg;

	if (p->index > 0 || c->sa->n == GDOI_MAX_TRANSFORMS) {
		c->bad = 1;
		return;
	}
	c->sa->proposal = p->num;
	c->sa->t[c->sa->n++] = *t;
}

int gdoi_p1_sa_parse(const uint8_t *body, size_t len, struct gdoi_p1_sa *sa)
{
	struct p1_collect c = { .sa = sa };

	memset(sa, 0, sizeof(*sa));
	if (gdoi_p1_sa_walk(body, len, &sa->doi, &sa->situation, p1_collect, &c) < 0 || c.bad)
		return -1;
	return 0;
}

/* ---- identification (RFC 2407 4.6.2) --------------------------------------------- */

int gdoi_id_parse(const uint8_t *body, size_t len, struct gdoi_id *id)
{
	struct rd r;

	memset(id, 0, sizeof(*id));
	rd_init(&r, body, len);
	if (rd_u8(&r, &id->type) < 0 || rd_u8(&r, &id->proto) < 0 || rd_u16(&r, &id->port) < 0)
		return -1;
	id->len = rd_left(&r);
	return rd_copy(&r, id->len, id->data, sizeof(id->data));
}

/* ---- GDOI SA ------------------------------------------------------------------------ */

/* Type, port, length (1 or 2 octets), data: RFC 6407 5.3 uses one octet
 * in SA KEK, 5.5.1 two octets in SA TEK. */
static int ident_parse(struct rd *r, int wide_len, struct gdoi_ident *id)
{
	uint16_t n;
	uint8_t n8;

	if (rd_u8(r, &id->type) < 0 || rd_u16(r, &id->port) < 0)
		return -1;
	if (wide_len) {
		if (rd_u16(r, &n) < 0)
			return -1;
	} else {
		if (rd_u8(r, &n8) < 0)
			return -1;
		n = n8;
	}
	id->len = n;
	return rd_copy(r, n, id->data, sizeof(id->data));
}

static int kek_attr(const struct gdoi_attr *a, struct gdoi_sa_kek *k)
{
	uint32_t v;

	if (a->type < KEK_MANAGEMENT_ALGORITHM || a->type > KEK_ACK_REQUESTED)
		return 0;       /* private use and later attributes: skipped */
	if (attr_num(a, &v) < 0)
		return -1;
	if (a->type != KEK_KEY_LIFETIME && v > 0xffff)
		return -1;
	switch (a->type) {
	case KEK_MANAGEMENT_ALGORITHM: k->mgmt_alg = (uint16_t)v; break;
	case KEK_ALGORITHM: k->alg = (uint16_t)v; break;
	case KEK_KEY_LENGTH: k->key_bits = (uint16_t)v; break;
	case KEK_KEY_LIFETIME: k->lifetime = v; break;
	case SIG_HASH_ALGORITHM: k->sig_hash = (uint16_t)v; break;
	case SIG_ALGORITHM: k->sig_alg = (uint16_t)v; break;
	case SIG_KEY_LENGTH: k->sig_key_bits = (uint16_t)v; break;
	case KEK_ACK_REQUESTED: k->ack_requested = (int)v ? (int)v : 1; break;
	default: break;
	}
	return 0;
}

static int attrs_rest(struct rd *r, struct gdoi_attr *attrs, size_t *n)
{
	return gdoi_attrs_parse(r->p + r->off, rd_left(r), attrs, GDOI_MAX_ATTRS, n);
}

/* RFC 6407 5.3: protocol, src/dst identification, SPI (16), RESERVED2
 * (4; RFC 3547's POP algorithm and POP key length), KEK attributes. */
/* gdoid keeps RFC 3547's POP key length: two octets more. */
static size_t sak_reserved(int profile)
{
	return profile == GDOI_PROFILE_GDOID ? 6 : 4;
}

static int sak_parse(struct rd *r, int profile, struct gdoi_sa_kek *k)
{
	struct gdoi_attr attrs[GDOI_MAX_ATTRS];
	const uint8_t *res;
	size_t n;

	if (rd_u8(r, &k->protocol) < 0 || ident_parse(r, 0, &k->src) < 0 ||
	    ident_parse(r, 0, &k->dst) < 0 || rd_copy(r, 16, k->spi, 16) < 0 ||
	    rd_bytes(r, sak_reserved(profile), &res) < 0 || attrs_rest(r, attrs, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (kek_attr(&attrs[i], k) < 0)
			return -1;
	return 0;
}

static int tek_attr(const struct gdoi_attr *a, struct gdoi_sa_tek *t, uint16_t *life_type)
{
	uint32_t v;

	if (a->type < IPSEC_LIFE_TYPE || a->type > IPSEC_KEY_LENGTH ||
	    a->type == IPSEC_GROUP_DESC)
		return 0;       /* group description, key rounds, ...: not used */
	if (attr_num(a, &v) < 0)
		return -1;
	if (a->type != IPSEC_LIFE_DURATION && v > 0xffff)
		return -1;
	switch (a->type) {
	case IPSEC_LIFE_TYPE: *life_type = (uint16_t)v; break;
	case IPSEC_LIFE_DURATION:
		/* RFC 2407 4.5: the duration follows its life type. */
		if (*life_type == IPSEC_LIFE_SECONDS)
			t->lifetime = v;
		break;
	case IPSEC_ENCAP_MODE: t->encap = (uint16_t)v; break;
	case IPSEC_AUTH_ALG: t->auth_alg = (uint16_t)v; break;
	case IPSEC_KEY_LENGTH: t->key_bits = (uint16_t)v; break;
	default: break;
	}
	return 0;
}

/* RFC 6407 5.5 / 5.5.1 (PROTO_IPSEC_ESP): protocol id, IP protocol,
 * src/dst identification with two-octet data lengths, transform id,
 * SPI (4), RFC 2407 SA attributes. AH (5.5.2-era) is not supported. */
static int sat_parse(struct rd *r, int profile, struct gdoi_sa_tek *t)
{
	struct gdoi_attr attrs[GDOI_MAX_ATTRS];
	uint16_t life_type = 0;
	int wide = profile != GDOI_PROFILE_GDOID;
	size_t n;

	if (rd_u8(r, &t->protocol) < 0 || t->protocol != GDOI_PROTO_IPSEC_ESP)
		return -1;
	if (rd_u8(r, &t->ip_proto) < 0 || ident_parse(r, wide, &t->src) < 0 ||
	    ident_parse(r, wide, &t->dst) < 0 || rd_u8(r, &t->transform) < 0 ||
	    rd_u32(r, &t->spi) < 0 || attrs_rest(r, attrs, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (tek_attr(&attrs[i], t, &life_type) < 0)
			return -1;
	return 0;
}

int gdoi_gap_parse(const uint8_t *body, size_t len, uint16_t *atd, uint16_t *dtd)
{
	struct gdoi_attr attrs[GDOI_MAX_ATTRS];
	size_t n;

	*atd = *dtd = 0;
	if (gdoi_attrs_parse(body, len, attrs, GDOI_MAX_ATTRS, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (attrs[i].type == GAP_ATD && attr_u16(&attrs[i], atd) < 0)
			return -1;
		if (attrs[i].type == GAP_DTD && attr_u16(&attrs[i], dtd) < 0)
			return -1;
	}
	return 0;
}

static int sa_member_parse(uint8_t type, struct rd *body, struct gdoi_sa *sa)
{
	switch (type) {
	case GDOI_NP_SAK:
		if (sa->has_kek)
			return -1;
		sa->has_kek = 1;
		return sak_parse(body, sa->profile, &sa->kek);
	case GDOI_NP_SAT:
		if (sa->n_tek == GDOI_MAX_TEKS)
			return -1;
		return sat_parse(body, sa->profile, &sa->tek[sa->n_tek++]);
	case GDOI_NP_GAP:
		if (sa->has_gap)
			return -1;
		sa->has_gap = 1;
		return gdoi_gap_parse(body->p, body->len, &sa->atd, &sa->dtd);
	default:
		return -1;
	}
}

/* RFC 6407 5.2: DOI, situation, SA Attribute Next Payload (2 octets),
 * RESERVED (2), then the SA KEK / GAP / SA TEK chain inside the SA
 * payload's length. At most one KEK, one GAP and GDOI_MAX_TEKS TEKs, so
 * the loop is bounded even before the buffer runs out. */
static int sa_parse_as(const uint8_t *body, size_t len, int profile, struct gdoi_sa *sa)
{
	struct rd r;
	uint16_t np16, res;
	uint8_t type;

	memset(sa, 0, sizeof(*sa));
	sa->profile = profile;
	rd_init(&r, body, len);
	if (rd_u32(&r, &sa->doi) < 0 || rd_u32(&r, &sa->situation) < 0 ||
	    rd_u16(&r, &np16) < 0 || rd_u16(&r, &res) < 0)
		return -1;
	if (sa->doi != GDOI_DOI || np16 > 0xff)
		return -1;
	for (type = (uint8_t)np16; type != ISAKMP_NP_NONE;) {
		struct rd pb;
		uint8_t np;

		if (rd_payload(&r, &np, &pb) < 0 || sa_member_parse(type, &pb, sa) < 0)
			return -1;
		type = np;
	}
	return rd_left(&r) == 0 ? 0 : -1;
}

int gdoi_sa_parse_profile(const uint8_t *body, size_t len, int profile, struct gdoi_sa *sa)
{
	if (profile >= 0)
		return sa_parse_as(body, len, profile, sa);
	if (sa_parse_as(body, len, GDOI_PROFILE_RFC6407, sa) == 0)
		return 0;
	return sa_parse_as(body, len, GDOI_PROFILE_GDOID, sa);
}

static void swap_ident(struct gdoi_ident *id)
{
	id->port = (uint16_t)(id->port << 8 | id->port >> 8);
	if (id->type != ISAKMP_ID_IPV4_ADDR && id->type != ISAKMP_ID_IPV4_ADDR_SUBNET &&
	    id->type != ISAKMP_ID_IPV4_ADDR_RANGE)
		return;
	for (size_t at = 0; at + 4 <= id->len && at + 4 <= sizeof(id->data); at += 4) {
		uint8_t *p = id->data + at, t;
		t = p[0]; p[0] = p[3]; p[3] = t;
		t = p[1]; p[1] = p[2]; p[2] = t;
	}
}

void gdoi_sa_swap_selectors(struct gdoi_sa *sa)
{
	for (size_t i = 0; i < sa->n_tek && i < GDOI_MAX_TEKS; i++) {
		swap_ident(&sa->tek[i].src);
		swap_ident(&sa->tek[i].dst);
	}
}

int gdoi_sa_parse(const uint8_t *body, size_t len, struct gdoi_sa *sa)
{
	return sa_parse_as(body, len, GDOI_PROFILE_RFC6407, sa);
}

/* ---- key download (RFC 6407 5.6) -------------------------------------------------- */

static int keypkt_key(const struct gdoi_attr *a, uint8_t *dst, size_t cap, size_t *len)
{
	if (a->tv || a->len > cap)
		return -1;
	memcpy(dst, a->data, a->len);
	*len = a->len;
	return 0;
}

static int keypkt_attr(const struct gdoi_attr *a, struct gdoi_keypkt *k)
{
	if (k->type == GDOI_KD_TEK) {
		if (a->type == KD_TEK_ALG_KEY)
			return keypkt_key(a, k->alg_key, sizeof(k->alg_key), &k->alg_key_len);
		if (a->type == KD_TEK_INTEG_KEY)
			return keypkt_key(a, k->integ_key, sizeof(k->integ_key), &k->integ_key_len);
		return 0;       /* TEK_SOURCE_AUTH_KEY and others: not used here */
	}
	if (a->type == KD_KEK_ALG_KEY)
		return keypkt_key(a, k->alg_key, sizeof(k->alg_key), &k->alg_key_len);
	if (a->type == KD_KEK_SIG_KEY)
		return keypkt_key(a, k->sig_key, sizeof(k->sig_key), &k->sig_key_len);
	return 0;
}

/* Key packet: KD Type, RESERVED, KD Length (the whole key packet, its
 * 4-byte header included), SPI Size, SPI, attributes. Only TEK and KEK
 * download types (5.6.1, 5.6.2) are accepted; LKH and SID are not used. */
static int keypkt_parse(struct rd *r, struct gdoi_keypkt *k)
{
	struct gdoi_attr attrs[GDOI_MAX_ATTRS];
	struct rd pkt;
	const uint8_t *b;
	uint8_t res, spi_len;
	uint16_t klen;
	size_t n;

	if (rd_u8(r, &k->type) < 0 || rd_u8(r, &res) < 0 || rd_u16(r, &klen) < 0)
		return -1;
	if (k->type != GDOI_KD_TEK && k->type != GDOI_KD_KEK)
		return -1;
	if (klen < 5 || rd_bytes(r, klen - 4u, &b) < 0)
		return -1;
	rd_init(&pkt, b, klen - 4u);
	if (rd_u8(&pkt, &spi_len) < 0 || rd_copy(&pkt, spi_len, k->spi, sizeof(k->spi)) < 0)
		return -1;
	k->spi_len = spi_len;
	if (attrs_rest(&pkt, attrs, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (keypkt_attr(&attrs[i], k) < 0)
			return -1;
	return 0;
}

static int kd_parse_packets(const uint8_t *body, size_t len, struct gdoi_kd *kd)
{
	struct rd r;
	uint16_t count, res;

	rd_init(&r, body, len);
	if (rd_u16(&r, &count) < 0 || rd_u16(&r, &res) < 0 || count > GDOI_MAX_KEYPKTS)
		return -1;
	for (kd->n = 0; kd->n < count; kd->n++)
		if (keypkt_parse(&r, &kd->k[kd->n]) < 0)
			return -1;
	/* Bytes after the announced packets mean the count or a length lies. */
	return rd_left(&r) == 0 ? 0 : -1;
}

int gdoi_kd_parse(const uint8_t *body, size_t len, struct gdoi_kd *kd)
{
	memset(kd, 0, sizeof(*kd));
	if (kd_parse_packets(body, len, kd) < 0) {
		gdoi_kd_wipe(kd);       /* no half-read key material left behind */
		return -1;
	}
	return 0;
}

void gdoi_kd_wipe(struct gdoi_kd *kd)
{
	OPENSSL_cleanse(kd, sizeof(*kd));
}

/* ---- SEQ (RFC 6407 5.7) and notify (RFC 2408 3.14) ------------------------------------- */

int gdoi_seq_parse(const uint8_t *body, size_t len, uint32_t *seq)
{
	struct rd r;

	rd_init(&r, body, len);
	if (len != 4)
		return -1;
	return rd_u32(&r, seq);
}

int gdoi_delete_parse(const uint8_t *body, size_t len, struct gdoi_delete *d)
{
	struct rd r;
	uint16_t n;

	memset(d, 0, sizeof(*d));
	rd_init(&r, body, len);
	if (rd_u32(&r, &d->doi) < 0 || rd_u8(&r, &d->proto) < 0 || rd_u8(&r, &d->spi_size) < 0 ||
	    rd_u16(&r, &n) < 0)
		return -1;
	if ((d->spi_size != 4 && d->spi_size != 16) || n == 0 || n > GDOI_MAX_DEL_SPIS ||
	    rd_left(&r) != (size_t)n * d->spi_size)
		return -1;
	for (d->n = 0; d->n < n; d->n++)
		if (rd_copy(&r, d->spi_size, d->spi[d->n], sizeof(d->spi[d->n])) < 0)
			return -1;
	return 0;
}

int gdoi_notify_parse(const uint8_t *body, size_t len, struct gdoi_notify *n)
{
	struct rd r;
	uint8_t spi_len;

	memset(n, 0, sizeof(*n));
	rd_init(&r, body, len);
	if (rd_u32(&r, &n->doi) < 0 || rd_u8(&r, &n->proto) < 0 || rd_u8(&r, &spi_len) < 0 ||
	    rd_u16(&r, &n->type) < 0 || rd_bytes(&r, spi_len, &n->spi) < 0)
		return -1;
	n->spi_len = spi_len;
	n->data_len = rd_left(&r);
	n->data = n->data_len ? r.p + r.off : NULL;
	if (!n->spi_len)
		n->spi = NULL;
	return 0;
}

/* ---- building ----------------------------------------------------------------------------- */

void gdoi_buf_init(struct gdoi_buf *b)
{
	memset(b, 0, sizeof(*b));
	b->np_at = NP_NONE;
}

void gdoi_buf_free(struct gdoi_buf *b)
{
	if (b->data)
		OPENSSL_cleanse(b->data, b->cap);
	free(b->data);
	gdoi_buf_init(b);
}

/* Grows by doubling; the old block is wiped, since buffers hold keys. */
static uint8_t *buf_room(struct gdoi_buf *b, size_t n)
{
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *p;

		while (cap - b->len < n)
			cap *= 2;
		p = xmalloc(cap);
		if (b->len)
			memcpy(p, b->data, b->len);
		if (b->data)
			OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
		b->data = p;
		b->cap = cap;
	}
	b->len += n;
	return b->data + b->len - n;
}

void gdoi_put_u8(struct gdoi_buf *b, uint8_t v)
{
	*buf_room(b, 1) = v;
}

void gdoi_put_u16(struct gdoi_buf *b, uint16_t v)
{
	put_be16(buf_room(b, 2), v);
}

void gdoi_put_u32(struct gdoi_buf *b, uint32_t v)
{
	put_be32(buf_room(b, 4), v);
}

void gdoi_put_bytes(struct gdoi_buf *b, const void *p, size_t len)
{
	if (len)
		memcpy(buf_room(b, len), p, len);
}

void gdoi_put_attr(struct gdoi_buf *b, uint16_t type, uint32_t value)
{
	if (value <= 0xffff) {
		gdoi_put_u16(b, (uint16_t)(type | ATTR_AF));
		gdoi_put_u16(b, (uint16_t)value);
		return;
	}
	gdoi_put_u16(b, type & (uint16_t)~ATTR_AF);
	gdoi_put_u16(b, 4);
	gdoi_put_u32(b, value);
}

void gdoi_put_attr_data(struct gdoi_buf *b, uint16_t type, const void *p, size_t len)
{
	gdoi_put_u16(b, type & (uint16_t)~ATTR_AF);
	gdoi_put_u16(b, (uint16_t)len);
	gdoi_put_bytes(b, p, len);
}

void gdoi_put_hdr(struct gdoi_buf *b, const struct isakmp_hdr *h)
{
	struct isakmp_hdr c = *h;
	size_t at = b->len;

	c.np = ISAKMP_NP_NONE;
	c.len = 0;
	isakmp_hdr_write(buf_room(b, ISAKMP_HDR_LEN), &c);
	b->np_at = at + 16;
}

size_t gdoi_begin(struct gdoi_buf *b, uint8_t type)
{
	size_t start = b->len;

	if (b->np_at != NP_NONE && b->np_at < b->len)
		b->data[b->np_at] = type;
	gdoi_put_u8(b, ISAKMP_NP_NONE);
	gdoi_put_u8(b, 0);
	gdoi_put_u16(b, 0);
	b->np_at = start;
	return start;
}

void gdoi_end(struct gdoi_buf *b, size_t start)
{
	put_be16(b->data + start + 2, (uint16_t)(b->len - start));
}

void gdoi_put_payload(struct gdoi_buf *b, uint8_t type, const void *body, size_t len)
{
	size_t start = gdoi_begin(b, type);

	gdoi_put_bytes(b, body, len);
	gdoi_end(b, start);
}

void gdoi_finish(struct gdoi_buf *b)
{
	if (b->len >= ISAKMP_HDR_LEN)
		put_be32(b->data + 24, (uint32_t)b->len);
}

static void put_p1_transform(struct gdoi_buf *b, const struct gdoi_p1_transform *t)
{
	size_t start = gdoi_begin(b, ISAKMP_NP_T);

	gdoi_put_u8(b, t->num);
	gdoi_put_u8(b, ISAKMP_KEY_IKE);
	gdoi_put_u16(b, 0);
	gdoi_put_attr(b, OAKLEY_ENCRYPTION, (uint32_t)t->cipher);
	if (t->key_bits)
		gdoi_put_attr(b, OAKLEY_KEY_LENGTH, t->key_bits);
	gdoi_put_attr(b, OAKLEY_HASH, (uint32_t)t->hash);
	gdoi_put_attr(b, OAKLEY_AUTH, (uint32_t)t->auth);
	gdoi_put_attr(b, OAKLEY_GROUP, (uint32_t)t->group);
	if (t->life_seconds) {
		gdoi_put_attr(b, OAKLEY_LIFE_TYPE, OAKLEY_LIFE_SECONDS);
		gdoi_put_attr(b, OAKLEY_LIFE_DURATION, t->life_seconds);
	}
	gdoi_end(b, start);
}

/* The proposal and transforms live inside the SA body: they form their
 * own chain, so the outer next-payload patch point is set aside. */
void gdoi_put_p1_sa(struct gdoi_buf *b, const struct gdoi_p1_sa *sa)
{
	size_t sa_start = gdoi_begin(b, ISAKMP_NP_SA);
	size_t prop;

	gdoi_put_u32(b, sa->doi);
	gdoi_put_u32(b, sa->situation);
	b->np_at = NP_NONE;
	prop = gdoi_begin(b, ISAKMP_NP_P);
	gdoi_put_u8(b, sa->proposal);
	gdoi_put_u8(b, ISAKMP_PROTO_ISAKMP);
	gdoi_put_u8(b, 0);
	gdoi_put_u8(b, (uint8_t)sa->n);
	b->np_at = NP_NONE;
	for (size_t i = 0; i < sa->n && i < GDOI_MAX_TRANSFORMS; i++)
		put_p1_transform(b, &sa->t[i]);
	gdoi_end(b, prop);
	gdoi_end(b, sa_start);
	b->np_at = sa_start;
}

void gdoi_put_p1_choice(struct gdoi_buf *b, uint32_t doi, uint32_t situation,
			const struct gdoi_p1_prop *p, const struct gdoi_p1_transform *t)
{
	size_t sa_start = gdoi_begin(b, ISAKMP_NP_SA);
	size_t prop, at;

	gdoi_put_u32(b, doi);
	gdoi_put_u32(b, situation);
	b->np_at = NP_NONE;
	prop = gdoi_begin(b, ISAKMP_NP_P);
	gdoi_put_u8(b, p->num);
	gdoi_put_u8(b, p->proto);
	gdoi_put_u8(b, p->spi_len);
	gdoi_put_u8(b, 1);
	gdoi_put_bytes(b, p->spi, p->spi_len);
	at = b->len;
	gdoi_put_bytes(b, t->raw, t->raw_len);
	if (t->raw_len)
		b->data[at] = ISAKMP_NP_NONE;
	gdoi_end(b, prop);
	gdoi_end(b, sa_start);
	b->np_at = sa_start;
}

void gdoi_put_id(struct gdoi_buf *b, const struct gdoi_id *id)
{
	size_t start = gdoi_begin(b, ISAKMP_NP_ID);

	gdoi_put_u8(b, id->type);
	gdoi_put_u8(b, id->proto);
	gdoi_put_u16(b, id->port);
	gdoi_put_bytes(b, id->data, id->len < sizeof(id->data) ? id->len : sizeof(id->data));
	gdoi_end(b, start);
}

static void put_ident(struct gdoi_buf *b, const struct gdoi_ident *id, int wide_len)
{
	size_t n = id->len < sizeof(id->data) ? id->len : sizeof(id->data);

	gdoi_put_u8(b, id->type);
	gdoi_put_u16(b, id->port);
	if (wide_len)
		gdoi_put_u16(b, (uint16_t)n);
	else
		gdoi_put_u8(b, (uint8_t)n);
	gdoi_put_bytes(b, id->data, n);
}

static void put_sak(struct gdoi_buf *b, int profile, const struct gdoi_sa_kek *k)
{
	size_t start = gdoi_begin(b, GDOI_NP_SAK);

	gdoi_put_u8(b, k->protocol);
	put_ident(b, &k->src, 0);
	put_ident(b, &k->dst, 0);
	gdoi_put_bytes(b, k->spi, 16);
	gdoi_put_u32(b, 0);     /* RFC 6407 5.3 RESERVED2 */
	if (profile == GDOI_PROFILE_GDOID)
		gdoi_put_u16(b, 0);     /* RFC 3547 POP key length, which gdoid keeps */
	if (k->mgmt_alg)
		gdoi_put_attr(b, KEK_MANAGEMENT_ALGORITHM, k->mgmt_alg);
	gdoi_put_attr(b, KEK_ALGORITHM, k->alg);
	if (k->key_bits)
		gdoi_put_attr(b, KEK_KEY_LENGTH, k->key_bits);
	if (profile == GDOI_PROFILE_GDOID) {
		/* gdoid reads KEK_KEY_LIFETIME as four octets, whatever its length */
		uint8_t life[4];
		put_be32(life, k->lifetime);
		gdoi_put_attr_data(b, KEK_KEY_LIFETIME, life, sizeof(life));
	} else {
		gdoi_put_attr(b, KEK_KEY_LIFETIME, k->lifetime);
	}
	gdoi_put_attr(b, SIG_HASH_ALGORITHM, k->sig_hash);
	gdoi_put_attr(b, SIG_ALGORITHM, k->sig_alg);
	if (k->sig_key_bits)
		gdoi_put_attr(b, SIG_KEY_LENGTH, k->sig_key_bits);
	if (k->ack_requested)
		gdoi_put_attr(b, KEK_ACK_REQUESTED, (uint32_t)k->ack_requested);
	gdoi_end(b, start);
}

static void put_sat(struct gdoi_buf *b, int profile, const struct gdoi_sa_tek *t)
{
	size_t start = gdoi_begin(b, GDOI_NP_SAT);

	gdoi_put_u8(b, t->protocol);
	gdoi_put_u8(b, t->ip_proto);
	put_ident(b, &t->src, profile != GDOI_PROFILE_GDOID);
	put_ident(b, &t->dst, profile != GDOI_PROFILE_GDOID);
	gdoi_put_u8(b, t->transform);
	gdoi_put_u32(b, t->spi);
	gdoi_put_attr(b, IPSEC_LIFE_TYPE, IPSEC_LIFE_SECONDS);
	gdoi_put_attr(b, IPSEC_LIFE_DURATION, t->lifetime);
	gdoi_put_attr(b, IPSEC_ENCAP_MODE, t->encap);
	gdoi_put_attr(b, IPSEC_AUTH_ALG, t->auth_alg);
	if (t->key_bits)
		gdoi_put_attr(b, IPSEC_KEY_LENGTH, t->key_bits);
	gdoi_end(b, start);
}

void gdoi_put_gap(struct gdoi_buf *b, uint16_t atd, uint16_t dtd)
{
	size_t start = gdoi_begin(b, GDOI_NP_GAP);

	gdoi_put_attr(b, GAP_ATD, atd);
	gdoi_put_attr(b, GAP_DTD, dtd);
	gdoi_end(b, start);
}

/* SA KEK, SA TEKs, then GAP (see below); gdoi_sa_parse() accepts any
 * order. Their chain starts at the SA's two-octet
 * SA Attribute Next Payload field (the low octet is patched) and ends
 * inside the SA payload, whose length covers it. */
void gdoi_put_sa(struct gdoi_buf *b, const struct gdoi_sa *sa)
{
	size_t start = gdoi_begin(b, ISAKMP_NP_SA);

	gdoi_put_u32(b, sa->doi);
	gdoi_put_u32(b, sa->situation);
	gdoi_put_u16(b, 0);
	gdoi_put_u16(b, 0);
	b->np_at = b->len - 3;
	/* RFC 6407 5.2.1 lists SA KEK, GAP and SA TEK payloads after the SA
	 * without requiring an order between GAP and the TEKs, and receivers
	 * (ours, the isakmpd-based reference) accept any. The GAP goes last:
	 * Wireshark stops decoding the SA at a GAP, and the TEKs are what an
	 * operator reading a capture wants to see. */
	if (sa->has_kek)
		put_sak(b, sa->profile, &sa->kek);
	for (size_t i = 0; i < sa->n_tek && i < GDOI_MAX_TEKS; i++)
		put_sat(b, sa->profile, &sa->tek[i]);
	if (sa->has_gap)
		gdoi_put_gap(b, sa->atd, sa->dtd);
	gdoi_end(b, start);
	b->np_at = start;
}

static void put_keypkt(struct gdoi_buf *b, const struct gdoi_keypkt *k)
{
	size_t start = b->len;
	size_t spi_len = k->spi_len < sizeof(k->spi) ? k->spi_len : sizeof(k->spi);

	gdoi_put_u8(b, k->type);
	gdoi_put_u8(b, 0);
	gdoi_put_u16(b, 0);
	gdoi_put_u8(b, (uint8_t)spi_len);
	gdoi_put_bytes(b, k->spi, spi_len);
	if (k->type == GDOI_KD_TEK) {
		gdoi_put_attr_data(b, KD_TEK_ALG_KEY, k->alg_key, k->alg_key_len);
		if (k->integ_key_len)
			gdoi_put_attr_data(b, KD_TEK_INTEG_KEY, k->integ_key, k->integ_key_len);
	} else {
		gdoi_put_attr_data(b, KD_KEK_ALG_KEY, k->alg_key, k->alg_key_len);
		if (k->sig_key_len)
			gdoi_put_attr_data(b, KD_KEK_SIG_KEY, k->sig_key, k->sig_key_len);
	}
	put_be16(b->data + start + 2, (uint16_t)(b->len - start));
}

void gdoi_put_kd(struct gdoi_buf *b, const struct gdoi_kd *kd)
{
	size_t start = gdoi_begin(b, GDOI_NP_KD);
	size_t n = kd->n < GDOI_MAX_KEYPKTS ? kd->n : GDOI_MAX_KEYPKTS;

	gdoi_put_u16(b, (uint16_t)n);
	gdoi_put_u16(b, 0);
	for (size_t i = 0; i < n; i++)
		put_keypkt(b, &kd->k[i]);
	gdoi_end(b, start);
}

void gdoi_put_seq(struct gdoi_buf *b, uint32_t seq)
{
	size_t start = gdoi_begin(b, GDOI_NP_SEQ);

	gdoi_put_u32(b, seq);
	gdoi_end(b, start);
}

void gdoi_put_delete(struct gdoi_buf *b, const struct gdoi_delete *d)
{
	size_t start = gdoi_begin(b, ISAKMP_NP_D);
	size_t n = d->n < GDOI_MAX_DEL_SPIS ? d->n : GDOI_MAX_DEL_SPIS;
	size_t sz = d->spi_size <= 16 ? d->spi_size : 16;

	gdoi_put_u32(b, d->doi);
	gdoi_put_u8(b, d->proto);
	gdoi_put_u8(b, (uint8_t)sz);
	gdoi_put_u16(b, (uint16_t)n);
	for (size_t i = 0; i < n; i++)
		gdoi_put_bytes(b, d->spi[i], sz);
	gdoi_end(b, start);
}

void gdoi_put_notify(struct gdoi_buf *b, uint32_t doi, uint8_t proto, uint16_t type,
		     const void *data, size_t len)
{
	size_t start = gdoi_begin(b, ISAKMP_NP_N);

	gdoi_put_u32(b, doi);
	gdoi_put_u8(b, proto);
	gdoi_put_u8(b, 0);      /* SPI size: the cookies identify the SA */
	gdoi_put_u16(b, type);
	gdoi_put_bytes(b, data, len);
	gdoi_end(b, start);
}

const char *gdoi_payload_name(uint8_t type)
{
	static const char *const names[] = {
		[ISAKMP_NP_SA] = "SA", [ISAKMP_NP_P] = "P", [ISAKMP_NP_T] = "T",
		[ISAKMP_NP_KE] = "KE", [ISAKMP_NP_ID] = "ID", [ISAKMP_NP_CERT] = "CERT",
		[ISAKMP_NP_CR] = "CR", [ISAKMP_NP_HASH] = "HASH", [ISAKMP_NP_SIG] = "SIG",
		[ISAKMP_NP_NONCE] = "NONCE", [ISAKMP_NP_N] = "N", [ISAKMP_NP_D] = "D",
		[ISAKMP_NP_VID] = "VID", [GDOI_NP_SAK] = "SA KEK", [GDOI_NP_SAT] = "SA TEK",
		[GDOI_NP_KD] = "KD", [GDOI_NP_SEQ] = "SEQ", [GDOI_NP_GAP] = "GAP",
	};

	if (type < ARRAY_SIZE(names) && names[type])
		return names[type];
	return "?";
}
