/* SPDX-License-Identifier: BSD-2-Clause */
/* cfg_errors.h: the list of messages the configuration loader, the
 * schema walker and edits fill (every problem at once, each line complete
 * and human-readable). A module of its own so that cfg.c and
 * cfg_schema.c both use it without depending on each other.
 *
 * Ownership: the list owns its messages; cfg_errors_free() releases
 * them and leaves an empty list, ready for use again. */
#ifndef GVPN_CFG_ERRORS_H
#define GVPN_CFG_ERRORS_H

#include <stddef.h>

struct cfg_errors {
	char **msg;
	size_t n, cap;
};

void cfg_errors_init(struct cfg_errors *e);
void cfg_errors_free(struct cfg_errors *e);
void cfg_errors_add(struct cfg_errors *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
