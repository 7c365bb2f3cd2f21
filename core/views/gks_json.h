/* SPDX-License-Identifier: BSD-2-Clause */
/* gks_json.h: the key server's state as JSON (gvpnctl, the web API),
 * built from the read-only views of core/gdoi/gks_view.h. No key
 * material. The caller owns what is returned (cJSON_Delete). */
#ifndef GVPN_VIEWS_GKS_JSON_H
#define GVPN_VIEWS_GKS_JSON_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* {"groups": [...], "stats": {...}}: per group its KEK and TEKs with
 * lifetimes, SEQ, next rekey and counters. */
cJSON *gks_status_json(void);
/* The same groups with old TEKs too ("show sa"). */
cJSON *gks_sa_json(void);
/* {"members": [...]} of one group (0: all); NULL when there is no such group. */
cJSON *gks_members_json(long group_id);
/* The same, at most limit members (0: all), newest first, with "total". */
cJSON *gks_members_json_limit(long group_id, size_t limit);
/* The last rekey rounds, oldest first. */
cJSON *gks_history_json(void);

#endif
