/* SPDX-License-Identifier: BSD-2-Clause */
/* gks_int.h: the key server's insides, shared by its files and by no one
 * else (callers use gks.h and gks_view.h). The server is split by
 * concern:
 *
 *   gks.c         socket, datagram dispatch, start, stop and reload
 *   gks_base.c    the state (gks_g) and sending from the right address
 *   gks_peer.c    registration, part 1: phase 1 exchanges (cookies,
 *                 embryonic and half-open accounting, Main Mode hand-off)
 *   gks_refuse.c  refusals (aggregated per address) and back-offs
 *   gks_pull.c    registration, part 2: GROUPKEY-PULL messages 1-4 and
 *                 the member entry it makes
 *   gks_member.c  the membership tables (by address, identity, index)
 *   gks_rekey.c   rekey rounds: push, fan-out, ACKs, retransmission,
 *                 removal, heartbeats, history
 *   gks_keys.c    key state: KEK/TEK generation and rotation, SEQ
 *                 reservation, the signing key, all persistence through
 *                 a gks_store (gks_store.h; gks_store_file.c: the
 *                 state directory's files)
 *   gks_policy.c  the SA and KD payloads built from a group's keys
 *   gks_view.c    read-only snapshots for SNMP and core/views
 *
 * All state is in one struct (gks_g, written G here), as before the
 * split; loop clock times are in microseconds. The files call each other
 * downwards only, none in a circle (so each can be read, and tested,
 * from the bottom up):
 *
 *   gks.c        -> every part below
 *   gks_pull.c   -> gks_rekey.c, gks_member.c, gks_policy.c, gks_refuse.c
 *   gks_peer.c   -> gks_refuse.c
 *   gks_rekey.c  -> gks_keys.c, gks_member.c, gks_policy.c
 *   gks_keys.c   -> gks_store_file.c
 *   gks_view.c   -> gks_member.c
 *   all of them  -> gks_base.c */
#ifndef GVPN_GKS_INT_H
#define GVPN_GKS_INT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <time.h>

#include "core/crypto.h"
#include "core/gdoi/gdoi.h"
#include "core/gdoi/gks.h"
#include "core/gdoi/gks_store.h"
#include "core/gdoi/ike.h"
#include "core/log.h"
#include "core/loop.h"


#define GKS_BUCKETS 4096
#define GKS_MEMBER_BUCKETS 65536
#define GKS_DONE_LINGER_S 10     /* keep an SA this long after the PULL, for retransmissions */
#define GKS_RSA_BITS 2048
#define GKS_HISTORY 128          /* rekey rounds remembered */
#define GKS_DUE_SLACK_US 1000000 /* rotate keys due within this of a rekey together */
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

struct gks_server {
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
	struct gks_store *store;         /* keys and SEQ reservations (gks_store.h) */
	struct gks_history hist[GKS_HISTORY];
	uint64_t hist_count;
	struct pcapw *pcap;
	size_t fan_batch;                /* unicast copies sent before the loop reads ACKs again */
	struct gks_src *src[GKS_SRC_BUCKETS]; /* refusals and failed authentications by address */
	size_t n_src;
	struct loop_timer src_timer;
	struct log_limit lim_refused, lim_drop, lim_ack, lim_pull, lim_mm, lim_expired, lim_backoff;
	struct gks_stats st;
};
extern struct gks_server gks_g;
#define G gks_g

/* ---- small helpers ---------------------------------------------------------- */

static inline void gks_addr_str(const struct sockaddr_in *sa, char *buf, size_t len)
{
	inet_ntop(AF_INET, &sa->sin_addr, buf, (socklen_t)len);
}

/* Whole seconds until expires_us on the loop clock, rounded up; 0 when past. */
static inline uint32_t gks_remaining_s(uint64_t expires_us)
{
	uint64_t now = loop_now_us();
	return expires_us > now ? (uint32_t)((expires_us - now + 999999u) / 1000000u) : 0;
}

static inline int gks_group_profile(const struct gks_group *g)
{
	return g->cfg->wire_profile == CFG_WIRE_GDOID ? GDOI_PROFILE_GDOID : GDOI_PROFILE_RFC6407;
}

static inline const struct sockaddr_in *gks_peer_sin(const struct gks_peer *p)
{
	return (const struct sockaddr_in *)&p->ike.peer;
}

/* ---- gks_base.c ---------------------------------------------------------------- */

/* Sends buf to `to` from our address src (NULL or INADDR_ANY: as the
 * kernel picks); counts tx and send errors. 0 or -1. */
int gks_send_from(const struct in_addr *src, const struct sockaddr_in *to, const uint8_t *buf, size_t len);

/* ---- gks_refuse.c: refusals and back-offs ---------------------------------------- */

/* A registration refused: counted, logged and published (aggregated per
 * address past a few a minute). group: as the member named it, or NULL. */
void gks_refused(const struct gks_peer *p, const char *group, const char *reason);
/* A failed authentication from a (may start a back-off). */
void gks_src_auth_failed(in_addr_t a);
/* 1 while a is backed off. */
int gks_src_backed_off(in_addr_t a);
void gks_refusals_init(void);
void gks_refusals_fini(void);

/* ---- gks_peer.c: phase 1 exchanges -------------------------------------------------- */

/* The exchange a datagram with header h belongs to: found, new (a Main
 * Mode message 1), or NULL: dropped (no such exchange, a message 3 from
 * a backed-off address or over the half-open limits). */
struct gks_peer *gks_peer_for(const struct isakmp_hdr *h, const struct sockaddr_in *from);
/* A Main Mode datagram of p's exchange (ike.c); a failure ends it. */
void gks_on_main(struct gks_peer *p, const uint8_t *msg, size_t len);
void gks_peer_free(struct gks_peer *p);
void gks_peers_init(void);
void gks_peers_fini(void);

/* ---- gks_pull.c: GROUPKEY-PULL ------------------------------------------------ */

void gks_on_pull(struct gks_peer *p, const uint8_t *msg, size_t len, const struct isakmp_hdr *h);

/* ---- gks_member.c: membership tables ------------------------------------------ */

void gks_members_init(void);
void gks_members_fini(void);
/* A new member of g at sin (addr: its address as text), known by ident. */
struct gks_member *gks_member_add(struct gks_group *g, const struct sockaddr_in *sin, const char *addr,
				  const char *ident);
/* m registered again from another port (or NAT mapping): its entry moves there. */
void gks_member_move(struct gks_member *m, const struct sockaddr_in *sin, const char *addr);
/* Another member behind m's address and port: m takes its identity. */
void gks_member_rename(struct gks_member *m, const char *ident);
struct gks_member *gks_member_find(const struct sockaddr_in *sa);
/* The member of g at this address with this identity, whatever its port. */
struct gks_member *gks_member_find_identity(const struct gks_group *g, in_addr_t addr, const char *identity);
/* Unlinks and frees m (its round no longer waits for it). */
void gks_member_free(struct gks_member *m);
void gks_members_free(struct gks_group *g);
/* m no longer owes the round in flight an ACK. */
void gks_round_member_gone(struct gks_group *g, struct gks_member *m);
/* A member joined or left: arms the membership rekey. */
void gks_membership_changed(struct gks_group *g);
/* First slot of g->by_index whose member has index >= idx (holes
 * skipped by callers). */
size_t gks_by_index_search(const struct gks_group *g, uint64_t idx);

/* ---- gks_rekey.c: rekey rounds -------------------------------------------------- */

/* Timers of a new group / stops them and drops the round in flight. */
void gks_rounds_init_group(struct gks_group *g);
void gks_rounds_stop_group(struct gks_group *g);
/* Arms the rekey and heartbeat timers as the group's keys say. */
void gks_group_start(struct gks_group *g);
void gks_schedule_rekey(struct gks_group *g);
/* A rekey: new keys as the reason asks (rotate: 1 all keys, 0 only those
 * due), then, with server-member communication, a push to the members. */
void gks_rekey(struct gks_group *g, const char *reason, int rotate);
/* Ends the round in flight (event REKEY_SENT, history). */
void gks_round_end(struct gks_group *g);
void gks_on_ack(const uint8_t *msg, size_t len, const struct sockaddr_in *from);
/* m registered with the keys of before the last rekey: it is sent that
 * rekey's push after message 4 (the caller sends it) and awaited. */
void gks_round_catch_up(struct gks_group *g, struct gks_member *m);

/* ---- gks_keys.c: key state ------------------------------------------------------ */

int gks_cipher_of(int enc, unsigned *bits);
int gks_hash_of(int h);
/* lifetime - 4 x ATD in microseconds (at least 1 s). */
uint64_t gks_rekey_interval_us(const struct gks_group *g, uint32_t lifetime);
/* activate_after_us: 0 for a TEK members use at once (first keys),
 * 2 x ATD for one pushed by a rekey. 0 or -1. */
int gks_new_tek(struct gks_group *g, struct gks_tek *t, const struct cfg_ipsec_sa *pol, uint64_t activate_after_us);
int gks_new_kek(struct gks_group *g, struct gks_kek *k);
/* A group's first keys: as the store kept them, else new. 0 or -1. */
int gks_group_keys(struct gks_group *g);
/* Replaces the keys due (all with rotate): the KEK unless kek_held, then
 * the TEKs; publishes KEK_REPLACED / TEK_REPLACED. 1 when the KEK was
 * replaced. */
int gks_keys_rotate(struct gks_group *g, const char *reason, int rotate, int kek_held);
/* The group's keys after g->cfg became a new model's (reload). 1 when
 * the members need a rekey: policies added or deleted (the deleted
 * TEKs are named in the next push's DELETE), or the KEK's algorithm
 * changed. */
int gks_keys_update(struct gks_group *g);
/* Hands the group's keys to the store (after they changed). */
void gks_keys_save(const struct gks_group *g);
/* The SEQ reservation saved for a group (0: none): SEQ goes on above it. */
uint32_t gks_seq_saved(long group_id);
/* The next SEQ of g inside a durable reservation; 0 when none can be
 * saved (then nothing may be sent with it). */
uint32_t gks_seq_next(struct gks_group *g);
/* The store and the push signing key at start. 0 or -1 (logged). */
int gks_keys_init(const struct cfg *c);
void gks_keys_fini(void);

/* ---- gks_policy.c: SA and KD payloads -------------------------------------------- */

/* The group's policy. ack_requested: the KEK_ACK_REQUESTED value (0: none). */
void gks_build_sa(const struct gks_group *g, struct gdoi_sa *sa, int ack_requested);
/* The group's keys; sealing: the KEK sealing a push, NULL in a registration. */
void gks_build_kd(const struct gks_group *g, const struct gks_kek *sealing, struct gdoi_kd *kd);
/* The keys a PULL's message 2 named (p's snapshot); -1 when one is gone. */
int gks_build_kd_snapshot(const struct gks_group *g, const struct gks_peer *p, struct gdoi_kd *kd);

#endif
