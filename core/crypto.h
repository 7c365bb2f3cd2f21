/* SPDX-License-Identifier: BSD-2-Clause */
/* crypto.h: the cryptography GDOI and IKEv1 need, over OpenSSL EVP.
 * Diffie-Hellman (MODP groups 2, 5, 14, 15 from RFC 2409/3526; ECP groups
 * 19 and 20 from RFC 5903), the IKEv1 PRF (HMAC with the negotiated
 * hash), SKEYID derivation for pre-shared keys (RFC 2409 section 5),
 * key expansion (RFC 2409 appendix B), CBC encryption without padding
 * (DES, 3DES, AES-128/192/256), the phase 1 and phase 2 IVs, RSA
 * PKCS#1 v1.5 signatures, and a CSPRNG.
 *
 * Errors: functions return 0 or -1 (logged under "crypto"), never abort
 * on bad input. Secrets held by these objects are wiped when freed. */
#ifndef GVPN_CRYPTO_H
#define GVPN_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_MAX_HASH 64      /* SHA-512 */
#define CRYPTO_MAX_KEY 32       /* AES-256 */
#define CRYPTO_MAX_BLOCK 16
#define CRYPTO_MAX_DH 512       /* MODP-3072 public value, ECP-384 x||y = 96 */

/* IKEv1 attribute values (RFC 2409 appendix A; IANA "IPSEC/ISAKMP" registry). */
enum crypto_hash {           /* IKE hash algorithm attribute values */
	CRYPTO_HASH_MD5 = 1,
	CRYPTO_HASH_SHA1 = 2,
	CRYPTO_HASH_SHA256 = 4,
	CRYPTO_HASH_SHA384 = 5,
	CRYPTO_HASH_SHA512 = 6,
};

enum crypto_cipher {         /* IKE encryption algorithm attribute values */
	CRYPTO_CIPHER_DES = 1,
	CRYPTO_CIPHER_3DES = 5,
	CRYPTO_CIPHER_AES = 7,   /* with a key length of 128, 192 or 256 bits */
};

enum crypto_dh_group {       /* IKE group description values */
	CRYPTO_DH_MODP1024 = 2,
	CRYPTO_DH_MODP1536 = 5,
	CRYPTO_DH_MODP2048 = 14,
	CRYPTO_DH_MODP3072 = 15,
	CRYPTO_DH_ECP256 = 19,
	CRYPTO_DH_ECP384 = 20,
};

/* Sizes; 0 for an unknown algorithm. */
size_t crypto_hash_len(int hash);
size_t crypto_cipher_block(int cipher);
/* key_bits is the key length attribute (AES) or 0 (DES, 3DES). */
size_t crypto_cipher_key_len(int cipher, unsigned key_bits);
/* Length of the DH public value on the wire (KE payload). */
size_t crypto_dh_pub_len(int group);
/* Length of the shared secret g^xy. */
size_t crypto_dh_secret_len(int group);
/* 1 for algorithms that are supported but weak (MD5, SHA-1, DES, 3DES,
 * MODP-1024, MODP-1536), so callers can say so in the log. */
int crypto_hash_weak(int hash);
int crypto_cipher_weak(int cipher);
int crypto_dh_weak(int group);
const char *crypto_hash_name(int hash);
const char *crypto_cipher_name(int cipher, unsigned key_bits);
const char *crypto_dh_name(int group);

/* ---- random -------------------------------------------------------- */
int crypto_random(void *buf, size_t len);

/* ---- Diffie-Hellman --------------------------------------------------- */
struct crypto_dh;
/* Generates a key pair; NULL for an unknown group or on failure. */
struct crypto_dh *crypto_dh_new(int group);
void crypto_dh_free(struct crypto_dh *dh);
int crypto_dh_group(const struct crypto_dh *dh);
/* Our public value as on the wire: MODP big-endian, left-padded with zeros
 * to the prime's length; ECP x || y (RFC 5903 section 7). len is set. */
int crypto_dh_public(const struct crypto_dh *dh, uint8_t *out, size_t *len);
/* g^xy from the peer's public value (same format). Rejects values of the
 * wrong length, 0, 1, p-1 and points not on the curve. */
int crypto_dh_shared(const struct crypto_dh *dh, const uint8_t *peer, size_t peer_len,
		     uint8_t *out, size_t *out_len);
/* The same checks on a peer's public value of group, without a key pair
 * of our own: cheap enough to run before any Diffie-Hellman. 0: good. */
int crypto_dh_check_public(int group, const uint8_t *peer, size_t peer_len);

/* ---- PRF, hash ----------------------------------------------------------- */
/* prf(key, data...) = HMAC-hash; the data are n (pointer, length) pairs
 * concatenated. out gets crypto_hash_len(hash) bytes. */
struct crypto_iov {
	const void *p;
	size_t len;
};
int crypto_prf(int hash, const void *key, size_t key_len, const struct crypto_iov *iov,
	       size_t n, uint8_t *out);
/* Plain hash of the concatenation (the phase 1 IV). */
int crypto_hash(int hash, const struct crypto_iov *iov, size_t n, uint8_t *out);

/* ---- IKEv1 phase 1 keys (RFC 2409 section 5 and appendix B) ---------------- */
struct crypto_ike_keys {
	int hash, cipher;
	unsigned key_bits;
	size_t hash_len;
	uint8_t skeyid[CRYPTO_MAX_HASH];
	uint8_t skeyid_d[CRYPTO_MAX_HASH];
	uint8_t skeyid_a[CRYPTO_MAX_HASH];
	uint8_t skeyid_e[CRYPTO_MAX_HASH];
	uint8_t enc_key[CRYPTO_MAX_KEY];   /* SKEYID_e expanded and cut to the cipher's key */
	size_t enc_key_len;
};
/* Pre-shared key authentication:
 *   SKEYID   = prf(psk, Ni_b | Nr_b)
 *   SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
 *   SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
 *   SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
 * and the encryption key from SKEYID_e, expanded with K1 = prf(SKEYID_e, 0),
 * Kn = prf(SKEYID_e, Kn-1) when SKEYID_e is shorter than the key. */
int crypto_ike_keys_psk(struct crypto_ike_keys *k, int hash, int cipher, unsigned key_bits,
			const void *psk, size_t psk_len, const uint8_t *ni, size_t ni_len,
			const uint8_t *nr, size_t nr_len, const uint8_t *gxy, size_t gxy_len,
			const uint8_t cky_i[8], const uint8_t cky_r[8]);
void crypto_ike_keys_wipe(struct crypto_ike_keys *k);
/* Phase 1 IV = hash(g^xi | g^xr) cut to the block size. */
int crypto_ike_iv_phase1(int hash, int cipher, const uint8_t *gxi, size_t gxi_len,
			 const uint8_t *gxr, size_t gxr_len, uint8_t *iv, size_t *iv_len);
/* IV of a new exchange (phase 2, informational, GROUPKEY-PULL):
 * hash(last phase 1 CBC block | M-ID) cut to the block size; msgid in
 * network byte order as on the wire. */
int crypto_ike_iv_exchange(int hash, int cipher, const uint8_t *last_block, size_t block_len,
			   const uint8_t msgid[4], uint8_t *iv, size_t *iv_len);

/* ---- CBC ------------------------------------------------------------------- */
/* Encrypts/decrypts len bytes (a multiple of the block size) in place;
 * updates iv to the last ciphertext block, as IKEv1 chains them. */
int crypto_cbc_encrypt(int cipher, const uint8_t *key, size_t key_len, uint8_t *iv,
		       uint8_t *buf, size_t len);
int crypto_cbc_decrypt(int cipher, const uint8_t *key, size_t key_len, uint8_t *iv,
		       uint8_t *buf, size_t len);

/* ---- RSA --------------------------------------------------------------------- */
struct crypto_rsa;
/* Loads a PEM private key file; NULL with a logged reason. */
struct crypto_rsa *crypto_rsa_load_private(const char *path);
/* Generates a key (for tests and "gvpnctl"); bits >= 2048. */
struct crypto_rsa *crypto_rsa_generate(unsigned bits);
/* Writes the private key as unencrypted PEM, mode 0600, atomically. */
int crypto_rsa_save_private(const struct crypto_rsa *k, const char *path);
/* A public key from DER SubjectPublicKeyInfo (as carried in KD). */
struct crypto_rsa *crypto_rsa_from_public_der(const uint8_t *der, size_t len);
void crypto_rsa_free(struct crypto_rsa *k);
/* DER SubjectPublicKeyInfo into out (at most *len bytes; *len set). */
int crypto_rsa_public_der(const struct crypto_rsa *k, uint8_t *out, size_t *len);
size_t crypto_rsa_size(const struct crypto_rsa *k);  /* signature length, bytes */
/* PKCS#1 v1.5 signature of hash(data) with the given hash algorithm. */
int crypto_rsa_sign(const struct crypto_rsa *k, int hash, const void *data, size_t len,
		    uint8_t *sig, size_t *sig_len);
/* 0 when valid, -1 otherwise. */
int crypto_rsa_verify(const struct crypto_rsa *k, int hash, const void *data, size_t len,
		      const uint8_t *sig, size_t sig_len);
/* The RFC 3547-era form: PKCS#1 type 1 padding around hash(data) alone
 * (no DigestInfo), as Cisco's reference GDOI implementation signs. */
int crypto_rsa_sign_bare(const struct crypto_rsa *k, int hash, const void *data, size_t len,
			 uint8_t *sig, size_t *sig_len);
int crypto_rsa_verify_bare(const struct crypto_rsa *k, int hash, const void *data, size_t len,
			   const uint8_t *sig, size_t sig_len);

#endif
