/* SPDX-License-Identifier: BSD-2-Clause */
/* prom.h: a writer of Prometheus' text exposition format 0.0.4 (the
 * GET /metrics page). A family is announced once with its HELP and TYPE
 * lines, then its samples follow; the caller keeps a family's samples
 * together. Label values and HELP text are escaped here, and bytes that
 * are not UTF-8 become U+FFFD, so no name a config holds can break the
 * format. */
#ifndef GVPN_PROM_H
#define GVPN_PROM_H

#include <stddef.h>
#include <stdint.h>

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct prom;

struct prom *prom_new(void);
/* "# HELP name help" and "# TYPE name type" (type: "counter", "gauge"). */
void prom_family(struct prom *p, const char *name, const char *type, const char *help);
/* One sample: name{l1="v1",...} value. The labels are name/value pairs
 * ending with NULL; a NULL value is written as "". */
void prom_u64(struct prom *p, const char *name, uint64_t value, ...) __attribute__((sentinel));
void prom_double(struct prom *p, const char *name, double value, ...) __attribute__((sentinel));
/* The text (NUL-terminated, caller frees) and its length; p is freed. */
char *prom_finish(struct prom *p, size_t *len);

/* Appends s: backslash and newline escaped, and " too in a label value;
 * invalid UTF-8 replaced by U+FFFD. Exposed for the unit tests. */
void prom_escape(struct prom *p, const char *s, int label);

#endif
