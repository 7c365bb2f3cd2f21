/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_gm_push.c: libFuzzer target for the group member (core/gdoi/gm.c)
 * behind the signature of a GROUPKEY-PUSH. A real member registers with
 * the real key server in this process (fuzz_server.h) over loopback;
 * the target knows the server's signing key (the PEM file the server
 * made in its state directory) and reads the KEK the member received.
 * The fuzzer's bytes are the push's payloads (SEQ, DELETE, SA, KD in
 * any order and shape); the target appends a valid SIG, encrypts under
 * the member's KEK as the server would (gdoi_push_seal) and hands the
 * datagram to the member as coming from the server (gm_input), so the
 * payloads reach the SEQ check, DELETE, KEK rollover, TEK table, ACKs.
 *
 * Input: a flags byte, the first payload's type, the payloads. Flags
 * bit 0: SEQ payloads of 4 octets are an offset from the member's last
 * SEQ. Bit 1: in DELETE payloads, a 4-octet SPI below 256 is an index
 * into the member's TEK table and a 16-octet SPI of fifteen zeros and
 * 0 is its KEK's SPI (the keys are random: the fuzzer could not guess
 * them, and the member's deletions would stay out of reach).
 *
 * A push the member took (a new SEQ) changes its state: the clock then
 * moves 2 x ATD + 1 s (pending TEKs activate, short lifetimes end) and
 * the member registers again, so every input meets a freshly
 * registered member. Seeds: tests/fuzz/corpus/gm_push/
 * (FUZZ_WRITE_SEEDS=dir writes them from the server's own rekey push,
 * then exits). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"
#include "core/gdoi/gdoi.h"
#include "core/gdoi/gdoi_push.h"
#include "core/gdoi/gm.h"

#include "fuzz_server.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct crypto_rsa *server_key;
static struct gm *member;
static struct gdoi_kek kek;      /* the member's, from its registration */
static int reg_state;            /* 0 running, 1 registered, -1 failed */

static void reg_done(struct gm *m, enum gm_result r, void *arg)
{
	(void)m;
	(void)arg;
	reg_state = r == GM_REGISTERED ? 1 : -1;
}

/* The KEK of the member's policy with its key from the key download. */
static int read_kek(void)
{
	const struct gdoi_sa *pol = gm_policy(member);
	const struct gdoi_kd *kd = gm_keys(member);

	if (!pol->has_kek)
		return -1;
	memset(&kek, 0, sizeof(kek));
	memcpy(kek.spi, pol->kek.spi, 16);
	kek.cipher = pol->kek.alg == GDOI_KEK_ALG_AES ? CRYPTO_CIPHER_AES : CRYPTO_CIPHER_3DES;
	kek.key_bits = kek.cipher == CRYPTO_CIPHER_AES ? pol->kek.key_bits : 0;
	kek.profile = GDOI_PROFILE_RFC6407;
	size_t key_len = crypto_cipher_key_len(kek.cipher, kek.key_bits);
	for (size_t i = 0; i < kd->n; i++)
		if (kd->k[i].type == GDOI_KD_KEK && !memcmp(kd->k[i].spi, kek.spi, 16) &&
		    kd->k[i].alg_key_len == key_len && key_len <= sizeof(kek.key)) {
			memcpy(kek.key, kd->k[i].alg_key, key_len);
			kek.key_len = key_len;
			return 0;
		}
	return -1;
}

/* A first registration of the member, driven over loopback. */
static void registration(void)
{
	reg_state = 0;
	if (gm_start(member) < 0)
		fz_die("gm_start");
	for (int i = 0; i < 2000 && !reg_state; i++)
		loop_run_once(5);
	/* The server's side of the exchange lingers 10 s, then goes; a
	 * membership rekey due by then reaches the member too. */
	fz_advance(11);
	for (int i = 0; i < 4; i++)
		loop_run_once(0);
	if (reg_state != 1 || read_kek() < 0) {
		fprintf(stderr, "fuzz_gm_push: %s\n", gm_error(member));
		fz_die("the member's registration");
	}
}

/* The offset of the next-payload byte of the last whole payload of the
 * chain in b->data[from..), whose first type is at b->data[np_at]. */
static size_t last_np(const struct gdoi_buf *b, size_t np_at, size_t from)
{
	size_t at = np_at, off = from;
	uint8_t type = b->data[np_at];

	while (type != ISAKMP_NP_NONE && off + 4 <= b->len) {
		size_t len = (size_t)b->data[off + 2] << 8 | b->data[off + 3];
		if (len < 4 || len > b->len - off)
			break;
		at = off;
		type = b->data[off];
		off += len;
	}
	return at;
}

/* Bit 1 of the flags: DELETE SPIs that name the member's keys by index. */
static void spis_by_index(struct gdoi_buf *b)
{
	size_t off = ISAKMP_HDR_LEN;
	uint8_t type = b->data[16];

	while (type != ISAKMP_NP_NONE && off + 4 <= b->len) {
		size_t len = (size_t)b->data[off + 2] << 8 | b->data[off + 3];
		if (len < 4 || len > b->len - off)
			break;
		uint8_t *body = b->data + off + 4;
		size_t blen = len - 4;
		if (type == ISAKMP_NP_D && blen >= 8) {
			size_t size = body[5], n = (size_t)body[6] << 8 | body[7];
			for (size_t i = 0; i < n && (size == 4 || size == 16) && 8 + (i + 1) * size <= blen; i++) {
				uint8_t *spi = body + 8 + i * size;
				static const uint8_t zero[15];
				if (size == 4 && !spi[0] && !spi[1] && !spi[2] && spi[3] < gm_tek_count(member)) {
					uint32_t v = gm_tek_at(member, spi[3])->sa.spi;
					spi[0] = (uint8_t)(v >> 24);
					spi[1] = (uint8_t)(v >> 16);
					spi[2] = (uint8_t)(v >> 8);
					spi[3] = (uint8_t)v;
				} else if (size == 16 && !memcmp(spi, zero, 15) && !spi[15]) {
					memcpy(spi, kek.spi, 16);
				}
			}
		}
		type = b->data[off];
		off += len;
	}
}

/* ---- seeds ---------------------------------------------------------------------- */

/* The member's socket taken over: the server's next rekey push to it,
 * decrypted (RFC 6407: HDR | IV | E(payloads | SIG | pad)) and cut
 * before SIG, into b (first type, then the chain). */
static void capture_push(struct gdoi_buf *b)
{
	struct sockaddr_in local = *gm_local(member);
	uint8_t buf[GDOI_MAX_MSG], iv[CRYPTO_MAX_BLOCK];
	size_t block = crypto_cipher_block(kek.cipher);

	gm_free(member);
	member = NULL;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0 || gks_rekey_group(1) <= 0)
		fz_die("the seeds (1)");
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n < (ssize_t)(ISAKMP_HDR_LEN + 2 * block))
		fz_die("the seeds (2)");
	memcpy(iv, buf + ISAKMP_HDR_LEN, block);
	size_t at = ISAKMP_HDR_LEN + block, len = (size_t)n - at;
	if (crypto_cbc_decrypt(kek.cipher, kek.key, kek.key_len, iv, buf + at, len) < 0)
		fz_die("the seeds (3)");
	gdoi_buf_init(b);
	gdoi_put_u8(b, buf[16]);
	gdoi_put_bytes(b, buf + at, len);
	size_t np_at = 0, off = 1;
	while (b->data[np_at] != ISAKMP_NP_SIG) {
		size_t plen = off + 4 <= b->len ? (size_t)b->data[off + 2] << 8 | b->data[off + 3] : 0;
		if (plen < 4 || b->data[np_at] == ISAKMP_NP_NONE)
			fz_die("the seeds (4)");
		np_at = off;
		off += plen;
	}
	b->data[np_at] = ISAKMP_NP_NONE;
	b->len = off;
}

/* A payload of the chain in b (first type at b->data[0]) by type: its
 * offset, 0 when there is none; its length in *len. */
static size_t find(const struct gdoi_buf *b, uint8_t want, size_t *len)
{
	size_t off = 1;
	uint8_t type = b->data[0];
	while (type != ISAKMP_NP_NONE && off + 4 <= b->len) {
		*len = (size_t)b->data[off + 2] << 8 | b->data[off + 3];
		if (type == want)
			return off;
		type = b->data[off];
		off += *len;
	}
	return 0;
}

/* A seed: flags, then payloads built in it (b->np_at: the first type). */
static void seed_begin(struct gdoi_buf *s, uint8_t flags)
{
	gdoi_buf_init(s);
	gdoi_put_u8(s, flags);
	gdoi_put_u8(s, ISAKMP_NP_NONE);
	s->np_at = 1;
}

static void write_seeds(const char *dir)
{
	uint32_t base = gm_seq(member);
	struct gdoi_buf push, s;
	struct gdoi_sa sa;
	size_t seq_len = 0, sa_len = 0, kd_len = 0;

	capture_push(&push);
	size_t seq_at = find(&push, GDOI_NP_SEQ, &seq_len), sa_at = find(&push, ISAKMP_NP_SA, &sa_len);
	if (!seq_at || seq_len != 8 || !sa_at || !find(&push, GDOI_NP_KD, &kd_len) ||
	    gdoi_sa_parse(push.data + sa_at + 4, sa_len - 4, &sa) < 0)
		fz_die("the seeds (5)");
	seed_begin(&s, 0);
	s.len = 1;
	gdoi_put_bytes(&s, push.data, push.len);
	fz_seed(dir, "rekey-seq-sa-kd", s.data, s.len);
	/* the same with SEQ relative: the member's + 1 */
	uint8_t *v = s.data + 1 + seq_at + 4;
	uint32_t d = ((uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3]) - base;
	v[0] = (uint8_t)(d >> 24);
	v[1] = (uint8_t)(d >> 16);
	v[2] = (uint8_t)(d >> 8);
	v[3] = (uint8_t)d;
	s.data[0] = 1;
	fz_seed(dir, "rekey-seq-sa-kd-relative", s.data, s.len);
	gdoi_buf_free(&s);
	/* a heartbeat: SEQ, SA */
	seed_begin(&s, 1);
	gdoi_put_seq(&s, 1);
	size_t sa_off = s.len;
	gdoi_begin(&s, ISAKMP_NP_SA);
	s.len = sa_off;
	gdoi_put_bytes(&s, push.data + sa_at, sa_len);
	s.data[sa_off] = ISAKMP_NP_NONE;
	fz_seed(dir, "heartbeat-seq-sa-relative", s.data, s.len);
	gdoi_buf_free(&s);
	/* SEQ, DELETE of the TEKs, DELETE of the KEK: the member's, by index */
	seed_begin(&s, 3);
	gdoi_put_seq(&s, 1);
	struct gdoi_delete del = { .doi = GDOI_DOI, .proto = GDOI_PROTO_IPSEC_ESP, .spi_size = 4 };
	for (size_t i = 0; i < sa.n_tek && del.n < GDOI_MAX_DEL_SPIS; i++)
		del.spi[del.n++][3] = (uint8_t)i;
	gdoi_put_delete(&s, &del);
	struct gdoi_delete kdel = { .doi = GDOI_DOI, .proto = ISAKMP_PROTO_ISAKMP, .spi_size = 16, .n = 1 };
	gdoi_put_delete(&s, &kdel);
	fz_seed(dir, "seq-delete-teks-kek-by-index", s.data, s.len);
	gdoi_buf_free(&s);
	/* SEQ, DELETE of the first TEK only, by index */
	seed_begin(&s, 3);
	gdoi_put_seq(&s, 1);
	del.n = 1;
	gdoi_put_delete(&s, &del);
	fz_seed(dir, "seq-delete-tek0-by-index", s.data, s.len);
	gdoi_buf_free(&s);
	gdoi_buf_free(&push);
}

/* FUZZ_STATS=1: what the inputs reached, from the member's counters. */
static void print_stats(void)
{
	const struct gm_stats *st = gm_stats(member);
	fprintf(stderr,
		"fuzz_gm_push: pushes taken %llu (rekeys %llu, heartbeats %llu), retransmissions %llu, "
		"ACKs %llu, KEK replacements %llu; refused: replay %llu, signature %llu, unknown KEK %llu, "
		"malformed %llu\n",
		(unsigned long long)st->pushes, (unsigned long long)st->rekeys,
		(unsigned long long)st->heartbeats, (unsigned long long)st->retransmissions,
		(unsigned long long)st->acks_sent, (unsigned long long)st->kek_replacements,
		(unsigned long long)st->rejected_replay, (unsigned long long)st->rejected_sig,
		(unsigned long long)st->rejected_unknown_kek, (unsigned long long)st->rejected_other);
}

/* ---- libFuzzer -------------------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char path[128];
	struct gm_config mc = { 0 };

	fz_server_start();
	snprintf(path, sizeof(path), "%s/gks-signing-key.pem", fz_dir);
	server_key = crypto_rsa_load_private(path);
	if (!server_key)
		fz_die("the server's signing key");
	mc.server = fz_server();
	mc.local = fz_loopback(0);
	mc.group_id = 1;
	mc.psk = FUZZ_PSK;
	mc.props[0] = (struct ike_proposal){ CRYPTO_CIPHER_AES, 256, CRYPTO_HASH_SHA256, CRYPTO_DH_ECP256, 86400 };
	mc.n_props = 1;
	mc.timeout_ms = 60000;
	mc.retries = 2;
	member = gm_new(&mc, reg_done, NULL);
	if (!member)
		fz_die("the member");
	registration();
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
	struct sockaddr_in from = fz_server();
	struct gdoi_buf b;

	if (size < 2)
		return 0;
	gdoi_buf_init(&b);
	gdoi_push_hdr(&b, &kek);
	b.data[16] = data[1];
	gdoi_put_bytes(&b, data + 2, size - 2);
	if (data[0] & 1)
		fz_seq_relative(&b, 16, ISAKMP_HDR_LEN, gm_seq(member));
	if (data[0] & 2)
		spis_by_index(&b);
	b.np_at = last_np(&b, 16, ISAKMP_HDR_LEN);
	uint64_t before = gm_stats(member)->pushes;
	if (gdoi_push_seal(&b, &kek, server_key, CRYPTO_HASH_SHA256) == 0)
		gm_input(member, b.data, b.len, &from);
	gdoi_buf_free(&b);
	if (gm_stats(member)->pushes != before) {
		fz_advance(2 * 10 + 1);
		registration();
	}
	return 0;
}
