/* web.h: the HTTP server (libmicrohttpd) driven from the event loop:
 * the JSON API under /api/v1/ and the static page. */
#ifndef GVPN_WEB_H
#define GVPN_WEB_H

#include <cjson/cJSON.h>
#include "cfg.h"

struct web_ops {
	cJSON *(*status)(void);   /* GET /api/v1/status; caller frees */
};

int web_init(const struct cfg_web *w, const struct web_ops *ops);
void web_fini(void);
int web_needs_restart(const struct cfg_web *a, const struct cfg_web *b);

/* The page, compiled in from web/static/index.html. */
extern const char web_page_index[];
extern const unsigned long web_page_index_len;

#endif
