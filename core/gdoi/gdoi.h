/* SPDX-License-Identifier: BSD-2-Clause */
/* gdoi.h: the ISAKMP/GDOI message codec (RFC 2408, RFC 2409 attributes,
 * RFC 6407 GDOI payloads). Parsers work on untrusted bytes: every length
 * is checked against its container, chains are bounded, nothing is read
 * past the end, and failures return -1 (never abort). Builders append to
 * a growable buffer and patch next-payload and length fields.
 *
 * Parsed payload views point into the caller's buffer; parsed SA, ID and
 * KD structures copy what they need. struct gdoi_kd holds key material:
 * wipe it with gdoi_kd_wipe(). */
#ifndef GVPN_GDOI_H
#define GVPN_GDOI_H

#include <stddef.h>
#include <stdint.h>

#define GDOI_PORT 848
#define ISAKMP_HDR_LEN 28
#define ISAKMP_VERSION 0x10
#define ISAKMP_FLAG_ENC 0x01
#define ISAKMP_FLAG_COMMIT 0x02
#define ISAKMP_FLAG_AUTH 0x04
#define GDOI_MAX_MSG 65535

enum isakmp_exchange {
	ISAKMP_EXCH_MAIN = 2,       /* Identity Protection (Main Mode) */
	ISAKMP_EXCH_INFO = 5,
	GDOI_EXCH_PULL = 32,        /* GROUPKEY-PULL */
	GDOI_EXCH_PUSH = 33,        /* GROUPKEY-PUSH */
};

enum isakmp_payload {
	ISAKMP_NP_NONE = 0,
	ISAKMP_NP_SA = 1,
	ISAKMP_NP_P = 2,
	ISAKMP_NP_T = 3,
	ISAKMP_NP_KE = 4,
	ISAKMP_NP_ID = 5,
	ISAKMP_NP_CERT = 6,
	ISAKMP_NP_CR = 7,
	ISAKMP_NP_HASH = 8,
	ISAKMP_NP_SIG = 9,
	ISAKMP_NP_NONCE = 10,
	ISAKMP_NP_N = 11,
	ISAKMP_NP_D = 12,
	ISAKMP_NP_VID = 13,
	GDOI_NP_SAK = 15,           /* SA KEK */
	GDOI_NP_SAT = 16,           /* SA TEK */
	GDOI_NP_KD = 17,
	GDOI_NP_SEQ = 18,
	GDOI_NP_GAP = 22,
};

enum { ISAKMP_DOI_IPSEC = 1, GDOI_DOI = 2 };
#define ISAKMP_SIT_IDENTITY_ONLY 1

/* Phase 1 SA attribute types (RFC 2409 appendix A). */
enum {
	OAKLEY_ENCRYPTION = 1, OAKLEY_HASH = 2, OAKLEY_AUTH = 3, OAKLEY_GROUP = 4,
	OAKLEY_LIFE_TYPE = 11, OAKLEY_LIFE_DURATION = 12, OAKLEY_KEY_LENGTH = 14,
};
#define OAKLEY_AUTH_PSK 1
#define OAKLEY_AUTH_RSA_SIG 3
#define OAKLEY_LIFE_SECONDS 1
#define ISAKMP_PROTO_ISAKMP 1
#define ISAKMP_KEY_IKE 1

/* Identification types (RFC 2407 4.6.2.1). */
enum {
	ISAKMP_ID_IPV4_ADDR = 1, ISAKMP_ID_FQDN = 2, ISAKMP_ID_USER_FQDN = 3,
	ISAKMP_ID_IPV4_ADDR_SUBNET = 4, ISAKMP_ID_IPV6_ADDR = 5, ISAKMP_ID_IPV6_ADDR_SUBNET = 6,
	ISAKMP_ID_IPV4_ADDR_RANGE = 7,
	ISAKMP_ID_KEY_ID = 11,
};

/* Notify message types used here (RFC 2408 3.14.1). */
enum {
	ISAKMP_N_INVALID_PAYLOAD_TYPE = 1, ISAKMP_N_NO_PROPOSAL_CHOSEN = 14,
	ISAKMP_N_INVALID_ID_INFORMATION = 18, ISAKMP_N_AUTHENTICATION_FAILED = 24,
	ISAKMP_N_INITIAL_CONTACT = 24578,
};

/* ---- header and payload chain -------------------------------------- */

struct isakmp_hdr {
	uint8_t icookie[8];
	uint8_t rcookie[8];
	uint8_t np;
	uint8_t version;
	uint8_t exchange;
	uint8_t flags;
	uint32_t msgid;     /* host order */
	uint32_t len;       /* host order */
};

/* Checks the version (major 1), that len >= 28 and len <= buf_len. */
int isakmp_hdr_parse(const uint8_t *buf, size_t buf_len, struct isakmp_hdr *h);
void isakmp_hdr_write(uint8_t out[ISAKMP_HDR_LEN], const struct isakmp_hdr *h);

struct gdoi_payload {
	uint8_t type;
	const uint8_t *raw;   /* generic header included */
	size_t raw_len;
	const uint8_t *body;  /* after the 4-byte generic header */
	size_t len;
};

#define GDOI_MAX_PAYLOADS 32
struct gdoi_chain {
	size_t n;
	struct gdoi_payload p[GDOI_MAX_PAYLOADS];
	size_t used;          /* bytes covered by the chain (padding excluded) */
};

/* Walks the chain starting with payload type first over buf[0..len).
 * Each payload length is >= 4 and inside buf; the chain ends with next
 * payload 0; payload types outside the enum above are rejected; at most
 * GDOI_MAX_PAYLOADS. Bytes after the last payload are accepted only with
 * allow_pad (encrypted messages, up to 255 bytes). */
int gdoi_chain_parse(uint8_t first, const uint8_t *buf, size_t len, int allow_pad,
		     struct gdoi_chain *c);
/* First payload of the type, or NULL. */
const struct gdoi_payload *gdoi_chain_find(const struct gdoi_chain *c, uint8_t type);
size_t gdoi_chain_count(const struct gdoi_chain *c, uint8_t type);

/* ---- data attributes (RFC 2408 3.3) ------------------------------------ */

struct gdoi_attr {
	uint16_t type;       /* AF bit removed */
	int tv;              /* 1: TV (2-byte value), 0: TLV */
	uint32_t value;      /* TV value, or a TLV of 1..4 bytes as an integer */
	const uint8_t *data; /* TLV value bytes (NULL for TV) */
	size_t len;
};
#define GDOI_MAX_ATTRS 24
/* Parses exactly len bytes of attributes; -1 on truncation or too many. */
int gdoi_attrs_parse(const uint8_t *buf, size_t len, struct gdoi_attr *out, size_t max, size_t *n);

/* ---- phase 1 SA (PROTO_ISAKMP proposals of KEY_IKE transforms) ---------- */

struct gdoi_p1_transform {
	uint8_t num;
	int cipher;          /* OAKLEY_ENCRYPTION value (crypto.h enum crypto_cipher) */
	unsigned key_bits;   /* OAKLEY_KEY_LENGTH, 0 if absent */
	int hash;            /* enum crypto_hash */
	int auth;            /* OAKLEY_AUTH_PSK, ... */
	int group;           /* enum crypto_dh_group */
	uint32_t life_seconds; /* 0 if absent */
	const uint8_t *raw;  /* the transform payload as received (parse only) */
	size_t raw_len;
};
#define GDOI_MAX_TRANSFORMS 16
/* Notify types for refusing a phase 1 SA (RFC 2408 3.14.1). */
enum {
	ISAKMP_N_DOI_NOT_SUPPORTED = 2, ISAKMP_N_SITUATION_NOT_SUPPORTED = 3,
	ISAKMP_N_PAYLOAD_MALFORMED = 16,
};
/* One proposal: what gvpn offers and what a responder answers. */
struct gdoi_p1_sa {
	uint32_t doi;
	uint32_t situation;
	uint8_t proposal;
	size_t n;
	struct gdoi_p1_transform t[GDOI_MAX_TRANSFORMS];
};
/* Exactly one proposal of at most GDOI_MAX_TRANSFORMS transforms (a
 * responder's answer); -1 for anything else. */
int gdoi_p1_sa_parse(const uint8_t *body, size_t len, struct gdoi_p1_sa *sa);

/* Offers as initiators send them: several proposals (RFC 2408 3.5; the
 * proposal number tells alternatives apart) of up to 255 transforms
 * each. The walk is bounded in proposals and in transforms overall and
 * keeps only one proposal and one transform at a time. */
#define GDOI_P1_MAX_PROPOSALS 64
#define GDOI_P1_MAX_OFFER 512
struct gdoi_p1_prop {
	size_t index;        /* 0 for the first proposal in the SA */
	uint8_t num;         /* proposal number as received */
	uint8_t proto;       /* ISAKMP_PROTO_ISAKMP */
	uint8_t n_transforms;
	const uint8_t *spi;  /* points into the body; spi_len 0 as a rule */
	uint8_t spi_len;
};
typedef void (*gdoi_p1_visit_fn)(void *arg, const struct gdoi_p1_prop *p,
				 const struct gdoi_p1_transform *t);
/* Reads DOI and situation (4 bytes each, as in the IPsec DOI with
 * SIT_IDENTITY_ONLY and in GDOI) and walks every proposal and transform,
 * calling visit (may be NULL) with each transform in the order received.
 * 0 when the whole body is well formed, -1 otherwise (visit may have been
 * called for transforms before the fault: act on them only after 0). */
int gdoi_p1_sa_walk(const uint8_t *body, size_t len, uint32_t *doi, uint32_t *situation,
		    gdoi_p1_visit_fn visit, void *arg);

/* ---- identification ------------------------------------------------------ */

struct gdoi_id {
	uint8_t type;
	uint8_t proto;
	uint16_t port;
	uint8_t data[256];
	size_t len;
};
int gdoi_id_parse(const uint8_t *body, size_t len, struct gdoi_id *id);

/* ---- GDOI SA (RFC 6407 5.2): SA KEK (5.3), GAP (5.4), SA TEK ESP (5.5.1) ---- */

/* An identification inside SA KEK / SA TEK (type, port, data). On the wire
 * the data length is one octet in SA KEK (RFC 6407 5.3) and two octets in
 * SA TEK (RFC 6407 5.5.1). */
struct gdoi_ident {
	uint8_t type;        /* ISAKMP_ID_IPV4_ADDR_SUBNET, ... */
	uint16_t port;
	uint8_t data[32];
	size_t len;
};

/* KEK attribute values (RFC 6407 5.3.2, 5.3.5, 5.3.6). */
enum { GDOI_KEK_ALG_DES = 1, GDOI_KEK_ALG_3DES = 2, GDOI_KEK_ALG_AES = 3 };
enum { GDOI_SIG_HASH_MD5 = 1, GDOI_SIG_HASH_SHA1 = 2, GDOI_SIG_HASH_SHA256 = 3,
       GDOI_SIG_HASH_SHA384 = 4, GDOI_SIG_HASH_SHA512 = 5 };
enum { GDOI_SIG_ALG_RSA = 1 };

struct gdoi_sa_kek {
	uint8_t protocol;          /* 17 (UDP) as deployed GDOI uses for the rekey flow */
	struct gdoi_ident src, dst;
	uint8_t spi[16];           /* the KEK "cookies" of push messages */
	uint16_t mgmt_alg;         /* 0 if absent */
	uint16_t alg;              /* GDOI_KEK_ALG_* */
	uint16_t key_bits;
	uint32_t lifetime;         /* KEK_KEY_LIFETIME, seconds */
	uint16_t sig_hash;         /* GDOI_SIG_HASH_* */
	uint16_t sig_alg;          /* GDOI_SIG_ALG_* */
	uint16_t sig_key_bits;
	int ack_requested;         /* RFC 8263 KEK_ACK_REQUESTED (KEK attribute 9):
	                            * 0 absent, else its value (build: written
	                            * when non-zero) */
};

/* IPsec transform ids (RFC 2407 4.4.4) and auth algorithms (4.5). */
enum { GDOI_ESP_DES = 2, GDOI_ESP_3DES = 3, GDOI_ESP_AES = 12 };
enum { GDOI_AUTH_HMAC_MD5 = 1, GDOI_AUTH_HMAC_SHA1 = 2, GDOI_AUTH_HMAC_SHA2_256 = 5,
       GDOI_AUTH_HMAC_SHA2_384 = 6, GDOI_AUTH_HMAC_SHA2_512 = 7 };
#define GDOI_PROTO_IPSEC_ESP 1
#define GDOI_ENCAP_TUNNEL 1

struct gdoi_sa_tek {
	uint8_t protocol;          /* GDOI_PROTO_IPSEC_ESP */
	uint8_t ip_proto;          /* 0: any */
	struct gdoi_ident src, dst;
	uint8_t transform;         /* GDOI_ESP_* */
	uint32_t spi;
	uint16_t auth_alg;         /* GDOI_AUTH_* */
	uint16_t key_bits;         /* 0 if absent */
	uint32_t lifetime;         /* SA life duration, seconds */
	uint16_t encap;            /* GDOI_ENCAP_TUNNEL */
};

#define GDOI_MAX_TEKS 8
/* Wire profiles: where GDOI implementations disagree (doc/interop.md).
 * RFC6407: RFC 6407's layouts, as Wireshark's dissector and DigiCert
 * TrustCore read them. GDOID: the RFC 3547-era layouts of Cisco's
 * reference implementation (gdoid): one-octet identification lengths
 * in SA TEK, six octets (RESERVED2 and a leftover POP key length)
 * between the SA KEK's SPI and its attributes. */
enum gdoi_profile { GDOI_PROFILE_RFC6407 = 0, GDOI_PROFILE_GDOID = 1 };

struct gdoi_sa {
	int profile;               /* enum gdoi_profile: how it is (to be) written */
	uint32_t doi;              /* GDOI_DOI */
	uint32_t situation;
	int has_kek;
	struct gdoi_sa_kek kek;
	size_t n_tek;
	struct gdoi_sa_tek tek[GDOI_MAX_TEKS];
	int has_gap;
	uint16_t atd, dtd;         /* GAP activation/deactivation time delay, seconds */
};
/* gdoid on a little-endian host writes the addresses, masks and ports of
 * SA TEK identifications in host order (and reads them back so): this
 * turns each 4-octet address or mask and each port of every SA TEK
 * around (IPv4 types only). Applying it twice restores the SA. */
void gdoi_sa_swap_selectors(struct gdoi_sa *sa);

/* Parses with the RFC 6407 layouts (sa->profile = RFC6407). */
int gdoi_sa_parse(const uint8_t *body, size_t len, struct gdoi_sa *sa);
/* Parses with the profile's layouts; profile -1 tries RFC 6407, then
 * gdoid's (the two never both succeed on one payload: a length read
 * with the wrong width overruns its container). sa->profile says which. */
int gdoi_sa_parse_profile(const uint8_t *body, size_t len, int profile, struct gdoi_sa *sa);
/* A GAP payload on its own (GROUPKEY-PULL message 3). */
int gdoi_gap_parse(const uint8_t *body, size_t len, uint16_t *atd, uint16_t *dtd);

/* ---- key download (RFC 6407 5.6) ----------------------------------------- */
enum { GDOI_KD_TEK = 1, GDOI_KD_KEK = 2 };

struct gdoi_keypkt {
	uint8_t type;              /* GDOI_KD_TEK / GDOI_KD_KEK */
	uint8_t spi[16];
	size_t spi_len;            /* 4 for a TEK, 16 for the KEK */
	uint8_t alg_key[64];       /* TEK ALGORITHM_KEY / KEK_ALGORITHM_KEY */
	size_t alg_key_len;
	uint8_t integ_key[64];     /* TEK INTEGRITY_KEY */
	size_t integ_key_len;
	uint8_t sig_key[1024];     /* KEK SIG_ALGORITHM_KEY: DER public key */
	size_t sig_key_len;
};
#define GDOI_MAX_KEYPKTS 9
struct gdoi_kd {
	size_t n;
	struct gdoi_keypkt k[GDOI_MAX_KEYPKTS];
};
int gdoi_kd_parse(const uint8_t *body, size_t len, struct gdoi_kd *kd);
void gdoi_kd_wipe(struct gdoi_kd *kd);

/* ---- SEQ --------------------------------------------------------------------- */
int gdoi_seq_parse(const uint8_t *body, size_t len, uint32_t *seq);

/* ---- DELETE (RFC 2408 3.15) --------------------------------------------------------- */
/* In a push (RFC 6407 4: HDR*, SEQ, [D,] [SA, KD,] SIG): TEK SPIs (DOI 2,
 * protocol ESP, SPI size 4) or KEK SPIs (DOI 0 or 2, protocol 0/ISAKMP,
 * SPI size 16). */
#define GDOI_MAX_DEL_SPIS 16
struct gdoi_delete {
	uint32_t doi;
	uint8_t proto;
	uint8_t spi_size;          /* 4 or 16 */
	size_t n;
	uint8_t spi[GDOI_MAX_DEL_SPIS][16];
};
/* SPI sizes other than 4 and 16, no SPI, or more than GDOI_MAX_DEL_SPIS: -1. */
int gdoi_delete_parse(const uint8_t *body, size_t len, struct gdoi_delete *d);

/* ---- notify (RFC 2408 3.14) ------------------------------------------------------- */
struct gdoi_notify {
	uint32_t doi;
	uint8_t proto;
	uint16_t type;
	const uint8_t *spi;
	size_t spi_len;
	const uint8_t *data;
	size_t data_len;
};
int gdoi_notify_parse(const uint8_t *body, size_t len, struct gdoi_notify *n);

/* ---- building ------------------------------------------------------------------------ */

struct gdoi_buf {
	uint8_t *data;
	size_t len, cap;
	size_t np_at;      /* offset of the next-payload byte the next payload patches */
};
void gdoi_buf_init(struct gdoi_buf *b);
void gdoi_buf_free(struct gdoi_buf *b);       /* wipes */
void gdoi_put_u8(struct gdoi_buf *b, uint8_t v);
void gdoi_put_u16(struct gdoi_buf *b, uint16_t v);
void gdoi_put_u32(struct gdoi_buf *b, uint32_t v);
void gdoi_put_bytes(struct gdoi_buf *b, const void *p, size_t len);
/* TV when value fits 16 bits, else a 4-byte TLV. */
void gdoi_put_attr(struct gdoi_buf *b, uint16_t type, uint32_t value);
void gdoi_put_attr_data(struct gdoi_buf *b, uint16_t type, const void *p, size_t len);

/* Writes the 28-byte header (np and len patched later). */
void gdoi_put_hdr(struct gdoi_buf *b, const struct isakmp_hdr *h);
/* Opens a payload: patches the previous next-payload byte with type,
 * writes a generic header; returns its offset for gdoi_end(). */
size_t gdoi_begin(struct gdoi_buf *b, uint8_t type);
void gdoi_end(struct gdoi_buf *b, size_t start);
/* Payload with an opaque body (KE, NONCE, HASH, SIG, VID). */
void gdoi_put_payload(struct gdoi_buf *b, uint8_t type, const void *body, size_t len);
/* Patches the header's length field to b->len. */
void gdoi_finish(struct gdoi_buf *b);

void gdoi_put_p1_sa(struct gdoi_buf *b, const struct gdoi_p1_sa *sa);
/* A responder's answer (RFC 2409 5): proposal p with transform t copied
 * as received (t->raw, its next-payload byte set to 0: it is the last). */
void gdoi_put_p1_choice(struct gdoi_buf *b, uint32_t doi, uint32_t situation,
			const struct gdoi_p1_prop *p, const struct gdoi_p1_transform *t);
void gdoi_put_id(struct gdoi_buf *b, const struct gdoi_id *id);
/* The SA payload with its SA KEK / SA TEK / GAP chain. */
void gdoi_put_sa(struct gdoi_buf *b, const struct gdoi_sa *sa);
void gdoi_put_gap(struct gdoi_buf *b, uint16_t atd, uint16_t dtd);
void gdoi_put_kd(struct gdoi_buf *b, const struct gdoi_kd *kd);
void gdoi_put_seq(struct gdoi_buf *b, uint32_t seq);
void gdoi_put_notify(struct gdoi_buf *b, uint32_t doi, uint8_t proto, uint16_t type,
		     const void *data, size_t len);
void gdoi_put_delete(struct gdoi_buf *b, const struct gdoi_delete *d);

/* Names for logs: "SA", "KE", ..., "SA KEK"; "?" when unknown. */
const char *gdoi_payload_name(uint8_t type);

#endif
