/* SPDX-License-Identifier: BSD-2-Clause */
/* gks_peer.c: registration, part 1: the key server's phase 1 exchanges.
 * Each datagram is matched to an exchange by its cookies and the peer's
 * address and port (a Main Mode message 1 from a new source makes one);
 * Main Mode itself is ike.c's, GROUPKEY-PULL on top of it gks_pull.c's.
 *
 * Anti-clogging: the responder cookie is 4 random octets and the first 4
 * of HMAC-SHA-256(secret, those | CKY-I | address | port), the secret
 * renewed every minute (the previous one kept), so a cookie can be
 * checked without state and a replayed message 1 gets a new one. An
 * exchange that has only seen message 1 is embryonic: it costs no
 * Diffie-Hellman and no half-open slot; there are at most max_half_open
 * of them and a new one evicts the oldest, so a flood of spoofed message
 * 1s cannot lock anyone out. Message 3 with our cookie makes it
 * half-open, bounded per peer address and in total. Both kinds expire.
 * Refusals and back-offs: gks_refuse.c. */
#include "config.h"
#include "core/gdoi/gks_int.h"
#include "core/ev.h"
#include "core/gdoi/pcapw.h"
#include "core/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static unsigned bucket_of(const uint8_t icky[8])
{
	return (unsigned)((icky[0] << 8 | icky[1]) ^ (icky[6] << 8 | icky[7])) % GKS_BUCKETS;
}

static void pcap_hook(void *arg, const uint8_t *msg, size_t len, int inbound)
{
	const struct gks_peer *p = arg;
	const struct sockaddr_in *peer = (const struct sockaddr_in *)&p->ike.peer;
	if (inbound)
		pcapw_udp(G.pcap, peer, &G.local, msg, len);
	else
		pcapw_udp(G.pcap, &G.local, peer, msg, len);
}

static int same_source(const struct gks_peer *p, const struct sockaddr_in *from)
{
	return gks_peer_sin(p)->sin_addr.s_addr == from->sin_addr.s_addr &&
	       gks_peer_sin(p)->sin_port == from->sin_port;
}

/* ---- responder cookies ---------------------------------------------------------- */

static void cookie_mac(const uint8_t *secret, const uint8_t salt[4], const uint8_t icky[8],
		       const struct sockaddr_in *from, uint8_t out[4])
{
	uint8_t h[32];
	struct crypto_iov iov[] = {
		{ salt, 4 }, { icky, 8 }, { &from->sin_addr.s_addr, 4 }, { &from->sin_port, 2 },
	};
	crypto_prf(CRYPTO_HASH_SHA256, secret, 32, iov, ARRAY_SIZE(iov), h);
	memcpy(out, h, 4);
}

static void cookie_rotate(void)
{
	uint64_t now = loop_now_us();
	if (now - G.cookie_rotated_us < GKS_COOKIE_ROTATE_US)
		return;
	memcpy(G.cookie_secret[1], G.cookie_secret[0], 32);
	crypto_random(G.cookie_secret[0], 32);
	G.cookie_rotated_us = now;
}

static void cookie_make(const uint8_t icky[8], const struct sockaddr_in *from, uint8_t rcky[8])
{
	cookie_rotate();
	crypto_random(rcky, 4);
	cookie_mac(G.cookie_secret[0], rcky, icky, from, rcky + 4);
}

/* 1 when we made rcky for this initiator cookie and source lately. */
static int cookie_ours(const struct isakmp_hdr *h, const struct sockaddr_in *from)
{
	cookie_rotate();
	for (int k = 0; k < 2; k++) {
		uint8_t mac[4];
		cookie_mac(G.cookie_secret[k], h->rcookie, h->icookie, from, mac);
		if (!memcmp(mac, h->rcookie + 4, 4))
			return 1;
	}
	return 0;
}

/* ---- half-open counts per address ---- */

static struct ho_count **ho_slot(uint32_t addr)
{
	struct ho_count **pp = &G.ho[(ntohl(addr) * 2654435761u >> 20) % GKS_HO_BUCKETS];
	while (*pp && (*pp)->addr != addr)
		pp = &(*pp)->next;
	return pp;
}

static uint32_t ho_from(uint32_t addr)
{
	struct ho_count *c = *ho_slot(addr);
	return c ? c->n : 0;
}

static void ho_add(uint32_t addr, int delta)
{
	struct ho_count **pp = ho_slot(addr);
	if (!*pp) {
		*pp = xcalloc(1, sizeof(**pp));
		(*pp)->addr = addr;
	}
	(*pp)->n += (uint32_t)delta;
	if (!(*pp)->n) {
		struct ho_count *c = *pp;
		*pp = c->next;
		free(c);
	}
}

/* ---- embryonic and half-open exchanges ---- */

static void embryonic_unlink(struct gks_peer *p)
{
	if (p->emb_prev)
		p->emb_prev->emb_next = p->emb_next;
	else
		G.emb_head = p->emb_next;
	if (p->emb_next)
		p->emb_next->emb_prev = p->emb_prev;
	else
		G.emb_tail = p->emb_prev;
	p->emb_next = p->emb_prev = NULL;
	p->embryonic = 0;
	G.st.embryonic--;
}

static void half_open_end(struct gks_peer *p)
{
	p->half_open = 0;
	G.st.half_open--;
	ho_add(gks_peer_sin(p)->sin_addr.s_addr, -1);
}

void gks_peer_free(struct gks_peer *p)
{
	struct gks_peer **pp = &G.bucket[bucket_of(p->ike.icky)];
	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	if (p->all_prev)
		p->all_prev->all_next = p->all_next;
	else
		G.all = p->all_next;
	if (p->all_next)
		p->all_next->all_prev = p->all_prev;
	if (p->embryonic)
		embryonic_unlink(p);
	if (p->half_open)
		half_open_end(p);
	G.st.sas--;
	loop_timer_cancel(&p->timer);
	ike_sa_free(&p->ike);
	free(p->last_in);
	free(p->last_out);
	OPENSSL_cleanse(p, sizeof(*p));
	free(p);
}

static void on_peer_timer(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct gks_peer *p = arg;
	if (p->half_open) {
		G.st.expired++;
		log_limited(&G.lim_expired, loop_now_us(), LOG_INFO, "gks", "phase 1 exchange with %s expired in state %s",
			    p->addr,
			 ike_state_name(p->ike.state));
	}
	gks_peer_free(p);
}

/* The exchange this datagram belongs to: same initiator cookie, address
 * and port, and our responder cookie (none: message 1 again). */
static struct gks_peer *peer_find(const struct isakmp_hdr *h, const struct sockaddr_in *from)
{
	static const uint8_t zero[8];
	int msg1 = !memcmp(h->rcookie, zero, 8);
	for (struct gks_peer *p = G.bucket[bucket_of(h->icookie)]; p; p = p->next)
		if (!memcmp(p->ike.icky, h->icookie, 8) && same_source(p, from) &&
		    (msg1 || !memcmp(p->ike.rcky, h->rcookie, 8)))
			return p;
	return NULL;
}

/* Message 3 with our cookie: the exchange now holds a Diffie-Hellman
 * key and counts against the half-open limits (checked before). */
static int half_open_room(const struct gks_peer *p)
{
	const struct cfg_gks *k = G.cfg->gks;
	if ((long)G.st.half_open < k->max_half_open &&
	    (long)ho_from(gks_peer_sin(p)->sin_addr.s_addr) < k->max_half_open_per_peer)
		return 1;
	G.st.drop_half_open++;
	log_limited(&G.lim_drop, loop_now_us(), LOG_INFO, "gks",
		    "message 3 from %s dropped: half-open limit (%ld in total, %ld per peer)",
		 p->addr, k->max_half_open, k->max_half_open_per_peer);
	return 0;
}

static void half_open_start(struct gks_peer *p)
{
	embryonic_unlink(p);
	p->half_open = 1;
	G.st.half_open++;
	ho_add(gks_peer_sin(p)->sin_addr.s_addr, 1);
}

static struct gks_peer *peer_new(const struct isakmp_hdr *h, const struct sockaddr_in *from)
{
	const struct cfg_gks *k = G.cfg->gks;
	if (G.emb_tail && (long)G.st.embryonic >= k->max_half_open) {
		log_debug("gks", "embryonic exchange from %s evicted by a newer one", G.emb_tail->addr);
		G.st.embryonic_evicted++;
		gks_peer_free(G.emb_tail);
	}
	struct gks_peer *p = xcalloc(1, sizeof(*p));
	ike_sa_init(&p->ike, 0, (const struct sockaddr *)from, sizeof(*from));
	memcpy(p->ike.icky, h->icookie, 8);
	cookie_make(h->icookie, from, p->ike.rcky);
	p->local = G.rx_local;
	gks_addr_str(from, p->addr, sizeof(p->addr));
	if (G.pcap) {
		p->ike.plain_hook = pcap_hook;
		p->ike.hook_arg = p;
	}
	p->embryonic = 1;
	G.st.embryonic++;
	p->emb_next = G.emb_head;
	if (G.emb_head)
		G.emb_head->emb_prev = p;
	else
		G.emb_tail = p;
	G.emb_head = p;
	G.st.sas++;
	unsigned b = bucket_of(h->icookie);
	p->next = G.bucket[b];
	G.bucket[b] = p;
	p->all_next = G.all;
	if (G.all)
		G.all->all_prev = p;
	G.all = p;
	loop_timer_init(&p->timer, on_peer_timer, p);
	loop_timer_arm_ms(&p->timer, (uint64_t)k->half_open_timeout * 1000u);
	return p;
}

/* Candidate pre-shared keys for a peer: members whose address matches,
 * then members known by identity only. */
static const char *psk_candidate(void *arg GVPN_UNUSED, const struct sockaddr *peer, size_t idx)
{
	char a[INET6_ADDRSTRLEN];
	gks_addr_str((const struct sockaddr_in *)peer, a, sizeof(a));
	size_t seen = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t g = 0; g < G.n_groups; g++) {
			const struct cfg_group *cg = G.groups[g]->cfg;
			for (size_t m = 0; m < cg->n_members; m++) {
				const struct cfg_member *mem = &cg->members[m];
				int hit = pass == 0 ? mem->address && cfg_addr_match(mem->address, a)
						    : !mem->address && mem->identity;
				if (hit && mem->psk_value && seen++ == idx)
					return mem->psk_value;
			}
		}
	}
	return NULL;
}

static void send_notify(const struct gks_peer *p, int type)
{
	struct gdoi_buf b;
	gdoi_buf_init(&b);
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = ISAKMP_EXCH_INFO };
	memcpy(h.icookie, p->ike.icky, 8);
	memcpy(h.rcookie, p->ike.rcky, 8);
	gdoi_put_hdr(&b, &h);
	/* the peer's phase 1 DOI: TrustCore drops a DOI 2 notify there */
	gdoi_put_notify(&b, p->ike.doi, ISAKMP_PROTO_ISAKMP, (uint16_t)type, NULL, 0);
	gdoi_finish(&b);
	gks_send_from(&p->local, (const struct sockaddr_in *)&p->ike.peer, b.data, b.len);
	gdoi_buf_free(&b);
}

void gks_on_main(struct gks_peer *p, const uint8_t *msg, size_t len)
{
	struct gdoi_buf out;
	gdoi_buf_init(&out);
	int had_dh = p->ike.dh != NULL;
	int rc = ike_input(&p->ike, msg, len, G.props, G.n_props, psk_candidate, NULL, &out);
	if (!had_dh && p->ike.dh)
		G.st.dh_computed++;
	if (rc == 1)
		gks_send_from(&p->local, (const struct sockaddr_in *)&p->ike.peer, out.data, out.len);
	gdoi_buf_free(&out);
	if (rc < 0 && p->ike.state != IKE_FAILED) {
		G.st.drop_malformed++;
		log_debug("gks", "Main Mode datagram from %s ignored: %s", p->addr, p->ike.error);
		return;
	}
	if (rc < 0) {
		if (p->ike.notify == ISAKMP_N_AUTHENTICATION_FAILED)
			gks_src_auth_failed(((const struct sockaddr_in *)&p->ike.peer)->sin_addr.s_addr);
		if (p->ike.notify == ISAKMP_N_AUTHENTICATION_FAILED ||
		    p->ike.notify == ISAKMP_N_NO_PROPOSAL_CHOSEN)
			gks_refused(p, NULL, p->ike.error);
		else
			log_limited(&G.lim_mm, loop_now_us(), LOG_INFO, "gks", "Main Mode with %s failed: %s", p->addr,
				    p->ike.error);
		if (p->ike.notify)
			send_notify(p, p->ike.notify);
		gks_peer_free(p);
		return;
	}
	if (p->embryonic && p->ike.state == IKE_R_KE_SENT)
		half_open_start(p);
	if (p->ike.state == IKE_ESTABLISHED && p->half_open) {
		half_open_end(p);
		char suite[64];
		ike_proposal_str(&p->ike.prop, suite, sizeof(suite));
		log_debug("gks", "phase 1 SA with %s established (%s)", p->addr, suite);
		if (ike_proposal_weak(&p->ike.prop))
			log_warn("gks", "phase 1 SA with %s uses a weak suite: %s", p->addr, suite);
	}
}

struct gks_peer *gks_peer_for(const struct isakmp_hdr *h, const struct sockaddr_in *from)
{
	static const uint8_t zero[8];
	int msg1 = !memcmp(h->rcookie, zero, 8);
	struct gks_peer *p = peer_find(h, from);
	if (msg1 && h->exchange != ISAKMP_EXCH_MAIN) {
		G.st.drop_unknown_sa++;
		return NULL;
	}
	if (!p && !msg1) {
		G.st.drop_unknown_sa++;
		if (h->exchange == ISAKMP_EXCH_MAIN && cookie_ours(h, from)) {
			char a[INET6_ADDRSTRLEN];
			gks_addr_str(from, a, sizeof(a));
			log_debug("gks", "Main Mode datagram from %s for an exchange that expired or was evicted", a);
		}
		return NULL;
	}
	if (!p)
		return peer_new(h, from);
	if (p->embryonic && !msg1 && h->exchange == ISAKMP_EXCH_MAIN && gks_src_backed_off(from->sin_addr.s_addr)) {
		G.st.drop_backoff++;
		log_limited(&G.lim_backoff, loop_now_us(), LOG_INFO, "gks",
			    "message 3 from %s dropped: backing off after failed authentications", p->addr);
		return NULL;
	}
	if (p->embryonic && !msg1 && h->exchange == ISAKMP_EXCH_MAIN && !half_open_room(p))
		return NULL;
	return p;
}

void gks_peers_init(void)
{
	crypto_random(G.cookie_secret, sizeof(G.cookie_secret));
	G.cookie_rotated_us = loop_now_us();
}

void gks_peers_fini(void)
{
	while (G.all)
		gks_peer_free(G.all);
}
