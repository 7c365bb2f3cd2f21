/* SPDX-License-Identifier: BSD-2-Clause */
/* gdoi_push.c: GROUPKEY-PUSH sealing/opening and RFC 8263 ACKs (see
 * gdoi_push.h for the message layouts). */
#include "config.h"
#include "core/gdoi/gdoi_push.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static const char REKEY_PREFIX[] = "rekey";
static const char ACK_LABEL[] = "GROUPKEY-PUSH ACK";

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void gdoi_push_hdr(struct gdoi_buf *b, const struct gdoi_kek *kek)
{
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = GDOI_EXCH_PUSH,
				.flags = ISAKMP_FLAG_ENC, .msgid = 0 };
	memcpy(h.icookie, kek->spi, 8);
	memcpy(h.rcookie, kek->spi + 8, 8);
	gdoi_put_hdr(b, &h);
}

/* "rekey" | data[0..len) under hash, signed or verified. */
static int sign_input(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len)
{
	*out_len = sizeof(REKEY_PREFIX) - 1 + len;
	*out = xmalloc(*out_len);
	memcpy(*out, REKEY_PREFIX, sizeof(REKEY_PREFIX) - 1);
	memcpy(*out + sizeof(REKEY_PREFIX) - 1, data, len);
	return 0;
}

static int sign(const struct gdoi_kek *kek, const struct crypto_rsa *rsa, int sig_hash,
		const uint8_t *in, size_t in_len, uint8_t *sig, size_t *got)
{
	if (kek->profile == GDOI_PROFILE_GDOID)
		return crypto_rsa_sign_bare(rsa, sig_hash, in, in_len, sig, got);
	return crypto_rsa_sign(rsa, sig_hash, in, in_len, sig, got);
}

int gdoi_push_seal(struct gdoi_buf *b, const struct gdoi_kek *kek, const struct crypto_rsa *rsa,
		   int sig_hash)
{
	size_t block = crypto_cipher_block(kek->cipher);
	size_t sig_len = crypto_rsa_size(rsa);
	int gdoid = kek->profile == GDOI_PROFILE_GDOID;
	if (!block || !sig_len || b->len <= ISAKMP_HDR_LEN)
		return -1;
	/* Final layout: HDR | IV | E(payloads | SIG | pad), or without the
	 * IV under the static one (GDOID). */
	size_t iv_len = gdoid ? 0 : block;
	size_t plain = b->len - ISAKMP_HDR_LEN + 4 + sig_len;
	size_t pad = (block - plain % block) % block;
	size_t total = ISAKMP_HDR_LEN + iv_len + plain + pad;
	if (total > GDOI_MAX_MSG)
		return -1;
	b->data[19] |= ISAKMP_FLAG_ENC;
	/* The length the signature covers: the final one, or (GDOID) the
	 * one before padding. */
	put_be32(b->data + 24, (uint32_t)(gdoid ? ISAKMP_HDR_LEN + plain : total));
	size_t sig_at = gdoi_begin(b, ISAKMP_NP_SIG); /* patches the last payload's next-payload */

	uint8_t *in;
	size_t in_len;
	sign_input(b->data, sig_at, &in, &in_len);
	uint8_t *sig = xmalloc(sig_len);
	size_t got = sig_len;
	int rc = sign(kek, rsa, sig_hash, in, in_len, sig, &got);
	free(in);
	if (rc < 0 || got != sig_len) {
		free(sig);
		return -1;
	}
	put_be32(b->data + 24, (uint32_t)total);
	gdoi_put_bytes(b, sig, sig_len);
	free(sig);
	gdoi_end(b, sig_at);
	/* RFC 2408 3.5 padding (the last octet counts the others); gdoid
	 * reads its chain by lengths and ignores what follows. */
	for (size_t i = 0; i < pad; i++)
		gdoi_put_u8(b, i + 1 == pad ? (uint8_t)(pad - 1) : 0);

	size_t body = b->len - ISAKMP_HDR_LEN;
	uint8_t iv[CRYPTO_MAX_BLOCK];
	if (gdoid) {
		memcpy(iv, kek->iv, block);
	} else {
		/* Move the payloads up by one block and put the IV in front. */
		for (size_t i = 0; i < block; i++)
			gdoi_put_u8(b, 0);
		memmove(b->data + ISAKMP_HDR_LEN + block, b->data + ISAKMP_HDR_LEN, body);
		if (crypto_random(iv, block) < 0)
			return -1;
		memcpy(b->data + ISAKMP_HDR_LEN, iv, block);
	}
	if (b->len != total)
		return -1;
	return crypto_cbc_encrypt(kek->cipher, kek->key, kek->key_len, iv,
				  b->data + ISAKMP_HDR_LEN + iv_len, body);
}

const char *gdoi_push_strerror(int err)
{
	switch (err) {
	case GDOI_PUSH_OK: return "ok";
	case GDOI_PUSH_EKEK: return "not for the KEK this member holds";
	case GDOI_PUSH_ESIG: return "signature does not verify";
	default: return "malformed or not decryptable";
	}
}

/* SEQ, then DELETEs, then SA with an optional KD, then SIG: nothing
 * else, nothing twice but D, and an SA or a D (RFC 6407 4). */
static int push_chain_ok(const struct gdoi_chain *c)
{
	size_t i = 1, n_del = 0, n_sa = 0;

	if (c->n < 3 || c->p[0].type != GDOI_NP_SEQ || c->p[c->n - 1].type != ISAKMP_NP_SIG)
		return 0;
	for (; i < c->n - 1 && c->p[i].type == ISAKMP_NP_D; i++)
		n_del++;
	if (i < c->n - 1 && c->p[i].type == ISAKMP_NP_SA) {
		n_sa = 1;
		i++;
		if (i < c->n - 1 && c->p[i].type == GDOI_NP_KD)
			i++;
	}
	return i == c->n - 1 && (n_sa || n_del) && n_del <= GDOI_PUSH_MAX_DEL;
}

/* The signature over "rekey" | plain[0..upto): RFC6407 as received;
 * GDOID bare, with HDR's length the unpadded one (gdoid's sender) or
 * the one received. */
static int push_verify(const struct gdoi_kek *kek, const struct crypto_rsa *rsa, int sig_hash,
		       uint8_t *plain, const struct gdoi_payload *sig)
{
	size_t upto = (size_t)(sig->raw - plain);
	uint8_t *in;
	size_t in_len;
	int v;

	sign_input(plain, upto, &in, &in_len);
	if (kek->profile != GDOI_PROFILE_GDOID) {
		v = crypto_rsa_verify(rsa, sig_hash, in, in_len, sig->body, sig->len);
	} else {
		size_t hdr_len_at = sizeof(REKEY_PREFIX) - 1 + 24;
		v = crypto_rsa_verify_bare(rsa, sig_hash, in, in_len, sig->body, sig->len);
		if (v < 0) {
			put_be32(in + hdr_len_at, (uint32_t)(upto + sig->raw_len));
			v = crypto_rsa_verify_bare(rsa, sig_hash, in, in_len, sig->body, sig->len);
		}
	}
	free(in);
	return v;
}

static int push_parse(const struct gdoi_chain *c, int profile, struct gdoi_push *out)
{
	size_t i = 1;

	if (gdoi_seq_parse(c->p[0].body, c->p[0].len, &out->seq) < 0)
		return -1;
	for (; c->p[i].type == ISAKMP_NP_D; i++)
		if (gdoi_delete_parse(c->p[i].body, c->p[i].len, &out->del[out->n_del++]) < 0)
			return -1;
	if (c->p[i].type == ISAKMP_NP_SA) {
		if (gdoi_sa_parse_profile(c->p[i].body, c->p[i].len, profile, &out->sa) < 0)
			return -1;
		out->has_sa = 1;
		i++;
	}
	if (c->p[i].type == GDOI_NP_KD) {
		if (gdoi_kd_parse(c->p[i].body, c->p[i].len, &out->kd) < 0)
			return -1;
		out->has_kd = 1;
	}
	return 0;
}

int gdoi_push_open(const uint8_t *msg, size_t len, const struct gdoi_kek *kek,
		   const struct crypto_rsa *rsa, int sig_hash, struct gdoi_push *out)
{
	struct isakmp_hdr h;
	memset(out, 0, sizeof(*out));
	if (isakmp_hdr_parse(msg, len, &h) < 0 || h.exchange != GDOI_EXCH_PUSH ||
	    !(h.flags & ISAKMP_FLAG_ENC) || h.len != len)
		return GDOI_PUSH_EMALFORMED;
	if (memcmp(h.icookie, kek->spi, 8) || memcmp(h.rcookie, kek->spi + 8, 8))
		return GDOI_PUSH_EKEK;
	size_t block = crypto_cipher_block(kek->cipher);
	size_t iv_len = kek->profile == GDOI_PROFILE_GDOID ? 0 : block;
	if (!block || len < ISAKMP_HDR_LEN + iv_len + block || (len - ISAKMP_HDR_LEN) % block)
		return GDOI_PUSH_EMALFORMED;
	size_t body = len - ISAKMP_HDR_LEN - iv_len;
	uint8_t *plain = xmalloc(ISAKMP_HDR_LEN + body);
	memcpy(plain, msg, ISAKMP_HDR_LEN);
	memcpy(plain + ISAKMP_HDR_LEN, msg + ISAKMP_HDR_LEN + iv_len, body);
	uint8_t iv[CRYPTO_MAX_BLOCK];
	memcpy(iv, iv_len ? msg + ISAKMP_HDR_LEN : kek->iv, block);
	int rc = GDOI_PUSH_EMALFORMED;
	struct gdoi_chain c;
	if (crypto_cbc_decrypt(kek->cipher, kek->key, kek->key_len, iv, plain + ISAKMP_HDR_LEN, body) < 0 ||
	    gdoi_chain_parse(h.np, plain + ISAKMP_HDR_LEN, body, 1, &c) < 0 || !push_chain_ok(&c))
		goto out;
	if (push_verify(kek, rsa, sig_hash, plain, &c.p[c.n - 1]) < 0) {
		rc = GDOI_PUSH_ESIG;
		goto out;
	}
	if (push_parse(&c, kek->profile, out) < 0) {
		gdoi_kd_wipe(&out->kd);
		out->has_kd = out->has_sa = 0;
		goto out;
	}
	rc = GDOI_PUSH_OK;
out:
	OPENSSL_cleanse(plain, ISAKMP_HDR_LEN + body);
	free(plain);
	return rc;
}

/* ---- acknowledgements ------------------------------------------------------ */

int gdoi_ack_key(const uint8_t *skeyid_a, size_t skeyid_a_len, const uint8_t icky[8],
		 const uint8_t rcky[8], uint8_t out[GDOI_ACK_KEY_LEN])
{
	/* prf+ (RFC 7296 2.13 style): T1 = prf(K, S | 0x01),
	 * Tn = prf(K, Tn-1 | S | n). */
	uint8_t t[CRYPTO_MAX_HASH];
	size_t have = 0;
	for (uint8_t n = 1; have < GDOI_ACK_KEY_LEN; n++) {
		struct crypto_iov iov[] = { { t, n > 1 ? GDOI_ACK_HASH_LEN : 0 },
					    { ACK_LABEL, sizeof(ACK_LABEL) - 1 },
					    { icky, 8 }, { rcky, 8 }, { &n, 1 } };
		if (crypto_prf(GDOI_ACK_HASH, skeyid_a, skeyid_a_len, iov, 5, t) < 0)
			return -1;
		size_t take = GDOI_ACK_KEY_LEN - have < GDOI_ACK_HASH_LEN ? GDOI_ACK_KEY_LEN - have
									   : GDOI_ACK_HASH_LEN;
		memcpy(out + have, t, take);
		have += take;
	}
	OPENSSL_cleanse(t, sizeof(t));
	return 0;
}

int gdoi_ack_build(struct gdoi_buf *b, const uint8_t kek_spi[16], uint32_t seq,
		   const struct gdoi_id *id, const uint8_t ack_key[GDOI_ACK_KEY_LEN])
{
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = GDOI_EXCH_PUSH_ACK };
	memcpy(h.icookie, kek_spi, 8);
	memcpy(h.rcookie, kek_spi + 8, 8);
	gdoi_put_hdr(b, &h);
	size_t hash_at = b->len;
	uint8_t zero[GDOI_ACK_HASH_LEN] = { 0 };
	gdoi_put_payload(b, ISAKMP_NP_HASH, zero, sizeof(zero));
	gdoi_put_seq(b, seq);
	gdoi_put_id(b, id);
	gdoi_finish(b);
	size_t after = hash_at + 4 + GDOI_ACK_HASH_LEN;
	struct crypto_iov iov = { b->data + after, b->len - after };
	return crypto_prf(GDOI_ACK_HASH, ack_key, GDOI_ACK_KEY_LEN, &iov, 1, b->data + hash_at + 4);
}

/* The chain of an ACK: exactly HASH, SEQ, ID. */
static int ack_chain(const uint8_t *msg, size_t len, struct isakmp_hdr *h, struct gdoi_chain *c)
{
	if (isakmp_hdr_parse(msg, len, h) < 0 || h->exchange != GDOI_EXCH_PUSH_ACK ||
	    (h->flags & ISAKMP_FLAG_ENC) || h->len != len ||
	    gdoi_chain_parse(h->np, msg + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN, 0, c) < 0 || c->n != 3 ||
	    c->p[0].type != ISAKMP_NP_HASH || c->p[0].len != GDOI_ACK_HASH_LEN ||
	    c->p[1].type != GDOI_NP_SEQ || c->p[2].type != ISAKMP_NP_ID)
		return -1;
	return 0;
}

int gdoi_ack_parse(const uint8_t *msg, size_t len, uint8_t kek_spi[16], uint32_t *seq,
		   struct gdoi_id *id)
{
	struct isakmp_hdr h;
	struct gdoi_chain c;
	if (ack_chain(msg, len, &h, &c) < 0 || gdoi_seq_parse(c.p[1].body, c.p[1].len, seq) < 0 ||
	    gdoi_id_parse(c.p[2].body, c.p[2].len, id) < 0)
		return -1;
	memcpy(kek_spi, h.icookie, 8);
	memcpy(kek_spi + 8, h.rcookie, 8);
	return 0;
}

int gdoi_ack_verify(const uint8_t *msg, size_t len, const uint8_t ack_key[GDOI_ACK_KEY_LEN])
{
	struct isakmp_hdr h;
	struct gdoi_chain c;
	if (ack_chain(msg, len, &h, &c) < 0)
		return -1;
	const uint8_t *after = c.p[1].raw;
	struct crypto_iov iov = { after, (size_t)(msg + ISAKMP_HDR_LEN + c.used - after) };
	uint8_t want[CRYPTO_MAX_HASH];
	if (crypto_prf(GDOI_ACK_HASH, ack_key, GDOI_ACK_KEY_LEN, &iov, 1, want) < 0)
		return -1;
	int ok = CRYPTO_memcmp(want, c.p[0].body, GDOI_ACK_HASH_LEN) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok ? 0 : -1;
}
