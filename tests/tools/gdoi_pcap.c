/* SPDX-License-Identifier: BSD-2-Clause */
/* gdoi_pcap.c: builds a set of plaintext ISAKMP/GDOI messages with the
 * core/gdoi/gdoi.c builders and writes them out, so an independent decoder
 * (tshark) can judge the wire format and the fuzzer gets realistic seeds.
 *
 *   gdoi_pcap FILE.pcap      one UDP datagram per message, port 848
 *   gdoi_pcap --corpus DIR   one raw file per message (fuzz seeds)
 *
 * The pcap format is written by hand (libpcap 2.4, Ethernet link type):
 * the tool needs no libpcap. Messages are the plaintext of what would be
 * encrypted on the wire; the E flag is left clear so decoders read them. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gdoi/gdoi.h"

#define PCAP_MAGIC 0xa1b2c3d4u
#define LINKTYPE_ETHERNET 1

struct sample {
	const char *name;
	void (*build)(struct gdoi_buf *b);
};

static void hdr(struct gdoi_buf *b, uint8_t exch, uint32_t msgid, int responder)
{
	struct isakmp_hdr h = { .version = ISAKMP_VERSION, .exchange = exch, .msgid = msgid };

	memcpy(h.icookie, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	if (responder)
		memcpy(h.rcookie, "\x99\xaa\xbb\xcc\xdd\xee\xf0\x01", 8);
	gdoi_put_hdr(b, &h);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void mm1(struct gdoi_buf *b)
{
	struct gdoi_p1_sa sa = { .doi = ISAKMP_DOI_IPSEC, .situation = ISAKMP_SIT_IDENTITY_ONLY,
				 .proposal = 1, .n = 3 };
	const int ciphers[] = { 7, 7, 5 }, hashes[] = { 4, 2, 2 }, groups[] = { 14, 14, 2 };
	const unsigned bits[] = { 256, 128, 0 };

	for (size_t i = 0; i < sa.n; i++) {
		struct gdoi_p1_transform *t = &sa.t[i];
		t->num = (uint8_t)(i + 1);
		t->cipher = ciphers[i];
		t->key_bits = bits[i];
		t->hash = hashes[i];
		t->auth = OAKLEY_AUTH_PSK;
		t->group = groups[i];
		t->life_seconds = i == 0 ? 86400 : 28800;  /* 86400 > 0xffff: a TLV */
	}
	hdr(b, ISAKMP_EXCH_MAIN, 0, 0);
	gdoi_put_p1_sa(b, &sa);
}

static void mm3(struct gdoi_buf *b)
{
	uint8_t ke[256], nonce[32];

	fill(ke, sizeof(ke), 3);
	fill(nonce, sizeof(nonce), 9);
	hdr(b, ISAKMP_EXCH_MAIN, 0, 1);
	gdoi_put_payload(b, ISAKMP_NP_KE, ke, sizeof(ke));
	gdoi_put_payload(b, ISAKMP_NP_NONCE, nonce, sizeof(nonce));
}

static void pull1(struct gdoi_buf *b)
{
	uint8_t hash[32], nonce[16];
	struct gdoi_id id = { .type = ISAKMP_ID_KEY_ID, .data = { 0, 0, 0, 1 }, .len = 4 };

	fill(hash, sizeof(hash), 1);
	fill(nonce, sizeof(nonce), 2);
	hdr(b, GDOI_EXCH_PULL, 0x01020304, 1);
	gdoi_put_payload(b, ISAKMP_NP_HASH, hash, sizeof(hash));
	gdoi_put_payload(b, ISAKMP_NP_NONCE, nonce, sizeof(nonce));
	gdoi_put_id(b, &id);
}

static void sample_sa(struct gdoi_sa *sa, int with_gap)
{
	struct gdoi_sa_kek *k = &sa->kek;

	memset(sa, 0, sizeof(*sa));
	sa->doi = GDOI_DOI;
	sa->has_kek = 1;
	k->protocol = 17;
	k->src = (struct gdoi_ident){ .type = ISAKMP_ID_IPV4_ADDR, .port = 848,
				      .data = { 192, 0, 2, 1 }, .len = 4 };
	k->dst = (struct gdoi_ident){ .type = ISAKMP_ID_IPV4_ADDR, .port = 848,
				      .data = { 239, 1, 1, 1 }, .len = 4 };
	fill(k->spi, 16, 0x40);
	k->alg = GDOI_KEK_ALG_AES;
	k->key_bits = 256;
	k->lifetime = 86400;
	k->sig_hash = GDOI_SIG_HASH_SHA256;
	k->sig_alg = GDOI_SIG_ALG_RSA;
	k->sig_key_bits = 2048;
	k->ack_requested = 1;
	sa->n_tek = 2;
	for (size_t i = 0; i < 2; i++) {
		struct gdoi_sa_tek *t = &sa->tek[i];
		t->protocol = GDOI_PROTO_IPSEC_ESP;
		t->src = (struct gdoi_ident){ .type = ISAKMP_ID_IPV4_ADDR_SUBNET,
					      .data = { 10, (uint8_t)i, 0, 0, 255, 255, 0, 0 }, .len = 8 };
		t->dst = t->src;
		t->transform = GDOI_ESP_AES;
		t->spi = 0x1000u + (uint32_t)i;
		t->auth_alg = GDOI_AUTH_HMAC_SHA2_256;
		t->key_bits = 256;
		t->lifetime = 3600;
		t->encap = GDOI_ENCAP_TUNNEL;
	}
	sa->has_gap = with_gap;
	sa->atd = 15;
	sa->dtd = 15;
}

static void pull2(struct gdoi_buf *b)
{
	uint8_t hash[32], nonce[16];
	struct gdoi_sa sa;

	fill(hash, sizeof(hash), 4);
	fill(nonce, sizeof(nonce), 5);
	sample_sa(&sa, 1);
	hdr(b, GDOI_EXCH_PULL, 0x01020304, 1);
	gdoi_put_payload(b, ISAKMP_NP_HASH, hash, sizeof(hash));
	gdoi_put_payload(b, ISAKMP_NP_NONCE, nonce, sizeof(nonce));
	gdoi_put_sa(b, &sa);
}

static void pull3(struct gdoi_buf *b)
{
	uint8_t hash[32];

	fill(hash, sizeof(hash), 6);
	hdr(b, GDOI_EXCH_PULL, 0x01020304, 1);
	gdoi_put_payload(b, ISAKMP_NP_HASH, hash, sizeof(hash));
	gdoi_put_gap(b, 15, 30);
}

static void sample_kd(struct gdoi_kd *kd)
{
	memset(kd, 0, sizeof(*kd));
	kd->n = 3;
	kd->k[0].type = GDOI_KD_KEK;
	fill(kd->k[0].spi, 16, 0x40);
	kd->k[0].spi_len = 16;
	fill(kd->k[0].alg_key, 32, 0x50);
	kd->k[0].alg_key_len = 32;
	fill(kd->k[0].sig_key, 300, 0x30);
	kd->k[0].sig_key_len = 300;
	for (size_t i = 1; i < 3; i++) {
		struct gdoi_keypkt *k = &kd->k[i];
		k->type = GDOI_KD_TEK;
		k->spi[2] = 0x10;
		k->spi[3] = (uint8_t)(i - 1);
		k->spi_len = 4;
		fill(k->alg_key, 32, (uint8_t)(0x60 + i));
		k->alg_key_len = 32;
		fill(k->integ_key, 32, (uint8_t)(0x70 + i));
		k->integ_key_len = 32;
	}
}

static void pull4(struct gdoi_buf *b)
{
	uint8_t hash[32];
	struct gdoi_kd kd;

	fill(hash, sizeof(hash), 7);
	sample_kd(&kd);
	hdr(b, GDOI_EXCH_PULL, 0x01020304, 1);
	gdoi_put_payload(b, ISAKMP_NP_HASH, hash, sizeof(hash));
	gdoi_put_seq(b, 1);
	gdoi_put_kd(b, &kd);
	gdoi_kd_wipe(&kd);
}

/* GROUPKEY-PUSH before encryption: SEQ, SA, KD, SIG (RFC 6407 4.1). */
static void push(struct gdoi_buf *b)
{
	uint8_t sig[256];
	struct gdoi_sa sa;
	struct gdoi_kd kd;

	fill(sig, sizeof(sig), 8);
	sample_sa(&sa, 0);
	sample_kd(&kd);
	hdr(b, GDOI_EXCH_PUSH, 0, 1);
	gdoi_put_seq(b, 2);
	gdoi_put_sa(b, &sa);
	gdoi_put_kd(b, &kd);
	gdoi_put_payload(b, ISAKMP_NP_SIG, sig, sizeof(sig));
	gdoi_kd_wipe(&kd);
}

static void info(struct gdoi_buf *b)
{
	hdr(b, ISAKMP_EXCH_INFO, 0x0a0b0c0d, 1);
	gdoi_put_notify(b, ISAKMP_DOI_IPSEC, ISAKMP_PROTO_ISAKMP, ISAKMP_N_INITIAL_CONTACT, NULL, 0);
}

static const struct sample samples[] = {
	{ "mm1-sa", mm1 }, { "mm3-ke-nonce", mm3 }, { "pull1-hash-nonce-id", pull1 },
	{ "pull2-hash-nonce-sa", pull2 }, { "pull3-hash-gap", pull3 },
	{ "pull4-hash-seq-kd", pull4 }, { "push-seq-sa-kd-sig", push }, { "info-n", info },
};

static void le32(FILE *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	fwrite(b, 1, 4, f);
}

static void le16(FILE *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	fwrite(b, 1, 2, f);
}

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Ethernet, IPv4 192.0.2.1 -> 192.0.2.2, UDP 848 -> 848 (checksum 0). */
static void write_frame(FILE *f, const uint8_t *msg, size_t len, uint32_t ts)
{
	uint8_t h[14 + 20 + 8] = { 0 };
	uint8_t *ip = h + 14, *udp = h + 34;

	memcpy(h, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00", 14);
	ip[0] = 0x45;
	be16(ip + 2, (uint16_t)(20 + 8 + len));
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8);
	be16(ip + 10, ip_checksum(ip, 20));
	be16(udp, GDOI_PORT);
	be16(udp + 2, GDOI_PORT);
	be16(udp + 4, (uint16_t)(8 + len));
	le32(f, ts);
	le32(f, 0);
	le32(f, (uint32_t)(sizeof(h) + len));
	le32(f, (uint32_t)(sizeof(h) + len));
	fwrite(h, 1, sizeof(h), f);
	fwrite(msg, 1, len, f);
}

static int write_pcap(const char *path)
{
	FILE *f = fopen(path, "wb");

	if (!f) {
		fprintf(stderr, "gdoi_pcap: %s: %s\n", path, strerror(errno));
		return -1;
	}
	le32(f, PCAP_MAGIC);
	le16(f, 2);
	le16(f, 4);
	le32(f, 0);
	le32(f, 0);
	le32(f, 65535);
	le32(f, LINKTYPE_ETHERNET);
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct gdoi_buf b;

		gdoi_buf_init(&b);
		samples[i].build(&b);
		gdoi_finish(&b);
		write_frame(f, b.data, b.len, (uint32_t)(1700000000 + i));
		gdoi_buf_free(&b);
	}
	return fclose(f) == 0 ? 0 : -1;
}

static int write_file(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "gdoi_pcap: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fwrite(p, 1, len, f);
	return fclose(f) == 0 ? 0 : -1;
}

static int write_corpus(const char *dir)
{
	int rc = 0;

	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct gdoi_buf b;

		gdoi_buf_init(&b);
		samples[i].build(&b);
		gdoi_finish(&b);
		if (write_file(dir, samples[i].name, b.data, b.len) < 0)
			rc = -1;
		gdoi_buf_free(&b);
	}
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--corpus") == 0)
		return write_corpus(argv[2]) < 0 ? 1 : 0;
	if (argc == 2 && argv[1][0] != '-')
		return write_pcap(argv[1]) < 0 ? 1 : 0;
	fprintf(stderr, "usage: gdoi_pcap FILE.pcap | gdoi_pcap --corpus DIR\n");
	return 2;
}
