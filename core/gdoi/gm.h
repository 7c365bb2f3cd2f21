/* SPDX-License-Identifier: BSD-2-Clause */
/* gm.h: a GDOI group member: IKEv1 Main Mode as initiator, then
 * GROUPKEY-PULL for one group, over its own UDP socket on the event loop;
 * once registered, the member stays on that socket and takes the key
 * server's GROUPKEY-PUSH messages (rekeys and heartbeats, gdoi_push.h):
 * unicast on the same socket, multicast on a second socket when the
 * policy's SA KEK names a multicast group. It ACKs pushes that ask for
 * it (RFC 8263), keeps a table of TEKs with their activation and expiry,
 * and reregisters when heartbeats stop. gvpn-member runs one or many of
 * these. Its state as JSON: core/views/gm_json.h. */
#ifndef GVPN_GM_H
#define GVPN_GM_H

#include <stdint.h>
#include <netinet/in.h>

#include "core/gdoi/gdoi.h"
#include "core/gdoi/ike.h"

struct gm;

/* Something happened to member m: an event of one of the kinds below
 * (its name first), with these fields of struct gm_event set; the rest
 * are zero. core/views/gm_json.h renders one as a JSON object with the
 * fields in this order. The event and what it points to are valid
 * during the callback only; the callback must not free the member.
 *
 *   push_received      seq, kind ("rekey" | "heartbeat" | "delete"), multicast,
 *                      deleted (SPIs a DELETE payload named, when any)
 *   push_rejected      reason ("replay" | "bad_signature" | "malformed" |
 *                      "unknown_kek"), multicast; with a replay also seq
 *                      and last_seq
 *   retransmission     seq, multicast (a push with the last SEQ again: not
 *                      applied again)
 *   ack_sent           seq, kek_spi, to ("addr:port")
 *   kek_replaced       old_spi, new_spi
 *   kek_missing        spi (a push named a new KEK without its key: the
 *                      old KEK stays), error
 *   tek_installed      spi, state, source, destination, activate_in_s,
 *                      lifetime
 *   tek_activated      spi, state, source, destination
 *   tek_removed        spi, state (the state it had), source, destination,
 *                      reason ("expired" | "superseded" | "deleted": a
 *                      push's DELETE payload named it)
 *   multicast_joined   group, port, interface
 *   multicast_failed   group, port, interface, error
 *   heartbeat_lost     seconds (since registration or the last valid
 *                      push), last_seq
 *   reregistered       seq, elapsed_ms
 *   reregistration_failed  error, retry_in_s */
enum gm_event_kind {
	GM_EV_PUSH_RECEIVED, GM_EV_PUSH_REJECTED, GM_EV_RETRANSMISSION, GM_EV_ACK_SENT,
	GM_EV_KEK_REPLACED, GM_EV_KEK_MISSING, GM_EV_TEK_INSTALLED, GM_EV_TEK_ACTIVATED,
	GM_EV_TEK_REMOVED, GM_EV_MULTICAST_JOINED, GM_EV_MULTICAST_FAILED, GM_EV_HEARTBEAT_LOST,
	GM_EV_REREGISTERED, GM_EV_REREGISTRATION_FAILED,
};

struct gm_tek;

struct gm_event {
	enum gm_event_kind kind;
	const char *name;               /* the kind's name above: "push_received", ... */
	uint32_t seq, last_seq;
	int multicast;
	int replay;                     /* push_rejected: seq and last_seq are set */
	const char *push_kind;          /* push_received: "rekey" | "heartbeat" | "delete" */
	const char *reason;             /* push_rejected, tek_removed */
	const char *error;              /* kek_missing, multicast_failed, reregistration_failed */
	const uint8_t *spi;             /* 16 octets: ack_sent's KEK, kek_missing's, kek_replaced's new one */
	const uint8_t *old_spi;         /* kek_replaced: the KEK before it (NULL: none) */
	const struct sockaddr_in *to;   /* ack_sent */
	const struct gm_tek *tek;       /* tek_* */
	const struct gdoi_delete *del;  /* push_received: the push's DELETE payloads */
	size_t n_del;
	struct in_addr mc_group, mc_if; /* multicast_*: the group, the interface address */
	uint16_t mc_port;
	double seconds;                 /* heartbeat_lost */
	double elapsed_ms;              /* reregistered */
	unsigned retry_in_s;            /* reregistration_failed */
};
typedef void (*gm_event_fn)(struct gm *m, const struct gm_event *ev, void *arg);

/* Which wire layouts the member reads (gdoi.h enum gdoi_profile). AUTO
 * tells them apart by the payloads' lengths (doc/interop.md). */
enum gm_profile { GM_PROFILE_AUTO = 0, GM_PROFILE_RFC6407, GM_PROFILE_GDOID };
enum { GM_SELECTORS_AUTO = 0, GM_SELECTORS_BE, GM_SELECTORS_LE };

struct gm_config {
	struct sockaddr_in server;
	int profile;                    /* enum gm_profile */
	/* SA TEK addresses and ports: 0 as the policy's layouts say (host
	 * order, little-endian, when they are gdoid's: gdoid on x86), or
	 * GM_SELECTORS_BE / GM_SELECTORS_LE. */
	int selector_order;
	struct sockaddr_in local;       /* address and port to bind (port 0: any) */
	uint32_t group_id;
	/* How GROUPKEY-PULL message 1 names the group: NULL for group_id as
	 * a KEY_ID; else an IPv4 address (ID_IPV4_ADDR) or a name with an
	 * '@' (ID_USER_FQDN), as DigiCert TrustCore's member does. */
	const char *pull_id;
	const char *psk;
	const char *identity;           /* NULL: ID_IPV4_ADDR of the local address */
	struct ike_proposal props[IKE_MAX_PROPOSALS];
	size_t n_props;
	/* DOI of the phase 1 SA offered (ike_set_p1_doi()): 0 or GDOI_DOI
	 * (2, situation 0: the default, and all gdoid accepts) or
	 * ISAKMP_DOI_IPSEC (1, SIT_IDENTITY_ONLY, as TrustCore sends). */
	uint32_t p1_doi;
	unsigned timeout_ms;            /* per try (default 2000) */
	unsigned retries;               /* tries per message (default 5) */
	/* Heartbeat watch: when no push with a new SEQ has come for
	 * heartbeat_s x heartbeat_misses seconds after the registration or
	 * the last such push, the member reports heartbeat_lost and
	 * reregisters; a failed reregistration is tried again every
	 * heartbeat_s. 0: off. Only for policies with a KEK. */
	unsigned heartbeat_s;
	unsigned heartbeat_misses;      /* default 3 */
	struct in_addr mcast_if;        /* interface address for multicast rekeys (0: any) */
	gm_event_fn event;              /* NULL: none */
	void *event_arg;
};

enum gm_result { GM_REGISTERED, GM_FAILED };
/* Called once per gm_start(): registered (policy and keys are readable)
 * or failed (gm_error() says why). Reregistrations after a heartbeat
 * loss report through the event callback only. */
typedef void (*gm_done_fn)(struct gm *m, enum gm_result r, void *arg);

/* Copies cfg (and its strings). NULL when the socket cannot be bound. */
struct gm *gm_new(const struct gm_config *cfg, gm_done_fn done, void *arg);
void gm_free(struct gm *m);
/* A first registration: the key table is emptied and every TEK received
 * is used at once. */
int gm_start(struct gm *m);

/* A datagram as if it had arrived on the member's unicast socket from
 * `from` (what the socket handler calls; fuzz targets and tests feed
 * the member with it). */
void gm_input(struct gm *m, const uint8_t *msg, size_t len, const struct sockaddr_in *from);

const char *gm_error(const struct gm *m);
/* The group policy and key download as last received (registration or
 * rekey push). */
const struct gdoi_sa *gm_policy(const struct gm *m);
const struct gdoi_kd *gm_keys(const struct gm *m);
/* The last SEQ accepted (from GROUPKEY-PULL message 4, then pushes). */
uint32_t gm_seq(const struct gm *m);
const struct ike_sa *gm_ike(const struct gm *m);
/* The address and port the member's socket is bound to. */
const struct sockaddr_in *gm_local(const struct gm *m);
/* Microseconds from gm_start() to the outcome. */
uint64_t gm_elapsed_us(const struct gm *m);
/* 1 while the member holds a registration that heartbeats have not
 * declared lost. */
int gm_registered(const struct gm *m);
/* The KEK held (previous: the one before it, kept for retransmissions
 * of the push that replaced it): 1 and its SPI, or 0 when there is none. */
int gm_kek_spi(const struct gm *m, int previous, uint8_t spi[16]);
/* 1 and the group address and port the member listens on for
 * multicast pushes, or 0 when it does not. */
int gm_multicast(const struct gm *m, struct in_addr *group, uint16_t *port);
/* An SA TEK identification as text: "a.b.c.d/len", "a.b.c.d", or its
 * type and length. */
void gm_ident_str(const struct gdoi_ident *id, char *buf, size_t len);

/* ---- the key table ------------------------------------------------------ */

/* A TEK moves pending -> active -> old and goes away when its lifetime
 * ends or when two newer TEKs for the same traffic selector (source,
 * destination, protocol, ports) are held. Only the newest active TEK of
 * a selector is "active" (it protects outbound traffic); "old" ones are
 * kept for inbound traffic. Activation: at once after the first
 * registration; after ATD for a TEK first seen at a reregistration;
 * after 2 x ATD for a TEK from a rekey (ATD: the GAP in the message's SA,
 * else the registration's). */
enum gm_tek_state { GM_TEK_PENDING, GM_TEK_ACTIVE, GM_TEK_OLD };

struct gm_tek {
	struct gdoi_sa_tek sa;          /* selectors, algorithms, SPI, lifetime */
	uint8_t enc_key[64], integ_key[64];
	size_t enc_key_len, integ_key_len;
	enum gm_tek_state state;
	uint64_t installed_us;          /* loop clock */
	uint64_t activate_us;           /* when it becomes (or became) active */
	uint64_t expire_us;             /* end of its lifetime; UINT64_MAX: none */
	uint64_t order;                 /* installation order (newer: larger) */
};

/* Oldest first; i < gm_tek_count(). */
size_t gm_tek_count(const struct gm *m);
const struct gm_tek *gm_tek_at(const struct gm *m, size_t i);
const char *gm_tek_state_name(enum gm_tek_state s);

struct gm_stats {
	uint64_t pushes;                /* accepted with a new SEQ */
	uint64_t rekeys, heartbeats;    /* of those, with and without KD */
	uint64_t retransmissions;       /* pushes with the last SEQ again */
	uint64_t acks_sent;
	uint64_t rejected_replay;       /* SEQ below the last */
	uint64_t rejected_sig;          /* signature does not verify */
	uint64_t rejected_unknown_kek;  /* not under a KEK the member holds */
	uint64_t rejected_other;        /* malformed */
	uint64_t kek_replacements;
	uint64_t heartbeat_losses;
	uint64_t reregistrations;       /* successful */
	uint64_t reregistration_failures;
};
const struct gm_stats *gm_stats(const struct gm *m);

#endif
