/* SPDX-License-Identifier: BSD-2-Clause */
/* journal_fmt.c: struct event and log lines -> journald native datagrams.
 * Each field is built whole before it is appended, so a full buffer drops
 * whole fields and never leaves a cut length or value. */
#include "config.h"
#include "core/syslog/journal_fmt.h"
#include "core/syslog/syslog_fmt.h"
#include "core/util.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PREFIX "GVPN_"
#define VALUE_MAX 2048  /* longer values (log lines) are cut */

struct buf {
	char *p;
	size_t len, cap;
};

/* value with invalid UTF-8 as '?', cut on a character boundary to fit
 * out[VALUE_MAX]; returns its length. */
static size_t clean(const char *v, size_t vl, char *out)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t n = 0;
	for (size_t i = 0; i < vl;) {
		size_t len = syslog_fmt_utf8_len(s + i, vl - i);
		if (n + (len ? len : 1) > VALUE_MAX)
			break;
		if (len) {
			memcpy(out + n, s + i, len);
		} else {
			out[n] = '?';
			len = 1;
		}
		n += len;
		i += len;
	}
	return n;
}

/* Appends the field name=value (vl bytes, raw); -1 (nothing appended)
 * when it does not fit. */
static int put_raw(struct buf *b, const char *name, const char *v, size_t vl)
{
	size_t nl = strlen(name);
	int binary = memchr(v, '\n', vl) != NULL;
	size_t need = nl + 1 + (binary ? 8 : 0) + vl + 1;
	if (need > b->cap - b->len)
		return -1;
	char *p = b->p + b->len;
	memcpy(p, name, nl);
	p += nl;
	if (binary) {
		*p++ = '\n';
		uint64_t len = vl;
		for (int i = 0; i < 8; i++)
			*p++ = (char)(len >> (8 * i) & 0xff);
	} else {
		*p++ = '=';
	}
	memcpy(p, v, vl);
	p += vl;
	*p++ = '\n';
	b->len = (size_t)(p - b->p);
	return 0;
}

static int put(struct buf *b, const char *name, const char *v, size_t vl)
{
	char c[VALUE_MAX];
	return put_raw(b, name, c, clean(v, vl, c));
}

static int put_int(struct buf *b, const char *name, uint64_t v)
{
	char s[24];
	int n = snprintf(s, sizeof(s), "%" PRIu64, v);
	return put_raw(b, name, s, (size_t)n);
}

size_t journal_fmt_param_name(const char *param, char *out, size_t cap)
{
	static const char *const reserved[] = { PREFIX "MSGID", PREFIX "EVENTID", PREFIX "SUBSYSTEM" };
	size_t pl = param ? strnlen(param, EV_NAME_MAX) : 0;
	size_t n = sizeof(PREFIX) - 1;
	if (!pl || n + pl + 1 > cap || n + pl > JOURNAL_FMT_NAME_MAX)
		return 0;
	memcpy(out, PREFIX, n);
	for (size_t i = 0; i < pl; i++) {
		char c = param[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			c = '_';
		out[n++] = c;
	}
	out[n] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		if (!strcmp(out, reserved[i]))
			return 0;
	return n;
}

static int header(struct buf *b, int severity, const struct journal_fmt_opts *o)
{
	int sev = severity < 0 ? 0 : severity > 7 ? 7 : severity;
	const char *id = o->identifier ? o->identifier : SYSLOG_FMT_APP_NAME;
	if (put_int(b, "PRIORITY", (uint64_t)sev) < 0 || put_int(b, "SYSLOG_FACILITY", (uint64_t)o->facility) < 0 ||
	    put(b, "SYSLOG_IDENTIFIER", id, strlen(id)) < 0)
		return -1;
	return 0;
}

int journal_fmt_event(const struct event *e, const struct journal_fmt_opts *o, char *out, size_t cap)
{
	if (!e || !o || !out || o->facility < 0 || o->facility > 23)
		return -1;
	struct buf b = { out, 0, cap };
	const char *msgid = ev_kind_msgid(e->kind);
	if (put(&b, "MESSAGE", e->text, strnlen(e->text, sizeof(e->text))) < 0 || header(&b, e->severity, o) < 0 ||
	    put(&b, PREFIX "MSGID", msgid, strlen(msgid)) < 0 || put_int(&b, PREFIX "EVENTID", e->id) < 0)
		return -1;
	unsigned np = e->nparams < EV_MAX_PARAMS ? e->nparams : EV_MAX_PARAMS;
	for (unsigned i = 0; i < np; i++) {
		char name[JOURNAL_FMT_NAME_MAX + 1];
		const struct ev_param *p = &e->params[i];
		if (journal_fmt_param_name(p->name, name, sizeof(name)))
			put(&b, name, p->value, strnlen(p->value, sizeof(p->value)));
	}
	return (int)b.len;
}

int journal_fmt_line(int severity, const char *subsys, const char *msg, const struct journal_fmt_opts *o,
		     char *out, size_t cap)
{
	if (!msg || !o || !out || o->facility < 0 || o->facility > 23)
		return -1;
	struct buf b = { out, 0, cap };
	char m[VALUE_MAX];
	int n = subsys && *subsys ? snprintf(m, sizeof(m), "%s: %s", subsys, msg)
				  : snprintf(m, sizeof(m), "%s", msg);
	size_t ml = n < 0 ? 0 : (size_t)n >= sizeof(m) ? sizeof(m) - 1 : (size_t)n;
	if (put(&b, "MESSAGE", m, ml) < 0 || header(&b, severity, o) < 0)
		return -1;
	if (subsys && *subsys)
		put(&b, PREFIX "SUBSYSTEM", subsys, strlen(subsys));
	return (int)b.len;
}
