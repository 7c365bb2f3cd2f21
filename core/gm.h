/* gm.h: a GDOI group member: IKEv1 Main Mode as initiator, then
 * GROUPKEY-PULL for one group, over its own UDP socket on the event loop.
 * gvpn-member runs one or many of these. */
#ifndef GVPN_GM_H
#define GVPN_GM_H

#include <stdint.h>
#include <netinet/in.h>
#include <cjson/cJSON.h>

#include "gdoi.h"
#include "ike.h"

struct gm_config {
	struct sockaddr_in server;
	struct sockaddr_in local;       /* address and port to bind (port 0: any) */
	uint32_t group_id;
	const char *psk;
	const char *identity;           /* NULL: ID_IPV4_ADDR of the local address */
	struct ike_proposal props[IKE_MAX_PROPOSALS];
	size_t n_props;
	unsigned timeout_ms;            /* per try */
	unsigned retries;
};

struct gm;

enum gm_result { GM_REGISTERED, GM_FAILED };
/* Called once per gm_start(): registered (policy and keys are readable)
 * or failed (gm_error() says why). */
typedef void (*gm_done_fn)(struct gm *m, enum gm_result r, void *arg);

struct gm *gm_new(const struct gm_config *cfg, gm_done_fn done, void *arg);
void gm_free(struct gm *m);
int gm_start(struct gm *m);

const char *gm_error(const struct gm *m);
const struct gdoi_sa *gm_policy(const struct gm *m);
const struct gdoi_kd *gm_keys(const struct gm *m);
uint32_t gm_seq(const struct gm *m);
const struct ike_sa *gm_ike(const struct gm *m);
/* The address and port the member's socket is bound to. */
const struct sockaddr_in *gm_local(const struct gm *m);
/* Microseconds from gm_start() to the outcome. */
uint64_t gm_elapsed_us(const struct gm *m);
/* The received policy and keys as a JSON object (keys in hex). */
cJSON *gm_policy_json(const struct gm *m);

#endif
