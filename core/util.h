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

/* TLS 1.2 cipher suites allowed wherever the agent speaks TLS (OpenSSL
 * cipher-list syntax): ECDHE key exchange with AES-GCM or ChaCha20-Poly1305
 * only. TLS 1.0 and 1.1 are refused everywhere. */
#define GVPN_TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL"

/* Copies at most size-1 bytes and always terminates; returns strlen(src)
 * so truncation is detectable (like BSD strlcpy). */
size_t str_copy(char *dst, const char *src, size_t size);

/* Length of the valid UTF-8 sequence (1..4 bytes) starting at s, with at
 * most n bytes available; 0 when it is not one (overlong forms, UTF-16
 * surrogates and code points above U+10FFFF are not). */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* 1 when the len bytes are valid UTF-8 without NUL, else 0. */
int utf8_valid(const char *s, size_t len);
/* Copies src into dst (always terminated, cut at a whole escape) with
 * control characters (below 0x20, 0x7f) and bytes that are not valid
 * UTF-8 written as \xNN, so that text from outside can never start a
 * line of its own or break a UTF-8 reader. Returns dst. */
char *str_escape(char *dst, size_t size, const char *src);

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
