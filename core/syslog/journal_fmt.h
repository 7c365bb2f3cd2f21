/* SPDX-License-Identifier: BSD-2-Clause */
/* journal_fmt.h: events and log lines in journald's native protocol (one
 * datagram to /run/systemd/journal/socket, see systemd's "Native Journal
 * Protocol"): a list of fields, each "NAME=value\n", or, when the value
 * holds a newline, "NAME\n" + its length as 64-bit little endian + the
 * value + "\n", so no value can ever end a field early and forge another.
 *
 *   MESSAGE            the event's text; for a log line "SUBSYS: text"
 *   PRIORITY           0..7 (syslog severity, clamped)
 *   SYSLOG_FACILITY    0..23
 *   SYSLOG_IDENTIFIER  gvpn-agent
 *   GVPN_MSGID         the event's MSGID (doc/syslog-catalogue.md)
 *   GVPN_EVENTID       the event bus id (1, 2, ... per run)
 *   GVPN_<PARAM>       each event parameter (name upper-cased, characters
 *                      outside A-Z 0-9 _ become '_'; a parameter whose
 *                      field would be GVPN_MSGID, GVPN_EVENTID or
 *                      GVPN_SUBSYSTEM is dropped)
 *   GVPN_SUBSYSTEM     for log lines: the subsystem tag
 *
 * Values are copied as they are except invalid UTF-8, which becomes '?'.
 * Pure: no I/O, no allocation, no global state. */
#ifndef GVPN_JOURNAL_FMT_H
#define GVPN_JOURNAL_FMT_H

#include <stddef.h>
#include "core/ev.h"

#define JOURNAL_FMT_SOCKET "/run/systemd/journal/socket"
/* journald field names: at most 64 characters. */
#define JOURNAL_FMT_NAME_MAX 64

struct journal_fmt_opts {
	int facility;            /* 0..23 */
	const char *identifier;  /* NULL gives "gvpn-agent" */
};

/* Writes one datagram's payload into out[cap] (not NUL-terminated: values
 * may be binary); returns its length, or -1 if an argument is bad or the
 * fixed fields do not fit. Parameters that do not fit are left out, from
 * the last. */
int journal_fmt_event(const struct event *e, const struct journal_fmt_opts *o, char *out, size_t cap);
int journal_fmt_line(int severity, const char *subsys, const char *msg, const struct journal_fmt_opts *o,
		     char *out, size_t cap);

/* The field name of an event parameter ("GVPN_" + the sanitised name) into
 * out[cap]; its length, or 0 if the parameter cannot have one (empty,
 * reserved, or cap too small). */
size_t journal_fmt_param_name(const char *param, char *out, size_t cap);

#endif
