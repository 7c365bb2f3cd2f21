/* SPDX-License-Identifier: BSD-2-Clause */
/* ctl_server.c: the control socket gvpnctl talks to. Non-blocking on the
 * loop: each connection sends one JSON request line, gets one reply and is
 * closed; slow or oversized clients are cut off. */
#include "config.h"
#include "agent/agent.h"
#include "agent/reload.h"
#include "core/ctl_proto.h"
#include "core/gdoi/gks.h"
#include "core/views/gks_json.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_MAX_CLIENTS 16

struct ctl_conn {
	int fd;
	struct loop_fd *h;
	struct loop_timer timeout;
	char in[CTL_MAX_REQUEST + 1];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	struct ctl_conn *next;
};

static struct {
	int fd;
	char *path;
	struct loop_fd *h;
	struct ctl_conn *conns;
	unsigned nconns;
} C = { .fd = -1 };

static void conn_close(struct ctl_conn *c)
{
	struct ctl_conn **pp = &C.conns;
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	C.nconns--;
	loop_timer_cancel(&c->timeout);
	loop_fd_del(c->h);
	close(c->fd);
	free(c->out);
	free(c);
}

static void reply(struct ctl_conn *c, cJSON *msg)
{
	char *text = cJSON_PrintUnformatted(msg);
	cJSON_Delete(msg);
	c->out = xasprintf("%s\n", text ? text : "{\"ok\":false,\"error\":\"out of memory\"}");
	free(text);
	c->out_len = strlen(c->out);
	c->out_off = 0;
	loop_fd_modify(c->h, EPOLLOUT);
}

static cJSON *ok_reply(cJSON *result)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "ok", 1);
	cJSON_AddItemToObject(r, "result", result);
	return r;
}

static cJSON *error_reply(const char *fmt, ...) GVPN_PRINTF(1, 2);
static cJSON *error_reply(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "ok", 0);
	cJSON_AddStringToObject(r, "error", msg);
	free(msg);
	return r;
}

static cJSON *do_reload(void)
{
	struct cfg_errors errs;
	cfg_errors_init(&errs);
	if (agent_reload(&errs) == 0) {
		cfg_errors_free(&errs);
		cJSON *res = cJSON_CreateObject();
		cJSON_AddNumberToObject(res, "generation", A.generation);
		return ok_reply(res);
	}
	cJSON *r = error_reply("configuration refused; the previous one stays in force");
	cJSON *d = cJSON_AddArrayToObject(r, "details");
	for (size_t i = 0; i < errs.n; i++)
		cJSON_AddItemToArray(d, cJSON_CreateString(errs.msg[i]));
	cfg_errors_free(&errs);
	return r;
}

/* ---- commands ------------------------------------------------------------------ */

/* The request's "group": absent (0), or an integer 1..65535 (1, *id set);
 * anything else is -1. */
static int group_arg(const cJSON *req, long *id)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(req, "group");
	if (!g)
		return 0;
	if (!cJSON_IsNumber(g) || !(g->valuedouble >= 1 && g->valuedouble <= 65535) ||
	    (double)(long)g->valuedouble != g->valuedouble)
		return -1;
	*id = (long)g->valuedouble;
	return 1;
}

static cJSON *bad_group(void)
{
	return error_reply("malformed request: \"group\" must be an integer from 1 to 65535");
}

static cJSON *cmd_status(const cJSON *req GVPN_UNUSED)
{
	return ok_reply(status_json());
}

static cJSON *cmd_events(const cJSON *req)
{
	const cJSON *since = cJSON_GetObjectItemCaseSensitive(req, "since");
	double s = cJSON_IsNumber(since) ? since->valuedouble : 0;
	return ok_reply(status_events_json(s <= 0 ? 0 : s >= 1.8e19 ? UINT64_MAX : (uint64_t)s));
}

static cJSON *cmd_vpns(const cJSON *req GVPN_UNUSED)
{
	return ok_reply(status_vpns_json());
}

static cJSON *cmd_groups(const cJSON *req GVPN_UNUSED)
{
	return ok_reply(gks_status_json());
}

static cJSON *cmd_sa(const cJSON *req GVPN_UNUSED)
{
	return ok_reply(gks_sa_json());
}

static cJSON *cmd_members(const cJSON *req)
{
	long id = 0;
	if (group_arg(req, &id) < 0)
		return bad_group();
	cJSON *m = gks_members_json(id);
	return m ? ok_reply(m) : error_reply("no group %ld", id);
}

static cJSON *cmd_rekeys(const cJSON *req GVPN_UNUSED)
{
	return ok_reply(gks_history_json());
}

static cJSON *cmd_rekey(const cJSON *req)
{
	long id = 0;
	if (group_arg(req, &id) <= 0)
		return bad_group();
	int seq = gks_rekey_group(id);
	if (seq < 0)
		return error_reply("no group %ld", id);
	log_notice("ctl", "group %ld rekeyed on request%s", id, seq ? "" : " (nothing pushed)");
	cJSON *res = cJSON_CreateObject();
	cJSON_AddNumberToObject(res, "group_id", (double)id);
	cJSON_AddNumberToObject(res, "seq", seq);
	cJSON_AddBoolToObject(res, "pushed", seq > 0);
	return ok_reply(res);
}

static cJSON *cmd_reload(const cJSON *req GVPN_UNUSED)
{
	return do_reload();
}

static const struct ctl_cmd {
	const char *name;
	int key_server;             /* needs group_vpn_server */
	cJSON *(*fn)(const cJSON *req);
} ctl_cmds[] = {
	{ "show status", 0, cmd_status },
	{ "show events", 0, cmd_events },
	{ "show groups", 1, cmd_groups },
	{ "show sa", 1, cmd_sa },
	{ "show registered-members", 1, cmd_members },
	{ "show rekeys", 1, cmd_rekeys },
	{ "show vpns", 0, cmd_vpns },
	{ "rekey group", 1, cmd_rekey },
	{ "reload", 0, cmd_reload },
};

static cJSON *unknown_cmd(const char *cmd)
{
	char known[256] = "";
	size_t n = 0;
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		int w = snprintf(known + n, sizeof(known) - n, "%s%s", i ? ", " : "", ctl_cmds[i].name);
		if (w < 0 || (size_t)w >= sizeof(known) - n)
			break;
		n += (size_t)w;
	}
	return error_reply("unknown command \"%.64s\" (known: %s)", cmd, known);
}

static cJSON *dispatch(const char *line)
{
	cJSON *req = cJSON_ParseWithLength(line, strlen(line));
	if (!cJSON_IsObject(req)) {
		cJSON_Delete(req);
		return error_reply("malformed request: expected a JSON object with \"cmd\"");
	}
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
	cJSON *r = NULL;
	if (!cJSON_IsString(cmd)) {
		r = error_reply("malformed request: \"cmd\" is missing or not a string");
	} else {
		for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]) && !r; i++) {
			if (strcmp(cmd->valuestring, ctl_cmds[i].name))
				continue;
			/* A group_vpn_server section added by a reload only runs after a
			 * restart; until then its groups are simply not found. */
			if (ctl_cmds[i].key_server && !A.cfg->gks)
				r = error_reply("no key server: the configuration has no group_vpn_server section");
			else
				r = ctl_cmds[i].fn(req);
		}
		if (!r)
			r = unknown_cmd(cmd->valuestring);
	}
	cJSON_Delete(req);
	return r;
}

static void on_conn(int fd, uint32_t revents GVPN_UNUSED, void *arg)
{
	struct ctl_conn *c = arg;
	if (c->out) {
		ssize_t w = send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (w <= 0) {
			conn_close(c);
			return;
		}
		c->out_off += (size_t)w;
		if (c->out_off == c->out_len)
			conn_close(c);
		return;
	}
	ssize_t r = recv(fd, c->in + c->in_len, CTL_MAX_REQUEST - c->in_len, 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		conn_close(c);
		return;
	}
	c->in_len += (size_t)r;
	c->in[c->in_len] = '\0';
	char *nl = memchr(c->in, '\n', c->in_len);
	if (!nl) {
		if (c->in_len == CTL_MAX_REQUEST) {
			log_warn("ctl", "request longer than %d bytes refused", CTL_MAX_REQUEST);
			reply(c, error_reply("request too long (at most %d bytes)", CTL_MAX_REQUEST));
		}
		return;
	}
	*nl = '\0';
	reply(c, dispatch(c->in));
}

static void on_timeout(struct loop_timer *t GVPN_UNUSED, void *arg)
{
	struct ctl_conn *c = arg;
	log_info("ctl", "control connection timed out after %d ms", CTL_TIMEOUT_MS);
	conn_close(c);
}

static void on_accept(int fd, uint32_t revents GVPN_UNUSED, void *arg GVPN_UNUSED)
{
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("ctl", "accept: %s", strerror(errno));
			return;
		}
		if (C.nconns >= CTL_MAX_CLIENTS) {
			log_warn("ctl", "too many control connections (%d); one refused", CTL_MAX_CLIENTS);
			close(cfd);
			continue;
		}
		struct ctl_conn *c = xcalloc(1, sizeof(*c));
		c->fd = cfd;
		c->h = loop_fd_add(cfd, EPOLLIN, on_conn, c);
		if (!c->h) {
			close(cfd);
			free(c);
			continue;
		}
		loop_timer_init(&c->timeout, on_timeout, c);
		loop_timer_arm_ms(&c->timeout, CTL_TIMEOUT_MS);
		c->next = C.conns;
		C.conns = c;
		C.nconns++;
	}
}

/* A socket file left by a crashed agent is removed; a live one is not. */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("ctl", "%s exists and is not a socket; not touching it", path);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
		close(fd);
		log_err("ctl", "another agent answers on %s; is gvpn-agent already running?", path);
		return -1;
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	return 0;
}

int ctl_init(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("ctl", "control socket path too long (%zu > %zu): %s", strlen(path),
			sizeof(sa.sun_path) - 1, path);
		return -1;
	}
	str_copy(sa.sun_path, path, sizeof(sa.sun_path));
	if (clear_stale(path, &sa) < 0)
		return -1;
	C.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (C.fd < 0) {
		log_err("ctl", "socket: %s", strerror(errno));
		return -1;
	}
	mode_t old = umask(0077);
	int rc = bind(C.fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(C.fd, 16) < 0) {
		log_err("ctl", "cannot listen on %s: %s", path, strerror(errno));
		close(C.fd);
		C.fd = -1;
		return -1;
	}
	C.path = xstrdup(path);
	C.h = loop_fd_add(C.fd, EPOLLIN, on_accept, NULL);
	if (!C.h)
		return -1;
	log_info("ctl", "control socket %s", path);
	return 0;
}

void ctl_fini(void)
{
	while (C.conns)
		conn_close(C.conns);
	if (C.h)
		loop_fd_del(C.h);
	if (C.fd >= 0) {
		close(C.fd);
		unlink(C.path);
	}
	free(C.path);
	memset(&C, 0, sizeof(C));
	C.fd = -1;
}
