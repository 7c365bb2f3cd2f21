/* SPDX-License-Identifier: BSD-2-Clause */
/* crypto.c: the IKEv1/GDOI cryptography of crypto.h over OpenSSL 3 EVP.
 * Only provider-era APIs are used (EVP_PKEY with OSSL_PARAM, EVP_MAC,
 * fetched ciphers and digests), so nothing here depends on the
 * deprecated low-level interfaces. DES lives in OpenSSL's legacy
 * provider, loaded on first use. */
#include "config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/util.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#if !defined(OPENSSL_VERSION_MAJOR) || OPENSSL_VERSION_MAJOR < 3
#error "crypto.c needs OpenSSL 3.0 or later"
#endif

/* ---- algorithm tables ------------------------------------------------- */

struct hash_alg {
	int id;
	size_t len;
	const char *name;       /* for logs and status */
	const char *ossl;       /* OpenSSL fetch name */
	int weak;
};

static const struct hash_alg hash_algs[] = {
	{ CRYPTO_HASH_MD5, 16, "md5", "MD5", 1 },
	{ CRYPTO_HASH_SHA1, 20, "sha1", "SHA1", 1 },
	{ CRYPTO_HASH_SHA256, 32, "sha-256", "SHA256", 0 },
	{ CRYPTO_HASH_SHA384, 48, "sha-384", "SHA384", 0 },
	{ CRYPTO_HASH_SHA512, 64, "sha-512", "SHA512", 0 },
};

struct cipher_alg {
	int id;
	unsigned key_bits;      /* the key length attribute; 0 when it has none */
	size_t key_len;
	size_t block;
	const char *name;
	const char *ossl;
	int weak;
	int legacy;             /* only in OpenSSL's legacy provider */
};

static const struct cipher_alg cipher_algs[] = {
	{ CRYPTO_CIPHER_DES, 0, 8, 8, "des-cbc", "DES-CBC", 1, 1 },
	{ CRYPTO_CIPHER_3DES, 0, 24, 8, "3des-cbc", "DES-EDE3-CBC", 1, 0 },
	{ CRYPTO_CIPHER_AES, 128, 16, 16, "aes-128-cbc", "AES-128-CBC", 0, 0 },
	{ CRYPTO_CIPHER_AES, 192, 24, 16, "aes-192-cbc", "AES-192-CBC", 0, 0 },
	{ CRYPTO_CIPHER_AES, 256, 32, 16, "aes-256-cbc", "AES-256-CBC", 0, 0 },
};

/* RFC 2409 section 6.2, the second Oakley group. OpenSSL has no name for
 * it (its 1024-bit named group is RFC 5114's, a different prime), so it
 * is given as explicit parameters. */
static const char modp1024_p[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
	"29024E088A67CC74020BBEA63B139B22514A08798E3404DD"
	"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
	"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381"
	"FFFFFFFFFFFFFFFF";

struct dh_alg {
	int id;
	size_t pub_len;
	size_t secret_len;
	const char *name;
	const char *ossl_type;  /* "DH" or "EC" */
	const char *ossl_group; /* OpenSSL group name, or NULL: prime_hex */
	const char *prime_hex;
	int weak;
};

static const struct dh_alg dh_algs[] = {
	{ CRYPTO_DH_MODP1024, 128, 128, "modp-1024", "DH", NULL, modp1024_p, 1 },
	/* RFC 3526 sections 2, 3, 4 under OpenSSL's names. */
	{ CRYPTO_DH_MODP1536, 192, 192, "modp-1536", "DH", "modp_1536", NULL, 1 },
	{ CRYPTO_DH_MODP2048, 256, 256, "modp-2048", "DH", "modp_2048", NULL, 0 },
	{ CRYPTO_DH_MODP3072, 384, 384, "modp-3072", "DH", "modp_3072", NULL, 0 },
	/* RFC 5903: x || y on the wire, x alone is the secret. */
	{ CRYPTO_DH_ECP256, 64, 32, "ecp-256", "EC", "prime256v1", NULL, 0 },
	{ CRYPTO_DH_ECP384, 96, 48, "ecp-384", "EC", "secp384r1", NULL, 0 },
};

static const struct hash_alg *hash_find(int id)
{
	for (size_t i = 0; i < ARRAY_SIZE(hash_algs); i++)
		if (hash_algs[i].id == id)
			return &hash_algs[i];
	return NULL;
}

/* DES and 3DES have no key length attribute; accept 0 or their one size. */
static const struct cipher_alg *cipher_find(int id, unsigned key_bits)
{
	for (size_t i = 0; i < ARRAY_SIZE(cipher_algs); i++) {
		const struct cipher_alg *c = &cipher_algs[i];
		if (c->id != id)
			continue;
		if (c->key_bits == key_bits)
			return c;
		if (c->key_bits == 0 && (key_bits == 0 || key_bits == c->key_len * 8))
			return c;
	}
	return NULL;
}

static const struct cipher_alg *cipher_find_key(int id, size_t key_len)
{
	for (size_t i = 0; i < ARRAY_SIZE(cipher_algs); i++)
		if (cipher_algs[i].id == id && cipher_algs[i].key_len == key_len)
			return &cipher_algs[i];
	return NULL;
}

static const struct dh_alg *dh_find(int id)
{
	for (size_t i = 0; i < ARRAY_SIZE(dh_algs); i++)
		if (dh_algs[i].id == id)
			return &dh_algs[i];
	return NULL;
}

static int dh_is_ec(const struct dh_alg *g)
{
	return strcmp(g->ossl_type, "EC") == 0;
}

size_t crypto_hash_len(int hash)
{
	const struct hash_alg *h = hash_find(hash);
	return h ? h->len : 0;
}

size_t crypto_cipher_block(int cipher)
{
	for (size_t i = 0; i < ARRAY_SIZE(cipher_algs); i++)
		if (cipher_algs[i].id == cipher)
			return cipher_algs[i].block;
	return 0;
}

size_t crypto_cipher_key_len(int cipher, unsigned key_bits)
{
	const struct cipher_alg *c = cipher_find(cipher, key_bits);
	return c ? c->key_len : 0;
}

size_t crypto_dh_pub_len(int group)
{
	const struct dh_alg *g = dh_find(group);
	return g ? g->pub_len : 0;
}

size_t crypto_dh_secret_len(int group)
{
	const struct dh_alg *g = dh_find(group);
	return g ? g->secret_len : 0;
}

int crypto_hash_weak(int hash)
{
	const struct hash_alg *h = hash_find(hash);
	return h ? h->weak : 0;
}

int crypto_cipher_weak(int cipher)
{
	return cipher == CRYPTO_CIPHER_DES || cipher == CRYPTO_CIPHER_3DES;
}

int crypto_dh_weak(int group)
{
	const struct dh_alg *g = dh_find(group);
	return g ? g->weak : 0;
}

const char *crypto_hash_name(int hash)
{
	const struct hash_alg *h = hash_find(hash);
	return h ? h->name : NULL;
}

const char *crypto_cipher_name(int cipher, unsigned key_bits)
{
	const struct cipher_alg *c = cipher_find(cipher, key_bits);
	return c ? c->name : NULL;
}

const char *crypto_dh_name(int group)
{
	const struct dh_alg *g = dh_find(group);
	return g ? g->name : NULL;
}

/* ---- errors and providers ---------------------------------------------- */

/* Logs what failed with the root cause from OpenSSL's error queue, then
 * empties the queue so the next failure does not report a stale reason. */
static void log_ossl(const char *fmt, ...) GVPN_PRINTF(1, 2);
static void log_ossl(const char *fmt, ...)
{
	unsigned long e = ERR_peek_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;
	va_list ap;
	char *what;

	va_start(ap, fmt);
	what = xvasprintf(fmt, ap);
	va_end(ap);
	log_err("crypto", "%s: %s", what, why ? why : "no detail from OpenSSL");
	free(what);
	ERR_clear_error();
}

static OSSL_PROVIDER *prov_default, *prov_legacy;
static int prov_tried;

/* Loading any provider by hand stops OpenSSL from loading "default" on
 * its own, so both are loaded. Done once, on first DES use, so that
 * configurations without DES never touch the legacy module. The daemon
 * is single-threaded, hence no locking. */
static int legacy_load(void)
{
	if (!prov_tried) {
		prov_tried = 1;
		prov_default = OSSL_PROVIDER_load(NULL, "default");
		if (prov_default == NULL)
			log_ossl("cannot load the OpenSSL default provider");
		prov_legacy = OSSL_PROVIDER_load(NULL, "legacy");
		if (prov_legacy == NULL)
			log_ossl("cannot load the OpenSSL legacy provider");
	}
	return prov_legacy ? 0 : -1;
}

static EVP_CIPHER *cipher_fetch(const struct cipher_alg *c)
{
	EVP_CIPHER *evp;

	if (c->legacy && legacy_load() < 0) {
		log_err("crypto", "%s is unavailable: it needs the OpenSSL legacy provider",
			c->name);
		return NULL;
	}
	evp = EVP_CIPHER_fetch(NULL, c->ossl, NULL);
	if (evp == NULL)
		log_ossl("cannot fetch cipher %s", c->name);
	return evp;
}

/* ---- random ------------------------------------------------------------ */

int crypto_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		int n = len > INT_MAX ? INT_MAX : (int)len;
		if (RAND_bytes(p, n) != 1) {
			log_ossl("random generator failed");
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- PRF, hash ------------------------------------------------------------ */

int crypto_prf(int hash, const void *key, size_t key_len, const struct crypto_iov *iov,
	       size_t n, uint8_t *out)
{
	static const uint8_t no_key[1];
	const struct hash_alg *h = hash_find(hash);
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t out_len = 0;
	int rc = -1;

	if (h == NULL) {
		log_err("crypto", "prf: unknown hash algorithm %d", hash);
		return -1;
	}
	/* EVP_MAC_init() takes a NULL key as "keep the old one", and a new
	 * context has none: an empty key needs a non-NULL pointer. */
	if (key == NULL || key_len == 0)
		key = no_key;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)h->ossl, 0);
	params[1] = OSSL_PARAM_construct_end();
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	if (ctx == NULL || !EVP_MAC_init(ctx, key, key_len, params))
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (iov[i].len > 0 && !EVP_MAC_update(ctx, iov[i].p, iov[i].len))
			goto fail;
	if (!EVP_MAC_final(ctx, out, &out_len, h->len) || out_len != h->len)
		goto fail;
	rc = 0;
	goto done;
fail:
	log_ossl("prf: HMAC-%s failed", h->name);
done:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

int crypto_hash(int hash, const struct crypto_iov *iov, size_t n, uint8_t *out)
{
	const struct hash_alg *h = hash_find(hash);
	EVP_MD *md = NULL;
	EVP_MD_CTX *ctx = NULL;
	unsigned out_len = 0;
	int rc = -1;

	if (h == NULL) {
		log_err("crypto", "hash: unknown hash algorithm %d", hash);
		return -1;
	}
	md = EVP_MD_fetch(NULL, h->ossl, NULL);
	ctx = md ? EVP_MD_CTX_new() : NULL;
	if (ctx == NULL || !EVP_DigestInit_ex2(ctx, md, NULL))
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (iov[i].len > 0 && !EVP_DigestUpdate(ctx, iov[i].p, iov[i].len))
			goto fail;
	if (!EVP_DigestFinal_ex(ctx, out, &out_len) || out_len != h->len)
		goto fail;
	rc = 0;
	goto done;
fail:
	log_ossl("hash: %s failed", h->name);
done:
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	return rc;
}

/* ---- IKEv1 phase 1 keys ---------------------------------------------------- */

/* RFC 2409 appendix B: when SKEYID_e is too short for the cipher,
 * Ka = K1 | K2 | ..., K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1). */
static int expand_key(int hash, const uint8_t *skeyid_e, size_t hash_len, uint8_t *out,
		      size_t key_len)
{
	static const uint8_t zero = 0;
	uint8_t kn[CRYPTO_MAX_HASH], prev[CRYPTO_MAX_HASH];
	struct crypto_iov iov = { &zero, 1 };
	size_t done_len = 0;
	int rc = -1;

	if (key_len <= hash_len) {
		memcpy(out, skeyid_e, key_len);
		return 0;
	}
	while (done_len < key_len) {
		size_t take = key_len - done_len < hash_len ? key_len - done_len : hash_len;
		if (crypto_prf(hash, skeyid_e, hash_len, &iov, 1, kn) < 0)
			goto done;
		memcpy(out + done_len, kn, take);
		done_len += take;
		memcpy(prev, kn, hash_len);
		iov.p = prev;
		iov.len = hash_len;
	}
	rc = 0;
done:
	OPENSSL_cleanse(kn, sizeof(kn));
	OPENSSL_cleanse(prev, sizeof(prev));
	return rc;
}

/* prf(SKEYID, [prev |] g^xy | CKY-I | CKY-R | octet), for SKEYID_d/a/e. */
static int skeyid_derive(const struct crypto_ike_keys *k, const uint8_t *prev,
			 const uint8_t *gxy, size_t gxy_len, const uint8_t cky_i[8],
			 const uint8_t cky_r[8], uint8_t octet, uint8_t *out)
{
	struct crypto_iov iov[5];
	size_t n = 0;

	if (prev != NULL)
		iov[n++] = (struct crypto_iov){ prev, k->hash_len };
	iov[n++] = (struct crypto_iov){ gxy, gxy_len };
	iov[n++] = (struct crypto_iov){ cky_i, 8 };
	iov[n++] = (struct crypto_iov){ cky_r, 8 };
	iov[n++] = (struct crypto_iov){ &octet, 1 };
	return crypto_prf(k->hash, k->skeyid, k->hash_len, iov, n, out);
}

int crypto_ike_keys_psk(struct crypto_ike_keys *k, int hash, int cipher, unsigned key_bits,
			const void *psk, size_t psk_len, const uint8_t *ni, size_t ni_len,
			const uint8_t *nr, size_t nr_len, const uint8_t *gxy, size_t gxy_len,
			const uint8_t cky_i[8], const uint8_t cky_r[8])
{
	const struct cipher_alg *c = cipher_find(cipher, key_bits);
	struct crypto_iov nonces[2] = { { ni, ni_len }, { nr, nr_len } };

	memset(k, 0, sizeof(*k));
	if (crypto_hash_len(hash) == 0) {
		log_err("crypto", "phase 1 keys: unknown hash %d", hash);
		return -1;
	}
	if (c == NULL) {
		log_err("crypto", "phase 1 keys: unknown cipher %d with key length %u", cipher,
			key_bits);
		return -1;
	}
	k->hash = hash;
	k->cipher = cipher;
	k->key_bits = key_bits;
	k->hash_len = crypto_hash_len(hash);
	k->enc_key_len = c->key_len;
	/* On failure k is left all zero, never half derived. */
	if (crypto_prf(hash, psk, psk_len, nonces, 2, k->skeyid) < 0 ||
	    skeyid_derive(k, NULL, gxy, gxy_len, cky_i, cky_r, 0, k->skeyid_d) < 0 ||
	    skeyid_derive(k, k->skeyid_d, gxy, gxy_len, cky_i, cky_r, 1, k->skeyid_a) < 0 ||
	    skeyid_derive(k, k->skeyid_a, gxy, gxy_len, cky_i, cky_r, 2, k->skeyid_e) < 0 ||
	    expand_key(hash, k->skeyid_e, k->hash_len, k->enc_key, k->enc_key_len) < 0) {
		crypto_ike_keys_wipe(k);
		return -1;
	}
	return 0;
}

void crypto_ike_keys_wipe(struct crypto_ike_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

/* hash(iov...) cut to the cipher's block: both IKEv1 IV rules. */
static int iv_from_hash(int hash, int cipher, const struct crypto_iov *iov, size_t n,
			uint8_t *iv, size_t *iv_len)
{
	uint8_t md[CRYPTO_MAX_HASH];
	size_t block = crypto_cipher_block(cipher);

	if (block == 0) {
		log_err("crypto", "IV: unknown cipher %d", cipher);
		return -1;
	}
	if (crypto_hash_len(hash) < block) {
		log_err("crypto", "IV: unknown hash %d", hash);
		return -1;
	}
	if (crypto_hash(hash, iov, n, md) < 0)
		return -1;
	memcpy(iv, md, block);
	*iv_len = block;
	return 0;
}

int crypto_ike_iv_phase1(int hash, int cipher, const uint8_t *gxi, size_t gxi_len,
			 const uint8_t *gxr, size_t gxr_len, uint8_t *iv, size_t *iv_len)
{
	struct crypto_iov iov[2] = { { gxi, gxi_len }, { gxr, gxr_len } };

	return iv_from_hash(hash, cipher, iov, 2, iv, iv_len);
}

int crypto_ike_iv_exchange(int hash, int cipher, const uint8_t *last_block, size_t block_len,
			   const uint8_t msgid[4], uint8_t *iv, size_t *iv_len)
{
	struct crypto_iov iov[2] = { { last_block, block_len }, { msgid, 4 } };

	if (block_len != crypto_cipher_block(cipher)) {
		log_err("crypto", "IV: last block of %zu bytes for cipher %d", block_len, cipher);
		return -1;
	}
	return iv_from_hash(hash, cipher, iov, 2, iv, iv_len);
}

/* ---- CBC ------------------------------------------------------------------- */

static int cbc_run(int cipher, const uint8_t *key, size_t key_len, uint8_t *iv, uint8_t *buf,
		   size_t len, int enc)
{
	const struct cipher_alg *c = cipher_find_key(cipher, key_len);
	uint8_t next_iv[CRYPTO_MAX_BLOCK];
	EVP_CIPHER *evp = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	int out_len = 0, fin_len = 0, rc = -1;

	if (c == NULL) {
		log_err("crypto", "CBC: unknown cipher %d with a %zu-byte key", cipher, key_len);
		return -1;
	}
	if (len % c->block != 0 || len > INT_MAX) {
		log_err("crypto", "CBC: %zu bytes is not a whole number of %s blocks", len, c->name);
		return -1;
	}
	if (len == 0)
		return 0;
	/* Decrypting in place overwrites the ciphertext that chains to the
	 * next message, so keep its last block first. */
	memcpy(next_iv, buf + len - c->block, c->block);
	evp = cipher_fetch(c);
	ctx = evp ? EVP_CIPHER_CTX_new() : NULL;
	if (ctx == NULL)
		goto done;
	if (!EVP_CipherInit_ex2(ctx, evp, key, iv, enc, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0) ||
	    !EVP_CipherUpdate(ctx, buf, &out_len, buf, (int)len) ||
	    !EVP_CipherFinal_ex(ctx, buf + out_len, &fin_len) ||
	    (size_t)out_len + (size_t)fin_len != len) {
		log_ossl("CBC: %s %s failed", c->name, enc ? "encryption" : "decryption");
		goto done;
	}
	memcpy(iv, enc ? buf + len - c->block : next_iv, c->block);
	rc = 0;
done:
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(evp);
	return rc;
}

int crypto_cbc_encrypt(int cipher, const uint8_t *key, size_t key_len, uint8_t *iv,
		       uint8_t *buf, size_t len)
{
	return cbc_run(cipher, key, key_len, iv, buf, len, 1);
}

int crypto_cbc_decrypt(int cipher, const uint8_t *key, size_t key_len, uint8_t *iv,
		       uint8_t *buf, size_t len)
{
	return cbc_run(cipher, key, key_len, iv, buf, len, 0);
}

/* ---- Diffie-Hellman --------------------------------------------------------- */

struct crypto_dh {
	const struct dh_alg *alg;
	EVP_PKEY *pkey;
	BIGNUM *p, *g;          /* MODP only; g only for explicit groups */
	uint8_t pub[CRYPTO_MAX_DH];
};

/* The group, as OpenSSL wants it for key generation and peer import:
 * both must carry the same parameters or derivation refuses the pair. */
static int dh_push_domain(OSSL_PARAM_BLD *bld, const struct crypto_dh *dh)
{
	if (dh->alg->ossl_group != NULL)
		return OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
						       dh->alg->ossl_group, 0) ? 0 : -1;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, dh->p) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, dh->g))
		return -1;
	return 0;
}

static EVP_PKEY *pkey_from_bld(const char *type, OSSL_PARAM_BLD *bld, int selection)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, selection, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static int dh_keygen(struct crypto_dh *dh)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *domain = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int rc = -1;

	if (bld == NULL || dh_push_domain(bld, dh) < 0)
		goto done;
	domain = pkey_from_bld(dh->alg->ossl_type, bld, EVP_PKEY_KEY_PARAMETERS);
	ctx = domain ? EVP_PKEY_CTX_new_from_pkey(NULL, domain, NULL) : NULL;
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_generate(ctx, &dh->pkey) <= 0)
		goto done;
	rc = 0;
done:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(domain);
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

/* Writes the big-endian value of a BIGNUM parameter, left-padded to len. */
static int pkey_bn_bin(const EVP_PKEY *pkey, const char *name, uint8_t *out, size_t len)
{
	BIGNUM *bn = NULL;
	int rc = -1;

	if (EVP_PKEY_get_bn_param(pkey, name, &bn) && BN_bn2binpad(bn, out, (int)len) == (int)len)
		rc = 0;
	BN_free(bn);
	return rc;
}

static int dh_export_public(struct crypto_dh *dh)
{
	size_t half = dh->alg->pub_len / 2;

	if (dh_is_ec(dh->alg))
		return pkey_bn_bin(dh->pkey, OSSL_PKEY_PARAM_EC_PUB_X, dh->pub, half) < 0 ||
		       pkey_bn_bin(dh->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, dh->pub + half, half) < 0
		       ? -1 : 0;
	return pkey_bn_bin(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY, dh->pub, dh->alg->pub_len);
}

/* For MODP: the prime (for peer checks) and, for groups OpenSSL cannot
 * name, the generator; both must exist before the key is made. */
static int dh_init_prime(struct crypto_dh *dh)
{
	if (dh->alg->prime_hex == NULL)
		return 0;
	if (!BN_hex2bn(&dh->p, dh->alg->prime_hex))
		return -1;
	dh->g = BN_new();
	return dh->g && BN_set_word(dh->g, 2) ? 0 : -1;
}

struct crypto_dh *crypto_dh_new(int group)
{
	const struct dh_alg *alg = dh_find(group);
	struct crypto_dh *dh;

	if (alg == NULL) {
		log_err("crypto", "DH: unknown group %d", group);
		return NULL;
	}
	dh = xcalloc(1, sizeof(*dh));
	dh->alg = alg;
	if (!dh_is_ec(alg) && dh_init_prime(dh) < 0)
		goto fail;
	if (dh_keygen(dh) < 0)
		goto fail;
	if (!dh_is_ec(alg) && dh->p == NULL &&
	    !EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_FFC_P, &dh->p))
		goto fail;
	if (!dh_is_ec(alg) && (size_t)BN_num_bytes(dh->p) != alg->pub_len)
		goto fail;
	if (dh_export_public(dh) < 0)
		goto fail;
	return dh;
fail:
	log_ossl("DH: cannot generate a %s key pair", alg->name);
	crypto_dh_free(dh);
	return NULL;
}

void crypto_dh_free(struct crypto_dh *dh)
{
	if (dh == NULL)
		return;
	EVP_PKEY_free(dh->pkey);
	BN_free(dh->p);
	BN_free(dh->g);
	free(dh);
}

int crypto_dh_group(const struct crypto_dh *dh)
{
	return dh->alg->id;
}

int crypto_dh_public(const struct crypto_dh *dh, uint8_t *out, size_t *len)
{
	memcpy(out, dh->pub, dh->alg->pub_len);
	*len = dh->alg->pub_len;
	return 0;
}

/* 1 < y < p-1: 0 and 1 are fixed points, p-1 is of order 2, and a
 * value at or above p is not in the group at all. */
static int modp_peer_ok(const struct crypto_dh *dh, const BIGNUM *y)
{
	BIGNUM *pm1 = BN_dup(dh->p);
	int ok = pm1 && BN_sub_word(pm1, 1) && BN_cmp(y, BN_value_one()) > 0 &&
		 BN_cmp(y, pm1) < 0;

	BN_free(pm1);
	return ok;
}

/* The peer's value as an EVP_PKEY of our group; NULL (logged) if bad. */
static EVP_PKEY *dh_peer_key(const struct crypto_dh *dh, const uint8_t *peer)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	uint8_t point[1 + CRYPTO_MAX_DH];
	BIGNUM *y = NULL;
	EVP_PKEY *pkey = NULL;
	size_t len = dh->alg->pub_len;

	if (bld == NULL || dh_push_domain(bld, dh) < 0)
		goto done;
	if (dh_is_ec(dh->alg)) {
		/* SEC 1 uncompressed form is what OpenSSL parses; RFC 5903
		 * drops its 0x04 tag on the wire. */
		point[0] = 0x04;
		memcpy(point + 1, peer, len);
		if (!OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, len + 1))
			goto done;
	} else {
		y = BN_bin2bn(peer, (int)len, NULL);
		if (y == NULL)
			goto done;
		if (!modp_peer_ok(dh, y)) {
			log_err("crypto", "DH: peer %s value out of range (0, 1, p-1 or >= p)",
				dh->alg->name);
			goto done;
		}
		if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y))
			goto done;
	}
	pkey = pkey_from_bld(dh->alg->ossl_type, bld, EVP_PKEY_PUBLIC_KEY);
	if (pkey == NULL)
		log_ossl("DH: peer %s value rejected", dh->alg->name);
done:
	BN_free(y);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

static int dh_derive(const struct crypto_dh *dh, EVP_PKEY *peer, uint8_t *out, size_t *out_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->pkey, NULL);
	/* RFC 2409 uses g^xy at the prime's full length; OpenSSL strips
	 * leading zero octets unless asked to pad. */
	unsigned int pad = 1;
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_uint(OSSL_EXCHANGE_PARAM_PAD, &pad),
		OSSL_PARAM_construct_end(),
	};
	size_t len = dh->alg->secret_len;
	int rc = -1;

	if (ctx == NULL || EVP_PKEY_derive_init(ctx) <= 0)
		goto fail;
	if (!dh_is_ec(dh->alg) && EVP_PKEY_CTX_set_params(ctx, params) <= 0)
		goto fail;
	/* set_peer also runs OpenSSL's public key check on the peer. */
	if (EVP_PKEY_derive_set_peer(ctx, peer) <= 0 || EVP_PKEY_derive(ctx, out, &len) <= 0 ||
	    len != dh->alg->secret_len)
		goto fail;
	*out_len = len;
	rc = 0;
	goto done;
fail:
	OPENSSL_cleanse(out, dh->alg->secret_len);
	log_ossl("DH: %s derivation failed", dh->alg->name);
done:
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* The prime of a MODP group without making a key: OpenSSL's RFC 3526
 * primes by name, ours from hex. NULL for an EC group or on failure. */
static BIGNUM *modp_prime(const struct dh_alg *alg)
{
	BIGNUM *p = NULL;
	if (alg->prime_hex)
		return BN_hex2bn(&p, alg->prime_hex) ? p : NULL;
	switch (alg->id) {
	case CRYPTO_DH_MODP1536: return BN_get_rfc3526_prime_1536(NULL);
	case CRYPTO_DH_MODP2048: return BN_get_rfc3526_prime_2048(NULL);
	case CRYPTO_DH_MODP3072: return BN_get_rfc3526_prime_3072(NULL);
	default: return NULL;
	}
}

int crypto_dh_check_public(int group, const uint8_t *peer, size_t peer_len)
{
	const struct dh_alg *alg = dh_find(group);
	if (alg == NULL || peer_len != alg->pub_len)
		return -1;
	struct crypto_dh tmp = { .alg = alg };
	if (!dh_is_ec(alg)) {
		tmp.p = modp_prime(alg);
		tmp.g = BN_new();
		if (tmp.p == NULL || tmp.g == NULL || !BN_set_word(tmp.g, 2)) {
			BN_free(tmp.p);
			BN_free(tmp.g);
			return -1;
		}
	}
	EVP_PKEY *pkey = dh_peer_key(&tmp, peer);
	EVP_PKEY_free(pkey);
	BN_free(tmp.p);
	BN_free(tmp.g);
	return pkey ? 0 : -1;
}

int crypto_dh_shared(const struct crypto_dh *dh, const uint8_t *peer, size_t peer_len,
		     uint8_t *out, size_t *out_len)
{
	EVP_PKEY *pkey;
	int rc;

	if (peer_len != dh->alg->pub_len) {
		log_err("crypto", "DH: peer %s value of %zu bytes, expected %zu", dh->alg->name,
			peer_len, dh->alg->pub_len);
		return -1;
	}
	pkey = dh_peer_key(dh, peer);
	if (pkey == NULL)
		return -1;
	rc = dh_derive(dh, pkey, out, out_len);
	EVP_PKEY_free(pkey);
	return rc;
}

/* ---- RSA --------------------------------------------------------------------- */

struct crypto_rsa {
	EVP_PKEY *pkey;
};

/* A daemon has no terminal to ask for a passphrase on. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static struct crypto_rsa *rsa_wrap(EVP_PKEY *pkey, const char *what)
{
	struct crypto_rsa *k;

	if (!EVP_PKEY_is_a(pkey, "RSA")) {
		log_err("crypto", "%s: not an RSA key (%s)", what, EVP_PKEY_get0_type_name(pkey));
		EVP_PKEY_free(pkey);
		return NULL;
	}
	k = xmalloc(sizeof(*k));
	k->pkey = pkey;
	return k;
}

struct crypto_rsa *crypto_rsa_load_private(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	EVP_PKEY *pkey;

	if (bio == NULL) {
		log_ossl("cannot open RSA key file %s", path);
		return NULL;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		log_ossl("cannot read a PEM private key (unencrypted) from %s", path);
		return NULL;
	}
	return rsa_wrap(pkey, path);
}

int crypto_rsa_save_private(const struct crypto_rsa *k, const char *path)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long n;
	int rc = -1;

	if (bio == NULL)
		return -1;
	if (PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(bio, &pem)) > 0) {
		rc = file_write_atomic(path, pem, (size_t)n, 0600);
		OPENSSL_cleanse(pem, (size_t)n);
	} else {
		log_ossl("cannot encode the RSA key for %s", path);
	}
	BIO_free(bio);
	return rc;
}

struct crypto_rsa *crypto_rsa_generate(unsigned bits)
{
	EVP_PKEY *pkey;

	if (bits < 2048) {
		log_err("crypto", "RSA: refusing to generate a %u-bit key (2048 at least)", bits);
		return NULL;
	}
	pkey = EVP_RSA_gen(bits);
	if (pkey == NULL) {
		log_ossl("RSA: %u-bit key generation failed", bits);
		return NULL;
	}
	return rsa_wrap(pkey, "generated key");
}

struct crypto_rsa *crypto_rsa_from_public_der(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *pkey;

	if (len == 0 || len > LONG_MAX) {
		log_err("crypto", "RSA: public key of %zu bytes", len);
		return NULL;
	}
	pkey = d2i_PUBKEY(NULL, &p, (long)len);
	if (pkey == NULL) {
		log_ossl("RSA: cannot parse a DER SubjectPublicKeyInfo");
		return NULL;
	}
	/* Bytes after the structure would be ignored by the parser, yet they
	 * are part of what the peer sent: refuse rather than guess. */
	if (p != der + len) {
		log_err("crypto", "RSA: %zu stray bytes after the public key",
			len - (size_t)(p - der));
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return rsa_wrap(pkey, "public key");
}

void crypto_rsa_free(struct crypto_rsa *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

int crypto_rsa_public_der(const struct crypto_rsa *k, uint8_t *out, size_t *len)
{
	int n = i2d_PUBKEY(k->pkey, NULL);
	unsigned char *p = out;

	if (n <= 0) {
		log_ossl("RSA: cannot encode the public key");
		return -1;
	}
	if ((size_t)n > *len) {
		log_err("crypto", "RSA: public key needs %d bytes, buffer has %zu", n, *len);
		return -1;
	}
	if (i2d_PUBKEY(k->pkey, &p) != n) {
		log_ossl("RSA: cannot encode the public key");
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

size_t crypto_rsa_size(const struct crypto_rsa *k)
{
	int n = k ? EVP_PKEY_get_size(k->pkey) : 0;

	return n > 0 ? (size_t)n : 0;
}

/* A digest-and-sign context for PKCS#1 v1.5 with the IKE hash. */
static EVP_MD_CTX *rsa_md_ctx(const struct crypto_rsa *k, int hash, int sign)
{
	const struct hash_alg *h = hash_find(hash);
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if (h == NULL) {
		log_err("crypto", "RSA: unknown hash algorithm %d", hash);
		return NULL;
	}
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return NULL;
	ok = sign ? EVP_DigestSignInit_ex(ctx, &pctx, h->ossl, NULL, NULL, k->pkey, NULL)
		  : EVP_DigestVerifyInit_ex(ctx, &pctx, h->ossl, NULL, NULL, k->pkey, NULL);
	if (ok <= 0 || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) {
		log_ossl("RSA: cannot set up %s with %s", sign ? "signing" : "verification",
			 h->name);
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int crypto_rsa_sign(const struct crypto_rsa *k, int hash, const void *data, size_t len,
		    uint8_t *sig, size_t *sig_len)
{
	size_t need = crypto_rsa_size(k), got = need;
	EVP_MD_CTX *ctx;
	int rc = -1;

	if (need == 0 || need > *sig_len) {
		log_err("crypto", "RSA: signature needs %zu bytes, buffer has %zu", need, *sig_len);
		return -1;
	}
	ctx = rsa_md_ctx(k, hash, 1);
	if (ctx == NULL)
		return -1;
	if (EVP_DigestSign(ctx, sig, &got, data, len) <= 0) {
		log_ossl("RSA: signing failed");
		goto done;
	}
	*sig_len = got;
	rc = 0;
done:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int crypto_rsa_verify(const struct crypto_rsa *k, int hash, const void *data, size_t len,
		      const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx = rsa_md_ctx(k, hash, 0);
	int rc = -1;

	if (ctx == NULL)
		return -1;
	if (EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1) {
		rc = 0;
	} else { /* network input: the caller counts and reports it */
		log_debug("crypto", "RSA: %s signature does not verify", crypto_hash_name(hash));
		ERR_clear_error();
	}
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* The bare-hash form (RFC 3547-era GDOI, Cisco's gdoid): PKCS#1 type 1
 * padding around the digest alone, without the DigestInfo that
 * RSASSA-PKCS1-v1_5 puts in front of it. */
static EVP_PKEY_CTX *rsa_raw_ctx(const struct crypto_rsa *k, int sign)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);

	if (pctx == NULL)
		return NULL;
	if ((sign ? EVP_PKEY_sign_init(pctx) : EVP_PKEY_verify_recover_init(pctx)) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) {
		ERR_clear_error();
		EVP_PKEY_CTX_free(pctx);
		return NULL;
	}
	return pctx;
}

static int digest_of(int hash, const void *data, size_t len, uint8_t *md, size_t *md_len)
{
	struct crypto_iov iov = { data, len };

	*md_len = crypto_hash_len(hash);
	return *md_len ? crypto_hash(hash, &iov, 1, md) : -1;
}

int crypto_rsa_sign_bare(const struct crypto_rsa *k, int hash, const void *data, size_t len,
			 uint8_t *sig, size_t *sig_len)
{
	uint8_t md[CRYPTO_MAX_HASH];
	size_t md_len, need = crypto_rsa_size(k), got = need;
	EVP_PKEY_CTX *pctx;
	int rc = -1;

	if (need == 0 || need > *sig_len || digest_of(hash, data, len, md, &md_len) < 0)
		return -1;
	pctx = rsa_raw_ctx(k, 1);
	if (pctx == NULL) {
		log_err("crypto", "RSA: cannot set up bare-hash signing");
		return -1;
	}
	if (EVP_PKEY_sign(pctx, sig, &got, md, md_len) <= 0) {
		log_ossl("RSA: bare-hash signing failed");
	} else {
		*sig_len = got;
		rc = 0;
	}
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

int crypto_rsa_verify_bare(const struct crypto_rsa *k, int hash, const void *data, size_t len,
			   const uint8_t *sig, size_t sig_len)
{
	uint8_t md[CRYPTO_MAX_HASH], rec[1024];
	size_t md_len, rec_len = sizeof(rec);
	EVP_PKEY_CTX *pctx;
	int rc = -1;

	if (sig_len != crypto_rsa_size(k) || sig_len > sizeof(rec) ||
	    digest_of(hash, data, len, md, &md_len) < 0)
		return -1;
	pctx = rsa_raw_ctx(k, 0);
	if (pctx == NULL)
		return -1;
	if (EVP_PKEY_verify_recover(pctx, rec, &rec_len, sig, sig_len) > 0 && rec_len == md_len &&
	    CRYPTO_memcmp(rec, md, md_len) == 0)
		rc = 0;
	else /* network input: the caller counts and reports it */
		log_debug("crypto", "RSA: bare %s signature does not verify", crypto_hash_name(hash));
	ERR_clear_error();
	EVP_PKEY_CTX_free(pctx);
	return rc;
}
