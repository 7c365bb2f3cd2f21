/* SPDX-License-Identifier: BSD-2-Clause */
/* gks.h: the GDOI group key server. Listens on UDP (RFC 6407: port 848),
 * answers IKEv1 Main Mode as responder, serves GROUPKEY-PULL, pushes
 * rekeys (GROUPKEY-PUSH), and keeps each group's KEK, TEKs and
 * membership list. Runs on the event loop. Its state is read through
 * gks_view.h (SNMP tables, core/views); its store is gks_store.h. */
#ifndef GVPN_GKS_H
#define GVPN_GKS_H

#include <stdint.h>
#include <time.h>
#include <netinet/in.h>
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

#endif
