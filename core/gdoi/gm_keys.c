/* SPDX-License-Identifier: BSD-2-Clause */
/* gm_keys.c: the group member's keys. The TEK table: a TEK moves
 * pending -> active -> old and goes when its lifetime ends or two newer
 * ones for its selector are held, driven by one timer per member
 * (gm.h says when each happens). KEKs: made from a key download, with
 * the server's public key and the signature hash, in the layouts both
 * wire profiles use (doc/interop.md). */
#include "config.h"
#include "core/gdoi/gm_int.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

const char *gm_tek_state_name(enum gm_tek_state s)
{
	switch (s) {
	case GM_TEK_PENDING: return "pending";
	case GM_TEK_ACTIVE: return "active";
	default: return "old";
	}
}

static int same_ident(const struct gdoi_ident *a, const struct gdoi_ident *b)
{
	return a->type == b->type && a->port == b->port && a->len == b->len &&
	       !memcmp(a->data, b->data, a->len);
}

static int same_selector(const struct gdoi_sa_tek *a, const struct gdoi_sa_tek *b)
{
	return a->ip_proto == b->ip_proto && same_ident(&a->src, &b->src) && same_ident(&a->dst, &b->dst);
}

static void tek_event(struct gm *m, enum gm_event_kind kind, const struct gm_tek *t, const char *reason)
{
	struct gm_event e = { .kind = kind, .tek = t, .reason = reason };
	gm_emit(m, &e);
}

void gm_tek_remove(struct gm *m, size_t i, const char *reason)
{
	char a[INET_ADDRSTRLEN];
	log_debug("gm", "%s: TEK 0x%08x removed (%s)", gm_local_str(m, a, sizeof(a)), m->teks[i].sa.spi,
		  reason);
	tek_event(m, GM_EV_TEK_REMOVED, &m->teks[i], reason);
	OPENSSL_cleanse(&m->teks[i], sizeof(m->teks[i]));
	memmove(&m->teks[i], &m->teks[i + 1], (m->n_tek - i - 1) * sizeof(*m->teks));
	m->n_tek--;
}

void gm_teks_clear(struct gm *m)
{
	if (m->teks)
		OPENSSL_cleanse(m->teks, m->n_tek * sizeof(*m->teks));
	free(m->teks);
	m->teks = NULL;
	m->n_tek = 0;
	loop_timer_cancel(&m->key_timer);
}

/* The newest TEK of a selector that is active protects outbound
 * traffic; the ones it replaces become old. */
static void tek_activate(struct gm *m, size_t i)
{
	struct gm_tek *t = &m->teks[i];
	t->state = GM_TEK_ACTIVE;
	for (size_t j = 0; j < m->n_tek; j++) {
		struct gm_tek *o = &m->teks[j];
		if (j == i || o->state != GM_TEK_ACTIVE || !same_selector(&o->sa, &t->sa))
			continue;
		if (o->order < t->order)
			o->state = GM_TEK_OLD;
		else
			t->state = GM_TEK_OLD;
	}
}

void gm_key_timer_arm(struct gm *m)
{
	uint64_t next = UINT64_MAX;
	for (size_t i = 0; i < m->n_tek; i++) {
		const struct gm_tek *t = &m->teks[i];
		if (t->state == GM_TEK_PENDING && t->activate_us < next)
			next = t->activate_us;
		if (t->expire_us < next)
			next = t->expire_us;
	}
	if (next == UINT64_MAX)
		loop_timer_cancel(&m->key_timer);
	else
		loop_timer_arm_at(&m->key_timer, next);
}

void gm_on_key_timer(struct loop_timer *tm GVPN_UNUSED, void *arg)
{
	struct gm *m = arg;
	uint64_t now = loop_now_us();
	/* Due activations in the order they were due, then expiries. */
	for (;;) {
		size_t best = m->n_tek;
		for (size_t i = 0; i < m->n_tek; i++) {
			const struct gm_tek *t = &m->teks[i];
			if (t->state == GM_TEK_PENDING && t->activate_us <= now && t->expire_us > now &&
			    (best == m->n_tek || t->activate_us < m->teks[best].activate_us))
				best = i;
		}
		if (best == m->n_tek)
			break;
		tek_activate(m, best);
		tek_event(m, GM_EV_TEK_ACTIVATED, &m->teks[best], NULL);
	}
	for (size_t i = 0; i < m->n_tek;) {
		if (m->teks[i].expire_us <= now)
			gm_tek_remove(m, i, "expired");
		else
			i++;
	}
	gm_key_timer_arm(m);
}

static const struct gdoi_keypkt *kd_find(const struct gdoi_kd *kd, uint8_t type, const uint8_t *spi,
					 size_t spi_len)
{
	for (size_t i = 0; i < kd->n; i++)
		if (kd->k[i].type == type && kd->k[i].spi_len == spi_len && !memcmp(kd->k[i].spi, spi, spi_len))
			return &kd->k[i];
	return NULL;
}

/* Adds the TEK of policy s with its key from kd, to be used after
 * delay_us; a TEK already held is left as it is. Keeps the two newest
 * per selector. */
static void tek_install(struct gm *m, const struct gdoi_sa_tek *s, const struct gdoi_kd *kd,
			uint64_t delay_us)
{
	char a[INET_ADDRSTRLEN];
	uint32_t be = htonl(s->spi);
	const struct gdoi_keypkt *k = kd_find(kd, GDOI_KD_TEK, (const uint8_t *)&be, 4);
	if (!k) {
		log_info("gm", "%s: TEK 0x%08x has no key in the key download; ignored",
			 gm_local_str(m, a, sizeof(a)), s->spi);
		return;
	}
	for (size_t i = 0; i < m->n_tek; i++)
		if (m->teks[i].sa.spi == s->spi && same_selector(&m->teks[i].sa, s))
			return;
	m->teks = xrealloc(m->teks, (m->n_tek + 1) * sizeof(*m->teks));
	size_t idx = m->n_tek++;
	struct gm_tek *t = &m->teks[idx];
	memset(t, 0, sizeof(*t));
	t->sa = *s;
	t->enc_key_len = k->alg_key_len < sizeof(t->enc_key) ? k->alg_key_len : sizeof(t->enc_key);
	memcpy(t->enc_key, k->alg_key, t->enc_key_len);
	t->integ_key_len = k->integ_key_len < sizeof(t->integ_key) ? k->integ_key_len : sizeof(t->integ_key);
	memcpy(t->integ_key, k->integ_key, t->integ_key_len);
	t->order = ++m->tek_order;
	t->installed_us = loop_now_us();
	t->activate_us = t->installed_us + delay_us;
	t->expire_us = s->lifetime ? t->installed_us + (uint64_t)s->lifetime * 1000000u : UINT64_MAX;
	t->state = GM_TEK_PENDING;
	if (!delay_us)
		tek_activate(m, idx);
	log_debug("gm", "%s: TEK 0x%08x installed, %s", gm_local_str(m, a, sizeof(a)), s->spi,
		  gm_tek_state_name(t->state));
	tek_event(m, GM_EV_TEK_INSTALLED, t, NULL);
	/* Older TEKs of the selector beyond the newest two go. */
	for (;;) {
		size_t n = 0, oldest = m->n_tek;
		for (size_t i = 0; i < m->n_tek; i++) {
			if (!same_selector(&m->teks[i].sa, s))
				continue;
			n++;
			if (oldest == m->n_tek || m->teks[i].order < m->teks[oldest].order)
				oldest = i;
		}
		if (n <= 2)
			break;
		gm_tek_remove(m, oldest, "superseded");
	}
	gm_key_timer_arm(m);
}

void gm_install_teks(struct gm *m, const struct gdoi_sa *sa, const struct gdoi_kd *kd,
			 uint64_t delay_us)
{
	for (size_t i = 0; i < sa->n_tek; i++)
		tek_install(m, &sa->tek[i], kd, delay_us);
}

static int sig_hash_of(uint16_t h)
{
	switch (h) {
	case GDOI_SIG_HASH_MD5: return CRYPTO_HASH_MD5;
	case GDOI_SIG_HASH_SHA1: return CRYPTO_HASH_SHA1;
	case GDOI_SIG_HASH_SHA256: return CRYPTO_HASH_SHA256;
	case GDOI_SIG_HASH_SHA384: return CRYPTO_HASH_SHA384;
	case GDOI_SIG_HASH_SHA512: return CRYPTO_HASH_SHA512;
	default: return 0;
	}
}

static int kek_cipher_of(uint16_t alg)
{
	switch (alg) {
	case GDOI_KEK_ALG_DES: return CRYPTO_CIPHER_DES;
	case GDOI_KEK_ALG_3DES: return CRYPTO_CIPHER_3DES;
	case GDOI_KEK_ALG_AES: return CRYPTO_CIPHER_AES;
	default: return 0;
	}
}

static struct gm_kek *kek_other(struct gm *m, const struct gm_kek *k)
{
	return k == &m->kek ? &m->prev_kek : &m->kek;
}

void gm_kek_drop(struct gm *m, struct gm_kek *k)
{
	if (k->rsa && k->rsa != kek_other(m, k)->rsa)
		crypto_rsa_free(k->rsa);
	OPENSSL_cleanse(k, sizeof(*k));
}

/* The KEK key packet for SA KEK s: the one labelled with its SPI, or
 * (gdoid names a new KEK's key by the KEK that sealed the push) the one
 * labelled with the SPI of the KEK held now. */
static const struct gdoi_keypkt *kek_packet(const struct gm *m, const struct gdoi_sa_kek *s,
					    const struct gdoi_kd *kd)
{
	const struct gdoi_keypkt *k = kd_find(kd, GDOI_KD_KEK, s->spi, 16);
	if (!k && m->kek.valid)
		k = kd_find(kd, GDOI_KD_KEK, m->kek.k.spi, 16);
	return k;
}

/* KEK_ALGORITHM_KEY is the key alone (RFC 6407 5.6.2.1 as we read it)
 * or IV | key (RFC 3547, gdoid, TrustCore); the KEK's algorithm and key
 * length tell which (gdoid's AES IV is as long as the key). Sets iv and
 * returns the key's offset, or -1. */
static long kek_key_layout(const struct gdoi_keypkt *k, int cipher, size_t key_len, uint8_t *iv)
{
	size_t block = crypto_cipher_block(cipher);
	size_t iv_len = cipher == CRYPTO_CIPHER_AES ? key_len : block;

	if (k->alg_key_len == key_len)
		return 0;
	if (iv_len <= CRYPTO_MAX_BLOCK && k->alg_key_len == iv_len + key_len) {
		memcpy(iv, k->alg_key, block);
		return (long)iv_len;
	}
	return -1;
}

/* The KEK that SA KEK s (of a policy read with profile) names, with its
 * key from kd; the server's public key from kd, else (a rekey that keeps
 * it) the current KEK's. */
int gm_kek_from(struct gm *m, const struct gdoi_sa_kek *s, int profile, const struct gdoi_kd *kd,
		    struct gm_kek *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	const struct gdoi_keypkt *k = kek_packet(m, s, kd);
	int cipher = kek_cipher_of(s->alg);
	unsigned bits = cipher == CRYPTO_CIPHER_AES ? s->key_bits : 0;
	size_t key_len = crypto_cipher_key_len(cipher, bits);
	long at = -1;
	*why = NULL;
	if (!k)
		*why = "no KEK key packet for its SPI";
	else if (!key_len || key_len > sizeof(out->k.key) ||
		 (at = kek_key_layout(k, cipher, key_len, out->k.iv)) < 0)
		*why = "unknown algorithm or a key of the wrong length";
	else if (profile == GDOI_PROFILE_GDOID && at == 0)
		*why = "the gdoid profile needs the static IV with the key";
	else if (!sig_hash_of(s->sig_hash))
		*why = "unknown signature hash";
	if (*why)
		return -1;
	if (k->sig_key_len) {
		out->rsa = crypto_rsa_from_public_der(k->sig_key, k->sig_key_len);
		if (!out->rsa) {
			*why = "the server's public key does not parse";
			return -1;
		}
	} else if (m->kek.valid && m->kek.rsa) {
		out->rsa = m->kek.rsa;
	} else {
		*why = "no server public key";
		return -1;
	}
	memcpy(out->k.spi, s->spi, 16);
	out->k.cipher = cipher;
	out->k.key_bits = bits;
	out->k.profile = profile;
	memcpy(out->k.key, k->alg_key + at, key_len);
	out->k.key_len = key_len;
	out->sig_hash = sig_hash_of(s->sig_hash);
	out->ack_requested = s->ack_requested;
	out->valid = 1;
	return 0;
}
