/* SPDX-License-Identifier: BSD-2-Clause */
/* web.c: libmicrohttpd in the agent's event loop. MHD runs in "external
 * epoll" mode: its epoll descriptor is watched by our loop, MHD_run() is
 * called when it is readable and when MHD's own timeout (from
 * MHD_get_timeout) expires. Limits a daemon facing browsers needs are set
 * here: connection timeout, per-address and total connection limits,
 * memory per connection. */
#include "config.h"
#include "web/web.h"
#include "core/cfg_edit.h"
#include "core/crypto.h"
#include "core/ev.h"
#include "core/passwd.h"
#include "core/prom.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#define WEB_CONN_TIMEOUT_S 15
#define WEB_PER_IP_LIMIT 16
#define WEB_CONN_LIMIT 256
#define WEB_CONN_MEMORY (64 * 1024)
#define WEB_BODY_MAX (16 * 1024)     /* larger bodies: 413 */
#define WEB_SESSIONS 64
#define WEB_LOGIN_FAILS 5            /* failed logins per address ... */
#define WEB_LOGIN_WINDOW_S 60        /* ... in this window, then 429 */
#define WEB_FAIL_SLOTS 64
#define COOKIE "gvpn_session"

struct session {
	char id[65];                 /* 32 random bytes, hex; "" = free */
	char csrf[65];
	char user[64];
	time_t last;
};

struct fail_slot {
	char addr[INET6_ADDRSTRLEN];
	time_t first;
	unsigned n;
};

/* Per request: the body as it arrives. */
struct req {
	char *body;
	size_t len;
	int too_big;
};

static struct {
	struct MHD_Daemon *d;
	struct loop_fd *h;
	struct loop_timer timer;
	struct web_ops ops;
	char *cert, *key;
	long session_timeout;
	struct session sess[WEB_SESSIONS];
	struct fail_slot fails[WEB_FAIL_SLOTS];
} W;

/* libmicrohttpd's own messages: fmt comes from the library. */
static void mhd_log(void *cls GVPN_UNUSED, const char *fmt, va_list ap) GVPN_PRINTF(2, 0);
static void mhd_log(void *cls GVPN_UNUSED, const char *fmt, va_list ap)
{
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	log_info("web", "%s", buf);
}

static void add_common_headers(struct MHD_Response *r, const char *type)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; script-src 'self' 'unsafe-inline'; "
				"style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, cJSON *doc)
{
	char *text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!text)
		return MHD_NO;
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	add_common_headers(r, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "error", msg);
	return send_json(c, status, doc);
}

static enum MHD_Result send_error_field(struct MHD_Connection *c, unsigned status, const char *msg,
					 const char *field)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "error", msg);
	if (field)
		cJSON_AddStringToObject(doc, "field", field);
	return send_json(c, status, doc);
}

/* ---- sessions and login ---------------------------------------------------------------- */

static void hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void client_addr(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	out[0] = '\0';
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)len);
}

static struct session *session_of(struct MHD_Connection *c)
{
	const char *id = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, COOKIE);
	time_t now = time(NULL);
	if (!id || strlen(id) != 64)
		return NULL;
	for (size_t i = 0; i < WEB_SESSIONS; i++) {
		struct session *s = &W.sess[i];
		if (!s->id[0] || CRYPTO_memcmp(s->id, id, 64))
			continue;
		if (now - s->last > W.session_timeout) {
			memset(s, 0, sizeof(*s));
			return NULL;
		}
		s->last = now;
		return s;
	}
	return NULL;
}

static struct session *session_new(const char *user)
{
	struct session *s = &W.sess[0];
	for (size_t i = 0; i < WEB_SESSIONS; i++) {
		if (!W.sess[i].id[0]) {
			s = &W.sess[i];
			break;
		}
		if (W.sess[i].last < s->last)
			s = &W.sess[i]; /* full: the least recently used goes */
	}
	unsigned char r[64];
	if (crypto_random(r, sizeof(r)) < 0)
		return NULL;
	memset(s, 0, sizeof(*s));
	hex(r, 32, s->id);
	hex(r + 32, 32, s->csrf);
	str_copy(s->user, user, sizeof(s->user));
	s->last = time(NULL);
	return s;
}

static struct fail_slot *fails_of(const char *addr, int create)
{
	time_t now = time(NULL);
	struct fail_slot *old = &W.fails[0];
	for (size_t i = 0; i < WEB_FAIL_SLOTS; i++) {
		struct fail_slot *f = &W.fails[i];
		if (f->addr[0] && now - f->first > WEB_LOGIN_WINDOW_S)
			memset(f, 0, sizeof(*f));
		if (f->addr[0] && !strcmp(f->addr, addr))
			return f;
		if (f->first < old->first)
			old = f;
	}
	if (!create)
		return NULL;
	for (size_t i = 0; i < WEB_FAIL_SLOTS; i++)
		if (!W.fails[i].addr[0]) {
			old = &W.fails[i];
			break;
		}
	memset(old, 0, sizeof(*old));
	str_copy(old->addr, addr, sizeof(old->addr));
	old->first = now;
	return old;
}

static void audit(enum ev_kind kind, const char *addr, const char *user, const char *what)
{
	struct event e;
	ev_begin(&e, kind);
	ev_param_str(&e, "address", addr);
	ev_param_str(&e, "user", user ? user : "");
	ev_param_str(&e, "what", what);
	ev_publish(&e, "web: %s from %s (user %s)", what, addr, user && *user ? user : "?");
}

/* ---- JSON bodies -------------------------------------------------------------------------- */

static cJSON *parse_body(const struct req *r)
{
	return r->len ? cJSON_ParseWithLength(r->body, r->len) : NULL;
}

static int is_mutation(const char *method)
{
	return !strcmp(method, MHD_HTTP_METHOD_POST) || !strcmp(method, MHD_HTTP_METHOD_PUT) ||
	       !strcmp(method, MHD_HTTP_METHOD_DELETE) || !strcmp(method, MHD_HTTP_METHOD_PATCH);
}

static enum MHD_Result do_login(struct MHD_Connection *c, const struct req *r, const char *addr)
{
	struct fail_slot *f = fails_of(addr, 0);
	if (f && f->n >= WEB_LOGIN_FAILS)
		return send_error(c, 429, "too many failed logins from this address; wait a minute");
	cJSON *j = parse_body(r);
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "user");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "password");
	if (!cJSON_IsObject(j) || !cJSON_IsString(u) || !cJSON_IsString(p)) {
		cJSON_Delete(j);
		return send_error_field(c, MHD_HTTP_BAD_REQUEST, "expected {\"user\": ..., \"password\": ...}",
					!cJSON_IsString(u) ? "user" : "password");
	}
	const char *hash = W.ops.user_hash ? W.ops.user_hash(u->valuestring) : NULL;
	/* Unknown users cost the same as known ones. */
	int ok = passwd_verify(p->valuestring,
			       hash ? hash : "pbkdf2-sha256$100000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	ok = ok && hash;
	char user[64];
	str_copy(user, u->valuestring, sizeof(user));
	cJSON_Delete(j);
	if (!ok) {
		f = fails_of(addr, 1);
		f->n++;
		audit(EV_WEB_LOGIN_FAILED, addr, user, "login failed");
		return send_error(c, MHD_HTTP_UNAUTHORIZED, "wrong user or password");
	}
	struct session *s = session_new(user);
	if (!s)
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "no session");
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "user", s->user);
	cJSON_AddStringToObject(doc, "csrf", s->csrf);
	char *text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	add_common_headers(resp, "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	char cookie[200];
	snprintf(cookie, sizeof(cookie), COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s", s->id,
		 W.cert ? "; Secure" : "");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	audit(EV_WEB_CHANGE, addr, user, "login");
	return ret;
}

/* ---- changes: PUT /api/v1/vpns/NAME and /api/v1/monitor ------------------------------ */

static int type_ok(const struct cfg_setting *s, const cJSON *it)
{
	switch (s->type) {
	case CFG_SETTING_BOOL: return cJSON_IsBool(it);
	case CFG_SETTING_STR: return cJSON_IsString(it) || cJSON_IsNull(it);
	default: return cJSON_IsNumber(it) && it->valuedouble == (double)(long)it->valuedouble;
	}
}

/* The body's members as an edit of the settings of scope (of VPN vpn).
 * NULL, with *bad the member at fault, when one is not such a setting
 * or has the wrong type. */
static struct cfg_edit *body_edit(const cJSON *j, enum cfg_setting_scope scope, const char *vpn, const cJSON **bad)
{
	struct cfg_edit *e = cfg_edit_new();
	const cJSON *it;
	cJSON_ArrayForEach(it, j) {
		int id = cfg_setting_find(scope, it->string);
		if (id < 0 || !type_ok(&cfg_settings[id], it)) {
			*bad = it;
			cfg_edit_free(e);
			return NULL;
		}
		char *path = cfg_setting_path((enum cfg_setting_id)id, vpn);
		if (cJSON_IsBool(it))
			cfg_edit_bool(e, path, cJSON_IsTrue(it));
		else if (cJSON_IsNumber(it))
			cfg_edit_int(e, path, (long)it->valuedouble);
		else if (cJSON_IsString(it) && *it->valuestring)
			cfg_edit_str(e, path, it->valuestring);
		else
			cfg_edit_remove(e, path);
		free(path);
	}
	return e;
}

static unsigned edit_status(enum cfg_edit_err kind)
{
	switch (kind) {
	case CFG_EDIT_CONFLICT: return MHD_HTTP_CONFLICT;      /* reload first */
	case CFG_EDIT_NOT_FOUND: return MHD_HTTP_NOT_FOUND;
	case CFG_EDIT_IO: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	default: return MHD_HTTP_BAD_REQUEST;
	}
}

/* The length of the setting path (of VPN vpn, or the monitor's) msg
 * starts with, followed by ": ", or 0; *field gets its key. */
static size_t setting_prefix(const char *msg, const char *vpn, const char **field)
{
	enum cfg_setting_scope scope = vpn ? CFG_SCOPE_VPN : CFG_SCOPE_MONITOR;
	size_t n = 0;
	for (int i = 0; i < CFG_SETTING_COUNT && !n; i++) {
		if (cfg_settings[i].scope != scope)
			continue;
		char *path = cfg_setting_path((enum cfg_setting_id)i, vpn);
		size_t len = strlen(path);
		if (!strncmp(msg, path, len) && !strncmp(msg + len, ": ", 2)) {
			*field = cfg_settings[i].key;
			n = len + 2;
		}
		free(path);
	}
	return n;
}

/* A refused edit: the first error, "FIELD: message" (cfg_edit.h) with
 * FIELD the change at fault, maybe followed by the setting the loader
 * faults beside it. The field answered is the last setting named, the
 * message only what a person needs (not the file position). */
static enum MHD_Result edit_refused(struct MHD_Connection *c, enum cfg_edit_err kind, const struct cfg_errors *errs,
				    const char *vpn)
{
	const char *msg = errs->n ? errs->msg[0] : "refused";
	const char *field = NULL;
	for (size_t n; (n = setting_prefix(msg, vpn, &field));)
		msg += n;
	return send_error_field(c, edit_status(kind), msg, field);
}

/* The body's keys become an edit of VPN vpn's settings (NULL: the
 * monitor's). */
static enum MHD_Result do_edit(struct MHD_Connection *c, const struct req *r, const char *vpn,
			       const struct session *s, const char *addr)
{
	cJSON *j = parse_body(r);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return send_error(c, MHD_HTTP_BAD_REQUEST, "the body must be a JSON object of settings");
	}
	const cJSON *bad = NULL;
	struct cfg_edit *e = body_edit(j, vpn ? CFG_SCOPE_VPN : CFG_SCOPE_MONITOR, vpn, &bad);
	if (!e) {
		int known = cfg_setting_find(vpn ? CFG_SCOPE_VPN : CFG_SCOPE_MONITOR, bad->string) >= 0;
		char msg[200];
		snprintf(msg, sizeof(msg), "%s \"%s\"", known ? "wrong type for" : "unknown setting", bad->string);
		enum MHD_Result ret = send_error_field(c, MHD_HTTP_BAD_REQUEST, msg, bad->string);
		cJSON_Delete(j);
		return ret;
	}
	cJSON_Delete(j);
	struct cfg_errors errs;
	cfg_errors_init(&errs);
	enum cfg_edit_err k = W.ops.apply_edit(e, &errs, NULL);
	cfg_edit_free(e);
	enum MHD_Result ret;
	if (k == CFG_EDIT_OK) {
		audit(EV_WEB_CHANGE, addr, s->user, vpn ? "VPN settings changed" : "monitor settings changed");
		ret = send_json(c, MHD_HTTP_OK, W.ops.vpns());
	} else {
		ret = edit_refused(c, k, &errs, vpn);
	}
	cfg_errors_free(&errs);
	return ret;
}

/* ---- GET /metrics ------------------------------------------------------------------------ */

static enum MHD_Result metrics_refused(struct MHD_Connection *c, unsigned status, const char *msg)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "error", msg);
	char *text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!text)
		return MHD_NO;
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	add_common_headers(r, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"gvpn-agent\"");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A logged-in session (the page's cookie) or a bearer token named in the
 * secrets file; nothing without either. Wrong tokens count as failed
 * logins of the address (audited, then 429 like the login). */
static int metrics_allowed(struct MHD_Connection *c, const char *addr, enum MHD_Result *ret)
{
	if (session_of(c))
		return 1;
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!auth) {
		*ret = metrics_refused(c, MHD_HTTP_UNAUTHORIZED,
				       "log in first, or send Authorization: Bearer with a token of metrics_tokens");
		return 0;
	}
	struct fail_slot *f = fails_of(addr, 0);
	if (f && f->n >= WEB_LOGIN_FAILS) {
		*ret = metrics_refused(c, 429, "too many failed logins from this address; wait a minute");
		return 0;
	}
	const char *tok = strncasecmp(auth, "Bearer ", 7) ? NULL : auth + 7;
	while (tok && *tok == ' ')
		tok++;
	if (tok && *tok && W.ops.metrics_token && W.ops.metrics_token(tok))
		return 1;
	f = fails_of(addr, 1);
	f->n++;
	audit(EV_WEB_LOGIN_FAILED, addr, "", "metrics request with a wrong or no bearer token");
	*ret = metrics_refused(c, MHD_HTTP_UNAUTHORIZED, "wrong bearer token");
	return 0;
}

static enum MHD_Result do_metrics(struct MHD_Connection *c, const char *addr)
{
	enum MHD_Result ret;
	if (!metrics_allowed(c, addr, &ret))
		return ret;
	size_t len = 0;
	char *text = W.ops.metrics ? W.ops.metrics(&len) : NULL;
	if (!text)
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "no metrics");
	struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	add_common_headers(r, PROM_CONTENT_TYPE);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- routes ------------------------------------------------------------------------ */

/* One request as a route's handler sees it. */
struct call {
	struct MHD_Connection *c;
	const char *method;
	const struct req *r;
	const char *addr;
	struct session *s;        /* the caller's, on routes that need a session */
	const char *arg;          /* the route's variable part ("site-b" of /api/v1/vpns/site-b) */
	size_t arg_len;
};

static int is_get(const char *method)
{
	return !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
}

static enum MHD_Result not_found(struct call *x)
{
	return send_error(x->c, MHD_HTTP_NOT_FOUND, "no such resource");
}

static enum MHD_Result get_page(struct call *x)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(web_page_index_len, (void *)web_page_index,
								    MHD_RESPMEM_PERSISTENT);
	add_common_headers(resp, "text/html; charset=utf-8");
	enum MHD_Result ret = MHD_queue_response(x->c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result get_metrics(struct call *x) { return do_metrics(x->c, x->addr); }
static enum MHD_Result get_status(struct call *x) { return send_json(x->c, MHD_HTTP_OK, W.ops.status()); }
static enum MHD_Result post_login(struct call *x) { return do_login(x->c, x->r, x->addr); }
static enum MHD_Result get_groups(struct call *x) { return send_json(x->c, MHD_HTTP_OK, W.ops.groups()); }
static enum MHD_Result get_sa(struct call *x) { return send_json(x->c, MHD_HTTP_OK, W.ops.sa()); }
static enum MHD_Result get_vpns(struct call *x) { return send_json(x->c, MHD_HTTP_OK, W.ops.vpns()); }
static enum MHD_Result put_monitor(struct call *x) { return do_edit(x->c, x->r, NULL, x->s, x->addr); }

static enum MHD_Result post_logout(struct call *x)
{
	audit(EV_WEB_CHANGE, x->addr, x->s->user, "logout");
	memset(x->s, 0, sizeof(*x->s));
	return send_json(x->c, MHD_HTTP_OK, cJSON_CreateObject());
}

static enum MHD_Result get_session(struct call *x)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "user", x->s->user);
	cJSON_AddStringToObject(o, "csrf", x->s->csrf);
	return send_json(x->c, MHD_HTTP_OK, o);
}

static enum MHD_Result get_members(struct call *x)
{
	const char *g = MHD_lookup_connection_value(x->c, MHD_GET_ARGUMENT_KIND, "group");
	char *end = NULL;
	long id = g ? strtol(g, &end, 10) : 0;
	if (g && (*end || id < 1 || id > 65535))
		return send_error_field(x->c, MHD_HTTP_BAD_REQUEST, "group must be an integer 1-65535", "group");
	const char *l = MHD_lookup_connection_value(x->c, MHD_GET_ARGUMENT_KIND, "limit");
	long limit = l ? strtol(l, &end, 10) : 0;
	if (l && (*end || limit < 0 || limit > 1000000))
		return send_error_field(x->c, MHD_HTTP_BAD_REQUEST, "limit must be an integer 0-1000000", "limit");
	cJSON *m = W.ops.members(id, (size_t)limit);
	return m ? send_json(x->c, MHD_HTTP_OK, m) : send_error_field(x->c, MHD_HTTP_NOT_FOUND, "no such group", "group");
}

static enum MHD_Result get_events(struct call *x)
{
	const char *v = MHD_lookup_connection_value(x->c, MHD_GET_ARGUMENT_KIND, "since");
	char *end = NULL;
	unsigned long long since = v ? strtoull(v, &end, 10) : 0;
	if (v && *end)
		return send_error_field(x->c, MHD_HTTP_BAD_REQUEST, "since must be an event id", "since");
	return send_json(x->c, MHD_HTTP_OK, W.ops.events(since));
}

static enum MHD_Result post_vpn_rekey(struct call *x)
{
	char name[80];
	if (x->arg_len >= sizeof(name))
		return send_error(x->c, MHD_HTTP_NOT_FOUND, "no VPN of that name");
	memcpy(name, x->arg, x->arg_len);
	name[x->arg_len] = '\0';
	int rc = W.ops.rekey_vpn ? W.ops.rekey_vpn(name) : -2;
	if (rc == -2)
		return send_error(x->c, MHD_HTTP_NOT_FOUND, "no VPN of that name");
	if (rc < 0)
		return send_error(x->c, MHD_HTTP_SERVICE_UNAVAILABLE, "strongSwan (VICI) is not reachable; nothing was sent");
	audit(EV_WEB_CHANGE, x->addr, x->s->user, "VPN rekey requested");
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "vpn", name);
	cJSON_AddBoolToObject(o, "requested", 1);
	return send_json(x->c, MHD_HTTP_OK, o);
}

static enum MHD_Result put_vpn(struct call *x)
{
	const char *name = x->arg; /* the rest of the path */
	if (strlen(name) > 64 || strpbrk(name, "[]./"))
		return send_error(x->c, MHD_HTTP_NOT_FOUND, "no VPN of that name");
	return do_edit(x->c, x->r, name, x->s, x->addr);
}

/* A group id, 1-65535, and nothing else. */
static int group_arg_ok(const char *arg, size_t len)
{
	char *end;
	long id = strtol(arg, &end, 10);
	return end == arg + len && id >= 1 && id <= 65535;
}

static enum MHD_Result post_group_rekey(struct call *x)
{
	long id = strtol(x->arg, NULL, 10);
	int seq = W.ops.rekey_group(id);
	if (seq < 0)
		return send_error(x->c, MHD_HTTP_NOT_FOUND, "no such group");
	audit(EV_WEB_CHANGE, x->addr, x->s->user, "group rekeyed");
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "group_id", (double)id);
	cJSON_AddNumberToObject(o, "seq", seq);
	cJSON_AddBoolToObject(o, "pushed", seq > 0);
	return send_json(x->c, MHD_HTTP_OK, o);
}

enum match {
	EXACT,       /* the path is `path` */
	ARG,         /* `path` ARG `suffix`, ARG not empty (and arg_ok when given) */
	UNDER,       /* the path starts with `path` */
};

enum auth {
	AUTH_NONE,
	AUTH_SESSION,    /* a logged-in session; a change also its X-CSRF-Token */
};

struct route {
	const char *method;        /* GET takes HEAD too */
	enum match match;
	const char *path;
	const char *suffix;        /* ARG */
	int (*arg_ok)(const char *arg, size_t len);
	enum auth auth;
	/* Another method: 405 with this, or NULL for 404 (no such resource). */
	const char *other_method;
	enum MHD_Result (*handler)(struct call *x);
};

/* The first route that matches the path answers. */
static const struct route routes[] = {
	{ "GET", EXACT, "/", NULL, NULL, AUTH_NONE, "use GET for /", get_page },
	{ "GET", EXACT, "/index.html", NULL, NULL, AUTH_NONE, "use GET for /", get_page },
	{ "GET", EXACT, "/metrics", NULL, NULL, AUTH_NONE, "use GET for /metrics", get_metrics },
	{ "GET", EXACT, "/api/v1/status", NULL, NULL, AUTH_NONE, "use GET for /api/v1/status", get_status },
	{ "POST", EXACT, "/api/v1/login", NULL, NULL, AUTH_NONE, "use POST for /api/v1/login", post_login },
	{ "POST", EXACT, "/api/v1/logout", NULL, NULL, AUTH_SESSION, "use POST for /api/v1/logout", post_logout },
	{ "GET", EXACT, "/api/v1/session", NULL, NULL, AUTH_SESSION, NULL, get_session },
	{ "GET", EXACT, "/api/v1/groups", NULL, NULL, AUTH_SESSION, NULL, get_groups },
	{ "GET", EXACT, "/api/v1/sa", NULL, NULL, AUTH_SESSION, NULL, get_sa },
	{ "GET", EXACT, "/api/v1/vpns", NULL, NULL, AUTH_SESSION, NULL, get_vpns },
	{ "GET", EXACT, "/api/v1/members", NULL, NULL, AUTH_SESSION, NULL, get_members },
	{ "GET", EXACT, "/api/v1/events", NULL, NULL, AUTH_SESSION, NULL, get_events },
	{ "PUT", EXACT, "/api/v1/monitor", NULL, NULL, AUTH_SESSION, "use PUT for /api/v1/monitor", put_monitor },
	{ "POST", ARG, "/api/v1/vpns/", "/rekey", NULL, AUTH_SESSION, "use POST to rekey a VPN", post_vpn_rekey },
	{ "PUT", ARG, "/api/v1/vpns/", "", NULL, AUTH_SESSION, "use PUT for /api/v1/vpns/NAME", put_vpn },
	{ "POST", ARG, "/api/v1/groups/", "/rekey", group_arg_ok, AUTH_SESSION, "use POST to rekey a group",
	  post_group_rekey },
	{ NULL, UNDER, "/api/v1/", NULL, NULL, AUTH_SESSION, NULL, not_found },
};

static int route_matches(const struct route *rt, const char *url, struct call *x)
{
	size_t n = strlen(rt->path), len = strlen(url);
	if (rt->match == EXACT)
		return !strcmp(url, rt->path);
	if (strncmp(url, rt->path, n))
		return 0;
	if (rt->match == UNDER)
		return 1;
	size_t sl = strlen(rt->suffix);
	if (len < n + sl + 1 || strcmp(url + len - sl, rt->suffix))
		return 0;
	x->arg = url + n;
	x->arg_len = len - n - sl;
	return !rt->arg_ok || rt->arg_ok(x->arg, x->arg_len);
}

/* A logged-in session, and for a change its CSRF token; else the
 * refusal in *ret. */
static struct session *authorized(struct call *x, enum MHD_Result *ret)
{
	struct session *s = session_of(x->c);
	if (!s) {
		*ret = send_error(x->c, MHD_HTTP_UNAUTHORIZED,
				  "log in first (POST /api/v1/login); the session may have expired");
		return NULL;
	}
	if (is_mutation(x->method)) {
		const char *tok = MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, "X-CSRF-Token");
		if (!tok || strlen(tok) != 64 || CRYPTO_memcmp(tok, s->csrf, 64)) {
			audit(EV_WEB_LOGIN_FAILED, x->addr, s->user, "request without a valid CSRF token");
			*ret = send_error_field(x->c, MHD_HTTP_FORBIDDEN, "missing or wrong X-CSRF-Token header",
						"X-CSRF-Token");
			return NULL;
		}
	}
	return s;
}

static enum MHD_Result dispatch(const struct route *rt, struct call *x)
{
	enum MHD_Result ret;
	if (rt->auth == AUTH_SESSION && !(x->s = authorized(x, &ret)))
		return ret;
	if (rt->method && (!strcmp(rt->method, "GET") ? !is_get(x->method) : strcmp(x->method, rt->method)))
		return rt->other_method ? send_error(x->c, MHD_HTTP_METHOD_NOT_ALLOWED, rt->other_method) : not_found(x);
	return rt->handler(x);
}

static enum MHD_Result route(struct MHD_Connection *c, const char *url, const char *method, const struct req *r)
{
	char addr[INET6_ADDRSTRLEN];
	client_addr(c, addr, sizeof(addr));
	struct call x = { .c = c, .method = method, .r = r, .addr = addr };
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++)
		if (route_matches(&routes[i], url, &x))
			return dispatch(&routes[i], &x);
	return not_found(&x);
}

static enum MHD_Result on_request(void *cls GVPN_UNUSED, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version GVPN_UNUSED, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct req *r = *con_cls;
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (r->len + *upload_data_size > WEB_BODY_MAX) {
			r->too_big = 1;
		} else {
			r->body = xrealloc(r->body, r->len + *upload_data_size + 1);
			memcpy(r->body + r->len, upload_data, *upload_data_size);
			r->len += *upload_data_size;
			r->body[r->len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->too_big)
		return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger than 16 KiB");
	return route(c, url, method, r);
}

static void on_completed(void *cls GVPN_UNUSED, struct MHD_Connection *c GVPN_UNUSED, void **con_cls,
			 enum MHD_RequestTerminationCode toe GVPN_UNUSED)
{
	struct req *r = *con_cls;
	if (r) {
		free(r->body);
		free(r);
		*con_cls = NULL;
	}
}

static void web_run(void)
{
	if (MHD_run(W.d) == MHD_NO)
		log_warn("web", "MHD_run failed");
}

static void on_epoll(int fd GVPN_UNUSED, uint32_t revents GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	web_run();
}

static void on_timer(struct loop_timer *t GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	web_run();
}

static void web_prepare(void *arg GVPN_UNUSED)
{
	MHD_UNSIGNED_LONG_LONG ms;
	if (MHD_get_timeout(W.d, &ms) == MHD_YES)
		loop_timer_arm_ms(&W.timer, ms);
	else
		loop_timer_cancel(&W.timer);
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss)
{
	char host[INET6_ADDRSTRLEN + 1];
	long port;
	if (cfg_parse_hostport(listen, host, sizeof(host), &port) < 0)
		return -1;
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -1;
}

int web_init(const struct cfg_web *w, const struct web_ops *ops)
{
	if (!w->enabled) {
		log_info("web", "the web server is disabled in the configuration");
		return 0;
	}
	W.ops = *ops;
	W.session_timeout = w->session_timeout;
	struct sockaddr_storage ss;
	if (parse_listen(w->listen, &ss) < 0) {
		log_err("web", "bad listen address %s", w->listen);
		return -1;
	}
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (w->cert_file) {
		W.cert = file_read_all(w->cert_file, 1 << 20, NULL);
		W.key = file_read_all(w->key_file, 1 << 20, NULL);
		if (!W.cert || !W.key) {
			log_err("web", "cannot read %s or %s: %s", w->cert_file, w->key_file, strerror(errno));
			return -1;
		}
		flags |= MHD_USE_TLS;
	}
	W.d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
			       MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			       MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
			       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_CONN_TIMEOUT_S,
			       MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)WEB_PER_IP_LIMIT,
			       MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_CONN_LIMIT,
			       MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_CONN_MEMORY,
			       W.cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, W.cert,
			       MHD_OPTION_HTTPS_MEM_KEY, W.key,
			       MHD_OPTION_END);
	if (!W.d) {
		log_err("web", "cannot listen on %s (address in use?)", w->listen);
		return -1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(W.d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		log_err("web", "libmicrohttpd has no epoll descriptor");
		return -1;
	}
	W.h = loop_fd_add(info->epoll_fd, EPOLLIN, on_epoll, NULL);
	if (!W.h)
		return -1;
	loop_timer_init(&W.timer, on_timer, NULL);
	loop_prepare_add(web_prepare, NULL);
	log_info("web", "listening on %s://%s", W.cert ? "https" : "http", w->listen);
	return 0;
}

void web_fini(void)
{
	if (W.d) {
		loop_prepare_remove(web_prepare, NULL);
		loop_timer_cancel(&W.timer);
		loop_fd_del(W.h);
		MHD_stop_daemon(W.d);
	}
	free(W.cert);
	secret_free(W.key);
	memset(&W, 0, sizeof(W));
}

static int str_differ(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

int web_needs_restart(const struct cfg_web *a, const struct cfg_web *b)
{
	return a->enabled != b->enabled || str_differ(a->listen, b->listen) ||
	       str_differ(a->cert_file, b->cert_file) || str_differ(a->key_file, b->key_file);
}
