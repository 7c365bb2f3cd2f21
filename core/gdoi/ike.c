/* SPDX-License-Identifier: BSD-2-Clause */
/* ike.c: IKEv1 Main Mode with pre-shared keys, both roles, and the
 * encryption helpers for exchanges protected by the phase 1 SA.
 *
 *   1  I->R  HDR, SA
 *   2  R->I  HDR, SA                     (one transform of the offer)
 *   3  I->R  HDR, KE, Ni
 *   4  R->I  HDR, KE, Nr
 *   5  I->R  HDR*, IDii, HASH_I
 *   6  R->I  HDR*, IDir, HASH_R
 *
 * HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
 * HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
 * (RFC 2409 section 5). The responder picks the pre-shared key by the
 * peer's address before message 5 can be read; when several keys are
 * possible it tries each against HASH_I. */
#include "config.h"
#include "core/gdoi/ike.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define IKE_MAX_PSK_TRIES 16

static const char *const state_names[] = {
	[IKE_NEW] = "NEW", [IKE_I_SA_SENT] = "I-SA-SENT", [IKE_I_KE_SENT] = "I-KE-SENT",
	[IKE_I_AUTH_SENT] = "I-AUTH-SENT", [IKE_R_SA_SENT] = "R-SA-SENT",
	[IKE_R_KE_SENT] = "R-KE-SENT", [IKE_ESTABLISHED] = "ESTABLISHED",
	[IKE_FAILED] = "FAILED",
};

const char *ike_state_name(enum ike_state s)
{
	if ((unsigned)s >= ARRAY_SIZE(state_names) || !state_names[s])
		return "?";
	return state_names[s];
}

void ike_proposal_str(const struct ike_proposal *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/%s", crypto_cipher_name(p->cipher, p->key_bits),
		 crypto_hash_name(p->hash), crypto_dh_name(p->group));
}

int ike_proposal_weak(const struct ike_proposal *p)
{
	return crypto_cipher_weak(p->cipher) || crypto_hash_weak(p->hash) || crypto_dh_weak(p->group);
}

void ike_sa_init(struct ike_sa *sa, int initiator, const struct sockaddr *peer, socklen_t len)
{
	memset(sa, 0, sizeof(*sa));
	sa->initiator = initiator;
	if (initiator)
		ike_set_p1_doi(sa, GDOI_DOI);
	else
		sa->doi = ISAKMP_DOI_IPSEC; /* for notifies until message 1 names one */
	if (peer && len <= sizeof(sa->peer))
		memcpy(&sa->peer, peer, len);
}

void ike_sa_free(struct ike_sa *sa)
{
	crypto_dh_free(sa->dh);
	free(sa->sai_b);
	free(sa->last_in);
	free(sa->last_out);
	secret_free(sa->psk);
	crypto_ike_keys_wipe(&sa->keys);
	OPENSSL_cleanse(sa, sizeof(*sa));
}

static int vwhy(struct ike_sa *sa, int notify, const char *fmt, va_list ap) GVPN_PRINTF(3, 0);
static int vwhy(struct ike_sa *sa, int notify, const char *fmt, va_list ap)
{
	vsnprintf(sa->error, sizeof(sa->error), fmt, ap);
	sa->notify = notify;
	return -1;
}

/* What is wrong, and the notify it would deserve; the state is the
 * caller's to change (fail) or keep (ignore). */
static int why(struct ike_sa *sa, int notify, const char *fmt, ...) GVPN_PRINTF(3, 4);
static int why(struct ike_sa *sa, int notify, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwhy(sa, notify, fmt, ap);
	va_end(ap);
	return -1;
}

static int fail(struct ike_sa *sa, int notify, const char *fmt, ...) GVPN_PRINTF(3, 4);
static int fail(struct ike_sa *sa, int notify, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwhy(sa, notify, fmt, ap);
	va_end(ap);
	sa->state = IKE_FAILED;
	return -1;
}

/* A datagram that does not belong to the exchange (stale, spoofed,
 * malformed): refused without touching the SA, so anyone who can see the
 * cookies cannot tear down an exchange or an established SA with one
 * packet. */
static int ignore(struct ike_sa *sa, const char *what)
{
	snprintf(sa->error, sizeof(sa->error), "%s", what);
	sa->notify = 0;
	return -1;
}

static void put_hdr(const struct ike_sa *sa, struct gdoi_buf *out, uint8_t exch, uint8_t flags,
		    uint32_t msgid)
{
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = exch, .flags = flags, .msgid = msgid };
	memcpy(h.icookie, sa->icky, 8);
	memcpy(h.rcookie, sa->rcky, 8);
	gdoi_put_hdr(out, &h);
}

/* ---- SA offer and choice -------------------------------------------------- */

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

static int same_suite(const struct gdoi_p1_transform *t, const struct ike_proposal *p)
{
	return t->cipher == p->cipher && t->key_bits == p->key_bits && t->hash == p->hash &&
	       t->group == p->group && t->auth == OAKLEY_AUTH_PSK;
}

static int supported(const struct gdoi_p1_transform *t)
{
	return crypto_hash_len(t->hash) && crypto_cipher_key_len(t->cipher, t->key_bits) &&
	       crypto_dh_pub_len(t->group);
}

int ike_set_p1_doi(struct ike_sa *sa, uint32_t doi)
{
	if (doi != GDOI_DOI && doi != ISAKMP_DOI_IPSEC)
		return -1;
	sa->doi = doi;
	sa->situation = doi == GDOI_DOI ? 0 : ISAKMP_SIT_IDENTITY_ONLY;
	return 0;
}

static void put_sa(const struct ike_sa *ike, struct gdoi_buf *out, const struct ike_proposal *props,
		   size_t n)
{
	struct gdoi_p1_sa sa = { .doi = ike->doi, .situation = ike->situation, .proposal = 1, .n = n };
	for (size_t i = 0; i < n; i++)
		to_transform(&props[i], (uint8_t)(i + 1), &sa.t[i]);
	gdoi_put_p1_sa(out, &sa);
}

/* The responder's pick while the offer is walked: the first transform,
 * in the initiator's order, that is supported and allowed. */
struct choice {
	const struct ike_proposal *allowed;
	size_t n_allowed;
	size_t n_seen, n_props;
	const struct ike_proposal *which;   /* NULL: none yet */
	struct gdoi_p1_prop p;
	struct gdoi_p1_transform t;
};

static void consider(void *arg, const struct gdoi_p1_prop *p, const struct gdoi_p1_transform *t)
{
	struct choice *ch = arg;
	ch->n_seen++;
	ch->n_props = p->index + 1;
	if (ch->which || !supported(t))
		return;
	for (size_t j = 0; j < ch->n_allowed; j++) {
		if (same_suite(t, &ch->allowed[j])) {
			ch->which = &ch->allowed[j];
			ch->p = *p;
			ch->t = *t;
			return;
		}
	}
}

/* The body of the last payload added to b (the SA just written). */
static void save_last_body(const struct gdoi_buf *b, size_t start, uint8_t **dst, size_t *len)
{
	*len = b->len - start - 4;
	*dst = xmalloc(*len);
	memcpy(*dst, b->data + start + 4, *len);
}

/* ---- keys and hashes -------------------------------------------------------- */

static int derive(struct ike_sa *sa, const char *psk)
{
	if (crypto_ike_keys_psk(&sa->keys, sa->prop.hash, sa->prop.cipher, sa->prop.key_bits, psk,
				strlen(psk), sa->ni, sa->ni_len, sa->nr, sa->nr_len, sa->gxy,
				sa->gxy_len, sa->icky, sa->rcky) < 0)
		return -1;
	size_t ivlen;
	if (crypto_ike_iv_phase1(sa->prop.hash, sa->prop.cipher, sa->gxi, sa->gx_len, sa->gxr,
				 sa->gx_len, sa->iv, &ivlen) < 0)
		return -1;
	sa->block = ivlen;
	return 0;
}

/* HASH_I (initiator = 1) or HASH_R over an ID payload body. */
static int auth_hash(const struct ike_sa *sa, int of_initiator, const uint8_t *id_b, size_t id_len,
		     uint8_t *out)
{
	const uint8_t *g1 = of_initiator ? sa->gxi : sa->gxr;
	const uint8_t *g2 = of_initiator ? sa->gxr : sa->gxi;
	const uint8_t *c1 = of_initiator ? sa->icky : sa->rcky;
	const uint8_t *c2 = of_initiator ? sa->rcky : sa->icky;
	struct crypto_iov iov[] = {
		{ g1, sa->gx_len }, { g2, sa->gx_len }, { c1, 8 }, { c2, 8 },
		{ sa->sai_b, sa->sai_b_len }, { id_b, id_len },
	};
	return crypto_prf(sa->keys.hash, sa->keys.skeyid, sa->keys.hash_len, iov, ARRAY_SIZE(iov), out);
}

/* ID then HASH, encrypted with the running phase 1 IV. */
static int put_auth(struct ike_sa *sa, struct gdoi_buf *out, const struct gdoi_id *id)
{
	put_hdr(sa, out, ISAKMP_EXCH_MAIN, ISAKMP_FLAG_ENC, 0);
	size_t start = out->len;
	gdoi_put_id(out, id);
	const uint8_t *id_b = out->data + start + 4;
	size_t id_len = out->len - start - 4;
	uint8_t h[CRYPTO_MAX_HASH];
	if (auth_hash(sa, sa->initiator, id_b, id_len, h) < 0)
		return -1;
	gdoi_put_payload(out, ISAKMP_NP_HASH, h, sa->keys.hash_len);
	ike_plain_hook(sa, out->data, out->len - ISAKMP_HDR_LEN, 0);
	return ike_seal(sa, out, sa->iv);
}

/* ---- sealing and opening ------------------------------------------------------ */

int ike_seal(const struct ike_sa *sa, struct gdoi_buf *b, uint8_t *iv)
{
	if (!sa->block || b->len < ISAKMP_HDR_LEN)
		return -1; /* no keys yet */
	size_t body = b->len - ISAKMP_HDR_LEN;
	size_t pad = (sa->block - body % sa->block) % sa->block;
	for (size_t i = 0; i < pad; i++)
		gdoi_put_u8(b, 0);
	b->data[19] |= ISAKMP_FLAG_ENC;
	gdoi_finish(b);
	return crypto_cbc_encrypt(sa->keys.cipher, sa->keys.enc_key, sa->keys.enc_key_len, iv,
				  b->data + ISAKMP_HDR_LEN, b->len - ISAKMP_HDR_LEN);
}

int ike_open(const struct ike_sa *sa, const uint8_t *msg, size_t len, uint8_t *iv, uint8_t **plain)
{
	*plain = NULL;
	if (len < ISAKMP_HDR_LEN || !(msg[19] & ISAKMP_FLAG_ENC) || !sa->block ||
	    (len - ISAKMP_HDR_LEN) % sa->block || len == ISAKMP_HDR_LEN)
		return -1;
	uint8_t *p = xmalloc(len);
	memcpy(p, msg, len);
	if (crypto_cbc_decrypt(sa->keys.cipher, sa->keys.enc_key, sa->keys.enc_key_len, iv,
			       p + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN) < 0) {
		free(p);
		return -1;
	}
	*plain = p;
	return 0;
}

void ike_plain_hook(const struct ike_sa *sa, const uint8_t *msg, size_t used, int inbound)
{
	if (!sa->plain_hook)
		return;
	size_t len = ISAKMP_HDR_LEN + used;
	uint8_t *copy = xmalloc(len);
	memcpy(copy, msg, len);
	copy[19] &= (uint8_t)~ISAKMP_FLAG_ENC;
	copy[24] = (uint8_t)(len >> 24);
	copy[25] = (uint8_t)(len >> 16);
	copy[26] = (uint8_t)(len >> 8);
	copy[27] = (uint8_t)len;
	sa->plain_hook(sa->hook_arg, copy, len, inbound);
	OPENSSL_cleanse(copy, len);
	free(copy);
}

int ike_exchange_iv(const struct ike_sa *sa, uint32_t msgid, uint8_t *iv)
{
	uint8_t mid[4] = { (uint8_t)(msgid >> 24), (uint8_t)(msgid >> 16), (uint8_t)(msgid >> 8),
			   (uint8_t)msgid };
	size_t len;
	return crypto_ike_iv_exchange(sa->keys.hash, sa->keys.cipher, sa->p1_last, sa->block, mid,
				      iv, &len);
}

int ike_hash_a(const struct ike_sa *sa, uint32_t msgid, const struct crypto_iov *prefix,
	       size_t n_prefix, const uint8_t *covered, size_t covered_len, uint8_t *out)
{
	struct crypto_iov iov[8];
	uint8_t mid[4] = { (uint8_t)(msgid >> 24), (uint8_t)(msgid >> 16), (uint8_t)(msgid >> 8),
			   (uint8_t)msgid };
	if (n_prefix > 6)
		return -1;
	iov[0] = (struct crypto_iov){ mid, 4 };
	for (size_t i = 0; i < n_prefix; i++)
		iov[i + 1] = prefix[i];
	iov[n_prefix + 1] = (struct crypto_iov){ covered, covered_len };
	return crypto_prf(sa->keys.hash, sa->keys.skeyid_a, sa->keys.hash_len, iov, n_prefix + 2, out);
}

int ike_check_hash_a(const struct ike_sa *sa, uint32_t msgid, const struct crypto_iov *prefix,
		     size_t n_prefix, const struct gdoi_chain *c, const uint8_t *chain_start)
{
	if (!c->n || c->p[0].type != ISAKMP_NP_HASH || c->p[0].len != sa->keys.hash_len)
		return -1;
	const uint8_t *after = c->p[0].raw + c->p[0].raw_len;
	uint8_t h[CRYPTO_MAX_HASH];
	if (ike_hash_a(sa, msgid, prefix, n_prefix, after, (size_t)(chain_start + c->used - after), h) < 0)
		return -1;
	return CRYPTO_memcmp(h, c->p[0].body, c->p[0].len) ? -1 : 0;
}

/* ---- the exchange ---------------------------------------------------------------- */

int ike_initiator_start(struct ike_sa *sa, const struct ike_proposal *props, size_t n,
			const char *psk, const struct gdoi_id *id, struct gdoi_buf *out)
{
	if (!n || n > IKE_MAX_PROPOSALS)
		return fail(sa, 0, "no IKE proposal to offer");
	crypto_random(sa->icky, 8);
	memcpy(sa->offer, props, n * sizeof(*props));
	sa->n_offer = n;
	sa->psk = xstrdup(psk);
	sa->id_local = *id;
	put_hdr(sa, out, ISAKMP_EXCH_MAIN, 0, 0);
	size_t start = out->len;
	put_sa(sa, out, props, n);
	save_last_body(out, start, &sa->sai_b, &sa->sai_b_len);
	gdoi_finish(out);
	sa->state = IKE_I_SA_SENT;
	return 0;
}

static int put_ke_nonce(struct ike_sa *sa, struct gdoi_buf *out)
{
	uint8_t *mine = sa->initiator ? sa->gxi : sa->gxr;
	uint8_t *nonce = sa->initiator ? sa->ni : sa->nr;
	size_t *nonce_len = sa->initiator ? &sa->ni_len : &sa->nr_len;
	sa->dh = crypto_dh_new(sa->prop.group);
	if (!sa->dh || crypto_dh_public(sa->dh, mine, &sa->gx_len) < 0)
		return fail(sa, 0, "cannot create a %s key pair", crypto_dh_name(sa->prop.group));
	*nonce_len = IKE_NONCE_LEN;
	crypto_random(nonce, IKE_NONCE_LEN);
	put_hdr(sa, out, ISAKMP_EXCH_MAIN, 0, 0);
	gdoi_put_payload(out, ISAKMP_NP_KE, mine, sa->gx_len);
	gdoi_put_payload(out, ISAKMP_NP_NONCE, nonce, *nonce_len);
	gdoi_finish(out);
	return 0;
}

/* The peer's KE and NONCE when both are there with lengths we take;
 * -1 (error and notify set, state unchanged) otherwise. */
static int check_ke_nonce(struct ike_sa *sa, const struct gdoi_chain *c,
			  const struct gdoi_payload **kep, const struct gdoi_payload **nop)
{
	const struct gdoi_payload *ke = *kep = gdoi_chain_find(c, ISAKMP_NP_KE);
	const struct gdoi_payload *no = *nop = gdoi_chain_find(c, ISAKMP_NP_NONCE);
	if (!ke || !no)
		return why(sa, ISAKMP_N_INVALID_PAYLOAD_TYPE, "message without KE or NONCE");
	if (ke->len != crypto_dh_pub_len(sa->prop.group))
		return why(sa, 0, "KE of %zu bytes for %s (want %zu)", ke->len,
			   crypto_dh_name(sa->prop.group), crypto_dh_pub_len(sa->prop.group));
	if (no->len < 8 || no->len > 256)
		return why(sa, 0, "nonce of %zu bytes (allowed 8..256)", no->len);
	return 0;
}

/* KE and NONCE of the peer (checked): its public value and nonce. */
static void take_ke_nonce(struct ike_sa *sa, const struct gdoi_payload *ke,
			  const struct gdoi_payload *no)
{
	uint8_t *theirs = sa->initiator ? sa->gxr : sa->gxi;
	memcpy(theirs, ke->body, ke->len);
	if (sa->initiator) {
		memcpy(sa->nr, no->body, no->len);
		sa->nr_len = no->len;
	} else {
		memcpy(sa->ni, no->body, no->len);
		sa->ni_len = no->len;
		sa->gx_len = ke->len;
	}
}

static int shared(struct ike_sa *sa)
{
	const uint8_t *theirs = sa->initiator ? sa->gxr : sa->gxi;
	if (crypto_dh_shared(sa->dh, theirs, sa->gx_len, sa->gxy, &sa->gxy_len) < 0)
		return fail(sa, 0, "bad Diffie-Hellman public value from the peer");
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Message 1's DOI and situation, in the order of RFC 2408 5.4: the DOI
 * first (the layout of the situation depends on it), then the situation.
 * The IPsec DOI's secrecy and integrity situations (RFC 2407 4.2) carry
 * labelled domains that nothing here would honour. */
static int take_doi(struct ike_sa *sa, const uint8_t *body)
{
	uint32_t doi = be32(body), sit = be32(body + 4);
	if (doi != ISAKMP_DOI_IPSEC && doi != GDOI_DOI)
		return fail(sa, ISAKMP_N_DOI_NOT_SUPPORTED,
			    "phase 1 SA with DOI %u (supported: 1 IPsec, 2 GDOI)", doi);
	sa->doi = doi;
	uint32_t want = doi == GDOI_DOI ? 0 : ISAKMP_SIT_IDENTITY_ONLY;
	if (sit != want)
		return fail(sa, ISAKMP_N_SITUATION_NOT_SUPPORTED,
			    "phase 1 SA with DOI %u and situation %#x (supported: %#x)", doi, sit, want);
	sa->situation = sit;
	return 0;
}

/* Responder, message 1: choose the first offered transform we allow and
 * answer with it alone, in its own proposal (RFC 2409 5). An SA that
 * cannot be read gets PAYLOAD-MALFORMED: of the types of RFC 2408 3.14.1
 * it is the one for a payload whose contents are inconsistent (lengths,
 * counts, chains); INVALID-PAYLOAD-TYPE is for a Next Payload value that
 * is unknown or not allowed (5.2), which is not the fault here. An SA
 * that is well formed but offers nothing we allow gets
 * NO-PROPOSAL-CHOSEN, so the peer can tell "fix your parser" from "fix
 * your configuration". */
static int r_msg1(struct ike_sa *sa, const struct isakmp_hdr *h, const struct gdoi_chain *c,
		  const struct ike_proposal *allowed, size_t n_allowed, struct gdoi_buf *out)
{
	const struct gdoi_payload *sap = gdoi_chain_find(c, ISAKMP_NP_SA);
	memcpy(sa->icky, h->icookie, 8);
	if (!sap)
		return fail(sa, ISAKMP_N_PAYLOAD_MALFORMED, "message 1 without an SA payload");
	if (sap->len < 8)
		return fail(sa, ISAKMP_N_PAYLOAD_MALFORMED, "message 1 with an SA payload of %zu bytes",
			    sap->len);
	if (take_doi(sa, sap->body) < 0)
		return -1;
	struct choice ch = { .allowed = allowed, .n_allowed = n_allowed };
	if (gdoi_p1_sa_walk(sap->body, sap->len, NULL, NULL, consider, &ch) < 0)
		return fail(sa, ISAKMP_N_PAYLOAD_MALFORMED,
			    "malformed SA payload in message 1 (%zu transforms in %zu proposals read; "
			    "at most %d proposals, %d transforms)",
			    ch.n_seen, ch.n_props, GDOI_P1_MAX_PROPOSALS, GDOI_P1_MAX_OFFER);
	if (!ch.which)
		return fail(sa, ISAKMP_N_NO_PROPOSAL_CHOSEN,
			    "none of the %zu transforms in %zu proposals offered is allowed", ch.n_seen,
			    ch.n_props);
	sa->prop = *ch.which;
	sa->prop.life_seconds = ch.t.life_seconds;
	sa->sai_b_len = sap->len;
	sa->sai_b = xmalloc(sap->len);
	memcpy(sa->sai_b, sap->body, sap->len);
	static const uint8_t zero[8];
	if (!memcmp(sa->rcky, zero, 8))
		crypto_random(sa->rcky, 8); /* none chosen by the caller */
	put_hdr(sa, out, ISAKMP_EXCH_MAIN, 0, 0);
	gdoi_put_p1_choice(out, sa->doi, sa->situation, &ch.p, &ch.t);
	gdoi_finish(out);
	sa->state = IKE_R_SA_SENT;
	return 1;
}

/* Decrypts message 5 or 6 with iv and checks its ID and HASH_I/HASH_R;
 * 0 when it verifies (id_peer set, iv advanced), -1 otherwise. */
static int open_auth(struct ike_sa *sa, const uint8_t *msg, size_t len, uint8_t *iv, int of_initiator)
{
	uint8_t *plain;
	if (ike_open(sa, msg, len, iv, &plain) < 0)
		return -1;
	struct gdoi_chain c;
	const struct gdoi_payload *idp = NULL, *hp = NULL;
	int ok = gdoi_chain_parse(plain[16], plain + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN, 1, &c) == 0;
	if (ok) {
		idp = gdoi_chain_find(&c, ISAKMP_NP_ID);
		hp = gdoi_chain_find(&c, ISAKMP_NP_HASH);
	}
	uint8_t h[CRYPTO_MAX_HASH];
	ok = ok && idp && hp && hp->len == sa->keys.hash_len &&
	     auth_hash(sa, of_initiator, idp->body, idp->len, h) == 0 &&
	     CRYPTO_memcmp(h, hp->body, hp->len) == 0 && gdoi_id_parse(idp->body, idp->len, &sa->id_peer) == 0;
	if (ok)
		ike_plain_hook(sa, plain, c.used, 1);
	OPENSSL_cleanse(plain, len);
	free(plain);
	return ok ? 0 : -1;
}

/* Responder, message 3: the peer's KE is checked before any
 * Diffie-Hellman of ours, and a message we cannot use is ignored (it
 * may be injected); the genuine one can still come. */
static int r_msg3(struct ike_sa *sa, const struct gdoi_chain *c, struct gdoi_buf *out)
{
	const struct gdoi_payload *ke, *no;
	if (check_ke_nonce(sa, c, &ke, &no) < 0) {
		sa->notify = 0;
		return -1;
	}
	if (crypto_dh_check_public(sa->prop.group, ke->body, ke->len) < 0)
		return ignore(sa, "message 3 with a KE that is not a valid public value");
	take_ke_nonce(sa, ke, no);
	if (put_ke_nonce(sa, out) < 0 || shared(sa) < 0)
		return -1;
	sa->state = IKE_R_KE_SENT;
	return 1;
}

/* A message 5 that no key opens: a member with a wrong key, or bytes
 * someone injected with the cookies. The member retransmits its message
 * unchanged, so the exchange fails when the same bytes fail again or
 * after IKE_MAX_AUTH_FAILURES different ones; until then it waits. */
static int r_msg5_failed(struct ike_sa *sa, const uint8_t *msg, size_t len)
{
	uint8_t d[32];
	struct crypto_iov iov = { msg, len };
	if (crypto_hash(CRYPTO_HASH_SHA256, &iov, 1, d) < 0)
		return fail(sa, 0, "cannot hash message 5");
	int again = 0;
	for (unsigned i = 0; i < sa->auth_failures; i++)
		again |= !memcmp(sa->auth_failed[i], d, sizeof(d));
	if (!again)
		memcpy(sa->auth_failed[sa->auth_failures++], d, sizeof(d));
	if (again || sa->auth_failures >= IKE_MAX_AUTH_FAILURES)
		return fail(sa, ISAKMP_N_AUTHENTICATION_FAILED,
			    "authentication failed: no pre-shared key for this peer matches (wrong PSK?)");
	return ignore(sa, "message 5 does not authenticate (wrong PSK or injected): waiting for its retransmission");
}

/* Responder, message 5: find the key whose HASH_I verifies. */
static int r_msg5(struct ike_sa *sa, const uint8_t *msg, size_t len, ike_psk_fn psk_fn, void *arg)
{
	size_t block = crypto_cipher_block(sa->prop.cipher);
	if (!block || len <= ISAKMP_HDR_LEN || (len - ISAKMP_HDR_LEN) % block)
		return ignore(sa, "message 5 is not a whole number of cipher blocks");
	for (size_t idx = 0; idx < IKE_MAX_PSK_TRIES; idx++) {
		const char *psk = psk_fn ? psk_fn(arg, (struct sockaddr *)&sa->peer, idx) : NULL;
		if (!psk)
			break;
		if (derive(sa, psk) < 0)
			return fail(sa, 0, "key derivation failed");
		uint8_t iv[CRYPTO_MAX_BLOCK];
		memcpy(iv, sa->iv, sizeof(iv));
		if (open_auth(sa, msg, len, iv, 1) == 0) {
			memcpy(sa->iv, iv, sizeof(iv));
			sa->psk = xstrdup(psk);
			return 1;
		}
	}
	/* no key yet: the keys of the last candidate go */
	crypto_ike_keys_wipe(&sa->keys);
	OPENSSL_cleanse(sa->iv, sizeof(sa->iv));
	sa->block = 0;
	return r_msg5_failed(sa, msg, len);
}

static int local_id_for(const struct ike_sa *sa, struct gdoi_id *id)
{
	memset(id, 0, sizeof(*id));
	id->type = ISAKMP_ID_KEY_ID;
	memcpy(id->data, "gvpn-agent", 10);
	id->len = 10;
	(void)sa;
	return 0;
}

static int responder(struct ike_sa *sa, const uint8_t *msg, size_t len, const struct isakmp_hdr *h,
		     const struct gdoi_chain *c, const struct ike_proposal *allowed, size_t n_allowed,
		     ike_psk_fn psk_fn, void *arg, struct gdoi_buf *out)
{
	switch (sa->state) {
	case IKE_NEW:
		return r_msg1(sa, h, c, allowed, n_allowed, out);
	case IKE_R_SA_SENT:
		return r_msg3(sa, c, out);
	case IKE_R_KE_SENT: {
		if (r_msg5(sa, msg, len, psk_fn, arg) < 0)
			return -1;
		local_id_for(sa, &sa->id_local);
		if (put_auth(sa, out, &sa->id_local) < 0)
			return fail(sa, 0, "cannot build message 6");
		memcpy(sa->p1_last, out->data + out->len - sa->block, sa->block);
		sa->state = IKE_ESTABLISHED;
		return 1;
	}
	default:
		return fail(sa, 0, "unexpected Main Mode message in state %s", ike_state_name(sa->state));
	}
}

static int i_msg2(struct ike_sa *sa, const struct gdoi_chain *c, struct gdoi_buf *out)
{
	const struct gdoi_payload *sap = gdoi_chain_find(c, ISAKMP_NP_SA);
	struct gdoi_p1_sa reply;
	if (!sap || gdoi_p1_sa_parse(sap->body, sap->len, &reply) < 0 || reply.n != 1)
		return fail(sa, 0, "message 2 without exactly one transform");
	if (reply.doi != sa->doi || reply.situation != sa->situation)
		return fail(sa, 0, "the server answered with DOI %u situation %#x (offered %u, %#x)",
			    reply.doi, reply.situation, sa->doi, sa->situation);
	for (size_t i = 0; i < sa->n_offer; i++) {
		if (same_suite(&reply.t[0], &sa->offer[i])) {
			sa->prop = sa->offer[i];
			if (put_ke_nonce(sa, out) < 0)
				return -1;
			sa->state = IKE_I_KE_SENT;
			return 1;
		}
	}
	return fail(sa, 0, "the server chose a transform that was not offered");
}

static int i_msg6(struct ike_sa *sa, const uint8_t *msg, size_t len)
{
	uint8_t last[CRYPTO_MAX_BLOCK];
	if (len < ISAKMP_HDR_LEN + sa->block)
		return fail(sa, 0, "message 6 is too short");
	memcpy(last, msg + len - sa->block, sa->block);
	if (open_auth(sa, msg, len, sa->iv, 0) < 0)
		return fail(sa, 0, "the server's HASH_R does not verify (wrong pre-shared key?)");
	memcpy(sa->p1_last, last, sa->block);
	sa->state = IKE_ESTABLISHED;
	return 0;
}

static int initiator(struct ike_sa *sa, const uint8_t *msg, size_t len, const struct isakmp_hdr *h,
		     const struct gdoi_chain *c, struct gdoi_buf *out)
{
	switch (sa->state) {
	case IKE_I_SA_SENT:
		memcpy(sa->rcky, h->rcookie, 8);
		return i_msg2(sa, c, out);
	case IKE_I_KE_SENT: {
		const struct gdoi_payload *ke, *no;
		if (check_ke_nonce(sa, c, &ke, &no) < 0) {
			sa->state = IKE_FAILED;
			return -1;
		}
		take_ke_nonce(sa, ke, no);
		if (shared(sa) < 0)
			return -1;
		if (derive(sa, sa->psk) < 0)
			return fail(sa, 0, "key derivation failed");
		if (put_auth(sa, out, &sa->id_local) < 0)
			return fail(sa, 0, "cannot build message 5");
		sa->state = IKE_I_AUTH_SENT;
		return 1;
	}
	case IKE_I_AUTH_SENT:
		return i_msg6(sa, msg, len);
	default:
		return fail(sa, 0, "unexpected Main Mode message in state %s", ike_state_name(sa->state));
	}
}

static void remember(struct ike_sa *sa, const uint8_t *msg, size_t len, const struct gdoi_buf *out, int rc)
{
	free(sa->last_in);
	free(sa->last_out);
	sa->last_in = xmalloc(len);
	memcpy(sa->last_in, msg, len);
	sa->last_in_len = len;
	sa->last_out = NULL;
	sa->last_out_len = 0;
	if (rc == 1) {
		sa->last_out = xmalloc(out->len);
		memcpy(sa->last_out, out->data, out->len);
		sa->last_out_len = out->len;
	}
}

int ike_input(struct ike_sa *sa, const uint8_t *msg, size_t len, const struct ike_proposal *allowed,
	      size_t n_allowed, ike_psk_fn psk_fn, void *psk_arg, struct gdoi_buf *out)
{
	if (sa->last_in && len == sa->last_in_len && !memcmp(msg, sa->last_in, len)) {
		if (!sa->last_out)
			return 0;
		gdoi_put_bytes(out, sa->last_out, sa->last_out_len);
		return 1; /* a retransmission: the same answer again */
	}
	if (sa->state == IKE_FAILED || sa->state == IKE_ESTABLISHED)
		return ignore(sa, "Main Mode message after the exchange ended");
	struct isakmp_hdr h;
	if (isakmp_hdr_parse(msg, len, &h) < 0 || h.exchange != ISAKMP_EXCH_MAIN)
		return ignore(sa, "not a Main Mode message");
	if (!sa->initiator && sa->state != IKE_NEW &&
	    (memcmp(h.icookie, sa->icky, 8) || memcmp(h.rcookie, sa->rcky, 8)))
		return ignore(sa, "not the cookies of this exchange (a responder cookie we did not send)");
	struct gdoi_chain c = { 0 };
	int encrypted = h.flags & ISAKMP_FLAG_ENC;
	if (!encrypted &&
	    gdoi_chain_parse(h.np, msg + ISAKMP_HDR_LEN, h.len - ISAKMP_HDR_LEN, 0, &c) < 0)
		return sa->state == IKE_NEW ? fail(sa, ISAKMP_N_INVALID_PAYLOAD_TYPE, "malformed payload chain")
					    : ignore(sa, "malformed payload chain");
	int expect_enc = sa->state == IKE_R_KE_SENT || sa->state == IKE_I_AUTH_SENT;
	if (encrypted != expect_enc)
		return ignore(sa, encrypted ? "an encrypted message where a plaintext one was due"
					    : "a plaintext message where an encrypted one was due");
	int rc = sa->initiator ? initiator(sa, msg, h.len, &h, &c, out)
			       : responder(sa, msg, h.len, &h, &c, allowed, n_allowed, psk_fn, psk_arg, out);
	if (rc >= 0)
		remember(sa, msg, len, out, rc);
	return rc;
}
