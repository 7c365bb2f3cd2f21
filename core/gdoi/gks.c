/* SPDX-License-Identifier: BSD-2-Clause */
/* gks.c: the group key server.
 *
 * One UDP socket; each datagram is matched to a phase 1 SA by its
 * cookies and the peer's address and port (a Main Mode message 1 from a
 * new source creates one). Main Mode is
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
 * before message 3 proves it holds our nonce.
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
 *
 * With server-member communication configured for a group, the server
 * also pushes (GROUPKEY-PUSH, gdoi_push.h): rekeys every lifetime - 4 x
 * activation-time-delay for the KEK and each TEK, on membership change
 * (after a quiet period), on a policy added or deleted by a reload, and
 * on demand; heartbeats every `heartbeat` seconds. Unicast: one copy per
 * member, each member ACKs (RFC 8263); members that have not ACKed are
 * sent the same message again every retransmission_period, and after
 * 1 + number_of_retransmission sends without an ACK they are removed.
 * Multicast: one copy to the group address, no ACKs. SEQ increases by
 * one for every push of a group and is saved in the state directory
 * before the push leaves, so it never repeats across restarts. */
#include "config.h"
#include "core/gdoi/gks.h"
#include "core/crypto.h"
#include "core/ev.h"
#include "core/gdoi/gdoi.h"
#include "core/gdoi/gdoi_push.h"
#include "core/gdoi/ike.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/gdoi/pcapw.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define GKS_BUCKETS 4096
#define GKS_MEMBER_BUCKETS 65536
#define GKS_DONE_LINGER_S 10     /* keep an SA this long after the PULL, for retransmissions */
#define GKS_RSA_BITS 2048
#define GKS_HISTORY 128          /* rekey rounds remembered */
#define GKS_DUE_SLACK_US 1000000 /* rotate keys due within this of a rekey together */
#define GKS_SEQ_FILE "gks-seq.json"
#define GKS_SEQ_BLOCK 64         /* SEQ numbers reserved on disk at a time */
#define GKS_PUSH_RETRY_MS 5000   /* a push held for want of a SEQ is tried again */
#define GKS_SOCKBUF (8 << 20)    /* socket buffers asked for: a burst of registrations or ACKs */
#define GKS_ACK_TRUESIZE 1024    /* receive buffer an ACK datagram takes in the kernel */
#define GKS_FAN_MIN 64           /* copies per fan-out batch, at least */
#define GKS_FAN_POLL_US 1000     /* window full: look again after this */
#define GKS_FAN_STALL_US 200000  /* ... but no ACK for this long: send the next batch anyway */
#define GKS_SRC_BUCKETS 1024
#define GKS_SRC_MAX 16384        /* addresses tracked for refusals at most */
#define GKS_SRC_WINDOW_US (60 * 1000000ull) /* refusals counted per address over this */
#define GKS_SRC_EVENTS 3         /* refusal events per address and window; the rest aggregated */
#define GKS_AUTH_FAILS 5         /* failed authentications per window that start a back-off */
#define GKS_BACKOFF_MIN_S 10
#define GKS_BACKOFF_MAX_S 300
#define GKS_KEY_FILE "gks-signing-key.pem"
#define GKS_COOKIE_ROTATE_US (60 * 1000000ull) /* responder cookie secret lifetime */
#define GKS_HO_BUCKETS 4096      /* half-open counts by address */

/* One source address's refusals (for aggregated events) and failed
 * authentications (for a back-off from repeated wrong PSKs). */
struct gks_src {
	struct gks_src *next;
	in_addr_t addr;
	uint64_t window_us, last_us;     /* loop clock */
	unsigned refusals, suppressed, auth_fails;
	char last_reason[96];
	uint64_t backoff_until_us;
	unsigned backoff_s;              /* the next back-off; doubles up to GKS_BACKOFF_MAX_S */
};

struct gks_tek {
	const struct cfg_ipsec_sa *pol;  /* in the model in force (current TEKs only) */
	char name[64];                   /* the policy's name, to match it across reloads */
	int proposal;
	uint32_t spi;
	uint8_t transform;
	uint16_t auth_alg, key_bits;
	uint8_t enc[32], integ[64];
	size_t enc_len, integ_len;
	uint32_t lifetime;               /* seconds */
	uint64_t created_us, active_us, due_us, expires_us; /* loop clock */
	uint32_t index;                  /* a stable surrogate key (MIB row) */
};

struct gks_kek {
	struct gdoi_kek k;
	uint16_t alg, bits;              /* GDOI_KEK_ALG_*, key bits */
	uint32_t lifetime;
	uint64_t created_us, due_us, expires_us;
};

struct gks_group;

struct gks_member {
	struct gks_member *next, *prev;  /* the group's list, newest first */
	struct gks_member *hnext;        /* G.mbucket chain, by address and port */
	struct gks_member *inext;        /* G.ibucket chain, by address and identity */
	struct gks_group *group;
	struct sockaddr_in sa;
	char addr[INET6_ADDRSTRLEN + 8]; /* "a.b.c.d:port" */
	char identity[64];
	uint64_t index;                  /* a stable surrogate key (MIB row) */
	struct timespec registered;
	unsigned registrations;
	uint8_t ack_key[GDOI_ACK_KEY_LEN];
	uint32_t pending_seq;            /* push awaiting this member's ACK; 0: none */
	unsigned sends;                  /* copies of that push sent */
	uint32_t last_acked_seq;         /* 0: none acknowledged since it registered */
	uint32_t last_sent_seq;          /* the newest push sent to it by unicast */
	struct in_addr local;            /* our address it registered with: pushes come from it */
	uint64_t rekeys_sent, rekeys_acked, retransmissions;
};

struct gks_round {                       /* the rekey push in flight */
	int active;
	uint8_t *msg;
	size_t len;
	uint32_t seq;
	int want_ack;
	char reason[24];
	uint64_t started_us;
	size_t targeted, acked, removed, outstanding;
	unsigned sends;
	uint64_t hist_index;             /* its record in G.hist */
	uint64_t fan_next;               /* fan-out: the member index it goes on from */
	int fanning;                     /* copies still to send (fan_timer) */
	size_t fan_sent;                 /* first copies sent so far */
	uint64_t fan_full_us;            /* since when the ACK window has been full; 0: not full */
};

struct gks_history {
	uint64_t index;                  /* 1, 2, ... */
	struct timespec when;
	long group_id;
	char reason[24];
	uint32_t seq;
	size_t targeted, acked, removed;
	uint64_t duration_us;
	int done;
};

struct gks_group {
	const struct cfg_group *cfg;
	int has_kek, has_prev_kek;
	struct gks_kek kek, prev_kek;
	uint32_t seq;                    /* the last SEQ used */
	uint32_t seq_reserved;           /* saved on disk: no SEQ above it is used */
	int seq_blocked;                 /* the last reservation failed */
	int push_held;                   /* a rekey push waits for a SEQ (push_timer) */
	int held_kek_rotated;            /* ... and it carries a new KEK */
	char held_reason[24];
	size_t n_tek;
	struct gks_tek tek[GDOI_MAX_TEKS];
	size_t n_old;
	struct gks_tek old[GDOI_MAX_TEKS];
	struct gdoi_delete del;          /* TEKs of deleted policies, for the next push */
	uint64_t key_gen;                /* +1 whenever the keys or policies change */
	struct { uint8_t *msg; size_t len; uint32_t seq; } last; /* the newest rekey push */
	struct gks_member *members;
	size_t n_members;
	struct gks_round round;
	struct loop_timer rekey_timer, retx_timer, hb_timer, member_timer, push_timer, fan_timer;
	uint64_t member_change_us;       /* first membership change no rekey has covered yet; 0 none */
	uint64_t pushes, rekeys, heartbeats, retransmissions, removed;
	uint64_t heartbeats_deferred;    /* skipped while a unicast round waited for ACKs */
	struct timespec last_rekey;
	uint32_t tek_index;              /* last TEK index given */
	struct gks_member **by_index;    /* members by index (ascending); NULL: removed */
	size_t n_by_index, cap_by_index, dead_by_index;
};

enum pull_state { PULL_NONE, PULL_SENT2, PULL_DONE };

struct ho_count {                        /* half-open exchanges from one address */
	struct ho_count *next;
	uint32_t addr;                   /* network order */
	uint32_t n;
};

struct gks_peer {
	struct gks_peer *next, *all_next, *all_prev;
	struct gks_peer *emb_next, *emb_prev;  /* G.emb_*: embryonic, newest first */
	struct ike_sa ike;
	struct loop_timer timer;
	int embryonic;                   /* only message 1 seen */
	int half_open;                   /* message 3 seen, not established */
	char addr[INET6_ADDRSTRLEN];
	struct in_addr local;            /* our address its datagrams came to: answers go from it */
	/* GROUPKEY-PULL */
	enum pull_state pull;
	uint32_t msgid;
	uint8_t iv[CRYPTO_MAX_BLOCK];
	uint8_t ni[256], nr[IKE_NONCE_LEN];
	size_t ni_len;
	struct gks_group *group;
	/* The keys message 2's SA named, so message 4 sends those even if a
	 * rekey comes in between (then the member also gets the push that
	 * replaced them). */
	uint64_t snap_gen;
	uint32_t snap_seq;
	int snap_has_kek;
	uint8_t snap_kek[16];
	size_t snap_n_tek;
	uint32_t snap_tek[GDOI_MAX_TEKS];
	int catch_up;                    /* send the group's last push after message 4 */
	uint8_t *last_in, *last_out;
	size_t last_in_len, last_out_len;
};

static struct {
	int fd;
	struct loop_fd *h;
	struct sockaddr_in local;
	struct in_addr rx_local;         /* the address the datagram being handled came to */
	const struct cfg *cfg;
	struct ike_proposal props[IKE_MAX_PROPOSALS];
	size_t n_props;
	struct gks_group **groups;
	size_t n_groups;
	struct gks_peer *bucket[GKS_BUCKETS];
	struct gks_peer *all;
	struct gks_peer *emb_head, *emb_tail;
	struct ho_count *ho[GKS_HO_BUCKETS];
	uint8_t cookie_secret[2][32];    /* current, previous */
	uint64_t cookie_rotated_us;
	struct gks_member **mbucket;
	struct gks_member **ibucket;     /* by address and identity */
	uint64_t member_index;
	struct crypto_rsa *rsa;
	uint8_t rsa_pub[1024];
	size_t rsa_pub_len;
	char *seq_path;
	cJSON *seq_doc;                  /* {"<group id>": last SEQ} as saved */
	struct gks_history hist[GKS_HISTORY];
	uint64_t hist_count;
	struct pcapw *pcap;
	size_t fan_batch;                /* unicast copies sent before the loop reads ACKs again */
	struct gks_src *src[GKS_SRC_BUCKETS]; /* refusals and failed authentications by address */
	size_t n_src;
	struct loop_timer src_timer;
	struct log_limit lim_refused, lim_drop, lim_ack, lim_pull, lim_mm, lim_expired, lim_backoff;
	struct gks_stats st;
} G = { .fd = -1 };

/* ---- helpers ---------------------------------------------------------------- */

static unsigned bucket_of(const uint8_t icky[8])
{
	return (unsigned)((icky[0] << 8 | icky[1]) ^ (icky[6] << 8 | icky[7])) % GKS_BUCKETS;
}

static unsigned mbucket_of(const struct sockaddr_in *sa)
{
	uint32_t h = ntohl(sa->sin_addr.s_addr) * 2654435761u ^ ntohs(sa->sin_port) * 40503u;
	return (h ^ h >> 16) % GKS_MEMBER_BUCKETS;
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

/* Sends from our address src: with a wildcard listen address the kernel
 * would otherwise pick the source by route, and a member on a host with
 * several addresses (or several of ours on one link) would see the answer
 * come from an address it did not send to, and drop it. */
static int send_from(const struct in_addr *src, const struct sockaddr_in *to, const uint8_t *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };
	union { struct cmsghdr h; uint8_t b[CMSG_SPACE(sizeof(struct in_pktinfo))]; } ctl;
	struct msghdr mh = { .msg_name = (void *)to, .msg_namelen = sizeof(*to), .msg_iov = &iov, .msg_iovlen = 1 };
	if (src && src->s_addr != INADDR_ANY && G.local.sin_addr.s_addr == INADDR_ANY) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = &ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
		struct in_pktinfo pi = { .ipi_spec_dst = *src };
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
	if (sendmsg(G.fd, &mh, 0) < 0) {
		G.st.send_errors++;
		log_debug("gks", "sendmsg: %s", strerror(errno));
		return -1;
	}
	G.st.tx++;
	return 0;
}

static int send_to(const struct sockaddr_in *to, const uint8_t *buf, size_t len)
{
	return send_from(NULL, to, buf, len);
}

static unsigned src_bucket(in_addr_t a)
{
	uint32_t h = (uint32_t)a * 2654435761u;
	return (h ^ h >> 16) % GKS_SRC_BUCKETS;
}

/* The record of an address, made on first use (NULL when GKS_SRC_MAX
 * addresses are tracked already: then nothing is aggregated for it). */
static struct gks_src *src_get(in_addr_t a)
{
	unsigned b = src_bucket(a);
	for (struct gks_src *t = G.src[b]; t; t = t->next)
		if (t->addr == a)
			return t;
	if (G.n_src >= GKS_SRC_MAX)
		return NULL;
	struct gks_src *t = xcalloc(1, sizeof(*t));
	t->addr = a;
	t->next = G.src[b];
	G.src[b] = t;
	G.n_src++;
	return t;
}

/* Ends t's counting window: the refusals not published as events go
 * out as one. */
static void src_window_end(struct gks_src *t, uint64_t now)
{
	if (t->suppressed) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &t->addr, a, sizeof(a));
		struct event e;
		ev_begin(&e, EV_REGISTRATION_REFUSED);
		ev_param_str(&e, "member", a);
		ev_param_str(&e, "reason", t->last_reason);
		ev_param_uint(&e, "count", t->suppressed);
		ev_publish(&e, "%u more registrations from %s refused in %llu s (the last: %s)", t->suppressed, a,
			   (unsigned long long)(GKS_SRC_WINDOW_US / 1000000u), t->last_reason);
	}
	t->window_us = now;
	t->refusals = t->suppressed = t->auth_fails = 0;
}

/* Every minute: aggregated refusal events of ended windows, and records
 * idle for ten windows dropped. */
static void on_src_timer(struct loop_timer *tm GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	uint64_t now = loop_now_us();
	loop_timer_arm_ms(&G.src_timer, GKS_SRC_WINDOW_US / 1000u);
	for (unsigned b = 0; b < GKS_SRC_BUCKETS; b++)
		for (struct gks_src **pp = &G.src[b]; *pp;) {
			struct gks_src *t = *pp;
			if (now - t->window_us >= GKS_SRC_WINDOW_US)
				src_window_end(t, now);
			if (now - t->last_us >= 10 * GKS_SRC_WINDOW_US && t->backoff_until_us <= now) {
				*pp = t->next;
				free(t);
				G.n_src--;
				continue;
			}
			pp = &t->next;
		}
}

/* A failed authentication from a: GKS_AUTH_FAILS in a window start a
 * back-off (no message 3, so no Diffie-Hellman, from that address) of
 * 10 s, doubled each time up to 5 minutes. */
static void src_auth_failed(in_addr_t a)
{
	uint64_t now = loop_now_us();
	struct gks_src *t = src_get(a);
	if (!t)
		return;
	if (now - t->window_us >= GKS_SRC_WINDOW_US)
		src_window_end(t, now);
	t->last_us = now;
	if (++t->auth_fails < GKS_AUTH_FAILS)
		return;
	if (!t->backoff_s)
		t->backoff_s = GKS_BACKOFF_MIN_S;
	t->backoff_until_us = now + (uint64_t)t->backoff_s * 1000000u;
	char s[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, s, sizeof(s));
	log_notice("gks", "%s: %u failed authentications within %llu s: no new exchange from it for %u s", s,
		   t->auth_fails, (unsigned long long)(GKS_SRC_WINDOW_US / 1000000u), t->backoff_s);
	G.st.backoffs++;
	t->auth_fails = 0;
	t->backoff_s = t->backoff_s * 2 > GKS_BACKOFF_MAX_S ? GKS_BACKOFF_MAX_S : t->backoff_s * 2;
}

static int src_backed_off(in_addr_t a)
{
	for (struct gks_src *t = G.src[src_bucket(a)]; t; t = t->next)
		if (t->addr == a)
			return t->backoff_until_us > loop_now_us();
	return 0;
}

/* A refusal: counted always; logged (rate-limited) and published as an
 * event the first GKS_SRC_EVENTS times per address and window, then
 * aggregated into one event at the window's end. */
static void refused(const struct gks_peer *p, const char *group, const char *reason)
{
	G.st.refused++;
	uint64_t now = loop_now_us();
	struct gks_src *t = src_get(((const struct sockaddr_in *)&p->ike.peer)->sin_addr.s_addr);
	if (t) {
		if (now - t->window_us >= GKS_SRC_WINDOW_US)
			src_window_end(t, now);
		t->last_us = now;
		if (++t->refusals > GKS_SRC_EVENTS) {
			t->suppressed++;
			str_copy(t->last_reason, reason, sizeof(t->last_reason));
			G.st.refusals_aggregated++;
			return;
		}
	}
	log_limited(&G.lim_refused, now, LOG_WARNING, "gks", "registration from %s refused: %s", p->addr, reason);
	struct event e;
	ev_begin(&e, EV_REGISTRATION_REFUSED);
	ev_param_str(&e, "member", p->addr);
	if (group)
		ev_param_str(&e, "group", group);
	ev_param_str(&e, "reason", reason);
	ev_publish(&e, "registration from %s refused: %s", p->addr, reason);
}

static void spi_hex(const uint8_t *spi, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 3 <= outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%02x", spi[i]);
}

/* lifetime - 4 x ATD, the seed's rekey interval, in microseconds. */
static uint64_t rekey_interval_us(const struct gks_group *g, uint32_t lifetime)
{
	long iv = (long)lifetime - 4 * g->cfg->activation_time_delay;
	return (uint64_t)(iv > 0 ? iv : 1) * 1000000u;
}

uint64_t gks_rekey_interval(long lifetime, long atd)
{
	long iv = lifetime - 4 * atd;
	return iv > 0 ? (uint64_t)iv : 1;
}

/* ---- SEQ persistence ---------------------------------------------------------------- */

/* SEQ numbers are reserved on disk GKS_SEQ_BLOCK at a time: the file
 * holds, per group, a number no push has gone above, written (and the
 * file and directory fsynced) before any SEQ up to it is used. After a
 * restart, a crash included, SEQ continues above the saved number, so
 * none is ever used twice. A file that does not parse would lose that
 * bound: the agent refuses to start rather than guess (a floor from the
 * clock is not provably above what was sent). */
static int seq_load(const char *state_dir)
{
	free(G.seq_path);
	cJSON_Delete(G.seq_doc);
	G.seq_path = xasprintf("%s/%s", state_dir ? state_dir : ".", GKS_SEQ_FILE);
	size_t len = 0;
	errno = 0;
	char *text = file_read_all(G.seq_path, 1 << 20, &len);
	int missing = !text && errno == ENOENT;
	G.seq_doc = text ? cJSON_ParseWithLength(text, len) : NULL;
	free(text);
	if (cJSON_IsObject(G.seq_doc))
		return 0;
	cJSON_Delete(G.seq_doc);
	G.seq_doc = NULL;
	if (!missing) {
		log_err("gks", "%s is unreadable or not a JSON object: the last SEQ of each group is lost, "
			       "and starting over could reuse SEQ numbers members would refuse. Restore the file, "
			       "or write {\"<group_id>\": N} with N above the group's last SEQ (gvpnGroupSeq, "
			       "'gvpnctl show groups' or the REKEY_SENT/HEARTBEAT_SENT log lines), then start again",
			G.seq_path);
		return -1;
	}
	G.seq_doc = cJSON_CreateObject();
	return 0;
}

static uint32_t seq_saved(long group_id)
{
	char k[16];
	snprintf(k, sizeof(k), "%ld", group_id);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(G.seq_doc, k);
	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 4294967296.0
		       ? (uint32_t)v->valuedouble : 0;
}

/* Saves upto as g's reservation; 0 or -1 (nothing reserved). */
static int seq_reserve(struct gks_group *g, uint32_t upto)
{
	char k[16];
	snprintf(k, sizeof(k), "%ld", g->cfg->group_id);
	cJSON *v = cJSON_GetObjectItemCaseSensitive(G.seq_doc, k);
	double was = v ? v->valuedouble : -1;
	if (v)
		cJSON_SetNumberValue(v, upto);
	else
		v = cJSON_AddNumberToObject(G.seq_doc, k, upto);
	char *text = cJSON_Print(G.seq_doc);
	int rc = file_write_atomic(G.seq_path, text, strlen(text), 0600);
	free(text);
	if (rc < 0) {
		int e = errno;
		if (was >= 0)
			cJSON_SetNumberValue(v, was);
		else
			cJSON_DeleteItemFromObjectCaseSensitive(G.seq_doc, k);
		errno = e;
		return -1;
	}
	g->seq_reserved = upto;
	return 0;
}

/* The next SEQ of g, inside a durable reservation; 0 when none can be
 * saved (the caller sends nothing: a push with an unsaved SEQ could be
 * repeated after a restart). */
static uint32_t seq_next(struct gks_group *g)
{
	if (g->seq == UINT32_MAX)
		return 0;
	if (g->seq + 1 > g->seq_reserved) {
		uint32_t upto = g->seq > UINT32_MAX - GKS_SEQ_BLOCK ? UINT32_MAX : g->seq + GKS_SEQ_BLOCK;
		if (seq_reserve(g, upto) < 0) {
			G.st.seq_save_errors++;
			g->seq_blocked = 1;
			log_err("gks", "group %s: cannot save a SEQ reservation to %s (%s): no push goes out "
				       "until it can", g->cfg->name, G.seq_path, strerror(errno));
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

/* activate_after_us: 0 for a TEK members use at once (first keys),
 * 2 x ATD for one pushed by a rekey. */
static int new_tek(struct gks_group *g, struct gks_tek *t, const struct cfg_ipsec_sa *pol,
		   uint64_t activate_after_us)
{
	const struct esp_suite *s = &esp_suites[pol->proposal];
	uint64_t now = loop_now_us();
	memset(t, 0, sizeof(*t));
	t->pol = pol;
	str_copy(t->name, pol->name, sizeof(t->name));
	t->proposal = pol->proposal;
	t->transform = s->transform;
	t->key_bits = s->key_bits;
	t->auth_alg = s->auth;
	t->enc_len = s->enc_len;
	t->integ_len = s->integ_len;
	t->lifetime = (uint32_t)pol->lifetime_seconds;
	t->index = ++g->tek_index;
	t->created_us = now;
	t->active_us = now + activate_after_us;
	t->due_us = now + rekey_interval_us(g, t->lifetime);
	t->expires_us = now + (uint64_t)t->lifetime * 1000000u;
	do {
		if (crypto_random(&t->spi, sizeof(t->spi)) < 0)
			return -1;
	} while (t->spi < 256); /* SPIs 1-255 are reserved (RFC 4303 2.1) */
	return crypto_random(t->enc, t->enc_len) | crypto_random(t->integ, t->integ_len);
}

static int new_kek(struct gks_group *g, struct gks_kek *k)
{
	const struct cfg_smc *smc = g->cfg->smc;
	unsigned bits;
	uint64_t now = loop_now_us();
	memset(k, 0, sizeof(*k));
	k->k.cipher = cipher_of(smc->encryption_algorithm, &bits);
	k->k.key_bits = bits;
	k->alg = k->k.cipher == CRYPTO_CIPHER_AES ? GDOI_KEK_ALG_AES :
		 k->k.cipher == CRYPTO_CIPHER_3DES ? GDOI_KEK_ALG_3DES : GDOI_KEK_ALG_DES;
	k->bits = (uint16_t)(bits ? bits : k->k.cipher == CRYPTO_CIPHER_3DES ? 192 : 64);
	k->k.key_len = crypto_cipher_key_len(k->k.cipher, bits);
	k->lifetime = (uint32_t)smc->lifetime_seconds;
	k->created_us = now;
	k->due_us = now + rekey_interval_us(g, k->lifetime);
	k->expires_us = now + (uint64_t)k->lifetime * 1000000u;
	if (crypto_cipher_weak(k->k.cipher) || smc->sig_hash_algorithm <= CFG_HASH_SHA1)
		log_warn("gks", "group %s: server-member communication uses weak algorithms (%s, %s)",
			 g->cfg->name, cfg_enum_name(cfg_enc_names, smc->encryption_algorithm),
			 cfg_enum_name(cfg_hash_names, smc->sig_hash_algorithm));
	k->k.profile = g->cfg->wire_profile == CFG_WIRE_GDOID ? GDOI_PROFILE_GDOID : GDOI_PROFILE_RFC6407;
	/* The static IV of the gdoid profile travels with the key (IV | key). */
	return crypto_random(k->k.spi, sizeof(k->k.spi)) | crypto_random(k->k.key, k->k.key_len) |
	       crypto_random(k->k.iv, sizeof(k->k.iv));
}

static int group_keys(struct gks_group *g)
{
	if (g->cfg->smc) {
		if (new_kek(g, &g->kek) < 0)
			return -1;
		g->has_kek = 1;
	}
	g->n_tek = g->cfg->n_ipsec_sa < GDOI_MAX_TEKS ? g->cfg->n_ipsec_sa : GDOI_MAX_TEKS;
	for (size_t i = 0; i < g->n_tek; i++) {
		if (new_tek(g, &g->tek[i], &g->cfg->ipsec_sa[i], 0) < 0)
			return -1;
		if (g->cfg->ipsec_sa[i].proposal >= 5)
			log_warn("gks", "group %s: ipsec_sa %s uses a weak proposal (%s)", g->cfg->name,
				 g->cfg->ipsec_sa[i].name,
				 cfg_enum_name(cfg_proposal_names, g->cfg->ipsec_sa[i].proposal));
	}
	return 0;
}

/* ---- policy payloads --------------------------------------------------------------- */

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

static uint32_t remaining_s(uint64_t expires_us)
{
	uint64_t now = loop_now_us();
	return expires_us > now ? (uint32_t)((expires_us - now + 999999u) / 1000000u) : 0;
}

static int group_profile(const struct gks_group *g)
{
	return g->cfg->wire_profile == CFG_WIRE_GDOID ? GDOI_PROFILE_GDOID : GDOI_PROFILE_RFC6407;
}

/* The group's policy. ack_requested: the KEK_ACK_REQUESTED value (0: none). */
static void build_sa(const struct gks_group *g, struct gdoi_sa *sa, int ack_requested)
{
	memset(sa, 0, sizeof(*sa));
	sa->profile = group_profile(g);
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
		k->lifetime = remaining_s(g->kek.expires_us);
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
		s->lifetime = remaining_s(t->expires_us);
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

static void build_kd(const struct gks_group *g, const struct gks_kek *sealing, struct gdoi_kd *kd)
{
	const struct gks_tek *teks[GDOI_MAX_TEKS];
	for (size_t i = 0; i < g->n_tek; i++)
		teks[i] = &g->tek[i];
	build_kd_keys(g->has_kek ? &g->kek : NULL, sealing, teks, g->n_tek, kd);
}

/* The keys a PULL's message 2 named (p's snapshot), from the current and
 * old ones; -1 when one of them is gone (two rekeys in between). */
static int build_kd_snapshot(const struct gks_group *g, const struct gks_peer *p, struct gdoi_kd *kd)
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

static void pcap_hook(void *arg, const uint8_t *msg, size_t len, int inbound)
{
	const struct gks_peer *p = arg;
	const struct sockaddr_in *peer = (const struct sockaddr_in *)&p->ike.peer;
	if (inbound)
		pcapw_udp(G.pcap, peer, &G.local, msg, len);
	else
		pcapw_udp(G.pcap, &G.local, peer, msg, len);
}

/* ---- history ------------------------------------------------------------------------ */

static struct gks_history *history_add(const struct gks_group *g, const char *reason, uint32_t seq)
{
	struct gks_history *h = &G.hist[G.hist_count % GKS_HISTORY];
	memset(h, 0, sizeof(*h));
	h->index = ++G.hist_count;
	clock_gettime(CLOCK_REALTIME, &h->when);
	h->group_id = g->cfg->group_id;
	str_copy(h->reason, reason, sizeof(h->reason));
	h->seq = seq;
	return h;
}

/* ---- members ---------------------------------------------------------------------- */

/* The members of a group sorted by index, for lookups in O(log n)
 * (SNMP walks). Indexes only grow, so a new member is appended; a
 * removed one leaves a hole until holes are half the array. */
static void by_index_add(struct gks_group *g, struct gks_member *m)
{
	if (g->n_by_index == g->cap_by_index) {
		g->cap_by_index = g->cap_by_index ? 2 * g->cap_by_index : 64;
		g->by_index = xrealloc(g->by_index, g->cap_by_index * sizeof(*g->by_index));
	}
	g->by_index[g->n_by_index++] = m;
}

/* First slot whose member has index >= idx (holes skipped by callers). */
static size_t by_index_search(const struct gks_group *g, uint64_t idx)
{
	size_t lo = 0, hi = g->n_by_index;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		size_t k = mid;
		while (k < hi && !g->by_index[k])
			k++;
		if (k == hi) {
			hi = mid;
			continue;
		}
		if (g->by_index[k]->index < idx)
			lo = k + 1;
		else
			hi = mid;
	}
	return lo;
}

static void by_index_remove(struct gks_group *g, const struct gks_member *m)
{
	size_t i = by_index_search(g, m->index);
	while (i < g->n_by_index && g->by_index[i] != m)
		i++;
	if (i == g->n_by_index)
		return;
	g->by_index[i] = NULL;
	if (++g->dead_by_index > 64 && g->dead_by_index > g->n_by_index / 2) {
		size_t k = 0;
		for (size_t j = 0; j < g->n_by_index; j++)
			if (g->by_index[j])
				g->by_index[k++] = g->by_index[j];
		g->n_by_index = k;
		g->dead_by_index = 0;
	}
}

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

static unsigned ibucket_of(in_addr_t addr, const char *identity)
{
	uint32_t h = 2166136261u ^ addr;
	for (const char *p = identity; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h % GKS_MEMBER_BUCKETS;
}

static void ibucket_unlink(struct gks_member *m)
{
	struct gks_member **pp = &G.ibucket[ibucket_of(m->sa.sin_addr.s_addr, m->identity)];
	while (*pp && *pp != m)
		pp = &(*pp)->inext;
	if (*pp)
		*pp = m->inext;
	m->inext = NULL;
}

static void ibucket_link(struct gks_member *m)
{
	unsigned b = ibucket_of(m->sa.sin_addr.s_addr, m->identity);
	m->inext = G.ibucket[b];
	G.ibucket[b] = m;
}

/* The member of g at this address with this identity, whatever its
 * port: the same member after a new source port or NAT mapping. */
static struct gks_member *member_find_identity(const struct gks_group *g, in_addr_t addr,
					       const char *identity)
{
	for (struct gks_member *m = G.ibucket[ibucket_of(addr, identity)]; m; m = m->inext)
		if (m->group == g && m->sa.sin_addr.s_addr == addr && !strcmp(m->identity, identity))
			return m;
	return NULL;
}

static void mbucket_unlink(struct gks_member *m)
{
	struct gks_member **pp = &G.mbucket[mbucket_of(&m->sa)];
	while (*pp && *pp != m)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = m->hnext;
	m->hnext = NULL;
}

static struct gks_member *member_find(const struct sockaddr_in *sa)
{
	for (struct gks_member *m = G.mbucket[mbucket_of(sa)]; m; m = m->hnext)
		if (m->sa.sin_addr.s_addr == sa->sin_addr.s_addr && m->sa.sin_port == sa->sin_port)
			return m;
	return NULL;
}

static void round_member_gone(struct gks_group *g, struct gks_member *m)
{
	if (g->round.active && m->pending_seq == g->round.seq && g->round.outstanding)
		g->round.outstanding--;
	m->pending_seq = 0;
}

/* Unlinks and frees m. */
static void member_free(struct gks_member *m)
{
	struct gks_group *g = m->group;
	round_member_gone(g, m);
	mbucket_unlink(m);
	ibucket_unlink(m);
	if (m->prev)
		m->prev->next = m->next;
	else
		g->members = m->next;
	if (m->next)
		m->next->prev = m->prev;
	g->n_members--;
	by_index_remove(g, m);
	OPENSSL_cleanse(m, sizeof(*m));
	free(m);
}

static void free_members(struct gks_group *g)
{
	while (g->members)
		member_free(g->members);
	g->n_by_index = g->dead_by_index = 0;
}

/* The membership rekey comes membership_rekey_delay after the last
 * change, so that a burst of joins causes one rekey; but no later than
 * membership_rekey_max_delay after the first change it covers, so that
 * joins that never stop cannot postpone it (and the pruning of members
 * that no longer answer, which only a unicast round does) forever. */
static void membership_changed(struct gks_group *g)
{
	const struct cfg_smc *smc = g->cfg->smc;
	if (!smc || !smc->membership_rekey)
		return;
	uint64_t now = loop_now_us();
	if (!g->member_change_us)
		g->member_change_us = now;
	uint64_t at = now + (uint64_t)smc->membership_rekey_delay * 1000000u;
	uint64_t latest = g->member_change_us + (uint64_t)smc->membership_rekey_max_delay * 1000000u;
	if (at > latest)
		at = latest;
	loop_timer_arm_ms(&g->member_timer, at > now ? (at - now + 999) / 1000 : 0);
}
/* ---- GROUPKEY-PUSH ------------------------------------------------------------------ */

static void schedule_rekey(struct gks_group *g);

/* Sends a sealed push to the group: each member (unicast) or the
 * group's multicast address. Returns the number of copies sent. */
static size_t send_multicast(const struct gks_group *g, const uint8_t *msg, size_t len)
{
	const struct cfg_smc *smc = g->cfg->smc;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)smc->multicast_port) };
	if (!smc->multicast_group || inet_pton(AF_INET, smc->multicast_group, &to.sin_addr) != 1)
		return 0;
	struct ip_mreqn mr = { 0 };
	if (smc->multicast_interface) {
		mr.imr_ifindex = (int)if_nametoindex(smc->multicast_interface);
		if (!mr.imr_ifindex)
			log_warn("gks", "group %s: multicast interface %s: %s", g->cfg->name,
				 smc->multicast_interface, strerror(errno));
	}
	int ttl = (int)smc->multicast_ttl;
	if (setsockopt(G.fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0 ||
	    setsockopt(G.fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0)
		log_warn("gks", "group %s: multicast options: %s", g->cfg->name, strerror(errno));
	return send_to(&to, msg, len) == 0;
}

/* Builds HDR*, SEQ, [D,] SA [, KD], SIG sealed under kek; D names the
 * TEKs of policies deleted since the last push (RFC 6407 4: "a group
 * policy is added or deleted"), and a group left without policies gets
 * HDR*, SEQ, D, SIG. */
static int build_push(struct gks_group *g, const struct gks_kek *kek, uint32_t seq, int with_kd,
		      int ack, struct gdoi_buf *b)
{
	struct gdoi_sa sa;
	build_sa(g, &sa, ack ? GDOI_ACK_REQUESTED_SHA256 : 0);
	gdoi_push_hdr(b, &kek->k);
	gdoi_put_seq(b, seq);
	int deleted = g->del.n > 0;
	if (deleted) {
		gdoi_put_delete(b, &g->del);
		g->del.n = 0;
	}
	if (!deleted || sa.n_tek || kek != &g->kek) {
		gdoi_put_sa(b, &sa);
		if (with_kd) {
			struct gdoi_kd kd;
			build_kd(g, kek, &kd);
			gdoi_put_kd(b, &kd);
			gdoi_kd_wipe(&kd);
		}
	}
	if (G.pcap) { /* the plaintext (without SIG), for tshark; the wire copy is encrypted */
		gdoi_finish(b);
		b->data[19] &= (uint8_t)~ISAKMP_FLAG_ENC;
		struct sockaddr_in to = G.local;
		if (g->members)
			to = g->members->sa;
		pcapw_udp(G.pcap, &G.local, &to, b->data, b->len);
		b->data[19] |= ISAKMP_FLAG_ENC;
	}
	return gdoi_push_seal(b, &kek->k, G.rsa, hash_of(g->cfg->smc->sig_hash_algorithm));
}

/* Unicast copies go out G.fan_batch at a time, in member index order,
 * with the event loop (and so the ACKs already queued) in between: a
 * burst never outruns the socket's receive buffer. Members whose copy
 * is still due have pending_seq == the round's SEQ. */
static void fan_out(struct gks_group *g)
{
	struct gks_round *r = &g->round;
	size_t room = G.fan_batch;
	/* A round that waits for ACKs keeps at most a batch of them
	 * outstanding: members answer as fast as they can verify, and
	 * copies sent faster than that only pile their ACKs up in our
	 * receive buffer until the kernel drops them (seen at 100,000
	 * members). Members that never answer would hold the window shut:
	 * after GKS_FAN_STALL_US without room the next batch goes anyway. */
	if (r->want_ack) {
		size_t inflight = r->fan_sent > r->acked ? r->fan_sent - r->acked : 0;
		room = G.fan_batch > inflight ? G.fan_batch - inflight : 0;
		uint64_t now = loop_now_us();
		if (room < G.fan_batch / 2) {
			if (!r->fan_full_us)
				r->fan_full_us = now;
			if (now - r->fan_full_us < GKS_FAN_STALL_US) {
				loop_timer_arm_us(&g->fan_timer, GKS_FAN_POLL_US);
				return;
			}
			r->fan_sent = r->acked;  /* those are not coming: they leave the window */
			room = G.fan_batch;
		}
		r->fan_full_us = 0;
	}
	size_t sent = 0, i = by_index_search(g, r->fan_next);
	for (; i < g->n_by_index && sent < room; i++) {
		struct gks_member *m = g->by_index[i];
		if (!m || m->pending_seq != r->seq)
			continue;
		send_from(&m->local, &m->sa, r->msg, r->len);
		r->fan_next = m->index + 1;
		sent++;
	}
	r->fan_sent += sent;
	r->fanning = i < g->n_by_index;
	if (r->fanning) {
		G.st.fan_pauses++;
		loop_timer_arm_ms(&g->fan_timer, 0);
	} else if (r->want_ack && g->cfg->smc) {
		/* The retransmission period counts from the last copy of this
		 * fan-out, not from its first: a paced round of many members
		 * takes longer than the period, and its last members would
		 * otherwise be sent a second copy before they had the first. */
		loop_timer_arm_ms(&g->retx_timer, (uint64_t)g->cfg->smc->retransmission_period * 1000u);
	}
}

void gks_set_fan_batch(size_t n)
{
	G.fan_batch = n ? n : 1;
}

static void fan_start(struct gks_group *g)
{
	g->round.fan_next = 0;
	g->round.fan_sent = g->round.acked;  /* the window counts this fan's copies and later ACKs */
	g->round.fan_full_us = 0;
	fan_out(g);
}

static void on_fan_timer(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct gks_group *g = arg;
	if (g->round.active && g->round.fanning)
		fan_out(g);
}

static void round_end(struct gks_group *g)
{
	struct gks_round *r = &g->round;
	if (!r->active)
		return;
	loop_timer_cancel(&g->retx_timer);
	loop_timer_cancel(&g->fan_timer);
	uint64_t dur = loop_now_us() - r->started_us;
	struct gks_history *h = r->hist_index ? &G.hist[(r->hist_index - 1) % GKS_HISTORY] : NULL;
	if (h && h->index == r->hist_index) {
		h->acked = r->acked;
		h->removed = r->removed;
		h->duration_us = dur;
		h->done = 1;
	}
	struct event e;
	ev_begin(&e, EV_REKEY_SENT);
	ev_param_int(&e, "group", g->cfg->group_id);
	ev_param_uint(&e, "index", r->hist_index);
	ev_param_str(&e, "reason", r->reason);
	ev_param_uint(&e, "seq", r->seq);
	ev_param_str(&e, "transport", r->want_ack ? "unicast" : "multicast");
	ev_param_uint(&e, "targeted", r->targeted);
	ev_param_uint(&e, "acked", r->acked);
	ev_param_uint(&e, "removed", r->removed);
	ev_param(&e, "duration_ms", "%.1f", (double)dur / 1000.0);
	ev_publish(&e, "rekey SEQ %u of group %s (%ld): %zu member%s targeted, %zu acknowledged, %zu removed, "
		   "%.1f ms", r->seq, g->cfg->name, g->cfg->group_id, r->targeted, r->targeted == 1 ? "" : "s",
		   r->acked, r->removed, (double)dur / 1000.0);
	free(r->msg);
	memset(r, 0, sizeof(*r));
}

static void round_check(struct gks_group *g)
{
	if (g->round.active && !g->round.outstanding)
		round_end(g);
}

/* A rekey: new keys as the reason asks, then (with server-member
 * communication) a push to the members. rotate: 1 all keys, 0 only
 * those due. */
static void push_rekey(struct gks_group *g, const char *reason, int kek_rotated);

static void rekey(struct gks_group *g, const char *reason, int rotate)
{
	const struct cfg_smc *smc = g->cfg->smc;
	uint64_t now = loop_now_us();
	uint64_t atd2 = 2u * (uint64_t)g->cfg->activation_time_delay * 1000000u;
	int kek_rotated = 0;
	char a[40], b[40];
	/* A KEK replaced by a push still held: members hold the one before,
	 * which must stay until that push goes out. */
	int kek_held = g->push_held && g->held_kek_rotated;
	if (g->has_kek && smc && !kek_held && (rotate || g->kek.due_us <= now + GKS_DUE_SLACK_US)) {
		struct gks_kek nk;
		if (new_kek(g, &nk) == 0) {
			g->prev_kek = g->kek;
			g->has_prev_kek = 1;
			g->kek = nk;
			kek_rotated = 1;
			spi_hex(g->prev_kek.k.spi, 16, a, sizeof(a));
			spi_hex(g->kek.k.spi, 16, b, sizeof(b));
			struct event e;
			ev_begin(&e, EV_KEK_REPLACED);
			ev_param_int(&e, "group", g->cfg->group_id);
			ev_param_str(&e, "old_spi", a);
			ev_param_str(&e, "new_spi", b);
			ev_param_str(&e, "reason", reason);
			ev_publish(&e, "group %s (%ld): KEK %s replaced by %s (%s)", g->cfg->name, g->cfg->group_id,
				   a, b, reason);
		}
	}
	for (size_t i = 0; i < g->n_tek; i++) {
		struct gks_tek *t = &g->tek[i];
		if (!rotate && t->due_us > now + GKS_DUE_SLACK_US)
			continue;
		struct gks_tek nt;
		if (new_tek(g, &nt, t->pol, smc ? atd2 : 0) < 0)
			continue;
		/* The old key stays in use until the new one activates, then
		 * lingers as "old" until its lifetime ends. */
		if (g->n_old == GDOI_MAX_TEKS) {
			memmove(&g->old[0], &g->old[1], sizeof(g->old[0]) * (GDOI_MAX_TEKS - 1));
			g->n_old--;
		}
		g->old[g->n_old] = *t;
		g->old[g->n_old].pol = NULL;
		g->n_old++;
		*t = nt;
		struct event e;
		ev_begin(&e, EV_TEK_REPLACED);
		ev_param_int(&e, "group", g->cfg->group_id);
		ev_param_str(&e, "policy", t->name);
		ev_param(&e, "old_spi", "0x%08x", g->old[g->n_old - 1].spi);
		ev_param(&e, "new_spi", "0x%08x", t->spi);
		ev_param_uint(&e, "index", t->index);
		ev_param_str(&e, "reason", reason);
		ev_publish(&e, "group %s (%ld): TEK %s 0x%08x replaced by 0x%08x (%s)", g->cfg->name,
			   g->cfg->group_id, t->name, g->old[g->n_old - 1].spi, t->spi, reason);
	}
	g->rekeys++;
	g->key_gen++;
	clock_gettime(CLOCK_REALTIME, &g->last_rekey);
	schedule_rekey(g);
	if (!smc || !g->has_kek)
		return; /* members pick the new keys up when they reregister */
	push_rekey(g, reason, kek_rotated || kek_held);
}

/* The push of a rekey: the group's keys, sealed under the KEK members
 * hold (the previous one when the KEK was just replaced). Without a
 * durable SEQ it is held and tried again every GKS_PUSH_RETRY_MS. */
static void push_rekey(struct gks_group *g, const char *reason, int kek_rotated)
{
	const struct cfg_smc *smc = g->cfg->smc;
	int unicast = smc->communication_type == CFG_COMM_UNICAST;
	struct gks_round *r = &g->round;
	uint32_t seq = seq_next(g);
	if (!seq) {
		if (!g->push_held) {
			struct event e;
			ev_begin(&e, EV_REKEY_STARTED);
			ev_param_int(&e, "group", g->cfg->group_id);
			ev_param_str(&e, "reason", reason);
			ev_param_uint(&e, "seq", 0u);
			ev_param_str(&e, "transport", "held");
			ev_param_uint(&e, "targeted", 0);
			ev_publish(&e, "group %s (%ld): rekey (%s) held: no SEQ can be saved; retrying every %u s",
				   g->cfg->name, g->cfg->group_id, reason, GKS_PUSH_RETRY_MS / 1000u);
		}
		G.st.pushes_held++;
		g->push_held = 1;
		g->held_kek_rotated = kek_rotated;
		str_copy(g->held_reason, reason, sizeof(g->held_reason));
		loop_timer_arm_ms(&g->push_timer, GKS_PUSH_RETRY_MS);
		return;
	}
	int kek_was_held = g->push_held && g->held_kek_rotated;
	g->push_held = 0;
	g->held_kek_rotated = 0;
	loop_timer_cancel(&g->push_timer);
	if (kek_was_held)
		schedule_rekey(g);
	if (r->active) /* a new rekey supersedes the one in flight: report it as it stands */
		round_end(g);
	struct gdoi_buf buf;
	gdoi_buf_init(&buf);
	/* A new KEK travels under the one members hold. */
	if (build_push(g, kek_rotated ? &g->prev_kek : &g->kek, seq, 1, unicast, &buf) < 0) {
		log_err("gks", "group %s: cannot build the rekey push", g->cfg->name);
		gdoi_buf_free(&buf);
		return;
	}
	r->active = 1;
	r->msg = xmalloc(buf.len);
	memcpy(r->msg, buf.data, buf.len);
	r->len = buf.len;
	free(g->last.msg);
	g->last.msg = xmalloc(buf.len);
	memcpy(g->last.msg, buf.data, buf.len);
	g->last.len = buf.len;
	g->last.seq = seq;
	gdoi_buf_free(&buf);
	r->seq = seq;
	r->want_ack = unicast;
	str_copy(r->reason, reason, sizeof(r->reason));
	r->started_us = loop_now_us();
	r->sends = 1;
	r->targeted = g->n_members;
	struct gks_history *h = history_add(g, reason, seq);
	h->targeted = r->targeted;
	r->hist_index = h->index;
	g->pushes++;
	G.st.rekeys_sent++;
	if (unicast) {
		for (struct gks_member *m = g->members; m; m = m->next) {
			m->pending_seq = seq;
			m->last_sent_seq = seq;
			m->sends = 1;
			m->rekeys_sent++;
			r->outstanding++;
		}
		fan_start(g);
	} else {
		send_multicast(g, r->msg, r->len);
		for (struct gks_member *m = g->members; m; m = m->next)
			m->rekeys_sent++;
	}
	struct event e;
	ev_begin(&e, EV_REKEY_STARTED);
	ev_param_int(&e, "group", g->cfg->group_id);
	ev_param_str(&e, "reason", reason);
	ev_param_uint(&e, "seq", seq);
	ev_param_str(&e, "transport", unicast ? "unicast" : "multicast");
	ev_param_uint(&e, "targeted", r->targeted);
	ev_publish(&e, "group %s (%ld): rekey SEQ %u (%s) sent %s to %zu member%s", g->cfg->name,
		   g->cfg->group_id, seq, reason, unicast ? "unicast" : "multicast", r->targeted,
		   r->targeted == 1 ? "" : "s");
	if (unicast && r->outstanding)
		loop_timer_arm_ms(&g->retx_timer, (uint64_t)smc->retransmission_period * 1000u);
	else
		round_end(g);
}

static void remove_member(struct gks_group *g, struct gks_member *m, unsigned sends)
{
	G.st.members_removed++;
	g->removed++;
	log_warn("gks", "member %s (%s) of group %s removed: no ACK of SEQ %u after %u sends", m->addr,
		 m->identity, g->cfg->name, m->pending_seq, sends);
	struct event e;
	ev_begin(&e, EV_MEMBER_REMOVED);
	ev_param_int(&e, "group", g->cfg->group_id);
	ev_param_str(&e, "member", m->addr);
	ev_param_str(&e, "identity", m->identity);
	ev_param_uint(&e, "index", m->index);
	ev_param_uint(&e, "seq", m->pending_seq);
	ev_param_uint(&e, "sends", sends);
	ev_param_str(&e, "reason", "no ACK");
	ev_publish(&e, "member %s (%s) removed from group %s (%ld): no ACK of SEQ %u after %u sends", m->addr,
		   m->identity, g->cfg->name, g->cfg->group_id, m->pending_seq, sends);
	member_free(m);
	membership_changed(g);
}

static void on_retx_timer(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct gks_group *g = arg;
	struct gks_round *r = &g->round;
	const struct cfg_smc *smc = g->cfg->smc;
	if (!r->active || !smc)
		return;
	unsigned max_sends = 1u + (unsigned)smc->number_of_retransmission;
	size_t resent = 0, removed = 0;
	for (struct gks_member *m = g->members, *next; m; m = next) {
		next = m->next;
		if (m->pending_seq != r->seq)
			continue;
		if (m->sends >= max_sends) {
			remove_member(g, m, max_sends);
			r->removed++;
			removed++;
			continue;
		}
		m->sends++;
		m->retransmissions++;
		g->retransmissions++;
		G.st.retransmissions++;
		resent++;
	}
	if (resent)
		fan_start(g);
	if (resent) {
		r->sends++;
		struct event e;
		ev_begin(&e, EV_REKEY_RETRANSMITTED);
		ev_param_int(&e, "group", g->cfg->group_id);
		ev_param_uint(&e, "seq", r->seq);
		ev_param_uint(&e, "members", resent);
		ev_param_uint(&e, "send", r->sends);
		ev_publish(&e, "group %s (%ld): rekey SEQ %u sent again (copy %u of %u) to %zu member%s without an ACK",
			   g->cfg->name, g->cfg->group_id, r->seq, r->sends, max_sends, resent,
			   resent == 1 ? "" : "s");
		loop_timer_arm_ms(&g->retx_timer, (uint64_t)smc->retransmission_period * 1000u);
	}
	round_check(g);
}

static void on_ack(const uint8_t *msg, size_t len, const struct sockaddr_in *from)
{
	uint8_t spi[16];
	uint32_t seq;
	struct gdoi_id id;
	if (gdoi_ack_parse(msg, len, spi, &seq, &id) < 0) {
		G.st.drop_malformed++;
		return;
	}
	struct gks_member *m = member_find(from);
	struct gks_group *g = m ? m->group : NULL;
	if (!g || !g->has_kek ||
	    (memcmp(spi, g->kek.k.spi, 16) && (!g->has_prev_kek || memcmp(spi, g->prev_kek.k.spi, 16)))) {
		G.st.drop_ack_unknown++;
		return;
	}
	if (gdoi_ack_verify(msg, len, m->ack_key) < 0) {
		G.st.drop_ack_bad++;
		log_limited(&G.lim_ack, loop_now_us(), LOG_INFO, "gks", "ACK from %s with a HASH that does not verify: dropped",
			    m->addr);
		return;
	}
	/* Only a push this member was sent can be acknowledged. */
	if (!seq || seq > m->last_sent_seq) {
		G.st.drop_ack_unknown++;
		return;
	}
	G.st.acks++;
	if (seq > m->last_acked_seq)
		m->last_acked_seq = seq;
	if (!m->pending_seq || seq != m->pending_seq) {
		G.st.acks_duplicate++;
		return;
	}
	m->pending_seq = 0;
	m->rekeys_acked++;
	struct gks_round *r = &g->round;
	if (r->active && seq == r->seq) {
		r->acked++;
		if (r->outstanding)
			r->outstanding--;
		round_check(g);
	}
}

static void on_rekey_timer(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	rekey(arg, "scheduled", 0);
}

static void on_push_timer(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct gks_group *g = arg;
	if (g->push_held && g->cfg->smc && g->has_kek)
		push_rekey(g, g->held_reason, g->held_kek_rotated);
}

static void on_member_timer(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct gks_group *g = arg;
	g->member_change_us = 0;
	rekey(g, "membership-change", 1);
}

static void on_hb_timer(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct gks_group *g = arg;
	const struct cfg_smc *smc = g->cfg->smc;
	if (!smc || !g->has_kek)
		return;
	loop_timer_arm_ms(&g->hb_timer, (uint64_t)smc->heartbeat * 1000u);
	/* A unicast round in flight: its copies (and retransmissions) carry
	 * the SEQ its members wait for, and a heartbeat with a higher one
	 * would make them refuse the copies they missed as replays. The
	 * round's copies show the server is alive; the next heartbeat goes
	 * out on schedule. */
	if (g->round.active && g->round.want_ack) {
		g->heartbeats_deferred++;
		log_debug("gks", "group %s: heartbeat skipped: rekey SEQ %u is still awaiting ACKs", g->cfg->name,
			  g->round.seq);
		return;
	}
	uint32_t seq = g->push_held ? 0 : seq_next(g);
	if (!seq) /* no SEQ can be saved (logged, counted); a held push retries */
		return;
	struct gdoi_buf b;
	gdoi_buf_init(&b);
	/* gdoid wants SA and KD (or D) in every push: its heartbeat
	 * repeats the keys in force. */
	if (build_push(g, &g->kek, seq, group_profile(g) == GDOI_PROFILE_GDOID, 0, &b) < 0) {
		gdoi_buf_free(&b);
		return;
	}
	size_t sent = 0;
	if (smc->communication_type == CFG_COMM_UNICAST) {
		for (struct gks_member *m = g->members; m; m = m->next)
			sent += send_from(&m->local, &m->sa, b.data, b.len) == 0;
	} else {
		sent = send_multicast(g, b.data, b.len);
	}
	gdoi_buf_free(&b);
	g->heartbeats++;
	G.st.heartbeats++;
	struct event e;
	ev_begin(&e, EV_HEARTBEAT_SENT);
	ev_param_int(&e, "group", g->cfg->group_id);
	ev_param_uint(&e, "seq", seq);
	ev_param_uint(&e, "copies", sent);
	ev_publish(&e, "group %s (%ld): heartbeat SEQ %u, %zu cop%s", g->cfg->name, g->cfg->group_id, seq, sent,
		   sent == 1 ? "y" : "ies");
}

/* Arms the rekey timer for the first KEK or TEK due. */
static void schedule_rekey(struct gks_group *g)
{
	uint64_t due = UINT64_MAX;
	/* A KEK that members still need (its replacement's push is held)
	 * cannot be replaced yet: its due time, maybe past, counts again
	 * once that push has gone (push_rekey()), else the timer would
	 * fire again at once, forever. */
	int kek_held = g->push_held && g->held_kek_rotated;
	if (g->has_kek && g->cfg->smc && !kek_held && g->kek.due_us < due)
		due = g->kek.due_us;
	for (size_t i = 0; i < g->n_tek; i++)
		if (g->tek[i].due_us < due)
			due = g->tek[i].due_us;
	if (due == UINT64_MAX)
		loop_timer_cancel(&g->rekey_timer);
	else
		loop_timer_arm_at(&g->rekey_timer, due);
}

static void start_heartbeats(struct gks_group *g)
{
	if (g->cfg->smc && g->has_kek)
		loop_timer_arm_ms(&g->hb_timer, (uint64_t)g->cfg->smc->heartbeat * 1000u);
	else
		loop_timer_cancel(&g->hb_timer);
}

static struct gks_group *group_new(const struct cfg_group *cg)
{
	struct gks_group *g = xcalloc(1, sizeof(*g));
	g->cfg = cg;
	loop_timer_init(&g->rekey_timer, on_rekey_timer, g);
	loop_timer_init(&g->retx_timer, on_retx_timer, g);
	loop_timer_init(&g->hb_timer, on_hb_timer, g);
	loop_timer_init(&g->member_timer, on_member_timer, g);
	loop_timer_init(&g->push_timer, on_push_timer, g);
	loop_timer_init(&g->fan_timer, on_fan_timer, g);
	/* Every SEQ up to the saved reservation may have been used. */
	uint32_t saved = seq_saved(cg->group_id);
	g->seq = saved;
	g->seq_reserved = saved;
	return g;
}

static void group_free(struct gks_group *g)
{
	if (!g)
		return;
	loop_timer_cancel(&g->rekey_timer);
	loop_timer_cancel(&g->retx_timer);
	loop_timer_cancel(&g->hb_timer);
	loop_timer_cancel(&g->member_timer);
	loop_timer_cancel(&g->push_timer);
	loop_timer_cancel(&g->fan_timer);
	if (g->round.active) {
		free(g->round.msg);
		g->round.active = 0;
	}
	free(g->last.msg);
	free_members(g);
	free(g->by_index);
	OPENSSL_cleanse(g, sizeof(*g));
	free(g);
}

/* ---- peers ---------------------------------------------------------------------- */

static const struct sockaddr_in *peer_sin(const struct gks_peer *p)
{
	return (const struct sockaddr_in *)&p->ike.peer;
}

static int same_source(const struct gks_peer *p, const struct sockaddr_in *from)
{
	return peer_sin(p)->sin_addr.s_addr == from->sin_addr.s_addr &&
	       peer_sin(p)->sin_port == from->sin_port;
}

/* ---- responder cookies ---- */

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
	ho_add(peer_sin(p)->sin_addr.s_addr, -1);
}

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
	peer_free(p);
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
	    (long)ho_from(peer_sin(p)->sin_addr.s_addr) < k->max_half_open_per_peer)
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
	ho_add(peer_sin(p)->sin_addr.s_addr, 1);
}

static struct gks_peer *peer_new(const struct isakmp_hdr *h, const struct sockaddr_in *from)
{
	const struct cfg_gks *k = G.cfg->gks;
	if (G.emb_tail && (long)G.st.embryonic >= k->max_half_open) {
		log_debug("gks", "embryonic exchange from %s evicted by a newer one", G.emb_tail->addr);
		G.st.embryonic_evicted++;
		peer_free(G.emb_tail);
	}
	struct gks_peer *p = xcalloc(1, sizeof(*p));
	ike_sa_init(&p->ike, 0, (const struct sockaddr *)from, sizeof(*from));
	memcpy(p->ike.icky, h->icookie, 8);
	cookie_make(h->icookie, from, p->ike.rcky);
	p->local = G.rx_local;
	addr_str(from, p->addr, sizeof(p->addr));
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
	addr_str((const struct sockaddr_in *)peer, a, sizeof(a));
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
		send_from(&p->local, (const struct sockaddr_in *)&p->ike.peer, b.data, b.len);
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
		refused(p, NULL, "malformed group ID");
		send_protected_notify(p, ISAKMP_N_INVALID_ID_INFORMATION);
		return -1;
	}
	struct gks_group *g = group_by_id(&id, &gid);
	char gname[72];
	pull_id_text(&id, gid, gname, sizeof(gname));
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
	build_sa(g, &sa, 0);
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

/* A member that registered with the keys of before the last rekey gets
 * that rekey's push right after message 4 (the caller sends it). With
 * unicast it is awaited like any copy: it joins the round still in
 * flight for that SEQ, or a "catch-up" round of its own (events and
 * history like any round), and is retransmitted and removed alike. */
static void catch_up(struct gks_group *g, struct gks_member *m)
{
	const struct cfg_smc *smc = g->cfg->smc;
	struct gks_round *r = &g->round;
	if (!g->last.msg || !smc)
		return;
	if (smc->communication_type == CFG_COMM_UNICAST) {
		if (r->active && r->seq != g->last.seq)
			round_end(g);
		if (!r->active) {
			r->active = 1;
			r->msg = xmalloc(g->last.len);
			memcpy(r->msg, g->last.msg, g->last.len);
			r->len = g->last.len;
			r->seq = g->last.seq;
			r->want_ack = 1;
			str_copy(r->reason, "catch-up", sizeof(r->reason));
			r->started_us = loop_now_us();
			r->sends = 1;
			r->hist_index = history_add(g, "catch-up", r->seq)->index;
			loop_timer_arm_ms(&g->retx_timer, (uint64_t)smc->retransmission_period * 1000u);
		}
		m->pending_seq = r->seq;
		m->sends = 1;
		r->outstanding++;
		r->targeted++;
		struct gks_history *h = &G.hist[(r->hist_index - 1) % GKS_HISTORY];
		if (h->index == r->hist_index)
			h->targeted = r->targeted;
	}
	m->last_sent_seq = g->last.seq;
	m->rekeys_sent++;
	G.st.catch_ups++;
	log_info("gks", "member %s of group %s registered across rekey SEQ %u: that push follows", m->addr,
		 g->cfg->name, g->last.seq);
}

static void register_member(struct gks_peer *p, int stale)
{
	struct gks_group *g = p->group;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&p->ike.peer;
	struct gks_member *m = member_find(sin);
	int is_new = 0;
	char ident[sizeof(m->identity)];
	identity_text(&p->ike.id_peer, ident, sizeof(ident));
	if (m && m->group != g) { /* the same socket now registers for another group */
		struct gks_group *og = m->group;
		member_free(m);
		membership_changed(og);
		m = NULL;
	}
	if (m && strcmp(m->identity, ident)) { /* another member behind the same address and port */
		ibucket_unlink(m);
		str_copy(m->identity, ident, sizeof(m->identity));
		ibucket_link(m);
	}
	if (!m && (m = member_find_identity(g, sin->sin_addr.s_addr, ident)) != NULL) {
		/* The same member from a new port (or NAT mapping): its entry
		 * moves there rather than a second one piling up. */
		round_member_gone(g, m);
		mbucket_unlink(m);
		m->sa = *sin;
		snprintf(m->addr, sizeof(m->addr), "%s:%u", p->addr, ntohs(sin->sin_port));
		unsigned b = mbucket_of(sin);
		m->hnext = G.mbucket[b];
		G.mbucket[b] = m;
		G.st.members_moved++;
	}
	if (!m) {
		m = xcalloc(1, sizeof(*m));
		m->sa = *sin;
		m->group = g;
		m->index = ++G.member_index;
		snprintf(m->addr, sizeof(m->addr), "%s:%u", p->addr, ntohs(sin->sin_port));
		unsigned b = mbucket_of(sin);
		m->hnext = G.mbucket[b];
		G.mbucket[b] = m;
		m->next = g->members;
		if (g->members)
			g->members->prev = m;
		g->members = m;
		g->n_members++;
		by_index_add(g, m);
		str_copy(m->identity, ident, sizeof(m->identity));
		ibucket_link(m);
		is_new = 1;
	}
	m->local = p->local;
	/* A reregistration starts afresh: no push is awaited from it. */
	round_member_gone(g, m);
	m->sends = 0;
	m->last_acked_seq = 0;
	m->last_sent_seq = 0;
	gdoi_ack_key(p->ike.keys.skeyid_a, p->ike.keys.hash_len, p->ike.icky, p->ike.rcky, m->ack_key);
	clock_gettime(CLOCK_REALTIME, &m->registered);
	m->registrations++;
	G.st.registrations++;
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
	if (stale)
		catch_up(g, m);
	if (is_new)
		membership_changed(g);
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
		build_kd(g, NULL, &kd);
	} else if (build_kd_snapshot(g, p, &kd) < 0) {
		refused(p, g->cfg->name, "the group's keys changed twice during the registration; try again");
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

static void on_pull(struct gks_peer *p, const uint8_t *msg, size_t len, const struct isakmp_hdr *h)
{
	const struct sockaddr_in *from = (const struct sockaddr_in *)&p->ike.peer;
	if (p->ike.state != IKE_ESTABLISHED || !(h->flags & ISAKMP_FLAG_ENC) || !h->msgid) {
		G.st.drop_malformed++;
		return;
	}
	if (p->last_in && len == p->last_in_len && !memcmp(msg, p->last_in, len)) {
		if (p->last_out)
			send_from(&p->local, from, p->last_out, p->last_out_len);
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
	send_from(&p->local, from, out.data, out.len);
	if (p->catch_up && p->group && p->group->last.msg)
		send_from(&p->local, from, p->group->last.msg, p->group->last.len);
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

/* ---- Main Mode ------------------------------------------------------------------------ */

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
	send_from(&p->local, (const struct sockaddr_in *)&p->ike.peer, b.data, b.len);
	gdoi_buf_free(&b);
}

static void on_main(struct gks_peer *p, const uint8_t *msg, size_t len)
{
	struct gdoi_buf out;
	gdoi_buf_init(&out);
	int had_dh = p->ike.dh != NULL;
	int rc = ike_input(&p->ike, msg, len, G.props, G.n_props, psk_candidate, NULL, &out);
	if (!had_dh && p->ike.dh)
		G.st.dh_computed++;
	if (rc == 1)
		send_from(&p->local, (const struct sockaddr_in *)&p->ike.peer, out.data, out.len);
	gdoi_buf_free(&out);
	if (rc < 0 && p->ike.state != IKE_FAILED) {
		G.st.drop_malformed++;
		log_debug("gks", "Main Mode datagram from %s ignored: %s", p->addr, p->ike.error);
		return;
	}
	if (rc < 0) {
		if (p->ike.notify == ISAKMP_N_AUTHENTICATION_FAILED)
			src_auth_failed(((const struct sockaddr_in *)&p->ike.peer)->sin_addr.s_addr);
		if (p->ike.notify == ISAKMP_N_AUTHENTICATION_FAILED ||
		    p->ike.notify == ISAKMP_N_NO_PROPOSAL_CHOSEN)
			refused(p, NULL, p->ike.error);
		else
			log_limited(&G.lim_mm, loop_now_us(), LOG_INFO, "gks", "Main Mode with %s failed: %s", p->addr,
				    p->ike.error);
		if (p->ike.notify)
			send_notify(p, p->ike.notify);
		peer_free(p);
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

static void on_datagram(const uint8_t *msg, size_t len, const struct sockaddr_in *from)
{
	struct isakmp_hdr h;
	G.st.rx++;
	if (isakmp_hdr_parse(msg, len, &h) < 0) {
		G.st.drop_malformed++;
		return;
	}
	if (h.exchange == GDOI_EXCH_PUSH_ACK) {
		on_ack(msg, len, from);
		return;
	}
	static const uint8_t zero[8];
	int msg1 = !memcmp(h.rcookie, zero, 8);
	struct gks_peer *p = peer_find(&h, from);
	if (msg1 && h.exchange != ISAKMP_EXCH_MAIN) {
		G.st.drop_unknown_sa++;
		return;
	}
	if (!p && !msg1) {
		G.st.drop_unknown_sa++;
		if (h.exchange == ISAKMP_EXCH_MAIN && cookie_ours(&h, from)) {
			char a[INET6_ADDRSTRLEN];
			addr_str(from, a, sizeof(a));
			log_debug("gks", "Main Mode datagram from %s for an exchange that expired or was evicted", a);
		}
		return;
	}
	if (!p) {
		p = peer_new(&h, from);
	} else if (p->embryonic && !msg1 && h.exchange == ISAKMP_EXCH_MAIN && src_backed_off(from->sin_addr.s_addr)) {
		G.st.drop_backoff++;
		log_limited(&G.lim_backoff, loop_now_us(), LOG_INFO, "gks",
			    "message 3 from %s dropped: backing off after failed authentications", p->addr);
		return;
	} else if (p->embryonic && !msg1 && h.exchange == ISAKMP_EXCH_MAIN && !half_open_room(p)) {
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

void gks_input(const uint8_t *msg, size_t len, const struct sockaddr_in *from)
{
	if (G.cfg)
		on_datagram(msg, len, from);
}

static void on_readable(int fd, uint32_t revents GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	uint8_t buf[GDOI_MAX_MSG];
	union { struct cmsghdr h; uint8_t b[CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(struct in_pktinfo))]; } ctl;
	for (int i = 0; i < 256; i++) {
		struct sockaddr_in from;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
				     .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
		ssize_t n = recvmsg(fd, &mh, 0);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("gks", "recvmsg: %s", strerror(errno));
			return;
		}
		G.rx_local = G.local.sin_addr;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
				uint32_t drops;
				memcpy(&drops, CMSG_DATA(c), sizeof(drops));
				G.st.rx_kernel_drops = drops;
			} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;
				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				G.rx_local = pi.ipi_addr;
			}
		}
		if (from.sin_family == AF_INET && mh.msg_namelen >= sizeof(from))
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
	/* Room for a burst of registrations (every member after a restart)
	 * and of ACKs; beyond net.core.rmem_max only with CAP_NET_ADMIN. */
	int sz = GKS_SOCKBUF, got = 0, one = 1;
	socklen_t gl = sizeof(got);
	if (setsockopt(G.fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(G.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(G.fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(G.fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(G.fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	/* Which of our addresses each datagram came to (a wildcard listen
	 * address): the answer goes from that one. */
	if (G.local.sin_addr.s_addr == INADDR_ANY)
		setsockopt(G.fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	if (getsockopt(G.fd, SOL_SOCKET, SO_RCVBUF, &got, &gl) < 0)
		got = 0;
	G.st.rcvbuf_bytes = (uint64_t)(got > 0 ? got : 0);
	/* The kernel reports twice what it accounts payload against; an ACK
	 * costs about GKS_ACK_TRUESIZE of it. Half of that room per batch. */
	G.fan_batch = (size_t)(got > 0 ? got : 0) / 2 / GKS_ACK_TRUESIZE;
	if (G.fan_batch < GKS_FAN_MIN)
		G.fan_batch = GKS_FAN_MIN;
	if (got / 2 < sz)
		log_warn("gks", "udp %s: receive buffer %d bytes, below the %d asked for (net.core.rmem_max, and "
				"no CAP_NET_ADMIN): unicast rekeys go out %zu copies at a time", listen, got / 2, sz,
			 G.fan_batch);
	G.h = loop_fd_add(G.fd, EPOLLIN, on_readable, NULL);
	return G.h ? 0 : -1;
}

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

static void group_start(struct gks_group *g)
{
	schedule_rekey(g);
	start_heartbeats(g);
}

int gks_init(const struct cfg *c)
{
	if (!c->gks)
		return 0;
	G.cfg = c;
	G.mbucket = xcalloc(GKS_MEMBER_BUCKETS, sizeof(*G.mbucket));
	G.ibucket = xcalloc(GKS_MEMBER_BUCKETS, sizeof(*G.ibucket));
	crypto_random(G.cookie_secret, sizeof(G.cookie_secret));
	G.cookie_rotated_us = loop_now_us();
	loop_timer_init(&G.src_timer, on_src_timer, NULL);
	loop_timer_arm_ms(&G.src_timer, GKS_SRC_WINDOW_US / 1000u);
	G.lim_refused.what = "(refusals)";
	G.lim_drop.what = "(half-open limit)";
	G.lim_ack.what = "(ACKs that do not verify)";
	G.lim_pull.what = "(bad GROUPKEY-PULL messages)";
	G.lim_mm.what = "(failed Main Modes)";
	G.lim_expired.what = "(expired exchanges)";
	G.lim_backoff.what = "(backed-off addresses)";
	load_proposals(c->gks);
	if (seq_load(c->agent.state_dir) < 0 || load_signing_key(c) < 0)
		return -1;
	if (c->gks->debug_pcap)
		G.pcap = pcapw_open(c->gks->debug_pcap);
	if (open_socket(c->gks->listen) < 0)
		return -1;
	G.n_groups = c->gks->n_groups;
	G.groups = xcalloc(G.n_groups ? G.n_groups : 1, sizeof(*G.groups));
	for (size_t i = 0; i < G.n_groups; i++) {
		struct gks_group *g = G.groups[i] = group_new(&c->gks->groups[i]);
		if (group_keys(g) < 0) {
			log_err("gks", "cannot create keys for group %s", g->cfg->name);
			return -1;
		}
		group_start(g);
	}
	log_info("gks", "group key server on udp %s: %zu group%s", c->gks->listen, G.n_groups,
		 G.n_groups == 1 ? "" : "s");
	return 0;
}

void gks_fini(void)
{
	while (G.all)
		peer_free(G.all);
	for (size_t i = 0; i < G.n_groups; i++)
		group_free(G.groups[i]);
	free(G.groups);
	free(G.mbucket);
	free(G.ibucket);
	loop_timer_cancel(&G.src_timer);
	for (unsigned b = 0; b < GKS_SRC_BUCKETS; b++)
		for (struct gks_src *t = G.src[b], *next; t; t = next) {
			next = t->next;
			free(t);
		}
	if (G.h)
		loop_fd_del(G.h);
	if (G.fd >= 0)
		close(G.fd);
	crypto_rsa_free(G.rsa);
	pcapw_close(G.pcap);
	free(G.seq_path);
	cJSON_Delete(G.seq_doc);
	OPENSSL_cleanse(&G, sizeof(G));
	memset(&G, 0, sizeof(G));
	G.fd = -1;
}

/* Moves a group to its new model. Returns 1 when its policies (TEKs)
 * were added or deleted, so the members need a rekey. */
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

static int group_update(struct gks_group *g, const struct cfg_group *cg)
{
	const struct cfg_smc *os = g->cfg->smc, *ns = cg->smc;
	int changed = 0;
	g->cfg = cg;
	/* Server-member communication configured (or its type changed):
	 * the seed clears the membership list. */
	if (ns && (!os || os->communication_type != ns->communication_type)) {
		if (g->n_members)
			log_notice("gks", "group %s: server-member communication %s: membership list of %zu cleared",
				   cg->name, os ? "changed" : "configured", g->n_members);
		if (g->round.active)
			round_end(g);
		free_members(g);
	}
	if (!ns) {
		if (g->round.active)
			round_end(g);
		g->has_kek = g->has_prev_kek = 0;
		OPENSSL_cleanse(&g->kek, sizeof(g->kek));
	} else if (!g->has_kek) {
		new_kek(g, &g->kek);
		g->has_kek = 1;
	} else {
		unsigned bits;
		int cipher = cipher_of(ns->encryption_algorithm, &bits);
		if (cipher != g->kek.k.cipher || bits != g->kek.k.key_bits ||
		    g->kek.k.profile != group_profile(g)) {
			/* The new KEK reaches members under the old one. */
			g->kek.due_us = 0;
			changed = 1;
		} else {
			g->kek.lifetime = (uint32_t)ns->lifetime_seconds;
			g->kek.due_us = g->kek.created_us + rekey_interval_us(g, g->kek.lifetime);
			g->kek.expires_us = g->kek.created_us + (uint64_t)g->kek.lifetime * 1000000u;
		}
	}
	struct gks_tek keep[GDOI_MAX_TEKS];
	size_t n = 0;
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
			new_tek(g, &keep[n], pol, ns ? 2u * (uint64_t)cg->activation_time_delay * 1000000u : 0);
			changed = 1;
		}
		n++;
	}
	for (size_t k = 0; k < g->n_tek; k++)
		if (g->tek[k].name[0]) { /* a policy deleted: members are told, of its older TEKs too */
			changed = 1;
			delete_tek(g, g->tek[k].spi);
			for (size_t o = 0; o < g->n_old; o++)
				if (!strcmp(g->old[o].name, g->tek[k].name))
					delete_tek(g, g->old[o].spi);
			if (g->n_old < GDOI_MAX_TEKS) {
				g->old[g->n_old] = g->tek[k];
				g->old[g->n_old++].pol = NULL;
			}
		}
	if (changed)
		g->key_gen++;
	OPENSSL_cleanse(g->tek, sizeof(g->tek));
	memcpy(g->tek, keep, n * sizeof(keep[0]));
	OPENSSL_cleanse(keep, sizeof(keep));
	g->n_tek = n;
	return changed;
}

/* Moves live state to the groups of a new model: a group is the same
 * group when its group_id is, a TEK policy the same when its name and
 * proposal are; they keep their keys, SEQ and members. New groups and
 * policies get fresh keys; removed ones are dropped. A policy added or
 * deleted rekeys the group's members (the seed's "group SA changed"). */
void gks_reconfigure(const struct cfg *c)
{
	if (!G.cfg || !c->gks)
		return;
	size_t n = c->gks->n_groups;
	struct gks_group **ng = xcalloc(n ? n : 1, sizeof(*ng));
	int *policy_changed = xcalloc(n ? n : 1, sizeof(int));
	for (size_t j = 0; j < n; j++) {
		const struct cfg_group *cg = &c->gks->groups[j];
		for (size_t i = 0; i < G.n_groups && !ng[j]; i++)
			if (G.groups[i] && G.groups[i]->cfg->group_id == cg->group_id) {
				ng[j] = G.groups[i];
				G.groups[i] = NULL;
			}
		if (ng[j]) {
			policy_changed[j] = group_update(ng[j], cg);
		} else {
			ng[j] = group_new(cg);
			group_keys(ng[j]);
		}
	}
	/* Registrations in flight for a group that is gone are dropped. */
	for (size_t i = 0; i < G.n_groups; i++) {
		if (!G.groups[i])
			continue;
		for (struct gks_peer *p = G.all, *next; p; p = next) {
			next = p->all_next;
			if (p->group == G.groups[i])
				peer_free(p);
		}
		group_free(G.groups[i]);
	}
	free(G.groups);
	G.groups = ng;
	G.n_groups = n;
	G.cfg = c;
	load_proposals(c->gks);
	for (size_t j = 0; j < n; j++) {
		group_start(ng[j]);
		if (policy_changed[j])
			rekey(ng[j], "policy-change", 0);
	}
	free(policy_changed);
}

int gks_rekey_group(long group_id)
{
	for (size_t i = 0; i < G.n_groups; i++) {
		struct gks_group *g = G.groups[i];
		if (g->cfg->group_id != group_id)
			continue;
		rekey(g, "manual", 1);
		return g->cfg->smc ? (int)g->seq : 0;
	}
	return -1;
}

const struct gks_stats *gks_stats(void)
{
	/* The kernel's drop count now, not as of the last datagram read
	 * (SO_RXQ_OVFL comes with a datagram: a drop in the last burst
	 * would not show until the next one). */
#ifdef SO_MEMINFO
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t l = sizeof(mi);
	if (G.h && getsockopt(G.fd, SOL_SOCKET, SO_MEMINFO, mi, &l) == 0 &&
	    l > SK_MEMINFO_DROPS * sizeof(uint32_t))
		G.st.rx_kernel_drops = mi[SK_MEMINFO_DROPS];
#endif
	return &G.st;
}

size_t gks_member_count(void)
{
	size_t n = 0;
	for (size_t i = 0; i < G.n_groups; i++)
		n += G.groups[i]->n_members;
	return n;
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void add_time(cJSON *o, const char *k, const struct timespec *ts)
{
	struct tm tm;
	char buf[40];
	gmtime_r(&ts->tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, k, buf);
}

static double secs_until(uint64_t when_us)
{
	uint64_t now = loop_now_us();
	return when_us > now ? (double)((when_us - now) / 1000000u) : 0;
}

static const char *member_state(const struct gks_group *g, const struct gks_member *m)
{
	if (!g->cfg->smc)
		return "registered";
	if (g->cfg->smc->communication_type == CFG_COMM_MULTICAST)
		return "registered";
	return m->pending_seq ? "ack-pending" : "active";
}

static cJSON *member_json(const struct gks_group *g, const struct gks_member *m)
{
	cJSON *mj = cJSON_CreateObject();
	char a[INET6_ADDRSTRLEN];
	addr_str(&m->sa, a, sizeof(a));
	cJSON_AddNumberToObject(mj, "index", (double)m->index);
	cJSON_AddNumberToObject(mj, "group_id", (double)g->cfg->group_id);
	cJSON_AddStringToObject(mj, "address", a);
	cJSON_AddNumberToObject(mj, "port", ntohs(m->sa.sin_port));
	cJSON_AddStringToObject(mj, "identity", m->identity);
	add_time(mj, "registered", &m->registered);
	cJSON_AddNumberToObject(mj, "registrations", m->registrations);
	cJSON_AddStringToObject(mj, "state", member_state(g, m));
	cJSON_AddNumberToObject(mj, "last_acked_seq", m->last_acked_seq);
	cJSON_AddNumberToObject(mj, "rekeys_sent", (double)m->rekeys_sent);
	cJSON_AddNumberToObject(mj, "rekeys_acked", (double)m->rekeys_acked);
	cJSON_AddNumberToObject(mj, "retransmissions", (double)m->retransmissions);
	return mj;
}

cJSON *gks_members_json(long group_id)
{
	return gks_members_json_limit(group_id, 0);
}

cJSON *gks_members_json_limit(long group_id, size_t limit)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, "members");
	int found = 0;
	size_t n = 0, total = 0;
	for (size_t i = 0; i < G.n_groups; i++) {
		const struct gks_group *g = G.groups[i];
		if (group_id && g->cfg->group_id != group_id)
			continue;
		found = 1;
		total += g->n_members;
		for (const struct gks_member *m = g->members; m && (!limit || n < limit); m = m->next, n++)
			cJSON_AddItemToArray(arr, member_json(g, m));
	}
	if (limit)
		cJSON_AddNumberToObject(o, "total", (double)total);
	if (group_id && !found) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *tek_json(const struct gks_tek *t, const char *status)
{
	cJSON *tj = cJSON_CreateObject();
	char spi[16];
	snprintf(spi, sizeof(spi), "0x%08x", t->spi);
	cJSON_AddStringToObject(tj, "name", t->name);
	cJSON_AddStringToObject(tj, "spi", spi);
	cJSON_AddStringToObject(tj, "proposal", cfg_enum_name(cfg_proposal_names, t->proposal));
	cJSON_AddStringToObject(tj, "status", status);
	cJSON_AddNumberToObject(tj, "lifetime", t->lifetime);
	cJSON_AddNumberToObject(tj, "remaining", secs_until(t->expires_us));
	return tj;
}

static cJSON *kek_json(const struct gks_group *g)
{
	cJSON *k = cJSON_CreateObject();
	char spi[40];
	spi_hex(g->kek.k.spi, 16, spi, sizeof(spi));
	cJSON_AddStringToObject(k, "spi", spi);
	cJSON_AddStringToObject(k, "algorithm", crypto_cipher_name(g->kek.k.cipher, g->kek.k.key_bits));
	cJSON_AddStringToObject(k, "sig_hash", cfg_enum_name(cfg_hash_names, g->cfg->smc->sig_hash_algorithm));
	cJSON_AddNumberToObject(k, "sig_key_bits", (double)crypto_rsa_size(G.rsa) * 8);
	cJSON_AddNumberToObject(k, "lifetime", g->kek.lifetime);
	cJSON_AddNumberToObject(k, "remaining", secs_until(g->kek.expires_us));
	cJSON_AddNumberToObject(k, "next_rekey", secs_until(g->kek.due_us));
	return k;
}

static cJSON *group_json(const struct gks_group *g, int sa_detail)
{
	cJSON *j = cJSON_CreateObject();
	const struct cfg_smc *smc = g->cfg->smc;
	cJSON_AddStringToObject(j, "name", g->cfg->name);
	cJSON_AddNumberToObject(j, "group_id", (double)g->cfg->group_id);
	cJSON_AddNumberToObject(j, "seq", g->seq);
	cJSON_AddNumberToObject(j, "members", (double)g->n_members);
	cJSON_AddNumberToObject(j, "activation_time_delay", (double)g->cfg->activation_time_delay);
	cJSON_AddStringToObject(j, "communication", !smc ? "none" : cfg_enum_name(cfg_comm_type_names,
										  smc->communication_type));
	if (smc) {
		cJSON_AddNumberToObject(j, "heartbeat", (double)smc->heartbeat);
		cJSON_AddNumberToObject(j, "number_of_retransmission", (double)smc->number_of_retransmission);
		cJSON_AddNumberToObject(j, "retransmission_period", (double)smc->retransmission_period);
		if (smc->communication_type == CFG_COMM_MULTICAST && smc->multicast_group) {
			cJSON_AddStringToObject(j, "multicast_group", smc->multicast_group);
			cJSON_AddNumberToObject(j, "multicast_port", (double)smc->multicast_port);
		}
	}
	cJSON_AddNumberToObject(j, "next_rekey", loop_timer_armed(&g->rekey_timer)
							  ? (double)(loop_timer_remaining_us(&g->rekey_timer) / 1000000u)
							  : -1);
	cJSON_AddNumberToObject(j, "rekeys", (double)g->rekeys);
	cJSON_AddNumberToObject(j, "pushes", (double)g->pushes);
	cJSON_AddNumberToObject(j, "heartbeats", (double)g->heartbeats);
	cJSON_AddNumberToObject(j, "heartbeats_deferred", (double)g->heartbeats_deferred);
	cJSON_AddNumberToObject(j, "retransmissions", (double)g->retransmissions);
	cJSON_AddNumberToObject(j, "members_removed", (double)g->removed);
	if (g->rekeys)
		add_time(j, "last_rekey", &g->last_rekey);
	if (g->round.active) {
		cJSON *r = cJSON_AddObjectToObject(j, "rekey_in_flight");
		cJSON_AddNumberToObject(r, "seq", g->round.seq);
		cJSON_AddStringToObject(r, "reason", g->round.reason);
		cJSON_AddNumberToObject(r, "targeted", (double)g->round.targeted);
		cJSON_AddNumberToObject(r, "acked", (double)g->round.acked);
		cJSON_AddNumberToObject(r, "outstanding", (double)g->round.outstanding);
		cJSON_AddNumberToObject(r, "sends", g->round.sends);
	}
	if (g->has_kek && smc)
		cJSON_AddItemToObject(j, "kek", kek_json(g));
	cJSON *teks = cJSON_AddArrayToObject(j, "teks");
	uint64_t now = loop_now_us();
	for (size_t t = 0; t < g->n_tek; t++) {
		cJSON *tj = tek_json(&g->tek[t], now < g->tek[t].active_us ? "new" : "inUse");
		cJSON_AddNumberToObject(tj, "next_rekey", secs_until(g->tek[t].due_us));
		cJSON_AddItemToArray(teks, tj);
	}
	if (sa_detail)
		for (size_t t = 0; t < g->n_old; t++)
			if (g->old[t].expires_us > now)
				cJSON_AddItemToArray(teks, tek_json(&g->old[t], "old"));
	return j;
}

cJSON *gks_status_json(void)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *gs = cJSON_AddArrayToObject(o, "groups");
	for (size_t i = 0; i < G.n_groups; i++)
		cJSON_AddItemToArray(gs, group_json(G.groups[i], 0));
	const struct gks_stats *s = &G.st;
	cJSON *st = cJSON_AddObjectToObject(o, "stats");
	cJSON_AddNumberToObject(st, "registrations", (double)s->registrations);
	cJSON_AddNumberToObject(st, "refused", (double)s->refused);
	cJSON_AddNumberToObject(st, "drop_malformed", (double)s->drop_malformed);
	cJSON_AddNumberToObject(st, "drop_unknown_sa", (double)s->drop_unknown_sa);
	cJSON_AddNumberToObject(st, "drop_half_open", (double)s->drop_half_open);
	cJSON_AddNumberToObject(st, "expired", (double)s->expired);
	cJSON_AddNumberToObject(st, "half_open", (double)s->half_open);
	cJSON_AddNumberToObject(st, "embryonic", (double)s->embryonic);
	cJSON_AddNumberToObject(st, "embryonic_evicted", (double)s->embryonic_evicted);
	cJSON_AddNumberToObject(st, "dh_computed", (double)s->dh_computed);
	cJSON_AddNumberToObject(st, "phase1_sas", (double)s->sas);
	cJSON_AddNumberToObject(st, "rekeys_sent", (double)s->rekeys_sent);
	cJSON_AddNumberToObject(st, "retransmissions", (double)s->retransmissions);
	cJSON_AddNumberToObject(st, "heartbeats", (double)s->heartbeats);
	cJSON_AddNumberToObject(st, "pulls_answered", (double)s->pulls_answered);
	cJSON_AddNumberToObject(st, "catch_ups", (double)s->catch_ups);
	cJSON_AddNumberToObject(st, "members_moved", (double)s->members_moved);
	cJSON_AddNumberToObject(st, "refusals_aggregated", (double)s->refusals_aggregated);
	cJSON_AddNumberToObject(st, "backoffs", (double)s->backoffs);
	cJSON_AddNumberToObject(st, "drop_backoff", (double)s->drop_backoff);
	cJSON_AddNumberToObject(st, "fan_pauses", (double)s->fan_pauses);
	cJSON_AddNumberToObject(st, "rx_kernel_drops", (double)s->rx_kernel_drops);
	cJSON_AddNumberToObject(st, "rcvbuf_bytes", (double)s->rcvbuf_bytes);
	cJSON_AddNumberToObject(st, "acks", (double)s->acks);
	cJSON_AddNumberToObject(st, "acks_duplicate", (double)s->acks_duplicate);
	cJSON_AddNumberToObject(st, "drop_ack_unknown", (double)s->drop_ack_unknown);
	cJSON_AddNumberToObject(st, "drop_ack_bad", (double)s->drop_ack_bad);
	cJSON_AddNumberToObject(st, "members_removed", (double)s->members_removed);
	cJSON_AddNumberToObject(st, "send_errors", (double)s->send_errors);
	cJSON_AddNumberToObject(st, "seq_save_errors", (double)s->seq_save_errors);
	cJSON_AddNumberToObject(st, "pushes_held", (double)s->pushes_held);
	return o;
}

cJSON *gks_sa_json(void)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *gs = cJSON_AddArrayToObject(o, "groups");
	for (size_t i = 0; i < G.n_groups; i++)
		cJSON_AddItemToArray(gs, group_json(G.groups[i], 1));
	return o;
}

cJSON *gks_history_json(void)
{
	cJSON *arr = cJSON_CreateArray();
	uint64_t first = G.hist_count > GKS_HISTORY ? G.hist_count - GKS_HISTORY : 0;
	for (uint64_t i = first; i < G.hist_count; i++) {
		const struct gks_history *h = &G.hist[i % GKS_HISTORY];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "index", (double)h->index);
		add_time(j, "time", &h->when);
		cJSON_AddNumberToObject(j, "group_id", (double)h->group_id);
		cJSON_AddStringToObject(j, "reason", h->reason);
		cJSON_AddNumberToObject(j, "seq", h->seq);
		cJSON_AddNumberToObject(j, "targeted", (double)h->targeted);
		cJSON_AddNumberToObject(j, "acked", (double)h->acked);
		cJSON_AddNumberToObject(j, "removed", (double)h->removed);
		cJSON_AddBoolToObject(j, "done", h->done);
		cJSON_AddNumberToObject(j, "duration_ms", (double)h->duration_us / 1000.0);
		cJSON_AddItemToArray(arr, j);
	}
	return arr;
}

/* ---- lookups for SNMP (ordered by index, O(log n) for members) ---------------------------- */

static int reason_code(const char *r)
{
	return !strncmp(r, "scheduled", 9) ? 1 : !strncmp(r, "membership", 10) ? 2 :
	       !strncmp(r, "policy", 6) ? 3 : 4;
}

/* Groups in group_id order: the one equal to id, or (next) the first above. */
static struct gks_group *group_ordered(long id, int next)
{
	struct gks_group *best = NULL;
	for (size_t i = 0; i < G.n_groups; i++) {
		struct gks_group *g = G.groups[i];
		long gid = g->cfg->group_id;
		if (!next && gid == id)
			return g;
		if (next && gid > id && (!best || gid < best->cfg->group_id))
			best = g;
	}
	return best;
}

int gks_group_lookup(long group_id, int next, struct gks_group_info *out)
{
	const struct gks_group *g = group_ordered(group_id, next);
	if (!g)
		return -1;
	const struct cfg_smc *smc = g->cfg->smc;
	memset(out, 0, sizeof(*out));
	out->group_id = g->cfg->group_id;
	str_copy(out->name, g->cfg->name, sizeof(out->name));
	out->communication = !smc ? 1 : smc->communication_type == CFG_COMM_UNICAST ? 2 : 3;
	out->members = g->n_members;
	out->seq = g->seq;
	out->next_rekey = loop_timer_armed(&g->rekey_timer)
				  ? (uint32_t)(loop_timer_remaining_us(&g->rekey_timer) / 1000000u) : 0;
	out->rekeys = g->rekeys;
	out->pushes = g->pushes;
	out->heartbeats = g->heartbeats;
	out->retransmissions = g->retransmissions;
	out->removed = g->removed;
	out->atd = (uint32_t)g->cfg->activation_time_delay;
	return 0;
}

static void member_info(const struct gks_group *g, const struct gks_member *m, struct gks_member_info *out)
{
	memset(out, 0, sizeof(*out));
	out->group_id = g->cfg->group_id;
	out->index = (uint32_t)m->index;
	out->addr = m->sa.sin_addr;
	out->port = ntohs(m->sa.sin_port);
	str_copy(out->identity, m->identity, sizeof(out->identity));
	const char *st = member_state(g, m);
	out->state = !strcmp(st, "registered") ? 1 : !strcmp(st, "active") ? 2 : 3;
	out->registered = m->registered.tv_sec;
	out->last_acked_seq = m->last_acked_seq;
	out->rekeys_sent = m->rekeys_sent;
	out->rekeys_acked = m->rekeys_acked;
	out->retransmissions = m->retransmissions;
}

int gks_member_lookup(long group_id, uint32_t index, int next, struct gks_member_info *out)
{
	const struct gks_group *g = group_ordered(group_id, 0);
	if (g) {
		size_t i = by_index_search(g, next ? (uint64_t)index + 1 : index);
		while (i < g->n_by_index && !g->by_index[i])
			i++;
		if (i < g->n_by_index && (next || g->by_index[i]->index == index)) {
			member_info(g, g->by_index[i], out);
			return 0;
		}
	}
	if (!next)
		return -1;
	for (g = group_ordered(group_id, 1); g; g = group_ordered(g->cfg->group_id, 1))
		for (size_t i = 0; i < g->n_by_index; i++)
			if (g->by_index[i]) {
				member_info(g, g->by_index[i], out);
				return 0;
			}
	return -1;
}

static int kek_info(const struct gks_group *g, unsigned index, struct gks_kek_info *out)
{
	const struct gks_kek *k = index == 1 ? &g->kek : &g->prev_kek;
	if (!g->has_kek || !g->cfg->smc || (index == 2 && (!g->has_prev_kek || k->expires_us <= loop_now_us())))
		return -1;
	memset(out, 0, sizeof(*out));
	out->group_id = g->cfg->group_id;
	out->index = index;
	memcpy(out->spi, k->k.spi, 16);
	out->alg = k->alg;
	out->key_bits = k->bits;
	out->sig_hash = g->cfg->smc->sig_hash_algorithm + 1;
	out->sig_key_bits = (unsigned)crypto_rsa_size(G.rsa) * 8;
	out->lifetime = k->lifetime;
	out->remaining = remaining_s(k->expires_us);
	out->status = index == 1 ? 2 : 3;
	return 0;
}

int gks_kek_lookup(long group_id, unsigned index, int next, struct gks_kek_info *out)
{
	const struct gks_group *g = group_ordered(group_id, 0);
	if (!next)
		return g ? kek_info(g, index, out) : -1;
	for (unsigned i = index + 1; g && i <= 2; i++)
		if (kek_info(g, i, out) == 0)
			return 0;
	for (g = group_ordered(group_id, 1); g; g = group_ordered(g->cfg->group_id, 1))
		for (unsigned i = 1; i <= 2; i++)
			if (kek_info(g, i, out) == 0)
				return 0;
	return -1;
}

static void tek_info(const struct gks_group *g, const struct gks_tek *t, int status, struct gks_tek_info *out)
{
	memset(out, 0, sizeof(*out));
	out->group_id = g->cfg->group_id;
	out->index = t->index;
	str_copy(out->policy, t->name, sizeof(out->policy));
	out->spi = t->spi;
	out->transform = t->transform;
	out->key_bits = t->key_bits ? t->key_bits : (unsigned)t->enc_len * 8;
	out->auth = t->auth_alg;
	out->lifetime = t->lifetime;
	out->remaining = remaining_s(t->expires_us);
	out->status = status;
}

/* The TEK of g with the smallest index > after (or == when !next). */
static int tek_in_group(const struct gks_group *g, uint32_t idx, int next, struct gks_tek_info *out)
{
	const struct gks_tek *best = NULL;
	int status = 0;
	uint64_t now = loop_now_us();
	for (int old = 0; old < 2; old++) {
		size_t n = old ? g->n_old : g->n_tek;
		for (size_t i = 0; i < n; i++) {
			const struct gks_tek *t = old ? &g->old[i] : &g->tek[i];
			if (old && t->expires_us <= now)
				continue;
			if (next ? t->index <= idx : t->index != idx)
				continue;
			if (!best || t->index < best->index) {
				best = t;
				status = old ? 3 : now < t->active_us ? 1 : 2;
			}
		}
	}
	if (!best)
		return -1;
	tek_info(g, best, status, out);
	return 0;
}

int gks_tek_lookup(long group_id, uint32_t index, int next, struct gks_tek_info *out)
{
	const struct gks_group *g = group_ordered(group_id, 0);
	if (g && tek_in_group(g, index, next, out) == 0)
		return 0;
	if (!next)
		return -1;
	for (g = group_ordered(group_id, 1); g; g = group_ordered(g->cfg->group_id, 1))
		if (tek_in_group(g, 0, 1, out) == 0)
			return 0;
	return -1;
}

int gks_rekey_lookup(uint32_t index, int next, struct gks_rekey_info *out)
{
	uint64_t first = G.hist_count > GKS_HISTORY ? G.hist_count - GKS_HISTORY + 1 : 1;
	uint64_t want = next ? (uint64_t)index + 1 : index;
	if (want < first)
		want = next ? first : 0;
	if (!want || want > G.hist_count)
		return -1;
	const struct gks_history *h = &G.hist[(want - 1) % GKS_HISTORY];
	memset(out, 0, sizeof(*out));
	out->index = (uint32_t)h->index;
	out->when = h->when.tv_sec;
	out->group_id = h->group_id;
	out->reason = reason_code(h->reason);
	out->seq = h->seq;
	out->targeted = (uint32_t)h->targeted;
	out->acked = (uint32_t)h->acked;
	out->removed = (uint32_t)h->removed;
	out->duration_ms = (uint32_t)(h->duration_us / 1000u);
	out->done = h->done;
	return 0;
}
