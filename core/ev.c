/* SPDX-License-Identifier: BSD-2-Clause */
/* ev.c: event catalogue, subscribers and the history ring. */
#include "config.h"
#include "core/ev.h"
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *msgid;
	int severity;
} catalogue[EV_KIND_COUNT] = {
	[EV_AGENT_STARTED] = { "AGENT_STARTED", LOG_NOTICE },
	[EV_AGENT_STOPPING] = { "AGENT_STOPPING", LOG_NOTICE },
	[EV_CONFIG_RELOADED] = { "CONFIG_RELOADED", LOG_NOTICE },
	[EV_CONFIG_REJECTED] = { "CONFIG_REJECTED", LOG_WARNING },
	[EV_MEMBER_REGISTERED] = { "MEMBER_REGISTERED", LOG_NOTICE },
	[EV_REGISTRATION_REFUSED] = { "REGISTRATION_REFUSED", LOG_WARNING },
	[EV_TUNNEL_UP] = { "TUNNEL_UP", LOG_NOTICE },
	[EV_TUNNEL_DOWN] = { "TUNNEL_DOWN", LOG_ERR },
	[EV_TUNNEL_REKEY_ATTEMPT] = { "TUNNEL_REKEY_ATTEMPT", LOG_INFO },
	[EV_TUNNEL_REKEY_SUCCEEDED] = { "TUNNEL_REKEY_SUCCEEDED", LOG_NOTICE },
	[EV_REKEY_STARTED] = { "REKEY_STARTED", LOG_INFO },
	[EV_REKEY_RETRANSMITTED] = { "REKEY_RETRANSMITTED", LOG_INFO },
	[EV_REKEY_SENT] = { "REKEY_SENT", LOG_NOTICE },
	[EV_MEMBER_REMOVED] = { "MEMBER_REMOVED", LOG_WARNING },
	[EV_KEK_REPLACED] = { "KEK_REPLACED", LOG_NOTICE },
	[EV_TEK_REPLACED] = { "TEK_REPLACED", LOG_NOTICE },
	[EV_HEARTBEAT_SENT] = { "HEARTBEAT_SENT", LOG_DEBUG },
	[EV_WEB_LOGIN_FAILED] = { "WEB_LOGIN_FAILED", LOG_WARNING },
	[EV_WEB_CHANGE] = { "WEB_CHANGE", LOG_NOTICE },
};

#define EV_MAX_SUBS 16

static struct {
	struct event *ring;
	size_t cap, len, head; /* head: index of the oldest */
	uint64_t last_id;
	struct {
		ev_sub_fn fn;
		void *arg;
	} subs[EV_MAX_SUBS];
} B;

void ev_init(size_t history_cap)
{
	ev_fini();
	B.cap = history_cap ? history_cap : 1;
	B.ring = xcalloc(B.cap, sizeof(*B.ring));
}

void ev_fini(void)
{
	free(B.ring);
	memset(&B, 0, sizeof(B));
}

const char *ev_kind_msgid(enum ev_kind kind)
{
	if ((unsigned)kind >= EV_KIND_COUNT || !catalogue[kind].msgid)
		return "UNKNOWN";
	return catalogue[kind].msgid;
}

int ev_kind_severity(enum ev_kind kind)
{
	if ((unsigned)kind >= EV_KIND_COUNT || !catalogue[kind].msgid)
		return LOG_NOTICE;
	return catalogue[kind].severity;
}

void ev_begin(struct event *e, enum ev_kind kind)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->severity = ev_kind_severity(kind);
}

static struct ev_param *new_param(struct event *e, const char *name)
{
	if (e->nparams >= EV_MAX_PARAMS) {
		log_warn("ev", "event %s: parameter %s dropped (more than %d)",
			 ev_kind_msgid(e->kind), name, EV_MAX_PARAMS);
		return NULL;
	}
	struct ev_param *p = &e->params[e->nparams++];
	memset(p, 0, sizeof(*p));
	str_copy(p->name, name, sizeof(p->name));
	return p;
}

void ev_param(struct event *e, const char *name, const char *fmt, ...)
{
	struct ev_param *p = new_param(e, name);
	if (!p)
		return;
	char raw[EV_VALUE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	str_escape(p->value, sizeof(p->value), raw);
}

void ev_param_str(struct event *e, const char *name, const char *value)
{
	struct ev_param *p = new_param(e, name);
	if (p)
		str_escape(p->value, sizeof(p->value), value ? value : "");
}

void ev_param_uint(struct event *e, const char *name, uint64_t v)
{
	struct ev_param *p = new_param(e, name);
	if (!p)
		return;
	p->type = EV_PT_UINT;
	p->u = v;
	snprintf(p->value, sizeof(p->value), "%llu", (unsigned long long)v);
}

void ev_param_int(struct event *e, const char *name, int64_t v)
{
	struct ev_param *p = new_param(e, name);
	if (!p)
		return;
	p->type = EV_PT_INT;
	p->i = v;
	snprintf(p->value, sizeof(p->value), "%lld", (long long)v);
}

static const struct ev_param *find_param(const struct event *e, const char *name)
{
	for (unsigned i = 0; i < e->nparams; i++)
		if (!strcmp(e->params[i].name, name))
			return &e->params[i];
	return NULL;
}

const char *ev_get_param(const struct event *e, const char *name)
{
	const struct ev_param *p = find_param(e, name);
	return p ? p->value : NULL;
}

int ev_get_uint(const struct event *e, const char *name, uint64_t *out)
{
	const struct ev_param *p = find_param(e, name);
	if (p && p->type == EV_PT_UINT) {
		*out = p->u;
		return 0;
	}
	if (p && p->type == EV_PT_INT && p->i >= 0) {
		*out = (uint64_t)p->i;
		return 0;
	}
	return -1;
}

uint64_t ev_publish(struct event *e, const char *fmt, ...)
{
	char raw[EV_TEXT_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	str_escape(e->text, sizeof(e->text), raw);
	clock_gettime(CLOCK_REALTIME, &e->when);
	e->id = ++B.last_id;

	if (B.cap) {
		size_t slot = (B.head + B.len) % B.cap;
		if (B.len == B.cap) {
			slot = B.head;
			B.head = (B.head + 1) % B.cap;
		} else {
			B.len++;
		}
		B.ring[slot] = *e;
	}
	for (size_t i = 0; i < EV_MAX_SUBS; i++)
		if (B.subs[i].fn)
			B.subs[i].fn(e, B.subs[i].arg);
	return e->id;
}

int ev_subscribe(ev_sub_fn fn, void *arg)
{
	for (size_t i = 0; i < EV_MAX_SUBS; i++) {
		if (!B.subs[i].fn) {
			B.subs[i].fn = fn;
			B.subs[i].arg = arg;
			return 0;
		}
	}
	return -1;
}

void ev_unsubscribe(ev_sub_fn fn, void *arg)
{
	for (size_t i = 0; i < EV_MAX_SUBS; i++)
		if (B.subs[i].fn == fn && B.subs[i].arg == arg)
			B.subs[i].fn = NULL;
}

size_t ev_history_since(uint64_t since, ev_sub_fn fn, void *arg)
{
	size_t n = 0;
	for (size_t i = 0; i < B.len; i++) {
		const struct event *e = &B.ring[(B.head + i) % B.cap];
		if (e->id > since) {
			fn(e, arg);
			n++;
		}
	}
	return n;
}

uint64_t ev_last_id(void)
{
	return B.last_id;
}

size_t ev_history_len(void)
{
	return B.len;
}

size_t ev_history_cap(void)
{
	return B.cap;
}
