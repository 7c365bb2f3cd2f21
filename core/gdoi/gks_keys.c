/* SPDX-License-Identifier: BSD-2-Clause */
/* gks_keys.c: the key server's key state. Makes each group's KEK and
 * TEKs and replaces them at a rekey (the old TEKs linger as "old" until
 * their lifetimes end), hands out SEQ numbers inside durable
 * reservations, and loads or creates the push signing key. What must
 * outlive the process (SEQ reservations; keys, with a back end that
 * keeps them) goes through the store of gks_store.h and nowhere else.
 * Every stack copy of new key material is wiped before it goes out of
 * scope. */
#include "config.h"
#include "core/gdoi/gks_int.h"
#include "core/ev.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

static struct gks_store *next_store;     /* gks_use_store() */

int gks_cipher_of(int enc, unsigned *bits)
{
	switch (enc) {
	case CFG_ENC_3DES_CBC: *bits = 0; return CRYPTO_CIPHER_3DES;
	case CFG_ENC_AES128_CBC: *bits = 128; return CRYPTO_CIPHER_AES;
	case CFG_ENC_AES192_CBC: *bits = 192; return CRYPTO_CIPHER_AES;
	case CFG_ENC_AES256_CBC: *bits = 256; return CRYPTO_CIPHER_AES;
	default: *bits = 0; return CRYPTO_CIPHER_DES;
	}
}

int gks_hash_of(int h)
{
	static const int map[] = { CRYPTO_HASH_MD5, CRYPTO_HASH_SHA1, CRYPTO_HASH_SHA256,
				   CRYPTO_HASH_SHA384, CRYPTO_HASH_SHA512 };
	return map[h];
}

static void spi_hex(const uint8_t *spi, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 3 <= outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%02x", spi[i]);
}

uint64_t gks_rekey_interval_us(const struct gks_group *g, uint32_t lifetime)
{
	long iv = (long)lifetime - 4 * g->cfg->activation_time_delay;
	return (uint64_t)(iv > 0 ? iv : 1) * 1000000u;
}

uint64_t gks_rekey_interval(long lifetime, long atd)
{
	long iv = lifetime - 4 * atd;
	return iv > 0 ? (uint64_t)iv : 1;
}

/* ---- SEQ ----------------------------------------------------------------------- */

uint32_t gks_seq_saved(long group_id)
{
	uint32_t upto = 0;
	if (G.store->ops->seq_load(G.store, group_id, &upto) < 0)
		return 0;
	return upto;
}

/* A new block of SEQ numbers for g (GKS_SEQ_BLOCK); 0 or -1. */
static int seq_reserve(struct gks_group *g)
{
	uint32_t first, last;
	if (G.store->ops->seq_reserve(G.store, g->cfg->group_id, g->seq, GKS_SEQ_BLOCK, &first, &last) < 0)
		return -1;
	g->seq = first - 1;
	g->seq_reserved = last;
	return 0;
}

/* The next SEQ of g, inside a durable reservation; 0 when none can be
 * saved (the caller sends nothing: a push with an unsaved SEQ could be
 * repeated after a restart). */
uint32_t gks_seq_next(struct gks_group *g)
{
	if (g->seq == UINT32_MAX)
		return 0;
	if (g->seq + 1 > g->seq_reserved) {
		if (seq_reserve(g) < 0) {
			G.st.seq_save_errors++;
			g->seq_blocked = 1;
			log_err("gks", "group %s: cannot save a SEQ reservation to %s (%s): no push goes out "
				       "until it can", g->cfg->name, G.store->ops->where(G.store), strerror(errno));
			return 0;
		}
		if (g->seq_blocked) {
			g->seq_blocked = 0;
			log_notice("gks", "group %s: SEQ reservation saved again; pushes resume", g->cfg->name);
		}
	}
	return ++g->seq;
}

/* ---- keys -------------------------------------------------------------------- */

struct esp_suite {
	uint8_t transform;
	uint16_t key_bits;
	size_t enc_len;
	uint16_t auth;
	size_t integ_len;
};

/* cfg_proposal_names order. */
static const struct esp_suite esp_suites[] = {
	{ GDOI_ESP_AES, 256, 32, GDOI_AUTH_HMAC_SHA2_256, 32 },
	{ GDOI_ESP_AES, 256, 32, GDOI_AUTH_HMAC_SHA1, 20 },
	{ GDOI_ESP_AES, 192, 24, GDOI_AUTH_HMAC_SHA2_256, 32 },
	{ GDOI_ESP_AES, 128, 16, GDOI_AUTH_HMAC_SHA2_256, 32 },
	{ GDOI_ESP_AES, 128, 16, GDOI_AUTH_HMAC_SHA1, 20 },
	{ GDOI_ESP_3DES, 0, 24, GDOI_AUTH_HMAC_SHA1, 20 },
	{ GDOI_ESP_3DES, 0, 24, GDOI_AUTH_HMAC_MD5, 16 },
	{ GDOI_ESP_DES, 0, 8, GDOI_AUTH_HMAC_MD5, 16 },
};

/* The parts of a TEK its policy decides. */
static void tek_suite(struct gks_tek *t, const struct cfg_ipsec_sa *pol)
{
	const struct esp_suite *s = &esp_suites[pol->proposal];
	t->pol = pol;
	str_copy(t->name, pol->name, sizeof(t->name));
	t->proposal = pol->proposal;
	t->transform = s->transform;
	t->key_bits = s->key_bits;
	t->auth_alg = s->auth;
	t->enc_len = s->enc_len;
	t->integ_len = s->integ_len;
	t->lifetime = (uint32_t)pol->lifetime_seconds;
}

/* activate_after_us: 0 for a TEK members use at once (first keys),
 * 2 x ATD for one pushed by a rekey. */
int gks_new_tek(struct gks_group *g, struct gks_tek *t, const struct cfg_ipsec_sa *pol, uint64_t activate_after_us)
{
	uint64_t now = loop_now_us();
	memset(t, 0, sizeof(*t));
	tek_suite(t, pol);
	t->index = ++g->tek_index;
	t->created_us = now;
	t->active_us = now + activate_after_us;
	t->due_us = now + gks_rekey_interval_us(g, t->lifetime);
	t->expires_us = now + (uint64_t)t->lifetime * 1000000u;
	do {
		if (crypto_random(&t->spi, sizeof(t->spi)) < 0)
			return -1;
	} while (t->spi < 256); /* SPIs 1-255 are reserved (RFC 4303 2.1) */
	return crypto_random(t->enc, t->enc_len) | crypto_random(t->integ, t->integ_len);
}

/* The parts of a KEK the group's server-member communication decides. */
static void kek_suite(const struct gks_group *g, struct gks_kek *k)
{
	unsigned bits;
	k->k.cipher = gks_cipher_of(g->cfg->smc->encryption_algorithm, &bits);
	k->k.key_bits = bits;
	k->alg = k->k.cipher == CRYPTO_CIPHER_AES ? GDOI_KEK_ALG_AES :
		 k->k.cipher == CRYPTO_CIPHER_3DES ? GDOI_KEK_ALG_3DES : GDOI_KEK_ALG_DES;
	k->bits = (uint16_t)(bits ? bits : k->k.cipher == CRYPTO_CIPHER_3DES ? 192 : 64);
	k->k.key_len = crypto_cipher_key_len(k->k.cipher, bits);
	k->k.profile = gks_group_profile(g);
}

int gks_new_kek(struct gks_group *g, struct gks_kek *k)
{
	const struct cfg_smc *smc = g->cfg->smc;
	uint64_t now = loop_now_us();
	memset(k, 0, sizeof(*k));
	kek_suite(g, k);
	k->lifetime = (uint32_t)smc->lifetime_seconds;
	k->created_us = now;
	k->due_us = now + gks_rekey_interval_us(g, k->lifetime);
	k->expires_us = now + (uint64_t)k->lifetime * 1000000u;
	if (crypto_cipher_weak(k->k.cipher) || smc->sig_hash_algorithm <= CFG_HASH_SHA1)
		log_warn("gks", "group %s: server-member communication uses weak algorithms (%s, %s)",
			 g->cfg->name, cfg_enum_name(cfg_enc_names, smc->encryption_algorithm),
			 cfg_enum_name(cfg_hash_names, smc->sig_hash_algorithm));
	/* The static IV of the gdoid profile travels with the key (IV | key). */
	return crypto_random(k->k.spi, sizeof(k->k.spi)) | crypto_random(k->k.key, k->k.key_len) |
	       crypto_random(k->k.iv, sizeof(k->k.iv));
}


/* ---- keys kept by the store ------------------------------------------------------ */

/* The loop clock and the wall clock at one moment, to move times
 * between them (the store keeps wall-clock seconds). */
struct clocks {
	uint64_t loop_us;
	int64_t wall;
};

static struct clocks clocks_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (struct clocks){ loop_now_us(), (int64_t)ts.tv_sec };
}

static int64_t wall_of(const struct clocks *c, uint64_t loop_us)
{
	return c->wall + ((int64_t)loop_us - (int64_t)c->loop_us) / 1000000;
}

static uint64_t loop_of(const struct clocks *c, int64_t wall)
{
	int64_t us = (int64_t)c->loop_us + (wall - c->wall) * 1000000;
	return us > 0 ? (uint64_t)us : 0;
}

static void keyset_of(const struct gks_group *g, struct gks_keyset *ks)
{
	struct clocks c = clocks_now();
	memset(ks, 0, sizeof(*ks));
	ks->generation = g->key_gen;
	ks->has_kek = g->has_kek;
	if (g->has_kek) {
		ks->kek = g->kek.k;
		ks->kek_lifetime = g->kek.lifetime;
		ks->kek_created = wall_of(&c, g->kek.created_us);
		ks->kek_due = wall_of(&c, g->kek.due_us);
		ks->kek_expires = wall_of(&c, g->kek.expires_us);
	}
	ks->n_tek = g->n_tek;
	for (size_t i = 0; i < g->n_tek; i++) {
		const struct gks_tek *t = &g->tek[i];
		struct gks_stored_tek *s = &ks->tek[i];
		str_copy(s->policy, t->name, sizeof(s->policy));
		s->proposal = t->proposal;
		s->spi = t->spi;
		memcpy(s->enc, t->enc, t->enc_len);
		memcpy(s->integ, t->integ, t->integ_len);
		s->enc_len = t->enc_len;
		s->integ_len = t->integ_len;
		s->lifetime = t->lifetime;
		s->created = wall_of(&c, t->created_us);
		s->active = wall_of(&c, t->active_us);
		s->due = wall_of(&c, t->due_us);
		s->expires = wall_of(&c, t->expires_us);
	}
}

void gks_keys_save(const struct gks_group *g)
{
	struct gks_keyset ks;
	keyset_of(g, &ks);
	if (G.store->ops->keys_save(G.store, g->cfg->group_id, &ks) < 0)
		log_warn("gks", "group %s: cannot save its keys to %s", g->cfg->name, G.store->ops->where(G.store));
	OPENSSL_cleanse(&ks, sizeof(ks));
}

/* The stored KEK, when it is still alive and of the algorithm and
 * profile configured. 1 when g->kek is now that one. */
static int kek_adopt(struct gks_group *g, const struct gks_keyset *ks, const struct clocks *c)
{
	struct gks_kek *k = &g->kek;
	memset(k, 0, sizeof(*k));
	kek_suite(g, k);
	if (!ks->has_kek || ks->kek_expires <= c->wall || ks->kek.cipher != k->k.cipher ||
	    ks->kek.key_bits != k->k.key_bits || ks->kek.key_len != k->k.key_len || ks->kek.profile != k->k.profile)
		return 0;
	k->k = ks->kek;
	k->lifetime = ks->kek_lifetime;
	k->created_us = loop_of(c, ks->kek_created);
	k->due_us = loop_of(c, ks->kek_due);
	k->expires_us = loop_of(c, ks->kek_expires);
	return 1;
}

/* The stored TEK of this policy (same name and proposal), when it is
 * still alive. 1 when *t is now that one. */
static int tek_adopt(struct gks_group *g, struct gks_tek *t, const struct cfg_ipsec_sa *pol,
		     const struct gks_keyset *ks, const struct clocks *c)
{
	for (size_t i = 0; i < ks->n_tek && i < GDOI_MAX_TEKS; i++) {
		const struct gks_stored_tek *s = &ks->tek[i];
		memset(t, 0, sizeof(*t));
		tek_suite(t, pol);
		if (strcmp(s->policy, pol->name) || s->proposal != pol->proposal || s->expires <= c->wall ||
		    s->enc_len != t->enc_len || s->integ_len != t->integ_len)
			continue;
		t->spi = s->spi;
		memcpy(t->enc, s->enc, s->enc_len);
		memcpy(t->integ, s->integ, s->integ_len);
		t->lifetime = s->lifetime;
		t->index = ++g->tek_index;
		t->created_us = loop_of(c, s->created);
		t->active_us = loop_of(c, s->active);
		t->due_us = loop_of(c, s->due);
		t->expires_us = loop_of(c, s->expires);
		return 1;
	}
	return 0;
}

static void warn_weak_policy(const struct gks_group *g, const struct cfg_ipsec_sa *pol)
{
	if (pol->proposal >= 5)
		log_warn("gks", "group %s: ipsec_sa %s uses a weak proposal (%s)", g->cfg->name, pol->name,
			 cfg_enum_name(cfg_proposal_names, pol->proposal));
}

/* g's keys from the keyset (have: one was loaded), new where there is none. */
static int keys_make(struct gks_group *g, const struct gks_keyset *ks, int have)
{
	struct clocks c = clocks_now();
	if (g->cfg->smc) {
		if (!(have && kek_adopt(g, ks, &c)) && gks_new_kek(g, &g->kek) < 0)
			return -1;
		g->has_kek = 1;
	}
	g->n_tek = g->cfg->n_ipsec_sa < GDOI_MAX_TEKS ? g->cfg->n_ipsec_sa : GDOI_MAX_TEKS;
	for (size_t i = 0; i < g->n_tek; i++) {
		const struct cfg_ipsec_sa *pol = &g->cfg->ipsec_sa[i];
		if (!(have && tek_adopt(g, &g->tek[i], pol, ks, &c)) && gks_new_tek(g, &g->tek[i], pol, 0) < 0)
			return -1;
		warn_weak_policy(g, pol);
	}
	return 0;
}

int gks_group_keys(struct gks_group *g)
{
	struct gks_keyset ks;
	memset(&ks, 0, sizeof(ks));
	int have = G.store->ops->keys_load(G.store, g->cfg->group_id, &ks) == 1;
	int rc = keys_make(g, &ks, have);
	OPENSSL_cleanse(&ks, sizeof(ks));
	if (rc == 0)
		gks_keys_save(g);
	return rc;
}

/* ---- reload ---------------------------------------------------------------------------- */

/* Names a TEK SPI in the DELETE of the group's next push. */
static void delete_tek(struct gks_group *g, uint32_t spi)
{
	uint32_t be = htonl(spi);
	if (g->del.n >= GDOI_MAX_DEL_SPIS)
		return;
	for (size_t i = 0; i < g->del.n; i++)
		if (!memcmp(g->del.spi[i], &be, 4))
			return;
	g->del.doi = GDOI_DOI;
	g->del.proto = GDOI_PROTO_IPSEC_ESP;
	g->del.spi_size = 4;
	memcpy(g->del.spi[g->del.n++], &be, 4);
}

/* The KEK under a new model: dropped without server-member
 * communication, made when it is new, kept otherwise (its lifetime as
 * configured now). 1 when its algorithm or profile changed: it is then
 * due at once, and the new KEK reaches members under the old one. */
static int kek_update(struct gks_group *g)
{
	const struct cfg_smc *ns = g->cfg->smc;
	if (!ns) {
		g->has_kek = g->has_prev_kek = 0;
		OPENSSL_cleanse(&g->kek, sizeof(g->kek));
		return 0;
	}
	if (!g->has_kek) {
		gks_new_kek(g, &g->kek);
		g->has_kek = 1;
		return 0;
	}
	unsigned bits;
	int cipher = gks_cipher_of(ns->encryption_algorithm, &bits);
	if (cipher != g->kek.k.cipher || bits != g->kek.k.key_bits || g->kek.k.profile != gks_group_profile(g)) {
		g->kek.due_us = 0;
		return 1;
	}
	g->kek.lifetime = (uint32_t)ns->lifetime_seconds;
	g->kek.due_us = g->kek.created_us + gks_rekey_interval_us(g, g->kek.lifetime);
	g->kek.expires_us = g->kek.created_us + (uint64_t)g->kek.lifetime * 1000000u;
	return 0;
}

/* A policy deleted: members are told of its TEK, and of its older TEKs
 * too; the TEK lingers as old. */
static void tek_deleted(struct gks_group *g, const struct gks_tek *t)
{
	delete_tek(g, t->spi);
	for (size_t o = 0; o < g->n_old; o++)
		if (!strcmp(g->old[o].name, t->name))
			delete_tek(g, g->old[o].spi);
	if (g->n_old < GDOI_MAX_TEKS) {
		g->old[g->n_old] = *t;
		g->old[g->n_old++].pol = NULL;
	}
}

/* The TEKs under a new model: a policy of the same name and proposal
 * keeps its TEK, a new one gets a new TEK, a deleted one's goes. 1 when
 * policies were added or deleted. */
static int teks_update(struct gks_group *g)
{
	const struct cfg_group *cg = g->cfg;
	struct gks_tek keep[GDOI_MAX_TEKS];
	size_t n = 0;
	int changed = 0;
	for (size_t t = 0; t < cg->n_ipsec_sa && n < GDOI_MAX_TEKS; t++) {
		const struct cfg_ipsec_sa *pol = &cg->ipsec_sa[t];
		size_t k;
		for (k = 0; k < g->n_tek; k++)
			if (!strcmp(g->tek[k].name, pol->name) && g->tek[k].proposal == pol->proposal)
				break;
		if (k < g->n_tek) {
			keep[n] = g->tek[k];
			keep[n].pol = pol;
			g->tek[k].name[0] = '\0'; /* taken */
		} else {
			gks_new_tek(g, &keep[n], pol, cg->smc ? 2u * (uint64_t)cg->activation_time_delay * 1000000u : 0);
			changed = 1;
		}
		n++;
	}
	for (size_t k = 0; k < g->n_tek; k++)
		if (g->tek[k].name[0]) {
			changed = 1;
			tek_deleted(g, &g->tek[k]);
		}
	OPENSSL_cleanse(g->tek, sizeof(g->tek));
	memcpy(g->tek, keep, n * sizeof(keep[0]));
	OPENSSL_cleanse(keep, sizeof(keep));
	g->n_tek = n;
	return changed;
}

int gks_keys_update(struct gks_group *g)
{
	int changed = kek_update(g);
	changed |= teks_update(g);
	if (changed)
		g->key_gen++;
	gks_keys_save(g);
	return changed;
}

/* ---- rotation -------------------------------------------------------------------------- */

static void kek_replaced(const struct gks_group *g, const char *reason)
{
	char a[40], b[40];
	spi_hex(g->prev_kek.k.spi, 16, a, sizeof(a));
	spi_hex(g->kek.k.spi, 16, b, sizeof(b));
	struct event e;
	ev_begin(&e, EV_KEK_REPLACED);
	ev_param_int(&e, "group", g->cfg->group_id);
	ev_param_str(&e, "old_spi", a);
	ev_param_str(&e, "new_spi", b);
	ev_param_str(&e, "reason", reason);
	ev_publish(&e, "group %s (%ld): KEK %s replaced by %s (%s)", g->cfg->name, g->cfg->group_id, a, b, reason);
}

/* A new KEK; the one members hold stays as the previous. 1 when replaced. */
static int rotate_kek(struct gks_group *g, const char *reason)
{
	struct gks_kek nk;
	int ok = gks_new_kek(g, &nk) == 0;
	if (ok) {
		g->prev_kek = g->kek;
		g->has_prev_kek = 1;
		g->kek = nk;
		kek_replaced(g, reason);
	}
	OPENSSL_cleanse(&nk, sizeof(nk));
	return ok;
}

/* The old key stays in use until the new one activates, then lingers
 * as "old" until its lifetime ends (the oldest goes when the list is full). */
static void tek_retire(struct gks_group *g, const struct gks_tek *t)
{
	if (g->n_old == GDOI_MAX_TEKS) {
		memmove(&g->old[0], &g->old[1], sizeof(g->old[0]) * (GDOI_MAX_TEKS - 1));
		g->n_old--;
	}
	g->old[g->n_old] = *t;
	g->old[g->n_old].pol = NULL;
	g->n_old++;
}

static void tek_replaced(const struct gks_group *g, const struct gks_tek *t, uint32_t old_spi, const char *reason)
{
	struct event e;
	ev_begin(&e, EV_TEK_REPLACED);
	ev_param_int(&e, "group", g->cfg->group_id);
	ev_param_str(&e, "policy", t->name);
	ev_param(&e, "old_spi", "0x%08x", old_spi);
	ev_param(&e, "new_spi", "0x%08x", t->spi);
	ev_param_uint(&e, "index", t->index);
	ev_param_str(&e, "reason", reason);
	ev_publish(&e, "group %s (%ld): TEK %s 0x%08x replaced by 0x%08x (%s)", g->cfg->name, g->cfg->group_id,
		   t->name, old_spi, t->spi, reason);
}

/* A new TEK for t's policy; with server-member communication it
 * activates after 2 x ATD (members get it by a push). */
static void rotate_tek(struct gks_group *g, struct gks_tek *t, const char *reason)
{
	uint64_t atd2 = 2u * (uint64_t)g->cfg->activation_time_delay * 1000000u;
	struct gks_tek nt;
	if (gks_new_tek(g, &nt, t->pol, g->cfg->smc ? atd2 : 0) == 0) {
		tek_retire(g, t);
		*t = nt;
		tek_replaced(g, t, g->old[g->n_old - 1].spi, reason);
	}
	OPENSSL_cleanse(&nt, sizeof(nt));
}

int gks_keys_rotate(struct gks_group *g, const char *reason, int rotate, int kek_held)
{
	uint64_t soon = loop_now_us() + GKS_DUE_SLACK_US;
	int kek_rotated = 0;
	if (g->has_kek && g->cfg->smc && !kek_held && (rotate || g->kek.due_us <= soon))
		kek_rotated = rotate_kek(g, reason);
	for (size_t i = 0; i < g->n_tek; i++)
		if (rotate || g->tek[i].due_us <= soon)
			rotate_tek(g, &g->tek[i], reason);
	return kek_rotated;
}

/* ---- start and stop ------------------------------------------------------------------ */

/* The signing key: the configured file, or one kept in the state
 * directory and created on first start (like an SSH host key). */
static int load_signing_key(const struct cfg *c)
{
	const char *conf = c->gks->signing_key;
	char *path = conf ? xstrdup(conf) : xasprintf("%s/%s", c->agent.state_dir ? c->agent.state_dir : ".",
						      GKS_KEY_FILE);
	struct stat st;
	int rc = -1;
	if (stat(path, &st) == 0) {
		if (st.st_mode & 077)
			log_warn("gks", "signing key %s is readable by group or others (mode %04o); chmod 600 it",
				 path, (unsigned)(st.st_mode & 07777));
		G.rsa = crypto_rsa_load_private(path);
		if (G.rsa)
			rc = 0;
	} else if (conf) {
		log_err("gks", "signing_key %s: %s; create one with: openssl genpkey -algorithm RSA "
			       "-pkeyopt rsa_keygen_bits:2048 -out %s && chmod 600 %s",
			path, strerror(errno), path, path);
	} else {
		G.rsa = crypto_rsa_generate(GKS_RSA_BITS);
		if (G.rsa && crypto_rsa_save_private(G.rsa, path) == 0) {
			log_notice("gks", "created the push signing key %s (RSA %d bits)", path, GKS_RSA_BITS);
			rc = 0;
		} else {
			log_err("gks", "cannot create the push signing key %s", path);
		}
	}
	if (rc == 0 && crypto_rsa_size(G.rsa) * 8 < 2048) {
		log_err("gks", "signing key %s has %zu bits; 2048 at least", path, crypto_rsa_size(G.rsa) * 8);
		rc = -1;
	}
	G.rsa_pub_len = sizeof(G.rsa_pub);
	if (rc == 0 && crypto_rsa_public_der(G.rsa, G.rsa_pub, &G.rsa_pub_len) < 0)
		rc = -1;
	free(path);
	return rc;
}

int gks_keys_init(const struct cfg *c)
{
	G.store = next_store ? next_store : gks_store_file_open(c->agent.state_dir);
	next_store = NULL;
	if (!G.store)
		return -1;
	return load_signing_key(c);
}

void gks_keys_fini(void)
{
	if (G.store)
		G.store->ops->close(G.store);
	G.store = NULL;
	crypto_rsa_free(G.rsa);
	G.rsa = NULL;
}

void gks_use_store(struct gks_store *s)
{
	next_store = s;
}
