/* SPDX-License-Identifier: BSD-2-Clause */
/* test_gks.c: the key server's rekey lifecycle with a fake clock.
 *
 * The server (core/gdoi/gks*.c) runs in this process on a loopback port with
 * the loop clock replaced, so a 3540 s rekey interval passes in a
 * moment. Members register for real (core/gdoi/gm.c: Main Mode and
 * GROUPKEY-PULL over loopback); then the test takes a member's socket
 * over: it binds the member's address and port itself, opens the pushes
 * with the KEK and server key the member received, and decides when (and
 * whether) to acknowledge. Events are captured from the bus. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cfg.h"
#include "core/crypto.h"
#include "core/ev.h"
#include "core/gdoi/gdoi_push.h"
#include "core/gdoi/gks.h"
#include "core/gdoi/gks_store.h"
#include "core/gdoi/gks_view.h"
#include "core/views/gks_json.h"
#include "core/gdoi/gm.h"
#include "core/gdoi/ike.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#define S 1000000ull

static uint64_t now_us;
static uint64_t fake_clock(void) { return now_us; }

static char dir[64];
static int port;
static const char *gks_extra = "";     /* more group_vpn_server settings, each ending in "," */

/* ---- events ------------------------------------------------------------------ */

#define MAX_EV 512
static struct event evs[MAX_EV];
static size_t n_evs;

static void on_event(const struct event *e, void *arg)
{
	(void)arg;
	if (n_evs < MAX_EV)
		evs[n_evs++] = *e;
}

static size_t count_ev(enum ev_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < n_evs; i++)
		n += evs[i].kind == k;
	return n;
}

static const struct event *last_ev(enum ev_kind k)
{
	for (size_t i = n_evs; i-- > 0;)
		if (evs[i].kind == k)
			return &evs[i];
	return NULL;
}

static const char *param(const struct event *e, const char *name)
{
	const char *v = e ? ev_get_param(e, name) : NULL;
	return v ? v : "";
}

/* ---- config ------------------------------------------------------------------- */

static int pick_port(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(sa);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &l);
	close(fd);
	return ntohs(sa.sin_port);
}

/* smc: the server_member_communication object's members, or NULL for none.
 * extra_sa: a second ipsec_sa. */
static struct cfg *make_cfg(const char *smc, long atd, long tek_life, int extra_sa)
{
	char path[128], text[4096], smc_obj[1024] = "";
	snprintf(path, sizeof(path), "%s/secrets.json", dir);
	const char *sec = "{ \"psk\": { \"k\": \"unit test group key\" } }";
	file_write_atomic(path, sec, strlen(sec), 0600);
	if (smc)
		snprintf(smc_obj, sizeof(smc_obj), "\"server_member_communication\": { %s },", smc);
	snprintf(text, sizeof(text),
		 "{ \"agent\": { \"state_dir\": \"%s\", \"secrets_file\": \"%s/secrets.json\" },"
		 "  \"snmp\": { \"enabled\": false }, \"web\": { \"enabled\": false },"
		 "  \"syslog\": { \"local\": false },"
		 "  \"group_vpn_server\": { \"listen\": \"127.0.0.1:%d\", %s"
		 "    \"ike_proposals\": [ { \"dh_group\": \"ecp-256\" } ],"
		 "    \"groups\": [ { \"name\": \"g1\", \"group_id\": 1, \"activation_time_delay\": %ld, %s"
		 "      \"ipsec_sa\": [ { \"name\": \"sa1\", \"lifetime_seconds\": %ld,"
		 "                      \"match\": { \"source\": \"10.1.0.0/16\", \"destination\": \"10.2.0.0/16\" } }%s ],"
		 "      \"members\": [ { \"address\": \"127.0.0.0/8\", \"psk\": \"k\" } ] } ] } }",
		 dir, dir, port, gks_extra, atd, smc_obj, tek_life,
		 extra_sa ? ", { \"name\": \"sa2\", \"match\": { \"source\": \"10.3.0.0/16\", \"destination\": \"10.4.0.0/16\" } }"
			  : "");
	struct cfg_errors errs;
	cfg_errors_init(&errs);
	snprintf(path, sizeof(path), "%s/gvpn-agent.json", dir);
	struct cfg *c = cfg_load_text(path, text, strlen(text), &errs);
	for (size_t i = 0; i < errs.n; i++)
		print_error("%s\n", errs.msg[i]);
	cfg_errors_free(&errs);
	assert_non_null(c);
	return c;
}

#define UNICAST(extra) "\"communication_type\": \"unicast\", \"encryption_algorithm\": \"aes-256-cbc\"," \
		       "\"sig_hash_algorithm\": \"sha-256\"" extra

/* ---- the loop --------------------------------------------------------------------- */

/* Runs socket events (real) without moving the fake clock. */
static void pump(int rounds)
{
	for (int i = 0; i < rounds; i++)
		loop_run_once(2);
}

/* Moves the clock to t, firing timers in order, with socket events in between. */
static void advance_to(uint64_t t)
{
	for (;;) {
		pump(3);
		uint64_t d = loop_next_deadline_us();
		if (d == UINT64_MAX || d > t)
			break;
		if (d > now_us)
			now_us = d;
		loop_run_timers();
	}
	now_us = t;
	loop_run_timers();
	pump(3);
}

/* ---- members ---------------------------------------------------------------------- */

struct tmember {
	int fd;
	struct sockaddr_in local;
	struct gdoi_kek kek;
	struct crypto_rsa *server_key;
	int sig_hash;
	uint8_t ack_key[GDOI_ACK_KEY_LEN];
	struct gdoi_id id;
	uint32_t seq;
	int done;
};

static void reg_done(struct gm *m, enum gm_result r, void *arg)
{
	(void)m;
	*(int *)arg = r == GM_REGISTERED ? 1 : -1;
}

/* A member of group 1 on 127.<host> (host: the low 24 bits) with the
 * server on loopback, one ECP-256 suite; callers change what they test. */
static void member_config(struct gm_config *mc, uint32_t host, const char *psk)
{
	memset(mc, 0, sizeof(*mc));
	mc->server.sin_family = AF_INET;
	mc->server.sin_port = htons((uint16_t)port);
	mc->server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	mc->local.sin_family = AF_INET;
	mc->local.sin_addr.s_addr = htonl(0x7f000000u | host);
	mc->group_id = 1;
	mc->psk = psk ? psk : "unit test group key";
	mc->props[0] = (struct ike_proposal){ CRYPTO_CIPHER_AES, 256, CRYPTO_HASH_SHA256, 19, 86400 };
	mc->n_props = 1;
	mc->timeout_ms = 60000;
	mc->retries = 2;
}

/* Registers from 127.0.0.<host> with gm, then takes its socket over. */
static void member_join(struct tmember *t, int host)
{
	memset(t, 0, sizeof(*t));
	struct gm_config mc;
	member_config(&mc, (uint32_t)host, NULL);
	int done = 0;
	struct gm *m = gm_new(&mc, reg_done, &done);
	assert_non_null(m);
	assert_int_equal(gm_start(m), 0);
	for (int i = 0; i < 2000 && !done; i++)
		loop_run_once(5);
	assert_int_equal(done, 1);
	const struct gdoi_sa *pol = gm_policy(m);
	const struct gdoi_kd *kd = gm_keys(m);
	const struct ike_sa *ike = gm_ike(m);
	memcpy(t->kek.spi, pol->kek.spi, 16);
	t->kek.cipher = pol->kek.alg == GDOI_KEK_ALG_AES ? CRYPTO_CIPHER_AES : CRYPTO_CIPHER_3DES;
	t->kek.key_bits = pol->kek.key_bits;
	t->sig_hash = CRYPTO_HASH_SHA256;
	for (size_t i = 0; i < kd->n; i++)
		if (kd->k[i].type == GDOI_KD_KEK) {
			memcpy(t->kek.key, kd->k[i].alg_key, kd->k[i].alg_key_len);
			t->kek.key_len = kd->k[i].alg_key_len;
			t->server_key = crypto_rsa_from_public_der(kd->k[i].sig_key, kd->k[i].sig_key_len);
		}
	assert_true(!pol->has_kek || t->server_key);
	assert_int_equal(gdoi_ack_key(ike->keys.skeyid_a, ike->keys.hash_len, ike->icky, ike->rcky, t->ack_key), 0);
	t->id = ike->id_local;
	t->seq = gm_seq(m);
	t->local = *gm_local(m);
	gm_free(m);
	t->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_int_equal(bind(t->fd, (struct sockaddr *)&t->local, sizeof(t->local)), 0);
}

static void member_leave(struct tmember *t)
{
	if (t->fd >= 0)
		close(t->fd);
	crypto_rsa_free(t->server_key);
	t->fd = -1;
	t->server_key = NULL;
}

/* Reads every datagram waiting; returns how many pushes opened (into
 * out[], at most max) and counts the raw datagrams in *raw. */
static size_t member_recv(struct tmember *t, struct gdoi_push *out, size_t max, size_t *raw)
{
	uint8_t buf[GDOI_MAX_MSG];
	size_t n = 0, r = 0;
	for (;;) {
		ssize_t got = recv(t->fd, buf, sizeof(buf), 0);
		if (got < 0)
			break;
		r++;
		struct gdoi_push p;
		if (gdoi_push_open(buf, (size_t)got, &t->kek, t->server_key, t->sig_hash, &p) == GDOI_PUSH_OK) {
			if (n < max)
				out[n++] = p;
			else
				gdoi_kd_wipe(&p.kd);
		}
	}
	if (raw)
		*raw = r;
	return n;
}

static void member_ack(struct tmember *t, uint32_t seq, const uint8_t *key)
{
	struct gdoi_buf b;
	gdoi_buf_init(&b);
	assert_int_equal(gdoi_ack_build(&b, t->kek.spi, seq, &t->id, key ? key : t->ack_key), 0);
	struct sockaddr_in srv = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_true(sendto(t->fd, b.data, b.len, 0, (struct sockaddr *)&srv, sizeof(srv)) > 0);
	gdoi_buf_free(&b);
}

/* Applies a rekey push's new KEK, as a member does. */
static void member_apply(struct tmember *t, const struct gdoi_push *p)
{
	t->seq = p->seq;
	if (!p->has_kd)
		return;
	for (size_t i = 0; i < p->kd.n; i++)
		if (p->kd.k[i].type == GDOI_KD_KEK) {
			memcpy(t->kek.spi, p->kd.k[i].spi, 16);
			memcpy(t->kek.key, p->kd.k[i].alg_key, p->kd.k[i].alg_key_len);
		}
}

/* ---- setup -------------------------------------------------------------------------- */

static struct cfg *cur;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_gks.XXXXXX");
	assert_non_null(mkdtemp(dir));
	port = pick_port();
	now_us = 1000 * S;
	loop_set_clock(fake_clock);
	assert_int_equal(loop_init(), 0);
	ev_init(256);
	ev_subscribe(on_event, NULL);
	n_evs = 0;
	cur = NULL;
	gks_extra = "";
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gks_fini();
	cfg_free(cur);
	ev_fini();
	loop_fini();
	loop_set_clock(NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void start(const char *smc, long atd, long tek_life, int extra)
{
	cur = make_cfg(smc, atd, tek_life, extra);
	assert_int_equal(gks_init(cur), 0);
}

static double group_num(const char *key)
{
	cJSON *j = gks_status_json();
	const cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "groups"), 0);
	const cJSON *v = cJSON_GetObjectItem(g, key);
	double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
	cJSON_Delete(j);
	return d;
}

/* ---- the schedule ------------------------------------------------------------------------ */

static void test_interval_formula(void **state)
{
	(void)state;
	assert_int_equal(gks_rekey_interval(3600, 15), 3540);
	assert_int_equal(gks_rekey_interval(600, 20), 520);
	assert_int_equal(gks_rekey_interval(300, 10), 260);
	assert_int_equal(gks_rekey_interval(86400, 900), 82800);
}

/* Defaults: KEK and TEK lifetimes 3600, ATD 15 -> a rekey every 3540 s. */
static void test_schedule_defaults(void **state)
{
	(void)state;
	start(UNICAST(""), 15, 3600, 0);
	uint64_t t0 = now_us;
	assert_int_equal((int)group_num("next_rekey"), 3540);
	advance_to(t0 + 3539 * S);
	assert_int_equal(count_ev(EV_REKEY_STARTED), 0);
	advance_to(t0 + 3540 * S);
	assert_int_equal(count_ev(EV_REKEY_STARTED), 1);
	const struct event *e = last_ev(EV_REKEY_STARTED);
	assert_string_equal(param(e, "reason"), "scheduled");
	/* SEQ counts every push: 11 heartbeats (every 300 s) came first. */
	assert_int_equal(count_ev(EV_HEARTBEAT_SENT), 11);
	assert_string_equal(param(e, "seq"), "12");
	assert_int_equal(count_ev(EV_KEK_REPLACED), 1);
	assert_int_equal(count_ev(EV_TEK_REPLACED), 1);
	/* The next one is another 3540 s later. */
	advance_to(t0 + 2 * 3540 * S - S);
	assert_int_equal(count_ev(EV_REKEY_STARTED), 1);
	advance_to(t0 + 2 * 3540 * S);
	assert_int_equal(count_ev(EV_REKEY_STARTED), 2);
	char want[16];
	snprintf(want, sizeof(want), "%zu", count_ev(EV_HEARTBEAT_SENT) + 2);
	assert_string_equal(param(last_ev(EV_REKEY_STARTED), "seq"), want);
}

/* KEK lifetime 600 and ATD 20 -> KEK every 520 s; TEK lifetime 1200 ->
 * TEK every 1120 s; each at its own time. */
static void test_schedule_other_values(void **state)
{
	(void)state;
	start(UNICAST(", \"lifetime_seconds\": 600"), 20, 1200, 0);
	uint64_t t0 = now_us;
	advance_to(t0 + 519 * S);
	assert_int_equal(count_ev(EV_KEK_REPLACED), 0);
	advance_to(t0 + 520 * S);
	assert_int_equal(count_ev(EV_KEK_REPLACED), 1);
	assert_int_equal(count_ev(EV_TEK_REPLACED), 0);
	advance_to(t0 + 1040 * S);
	assert_int_equal(count_ev(EV_KEK_REPLACED), 2);
	assert_int_equal(count_ev(EV_TEK_REPLACED), 0);
	advance_to(t0 + 1119 * S);
	assert_int_equal(count_ev(EV_TEK_REPLACED), 0);
	advance_to(t0 + 1120 * S);
	assert_int_equal(count_ev(EV_TEK_REPLACED), 1);
	assert_int_equal(count_ev(EV_REKEY_STARTED), 3);
}

/* Without server-member communication keys still rotate on schedule,
 * but nothing is pushed. */
static void test_schedule_without_smc(void **state)
{
	(void)state;
	start(NULL, 15, 600, 0);
	uint64_t t0 = now_us;
	advance_to(t0 + 540 * S);
	assert_int_equal(count_ev(EV_TEK_REPLACED), 1);
	assert_int_equal(count_ev(EV_REKEY_STARTED), 0);
	assert_int_equal(count_ev(EV_HEARTBEAT_SENT), 0);
}

/* ---- triggers --------------------------------------------------------------------------- */

static void test_membership_change_rekey(void **state)
{
	(void)state;
	start(UNICAST(", \"membership_rekey_delay\": 5"), 15, 3600, 0);
	struct tmember a;
	member_join(&a, 21);
	uint64_t t0 = now_us;
	assert_int_equal(count_ev(EV_MEMBER_REGISTERED), 1);
	advance_to(t0 + 4 * S);
	assert_int_equal(count_ev(EV_REKEY_STARTED), 0);
	advance_to(t0 + 5 * S);
	assert_int_equal(count_ev(EV_REKEY_STARTED), 1);
	assert_string_equal(param(last_ev(EV_REKEY_STARTED), "reason"), "membership-change");
	assert_string_equal(param(last_ev(EV_REKEY_STARTED), "targeted"), "1");
	struct gdoi_push p[4];
	size_t n = member_recv(&a, p, 4, NULL);
	assert_int_equal(n, 1);
	assert_true(p[0].has_kd);
	assert_int_equal(p[0].seq, 1);
	assert_int_equal(p[0].sa.kek.ack_requested, GDOI_ACK_REQUESTED_SHA256);
	gdoi_kd_wipe(&p[0].kd);
	member_leave(&a);
}

static void test_membership_rekey_off(void **state)
{
	(void)state;
	start(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	struct tmember a;
	member_join(&a, 22);
	advance_to(now_us + 60 * S);
	assert_int_equal(count_ev(EV_REKEY_STARTED), 0);
	member_leave(&a);
}

/* Joins that keep coming (one every 4 s, the delay is 5 s) postpone
 * the membership rekey only up to membership_rekey_max_delay (default
 * 6 x the delay: 30 s) after the first join; the next one waits for its
 * own quiet again. */
static void test_membership_rekey_not_postponed_forever(void **state)
{
	(void)state;
	start(UNICAST(", \"membership_rekey_delay\": 5"), 15, 3600, 0);
	struct tmember m[12];
	uint64_t t0 = now_us;
	for (int i = 0; i < 12; i++) {
		advance_to(t0 + (uint64_t)i * 4 * S);
		member_join(&m[i], 40 + i);
		if (now_us < t0 + 30 * S)
			assert_int_equal(count_ev(EV_REKEY_STARTED), 0);
	}
	/* Joined at 0, 4, ... 44 s: the rekey came at 30 s, between joins. */
	assert_int_equal(count_ev(EV_REKEY_STARTED), 1);
	assert_string_equal(param(last_ev(EV_REKEY_STARTED), "reason"), "membership-change");
	assert_string_equal(param(last_ev(EV_REKEY_STARTED), "targeted"), "8");
	advance_to(now_us + 5 * S);
	assert_int_equal(count_ev(EV_REKEY_STARTED), 2);
	assert_string_equal(param(last_ev(EV_REKEY_STARTED), "targeted"), "12");
	for (int i = 0; i < 12; i++)
		member_leave(&m[i]);
}

/* A policy added by a reload, then deleted: each time a rekey. */
static void test_policy_change_rekey(void **state)
{
	(void)state;
	start(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	struct tmember a;
	member_join(&a, 23);
	struct cfg *two = make_cfg(UNICAST(", \"membership_rekey\": false"), 15, 3600, 1);
	gks_reconfigure(two);
	cfg_free(cur);
	cur = two;
	assert_int_equal(count_ev(EV_REKEY_STARTED), 1);
	assert_string_equal(param(last_ev(EV_REKEY_STARTED), "reason"), "policy-change");
	struct gdoi_push p[4];
	assert_int_equal(member_recv(&a, p, 4, NULL), 1);
	assert_int_equal(p[0].sa.n_tek, 2);
	member_ack(&a, p[0].seq, NULL);
	pump(5);
	gdoi_kd_wipe(&p[0].kd);
	struct cfg *one = make_cfg(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	gks_reconfigure(one);
	cfg_free(cur);
	cur = one;
	assert_int_equal(count_ev(EV_REKEY_STARTED), 2);
	assert_int_equal(member_recv(&a, p, 4, NULL), 1);
	assert_int_equal(p[0].sa.n_tek, 1);
	gdoi_kd_wipe(&p[0].kd);
	/* A reload that changes nothing in the policies does not rekey. */
	struct cfg *same = make_cfg(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	gks_reconfigure(same);
	cfg_free(cur);
	cur = same;
	assert_int_equal(count_ev(EV_REKEY_STARTED), 2);
	member_leave(&a);
}

static void test_manual_rekey(void **state)
{
	(void)state;
	start(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	assert_int_equal(gks_rekey_group(7), -1);
	assert_int_equal(gks_rekey_group(1), 1);
	assert_string_equal(param(last_ev(EV_REKEY_STARTED), "reason"), "manual");
	/* No members: the round ends at once. */
	assert_int_equal(count_ev(EV_REKEY_SENT), 1);
	assert_string_equal(param(last_ev(EV_REKEY_SENT), "targeted"), "0");
}

/* ---- acknowledgements -------------------------------------------------------------------- */

static int fan_take(struct tmember *m, int from, int to, int ack)
{
	int got = 0;
	for (int i = from; i < to; i++) {
		struct gdoi_push p[4];
		size_t raw;
		size_t n = member_recv(&m[i], p, 4, &raw);
		got += (int)raw;
		for (size_t k = 0; k < n; k++) {
			if (ack)
				member_ack(&m[i], p[k].seq, NULL);
			gdoi_kd_wipe(&p[k].kd);
		}
	}
	return got;
}

/* The ACK window: batches of 4 to 12 members. Unacknowledged, the first
 * batch holds the next one back (100 ms later still 4 copies); their
 * ACKs open it; members that never answer hold it only 200 ms. */
static void test_fan_out_ack_window(void **state)
{
	enum { N = 12 };
	(void)state;
	start(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	struct tmember m[N];
	for (int i = 0; i < N; i++)
		member_join(&m[i], 90 + i);
	gks_set_fan_batch(4);
	assert_int_equal(gks_rekey_group(1), 1);
	int held = fan_take(m, 0, N, 0);   /* read, not acknowledged */
	assert_int_equal(held, 4);
	advance_to(now_us + 100 * 1000);
	assert_int_equal(fan_take(m, 0, N, 0), 0);
	/* 150 ms more without an ACK: past the stall limit, the next 4 go. */
	advance_to(now_us + 150 * 1000);
	assert_int_equal(fan_take(m, 0, N, 1), 4);
	/* Those 4 acknowledge at once: the last 4 follow without a stall. */
	advance_to(now_us + 5 * 1000);
	assert_int_equal(fan_take(m, 0, N, 1), 4);
	for (int i = 0; i < N; i++)
		member_leave(&m[i]);
}

/* Nobody acknowledges: batches of 4 go at 0, 0.2 and 0.4 s (the window
 * stalls); the retransmission period (10 s) counts from the last copy,
 * so nothing is resent at 10.1 s; from 10.4 s all 12 are (paced too). */
static void test_fan_out_retransmission_after_last_copy(void **state)
{
	enum { N = 12 };
	(void)state;
	start(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	struct tmember m[N];
	for (int i = 0; i < N; i++)
		member_join(&m[i], 110 + i);
	gks_set_fan_batch(4);
	uint64_t t0 = now_us;
	assert_int_equal(gks_rekey_group(1), 1);
	int got = 0;
	for (int k = 1; k <= 50; k++) {
		advance_to(t0 + (uint64_t)k * 10 * 1000);    /* to 0.5 s */
		got += fan_take(m, 0, N, 0);
	}
	assert_int_equal(got, N);
	advance_to(t0 + 10100 * 1000);
	assert_int_equal(fan_take(m, 0, N, 0), 0);
	assert_int_equal(count_ev(EV_REKEY_RETRANSMITTED), 0);
	for (int k = 1; k <= 110; k++) {   /* to 11.2 s: the resends are paced too */
		advance_to(t0 + 10100 * 1000 + (uint64_t)k * 10 * 1000);
		got += fan_take(m, 0, N, 0);
	}
	assert_int_equal(count_ev(EV_REKEY_RETRANSMITTED), 1);
	assert_int_equal(got, 2 * N);
	for (int i = 0; i < N; i++)
		member_leave(&m[i]);
}

/* Copies received by members [from, to) since the last call; ACKed when ack. */

/* Fan-out (issue 13, item 10): a unicast round goes out a batch at a
 * time with the loop (reading ACKs) in between, and keeps at most a batch
 * of ACKs outstanding: 10 members, batches of 3: three copies at once,
 * no more while they are not acknowledged, then the rest after three
 * pauses; each member gets exactly one copy, all ACK, nothing is
 * retransmitted. */
static void test_fan_out_in_batches(void **state)
{
	enum { N = 10 };
	(void)state;
	start(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	struct tmember m[N];
	for (int i = 0; i < N; i++)
		member_join(&m[i], 70 + i);
	gks_set_fan_batch(3);
	uint64_t pauses = gks_stats()->fan_pauses;
	assert_int_equal(gks_rekey_group(1), 1);
	/* Before the loop runs again: the first batch only. */
	struct gdoi_push p[4];
	int got[N] = { 0 }, first = 0;
	for (int i = 0; i < N; i++) {
		size_t raw;
		size_t n = member_recv(&m[i], p, 4, &raw);
		got[i] += (int)raw;
		first += (int)raw;
		for (size_t k = 0; k < n; k++) {
			member_ack(&m[i], p[k].seq, NULL);
			gdoi_kd_wipe(&p[k].kd);
		}
	}
	assert_int_equal(first, 3);
	/* Not acknowledged yet (the ACKs sit unread): the window is shut. */
	for (int round = 0; round < 10; round++) {
		advance_to(now_us + 2000);
		for (int i = 0; i < N; i++) {
			size_t raw;
			size_t n = member_recv(&m[i], p, 4, &raw);
			got[i] += (int)raw;
			for (size_t k = 0; k < n; k++) {
				member_ack(&m[i], p[k].seq, NULL);
				gdoi_kd_wipe(&p[k].kd);
			}
		}
	}
	pump(5);
	for (int i = 0; i < N; i++)
		assert_int_equal(got[i], 1);
	assert_int_equal(gks_stats()->fan_pauses - pauses, 3);
	assert_int_equal(count_ev(EV_REKEY_SENT), 1);
	assert_string_equal(param(last_ev(EV_REKEY_SENT), "targeted"), "10");
	assert_string_equal(param(last_ev(EV_REKEY_SENT), "acked"), "10");
	assert_int_equal(count_ev(EV_REKEY_RETRANSMITTED), 0);
	for (int i = 0; i < N; i++)
		member_leave(&m[i]);
}

static void test_ack_within_period(void **state)
{
	(void)state;
	start(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	struct tmember a;
	member_join(&a, 31);
	assert_int_equal(gks_rekey_group(1), 1);
	pump(3);
	struct gdoi_push p[4];
	assert_int_equal(member_recv(&a, p, 4, NULL), 1);
	member_ack(&a, p[0].seq, NULL);
	gdoi_kd_wipe(&p[0].kd);
	pump(5);
	assert_int_equal(count_ev(EV_REKEY_SENT), 1);
	const struct event *e = last_ev(EV_REKEY_SENT);
	assert_string_equal(param(e, "acked"), "1");
	assert_string_equal(param(e, "removed"), "0");
	assert_int_equal(count_ev(EV_REKEY_RETRANSMITTED), 0);
	cJSON *mj = gks_members_json(1);
	const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(mj, "members"), 0);
	assert_string_equal(cJSON_GetObjectItem(m0, "state")->valuestring, "active");
	assert_int_equal(cJSON_GetObjectItem(m0, "last_acked_seq")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(m0, "rekeys_acked")->valueint, 1);
	cJSON_Delete(mj);
	assert_int_equal(gks_stats()->acks, 1);
	/* Nothing is resent after the ACK. */
	advance_to(now_us + 60 * S);
	size_t raw;
	assert_int_equal(member_recv(&a, p, 4, &raw), 0);
	assert_int_equal(raw, 0);
	member_leave(&a);
}

static void test_ack_after_one_resend(void **state)
{
	(void)state;
	start(UNICAST(", \"membership_rekey\": false, \"retransmission_period\": 10"), 15, 3600, 0);
	struct tmember a;
	member_join(&a, 32);
	uint64_t t0 = now_us;
	gks_rekey_group(1);
	pump(3);
	struct gdoi_push p[4];
	assert_int_equal(member_recv(&a, p, 4, NULL), 1); /* lost, as far as the server knows */
	gdoi_kd_wipe(&p[0].kd);
	advance_to(t0 + 9 * S);
	assert_int_equal(member_recv(&a, p, 4, NULL), 0);
	advance_to(t0 + 10 * S);
	assert_int_equal(member_recv(&a, p, 4, NULL), 1);
	assert_int_equal(p[0].seq, 1);  /* the same message again */
	assert_int_equal(count_ev(EV_REKEY_RETRANSMITTED), 1);
	member_ack(&a, p[0].seq, NULL);
	gdoi_kd_wipe(&p[0].kd);
	pump(5);
	const struct event *e = last_ev(EV_REKEY_SENT);
	assert_non_null(e);
	assert_string_equal(param(e, "acked"), "1");
	assert_string_equal(param(e, "removed"), "0");
	assert_int_equal(gks_member_count(), 1);
	member_leave(&a);
}

/* number_of_retransmission 2: exactly 3 sends, then removed one period
 * after the last; no more pushes reach it. */
static void test_no_ack_removed(void **state)
{
	(void)state;
	start(UNICAST(", \"membership_rekey\": false, \"retransmission_period\": 10, \"number_of_retransmission\": 2"),
	      15, 3600, 0);
	struct tmember a, b;
	member_join(&a, 33);
	member_join(&b, 34);
	uint64_t t0 = now_us;
	gks_rekey_group(1);
	size_t copies = 0;
	struct gdoi_push p[4];
	for (int s = 0; s <= 40; s += 5) {
		advance_to(t0 + (uint64_t)s * S);
		size_t n = member_recv(&a, p, 4, NULL);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(p[i].seq, 1);
			gdoi_kd_wipe(&p[i].kd);
		}
		copies += n;
		n = member_recv(&b, p, 4, NULL); /* b acknowledges the first copy */
		for (size_t i = 0; i < n; i++) {
			member_ack(&b, p[i].seq, NULL);
			member_apply(&b, &p[i]);
			gdoi_kd_wipe(&p[i].kd);
		}
		if (s == 25)
			assert_int_equal(count_ev(EV_MEMBER_REMOVED), 0);
	}
	assert_int_equal(copies, 3);
	assert_int_equal(count_ev(EV_MEMBER_REMOVED), 1);
	const struct event *e = last_ev(EV_MEMBER_REMOVED);
	char want[32];
	snprintf(want, sizeof(want), "127.0.0.33:%u", ntohs(a.local.sin_port));
	assert_string_equal(param(e, "member"), want);
	assert_string_equal(param(e, "sends"), "3");
	e = last_ev(EV_REKEY_SENT);
	assert_string_equal(param(e, "targeted"), "2");
	assert_string_equal(param(e, "acked"), "1");
	assert_string_equal(param(e, "removed"), "1");
	assert_int_equal(gks_member_count(), 1);
	/* Removal is a membership change ... but that rekey is off here; a
	 * manual rekey reaches b only. */
	gks_rekey_group(1);
	pump(3);
	size_t raw;
	assert_int_equal(member_recv(&a, p, 4, &raw), 0);
	assert_int_equal(raw, 0);
	assert_int_equal(member_recv(&b, p, 4, NULL), 1);
	gdoi_kd_wipe(&p[0].kd);
	member_leave(&a);
	member_leave(&b);
}

static void test_bad_acks_dropped(void **state)
{
	(void)state;
	start(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	struct tmember a;
	member_join(&a, 35);
	gks_rekey_group(1);
	pump(3);
	struct gdoi_push p[2];
	assert_int_equal(member_recv(&a, p, 2, NULL), 1);
	gdoi_kd_wipe(&p[0].kd);
	uint8_t wrong[GDOI_ACK_KEY_LEN];
	memset(wrong, 0x5a, sizeof(wrong));
	member_ack(&a, 1, wrong);
	pump(5);
	assert_int_equal(gks_stats()->drop_ack_bad, 1);
	assert_int_equal(count_ev(EV_REKEY_SENT), 0);
	/* An ACK for a SEQ never sent to it (or SEQ 0) is dropped: it is
	 * not an acknowledgement of anything, and "last ACK" stays. */
	member_ack(&a, 9, NULL);
	member_ack(&a, 0, NULL);
	pump(5);
	assert_int_equal(gks_stats()->drop_ack_unknown, 2);
	assert_int_equal(gks_stats()->acks, 0);
	assert_int_equal(gks_stats()->acks_duplicate, 0);
	assert_int_equal(count_ev(EV_REKEY_SENT), 0);
	cJSON *mj = gks_members_json(1);
	const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(mj, "members"), 0);
	assert_int_equal(cJSON_GetObjectItem(m0, "last_acked_seq")->valueint, 0);
	cJSON_Delete(mj);
	member_ack(&a, 1, NULL);
	pump(5);
	assert_int_equal(count_ev(EV_REKEY_SENT), 1);
	member_leave(&a);
}

/* A rekey between GROUPKEY-PULL messages 2 and 4: message 4 carries the
 * keys message 2's SA named (with the SEQ of then), and the member gets
 * the rekey's push right after, joins the round and ACKs it. Without the
 * snapshot the member holds an SA whose keys it never got. */
static void registration_across_rekey(int kek_too)
{
	start(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	struct gm_config mc;
	member_config(&mc, 37, NULL);
	int done = 0, rekeyed = 0;
	struct gm *m = gm_new(&mc, reg_done, &done);
	assert_non_null(m);
	assert_int_equal(gm_start(m), 0);
	uint64_t answered = gks_stats()->pulls_answered;
	for (int i = 0; i < 4000 && !done; i++) {
		loop_run_once(1);
		if (!rekeyed && gks_stats()->pulls_answered > answered) {
			/* message 2 is out, message 3 not read yet */
			assert_int_equal(gks_rekey_group(1), 1);
			if (kek_too)
				assert_int_equal(gks_rekey_group(1), 2);
			rekeyed = 1;
		}
	}
	assert_int_equal(rekeyed, 1);
	if (kek_too) {
		/* Two rekeys in between: the KEK message 2 named is gone; the
		 * member is told (nothing inconsistent is sent) and may retry. */
		assert_int_equal(done, -1);
		assert_int_equal(gks_stats()->catch_ups, 0);
		assert_int_equal(gks_stats()->registrations, 0);
		gm_free(m);
		return;
	}
	assert_int_equal(done, 1);
	pump(10);
	assert_int_equal(gks_stats()->catch_ups, 1);
	const struct gm_stats *st = gm_stats(m);
	assert_int_equal(st->rejected_unknown_kek + st->rejected_sig + st->rejected_other, 0);
	assert_int_equal(st->rekeys, 1);
	assert_int_equal(gm_seq(m), 1);
	/* The TEK of the registration and the one of the push, both keyed. */
	assert_int_equal(gm_tek_count(m), 2);
	for (size_t i = 0; i < gm_tek_count(m); i++)
		assert_true(gm_tek_at(m, i)->enc_key_len > 0);
	/* The rekey's round had nobody to wait for; a catch-up round of that
	 * SEQ awaited this member, which acknowledged it. */
	assert_int_equal(count_ev(EV_REKEY_SENT), 2);
	const struct event *e = last_ev(EV_REKEY_SENT);
	assert_string_equal(param(e, "reason"), "catch-up");
	assert_string_equal(param(e, "seq"), "1");
	assert_string_equal(param(e, "targeted"), "1");
	assert_string_equal(param(e, "acked"), "1");
	assert_int_equal(count_ev(EV_MEMBER_REMOVED), 0);
	gm_free(m);
}

static void test_registration_across_rekey(void **state)
{
	(void)state;
	registration_across_rekey(0);
}

static void test_registration_across_two_rekeys(void **state)
{
	(void)state;
	registration_across_rekey(1);
}

/* "last ACK" starts empty at registration, whatever the group's SEQ. */
static void test_last_ack_starts_empty(void **state)
{
	(void)state;
	start(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	gks_rekey_group(1);
	gks_rekey_group(1);
	struct tmember a;
	member_join(&a, 36);
	cJSON *mj = gks_members_json(1);
	const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(mj, "members"), 0);
	assert_int_equal(cJSON_GetObjectItem(m0, "last_acked_seq")->valueint, 0);
	cJSON_Delete(mj);
	assert_int_equal(a.seq, 2);
	member_leave(&a);
}

/* ---- heartbeats and SEQ -------------------------------------------------------------------- */

/* A heartbeat never overtakes a unicast round: while it waits for ACKs
 * no push with a higher SEQ goes out, so a member that missed the first
 * copy accepts a retransmission and stays. */
static void test_heartbeat_waits_for_round(void **state)
{
	(void)state;
	start(UNICAST(", \"membership_rekey\": false, \"heartbeat\": 2, \"retransmission_period\": 10"),
	      15, 3600, 0);
	struct tmember a;
	member_join(&a, 42);
	uint64_t t0 = now_us;
	advance_to(t0 + 3 * S);
	struct gdoi_push p[8];
	size_t n = member_recv(&a, p, 8, NULL);
	assert_int_equal(n, 1);          /* the heartbeat at 2 s */
	member_apply(&a, &p[0]);
	uint32_t base = a.seq;
	size_t hb0 = count_ev(EV_HEARTBEAT_SENT);
	gks_rekey_group(1);
	pump(3);
	n = member_recv(&a, p, 8, NULL); /* the first copy: lost */
	assert_int_equal(n, 1);
	assert_int_equal(p[0].seq, base + 1);
	gdoi_kd_wipe(&p[0].kd);
	advance_to(now_us + 10 * S);
	n = member_recv(&a, p, 8, NULL);
	/* Only the retransmission came, with the round's SEQ: a member that
	 * saw nothing before accepts it. */
	assert_int_equal(n, 1);
	assert_int_equal(p[0].seq, base + 1);
	assert_true(p[0].has_kd);
	assert_int_equal(count_ev(EV_HEARTBEAT_SENT), hb0);
	assert_true(group_num("heartbeats_deferred") >= 4);
	member_ack(&a, p[0].seq, NULL);
	member_apply(&a, &p[0]);
	gdoi_kd_wipe(&p[0].kd);
	pump(5);
	assert_int_equal(count_ev(EV_MEMBER_REMOVED), 0);
	assert_string_equal(param(last_ev(EV_REKEY_SENT), "acked"), "1");
	/* After the round, heartbeats resume above its SEQ. */
	advance_to(now_us + 2 * S);
	n = member_recv(&a, p, 8, NULL);
	assert_true(n >= 1);
	assert_true(p[n - 1].seq > base + 1);
	assert_false(p[n - 1].has_kd);
	for (size_t i = 0; i < n; i++)
		gdoi_kd_wipe(&p[i].kd);
	member_leave(&a);
}



static void test_heartbeats(void **state)
{
	(void)state;
	start(UNICAST(", \"membership_rekey\": false, \"heartbeat\": 30"), 15, 3600, 0);
	struct tmember a;
	member_join(&a, 41);
	uint64_t t0 = now_us;
	struct gdoi_push p[4];
	advance_to(t0 + 29 * S);
	assert_int_equal(member_recv(&a, p, 4, NULL), 0);
	advance_to(t0 + 30 * S);
	assert_int_equal(member_recv(&a, p, 4, NULL), 1);
	assert_false(p[0].has_kd);
	assert_int_equal(p[0].sa.kek.ack_requested, 0);
	uint32_t s1 = p[0].seq;
	advance_to(t0 + 60 * S);
	assert_int_equal(member_recv(&a, p, 4, NULL), 1);
	assert_int_equal(p[0].seq, s1 + 1);
	/* Never retransmitted, never awaited: nobody is removed. */
	advance_to(t0 + 200 * S);
	assert_int_equal(count_ev(EV_MEMBER_REMOVED), 0);
	assert_int_equal(count_ev(EV_HEARTBEAT_SENT), 6);
	member_leave(&a);
}

/* SEQ survives a restart: the first push after it is above the last before. */
static void test_seq_persists(void **state)
{
	(void)state;
	start(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	gks_rekey_group(1);
	gks_rekey_group(1);
	assert_int_equal(gks_rekey_group(1), 3);
	gks_fini();
	struct stat st;
	char path[128];
	snprintf(path, sizeof(path), "%s/gks-seq.json", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
	assert_int_equal(gks_init(cur), 0);
	/* Up to the reservation saved before SEQ 1 (64) may have been used. */
	assert_int_equal(gks_rekey_group(1), 65);
	/* The same signing key is used again (kept in the state dir). */
	snprintf(path, sizeof(path), "%s/gks-signing-key.pem", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
}

/* A store of the test's own in place of the file one (gks_store.h):
 * the server reserves SEQ through it in blocks, hands it every group's
 * keys when they change, and takes the keys it holds back at start
 * while they are alive, as a cluster's shared store would. */
struct mem_store {
	struct gks_store base;
	uint32_t upto;                   /* group 1's reservation */
	unsigned reserves, saves, loads, closes;
	int has_keys;
	struct gks_keyset ks;            /* group 1's keys as last saved */
};

static struct mem_store *mem_of(struct gks_store *s) { return (struct mem_store *)s; }
static const char *mem_where(const struct gks_store *s) { (void)s; return "memory"; }

static int mem_seq_load(struct gks_store *s, long group_id, uint32_t *upto)
{
	*upto = group_id == 1 ? mem_of(s)->upto : 0;
	return 0;
}

static int mem_seq_reserve(struct gks_store *s, long group_id, uint32_t used, uint32_t block, uint32_t *first,
			   uint32_t *last)
{
	struct mem_store *m = mem_of(s);
	assert_int_equal(group_id, 1);
	m->reserves++;
	*first = (used > m->upto ? used : m->upto) + 1;
	*last = m->upto = *first + block - 1;
	return 0;
}

static int mem_keys_load(struct gks_store *s, long group_id, struct gks_keyset *out)
{
	struct mem_store *m = mem_of(s);
	m->loads++;
	if (group_id != 1 || !m->has_keys)
		return 0;
	*out = m->ks;
	return 1;
}

static int mem_keys_save(struct gks_store *s, long group_id, const struct gks_keyset *ks)
{
	struct mem_store *m = mem_of(s);
	if (group_id == 1) {
		m->ks = *ks;
		m->has_keys = 1;
		m->saves++;
	}
	return 0;
}

static void mem_close(struct gks_store *s) { mem_of(s)->closes++; }

static const struct gks_store_ops mem_ops = {
	"memory", mem_where, mem_seq_load, mem_seq_reserve, mem_keys_load, mem_keys_save, mem_close,
};

static void test_other_store(void **state)
{
	(void)state;
	static struct mem_store mem;
	memset(&mem, 0, sizeof(mem));
	mem.base.ops = &mem_ops;
	mem.upto = 100;                  /* another server used SEQ up to 100 */
	gks_use_store(&mem.base);
	start(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	assert_int_equal(mem.loads, 1);
	assert_true(mem.saves >= 1);
	assert_int_equal(gks_rekey_group(1), 101);
	assert_int_equal(mem.reserves, 1);
	assert_int_equal(mem.upto, 164);
	struct gks_kek_info k1, k2;
	struct gks_tek_info t1, t2;
	assert_int_equal(gks_kek_lookup(1, 1, 0, &k1), 0);
	assert_int_equal(gks_group_teks(1, 0, &t1, 1), 1);
	assert_memory_equal(mem.ks.kek.spi, k1.spi, 16);
	assert_int_equal(mem.ks.tek[0].spi, t1.spi);
	gks_fini();
	assert_int_equal(mem.closes, 1);
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "%s/gks-seq.json", dir);
	assert_int_not_equal(stat(path, &st), 0); /* the file store was not used */

	/* Started again: the keys it holds are taken back, SEQ goes on above
	 * the reservation. */
	gks_use_store(&mem.base);
	assert_int_equal(gks_init(cur), 0);
	assert_int_equal(gks_kek_lookup(1, 1, 0, &k2), 0);
	assert_memory_equal(k1.spi, k2.spi, 16);
	assert_int_equal(gks_group_teks(1, 0, &t2, 1), 1);
	assert_int_equal(t1.spi, t2.spi);
	assert_int_equal(t1.status, t2.status);
	/* Times travel as wall-clock seconds: a second may tick in between. */
	assert_true(t2.remaining + 1 >= t1.remaining && t2.remaining <= t1.remaining + 1);
	assert_int_equal(gks_rekey_group(1), 165);
	gks_fini();

	/* A stored KEK past its lifetime is not taken back. */
	mem.ks.kek_expires = 1;
	memcpy(k1.spi, mem.ks.kek.spi, 16);
	gks_use_store(&mem.base);
	assert_int_equal(gks_init(cur), 0);
	assert_int_equal(gks_kek_lookup(1, 1, 0, &k2), 0);
	assert_memory_not_equal(k1.spi, k2.spi, 16);
}

/* No push goes out with a SEQ that is not saved: when the reservation
 * cannot be written the rekey push is held, counted and retried, and
 * leaves once the file can be written, with a SEQ above all before. */
static void test_push_held_without_seq(void **state)
{
	(void)state;
	start(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	struct tmember a;
	member_join(&a, 43);
	struct gdoi_push p[4];
	size_t n;
	for (int i = 0; i < 64; i++) {
		gks_rekey_group(1);
		pump(3);
		n = member_recv(&a, p, 4, NULL);
		assert_int_equal(n, 1);
		member_apply(&a, &p[0]);
		gdoi_kd_wipe(&p[0].kd);
	}
	assert_int_equal(a.seq, 64);
	/* The reservation (64) is used up; the file cannot be replaced now. */
	char path[160], cmd[600];
	snprintf(path, sizeof(path), "%s/gks-seq.json", dir);
	snprintf(cmd, sizeof(cmd), "mv %s %s.good && mkdir -p %s/blocker", path, path, path);
	assert_int_equal(system(cmd), 0);
	size_t held0 = count_ev(EV_REKEY_STARTED);
	gks_rekey_group(1);
	pump(3);
	size_t raw;
	assert_int_equal(member_recv(&a, p, 4, &raw), 0);
	assert_int_equal(raw, 0);
	assert_int_equal(gks_stats()->pushes_held, 1);
	assert_true(gks_stats()->seq_save_errors >= 1);
	assert_int_equal(count_ev(EV_REKEY_STARTED), held0 + 1);
	assert_string_equal(param(last_ev(EV_REKEY_STARTED), "transport"), "held");
	/* Retried, still held; heartbeats do not go out either. */
	advance_to(now_us + 6 * S);
	assert_int_equal(member_recv(&a, p, 4, &raw), 0);
	assert_int_equal(raw, 0);
	assert_int_equal(gks_stats()->pushes_held, 2);
	/* The disk is back: the held push leaves with SEQ 65. */
	snprintf(cmd, sizeof(cmd), "rm -rf %s && mv %s.good %s", path, path, path);
	assert_int_equal(system(cmd), 0);
	advance_to(now_us + 6 * S);
	n = member_recv(&a, p, 4, NULL);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].seq, 65);
	assert_true(p[0].has_kd);
	gdoi_kd_wipe(&p[0].kd);
	size_t len;
	char *text = file_read_all(path, 4096, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "128"));
	free(text);
	member_leave(&a);
}

/* Found by fuzz_gks_pull: a KEK falling due while the push that replaced
 * the KEK before it was held (no SEQ could be saved) re-armed the rekey
 * timer at its past due time, and loop_run_timers() fired it again and
 * again, never returning to the loop. Now that KEK waits for the held
 * push; once the disk is back the push leaves (SEQ 1), then the overdue
 * KEK is replaced with a push of its own (SEQ 2). */
static void on_spin_alarm(int sig)
{
	static const char m[] = "test_kek_due_while_push_held: the loop is stuck on a timer due in the past\n";
	(void)sig;
	if (write(2, m, sizeof(m) - 1) < 0)
		_exit(2);
	_exit(1);
}

static void test_kek_due_while_push_held(void **state)
{
	(void)state;
	start(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	struct tmember a;
	member_join(&a, 44);
	char path[160], cmd[600];
	snprintf(path, sizeof(path), "%s/gks-seq.json", dir);
	snprintf(cmd, sizeof(cmd), "rm -f %s && mkdir -p %s/blocker", path, path);
	assert_int_equal(system(cmd), 0);
	gks_rekey_group(1); /* a new KEK; its push is held */
	pump(3);
	size_t raw;
	struct gdoi_push p[4];
	assert_int_equal(member_recv(&a, p, 4, &raw), 0);
	assert_int_equal(raw, 0);
	assert_int_equal(gks_stats()->pushes_held, 1);
	assert_int_equal(count_ev(EV_KEK_REPLACED), 1);
	/* Past the new KEK's due time (3540 s) with the push still held. A
	 * loop stuck on the rekey timer never comes back: the alarm turns
	 * that into a failure. */
	signal(SIGALRM, on_spin_alarm);
	alarm(120);
	advance_to(now_us + 3600 * S);
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	assert_int_equal(member_recv(&a, p, 4, &raw), 0);
	assert_int_equal(raw, 0);
	assert_int_equal(count_ev(EV_KEK_REPLACED), 1); /* members hold the old one still */
	assert_true(gks_stats()->pushes_held > 1);
	/* The disk is back: the held push, then the overdue KEK's. */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", path);
	assert_int_equal(system(cmd), 0);
	advance_to(now_us + 6 * S);
	size_t n = member_recv(&a, p, 4, &raw);
	assert_int_equal(raw, 2);
	assert_int_equal(n, 1); /* the second is under the KEK the first brought */
	assert_int_equal(p[0].seq, 1);
	gdoi_kd_wipe(&p[0].kd);
	assert_int_equal(count_ev(EV_KEK_REPLACED), 2);
	assert_int_equal(gks_stats()->rekeys_sent, 2);
	member_leave(&a);
}

/* A member registering again from a new source port (a restart, a new
 * NAT mapping) keeps one entry, moved to the new port; another identity
 * behind the same address is another member. */
static void test_member_new_port_same_entry(void **state)
{
	(void)state;
	start(NULL, 15, 3600, 0);
	struct tmember a, b;
	member_join(&a, 45);
	uint16_t port1 = ntohs(a.local.sin_port);
	member_leave(&a);
	member_join(&b, 45);
	uint16_t port2 = ntohs(b.local.sin_port);
	assert_int_not_equal(port1, port2);
	assert_int_equal(gks_member_count(), 1);
	assert_int_equal(gks_stats()->members_moved, 1);
	cJSON *mj = gks_members_json(1);
	const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(mj, "members"), 0);
	assert_string_equal(cJSON_GetObjectItem(m0, "address")->valuestring, "127.0.0.45");
	assert_int_equal(cJSON_GetObjectItem(m0, "port")->valueint, port2);
	assert_int_equal(cJSON_GetObjectItem(m0, "registrations")->valueint, 2);
	cJSON_Delete(mj);
	member_leave(&b);
	/* Many restarts: still one entry. */
	for (int i = 0; i < 5; i++) {
		member_join(&a, 45);
		member_leave(&a);
	}
	assert_int_equal(gks_member_count(), 1);
	member_join(&a, 46);
	member_leave(&a);
	assert_int_equal(gks_member_count(), 2);
}

/* ---- membership list semantics (the seed) ---------------------------------------------------- */

static void test_membership_semantics(void **state)
{
	(void)state;
	/* Without server-member communication: everyone who registered stays. */
	start(NULL, 15, 3600, 0);
	struct tmember a, b;
	member_join(&a, 51);
	member_join(&b, 52);
	member_leave(&a);
	member_leave(&b);
	advance_to(now_us + 7200 * S);
	assert_int_equal(gks_member_count(), 2);
	cJSON *mj = gks_members_json(1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(mj, "members"), 0),
						"state")->valuestring, "registered");
	cJSON_Delete(mj);
	/* Configuring it clears the list. */
	struct cfg *multi = make_cfg("\"communication_type\": \"multicast\", \"multicast_group\": \"239.1.2.3\","
				     "\"encryption_algorithm\": \"aes-128-cbc\", \"sig_hash_algorithm\": \"sha1\","
				     "\"membership_rekey\": false", 15, 3600, 0);
	gks_reconfigure(multi);
	cfg_free(cur);
	cur = multi;
	assert_int_equal(gks_member_count(), 0);
	/* Multicast: members registered since then; nobody is removed. */
	member_join(&a, 53);
	member_leave(&a);
	gks_rekey_group(1);
	assert_int_equal(count_ev(EV_REKEY_SENT), 1);
	assert_string_equal(param(last_ev(EV_REKEY_SENT), "transport"), "multicast");
	advance_to(now_us + 600 * S);
	assert_int_equal(gks_member_count(), 1);
	assert_int_equal(count_ev(EV_MEMBER_REMOVED), 0);
	/* Unicast: only active members (a silent one is removed). */
	struct cfg *uni = make_cfg(UNICAST(", \"membership_rekey\": false"), 15, 3600, 0);
	gks_reconfigure(uni);
	cfg_free(cur);
	cur = uni;
	assert_int_equal(gks_member_count(), 0);
	member_join(&a, 54);
	member_leave(&a);
	gks_rekey_group(1);
	advance_to(now_us + 60 * S);
	assert_int_equal(gks_member_count(), 0);
	assert_int_equal(count_ev(EV_MEMBER_REMOVED), 1);
}

/* ---- anti-clogging and injected datagrams (issue 13, items 4, 5, 6) ---------------------------- */

static const struct ike_proposal MEMBER_IKE = { CRYPTO_CIPHER_AES, 256, CRYPTO_HASH_SHA256, 19, 86400 };

static double stat_num(const char *key)
{
	cJSON *j = gks_status_json();
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "stats"), key);
	double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
	cJSON_Delete(j);
	return d;
}

static struct sockaddr_in server_addr(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	return a;
}

/* A UDP socket on 127.x.y.z (host: the low 24 bits), any port. */
static int raw_open(uint32_t host)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000000u | host) };
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void raw_send(int fd, const uint8_t *msg, size_t len)
{
	struct sockaddr_in srv = server_addr();
	assert_true(sendto(fd, msg, len, 0, (struct sockaddr *)&srv, sizeof(srv)) == (ssize_t)len);
}

/* Lets the server run, then the next datagram for fd into b (emptied
 * first); its length, 0 when none came. */
static size_t raw_recv(int fd, struct gdoi_buf *b)
{
	uint8_t buf[GDOI_MAX_MSG];
	gdoi_buf_free(b);
	pump(5);
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	if (n <= 0)
		return 0;
	gdoi_put_bytes(b, buf, (size_t)n);
	return (size_t)n;
}

/* An initiator of our own on fd: message 1 sent, message 2 answered
 * into m3 (not sent). */
static void raw_msg1_2(int fd, struct ike_sa *sa, struct gdoi_buf *m1, struct gdoi_buf *m3)
{
	struct sockaddr_in srv = server_addr();
	struct gdoi_id id = { .type = ISAKMP_ID_IPV4_ADDR, .len = 4 };
	struct gdoi_buf m2;
	gdoi_buf_init(&m2);
	ike_sa_init(sa, 1, (struct sockaddr *)&srv, sizeof(srv));
	assert_int_equal(ike_initiator_start(sa, &MEMBER_IKE, 1, "unit test group key", &id, m1), 0);
	raw_send(fd, m1->data, m1->len);
	assert_true(raw_recv(fd, &m2) > 0);
	assert_int_equal(ike_input(sa, m2.data, m2.len, NULL, 0, NULL, NULL, m3), 1);
	gdoi_buf_free(&m2);
}

static void send_with_rcky(int fd, const struct gdoi_buf *m, const uint8_t rcky[8])
{
	uint8_t copy[GDOI_MAX_MSG];
	memcpy(copy, m->data, m->len);
	memcpy(copy + 8, rcky, 8);
	raw_send(fd, copy, m->len);
}

/* (a) Message 1 from a spoofed source, then message 3 without our
 * cookie (zero, or a guess): no answer, no Diffie-Hellman, no half-open
 * slot. The genuine message 3 is still answered. */
static void test_blind_msg3_no_dh(void **state)
{
	static const uint8_t zero[8], guess[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
	struct ike_sa sa;
	struct gdoi_buf m1, m3, in;
	(void)state;
	start(NULL, 15, 3600, 0);
	gdoi_buf_init(&m1);
	gdoi_buf_init(&m3);
	gdoi_buf_init(&in);
	int fd = raw_open(0x030001);
	raw_msg1_2(fd, &sa, &m1, &m3);
	send_with_rcky(fd, &m3, zero);
	assert_int_equal(raw_recv(fd, &in), 0);
	send_with_rcky(fd, &m3, guess);
	assert_int_equal(raw_recv(fd, &in), 0);
	assert_int_equal(stat_num("half_open"), 0);
	assert_int_equal(stat_num("embryonic"), 1);
	assert_int_equal(stat_num("dh_computed"), 0);
	raw_send(fd, m3.data, m3.len);
	assert_true(raw_recv(fd, &in) > 0);   /* message 4 */
	assert_int_equal(stat_num("half_open"), 1);
	assert_int_equal(stat_num("embryonic"), 0);
	assert_int_equal(stat_num("dh_computed"), 1);
	gdoi_buf_free(&m1);
	gdoi_buf_free(&m3);
	gdoi_buf_free(&in);
	ike_sa_free(&sa);
	close(fd);
}

/* (b) Messages 1 and 3 of an exchange that expired, replayed: message 1
 * makes a new exchange with a new cookie; message 3 (as captured, or
 * with its cookie zeroed) gets no answer. */
static void test_replayed_msg3(void **state)
{
	static const uint8_t zero[8];
	struct ike_sa sa;
	struct gdoi_buf m1, m3, in;
	(void)state;
	start(NULL, 15, 3600, 0);
	gdoi_buf_init(&m1);
	gdoi_buf_init(&m3);
	gdoi_buf_init(&in);
	int fd = raw_open(0x030002);
	raw_msg1_2(fd, &sa, &m1, &m3);
	raw_send(fd, m3.data, m3.len);
	assert_true(raw_recv(fd, &in) > 0);
	advance_to(now_us + 31 * S);            /* half_open_timeout */
	assert_int_equal(stat_num("phase1_sas"), 0);
	raw_send(fd, m1.data, m1.len);
	assert_true(raw_recv(fd, &in) > 0);     /* a fresh exchange answers message 1 ... */
	assert_memory_not_equal(in.data + 8, m3.data + 8, 8);
	raw_send(fd, m3.data, m3.len);
	assert_int_equal(raw_recv(fd, &in), 0); /* ... but not the old message 3 */
	send_with_rcky(fd, &m3, zero);
	assert_int_equal(raw_recv(fd, &in), 0);
	assert_int_equal(stat_num("half_open"), 0);
	gdoi_buf_free(&m1);
	gdoi_buf_free(&m3);
	gdoi_buf_free(&in);
	ike_sa_free(&sa);
	close(fd);
}

/* A relay between a real member (gm) and the server, to put datagrams
 * on the wire next to the member's: the server sees the member at the
 * relay's back socket, and a hook sees each datagram of the member
 * before (after = 0) and after (after = 1) it is forwarded. */
struct relay {
	int front, back, other;
	struct sockaddr_in member;
	void (*hook)(struct relay *r, const uint8_t *msg, size_t len, int after);
	int injected;
};

enum { MM_1 = 1, MM_3 = 3, MM_5 = 5 };

static int mm_msg_no(const uint8_t *msg, size_t len)
{
	static const uint8_t zero[8];
	if (len < ISAKMP_HDR_LEN || msg[18] != ISAKMP_EXCH_MAIN)
		return 0;
	if (!memcmp(msg + 8, zero, 8))
		return MM_1;
	return msg[19] & ISAKMP_FLAG_ENC ? MM_5 : MM_3;
}

static void relay_drain(struct relay *r)
{
	uint8_t buf[GDOI_MAX_MSG];
	struct sockaddr_in srv = server_addr();
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(r->front, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			break;
		r->member = from;
		r->hook(r, buf, (size_t)n, 0);
		sendto(r->back, buf, (size_t)n, 0, (struct sockaddr *)&srv, sizeof(srv));
		r->hook(r, buf, (size_t)n, 1);
	}
	for (;;) {
		ssize_t n = recv(r->back, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		sendto(r->front, buf, (size_t)n, 0, (struct sockaddr *)&r->member, sizeof(r->member));
	}
	while (recv(r->other, buf, sizeof(buf), 0) > 0)
		;
}

/* Registers a member through the relay (the member's retransmission
 * timer never fires: the clock stands still); 1 registered, -1 failed,
 * 0 no outcome. */
static int relay_register(struct relay *r, uint32_t host)
{
	struct sockaddr_in front = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t fl = sizeof(front);
	r->front = raw_open(1);
	getsockname(r->front, (struct sockaddr *)&front, &fl);
	r->back = raw_open(host);
	r->other = raw_open(host + 1);
	struct gm_config mc;
	member_config(&mc, host + 2, NULL);
	mc.server = front;
	mc.retries = 0;
	int done = 0;
	struct gm *m = gm_new(&mc, reg_done, &done);
	assert_non_null(m);
	assert_int_equal(gm_start(m), 0);
	for (int i = 0; i < 500 && !done; i++) {
		loop_run_once(2);
		relay_drain(r);
	}
	if (done < 0)
		print_message("member: %s\n", gm_error(m));
	gm_free(m);
	close(r->front);
	close(r->back);
	close(r->other);
	return done;
}

/* A copy of msg's header (its cookies) with a body of n bytes. */
static void inject(int fd, const uint8_t *msg, uint8_t np, uint8_t flags, const uint8_t *body, size_t n)
{
	uint8_t buf[ISAKMP_HDR_LEN + 256];
	memcpy(buf, msg, ISAKMP_HDR_LEN);
	buf[16] = np;
	buf[19] = flags;
	memcpy(buf + ISAKMP_HDR_LEN, body, n);
	size_t len = ISAKMP_HDR_LEN + n;
	buf[24] = buf[25] = 0;
	buf[26] = (uint8_t)(len >> 8);
	buf[27] = (uint8_t)len;
	raw_send(fd, buf, len);
}

static void hook_msg3_without_ke(struct relay *r, const uint8_t *msg, size_t len, int after)
{
	/* a NONCE payload alone, sent as the member */
	static const uint8_t nonce_payload[20] = { 0, 0, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	if (!after && !r->injected && mm_msg_no(msg, len) == MM_3) {
		inject(r->back, msg, ISAKMP_NP_NONCE, 0, nonce_payload, sizeof(nonce_payload));
		r->injected = 1;
	}
}

/* (c) A message 3 without KE, with the right cookies, just before the
 * member's: the member still registers. */
static void test_injected_msg3(void **state)
{
	struct relay r = { .hook = hook_msg3_without_ke };
	(void)state;
	start(NULL, 15, 3600, 0);
	assert_int_equal(relay_register(&r, 0x040010), 1);
	assert_int_equal(r.injected, 1);
	assert_int_equal(stat_num("registrations"), 1);
	assert_int_equal(stat_num("dh_computed"), 1);   /* the member's only */
	assert_true(stat_num("drop_malformed") >= 1);
}

static void hook_msg5_noise(struct relay *r, const uint8_t *msg, size_t len, int after)
{
	uint8_t noise[64];
	if (!after && !r->injected && mm_msg_no(msg, len) == MM_5) {
		crypto_random(noise, sizeof(noise));
		inject(r->back, msg, ISAKMP_NP_ID, ISAKMP_FLAG_ENC, noise, sizeof(noise));
		r->injected = 1;
	}
}

/* (d) 64 random bytes with the right cookies just before the member's
 * message 5: the member registers, and no refusal is published. */
static void test_injected_msg5(void **state)
{
	struct relay r = { .hook = hook_msg5_noise };
	(void)state;
	start(NULL, 15, 3600, 0);
	assert_int_equal(relay_register(&r, 0x040020), 1);
	assert_int_equal(r.injected, 1);
	assert_int_equal(stat_num("registrations"), 1);
	assert_int_equal(stat_num("refused"), 0);
	assert_int_equal(count_ev(EV_REGISTRATION_REFUSED), 0);
}

static void hook_msg1_replayed(struct relay *r, const uint8_t *msg, size_t len, int after)
{
	if (after && !r->injected && mm_msg_no(msg, len) == MM_1) {
		raw_send(r->other, msg, len);
		r->injected = 1;
	}
}

/* (e) The member's message 1 replayed from another address: a separate
 * exchange; the member's own still completes. */
static void test_msg1_replayed_elsewhere(void **state)
{
	struct relay r = { .hook = hook_msg1_replayed };
	(void)state;
	start(NULL, 15, 3600, 0);
	assert_int_equal(relay_register(&r, 0x040030), 1);
	assert_int_equal(r.injected, 1);
	assert_int_equal(stat_num("registrations"), 1);
}

/* (f) Message 1s from more spoofed addresses than max_half_open: they
 * stay embryonic (no half-open slot), the oldest are evicted, and a
 * member still registers. */
static void test_msg1_flood(void **state)
{
	enum { N = 12 };
	int fds[N];
	(void)state;
	gks_extra = "\"max_half_open\": 4, \"max_half_open_per_peer\": 2,";
	start(NULL, 15, 3600, 0);
	for (int i = 0; i < N; i++) {
		struct ike_sa sa;
		struct gdoi_buf m1;
		struct sockaddr_in srv = server_addr();
		struct gdoi_id id = { .type = ISAKMP_ID_IPV4_ADDR, .len = 4 };
		gdoi_buf_init(&m1);
		ike_sa_init(&sa, 1, (struct sockaddr *)&srv, sizeof(srv));
		assert_int_equal(ike_initiator_start(&sa, &MEMBER_IKE, 1, "x", &id, &m1), 0);
		fds[i] = raw_open(0x050001 + (uint32_t)i);
		raw_send(fds[i], m1.data, m1.len);
		pump(3);
		assert_int_equal(stat_num("half_open"), 0);
		gdoi_buf_free(&m1);
		ike_sa_free(&sa);
	}
	assert_int_equal(stat_num("embryonic"), 4);
	assert_int_equal(stat_num("embryonic_evicted"), N - 4);
	assert_int_equal(stat_num("drop_half_open"), 0);
	struct tmember a;
	member_join(&a, 60);
	member_leave(&a);
	assert_int_equal(stat_num("registrations"), 1);
	assert_int_equal(stat_num("half_open"), 0);
	for (int i = 0; i < N; i++)
		close(fds[i]);
}

/* (g) A wrong PSK is still refused with AUTHENTICATION-FAILED, once the
 * member has sent its message 5 again. */
static void test_wrong_psk_after_retransmission(void **state)
{
	(void)state;
	start(NULL, 15, 3600, 0);
	struct gm_config mc;
	member_config(&mc, 0x060001, "not the group key");
	mc.timeout_ms = 1000;
	mc.retries = 3;
	int done = 0;
	struct gm *m = gm_new(&mc, reg_done, &done);
	assert_non_null(m);
	assert_int_equal(gm_start(m), 0);
	for (int i = 0; i < 20 && !done; i++) {
		pump(5);
		if (!done)
			advance_to(now_us + S / 2);
	}
	assert_int_equal(done, -1);
	assert_non_null(strstr(gm_error(m), "AUTHENTICATION-FAILED"));
	assert_true(gm_elapsed_us(m) >= 1000 * 1000ull);   /* after a retransmission */
	gm_free(m);
	assert_int_equal(count_ev(EV_REGISTRATION_REFUSED), 1);
	assert_int_equal(stat_num("refused"), 1);
	assert_int_equal(stat_num("half_open"), 0);
}

/* One registration with a wrong PSK from 127.6.0.<host>; returns how it
 * ended (1 registered, -1 refused or timed out). */
static int wrong_psk_try(int host)
{
	struct gm_config mc;
	member_config(&mc, 0x060000 | (uint32_t)host, "not the group key");
	mc.timeout_ms = 1000;
	int done = 0;
	struct gm *m = gm_new(&mc, reg_done, &done);
	assert_non_null(m);
	assert_int_equal(gm_start(m), 0);
	for (int i = 0; i < 20 && !done; i++) {
		pump(5);
		if (!done)
			advance_to(now_us + S / 2);
	}
	gm_free(m);
	return done;
}

/* Repeated wrong PSKs from one address: three refusal events, the rest
 * summed into one at the end of the minute; after five failed
 * authentications the address is backed off (its message 3 gets no
 * Diffie-Hellman) for 10 s, and may try again after. */
static void test_wrong_psk_aggregated_and_backed_off(void **state)
{
	(void)state;
	start(NULL, 15, 3600, 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(wrong_psk_try(2), -1);
	assert_int_equal(stat_num("refused"), 5);
	assert_int_equal(count_ev(EV_REGISTRATION_REFUSED), 3);
	assert_int_equal(stat_num("refusals_aggregated"), 2);
	assert_int_equal(stat_num("backoffs"), 1);
	/* Backed off: the sixth gets no answer to message 3. */
	assert_int_equal(wrong_psk_try(2), -1);
	assert_true(stat_num("drop_backoff") >= 1);
	assert_int_equal(stat_num("refused"), 5);
	/* Another address is not affected. */
	assert_int_equal(wrong_psk_try(3), -1);
	assert_int_equal(stat_num("refused"), 6);
	/* The window ends (checked each minute): one event sums up the two
	 * not published. */
	advance_to(now_us + 121 * S);
	assert_int_equal(count_ev(EV_REGISTRATION_REFUSED), 5);
	const struct event *e = last_ev(EV_REGISTRATION_REFUSED);
	assert_string_equal(param(e, "count"), "2");
	assert_string_equal(param(e, "member"), "127.6.0.2");
	/* The back-off is over: the address is answered again. */
	size_t refused = (size_t)stat_num("refused");
	assert_int_equal(wrong_psk_try(2), -1);
	assert_int_equal((size_t)stat_num("refused"), refused + 1);
}

int main(void)
{
	log_set_level(LOG_WARNING);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval_formula),
		cmocka_unit_test_setup_teardown(test_schedule_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedule_other_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedule_without_smc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_membership_change_rekey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_membership_rekey_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_membership_rekey_not_postponed_forever, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_change_rekey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manual_rekey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_within_period, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fan_out_in_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fan_out_ack_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fan_out_retransmission_after_last_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_after_one_resend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_ack_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_acks_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_waits_for_round, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kek_due_while_push_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_ack_starts_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registration_across_rekey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registration_across_two_rekeys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_persists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_held_without_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_new_port_same_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_membership_semantics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blind_msg3_no_dh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replayed_msg3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_injected_msg3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_injected_msg5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msg1_replayed_elsewhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msg1_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_psk_after_retransmission, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_psk_aggregated_and_backed_off, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
