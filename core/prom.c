/* SPDX-License-Identifier: BSD-2-Clause */
/* prom.c: Prometheus text exposition format 0.0.4 into a growing buffer. */
#include "config.h"
#include "core/prom.h"
#include "core/util.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prom {
	char *buf;
	size_t len, cap;
};

struct prom *prom_new(void)
{
	struct prom *p = xcalloc(1, sizeof(*p));
	p->cap = 4096;
	p->buf = xmalloc(p->cap);
	p->buf[0] = '\0';
	return p;
}

static void put(struct prom *p, const char *s, size_t n)
{
	if (p->len + n + 1 > p->cap) {
		while (p->len + n + 1 > p->cap)
			p->cap *= 2;
		p->buf = xrealloc(p->buf, p->cap);
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void puts_(struct prom *p, const char *s)
{
	put(p, s, strlen(s));
}

/* The length of the valid UTF-8 sequence at s, 0 when it is not one
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void prom_escape(struct prom *p, const char *s, int label)
{
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	while (*u) {
		size_t n = utf8_seq(u);
		if (*u == '\\')
			puts_(p, "\\\\");
		else if (*u == '\n')
			puts_(p, "\\n");
		else if (*u == '"' && label)
			puts_(p, "\\\"");
		else if (n)
			put(p, (const char *)u, n);
		if (!n) {
			puts_(p, "\xef\xbf\xbd"); /* U+FFFD */
			n = 1;
		}
		u += n;
	}
}

void prom_family(struct prom *p, const char *name, const char *type, const char *help)
{
	puts_(p, "# HELP ");
	puts_(p, name);
	put(p, " ", 1);
	prom_escape(p, help, 0);
	puts_(p, "\n# TYPE ");
	puts_(p, name);
	put(p, " ", 1);
	puts_(p, type);
	put(p, "\n", 1);
}

static void labels(struct prom *p, const char *name, va_list ap)
{
	puts_(p, name);
	const char *k = va_arg(ap, const char *);
	if (!k)
		return;
	put(p, "{", 1);
	for (int first = 1; k; k = va_arg(ap, const char *), first = 0) {
		const char *v = va_arg(ap, const char *);
		if (!first)
			put(p, ",", 1);
		puts_(p, k);
		put(p, "=\"", 2);
		prom_escape(p, v, 1);
		put(p, "\"", 1);
	}
	put(p, "}", 1);
}

void prom_u64(struct prom *p, const char *name, uint64_t value, ...)
{
	va_list ap;
	va_start(ap, value);
	labels(p, name, ap);
	va_end(ap);
	char num[32];
	int n = snprintf(num, sizeof(num), " %" PRIu64 "\n", value);
	put(p, num, (size_t)n);
}

void prom_double(struct prom *p, const char *name, double value, ...)
{
	va_list ap;
	va_start(ap, value);
	labels(p, name, ap);
	va_end(ap);
	char num[48];
	int n;
	if (isnan(value))
		n = snprintf(num, sizeof(num), " NaN\n");
	else if (isinf(value))
		n = snprintf(num, sizeof(num), " %cInf\n", value > 0 ? '+' : '-');
	else
		n = snprintf(num, sizeof(num), " %.15g\n", value);
	put(p, num, (size_t)n);
}

char *prom_finish(struct prom *p, size_t *len)
{
	char *text = p->buf;
	if (len)
		*len = p->len;
	free(p);
	return text;
}
