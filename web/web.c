/* web.c: libmicrohttpd in the agent's event loop. MHD runs in "external
 * epoll" mode: its epoll descriptor is watched by our loop, MHD_run() is
 * called when it is readable and when MHD's own timeout (from
 * MHD_get_timeout) expires. Limits a daemon facing browsers needs are set
 * here: connection timeout, per-address and total connection limits,
 * memory per connection. */
#include "config.h"
#include "web.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <microhttpd.h>

#define WEB_CONN_TIMEOUT_S 15
#define WEB_PER_IP_LIMIT 16
#define WEB_CONN_LIMIT 256
#define WEB_CONN_MEMORY (64 * 1024)

static struct {
	struct MHD_Daemon *d;
	struct loop_fd *h;
	struct loop_timer timer;
	struct web_ops ops;
	char *cert, *key;
} W;

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

static enum MHD_Result on_request(void *cls GVPN_UNUSED, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version GVPN_UNUSED, const char *upload_data GVPN_UNUSED,
				  size_t *upload_data_size, void **con_cls GVPN_UNUSED)
{
	int is_get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
	/* Nothing takes a body yet: refuse one rather than buffer it. */
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, "/") || !strcmp(url, "/index.html")) {
		if (!is_get)
			return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET for /");
		struct MHD_Response *r = MHD_create_response_from_buffer(
			web_page_index_len, (void *)web_page_index, MHD_RESPMEM_PERSISTENT);
		add_common_headers(r, "text/html; charset=utf-8");
		enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (!strcmp(url, "/api/v1/status")) {
		if (!is_get)
			return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET for /api/v1/status");
		return send_json(c, MHD_HTTP_OK, W.ops.status());
	}
	return send_error(c, MHD_HTTP_NOT_FOUND, "no such resource");
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
