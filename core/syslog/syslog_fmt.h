/* SPDX-License-Identifier: BSD-2-Clause */
/* syslog_fmt.h: one struct event as one RFC 5424 message,
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [gvpn@32473 eventid="N" k="v" ...] MSG
 * for the remote syslog transports (RFC 5426 UDP, RFC 6587 TCP, RFC 5425
 * TLS), which only frame and send what this returns; or, for the local
 * /dev/log socket, in the classic (RFC 3164-like) form that rsyslog's
 * imuxsock and glibc's syslog(3) use,
 *   <PRI>Mmm dd hh:mm:ss APP-NAME[PROCID]: MSGID [gvpn@32473 ...] MSG
 * with the structured data kept inside the message text. Pure: no I/O, no
 * allocation, no global state. doc/syslog-catalogue.md lists the MSGIDs. */
#ifndef GVPN_SYSLOG_FMT_H
#define GVPN_SYSLOG_FMT_H

#include <stddef.h>
#include <time.h>
#include "core/ev.h"
#include "core/util.h"

#define SYSLOG_FMT_STR_(x) #x
#define SYSLOG_FMT_STR(x) SYSLOG_FMT_STR_(x)
/* The one SD-ID every message carries. */
#define SYSLOG_FMT_SD_ID "gvpn@" SYSLOG_FMT_STR(GVPN_PEN)

#define SYSLOG_FMT_APP_NAME "gvpn-agent"
/* RFC 5426 4.3.1: receivers SHOULD accept 2048 octets over UDP; for
 * TCP/TLS (RFC 5425/6587) 8192 is a common collector default. */
#define SYSLOG_FMT_UDP_MAX 2048
#define SYSLOG_FMT_TCP_MAX 8192

struct syslog_fmt_opts {
	int facility;          /* RFC 5424 code 0..23 (daemon 3, local0 16), NOT LOG_DAEMON */
	const char *hostname;  /* from gethostname() at init; NULL or invalid gives "-" */
	const char *app_name;  /* NULL gives "gvpn-agent"; invalid gives "-" */
	long procid;           /* the pid; <= 0 gives "-" */
	int bom;               /* 1: MSG-UTF8 (BOM first); 0 (default): MSG-ANY, no BOM */
	size_t max_len;        /* message length limit in octets, no NUL; 0: cap - 1 */
	int bsd;               /* 1: the classic local form (hostname and bom unused;
	                        * local time; control characters become '?') */
};

/* Writes the message and a NUL into out[cap]; returns its length (at most
 * min(max_len, cap - 1)) or -1 if an argument is bad (facility outside
 * 0..23) or not even the header with SD "-" fits. Too long: MSG is cut
 * first (on a UTF-8 character boundary), then SD params are dropped from
 * the end (eventid, first, goes last), then the SD becomes "-". The
 * result is always a whole, valid RFC 5424 message: invalid PARAM-NAME
 * characters become '_' (empty names are dropped), '"' '\' ']' in values
 * are escaped, invalid UTF-8 in values and MSG becomes '?'. A severity
 * outside 0..7 is clamped. */
int syslog_fmt_event(const struct event *e, const struct syslog_fmt_opts *o, char *out, size_t cap);

/* A plain log line in the classic local form,
 *   <PRI>Mmm dd hh:mm:ss APP-NAME[PROCID]: SUBSYS: MSG
 * (o->bsd is implied; when is the time of the line). Invalid UTF-8 and
 * control characters become '?'; MSG is cut on a character boundary to
 * fit. Returns the length, or -1 as syslog_fmt_event(). */
int syslog_fmt_line(int severity, const char *subsys, const char *msg, const struct timespec *when,
		    const struct syslog_fmt_opts *o, char *out, size_t cap);

/* Length of the well-formed UTF-8 character at s (n > 0 bytes left), or 0. */
size_t syslog_fmt_utf8_len(const unsigned char *s, size_t n);

/* "emerg" ... "debug" for 0..7, else NULL. */
const char *syslog_fmt_severity_name(int severity);
/* RFC 5424 facility code of "kern", "user", "daemon", "local0".."local7",
 * ...; -1 if unknown. */
int syslog_fmt_facility_code(const char *name);

#endif
