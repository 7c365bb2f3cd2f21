/* SPDX-License-Identifier: BSD-2-Clause */
/* gks.h: the GDOI group key server. Listens on UDP (RFC 6407: port 848),
 * answers IKEv1 Main Mode as responder, serves GROUPKEY-PULL, and keeps
 * each group's KEK, TEKs and membership list. Runs on the event loop. */
#ifndef GVPN_GKS_H
#define GVPN_GKS_H

#include <stdint.h>
#include <time.h>
#include <netinet/in.h>
#include <cjson/cJSON.h>
#include "core/cfg.h"

struct gks_stats {
	uint64_t rx, tx;
	uint64_t registrations;      /* completed GROUPKEY-PULLs */
	uint64_t refused;            /* registrations refused (auth, group, membership) */
	uint64_t drop_malformed;     /* datagrams that do not parse */
	uint64_t drop_unknown_sa;    /* cookies of no SA we have */
	uint64_t drop_half_open;     /* message 3s over the half-open limits */
	uint64_t expired;            /* half-open exchanges that timed out */
	uint64_t half_open;          /* now: message 3 answered, not established */
	uint64_t embryonic;          /* now: message 1 answered, no message 3 yet */
	uint64_t embryonic_evicted;  /* embryonic exchanges dropped for a newer one */
	uint64_t dh_computed;        /* Diffie-Hellman key pairs made (message 3s taken) */
	uint64_t sas;                /* phase 1 SAs now */
	uint64_t rekeys_sent;        /* rekey pushes (one per group and rekey) */
	uint64_t retransmissions;    /* unicast copies sent again for want of an ACK */
	uint64_t heartbeats;         /* heartbeat pushes */
	uint64_t acks;               /* ACKs that verified */
	uint64_t acks_duplicate;     /* ... of a push already acknowledged */
	uint64_t pulls_answered;     /* GROUPKEY-PULL message 2s sent */
	uint64_t catch_ups;          /* registrations that spanned a rekey: its push sent after */
	uint64_t members_moved;      /* reregistered from a new port: the entry moved */
	uint64_t refusals_aggregated; /* refusals summed into one event per address and minute */
	uint64_t backoffs;           /* addresses backed off after repeated failed authentications */
	uint64_t drop_backoff;       /* message 3s dropped from an address backed off */
	uint64_t fan_pauses;         /* unicast fan-outs paused for the loop to read ACKs */
	uint64_t rx_kernel_drops;    /* datagrams the kernel dropped: receive buffer full (read when asked) */
	uint64_t rcvbuf_bytes;       /* the socket's receive buffer as the kernel sized it */
	uint64_t drop_ack_unknown;   /* ACKs from no member, or for no KEK of its group */
	uint64_t drop_ack_bad;       /* ACKs whose HASH does not verify */
	uint64_t members_removed;    /* members removed for want of ACKs */
	uint64_t send_errors;        /* sendto failures */
	uint64_t seq_save_errors;    /* SEQ reservations that could not be saved */
	uint64_t pushes_held;        /* rekey pushes held (and retried) for want of a SEQ */
};

/* Starts the server for c->gks (nothing when NULL). The model must stay
 * valid until gks_fini() or the next gks_reconfigure(). */
int gks_init(const struct cfg *c);
void gks_fini(void);
/* Points the groups at a new model (same listen address). */
void gks_reconfigure(const struct cfg *c);

/* A datagram as if it had arrived on the server's socket from `from`
 * (what the socket handler calls; fuzz targets feed the server with it).
 * Replies go out on the socket as usual. */
void gks_input(const uint8_t *msg, size_t len, const struct sockaddr_in *from);

const struct gks_stats *gks_stats(void);
/* {"groups": [...], "stats": {...}}: per group its KEK and TEKs with
 * lifetimes, SEQ, next rekey and counters (no key material). */
cJSON *gks_status_json(void);
/* The same groups with old TEKs too ("show sa"). */
cJSON *gks_sa_json(void);
/* {"members": [...]} of one group (0: all); NULL when there is no such group. */
cJSON *gks_members_json(long group_id);
/* The same, at most limit members (0: all), newest first, with "total". */
cJSON *gks_members_json_limit(long group_id, size_t limit);
/* The last rekey rounds, oldest first. */
cJSON *gks_history_json(void);
size_t gks_member_count(void);

/* Rekeys a group now (new KEK and TEKs, pushed when server-member
 * communication is configured). Returns the push's SEQ, 0 when keys were
 * replaced without a push, -1 for no such group. */
int gks_rekey_group(long group_id);
/* Unit tests: the unicast copies sent per fan-out batch (normally sized
 * from the socket's receive buffer at start). */
void gks_set_fan_batch(size_t n);

/* lifetime - 4 x activation_time_delay (at least 1): the seed's rekey
 * interval in seconds. */
uint64_t gks_rekey_interval(long lifetime, long atd);

/* ---- ordered lookups (the MIB tables) -------------------------------------
 * Each finds the row with exactly the given index, or with next the
 * first row after it in index order; 0, or -1 when there is none. */
struct gks_group_info {
	long group_id;
	char name[64];
	int communication;           /* 1 none, 2 unicast, 3 multicast */
	size_t members;
	uint32_t seq, next_rekey, atd;
	uint64_t rekeys, pushes, heartbeats, retransmissions, removed;
};
int gks_group_lookup(long group_id, int next, struct gks_group_info *out);

struct gks_member_info {
	long group_id;
	uint32_t index;
	struct in_addr addr;
	uint16_t port;
	char identity[64];
	int state;                   /* 1 registered, 2 active, 3 ack-pending */
	time_t registered;
	uint32_t last_acked_seq;
	uint64_t rekeys_sent, rekeys_acked, retransmissions;
};
int gks_member_lookup(long group_id, uint32_t index, int next, struct gks_member_info *out);

struct gks_kek_info {
	long group_id;
	unsigned index;              /* 1 current, 2 previous */
	uint8_t spi[16];
	int alg;                     /* GDOI_KEK_ALG_* */
	unsigned key_bits, sig_key_bits;
	int sig_hash;                /* 1 md5 ... 5 sha512 */
	uint32_t lifetime, remaining;
	int status;                  /* 1 new, 2 inUse, 3 old */
};
int gks_kek_lookup(long group_id, unsigned index, int next, struct gks_kek_info *out);

struct gks_tek_info {
	long group_id;
	uint32_t index;
	char policy[64];
	uint32_t spi;
	int transform;               /* ESP transform id */
	unsigned key_bits;
	int auth;                    /* IPsec auth algorithm id */
	uint32_t lifetime, remaining;
	int status;                  /* 1 new, 2 inUse, 3 old */
};
int gks_tek_lookup(long group_id, uint32_t index, int next, struct gks_tek_info *out);

struct gks_rekey_info {
	uint32_t index;
	time_t when;
	long group_id;
	int reason;                  /* 1 scheduled, 2 membership change, 3 policy change, 4 manual */
	uint32_t seq, targeted, acked, removed, duration_ms;
	int done;
};
int gks_rekey_lookup(uint32_t index, int next, struct gks_rekey_info *out);

#endif
