/* SPDX-License-Identifier: BSD-2-Clause */
/* test_vici.c: the VICI codec (round trips, hostile input, paths), the
 * parsed list-sas shape, and the client against a fake charon on a unix
 * socket in a temp dir, driven by the real loop (timeouts on a fake clock). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/monitor/vici.h"
#include "core/loop.h"
#include "core/log.h"

/* ---- helpers ---- */

static struct vici_msg *sample_msg(void)
{
	static const uint8_t bin[] = { 0x00, 0xff, 0x10, 0x00 };
	struct vici_msg *m = vici_msg_new();
	vici_kv_str(m, "top", "1");
	vici_section_begin(m, "ike1");
	vici_kv_str(m, "uniqueid", "7");
	vici_kv(m, "empty", "", 0);
	vici_kv(m, "bin", bin, sizeof(bin));
	vici_list_begin(m, "local-ts");
	vici_list_item_str(m, "10.0.0.0/24");
	vici_list_item(m, "", 0);
	vici_list_end(m);
	vici_section_begin(m, "child-sas");
	vici_section_begin(m, "net-3");
	vici_kv_str(m, "bytes-in", "18446744073709551615");
	vici_section_end(m);
	vici_section_end(m);
	vici_list_begin(m, "empty-list");
	vici_list_end(m);
	vici_section_end(m);
	return m;
}

static uint8_t *encode(const struct vici_msg *m, size_t *len)
{
	uint8_t *buf = NULL;
	const char *why = NULL;
	assert_int_equal(vici_msg_encode(m, &buf, len, &why), 0);
	return buf;
}

static int parse_ok(const uint8_t *buf, size_t len)
{
	struct vici_msg *m = NULL;
	const char *why = NULL;
	int rc = vici_msg_parse(buf, len, &m, &why);
	if (rc == 0)
		vici_msg_free(m);
	else
		assert_non_null(why);
	return rc;
}

/* ---- codec ---- */

static void test_round_trip(void **state)
{
	(void)state;
	struct vici_msg *m = sample_msg(), *p = NULL;
	size_t len, len2;
	uint8_t *buf = encode(m, &len), *buf2;
	const char *why = NULL;

	assert_int_equal(vici_msg_parse(buf, len, &p, &why), 0);
	buf2 = encode(p, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	assert_int_equal(vici_msg_count(p), vici_msg_count(m));

	size_t vlen;
	const uint8_t *v = vici_value(p, vici_find(p, 0, "ike1/bin"), &vlen);
	assert_non_null(v);
	assert_int_equal(vlen, 4);
	assert_int_equal(v[1], 0xff);
	assert_null(vici_get_str(p, 0, "ike1/bin")); /* holds a NUL */
	assert_string_equal(vici_get_str(p, 0, "ike1/empty"), "");
	int l = vici_find(p, 0, "ike1/local-ts");
	assert_int_equal(vici_kind(p, l), VICI_NODE_LIST);
	int it = vici_first(p, l);
	assert_string_equal(vici_str(p, it), "10.0.0.0/24");
	it = vici_next(p, it);
	assert_string_equal(vici_str(p, it), "");
	assert_int_equal(vici_next(p, it), -1);
	assert_int_equal(vici_first(p, vici_find(p, 0, "ike1/empty-list")), -1);
	free(buf);
	free(buf2);
	vici_msg_free(m);
	vici_msg_free(p);
}

static void test_empty_message(void **state)
{
	(void)state;
	struct vici_msg *m = vici_msg_new(), *p = NULL;
	size_t len = 99;
	uint8_t *buf = encode(m, &len);
	assert_int_equal(len, 0);
	assert_int_equal(vici_msg_parse(buf, 0, &p, NULL), 0);
	assert_int_equal(vici_first(p, 0), -1);
	free(buf);
	vici_msg_free(m);
	vici_msg_free(p);
}

static void test_paths_and_numbers(void **state)
{
	(void)state;
	struct vici_msg *m = sample_msg();
	uint64_t u;
	int64_t s;
	uint32_t h;

	assert_int_equal(vici_get_u64(m, 0, "ike1/child-sas/net-3/bytes-in", &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(vici_get_u64(m, 0, "top", &u), 0);
	assert_int_equal(u, 1);
	assert_int_equal(vici_find(m, 0, "ike1/nope"), -1);
	assert_int_equal(vici_find(m, 0, "ike1//uniqueid"), -1);
	assert_int_equal(vici_find(m, 0, "/ike1"), -1);
	assert_int_equal(vici_find(m, 0, ""), -1);
	assert_int_equal(vici_find(m, 0, "top/x"), -1);
	assert_int_equal(vici_find(m, 12345, "top"), -1);
	assert_int_equal(vici_kind(m, -1), -1);
	assert_null(vici_name(m, 9999));
	int ike = vici_find(m, 0, "ike1");
	assert_int_equal(vici_get_i64(m, ike, "uniqueid", &s), 0);
	assert_int_equal(s, 7);
	assert_int_equal(vici_get_u64(m, ike, "empty", &u), -1);
	assert_int_equal(vici_get_u64(m, ike, "local-ts", &u), -1);

	struct vici_msg *n = vici_msg_new();
	vici_kv_str(n, "neg", "-42");
	vici_kv_str(n, "over", "18446744073709551616");
	vici_kv_str(n, "sp", " 1");
	vici_kv_str(n, "min", "-9223372036854775808");
	vici_kv_str(n, "imax", "9223372036854775808");
	vici_kv_str(n, "spi", "c1a2b3d4");
	vici_kv_str(n, "spi9", "123456789");
	assert_int_equal(vici_get_i64(n, 0, "neg", &s), 0);
	assert_int_equal(s, -42);
	assert_int_equal(vici_get_u64(n, 0, "neg", &u), -1);
	assert_int_equal(vici_get_u64(n, 0, "over", &u), -1);
	assert_int_equal(vici_get_u64(n, 0, "sp", &u), -1);
	assert_int_equal(vici_get_i64(n, 0, "min", &s), 0);
	assert_true(s == INT64_MIN);
	assert_int_equal(vici_get_i64(n, 0, "imax", &s), -1);
	assert_int_equal(vici_hex32(n, vici_child(n, 0, "spi"), &h), 0);
	assert_true(h == 0xc1a2b3d4u);
	assert_int_equal(vici_hex32(n, vici_child(n, 0, "spi9"), &h), -1);
	vici_msg_free(n);
	vici_msg_free(m);
}

static void test_builder_misuse(void **state)
{
	(void)state;
	uint8_t *buf;
	size_t len;
	const char *why = NULL;
	char big[300];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';

	struct vici_msg *m = vici_msg_new();
	vici_section_end(m);
	assert_non_null(vici_msg_error(m));
	assert_int_equal(vici_msg_encode(m, &buf, &len, &why), -1);
	vici_msg_free(m);

	m = vici_msg_new();
	vici_section_begin(m, "open");
	assert_int_equal(vici_msg_encode(m, &buf, &len, &why), -1);
	vici_msg_free(m);

	m = vici_msg_new();
	vici_kv_str(m, big, "x");
	assert_non_null(vici_msg_error(m));
	vici_msg_free(m);

	m = vici_msg_new();
	vici_kv_str(m, "", "x");
	assert_non_null(vici_msg_error(m));
	vici_msg_free(m);

	m = vici_msg_new();
	vici_list_item_str(m, "x");
	assert_non_null(vici_msg_error(m));
	vici_msg_free(m);

	m = vici_msg_new();
	for (int i = 0; i < VICI_DEPTH_MAX + 1; i++)
		vici_section_begin(m, "s");
	assert_non_null(vici_msg_error(m));
	vici_msg_free(m);

	m = vici_msg_new();
	char *v = calloc(1, VICI_VALUE_MAX + 1);
	vici_kv(m, "v", v, VICI_VALUE_MAX + 1);
	assert_non_null(vici_msg_error(m));
	free(v);
	vici_msg_free(m);
}

/* Wrapped in one section so that every strict prefix is incomplete. */
static void test_truncations(void **state)
{
	(void)state;
	struct vici_msg *m = vici_msg_new();
	vici_section_begin(m, "wrap");
	vici_msg_free(NULL);
	vici_kv_str(m, "a", "b");
	vici_list_begin(m, "l");
	vici_list_item_str(m, "x");
	vici_list_end(m);
	vici_section_begin(m, "in");
	vici_kv(m, "e", "", 0);
	vici_section_end(m);
	vici_section_end(m);
	size_t len;
	uint8_t *buf = encode(m, &len);

	assert_int_equal(parse_ok(buf, len), 0);
	for (size_t i = 1; i < len; i++) {
		uint8_t *cut = malloc(i); /* exact size: ASan sees overreads */
		memcpy(cut, buf, i);
		assert_int_equal(parse_ok(cut, i), -1);
		free(cut);
	}

	uint8_t *pkt;
	size_t plen, used;
	struct vici_packet p;
	const char *why = NULL;
	assert_int_equal(vici_packet_build(VICI_EVENT, "list-sa", m, &pkt, &plen, &why), 0);
	assert_int_equal(vici_packet_split(pkt, plen, &p, &used, &why), 1);
	assert_int_equal(used, plen);
	assert_string_equal(p.name, "list-sa");
	assert_int_equal(p.body_len, len);
	for (size_t i = 0; i < plen; i++) {
		uint8_t *cut = malloc(i ? i : 1);
		memcpy(cut, pkt, i);
		assert_int_equal(vici_packet_split(cut, i, &p, &used, &why), 0);
		/* Same bytes, length header claiming only i - 4: must fail to parse. */
		if (i > VICI_HDR_LEN &&
		    vici_packet_parse(cut + VICI_HDR_LEN, i - VICI_HDR_LEN, &p, &why) == 0 &&
		    p.body_len > 0)
			assert_int_equal(parse_ok(p.body, p.body_len), -1);
		free(cut);
	}
	free(pkt);
	free(buf);
	vici_msg_free(m);
}

static void test_bad_input(void **state)
{
	(void)state;
	static const uint8_t end_at_root[] = { 2 };
	static const uint8_t item_outside[] = { 5, 0, 1, 'x' };
	static const uint8_t kv_in_list[] = { 4, 1, 'l', 3, 1, 'k', 0, 0, 6 };
	static const uint8_t sec_in_list[] = { 4, 1, 'l', 1, 1, 's', 2, 6 };
	static const uint8_t unclosed_list[] = { 4, 1, 'l', 5, 0, 0 };
	static const uint8_t unclosed_sec[] = { 1, 1, 's', 3, 1, 'k', 0, 0 };
	static const uint8_t list_end_outside[] = { 6 };
	static const uint8_t bad_type[] = { 9 };
	static const uint8_t zero_type[] = { 0 };
	static const uint8_t empty_name[] = { 3, 0, 0, 0 };
	static const uint8_t nul_name[] = { 3, 2, 'a', 0, 0, 0 };
	static const uint8_t long_value[] = { 3, 1, 'k', 0xff, 0xff, 'x' };
	static const uint8_t ok[] = { 1, 1, 's', 4, 1, 'l', 5, 0, 0, 6, 2 };
	assert_int_equal(parse_ok(ok, sizeof(ok)), 0);
	assert_int_equal(parse_ok(end_at_root, sizeof(end_at_root)), -1);
	assert_int_equal(parse_ok(item_outside, sizeof(item_outside)), -1);
	assert_int_equal(parse_ok(kv_in_list, sizeof(kv_in_list)), -1);
	assert_int_equal(parse_ok(sec_in_list, sizeof(sec_in_list)), -1);
	assert_int_equal(parse_ok(unclosed_list, sizeof(unclosed_list)), -1);
	assert_int_equal(parse_ok(unclosed_sec, sizeof(unclosed_sec)), -1);
	assert_int_equal(parse_ok(list_end_outside, sizeof(list_end_outside)), -1);
	assert_int_equal(parse_ok(bad_type, sizeof(bad_type)), -1);
	assert_int_equal(parse_ok(zero_type, sizeof(zero_type)), -1);
	assert_int_equal(parse_ok(empty_name, sizeof(empty_name)), -1);
	assert_int_equal(parse_ok(nul_name, sizeof(nul_name)), -1);
	assert_int_equal(parse_ok(long_value, sizeof(long_value)), -1);

	/* Nesting: 16 deep is fine, 17 is not. */
	uint8_t deep[17 * 4];
	for (int d = 16; d <= 17; d++) {
		size_t n = 0;
		for (int i = 0; i < d; i++) {
			deep[n++] = 1;
			deep[n++] = 1;
			deep[n++] = 's';
		}
		for (int i = 0; i < d; i++)
			deep[n++] = 2;
		assert_int_equal(parse_ok(deep, n), d <= VICI_DEPTH_MAX ? 0 : -1);
	}

	/* Element count bound: a list of 100000 empty items (plus the list
	 * and root: over the limit). */
	size_t n = 3 + (size_t)VICI_ELEMS_MAX * 3 + 1, k = 0;
	uint8_t *many = calloc(1, n);
	many[k++] = 4;
	many[k++] = 1;
	many[k++] = 'l';
	for (int i = 0; i < VICI_ELEMS_MAX; i++) {
		many[k++] = 5;
		many[k++] = 0;
		many[k++] = 0;
	}
	many[k++] = 6;
	assert_int_equal(parse_ok(many, n), -1);
	assert_int_equal(parse_ok(many, n - 3 * 2 - 1), -1);  /* unclosed */
	many[n - 3 * 2 - 1] = 6;  /* 99998 items: fits */
	assert_int_equal(parse_ok(many, n - 3 * 2), 0);
	free(many);

	/* Framing. */
	static const uint8_t big_hdr[] = { 0, 8, 0, 1, 1 };
	static const uint8_t zero_hdr[] = { 0, 0, 0, 0 };
	static const uint8_t bad_op[] = { 0, 0, 0, 1, 8 };
	static const uint8_t no_name[] = { 0, 0, 0, 1, VICI_EVENT };
	static const uint8_t short_name[] = { 0, 0, 0, 3, VICI_EVENT, 5, 'a' };
	static const uint8_t max_hdr[] = { 0, 8, 0, 0 };
	struct vici_packet p;
	size_t used, len;
	const char *why;
	assert_int_equal(vici_packet_split(big_hdr, sizeof(big_hdr), &p, &used, &why), -1);
	assert_int_equal(vici_packet_split(zero_hdr, sizeof(zero_hdr), &p, &used, &why), -1);
	assert_int_equal(vici_packet_split(bad_op, sizeof(bad_op), &p, &used, &why), -1);
	assert_int_equal(vici_packet_split(no_name, sizeof(no_name), &p, &used, &why), -1);
	assert_int_equal(vici_packet_split(short_name, sizeof(short_name), &p, &used, &why), -1);
	assert_int_equal(vici_frame_len(max_hdr, &len, &why), 0);
	assert_int_equal(len, VICI_MSG_MAX);
}

static void test_sa_list(void **state)
{
	(void)state;
	struct vici_msg *m = vici_msg_new();
	vici_kv_str(m, "up", "yes");
	vici_section_begin(m, "gw");
	vici_kv_str(m, "uniqueid", "3");
	vici_kv_str(m, "state", "ESTABLISHED");
	vici_kv_str(m, "local-host", "192.0.2.1");
	vici_kv_str(m, "remote-host", "192.0.2.2");
	vici_kv_str(m, "established", "12");
	vici_kv_str(m, "rekey-time", "-3");
	vici_section_begin(m, "child-sas");
	vici_section_begin(m, "net-5");
	vici_kv_str(m, "name", "net");
	vici_kv_str(m, "uniqueid", "5");
	vici_kv_str(m, "state", "INSTALLED");
	vici_kv_str(m, "spi-in", "c0ffee01");
	vici_kv_str(m, "spi-out", "0000abcd");
	vici_kv_str(m, "bytes-in", "100");
	vici_kv_str(m, "packets-in", "2");
	vici_kv_str(m, "bytes-out", "200");
	vici_kv_str(m, "packets-out", "3");
	vici_kv_str(m, "rekey-time", "3000");
	vici_kv_str(m, "life-time", "3300");
	vici_kv_str(m, "install-time", "60");
	vici_section_end(m);
	vici_section_begin(m, "other-6");
	vici_kv_str(m, "name", "other");
	vici_kv_str(m, "uniqueid", "banana");
	vici_section_end(m);
	vici_section_end(m);
	vici_section_end(m);

	struct vici_sa_list l = { 0 };
	assert_int_equal(vici_sa_list_add(&l, m, NULL), 0);
	assert_int_equal(l.n, 1);
	const struct vici_ike_sa *s = vici_sa_list_find(&l, "gw");
	assert_non_null(s);
	assert_int_equal(s->uniqueid, 3);
	assert_string_equal(s->remote_host, "192.0.2.2");
	assert_int_equal(s->rekey_time, -3);
	assert_true(s->has & VICI_HAS_ESTABLISHED);
	assert_false(s->has & VICI_HAS_REAUTH);
	assert_int_equal(s->nchild, 2);
	const struct vici_child_sa *c = vici_ike_sa_child(s, "net");
	assert_non_null(c);
	assert_string_equal(c->key, "net-5");
	assert_true(c->spi_in == 0xc0ffee01u);
	assert_int_equal(c->spi_out, 0xabcd);
	assert_int_equal(c->bytes_out, 200);
	assert_int_equal(c->packets_out, 3);
	assert_int_equal(c->life_time, 3300);
	assert_int_equal(c->has & (VICI_HAS_SPI | VICI_HAS_BYTES | VICI_HAS_INSTALL),
			 VICI_HAS_SPI | VICI_HAS_BYTES | VICI_HAS_INSTALL);
	c = vici_ike_sa_child(s, "other");
	assert_int_equal(c->has, 0);
	vici_sa_list_clear(&l);
	vici_msg_free(m);

	/* child-sas as a key/value: wrong shape. */
	m = vici_msg_new();
	vici_section_begin(m, "gw");
	vici_kv_str(m, "child-sas", "x");
	vici_section_end(m);
	assert_int_equal(vici_sa_list_add(&l, m, NULL), -1);
	assert_int_equal(l.n, 0);
	vici_msg_free(m);
}

/* ---- client against a fake charon ---- */

struct fake {
	char dir[64], path[128];
	int lfd, fd;
};

static struct fake F;
static uint64_t fake_now;
static uint64_t fake_clock(void) { return fake_now; }

static int fake_setup(void **state)
{
	(void)state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	assert_int_equal(loop_init(), 0);
	snprintf(F.dir, sizeof(F.dir), "%s", "/tmp/test_vici.XXXXXX");
	assert_non_null(mkdtemp(F.dir));
	snprintf(F.path, sizeof(F.path), "%s/charon.vici", F.dir);
	str_copy(sa.sun_path, F.path, sizeof(sa.sun_path));
	F.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(F.lfd >= 0);
	assert_int_equal(bind(F.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(F.lfd, 4), 0);
	F.fd = -1;
	return 0;
}

static int fake_teardown(void **state)
{
	(void)state;
	if (F.fd >= 0)
		close(F.fd);
	close(F.lfd);
	unlink(F.path);
	rmdir(F.dir);
	loop_fini();
	loop_set_clock(NULL);
	return 0;
}

static void run(int rounds)
{
	for (int i = 0; i < rounds; i++)
		loop_run_once(5);
}

static void fake_accept(void)
{
	struct timeval tv = { .tv_sec = 2 };
	run(3);
	F.fd = accept(F.lfd, NULL, NULL);
	assert_true(F.fd >= 0);
	setsockopt(F.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EAGAIN) {
			run(1);
			continue;
		}
		assert_true(n > 0);
		got += (size_t)n;
	}
}

/* Reads one packet from the client; checks type and name. Returns the
 * parsed message (or NULL when it carries none). */
static struct vici_msg *fake_expect(uint8_t type, const char *name)
{
	uint8_t hdr[4], *buf;
	size_t len;
	struct vici_packet p;
	struct vici_msg *m = NULL;

	run(2);
	read_full(F.fd, hdr, 4);
	assert_int_equal(vici_frame_len(hdr, &len, NULL), 0);
	buf = malloc(len);
	read_full(F.fd, buf, len);
	assert_int_equal(vici_packet_parse(buf, len, &p, NULL), 0);
	assert_int_equal(p.type, type);
	assert_string_equal(p.name, name);
	if (type == VICI_CMD_REQUEST)
		assert_int_equal(vici_msg_parse(p.body, p.body_len, &m, NULL), 0);
	free(buf);
	return m;
}

static void fake_send(uint8_t type, const char *name, const struct vici_msg *m)
{
	uint8_t *pkt;
	size_t len;
	assert_int_equal(vici_packet_build(type, name, m, &pkt, &len, NULL), 0);
	assert_int_equal(write(F.fd, pkt, len), (ssize_t)len);
	free(pkt);
}

struct got {
	int calls, status, up, down, events;
	size_t nevents;
	char text[256];
};

static void on_reply(const struct vici_result *r, void *arg)
{
	struct got *g = arg;
	g->calls++;
	g->status = r->status;
	g->nevents = r->nevents;
	const char *s = r->reply ? vici_get_str(r->reply, 0, "version") : NULL;
	str_copy(g->text, s ? s : "", sizeof(g->text));
}

static void on_state(int up, void *arg)
{
	struct got *g = arg;
	if (up)
		g->up++;
	else
		g->down++;
}

static void on_event(const char *name, const struct vici_msg *m, void *arg)
{
	struct got *g = arg;
	struct vici_sa_list l = { 0 };
	g->events++;
	assert_string_equal(name, "child-updown");
	assert_int_equal(vici_sa_list_add(&l, m, NULL), 0);
	assert_int_equal(l.n, 1);
	str_copy(g->text, l.ike[0].child[0].name, sizeof(g->text));
	vici_sa_list_clear(&l);
}

static void test_client_request(void **state)
{
	(void)state;
	struct got st = { 0 }, g = { 0 }, u = { 0 };
	struct vici_conn *c = vici_connect(F.path, on_state, &st);
	assert_non_null(c);
	assert_int_equal(st.up, 0);  /* never from inside vici_connect */
	fake_accept();
	assert_int_equal(st.up, 1);
	assert_true(vici_connected(c));

	assert_int_equal(vici_request(c, "version", NULL, on_reply, &g), 0);
	assert_int_equal(vici_request(c, "nonsense", NULL, on_reply, &u), 0);
	vici_msg_free(fake_expect(VICI_CMD_REQUEST, "version"));
	struct vici_msg *r = vici_msg_new();
	vici_kv_str(r, "daemon", "charon");
	vici_kv_str(r, "version", "5.9.8");
	fake_send(VICI_CMD_RESPONSE, NULL, r);
	vici_msg_free(r);
	vici_msg_free(fake_expect(VICI_CMD_REQUEST, "nonsense"));
	fake_send(VICI_CMD_UNKNOWN, NULL, NULL);
	run(3);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, VICI_OK);
	assert_string_equal(g.text, "5.9.8");
	assert_int_equal(u.calls, 1);
	assert_int_equal(u.status, VICI_E_UNKNOWN);

	/* Pending at close: cancelled. */
	struct got p = { 0 };
	assert_int_equal(vici_request(c, "version", NULL, on_reply, &p), 0);
	vici_close(c);
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.status, VICI_E_CANCELLED);
}

static void on_sas(int status, const struct vici_sa_list *sas, void *arg)
{
	struct got *g = arg;
	g->calls++;
	g->status = status;
	if (sas) {
		g->nevents = sas->n;
		const struct vici_ike_sa *b = vici_sa_list_find(sas, "b");
		if (b && b->nchild)
			g->events = (int)b->child[0].bytes_in;
	}
}

static struct vici_msg *list_sa_event(const char *ike, const char *bytes)
{
	struct vici_msg *m = vici_msg_new();
	vici_section_begin(m, ike);
	vici_kv_str(m, "uniqueid", "1");
	vici_kv_str(m, "state", "ESTABLISHED");
	vici_section_begin(m, "child-sas");
	vici_section_begin(m, "net-1");
	vici_kv_str(m, "name", "net");
	vici_kv_str(m, "bytes-in", bytes);
	vici_section_end(m);
	vici_section_end(m);
	vici_section_end(m);
	return m;
}

static void ctl_cb(int status, const char *errmsg, void *arg)
{
	struct got *g = arg;
	g->calls++;
	g->status = status;
	str_copy(g->text, errmsg ? errmsg : "", sizeof(g->text));
}

static void test_client_stream_and_events(void **state)
{
	(void)state;
	struct got g = { 0 }, ev = { 0 }, ctl = { 0 };
	struct vici_conn *c = vici_connect("unix://" "/nonexistent-dir/x", NULL, NULL);
	vici_close(c);
	assert_null(vici_connect("relative/path", NULL, NULL));

	c = vici_connect(F.path, NULL, NULL);
	assert_int_equal(vici_register(c, "child-updown", on_event, &ev), 0);
	fake_accept();
	fake_expect(VICI_EVENT_REGISTER, "child-updown");
	fake_send(VICI_EVENT_CONFIRM, NULL, NULL);

	assert_int_equal(vici_list_sas(c, NULL, on_sas, &g), 0);
	fake_expect(VICI_EVENT_REGISTER, "list-sa");
	fake_send(VICI_EVENT_CONFIRM, NULL, NULL);
	struct vici_msg *q = fake_expect(VICI_CMD_REQUEST, "list-sas");
	assert_string_equal(vici_get_str(q, 0, "noblock"), "yes");
	vici_msg_free(q);
	struct vici_msg *a = list_sa_event("a", "10"), *b = list_sa_event("b", "20");
	fake_send(VICI_EVENT, "list-sa", a);
	fake_send(VICI_EVENT, "child-updown", b); /* interleaved, not collected */
	fake_send(VICI_EVENT, "list-sa", b);
	struct vici_msg *empty = vici_msg_new();
	fake_send(VICI_CMD_RESPONSE, NULL, empty);
	run(3);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, VICI_OK);
	assert_int_equal(g.nevents, 2);
	assert_int_equal(g.events, 20);
	assert_int_equal(ev.events, 1);
	assert_string_equal(ev.text, "net");

	/* The stream event is registered once per connection. */
	memset(&g, 0, sizeof(g));
	assert_int_equal(vici_list_sas(c, "a", on_sas, &g), 0);
	vici_msg_free(fake_expect(VICI_CMD_REQUEST, "list-sas"));
	fake_send(VICI_CMD_RESPONSE, NULL, empty);
	run(3);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.nevents, 0);

	/* A control command answered success = no. */
	assert_int_equal(vici_initiate(c, "net", "gw", 5000, ctl_cb, &ctl), 0);
	q = fake_expect(VICI_CMD_REQUEST, "initiate");
	assert_string_equal(vici_get_str(q, 0, "child"), "net");
	assert_string_equal(vici_get_str(q, 0, "timeout"), "5000");
	vici_msg_free(q);
	struct vici_msg *no = vici_msg_new();
	vici_kv_str(no, "success", "no");
	vici_kv_str(no, "errmsg", "establishing CHILD_SA 'net' failed");
	fake_send(VICI_CMD_RESPONSE, NULL, no);
	run(3);
	assert_int_equal(ctl.status, VICI_E_FAILED);
	assert_string_equal(ctl.text, "establishing CHILD_SA 'net' failed");

	vici_msg_free(no);
	vici_msg_free(empty);
	vici_msg_free(a);
	vici_msg_free(b);
	vici_close(c);
}

static void test_client_server_closes(void **state)
{
	(void)state;
	struct got st = { 0 }, g = { 0 }, later = { 0 };
	struct vici_conn *c = vici_connect(F.path, on_state, &st);
	fake_accept();
	assert_int_equal(vici_request(c, "version", NULL, on_reply, &g), 0);
	vici_msg_free(fake_expect(VICI_CMD_REQUEST, "version"));
	assert_int_equal(vici_request(c, "stats", NULL, on_reply, &later), 0);

	/* Half a reply, then gone. */
	static const uint8_t half[] = { 0, 0, 0, 20, VICI_CMD_RESPONSE, 3, 1 };
	assert_int_equal(write(F.fd, half, sizeof(half)), (ssize_t)sizeof(half));
	close(F.fd);
	F.fd = -1;
	run(3);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, VICI_E_CLOSED);
	assert_int_equal(st.down, 1);
	assert_int_equal(later.calls, 0);  /* unsent: waits for the reconnect */

	/* Reconnects after the backoff and sends the queued request. */
	for (int i = 0; i < 100 && F.fd < 0; i++) {
		run(1);
		struct timeval tv = { .tv_sec = 2 };
		fd_set fds;
		FD_ZERO(&fds);
		FD_SET(F.lfd, &fds);
		struct timeval zero = { 0 };
		if (select(F.lfd + 1, &fds, NULL, NULL, &zero) > 0) {
			F.fd = accept(F.lfd, NULL, NULL);
			setsockopt(F.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
	}
	assert_true(F.fd >= 0);
	vici_msg_free(fake_expect(VICI_CMD_REQUEST, "stats"));
	assert_int_equal(st.up, 2);

	/* A garbage reply: protocol error, connection dropped. */
	static const uint8_t junk[] = { 0, 0, 0, 2, VICI_CMD_RESPONSE, 9 };
	assert_int_equal(write(F.fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	run(3);
	assert_int_equal(later.calls, 1);
	assert_int_equal(later.status, VICI_E_CLOSED);
	assert_int_equal(st.down, 2);
	vici_close(c);
}

static void test_client_timeout(void **state)
{
	(void)state;
	struct got st = { 0 }, g = { 0 }, w = { 0 };
	fake_now = 1000000;
	loop_set_clock(fake_clock);
	struct vici_conn *c = vici_connect(F.path, on_state, &st);
	fake_accept();
	vici_set_timeout(c, 10000);
	assert_int_equal(vici_request(c, "version", NULL, on_reply, &g), 0);
	fake_now += 5000000;
	assert_int_equal(vici_request(c, "stats", NULL, on_reply, &w), 0);
	vici_msg_free(fake_expect(VICI_CMD_REQUEST, "version"));
	fake_now += 4999999;
	loop_run_timers();
	assert_int_equal(g.calls, 0);
	fake_now += 1;
	loop_run_timers();
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.status, VICI_E_TIMEOUT);
	assert_int_equal(st.down, 1);  /* in flight: connection reset */
	assert_int_equal(w.calls, 0);
	fake_now += 5000000;           /* the queued one times out unsent */
	loop_run_timers();
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.status, VICI_E_TIMEOUT);
	vici_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_paths_and_numbers),
		cmocka_unit_test(test_builder_misuse),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_sa_list),
		cmocka_unit_test_setup_teardown(test_client_request, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_client_stream_and_events, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_client_server_closes, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_client_timeout, fake_setup, fake_teardown),
	};
	cmocka_set_message_output(CM_OUTPUT_TAP);
	log_set_level(getenv("VICI_DEBUG") ? LOG_DEBUG : LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
