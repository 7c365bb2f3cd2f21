/* SPDX-License-Identifier: BSD-2-Clause */
/* gks_policy.c: the payloads that carry a group's policy and keys, as
 * both GROUPKEY-PULL message 2/4 and GROUPKEY-PUSH send them: the SA
 * (KEK and TEK policies, GAP) and the KD (the keys themselves), in the
 * group's wire profile. Reads the group's state; changes nothing. */
#include "config.h"
#include "core/gdoi/gks_int.h"

#include <stdlib.h>
#include <string.h>

/* A prefix as an SA TEK identification: IPv4 or IPv6 subnet; with the
 * gdoid profile one IPv4 address as ID_IPV4_ADDR (gdoid reads a TEK
 * destination only so; config validation makes sure it is one). */
static void prefix_ident(const char *prefix, uint16_t port, int profile, struct gdoi_ident *id)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(prefix, '/');
	size_t n = slash ? (size_t)(slash - prefix) : strlen(prefix);
	unsigned bits = slash ? (unsigned)atoi(slash + 1) : 32;
	memset(id, 0, sizeof(*id));
	id->port = port;
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, prefix, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, id->data) == 1 && bits == 32 && profile == GDOI_PROFILE_GDOID) {
		id->type = ISAKMP_ID_IPV4_ADDR;
		id->len = 4;
	} else if (inet_pton(AF_INET, buf, id->data) == 1) {
		id->type = ISAKMP_ID_IPV4_ADDR_SUBNET;
		uint32_t mask = bits ? htonl(0xffffffffu << (32 - bits)) : 0;
		memcpy(id->data + 4, &mask, 4);
		id->len = 8;
	} else if (inet_pton(AF_INET6, buf, id->data) == 1) {
		id->type = ISAKMP_ID_IPV6_ADDR_SUBNET;
		for (unsigned i = 0; i < 128; i++)
			if (i < bits)
				id->data[16 + i / 8] |= (uint8_t)(0x80u >> (i % 8));
		id->len = 32;
	}
}

void gks_build_sa(const struct gks_group *g, struct gdoi_sa *sa, int ack_requested)
{
	memset(sa, 0, sizeof(*sa));
	sa->profile = gks_group_profile(g);
	sa->doi = GDOI_DOI;
	sa->situation = 0;
	const struct cfg_smc *smc = g->cfg->smc;
	if (g->has_kek && smc) {
		struct gdoi_sa_kek *k = &sa->kek;
		sa->has_kek = 1;
		k->protocol = IPPROTO_UDP;
		k->src.type = ISAKMP_ID_IPV4_ADDR;
		k->src.port = ntohs(G.local.sin_port);
		memcpy(k->src.data, &G.local.sin_addr, 4);
		k->src.len = 4;
		k->dst.type = ISAKMP_ID_IPV4_ADDR;
		k->dst.port = (uint16_t)(smc->communication_type == CFG_COMM_MULTICAST ? smc->multicast_port
											 : GDOI_PORT);
		if (smc->communication_type == CFG_COMM_MULTICAST && smc->multicast_group)
			inet_pton(AF_INET, smc->multicast_group, k->dst.data);
		k->dst.len = 4;
		memcpy(k->spi, g->kek.k.spi, 16);
		k->alg = g->kek.alg;
		k->key_bits = g->kek.bits;
		k->lifetime = gks_remaining_s(g->kek.expires_us);
		k->sig_hash = (uint16_t)(smc->sig_hash_algorithm + 1); /* md5 = 1 ... sha-512 = 5 */
		k->sig_alg = GDOI_SIG_ALG_RSA;
		k->sig_key_bits = (uint16_t)(crypto_rsa_size(G.rsa) * 8);
		k->ack_requested = ack_requested;
	}
	sa->n_tek = g->n_tek;
	for (size_t i = 0; i < g->n_tek; i++) {
		const struct gks_tek *t = &g->tek[i];
		struct gdoi_sa_tek *s = &sa->tek[i];
		s->protocol = GDOI_PROTO_IPSEC_ESP;
		s->ip_proto = (uint8_t)t->pol->match.protocol;
		prefix_ident(t->pol->match.source, (uint16_t)t->pol->match.source_port, sa->profile, &s->src);
		prefix_ident(t->pol->match.destination, (uint16_t)t->pol->match.destination_port, sa->profile,
			     &s->dst);
		s->transform = t->transform;
		s->spi = t->spi;
		s->auth_alg = t->auth_alg;
		s->key_bits = t->key_bits;
		s->lifetime = gks_remaining_s(t->expires_us);
		s->encap = GDOI_ENCAP_TUNNEL;
	}
	sa->has_gap = 1;
	sa->atd = (uint16_t)g->cfg->activation_time_delay;
	sa->dtd = (uint16_t)g->cfg->activation_time_delay;
	if (g->cfg->selector_byte_order == CFG_LITTLE_ENDIAN)
		gdoi_sa_swap_selectors(sa);
}

/* The group's keys: the KEK key packet first (TrustCore's parser wants
 * it there, and the order is free), then one per TEK. With the gdoid
 * profile the KEK key is IV | key (gdoid's static push IV) and a new
 * KEK's packet is labelled with the SPI of the KEK sealing the push
 * (gdoid's member finds the packet by the KEK it holds). sealing: that
 * KEK, or NULL in a registration. */
static void build_kd_keys(const struct gks_kek *kek_of, const struct gks_kek *sealing,
			  const struct gks_tek *const *teks, size_t n, struct gdoi_kd *kd)
{
	memset(kd, 0, sizeof(*kd));
	if (kek_of) {
		struct gdoi_keypkt *k = &kd->k[kd->n++];
		const struct gdoi_kek *kek = &kek_of->k;
		int gdoid = kek->profile == GDOI_PROFILE_GDOID;
		size_t iv_len = gdoid ? crypto_cipher_block(kek->cipher) : 0;
		k->type = GDOI_KD_KEK;
		memcpy(k->spi, gdoid && sealing ? sealing->k.spi : kek->spi, 16);
		k->spi_len = 16;
		memcpy(k->alg_key, kek->iv, iv_len);
		memcpy(k->alg_key + iv_len, kek->key, kek->key_len);
		k->alg_key_len = iv_len + kek->key_len;
		memcpy(k->sig_key, G.rsa_pub, G.rsa_pub_len);
		k->sig_key_len = G.rsa_pub_len;
	}
	for (size_t i = 0; i < n && kd->n < GDOI_MAX_KEYPKTS; i++) {
		struct gdoi_keypkt *k = &kd->k[kd->n++];
		const struct gks_tek *t = teks[i];
		k->type = GDOI_KD_TEK;
		uint32_t spi = htonl(t->spi);
		memcpy(k->spi, &spi, 4);
		k->spi_len = 4;
		memcpy(k->alg_key, t->enc, t->enc_len);
		k->alg_key_len = t->enc_len;
		memcpy(k->integ_key, t->integ, t->integ_len);
		k->integ_key_len = t->integ_len;
	}
}

void gks_build_kd(const struct gks_group *g, const struct gks_kek *sealing, struct gdoi_kd *kd)
{
	const struct gks_tek *teks[GDOI_MAX_TEKS];
	for (size_t i = 0; i < g->n_tek; i++)
		teks[i] = &g->tek[i];
	build_kd_keys(g->has_kek ? &g->kek : NULL, sealing, teks, g->n_tek, kd);
}

/* From the current and old keys; -1 when one of them is gone (two
 * rekeys in between). */
int gks_build_kd_snapshot(const struct gks_group *g, const struct gks_peer *p, struct gdoi_kd *kd)
{
	const struct gks_tek *teks[GDOI_MAX_TEKS];
	const struct gks_kek *kek = NULL;
	if (p->snap_has_kek) {
		if (g->has_kek && !memcmp(g->kek.k.spi, p->snap_kek, 16))
			kek = &g->kek;
		else if (g->has_prev_kek && !memcmp(g->prev_kek.k.spi, p->snap_kek, 16))
			kek = &g->prev_kek;
		else
			return -1;
	}
	for (size_t i = 0; i < p->snap_n_tek; i++) {
		teks[i] = NULL;
		for (size_t k = 0; k < g->n_tek && !teks[i]; k++)
			if (g->tek[k].spi == p->snap_tek[i])
				teks[i] = &g->tek[k];
		for (size_t k = 0; k < g->n_old && !teks[i]; k++)
			if (g->old[k].spi == p->snap_tek[i])
				teks[i] = &g->old[k];
		if (!teks[i])
			return -1;
	}
	build_kd_keys(kek, NULL, teks, p->snap_n_tek, kd);
	return 0;
}

