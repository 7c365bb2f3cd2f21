/* SPDX-License-Identifier: BSD-2-Clause */
/* web.h: the HTTP server (libmicrohttpd) driven from the event loop:
 * the JSON API under /api/v1/, the static page, and /metrics for
 * Prometheus (a session or a bearer token). */
#ifndef GVPN_WEB_H
#define GVPN_WEB_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "core/cfg.h"
#include "core/cfg_edit.h"

struct web_ops {
	cJSON *(*status)(void);   /* GET /api/v1/status; caller frees */
	cJSON *(*groups)(void);   /* key server groups, KEK/TEK lifetimes */
	cJSON *(*members)(long group_id, size_t limit);   /* NULL: no such group; limit 0: all */
	cJSON *(*sa)(void);       /* the groups' SAs, old TEKs included */
	cJSON *(*vpns)(void);     /* monitor settings and VPN state */
	cJSON *(*events)(uint64_t since);
	int (*rekey_group)(long group_id);  /* gks_rekey_group() */
	/* 0 sent, -1 strongSwan not reachable, -2 no such VPN */
	int (*rekey_vpn)(const char *name);
	/* agent_apply_edit() (reload.h): CFG_EDIT_OK, or why the edit was
	 * refused (answered 409, 404, 400 or 500) with errs and fault (may
	 * be NULL) filled. */
	enum cfg_edit_err (*apply_edit)(const struct cfg_edit *e, struct cfg_errors *errs,
					struct cfg_edit_fault *fault);
	/* The stored password hash of a web user, or NULL. */
	const char *(*user_hash)(const char *user);
	/* GET /metrics: the text (caller frees) and its length. */
	char *(*metrics)(size_t *len);
	/* The name of the metrics token equal to token, or NULL. */
	const char *(*metrics_token)(const char *token);
};

int web_init(const struct cfg_web *w, const struct web_ops *ops);
void web_fini(void);
int web_needs_restart(const struct cfg_web *a, const struct cfg_web *b);

/* The page, compiled in from web/static/index.html. */
extern const char web_page_index[];
extern const unsigned long web_page_index_len;

#endif
