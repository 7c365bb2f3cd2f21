/* gks.c: the group key server.
 *
 * One UDP socket; each datagram is matched to a phase 1 SA by its
 * initiator cookie (a Main Mode message 1 creates one). Main Mode is
 * ike.c's; this file serves GROUPKEY-PULL on top of it (RFC 6407 3.2):
 *
 *   member                                    server
 *   HDR*, HASH(1), Ni, ID         -->
 *                                  <--        HDR*, HASH(2), Nr, SA
 *   HDR*, HASH(3) [, GAP]         -->
 *                                  <--        HDR*, HASH(4), SEQ, KD
 *
 *   HASH(1) = prf(SKEYID_a, M-ID | Ni | ID)
 *   HASH(2) = prf(SKEYID_a, M-ID | Ni_b | Nr | SA)
 *   HASH(3) = prf(SKEYID_a, M-ID | Ni_b | Nr_b [| GAP])
 *   HASH(4) = prf(SKEYID_a, M-ID | Ni_b | Nr_b [| SEQ] | KD)
 *
 * where a payload name stands for the whole payload (generic header
 * included) and _b for its body. Nothing about a member is recorded
 * before message 3 proves it holds our nonce. Half-open phase 1
 * exchanges are bounded per peer address and in total, and expire. */
#include "config.h"
#include "gks.h"
#include "crypto.h"
#include "ev.h"
#include "gdoi.h"
#include "ike.h"
#include "log.h"
#include "loop.h"
#include "pcapw.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define GKS_BUCKETS 4096
#define GKS_DONE_LINGER_S 10     /* keep an SA this long after the PULL, for retransmissions */
#define GKS_RSA_BITS 2048

struct gks_tek {
	const struct cfg_ipsec_sa *pol;  /* in the model in force */
	char name[64];                   /* the policy's name, to match it across reloads */
	int proposal;
	uint32_t spi;
	uint8_t transform;
	uint16_t auth_alg, key_bits;
	uint8_t enc[32], integ[64];
	size_t enc_len, integ_len;
};

struct gks_member {
	char addr[INET6_ADDRSTRLEN + 8];   /* "a.b.c.d:port" */
	char identity[64];
	struct timespec registered;
	unsigned registrations;
	struct gks_member *next;
};

struct gks_group {
	const struct cfg_group *cfg;
	int has_kek;
	uint8_t kek_spi[16];
	uint8_t kek_key[32];
	size_t kek_key_len;
	uint16_t kek_alg, kek_bits;
	uint32_t seq;
	size_t n_tek;
	struct gks_tek tek[GDOI_MAX_TEKS];
	struct gks_member *members;
	size_t n_members;
};

enum pull_state { PULL_NONE, PULL_SENT2, PULL_DONE };

struct gks_peer {
	struct gks_peer *next, *all_next, *all_prev;
	struct ike_sa ike;
	struct loop_timer timer;
	int half_open;
	char addr[INET6_ADDRSTRLEN];
	/* GROUPKEY-PULL */
	enum pull_state pull;
	uint32_t msgid;
	uint8_t iv[CRYPTO_MAX_BLOCK];
	uint8_t ni[256], nr[IKE_NONCE_LEN];
	size_t ni_len;
	struct gks_group *group;
	uint8_t *last_in, *last_out;
	size_t last_in_len, last_out_len;
};

static struct {
	int fd;
	struct loop_fd *h;
	struct sockaddr_in local;
	const struct cfg *cfg;
	struct ike_proposal props[IKE_MAX_PROPOSALS];
	size_t n_props;
	struct gks_group *groups;
	size_t n_groups;
	struct gks_peer *bucket[GKS_BUCKETS];
	struct gks_peer *all;
	struct crypto_rsa *rsa;
	uint8_t rsa_pub[1024];
	size_t rsa_pub_len;
	struct pcapw *pcap;
	struct gks_stats st;
} G = { .fd = -1 };

/* ---- helpers ---------------------------------------------------------------- */

static unsigned bucket_of(const uint8_t icky[8])
{
	return (unsigned)((icky[0] << 8 | icky[1]) ^ (icky[6] << 8 | icky[7])) % GKS_BUCKETS;
}

static void addr_str(const struct sockaddr_in *sa, char *buf, size_t len)
{
	inet_ntop(AF_INET, &sa->sin_addr, buf, (socklen_t)len);
}

static int cipher_of(int enc, unsigned *bits)
{
	switch (enc) {
	case CFG_ENC_3DES_CBC: *bits = 0; return CRYPTO_CIPHER_3DES;
	case CFG_ENC_AES128_CBC: *bits = 128; return CRYPTO_CIPHER_AES;
	case CFG_ENC_AES192_CBC: *bits = 192; return CRYPTO_CIPHER_AES;
	case CFG_ENC_AES256_CBC: *bits = 256; return CRYPTO_CIPHER_AES;
	default: *bits = 0; return CRYPTO_CIPHER_DES;
	}
}

static int hash_of(int h)
{
	static const int map[] = { CRYPTO_HASH_MD5, CRYPTO_HASH_SHA1, CRYPTO_HASH_SHA256,
				   CRYPTO_HASH_SHA384, CRYPTO_HASH_SHA512 };
	return map[h];
}

static void send_to(const struct sockaddr_in *to, const uint8_t *buf, size_t len)
{
	if (sendto(G.fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to)) < 0)
		log_warn("gks", "sendto: %s", strerror(errno));
	else
		G.st.tx++;
}

static void refused(const struct gks_peer *p, const char *group, const char *reason)
{
	G.st.refused++;
	log_warn("gks", "registration from %s refused: %s", p->addr, reason);
	struct event e;
	ev_begin(&e, EV_REGISTRATION_REFUSED);
	ev_param(&e, "member", "%s", p->addr);
	if (group)
		ev_param(&e, "group", "%s", group);
	ev_param(&e, "reason", "%s", reason);
	ev_publish(&e, "registration from %s refused: %s", p->addr, reason);
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

static int new_tek(struct gks_tek *t, const struct cfg_ipsec_sa *pol)
{
	const struct esp_suite *s = &esp_suites[pol->proposal];
	memset(t, 0, sizeof(*t));
	t->pol = pol;
	str_copy(t->name, pol->name, sizeof(t->name));
	t->proposal = pol->proposal;
	t->transform = s->transform;
	t->key_bits = s->key_bits;
	t->auth_alg = s->auth;
	t->enc_len = s->enc_len;
	t->integ_len = s->integ_len;
	do {
		if (crypto_random(&t->spi, sizeof(t->spi)) < 0)
			return -1;
	} while (t->spi < 256); /* SPIs 1-255 are reserved (RFC 4303 2.1) */
	return crypto_random(t->enc, t->enc_len) | crypto_random(t->integ, t->integ_len);
}

static int new_kek(struct gks_group *g)
{
	const struct cfg_smc *smc = g->cfg->smc;
	unsigned bits;
	int cipher = cipher_of(smc->encryption_algorithm, &bits);
	g->kek_alg = cipher == CRYPTO_CIPHER_AES ? GDOI_KEK_ALG_AES :
		     cipher == CRYPTO_CIPHER_3DES ? GDOI_KEK_ALG_3DES : GDOI_KEK_ALG_DES;
	g->kek_bits = (uint16_t)(bits ? bits : cipher == CRYPTO_CIPHER_3DES ? 192 : 64);
	g->kek_key_len = crypto_cipher_key_len(cipher, bits);
	g->has_kek = 1;
	if (crypto_cipher_weak(cipher) || smc->sig_hash_algorithm <= CFG_HASH_SHA1)
		log_warn("gks", "group %s: server-member communication uses weak algorithms (%s, %s)",
			 g->cfg->name, cfg_enum_name(cfg_enc_names, smc->encryption_algorithm),
			 cfg_enum_name(cfg_hash_names, smc->sig_hash_algorithm));
	return crypto_random(g->kek_spi, sizeof(g->kek_spi)) | crypto_random(g->kek_key, g->kek_key_len);
}

static int group_keys(struct gks_group *g)
{
	if (g->cfg->smc && new_kek(g) < 0)
		return -1;
	g->n_tek = g->cfg->n_ipsec_sa < GDOI_MAX_TEKS ? g->cfg->n_ipsec_sa : GDOI_MAX_TEKS;
	for (size_t i = 0; i < g->n_tek; i++) {
		if (new_tek(&g->tek[i], &g->cfg->ipsec_sa[i]) < 0)
			return -1;
		if (g->cfg->ipsec_sa[i].proposal >= 5)
			log_warn("gks", "group %s: ipsec_sa %s uses a weak proposal (%s)", g->cfg->name,
				 g->cfg->ipsec_sa[i].name,
				 cfg_enum_name(cfg_proposal_names, g->cfg->ipsec_sa[i].proposal));
	}
	return 0;
}

/* ---- policy payloads --------------------------------------------------------------- */

static void prefix_ident(const char *prefix, uint16_t port, struct gdoi_ident *id)
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
	if (inet_pton(AF_INET, buf, id->data) == 1) {
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

static void build_sa(const struct gks_group *g, struct gdoi_sa *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->doi = GDOI_DOI;
	sa->situation = 0;
	const struct cfg_smc *smc = g->cfg->smc;
	if (g->has_kek) {
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
		if (smc->multicast_group)
			inet_pton(AF_INET, smc->multicast_group, k->dst.data);
		k->dst.len = 4;
		memcpy(k->spi, g->kek_spi, 16);
		k->alg = g->kek_alg;
		k->key_bits = g->kek_bits;
		k->lifetime = (uint32_t)smc->lifetime_seconds;
		k->sig_hash = (uint16_t)(smc->sig_hash_algorithm + 1); /* md5 = 1 ... sha-512 = 5 */
		k->sig_alg = GDOI_SIG_ALG_RSA;
		k->sig_key_bits = GKS_RSA_BITS;
		/* RFC 8263 acknowledgements come with GROUPKEY-PUSH; the
		 * KEK_ACK_REQUESTED number and values are not yet confirmed from
		 * the RFC text, so the attribute is not sent. */
		k->ack_requested = 0;
	}
	sa->n_tek = g->n_tek;
	for (size_t i = 0; i < g->n_tek; i++) {
		const struct gks_tek *t = &g->tek[i];
		struct gdoi_sa_tek *s = &sa->tek[i];
		s->protocol = GDOI_PROTO_IPSEC_ESP;
		s->ip_proto = (uint8_t)t->pol->match.protocol;
		prefix_ident(t->pol->match.source, (uint16_t)t->pol->match.source_port, &s->src);
		prefix_ident(t->pol->match.destination, (uint16_t)t->pol->match.destination_port, &s->dst);
		s->transform = t->transform;
		s->spi = t->spi;
		s->auth_alg = t->auth_alg;
		s->key_bits = t->key_bits;
		s->lifetime = (uint32_t)t->pol->lifetime_seconds;
		s->encap = GDOI_ENCAP_TUNNEL;
	}
	sa->has_gap = 1;
	sa->atd = (uint16_t)g->cfg->activation_time_delay;
	sa->dtd = (uint16_t)g->cfg->activation_time_delay;
}

static void build_kd(const struct gks_group *g, struct gdoi_kd *kd)
{
	memset(kd, 0, sizeof(*kd));
	for (size_t i = 0; i < g->n_tek && kd->n < GDOI_MAX_KEYPKTS; i++) {
		struct gdoi_keypkt *k = &kd->k[kd->n++];
		const struct gks_tek *t = &g->tek[i];
		k->type = GDOI_KD_TEK;
		uint32_t spi = htonl(t->spi);
		memcpy(k->spi, &spi, 4);
		k->spi_len = 4;
		memcpy(k->alg_key, t->enc, t->enc_len);
		k->alg_key_len = t->enc_len;
		memcpy(k->integ_key, t->integ, t->integ_len);
		k->integ_key_len = t->integ_len;
	}
	if (g->has_kek && kd->n < GDOI_MAX_KEYPKTS) {
		struct gdoi_keypkt *k = &kd->k[kd->n++];
		k->type = GDOI_KD_KEK;
		memcpy(k->spi, g->kek_spi, 16);
		k->spi_len = 16;
		memcpy(k->alg_key, g->kek_key, g->kek_key_len);
		k->alg_key_len = g->kek_key_len;
		memcpy(k->sig_key, G.rsa_pub, G.rsa_pub_len);
		k->sig_key_len = G.rsa_pub_len;
	}
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

/* ---- peers ---------------------------------------------------------------------- */

static void peer_free(struct gks_peer *p)
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
	if (p->half_open)
		G.st.half_open--;
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
		log_info("gks", "phase 1 exchange with %s expired in state %s", p->addr,
			 ike_state_name(p->ike.state));
	}
	peer_free(p);
}

static struct gks_peer *peer_find(const struct isakmp_hdr *h)
{
	for (struct gks_peer *p = G.bucket[bucket_of(h->icookie)]; p; p = p->next)
		if (!memcmp(p->ike.icky, h->icookie, 8))
			return p;
	return NULL;
}

static size_t half_open_from(const struct sockaddr_in *from)
{
	size_t n = 0;
	for (struct gks_peer *p = G.all; p; p = p->all_next)
		if (p->half_open && ((struct sockaddr_in *)&p->ike.peer)->sin_addr.s_addr ==
					    from->sin_addr.s_addr)
			n++;
	return n;
}

static struct gks_peer *peer_new(const struct isakmp_hdr *h, const struct sockaddr_in *from)
{
	const struct cfg_gks *k = G.cfg->gks;
	char a[INET6_ADDRSTRLEN];
	addr_str(from, a, sizeof(a));
	if ((long)G.st.half_open >= k->max_half_open ||
	    (long)half_open_from(from) >= k->max_half_open_per_peer) {
		G.st.drop_half_open++;
		log_info("gks", "new exchange from %s dropped: half-open limit (%ld in total, %ld per peer)",
			 a, k->max_half_open, k->max_half_open_per_peer);
		return NULL;
	}
	struct gks_peer *p = xcalloc(1, sizeof(*p));
	ike_sa_init(&p->ike, 0, (const struct sockaddr *)from, sizeof(*from));
	memcpy(p->ike.icky, h->icookie, 8);
	memcpy(p->addr, a, sizeof(a));
	if (G.pcap) {
		p->ike.plain_hook = pcap_hook;
		p->ike.hook_arg = p;
	}
	p->half_open = 1;
	G.st.half_open++;
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
	addr_str((const struct sockaddr_in *)peer, a, sizeof(a));
	size_t seen = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t g = 0; g < G.n_groups; g++) {
			const struct cfg_group *cg = G.groups[g].cfg;
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

/* ---- GROUPKEY-PULL ------------------------------------------------------------------ */

static void put_pull_hdr(const struct gks_peer *p, struct gdoi_buf *b)
{
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = GDOI_EXCH_PULL,
				.flags = ISAKMP_FLAG_ENC, .msgid = p->msgid };
	memcpy(h.icookie, p->ike.icky, 8);
	memcpy(h.rcookie, p->ike.rcky, 8);
	gdoi_put_hdr(b, &h);
}

/* Writes HASH(n) at hash_at over prefix | everything after the HASH payload. */
static int fill_hash(struct gks_peer *p, struct gdoi_buf *b, size_t hash_at,
		     const struct crypto_iov *prefix, size_t n_prefix)
{
	size_t hl = p->ike.keys.hash_len;
	size_t after = hash_at + 4 + hl;
	return ike_hash_a(&p->ike, p->msgid, prefix, n_prefix, b->data + after, b->len - after,
			  b->data + hash_at + 4);
}

static int verify_hash(const struct gks_peer *p, const struct gdoi_chain *c, const uint8_t *chain_start,
		       const struct crypto_iov *prefix, size_t n_prefix)
{
	return ike_check_hash_a(&p->ike, p->msgid, prefix, n_prefix, c, chain_start);
}

static struct gks_group *group_by_id(const struct gdoi_id *id, uint32_t *gid)
{
	if (id->type != ISAKMP_ID_KEY_ID || (id->len != 4 && id->len != 2))
		return NULL;
	*gid = id->len == 4 ? (uint32_t)id->data[0] << 24 | (uint32_t)id->data[1] << 16 |
				      (uint32_t)id->data[2] << 8 | id->data[3]
			    : (uint32_t)id->data[0] << 8 | id->data[1];
	for (size_t i = 0; i < G.n_groups; i++)
		if ((uint32_t)G.groups[i].cfg->group_id == *gid)
			return &G.groups[i];
	return NULL;
}

static int member_allowed(const struct gks_group *g, const struct gks_peer *p)
{
	const struct gdoi_id *id = &p->ike.id_peer;
	for (size_t m = 0; m < g->cfg->n_members; m++) {
		const struct cfg_member *mem = &g->cfg->members[m];
		if (strcmp(mem->psk_value ? mem->psk_value : "", p->ike.psk))
			continue;
		if (mem->address && cfg_addr_match(mem->address, p->addr))
			return 1;
		if (mem->identity && id->len == strlen(mem->identity) &&
		    !memcmp(id->data, mem->identity, id->len))
			return 1;
	}
	return 0;
}

/* Tells an authenticated member why its GROUPKEY-PULL was refused: an
 * informational exchange protected by the phase 1 SA (RFC 2409 5.7:
 * HDR*, HASH(1), N with HASH(1) = prf(SKEYID_a, M-ID | N)). */
static void send_protected_notify(struct gks_peer *p, uint16_t type)
{
	uint32_t msgid = 0;
	while (!msgid)
		crypto_random(&msgid, sizeof(msgid));
	uint8_t iv[CRYPTO_MAX_BLOCK];
	if (ike_exchange_iv(&p->ike, msgid, iv) < 0)
		return;
	struct gdoi_buf b;
	gdoi_buf_init(&b);
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = ISAKMP_EXCH_INFO,
				.flags = ISAKMP_FLAG_ENC, .msgid = msgid };
	memcpy(h.icookie, p->ike.icky, 8);
	memcpy(h.rcookie, p->ike.rcky, 8);
	gdoi_put_hdr(&b, &h);
	size_t hash_at = b.len;
	uint8_t zero[CRYPTO_MAX_HASH] = { 0 };
	gdoi_put_payload(&b, ISAKMP_NP_HASH, zero, p->ike.keys.hash_len);
	gdoi_put_notify(&b, GDOI_DOI, ISAKMP_PROTO_ISAKMP, type, NULL, 0);
	size_t after = hash_at + 4 + p->ike.keys.hash_len;
	if (ike_hash_a(&p->ike, msgid, NULL, 0, b.data + after, b.len - after, b.data + hash_at + 4) == 0 &&
	    ike_seal(&p->ike, &b, iv) == 0)
		send_to((const struct sockaddr_in *)&p->ike.peer, b.data, b.len);
	gdoi_buf_free(&b);
}

static int pull_msg1(struct gks_peer *p, const struct gdoi_chain *c, const uint8_t *chain,
		     struct gdoi_buf *out)
{
	const struct gdoi_payload *np = gdoi_chain_find(c, ISAKMP_NP_NONCE);
	const struct gdoi_payload *idp = gdoi_chain_find(c, ISAKMP_NP_ID);
	if (!np || !idp || np->len < 8 || np->len > sizeof(p->ni) || verify_hash(p, c, chain, NULL, 0) < 0) {
		G.st.drop_malformed++;
		log_info("gks", "GROUPKEY-PULL message 1 from %s: bad HASH(1) or missing payloads", p->addr);
		return -1;
	}
	struct gdoi_id id;
	uint32_t gid = 0;
	if (gdoi_id_parse(idp->body, idp->len, &id) < 0) {
		refused(p, NULL, "malformed group ID");
		send_protected_notify(p, ISAKMP_N_INVALID_ID_INFORMATION);
		return -1;
	}
	struct gks_group *g = group_by_id(&id, &gid);
	char gname[16];
	snprintf(gname, sizeof(gname), "%u", gid);
	if (!g) {
		refused(p, gname, "unknown group");
		send_protected_notify(p, ISAKMP_N_INVALID_ID_INFORMATION);
		return -1;
	}
	if (!member_allowed(g, p)) {
		refused(p, gname, "not a member of this group");
		send_protected_notify(p, ISAKMP_N_AUTHENTICATION_FAILED);
		return -1;
	}
	memcpy(p->ni, np->body, np->len);
	p->ni_len = np->len;
	p->group = g;
	crypto_random(p->nr, sizeof(p->nr));

	struct gdoi_sa sa;
	build_sa(g, &sa);
	put_pull_hdr(p, out);
	size_t hash_at = out->len;
	uint8_t zero[CRYPTO_MAX_HASH] = { 0 };
	gdoi_put_payload(out, ISAKMP_NP_HASH, zero, p->ike.keys.hash_len);
	gdoi_put_payload(out, ISAKMP_NP_NONCE, p->nr, sizeof(p->nr));
	gdoi_put_sa(out, &sa);
	struct crypto_iov pre[] = { { p->ni, p->ni_len } };
	if (fill_hash(p, out, hash_at, pre, 1) < 0)
		return -1;
	p->pull = PULL_SENT2;
	return 1;
}

static void register_member(struct gks_peer *p)
{
	struct gks_group *g = p->group;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&p->ike.peer;
	char key[sizeof(((struct gks_member *)0)->addr)];
	snprintf(key, sizeof(key), "%s:%u", p->addr, ntohs(sin->sin_port));
	struct gks_member *m;
	for (m = g->members; m && strcmp(m->addr, key); m = m->next)
		;
	if (!m) {
		m = xcalloc(1, sizeof(*m));
		str_copy(m->addr, key, sizeof(m->addr));
		m->next = g->members;
		g->members = m;
		g->n_members++;
	}
	const struct gdoi_id *id = &p->ike.id_peer;
	size_t n = id->len < sizeof(m->identity) - 1 ? id->len : sizeof(m->identity) - 1;
	for (size_t i = 0; i < n; i++)
		m->identity[i] = id->data[i] >= 0x20 && id->data[i] < 0x7f ? (char)id->data[i] : '.';
	m->identity[n] = '\0';
	if (id->type == ISAKMP_ID_IPV4_ADDR && id->len == 4)
		inet_ntop(AF_INET, id->data, m->identity, sizeof(m->identity));
	clock_gettime(CLOCK_REALTIME, &m->registered);
	m->registrations++;
	G.st.registrations++;
	char suite[64];
	ike_proposal_str(&p->ike.prop, suite, sizeof(suite));
	struct event e;
	ev_begin(&e, EV_MEMBER_REGISTERED);
	ev_param(&e, "group", "%ld", g->cfg->group_id);
	ev_param(&e, "member", "%s", p->addr);
	ev_param(&e, "identity", "%s", m->identity);
	ev_param(&e, "suite", "%s", suite);
	ev_param(&e, "seq", "%u", g->seq);
	ev_publish(&e, "member %s (%s) registered to group %s (%ld) with %s", p->addr, m->identity,
		   g->cfg->name, g->cfg->group_id, suite);
}

static int pull_msg3(struct gks_peer *p, const struct gdoi_chain *c, const uint8_t *chain,
		     struct gdoi_buf *out)
{
	struct crypto_iov pre[] = { { p->ni, p->ni_len }, { p->nr, sizeof(p->nr) } };
	if (verify_hash(p, c, chain, pre, 2) < 0) {
		G.st.drop_malformed++;
		log_info("gks", "GROUPKEY-PULL message 3 from %s: bad HASH(3)", p->addr);
		return -1;
	}
	struct gks_group *g = p->group;
	struct gdoi_kd kd;
	build_kd(g, &kd);
	put_pull_hdr(p, out);
	size_t hash_at = out->len;
	uint8_t zero[CRYPTO_MAX_HASH] = { 0 };
	gdoi_put_payload(out, ISAKMP_NP_HASH, zero, p->ike.keys.hash_len);
	gdoi_put_seq(out, g->seq);
	gdoi_put_kd(out, &kd);
	gdoi_kd_wipe(&kd);
	if (fill_hash(p, out, hash_at, pre, 2) < 0)
		return -1;
	p->pull = PULL_DONE;
	register_member(p);
	loop_timer_arm_ms(&p->timer, GKS_DONE_LINGER_S * 1000u);
	return 1;
}

static void on_pull(struct gks_peer *p, const uint8_t *msg, size_t len, const struct isakmp_hdr *h)
{
	const struct sockaddr_in *from = (const struct sockaddr_in *)&p->ike.peer;
	if (p->ike.state != IKE_ESTABLISHED || !(h->flags & ISAKMP_FLAG_ENC) || !h->msgid) {
		G.st.drop_malformed++;
		return;
	}
	if (p->last_in && len == p->last_in_len && !memcmp(msg, p->last_in, len)) {
		if (p->last_out)
			send_to(from, p->last_out, p->last_out_len);
		return;
	}
	if (p->pull == PULL_NONE) {
		p->msgid = h->msgid;
		ike_exchange_iv(&p->ike, p->msgid, p->iv);
	} else if (h->msgid != p->msgid || p->pull == PULL_DONE) {
		G.st.drop_malformed++;
		return;
	}
	uint8_t iv[CRYPTO_MAX_BLOCK], *plain;
	memcpy(iv, p->iv, sizeof(iv));
	if (ike_open(&p->ike, msg, len, iv, &plain) < 0) {
		G.st.drop_malformed++;
		return;
	}
	struct gdoi_chain c;
	const uint8_t *chain = plain + ISAKMP_HDR_LEN;
	struct gdoi_buf out;
	gdoi_buf_init(&out);
	int rc = -1;
	if (gdoi_chain_parse(h->np, chain, len - ISAKMP_HDR_LEN, 1, &c) < 0) {
		G.st.drop_malformed++;
		goto done;
	}
	ike_plain_hook(&p->ike, plain, c.used, 1);
	rc = p->pull == PULL_NONE ? pull_msg1(p, &c, chain, &out) : pull_msg3(p, &c, chain, &out);
	if (rc != 1)
		goto done;
	ike_plain_hook(&p->ike, out.data, out.len - ISAKMP_HDR_LEN, 0);
	memcpy(p->iv, iv, sizeof(iv));
	if (ike_seal(&p->ike, &out, p->iv) < 0)
		goto done;
	send_to(from, out.data, out.len);
	free(p->last_in);
	free(p->last_out);
	p->last_in = xmalloc(len);
	memcpy(p->last_in, msg, len);
	p->last_in_len = len;
	p->last_out = xmalloc(out.len);
	memcpy(p->last_out, out.data, out.len);
	p->last_out_len = out.len;
done:
	OPENSSL_cleanse(plain, len);
	free(plain);
	gdoi_buf_free(&out);
}

/* ---- Main Mode ------------------------------------------------------------------------ */

static void send_notify(const struct gks_peer *p, int type)
{
	struct gdoi_buf b;
	gdoi_buf_init(&b);
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = ISAKMP_EXCH_INFO };
	memcpy(h.icookie, p->ike.icky, 8);
	memcpy(h.rcookie, p->ike.rcky, 8);
	gdoi_put_hdr(&b, &h);
	gdoi_put_notify(&b, ISAKMP_DOI_IPSEC, ISAKMP_PROTO_ISAKMP, (uint16_t)type, NULL, 0);
	gdoi_finish(&b);
	send_to((const struct sockaddr_in *)&p->ike.peer, b.data, b.len);
	gdoi_buf_free(&b);
}

static void on_main(struct gks_peer *p, const uint8_t *msg, size_t len)
{
	struct gdoi_buf out;
	gdoi_buf_init(&out);
	int rc = ike_input(&p->ike, msg, len, G.props, G.n_props, psk_candidate, NULL, &out);
	if (rc == 1)
		send_to((const struct sockaddr_in *)&p->ike.peer, out.data, out.len);
	gdoi_buf_free(&out);
	if (rc < 0 && p->ike.state != IKE_FAILED) {
		G.st.drop_malformed++;
		log_debug("gks", "Main Mode datagram from %s ignored: %s", p->addr, p->ike.error);
		return;
	}
	if (rc < 0) {
		if (p->ike.notify == ISAKMP_N_AUTHENTICATION_FAILED ||
		    p->ike.notify == ISAKMP_N_NO_PROPOSAL_CHOSEN)
			refused(p, NULL, p->ike.error);
		else
			log_info("gks", "Main Mode with %s failed: %s", p->addr, p->ike.error);
		if (p->ike.notify)
			send_notify(p, p->ike.notify);
		peer_free(p);
		return;
	}
	if (p->ike.state == IKE_ESTABLISHED && p->half_open) {
		p->half_open = 0;
		G.st.half_open--;
		char suite[64];
		ike_proposal_str(&p->ike.prop, suite, sizeof(suite));
		log_debug("gks", "phase 1 SA with %s established (%s)", p->addr, suite);
		if (ike_proposal_weak(&p->ike.prop))
			log_warn("gks", "phase 1 SA with %s uses a weak suite: %s", p->addr, suite);
	}
}

static void on_datagram(const uint8_t *msg, size_t len, const struct sockaddr_in *from)
{
	struct isakmp_hdr h;
	G.st.rx++;
	if (isakmp_hdr_parse(msg, len, &h) < 0) {
		G.st.drop_malformed++;
		return;
	}
	static const uint8_t zero[8];
	struct gks_peer *p = peer_find(&h);
	if (p && ((struct sockaddr_in *)&p->ike.peer)->sin_addr.s_addr != from->sin_addr.s_addr)
		p = NULL; /* cookies are per peer address */
	if (!p) {
		if (h.exchange != ISAKMP_EXCH_MAIN || memcmp(h.rcookie, zero, 8)) {
			G.st.drop_unknown_sa++;
			return;
		}
		p = peer_new(&h, from);
		if (!p)
			return;
	} else if (memcmp(h.rcookie, zero, 8) && memcmp(h.rcookie, p->ike.rcky, 8)) {
		G.st.drop_unknown_sa++;
		return;
	}
	switch (h.exchange) {
	case ISAKMP_EXCH_MAIN:
		on_main(p, msg, len);
		break;
	case GDOI_EXCH_PULL:
		on_pull(p, msg, len, &h);
		break;
	default:
		G.st.drop_malformed++;
	}
}

static void on_readable(int fd, uint32_t revents GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	uint8_t buf[GDOI_MAX_MSG];
	for (int i = 0; i < 256; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("gks", "recvfrom: %s", strerror(errno));
			return;
		}
		if (from.sin_family == AF_INET)
			on_datagram(buf, (size_t)n, &from);
	}
}

/* ---- setup ---------------------------------------------------------------------------- */

static void load_proposals(const struct cfg_gks *k)
{
	G.n_props = 0;
	for (size_t i = 0; i < k->n_ike_proposals && G.n_props < IKE_MAX_PROPOSALS; i++) {
		const struct cfg_ike_proposal *cp = &k->ike_proposals[i];
		struct ike_proposal *p = &G.props[G.n_props++];
		p->cipher = cipher_of(cp->encryption, &p->key_bits);
		p->hash = hash_of(cp->hash);
		p->group = cfg_dh_numbers[cp->dh_group];
		p->life_seconds = (uint32_t)cp->lifetime_seconds;
		char s[64];
		ike_proposal_str(p, s, sizeof(s));
		if (ike_proposal_weak(p))
			log_warn("gks", "IKE proposal %s is weak; accepted because it is configured", s);
	}
}

static void free_members(struct gks_group *g)
{
	while (g->members) {
		struct gks_member *m = g->members;
		g->members = m->next;
		free(m);
	}
	g->n_members = 0;
}

static int open_socket(const char *listen)
{
	char host[INET6_ADDRSTRLEN + 1];
	long port;
	if (cfg_parse_hostport(listen, host, sizeof(host), &port) < 0 ||
	    inet_pton(AF_INET, host, &G.local.sin_addr) != 1) {
		log_err("gks", "listen address %s: only IPv4 is supported for now", listen);
		return -1;
	}
	G.local.sin_family = AF_INET;
	G.local.sin_port = htons((uint16_t)port);
	G.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (G.fd < 0 || bind(G.fd, (struct sockaddr *)&G.local, sizeof(G.local)) < 0) {
		log_err("gks", "cannot listen on udp %s: %s", listen, strerror(errno));
		return -1;
	}
	int sz = 4 << 20;
	setsockopt(G.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(G.fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	G.h = loop_fd_add(G.fd, EPOLLIN, on_readable, NULL);
	return G.h ? 0 : -1;
}

int gks_init(const struct cfg *c)
{
	if (!c->gks)
		return 0;
	G.cfg = c;
	load_proposals(c->gks);
	G.rsa = crypto_rsa_generate(GKS_RSA_BITS);
	G.rsa_pub_len = sizeof(G.rsa_pub);
	if (!G.rsa || crypto_rsa_public_der(G.rsa, G.rsa_pub, &G.rsa_pub_len) < 0) {
		log_err("gks", "cannot create the server's RSA key");
		return -1;
	}
	G.n_groups = c->gks->n_groups;
	G.groups = xcalloc(G.n_groups ? G.n_groups : 1, sizeof(*G.groups));
	for (size_t i = 0; i < G.n_groups; i++) {
		G.groups[i].cfg = &c->gks->groups[i];
		if (group_keys(&G.groups[i]) < 0) {
			log_err("gks", "cannot create keys for group %s", c->gks->groups[i].name);
			return -1;
		}
	}
	if (c->gks->debug_pcap)
		G.pcap = pcapw_open(c->gks->debug_pcap);
	if (open_socket(c->gks->listen) < 0)
		return -1;
	log_info("gks", "group key server on udp %s: %zu group%s", c->gks->listen, G.n_groups,
		 G.n_groups == 1 ? "" : "s");
	return 0;
}

void gks_fini(void)
{
	while (G.all)
		peer_free(G.all);
	for (size_t i = 0; i < G.n_groups; i++)
		free_members(&G.groups[i]);
	if (G.groups)
		OPENSSL_cleanse(G.groups, G.n_groups * sizeof(*G.groups));
	free(G.groups);
	if (G.h)
		loop_fd_del(G.h);
	if (G.fd >= 0)
		close(G.fd);
	crypto_rsa_free(G.rsa);
	pcapw_close(G.pcap);
	memset(&G, 0, sizeof(G));
	G.fd = -1;
}

/* Moves live state to the groups of a new model: a group is the same
 * group when its group_id is, a TEK policy the same when its name is;
 * they keep their keys, SEQ and members. New groups and policies get
 * fresh keys; removed ones are dropped. (Rekeys for these changes come
 * with GROUPKEY-PUSH.) Registrations in flight keep a pointer to their
 * group, so those are restarted by the member. */
void gks_reconfigure(const struct cfg *c)
{
	if (!G.cfg || !c->gks)
		return;
	size_t n = c->gks->n_groups;
	struct gks_group *ng = xcalloc(n ? n : 1, sizeof(*ng));
	for (size_t j = 0; j < n; j++) {
		struct gks_group *g = &ng[j], *old = NULL;
		g->cfg = &c->gks->groups[j];
		for (size_t i = 0; i < G.n_groups && !old; i++)
			if (G.groups[i].cfg && G.groups[i].cfg->group_id == g->cfg->group_id)
				old = &G.groups[i];
		if (!old || (!old->has_kek && g->cfg->smc)) {
			group_keys(g);
			if (old) {
				g->members = old->members;
				g->n_members = old->n_members;
				g->seq = old->seq;
				old->members = NULL;
				old->cfg = NULL;
			}
			continue;
		}
		g->has_kek = old->has_kek && g->cfg->smc;
		memcpy(g->kek_spi, old->kek_spi, sizeof(g->kek_spi));
		memcpy(g->kek_key, old->kek_key, sizeof(g->kek_key));
		g->kek_key_len = old->kek_key_len;
		g->kek_alg = old->kek_alg;
		g->kek_bits = old->kek_bits;
		g->seq = old->seq;
		g->members = old->members;
		g->n_members = old->n_members;
		old->members = NULL;
		old->cfg = NULL;
		for (size_t t = 0; t < g->cfg->n_ipsec_sa && g->n_tek < GDOI_MAX_TEKS; t++) {
			const struct cfg_ipsec_sa *pol = &g->cfg->ipsec_sa[t];
			struct gks_tek *tek = &g->tek[g->n_tek++];
			size_t k;
			for (k = 0; k < old->n_tek; k++)
				if (!strcmp(old->tek[k].name, pol->name) && old->tek[k].proposal == pol->proposal)
					break;
			if (k < old->n_tek) {
				*tek = old->tek[k];
				tek->pol = pol;
			} else {
				new_tek(tek, pol);
			}
		}
	}
	/* Registrations in flight name their group by pointer: drop them. */
	for (struct gks_peer *p = G.all, *next; p; p = next) {
		next = p->all_next;
		if (p->group)
			peer_free(p);
	}
	for (size_t i = 0; i < G.n_groups; i++)
		free_members(&G.groups[i]);
	OPENSSL_cleanse(G.groups, G.n_groups * sizeof(*G.groups));
	free(G.groups);
	G.groups = ng;
	G.n_groups = n;
	G.cfg = c;
	load_proposals(c->gks);
}

const struct gks_stats *gks_stats(void)
{
	return &G.st;
}

size_t gks_member_count(void)
{
	size_t n = 0;
	for (size_t i = 0; i < G.n_groups; i++)
		n += G.groups[i].n_members;
	return n;
}

static void add_time(cJSON *o, const char *k, const struct timespec *ts)
{
	struct tm tm;
	char buf[40];
	gmtime_r(&ts->tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, k, buf);
}

cJSON *gks_status_json(void)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *gs = cJSON_AddArrayToObject(o, "groups");
	for (size_t i = 0; i < G.n_groups; i++) {
		const struct gks_group *g = &G.groups[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "name", g->cfg->name);
		cJSON_AddNumberToObject(j, "group_id", (double)g->cfg->group_id);
		cJSON_AddNumberToObject(j, "seq", g->seq);
		cJSON_AddNumberToObject(j, "members", (double)g->n_members);
		cJSON *ms = cJSON_AddArrayToObject(j, "registered_members");
		for (const struct gks_member *m = g->members; m; m = m->next) {
			cJSON *mj = cJSON_CreateObject();
			cJSON_AddStringToObject(mj, "address", m->addr);
			cJSON_AddStringToObject(mj, "identity", m->identity);
			add_time(mj, "registered", &m->registered);
			cJSON_AddNumberToObject(mj, "registrations", m->registrations);
			cJSON_AddItemToArray(ms, mj);
		}
		cJSON *teks = cJSON_AddArrayToObject(j, "teks");
		for (size_t t = 0; t < g->n_tek; t++) {
			cJSON *tj = cJSON_CreateObject();
			char spi[16];
			snprintf(spi, sizeof(spi), "0x%08x", g->tek[t].spi);
			cJSON_AddStringToObject(tj, "name", g->tek[t].pol->name);
			cJSON_AddStringToObject(tj, "spi", spi);
			cJSON_AddStringToObject(tj, "proposal",
						cfg_enum_name(cfg_proposal_names, g->tek[t].pol->proposal));
			cJSON_AddItemToArray(teks, tj);
		}
		cJSON_AddItemToArray(gs, j);
	}
	const struct gks_stats *s = &G.st;
	cJSON *st = cJSON_AddObjectToObject(o, "stats");
	cJSON_AddNumberToObject(st, "registrations", (double)s->registrations);
	cJSON_AddNumberToObject(st, "refused", (double)s->refused);
	cJSON_AddNumberToObject(st, "drop_malformed", (double)s->drop_malformed);
	cJSON_AddNumberToObject(st, "drop_unknown_sa", (double)s->drop_unknown_sa);
	cJSON_AddNumberToObject(st, "drop_half_open", (double)s->drop_half_open);
	cJSON_AddNumberToObject(st, "expired", (double)s->expired);
	cJSON_AddNumberToObject(st, "half_open", (double)s->half_open);
	cJSON_AddNumberToObject(st, "phase1_sas", (double)s->sas);
	return o;
}
