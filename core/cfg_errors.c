/* SPDX-License-Identifier: BSD-2-Clause */
/* cfg_errors.c: the configuration's error list (see cfg_errors.h). */
#include "config.h"
#include "core/cfg_errors.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cfg_errors_init(struct cfg_errors *e)
{
	memset(e, 0, sizeof(*e));
}

void cfg_errors_free(struct cfg_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	memset(e, 0, sizeof(*e));
}

void cfg_errors_add(struct cfg_errors *e, const char *fmt, ...)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->msg = xrealloc(e->msg, e->cap * sizeof(*e->msg));
	}
	va_list ap;
	va_start(ap, fmt);
	e->msg[e->n++] = xvasprintf(fmt, ap);
	va_end(ap);
}
