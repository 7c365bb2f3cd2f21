/* SPDX-License-Identifier: BSD-2-Clause */
/* ev.h: the event bus. Every state change worth telling anyone is one
 * struct event published here; subscribers (the log, the history ring,
 * syslog collectors, SNMP notifications, the web feed) receive it
 * synchronously on the loop thread. The bus keeps a bounded history ring
 * so late readers can ask for "events since id N". */
#ifndef GVPN_EV_H
#define GVPN_EV_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "core/util.h"

/* The catalogue: one kind per thing that happened. The MSGID (RFC 5424,
 * at most 32 characters) and default severity of each live in ev.c. */
enum ev_kind {
	EV_AGENT_STARTED,
	EV_AGENT_STOPPING,
	EV_CONFIG_RELOADED,
	EV_CONFIG_REJECTED,
	EV_MEMBER_REGISTERED,
	EV_REGISTRATION_REFUSED,
	EV_TUNNEL_UP,
	EV_TUNNEL_DOWN,
	EV_TUNNEL_REKEY_ATTEMPT,
	EV_TUNNEL_REKEY_SUCCEEDED,
	EV_REKEY_STARTED,         /* a GROUPKEY-PUSH rekey went out */
	EV_REKEY_RETRANSMITTED,   /* resent to members that did not ACK */
	EV_REKEY_SENT,            /* the rekey round ended: targeted/acked/removed */
	EV_MEMBER_REMOVED,        /* no ACK after all retransmissions */
	EV_KEK_REPLACED,
	EV_TEK_REPLACED,
	EV_HEARTBEAT_SENT,
	EV_WEB_LOGIN_FAILED,      /* a failed login or a request without a valid CSRF token */
	EV_WEB_CHANGE,            /* a login, logout or change made through the web page */
	EV_KIND_COUNT
};

#define EV_MAX_PARAMS 12
#define EV_NAME_MAX 32
#define EV_VALUE_MAX 128
#define EV_TEXT_MAX 256

/* A parameter keeps its text (what syslog, the log and the web show) and,
 * when it is a number, the number itself: readers that need the number
 * (SNMP notifications) take it from ev_get_uint(), never by parsing the
 * text back. */
enum ev_ptype {
	EV_PT_TEXT,   /* only the text */
	EV_PT_UINT,   /* .u holds the value; the text is its decimal form */
	EV_PT_INT,    /* .i holds the value; the text is its decimal form */
};
struct ev_param {
	char name[EV_NAME_MAX];
	char value[EV_VALUE_MAX];
	enum ev_ptype type;
	union {
		uint64_t u;
		int64_t i;
	};
};

struct event {
	uint64_t id;              /* 1, 2, ... per agent run */
	struct timespec when;     /* CLOCK_REALTIME */
	enum ev_kind kind;
	int severity;             /* syslog(3) level */
	unsigned nparams;
	struct ev_param params[EV_MAX_PARAMS];
	char text[EV_TEXT_MAX];   /* a sentence a person can read */
};

typedef void (*ev_sub_fn)(const struct event *e, void *arg);

/* history_cap events are kept (at least 1). */
void ev_init(size_t history_cap);
void ev_fini(void);

const char *ev_kind_msgid(enum ev_kind kind);
int ev_kind_severity(enum ev_kind kind);

/* Building and publishing: ev_begin, any number of ev_param, ev_publish.
 * Text from outside (names, identities, reasons) is kept on one line and
 * in UTF-8: control characters and invalid bytes become \xNN
 * (str_escape), in every parameter and in the text. */
void ev_begin(struct event *e, enum ev_kind kind);
void ev_param(struct event *e, const char *name, const char *fmt, ...) GVPN_PRINTF(3, 4);
/* A text parameter taken as it is (no format). */
void ev_param_str(struct event *e, const char *name, const char *value);
/* Numeric parameters: typed, with their decimal text. */
void ev_param_uint(struct event *e, const char *name, uint64_t v);
void ev_param_int(struct event *e, const char *name, int64_t v);
/* Returns the id given to the event. */
uint64_t ev_publish(struct event *e, const char *fmt, ...) GVPN_PRINTF(2, 3);

const char *ev_get_param(const struct event *e, const char *name);
/* The parameter's number when it was published with ev_param_uint (or
 * ev_param_int with a value >= 0): 0 and *out set; -1 when it is absent
 * or not a number. */
int ev_get_uint(const struct event *e, const char *name, uint64_t *out);

int ev_subscribe(ev_sub_fn fn, void *arg);
void ev_unsubscribe(ev_sub_fn fn, void *arg);

/* Calls fn for each kept event with id > since, oldest first; returns how
 * many were visited. */
size_t ev_history_since(uint64_t since, ev_sub_fn fn, void *arg);
uint64_t ev_last_id(void);
size_t ev_history_len(void);
size_t ev_history_cap(void);

#endif
