/* SPDX-License-Identifier: BSD-2-Clause */
/* syslog_tx.c: UDP (RFC 5426), octet-counted TCP (RFC 6587), TLS (RFC 5425)
 * and local /dev/log transports on the event loop. See syslog_tx.h. */
#include "config.h"
#include "core/syslog/syslog_tx.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define SS "syslog"

enum tx_kind { TX_UDP, TX_TCP, TX_TLS, TX_LOCAL };
enum tx_state { ST_DOWN, ST_CONNECTING, ST_HANDSHAKE, ST_UP };

struct tx_msg {
	char *p;
	size_t len;
};

struct syslog_tx {
	int kind;                  /* enum tx_kind */
	int state;                 /* enum tx_state */
	char *host, *port;         /* port as a string for getaddrinfo */
	char *name;                /* "tcp://host:port" for log messages */
	size_t max_len;

	int fd;
	struct loop_fd *h;
	uint32_t events;

	/* datagram destination */
	struct sockaddr_storage dst;
	socklen_t dst_len;

	struct loop_timer retry;
	uint32_t backoff_ms;

	SSL_CTX *ctx;
	SSL *ssl;
	int ssl_write_wants_read;  /* SSL_write said WANT_READ: no EPOLLOUT */

	struct tx_msg *q;          /* ring */
	size_t qcap, qhead, qn;

	char *wbuf;                /* stream: the frame being written */
	size_t wlen, woff;

	struct syslog_tx_stats st;
};

static void tx_connect(struct syslog_tx *t);
static void tx_on_fd(int fd, uint32_t revents, void *arg);

/* ---- queue ------------------------------------------------------------ */

static void q_drop_oldest(struct syslog_tx *t)
{
	free(t->q[t->qhead].p);
	t->q[t->qhead].p = NULL;
	t->qhead = (t->qhead + 1) % t->qcap;
	t->qn--;
}

static struct tx_msg *q_head(struct syslog_tx *t)
{
	return t->qn ? &t->q[t->qhead] : NULL;
}

static void update_queued(struct syslog_tx *t)
{
	t->st.queued = t->qn + (t->wbuf ? 1 : 0);
}

static void count_drop(struct syslog_tx *t, uint64_t *which)
{
	(*which)++;
	t->st.dropped++;
}

/* ---- descriptor events ------------------------------------------------ */

static int pending(const struct syslog_tx *t)
{
	return t->qn > 0 || t->wbuf != NULL;
}

/* The events the current state needs. Level-triggered: EPOLLOUT only while
 * there is something to write, or the socket would spin. */
static uint32_t wanted_events(const struct syslog_tx *t)
{
	switch (t->state) {
	case ST_CONNECTING:
		return EPOLLOUT;
	case ST_HANDSHAKE:
		return t->events;   /* set by the handshake step itself */
	case ST_UP:
		break;
	default:
		return 0;
	}
	uint32_t ev = (t->kind == TX_TCP || t->kind == TX_TLS) ? EPOLLIN : 0;
	if (pending(t) && !t->ssl_write_wants_read)
		ev |= EPOLLOUT;
	return ev;
}

static void set_events(struct syslog_tx *t, uint32_t ev)
{
	if (!t->h || ev == t->events)
		return;
	if (loop_fd_modify(t->h, ev) == 0)
		t->events = ev;
}

static void refresh_events(struct syslog_tx *t)
{
	set_events(t, wanted_events(t));
}

/* ---- connection lifecycle ------------------------------------------------ */

static void tx_close(struct syslog_tx *t)
{
	if (t->ssl) {
		SSL_free(t->ssl);
		t->ssl = NULL;
	}
	if (t->h) {
		loop_fd_del(t->h);
		t->h = NULL;
	}
	if (t->fd >= 0) {
		close(t->fd);
		t->fd = -1;
	}
	t->events = 0;
	t->ssl_write_wants_read = 0;
	t->st.connected = 0;
}

/* The connection failed or broke: close it, and retry after the backoff. */
static void tx_fail(struct syslog_tx *t, const char *what, const char *why)
{
	if (t->state == ST_UP)
		log_warn(SS, "collector %s: %s: %s; retrying in %u ms", t->name, what, why, t->backoff_ms);
	else
		log_info(SS, "collector %s: %s: %s; retrying in %u ms", t->name, what, why, t->backoff_ms);
	tx_close(t);
	if (t->wbuf && t->woff > 0) {
		/* Part of the frame is on the old connection: it cannot be resumed. */
		free(t->wbuf);
		t->wbuf = NULL;
		count_drop(t, &t->st.dropped_error);
	} else if (t->wbuf) {
		t->woff = 0;
	}
	update_queued(t);
	t->state = ST_DOWN;
	loop_timer_arm_ms(&t->retry, t->backoff_ms);
	t->backoff_ms *= 2;
	if (t->backoff_ms > SYSLOG_TX_BACKOFF_MAX_MS)
		t->backoff_ms = SYSLOG_TX_BACKOFF_MAX_MS;
}

static void tx_up(struct syslog_tx *t)
{
	t->state = ST_UP;
	t->backoff_ms = SYSLOG_TX_BACKOFF_MIN_MS;
	if (t->kind == TX_TCP || t->kind == TX_TLS) {
		t->st.connected = 1;
		log_info(SS, "collector %s: connected", t->name);
	}
	refresh_events(t);
}

static void on_retry(struct loop_timer *tm, void *arg)
{
	struct syslog_tx *t = arg;
	(void)tm;
	t->st.reconnects++;
	tx_connect(t);
}

static const char *ssl_err_string(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();
	if (!e)
		return "connection closed or I/O error";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

static void tls_handshake(struct syslog_tx *t)
{
	ERR_clear_error();
	int r = SSL_do_handshake(t->ssl);
	if (r == 1) {
		set_events(t, EPOLLIN);
		tx_up(t);
		return;
	}
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		set_events(t, EPOLLIN);
		return;
	case SSL_ERROR_WANT_WRITE:
		set_events(t, EPOLLIN | EPOLLOUT);
		return;
	default: {
		long v = SSL_get_verify_result(t->ssl);
		const char *why = v != X509_V_OK ? X509_verify_cert_error_string(v) : ssl_err_string();
		ERR_clear_error();
		tx_fail(t, "TLS handshake failed", why);
	}
	}
}

static void tls_start(struct syslog_tx *t)
{
	t->ssl = SSL_new(t->ctx);
	if (!t->ssl) {
		tx_fail(t, "TLS setup failed", ssl_err_string());
		return;
	}
	SSL_set_fd(t->ssl, t->fd);
	SSL_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
	unsigned char ab[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, t->host, ab) == 1 || inet_pton(AF_INET6, t->host, ab) == 1) {
		X509_VERIFY_PARAM_set1_ip_asc(vp, t->host);
	} else {
		X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		X509_VERIFY_PARAM_set1_host(vp, t->host, 0);
		SSL_set_tlsext_host_name(t->ssl, t->host);
	}
	SSL_set_connect_state(t->ssl);
	t->state = ST_HANDSHAKE;
	tls_handshake(t);
}

static void tx_connected(struct syslog_tx *t)
{
	if (t->kind == TX_TLS)
		tls_start(t);
	else
		tx_up(t);
}

static int resolve(struct syslog_tx *t, int socktype, struct addrinfo **res)
{
	struct addrinfo hints = { .ai_socktype = socktype, .ai_flags = AI_NUMERICSERV };
	int r = getaddrinfo(t->host, t->port, &hints, res);
	if (r != 0) {
		tx_fail(t, "cannot resolve host", gai_strerror(r));
		return -1;
	}
	return 0;
}

static int watch(struct syslog_tx *t, uint32_t ev)
{
	t->h = loop_fd_add(t->fd, ev, tx_on_fd, t);
	if (!t->h) {
		tx_fail(t, "cannot watch the socket", "event loop refused it");
		return -1;
	}
	t->events = ev;
	return 0;
}

/* Datagram: resolve (UDP) once, open a socket, done. A UDP socket is
 * connected to the collector: unconnected, the kernel would bind it to
 * the wildcard address on a random port, a listener anyone can send to;
 * connected, only the collector can, and its ICMP errors come back as
 * send errors (counted drops) instead of silent losses. */
static void dgram_open(struct syslog_tx *t)
{
	int family = AF_UNIX;
	if (t->kind == TX_UDP) {
		struct addrinfo *res;
		if (resolve(t, SOCK_DGRAM, &res) < 0)
			return;
		memcpy(&t->dst, res->ai_addr, res->ai_addrlen);
		t->dst_len = res->ai_addrlen;
		family = res->ai_family;
		freeaddrinfo(res);
	}
	t->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		tx_fail(t, "cannot open a socket", strerror(errno));
		return;
	}
	if (t->kind == TX_UDP && connect(t->fd, (struct sockaddr *)&t->dst, t->dst_len) < 0) {
		tx_fail(t, "cannot connect the socket", strerror(errno));
		return;
	}
	if (watch(t, 0) < 0)
		return;
	t->state = ST_UP;
	t->st.connected = 1;
	refresh_events(t);
}

static void stream_connect(struct syslog_tx *t)
{
	struct addrinfo *res, *ai;
	if (resolve(t, SOCK_STREAM, &res) < 0)
		return;
	int err = 0;
	for (ai = res; ai; ai = ai->ai_next) {
		t->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (t->fd < 0) {
			err = errno;
			continue;
		}
		if (connect(t->fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS)
			break;
		err = errno;
		close(t->fd);
		t->fd = -1;
	}
	freeaddrinfo(res);
	if (t->fd < 0) {
		tx_fail(t, "cannot connect", strerror(err));
		return;
	}
	t->state = ST_CONNECTING;
	if (watch(t, EPOLLOUT) < 0)
		return;
}

static void tx_connect(struct syslog_tx *t)
{
	if (t->kind == TX_UDP || t->kind == TX_LOCAL)
		dgram_open(t);
	else
		stream_connect(t);
}

/* ---- writing ------------------------------------------------------------- */

static void dgram_flush(struct syslog_tx *t)
{
	struct tx_msg *m;
	while ((m = q_head(t))) {
		ssize_t n = sendto(t->fd, m->p, m->len, MSG_NOSIGNAL, (struct sockaddr *)&t->dst, t->dst_len);
		if (n >= 0) {
			t->st.sent++;
			t->st.connected = 1;
			q_drop_oldest(t);
			continue;
		}
		if (errno == EINTR)
			continue;
		if ((errno == EAGAIN || errno == EWOULDBLOCK) && t->kind == TX_UDP)
			break;  /* wait for EPOLLOUT */
		/* Local EAGAIN (syslogd is behind), or any send error: drop it. */
		int eagain = errno == EAGAIN || errno == EWOULDBLOCK;
		t->st.connected = 0;
		q_drop_oldest(t);
		count_drop(t, &t->st.dropped_error);
		if (eagain)
			break;
	}
	update_queued(t);
	refresh_events(t);
}

static void frame_next(struct syslog_tx *t)
{
	struct tx_msg *m = q_head(t);
	char pre[24];
	int pl = snprintf(pre, sizeof(pre), "%zu ", m->len);
	t->wbuf = xmalloc((size_t)pl + m->len);
	memcpy(t->wbuf, pre, (size_t)pl);
	memcpy(t->wbuf + pl, m->p, m->len);
	t->wlen = (size_t)pl + m->len;
	t->woff = 0;
	q_drop_oldest(t);
}

/* Writes some of the frame: >0 bytes written, 0 would block, -1 broken. */
static ssize_t stream_write(struct syslog_tx *t, const char **why)
{
	const char *p = t->wbuf + t->woff;
	size_t len = t->wlen - t->woff;
	if (t->kind == TX_TCP) {
		ssize_t n = send(t->fd, p, len, MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		*why = strerror(errno);
		return -1;
	}
	size_t w = 0;
	ERR_clear_error();
	int r = SSL_write_ex(t->ssl, p, len, &w);
	t->ssl_write_wants_read = 0;
	if (r == 1)
		return (ssize_t)w;
	switch (SSL_get_error(t->ssl, r)) {
	case SSL_ERROR_WANT_WRITE:
		return 0;
	case SSL_ERROR_WANT_READ:
		t->ssl_write_wants_read = 1;
		return 0;
	default:
		*why = ssl_err_string();
		return -1;
	}
}

static void stream_flush(struct syslog_tx *t)
{
	for (;;) {
		if (!t->wbuf) {
			if (!t->qn)
				break;
			frame_next(t);
		}
		const char *why = NULL;
		ssize_t n = stream_write(t, &why);
		if (n < 0) {
			tx_fail(t, "write failed", why);
			return;
		}
		if (n == 0)
			break;
		t->woff += (size_t)n;
		if (t->woff == t->wlen) {
			free(t->wbuf);
			t->wbuf = NULL;
			t->st.sent++;
		}
	}
	update_queued(t);
	refresh_events(t);
}

/* Collectors send nothing; reading is how a closed connection is seen
 * (and how TLS gets its post-handshake messages). 0, or -1 when broken. */
static int stream_drain(struct syslog_tx *t, const char **why)
{
	char buf[4096];
	for (int i = 0; i < 16; i++) {
		if (t->kind == TX_TCP) {
			ssize_t n = recv(t->fd, buf, sizeof(buf), 0);
			if (n > 0)
				continue;
			if (n == 0) {
				*why = "closed by the collector";
				return -1;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return 0;
			*why = strerror(errno);
			return -1;
		}
		size_t got = 0;
		ERR_clear_error();
		int r = SSL_read_ex(t->ssl, buf, sizeof(buf), &got);
		if (r == 1)
			continue;
		switch (SSL_get_error(t->ssl, r)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			return 0;
		case SSL_ERROR_ZERO_RETURN:
			*why = "closed by the collector";
			return -1;
		default:
			*why = ssl_err_string();
			return -1;
		}
	}
	return 0;
}

static void tx_on_fd(int fd, uint32_t revents, void *arg)
{
	struct syslog_tx *t = arg;
	(void)fd;
	switch (t->state) {
	case ST_CONNECTING: {
		int err = 0;
		socklen_t l = sizeof(err);
		if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
			err = errno;
		if (err) {
			tx_fail(t, "cannot connect", strerror(err));
			return;
		}
		tx_connected(t);
		return;
	}
	case ST_HANDSHAKE:
		tls_handshake(t);
		return;
	case ST_UP:
		break;
	default:
		return;
	}
	if (t->kind == TX_UDP || t->kind == TX_LOCAL) {
		dgram_flush(t);
		return;
	}
	if (revents & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		const char *why = NULL;
		if (stream_drain(t, &why) < 0) {
			tx_fail(t, "connection lost", why);
			return;
		}
		t->ssl_write_wants_read = 0;
	}
	stream_flush(t);
}

/* ---- public ---------------------------------------------------------- */

static struct syslog_tx *tx_alloc(int kind, long queue)
{
	struct syslog_tx *t = xcalloc(1, sizeof(*t));
	t->kind = kind;
	t->fd = -1;
	t->state = ST_DOWN;
	t->qcap = (size_t)queue;
	t->q = xcalloc(t->qcap, sizeof(*t->q));
	t->backoff_ms = SYSLOG_TX_BACKOFF_MIN_MS;
	loop_timer_init(&t->retry, on_retry, t);
	return t;
}

static SSL_CTX *tls_ctx(const char *ca_file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return NULL;
	/* The same policy as the web server's: TLS 1.2 or later, and under 1.2
	 * only AEAD suites with forward secrecy (1.3's are all of that kind). */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_set_cipher_list(ctx, GVPN_TLS12_CIPHERS) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct syslog_tx *syslog_tx_new(const struct cfg_collector *c)
{
	static const char *const names[] = { "udp", "tcp", "tls" };
	int kind = c->transport == CFG_TRANSPORT_UDP ? TX_UDP :
		   c->transport == CFG_TRANSPORT_TCP ? TX_TCP :
		   c->transport == CFG_TRANSPORT_TLS ? TX_TLS : -1;
	if (kind < 0 || !c->host || !*c->host || c->port < 1 || c->port > 65535 || c->queue < 1) {
		log_err(SS, "collector %s:%ld: invalid transport, host, port or queue size",
			c->host ? c->host : "(none)", c->port);
		return NULL;
	}
	SSL_CTX *ctx = NULL;
	if (kind == TX_TLS) {
		if (!c->ca_file || !(ctx = tls_ctx(c->ca_file))) {
			log_err(SS, "collector tls://%s:%ld: cannot load the CA file %s: %s", c->host, c->port,
				c->ca_file ? c->ca_file : "(none)", ssl_err_string());
			return NULL;
		}
	}
	struct syslog_tx *t = tx_alloc(kind, c->queue);
	t->ctx = ctx;
	t->host = xstrdup(c->host);
	t->port = xasprintf("%ld", c->port);
	t->name = xasprintf(strchr(c->host, ':') ? "%s://[%s]:%ld" : "%s://%s:%ld",
			    names[c->transport], c->host, c->port);
	t->max_len = kind == TX_UDP ? SYSLOG_TX_UDP_MAX : SYSLOG_TX_STREAM_MAX;
	tx_connect(t);
	return t;
}

struct syslog_tx *syslog_tx_new_unix(const char *path, long queue)
{
	struct sockaddr_un *sun;
	if (queue < 1 || strlen(path) >= sizeof(sun->sun_path)) {
		log_err(SS, "local syslog %s: path too long or bad queue size", path);
		return NULL;
	}
	struct syslog_tx *t = tx_alloc(TX_LOCAL, queue);
	sun = (struct sockaddr_un *)&t->dst;
	sun->sun_family = AF_UNIX;
	str_copy(sun->sun_path, path, sizeof(sun->sun_path));
	t->dst_len = sizeof(*sun);
	t->name = xasprintf("unix:%s", path);
	t->max_len = SYSLOG_TX_LOCAL_MAX;
	tx_connect(t);
	return t;
}

struct syslog_tx *syslog_tx_new_local(long queue)
{
	return syslog_tx_new_unix(SYSLOG_TX_DEV_LOG, queue);
}

void syslog_tx_send(struct syslog_tx *t, const char *msg, size_t len)
{
	if (len == 0 || len > t->max_len) {
		count_drop(t, &t->st.dropped_size);
		return;
	}
	if (t->qn == t->qcap)
		count_drop(t, &t->st.dropped_queue), q_drop_oldest(t);
	size_t i = (t->qhead + t->qn) % t->qcap;
	t->q[i].p = xmalloc(len);
	memcpy(t->q[i].p, msg, len);
	t->q[i].len = len;
	t->qn++;
	update_queued(t);
	if (t->state == ST_UP)
		refresh_events(t);
}

const struct syslog_tx_stats *syslog_tx_stats(const struct syslog_tx *t)
{
	return &t->st;
}

void syslog_tx_free(struct syslog_tx *t)
{
	if (!t)
		return;
	loop_timer_cancel(&t->retry);
	tx_close(t);
	while (t->qn)
		q_drop_oldest(t);
	free(t->q);
	free(t->wbuf);
	SSL_CTX_free(t->ctx);
	free(t->host);
	free(t->port);
	free(t->name);
	free(t);
}
