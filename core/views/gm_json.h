/* SPDX-License-Identifier: BSD-2-Clause */
/* gm_json.h: a group member's state and events as JSON (gvpn-member's
 * output),
 * built from the read-only accessors of core/gdoi/gm.h. The caller owns
 * what is returned (cJSON_Delete). */
#ifndef GVPN_VIEWS_GM_JSON_H
#define GVPN_VIEWS_GM_JSON_H

#include <cjson/cJSON.h>

#include "core/gdoi/gm.h"

/* The received policy and keys as a JSON object (keys in hex: for the
 * member's operator and tests, never sent anywhere by the agent). */
cJSON *gm_policy_json(const struct gm *m);

/* {"registered", "seq", "kek": {spi, previous_spi?, multicast?},
 *  "teks": [{spi, state, source, destination, installed_ms, activate_ms,
 *  expire_ms, expires_in_s}], "stats": {...}} (no key material; times on
 *  the loop clock in milliseconds). */
cJSON *gm_status_json(const struct gm *m);

/* An event's fields as a JSON object, in the order gm.h lists them
 * (without its name: ev->name). */
cJSON *gm_event_json(const struct gm_event *ev);

#endif
