/* SPDX-License-Identifier: BSD-2-Clause */
/* syslog_fmt.c: struct event -> RFC 5424 message. The header and each
 * SD-PARAM are built apart first so that the length cap can drop whole
 * pieces and never leave a cut escape, a cut UTF-8 character or an
 * unterminated SD element. */
#include "config.h"
#include "core/syslog/syslog_fmt.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NAME_MAX_ 32   /* RFC 5424 SD-NAME (PARAM-NAME, SD-ID) */
#define HOST_MAX 255
#define APP_MAX 48
#define MSGID_MAX 32
#define HDR_MAX 512
/* " " name '=' '"' value (every byte escaped at worst) '"' */
#define PIECE_MAX (1 + NAME_MAX_ + 2 + 2 * EV_VALUE_MAX + 1 + 1)

static const char *const severities[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

static const char *const facilities[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

const char *syslog_fmt_severity_name(int severity)
{
	return severity >= 0 && (size_t)severity < ARRAY_SIZE(severities) ? severities[severity] : NULL;
}

int syslog_fmt_facility_code(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(facilities); i++)
		if (!strcmp(name, facilities[i]))
			return (int)i;
	return -1;
}

static int printusascii(unsigned char c)
{
	return c >= 33 && c <= 126;
}

/* 1..max PRINTUSASCII characters, else NILVALUE. */
static const char *field(const char *s, size_t max)
{
	size_t n = 0;
	if (!s)
		return "-";
	for (; s[n]; n++)
		if (n >= max || !printusascii((unsigned char)s[n]))
			return "-";
	return n ? s : "-";
}

size_t syslog_fmt_utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp, min;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* The character at s (n bytes left) as it may be copied: its length, or
 * 0 when it must be replaced by '?' (invalid UTF-8; in the classic form
 * also control characters, which would end or garble a line). */
static size_t char_len(const unsigned char *s, size_t n, int bsd)
{
	if (bsd && (s[0] < 0x20 || s[0] == 0x7f))
		return 0;
	return syslog_fmt_utf8_len(s, n);
}

/* "Mmm dd hh:mm:ss" in local time, as syslog(3) writes it. */
static void bsd_timestamp(const struct timespec *ts, char *buf, size_t size)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	time_t t = ts->tv_sec;
	if (!localtime_r(&t, &tm) || tm.tm_mon < 0 || tm.tm_mon > 11) {
		memset(&tm, 0, sizeof(tm)); /* "Jan  1 00:00:00": still parses */
		tm.tm_mday = 1;
	}
	snprintf(buf, size, "%s %2d %02d:%02d:%02d", months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}

/* "<PRI>Mmm dd hh:mm:ss APP[PID]: " into buf[HDR_MAX]. */
static size_t bsd_header(int facility, int severity, const struct timespec *when,
			 const struct syslog_fmt_opts *o, char *buf)
{
	int sev = severity < 0 ? 0 : severity > 7 ? 7 : severity;
	char ts[64], pid[24] = "";
	bsd_timestamp(when, ts, sizeof(ts));
	if (o->procid > 0)
		snprintf(pid, sizeof(pid), "[%ld]", o->procid);
	int n = snprintf(buf, HDR_MAX, "<%d>%s %s%s: ", facility * 8 + sev, ts,
			 field(o->app_name ? o->app_name : SYSLOG_FMT_APP_NAME, APP_MAX), pid);
	return n < 0 ? 0 : (size_t)n;
}

/* RFC 3339 in UTC with microseconds, or "-" if the time cannot be shown. */
static void timestamp(const struct timespec *ts, char *buf, size_t size)
{
	struct tm tm;
	time_t t = ts->tv_sec;
	long us = ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L ? ts->tv_nsec / 1000 : 0;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		snprintf(buf, size, "-");
		return;
	}
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
}

static size_t header(const struct event *e, const struct syslog_fmt_opts *o, char *buf)
{
	if (o->bsd) {
		size_t n = bsd_header(o->facility, e->severity, &e->when, o, buf);
		int m = snprintf(buf + n, HDR_MAX - n, "%s ", field(ev_kind_msgid(e->kind), MSGID_MAX));
		return m < 0 ? n : n + (size_t)m;
	}
	int sev = e->severity < 0 ? 0 : e->severity > 7 ? 7 : e->severity;
	char ts[40], pid[24];
	timestamp(&e->when, ts, sizeof(ts));
	if (o->procid > 0)
		snprintf(pid, sizeof(pid), "%ld", o->procid);
	else
		snprintf(pid, sizeof(pid), "-");
	int n = snprintf(buf, HDR_MAX, "<%d>1 %s %s %s %s %s ", o->facility * 8 + sev, ts,
			 field(o->hostname, HOST_MAX),
			 field(o->app_name ? o->app_name : SYSLOG_FMT_APP_NAME, APP_MAX), pid,
			 field(ev_kind_msgid(e->kind), MSGID_MAX));
	return n < 0 ? 0 : (size_t)n;
}

/* " name=\"value\"" into buf[PIECE_MAX]; 0 if the param has no usable name. */
static size_t piece(const struct ev_param *p, int bsd, char *buf)
{
	size_t n = 0, nl = strnlen(p->name, sizeof(p->name));
	buf[n++] = ' ';
	for (size_t i = 0; i < nl && i < NAME_MAX_; i++) {
		unsigned char c = (unsigned char)p->name[i];
		buf[n++] = printusascii(c) && c != '=' && c != ']' && c != '"' ? (char)c : '_';
	}
	if (n == 1 || (n == 8 && !memcmp(buf + 1, "eventid", 7)))
		return 0; /* empty, or would pass for ours */
	buf[n++] = '=';
	buf[n++] = '"';
	const unsigned char *v = (const unsigned char *)p->value;
	size_t vl = strnlen(p->value, sizeof(p->value));
	for (size_t i = 0; i < vl;) {
		size_t len = char_len(v + i, vl - i, bsd);
		if (!len) {
			buf[n++] = '?';
			i++;
			continue;
		}
		if (v[i] == '"' || v[i] == '\\' || v[i] == ']')
			buf[n++] = '\\';
		memcpy(buf + n, v + i, len);
		n += len;
		i += len;
	}
	buf[n++] = '"';
	return n;
}

/* Appends lead and text (tl bytes) to out at *pos, whole characters
 * only, without passing limit; nothing at all if not one character fits. */
static void message(const char *lead_s, const char *text, size_t tl, int bsd, char *out, size_t *pos,
		    size_t limit)
{
	const unsigned char *t = (const unsigned char *)text;
	size_t lead = strlen(lead_s), n = *pos + lead;
	if (!tl || n >= limit)
		return;
	memcpy(out + *pos, lead_s, lead);
	for (size_t i = 0; i < tl;) {
		size_t len = char_len(t + i, tl - i, bsd);
		if (n + (len ? len : 1) > limit)
			break;
		if (len) {
			memcpy(out + n, t + i, len);
		} else {
			out[n] = '?';
			len = 1;
		}
		n += len;
		i += len;
	}
	if (n > *pos + lead)
		*pos = n;
}

int syslog_fmt_event(const struct event *e, const struct syslog_fmt_opts *o, char *out, size_t cap)
{
	if (!e || !o || !out || !cap)
		return -1;
	out[0] = '\0';
	if (o->facility < 0 || o->facility > 23)
		return -1;
	size_t limit = cap - 1;
	if (o->max_len && o->max_len < limit)
		limit = o->max_len;

	char hdr[HDR_MAX], sdid[64];
	char pieces[EV_MAX_PARAMS][PIECE_MAX];
	size_t plen[EV_MAX_PARAMS], np = 0;
	size_t hlen = header(e, o, hdr);
	int sl = snprintf(sdid, sizeof(sdid), "[" SYSLOG_FMT_SD_ID " eventid=\"%" PRIu64 "\"", e->id);
	size_t sdlen = (size_t)sl + 1; /* + ']' */
	unsigned nparams = e->nparams < EV_MAX_PARAMS ? e->nparams : EV_MAX_PARAMS;
	for (unsigned i = 0; i < nparams; i++) {
		plen[np] = piece(&e->params[i], o->bsd, pieces[np]);
		if (plen[np])
			sdlen += plen[np++];
	}
	size_t keep = np;
	while (keep && hlen + sdlen > limit)
		sdlen -= plen[--keep];
	int nil = hlen + sdlen > limit;
	if (nil && hlen + 1 > limit)
		return -1;

	size_t pos = hlen;
	memcpy(out, hdr, hlen);
	if (nil) {
		out[pos++] = '-';
	} else {
		memcpy(out + pos, sdid, (size_t)sl);
		pos += (size_t)sl;
		for (size_t i = 0; i < keep; i++) {
			memcpy(out + pos, pieces[i], plen[i]);
			pos += plen[i];
		}
		out[pos++] = ']';
		if (keep == np)
			message(o->bom && !o->bsd ? " \xef\xbb\xbf" : " ", e->text,
				strnlen(e->text, sizeof(e->text)), o->bsd, out, &pos, limit);
	}
	out[pos] = '\0';
	return (int)pos;
}

int syslog_fmt_line(int severity, const char *subsys, const char *msg, const struct timespec *when,
		    const struct syslog_fmt_opts *o, char *out, size_t cap)
{
	if (!msg || !when || !o || !out || !cap)
		return -1;
	out[0] = '\0';
	if (o->facility < 0 || o->facility > 23)
		return -1;
	size_t limit = cap - 1;
	if (o->max_len && o->max_len < limit)
		limit = o->max_len;
	char hdr[HDR_MAX];
	size_t hlen = bsd_header(o->facility, severity, when, o, hdr);
	if (!hlen || hlen > limit)
		return -1;
	memcpy(out, hdr, hlen);
	size_t pos = hlen;
	if (subsys && *subsys) { /* "subsys: " as a lead, so it is never cut apart from the text */
		char lead[NAME_MAX_ + 3];
		snprintf(lead, sizeof(lead), "%.*s: ", NAME_MAX_, subsys);
		message(lead, msg, strlen(msg), 1, out, &pos, limit);
	} else {
		message("", msg, strlen(msg), 1, out, &pos, limit);
	}
	out[pos] = '\0';
	return (int)pos;
}
