/* SPDX-License-Identifier: BSD-2-Clause */
/* gdoi_push.h: GROUPKEY-PUSH (RFC 6407 4) and its acknowledgement
 * (RFC 8263), sealed and opened. Shared by the key server (gks_rekey.c), which
 * builds pushes and checks ACKs, and the member (gm.c), which opens
 * pushes and sends ACKs.
 *
 * A push is
 *
 *   HDR*, SEQ, [D,...] [SA, [KD,]] SIG
 *
 * with an SA or at least one D (RFC 6407 4; gdoid deletes TEKs with
 * HDR*, SEQ, D, SIG).
 * HDR: cookies = the 16-byte KEK SPI, exchange 33, message ID 0, the
 * encryption flag set. Everything after HDR is encrypted with the KEK
 * in CBC mode with a fresh random IV sent in front of the ciphertext;
 * padding brings the plaintext to a whole number of blocks. SIG is the
 * server's RSA PKCS#1 v1.5 signature, with the KEK's SIG_HASH_ALGORITHM,
 * of
 *
 *   "rekey" | HDR | SEQ | SA [| KD]
 *
 * where HDR is the header as sent (its length field the final length on
 * the wire) and the payloads are the plaintext up to the SIG payload.
 * A push without KD is a heartbeat: SEQ advances, nothing else changes.
 *
 * An acknowledgement (only when the push's SA KEK carries
 * KEK_ACK_REQUESTED) travels in clear:
 *
 *   HDR, HASH, SEQ, ID
 *
 * HDR: cookies = the KEK SPI of the push, exchange GDOI_EXCH_PUSH_ACK,
 * message ID 0. HASH = prf(ack_key, SEQ | ID) over the two payloads with
 * their generic headers, prf HMAC-SHA-256; ack_key is 512 bits of
 * prf+(SKEYID_a, "GROUPKEY-PUSH ACK" | CKY-I | CKY-R) from the member's
 * registration (the phase 1 SA that carried its GROUPKEY-PULL). ID is
 * the member's phase 1 identity.
 *
 * [unsure] The ACK's exchange type number, the KEK_ACK_REQUESTED value
 * and the exact ack_key derivation follow secondary summaries of RFC
 * 8263; the RFC text itself could not be read here. They are defined
 * once, below, so a correction touches one place. */
#ifndef GVPN_GDOI_PUSH_H
#define GVPN_GDOI_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"
#include "core/gdoi/gdoi.h"

#define GDOI_EXCH_PUSH_ACK 35          /* [unsure] RFC 8263 */
#define GDOI_ACK_REQUESTED_SHA256 1    /* [unsure] KEK_ACK_REQUESTED value */
#define GDOI_ACK_KEY_LEN 64            /* L = 512 bits */
#define GDOI_ACK_HASH CRYPTO_HASH_SHA256
#define GDOI_ACK_HASH_LEN 32

/* The KEK as both ends hold it. profile (enum gdoi_profile) says how
 * pushes under it are sealed:
 *
 *   RFC6407  a fresh IV in front of each ciphertext; SIG is
 *            RSASSA-PKCS1-v1_5 (DigestInfo) over "rekey" | HDR as sent |
 *            payloads.
 *   GDOID    the static iv that travelled with the key in the KD
 *            (KEK_ALGORITHM_KEY = IV | key), no IV in the message; SIG
 *            is PKCS#1 type 1 over the bare hash of "rekey" | HDR |
 *            payloads, HDR's length field being the length before the
 *            CBC padding (gdoid's gdoi_add_sig_payload). A member also
 *            accepts the padded length there. */
struct gdoi_kek {
	uint8_t spi[16];
	int cipher;                    /* CRYPTO_CIPHER_* */
	unsigned key_bits;             /* AES: 128/192/256; else 0 */
	uint8_t key[32];
	size_t key_len;
	int profile;                   /* enum gdoi_profile */
	uint8_t iv[CRYPTO_MAX_BLOCK];  /* GDOID: the static IV */
};

/* What gdoi_push_open() found. kd holds keys: gdoi_kd_wipe() it. */
#define GDOI_PUSH_MAX_DEL 4
struct gdoi_push {
	uint32_t seq;
	size_t n_del;                  /* DELETE payloads, in order */
	struct gdoi_delete del[GDOI_PUSH_MAX_DEL];
	int has_sa;
	struct gdoi_sa sa;
	int has_kd;
	struct gdoi_kd kd;
};

enum gdoi_push_err {
	GDOI_PUSH_OK = 0,
	GDOI_PUSH_EMALFORMED = -1,     /* header, length, padding or payloads wrong */
	GDOI_PUSH_EKEK = -2,           /* not for this KEK (cookies differ) */
	GDOI_PUSH_ESIG = -3,           /* the signature does not verify */
};

/* b holds HDR (from gdoi_push_hdr) and the payloads SEQ [, D...] [, SA [, KD]].
 * Appends SIG, sets the final length, encrypts. 0 or -1. */
void gdoi_push_hdr(struct gdoi_buf *b, const struct gdoi_kek *kek);
int gdoi_push_seal(struct gdoi_buf *b, const struct gdoi_kek *kek, const struct crypto_rsa *rsa,
		   int sig_hash);

/* Decrypts msg with kek, checks the payload order, the signature with
 * rsa/sig_hash, and parses SEQ, SA and KD. */
int gdoi_push_open(const uint8_t *msg, size_t len, const struct gdoi_kek *kek,
		   const struct crypto_rsa *rsa, int sig_hash, struct gdoi_push *out);
const char *gdoi_push_strerror(int err);

/* ack_key from the registration's SKEYID_a and phase 1 cookies. */
int gdoi_ack_key(const uint8_t *skeyid_a, size_t skeyid_a_len, const uint8_t icky[8],
		 const uint8_t rcky[8], uint8_t out[GDOI_ACK_KEY_LEN]);
/* Builds the whole ACK datagram into b. */
int gdoi_ack_build(struct gdoi_buf *b, const uint8_t kek_spi[16], uint32_t seq,
		   const struct gdoi_id *id, const uint8_t ack_key[GDOI_ACK_KEY_LEN]);
/* Parses an ACK: cookies (the KEK SPI), SEQ and ID, without checking the
 * hash (the receiver looks the key up first). 0 or -1. */
int gdoi_ack_parse(const uint8_t *msg, size_t len, uint8_t kek_spi[16], uint32_t *seq,
		   struct gdoi_id *id);
/* 0 when HASH verifies under ack_key, -1 otherwise (constant time). */
int gdoi_ack_verify(const uint8_t *msg, size_t len, const uint8_t ack_key[GDOI_ACK_KEY_LEN]);

#endif
