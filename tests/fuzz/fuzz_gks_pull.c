/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_gks_pull.c: libFuzzer target for the key server (core/gdoi/gks*.c)
 * behind authentication. The real server runs in this process
 * (fuzz_server.h); the target is a member of its own: a real initiator
 * (core/gdoi/ike.c) that completes Main Mode with the server over loopback,
 * the server being fed through gks_input(). The fuzzer's bytes become
 * payload chains that the target protects as a member would: a HASH
 * that verifies in front, encryption under the phase 1 SA, so they
 * reach the parsers and handlers behind the HASH check.
 *
 * Input: one byte, mode = byte % 5 and flags = byte / 5, then the
 * payloads: their first type in one byte, then the chain (what follows
 * the HASH payload).
 *
 *   0: GROUPKEY-PULL message 1 as the input says; when the server
 *      answers, a genuine message 3 follows (the registration).
 *   1: a genuine message 1 (KEY_ID of group 1; flags bit 0: group 2,
 *      gdoid's profile), then message 3 as the input says.
 *   2: both: two bytes give the length of message 1's part (first type
 *      and chain), message 3's part follows.
 *   3: as 1, with the group rekeyed between messages 2 and 3 (the
 *      registration is served from the snapshot of message 2).
 *   4: a GROUPKEY-PUSH ACK (RFC 8263) from a second member of group 1
 *      (registered by a genuine exchange whenever it is not a member),
 *      its HASH keyed as the server keys it, under the group's KEK SPI
 *      (flags bit 1: the previous KEK's); with flags bit 0, SEQ
 *      payloads of 4 octets are read as an offset from the group's SEQ.
 *      The group is rekeyed first when this member has had no push
 *      since it registered or the server took an ACK of the last one,
 *      so a push always awaits its ACK.
 *
 * Modes 0-3 use the first member's phase 1 SA, which serves inputs
 * until a GROUPKEY-PULL gets an answer on it; then the clock moves 11 s
 * so that the finished exchange goes within the same input (libFuzzer
 * looks for leaks whenever an input ends with more allocated).
 * Seeds: tests/fuzz/corpus/gks_pull/ (FUZZ_WRITE_SEEDS=dir writes them
 * from a genuine registration and ACK, then exits). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"
#include "core/gdoi/gdoi.h"
#include "core/gdoi/gdoi_push.h"
#include "core/gdoi/ike.h"

#include "fuzz_server.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct ike_proposal fz_prop = { CRYPTO_CIPHER_AES, 256, CRYPTO_HASH_SHA256, CRYPTO_DH_ECP256, 86400 };

/* A member of the target's: its socket (the server answers there), its
 * phase 1 SA with the server and what its registration left. */
struct fmember {
	int fd;
	struct sockaddr_in addr;
	struct gdoi_id id;
	struct ike_sa sa;
	int sa_ready;                /* established, no GROUPKEY-PULL started on it */
	uint8_t ack_key[GDOI_ACK_KEY_LEN];
	int pushed;                  /* a push for it was asked since it registered */
};

/* puller: modes 0-3; acker: registers to group 1 when it is not a
 * member, and sends the ACKs of mode 4. */
static struct fmember puller, acker;
static uint32_t next_msgid = 0x1000;

/* Reads every datagram waiting on fd; the last one whose exchange is
 * exch and whose initiator cookie is icky (NULL: any) goes into out
 * (emptied first). Its length, 0 when none came. */
static size_t fz_take(int fd, uint8_t exch, const uint8_t *icky, struct gdoi_buf *out)
{
	uint8_t buf[GDOI_MAX_MSG];
	ssize_t n;
	gdoi_buf_free(out);
	while ((n = recv(fd, buf, sizeof(buf), 0)) >= 0)
		if (n >= ISAKMP_HDR_LEN && buf[18] == exch && (!icky || !memcmp(buf, icky, 8))) {
			gdoi_buf_free(out);
			gdoi_put_bytes(out, buf, (size_t)n);
		}
	return out->len;
}

static void drain(const struct fmember *fm)
{
	uint8_t buf[GDOI_MAX_MSG];
	while (recv(fm->fd, buf, sizeof(buf), 0) >= 0)
		;
}

/* ---- phase 1 ---------------------------------------------------------------- */

static int main_mode(struct fmember *fm)
{
	struct sockaddr_in srv = fz_server();
	struct gdoi_buf out, in;
	int rc = -1;

	ike_sa_free(&fm->sa);
	ike_sa_init(&fm->sa, 1, (struct sockaddr *)&srv, sizeof(srv));
	gdoi_buf_init(&out);
	gdoi_buf_init(&in);
	if (ike_initiator_start(&fm->sa, &fz_prop, 1, FUZZ_PSK, &fm->id, &out) < 0)
		goto done;
	while (fm->sa.state != IKE_ESTABLISHED) {
		gks_input(out.data, out.len, &fm->addr);
		gdoi_buf_free(&out);
		if (!fz_take(fm->fd, ISAKMP_EXCH_MAIN, fm->sa.icky, &in) ||
		    ike_input(&fm->sa, in.data, in.len, NULL, 0, NULL, NULL, &out) < 0)
			goto done;
	}
	rc = 0;
done:
	gdoi_buf_free(&out);
	gdoi_buf_free(&in);
	fm->sa_ready = rc == 0;
	return rc;
}

/* ---- GROUPKEY-PULL ------------------------------------------------------------ */

struct pull {
	struct fmember *fm;
	uint32_t msgid;
	uint8_t iv[CRYPTO_MAX_BLOCK];
	uint8_t ni[256], nr[256];
	size_t ni_len, nr_len;
};

/* HDR*, HASH(n), then the chain (first type np), with the HASH over what
 * the server's parse of the padded plaintext covers, so that it
 * verifies whatever the chain holds. Sent; 0, or -1 when it cannot be
 * built. */
static int send_pull(struct pull *p, uint8_t np, const uint8_t *chain, size_t n,
		     const struct crypto_iov *pre, size_t n_pre)
{
	const struct ike_sa *sa = &p->fm->sa;
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = GDOI_EXCH_PULL,
				.flags = ISAKMP_FLAG_ENC, .msgid = p->msgid };
	uint8_t zero[CRYPTO_MAX_HASH] = { 0 };
	struct gdoi_buf b;
	struct gdoi_chain c;
	int rc = -1;

	memcpy(h.icookie, sa->icky, 8);
	memcpy(h.rcookie, sa->rcky, 8);
	gdoi_buf_init(&b);
	gdoi_put_hdr(&b, &h);
	size_t hash_at = b.len, after = hash_at + 4 + sa->keys.hash_len;
	gdoi_put_payload(&b, ISAKMP_NP_HASH, zero, sa->keys.hash_len);
	b.data[hash_at] = np;
	gdoi_put_bytes(&b, chain, n);
	size_t pad = (sa->block - (b.len - ISAKMP_HDR_LEN) % sa->block) % sa->block;
	for (size_t i = 0; i < pad; i++)
		gdoi_put_u8(&b, 0);
	size_t covered = b.len - after;
	if (gdoi_chain_parse(ISAKMP_NP_HASH, b.data + ISAKMP_HDR_LEN, b.len - ISAKMP_HDR_LEN, 1, &c) == 0) {
		covered = ISAKMP_HDR_LEN + c.used - after;
		/* Message 1: the nonce HASH(2) covers, as the server finds it. */
		const struct gdoi_payload *ni = n_pre ? NULL : gdoi_chain_find(&c, ISAKMP_NP_NONCE);
		if (ni && ni->len <= sizeof(p->ni)) {
			memcpy(p->ni, ni->body, ni->len);
			p->ni_len = ni->len;
		}
	}
	b.len -= pad; /* ike_seal pads again */
	if (b.len > GDOI_MAX_MSG - 64 ||
	    ike_hash_a(sa, p->msgid, pre, n_pre, b.data + after, covered, b.data + hash_at + 4) < 0 ||
	    ike_seal(sa, &b, p->iv) < 0)
		goto done;
	gks_input(b.data, b.len, &p->fm->addr);
	rc = 0;
done:
	gdoi_buf_free(&b);
	return rc;
}

/* The server's answer with p's message ID, decrypted, its HASH checked;
 * its chain in c (bytes in *plain, to free). 0; -1 when none came, -2
 * when one came that does not open or verify. */
static int recv_pull(struct pull *p, struct gdoi_chain *c, uint8_t **plain,
		     const struct crypto_iov *pre, size_t n_pre)
{
	const struct ike_sa *sa = &p->fm->sa;
	struct gdoi_buf in;
	int rc = -1;

	*plain = NULL;
	gdoi_buf_init(&in);
	if (!fz_take(p->fm->fd, GDOI_EXCH_PULL, sa->icky, &in))
		goto done;
	rc = -2;
	if (ike_open(sa, in.data, in.len, p->iv, plain) < 0)
		goto done;
	if (gdoi_chain_parse(in.data[16], *plain + ISAKMP_HDR_LEN, in.len - ISAKMP_HDR_LEN, 1, c) < 0 ||
	    ike_check_hash_a(sa, p->msgid, pre, n_pre, c, *plain + ISAKMP_HDR_LEN) < 0)
		goto done;
	rc = 0;
done:
	if (rc < 0) {
		free(*plain);
		*plain = NULL;
	}
	gdoi_buf_free(&in);
	return rc;
}

/* Message 1's chain as a member sends it: NONCE, ID (KEY_ID of group gid
 * in the group's byte order), into b: the first type, then the chain. */
static void genuine_msg1(const uint8_t *ni, long gid, struct gdoi_buf *b)
{
	struct gdoi_id id = { .type = ISAKMP_ID_KEY_ID, .len = 4 };
	uint32_t v = (uint32_t)gid;
	if (gid == 2) /* group 2 names itself little-endian */
		v = (v & 0xff) << 24 | (v & 0xff00) << 8 | (v >> 8 & 0xff00) | v >> 24;
	id.data[0] = (uint8_t)(v >> 24);
	id.data[1] = (uint8_t)(v >> 16);
	id.data[2] = (uint8_t)(v >> 8);
	id.data[3] = (uint8_t)v;
	gdoi_put_u8(b, 0);
	b->np_at = 0;
	gdoi_put_payload(b, ISAKMP_NP_NONCE, ni, IKE_NONCE_LEN);
	gdoi_put_id(b, &id);
}

/* Message 1 (first type and chain in m1); message 2 read back. -1 when
 * the server did not answer (the SA can serve another message 1), 0
 * when it answered with something message 3 cannot follow, 1 when it
 * can. */
static int pull1(struct pull *p, const uint8_t *m1, size_t n)
{
	struct gdoi_chain c;
	uint8_t *plain;

	p->ni_len = 0;
	if (n < 1 || send_pull(p, m1[0], m1 + 1, n - 1, NULL, 0) < 0)
		return -1;
	struct crypto_iov pre[] = { { p->ni, p->ni_len } };
	int rc = recv_pull(p, &c, &plain, pre, 1);
	if (rc < 0)
		return rc == -2 ? 0 : -1;
	const struct gdoi_payload *np = gdoi_chain_find(&c, ISAKMP_NP_NONCE);
	int ok = np && np->len <= sizeof(p->nr);
	if (ok) {
		memcpy(p->nr, np->body, np->len);
		p->nr_len = np->len;
	}
	free(plain);
	return ok;
}

/* Message 3 (first type and chain in m3); 1 when message 4 came back. */
static int pull3(struct pull *p, const uint8_t *m3, size_t n)
{
	struct crypto_iov pre[] = { { p->ni, p->ni_len }, { p->nr, p->nr_len } };
	struct gdoi_chain c;
	uint8_t *plain;

	if (n < 1 || send_pull(p, m3[0], m3 + 1, n - 1, pre, 2) < 0 || recv_pull(p, &c, &plain, pre, 2) < 0)
		return 0;
	free(plain);
	return 1;
}

/* 1 when fm is a member of group 1 now. */
static int in_group1(const struct fmember *fm)
{
	struct gks_member_info mi;
	uint32_t idx = 0;
	while (gks_member_lookup(1, idx, 1, &mi) == 0 && mi.group_id == 1) {
		if (mi.port == ntohs(fm->addr.sin_port) && mi.addr.s_addr == fm->addr.sin_addr.s_addr)
			return 1;
		idx = mi.index;
	}
	return 0;
}

/* One GROUPKEY-PULL of fm on its phase 1 SA (a new one when it has none
 * free): m1 (NULL: a genuine message 1 for group gid), then m3 (NULL: a
 * genuine message 3), the groups rekeyed in between when rekey is set.
 * 1 when message 4 came. */
static int pull(struct fmember *fm, const uint8_t *m1, size_t n1, long gid, const uint8_t *m3, size_t n3,
		int rekey)
{
	static const uint8_t empty3[] = { ISAKMP_NP_NONE };
	struct pull p = { .fm = fm, .msgid = next_msgid++ };
	struct gdoi_buf g;
	int done = 0;

	if (!fm->sa_ready && main_mode(fm) < 0)
		return 0;
	if (!p.msgid)
		p.msgid = next_msgid++;
	ike_exchange_iv(&fm->sa, p.msgid, p.iv);
	gdoi_buf_init(&g);
	if (!m1) {
		uint8_t ni[IKE_NONCE_LEN];
		crypto_random(ni, sizeof(ni));
		genuine_msg1(ni, gid, &g);
		m1 = g.data;
		n1 = g.len;
	}
	int answered = pull1(&p, m1, n1);
	gdoi_buf_free(&g);
	if (answered >= 0)
		fm->sa_ready = 0; /* the next input needs a new SA */
	if (answered > 0) {
		if (rekey) {
			gks_rekey_group(1);
			gks_rekey_group(2);
		}
		done = pull3(&p, m3 ? m3 : empty3, m3 ? n3 : sizeof(empty3));
		if (done) {
			const struct ike_sa *sa = &fm->sa;
			gdoi_ack_key(sa->keys.skeyid_a, sa->keys.hash_len, sa->icky, sa->rcky, fm->ack_key);
			fm->pushed = 0;
		}
	}
	if (answered >= 0) {
		/* The exchange lingers for retransmissions, then goes: within
		 * this input, so that what the input allocated is freed by its
		 * end (libFuzzer looks for leaks when it is not). */
		fz_advance(11);
		puller.sa_ready = acker.sa_ready = 0;
	}
	drain(fm); /* refusals, a catch-up push */
	return done;
}

/* ---- ACKs ---------------------------------------------------------------------- */

static void ack(const uint8_t *chain, size_t n, int relative, int prev_kek)
{
	const struct gks_stats *st = gks_stats();
	static uint64_t acked;
	struct gks_kek_info ki;
	struct gks_group_info gi;
	uint8_t zero[GDOI_ACK_HASH_LEN] = { 0 };
	struct gdoi_buf b;

	if (n < 1)
		return;
	if (!in_group1(&acker) && !pull(&acker, NULL, 0, 1, NULL, 0, 0))
		return;
	/* A push to acknowledge: after the registration, and once the
	 * server has taken an ACK for the last one. */
	if (!acker.pushed || st->acks - st->acks_duplicate != acked) {
		gks_rekey_group(1);
		acker.pushed = 1;
		acked = st->acks - st->acks_duplicate;
	}
	drain(&acker);
	if (gks_kek_lookup(1, prev_kek ? 2 : 1, 0, &ki) < 0 && gks_kek_lookup(1, 1, 0, &ki) < 0)
		return;
	if (gks_group_lookup(1, 0, &gi) < 0)
		gi.seq = 0;
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = GDOI_EXCH_PUSH_ACK };
	memcpy(h.icookie, ki.spi, 8);
	memcpy(h.rcookie, ki.spi + 8, 8);
	gdoi_buf_init(&b);
	gdoi_put_hdr(&b, &h);
	size_t hash_at = b.len, after = hash_at + 4 + GDOI_ACK_HASH_LEN;
	gdoi_put_payload(&b, ISAKMP_NP_HASH, zero, sizeof(zero));
	b.data[hash_at] = chain[0];
	gdoi_put_bytes(&b, chain + 1, n - 1);
	gdoi_finish(&b);
	if (relative)
		fz_seq_relative(&b, hash_at, after, gi.seq);
	struct crypto_iov iov = { b.data + after, b.len - after };
	if (b.len <= GDOI_MAX_MSG &&
	    crypto_prf(GDOI_ACK_HASH, acker.ack_key, GDOI_ACK_KEY_LEN, &iov, 1, b.data + hash_at + 4) == 0)
		gks_input(b.data, b.len, &acker.addr);
	gdoi_buf_free(&b);
}

/* ---- seeds ------------------------------------------------------------------------ */

#define MODE(m, flags) ((uint8_t)((m) + 5 * (flags)))

static void write_seeds(const char *dir)
{
	uint8_t ni[IKE_NONCE_LEN], s[GDOI_MAX_MSG];
	struct gdoi_buf b;

	crypto_random(ni, sizeof(ni));
	for (long gid = 1; gid <= 2; gid++) {
		gdoi_buf_init(&b);
		genuine_msg1(ni, gid, &b);
		s[0] = MODE(0, 0);
		memcpy(s + 1, b.data, b.len);
		fz_seed(dir, gid == 1 ? "pull1-nonce-keyid-g1" : "pull1-nonce-keyid-g2", s, b.len + 1);
		/* mode 2: message 1's part, then a message 3 with a KE */
		s[0] = MODE(2, 0);
		s[1] = (uint8_t)(b.len >> 8);
		s[2] = (uint8_t)b.len;
		memcpy(s + 3, b.data, b.len);
		size_t k = 3 + b.len;
		static const uint8_t ke[] = { ISAKMP_NP_KE, ISAKMP_NP_NONE, 0, 0, 36 };
		memcpy(s + k, ke, sizeof(ke));
		k += sizeof(ke);
		memset(s + k, 0x4b, 32);
		fz_seed(dir, gid == 1 ? "pull13-g1-ke" : "pull13-g2-ke", s, k + 32);
		gdoi_buf_free(&b);
	}
	static const uint8_t m3[][2] = { { MODE(1, 0), ISAKMP_NP_NONE },
					 { MODE(1, 1), ISAKMP_NP_NONE },
					 { MODE(3, 0), ISAKMP_NP_NONE } };
	fz_seed(dir, "pull3-hash-only-g1", m3[0], 2);
	fz_seed(dir, "pull3-hash-only-g2", m3[1], 2);
	fz_seed(dir, "pull3-across-rekey", m3[2], 2);
	/* A genuine ACK from a registered member, its SEQ relative (0: the
	 * group's SEQ). */
	if (!pull(&acker, NULL, 0, 1, NULL, 0, 0)) {
		fprintf(stderr, "fuzz_gks_pull: the registration for the seeds failed\n");
		exit(1);
	}
	struct gks_kek_info ki;
	if (gks_kek_lookup(1, 1, 0, &ki) < 0)
		fz_die("the seeds");
	gdoi_buf_init(&b);
	gdoi_ack_build(&b, ki.spi, 0, &acker.id, acker.ack_key);
	size_t after = ISAKMP_HDR_LEN + 4 + GDOI_ACK_HASH_LEN;
	s[0] = MODE(4, 1);
	s[1] = b.data[ISAKMP_HDR_LEN]; /* the type after HASH: SEQ */
	memcpy(s + 2, b.data + after, b.len - after);
	fz_seed(dir, "ack-seq-id-relative", s, 2 + b.len - after);
	s[0] = MODE(4, 3);
	fz_seed(dir, "ack-seq-id-prev-kek", s, 2 + b.len - after);
	gdoi_buf_free(&b);
}

/* FUZZ_STATS=1: what the inputs reached, from the server's counters. */
static void print_stats(void)
{
	const struct gks_stats *st = gks_stats();
	fprintf(stderr,
		"fuzz_gks_pull: pulls answered %llu, registrations %llu, catch-ups %llu, refused %llu, "
		"malformed %llu, ACKs %llu (duplicate %llu), ACKs unknown %llu, bad %llu, rekeys %llu; "
		"phase 1 SAs %llu, half-open %llu, embryonic %llu, dropped: half-open limit %llu, back-off %llu, "
		"unknown SA %llu\n",
		(unsigned long long)st->pulls_answered, (unsigned long long)st->registrations,
		(unsigned long long)st->catch_ups, (unsigned long long)st->refused,
		(unsigned long long)st->drop_malformed, (unsigned long long)st->acks,
		(unsigned long long)st->acks_duplicate, (unsigned long long)st->drop_ack_unknown,
		(unsigned long long)st->drop_ack_bad, (unsigned long long)st->rekeys_sent,
		(unsigned long long)st->sas, (unsigned long long)st->half_open, (unsigned long long)st->embryonic,
		(unsigned long long)st->drop_half_open, (unsigned long long)st->drop_backoff,
		(unsigned long long)st->drop_unknown_sa);
}

static void member_init(struct fmember *fm)
{
	uint16_t port;
	fm->fd = fz_socket(&port);
	fm->addr = fz_loopback(port);
	fm->id.type = ISAKMP_ID_IPV4_ADDR;
	fm->id.len = 4;
	memcpy(fm->id.data, &fm->addr.sin_addr, 4);
}

/* ---- libFuzzer -------------------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_server_start();
	member_init(&puller);
	member_init(&acker);
	if (getenv("FUZZ_STATS"))
		atexit(print_stats);
	const char *seeds = getenv("FUZZ_WRITE_SEEDS");
	if (seeds) {
		write_seeds(seeds);
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned mode = data[0] % 5, flags = data[0] / 5;
	data++;
	size--;
	switch (mode) {
	case 0:
		pull(&puller, data, size, 1, NULL, 0, 0);
		break;
	case 1:
		pull(&puller, NULL, 0, flags & 1 ? 2 : 1, data, size, 0);
		break;
	case 2: {
		size_t n1 = size < 2 ? 0 : (size_t)data[0] << 8 | data[1];
		if (size < 2 || n1 > size - 2)
			return 0;
		pull(&puller, data + 2, n1, 1, data + 2 + n1, size - 2 - n1, 0);
		break;
	}
	case 3:
		pull(&puller, NULL, 0, flags & 1 ? 2 : 1, data, size, 1);
		break;
	default:
		ack(data, size, flags & 1, flags & 2);
		break;
	}
	return 0;
}
