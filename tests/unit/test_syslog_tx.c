/* SPDX-License-Identifier: BSD-2-Clause */
/* test_syslog_tx.c: unit tests of core/syslog/syslog_tx.c against in-process
 * loopback listeners: UDP datagrams intact, octet-counted TCP framing
 * byte for byte, the queue dropping its oldest message, reconnection with
 * backoff on a fake clock, a collector that never reads, TLS against an
 * in-process OpenSSL server (self-signed certificate made here, IP checked),
 * and the local AF_UNIX datagram transport. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/syslog/syslog_tx.h"

/* ---- helpers ------------------------------------------------------------ */

static uint64_t fake_now;
static uint64_t fake_clock(void) { return fake_now; }

static int listener(int type, uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(*port) };
	int fd = socket(AF_INET, type, 0);
	assert_true(fd >= 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 4), 0);
	socklen_t l = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	*port = ntohs(a.sin_port);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static struct cfg_collector coll(int transport, uint16_t port, long queue)
{
	struct cfg_collector c = { .transport = transport, .host = "127.0.0.1", .port = port, .queue = queue };
	return c;
}

/* Runs the loop (real clock) until cond(t) or about 5 s. */
static int run_until(struct syslog_tx *t, int (*cond)(const struct syslog_tx_stats *, long), long arg)
{
	for (int i = 0; i < 500; i++) {
		if (cond(syslog_tx_stats(t), arg))
			return 1;
		loop_run_once(10);
	}
	return cond(syslog_tx_stats(t), arg);
}

static int is_connected(const struct syslog_tx_stats *s, long arg) { (void)arg; return s->connected; }
static int sent_at_least(const struct syslog_tx_stats *s, long n) { return s->sent >= (uint64_t)n; }
static int queue_empty(const struct syslog_tx_stats *s, long arg) { (void)arg; return s->queued == 0; }

static void read_exact(int fd, char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = recv(fd, buf + got, len - got, 0);
		assert_true(n > 0);
		got += (size_t)n;
	}
}

static int setup(void **state)
{
	(void)state;
	loop_set_clock(NULL);
	return loop_init();
}

static int teardown(void **state)
{
	(void)state;
	loop_fini();
	loop_set_clock(NULL);
	return 0;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_udp_datagrams(void **state)
{
	(void)state;
	uint16_t port = 0;
	int srv = listener(SOCK_DGRAM, &port);
	struct cfg_collector c = coll(CFG_TRANSPORT_UDP, port, 8);
	struct syslog_tx *t = syslog_tx_new(&c);
	assert_non_null(t);

	const char *msgs[] = { "<13>1 - - app - - - one", "<13>1 - - app - - - two two" };
	char big[SYSLOG_TX_UDP_MAX + 1];
	memset(big, 'x', sizeof(big));
	syslog_tx_send(t, msgs[0], strlen(msgs[0]));
	syslog_tx_send(t, big, sizeof(big));            /* refused */
	syslog_tx_send(t, big, SYSLOG_TX_UDP_MAX);      /* exactly the cap: sent */
	syslog_tx_send(t, msgs[1], strlen(msgs[1]));
	assert_true(run_until(t, sent_at_least, 3));

	char buf[4096];
	ssize_t n = recv(srv, buf, sizeof(buf), 0);
	assert_int_equal(n, (ssize_t)strlen(msgs[0]));
	assert_memory_equal(buf, msgs[0], (size_t)n);
	n = recv(srv, buf, sizeof(buf), 0);
	assert_int_equal(n, SYSLOG_TX_UDP_MAX);
	n = recv(srv, buf, sizeof(buf), 0);
	assert_int_equal(n, (ssize_t)strlen(msgs[1]));
	assert_memory_equal(buf, msgs[1], (size_t)n);

	const struct syslog_tx_stats *s = syslog_tx_stats(t);
	assert_int_equal(s->sent, 3);
	assert_int_equal(s->dropped, 1);
	assert_int_equal(s->dropped_size, 1);
	assert_int_equal(s->queued, 0);
	syslog_tx_free(t);
	close(srv);
}

static void test_tcp_framing(void **state)
{
	(void)state;
	uint16_t port = 0;
	int lfd = listener(SOCK_STREAM, &port);
	struct cfg_collector c = coll(CFG_TRANSPORT_TCP, port, 8);
	struct syslog_tx *t = syslog_tx_new(&c);
	assert_non_null(t);
	/* Queued before the connection is up: sent after it. */
	syslog_tx_send(t, "hello", 5);
	syslog_tx_send(t, "", 0);   /* RFC 6587 MSG-LEN is nonzero: refused */
	assert_true(run_until(t, is_connected, 0));
	int cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	syslog_tx_send(t, "hello world", 11);
	syslog_tx_send(t, "a b\nc", 5);
	assert_true(run_until(t, sent_at_least, 3));

	const char want[] = "5 hello11 hello world5 a b\nc";
	char buf[sizeof(want)] = { 0 };
	read_exact(cfd, buf, sizeof(want) - 1);
	assert_string_equal(buf, want);

	const struct syslog_tx_stats *s = syslog_tx_stats(t);
	assert_int_equal(s->sent, 3);
	assert_int_equal(s->dropped_size, 1);
	assert_int_equal(s->reconnects, 0);
	assert_true(s->connected);
	syslog_tx_free(t);
	close(cfd);
	close(lfd);
}

/* The queue keeps the newest `queue` messages: m3..m5 of m1..m5. */
static void test_overflow_drops_oldest(void **state)
{
	(void)state;
	uint16_t port = 0;
	int srv = listener(SOCK_DGRAM, &port);
	struct cfg_collector c = coll(CFG_TRANSPORT_UDP, port, 3);
	struct syslog_tx *t = syslog_tx_new(&c);
	assert_non_null(t);
	char m[8];
	for (int i = 1; i <= 5; i++) {
		snprintf(m, sizeof(m), "m%d", i);
		syslog_tx_send(t, m, strlen(m));
	}
	const struct syslog_tx_stats *s = syslog_tx_stats(t);
	assert_int_equal(s->queued, 3);
	assert_int_equal(s->dropped, 2);
	assert_int_equal(s->dropped_queue, 2);
	assert_true(run_until(t, sent_at_least, 3));
	for (int i = 3; i <= 5; i++) {
		char buf[16];
		ssize_t n = recv(srv, buf, sizeof(buf) - 1, 0);
		assert_true(n > 0);
		buf[n] = 0;
		snprintf(m, sizeof(m), "m%d", i);
		assert_string_equal(buf, m);
	}
	assert_int_equal(s->sent, 3);
	syslog_tx_free(t);
	close(srv);
}

/* Runs the loop without waiting, at the current fake time. */
static void spin(void)
{
	for (int i = 0; i < 20; i++)
		loop_run_once(0);
}

static void advance_ms(uint64_t ms)
{
	fake_now += ms * 1000;
	spin();
}

static void test_reconnect_backoff(void **state)
{
	(void)state;
	fake_now = 1000000000;
	loop_set_clock(fake_clock);

	/* A port nobody listens on (for now). */
	uint16_t port = 0;
	int tmp = listener(SOCK_STREAM, &port);
	close(tmp);

	struct cfg_collector c = coll(CFG_TRANSPORT_TCP, port, 4);
	struct syslog_tx *t = syslog_tx_new(&c);
	assert_non_null(t);
	spin();
	const struct syslog_tx_stats *s = syslog_tx_stats(t);
	assert_false(s->connected);
	assert_int_equal(loop_next_deadline_us(), fake_now + 1000000);   /* 1 s */

	char m[8];
	for (int i = 1; i <= 6; i++) {
		snprintf(m, sizeof(m), "m%d", i);
		syslog_tx_send(t, m, strlen(m));
	}
	assert_int_equal(s->queued, 4);
	assert_int_equal(s->dropped_queue, 2);

	advance_ms(999);
	assert_int_equal(s->reconnects, 0);
	advance_ms(1);
	assert_int_equal(s->reconnects, 1);
	assert_int_equal(loop_next_deadline_us(), fake_now + 2000000);   /* 2 s */
	advance_ms(2000);
	assert_int_equal(s->reconnects, 2);
	assert_int_equal(loop_next_deadline_us(), fake_now + 4000000);   /* 4 s */

	/* Capped at 60 s. */
	uint64_t expect_ms[] = { 4000, 8000, 16000, 32000, 60000, 60000 };
	for (size_t i = 0; i < ARRAY_SIZE(expect_ms); i++) {
		assert_int_equal(loop_next_deadline_us(), fake_now + expect_ms[i] * 1000);
		advance_ms(expect_ms[i]);
	}
	assert_int_equal(s->reconnects, 8);
	assert_false(s->connected);

	/* The collector comes up: the next attempt connects and drains m3..m6. */
	uint16_t p2 = port;
	int lfd = listener(SOCK_STREAM, &p2);
	assert_int_equal(p2, port);
	advance_ms(60000);
	assert_int_equal(s->reconnects, 9);
	assert_true(s->connected);
	for (int i = 0; i < 50 && s->queued; i++)
		loop_run_once(10);
	assert_int_equal(s->queued, 0);
	assert_int_equal(s->sent, 4);
	int cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	const char want[] = "2 m32 m42 m52 m6";
	char buf[sizeof(want)] = { 0 };
	read_exact(cfd, buf, sizeof(want) - 1);
	assert_string_equal(buf, want);

	/* The collector goes away: seen as lost, retried after 1 s again. */
	close(cfd);
	close(lfd);
	for (int i = 0; i < 50 && s->connected; i++)
		loop_run_once(10);
	assert_false(s->connected);
	assert_int_equal(loop_next_deadline_us(), fake_now + 1000000);
	assert_int_equal(s->dropped, 2);
	syslog_tx_free(t);
	assert_int_equal(loop_timer_count(), 0);
}

/* A collector that accepts and never reads: sends never block, the queue
 * fills and drops its oldest. */
static void test_peer_never_reads(void **state)
{
	(void)state;
	uint16_t port = 0;
	int lfd = listener(SOCK_STREAM, &port);
	struct cfg_collector c = coll(CFG_TRANSPORT_TCP, port, 16);
	struct syslog_tx *t = syslog_tx_new(&c);
	assert_non_null(t);
	assert_true(run_until(t, is_connected, 0));
	int cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	int small = 4096;
	setsockopt(cfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));

	size_t len = 60000;
	char *m = malloc(len);
	assert_non_null(m);
	memset(m, 'y', len);
	const struct syslog_tx_stats *s = syslog_tx_stats(t);
	int n = 2000;   /* 120 MB: far beyond any socket buffers */
	for (int i = 0; i < n; i++) {
		syslog_tx_send(t, m, len);
		loop_run_once(0);
	}
	for (int i = 0; i < 20; i++)
		loop_run_once(10);
	/* The socket buffers are full by now: the next ones stay queued. */
	for (int i = 0; i < 100; i++)
		syslog_tx_send(t, m, len);
	n += 100;
	for (int i = 0; i < 20; i++)
		loop_run_once(10);
	assert_true(s->connected);
	assert_true(s->queued == 16 || s->queued == 16 + 1);   /* plus maybe a frame in flight */
	assert_true(s->dropped_queue >= 100 - 17);
	assert_true(s->sent < 200);
	assert_int_equal(s->sent + s->dropped + s->queued, (uint64_t)n);
	free(m);
	syslog_tx_free(t);
	close(cfd);
	close(lfd);
}

static void test_local_unix(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_syslog_tx.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[sizeof(dir) + 8];
	snprintf(path, sizeof(path), "%s/log", dir);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);

	/* Nobody there yet: dropped and counted. */
	struct syslog_tx *t = syslog_tx_new_unix(path, 4);
	assert_non_null(t);
	syslog_tx_send(t, "<14>lost", 8);
	for (int i = 0; i < 5; i++)
		loop_run_once(10);
	const struct syslog_tx_stats *s = syslog_tx_stats(t);
	assert_int_equal(s->dropped_error, 1);
	assert_false(s->connected);

	int srv = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(bind(srv, (struct sockaddr *)&a, sizeof(a)), 0);
	syslog_tx_send(t, "<14>hello", 9);
	assert_true(run_until(t, queue_empty, 0));
	char buf[64];
	ssize_t n = recv(srv, buf, sizeof(buf), 0);
	assert_int_equal(n, 9);
	assert_memory_equal(buf, "<14>hello", 9);
	assert_int_equal(s->sent, 1);
	assert_true(s->connected);
	syslog_tx_free(t);
	close(srv);
	unlink(path);
	rmdir(dir);
}

/* ---- TLS: an in-process server with a self-signed certificate ----------- */

static X509 *self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
	assert_non_null(e);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

/* Steps the server handshake and the client's loop until done. */
static void tls_pump(SSL *srv, const struct syslog_tx_stats *s)
{
	int done = 0;
	for (int i = 0; i < 500 && !(done && s->connected); i++) {
		if (!done) {
			int r = SSL_accept(srv);
			if (r == 1)
				done = 1;
			else
				assert_true(SSL_get_error(srv, r) == SSL_ERROR_WANT_READ ||
					    SSL_get_error(srv, r) == SSL_ERROR_WANT_WRITE);
		}
		loop_run_once(10);
	}
	assert_true(done);
	assert_true(s->connected);
}

static void test_tls_framing(void **state)
{
	(void)state;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	assert_non_null(key);
	X509 *cert = self_signed(key);
	char ca[] = "/tmp/test_syslog_tx_ca.XXXXXX";
	int cafd = mkstemp(ca);
	assert_true(cafd >= 0);
	FILE *f = fdopen(cafd, "w");
	assert_non_null(f);
	PEM_write_X509(f, cert);
	fclose(f);

	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
	assert_int_equal(SSL_CTX_use_certificate(sctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sctx, key), 1);

	uint16_t port = 0;
	int lfd = listener(SOCK_STREAM, &port);
	struct cfg_collector c = coll(CFG_TRANSPORT_TLS, port, 8);
	c.ca_file = ca;
	struct syslog_tx *t = syslog_tx_new(&c);
	assert_non_null(t);
	syslog_tx_send(t, "<13>1 - - app - - - over tls", 28);
	for (int i = 0; i < 10; i++)
		loop_run_once(10);
	int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(cfd >= 0);
	SSL *srv = SSL_new(sctx);
	SSL_set_fd(srv, cfd);
	const struct syslog_tx_stats *s = syslog_tx_stats(t);
	tls_pump(srv, s);
	syslog_tx_send(t, "second", 6);
	assert_true(run_until(t, sent_at_least, 2));

	const char want[] = "28 <13>1 - - app - - - over tls6 second";
	char buf[sizeof(want)] = { 0 };
	size_t got = 0;
	for (int i = 0; i < 500 && got < sizeof(want) - 1; i++) {
		size_t n = 0;
		if (SSL_read_ex(srv, buf + got, sizeof(want) - 1 - got, &n) == 1)
			got += n;
		else
			loop_run_once(10);
	}
	assert_string_equal(buf, want);
	assert_int_equal(s->sent, 2);

	/* The collector closes: seen as lost, a retry is scheduled. */
	SSL_shutdown(srv);
	SSL_free(srv);
	close(cfd);
	for (int i = 0; i < 50 && s->connected; i++)
		loop_run_once(10);
	assert_false(s->connected);
	assert_int_equal(loop_timer_count(), 1);

	syslog_tx_free(t);
	close(lfd);
	SSL_CTX_free(sctx);
	X509_free(cert);
	EVP_PKEY_free(key);
	unlink(ca);
}

static void test_bad_config(void **state)
{
	(void)state;
	struct cfg_collector c = coll(CFG_TRANSPORT_TLS, 6514, 4);
	assert_null(syslog_tx_new(&c));              /* TLS without a CA file */
	c.ca_file = "/nonexistent/ca.pem";
	assert_null(syslog_tx_new(&c));
	c = coll(CFG_TRANSPORT_UDP, 0, 4);
	assert_null(syslog_tx_new(&c));
	c = coll(CFG_TRANSPORT_UDP, 514, 0);
	assert_null(syslog_tx_new(&c));
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_init("test_syslog_tx");
	log_set_level(LOG_CRIT);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_udp_datagrams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overflow_drops_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_never_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_unix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	log_fini();
	return rc;
}
