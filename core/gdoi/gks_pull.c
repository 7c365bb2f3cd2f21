/* SPDX-License-Identifier: BSD-2-Clause */
/* gks_pull.c: registration, part 2: GROUPKEY-PULL (RFC 6407 3.2) on an
 * established phase 1 SA (gks_peer.c):
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
 * included) and _b for its body. Message 1 names the group (a KEY_ID or
 * one of its pull_ids) and is refused, with a protected notify, for an
 * unknown group or a peer that is no member of it. Nothing about a
 * member is recorded before message 3 proves it holds our nonce; then
 * its entry is made or refreshed (gks_member.c). A member whose keys
 * changed between messages 2 and 4 gets the keys message 2 named and,
 * right after, the push that replaced them (gks_round_catch_up()). */
#include "config.h"
#include "core/gdoi/gks_int.h"
#include "core/ev.h"
#include "core/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* The identity a member is known by: its phase 1 ID as printable text
 * (an ID_IPV4_ADDR as an address). */
static void identity_text(const struct gdoi_id *id, char *out, size_t len)
{
	size_t n = id->len < len - 1 ? id->len : len - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = id->data[i] >= 0x20 && id->data[i] < 0x7f ? (char)id->data[i] : '.';
	out[n] = '\0';
	if (id->type == ISAKMP_ID_IPV4_ADDR && id->len == 4)
		inet_ntop(AF_INET, id->data, out, len);
}

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

/* KEY_ID: the group ID in 2 or 4 octets, in the group's byte order
 * (gdoid writes its Key-value in host order). */
static int key_id_names(const struct gks_group *g, const struct gdoi_id *id, uint32_t *gid)
{
	const uint8_t *d = id->data;
	uint32_t v;

	if (id->type != ISAKMP_ID_KEY_ID || (id->len != 4 && id->len != 2))
		return 0;
	if (g->cfg->key_id_byte_order == CFG_LITTLE_ENDIAN)
		v = id->len == 4 ? (uint32_t)d[3] << 24 | (uint32_t)d[2] << 16 | (uint32_t)d[1] << 8 | d[0]
				 : (uint32_t)d[1] << 8 | d[0];
	else
		v = id->len == 4 ? (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3]
				 : (uint32_t)d[0] << 8 | d[1];
	*gid = v;
	return v == (uint32_t)g->cfg->group_id;
}

/* One pull_ids entry against an ID of type ID_IPV4_ADDR (inside an
 * address, prefix or range entry), _SUBNET or _RANGE (the same prefix or
 * range), or FQDN / USER_FQDN (the same name, case aside). */
static int pull_id_matches(const char *entry, const struct gdoi_id *id)
{
	char text[INET_ADDRSTRLEN * 2 + 4], a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	uint32_t mask;
	int bits = 0;

	switch (id->type) {
	case ISAKMP_ID_IPV4_ADDR:
		if (id->len != 4 || !inet_ntop(AF_INET, id->data, a, sizeof(a)))
			return 0;
		if (strchr(entry, '-')) {
			struct in_addr lo, hi, x;
			char l[INET_ADDRSTRLEN];
			size_t n = (size_t)(strchr(entry, '-') - entry);
			if (n >= sizeof(l))
				return 0;
			memcpy(l, entry, n);
			l[n] = '\0';
			memcpy(&x, id->data, 4);
			return inet_pton(AF_INET, l, &lo) == 1 && inet_pton(AF_INET, entry + n + 1, &hi) == 1 &&
			       ntohl(x.s_addr) >= ntohl(lo.s_addr) && ntohl(x.s_addr) <= ntohl(hi.s_addr);
		}
		return cfg_addr_match(entry, a);
	case ISAKMP_ID_IPV4_ADDR_SUBNET:
		if (id->len != 8 || !inet_ntop(AF_INET, id->data, a, sizeof(a)))
			return 0;
		memcpy(&mask, id->data + 4, 4);
		for (mask = ntohl(mask); mask & 0x80000000u; mask <<= 1)
			bits++;
		snprintf(text, sizeof(text), "%s/%d", a, bits);
		return !strcmp(entry, text);
	case ISAKMP_ID_IPV4_ADDR_RANGE:
		if (id->len != 8 || !inet_ntop(AF_INET, id->data, a, sizeof(a)) ||
		    !inet_ntop(AF_INET, id->data + 4, b, sizeof(b)))
			return 0;
		snprintf(text, sizeof(text), "%s-%s", a, b);
		return !strcmp(entry, text);
	case ISAKMP_ID_FQDN:
	case ISAKMP_ID_USER_FQDN:
		return id->len == strlen(entry) && !strncasecmp(entry, (const char *)id->data, id->len);
	default:
		return 0;
	}
}

/* For messages: the group number a KEY_ID names, else the ID as text. */
static void pull_id_text(const struct gdoi_id *id, uint32_t gid, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	size_t n;

	if (id->type == ISAKMP_ID_KEY_ID || id->len < 4) {
		snprintf(buf, len, "%u", gid);
	} else if (id->type == ISAKMP_ID_FQDN || id->type == ISAKMP_ID_USER_FQDN) {
		n = id->len < len ? id->len : len - 1;
		for (size_t i = 0; i < n; i++)
			buf[i] = isprint(id->data[i]) ? (char)id->data[i] : '?';
		buf[n] = '\0';
	} else if (inet_ntop(AF_INET, id->data, a, sizeof(a))) {
		if (id->len == 8 && inet_ntop(AF_INET, id->data + 4, b, sizeof(b)))
			snprintf(buf, len, "%s%s%s", a, id->type == ISAKMP_ID_IPV4_ADDR_RANGE ? "-" : "/", b);
		else
			snprintf(buf, len, "%s", a);
	} else {
		snprintf(buf, len, "ID type %u", id->type);
	}
}

/* The group a GROUPKEY-PULL's ID names: its group_id as KEY_ID, or one
 * of its pull_ids. gid: the number asked for, for messages (0 when the
 * ID is no KEY_ID). */
static struct gks_group *group_by_id(const struct gdoi_id *id, uint32_t *gid)
{
	*gid = 0;
	for (size_t i = 0; i < G.n_groups; i++)
		if (key_id_names(G.groups[i], id, gid))
			return G.groups[i];
	for (size_t i = 0; i < G.n_groups; i++)
		for (size_t k = 0; k < G.groups[i]->cfg->n_pull_ids; k++)
			if (pull_id_matches(G.groups[i]->cfg->pull_ids[k], id)) {
				*gid = (uint32_t)G.groups[i]->cfg->group_id;
				return G.groups[i];
			}
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
		gks_send_from(&p->local, (const struct sockaddr_in *)&p->ike.peer, b.data, b.len);
	gdoi_buf_free(&b);
}

static int pull_msg1(struct gks_peer *p, const struct gdoi_chain *c, const uint8_t *chain,
		     struct gdoi_buf *out)
{
	const struct gdoi_payload *np = gdoi_chain_find(c, ISAKMP_NP_NONCE);
	const struct gdoi_payload *idp = gdoi_chain_find(c, ISAKMP_NP_ID);
	if (!np || !idp || np->len < 8 || np->len > sizeof(p->ni) || verify_hash(p, c, chain, NULL, 0) < 0) {
		G.st.drop_malformed++;
		log_limited(&G.lim_pull, loop_now_us(), LOG_INFO, "gks",
			    "GROUPKEY-PULL message 1 from %s: bad HASH(1) or missing payloads", p->addr);
		return -1;
	}
	struct gdoi_id id;
	uint32_t gid = 0;
	if (gdoi_id_parse(idp->body, idp->len, &id) < 0) {
		gks_refused(p, NULL, "malformed group ID");
		send_protected_notify(p, ISAKMP_N_INVALID_ID_INFORMATION);
		return -1;
	}
	struct gks_group *g = group_by_id(&id, &gid);
	char gname[72];
	pull_id_text(&id, gid, gname, sizeof(gname));
	if (!g) {
		gks_refused(p, gname, "unknown group");
		send_protected_notify(p, ISAKMP_N_INVALID_ID_INFORMATION);
		return -1;
	}
	if (!member_allowed(g, p)) {
		gks_refused(p, gname, "not a member of this group");
		send_protected_notify(p, ISAKMP_N_AUTHENTICATION_FAILED);
		return -1;
	}
	memcpy(p->ni, np->body, np->len);
	p->ni_len = np->len;
	p->group = g;
	crypto_random(p->nr, sizeof(p->nr));

	struct gdoi_sa sa;
	gks_build_sa(g, &sa, 0);
	G.st.pulls_answered++;
	p->snap_gen = g->key_gen;
	p->snap_seq = g->seq;
	p->snap_has_kek = sa.has_kek;
	memcpy(p->snap_kek, sa.kek.spi, 16);
	p->snap_n_tek = sa.n_tek;
	for (size_t i = 0; i < sa.n_tek; i++)
		p->snap_tek[i] = sa.tek[i].spi;
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

/* The member entry of a completed PULL: found by address and port, or
 * by address and identity (a new port), or new. *is_new: a new member. */
static struct gks_member *member_entry(struct gks_peer *p, const char *ident, int *is_new)
{
	struct gks_group *g = p->group;
	const struct sockaddr_in *sin = gks_peer_sin(p);
	struct gks_member *m = gks_member_find(sin);
	*is_new = 0;
	if (m && m->group != g) { /* the same socket now registers for another group */
		struct gks_group *og = m->group;
		gks_member_free(m);
		gks_membership_changed(og);
		m = NULL;
	}
	if (m && strcmp(m->identity, ident)) /* another member behind the same address and port */
		gks_member_rename(m, ident);
	if (!m && (m = gks_member_find_identity(g, sin->sin_addr.s_addr, ident)) != NULL) {
		/* The same member from a new port (or NAT mapping): its entry
		 * moves there rather than a second one piling up. */
		gks_member_move(m, sin, p->addr);
		G.st.members_moved++;
	}
	if (!m) {
		m = gks_member_add(g, sin, p->addr, ident);
		*is_new = 1;
	}
	return m;
}

static void member_registered(const struct gks_peer *p, const struct gks_member *m)
{
	const struct gks_group *g = p->group;
	char suite[64];
	ike_proposal_str(&p->ike.prop, suite, sizeof(suite));
	struct event e;
	ev_begin(&e, EV_MEMBER_REGISTERED);
	ev_param_int(&e, "group", g->cfg->group_id);
	ev_param_str(&e, "member", p->addr);
	ev_param_str(&e, "identity", m->identity);
	ev_param_uint(&e, "index", m->index);
	ev_param_str(&e, "suite", suite);
	ev_param_uint(&e, "seq", g->seq);
	ev_publish(&e, "member %s (%s) registered to group %s (%ld) with %s", p->addr, m->identity,
		   g->cfg->name, g->cfg->group_id, suite);
}

static void register_member(struct gks_peer *p, int stale)
{
	struct gks_group *g = p->group;
	int is_new;
	char ident[sizeof(((struct gks_member *)0)->identity)];
	identity_text(&p->ike.id_peer, ident, sizeof(ident));
	struct gks_member *m = member_entry(p, ident, &is_new);
	m->local = p->local;
	/* A reregistration starts afresh: no push is awaited from it. */
	gks_round_member_gone(g, m);
	m->sends = 0;
	m->last_acked_seq = 0;
	m->last_sent_seq = 0;
	gdoi_ack_key(p->ike.keys.skeyid_a, p->ike.keys.hash_len, p->ike.icky, p->ike.rcky, m->ack_key);
	clock_gettime(CLOCK_REALTIME, &m->registered);
	m->registrations++;
	G.st.registrations++;
	member_registered(p, m);
	if (stale)
		gks_round_catch_up(g, m);
	if (is_new)
		gks_membership_changed(g);
}

static int pull_msg3(struct gks_peer *p, const struct gdoi_chain *c, const uint8_t *chain,
		     struct gdoi_buf *out)
{
	struct crypto_iov pre[] = { { p->ni, p->ni_len }, { p->nr, sizeof(p->nr) } };
	if (verify_hash(p, c, chain, pre, 2) < 0) {
		G.st.drop_malformed++;
		log_limited(&G.lim_pull, loop_now_us(), LOG_INFO, "gks", "GROUPKEY-PULL message 3 from %s: bad HASH(3)",
			    p->addr);
		return -1;
	}
	struct gks_group *g = p->group;
	struct gdoi_kd kd;
	/* Keys changed since message 2: the member gets the keys that SA
	 * named, with the SEQ of then, and right after the push that
	 * replaced them. */
	int stale = p->snap_gen != g->key_gen;
	if (!stale) {
		gks_build_kd(g, NULL, &kd);
	} else if (gks_build_kd_snapshot(g, p, &kd) < 0) {
		gks_refused(p, g->cfg->name, "the group's keys changed twice during the registration; try again");
		send_protected_notify(p, ISAKMP_N_INVALID_ID_INFORMATION);
		return -1;
	}
	put_pull_hdr(p, out);
	size_t hash_at = out->len;
	uint8_t zero[CRYPTO_MAX_HASH] = { 0 };
	gdoi_put_payload(out, ISAKMP_NP_HASH, zero, p->ike.keys.hash_len);
	gdoi_put_seq(out, stale ? p->snap_seq : g->seq);
	gdoi_put_kd(out, &kd);
	gdoi_kd_wipe(&kd);
	if (fill_hash(p, out, hash_at, pre, 2) < 0)
		return -1;
	p->pull = PULL_DONE;
	register_member(p, stale);
	p->catch_up = stale;
	loop_timer_arm_ms(&p->timer, GKS_DONE_LINGER_S * 1000u);
	return 1;
}

void gks_on_pull(struct gks_peer *p, const uint8_t *msg, size_t len, const struct isakmp_hdr *h)
{
	const struct sockaddr_in *from = (const struct sockaddr_in *)&p->ike.peer;
	if (p->ike.state != IKE_ESTABLISHED || !(h->flags & ISAKMP_FLAG_ENC) || !h->msgid) {
		G.st.drop_malformed++;
		return;
	}
	if (p->last_in && len == p->last_in_len && !memcmp(msg, p->last_in, len)) {
		if (p->last_out)
			gks_send_from(&p->local, from, p->last_out, p->last_out_len);
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
	gks_send_from(&p->local, from, out.data, out.len);
	if (p->catch_up && p->group && p->group->last.msg)
		gks_send_from(&p->local, from, p->group->last.msg, p->group->last.len);
	p->catch_up = 0;
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
