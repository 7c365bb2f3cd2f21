/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_push.c: libFuzzer target for core/gdoi/gdoi_push.c, where a member's
 * rekey port (GROUPKEY-PUSH) and the key server's (RFC 8263 ACKs) take
 * untrusted bytes. The KEK (AES-256), its SPI and the ACK key are fixed;
 * the server's RSA key is made at the first call. The first input byte
 * picks what the rest is:
 *
 *   0: a datagram as received: gdoi_push_open, then gdoi_ack_parse and
 *      gdoi_ack_verify;
 *   1: the plaintext behind the CBC layer (one byte naming the first
 *      payload, then the payloads, SIG included if any): padded,
 *      encrypted under the KEK behind a valid header and opened, so the
 *      chain, order and signature checks see fuzzed bytes;
 *   2: as 1, but sealed with gdoi_push_seal (a valid SIG appended and
 *      linked to the last payload found), so the SEQ, D, SA and KD
 *      parsers behind the signature are reached too;
 *   3: as 0, under a KEK of the gdoid wire profile (static IV, bare-hash
 *      signature);
 *   4: as 2, under that KEK, so gdoid's SA layouts are parsed.
 *
 * Seeds: tests/fuzz/corpus/push/ (pushes under this KEK, a heartbeat, an
 * ACK under this ACK key, and plaintexts for modes 1 and 2). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/gdoi/gdoi.h"
#include "core/gdoi/gdoi_push.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct gdoi_kek fuzz_kek = {
	.spi = "fuzz-push-kek-01",
	.cipher = CRYPTO_CIPHER_AES,
	.key_bits = 256,
	.key = { 0x6b, 0x65, 0x6b, 0x20, 0x66, 0x6f, 0x72, 0x20, 0x66, 0x75, 0x7a, 0x7a,
		 0x5f, 0x70, 0x75, 0x73, 0x68, 0x2e, 0x63, 0x3a, 0x20, 0x33, 0x32, 0x20,
		 0x62, 0x79, 0x74, 0x65, 0x73, 0x21, 0x21, 0x0a },
	.key_len = 32,
};
static const struct gdoi_kek fuzz_kek_gdoid = {
	.spi = "fuzz-push-gdoid1",
	.cipher = CRYPTO_CIPHER_3DES,
	.key = "three-DES key for fuzz_push.c!!",
	.key_len = 24,
	.profile = GDOI_PROFILE_GDOID,
	.iv = "static-IV",
};
static const uint8_t fuzz_ack_key[GDOI_ACK_KEY_LEN] = "fuzz_push.c ACK key: 64 bytes of HMAC-SHA-256 key for the tests";
#define FUZZ_SIG_HASH CRYPTO_HASH_SHA256

static struct crypto_rsa *fuzz_rsa;

/* Opens msg[0..len) from an exactly sized copy, so reads past the end
 * are caught. */
static void open_exact(const struct gdoi_kek *kek, const uint8_t *msg, size_t len)
{
	struct gdoi_push out;
	uint8_t *m = malloc(len ? len : 1);

	if (m == NULL)
		return;
	if (len)
		memcpy(m, msg, len);
	(void)gdoi_push_open(m, len, kek, fuzz_rsa, FUZZ_SIG_HASH, &out);
	gdoi_kd_wipe(&out.kd);
	free(m);
}

static void raw(const uint8_t *data, size_t size)
{
	uint8_t spi[16];
	uint32_t seq;
	struct gdoi_id id;

	open_exact(&fuzz_kek, data, size);
	(void)gdoi_ack_parse(data, size, spi, &seq, &id);
	(void)gdoi_ack_verify(data, size, fuzz_ack_key);
}

/* The offset of the next-payload byte of the last whole payload in
 * b->data[28..), following the chain as far as its lengths hold. */
static size_t last_np(const struct gdoi_buf *b)
{
	size_t at = 16, off = ISAKMP_HDR_LEN;
	uint8_t type = b->data[16];

	while (type != ISAKMP_NP_NONE && off + 4 <= b->len) {
		size_t len = (size_t)b->data[off + 2] << 8 | b->data[off + 3];
		if (len < 4 || len > b->len - off)
			break;
		at = off;
		type = b->data[off];
		off += len;
	}
	return at;
}

static void behind_cbc(const struct gdoi_kek *kek, const uint8_t *data, size_t size, int sign)
{
	size_t block = crypto_cipher_block(kek->cipher);
	struct gdoi_buf b;

	if (size < 1)
		return;
	gdoi_buf_init(&b);
	gdoi_push_hdr(&b, kek);
	b.data[16] = data[0];
	gdoi_put_bytes(&b, data + 1, size - 1);
	if (sign) {
		b.np_at = last_np(&b);
		if (gdoi_push_seal(&b, kek, fuzz_rsa, FUZZ_SIG_HASH) == 0)
			open_exact(kek, b.data, b.len);
		gdoi_buf_free(&b);
		return;
	}
	/* IV, then the payloads padded with zeros to whole blocks (one at
	 * least), encrypted; the header names the final length. */
	uint8_t iv[CRYPTO_MAX_BLOCK] = { 0x49, 0x56 };
	size_t plain = b.len - ISAKMP_HDR_LEN;
	size_t pad = plain ? (block - plain % block) % block : block;
	for (size_t i = 0; i < pad; i++)
		gdoi_put_u8(&b, 0);
	gdoi_put_bytes(&b, iv, block);
	memmove(b.data + ISAKMP_HDR_LEN + block, b.data + ISAKMP_HDR_LEN, plain + pad);
	memcpy(b.data + ISAKMP_HDR_LEN, iv, block);
	gdoi_finish(&b);
	if (b.len <= GDOI_MAX_MSG &&
	    crypto_cbc_encrypt(kek->cipher, kek->key, kek->key_len, iv,
			       b.data + ISAKMP_HDR_LEN + block, plain + pad) == 0)
		open_exact(kek, b.data, b.len);
	gdoi_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_rsa == NULL) {
		log_set_level(LOG_CRIT);
		fuzz_rsa = crypto_rsa_generate(2048);
		if (fuzz_rsa == NULL)
			abort();
	}
	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0: raw(data + 1, size - 1); break;
	case 1: behind_cbc(&fuzz_kek, data + 1, size - 1, 0); break;
	case 2: behind_cbc(&fuzz_kek, data + 1, size - 1, 1); break;
	case 3: open_exact(&fuzz_kek_gdoid, data + 1, size - 1); break;
	default: behind_cbc(&fuzz_kek_gdoid, data + 1, size - 1, 1); break;
	}
	return 0;
}
