/* SPDX-License-Identifier: BSD-2-Clause */
/* util.h: allocation wrappers that never return NULL, bounded string
 * helpers and small shared macros. Fatal exit only on out of memory. */
#ifndef GVPN_UTIL_H
#define GVPN_UTIL_H

#include <stddef.h>
#include <stdarg.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define GVPN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define GVPN_UNUSED __attribute__((unused))

/* The enterprise number of the MIB and the syslog SD-ID (RFC 5612's
 * documentation number until a real one is registered). */
#define GVPN_PEN 32473

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) GVPN_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) GVPN_PRINTF(1, 0);

/* Copies at most size-1 bytes and always terminates; returns strlen(src)
 * so truncation is detectable (like BSD strlcpy). */
size_t str_copy(char *dst, const char *src, size_t size);

/* Frees a string that held secret material after wiping it. */
void secret_free(char *s);

/* Writes data to path atomically: temp file in the same directory, fsync,
 * rename, fsync of the directory. Mode applies to the new file. 0 or -1
 * with errno set. */
int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer.
 * Returns NULL with errno set (EFBIG when larger than max). */
char *file_read_all(const char *path, size_t max, size_t *len_out);

#endif
