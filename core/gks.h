/* gks.h: the GDOI group key server. Listens on UDP (RFC 6407: port 848),
 * answers IKEv1 Main Mode as responder, serves GROUPKEY-PULL, and keeps
 * each group's KEK, TEKs and membership list. Runs on the event loop. */
#ifndef GVPN_GKS_H
#define GVPN_GKS_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "cfg.h"

struct gks_stats {
	uint64_t rx, tx;
	uint64_t registrations;      /* completed GROUPKEY-PULLs */
	uint64_t refused;            /* registrations refused (auth, group, membership) */
	uint64_t drop_malformed;     /* datagrams that do not parse */
	uint64_t drop_unknown_sa;    /* cookies of no SA we have */
	uint64_t drop_half_open;     /* new exchanges over the half-open limits */
	uint64_t expired;            /* half-open exchanges that timed out */
	uint64_t half_open;          /* now */
	uint64_t sas;                /* phase 1 SAs now */
};

/* Starts the server for c->gks (nothing when NULL). The model must stay
 * valid until gks_fini() or the next gks_reconfigure(). */
int gks_init(const struct cfg *c);
void gks_fini(void);
/* Points the groups at a new model (same listen address). */
void gks_reconfigure(const struct cfg *c);

const struct gks_stats *gks_stats(void);
/* {"groups": [...]} with members, KEK and TEKs (no key material). */
cJSON *gks_status_json(void);
size_t gks_member_count(void);

#endif
