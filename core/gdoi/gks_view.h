/* SPDX-License-Identifier: BSD-2-Clause */
/* gks_view.h: read-only views of the key server's state, for the MIB
 * tables (snmp/) and the JSON views (core/views/gks_json.c). Each call
 * copies a snapshot into the caller's struct: no key material, nothing
 * that points into the server but the configuration model in force.
 * Times marked "loop clock" are loop_now_us() microseconds. */
#ifndef GVPN_GKS_VIEW_H
#define GVPN_GKS_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <netinet/in.h>

#include "core/cfg.h"

struct gks_group_info {
	long group_id;
	char name[64];
	const struct cfg_group *cfg;     /* the group's model (valid until the next reload) */
	int communication;           /* 1 none, 2 unicast, 3 multicast */
	size_t members;
	uint32_t seq, next_rekey, atd;
	int rekey_armed;             /* 0: no rekey scheduled (next_rekey 0) */
	uint64_t rekeys, pushes, heartbeats, retransmissions, removed;
	uint64_t heartbeats_deferred;
	struct timespec last_rekey;  /* when rekeys > 0 */
	struct {                     /* the rekey round in flight, when active */
		int active;
		uint32_t seq;
		char reason[24];
		size_t targeted, acked, outstanding;
		unsigned sends;
	} round;
};

struct gks_member_info {
	long group_id;
	uint32_t index;
	struct in_addr addr;
	uint16_t port;
	char identity[64];
	int state;                   /* 1 registered, 2 active, 3 ack-pending */
	time_t registered;
	unsigned registrations;
	uint32_t last_acked_seq;
	uint64_t rekeys_sent, rekeys_acked, retransmissions;
};

struct gks_kek_info {
	long group_id;
	unsigned index;              /* 1 current, 2 previous */
	uint8_t spi[16];
	int alg;                     /* GDOI_KEK_ALG_* */
	int cipher;                  /* CRYPTO_CIPHER_* ... */
	unsigned cipher_key_bits;    /* ... and its key bits (AES; else 0) */
	unsigned key_bits, sig_key_bits;
	int sig_hash;                /* 1 md5 ... 5 sha512 */
	uint32_t lifetime, remaining;
	uint64_t due_us, expires_us; /* loop clock */
	int status;                  /* 1 new, 2 inUse, 3 old */
};

struct gks_tek_info {
	long group_id;
	uint32_t index;
	char policy[64];
	int proposal;                /* cfg_proposal_names */
	uint32_t spi;
	int transform;               /* ESP transform id */
	unsigned key_bits;
	int auth;                    /* IPsec auth algorithm id */
	uint32_t lifetime, remaining;
	uint64_t due_us, expires_us; /* loop clock */
	int status;                  /* 1 new, 2 inUse, 3 old */
};

struct gks_rekey_info {
	uint32_t index;
	time_t when;
	long group_id;
	int reason;                  /* 1 scheduled, 2 membership change, 3 policy change, 4 manual */
	char reason_text[24];        /* as in events: "scheduled", "membership-change", "catch-up", ... */
	uint32_t seq, targeted, acked, removed, duration_ms;
	uint64_t duration_us;
	int done;
};

/* ---- ordered lookups (the MIB tables) -------------------------------------
 * Each finds the row with exactly the given index, or with next the
 * first row after it in index order; 0, or -1 when there is none. */
int gks_group_lookup(long group_id, int next, struct gks_group_info *out);
int gks_member_lookup(long group_id, uint32_t index, int next, struct gks_member_info *out);
int gks_kek_lookup(long group_id, unsigned index, int next, struct gks_kek_info *out);
int gks_tek_lookup(long group_id, uint32_t index, int next, struct gks_tek_info *out);
int gks_rekey_lookup(uint32_t index, int next, struct gks_rekey_info *out);

/* ---- in the server's own order ------------------------------------------- */

/* Groups in configuration order: pos < gks_group_count(). 0 or -1. */
size_t gks_group_count(void);
int gks_group_at(size_t pos, struct gks_group_info *out);
/* The current TEKs of a group in policy order (status new or inUse),
 * then with old its old TEKs still alive (status old). Returns how many
 * were written (at most max). */
size_t gks_group_teks(long group_id, int old, struct gks_tek_info *out, size_t max);
/* The members of a group (0: of every group, in configuration order),
 * newest first, at most limit (0: all): fn for each. Returns the total
 * of members of those groups, or -1 when group_id names no group. */
typedef void (*gks_member_fn)(const struct gks_member_info *m, void *arg);
long gks_members_each(long group_id, size_t limit, gks_member_fn fn, void *arg);
/* The rekey rounds remembered: index of the oldest (0: none) and the
 * newest, for gks_rekey_lookup(). */
void gks_rekey_range(uint32_t *first, uint32_t *last);

#endif
