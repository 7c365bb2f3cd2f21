/* SPDX-License-Identifier: BSD-2-Clause */
/* ike.h: IKEv1 phase 1, Main Mode with pre-shared keys (RFC 2409 section
 * 5, RFC 2408), as the responder (the key server) and the initiator (a
 * group member), and the encryption of later exchanges under the phase 1
 * SA (GROUPKEY-PULL). Transport-free: callers feed received datagrams in
 * and send what comes out, so the same code runs in the daemon, in
 * gvpn-member and in unit tests.
 *
 * Ownership: an ike_sa owns its DH key, nonces, keys and PSK copy;
 * ike_sa_free() wipes them. */
#ifndef GVPN_IKE_H
#define GVPN_IKE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/crypto.h"
#include "core/gdoi/gdoi.h"

struct ike_proposal {
	int cipher;          /* enum crypto_cipher */
	unsigned key_bits;   /* AES: 128/192/256; else 0 */
	int hash;            /* enum crypto_hash */
	int group;           /* enum crypto_dh_group */
	uint32_t life_seconds;
};

enum ike_state {
	IKE_NEW = 0,         /* nothing sent or received yet */
	IKE_I_SA_SENT,       /* initiator: sent 1, waits for 2 */
	IKE_I_KE_SENT,       /* sent 3, waits for 4 */
	IKE_I_AUTH_SENT,     /* sent 5, waits for 6 */
	IKE_R_SA_SENT,       /* responder: sent 2, waits for 3 */
	IKE_R_KE_SENT,       /* sent 4, waits for 5 */
	IKE_ESTABLISHED,
	IKE_FAILED,
};

/* What the responder asks its owner: the idx-th candidate pre-shared key
 * for a peer (by address first, then others), NULL when none is left. */
typedef const char *(*ike_psk_fn)(void *arg, const struct sockaddr *peer, size_t idx);

#define IKE_NONCE_LEN 32
#define IKE_MAX_PROPOSALS 8
#define IKE_MAX_AUTH_FAILURES 3

struct ike_sa {
	int initiator;
	enum ike_state state;
	uint8_t icky[8], rcky[8];
	struct sockaddr_storage peer;
	/* Phase 1 SA DOI and situation. Initiator: what it offers (GDOI_DOI
	 * and 0 after ike_sa_init(); see ike_set_p1_doi()). Responder: the
	 * peer's once message 1 has named a supported one, ISAKMP_DOI_IPSEC
	 * before. Phase 1 notifies are sent with this DOI. */
	uint32_t doi, situation;
	struct ike_proposal prop;           /* chosen */
	struct ike_proposal offer[IKE_MAX_PROPOSALS]; /* initiator: what it offered */
	size_t n_offer;
	uint8_t *sai_b;                     /* initiator's SA payload body */
	size_t sai_b_len;
	struct crypto_dh *dh;
	uint8_t gxi[CRYPTO_MAX_DH], gxr[CRYPTO_MAX_DH];
	size_t gx_len;
	uint8_t ni[256], nr[256];
	size_t ni_len, nr_len;
	uint8_t gxy[CRYPTO_MAX_DH];
	size_t gxy_len;
	struct crypto_ike_keys keys;
	size_t block;
	uint8_t iv[CRYPTO_MAX_BLOCK];       /* running phase 1 IV */
	uint8_t p1_last[CRYPTO_MAX_BLOCK];  /* last CBC block of message 6 */
	char *psk;                          /* the key that authenticated */
	struct gdoi_id id_local, id_peer;
	/* the last datagram in and our answer to it, to answer duplicates */
	uint8_t *last_in, *last_out;
	size_t last_in_len, last_out_len;
	/* Debugging: called with each decrypted message (E flag cleared,
	 * padding removed), inbound or outbound. */
	void (*plain_hook)(void *arg, const uint8_t *msg, size_t len, int inbound);
	void *hook_arg;
	char error[160];                    /* why it failed, for logs and events */
	int notify;                         /* ISAKMP notify type to send back, 0: none */
	/* Responder: message 5s that failed to authenticate (SHA-256 of
	 * each). An injected datagram and a member with a wrong key look
	 * alike, so the exchange fails only when the same bytes fail again
	 * (the member's retransmission) or after IKE_MAX_AUTH_FAILURES
	 * different ones. */
	unsigned auth_failures;
	uint8_t auth_failed[IKE_MAX_AUTH_FAILURES][32];
};

void ike_sa_init(struct ike_sa *sa, int initiator, const struct sockaddr *peer, socklen_t len);
void ike_sa_free(struct ike_sa *sa);

/* Initiator: the DOI of the phase 1 SA it offers, with its situation:
 * GDOI_DOI with 0 (the default; gdoid accepts nothing else) or
 * ISAKMP_DOI_IPSEC with SIT_IDENTITY_ONLY (RFC 2407 4.2, as TrustCore
 * sends). 0 when set, -1 (nothing changed) for another DOI. Between
 * ike_sa_init() and ike_initiator_start(). */
int ike_set_p1_doi(struct ike_sa *sa, uint32_t doi);

/* Initiator: message 1 into out. id is what message 5 carries. */
int ike_initiator_start(struct ike_sa *sa, const struct ike_proposal *props, size_t n,
			const char *psk, const struct gdoi_id *id, struct gdoi_buf *out);

/* Feeds a received Main Mode datagram. Returns 1 with a reply in out, 0
 * when nothing is to be sent (state may now be IKE_ESTABLISHED), -1 when
 * the datagram is refused (sa->error says why). The exchange has failed
 * only if sa->state is then IKE_FAILED (sa->notify may name a notify to
 * send); otherwise the datagram was ignored and the SA is unchanged.
 * The responder's first call is with message 1 (rcky all zero): it
 * takes DOI 1 (SIT_IDENTITY_ONLY) or 2 (situation 0), any number of
 * proposals up to GDOI_P1_MAX_PROPOSALS and GDOI_P1_MAX_OFFER transforms,
 * and answers with the first allowed transform in the peer's order,
 * under sa->rcky when the caller set it before (else a random one).
 * Every later message must carry that responder cookie. A message 3
 * that cannot be used (no KE or NONCE, a bad KE or nonce) and a message
 * 5 that is not whole blocks are ignored, so one injected datagram
 * cannot end the exchange; no Diffie-Hellman is computed before the KE
 * is checked. A datagram equal to the last one received gets the last
 * reply again. */
int ike_input(struct ike_sa *sa, const uint8_t *msg, size_t len, const struct ike_proposal *allowed,
	      size_t n_allowed, ike_psk_fn psk_fn, void *psk_arg, struct gdoi_buf *out);

/* ---- later exchanges under the established phase 1 SA ------------------- */

/* The first IV of an exchange with message id msgid (RFC 2409 appendix B). */
int ike_exchange_iv(const struct ike_sa *sa, uint32_t msgid, uint8_t *iv);
/* Pads the payloads after the header of b to the block size with zeros,
 * encrypts them with iv (updated to the last block), sets the E flag and
 * the length. */
int ike_seal(const struct ike_sa *sa, struct gdoi_buf *b, uint8_t *iv);
/* Decrypts msg (E flag set, body a multiple of the block) into a new
 * buffer *plain of the same length (header copied); iv updated to the
 * last ciphertext block. */
int ike_open(const struct ike_sa *sa, const uint8_t *msg, size_t len, uint8_t *iv,
	     uint8_t **plain);
/* Calls sa->plain_hook (if any) with a copy of msg whose E flag is
 * cleared and whose length is ISAKMP_HDR_LEN + used. */
void ike_plain_hook(const struct ike_sa *sa, const uint8_t *msg, size_t used, int inbound);
/* prf(SKEYID_a, M-ID | prefix... | covered): the HASH(n) of GROUPKEY-PULL
 * and informational exchanges. */
int ike_hash_a(const struct ike_sa *sa, uint32_t msgid, const struct crypto_iov *prefix,
	       size_t n_prefix, const uint8_t *covered, size_t covered_len, uint8_t *out);

/* Checks that chain c (parsed from chain_start) begins with a HASH payload
 * equal to ike_hash_a(msgid, prefix | everything after that payload).
 * 0 when it does, -1 otherwise. */
int ike_check_hash_a(const struct ike_sa *sa, uint32_t msgid, const struct crypto_iov *prefix,
		     size_t n_prefix, const struct gdoi_chain *c, const uint8_t *chain_start);

const char *ike_state_name(enum ike_state s);
/* "aes-256-cbc/sha-256/modp-2048" */
void ike_proposal_str(const struct ike_proposal *p, char *buf, size_t len);
int ike_proposal_weak(const struct ike_proposal *p);

#endif
