/* SPDX-License-Identifier: BSD-2-Clause */
/* test_crypto.c: unit tests of core/crypto.c. Expected values come from
 * the RFCs and NIST where they print them, and otherwise are computed
 * here with OpenSSL primitives (EVP_Q_mac, EVP_Digest, BN_mod_exp,
 * EC_POINT_mul) along the RFC formulas, not through crypto.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "core/crypto.h"
#include "core/log.h"

/* ---- helpers ------------------------------------------------------------- */

static const struct {
	int id;
	const char *md;
	size_t len;
} hashes[] = {
	{ CRYPTO_HASH_MD5, "MD5", 16 },
	{ CRYPTO_HASH_SHA1, "SHA1", 20 },
	{ CRYPTO_HASH_SHA256, "SHA256", 32 },
	{ CRYPTO_HASH_SHA384, "SHA384", 48 },
	{ CRYPTO_HASH_SHA512, "SHA512", 64 },
};

static const struct {
	int id;
	unsigned bits;
	size_t key_len, block;
	const char *evp;
} ciphers[] = {
	{ CRYPTO_CIPHER_DES, 0, 8, 8, "DES-CBC" },
	{ CRYPTO_CIPHER_3DES, 0, 24, 8, "DES-EDE3-CBC" },
	{ CRYPTO_CIPHER_AES, 128, 16, 16, "AES-128-CBC" },
	{ CRYPTO_CIPHER_AES, 192, 24, 16, "AES-192-CBC" },
	{ CRYPTO_CIPHER_AES, 256, 32, 16, "AES-256-CBC" },
};

static const char *md_name(int id)
{
	for (size_t i = 0; i < ARRAY_SIZE(hashes); i++)
		if (hashes[i].id == id)
			return hashes[i].md;
	return NULL;
}

static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;
		if (*hex >= '0' && *hex <= '9')
			v = *hex - '0';
		else if (*hex >= 'a' && *hex <= 'f')
			v = *hex - 'a' + 10;
		else if (*hex >= 'A' && *hex <= 'F')
			v = *hex - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < max);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}

struct cat {
	uint8_t d[2048];
	size_t n;
};

static void cat_add(struct cat *c, const void *p, size_t len)
{
	assert_true(c->n + len <= sizeof(c->d));
	memcpy(c->d + c->n, p, len);
	c->n += len;
}

/* The reference PRF: one-shot HMAC over an already concatenated buffer. */
static void ref_hmac(int hash, const void *key, size_t key_len, const void *data, size_t len,
		     uint8_t *out)
{
	size_t out_len = 0;

	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, md_name(hash), NULL, key, key_len, data,
				  len, out, CRYPTO_MAX_HASH, &out_len));
	assert_int_equal(out_len, crypto_hash_len(hash));
}

static void ref_digest(int hash, const void *data, size_t len, uint8_t *out)
{
	EVP_MD *md = EVP_MD_fetch(NULL, md_name(hash), NULL);
	unsigned n = 0;

	assert_non_null(md);
	assert_int_equal(EVP_Digest(data, len, out, &n, md, NULL), 1);
	assert_int_equal(n, crypto_hash_len(hash));
	EVP_MD_free(md);
}

static void fill(uint8_t *p, size_t len)
{
	assert_int_equal(crypto_random(p, len), 0);
}

/* Errors logged under "crypto", so tests can check failures are reported. */
static int logged_errors;

static void count_errors(int severity, const char *subsys, const char *msg, void *arg)
{
	(void)msg;
	(void)arg;
	if (severity <= LOG_ERR && strcmp(subsys, "crypto") == 0)
		logged_errors++;
}

#define assert_fails_logged(expr)                   \
	do {                                        \
		int before_ = logged_errors;        \
		assert_int_equal((expr), -1);       \
		assert_true(logged_errors > before_); \
	} while (0)

/* A signature that does not verify is network input, not an error of
 * ours: it fails quietly (no error logged); the caller counts it. */
#define assert_bad_signature(call) do { \
		int before_ = logged_errors; \
		assert_int_equal((call), -1); \
		assert_int_equal(logged_errors, before_); \
	} while (0)

/* ---- DES without the legacy provider (must run before any DES use) ------ */

static void test_des_without_legacy(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t key[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, iv[8] = { 0 }, buf[16] = { 0 };
		int before = logged_errors, rc;
		/* Points OpenSSL's module search at nothing, as on a system
		 * without the legacy module installed. */
		setenv("OPENSSL_MODULES", "/nonexistent/gvpn-test", 1);
		rc = crypto_cbc_encrypt(CRYPTO_CIPHER_DES, key, 8, iv, buf, 16);
		_exit(rc == -1 && logged_errors > before ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- names and sizes ------------------------------------------------------ */

static void test_names_sizes(void **state)
{
	(void)state;
	assert_int_equal(crypto_hash_len(CRYPTO_HASH_MD5), 16);
	assert_int_equal(crypto_hash_len(CRYPTO_HASH_SHA1), 20);
	assert_int_equal(crypto_hash_len(CRYPTO_HASH_SHA256), 32);
	assert_int_equal(crypto_hash_len(CRYPTO_HASH_SHA384), 48);
	assert_int_equal(crypto_hash_len(CRYPTO_HASH_SHA512), 64);
	assert_string_equal(crypto_hash_name(CRYPTO_HASH_MD5), "md5");
	assert_string_equal(crypto_hash_name(CRYPTO_HASH_SHA1), "sha1");
	assert_string_equal(crypto_hash_name(CRYPTO_HASH_SHA256), "sha-256");
	assert_string_equal(crypto_hash_name(CRYPTO_HASH_SHA384), "sha-384");
	assert_string_equal(crypto_hash_name(CRYPTO_HASH_SHA512), "sha-512");
	assert_true(crypto_hash_weak(CRYPTO_HASH_MD5));
	assert_true(crypto_hash_weak(CRYPTO_HASH_SHA1));
	assert_false(crypto_hash_weak(CRYPTO_HASH_SHA256));
	assert_false(crypto_hash_weak(CRYPTO_HASH_SHA512));

	assert_int_equal(crypto_cipher_block(CRYPTO_CIPHER_DES), 8);
	assert_int_equal(crypto_cipher_block(CRYPTO_CIPHER_3DES), 8);
	assert_int_equal(crypto_cipher_block(CRYPTO_CIPHER_AES), 16);
	assert_int_equal(crypto_cipher_key_len(CRYPTO_CIPHER_DES, 0), 8);
	assert_int_equal(crypto_cipher_key_len(CRYPTO_CIPHER_3DES, 0), 24);
	assert_int_equal(crypto_cipher_key_len(CRYPTO_CIPHER_AES, 128), 16);
	assert_int_equal(crypto_cipher_key_len(CRYPTO_CIPHER_AES, 192), 24);
	assert_int_equal(crypto_cipher_key_len(CRYPTO_CIPHER_AES, 256), 32);
	assert_int_equal(crypto_cipher_key_len(CRYPTO_CIPHER_AES, 0), 0);
	assert_int_equal(crypto_cipher_key_len(CRYPTO_CIPHER_AES, 100), 0);
	assert_string_equal(crypto_cipher_name(CRYPTO_CIPHER_AES, 256), "aes-256-cbc");
	assert_string_equal(crypto_cipher_name(CRYPTO_CIPHER_AES, 128), "aes-128-cbc");
	assert_string_equal(crypto_cipher_name(CRYPTO_CIPHER_3DES, 0), "3des-cbc");
	assert_string_equal(crypto_cipher_name(CRYPTO_CIPHER_DES, 0), "des-cbc");
	assert_null(crypto_cipher_name(CRYPTO_CIPHER_AES, 0));
	assert_true(crypto_cipher_weak(CRYPTO_CIPHER_DES));
	assert_true(crypto_cipher_weak(CRYPTO_CIPHER_3DES));
	assert_false(crypto_cipher_weak(CRYPTO_CIPHER_AES));

	assert_int_equal(crypto_dh_pub_len(CRYPTO_DH_MODP1024), 128);
	assert_int_equal(crypto_dh_pub_len(CRYPTO_DH_MODP1536), 192);
	assert_int_equal(crypto_dh_pub_len(CRYPTO_DH_MODP2048), 256);
	assert_int_equal(crypto_dh_pub_len(CRYPTO_DH_MODP3072), 384);
	assert_int_equal(crypto_dh_pub_len(CRYPTO_DH_ECP256), 64);
	assert_int_equal(crypto_dh_pub_len(CRYPTO_DH_ECP384), 96);
	assert_int_equal(crypto_dh_secret_len(CRYPTO_DH_MODP2048), 256);
	assert_int_equal(crypto_dh_secret_len(CRYPTO_DH_ECP256), 32);
	assert_int_equal(crypto_dh_secret_len(CRYPTO_DH_ECP384), 48);
	assert_string_equal(crypto_dh_name(CRYPTO_DH_MODP1024), "modp-1024");
	assert_string_equal(crypto_dh_name(CRYPTO_DH_MODP1536), "modp-1536");
	assert_string_equal(crypto_dh_name(CRYPTO_DH_MODP2048), "modp-2048");
	assert_string_equal(crypto_dh_name(CRYPTO_DH_MODP3072), "modp-3072");
	assert_string_equal(crypto_dh_name(CRYPTO_DH_ECP256), "ecp-256");
	assert_string_equal(crypto_dh_name(CRYPTO_DH_ECP384), "ecp-384");
	assert_true(crypto_dh_weak(CRYPTO_DH_MODP1024));
	assert_true(crypto_dh_weak(CRYPTO_DH_MODP1536));
	assert_false(crypto_dh_weak(CRYPTO_DH_MODP2048));
	assert_false(crypto_dh_weak(CRYPTO_DH_ECP256));
}

static void test_unknown_ids(void **state)
{
	static const int bad[] = { 0, 3, 7, 21, 99, -1 };
	uint8_t out[CRYPTO_MAX_HASH], key[16] = { 0 }, iv[16] = { 0 }, buf[16] = { 0 };
	struct crypto_iov iov = { "x", 1 };
	struct crypto_ike_keys k;
	size_t n;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int id = bad[i];
		if (id != CRYPTO_CIPHER_AES) {
			assert_int_equal(crypto_cipher_block(id), 0);
			assert_int_equal(crypto_cipher_key_len(id, 0), 0);
			assert_null(crypto_cipher_name(id, 0));
			assert_int_equal(crypto_cipher_weak(id), 0);
		}
		assert_int_equal(crypto_hash_len(id), 0);
		assert_null(crypto_hash_name(id));
		assert_int_equal(crypto_hash_weak(id), 0);
		assert_int_equal(crypto_dh_pub_len(id), 0);
		assert_int_equal(crypto_dh_secret_len(id), 0);
		assert_null(crypto_dh_name(id));
		assert_int_equal(crypto_dh_weak(id), 0);
		assert_null(crypto_dh_new(id));
		assert_fails_logged(crypto_prf(id, "k", 1, &iov, 1, out));
		assert_fails_logged(crypto_hash(id, &iov, 1, out));
		assert_fails_logged(crypto_ike_iv_phase1(id, CRYPTO_CIPHER_AES, key, 16, key, 16,
							 iv, &n));
		assert_fails_logged(crypto_ike_keys_psk(&k, id, CRYPTO_CIPHER_AES, 128, "k", 1,
							key, 16, key, 16, key, 16, key, key));
	}
	assert_fails_logged(crypto_ike_iv_phase1(CRYPTO_HASH_SHA1, 99, key, 16, key, 16, iv, &n));
	assert_fails_logged(crypto_cbc_encrypt(99, key, 16, iv, buf, 16));
	assert_fails_logged(crypto_cbc_decrypt(99, key, 16, iv, buf, 16));
	crypto_dh_free(NULL);
	crypto_rsa_free(NULL);
	assert_int_equal(crypto_rsa_size(NULL), 0);
}

static void test_random(void **state)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 }, zero[32] = { 0 };

	(void)state;
	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_int_equal(crypto_random(a, 0), 0);
}

/* ---- PRF and hash ------------------------------------------------------------ */

static void test_prf_known_answer(void **state)
{
	/* RFC 4231 test case 2 and RFC 2202 test case 2. */
	static const char data[] = "what do ya want for nothing?";
	struct crypto_iov iov[2] = { { data, 10 }, { data + 10, sizeof(data) - 1 - 10 } };
	uint8_t out[CRYPTO_MAX_HASH], want[CRYPTO_MAX_HASH];

	(void)state;
	assert_int_equal(crypto_prf(CRYPTO_HASH_SHA256, "Jefe", 4, iov, 2, out), 0);
	unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", want, 32);
	assert_memory_equal(out, want, 32);
	assert_int_equal(crypto_prf(CRYPTO_HASH_MD5, "Jefe", 4, iov, 2, out), 0);
	unhex("750c783e6ab0b503eaa86e310a5db738", want, 16);
	assert_memory_equal(out, want, 16);
	assert_int_equal(crypto_prf(CRYPTO_HASH_SHA1, "Jefe", 4, iov, 2, out), 0);
	unhex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", want, 20);
	assert_memory_equal(out, want, 20);
}

static void test_prf_hash_vs_openssl(void **state)
{
	uint8_t key[37], a[5], b[200], out[CRYPTO_MAX_HASH], want[CRYPTO_MAX_HASH];
	struct crypto_iov iov[4] = { { a, sizeof(a) }, { NULL, 0 }, { b, sizeof(b) }, { a, 1 } };
	struct cat all = { .n = 0 };

	(void)state;
	fill(key, sizeof(key));
	fill(a, sizeof(a));
	fill(b, sizeof(b));
	cat_add(&all, a, sizeof(a));
	cat_add(&all, b, sizeof(b));
	cat_add(&all, a, 1);
	for (size_t i = 0; i < ARRAY_SIZE(hashes); i++) {
		int h = hashes[i].id;
		size_t hl = hashes[i].len;

		assert_int_equal(crypto_prf(h, key, sizeof(key), iov, 4, out), 0);
		ref_hmac(h, key, sizeof(key), all.d, all.n, want);
		assert_memory_equal(out, want, hl);
		/* A key longer than the hash block is hashed first (RFC 2104). */
		assert_int_equal(crypto_prf(h, b, sizeof(b), iov, 4, out), 0);
		ref_hmac(h, b, sizeof(b), all.d, all.n, want);
		assert_memory_equal(out, want, hl);
		assert_int_equal(crypto_prf(h, "", 0, iov, 4, out), 0);
		ref_hmac(h, "", 0, all.d, all.n, want);
		assert_memory_equal(out, want, hl);

		assert_int_equal(crypto_hash(h, iov, 4, out), 0);
		ref_digest(h, all.d, all.n, want);
		assert_memory_equal(out, want, hl);
	}
}

/* ---- IKEv1 phase 1 keys ----------------------------------------------------------- */

struct ike_input {
	uint8_t psk[13], ni[16], nr[24], gxy[256], cky_i[8], cky_r[8];
};

/* RFC 2409 section 5 and appendix B, written out again with one-shot HMAC. */
static void ref_ike_keys(int hash, size_t key_len, const struct ike_input *in,
			 struct crypto_ike_keys *k)
{
	static const uint8_t octet[3] = { 0, 1, 2 };
	size_t hl = crypto_hash_len(hash);
	uint8_t *prev = NULL;
	uint8_t *outs[3] = { k->skeyid_d, k->skeyid_a, k->skeyid_e };
	struct cat c = { .n = 0 };
	uint8_t kn[CRYPTO_MAX_HASH];
	size_t have = 0;

	memset(k, 0, sizeof(*k));
	cat_add(&c, in->ni, sizeof(in->ni));
	cat_add(&c, in->nr, sizeof(in->nr));
	ref_hmac(hash, in->psk, sizeof(in->psk), c.d, c.n, k->skeyid);
	for (int i = 0; i < 3; i++) {
		c.n = 0;
		if (prev)
			cat_add(&c, prev, hl);
		cat_add(&c, in->gxy, sizeof(in->gxy));
		cat_add(&c, in->cky_i, 8);
		cat_add(&c, in->cky_r, 8);
		cat_add(&c, &octet[i], 1);
		ref_hmac(hash, k->skeyid, hl, c.d, c.n, outs[i]);
		prev = outs[i];
	}
	if (key_len <= hl) {
		memcpy(k->enc_key, k->skeyid_e, key_len);
		return;
	}
	ref_hmac(hash, k->skeyid_e, hl, &octet[0], 1, kn);
	while (have < key_len) {
		size_t take = key_len - have < hl ? key_len - have : hl;
		memcpy(k->enc_key + have, kn, take);
		have += take;
		ref_hmac(hash, k->skeyid_e, hl, kn, hl, kn);
	}
}

static int run_ike_keys(struct crypto_ike_keys *k, int hash, int cipher, unsigned bits,
			const struct ike_input *in)
{
	return crypto_ike_keys_psk(k, hash, cipher, bits, in->psk, sizeof(in->psk), in->ni,
				   sizeof(in->ni), in->nr, sizeof(in->nr), in->gxy,
				   sizeof(in->gxy), in->cky_i, in->cky_r);
}

static void test_ike_keys_all(void **state)
{
	struct ike_input in;
	struct crypto_ike_keys k, want;
	int expanded = 0;

	(void)state;
	fill((uint8_t *)&in, sizeof(in));
	for (size_t h = 0; h < ARRAY_SIZE(hashes); h++) {
		for (size_t c = 0; c < ARRAY_SIZE(ciphers); c++) {
			size_t hl = hashes[h].len, kl = ciphers[c].key_len;

			assert_int_equal(run_ike_keys(&k, hashes[h].id, ciphers[c].id,
						      ciphers[c].bits, &in), 0);
			ref_ike_keys(hashes[h].id, kl, &in, &want);
			assert_int_equal(k.hash, hashes[h].id);
			assert_int_equal(k.cipher, ciphers[c].id);
			assert_int_equal(k.key_bits, ciphers[c].bits);
			assert_int_equal(k.hash_len, hl);
			assert_int_equal(k.enc_key_len, kl);
			assert_memory_equal(k.skeyid, want.skeyid, hl);
			assert_memory_equal(k.skeyid_d, want.skeyid_d, hl);
			assert_memory_equal(k.skeyid_a, want.skeyid_a, hl);
			assert_memory_equal(k.skeyid_e, want.skeyid_e, hl);
			assert_memory_equal(k.enc_key, want.enc_key, kl);
			expanded += kl > hl;
			crypto_ike_keys_wipe(&k);
		}
	}
	/* md5 with 3des, aes-192, aes-256; sha1 with 3des, aes-192, aes-256 */
	assert_int_equal(expanded, 6);
}

/* The expansion cases written out block by block. */
static void test_ike_keys_expansion(void **state)
{
	static const uint8_t zero = 0;
	struct ike_input in;
	struct crypto_ike_keys k;
	uint8_t k1[CRYPTO_MAX_HASH], k2[CRYPTO_MAX_HASH];

	(void)state;
	fill((uint8_t *)&in, sizeof(in));

	/* MD5 (16) with AES-256 (32): K1 | K2. */
	assert_int_equal(run_ike_keys(&k, CRYPTO_HASH_MD5, CRYPTO_CIPHER_AES, 256, &in), 0);
	ref_hmac(CRYPTO_HASH_MD5, k.skeyid_e, 16, &zero, 1, k1);
	ref_hmac(CRYPTO_HASH_MD5, k.skeyid_e, 16, k1, 16, k2);
	assert_int_equal(k.enc_key_len, 32);
	assert_memory_equal(k.enc_key, k1, 16);
	assert_memory_equal(k.enc_key + 16, k2, 16);
	assert_memory_not_equal(k.enc_key, k.skeyid_e, 16);

	/* SHA-1 (20) with 3DES (24): K1 | first 4 bytes of K2. */
	assert_int_equal(run_ike_keys(&k, CRYPTO_HASH_SHA1, CRYPTO_CIPHER_3DES, 0, &in), 0);
	ref_hmac(CRYPTO_HASH_SHA1, k.skeyid_e, 20, &zero, 1, k1);
	ref_hmac(CRYPTO_HASH_SHA1, k.skeyid_e, 20, k1, 20, k2);
	assert_int_equal(k.enc_key_len, 24);
	assert_memory_equal(k.enc_key, k1, 20);
	assert_memory_equal(k.enc_key + 20, k2, 4);

	/* SHA-256 (32) with AES-128: the first 16 bytes of SKEYID_e, no expansion. */
	assert_int_equal(run_ike_keys(&k, CRYPTO_HASH_SHA256, CRYPTO_CIPHER_AES, 128, &in), 0);
	assert_memory_equal(k.enc_key, k.skeyid_e, 16);
	crypto_ike_keys_wipe(&k);
}

static void test_ike_keys_bad(void **state)
{
	struct ike_input in;
	struct crypto_ike_keys k, zero;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	fill((uint8_t *)&in, sizeof(in));
	assert_fails_logged(run_ike_keys(&k, CRYPTO_HASH_SHA256, CRYPTO_CIPHER_AES, 100, &in));
	assert_memory_equal(&k, &zero, sizeof(k));
	assert_fails_logged(run_ike_keys(&k, 3, CRYPTO_CIPHER_AES, 128, &in));
	assert_memory_equal(&k, &zero, sizeof(k));
	assert_fails_logged(run_ike_keys(&k, CRYPTO_HASH_SHA256, 4, 0, &in));
	/* DES and 3DES also take their natural size as a key length. */
	assert_int_equal(run_ike_keys(&k, CRYPTO_HASH_SHA256, CRYPTO_CIPHER_3DES, 192, &in), 0);
	assert_int_equal(k.enc_key_len, 24);
	crypto_ike_keys_wipe(&k);
	assert_memory_equal(&k, &zero, sizeof(k));
}

/* ---- IVs -------------------------------------------------------------------------- */

static void test_ike_ivs(void **state)
{
	uint8_t gxi[256], gxr[256], last[16], msgid[4] = { 0x12, 0x34, 0x56, 0x78 };
	uint8_t iv[CRYPTO_MAX_BLOCK], want[CRYPTO_MAX_HASH];
	size_t iv_len;

	(void)state;
	fill(gxi, sizeof(gxi));
	fill(gxr, sizeof(gxr));
	fill(last, sizeof(last));
	for (size_t h = 0; h < ARRAY_SIZE(hashes); h++) {
		for (size_t c = 0; c < ARRAY_SIZE(ciphers); c++) {
			struct cat all = { .n = 0 };
			int hid = hashes[h].id, cid = ciphers[c].id;
			size_t block = ciphers[c].block;

			cat_add(&all, gxi, sizeof(gxi));
			cat_add(&all, gxr, sizeof(gxr));
			ref_digest(hid, all.d, all.n, want);
			iv_len = 0;
			assert_int_equal(crypto_ike_iv_phase1(hid, cid, gxi, sizeof(gxi), gxr,
							      sizeof(gxr), iv, &iv_len), 0);
			assert_int_equal(iv_len, block);
			assert_memory_equal(iv, want, block);

			all.n = 0;
			cat_add(&all, last, block);
			cat_add(&all, msgid, 4);
			ref_digest(hid, all.d, all.n, want);
			iv_len = 0;
			assert_int_equal(crypto_ike_iv_exchange(hid, cid, last, block, msgid, iv,
								&iv_len), 0);
			assert_int_equal(iv_len, block);
			assert_memory_equal(iv, want, block);
		}
	}
	assert_fails_logged(crypto_ike_iv_exchange(CRYPTO_HASH_SHA1, CRYPTO_CIPHER_AES, last, 8,
						   msgid, iv, &iv_len));
	assert_fails_logged(crypto_ike_iv_exchange(CRYPTO_HASH_SHA1, CRYPTO_CIPHER_3DES, last, 16,
						   msgid, iv, &iv_len));
	assert_fails_logged(crypto_ike_iv_exchange(CRYPTO_HASH_SHA1, 99, last, 16, msgid, iv,
						   &iv_len));
}

/* ---- Diffie-Hellman ----------------------------------------------------------------- */

static const int dh_groups[] = {
	CRYPTO_DH_MODP1024, CRYPTO_DH_MODP1536, CRYPTO_DH_MODP2048,
	CRYPTO_DH_MODP3072, CRYPTO_DH_ECP256, CRYPTO_DH_ECP384,
};

static void test_dh_agreement(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(dh_groups); i++) {
		int g = dh_groups[i];
		struct crypto_dh *a = crypto_dh_new(g), *b = crypto_dh_new(g);
		uint8_t pa[CRYPTO_MAX_DH], pb[CRYPTO_MAX_DH], sa[CRYPTO_MAX_DH], sb[CRYPTO_MAX_DH];
		uint8_t zero[CRYPTO_MAX_DH] = { 0 };
		size_t la = 0, lb = 0, lsa = 0, lsb = 0;

		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(crypto_dh_group(a), g);
		assert_int_equal(crypto_dh_public(a, pa, &la), 0);
		assert_int_equal(crypto_dh_public(b, pb, &lb), 0);
		assert_int_equal(la, crypto_dh_pub_len(g));
		assert_int_equal(lb, crypto_dh_pub_len(g));
		assert_memory_not_equal(pa, pb, la);
		assert_int_equal(crypto_dh_shared(a, pb, lb, sa, &lsa), 0);
		assert_int_equal(crypto_dh_shared(b, pa, la, sb, &lsb), 0);
		assert_int_equal(lsa, crypto_dh_secret_len(g));
		assert_int_equal(lsb, crypto_dh_secret_len(g));
		assert_memory_equal(sa, sb, lsa);
		assert_memory_not_equal(sa, zero, lsa);
		crypto_dh_free(a);
		crypto_dh_free(b);
	}
}

static const struct {
	int group;
	BIGNUM *(*prime)(BIGNUM *);
} modp_primes[] = {
	{ CRYPTO_DH_MODP1024, BN_get_rfc2409_prime_1024 },
	{ CRYPTO_DH_MODP1536, BN_get_rfc3526_prime_1536 },
	{ CRYPTO_DH_MODP2048, BN_get_rfc3526_prime_2048 },
	{ CRYPTO_DH_MODP3072, BN_get_rfc3526_prime_3072 },
};

static void bn_out(const BIGNUM *bn, uint8_t *out, size_t len)
{
	assert_int_equal(BN_bn2binpad(bn, out, (int)len), (int)len);
}

/* Our value A, a fixed exponent b here: crypto.c must give A^b mod p for
 * the peer value 2^b mod p, with p from OpenSSL's RFC 2409/3526 tables. */
static void modp_fixed_exponent(struct crypto_dh *dh, const BIGNUM *p, const BIGNUM *a,
				size_t len, BN_CTX *bc)
{
	BIGNUM *b = NULL, *two = BN_new(), *peer = BN_new(), *s = BN_new();
	uint8_t wire[CRYPTO_MAX_DH], want[CRYPTO_MAX_DH], got[CRYPTO_MAX_DH];
	size_t got_len = 0;

	assert_true(BN_hex2bn(&b, "7d3c0b5a99e1f2436587a9cbedf01234"
			      "56789abcdef0fedcba98765432100123"));
	assert_true(BN_set_word(two, 2));
	assert_true(BN_mod_exp(peer, two, b, p, bc));
	assert_true(BN_mod_exp(s, a, b, p, bc));
	bn_out(peer, wire, len);
	bn_out(s, want, len);
	assert_int_equal(crypto_dh_shared(dh, wire, len, got, &got_len), 0);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, want, len);
	BN_free(b);
	BN_free(two);
	BN_free(peer);
	BN_free(s);
}

/* A secret with a leading zero octet must still come out at full length:
 * try peer values 2^w mod p until A^w mod p is short by at least one
 * byte (one w in 256 on average). */
static void modp_leading_zero(struct crypto_dh *dh, const BIGNUM *p, const BIGNUM *a,
			      size_t len, BN_CTX *bc)
{
	BIGNUM *s = BN_dup(a), *peer = BN_new();
	uint8_t wire[CRYPTO_MAX_DH], want[CRYPTO_MAX_DH], got[CRYPTO_MAX_DH];
	size_t got_len = 0;
	int w;

	assert_non_null(s);
	assert_non_null(peer);
	assert_true(BN_set_word(peer, 2));
	for (w = 2; w < 6000; w++) {
		assert_true(BN_mod_mul(s, s, a, p, bc));    /* s = A^w */
		assert_true(BN_mod_lshift1_quick(peer, peer, p));     /* 2^w */
		if ((size_t)BN_num_bytes(s) < len)
			break;
	}
	assert_true(w < 6000);
	bn_out(peer, wire, len);
	bn_out(s, want, len);
	assert_int_equal(want[0], 0);
	assert_int_equal(crypto_dh_shared(dh, wire, len, got, &got_len), 0);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, want, len);
	BN_free(s);
	BN_free(peer);
}

static void test_dh_modp_known_answer(void **state)
{
	BN_CTX *bc = BN_CTX_new();

	(void)state;
	assert_non_null(bc);
	for (size_t i = 0; i < ARRAY_SIZE(modp_primes); i++) {
		int g = modp_primes[i].group;
		size_t len = crypto_dh_pub_len(g), pub_len = 0;
		struct crypto_dh *dh = crypto_dh_new(g);
		BIGNUM *p = modp_primes[i].prime(NULL), *a;
		uint8_t pub[CRYPTO_MAX_DH];

		assert_non_null(dh);
		assert_non_null(p);
		assert_int_equal((size_t)BN_num_bytes(p), len);
		assert_int_equal(crypto_dh_public(dh, pub, &pub_len), 0);
		a = BN_bin2bn(pub, (int)pub_len, NULL);
		assert_non_null(a);
		assert_true(BN_cmp(a, BN_value_one()) > 0);
		assert_true(BN_cmp(a, p) < 0);
		modp_fixed_exponent(dh, p, a, len, bc);
		modp_leading_zero(dh, p, a, len, bc);
		BN_free(a);
		BN_free(p);
		crypto_dh_free(dh);
	}
	BN_CTX_free(bc);
}

static void test_dh_modp_bad_peer(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(modp_primes); i++) {
		int g = modp_primes[i].group;
		size_t len = crypto_dh_pub_len(g), out_len, pub_len;
		struct crypto_dh *dh = crypto_dh_new(g), *peer = crypto_dh_new(g);
		BIGNUM *p = modp_primes[i].prime(NULL);
		uint8_t v[CRYPTO_MAX_DH + 1], out[CRYPTO_MAX_DH];

		assert_non_null(dh);
		assert_non_null(peer);
		memset(v, 0, sizeof(v));
		assert_fails_logged(crypto_dh_shared(dh, v, len, out, &out_len));      /* 0 */
		v[len - 1] = 1;
		assert_fails_logged(crypto_dh_shared(dh, v, len, out, &out_len));      /* 1 */
		bn_out(p, v, len);
		assert_fails_logged(crypto_dh_shared(dh, v, len, out, &out_len));      /* p */
		v[len - 1]--;
		assert_fails_logged(crypto_dh_shared(dh, v, len, out, &out_len));      /* p-1 */
		memset(v, 0xff, sizeof(v));
		assert_fails_logged(crypto_dh_shared(dh, v, len, out, &out_len));      /* > p */

		assert_int_equal(crypto_dh_public(peer, v, &pub_len), 0);
		assert_fails_logged(crypto_dh_shared(dh, v, len - 1, out, &out_len));
		assert_fails_logged(crypto_dh_shared(dh, v, len + 1, out, &out_len));
		assert_fails_logged(crypto_dh_shared(dh, v, 0, out, &out_len));
		/* A good value still works after the failures. */
		assert_int_equal(crypto_dh_shared(dh, v, len, out, &out_len), 0);
		BN_free(p);
		crypto_dh_free(dh);
		crypto_dh_free(peer);
	}
}

/* Test-side EC arithmetic: scalar * (point x||y, or the generator when
 * xy is NULL), result as x||y. */
static void ec_mul(int nid, const uint8_t *scalar, size_t slen, const uint8_t *xy,
		   size_t flen, uint8_t *out)
{
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(nid);
	EC_POINT *pt = grp ? EC_POINT_new(grp) : NULL, *r = grp ? EC_POINT_new(grp) : NULL;
	BIGNUM *k = BN_bin2bn(scalar, (int)slen, NULL), *x = BN_new(), *y = BN_new();
	uint8_t enc[1 + CRYPTO_MAX_DH];

	assert_non_null(pt);
	assert_non_null(r);
	assert_non_null(k);
	if (xy) {
		enc[0] = 0x04;
		memcpy(enc + 1, xy, 2 * flen);
		assert_int_equal(EC_POINT_oct2point(grp, pt, enc, 1 + 2 * flen, NULL), 1);
		assert_int_equal(EC_POINT_mul(grp, r, NULL, pt, k, NULL), 1);
	} else {
		assert_int_equal(EC_POINT_mul(grp, r, k, NULL, NULL, NULL), 1);
	}
	assert_int_equal(EC_POINT_get_affine_coordinates(grp, r, x, y, NULL), 1);
	bn_out(x, out, flen);
	bn_out(y, out + flen, flen);
	BN_free(k);
	BN_free(x);
	BN_free(y);
	EC_POINT_free(pt);
	EC_POINT_free(r);
	EC_GROUP_free(grp);
}

/* RFC 5903 section 8: i, g^i = gix||giy, r, g^r = grx||gry, girx. */
static const struct {
	int group, nid;
	const char *i, *gi, *r, *gr, *gir;
} rfc5903[] = {
	{ CRYPTO_DH_ECP256, NID_X9_62_prime256v1,
	  "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433",
	  "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180"
	  "5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3",
	  "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53",
	  "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63"
	  "56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB",
	  "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE" },
	{ CRYPTO_DH_ECP384, NID_secp384r1,
	  "099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 14DCE655"
	  "E35B5380 41E649EE 3FAEF896 783AB194",
	  "667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 B4C55EE6"
	  "DE3AC808 ACB4BDB4 C88732AE E95F41AA"
	  "9482ED1F C0EEB9CA FC498462 5CCFC23F 65032149 E0E144AD A0241815 35A0F38E"
	  "EB9FCFF3 C2C947DA E69B4C63 4573A81C",
	  "41CB0779 B4BDB85D 47846725 FBEC3C94 30FAB46C C8DC5060 855CC9BD A0AA2942"
	  "E0308312 916B8ED2 960E4BD5 5A7448FC",
	  "E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 32BC509D"
	  "0D1AC43A 0336DEF9 6FDA41D0 774A3571"
	  "DCFBEC7A ACF31964 72169E83 8430367F 66EEBE3C 6E70C416 DD5F0C68 759DD1FF"
	  "F83FA401 42209DFF 5EAAD96D B9E6386C",
	  "11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E 7156C5C4"
	  "D6031355 69B9E9D0 9CF5D4A2 70F59746" },
};

static void test_dh_ecp_rfc5903(void **state)
{
	(void)state;
	for (size_t v = 0; v < ARRAY_SIZE(rfc5903); v++) {
		int g = rfc5903[v].group, nid = rfc5903[v].nid;
		size_t flen = crypto_dh_secret_len(g), pub_len = 0, s_len = 0;
		uint8_t i[48], r[48], gi[96], gr[96], gir[48], calc[96];
		uint8_t pub[CRYPTO_MAX_DH], s[CRYPTO_MAX_DH];
		struct crypto_dh *dh = crypto_dh_new(g);

		assert_int_equal(unhex(rfc5903[v].i, i, sizeof(i)), flen);
		assert_int_equal(unhex(rfc5903[v].r, r, sizeof(r)), flen);
		assert_int_equal(unhex(rfc5903[v].gi, gi, sizeof(gi)), 2 * flen);
		assert_int_equal(unhex(rfc5903[v].gr, gr, sizeof(gr)), 2 * flen);
		assert_int_equal(unhex(rfc5903[v].gir, gir, sizeof(gir)), flen);
		/* The vector itself, so a typo here cannot pass for a bug there. */
		ec_mul(nid, i, flen, NULL, flen, calc);
		assert_memory_equal(calc, gi, 2 * flen);
		ec_mul(nid, r, flen, NULL, flen, calc);
		assert_memory_equal(calc, gr, 2 * flen);
		ec_mul(nid, i, flen, gr, flen, calc);
		assert_memory_equal(calc, gir, flen);

		/* Our side is random; the responder is the RFC's r. */
		assert_non_null(dh);
		assert_int_equal(crypto_dh_public(dh, pub, &pub_len), 0);
		assert_int_equal(pub_len, 2 * flen);
		assert_int_equal(crypto_dh_shared(dh, gr, 2 * flen, s, &s_len), 0);
		assert_int_equal(s_len, flen);
		ec_mul(nid, r, flen, pub, flen, calc);
		assert_memory_equal(s, calc, flen);
		crypto_dh_free(dh);
	}
}

static void test_dh_ecp_bad_peer(void **state)
{
	(void)state;
	for (size_t v = 0; v < ARRAY_SIZE(rfc5903); v++) {
		int g = rfc5903[v].group;
		size_t len = crypto_dh_pub_len(g), out_len;
		struct crypto_dh *dh = crypto_dh_new(g);
		uint8_t gr[CRYPTO_MAX_DH + 1], bad[CRYPTO_MAX_DH + 1], out[CRYPTO_MAX_DH];

		assert_non_null(dh);
		assert_int_equal(unhex(rfc5903[v].gr, gr, sizeof(gr)), len);
		memset(bad, 0, sizeof(bad));
		assert_fails_logged(crypto_dh_shared(dh, bad, len, out, &out_len));
		memcpy(bad, gr, len);
		bad[len - 1] ^= 1;      /* y off by one: not on the curve */
		assert_fails_logged(crypto_dh_shared(dh, bad, len, out, &out_len));
		memset(bad, 0xff, len); /* coordinates beyond the field */
		assert_fails_logged(crypto_dh_shared(dh, bad, len, out, &out_len));
		/* SEC 1 form with its 0x04 tag is not the RFC 5903 wire form. */
		bad[0] = 0x04;
		memcpy(bad + 1, gr, len);
		assert_fails_logged(crypto_dh_shared(dh, bad, len + 1, out, &out_len));
		assert_fails_logged(crypto_dh_shared(dh, gr, len - 1, out, &out_len));
		assert_int_equal(crypto_dh_shared(dh, gr, len, out, &out_len), 0);
		crypto_dh_free(dh);
	}
}

/* ---- CBC ------------------------------------------------------------------------------ */

/* The reference: EVP one-shot encryption without padding. */
static void ref_cbc(const char *name, const uint8_t *key, const uint8_t *iv, const uint8_t *in,
		    size_t len, uint8_t *out, int enc)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, name, NULL);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, f = 0;

	assert_non_null(c);
	assert_non_null(ctx);
	assert_int_equal(EVP_CipherInit_ex2(ctx, c, key, iv, enc, NULL), 1);
	assert_int_equal(EVP_CIPHER_CTX_set_padding(ctx, 0), 1);
	assert_int_equal(EVP_CipherUpdate(ctx, out, &n, in, (int)len), 1);
	assert_int_equal(EVP_CipherFinal_ex(ctx, out + n, &f), 1);
	assert_int_equal((size_t)(n + f), len);
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(c);
}

static void test_cbc_round_trip(void **state)
{
	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(ciphers); c++) {
		int id = ciphers[c].id;
		size_t kl = ciphers[c].key_len, bl = ciphers[c].block;
		uint8_t key[32], iv0[16], iv[16], pt[64], buf[64], want[64];

		fill(key, sizeof(key));
		fill(iv0, sizeof(iv0));
		fill(pt, sizeof(pt));
		memcpy(buf, pt, sizeof(pt));
		memcpy(iv, iv0, bl);
		assert_int_equal(crypto_cbc_encrypt(id, key, kl, iv, buf, sizeof(buf)), 0);
		ref_cbc(ciphers[c].evp, key, iv0, pt, sizeof(pt), want, 1);
		assert_memory_equal(buf, want, sizeof(buf));
		assert_memory_equal(iv, buf + sizeof(buf) - bl, bl);

		memcpy(iv, iv0, bl);
		assert_int_equal(crypto_cbc_decrypt(id, key, kl, iv, buf, sizeof(buf)), 0);
		assert_memory_equal(buf, pt, sizeof(pt));
		/* the last block of the ciphertext, not of the plaintext */
		assert_memory_equal(iv, want + sizeof(want) - bl, bl);
	}
}

/* Two messages chained through the updated IV equal one long message. */
static void test_cbc_chaining(void **state)
{
	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(ciphers); c++) {
		int id = ciphers[c].id;
		size_t kl = ciphers[c].key_len, bl = ciphers[c].block;
		uint8_t key[32], iv0[16], iv[16], pt[96], whole[96], parts[96];

		fill(key, sizeof(key));
		fill(iv0, sizeof(iv0));
		fill(pt, sizeof(pt));
		memcpy(whole, pt, sizeof(pt));
		memcpy(iv, iv0, bl);
		assert_int_equal(crypto_cbc_encrypt(id, key, kl, iv, whole, sizeof(whole)), 0);

		memcpy(parts, pt, sizeof(pt));
		memcpy(iv, iv0, bl);
		assert_int_equal(crypto_cbc_encrypt(id, key, kl, iv, parts, 32), 0);
		assert_int_equal(crypto_cbc_encrypt(id, key, kl, iv, parts + 32, 64), 0);
		assert_memory_equal(parts, whole, sizeof(whole));

		memcpy(iv, iv0, bl);
		assert_int_equal(crypto_cbc_decrypt(id, key, kl, iv, parts, 48), 0);
		assert_int_equal(crypto_cbc_decrypt(id, key, kl, iv, parts + 48, 48), 0);
		assert_memory_equal(parts, pt, sizeof(pt));
	}
}

static void test_cbc_bad(void **state)
{
	uint8_t key[32] = { 0 }, iv[16] = { 1 }, iv_copy[16], buf[32] = { 2 }, copy[32];

	(void)state;
	memcpy(iv_copy, iv, sizeof(iv));
	memcpy(copy, buf, sizeof(buf));
	assert_fails_logged(crypto_cbc_encrypt(CRYPTO_CIPHER_AES, key, 16, iv, buf, 15));
	assert_fails_logged(crypto_cbc_decrypt(CRYPTO_CIPHER_AES, key, 16, iv, buf, 24));
	assert_fails_logged(crypto_cbc_encrypt(CRYPTO_CIPHER_3DES, key, 24, iv, buf, 12));
	assert_fails_logged(crypto_cbc_encrypt(CRYPTO_CIPHER_AES, key, 20, iv, buf, 16));
	assert_fails_logged(crypto_cbc_encrypt(CRYPTO_CIPHER_3DES, key, 16, iv, buf, 16));
	assert_fails_logged(crypto_cbc_decrypt(CRYPTO_CIPHER_DES, key, 24, iv, buf, 16));
	assert_memory_equal(buf, copy, sizeof(buf));
	assert_memory_equal(iv, iv_copy, sizeof(iv));
	assert_int_equal(crypto_cbc_encrypt(CRYPTO_CIPHER_AES, key, 16, iv, buf, 0), 0);
	assert_memory_equal(iv, iv_copy, sizeof(iv));
}

/* NIST SP 800-38A F.2.1 (CBC-AES128.Encrypt) and F.2.2 (Decrypt). */
static void test_cbc_aes_known_answer(void **state)
{
	uint8_t key[16], iv[16], pt[64], ct[64], buf[64];

	(void)state;
	unhex("2b7e151628aed2a6abf7158809cf4f3c", key, sizeof(key));
	unhex("6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"
	      "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710", pt, sizeof(pt));
	unhex("7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2"
	      "73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7", ct, sizeof(ct));
	unhex("000102030405060708090a0b0c0d0e0f", iv, sizeof(iv));
	memcpy(buf, pt, sizeof(pt));
	assert_int_equal(crypto_cbc_encrypt(CRYPTO_CIPHER_AES, key, 16, iv, buf, 64), 0);
	assert_memory_equal(buf, ct, 64);
	assert_memory_equal(iv, ct + 48, 16);

	unhex("000102030405060708090a0b0c0d0e0f", iv, sizeof(iv));
	assert_int_equal(crypto_cbc_decrypt(CRYPTO_CIPHER_AES, key, 16, iv, buf, 64), 0);
	assert_memory_equal(buf, pt, 64);
	assert_memory_equal(iv, ct + 48, 16);
}

/* ---- RSA ---------------------------------------------------------------------------------- */

static struct crypto_rsa *rsa_key;      /* made by crypto_rsa_generate */
static EVP_PKEY *rsa_ref;               /* made here, for the PEM file */
static char pem_path[64];

static int write_pem(const char *path, EVP_PKEY *pkey, const char *pass)
{
	BIO *bio = BIO_new_file(path, "w");
	int ok;

	if (bio == NULL)
		return -1;
	if (pass)
		ok = PEM_write_bio_PrivateKey(bio, pkey, EVP_aes_128_cbc(),
					      (const unsigned char *)pass, (int)strlen(pass),
					      NULL, NULL);
	else
		ok = PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
	BIO_free(bio);
	return ok ? 0 : -1;
}

static int rsa_setup(void **state)
{
	int fd;

	(void)state;
	rsa_key = crypto_rsa_generate(2048);
	rsa_ref = EVP_RSA_gen(2048);
	snprintf(pem_path, sizeof(pem_path), "/tmp/test_crypto.XXXXXX");
	fd = mkstemp(pem_path);
	if (rsa_key == NULL || rsa_ref == NULL || fd < 0)
		return -1;
	close(fd);
	return write_pem(pem_path, rsa_ref, NULL);
}

static int rsa_teardown(void **state)
{
	(void)state;
	crypto_rsa_free(rsa_key);
	EVP_PKEY_free(rsa_ref);
	unlink(pem_path);
	return 0;
}

static void test_rsa_sign_verify(void **state)
{
	static const char data[] = "GROUPKEY-PUSH payload to be signed";
	uint8_t sig[512], sig2[512];
	size_t sig_len, sig2_len;

	(void)state;
	assert_int_equal(crypto_rsa_size(rsa_key), 256);
	for (size_t h = 0; h < ARRAY_SIZE(hashes); h++) {
		int hid = hashes[h].id;
		char tampered[sizeof(data)];

		sig_len = sizeof(sig);
		assert_int_equal(crypto_rsa_sign(rsa_key, hid, data, sizeof(data), sig, &sig_len), 0);
		assert_int_equal(sig_len, 256);
		assert_int_equal(crypto_rsa_verify(rsa_key, hid, data, sizeof(data), sig, sig_len), 0);
		/* PKCS#1 v1.5 is deterministic, unlike PSS. */
		sig2_len = sizeof(sig2);
		assert_int_equal(crypto_rsa_sign(rsa_key, hid, data, sizeof(data), sig2, &sig2_len), 0);
		assert_memory_equal(sig, sig2, sig_len);

		memcpy(tampered, data, sizeof(data));
		tampered[3] ^= 0x01;
		assert_bad_signature(crypto_rsa_verify(rsa_key, hid, tampered, sizeof(data), sig,
						      sig_len));
		sig2[100] ^= 0x80;
		assert_bad_signature(crypto_rsa_verify(rsa_key, hid, data, sizeof(data), sig2,
						      sig_len));
		assert_bad_signature(crypto_rsa_verify(rsa_key, hid, data, sizeof(data), sig,
						      sig_len - 1));
		assert_bad_signature(crypto_rsa_verify(rsa_key, hid, data, sizeof(data) - 1, sig,
						      sig_len));
	}
	sig_len = sizeof(sig);
	assert_int_equal(crypto_rsa_sign(rsa_key, CRYPTO_HASH_SHA256, data, sizeof(data), sig,
					 &sig_len), 0);
	assert_bad_signature(crypto_rsa_verify(rsa_key, CRYPTO_HASH_SHA1, data, sizeof(data), sig,
					      sig_len));
	assert_fails_logged(crypto_rsa_verify(rsa_key, 3, data, sizeof(data), sig, sig_len));
	sig_len = sizeof(sig);
	assert_fails_logged(crypto_rsa_sign(rsa_key, 3, data, sizeof(data), sig, &sig_len));
	sig_len = 255;
	assert_fails_logged(crypto_rsa_sign(rsa_key, CRYPTO_HASH_SHA256, data, sizeof(data), sig,
					    &sig_len));
}

static void test_rsa_public_der(void **state)
{
	static const char data[] = "KD payload";
	uint8_t der[1024], der2[1024], sig[512];
	size_t der_len = sizeof(der), der2_len = sizeof(der2), sig_len = sizeof(sig), small;
	struct crypto_rsa *pub;

	(void)state;
	assert_int_equal(crypto_rsa_public_der(rsa_key, der, &der_len), 0);
	assert_true(der_len > 256 && der_len < 400);
	pub = crypto_rsa_from_public_der(der, der_len);
	assert_non_null(pub);
	assert_int_equal(crypto_rsa_size(pub), 256);
	assert_int_equal(crypto_rsa_public_der(pub, der2, &der2_len), 0);
	assert_int_equal(der2_len, der_len);
	assert_memory_equal(der2, der, der_len);
	assert_int_equal(crypto_rsa_sign(rsa_key, CRYPTO_HASH_SHA256, data, sizeof(data), sig,
					 &sig_len), 0);
	assert_int_equal(crypto_rsa_verify(pub, CRYPTO_HASH_SHA256, data, sizeof(data), sig,
					   sig_len), 0);
	/* A public key cannot sign. */
	sig_len = sizeof(sig);
	assert_fails_logged(crypto_rsa_sign(pub, CRYPTO_HASH_SHA256, data, sizeof(data), sig,
					    &sig_len));
	crypto_rsa_free(pub);

	small = der_len - 1;
	assert_fails_logged(crypto_rsa_public_der(rsa_key, der2, &small));
	assert_null(crypto_rsa_from_public_der(der, der_len - 1));
	der[der_len] = 0;
	assert_null(crypto_rsa_from_public_der(der, der_len + 1));
	assert_null(crypto_rsa_from_public_der(der, 0));
	memset(der2, 0x30, 64);
	assert_null(crypto_rsa_from_public_der(der2, 64));
}

static void test_rsa_not_rsa(void **state)
{
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	uint8_t der[256], *p = der;
	char path[64];
	int n, fd;

	(void)state;
	assert_non_null(ec);
	n = i2d_PUBKEY(ec, NULL);
	assert_true(n > 0 && (size_t)n <= sizeof(der));
	assert_int_equal(i2d_PUBKEY(ec, &p), n);
	assert_null(crypto_rsa_from_public_der(der, (size_t)n));
	snprintf(path, sizeof(path), "/tmp/test_crypto_ec.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(write_pem(path, ec, NULL), 0);
	assert_null(crypto_rsa_load_private(path));
	unlink(path);
	EVP_PKEY_free(ec);
	assert_null(crypto_rsa_generate(1024));
}

/* A signature made by the loaded key checks out with plain EVP calls. */
static void test_rsa_load_private(void **state)
{
	static const char data[] = "SA KEK";
	uint8_t sig[512], der[1024], *p = der;
	size_t sig_len = sizeof(sig);
	struct crypto_rsa *k = crypto_rsa_load_private(pem_path), *pub;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int n;

	(void)state;
	assert_non_null(k);
	assert_non_null(ctx);
	assert_int_equal(crypto_rsa_sign(k, CRYPTO_HASH_SHA1, data, sizeof(data), sig, &sig_len),
			 0);
	assert_int_equal(EVP_DigestVerifyInit_ex(ctx, NULL, "SHA1", NULL, NULL, rsa_ref, NULL), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig, sig_len, (const uint8_t *)data,
					  sizeof(data)), 1);
	n = i2d_PUBKEY(rsa_ref, &p);
	assert_true(n > 0);
	pub = crypto_rsa_from_public_der(der, (size_t)n);
	assert_non_null(pub);
	assert_int_equal(crypto_rsa_verify(pub, CRYPTO_HASH_SHA1, data, sizeof(data), sig,
					   sig_len), 0);
	crypto_rsa_free(pub);
	crypto_rsa_free(k);
	EVP_MD_CTX_free(ctx);
}

static void test_rsa_load_bad(void **state)
{
	char path[64];
	int fd;

	(void)state;
	assert_null(crypto_rsa_load_private("/nonexistent/gvpn/key.pem"));
	snprintf(path, sizeof(path), "/tmp/test_crypto_bad.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a key\n", 10), 10);
	close(fd);
	assert_null(crypto_rsa_load_private(path));
	/* An encrypted key fails at once instead of asking for a passphrase. */
	assert_int_equal(write_pem(path, rsa_ref, "secret passphrase"), 0);
	assert_null(crypto_rsa_load_private(path));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_des_without_legacy),
		cmocka_unit_test(test_names_sizes),
		cmocka_unit_test(test_unknown_ids),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_prf_known_answer),
		cmocka_unit_test(test_prf_hash_vs_openssl),
		cmocka_unit_test(test_ike_keys_all),
		cmocka_unit_test(test_ike_keys_expansion),
		cmocka_unit_test(test_ike_keys_bad),
		cmocka_unit_test(test_ike_ivs),
		cmocka_unit_test(test_dh_agreement),
		cmocka_unit_test(test_dh_modp_known_answer),
		cmocka_unit_test(test_dh_modp_bad_peer),
		cmocka_unit_test(test_dh_ecp_rfc5903),
		cmocka_unit_test(test_dh_ecp_bad_peer),
		cmocka_unit_test(test_cbc_round_trip),
		cmocka_unit_test(test_cbc_chaining),
		cmocka_unit_test(test_cbc_bad),
		cmocka_unit_test(test_cbc_aes_known_answer),
		cmocka_unit_test(test_rsa_sign_verify),
		cmocka_unit_test(test_rsa_public_der),
		cmocka_unit_test(test_rsa_not_rsa),
		cmocka_unit_test(test_rsa_load_private),
		cmocka_unit_test(test_rsa_load_bad),
	};

	/* Failures are expected here; count them instead of printing them. */
	log_stderr(getenv("TEST_CRYPTO_LOG") != NULL);
	log_add_sink(count_errors, NULL);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, rsa_setup, rsa_teardown);
}
